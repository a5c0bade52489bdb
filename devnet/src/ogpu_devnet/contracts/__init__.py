"""The devnet's stub contracts: compiled artifacts and a deployer.

The OpenGPU contracts are closed source; these Vyper stubs (sources in
``devnet/contracts``) implement the documented protocol behind the deployed
ABIs. ``deploy_protocol`` installs them on any EVM JSON-RPC node through
plain web3.py, at addresses that depend only on the deployer and its nonce.
"""

from __future__ import annotations

from ogpu_devnet.contracts._artifacts import (
    CONTRACT_NAMES,
    UnknownContractError,
    artifacts_meta,
    load_artifact,
)
from ogpu_devnet.contracts._deploy import (
    DEFAULT_AGENT,
    PROTOCOL_KEYS,
    ROLES,
    DeployError,
    deploy_protocol,
    predict_addresses,
)

__all__ = [
    "CONTRACT_NAMES",
    "DEFAULT_AGENT",
    "PROTOCOL_KEYS",
    "ROLES",
    "DeployError",
    "UnknownContractError",
    "artifacts_meta",
    "deploy_protocol",
    "load_artifact",
    "predict_addresses",
]
