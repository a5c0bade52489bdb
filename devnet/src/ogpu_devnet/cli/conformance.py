"""``ogpu-devnet conformance``: ask a node the questions devnet/docs/live-chain.md grades below
"observed", and say per table row whether it behaves like the devnet.

Read-only: it sends ``eth_call``, ``eth_chainId``, ``eth_getBlockByNumber`` and batches of
them, one small upload to the pinning service when ``--publish-url`` is given, and signs
nothing (no key is read). One line per table row: ``row N  agrees|differs|not testable  what``.

    ogpu-devnet conformance --rpc https://mainnet-rpc.ogpuscan.io --source 0x... --task 0x...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

AGREES, DIFFERS, NOT_TESTABLE = "agrees", "differs", "not testable"

#: solc's revert data for an out-of-bounds index: Panic(uint256) selector + 0x32.
PANIC_32 = "0x4e487b71" + "00" * 31 + "32"
PANIC_11 = "0x4e487b71" + "00" * 31 + "11"
#: Init code whose execution reverts with exactly PANIC_32: mstore the selector word at 0,
#: mstore 0x32 at 4, revert(0, 36). As an ``eth_call`` without ``to`` it needs no contract.
_REVERTING_INITCODE = "0x7f4e487b71" + "00" * 28 + "600052" + "6032600452" + "60246000fd"
#: Rows of the table in devnet/docs/live-chain.md (every one gets a verdict).
ROWS = 44
#: Batch sizes tried for the batch-limit row (the SDK's own cap is at most the largest).
BATCH_SIZES = (2, 10, 100, 500, 1000)


@dataclass
class Verdict:
    """One row of the table: its number, the verdict and what was seen."""

    row: int
    verdict: str
    detail: str


class Node:
    """A minimal JSON-RPC client (no web3: nothing here can sign)."""

    def __init__(self, url: str, timeout: float) -> None:
        import requests

        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self._id = 0

    def post(self, body: Any) -> Any:
        """POST ``body`` and return the decoded JSON (or raise)."""
        answer = self.session.post(self.url, json=body, timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()

    def call_raw(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The whole JSON-RPC answer object of one request."""
        self._id += 1
        answer = self.post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        if not isinstance(answer, dict):
            raise ValueError(f"{method}: not a JSON-RPC answer: {answer!r}")
        return answer

    def result(self, method: str, params: list[Any]) -> Any:
        """The ``result`` of one request (raises on an error answer)."""
        answer = self.call_raw(method, params)
        if "error" in answer:
            raise ValueError(f"{method}: {answer['error']}")
        return answer.get("result")

    def eth_call(self, to: str, data: str) -> tuple[bytes | None, Any]:
        """(return data, None) or (None, the error object) of an ``eth_call`` at latest."""
        answer = self.call_raw("eth_call", [{"to": to, "data": data}, "latest"])
        if "error" in answer:
            return None, answer["error"]
        return bytes.fromhex(str(answer["result"])[2:]), None


def _selector(signature: str) -> bytes:
    from eth_utils.crypto import keccak

    return bytes(keccak(text=signature)[:4])


def _encode(signature: str, *args: Any) -> str:
    from eth_abi.abi import encode

    types = signature[signature.index("(") + 1 : -1]
    arg_types = [t for t in types.split(",") if t]
    return "0x" + (_selector(signature) + encode(arg_types, list(args))).hex()


def _decode(types: list[str], data: bytes) -> Any:
    from eth_abi.abi import decode

    values = decode(types, data)
    return values[0] if len(values) == 1 else values


def revert_data(error: Any) -> str | None:
    """The revert data of an error object, in geth's shape (``data`` a hex string) or nested
    (Hardhat: ``data.data``)."""
    data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, str) and data.startswith("0x") else None


class _Lists:
    """Bound behaviour of one contract's paginated getters."""

    def __init__(self, node: Node, address: str) -> None:
        self.node = node
        self.address = address

    def count(self, signature: str) -> int:
        data, error = self.node.eth_call(self.address, _encode(signature))
        if data is None or not data:
            raise ValueError(f"{signature} at {self.address}: {error or 'no code'}")
        return int(_decode(["uint256"], data))

    def page(self, signature: str, lo: int, hi: int) -> tuple[list[Any] | None, str | None]:
        """(items, None) or (None, revert data or the error text)."""
        data, error = self.node.eth_call(self.address, _encode(signature, lo, hi))
        if data is not None:
            element = "uint256" if "Timestamps" in signature else "address"
            return list(_decode([f"{element}[]"], data)), None
        return None, revert_data(error) or json.dumps(error)


