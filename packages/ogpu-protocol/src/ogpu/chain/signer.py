"""Signer resolution: a hex private key, an eth-account ``LocalAccount``, or the role's env var.

Keys never appear in messages, reprs or tracebacks (errors are raised ``from None``).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Union, cast

from ogpu.types.enums import Role
from ogpu.types.errors import InvalidSignerError, MissingSignerError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["Signer", "resolve_signer"]

Signer = Union[str, "LocalAccount"]

_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _from_hex(key: str, origin: str) -> LocalAccount:
    text = key.strip()
    if not _HEX64.match(text):
        raise InvalidSignerError(f"{origin} is not a 32-byte hex private key")
    number = int(text[2:] if text.startswith("0x") else text, 16)
    if not 0 < number < _SECP256K1_N:
        raise InvalidSignerError(f"{origin} is outside the secp256k1 key range")
    from eth_account import Account

    try:
        account: LocalAccount = Account.from_key(number.to_bytes(32, "big"))
        return account
    except Exception:  # never chain: the original may carry the key
        raise InvalidSignerError(f"{origin} could not be loaded as a private key") from None


def resolve_signer(signer: Any, role: Role | None = None) -> LocalAccount:
    """Normalise ``signer`` to a ``LocalAccount``.

    - a ``LocalAccount`` (or any object with ``address`` and ``sign_transaction``): returned;
    - a hex string (with or without ``0x``): loaded;
    - ``None``: the role's environment variable (``CLIENT_PRIVATE_KEY``, ...); with
      ``role=None`` (Vault writes) an explicit signer is required.

    Raises :class:`MissingSignerError` or :class:`InvalidSignerError`.
    """
    if signer is None:
        if role is None:
            raise MissingSignerError(None)
        value = os.environ.get(role.env_var, "").strip()
        if not value:
            raise MissingSignerError(role)
        return _from_hex(value, f"environment variable {role.env_var}")
    if isinstance(signer, str):
        return _from_hex(signer, "signer")
    if isinstance(signer, (bytes, bytearray)):
        if len(signer) != 32:
            raise InvalidSignerError("signer bytes must be exactly 32 bytes")
        return _from_hex(bytes(signer).hex(), "signer")
    if hasattr(signer, "address") and callable(getattr(signer, "sign_transaction", None)):
        return cast("LocalAccount", signer)
    raise InvalidSignerError(
        f"expected a hex private key or an eth_account LocalAccount, got {type(signer).__name__}"
    )
