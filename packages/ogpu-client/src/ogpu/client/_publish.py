"""Client workflows: publish sources and tasks (uploading their documents), manage them."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth_account.signers.local import LocalAccount
from ogpu.chain import ChainConfig, check_amount, resolve_signer, to_checksum
from ogpu.client._checks import check_seconds
from ogpu.ipfs import IPFSTimeoutError, publish_to_ipfs
from ogpu.protocol import Response, Source, Task, controller, nexus, terminal
from ogpu.types import (
    DeliveryMethod,
    Environment,
    InsufficientBalanceError,
    InvalidArgumentTypeError,
    PublishTimeoutError,
    Receipt,
    Role,
    SourceInactiveError,
    SourceInfo,
    SourceMetadata,
    SourceNotFoundError,
    SourceParams,
    SourceStatus,
    TaskExpiredError,
    TaskInfo,
    TaskInput,
    TaskParams,
    TxReceiptTimeoutError,
    TxRpcError,
    ValidationError,
)

logger = logging.getLogger("ogpu.client")

SOURCE_METADATA_FILENAME = "imageMetadata.json"
TASK_CONFIG_FILENAME = "taskConfig.json"


# --------------------------------------------------------------------------- helpers


def _client(private_key: Any) -> LocalAccount:
    """The client's account: ``private_key`` or ``CLIENT_PRIVATE_KEY``."""
    return resolve_signer(private_key, Role.CLIENT)


def _publish_url() -> str | None:
    # The devnet (and registered chains) name their own pinning service; None: ogpu.ipfs default.
    return ChainConfig.get_ipfs_publish_url()


@contextmanager
def _uploaded(what: str, url: str, consequence: str) -> Iterator[None]:
    """Tell the user about a document already on IPFS when the chain step after it fails.

    The upload cannot be undone (it is content-addressed and harmless); the failure is logged
    at WARNING with the URL, and the URL is added to the exception as a note, so a retry can
    reuse it and nothing is silently left half-done.
    """
    try:
        yield
    except BaseException as exc:
        note = f"the {what} was already uploaded to {url}; {consequence}"
        logger.warning("%s (%s: %s)", note, type(exc).__name__, exc)
        add_note = getattr(exc, "add_note", None)  # Python >= 3.11
        if add_note is not None:
            add_note(note)
        raise


#: Schemes a provider can fetch a docker-compose file from. ``file:`` (a path on whoever
#: reads it), ``data:``, ``javascript:`` and the like are refused before anything is uploaded.
COMPOSE_URL_SCHEMES = ("https", "http", "ipfs")


def _check_compose_url(flag: Environment, url: str) -> None:
    from urllib.parse import urlsplit

    name = f"imageEnvs.{str(flag.name).lower()}"
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ValidationError(f"{name} is not a valid URL ({exc}): {url!r}") from None
    if parts.scheme.lower() not in COMPOSE_URL_SCHEMES or not parts.netloc:
        raise ValidationError(
            f"{name} must be an {'/'.join(COMPOSE_URL_SCHEMES)} URL of a docker-compose file, "
            f"got {url!r}"
        )


def _environment_mask(info: SourceInfo) -> int:
    envs = info.imageEnvs
    mask = 0
    for flag, url in ((Environment.CPU, envs.cpu), (Environment.NVIDIA, envs.nvidia),
                      (Environment.AMD, envs.amd)):  # fmt: skip
        if not isinstance(url, str):
            raise InvalidArgumentTypeError("imageEnvs", "docker-compose URLs as str", repr(url))
        if url:
            _check_compose_url(flag, url)
            mask |= int(flag)
    if mask == 0:
        raise ValidationError(
            "imageEnvs names no environment: give at least one docker-compose URL"
        )
    return mask


def _checked_source(info: Any) -> tuple[SourceMetadata, int, int]:
    """Validate ``info``; return its metadata document, environment mask and delivery method."""
    if not isinstance(info, SourceInfo):
        raise InvalidArgumentTypeError("info", "a SourceInfo", type(info).__name__)
    for name in ("name", "description", "logoUrl"):
        if not isinstance(getattr(info, name), str):
            raise InvalidArgumentTypeError(
                f"info.{name}", "a str", type(getattr(info, name)).__name__
            )
    for name in ("minPayment", "minAvailableLockup", "maxExpiryDuration"):
        check_amount(getattr(info, name), argument=f"info.{name}")
    delivery = info.deliveryMethod
    if not isinstance(delivery, DeliveryMethod):
        raise InvalidArgumentTypeError("info.deliveryMethod", "a DeliveryMethod", repr(delivery))
    metadata = SourceMetadata(
        cpu=info.imageEnvs.cpu,
        nvidia=info.imageEnvs.nvidia,
        amd=info.imageEnvs.amd,
        name=info.name,
        description=info.description,
        logoUrl=info.logoUrl,
    )
    return metadata, _environment_mask(info), int(delivery.value)


