"""The ``ogpu`` subcommands, each over the SDK's public API; each returns its exit code."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ogpu.chain import ChainConfig, resolve_signer
from ogpu.cli._exit import EXIT_OK
from ogpu.cli._output import Progress, format_amount, plain, print_json, print_record, print_table
from ogpu.client import (
    Response,
    Source,
    Task,
    TaskClosedError,
    TaskInfo,
    TaskInput,
    WaitTimeoutError,
    cancel_task,
    confirm_response,
    publish_task,
)
from ogpu.protocol import Provider, chain_time, vault
from ogpu.types import ConfigError, DeliveryMethod, InvalidSignerError, Role, TaskStatus

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


def _signer(args: argparse.Namespace, role: Role | None) -> LocalAccount:
    """The signing account: ``--key-env VAR`` or the role's variable; checked before any I/O."""
    var = getattr(args, "key_env", None)
    if not var:
        return resolve_signer(None, role)
    value = os.environ.get(var, "").strip()
    if not value:
        raise ConfigError(f"environment variable {var} (named by --key-env) is not set")
    try:
        return resolve_signer(value)
    except InvalidSignerError:
        raise InvalidSignerError(
            f"environment variable {var} is not a 32-byte hex private key"
        ) from None


def _show(args: argparse.Namespace, title: str, snapshot: Any) -> int:
    data = plain(snapshot)
    if args.json:
        print_json(data)
    else:
        print_record(f"{title} {data['address']}", data)
    return EXIT_OK


# ------------------------------------------------------------------------------- reads


def source_show(args: argparse.Namespace) -> int:
    """``ogpu source show ADDR``."""
    return _show(args, "Source", Source.load(args.address).snapshot())


def task_show(args: argparse.Namespace) -> int:
    """``ogpu task show ADDR``."""
    return _show(args, "Task", Task.load(args.address).snapshot())


def response_show(args: argparse.Namespace) -> int:
    """``ogpu response show ADDR``."""
    return _show(args, "Response", Response.load(args.address).snapshot())


def provider_show(args: argparse.Namespace) -> int:
    """``ogpu provider show ADDR``."""
    return _show(args, "Provider", Provider.load(args.address).snapshot())


def task_responses(args: argparse.Namespace) -> int:
    """``ogpu task responses ADDR``: every response of a task (one block)."""
    snapshots = Task.load(args.address).get_response_snapshots()
    if args.json:
        print_json(snapshots)
        return EXIT_OK
    print_table(
        ("response", "status", "confirmed", "timestamp", "data"),
        [(s.address, s.status.name, "yes" if s.confirmed else "no", s.timestamp, s.data)
         for s in snapshots],
    )  # fmt: skip
    return EXIT_OK


def source_tasks(args: argparse.Namespace) -> int:
    """``ogpu source tasks ADDR [--status S] [--limit N]``: newest first."""
    source = Source.load(args.address)
    wanted = TaskStatus[args.status] if args.status else None
    found: list[Any] = []
    upper = source.get_task_count()
    page = max(args.limit, 50) if wanted is not None else args.limit
    while upper > 0 and len(found) < args.limit:
        lower = max(0, upper - page)
        for snap in reversed(source.get_task_snapshots(lower, upper)):
            if wanted is None or snap.status == wanted:
                found.append(snap)
                if len(found) == args.limit:
                    break
        upper = lower
    if args.json:
        print_json(found)
        return EXIT_OK
    print_table(
        ("task", "status", "payment", "expiry", "attempts"),
        [(t.address, t.status.name, t.payment, t.expiry_time, t.attempt_count) for t in found],
    )
    return EXIT_OK


def vault_balance(args: argparse.Namespace) -> int:
    """``ogpu vault balance ADDR``: liquid, locked, unbonding, frozen and earned amounts."""
    address = args.address
    data = {
        "address": address,
        "balance": vault.get_balance_of(address),
        "lockup": vault.get_lockup_of(address),
        "unbonding": vault.get_unbonding_of(address),
        "unbonding_timestamp": vault.get_unbonding_timestamp(address),
        "frozen_payment": vault.get_frozen_payment(address),
        "total_earnings": vault.get_total_earnings_of(address),
    }
    if args.json:
        print_json(data)
    else:
        print_record(f"Vault {address}", data)
    return EXIT_OK


# ------------------------------------------------------------------------------- writes


def _done(args: argparse.Namespace, what: str, tx_hash: str, **fields: Any) -> int:
    if args.json:
        print_json({**fields, "tx_hash": tx_hash})
    else:
        print(f"{what} (tx {tx_hash})")
    return EXIT_OK


def task_cancel(args: argparse.Namespace) -> int:
    """``ogpu task cancel ADDR``."""
    receipt = cancel_task(args.address, private_key=_signer(args, Role.CLIENT))  # type: ignore[arg-type]
    return _done(args, f"task {args.address} canceled", receipt.tx_hash, task=args.address)


def response_confirm(args: argparse.Namespace) -> int:
    """``ogpu response confirm ADDR``."""
    tx_hash = confirm_response(args.address, private_key=_signer(args, Role.CLIENT))  # type: ignore[arg-type]
    return _done(args, f"response {args.address} confirmed", tx_hash, response=args.address)


