"""The transaction executor: estimate, price, sign locally, send raw, await the receipt.

Guarantees:

- EIP-1559 (type 2) when the latest block has ``baseFeePerGas``, legacy otherwise.
- Gas = estimate x :data:`GAS_MARGIN` (capped at the block gas limit).
- Sign + send happen under the per-address nonce lock (:meth:`NonceManager.hold`), so
  threads sharing a key get consecutive nonces; receipts are awaited outside the lock.
- Retries (bounded by ``max_retries``) never send one intent under two nonces: an ambiguous
  send (transport error) is followed by a lookup of the signed hash, and the *same bytes*
  are re-sent if it is unknown; an underpriced send is re-signed with the *same nonce*
  (so at most one version can ever mine); only a "nonce too low" whose signed hashes the
  node does not know moves the intent to a fresh nonce.
- Reverts from the estimate, the send or the receipt (replayed as ``eth_call`` at the parent
  block) are mapped to typed errors (see :mod:`ogpu.protocol._revert`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ogpu.chain._rpc import RpcClient, RpcErrorObject, RpcTransportError
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.chain.nonce import NonceManager
from ogpu.protocol._revert import RevertContext, extract_revert, map_revert
from ogpu.types.errors import (
    ConfigError,
    GasError,
    NonceError,
    OGPUError,
    PublishTimeoutError,
    TxReceiptTimeoutError,
    TxRpcError,
)
from ogpu.types.receipt import Receipt

__all__ = ["GAS_MARGIN", "decode_revert", "send_replacement", "transact"]

log = logging.getLogger("ogpu.tx")

GAS_MARGIN = 1.25
DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei, when eth_maxPriorityFeePerGas is unsupported
_TRANSIENT_CODES = {-32005, -32603, 429, -32000}


def _hex_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _classify(error: TxRpcError) -> str:
    text = error.reason.lower()
    if "already known" in text or "known transaction" in text or "already imported" in text:
        return "known"
    if "nonce too low" in text or "nonce is too low" in text or "oldnonce" in text:
        return "nonce_low"
    if "nonce too high" in text or "nonce gap" in text:
        return "nonce_high"
    if "underpriced" in text or "fee too low" in text or "max fee per gas less than" in text:
        return "underpriced"
    if "insufficient funds" in text:
        return "funds"
    if extract_revert(error) is not None:
        return "revert"
    if error.code in _TRANSIENT_CODES and any(
        word in text
        for word in ("timeout", "timed out", "busy", "rate", "limit", "temporar", "try again")
    ):
        return "transient"
    if error.code == 429:
        return "transient"
    return "fatal"


def decode_revert(
    exc: BaseException | Any, *, context: str | RevertContext, caller: str
) -> OGPUError:
    """Map a revert (exception, JSON-RPC error or message) to a typed error (not raised).

    ``context`` is a :class:`RevertContext` or a free-form operation string such as
    ``"Controller.cancelTask(0x...)"``; anything unmapped becomes ``TxRevertError(reason)``.
    """
    if isinstance(context, str):
        lowered = context.lower()
        kind = "source" if "source" in lowered else "task" if "task" in lowered else None
        ctx = RevertContext(context, caller, owner_kind=kind)
    else:
        ctx = context
    info = extract_revert(exc)
    if info is None:
        from ogpu.protocol._revert import RevertInfo

        info = RevertInfo(str(exc))
    return map_revert(info, ctx)


def _raise_revert(error: Any, ctx: RevertContext) -> None:
    info = extract_revert(error)
    if info is not None:
        raise map_revert(info, ctx)


def _fees(block: Any, tip_raw: Any, gas_price_raw: Any) -> dict[str, int]:
    if isinstance(block, dict) and block.get("baseFeePerGas") is not None:
        base = _hex_int(block["baseFeePerGas"])
        tip = DEFAULT_PRIORITY_FEE
        if not isinstance(tip_raw, RpcErrorObject) and tip_raw is not None:
            tip = _hex_int(tip_raw)
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}
    if isinstance(gas_price_raw, RpcErrorObject) or gas_price_raw is None:
        raise GasError("node reports neither a base fee nor a gas price")
    return {"gasPrice": _hex_int(gas_price_raw)}


def _bump(fees: dict[str, int]) -> dict[str, int]:
    # +25% clears every client's replacement threshold (geth: 10%).
    return {k: v * 5 // 4 + 1 for k, v in fees.items()}


def _known(client: RpcClient, hashes: list[str]) -> str | None:
    """The first of ``hashes`` the node knows (pending or mined), else None."""
    answers = client.batch([("eth_getTransactionByHash", [h]) for h in hashes])
    for tx_hash, answer in zip(hashes, answers, strict=False):
        if isinstance(answer, dict):
            return tx_hash
    return None


def transact(
    *,
    to: str,
    data: str,
    signer: Any,
    ctx: RevertContext,
    chain: ChainLike | int | None = None,
    value: int = 0,
    receipt_timeout: float = 120.0,
    max_retries: int = 3,
    deadline: float | None = None,
    budget: float | None = None,
    before_send: Callable[[], None] | None = None,
) -> Receipt:
    """Execute one contract call as a transaction and return its :class:`Receipt`.

    ``deadline`` (``time.monotonic()`` based) bounds the whole operation: if it passes before
    broadcasting, :class:`PublishTimeoutError` (``budget``, ``"pre-transaction"``) is raised and
    nothing is sent. ``before_send`` runs under the nonce lock right before signing (a last
    chance to refuse, e.g. an expiry that has just passed).
    """
    handle = ChainConfig.resolve(chain)
    client = ChainConfig.rpc_client(handle)
    sender = str(signer.address)
    call = {"from": sender, "to": to, "data": data, "value": hex(value)}

    # Round trip 1: chain id, fee data and the gas estimate (which also simulates reverts).
    chain_id_raw, block, tip_raw, price_raw, estimate = client.batch(
        [
            ("eth_chainId", []),
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_maxPriorityFeePerGas", []),
            ("eth_gasPrice", []),
            ("eth_estimateGas", [call]),
        ]
    )
    if isinstance(chain_id_raw, RpcErrorObject):
        raise chain_id_raw.to_exception()
    if _hex_int(chain_id_raw) != handle.value:
        raise ConfigError(
            f"the RPC node of {handle} reports chain id {_hex_int(chain_id_raw)}, "
            f"expected {handle.value}; refusing to sign"
        )
    if isinstance(estimate, RpcErrorObject):
        _raise_revert(estimate, ctx)
        raise GasError(f"gas estimation failed: {estimate.message}")
    gas = int(_hex_int(estimate) * GAS_MARGIN)
    if isinstance(block, dict) and block.get("gasLimit"):
        gas = min(gas, _hex_int(block["gasLimit"]))
    fees = _fees(block, tip_raw, price_raw)

    tx_base: dict[str, Any] = {
        "to": to,
        "data": data,
        "value": value,
        "gas": gas,
        "chainId": handle.value,
    }
    signed_hashes: list[str] = []
    attempts = 0

    def give_up(error: OGPUError) -> OGPUError:
        return error

    with NonceManager.hold(sender, handle) as slot:
        if deadline is not None and time.monotonic() > deadline:
            raise PublishTimeoutError(budget or 0.0, "pre-transaction")
        if before_send is not None:
            before_send()
        nonce = slot.current()
        raw_hex = ""
        resend_same = False
        while True:
            if not resend_same:
                tx = dict(tx_base, nonce=nonce, **fees)
                if "maxFeePerGas" in fees:
                    tx["type"] = 2
                signed = signer.sign_transaction(tx)
                raw_hex = "0x" + bytes(signed.raw_transaction).hex()
                signed_hashes.append("0x" + bytes(signed.hash).hex())
            resend_same = False
            try:
                client.request("eth_sendRawTransaction", [raw_hex])
                slot.commit(nonce)
                break
            except RpcTransportError as exc:
                # Ambiguous: the node may have accepted it. Never re-sign before checking.
                try:
                    found = _known(client, signed_hashes)
                except TxRpcError:
                    found = None
                if found is not None:
                    signed_hashes = [found]
                    slot.commit(nonce)
                    break
                attempts += 1
                if attempts > max_retries:
                    slot.invalidate()
                    raise give_up(exc) from None
                log.warning("send of nonce %d failed (%s); re-sending the same bytes", nonce, exc)
                time.sleep(min(0.2 * 2**attempts, 2.0))
                resend_same = True
            except TxRpcError as exc:
                kind = _classify(exc)
                if kind == "known":
                    slot.commit(nonce)
                    break
                if kind in ("nonce_low", "nonce_high"):
                    found = _known(client, signed_hashes)
                    if found is not None:
                        signed_hashes = [found]
                        slot.commit(nonce)
                        break
                    attempts += 1
                    suggested = slot.chain_pending()
                    if attempts > max_retries:
                        slot.invalidate()
                        raise NonceError(sender, nonce, suggested) from None
                    log.info("nonce %d rejected (%s); moving to %d", nonce, kind, suggested)
                    slot.invalidate()
                    nonce = slot.current()
                    signed_hashes = []  # the old signatures can never mine: their nonce is taken
                    continue
                if kind == "underpriced":
                    attempts += 1
                    if attempts > max_retries:
                        raise GasError(
                            f"transaction still underpriced after {max_retries} bumps"
                        ) from None
                    fees = _bump(fees)
                    continue  # same nonce: at most one of the versions can be mined
                if kind == "transient":
                    attempts += 1
                    if attempts > max_retries:
                        raise
                    time.sleep(min(0.2 * 2**attempts, 2.0))
                    resend_same = True
                    continue
                if kind == "revert":
                    _raise_revert(exc, ctx)
                if kind == "funds":
                    raise GasError(
                        f"insufficient funds for gas * price + value: {exc.reason}"
                    ) from None
                raise

    receipt = _wait(client, signed_hashes, receipt_timeout, deadline)
    if _hex_int(receipt.get("status", "0x1")) == 0:
        number = _hex_int(receipt["blockNumber"])
        replay_call = dict(call, gas=hex(_hex_int(receipt.get("gasUsed", hex(gas))) + 100_000))
        try:
            client.request("eth_call", [replay_call, hex(max(number - 1, 0))])
        except TxRpcError as exc:
            _raise_revert(exc, ctx)
        from ogpu.types.errors import TxRevertError

        raise TxRevertError(f"transaction {receipt['transactionHash']} reverted (no reason)")
    timestamp = 0
    try:
        blk = client.request("eth_getBlockByNumber", [receipt["blockNumber"], False])
        if isinstance(blk, dict):
            timestamp = _hex_int(blk.get("timestamp", "0x0"))
    except TxRpcError:
        pass
    result = Receipt.from_web3_receipt(receipt, timestamp=timestamp)
    log.info("%s mined in block %d (%s)", ctx.operation, result.block_number, result.tx_hash)
    return result


def _wait(
    client: RpcClient, hashes: list[str], timeout: float, deadline: float | None
) -> dict[str, Any]:
    limit = time.monotonic() + timeout
    if deadline is not None:
        limit = min(limit, deadline)
    delay = 0.02
    while True:
        try:
            answers = client.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        except RpcTransportError:
            answers = []
        for answer in answers:
            if isinstance(answer, dict) and answer.get("blockNumber"):
                return answer
        if time.monotonic() >= limit:
            raise TxReceiptTimeoutError(hashes[-1], timeout)
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def send_replacement(account: Any, nonce: int, chain: ChainLike | int | None = None) -> str:
    """Replace whatever is pending at ``nonce`` by a 0-value self-transfer at a higher fee."""
    handle = ChainConfig.resolve(chain)
    client = ChainConfig.rpc_client(handle)
    block, tip_raw, price_raw = client.batch(
        [
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_maxPriorityFeePerGas", []),
            ("eth_gasPrice", []),
        ]
    )
    fees = _fees(block, tip_raw, price_raw)
    fees = {k: v * 2 for k, v in fees.items()}
    tx: dict[str, Any] = {
        "to": str(account.address),
        "value": 0,
        "gas": 21_000,
        "nonce": nonce,
        "chainId": handle.value,
        **fees,
    }
    if "maxFeePerGas" in fees:
        tx["type"] = 2
    signed = account.sign_transaction(tx)
    try:
        client.request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    except TxRpcError as exc:
        if _classify(exc) not in ("known", "nonce_low"):
            raise
    return "0x" + bytes(signed.hash).hex()