def _source_params(
    info: SourceInfo, client: str, url: str, mask: int, delivery: int
) -> SourceParams:
    return SourceParams(
        client=client,
        imageMetadataUrl=url,
        imageEnvironments=mask,
        minPayment=info.minPayment,
        minAvailableLockup=info.minAvailableLockup,
        maxExpiryDuration=info.maxExpiryDuration,
        privacyEnabled=False,
        optionalParamsUrl="",
        deliveryMethod=delivery,
        lastUpdateTime=int(time.time()),
    )


# --------------------------------------------------------------------------- sources


def publish_source(source_info: SourceInfo, private_key: str | None = None) -> Source:
    """Publish a source: upload its metadata, send ``Nexus.publishSource``, return the Source.

    The metadata document (``imageMetadata.json``: cpu, nvidia, amd, name, description,
    logoUrl) goes to IPFS; its URL and the environments that have a docker-compose URL go
    on chain. Signs with ``private_key`` or ``CLIENT_PRIVATE_KEY``.

    Example::

        source = publish_source(SourceInfo(
            name="sentiment", description="word counts and sentiment", logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://.../docker-compose.yml"),
            minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
        ))
    """
    metadata, mask, delivery = _checked_source(source_info)
    account = _client(private_key)
    url = publish_to_ipfs(
        metadata.to_dict(), filename=SOURCE_METADATA_FILENAME, publish_url=_publish_url()
    )
    logger.info("source metadata published at %s", url)
    params = _source_params(source_info, str(account.address), url, mask, delivery)
    with _uploaded("source metadata", url, "no source was confirmed on chain"):
        receipt = nexus.publish_source(params, signer=account)
        source = Source(nexus.extract_source_address(receipt))
    logger.info("source %s published (tx %s)", source.address, receipt.tx_hash)
    return source


def update_source(
    source: Source | str, new_info: SourceInfo, private_key: str | None = None
) -> Receipt:
    """Replace a source's parameters and metadata (``Nexus.updateSource``); only its client."""
    address = to_checksum(source, argument="source")
    metadata, mask, delivery = _checked_source(new_info)
    account = _client(private_key)
    client = Source(address).get_client()  # keep the owner when an agent signs
    url = publish_to_ipfs(
        metadata.to_dict(), filename=SOURCE_METADATA_FILENAME, publish_url=_publish_url()
    )
    params = _source_params(new_info, str(client), url, mask, delivery)
    with _uploaded(
        "source metadata", url, f"the update of source {address} was not confirmed on chain"
    ):
        receipt = nexus.update_source(address, params, signer=account)
    logger.info("source %s updated (tx %s)", address, receipt.tx_hash)
    return receipt


def inactivate_source(source: Source | str, private_key: str | None = None) -> Receipt:
    """Inactivate a source for good (``Nexus.inactivateSource``); only its client."""
    address = to_checksum(source, argument="source")
    receipt = nexus.inactivate_source(address, signer=_client(private_key))
    logger.info("source %s inactivated (tx %s)", address, receipt.tx_hash)
    return receipt


# --------------------------------------------------------------------------- tasks


def _checked_task(info: Any) -> tuple[str, dict[str, Any], int, int]:
    if not isinstance(info, TaskInfo):
        raise InvalidArgumentTypeError("info", "a TaskInfo", type(info).__name__)
    source = to_checksum(info.source, argument="info.source")
    if not isinstance(info.config, TaskInput):
        raise InvalidArgumentTypeError("info.config", "a TaskInput", type(info.config).__name__)
    if not isinstance(info.config.function_name, str) or not info.config.function_name:
        raise ValidationError("info.config.function_name must be a non-empty str")
    expiry = check_amount(info.expiryTime, argument="info.expiryTime")
    payment = check_amount(info.payment, argument="info.payment")
    config = info.config.to_dict()
    from ogpu.ipfs import safe_json

    try:
        # What providers could not read back (NaN/Infinity, nesting deeper than readers
        # accept, objects JSON cannot hold) is refused before any request.
        safe_json.dumps(config)
    except ValueError as exc:
        raise ValidationError(f"info.config cannot be published as JSON: {exc}") from None
    return source, config, expiry, payment