def vault_write(args: argparse.Namespace) -> int:
    """``ogpu vault deposit|withdraw|lock|unbond AMOUNT`` and ``cancel-unbonding|claim``."""
    account = _signer(args, None)
    action = args.command
    if action == "deposit":
        to = args.to or account.address
        receipt = vault.deposit(to, args.amount, signer=account)
    elif action == "withdraw":
        receipt = vault.withdraw(args.amount, signer=account)
    elif action == "lock":
        receipt = vault.lock(args.amount, signer=account)
    elif action == "unbond":
        receipt = vault.unbond(args.amount, signer=account)
    elif action == "cancel-unbonding":
        receipt = vault.cancel_unbonding(signer=account)
    else:
        receipt = vault.claim(signer=account)
    amount = f" {format_amount(args.amount)}" if args.amount is not None else ""
    return _done(
        args, f"vault {action}{amount} by {account.address}", receipt.tx_hash,
        action=action, account=account.address, amount=args.amount,
    )  # fmt: skip


def task_publish(args: argparse.Namespace) -> int:
    """``ogpu task publish ...``: upload the config, publish, and with ``--wait`` follow the
    task (published -> attempted -> responded -> confirmed) and print the payload."""
    account = _signer(args, Role.CLIENT)  # before any upload
    info = TaskInfo(
        source=args.source,
        config=TaskInput(function_name=args.function, data=args.data),
        expiryTime=chain_time() + round(args.expires_in),
        payment=args.payment,
    )
    task = publish_task(info, private_key=account)  # type: ignore[arg-type]
    if not args.wait:
        if args.json:
            print_json({"task": task.address})
        else:
            print(task.address)
        return EXIT_OK
    response = _follow(task, args.timeout, args.poll_interval)
    payload = response.fetch_data()
    if args.json:
        print_json({"task": task.address, "response": response.address, "payload": payload})
    else:
        print_json(payload)
    return EXIT_OK


_STAGES = {
    TaskStatus.NEW: "published",
    TaskStatus.ATTEMPTED: "attempted",
    TaskStatus.RESPONDED: "responded",
    TaskStatus.FINALIZED: "confirmed",
}


def _follow(task: Task, timeout: float, poll_interval: float) -> Response:
    """Poll the task's snapshot until it is answered; show each stage on stderr."""
    progress = Progress(f"task {task.address}")
    deadline = time.monotonic() + timeout
    try:
        while True:
            snap = task.snapshot()
            status = snap.status
            manual = snap.delivery_method == DeliveryMethod.MANUAL_CONFIRMATION
            if status in (TaskStatus.CANCELED, TaskStatus.EXPIRED):
                progress.update(status.name.lower())
                raise TaskClosedError(task.address, status.name)
            stage = _STAGES[TaskStatus(status)]
            if stage == "published" and snap.attempt_count:
                stage = "attempted"
            progress.update(stage)
            if status == TaskStatus.FINALIZED:
                confirmed = task.get_confirmed_response()
                if confirmed is not None:
                    return confirmed
            elif status == TaskStatus.RESPONDED and manual:
                responses = task.get_responses()
                if responses:
                    print(
                        f"ogpu: the source confirms manually; "
                        f"`ogpu response confirm {responses[0].address}` accepts this one",
                        file=sys.stderr,
                    )
                    return responses[0]
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(task.address, timeout, status.name)
            time.sleep(min(poll_interval, left))
    finally:
        progress.close()


# ------------------------------------------------------------------------------- IPFS


def response_fetch(args: argparse.Namespace) -> int:
    """``ogpu response fetch ADDR [--verify] [-o FILE]``: the payload's bytes, as stored.

    The URL comes from the chain, so it is not trusted as a host: IPFS URLs are fetched by
    CID from the chain's gateway (``url_policy="gateway"``).
    """
    from ogpu.ipfs import fetch_ipfs_bytes, fetch_to_file

    url = Response.load(args.address).get_data()
    options: dict[str, Any] = {
        "verify": True if args.verify else None,
        "gateway": ChainConfig.get_ipfs_gateway_url(),
        "url_policy": "gateway",
    }
    if args.output:  # like curl -o, an existing file is replaced (only on success)
        target = fetch_to_file(url, args.output, overwrite=True, **options)
        if args.json:
            size = target.stat().st_size
            print_json({"response": args.address, "url": url, "bytes": size, "file": args.output})
        return EXIT_OK
    data = fetch_ipfs_bytes(url, **options)
    if args.json:
        import json

        try:
            print_json({"response": args.address, "url": url, "payload": json.loads(data)})
        except ValueError:
            print_json({"response": args.address, "url": url, "hex": data.hex()})
        return EXIT_OK
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return EXIT_OK


# ------------------------------------------------------------------------------- events


def watch(args: argparse.Namespace) -> int:
    """``ogpu watch EVENT --source|--task|--response ADDR``: one line (or JSON line) per event."""
    import ogpu.events as ev

    factories = {
        "task-published": (ev.watch_task_published, args.source),
        "registered": (ev.watch_registered, args.source),
        "attempted": (ev.watch_attempted, args.task),
        "response-submitted": (ev.watch_response_submitted, args.task),
        "task-status": (ev.watch_task_status_changed, args.task),
        "response-status": (ev.watch_response_status_changed, args.response),
    }
    factory, target = factories[args.event]
    stream: AsyncIterator[Any] = factory(
        target, from_block=args.from_block, poll_interval=args.poll_interval
    )

    async def run() -> None:
        seen = 0
        try:
            async for event in stream:
                data = plain(event)
                if args.json:
                    print_json({"event": type(event).__name__, **data}, lines=True)
                else:
                    fields = " ".join(
                        f"{k}={v}" for k, v in data.items()
                        if k not in ("block_number", "transaction_hash", "log_index")
                    )  # fmt: skip
                    print(f"block {data['block_number']} {type(event).__name__} {fields} "
                          f"tx={data['transaction_hash']}", flush=True)  # fmt: skip
                seen += 1
                if args.count is not None and seen >= args.count:
                    break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(run())
    return EXIT_OK