def _bounds(lists: _Lists, name: str, count_sig: str, absolute: bool) -> list[tuple[int, str, str]]:
    """(row, verdict, detail) for the inclusive/absolute/panic behaviour of one getter."""
    sig = f"{name}(uint256,uint256)"
    n = lists.count(count_sig)
    out: list[tuple[int, str, str]] = []
    if n == 0:
        _, err = lists.page(sig, 0, 0)
        ok = err == PANIC_32
        out.append((2, AGREES if ok else DIFFERS, f"{name}(0, 0) on an empty list: {err}"))
        return out
    items, err = lists.page(sig, 0, n - 1)
    ok = items is not None and len(items) == n
    seen = f"{len(items)} items" if items is not None else err
    out.append((1, AGREES if ok else DIFFERS, f"{name}(0, {n - 1}) with {n} entries: {seen}"))
    items, err = lists.page(sig, 0, n)
    ok = err == PANIC_32
    out.append(
        (2, AGREES if ok else DIFFERS, f"{name}(0, {n}): {err or f'{len(items or [])} items'}")
    )
    if n >= 2:
        items, err = lists.page(sig, 1, n - 1)
        if absolute:
            ok = err == PANIC_32
            out.append((5, AGREES if ok else DIFFERS, f"{name}(1, {n - 1}): {err or 'answered'}"))
        else:
            ok = items is not None and len(items) == n - 1
            out.append(
                (
                    1,
                    AGREES if ok else DIFFERS,
                    f"{name}(1, {n - 1}): {err or f'{len(items or [])} items'}",
                )
            )
    elif absolute:
        out.append((5, NOT_TESTABLE, f"{name}: needs 2 entries, has {n}"))
    _, err = lists.page(sig, 1, 0)
    ok = err == PANIC_11
    out.append((4, AGREES if ok else DIFFERS, f"{name}(1, 0): {err}"))
    if n > 1000:
        items, err = lists.page(sig, 0, 1000)
        ok = items is not None and len(items) == 1001
        out.append(
            (3, AGREES if ok else DIFFERS, f"{name}(0, 1000): {err or f'{len(items or [])} items'}")
        )
    return out


def _task_rows(node: Node, task: str) -> list[tuple[int, str, str]]:
    lists = _Lists(node, task)
    out: list[tuple[int, str, str]] = []
    for name in ("getAttempters", "getAttemptTimestamps", "getResponsesOf"):
        out += _bounds(lists, name, "getAttemptCount()", absolute=False)
    n = lists.count("getAttemptCount()")
    if n == 0:
        out.append((6, NOT_TESTABLE, "the task has no attempts"))
        return out
    attempters, _ = lists.page("getAttempters(uint256,uint256)", 0, n - 1)
    responses, err = lists.page("getResponsesOf(uint256,uint256)", 0, n - 1)
    if attempters is None or responses is None:
        out.append((6, DIFFERS, f"getResponsesOf(0, {n - 1}): {err}"))
        return out
    mismatches = 0
    for attempter, response in zip(attempters, responses, strict=False):
        data, _ = node.eth_call(task, _encode("responseOf(address)", attempter))
        if data is None or str(_decode(["address"], data)).lower() != str(response).lower():
            mismatches += 1
    holes = sum(1 for r in responses if int(str(r), 16) == 0)
    ok = len(responses) == n and mismatches == 0
    detail = f"{n} attempters, {len(responses)} entries, {holes} holes, {mismatches} mismatches"
    out.append((6, AGREES if ok else DIFFERS, detail))
    return out


def _source_rows(node: Node, source: str) -> list[tuple[int, str, str]]:
    lists = _Lists(node, source)
    rows = _bounds(lists, "getTasks", "getTaskCount()", absolute=True)
    rows += _bounds(lists, "getRegistrants", "getRegistrantCount()", absolute=True)
    return rows


