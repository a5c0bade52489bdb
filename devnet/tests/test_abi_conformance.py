"""The devnet's compiled contracts expose exactly the deployed OpenGPU ABIs.

For both ABI folders (mainnet, testnet) and every contract, every function and event of the
deployed ABI must exist in the compiled ABI with the same selector/topic, inputs (types, names,
tuple components), outputs, indexed flags and state mutability. Extra functions (the stubs'
wiring and helper views) are allowed.

Not compared, by design:
- `error` entries: the deployed contracts are OpenZeppelin-based and declare custom errors
  (OwnableUnauthorizedAccount, AccessControlUnauthorizedAccount, ...). Vyper has no custom
  errors; the stubs revert with Error(string) reasons instead (protocol.md "Revert reasons").
  The test pins the exact set of such errors so a new one in the ABIs gets noticed.
- constructors: the stubs' constructors take the wiring the deployer passes.
- the name `value` of three boolean parameters (Terminal.setAgent,
  Terminal.setDefaultAgentDisabled, Vault.setWhitelist): `value` is reserved in Vyper, the
  stubs call it `_value`. Names do not affect encoding (selectors use types only).

The recompile test rebuilds the artifacts from devnet/contracts/*.vy and compares them with the
committed devnet/src/ogpu_devnet/contracts/_artifacts.json byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from ogpu_devnet.contracts import CONTRACT_NAMES, artifacts_meta, load_artifact

REPO = Path(__file__).resolve().parents[2]
ABI_ROOT = REPO / "packages/ogpu-protocol/src/ogpu/protocol/abis"
ARTIFACTS = REPO / "devnet/src/ogpu_devnet/contracts/_artifacts.json"
COMPILE_SCRIPT = REPO / "devnet/scripts/compile_contracts.py"

NETWORKS = ("mainnet", "testnet")
#: (contract, function, parameter) whose deployed name is a Vyper reserved word.
RENAMED_PARAMS = {
    ("Terminal", "setAgent", "value"): "_value",
    ("Terminal", "setDefaultAgentDisabled", "value"): "_value",
    ("Vault", "setWhitelist", "value"): "_value",
}
#: OpenZeppelin custom errors declared by the deployed ABIs (not reproducible in Vyper).
OZ_ERRORS = {
    "OwnableInvalidOwner(address)",
    "OwnableUnauthorizedAccount(address)",
    "AccessControlBadConfirmation()",
    "AccessControlUnauthorizedAccount(address,bytes32)",
}


def _reference(network: str, name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (ABI_ROOT / network / f"{name}Abi.json").read_text(encoding="utf-8")
    )
    return data


def _canonical(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_canonical(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_canonical(i) for i in entry['inputs'])})"


def _shape(item: dict[str, Any]) -> Any:
    """Type plus the names of tuple components, recursively (the top-level name excluded)."""
    if item["type"].startswith("tuple"):
        return (item["type"], [(c["name"], _shape(c)) for c in item["components"]])
    return item["type"]


def _by_signature(abi: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {_signature(e): e for e in abi if e["type"] == kind}


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_functions_match(network: str, name: str) -> None:
    ours = _by_signature(load_artifact(name)["abi"], "function")
    reference = _by_signature(_reference(network, name), "function")
    assert reference, f"{network}/{name} has no functions?"
    problems = []
    for sig, ref in reference.items():
        mine = ours.get(sig)
        if mine is None:
            problems.append(f"missing {sig} (selector 0x{keccak(text=sig)[:4].hex()})")
            continue
        if [_shape(o) for o in ref["outputs"]] != [_shape(o) for o in mine["outputs"]]:
            problems.append(f"{sig}: outputs {ref['outputs']} != {mine['outputs']}")
        if ref["stateMutability"] != mine["stateMutability"]:
            problems.append(
                f"{sig}: mutability {ref['stateMutability']} != {mine['stateMutability']}"
            )
        for ref_in, my_in in zip(ref["inputs"], mine["inputs"], strict=True):
            if _shape(ref_in) != _shape(my_in):
                problems.append(f"{sig}: input {ref_in['name']} components differ")
            expected = RENAMED_PARAMS.get((name, ref["name"], ref_in["name"]), ref_in["name"])
            if ref_in["name"] and expected != my_in["name"]:
                problems.append(f"{sig}: input name {ref_in['name']!r} != {my_in['name']!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_events_match(network: str, name: str) -> None:
    ours = _by_signature(load_artifact(name)["abi"], "event")
    reference = _by_signature(_reference(network, name), "event")
    problems = []
    for sig, ref in reference.items():
        mine = ours.get(sig)
        if mine is None:
            problems.append(f"missing event {sig} (topic 0x{keccak(text=sig).hex()})")
            continue
        if ref.get("anonymous", False) != mine.get("anonymous", False):
            problems.append(f"{sig}: anonymous differs")
        for ref_in, my_in in zip(ref["inputs"], mine["inputs"], strict=True):
            if ref_in["indexed"] != my_in["indexed"]:
                problems.append(f"{sig}: {ref_in['name']} indexed {ref_in['indexed']}")
            if ref_in["name"] != my_in["name"] or _shape(ref_in) != _shape(my_in):
                problems.append(f"{sig}: input {ref_in['name']!r} != {my_in['name']!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("network", NETWORKS)
def test_only_openzeppelin_errors_are_left_out(network: str) -> None:
    """The ABIs' custom errors are OpenZeppelin's, which Vyper cannot declare (see module doc)."""
    declared = {
        _signature(e)
        for name in CONTRACT_NAMES
        for e in _reference(network, name)
        if e["type"] == "error"
    }
    assert declared == OZ_ERRORS


def test_every_reference_entry_kind_is_known() -> None:
    kinds = {
        e["type"] for network in NETWORKS for n in CONTRACT_NAMES for e in _reference(network, n)
    }
    assert kinds == {"function", "event", "error", "constructor"}


def test_mainnet_vault_is_superset_of_testnet() -> None:
    main = {_signature(e) for e in _reference("mainnet", "Vault") if "name" in e}
    test = {_signature(e) for e in _reference("testnet", "Vault") if "name" in e}
    assert test < main
    assert main - test == {
        "cancelUnbonding()",
        "emergencyExit(address)",
        "withdrawSanctionOf(address)",
        "UnbondingCanceled(address,uint256)",
    }


def test_artifacts_header_says_how_they_were_made() -> None:
    meta = artifacts_meta()
    assert meta["compiler"].startswith("vyper 0.4.3")
    assert meta["evm_version"] == "cancun"
    assert meta["generated_by"] == "python devnet/scripts/compile_contracts.py"
    sources = sorted(p.name for p in (REPO / "devnet/contracts").glob("*.vy"))
    assert sorted(meta["sources_sha256"]) == sources
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert artifact["bytecode"].startswith("0x")
        assert ("blueprint_bytecode" in artifact) == (name in ("Source", "Task", "Response"))


def test_code_fits_eip170() -> None:
    """Hardhat and geth refuse contracts above 24576 bytes of runtime code; the initcode
    (constructor plus runtime) is an upper bound of it."""
    for name in CONTRACT_NAMES:
        size = len(bytes.fromhex(load_artifact(name)["bytecode"][2:]))
        assert size < 24576, f"{name}: {size} bytes"


def test_recompile_matches_committed_artifacts(tmp_path: Path) -> None:
    pytest.importorskip("vyper", reason="the Vyper compiler (extra 'compile') is not installed")
    out = tmp_path / "artifacts.json"
    subprocess.run(
        [sys.executable, str(COMPILE_SCRIPT), "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert out.read_bytes() == ARTIFACTS.read_bytes(), (
        "committed artifacts are stale: run python devnet/scripts/compile_contracts.py"
    )


def test_revert_reasons_and_addresses_are_documented() -> None:
    """devnet/docs/protocol.md lists every revert reason of the sources and the deterministic
    addresses of the default deployer (account 0 of the test mnemonic, nonce 0)."""
    import re

    from ogpu_devnet.contracts import predict_addresses

    doc = (REPO / "devnet/docs/protocol.md").read_text(encoding="utf-8")
    reasons = set()
    for source in (REPO / "devnet/contracts").glob("*.vy"):
        reasons |= set(re.findall(r'assert .*"([A-Z][A-Za-z]+)"$', source.read_text(), re.M))
    assert len(reasons) > 30
    missing = sorted(r for r in reasons if f"`{r}`" not in doc)
    assert not missing, f"undocumented revert reasons: {missing}"
    deployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    for key, address in predict_addresses(deployer, 0).items():
        assert f"| {key} | `{address}` |" in doc