def _preflight_task(source: str, publisher: str, expiry: int, payment: int) -> None:
    """Refuse, before uploading, a task the chain would reject: one batched round trip
    reads the source's parameters and status, the publisher's Vault balance and the chain
    time (the latest block's timestamp).

    Raises:
        SourceNotFoundError: no source contract at ``source``.
        SourceInactiveError: the source no longer takes tasks.
        TaskExpiredError: ``expiry`` is not after the chain's time.
        ValidationError: ``expiry`` beyond the source's ``maxExpiryDuration``, or ``payment``
            below its ``minPayment``.
        InsufficientBalanceError: the publisher's liquid Vault balance is below ``payment``
            (the escrow is frozen from the publisher's balance).
    """
    from ogpu.protocol.reads import Call, CallFailure, read_many

    vault_address = ChainConfig.get_contract_address("VAULT")
    calls = [
        Call(source, "Source", "getSourceParams"),
        Call(source, "Source", "getStatus"),
        Call(vault_address, "Vault", "balanceOf", (publisher,)),
    ]
    values, extra = read_many(calls, extra=[("eth_getBlockByNumber", ["latest", False])])
    params_raw, status_raw, balance = values
    if isinstance(params_raw, CallFailure) or isinstance(status_raw, CallFailure):
        failure = params_raw if isinstance(params_raw, CallFailure) else status_raw
        assert isinstance(failure, CallFailure)
        if failure.kind == "rpc":
            raise failure.to_exception()
        raise SourceNotFoundError(source)  # no code, or a contract that is not a source
    if isinstance(balance, CallFailure):
        raise balance.to_exception()
    block = extra[0] if extra else None
    if not isinstance(block, dict) or not isinstance(block.get("timestamp"), str):
        raise TxRpcError(f"eth_getBlockByNumber('latest') answered {block!r}, not a block")
    now = int(block["timestamp"], 16)
    params = SourceParams.from_tuple(params_raw)
    if int(status_raw) != int(SourceStatus.ACTIVE):
        raise SourceInactiveError(source)
    if expiry <= now:
        raise TaskExpiredError("", expiry)
    if expiry > now + params.maxExpiryDuration:
        raise ValidationError(
            f"info.expiryTime {expiry} is {expiry - now} s after the chain's time {now}: "
            f"beyond source {source}'s maxExpiryDuration of {params.maxExpiryDuration} s"
        )
    if payment < params.minPayment:
        raise ValidationError(
            f"info.payment {payment} is below source {source}'s minPayment of {params.minPayment}"
        )
    if int(balance) < payment:
        raise InsufficientBalanceError(publisher, payment, int(balance))


