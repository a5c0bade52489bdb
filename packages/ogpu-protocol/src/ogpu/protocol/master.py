"""A Master: the role view of an account that manages providers (Terminal + Vault reads)."""

from __future__ import annotations

from typing import Any

from ogpu.chain.signer import Signer
from ogpu.protocol import terminal
from ogpu.protocol._models import _Account, _s
from ogpu.protocol._reads import Call, read
from ogpu.types.errors import MasterNotFoundError
from ogpu.types.metadata import MasterSnapshot
from ogpu.types.receipt import Receipt

__all__ = ["Master"]


class Master(_Account):
    """A master account."""

    __slots__ = ()
    _not_found = MasterNotFoundError
    _role_check = "isMaster"

    def get_provider(self) -> str:
        """The paired provider (zero address when none)."""
        return _s(self._get(self._t("providerOf")))

    def is_master(self) -> bool:
        """``Terminal.isMaster``."""
        return bool(self._get(self._t("isMaster")))

    def announce_provider(
        self, provider: str, amount: int, *, signer: Signer | None = None
    ) -> Receipt:
        """``Terminal.announceProvider(provider, amount)`` paying ``amount``."""
        return terminal.announce_provider(provider, amount, signer=signer, chain=self._chain)

    def remove_provider(self, provider: str, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.removeProvider(provider)``."""
        return terminal.remove_provider(provider, signer=signer, chain=self._chain)

    def remove_container(
        self, provider: str, source: str, *, signer: Signer | None = None
    ) -> Receipt:
        """``Terminal.removeContainer(provider, source)``."""
        return terminal.remove_container(provider, source, signer=signer, chain=self._chain)

    def set_agent(self, agent: str, value: bool, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.setAgent(agent, value)``."""
        return terminal.set_agent(agent, value, signer=signer, chain=self._chain)

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._t("providerOf"),
            self._t("isMaster"),
            self._v("balanceOf"),
            self._v("lockupOf"),
            self._v("unbondingOf"),
            self._v("totalEarningsOf"),
            self._v("frozenPayment"),
            self._v("isEligible"),
            self._v("isWhitelisted"),
        ]

    def _build_snapshot(self, values: list[Any]) -> MasterSnapshot:
        provider, is_m, bal, lock, unb, earn, frozen, elig, wl = values
        return MasterSnapshot(
            address=self.address,
            provider=_s(provider),
            is_master=bool(is_m),
            balance=int(bal),
            lockup=int(lock),
            unbonding=int(unb),
            total_earnings=int(earn),
            frozen_payment=int(frozen),
            is_eligible=bool(elig),
            is_whitelisted=bool(wl),
        )

    def snapshot(self) -> MasterSnapshot:
        """Terminal and Vault state in one round trip."""
        return self._build_snapshot(read(self._snapshot_calls(), self._chain))
