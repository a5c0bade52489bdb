"""Hostile input to ogpu.ipfs: deep and quadratic JSON, percent-encoded traversal,
payloads that could not be read back, non-IPFS URLs under the strict policy."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ogpu.ipfs import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSUntrustedURLError,
    _json,
    fetch_ipfs_bytes,
    parse_ipfs_url,
    publish_to_ipfs,
)
from ogpu.ipfs._errors import MalformedDataError
from ogpu_devnet.ipfs import MockPinningService

CID = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"


# -- linear-time JSON with the depth limit ------------------------------------------------------


def _reference_depth(body: bytes) -> int:
    """A plain character-by-character scanner: the depth json's parser would reach."""
    depth = best = 0
    in_string = escaped = False
    for byte in body:
        ch = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}"\\ab,:', max_size=60).map(str.encode))
def test_depth_matches_a_reference_scanner(body: bytes) -> None:
    assert _json.depth_of(body) == _reference_depth(body)


def test_depth_of_real_documents() -> None:
    assert _json.depth_of(b'{"a": [[1]], "b": "[[[[", "c": "\\"[["}') == 3
    assert _json.depth_of(b"1") == 0


@pytest.mark.parametrize(
    "body",
    [
        # quadratic for the old pre-scan: every escaped quote restarted a string scan
        b"[]" * 1100 + b'"' + b'\\"' * 40_000,
        b"[]" * 1100 + b'"' * 80_000,
        b"[" * 80_000,
        b"[" * 600 + b'"' + b'\\"' * 40_000 + b"]" * 600,
    ],
    ids=["escaped-quotes", "quotes", "open-brackets", "nested-unterminated"],
)
def test_hostile_bodies_are_rejected(body: bytes) -> None:
    with pytest.raises(ValueError):
        _json.loads(body)


def test_the_depth_limit_is_kept() -> None:
    limit = _json.MAX_DEPTH
    with pytest.raises(MalformedDataError, match="nested more than"):
        _json.loads(b"[" * (limit + 1) + b"]" * (limit + 1))
    brackets_in_strings = b'["' + b"[" * 5000 + b'"]'
    assert _json.loads(brackets_in_strings) == ["[" * 5000]


# -- percent-encoded traversal ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"ipfs://{CID}/..%2f..%2fadmin",
        f"ipfs://{CID}/a/..%2F..%2Fadmin",
        f"ipfs://{CID}/a%252f..%252f..%252fadmin",
        f"ipfs://{CID}/a%5c..%5cadmin",
        f"https://gw.example/ipfs/{CID}/%2e%2e%2fadmin",
        f"https://gw.example/ipfs/{CID}/x%00y",
        f"/ipfs/{CID}/..%2fadmin",
    ],
)
def test_percent_encoded_traversal_is_refused(url: str) -> None:
    with pytest.raises(IPFSAddressError):
        parse_ipfs_url(url)


def test_ordinary_encoded_names_still_parse() -> None:
    assert parse_ipfs_url(f"ipfs://{CID}/my%20file.json").path == "/my%20file.json"
    assert parse_ipfs_url(f"ipfs://{CID}/a..b/c.").path == "/a..b/c."


# -- payloads that could not be read back are refused before any upload -----------------------


def _nested(depth: int) -> dict[str, object]:
    doc: dict[str, object] = {}
    for _ in range(depth - 1):
        doc = {"a": doc}
    return doc


@pytest.mark.parametrize(
    "payload",
    [
        {"x": math.nan},
        {"x": math.inf},
        {"x": [1, -math.inf]},
        {math.nan: 1},
        _nested(1_500),
        {"a": [[[[_nested(_json.MAX_WRITE_DEPTH)]]]]},
        _nested(_json.MAX_WRITE_DEPTH + 1),
        {"x": object()},
    ],
    ids=["nan", "inf", "-inf-in-list", "nan-key", "1500-deep", "deep-mixed", "501-deep", "object"],
)
def test_unreadable_payloads_are_refused_before_upload(
    svc: MockPinningService, payload: dict[str, object]
) -> None:
    with pytest.raises(IPFSConfigError):
        publish_to_ipfs(payload)
    assert svc.count("/") == 0


def test_a_cycle_is_refused(svc: MockPinningService) -> None:
    doc: dict[str, object] = {}
    doc["self"] = doc
    with pytest.raises(IPFSConfigError):
        publish_to_ipfs(doc)
    assert svc.count("/") == 0


def test_the_deepest_readable_payload_round_trips(svc: MockPinningService) -> None:
    doc = _nested(_json.MAX_WRITE_DEPTH)
    url = publish_to_ipfs(doc)
    assert _json.loads(fetch_ipfs_bytes(url)) == doc


def test_99000_deep_does_not_crash_a_process_with_a_raised_recursion_limit(
    svc: MockPinningService,
) -> None:
    # The chain libraries raise the recursion limit; json.dumps then overflows the C stack.
    code = f"""
import sys
sys.setrecursionlimit(1_000_000)
from ogpu.ipfs import publish_to_ipfs, IPFSConfigError
doc = {{}}
for _ in range(99_000):
    doc = {{"a": doc}}
try:
    publish_to_ipfs(doc, publish_url={svc.publish_url!r})
except IPFSConfigError as exc:
    print("refused:", exc)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused: " in done.stdout and "nested more than" in done.stdout
    assert svc.count("/") == 0


def test_dumps_output_is_what_json_writes() -> None:
    doc = {"a": [1, 2.5, "x", None, True], "b": {"c": []}}
    assert _json.dumps(doc) == json.dumps(doc).encode()


# -- the strict policy refuses everything that is not IPFS content ------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://0x7f000001:9/x",
        "http://[::1]:9/x",
        "http://gw.example@127.0.0.1:9/x",
        "file:///etc/passwd",
        "data:application/json,{}",
        "gopher://127.0.0.1:9/_x",
        "javascript:alert(1)",
    ],
)
def test_strict_policy_refuses_non_ipfs_urls_without_a_request(
    svc: MockPinningService, url: str
) -> None:
    with pytest.raises(IPFSUntrustedURLError) as err:
        fetch_ipfs_bytes(url, url_policy="strict")
    assert "trust_chain_urls" in str(err.value)
    assert isinstance(err.value, IPFSAddressError)
    assert svc.count("/") == 0


def test_trust_chain_urls_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from ogpu.ipfs import configure, get_settings

    with pytest.raises(IPFSConfigError):
        configure(trust_chain_urls="yes")
    monkeypatch.setenv("OGPU_IPFS_TRUST_CHAIN_URLS", "1")
    assert get_settings().trust_chain_urls is True
