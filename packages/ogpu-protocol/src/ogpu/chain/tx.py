"""The transaction executor: estimate, price, sign locally, send raw, await the receipt.

Guarantees:

- EIP-1559 (type 2) when the latest block has ``baseFeePerGas``, legacy otherwise.
- Gas = estimate x :data:`GAS_MARGIN` (capped at the block gas limit).
- Sign + send happen under the per-address nonce lock (:meth:`NonceManager.hold`), so
  threads sharing a key get consecutive nonces; receipts are awaited outside the lock. Nothing
  else makes a round trip under the lock when all goes well: a ``check_time`` hook (e.g. a
  task's expiry) gets the latest block's timestamp read by the first round trip, re-read under
  the lock only if that answer is older than :data:`BLOCK_FRESH` seconds. Other threads'
  first round trips do not wait for the lock. The send stays under it on purpose: a send of
  nonce n that fails for good after n+1 was sent would leave n+1 queued behind a gap for ever
  (geth's "queued" pool); on a live node a send is a pool insertion, one round trip.
- The first round trip (chain id, fees, gas estimate) also reads the sender's pending
  transaction count; the nonce is the larger of it and the cached next nonce
  (:meth:`NonceSlot.observe`). So a stale cache (another process sent from the key) never
  signs at a nonce the node already holds: a node would silently *replace* that pending
  transaction with ours if our fees were >= 10% higher, answering no error.
- Retries (bounded by ``max_retries``) never send one intent under two nonces:

  - an ambiguous send (transport error, or a transient JSON-RPC error such as a timeout,
    429, 5xx, "header not found", "try again") is followed by a lookup of the signed
    hash(es); the *same bytes* are re-sent if the node does not know them;
  - an underpriced send is first checked against the node: if one of the hashes signed for
    this intent is known the intent is in (nothing more is sent); if the node's pending
    count shows the nonce is taken by a transaction that is *not ours* (another process
    uses the key), the intent moves to the node's pending nonce with the same fees (never
    bumping over someone else's transaction); only when nothing occupies the nonce is the
    intent re-signed at the *same* nonce with bumped fees. A "replacement transaction
    underpriced" with no visible occupant raises :class:`NonceError` instead of replacing
    a transaction we cannot prove is ours;
  - "nonce too low/high" moves the intent to a fresh nonce only after checking by hash
    that the node knows none of its signatures.
- After a send whose outcome is unknown (the connection dropped before the answer, or a
  transient error), the intent is never signed under another nonce: if the node then
  rejects the nonce (too low, taken) and does not know the hash (a lagging replica answers
  ``null``, or the lookup itself fails), the executor waits up to :data:`OUTCOME_WAIT`
  seconds for the hash to appear, then raises :class:`TxOutcomeUnknownError` carrying the
  hash and nonce. A failed lookup (a batch error entry) is never read as "unknown tx".
- Fee sanity, checked before every signature: the fee per gas (``maxFeePerGas``) may be at
  most :data:`FEE_BASE_MULTIPLE` x the base fee + :data:`FEE_TIP_ALLOWANCE`, and
  ``gas x fee per gas`` at most ``max_tx_fee`` (default :data:`MAX_TX_FEE`, 1 ether as
  geth's ``--rpc.txfeecap``; environment variable ``OGPU_MAX_TX_FEE_WEI``). A node
  suggesting more gets :class:`FeeTooHighError`, and nothing is signed.
- Permanent rejections fail at once, without re-sending: gas limit exceeded / intrinsic gas
  too low / fee cap exceeded (:class:`GasError`), insufficient funds for gas * price + value
  (:class:`GasError` naming the account, the required and the available amounts), invalid
  sender / chain id and anything unrecognised (:class:`TxRpcError`).
- Every error raised after signing carries ``tx_hash`` (the last signed version of the
  intent) and ``nonce`` as attributes and in its message (see
  :meth:`ogpu.types.errors.TxError.attach_transaction`); the nonce cache is then dropped so
  the next intent re-reads the node's pending count (also after a receipt timeout: a node that
  lost the transaction would queue the next nonce behind the gap for ever).
- Reverts from the estimate, the send or the receipt (replayed as ``eth_call`` at the parent
  block) are handed to the caller's ``revert`` callback, which maps them to typed errors
  (:mod:`ogpu.protocol` passes its revert decoding; this module knows no contract).
- What a node's error means is read by :func:`ogpu.chain.node_errors.classify`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ogpu.chain._rpc import (
    RpcClient,
    RpcErrorObject,
    RpcTransportError,
    hex_int,
)
from ogpu.chain._send import (
    FEE_BASE_MULTIPLE,
    FEE_TIP_ALLOWANCE,
    MAX_TX_FEE,
    RevertMapper,
    _bump,
    _check_fees,
    _classify,
    _fees,
    _kind,
    _max_tx_fee,
    send_replacement,
)
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.chain.nonce import NonceManager, NonceSlot
from ogpu.types.errors import (
    ConfigError,
    GasError,
    NonceError,
    OGPUError,
    PublishTimeoutError,
    TxOutcomeUnknownError,
    TxReceiptTimeoutError,
    TxRevertError,
    TxRpcError,
)
from ogpu.types.receipt import Receipt

__all__ = [
    "BLOCK_FRESH",
    "FEE_BASE_MULTIPLE",
    "FEE_TIP_ALLOWANCE",
    "GAS_MARGIN",
    "MAX_TX_FEE",
    "OUTCOME_WAIT",
    "RevertMapper",
    "send_replacement",
    "transact",
]

log = logging.getLogger("ogpu.tx")

GAS_MARGIN = 1.25
#: Seconds to wait for the hash of a send whose outcome is unknown before giving up.
OUTCOME_WAIT = 20.0
#: How old (seconds) the first round trip's latest block may be when ``check_time`` runs under
#: the nonce lock; an older one (a long wait for the lock) is re-read first.
BLOCK_FRESH = 1.0


def _raise_revert(error: Any, revert: RevertMapper) -> None:
    mapped = revert(error)
    if mapped is not None:
        raise mapped


def _known(client: RpcClient, hashes: list[str]) -> str | None:
    """The first of ``hashes`` the node knows (pending or mined), else None.

    A lookup that failed (transport error, or an error entry in the batch) raises: it says
    nothing about whether the node holds the transaction.
    """
    if not hashes:
        return None
    answers = client.batch([("eth_getTransactionByHash", [h]) for h in hashes])
    failed: RpcErrorObject | None = None
    for tx_hash, answer in zip(hashes, answers, strict=False):
        if isinstance(answer, dict):
            return tx_hash
        if isinstance(answer, RpcErrorObject):
            failed = answer
        elif answer is not None:
            failed = RpcErrorObject(None, f"unexpected transaction lookup answer {answer!r}"[:200])
    if failed is not None:
        raise failed.to_exception()
    return None


def _await_outcome(client: RpcClient, intent: _Intent, nonce: int) -> str:
    """After a send whose outcome is unknown, the node rejected the nonce or holds another
    transaction at it, and does not (yet) know our hash: wait up to :data:`OUTCOME_WAIT`
    seconds for it (a lagging replica catches up); raise :class:`TxOutcomeUnknownError` if
    it never shows. Never signs anything."""
    limit = time.monotonic() + OUTCOME_WAIT
    delay = 0.1
    reason = "the node does not know the transaction"
    while True:
        try:
            found = _known(client, intent.hashes)
            if found is not None:
                return found
        except TxRpcError as exc:
            reason = f"lookup failed: {exc.reason}"
        if time.monotonic() >= limit:
            raise TxOutcomeUnknownError(str(intent.tx_hash), nonce, reason)
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def _known_or_none(client: RpcClient, hashes: list[str]) -> str | None:
    """:func:`_known`, or None when the lookup itself fails (only used before re-sending the
    very same bytes, which is safe either way)."""
    try:
        return _known(client, hashes)
    except TxRpcError:
        return None


def _funds_error(
    client: RpcClient, exc: TxRpcError, sender: str, gas: int, fees: dict[str, int], value: int
) -> GasError:
    """Insufficient native funds: name the account, the required and the available amounts."""
    price = fees.get("maxFeePerGas", fees.get("gasPrice", 0))
    required = gas * price + value
    available = "unknown"
    with contextlib.suppress(TxRpcError, ValueError, TypeError):
        available = str(hex_int(client.request("eth_getBalance", [sender, "pending"])))
    return GasError(
        f"insufficient funds for gas * price + value: {sender} needs up to {required} wei, "
        f"has {available} wei ({exc.reason})"
    )


@dataclass
class _Intent:
    """What has been signed for one intent (hashes only: never the key or the raw bytes)."""

    nonce: int | None = None
    tx_hash: str | None = None
    #: Hashes signed at the current nonce (any one of them may mine; at most one can).
    hashes: list[str] = field(default_factory=list)
    #: A send of this intent may have reached the node without us hearing back.
    ambiguous: bool = False

    def signed(self, tx_hash: str, nonce: int) -> None:
        if nonce != self.nonce:
            self.hashes = []
        self.nonce, self.tx_hash = nonce, tx_hash
        self.hashes.append(tx_hash)

    def settle(self, tx_hash: str) -> None:
        """The node holds ``tx_hash``: it is the one version of the intent."""
        self.tx_hash = tx_hash
        self.hashes = [tx_hash]

    def attach(self, error: BaseException) -> None:
        if self.tx_hash is not None:
            attach = getattr(error, "attach_transaction", None)
            if callable(attach):
                attach(self.tx_hash, self.nonce)


@dataclass
class _Prelude:
    """The answers of round trip 1 (raw: values or :class:`RpcErrorObject`)."""

    chain_id: Any
    block: Any
    tip: Any
    gas_price: Any
    estimate: Any
    #: ``eth_getTransactionCount(sender, "pending")``.
    pending: Any
    #: :meth:`NonceManager.epoch` of the sender, read right before the batch.
    epoch: int
    #: ``time.monotonic()`` when the batch was answered.
    read_at: float


def _prelude(
    client: RpcClient,
    call: dict[str, Any],
    max_retries: int,
    handle: ChainLike,
    revert: RevertMapper | None = None,
) -> _Prelude:
    """Round trip 1 (chain id, fee data, gas estimate, the sender's pending transaction
    count), retried on transient failures.

    Nothing is signed yet, so retrying is always safe.
    """
    sender = str(call["from"])
    attempts = 0
    while True:
        epoch = NonceManager.epoch(sender, handle)
        try:
            chain_id_raw, block, tip_raw, price_raw, estimate, pending_raw = client.batch(
                [
                    ("eth_chainId", []),
                    ("eth_getBlockByNumber", ["latest", False]),
                    ("eth_maxPriorityFeePerGas", []),
                    ("eth_gasPrice", []),
                    ("eth_estimateGas", [call]),
                    ("eth_getTransactionCount", [sender, "pending"]),
                ]
            )
        except TxRpcError as exc:
            if isinstance(exc, RpcTransportError) or _classify(exc, revert) == "transient":
                attempts += 1
                if attempts <= max_retries:
                    time.sleep(min(0.2 * 2**attempts, 2.0))
                    continue
            raise
        failed = next(
            (a for a in (chain_id_raw, estimate, pending_raw) if isinstance(a, RpcErrorObject)),
            None,
        )
        if failed is not None and _classify(failed.to_exception(), revert) == "transient":
            attempts += 1
            if attempts <= max_retries:
                time.sleep(min(0.2 * 2**attempts, 2.0))
                continue
        return _Prelude(
            chain_id_raw, block, tip_raw, price_raw, estimate, pending_raw, epoch, time.monotonic()
        )


def _chain_time(client: RpcClient, pre: _Prelude) -> int:
    """The chain's time (latest block timestamp): the first round trip's block while it is at
    most :data:`BLOCK_FRESH` seconds old, else (or if that read failed) read again."""
    block = pre.block
    if not (
        isinstance(block, dict)
        and isinstance(block.get("timestamp"), str)
        and time.monotonic() - pre.read_at <= BLOCK_FRESH
    ):
        block = client.request("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict) or not isinstance(block.get("timestamp"), str):
            raise TxRpcError(f"eth_getBlockByNumber('latest') answered {block!r}, not a block")
    return hex_int(block["timestamp"])


def transact(
    *,
    to: str,
    data: str,
    signer: Any,
    revert: RevertMapper,
    operation: str = "transaction",
    chain: ChainLike | int | None = None,
    value: int = 0,
    receipt_timeout: float = 120.0,
    max_retries: int = 3,
    deadline: float | None = None,
    budget: float | None = None,
    before_send: Callable[[], None] | None = None,
    max_tx_fee: int | None = None,
    check_time: Callable[[int], None] | None = None,
) -> Receipt:
    """Execute one contract call as a transaction and return its :class:`Receipt`.

    ``revert`` maps a node's revert answer to the typed error to raise (or None when the
    answer is no revert); ``operation`` names the call in the log.

    ``deadline`` (``time.monotonic()`` based) bounds the whole operation: if it passes before
    broadcasting, :class:`PublishTimeoutError` (``budget``, ``"pre-transaction"``) is raised and
    nothing is sent. ``before_send`` runs under the nonce lock right before signing (a last
    chance to refuse). ``check_time`` runs there too, with the chain's time (the latest block's
    timestamp from the first round trip, re-read if older than :data:`BLOCK_FRESH` s): raise
    to refuse (e.g. a task whose expiry has just passed), without an extra round trip.

    ``max_tx_fee`` (wei) caps ``gas x fee per gas`` (default ``OGPU_MAX_TX_FEE_WEI`` or
    :data:`MAX_TX_FEE`): a higher suggestion raises :class:`FeeTooHighError` before signing.

    Any error raised once the transaction was signed has ``tx_hash`` and ``nonce`` set (and
    named in its message): check that hash before retrying the operation.
    """
    fee_ceiling = _max_tx_fee(max_tx_fee)
    handle = ChainConfig.resolve(chain)
    client = ChainConfig.rpc_client(handle)
    sender = str(signer.address)
    call = {"from": sender, "to": to, "data": data, "value": hex(value)}

    # Round trip 1: chain id, fee data, the gas estimate (which also simulates reverts) and
    # the sender's pending transaction count (a stale nonce cache must not replace another
    # process's pending transaction).
    pre = _prelude(client, call, max_retries, handle, revert)
    chain_id_raw, block, estimate = pre.chain_id, pre.block, pre.estimate
    if isinstance(chain_id_raw, RpcErrorObject):
        raise chain_id_raw.to_exception()
    if hex_int(chain_id_raw) != handle.value:
        raise ConfigError(
            f"the RPC node of {handle} reports chain id {hex_int(chain_id_raw)}, "
            f"expected {handle.value}; refusing to sign"
        )
    if isinstance(estimate, RpcErrorObject):
        _raise_revert(estimate, revert)
        raise GasError(f"gas estimation failed: {estimate.message}")
    gas = int(hex_int(estimate) * GAS_MARGIN)
    if isinstance(block, dict) and block.get("gasLimit"):
        gas = min(gas, hex_int(block["gasLimit"]))
    fees = _fees(block, pre.tip, pre.gas_price)
    _check_fees(fees, block, gas, fee_ceiling)

    tx_base: dict[str, Any] = {
        "to": to,
        "data": data,
        "value": value,
        "gas": gas,
        "chainId": handle.value,
    }
    intent = _Intent()
    try:
        with NonceManager.hold(sender, handle) as slot:
            if deadline is not None and time.monotonic() > deadline:
                raise PublishTimeoutError(budget or 0.0, "pre-transaction")
            if check_time is not None:
                check_time(_chain_time(client, pre))
            if before_send is not None:
                before_send()
            if isinstance(pre.pending, RpcErrorObject):
                slot.resync()  # an extra round trip, only when the batched read failed
            else:
                slot.observe(hex_int(pre.pending), pre.epoch)
            try:
                _send(
                    client,
                    slot,
                    signer,
                    tx_base,
                    fees,
                    intent,
                    revert,
                    max_retries,
                    lambda f: _check_fees(f, block, gas, fee_ceiling),
                )
            except BaseException:
                if intent.tx_hash is not None:
                    # The node's view of this nonce is uncertain: re-read it next time
                    # instead of reusing (and possibly replacing) it.
                    slot.invalidate()
                raise
        return _finish(client, intent, call, gas, revert, operation, receipt_timeout, deadline)
    except OGPUError as exc:
        if isinstance(exc, TxReceiptTimeoutError):
            # The node may have lost it: a node queues a later nonce behind the gap for ever
            # (geth's txpool "queued"), so the next intent re-reads the pending count.
            NonceManager.reset_nonce(sender, handle)
        intent.attach(exc)
        raise
    except Exception as exc:
        if intent.tx_hash is None:
            raise
        error = TxRpcError(f"unexpected {type(exc).__name__} after signing: {exc}")
        intent.attach(error)
        raise error from exc


def _send(
    client: RpcClient,
    slot: NonceSlot,
    signer: Any,
    tx_base: dict[str, Any],
    fees: dict[str, int],
    intent: _Intent,
    revert: RevertMapper,
    max_retries: int,
    check_fees: Callable[[dict[str, int]], None],
) -> None:
    """Sign and send until the node holds exactly one version of the intent (under the lock)."""
    sender = slot.address
    nonce = slot.current()
    raw_hex = ""
    resend_same = False
    attempts = 0
    while True:
        if not resend_same:
            check_fees(fees)
            tx = dict(tx_base, nonce=nonce, **fees)
            if "maxFeePerGas" in fees:
                tx["type"] = 2
            signed = signer.sign_transaction(tx)
            raw_hex = "0x" + bytes(signed.raw_transaction).hex()
            intent.signed("0x" + bytes(signed.hash).hex(), nonce)
        resend_same = False
        try:
            client.request("eth_sendRawTransaction", [raw_hex])
            slot.commit(nonce)
            return
        except TxRpcError as exc:
            # A transport failure is always ambiguous (the node may have accepted the bytes).
            kind, mapped = (
                ("transient", None) if isinstance(exc, RpcTransportError) else _kind(exc, revert)
            )
            if kind == "known":
                slot.commit(nonce)
                return
            if kind == "transient":
                # Possibly accepted: never re-sign before checking; look, then re-send as is.
                intent.ambiguous = True
                found = _known_or_none(client, intent.hashes)
                if found is not None:
                    intent.settle(found)
                    slot.commit(nonce)
                    return
                attempts += 1
                if attempts > max_retries:
                    raise
                log.warning("send of nonce %d failed (%s); re-sending the same bytes", nonce, exc)
                time.sleep(min(0.2 * 2**attempts, 2.0))
                resend_same = True
                continue
            if kind in ("nonce_low", "nonce_high"):
                if intent.ambiguous:
                    # An earlier send may be the one holding this nonce, and the node may lag
                    # behind it: wait for the hash, never sign the intent at another nonce.
                    intent.settle(_await_outcome(client, intent, nonce))
                    slot.commit(nonce)
                    return
                # A failing lookup propagates: never move to a new nonce unverified.
                found = _known(client, intent.hashes)
                if found is not None:
                    intent.settle(found)
                    slot.commit(nonce)
                    return
                attempts += 1
                suggested = slot.chain_pending()
                if attempts > max_retries:
                    raise NonceError(sender, nonce, suggested) from None
                log.info("nonce %d rejected (%s); moving to %d", nonce, kind, suggested)
                slot.invalidate()
                nonce = slot.current()
                continue  # the old signatures can never mine: their nonce is taken
            if kind in ("replacement", "underpriced"):
                attempts += 1
                if attempts > max_retries:
                    raise GasError(
                        f"transaction still underpriced after {max_retries} attempts"
                    ) from None
                # Which transaction holds this nonce? Ours (this intent), another one, or none.
                answers = client.batch(
                    [("eth_getTransactionByHash", [h]) for h in intent.hashes]
                    + [("eth_getTransactionCount", [sender, "pending"])]
                )
                *by_hash, pending_raw = answers
                if isinstance(pending_raw, RpcErrorObject):
                    raise pending_raw.to_exception() from None
                pending = hex_int(pending_raw)
                mine = [
                    h for h, a in zip(intent.hashes, by_hash, strict=False) if isinstance(a, dict)
                ]
                if mine:
                    # The node already holds this intent: nothing more to send.
                    intent.settle(mine[0])
                    slot.commit(nonce)
                    return
                if pending > nonce and (
                    intent.ambiguous or any(isinstance(a, RpcErrorObject) for a in by_hash)
                ):
                    # The occupant may be ours (a lost answer, a lagging or failed lookup).
                    intent.settle(_await_outcome(client, intent, nonce))
                    slot.commit(nonce)
                    return
                if pending > nonce:
                    # Nonce taken by a transaction that is not ours (another process uses
                    # the key). Our signatures at it are verified unknown: move, same fees.
                    log.warning(
                        "nonce %d of %s is taken by a transaction not ours; moving to %d",
                        nonce,
                        sender,
                        pending,
                    )
                    slot.invalidate()
                    nonce = slot.current()
                    continue
                if kind == "replacement":
                    raise NonceError(sender, nonce, pending) from None
                fees = _bump(fees)
                continue  # same nonce, nothing else at it: at most one version can be mined
            if mapped is not None:
                raise mapped from exc
            if kind == "funds":
                raise _funds_error(
                    client, exc, sender, int(tx_base["gas"]), fees, int(tx_base["value"])
                ) from None
            if kind == "gas":
                raise GasError(f"rejected by the node: {exc.reason}") from None
            raise


def _finish(
    client: RpcClient,
    intent: _Intent,
    call: dict[str, Any],
    gas: int,
    revert: RevertMapper,
    operation: str,
    receipt_timeout: float,
    deadline: float | None,
) -> Receipt:
    """Await the receipt of the intent; decode a revert at mining."""
    receipt, latest = _wait(client, intent.hashes, receipt_timeout, deadline, intent.tx_hash)
    intent.tx_hash = str(receipt.get("transactionHash") or intent.tx_hash)
    if hex_int(receipt.get("status", "0x1")) == 0:
        number = hex_int(receipt["blockNumber"])
        replay_call = dict(call, gas=hex(hex_int(receipt.get("gasUsed", hex(gas))) + 100_000))
        try:
            client.request("eth_call", [replay_call, hex(max(number - 1, 0))])
        except TxRpcError as exc:
            _raise_revert(exc, revert)
        raise TxRevertError(f"transaction {receipt['transactionHash']} reverted (no reason)")
    timestamp = 0
    if isinstance(latest, dict) and latest.get("hash") == receipt.get("blockHash"):
        attempts = 0  # the receipt's block is the latest one, read in the same round trip
        timestamp = hex_int(latest.get("timestamp", "0x0"))
    else:
        attempts = 4
    for attempt in range(attempts):  # a lagging replica may not know the receipt's block yet
        try:
            blk = client.request("eth_getBlockByNumber", [receipt["blockNumber"], False])
        except TxRpcError:
            break
        if isinstance(blk, dict):
            timestamp = hex_int(blk.get("timestamp", "0x0"))
            break
        time.sleep(0.05 * 2**attempt)
    result = Receipt.from_web3_receipt(receipt, timestamp=timestamp)
    log.info("%s mined in block %d (%s)", operation, result.block_number, result.tx_hash)
    return result


def _wait(
    client: RpcClient,
    hashes: list[str],
    timeout: float,
    deadline: float | None,
    reported: str | None = None,
) -> tuple[dict[str, Any], Any]:
    """The first mined receipt among ``hashes`` (all versions of one intent at one nonce), and
    the latest block read in the same round trip (raw: its timestamp is the receipt's when it
    is the receipt's block)."""
    limit = time.monotonic() + timeout
    if deadline is not None:
        limit = min(limit, deadline)
    delay = 0.02
    while True:
        try:
            *answers, latest = client.batch(
                [("eth_getTransactionReceipt", [h]) for h in hashes]
                + [("eth_getBlockByNumber", ["latest", False])]
            )
        except RpcTransportError:
            answers, latest = [], None
        for answer in answers:
            if isinstance(answer, dict) and answer.get("blockNumber"):
                client.note_written_block(hex_int(answer["blockNumber"]))  # read-your-writes
                return answer, latest
        if time.monotonic() >= limit:
            raise TxReceiptTimeoutError(reported or hashes[-1], timeout)
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
