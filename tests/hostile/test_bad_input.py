"""Catalogue 1: bad input at every public entry point.

Each row calls one public function of one distribution with one bad argument. The call must
raise a typed :class:`OGPUError` subclass with a clear message (naming what was wrong), and
must leave everything untouched: the pinning service received no request (its counters), no
transaction was sent (pending nonces) or mined (block number), and no internal host was
reached (the canary server's counter).

Rows a parallel fix has not landed for yet are ``xfail(strict=True)``: they turn into
failures (XPASS) once the fix is merged, and the mark is then removed.
"""

from __future__ import annotations

import asyncio
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ogpu.ipfs
import pytest
from ogpu.chain import ChainConfig, check_amount, resolve_signer, to_checksum
from ogpu.client import (
    ImageEnvironments,
    Response,
    Source,
    Task,
    TaskInput,
    cancel_task,
    confirm_response,
    publish_source,
    publish_task,
    set_agent,
    wait_for_response,
)
from ogpu.protocol import controller, nexus, terminal, vault
from ogpu.types import OGPUError, SourceParams, TaskParams

from ogpu import agent, events

from .conftest import MAX_EXPIRY, MIN_PAYMENT, Probe, World

CID = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
GOOD = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BAD_CHECKSUM = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"  # one letter's case flipped
PENDING_IPFS = "pending ipfs: "
PENDING_RPC = "pending rpc: "
PENDING_LIVECHAIN = "pending livechain: "


@dataclass(frozen=True)
class Case:
    """One row: ``call(world)`` must raise ``error`` whose message holds ``needle``."""

    id: str
    call: Callable[[World], Any]
    needle: str = ""
    error: type[OGPUError] = OGPUError
    pending: str = ""  # "pending <helper>: <item>" while a parallel fix has not landed
    setup: Callable[[World], None] | None = None  # state it needs (before the probe)


def first_event(stream: Any) -> Any:
    """Pull the first item of an async watcher (bad arguments raise at the first pull)."""

    async def pull() -> Any:
        try:
            return await asyncio.wait_for(stream.__anext__(), 10)
        finally:
            await stream.aclose()

    return asyncio.run(pull())


