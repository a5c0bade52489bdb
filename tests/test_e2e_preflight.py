"""publish_task refuses, before uploading anything, what the chain would reject; and a
client's flow works when the pinning service answers CIDs we do not compute."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from ogpu.client import publish_source, publish_task
from ogpu.ipfs import compute_cid, fetch_ipfs_json, parse_ipfs_url
from ogpu.protocol import vault
from ogpu.types import (
    ImageEnvironments,
    InsufficientBalanceError,
    OGPUError,
    SourceInactiveError,
    SourceNotFoundError,
    TaskExpiredError,
    TaskInput,
    ValidationError,
)
from ogpu_devnet.testing import FaultProxy


def _state(net: Any) -> tuple[int, int, int]:
    """(uploads received by the pinning service, the client's nonce, the chain's height)."""
    return (
        net.devnet.ipfs.count("/file/create"),
        int(net.w3.eth.get_transaction_count(net.client)),
        int(net.w3.eth.block_number),
    )


def _refused(net: Any, info: Any, error: type[OGPUError]) -> OGPUError:
    before = _state(net)
    with pytest.raises(error) as err:
        publish_task(info, net.client_key)
    assert _state(net) == before  # nothing uploaded, nothing sent, nothing mined
    return err.value


def test_expiry_beyond_the_sources_maximum_is_refused_before_upload(net: Any) -> None:
    source = net.publish_source()  # maxExpiryDuration 3600
    net.fund_client()
    err = _refused(net, net.task_info(source, {"t": 1}, expires_in=3600 + 120), ValidationError)
    assert "maxExpiryDuration" in str(err)
    publish_task(net.task_info(source, {"t": 1}, expires_in=3000), net.client_key)  # fine


def test_payment_below_the_sources_minimum_is_refused(net: Any) -> None:
    source = net.publish_source()  # minPayment 10**15
    net.fund_client()
    err = _refused(net, net.task_info(source, {"t": 1}, payment=10**15 - 1), ValidationError)
    assert "minPayment" in str(err)


def test_payment_above_the_publishers_vault_balance_is_refused(net: Any) -> None:
    source = net.publish_source()
    net.fund_client(10**15)
    err = _refused(net, net.task_info(source, {"t": 1}, payment=10**16), InsufficientBalanceError)
    assert isinstance(err, InsufficientBalanceError)
    assert err.required == 10**16 and err.available == vault.get_balance_of(net.client)
    assert err.account == net.client


def test_a_source_address_without_a_contract_is_refused(net: Any) -> None:
    net.fund_client()
    info = net.task_info(net.agent, {"t": 1})  # an account, no code
    assert _refused(net, info, SourceNotFoundError)


def test_a_contract_that_is_not_a_source_is_refused(net: Any) -> None:
    from ogpu.chain import ChainConfig

    net.fund_client()
    info = net.task_info(ChainConfig.get_contract_address("VAULT"), {"t": 1})
    _refused(net, info, SourceNotFoundError)


def test_an_inactive_source_is_refused(net: Any) -> None:
    from ogpu.client import inactivate_source

    source = net.publish_source()
    net.fund_client()
    inactivate_source(source, net.client_key)
    _refused(net, net.task_info(source, {"t": 1}), SourceInactiveError)


def test_expired_is_still_refused_first_time_by_the_same_read(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    _refused(net, net.task_info(source, {"t": 1}, expires_in=0), TaskExpiredError)


@pytest.mark.parametrize(
    "data",
    [{"x": math.nan}, {"x": [math.inf]}, "deep"],
    ids=["nan", "infinity", "1500-deep"],
)
def test_task_configs_that_cannot_be_read_back_are_refused(net: Any, data: Any) -> None:
    if data == "deep":
        data = {}
        for _ in range(1_500):
            data = {"a": data}
    source = net.publish_source()
    net.fund_client()
    err = _refused(net, net.task_info(source, data), ValidationError)
    assert "info.config" in str(err)


def test_the_checks_cost_one_round_trip(net: Any) -> None:
    """The pre-upload read is one batched JSON-RPC request (counted at a proxy)."""
    from ogpu.chain import ChainConfig, clear_all_nonce_caches

    source = net.publish_source()
    net.fund_client(10**15)
    info = net.task_info(source, {"t": 1}, payment=10**16)
    proxy = FaultProxy(net.devnet.rpc_url)
    ChainConfig.configure(net.chain, rpc_url=proxy.url)
    try:
        with pytest.raises(InsufficientBalanceError):
            publish_task(info, net.client_key)
    finally:
        ChainConfig.configure(net.chain, rpc_url=net.devnet.rpc_url)
        clear_all_nonce_caches()
        proxy.close()
    assert proxy.count == 1


def test_total_timeout_none_means_no_bound(net: Any) -> None:
    # Infinity is refused naming total_timeout (tests/hostile); None is the way to say "no bound".
    source = net.publish_source()
    net.fund_client()
    task = publish_task(net.task_info(source, {"t": 1}), net.client_key, total_timeout=None)
    assert task.get_metadata()["data"] == {"t": 1}


@pytest.mark.parametrize("value", [math.inf, math.nan], ids=["inf", "nan"])
def test_ipfs_timeout_must_be_finite_and_is_named(net: Any, value: float) -> None:
    with pytest.raises(ValidationError, match="ipfs_timeout"):
        publish_task(net.task_info(net.agent, {"t": 1}), net.client_key, ipfs_timeout=value)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/docker-compose.yml",
        "data:text/yaml,services: {}",
        "javascript:alert(1)",
        "gopher://example.org/compose",
        "https://",
        "docker-compose.yml",
    ],
)
def test_compose_urls_that_are_not_http_or_ipfs_are_refused(net: Any, url: str) -> None:
    info = replace(net.source_info(), imageEnvs=ImageEnvironments(cpu=url))
    before = _state(net)
    with pytest.raises(ValidationError, match=r"imageEnvs\.cpu"):
        publish_source(info, net.client_key)
    assert _state(net) == before


def test_client_flow_with_a_pinning_service_chunking_otherwise(net: Any) -> None:
    """publish_source + publish_task and reading both back, when the service's CIDs are
    CIDv1 with raw leaves and 16-byte chunks (never what compute_cid gives)."""
    pinning = net.devnet.ipfs
    pinning.faults.other_chunking(16, raw_leaves=True, cid_version=1)
    try:
        source = net.publish_source()
        net.fund_client()
        data = {"text": "the devnet chunks otherwise today"}
        task = publish_task(net.task_info(source, data), net.client_key)
    finally:
        pinning.faults.reset()
    config_url = task.get_params().config
    cid = parse_ipfs_url(config_url).cid
    assert cid.startswith("bafy")
    doc = task.get_metadata()
    assert doc == {"function_name": "analyze", "data": data}
    assert compute_cid(__import__("json").dumps(doc).encode()) != cid
    assert fetch_ipfs_json(config_url, verify=True, cache=False) == doc
    assert source.get_metadata()["name"] == "sentiment"


def test_task_input_is_still_accepted_with_plain_data(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    info = replace(net.task_info(source, None), config=TaskInput(function_name="f", data=[1, 2]))
    task = publish_task(info, net.client_key)
    assert task.get_metadata()["data"] == [1, 2]