def _nexus_rows(node: Node, nexus: str | None) -> list[tuple[int, str, str]]:
    if nexus is None:
        return [(7, NOT_TESTABLE, "Nexus address unknown for this chain id (pass --nexus)")]
    rows = _bounds(_Lists(node, nexus), "getSources", "getSourceCount()", absolute=False)
    return [(7, verdict, detail) for _, verdict, detail in rows]


def _batch_rows(node: Node) -> list[tuple[int, str, str]]:
    largest = 0
    for size in BATCH_SIZES:
        body = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []} for i in range(size)
        ]
        try:
            answer = node.post(body)
        except Exception as exc:  # HTTP 4xx/413, connection closed, non-JSON
            detail = f"batch of {size} refused ({type(exc).__name__})"
            break
        if not isinstance(answer, list) or sorted(a.get("id", -1) for a in answer) != list(
            range(size)
        ):
            detail = f"batch of {size} answered {str(answer)[:80]}"
            break
        if any("error" in a for a in answer):
            detail = f"batch of {size}: error entries"
            break
        largest = size
    else:
        detail = f"batches accepted up to {largest} requests (largest tried)"
    if largest == 0:
        return [(12, DIFFERS, f"no JSON-RPC batches: {detail}")]
    verdict = AGREES if largest >= 100 else DIFFERS
    return [(12, verdict, f"largest batch accepted: {largest}; {detail}")]


def _revert_rows(node: Node) -> list[tuple[int, str, str]]:
    answer = node.call_raw("eth_call", [{"data": _REVERTING_INITCODE}, "latest"])
    error = answer.get("error")
    if not isinstance(error, dict):
        return [(22, DIFFERS, f"a reverting eth_call answered {answer!r}")]
    data = revert_data(error)
    shape = f"code {error.get('code')}, data {'at error.data' if isinstance(error.get('data'), str) else 'nested'}"
    rows = [
        (
            2,
            AGREES if data == PANIC_32 else DIFFERS,
            f"revert data of Panic(0x32) arrives as {data}",
        )
    ]
    geth = error.get("code") == 3 and error.get("data") == PANIC_32
    rows.append((22, AGREES if geth else DIFFERS, shape))
    return rows


def _fee_rows(node: Node) -> list[tuple[int, str, str]]:
    block = node.result("eth_getBlockByNumber", ["latest", False])
    fee = block.get("baseFeePerGas") if isinstance(block, dict) else None
    if fee is None:
        return [(21, DIFFERS, "latest block has no baseFeePerGas (legacy gasPrice)")]
    return [(21, AGREES, f"baseFeePerGas {int(fee, 16)} wei")]


def _pinning_rows(publish_url: str | None, timeout: float) -> list[tuple[int, str, str]]:
    if not publish_url:
        return [(13, NOT_TESTABLE, "pass --publish-url to upload a small file")]
    import requests
    from ogpu.ipfs import compute_cid

    content = b'{"ogpu-devnet": "conformance probe"}'
    answer = requests.post(
        publish_url, files={"file": ("probe.json", content, "application/json")}, timeout=timeout
    )
    link = str(answer.json().get("link", ""))
    cid = link.rstrip("/").rsplit("/", 1)[-1]
    ours = compute_cid(content)
    ok = cid == ours
    return [(13, AGREES if ok else DIFFERS, f"service CID {cid or link!r}, ipfs add CID {ours}")]


