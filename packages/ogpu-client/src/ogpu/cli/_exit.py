"""Exit codes of the ``ogpu`` command and the one-line message of each typed error."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_NETWORK = 4
EXIT_CHAIN = 5
EXIT_TIMEOUT = 6
EXIT_INTERRUPTED = 130

#: Exit code -> what it means (also printed by ``ogpu --help``).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "any other error (e.g. content that does not match its CID)",
    EXIT_USAGE: "bad usage: unknown option, malformed address, amount, duration or JSON",
    EXIT_CONFIG: "configuration: missing or invalid key, unknown chain, unreadable manifest",
    EXIT_NETWORK: "network: the RPC node or the IPFS service failed or did not answer in time",
    EXIT_CHAIN: "the chain said no: not found, wrong state, not the owner, vault, revert",
    EXIT_TIMEOUT: "--wait ran out of time (the task may still be answered later)",
    EXIT_INTERRUPTED: "interrupted (Ctrl+C)",
}


def exit_code_for(exc: BaseException) -> int:
    """The exit code the ``ogpu`` command uses for ``exc`` (see :data:`EXIT_CODES`)."""
    from ogpu.client import WaitTimeoutError
    from ogpu.ipfs import (
        IPFSAddressError,
        IPFSConfigError,
        IPFSFetchError,
        IPFSGatewayError,
        IPFSUntrustedURLError,
    )
    from ogpu.types import (
        ConfigError,
        FeeTooHighError,
        GasError,
        NonceError,
        NotFoundError,
        OGPUError,
        PermissionError,
        PublishTimeoutError,
        StateError,
        TxError,
        TxRevertError,
        ValidationError,
        VaultError,
    )

    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, IPFSUntrustedURLError):
        return EXIT_FAILURE  # a URL read from the chain, refused: not the user's usage
    if isinstance(exc, FeeTooHighError):
        return EXIT_NETWORK  # the node suggested fees above the cap: nothing was signed
    if isinstance(exc, (ValidationError, IPFSAddressError, IPFSConfigError)):
        return EXIT_USAGE
    if isinstance(exc, ConfigError):
        return EXIT_CONFIG
    if isinstance(exc, WaitTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(exc, (NotFoundError, StateError, PermissionError, VaultError)):
        return EXIT_CHAIN
    if isinstance(exc, (TxRevertError, NonceError, GasError)):
        return EXIT_CHAIN
    if isinstance(exc, (TxError, PublishTimeoutError, IPFSFetchError, IPFSGatewayError)):
        return EXIT_NETWORK
    if isinstance(exc, OGPUError):
        return EXIT_FAILURE
    return EXIT_FAILURE


def hint_for(exc: BaseException) -> str:
    """What to do about ``exc``, in a few words (empty when the message says it all)."""
    from ogpu.client import TaskClosedError, WaitTimeoutError
    from ogpu.ipfs import IPFSFetchError, IPFSGatewayError, IPFSIntegrityError
    from ogpu.types import (
        ChainNotSupportedError,
        InsufficientBalanceError,
        InsufficientLockupError,
        InvalidSignerError,
        MissingSignerError,
        NotFoundError,
        PermissionError,
        StateError,
        TxError,
        TxRevertError,
        UnbondingPeriodNotElapsedError,
    )

    if isinstance(exc, MissingSignerError):
        return "set the role's variable (e.g. CLIENT_PRIVATE_KEY) or pass --key-env VAR"
    if isinstance(exc, InvalidSignerError):
        return "the variable must hold a 32-byte hex private key"
    if isinstance(exc, ChainNotSupportedError):
        return "use --chain mainnet|testnet|devnet or --manifest FILE"
    if isinstance(exc, NotFoundError):
        return "check the address and the chain (--chain, --rpc, --manifest)"
    if isinstance(exc, InsufficientBalanceError):
        return "deposit first: ogpu vault deposit AMOUNT --key-env VAR"
    if isinstance(exc, InsufficientLockupError):
        return "lock more: ogpu vault lock AMOUNT --key-env VAR"
    if isinstance(exc, UnbondingPeriodNotElapsedError):
        return "wait until the unbonding period has passed, then claim again"
    if isinstance(exc, PermissionError):
        return "sign with the key of the account that owns it (--key-env VAR)"
    if isinstance(exc, TaskClosedError):
        return "publish a new task"
    if isinstance(exc, StateError):
        return "check its state with `ogpu task show` / `ogpu response show`"
    if isinstance(exc, WaitTimeoutError):
        return "wait longer with --timeout, or look later with `ogpu task show`"
    if isinstance(exc, IPFSIntegrityError):
        return "the gateway served other bytes than the CID names; try another gateway"
    if isinstance(exc, (IPFSFetchError, IPFSGatewayError)):
        return "check that the IPFS gateway is reachable, then retry"
    if isinstance(exc, TxRevertError):
        return "the contract refused the transaction; check the arguments and the state"
    if isinstance(exc, TxError):
        return "check that the RPC node is reachable (--rpc URL), then retry"
    return ""


def public_name(exc: BaseException) -> str:
    """The name of the first public SDK error class ``exc`` is an instance of (what a user
    can catch), e.g. ``TxRpcError`` for the transport's private subclass."""
    import ogpu.client
    import ogpu.ipfs
    import ogpu.types

    exported = {*ogpu.types.__all__, *ogpu.ipfs.__all__, *ogpu.client.__all__}
    for cls in type(exc).__mro__:
        if cls.__name__ in exported:
            return cls.__name__
    return type(exc).__name__


def one_line(exc: BaseException) -> str:
    """``TypeName: message (hint)`` on one line (never more)."""
    message = " ".join(str(exc).split())
    hint = hint_for(exc)
    name = public_name(exc)
    text = f"{name}: {message}" if message else name
    return f"{text} ({hint})" if hint else text
