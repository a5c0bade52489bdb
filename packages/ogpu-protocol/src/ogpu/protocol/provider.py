"""A Provider: the role view of an account that runs tasks (Terminal + Vault reads)."""

from __future__ import annotations

from typing import Any

from ogpu.chain.signer import Signer
from ogpu.protocol import nexus, terminal
from ogpu.protocol._models import _Account, _s
from ogpu.protocol._reads import Call, read
from ogpu.types.errors import ProviderNotFoundError
from ogpu.types.metadata import ProviderSnapshot
from ogpu.types.receipt import Receipt

__all__ = ["Provider"]


class Provider(_Account):
    """A provider account."""

    __slots__ = ()
    _not_found = ProviderNotFoundError
    _role_check = "isProvider"

    def get_master(self) -> str:
        """The paired master (zero address when none)."""
        return _s(self._get(self._t("masterOf")))

    def get_base_data(self) -> str:
        """``Terminal.baseDataOf``."""
        return str(self._get(self._t("baseDataOf")))

    def get_live_data(self) -> str:
        """``Terminal.liveDataOf``."""
        return str(self._get(self._t("liveDataOf")))

    def is_provider(self) -> bool:
        """``Terminal.isProvider``."""
        return bool(self._get(self._t("isProvider")))

    def get_default_agent_disabled(self) -> bool:
        """``Terminal.defaultAgentDisabled``."""
        return bool(self._get(self._t("defaultAgentDisabled")))

    def get_unbonding_timestamp(self) -> int:
        """When the unbonding matures."""
        return int(self._get(self._v("unbondingTimestamp")))

    def get_sanction(self) -> int:
        """Sanctioned amount."""
        return int(self._get(self._v("sanctionOf")))

    def announce_master(self, master: str, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.announceMaster(master)``."""
        return terminal.announce_master(master, signer=signer, chain=self._chain)

    def set_default_agent_disabled(self, value: bool, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.setDefaultAgentDisabled(value)``."""
        return terminal.set_default_agent_disabled(value, signer=signer, chain=self._chain)

    def register_to(self, source: str, env: int, *, signer: Signer | None = None) -> Receipt:
        """``Nexus.register(source, self, env)``."""
        return nexus.register(source, self.address, env, signer=signer, chain=self._chain)

    def unregister_from(self, source: str, *, signer: Signer | None = None) -> Receipt:
        """``Nexus.unregister(source, self)``."""
        return nexus.unregister(source, self.address, signer=signer, chain=self._chain)

    def attempt(
        self, task: str, suggested_payment: int, *, signer: Signer | None = None
    ) -> Receipt:
        """``Nexus.attempt(task, self, suggested_payment)``."""
        return nexus.attempt(
            task, self.address, suggested_payment, signer=signer, chain=self._chain
        )

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._t("masterOf"),
            self._t("baseDataOf"),
            self._t("liveDataOf"),
            self._t("isProvider"),
            self._t("defaultAgentDisabled"),
            self._v("balanceOf"),
            self._v("lockupOf"),
            self._v("unbondingOf"),
            self._v("unbondingTimestamp"),
            self._v("totalEarningsOf"),
            self._v("frozenPayment"),
            self._v("sanctionOf"),
            self._v("isEligible"),
            self._v("isWhitelisted"),
        ]

    def _build_snapshot(self, values: list[Any]) -> ProviderSnapshot:
        (master, base, live, is_prov, dad, bal, lock, unb, unb_ts, earn, frozen, sanc, elig, wl) = (
            values
        )
        return ProviderSnapshot(
            address=self.address,
            master=_s(master),
            base_data=str(base),
            live_data=str(live),
            is_provider=bool(is_prov),
            default_agent_disabled=bool(dad),
            balance=int(bal),
            lockup=int(lock),
            unbonding=int(unb),
            unbonding_timestamp=int(unb_ts),
            total_earnings=int(earn),
            frozen_payment=int(frozen),
            sanction=int(sanc),
            is_eligible=bool(elig),
            is_whitelisted=bool(wl),
        )

    def snapshot(self) -> ProviderSnapshot:
        """Terminal and Vault state in one round trip."""
        return self._build_snapshot(read(self._snapshot_calls(), self._chain))