def deep(n: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(n):
        node = {"a": node}
    return node


def task_with_config(w: World, data: Any) -> Any:
    return publish_task(
        w.task_info(config=TaskInput(function_name="analyze", data=data)), w.client_key
    )


def task_with(w: World, **changes: Any) -> Any:
    return publish_task(w.task_info(**changes), w.client_key)


def source_with(w: World, **changes: Any) -> Any:
    return publish_source(w.source_info(**changes), w.client_key)


def raw_task(w: World, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "source": w.source.address,
        "config": f"ipfs://{CID}",
        "expiryTime": w.now() + 600,
        "payment": MIN_PAYMENT,
    }
    fields.update(changes)
    return controller.publish_task(TaskParams(**fields), signer=w.client_key)


def raw_source(w: World, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "client": w.client,
        "imageMetadataUrl": f"ipfs://{CID}",
        "imageEnvironments": 1,
        "minPayment": MIN_PAYMENT,
        "minAvailableLockup": 0,
        "maxExpiryDuration": MAX_EXPIRY,
        "deliveryMethod": 0,
    }
    fields.update(changes)
    return nexus.publish_source(SourceParams(**fields), signer=w.client_key)


def on_chain_metadata(url_of: Callable[[World], str]) -> Callable[[World], None]:
    """Setup: publish a source whose on-chain metadata URL is hostile (read back by the case)."""

    def setup(w: World) -> None:
        receipt = raw_source(w, imageMetadataUrl=url_of(w))
        w.extra["hostile_source"] = Source(nexus.extract_source_address(receipt))

    return setup


def on_chain_config(url_of: Callable[[World], str]) -> Callable[[World], None]:
    """Setup: publish a task whose on-chain config URL is hostile (read back by the case)."""

    def setup(w: World) -> None:
        receipt = raw_task(w, config=url_of(w))
        w.extra["hostile_task"] = Task(controller.extract_task_address(receipt))

    return setup


def hostile_metadata(w: World) -> Any:
    return w.extra["hostile_source"].get_metadata()


def hostile_config(w: World) -> Any:
    return w.extra["hostile_task"].get_metadata()


def redirect_to(target_of: Callable[[World], str]) -> Callable[[World], None]:
    """Setup: the gateway (the pinning service) answers the next GET with a redirect."""

    def setup(w: World) -> None:
        w.devnet.ipfs.faults.respond_next(
            1, 302, b"", path_prefix="/ipfs/", headers={"Location": target_of(w)}
        )
        w.extra["redirect_armed"] = True

    return setup


def fetch_via_gateway(w: World) -> Any:
    return ogpu.ipfs.fetch_ipfs_json(
        f"ipfs://{CID}", gateway=w.devnet.ipfs.gateway_url, url_policy="gateway", retries=0
    )


def register(w: World, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "chain_id": 990_001,
        "name": "catalogue",
        "rpc_url": w.devnet.rpc_url,
        "contracts": dict(w.devnet.contracts),
    }
    fields.update(changes)
    return ChainConfig.register_chain(**fields)


def canary_port(w: World) -> int:
    return w.canary.port


CASES: list[Case] = [
    # ---------------------------------------------------------------- ogpu.ipfs: publish
    Case(
        "ipfs.publish.nan",
        lambda w: ogpu.ipfs.publish_to_ipfs({"x": math.nan}),
        "nan",
    ),
    Case(
        "ipfs.publish.inf",
        lambda w: ogpu.ipfs.publish_to_ipfs({"x": math.inf}),
        "inf",
    ),
    Case(
        "ipfs.publish.neg_inf",
        lambda w: ogpu.ipfs.publish_to_ipfs({"x": [-math.inf]}),
        "inf",
    ),
    Case("ipfs.publish.object", lambda w: ogpu.ipfs.publish_to_ipfs({"x": object()}), "json"),
    Case("ipfs.publish.set", lambda w: ogpu.ipfs.publish_to_ipfs({"x": {1, 2}}), "json"),
    Case("ipfs.publish.bytes_in_dict", lambda w: ogpu.ipfs.publish_to_ipfs({"x": b"\x00"}), "json"),
    Case(
        "ipfs.publish.decimal", lambda w: ogpu.ipfs.publish_to_ipfs({"x": Decimal("1.5")}), "json"
    ),
    Case(
        "ipfs.publish.deep_1500",
        lambda w: ogpu.ipfs.publish_to_ipfs(deep(1500)),
        "deep",
    ),
    Case("ipfs.publish.int_data", lambda w: ogpu.ipfs.publish_to_ipfs(42), "int"),  # type: ignore[arg-type]
    Case(
        "ipfs.publish.empty_filename",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, filename=""),
        "filename",
    ),
    Case(
        "ipfs.publish.header_injection",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, filename="a\r\nX: y"),
        "filename",
    ),
    Case(
        "ipfs.publish.timeout_nan",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, timeout=math.nan),
        "timeout",
    ),
    Case(
        "ipfs.publish.timeout_negative",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, timeout=-1),
        "timeout",
    ),
    Case(
        "ipfs.publish.retries_bool",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, retries=True),
        "retries",
    ),
    Case(
        "ipfs.publish.retries_float",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, retries=1.5),
        "retries",
    ),  # type: ignore[arg-type]
    Case(
        "ipfs.publish.url_file",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, publish_url="file:///etc/passwd"),
        "file",
    ),
    Case(
        "ipfs.publish.url_data",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, publish_url="data:text/plain,hi"),
        "data",
    ),
    Case(
        "ipfs.publish.url_javascript",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, publish_url="javascript:alert(1)"),
        "javascript",
    ),
    Case(
        "ipfs.publish.url_gopher",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, publish_url="gopher://127.0.0.1:70/_x"),
        "gopher",
    ),
    Case("ipfs.publish.url_empty", lambda w: ogpu.ipfs.publish_to_ipfs({}, publish_url=""), "url"),
    Case(
        "ipfs.publish.url_no_host",
        lambda w: ogpu.ipfs.publish_to_ipfs({}, publish_url="http:///file/create"),
        "url",
    ),
    Case("ipfs.publish_bytes.str", lambda w: ogpu.ipfs.publish_bytes("text"), "bytes"),  # type: ignore[arg-type]
    Case(
        "ipfs.publish_file.missing",
        lambda w: ogpu.ipfs.publish_file("/nonexistent/catalogue.bin"),
        "catalogue.bin",
    ),
    Case("ipfs.publish_file.directory", lambda w: ogpu.ipfs.publish_file("/"), "/"),
    # ---------------------------------------------------------------- ogpu.ipfs: fetch / CIDs
    Case("ipfs.fetch.empty", lambda w: ogpu.ipfs.fetch_ipfs_json(""), ""),
    Case("ipfs.fetch.not_a_cid", lambda w: ogpu.ipfs.fetch_ipfs_json("ipfs://notacid"), "cid"),
    Case("ipfs.fetch.cid_bad_base58", lambda w: ogpu.ipfs.fetch_ipfs_json("Qm" + "0" * 44), "cid"),
    Case("ipfs.fetch.cid_truncated", lambda w: ogpu.ipfs.fetch_ipfs_json(CID[:-1]), "cid"),
    Case(
        "ipfs.fetch.cidv1_bad_base32", lambda w: ogpu.ipfs.fetch_ipfs_json("bafy" + "1" * 55), "cid"
    ),
    Case("ipfs.fetch.int", lambda w: ogpu.ipfs.fetch_ipfs_json(123), "string"),  # type: ignore[arg-type]
    Case(
        "ipfs.fetch.file_scheme",
        lambda w: ogpu.ipfs.fetch_ipfs_json("file:///etc/passwd"),
        "file:///etc/passwd",
    ),
    Case(
        "ipfs.fetch.data_scheme",
        lambda w: ogpu.ipfs.fetch_ipfs_json("data:application/json,{}"),
        "data:",
    ),
    Case(
        "ipfs.fetch.javascript_scheme",
        lambda w: ogpu.ipfs.fetch_ipfs_json("javascript:alert(1)"),
        "javascript:",
    ),
    Case(
        "ipfs.fetch.gopher_scheme",
        lambda w: ogpu.ipfs.fetch_ipfs_json(f"gopher://127.0.0.1/ipfs/{CID}"),
        "gopher",
    ),
    Case(
        "ipfs.fetch.dot_dot", lambda w: ogpu.ipfs.fetch_ipfs_json(f"ipfs://{CID}/../admin"), "'..'"
    ),
    Case(
        "ipfs.fetch.pct_dot_dot",
        lambda w: ogpu.ipfs.fetch_ipfs_json(f"ipfs://{CID}/%2e%2e/admin"),
        "'..'",
    ),
    Case(
        "ipfs.fetch.pct_slash_traversal",
        lambda w: ogpu.ipfs.fetch_ipfs_json(f"ipfs://{CID}/..%2f..%2fadmin"),
        "..",
    ),
    Case(
        "ipfs.fetch.verify_path",
        lambda w: ogpu.ipfs.fetch_ipfs_json(f"ipfs://{CID}/a.json", verify=True),
        "path",
    ),
    Case(
        "ipfs.fetch.max_bytes_negative",
        lambda w: ogpu.ipfs.fetch_ipfs_json(CID, max_bytes=-1),
        "max_bytes",
    ),
    Case(
        "ipfs.fetch.max_bytes_bool",
        lambda w: ogpu.ipfs.fetch_ipfs_json(CID, max_bytes=True),
        "max_bytes",
    ),
    Case(
        "ipfs.fetch.policy_unknown",
        lambda w: ogpu.ipfs.fetch_ipfs_json(CID, url_policy="yolo"),
        "url_policy",
    ),  # type: ignore[arg-type]
    Case(
        "ipfs.fetch.deadline_inf",
        lambda w: ogpu.ipfs.fetch_ipfs_json(CID, deadline=math.inf),
        "deadline",
    ),
    Case(
        "ipfs.fetch.gateway_javascript",
        lambda w: ogpu.ipfs.fetch_ipfs_json(CID, gateway="javascript:x"),
        "gateway",
    ),
    Case(
        "ipfs.fetch_many.workers_zero",
        lambda w: ogpu.ipfs.fetch_many([CID], max_workers=0),
        "max_workers",
    ),
    Case("ipfs.fetch_many.str", lambda w: ogpu.ipfs.fetch_many(CID), "urls"),
    Case("ipfs.compute_cid.str", lambda w: ogpu.ipfs.compute_cid("text"), "bytes"),  # type: ignore[arg-type]
    Case("ipfs.compute_cid.none", lambda w: ogpu.ipfs.compute_cid(None), "bytes"),  # type: ignore[arg-type]
    Case("ipfs.parse.bytes", lambda w: ogpu.ipfs.parse_ipfs_url(CID.encode()), "string"),  # type: ignore[arg-type]
    Case("ipfs.parse.overlong", lambda w: ogpu.ipfs.parse_ipfs_url("Qm" + "a" * 100_000), "cid"),
    Case("ipfs.configure.unknown_setting", lambda w: ogpu.ipfs.configure(nope=1), "nope"),
    Case(
        "ipfs.configure.gateway_file",
        lambda w: ogpu.ipfs.configure(gateway="file:///tmp"),
        "gateway",
    ),
    # -------------------------------------------------- SSRF: URLs read from the chain
    Case(
        "chain_url.loopback",
        hostile_metadata,
        "ipfs",
        setup=on_chain_metadata(lambda w: f"{w.canary.url}/x"),
    ),
    Case(
        "chain_url.integer_host",
        hostile_metadata,
        "ipfs",
        setup=on_chain_metadata(lambda w: f"http://2130706433:{canary_port(w)}/x"),
    ),
    Case(
        "chain_url.hex_host",
        hostile_metadata,
        "ipfs",
        setup=on_chain_metadata(lambda w: f"http://0x7f000001:{canary_port(w)}/x"),
    ),
    Case(
        "chain_url.ipv6_loopback",
        hostile_config,
        "ipfs",
        setup=on_chain_config(lambda w: f"http://[::ffff:127.0.0.1]:{canary_port(w)}/x"),
    ),
    Case(
        "chain_url.userinfo_trick",
        hostile_config,
        "ipfs",
        setup=on_chain_config(lambda w: f"http://ipfs.io@127.0.0.1:{canary_port(w)}/x"),
    ),
    Case(
        "chain_url.file",
        hostile_metadata,
        "file",
        setup=on_chain_metadata(lambda w: "file:///etc/passwd"),
    ),
    Case(
        "chain_url.pct_traversal",
        hostile_config,
        "..",
        setup=on_chain_config(lambda w: f"ipfs://{CID}/..%2f..%2fadmin"),
    ),
    Case(
        "redirect.loopback",
        fetch_via_gateway,
        "redirect",
        setup=redirect_to(lambda w: f"{w.canary.url}/ipfs/{CID}"),
    ),
    Case(
        "redirect.link_local",
        fetch_via_gateway,
        "redirect",
        setup=redirect_to(lambda w: "http://169.254.169.254/latest/meta-data/"),
    ),
    Case(
        "redirect.file",
        fetch_via_gateway,
        "redirect",
        setup=redirect_to(lambda w: "file:///etc/passwd"),
    ),
    # ---------------------------------------------------------------- ogpu.chain
    Case("chain.checksum.bad_case", lambda w: to_checksum(BAD_CHECKSUM), "checksum"),
    Case("chain.checksum.short", lambda w: to_checksum("0x1234"), "address"),
    Case("chain.checksum.int", lambda w: to_checksum(1234), "address"),
    Case("chain.checksum.empty", lambda w: to_checksum(""), "address"),
    Case("chain.checksum.not_hex", lambda w: to_checksum("0x" + "g" * 40), "address"),
    Case("chain.amount.negative", lambda w: check_amount(-1), "amount"),
    Case("chain.amount.huge", lambda w: check_amount(2**256), "amount"),
    Case("chain.amount.bool", lambda w: check_amount(True), "amount"),
    Case("chain.amount.float", lambda w: check_amount(1.0), "amount"),
    Case("chain.amount.nan", lambda w: check_amount(math.nan), "amount"),
    Case("chain.amount.str", lambda w: check_amount("10"), "amount"),
    Case("chain.signer.short_hex", lambda w: resolve_signer("0x1234"), "key"),
    Case("chain.signer.zero_key", lambda w: resolve_signer("0x" + "00" * 32), "key"),
    Case("chain.signer.over_curve_order", lambda w: resolve_signer("0x" + "ff" * 32), "key"),
    Case("chain.signer.int", lambda w: resolve_signer(12345), "signer"),
    Case("chain.signer.empty", lambda w: resolve_signer(""), "key"),
    Case("chain.config.rpc_file", lambda w: register(w, rpc_url="file:///etc/passwd"), "rpc"),
    Case(
        "chain.config.rpc_javascript", lambda w: register(w, rpc_url="javascript:alert(1)"), "rpc"
    ),
    Case("chain.config.rpc_gopher", lambda w: register(w, rpc_url="gopher://127.0.0.1:70/"), "rpc"),
    Case("chain.config.rpc_data", lambda w: register(w, rpc_url="data:application/json,{}"), "rpc"),
    Case("chain.config.rpc_empty", lambda w: register(w, rpc_url=""), "rpc"),
    Case(
        "chain.config.contract_bad_checksum",
        lambda w: register(w, contracts={**w.devnet.contracts, "NEXUS": BAD_CHECKSUM}),
        "NEXUS",
    ),
    Case(
        "chain.config.contract_missing",
        lambda w: register(w, contracts={"NEXUS": GOOD}),
        "contract",
    ),
    Case("chain.config.chain_id_negative", lambda w: register(w, chain_id=-1), "chain"),
    Case("chain.config.ipfs_data_url", lambda w: register(w, ipfs_publish_url="data:x"), "ipfs"),
    Case(
        "chain.config.ipfs_gateway_javascript",
        lambda w: register(w, ipfs_gateway_url="javascript:x"),
        "ipfs",
    ),
    Case("chain.config.chain_bool", lambda w: ChainConfig.set_chain(True), "chain"),  # type: ignore[arg-type]
    Case("chain.config.chain_unknown", lambda w: ChainConfig.set_chain(424242424), "424242424"),
    # ---------------------------------------------------------------- ogpu.protocol
    Case("protocol.Source.bad_checksum", lambda w: Source(BAD_CHECKSUM), "checksum"),
    Case("protocol.Task.int", lambda w: Task(5), "address"),  # type: ignore[arg-type]
    Case("protocol.Response.empty", lambda w: Response(""), "address"),
    Case("protocol.Task.load_no_contract", lambda w: Task.load(GOOD), GOOD),
    Case(
        "protocol.vault.deposit_negative",
        lambda w: vault.deposit(w.client, -1, signer=w.client_key),
        "amount",
    ),
    Case(
        "protocol.vault.deposit_bool",
        lambda w: vault.deposit(w.client, True, signer=w.client_key),
        "amount",
    ),
    Case(
        "protocol.vault.deposit_float",
        lambda w: vault.deposit(w.client, 1e18, signer=w.client_key),
        "amount",
    ),  # type: ignore[arg-type]
    Case(
        "protocol.vault.deposit_huge",
        lambda w: vault.deposit(w.client, 2**256, signer=w.client_key),
        "amount",
    ),
    Case(
        "protocol.vault.deposit_bad_checksum",
        lambda w: vault.deposit(BAD_CHECKSUM, 1, signer=w.client_key),
        "checksum",
    ),
    Case(
        "protocol.vault.withdraw_no_signer_type", lambda w: vault.withdraw(1, signer=3.5), "signer"
    ),  # type: ignore[arg-type]
    Case(
        "protocol.vault.withdraw_over_balance",
        lambda w: vault.withdraw(10**30, signer=w.other_key),
        "balance",
    ),
    Case(
        "protocol.nexus.publish_source_dict",
        lambda w: nexus.publish_source({"client": w.client}, signer=w.client_key),
        "SourceParams",
    ),  # type: ignore[arg-type]
    Case(
        "protocol.nexus.source_env_zero",
        lambda w: raw_source(w, imageEnvironments=0),
        "environment",
    ),
    Case("protocol.nexus.source_delivery_7", lambda w: raw_source(w, deliveryMethod=7), "delivery"),
    Case(
        "protocol.nexus.source_min_payment_neg",
        lambda w: raw_source(w, minPayment=-5),
        "minPayment",
    ),
    Case("protocol.controller.task_payment_float", lambda w: raw_task(w, payment=1.5), "payment"),
    Case(
        "protocol.controller.task_source_not_contract",
        lambda w: raw_task(w, source=GOOD),
        "source",
    ),
    Case(
        "protocol.controller.confirm_bad_checksum",
        lambda w: controller.confirm_response(BAD_CHECKSUM, signer=w.client_key),
        "checksum",
    ),
    Case(
        "protocol.terminal.set_agent_str_bool",
        lambda w: terminal.set_agent(GOOD, "yes", signer=w.client_key),
        "value",
    ),  # type: ignore[arg-type]
    # ---------------------------------------------------------------- ogpu.client
    Case(
        "client.publish_task.not_taskinfo",
        lambda w: publish_task({"source": w.source.address}, w.client_key),
        "TaskInfo",
    ),  # type: ignore[arg-type]
    Case(
        "client.publish_task.expiry_past", lambda w: task_with(w, expiryTime=w.now() - 10), "expir"
    ),
    Case("client.publish_task.expiry_zero", lambda w: task_with(w, expiryTime=0), "expir"),
    Case(
        "client.publish_task.expiry_float",
        lambda w: task_with(w, expiryTime=float(w.now() + 600)),
        "expiryTime",
    ),
    Case(
        "client.publish_task.expiry_beyond_max",
        lambda w: task_with(w, expiryTime=w.now() + MAX_EXPIRY * 10),
        "expir",
    ),
    Case(
        "client.publish_task.payment_below_min",
        lambda w: task_with(w, payment=MIN_PAYMENT - 1),
        "payment",
    ),
    Case(
        "client.publish_task.payment_over_balance",
        lambda w: task_with(w, payment=10**24),
        "balance",
    ),
    Case("client.publish_task.payment_negative", lambda w: task_with(w, payment=-1), "payment"),
    Case("client.publish_task.payment_bool", lambda w: task_with(w, payment=True), "payment"),
    Case("client.publish_task.payment_huge", lambda w: task_with(w, payment=2**256), "payment"),
    Case(
        "client.publish_task.source_bad_checksum",
        lambda w: task_with(w, source=BAD_CHECKSUM),
        "checksum",
    ),
    Case(
        "client.publish_task.source_no_contract",
        lambda w: task_with(w, source=GOOD),
        GOOD,
    ),
    Case(
        "client.publish_task.function_empty",
        lambda w: task_with(w, config=TaskInput(function_name="", data={})),
        "function_name",
    ),
    Case(
        "client.publish_task.config_nan",
        lambda w: task_with_config(w, {"x": math.nan}),
        "nan",
    ),
    Case(
        "client.publish_task.config_object", lambda w: task_with_config(w, {"x": object()}), "json"
    ),
    Case(
        "client.publish_task.config_deep",
        lambda w: task_with_config(w, deep(1500)),
        "deep",
    ),
    Case(
        "client.publish_task.total_timeout_inf",
        lambda w: publish_task(w.task_info(), w.client_key, total_timeout=math.inf),
        "total_timeout",
    ),
    Case("client.publish_task.no_key", lambda w: publish_task(w.task_info(), "not a key"), "key"),
    Case(
        "client.publish_source.min_payment_neg",
        lambda w: source_with(w, minPayment=-1),
        "minPayment",
    ),
    Case(
        "client.publish_source.max_expiry_float",
        lambda w: source_with(w, maxExpiryDuration=1.5),
        "maxExpiryDuration",
    ),
    Case(
        "client.publish_source.no_env",
        lambda w: source_with(w, imageEnvs=ImageEnvironments()),
        "environment",
    ),
    Case(
        "client.publish_source.env_javascript",
        lambda w: source_with(w, imageEnvs=ImageEnvironments(cpu="javascript:alert(1)")),
        "javascript",
    ),
    Case(
        "client.publish_source.env_file",
        lambda w: source_with(w, imageEnvs=ImageEnvironments(cpu="file:///etc/passwd")),
        "file",
    ),
    Case("client.publish_source.name_int", lambda w: source_with(w, name=5), "name"),
    Case(
        "client.confirm.bad_checksum",
        lambda w: confirm_response(BAD_CHECKSUM, w.client_key),
        "checksum",
    ),
    Case("client.confirm.int", lambda w: confirm_response(7, w.client_key), "address"),  # type: ignore[arg-type]
    Case(
        "client.confirm.not_a_response",
        lambda w: confirm_response(w.task.address, w.client_key),
        "response",
    ),
    Case("client.cancel.empty", lambda w: cancel_task("", w.client_key), "task"),
    Case("client.cancel.not_owner", lambda w: cancel_task(w.task, w.other_key), "owner"),
    Case("client.set_agent.value_int", lambda w: set_agent(GOOD, 1, w.client_key), "value"),  # type: ignore[arg-type]
    Case(
        "client.wait.timeout_nan", lambda w: wait_for_response(w.task, timeout=math.nan), "timeout"
    ),
    Case(
        "client.wait.poll_negative",
        lambda w: wait_for_response(w.task, poll_interval=-1),
        "poll_interval",
    ),
    # ---------------------------------------------------------------- ogpu.events
    Case(
        "events.task_published.bad_checksum",
        lambda w: first_event(events.watch_task_published(BAD_CHECKSUM)),
        "checksum",
    ),
    Case(
        "events.attempted.from_block_negative",
        lambda w: first_event(events.watch_attempted(w.task, from_block=-1)),
        "from_block",
    ),
    Case(
        "events.attempted.from_block_bool",
        lambda w: first_event(events.watch_attempted(w.task, from_block=True)),
        "from_block",
    ),
    Case(
        "events.registered.poll_zero",
        lambda w: first_event(events.watch_registered(w.source, poll_interval=0)),
        "poll_interval",
    ),
    Case(
        "events.response_submitted.poll_nan",
        lambda w: first_event(events.watch_response_submitted(w.task, poll_interval=math.nan)),
        "poll_interval",
    ),
    # ---------------------------------------------------------------- ogpu.agent
    Case(
        "agent.attempt.payment_negative",
        lambda w: agent.attempt(w.task, GOOD, -1, w.other_key),
        "payment",
    ),
    Case(
        "agent.attempt.payment_float",
        lambda w: agent.attempt(w.task, GOOD, 0.5, w.other_key),
        "payment",
    ),  # type: ignore[arg-type]
    Case(
        "agent.register.env_zero",
        lambda w: agent.register_to(w.source, GOOD, 0, w.other_key),
        "env",
    ),
    Case(
        "agent.register.env_str",
        lambda w: agent.register_to(w.source, GOOD, "cpu", w.other_key),
        "env",
    ),  # type: ignore[arg-type]
    Case(
        "agent.register.provider_bad_checksum",
        lambda w: agent.register_to(w.source, BAD_CHECKSUM, 1, w.other_key),
        "checksum",
    ),
    Case("agent.unregister.no_key", lambda w: agent.unregister_from(w.source, GOOD, "0xzz"), "key"),
]


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.pending)] if case.pending else []
    return pytest.param(case, id=case.id, marks=marks)


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)
    # every distribution's entry points are covered
    prefixes = {c.id.split(".")[0] for c in CASES}
    assert {"ipfs", "chain", "protocol", "client", "events", "agent", "chain_url"} <= prefixes


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_a_typed_error_with_no_side_effect(world: World, case: Case) -> None:
    world.devnet.ipfs.faults.reset()
    ogpu.ipfs.clear_cache()
    if case.setup is not None:
        case.setup(world)
    probe = Probe(world)
    try:
        with pytest.raises(Exception) as info:
            case.call(world)
    finally:
        world.devnet.ipfs.faults.reset()
        armed = world.extra.pop("redirect_armed", False)
    error = info.value
    assert isinstance(error, case.error), f"{type(error).__name__}: {error}"
    message = str(error)
    assert len(message) >= 10, f"unclear message: {message!r}"
    assert case.needle.lower() in message.lower(), message
    # typed errors survive a trip through pickle (worker pools, multiprocessing)
    assert type(pickle.loads(pickle.dumps(error))) is type(error)
    if armed:
        after = probe.take()
        gets = sum(n for k, n in after.pinning.items() if k.startswith("GET /ipfs/"))
        gets_before = sum(n for k, n in probe.before.pinning.items() if k.startswith("GET /ipfs/"))
        assert gets - gets_before == 1, "the redirect was retried against the gateway"
        assert after.canary == probe.before.canary, "the redirect reached the internal host"
        assert after.block == probe.before.block and after.nonces == probe.before.nonces
    else:
        probe.assert_untouched()


def test_a_payload_99000_deep_is_refused_not_a_crash(world: World) -> None:
    """In a subprocess: today the JSON encoder overflows the C stack (the chain libraries
    raise the recursion limit) and the process dies, so it must not run in the test process."""
    import subprocess
    import sys

    code = (
        "import sys, ogpu.ipfs\n"
        "sys.setrecursionlimit(200_000)\n"
        "node = {}\n"
        "for _ in range(99_000): node = {'a': node}\n"
        "try:\n"
        f"    ogpu.ipfs.publish_to_ipfs(node, publish_url={world.devnet.ipfs.publish_url!r})\n"
        "except ogpu.ipfs.OGPUError as e:\n"
        "    print('typed', type(e).__name__)\n"
    )
    probe = Probe(world)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"the process died ({result.returncode})"
    assert result.stdout.startswith("typed"), result.stdout + result.stderr[-500:]
    probe.assert_untouched()
