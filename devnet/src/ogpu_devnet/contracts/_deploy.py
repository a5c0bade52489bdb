"""Deploying the stub protocol onto any EVM JSON-RPC node with plain web3.py."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from ogpu_devnet.contracts._artifacts import load_artifact
from ogpu_devnet.errors import DevnetError

#: Keys of the dict deploy_protocol returns.
PROTOCOL_KEYS: tuple[str, ...] = ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT", "MANAGER")

#: The well-known scheduler agent ("The Order"); Terminal treats it as every
#: principal's default agent unless the principal disables it.
DEFAULT_AGENT: ChecksumAddress = to_checksum_address("0x306Dc3fF30254675B209D916475094401aCC4a1E")

#: Manager role ids (keccak256 of the role name; the admin role is zero).
ROLES: dict[str, bytes] = {
    "DEFAULT_ADMIN_ROLE": b"\x00" * 32,
    "CONTROLLER": keccak(text="CONTROLLER"),
    "PROVIDER": keccak(text="PROVIDER"),
    "JUDGE": keccak(text="JUDGE"),
    "TERMINAL": keccak(text="TERMINAL"),
}

# Deployment plan: (key, contract, deployed as blueprint). The order is fixed,
# so the addresses depend only on the deployer and its starting nonce.
_PLAN: tuple[tuple[str, str, bool], ...] = (
    ("MANAGER", "Manager", False),
    ("SOURCE_BLUEPRINT", "Source", True),
    ("TASK_BLUEPRINT", "Task", True),
    ("RESPONSE_BLUEPRINT", "Response", True),
    ("VAULT", "Vault", False),
    ("TERMINAL", "Terminal", False),
    ("NEXUS", "Nexus", False),
    ("CONTROLLER", "Controller", False),
)

_GRANT_ROLE = keccak(text="grantRole(bytes32,address)")[:4]
_RECEIPT_TIMEOUT = 120.0


class DeployError(DevnetError, RuntimeError):
    """Deploying the protocol failed (bad key, reverted or unexpected transaction)."""


def _rlp_create_address(sender: bytes, nonce: int) -> ChecksumAddress:
    """CREATE address: keccak256(rlp([sender, nonce]))[12:]."""
    if nonce == 0:
        nonce_rlp = b"\x80"
    elif nonce < 0x80:
        nonce_rlp = bytes([nonce])
    else:
        raw = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
        nonce_rlp = bytes([0x80 + len(raw)]) + raw
    payload = b"\x94" + sender + nonce_rlp
    return to_checksum_address(keccak(bytes([0xC0 + len(payload)]) + payload)[12:])


def predict_addresses(deployer: str, nonce: int = 0) -> dict[str, ChecksumAddress]:
    """Addresses deploy_protocol yields for ``deployer`` starting at ``nonce``.

    Returns the five protocol keys plus SOURCE_BLUEPRINT, TASK_BLUEPRINT and
    RESPONSE_BLUEPRINT.
    """
    if not Web3.is_address(deployer):
        raise DeployError(f"not an address: {deployer!r}")
    if nonce < 0:
        raise DeployError(f"nonce must be >= 0, got {nonce}")
    sender = bytes.fromhex(to_checksum_address(deployer)[2:])
    return {key: _rlp_create_address(sender, nonce + i) for i, (key, _, _) in enumerate(_PLAN)}


def _constructor_data(name: str, args: list[Any]) -> str:
    artifact = load_artifact(name)
    ctor = next((e for e in artifact["abi"] if e["type"] == "constructor"), None)
    types = [i["type"] for i in ctor["inputs"]] if ctor else []
    if len(types) != len(args):
        raise DeployError(f"{name} constructor takes {len(types)} arguments, got {len(args)}")
    encoded = abi_encode(types, args).hex() if types else ""
    bytecode: str = artifact["bytecode"]
    return bytecode + encoded


class _Sender:
    """Signs locally, sends raw transactions one by one, waits for receipts."""

    def __init__(self, w3: Web3, private_key: str | bytes) -> None:
        try:
            self._account = Account.from_key(private_key)
        except Exception:
            raise DeployError("invalid deployer private key") from None
        self.w3 = w3
        self.address: ChecksumAddress = self._account.address
        self.nonce: int = int(w3.eth.get_transaction_count(self.address, "pending"))
        self.chain_id = w3.eth.chain_id
        latest = w3.eth.get_block("latest")
        base_fee = latest.get("baseFeePerGas")
        self._fees: dict[str, int]
        if base_fee is None:
            self._fees = {"gasPrice": int(w3.eth.gas_price)}
        else:
            try:
                tip = int(w3.eth.max_priority_fee)
            except Exception:
                tip = 10**9
            self._fees = {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    def send(self, to: ChecksumAddress | None, data: str, what: str) -> Any:
        tx: dict[str, Any] = {"from": self.address, "data": data, "value": 0}
        if to is not None:
            tx["to"] = to
        try:
            gas = int(self.w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
        except Exception as exc:
            raise DeployError(f"{what}: gas estimation failed: {exc}") from None
        tx.pop("from")
        tx.update(self._fees, nonce=self.nonce, chainId=self.chain_id, gas=gas * 5 // 4 + 30_000)
        signed = self._account.sign_transaction(tx)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=_RECEIPT_TIMEOUT, poll_latency=0.05
            )
        except Exception as exc:
            raise DeployError(f"{what}: the node refused or lost the transaction: {exc}") from None
        if receipt["status"] != 1:
            raise DeployError(f"{what}: transaction {tx_hash.hex()} reverted")
        self.nonce += 1
        return receipt


def deploy_protocol(
    w3: Web3,
    deployer_private_key: str | bytes,
    *,
    unbonding_period: int = 60,
    min_lockup_per_source: int = 10**15,
) -> dict[str, ChecksumAddress]:
    """Deploy Manager, Vault, Terminal, Nexus, Controller (and the Source, Task
    and Response blueprints) and wire their roles and references.

    Works against any EVM JSON-RPC node (the devnet, anvil, Hardhat, geth
    --dev): transactions are signed locally and sent raw; EIP-1559 fees are
    used when the latest block has a base fee, legacy gas prices otherwise.
    Eleven transactions, always in the same order from the deployer's pending
    nonce, so a fresh chain yields the same addresses every time
    (see :func:`predict_addresses`).

    Args:
        w3: a connected Web3 instance.
        deployer_private_key: key of a funded account; it becomes the owner of
            Nexus, Controller and Terminal and DEFAULT_ADMIN_ROLE in Manager.
        unbonding_period: Vault.UNBONDING_PERIOD in seconds.
        min_lockup_per_source: Vault.MIN_LOCKUP_PER_SOURCE in wei.

    Returns:
        {"NEXUS", "CONTROLLER", "TERMINAL", "VAULT", "MANAGER"} -> checksum address.

    Raises:
        DeployError: invalid arguments or key, or a transaction failed.
    """
    for label, value in (
        ("unbonding_period", unbonding_period),
        ("min_lockup_per_source", min_lockup_per_source),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
            raise DeployError(f"{label} must be an integer in [0, 2**256), got {value!r}")
    sender = _Sender(w3, deployer_private_key)
    addr = predict_addresses(sender.address, sender.nonce)
    ctor_args: dict[str, list[Any]] = {
        "Manager": [],
        "Vault": [
            addr["MANAGER"],
            addr["NEXUS"],
            addr["TERMINAL"],
            unbonding_period,
            min_lockup_per_source,
        ],
        "Terminal": [addr["MANAGER"], addr["VAULT"], DEFAULT_AGENT],
        "Nexus": [
            addr["MANAGER"],
            addr["TERMINAL"],
            addr["VAULT"],
            addr["SOURCE_BLUEPRINT"],
            addr["RESPONSE_BLUEPRINT"],
        ],
        "Controller": [addr["NEXUS"], addr["TERMINAL"], addr["VAULT"], addr["TASK_BLUEPRINT"]],
    }
    for key, name, blueprint in _PLAN:
        if blueprint:
            data = load_artifact(name)["blueprint_bytecode"]
        else:
            data = _constructor_data(name, ctor_args[name])
        receipt = sender.send(None, data, f"deploying {name}")
        created = receipt.get("contractAddress")
        if created is None or to_checksum_address(created) != addr[key]:
            raise DeployError(
                f"deploying {name}: created {created}, expected {addr[key]} "
                "(another transaction from the deployer interleaved?)"
            )
    for role, account in (
        ("CONTROLLER", addr["NEXUS"]),
        ("CONTROLLER", addr["CONTROLLER"]),
        ("TERMINAL", addr["TERMINAL"]),
    ):
        data = (
            "0x" + (_GRANT_ROLE + abi_encode(["bytes32", "address"], [ROLES[role], account])).hex()
        )
        sender.send(addr["MANAGER"], data, f"granting {role} to {account}")
    return {key: addr[key] for key in PROTOCOL_KEYS}
