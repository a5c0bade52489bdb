"""The published 0.2.3's web3-shaped helpers, kept for code written against them.

- :func:`load_contract` returns a web3.py ``Contract`` for a bundled ABI (the current chain's
  Web3 and ABI set);
- :class:`TxExecutor` sends one call of such a contract through the SDK's executor
  (:func:`ogpu.protocol._tx.transact`: nonce management, retries that never send an intent
  twice, typed reverts), so it keeps every guarantee of the SDK's own writes;
- :data:`REVERT_PATTERN_MAP` maps each documented revert string to a factory of its typed
  error. It is a read-only view: the SDK's revert mapping does not consult it, so adding
  entries could only mislead (it raises ``TypeError`` instead).

The SDK's own modules (``nexus``, ``controller``, ``terminal``, ``vault``) do not use these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from ogpu.chain._address import to_checksum
from ogpu.chain.config import ChainConfig
from ogpu.chain.signer import resolve_signer
from ogpu.protocol._revert import REVERT_REASONS, RevertContext
from ogpu.protocol._tx import decode_revert, transact
from ogpu.types.errors import OGPUError, ValidationError
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress
    from web3.contract import Contract

__all__ = ["REVERT_PATTERN_MAP", "RevertHandler", "TxExecutor", "load_contract"]

_SINGLETONS = {
    "NexusAbi": "NEXUS",
    "ControllerAbi": "CONTROLLER",
    "TerminalAbi": "TERMINAL",
    "VaultAbi": "VAULT",
}

#: ``handler(reason, context, caller) -> OGPUError``, as in the published 0.2.3.
RevertHandler = Callable[[str, str, str], OGPUError]


def _handler(reason: str, context: str, caller: str) -> OGPUError:
    return decode_revert(reason, context=context, caller=caller)


#: Each documented revert string -> its typed error's factory (read-only).
REVERT_PATTERN_MAP: Mapping[str, RevertHandler] = MappingProxyType(
    dict.fromkeys(REVERT_REASONS, _handler)
)


def load_contract(abi_name: str, address: str | None = None) -> Contract:
    """A web3.py ``Contract`` for a bundled ABI on the current chain.

    ``address=None`` resolves the singletons (``"NexusAbi"``, ``"ControllerAbi"``,
    ``"TerminalAbi"``, ``"VaultAbi"``) from :class:`ChainConfig`; instance ABIs
    (``"SourceAbi"``, ``"TaskAbi"``, ``"ResponseAbi"``) need ``address``.
    """
    abi = ChainConfig.load_abi(abi_name)
    if address is None:
        key = _SINGLETONS.get(abi_name)
        if key is None:
            raise ValidationError(f"ABI {abi_name} has no singleton address; pass address=")
        address = ChainConfig.get_contract_address(key)
    web3 = ChainConfig.get_web3()
    return web3.eth.contract(address=cast("ChecksumAddress", to_checksum(address)), abi=abi)


class TxExecutor:
    """One contract call sent as a transaction by the SDK's executor (published 0.2.3 API).

    Example::

        receipt = TxExecutor(load_contract("ControllerAbi"), "cancelTask", ("0xTASK",),
                             signer=account).execute()
    """

    def __init__(
        self,
        contract: Contract,
        function_name: str,
        args: tuple[Any, ...] = (),
        *,
        signer: Any,
        value: int = 0,
        context: str | None = None,
        max_retries: int = 3,
        receipt_timeout: float = 120.0,
        deadline: float | None = None,
        budget: float | None = None,
    ) -> None:
        self.contract = contract
        self.function_name = function_name
        self.args = tuple(args)
        self.signer = signer
        self.value = value
        self.context = context or f"{contract.address}.{function_name}"
        self.max_retries = max(1, max_retries)
        self.receipt_timeout = receipt_timeout
        self.deadline = deadline
        self.budget = budget

    def execute(self) -> Receipt:
        """Estimate, sign, send and await the receipt; typed errors as the SDK's writes."""
        account = resolve_signer(self.signer, None)
        data = self.contract.encode_abi(self.function_name, args=list(self.args))
        lowered = self.context.lower()
        kind = "source" if "source" in lowered else "task" if "task" in lowered else None
        return transact(
            to=str(self.contract.address),
            data=data,
            signer=account,
            ctx=RevertContext(self.context, str(account.address), owner_kind=kind),
            value=self.value,
            receipt_timeout=self.receipt_timeout,
            max_retries=self.max_retries,
            deadline=self.deadline,
            budget=self.budget,
        )
