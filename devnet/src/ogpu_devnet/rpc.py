"""JSON-RPC 2.0 over HTTP for the devnet chain, answering the way geth and anvil answer.

The server binds loopback by default, serves each connection in its own thread and executes
everything against one :class:`~ogpu_devnet.chain.DevnetChain` whose lock serialises state access.
Reverts are reported as geth and anvil report them (``code`` 3, ``message`` "execution reverted:
<reason>", ``data`` the raw revert data) so web3.py raises ``ContractLogicError`` with the reason.
Malformed requests get JSON-RPC errors (-32700, -32600, -32601, -32602), never a dead server.
Notifications (requests without an ``id`` member) are executed and answered with nothing, as
JSON-RPC 2.0 section 4.1 says and geth does: HTTP 200 with an empty body, no entry in a batch.

Where things live: handlers are declared next to their code with ``@method(name, *aliases,
max_params=..., block_param=...)`` (:mod:`ogpu_devnet._jsonrpc`, which also reads envelopes and
dispatches; each error class carries its JSON-RPC code, :mod:`ogpu_devnet.errors`); parameters
are read by :mod:`ogpu_devnet._params`; filters and ``eth_getLogs`` are
:mod:`ogpu_devnet._filters`, the ``evm_``/``hardhat_``/``anvil_``/``miner_`` controls
:mod:`ogpu_devnet._controls`, the fault knobs :mod:`ogpu_devnet._faults` and the HTTP transport
:mod:`ogpu_devnet._http`. This module keeps :class:`RPCMethods` (the ``eth_``/``net_``/``web3_``
reads and writes, and the lagging replica's view) and :class:`RPCServer`.

Bounds: request bodies of at most :data:`MAX_BODY_BYTES`, JSON nested at most
:data:`MAX_JSON_DEPTH` deep (checked in linear time before decoding), request ids that are not
a string, an integer or null (``NaN``, ``1e999``, objects) answered -32600 with id null,
batches of at most ``max_batch`` calls, at most :data:`MAX_MINE_BLOCKS` blocks per mine call
(mined :data:`MINE_CHUNK` at a time, so other clients run in between), polled filters dropped
after :data:`FILTER_TIMEOUT` idle seconds, and a listen backlog of :data:`LISTEN_BACKLOG`.

Fault knobs (:class:`Knobs`, ``RPCServer.knobs``; ``Devnet`` and ``ogpu-devnet serve`` expose
them) make the server behave like the live network's load-balanced replicas:

- ``no_batch``: every batch is refused (HTTP 400, one error object "batch requests are not
  supported"); ``max_batch``: batches larger are refused as geth refuses them (HTTP 200, one
  error object "batch too large (max N)").
- ``lag(requests, blocks)``: the next ``requests`` HTTP requests are answered by a replica
  ``blocks`` behind the head: ``eth_blockNumber`` and ``latest`` say head - blocks, a call
  pinned to a newer block answers -32000 "header not found", ``eth_getBlockByNumber`` of a
  newer block ``null``, and a transaction mined in a newer block (or pending) is unknown
  (``null`` from ``eth_getTransactionByHash`` / ``eth_getTransactionReceipt``).
- ``drop_after(method, times)``: the next ``times`` HTTP requests calling ``method`` (alone or
  in a batch) are executed, then the connection is closed before the answer is written.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ogpu_devnet._controls import MAX_MINE_BLOCKS as MAX_MINE_BLOCKS
from ogpu_devnet._controls import MINE_CHUNK as MINE_CHUNK
from ogpu_devnet._controls import ControlMethods
from ogpu_devnet._faults import MAX_BATCH as MAX_BATCH
from ogpu_devnet._faults import Knobs as Knobs
from ogpu_devnet._faults import Lag as Lag
from ogpu_devnet._filters import FILTER_TIMEOUT as FILTER_TIMEOUT
from ogpu_devnet._filters import MAX_LOG_RANGE as MAX_LOG_RANGE
from ogpu_devnet._filters import FilterMethods
from ogpu_devnet._format import (
    block_rewards,
    format_block,
    format_receipt,
    format_tx,
)
from ogpu_devnet._http import LISTEN_BACKLOG as LISTEN_BACKLOG
from ogpu_devnet._http import MAX_BODY_BYTES as MAX_BODY_BYTES
from ogpu_devnet._http import _Server
from ogpu_devnet._jsonrpc import MAX_JSON_DEPTH as MAX_JSON_DEPTH
from ogpu_devnet._jsonrpc import METHODS, Answer, MethodSpec, Payload, answer_body, dispatch, method
from ogpu_devnet._jsonrpc import _too_deep as _too_deep
from ogpu_devnet._jsonrpc import logger as logger
from ogpu_devnet._params import _TAGS, _address, _data, _hash32, _hex, _param, _quantity
from ogpu_devnet._serving import ThreadedServing
from ogpu_devnet._version import __version__
from ogpu_devnet.chain import DevnetChain
from ogpu_devnet.errors import INTERNAL_ERROR as INTERNAL_ERROR
from ogpu_devnet.errors import INVALID_PARAMS as INVALID_PARAMS
from ogpu_devnet.errors import INVALID_REQUEST as INVALID_REQUEST
from ogpu_devnet.errors import METHOD_NOT_FOUND as METHOD_NOT_FOUND
from ogpu_devnet.errors import PARSE_ERROR as PARSE_ERROR
from ogpu_devnet.errors import REVERT_ERROR as REVERT_ERROR
from ogpu_devnet.errors import SERVER_ERROR as SERVER_ERROR
from ogpu_devnet.errors import InvalidParamsError, RPCError

__all__ = [
    "FILTER_TIMEOUT",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "LISTEN_BACKLOG",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LOG_RANGE",
    "MAX_MINE_BLOCKS",
    "METHOD_NOT_FOUND",
    "MINE_CHUNK",
    "PARSE_ERROR",
    "REVERT_ERROR",
    "SERVER_ERROR",
    "Knobs",
    "Lag",
    "RPCError",
    "RPCMethods",
    "RPCServer",
    "logger",
]

_PRIORITY_FEE = 10**9


class RPCMethods(FilterMethods, ControlMethods):
    """The JSON-RPC methods, each taking the positional ``params`` list.

    Each handler is declared with :func:`~ogpu_devnet._jsonrpc.method` (name, aliases, arity);
    :meth:`declared` lists them. Filters live in :mod:`ogpu_devnet._filters`, the test controls
    in :mod:`ogpu_devnet._controls`.
    """

    def __init__(self, chain: DevnetChain) -> None:
        """Serve ``chain``."""
        super().__init__(chain)
        #: Every callable name (aliases included) -> its bound handler.
        self.methods: dict[str, Callable[[list[Any]], object]] = {
            name: MethodType(spec.handler, self) for spec in METHODS for name in spec.names
        }

    @staticmethod
    def declared() -> list[MethodSpec]:
        """Every declared JSON-RPC method (name, aliases, arity), in declaration order."""
        return list(METHODS)

    # ------------------------------------------------------------------ web3 / net

    @method("web3_clientVersion")
    def rpc_web3_clientVersion(self, params: list[Any]) -> str:
        return f"ogpu-devnet/v{__version__}/py-evm"

    @method("web3_sha3", max_params=1)
    def rpc_web3_sha3(self, params: list[Any]) -> str:
        return "0x" + keccak(_data(_param(params, 0))).hex()

    @method("net_version")
    def rpc_net_version(self, params: list[Any]) -> str:
        return str(self.chain.chain_id)

    @method("net_listening")
    def rpc_net_listening(self, params: list[Any]) -> bool:
        return True

    @method("net_peerCount")
    def rpc_net_peerCount(self, params: list[Any]) -> str:
        return "0x0"

    # ------------------------------------------------------------------ chain info

    @method("eth_chainId")
    def rpc_eth_chainId(self, params: list[Any]) -> str:
        return _hex(self.chain.chain_id)

    @method("eth_syncing")
    def rpc_eth_syncing(self, params: list[Any]) -> bool:
        return False

    @method("eth_mining")
    def rpc_eth_mining(self, params: list[Any]) -> bool:
        return self.chain.automine

    @method("eth_coinbase")
    def rpc_eth_coinbase(self, params: list[Any]) -> str:
        return to_checksum_address(b"\x00" * 20)

    @method("eth_accounts")
    def rpc_eth_accounts(self, params: list[Any]) -> list[str]:
        return [a.address for a in self.chain.accounts]

    @method("eth_blockNumber")
    def rpc_eth_blockNumber(self, params: list[Any]) -> str:
        return _hex(self.chain.block_number())

    @method("eth_gasPrice")
    def rpc_eth_gasPrice(self, params: list[Any]) -> str:
        return _hex(self.chain.next_base_fee() + _PRIORITY_FEE)

    @method("eth_maxPriorityFeePerGas")
    def rpc_eth_maxPriorityFeePerGas(self, params: list[Any]) -> str:
        return _hex(_PRIORITY_FEE)

    @method("eth_blobBaseFee")
    def rpc_eth_blobBaseFee(self, params: list[Any]) -> str:
        return "0x1"

    @method("eth_feeHistory", max_params=3)
    def rpc_eth_feeHistory(self, params: list[Any]) -> dict[str, Any]:
        count = _quantity(_param(params, 0), "block count")
        newest_tag = self._block_number_param(_param(params, 1))
        percentiles = _param(params, 2, [])
        if not isinstance(percentiles, list) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 100
            for p in percentiles
        ):
            raise InvalidParamsError("reward percentiles must be numbers between 0 and 100")
        if percentiles != sorted(percentiles):
            raise InvalidParamsError("reward percentiles must be ascending")
        with self.chain.lock:
            latest = self.chain.block_number()
            newest = min(self.chain.resolve_number(newest_tag), latest)
            count = max(1, min(count, 1024, newest + 1))
            oldest = newest - count + 1
            base_fees: list[str] = []
            ratios: list[float] = []
            rewards: list[list[str]] = []
            for number in range(oldest, newest + 1):
                block = self._canonical(number)
                header = block.header
                base_fees.append(_hex(header.base_fee_per_gas))
                ratios.append(header.gas_used / header.gas_limit)
                if percentiles:
                    rewards.append(block_rewards(self.chain, block, percentiles))
            if newest == latest:
                base_fees.append(_hex(self.chain.next_base_fee()))
            else:
                base_fees.append(_hex(self._canonical(newest + 1).header.base_fee_per_gas))
        result: dict[str, Any] = {
            "oldestBlock": _hex(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": ["0x1"] * len(base_fees),
            "blobGasUsedRatio": [0.0] * len(ratios),
        }
        if percentiles:
            result["reward"] = rewards
        return result

    # ------------------------------------------------------------------ blocks

    @method("eth_getBlockByNumber", max_params=2, block_param=0)
    def rpc_eth_getBlockByNumber(self, params: list[Any]) -> dict[str, Any] | None:
        tag = self._block_number_param(_param(params, 0))
        full = bool(_param(params, 1, False))
        with self.chain.lock:
            if tag == "pending":
                return format_block(self.chain.pending_block(), full, pending=True)
            block = self._block_for(tag)
            return None if block is None else format_block(block, full)

    @method("eth_getBlockByHash", max_params=2)
    def rpc_eth_getBlockByHash(self, params: list[Any]) -> dict[str, Any] | None:
        block_hash = _hash32(_param(params, 0), "block hash")
        full = bool(_param(params, 1, False))
        with self.chain.lock:
            block = self.chain.block_by_hash(block_hash)
            return None if block is None else format_block(block, full)

    @method("eth_getBlockTransactionCountByNumber", max_params=1, block_param=0)
    def rpc_eth_getBlockTransactionCountByNumber(self, params: list[Any]) -> str | None:
        tag = self._block_number_param(_param(params, 0))
        with self.chain.lock:
            block = self.chain.pending_block() if tag == "pending" else self._block_for(tag)
            return None if block is None else _hex(len(block.transactions))

    @method("eth_getBlockTransactionCountByHash", max_params=1)
    def rpc_eth_getBlockTransactionCountByHash(self, params: list[Any]) -> str | None:
        block = self.chain.block_by_hash(_hash32(_param(params, 0), "block hash"))
        return None if block is None else _hex(len(block.transactions))

    @method("eth_getBlockReceipts", max_params=1, block_param=0)
    def rpc_eth_getBlockReceipts(self, params: list[Any]) -> list[dict[str, Any]] | None:
        tag = self._block_number_param(_param(params, 0))
        with self.chain.lock:
            block = self._block_for(tag)
            if block is None:
                return None
            return [
                format_receipt(self.chain, block, tx, i) for i, tx in enumerate(block.transactions)
            ]

    @method("eth_getUncleCountByBlockNumber", max_params=1)
    def rpc_eth_getUncleCountByBlockNumber(self, params: list[Any]) -> str:
        return "0x0"

    @method("eth_getUncleCountByBlockHash", max_params=1)
    def rpc_eth_getUncleCountByBlockHash(self, params: list[Any]) -> str:
        return "0x0"

    # ------------------------------------------------------------------ state

    @method("eth_getBalance", max_params=2, block_param=1)
    def rpc_eth_getBalance(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        return _hex(self.chain.get_balance(address, self._state_tag(_param(params, 1))))

    @method("eth_getTransactionCount", max_params=2, block_param=1)
    def rpc_eth_getTransactionCount(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        return _hex(self.chain.get_nonce(address, self._state_tag(_param(params, 1))))

    @method("eth_getCode", max_params=2, block_param=1)
    def rpc_eth_getCode(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        return "0x" + self.chain.get_code(address, self._state_tag(_param(params, 1))).hex()

    @method("eth_getStorageAt", max_params=3, block_param=2)
    def rpc_eth_getStorageAt(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        slot = _quantity(_param(params, 1), "storage slot")
        if slot >= 2**256:
            raise InvalidParamsError("storage slot out of range")
        value = self.chain.get_storage(address, slot, self._state_tag(_param(params, 2)))
        return "0x" + value.to_bytes(32, "big").hex()

    # ------------------------------------------------------------------ execution

    @method("eth_call", max_params=3, block_param=1)
    def rpc_eth_call(self, params: list[Any]) -> str:
        if _param(params, 2):
            raise InvalidParamsError("state overrides are not supported")
        call = self._call_params(_param(params, 0))
        return "0x" + self.chain.call(call, self._state_tag(_param(params, 1))).hex()

    @method("eth_estimateGas", max_params=3, block_param=1)
    def rpc_eth_estimateGas(self, params: list[Any]) -> str:
        call = self._call_params(_param(params, 0))
        return _hex(self.chain.estimate_gas(call, self._state_tag(_param(params, 1))))

    @method("eth_sendRawTransaction", max_params=1)
    def rpc_eth_sendRawTransaction(self, params: list[Any]) -> str:
        raw = _data(_param(params, 0), "raw transaction")
        if not raw:
            raise InvalidParamsError("empty raw transaction")
        return "0x" + self.chain.send_raw_transaction(raw).hex()

    @method("eth_sendTransaction", max_params=1)
    def rpc_eth_sendTransaction(self, params: list[Any]) -> str:
        tx = _param(params, 0)
        if not isinstance(tx, dict) or not tx.get("from"):
            raise InvalidParamsError("transaction must be an object with a 'from' address")
        fields: dict[str, Any] = {"from": to_checksum_address(_address(tx["from"]))}
        if tx.get("to"):
            fields["to"] = to_checksum_address(_address(tx["to"]))
        for key in ("gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce"):
            if tx.get(key) is not None:
                fields[key] = _quantity(tx[key], key)
        data = tx.get("input", tx.get("data"))
        if data is not None:
            fields["data"] = "0x" + _data(data).hex()
        return "0x" + self.chain.send_transaction(fields).hex()

    # ------------------------------------------------------------------ lookups

    @method("eth_getTransactionByHash", max_params=1)
    def rpc_eth_getTransactionByHash(self, params: list[Any]) -> dict[str, Any] | None:
        tx_hash = _hash32(_param(params, 0), "transaction hash")
        with self.chain.lock:
            found = self.chain.find_transaction(tx_hash)
            if found is None:
                pending = self.chain.pending_transaction(tx_hash)
                return None if pending is None else format_tx(pending, None, None)
            block, tx, index = found
            return format_tx(tx, block, index)

    @method("eth_getTransactionByBlockNumberAndIndex", max_params=2)
    def rpc_eth_getTransactionByBlockNumberAndIndex(
        self, params: list[Any]
    ) -> dict[str, Any] | None:
        tag = self._block_number_param(_param(params, 0))
        index = _quantity(_param(params, 1), "index")
        with self.chain.lock:
            block = self._block_for(tag)
            if block is None or index >= len(block.transactions):
                return None
            return format_tx(block.transactions[index], block, index)

    @method("eth_getTransactionByBlockHashAndIndex", max_params=2)
    def rpc_eth_getTransactionByBlockHashAndIndex(self, params: list[Any]) -> dict[str, Any] | None:
        index = _quantity(_param(params, 1), "index")
        with self.chain.lock:
            block = self.chain.block_by_hash(_hash32(_param(params, 0), "block hash"))
            if block is None or index >= len(block.transactions):
                return None
            return format_tx(block.transactions[index], block, index)

    @method("eth_getTransactionReceipt", max_params=1)
    def rpc_eth_getTransactionReceipt(self, params: list[Any]) -> dict[str, Any] | None:
        with self.chain.lock:
            found = self.chain.find_transaction(_hash32(_param(params, 0), "transaction hash"))
            if found is None:
                return None
            block, tx, index = found
            return format_receipt(self.chain, block, tx, index)

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: object, behind: Lag | None = None) -> Answer | None:
        """Answer one decoded JSON-RPC request object (as a lagging replica if ``behind``);
        ``None`` for a notification (a request without ``id``: executed, not answered)."""
        return dispatch(request, lambda spec, params: self._invoke(spec, params, behind))

    def _invoke(self, spec: MethodSpec, params: list[Any], behind: Lag | None) -> object:
        if behind is not None:
            answered, result, params = self._replica_view(spec, params, behind)
            if answered:
                return result
        return spec.handler(self, params)

    def _replica_view(
        self, spec: MethodSpec, params: list[Any], behind: Lag
    ) -> tuple[bool, object, list[Any]]:
        """A lagging replica's answer: (answered here, result, params to run the method with).

        The replica's head is ``behind`` blocks before ours: ``latest`` means that block, newer
        blocks are unknown ("header not found", or ``null`` for a block lookup), and so are
        transactions mined in them or still pending.
        """
        name = spec.name
        head = max(0, self.chain.block_number() - behind.blocks)
        stale = behind.stale_latest
        if name == "eth_blockNumber" and stale:
            return True, _hex(head), params
        index = spec.block_param
        if index is not None:
            tag = params[index] if len(params) > index else None
            if stale and (tag is None or tag in ("latest", "safe", "finalized")):
                params = list(params) + [None] * (index + 1 - len(params))
                params[index] = _hex(head)
            elif (
                isinstance(tag, str) and tag not in _TAGS and _quantity(tag, "block number") > head
            ):
                if name.startswith("eth_getBlock"):
                    return True, None, params
                raise RPCError(SERVER_ERROR, "header not found")
        if name in ("eth_getTransactionByHash", "eth_getTransactionReceipt"):
            found = self.methods[name](params)
            number = found.get("blockNumber") if isinstance(found, dict) else None
            if number is None or int(number, 16) > head:
                return True, None, params
            return True, found, params
        return False, None, params

    def handle_body(
        self, body: bytes, knobs: Knobs | None = None, behind: Lag | None = None
    ) -> Payload:
        """Answer a raw HTTP body (single request or batch); returns the JSON value to send
        (``None``: nothing, the body held notifications only)."""
        return self.answer(body, knobs, behind)[1]

    def answer(
        self, body: bytes, knobs: Knobs | None = None, behind: Lag | None = None
    ) -> tuple[int, Payload, list[str]]:
        """(HTTP status, JSON value or ``None`` for an empty answer, methods called) for a raw
        HTTP body under ``knobs``."""
        return answer_body(
            body,
            lambda request: self.handle(request, behind),
            max_batch=MAX_BATCH if knobs is None else min(knobs.max_batch, MAX_BATCH),
            no_batch=knobs is not None and knobs.no_batch,
        )


# --------------------------------------------------------------------------- HTTP


class RPCServer(ThreadedServing[_Server]):
    """The HTTP JSON-RPC server of a chain; a context manager, binds ``host:port`` (0 = free).

    :meth:`start` binds and serves in a daemon thread; :meth:`stop` stops serving, closes the
    socket and hangs up on open keep-alive connections (both idempotent).
    """

    _thread_prefix = "ogpu-devnet-rpc"

    def __init__(
        self,
        chain: DevnetChain,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        knobs: Knobs | None = None,
    ) -> None:
        """Prepare the server; :meth:`start` binds and serves. ``knobs``: fault knobs (default:
        none active; change them at any time through :attr:`knobs`)."""
        self.chain = chain
        self.host = host
        self.port = port
        self.knobs = knobs if knobs is not None else Knobs()
        self.methods = RPCMethods(chain)
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _make_server(self) -> _Server:
        return _Server((self.host, self.port), self.methods, self.knobs)

    def _after_close(self, server: _Server) -> None:
        server.close_connections()
