"""Typed errors (pickling, messages, hierarchy), the public surface and import hygiene."""

from __future__ import annotations

import pickle
import subprocess
import sys

import ogpu.ipfs
import pytest
from ogpu.ipfs import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSError,
    IPFSFetchError,
    IPFSGatewayError,
    IPFSIntegrityError,
    IPFSTimeoutError,
    IPFSTooLargeError,
    OGPUError,
)

URL = "https://cipfs.ogpuscan.io/ipfs/QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"

ERRORS = [
    IPFSFetchError(URL, "connection refused"),
    IPFSTimeoutError(URL, "timed out after 3s"),
    IPFSTooLargeError(URL, "too big", limit=10),
    IPFSGatewayError(URL, 503, reason="busy", retry_after=2.0),
    IPFSGatewayError(URL, 404),
    IPFSIntegrityError(URL, "QmA", "QmB", "mismatch"),
    IPFSAddressError("nope", "not a CID"),
    IPFSConfigError("bad timeout"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle(error: OGPUError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone.__dict__ == error.__dict__
    assert isinstance(clone, IPFSError) and isinstance(clone, OGPUError)


def test_messages_name_the_url_and_carry_fields() -> None:
    for error in ERRORS[:6]:
        assert URL in str(error)
    fetch = IPFSFetchError(URL, "boom")
    assert (fetch.url, fetch.reason) == (URL, "boom")
    gateway = IPFSGatewayError(gateway=URL, status_code=502)
    assert (gateway.gateway, gateway.status_code) == (URL, 502)
    assert "502" in str(gateway)


def test_hierarchy() -> None:
    assert issubclass(IPFSIntegrityError, IPFSError)
    assert issubclass(IPFSAddressError, ValueError)
    assert issubclass(IPFSConfigError, ValueError)
    assert issubclass(IPFSTimeoutError, IPFSFetchError)
    assert issubclass(IPFSTimeoutError, TimeoutError)
    assert issubclass(IPFSError, OGPUError) and issubclass(OGPUError, Exception)


def test_public_surface() -> None:
    assert ogpu.ipfs.__all__ == sorted(ogpu.ipfs.__all__)
    assert ogpu.ipfs.__doc__
    for name in ogpu.ipfs.__all__:
        assert hasattr(ogpu.ipfs, name), name
    required = {
        "publish_to_ipfs", "publish_bytes", "publish_file", "fetch_ipfs_json",
        "fetch_ipfs_bytes", "fetch_many", "compute_cid", "parse_ipfs_url", "IPFSSettings",
        "configure", "set_verbose", "OGPUError", "IPFSError", "IPFSFetchError",
        "IPFSGatewayError", "IPFSIntegrityError",
    }  # fmt: skip
    assert required <= set(ogpu.ipfs.__all__)
    assert not any(name.startswith("submit") for name in dir(ogpu.ipfs))


def test_import_is_light() -> None:
    code = (
        "import sys, ogpu.ipfs\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('web3', 'pydantic', 'eth_utils', 'eth_abi', 'eth_account', 'eth_typing', "
        "'concurrent', 'requests', 'mimetypes')]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_set_verbose_and_env(capfd: pytest.CaptureFixture[str]) -> None:
    import logging

    ogpu.ipfs.set_verbose()
    try:
        logging.getLogger("ogpu.ipfs").debug("hello from the test")
        assert "hello from the test" in capfd.readouterr().err
    finally:
        ogpu.ipfs.set_verbose(False)
    logging.getLogger("ogpu.ipfs").warning("silent")
    assert "silent" not in capfd.readouterr().err
    code = "import logging, ogpu.ipfs; logging.getLogger('ogpu.ipfs').debug('verbose-on')"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "OGPU_VERBOSE": "1"},
        check=True,
    )
    assert "verbose-on" in out.stderr