def publish_task(
    task_info: TaskInfo,
    private_key: str | None = None,
    *,
    ipfs_timeout: float = 30,
    ipfs_retries: int = 2,
    ipfs_backoff: float = 0.5,
    receipt_timeout: float = 120,
    total_timeout: float | None = None,
) -> Task:
    """Publish a task: upload its config, send ``Controller.publishTask``, return the Task.

    The config document (``taskConfig.json``: ``{"function_name", "data", ...extra}``) goes
    to IPFS and its URL on chain; ``info.payment`` is frozen from the client's Vault balance.
    Before the upload, one batched read refuses what the chain would reject: no source
    contract (:class:`SourceNotFoundError`), an inactive source (:class:`SourceInactiveError`),
    an ``expiryTime`` not after the chain's time (:class:`TaskExpiredError`, checked again
    right before signing) or beyond the source's ``maxExpiryDuration``, a payment below its
    ``minPayment`` (:class:`ValidationError`), a payment above the publisher's liquid Vault
    balance (:class:`InsufficientBalanceError`); a config JSON cannot hold (NaN/Infinity,
    nesting over 500 levels) is refused before any request. ``total_timeout`` bounds the
    whole call (upload, sending, receipt): when it runs out, :class:`PublishTimeoutError`
    is raised (nothing is sent if it runs out before sending); ``None`` or ``math.inf``:
    no bound.

    Example::

        task = publish_task(TaskInfo(
            source=source.address,
            config=TaskInput(function_name="analyze", data={"text": "good day"}),
            expiryTime=now + 600, payment=10**16,
        ))
    """
    source, config, expiry, payment = _checked_task(task_info)
    check_seconds(ipfs_timeout, "ipfs_timeout", finite=True)
    check_seconds(receipt_timeout, "receipt_timeout")
    check_seconds(total_timeout, "total_timeout", allow_none=True)
    if total_timeout is not None and math.isinf(total_timeout):
        total_timeout = None  # no bound, as documented
    if isinstance(ipfs_retries, bool) or not isinstance(ipfs_retries, int) or ipfs_retries < 0:
        raise ValidationError(f"ipfs_retries must be a non-negative int, got {ipfs_retries!r}")
    if (
        isinstance(ipfs_backoff, bool)
        or not isinstance(ipfs_backoff, (int, float))
        or not math.isfinite(ipfs_backoff)
        or ipfs_backoff < 0
    ):
        raise ValidationError(f"ipfs_backoff must be a non-negative number, got {ipfs_backoff!r}")
    account = _client(private_key)

    started = time.monotonic()
    deadline = started + total_timeout if total_timeout is not None else None

    def remaining(stage: str) -> float | None:
        if deadline is None or total_timeout is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise PublishTimeoutError(total_timeout, stage)
        return left

    # One round trip: everything the chain would reject the task for, before the upload.
    _preflight_task(source, str(account.address), expiry, payment)
    budget = remaining("ipfs upload")
    try:
        url = publish_to_ipfs(
            config,
            filename=TASK_CONFIG_FILENAME,
            timeout=ipfs_timeout if budget is None else min(ipfs_timeout, budget),
            retries=ipfs_retries,
            backoff=ipfs_backoff,
            publish_url=_publish_url(),
            deadline=budget,
        )
    except IPFSTimeoutError as exc:
        if deadline is not None and total_timeout is not None and time.monotonic() >= deadline:
            raise PublishTimeoutError(total_timeout, "ipfs upload") from exc
        raise
    logger.info("task config published at %s", url)

    params = TaskParams(source=source, config=url, expiryTime=expiry, payment=payment)
    with _uploaded("task config", url, "no task was confirmed on chain"):
        budget = remaining("pre-transaction")
        try:
            receipt = controller.publish_task(
                params,
                signer=account,
                receipt_timeout=receipt_timeout if budget is None else min(receipt_timeout, budget),
                deadline=deadline,
                budget=total_timeout,
                check_expiry=True,  # again right before signing (no extra round trip)
            )
        except TxReceiptTimeoutError as exc:
            if deadline is not None and total_timeout is not None and time.monotonic() >= deadline:
                raise PublishTimeoutError(total_timeout, "receipt") from exc
            raise
        task = Task(controller.extract_task_address(receipt))
    logger.info("task %s published on source %s (tx %s)", task.address, source, receipt.tx_hash)
    return task


def cancel_task(task: Task | str, private_key: str | None = None) -> Receipt:
    """Cancel a task (``Controller.cancelTask``): allowed while NEW, or once expired.

    The frozen payment returns to the client's Vault balance.
    """
    address = to_checksum(task, argument="task")
    receipt = controller.cancel_task(address, signer=_client(private_key))
    logger.info("task %s canceled (tx %s)", address, receipt.tx_hash)
    return receipt


# --------------------------------------------------------------------------- responses, agents


def confirm_response(response_address: Response | str, private_key: str | None = None) -> str:
    """Confirm a response (``Controller.confirmResponse``); returns the transaction hash.

    The task becomes FINALIZED and its provider is paid.
    """
    address = to_checksum(response_address, argument="response_address")
    receipt = controller.confirm_response(address, signer=_client(private_key))
    logger.info("response %s confirmed (tx %s)", address, receipt.tx_hash)
    return receipt.tx_hash


def set_agent(agent_address: str, value: bool, private_key: str | None = None) -> str:
    """Authorise (``value=True``) or revoke an agent for the client; returns the tx hash."""
    address = to_checksum(agent_address, argument="agent_address")
    if not isinstance(value, bool):
        raise InvalidArgumentTypeError("value", "a bool", type(value).__name__)
    receipt = terminal.set_agent(address, value, signer=_client(private_key))
    logger.info("agent %s %s (tx %s)", address, "set" if value else "revoked", receipt.tx_hash)
    return receipt.tx_hash


def get_task_responses(
    task_address: Task | str, lower: int = 0, upper: int | None = None
) -> list[Response]:
    """The responses submitted for a task (``upper=None``: all of them)."""
    address = to_checksum(task_address, argument="task_address")
    return list(Task(address).get_responses(lower, upper))
