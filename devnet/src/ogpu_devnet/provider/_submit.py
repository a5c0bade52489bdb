"""``Nexus.submitResponse`` and ``Terminal.setBaseData``/``setLiveData``: the calls the SDK
never exposes, made here for the provider.

On the live network the docker source runtime makes this call, signed by the provider key,
after the source's handler produced its output. The devnet's runtime plays that part, so this
module is the only code in the repository that calls submitResponse. It encodes the call with
the bundled Nexus ABI through web3 and sends it under ogpu.chain's per-address nonce lock, so
that the provider's other writes (made through ogpu.protocol) keep consistent nonces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from ogpu.chain import ChainConfig, ChainLike, NonceManager
from web3.exceptions import ContractLogicError, Web3Exception
from web3.logs import DISCARD
from web3.types import Nonce, TxParams

from ogpu_devnet.errors import DevnetError


class SubmitError(DevnetError):
    """submitResponse was refused (revert or RPC failure); ``reason`` says why."""

    def __init__(self, task: str, reason: str) -> None:
        self.task = task
        self.reason = reason
        super().__init__(f"submitResponse for task {task} failed: {reason}")


@dataclass(frozen=True)
class Submission:
    """A mined response."""

    response: str
    tx_hash: str
    block_number: int


def submit_response(
    chain: ChainLike,
    provider: LocalAccount,
    task: str,
    data: str,
    payment: int,
    *,
    receipt_timeout: float = 60.0,
) -> Submission:
    """Send ``Nexus.submitResponse((task, provider, data, payment))`` signed by ``provider``."""
    w3 = ChainConfig.get_web3(chain)
    nexus = w3.eth.contract(
        address=w3.to_checksum_address(ChainConfig.get_contract_address("NEXUS", chain)),
        abi=ChainConfig.load_abi("Nexus", chain),
    )
    call = nexus.functions.submitResponse(
        (w3.to_checksum_address(task), provider.address, data, int(payment))
    )
    tx_hash, receipt = _send(w3, chain, provider, call, receipt_timeout, task, "")
    events = nexus.events.ResponseSubmitted().process_receipt(receipt, errors=DISCARD)
    if not events:
        raise SubmitError(task, "the receipt has no ResponseSubmitted event")
    return Submission(
        response=str(events[0]["args"]["response"]),
        tx_hash=tx_hash.to_0x_hex(),
        block_number=int(receipt["blockNumber"]),
    )


def set_provider_data(
    chain: ChainLike,
    provider: LocalAccount,
    kind: str,
    text: str,
    *,
    receipt_timeout: float = 60.0,
) -> str:
    """Send ``Terminal.setBaseData(text)`` (``kind="base"``) or ``setLiveData(text)``
    (``kind="live"``) signed by ``provider``; returns the transaction hash.

    Like submitResponse these are source-runtime calls on the live network (the published SDK
    removed them; devnet/docs/live-chain.md row 19), so only the devnet's runtime makes them.
    """
    name = {"base": "setBaseData", "live": "setLiveData"}.get(kind)
    if name is None:
        raise SubmitError("-", f"unknown provider data kind {kind!r} (base or live)")
    w3 = ChainConfig.get_web3(chain)
    terminal = w3.eth.contract(
        address=w3.to_checksum_address(ChainConfig.get_contract_address("TERMINAL", chain)),
        abi=ChainConfig.load_abi("Terminal", chain),
    )
    call = terminal.functions[name](text)
    tx_hash, _ = _send(w3, chain, provider, call, receipt_timeout, "-", name)
    return str(tx_hash.to_0x_hex())


def _send(
    w3: Any,
    chain: ChainLike,
    provider: LocalAccount,
    call: Any,
    receipt_timeout: float,
    task: str,
    name: str,
) -> tuple[Any, Any]:
    """Sign ``call`` as ``provider`` at the node's pending nonce, send it and wait for its
    receipt; every failure is a :class:`SubmitError` about ``task``, prefixed by ``name``."""
    label, colon = (f"{name} ", f"{name}: ") if name else ("", "")
    try:
        with NonceManager.hold(provider.address, chain) as slot:
            nonce = slot.chain_pending()  # re-read: cheap, and immune to snapshots/reverts
            tx: dict[str, Any] = dict(
                call.build_transaction(
                    TxParams(
                        {"from": provider.address, "nonce": Nonce(nonce), "chainId": chain.value}
                    )
                )
            )
            signed = provider.sign_transaction(tx)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            slot.commit(nonce)
        receipt = w3.eth.wait_for_transaction_receipt(
            tx_hash, timeout=receipt_timeout, poll_latency=0.02
        )
    except ContractLogicError as exc:
        raise SubmitError(task, f"{label}reverted: {exc.message or exc}") from None
    except (Web3Exception, OSError, ValueError) as exc:
        raise SubmitError(task, f"{colon}{type(exc).__name__}: {exc}") from None
    if receipt["status"] != 1:
        raise SubmitError(task, f"{label}transaction {tx_hash.to_0x_hex()} reverted")
    return tx_hash, receipt
