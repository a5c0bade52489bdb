"""``web3()`` and ``manifest()``: one implementation for the py-evm ``Devnet`` and
``HardhatDevnet`` (``ogpu_devnet._devnet._NodeAccess``), each with its own "not running" text
and Hardhat's manifest naming its backend. No node is started here."""

from __future__ import annotations

import pytest
from ogpu_devnet import Devnet
from ogpu_devnet._devnet import DevnetNotRunningError
from ogpu_devnet._hardhat import HardhatDevnet


def test_both_backends_share_web3_and_manifest() -> None:
    assert HardhatDevnet.web3 is Devnet.web3
    assert HardhatDevnet.manifest is Devnet.manifest


@pytest.mark.parametrize(
    ("net", "text"),
    [(Devnet(), "the devnet is not running"), (HardhatDevnet(), "the Hardhat devnet is not")],
)
def test_a_stopped_network_says_so(net: object, text: str) -> None:
    with pytest.raises(DevnetNotRunningError, match=text):
        net.manifest()  # type: ignore[attr-defined]
    with pytest.raises(DevnetNotRunningError, match=text):
        net.web3()  # type: ignore[attr-defined]


def test_the_manifest_of_the_session_devnet_has_no_backend_key(devnet: Devnet) -> None:
    manifest = devnet.manifest()
    assert "backend" not in manifest
    assert manifest["rpc_url"] == devnet.rpc_url
    assert manifest["accounts"][0]["address"] == devnet.accounts[0].address