_MISSING = {
    1: "pass --source and/or --task to probe the paginated getters",
    2: "pass --source and/or --task to probe the paginated getters",
    3: "needs a list longer than 1000 entries",
    4: "pass --source and/or --task to probe the paginated getters",
    5: "pass --source (a source with 2 or more tasks or registrants)",
    6: "pass --task (a task with attempts)",
}
_UNTESTABLE = {
    35: "needs a replica that lags: run the probe twice against a load-balanced endpoint",
    36: "see row 12's verdict (the batch sizes the node accepted)",
    37: "an SDK behaviour (tested by the suite)",
    38: "needs a filter left idle for 5 minutes",
    39: "a provider-runtime behaviour (the probe talks to a node, not a provider)",
    40: "a provider-runtime behaviour (the probe talks to a node, not a provider)",
    41: "a provider-runtime behaviour (the probe talks to a node, not a provider)",
    42: "a write (a transaction with a future nonce): the probe signs nothing",
    43: "an SDK behaviour after its own write (tested by the suite): the probe signs nothing",
    44: "the SDK sends no notifications: how a node answers one changes nothing for it",
    8: "a write (publishTask with a past expiry): the probe signs nothing",
    9: "an SDK behaviour (tested by the suite)",
    10: "a write (publishTask by a non-owner): the probe signs nothing",
    11: "replica lag and dropped connections show under load, not in one probe",
    14: "revert reasons of writes: the probe signs nothing",
    15: "custom errors of writes: the probe signs nothing",
    16: "a write (setAgent by a provider): the probe signs nothing",
    17: "a write (announceProvider): the probe signs nothing",
    18: "a write (setDefaultAgentDisabled): the probe signs nothing",
    19: "an SDK surface fact (tested by the suite)",
    20: "the eth_call gas cap: not probed (would cost the node 50M gas)",
    23: "the published SDK on the devnet (tests/test_published_compat.py)",
    **{row: "a devnet choice for writes: the probe signs nothing" for row in range(24, 33)},
    33: "holes are counted under row 6 (getResponsesOf)",
    34: "an SDK behaviour (tested by the suite)",
}


def _known_nexus(node: Node) -> str | None:
    try:
        chain_id = int(node.result("eth_chainId", []), 16)
        from ogpu.chain import ChainConfig

        return str(ChainConfig.get_contract_address("NEXUS", chain_id))
    except Exception:
        return None


def probe(
    rpc: str,
    *,
    source: str | None = None,
    task: str | None = None,
    nexus: str | None = None,
    publish_url: str | None = None,
    timeout: float = 30.0,
) -> list[Verdict]:
    """Run every read-only check; one :class:`Verdict` per finding, ordered by row."""
    node = Node(rpc, timeout)
    checks: list[tuple[int, Callable[[], list[tuple[int, str, str]]]]] = [
        (12, lambda: _batch_rows(node)),
        (22, lambda: _revert_rows(node)),
        (21, lambda: _fee_rows(node)),
        (13, lambda: _pinning_rows(publish_url, timeout)),
        (7, lambda: _nexus_rows(node, nexus or _known_nexus(node))),
    ]
    if source:
        checks.append((5, lambda: _source_rows(node, source)))
    if task:
        checks.append((6, lambda: _task_rows(node, task)))
    rows: list[tuple[int, str, str]] = []
    for row, check in checks:
        try:
            rows += check()
        except Exception as exc:  # a node that cannot answer a question: that row differs
            rows.append((row, DIFFERS, f"probe failed: {type(exc).__name__}: {exc}"))
    seen = {r[0] for r in rows}
    for row in range(1, ROWS + 1):
        if row not in seen:
            rows.append((row, NOT_TESTABLE, _UNTESTABLE.get(row, _MISSING.get(row, ""))))
    rows.sort(key=lambda r: r[0])
    return [Verdict(*r) for r in rows]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``conformance``."""
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the node to probe")
    parser.add_argument("--source", default=None, help="an existing Source contract")
    parser.add_argument("--task", default=None, help="an existing Task contract with attempts")
    parser.add_argument("--nexus", default=None, help="the Nexus (default: by chain id)")
    parser.add_argument("--publish-url", default=None, help="pinning service to upload to")
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead")


def run(args: argparse.Namespace) -> int:
    """Probe and print; exit 0 when no row differs, 1 otherwise (2: the node is unreachable)."""
    try:
        verdicts = probe(
            args.rpc,
            source=args.source,
            task=args.task,
            nexus=args.nexus,
            publish_url=args.publish_url,
            timeout=args.timeout,
        )
    except Exception as exc:
        print(f"ogpu-devnet conformance: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for v in verdicts:
        if args.json:
            print(json.dumps({"row": v.row, "verdict": v.verdict, "detail": v.detail}))
        else:
            print(f"row {v.row:>2}  {v.verdict:<12}  {v.detail}")
    return 1 if any(v.verdict == DIFFERS for v in verdicts) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ogpu_devnet.cli.conformance``."""
    parser = argparse.ArgumentParser(prog="ogpu-devnet conformance", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
