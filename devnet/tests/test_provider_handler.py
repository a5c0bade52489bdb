"""The provider runtime's handler plumbing: loading, guarding, shaping output."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from ogpu_devnet.demo import analyze_text
from ogpu_devnet.provider import (
    HandlerFailedError,
    HandlerLoadError,
    HandlerOutputError,
    HandlerTimeoutError,
    Network,
    NetworkConfigError,
    load_handler,
    run_handler,
    shape_output,
)


def test_load_handler_from_module_file_and_callable(tmp_path: Path) -> None:
    assert load_handler("ogpu_devnet.demo:analyze_text") is analyze_text
    assert load_handler(analyze_text) is analyze_text
    script = tmp_path / "my_source.py"
    script.write_text("def predict(input_data):\n    return {'echo': input_data}\n")
    predict = load_handler(f"{script}:predict")
    assert predict({"a": 1}) == {"echo": {"a": 1}}


@pytest.mark.parametrize(
    "spec",
    ["no_colon", "a:b:c", ":f", "ogpu_devnet.demo:", "no.such.module:f", "ogpu_devnet.demo:nope",
     "ogpu_devnet.demo:DEMO_TEXT"],
)  # fmt: skip
def test_load_handler_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(HandlerLoadError):
        load_handler(spec)


def test_run_handler_returns_output_and_wraps_non_dicts() -> None:
    assert run_handler(analyze_text, {"text": "good"}, 5).payload["sentiment"]["label"] == (
        "positive"
    )
    assert run_handler(lambda d: [1, 2], None, 5).payload == {"result": [1, 2]}
    assert run_handler(lambda d: "text", None, 5).payload == {"result": "text"}


def test_pre_published_output_keeps_its_url() -> None:
    out = shape_output({"url": "http://127.0.0.1/ipfs/Qm", "result": {"label": "cat"}})
    assert (out.url, out.payload) == ("http://127.0.0.1/ipfs/Qm", {"label": "cat"})
    with pytest.raises(HandlerOutputError):
        shape_output({"url": 7, "result": {}})


def test_run_handler_failures_are_typed() -> None:
    def boom(data: Any) -> Any:
        raise ZeroDivisionError("nope")

    with pytest.raises(HandlerFailedError, match="ZeroDivisionError"):
        run_handler(boom, {}, 5)
    with pytest.raises(HandlerOutputError):
        run_handler(lambda d: {"x": {1, 2}}, {}, 5)
    with pytest.raises(HandlerOutputError):
        run_handler(lambda d: {"x": float("nan")}, {}, 5)
    gate = threading.Event()
    with pytest.raises(HandlerTimeoutError):
        run_handler(lambda d: gate.wait(10), {}, 0.2)
    gate.set()


def test_analyze_text_is_a_real_analysis() -> None:
    out = analyze_text({"text": "Not bad. Not great either! The food was terrible.", "top": 2})
    assert out["words"] == 9
    assert out["sentences"] == 3
    assert out["sentiment"]["positive"] == ["not bad"]
    assert out["sentiment"]["negative"] == ["not great", "terrible"]
    assert out["sentiment"]["label"] == "negative"
    assert out["top_words"] == [["not", 2], ["bad", 1]]


def test_network_from_manifest_path_and_errors(tmp_path: Path) -> None:
    manifest = {
        "rpc_url": "http://127.0.0.1:1",
        "chain_id": 31071,
        "contracts": {"NEXUS": "0x" + "11" * 20},
        "ipfs_publish_url": "http://127.0.0.1:2/file/create",
        "ipfs_gateway_url": "http://127.0.0.1:2/ipfs",
        "accounts": [{"address": "0x" + "22" * 20, "private_key": "ab" * 32}],
    }
    path = tmp_path / "manifest.json"
    path.write_text(__import__("json").dumps(manifest))
    network = Network.from_target(str(path))
    assert network.rpc_url == "http://127.0.0.1:1" and network.chain_id == 31071
    assert "ab" * 32 not in repr(network)  # the funder key never shows
    with pytest.raises(NetworkConfigError):
        Network.from_target({"rpc_url": "x"})
    with pytest.raises(NetworkConfigError):
        Network.from_target(tmp_path / "missing.json")
    with pytest.raises(NetworkConfigError):
        Network.from_target(42)
