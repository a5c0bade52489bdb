"""What every signed send needs, shared by the executor (:mod:`ogpu.chain.tx`) and
:func:`ogpu.chain.nonce.fix_nonce`: fee data and the caps checked before signing, what a node's
answer to a send means (read by :func:`ogpu.chain.node_errors.classify`), and
:func:`send_replacement`, which replaces whatever is pending at a nonce.

It imports neither the executor nor the nonce cache, so both can import it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from ogpu.chain._rpc import RpcErrorObject, hex_int, is_unknown_block
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.chain.node_errors import NodeErrorKind, classify
from ogpu.types.errors import ConfigError, FeeTooHighError, GasError, OGPUError, TxRpcError

__all__ = [
    "FEE_BASE_MULTIPLE",
    "FEE_TIP_ALLOWANCE",
    "MAX_TX_FEE",
    "RevertMapper",
    "send_replacement",
]

log = logging.getLogger("ogpu.tx")

DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei, when eth_maxPriorityFeePerGas is unsupported

#: The fee per gas signed may be at most this multiple of the latest base fee ...
FEE_BASE_MULTIPLE = 10

#: ... plus this many wei (room for a normal tip on a chain whose base fee is near zero).
FEE_TIP_ALLOWANCE = 10_000_000_000  # 10 gwei

#: Default ceiling of ``gas x fee per gas`` of one transaction, in wei (geth's txfeecap).
MAX_TX_FEE = 10**18

#: ``revert(error) -> typed error | None``: the error a node's answer (an
#: :class:`RpcErrorObject` or :class:`TxRpcError`) means when it is a revert, else None.
RevertMapper = Callable[[Any], "OGPUError | None"]


def _kind(error: TxRpcError, revert: RevertMapper | None) -> tuple[str, OGPUError | None]:
    """:func:`_classify`, and the typed error of a revert (when ``revert`` maps one)."""
    kind = classify(error.code, error.reason)
    if kind is NodeErrorKind.REVERT:
        return "revert", revert(error) if revert is not None else None
    if kind in (NodeErrorKind.TRANSIENT, NodeErrorKind.FATAL, NodeErrorKind.FILTER_NOT_FOUND):
        # A revert carried only in ``data`` (no wording): the caller's decoding knows it.
        mapped = revert(error) if revert is not None else None
        if mapped is not None:
            return "revert", mapped
        if kind is NodeErrorKind.TRANSIENT or is_unknown_block(error.reason):
            return "transient", None
        return "fatal", None  # the executor never sends filter calls
    return kind.value, None


def _classify(error: TxRpcError, revert: RevertMapper | None = None) -> str:
    """One of known, nonce_low, nonce_high, replacement, underpriced, funds, gas, revert,
    transient, fatal (the :class:`NodeErrorKind` values the executor acts on)."""
    return _kind(error, revert)[0]


def _fees(block: Any, tip_raw: Any, gas_price_raw: Any) -> dict[str, int]:
    if isinstance(block, dict) and block.get("baseFeePerGas") is not None:
        base = hex_int(block["baseFeePerGas"])
        tip = DEFAULT_PRIORITY_FEE
        if not isinstance(tip_raw, RpcErrorObject) and tip_raw is not None:
            tip = hex_int(tip_raw)
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}
    if isinstance(gas_price_raw, RpcErrorObject) or gas_price_raw is None:
        raise GasError("node reports neither a base fee nor a gas price")
    return {"gasPrice": hex_int(gas_price_raw)}


def _bump(fees: dict[str, int]) -> dict[str, int]:
    # +25% clears every client's replacement threshold (geth: 10%).
    return {k: v * 5 // 4 + 1 for k, v in fees.items()}


def _check_fees(fees: dict[str, int], block: Any, gas: int, max_tx_fee: int) -> None:
    """Refuse (before signing) a fee the node suggested that is beyond the caps."""
    per_gas = fees.get("maxFeePerGas", fees.get("gasPrice", 0))
    if isinstance(block, dict) and block.get("baseFeePerGas") is not None:
        cap = FEE_BASE_MULTIPLE * hex_int(block["baseFeePerGas"]) + FEE_TIP_ALLOWANCE
        if per_gas > cap:
            raise FeeTooHighError(
                f"fee per gas (tip {fees.get('maxPriorityFeePerGas', 0)} wei suggested by the "
                f"node; cap = {FEE_BASE_MULTIPLE} x base fee + {FEE_TIP_ALLOWANCE})",
                per_gas,
                cap,
            )
    if gas * per_gas > max_tx_fee:
        raise FeeTooHighError("transaction fee (gas x fee per gas)", gas * per_gas, max_tx_fee)


def _max_tx_fee(explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get("OGPU_MAX_TX_FEE_WEI", "").strip()
    if raw:
        try:
            return int(raw, 0)
        except ValueError:
            raise ConfigError(
                f"OGPU_MAX_TX_FEE_WEI must be an integer (wei), got {raw!r}"
            ) from None
    return MAX_TX_FEE


#: How many times :func:`send_replacement` raises its fees (+25% each) before giving up.
_REPLACEMENT_ATTEMPTS = 8


def send_replacement(account: Any, nonce: int, chain: ChainLike | int | None = None) -> str:
    """Replace whatever is pending at ``nonce`` by a 0-value self-transfer at a higher fee.

    Starts at twice the network's current fees; a node answering "replacement transaction
    underpriced" (the stuck transaction pays more, e.g. an earlier replacement when fees
    have moved since) gets the same self-transfer again at +25%, a bounded number of times.
    Every attempt uses the same nonce, so at most one of them can ever be mined.
    """
    handle = ChainConfig.resolve(chain)
    client = ChainConfig.rpc_client(handle)
    block, tip_raw, price_raw = client.batch(
        [
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_maxPriorityFeePerGas", []),
            ("eth_gasPrice", []),
        ]
    )
    fees = {k: v * 2 for k, v in _fees(block, tip_raw, price_raw).items()}
    ceiling = _max_tx_fee(None)
    for attempt in range(_REPLACEMENT_ATTEMPTS):
        _check_fees(fees, None, 21_000, ceiling)
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
            kind = _classify(exc)
            if kind in ("replacement", "underpriced") and attempt + 1 < _REPLACEMENT_ATTEMPTS:
                log.info("replacement at nonce %d underpriced; raising its fees", nonce)
                fees = _bump(fees)
                continue
            if kind not in ("known", "nonce_low"):
                raise
        break
    return "0x" + bytes(signed.hash).hex()
