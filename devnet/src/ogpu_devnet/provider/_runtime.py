"""The provider runtime: machines that take tasks from sources, run a handler, answer on chain.

One :class:`ProviderRuntime` drives ``count`` providers that share one handler. Start-up, per
provider (each gets a fresh provider key and a fresh master key, funded from the network's
funder account):

1. ``Terminal.announceMaster(master)`` by the provider and ``Terminal.announceProvider``
   by the master (its value, ``stake`` wei, is credited to the provider's Vault lockup, as
   the published SDK documents);
2. ``Terminal.setBaseData`` by the provider (a source-runtime call the SDK does not expose);
3. ``Nexus.register(source, provider, env)`` for every source served.

Then one poller thread reads the Nexus logs (``SourcePublished``, ``TaskPublished``) and each
provider's worker thread, for every new task of a served source: attempts it, fetches the task
config, calls the handler with the config's ``data`` (in a thread, with a timeout), publishes the
output through ogpu.ipfs (unless the handler did and returned ``{"url", "result"}``) and
submits the response signed by the provider key. A handler that raises, hangs or returns
something that is not JSON is logged and the task skipped; the worker goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from ogpu.chain import ChainConfig, ChainLike, to_checksum
from ogpu.ipfs import DEFAULT_PUBLISH_URL, OGPUError, configure, get_settings, publish_to_ipfs
from ogpu.protocol import (
    Source,
    Task,
    chain_time,
    decode_event,
    event_topic,
    nexus,
    terminal,
    vault,
)
from ogpu.types import Environment, SourceStatus, TaskStatus

from ogpu_devnet.errors import DevnetError
from ogpu_devnet.provider._handler import (
    Handler,
    HandlerError,
    load_handler,
    run_task_handler,
)
from ogpu_devnet.provider._network import Network
from ogpu_devnet.provider._submit import SubmitError, set_provider_data, submit_response

logger = logging.getLogger("ogpu_devnet.provider")

ETHER = 10**18
_OPEN = frozenset({TaskStatus.NEW, TaskStatus.ATTEMPTED, TaskStatus.RESPONDED})


class _PinningDefault:
    """Point ogpu.ipfs's default publish endpoint at the devnet while runtimes run.

    A seed-shaped handler publishes its output itself with ``publish_to_ipfs(output,
    filename="response.json")``, i.e. to ogpu.ipfs's default endpoint. In a real source
    image that is OGPU's pinning service; on a devnet it must be the devnet's. While at least
    one runtime runs, and only if nobody configured an endpoint (argument, environment
    variable or :func:`ogpu.ipfs.configure`), the default is the network's; it is restored when
    the last runtime stops.
    """

    _lock = threading.Lock()
    _users = 0
    _url: str | None = None

    @classmethod
    def acquire(cls, publish_url: str) -> None:
        with cls._lock:
            if cls._users == 0 and get_settings().publish_url == DEFAULT_PUBLISH_URL:
                configure(publish_url=publish_url)
                cls._url = publish_url.rstrip("/")
                logger.info("handlers' publish_to_ipfs() goes to %s", cls._url)
            cls._users += 1

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users = max(0, cls._users - 1)
            if cls._users == 0 and cls._url is not None:
                if get_settings().publish_url == cls._url:
                    # Drop our override (an explicit default would hide the environment).
                    configure(reset="publish_url")
                cls._url = None


class ProviderRuntimeError(DevnetError):
    """The runtime could not start (funding, pairing, staking or registering failed)."""


@dataclass(frozen=True)
class ProviderIdentity:
    """One simulated machine: its provider account and the master that manages it."""

    provider: LocalAccount = field(repr=False)
    master: LocalAccount = field(repr=False)

    @property
    def address(self) -> str:
        """The provider's address."""
        return str(self.provider.address)

    @property
    def master_address(self) -> str:
        """The master's address."""
        return str(self.master.address)

    def __repr__(self) -> str:
        return f"ProviderIdentity(provider={self.address}, master={self.master_address})"


@dataclass(frozen=True)
class Outcome:
    """What one provider did with one task (``kind``: submitted, failed, skipped)."""

    kind: str
    provider: str
    task: str
    detail: str = ""
    response: str | None = None
    tx_hash: str | None = None
    attempt_tx: str | None = None


@dataclass
class RuntimeStats:
    """Counters of a runtime (all providers together)."""

    attempted: int = 0
    submitted: int = 0
    failed: int = 0
    skipped: int = 0


class _Worker:
    """One provider's queue and thread: tasks are handled one at a time, like one machine."""

    def __init__(self, runtime: ProviderRuntime, identity: ProviderIdentity) -> None:
        self.runtime = runtime
        self.identity = identity
        self.queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.seen: set[str] = set()
        self.registration_tried: set[str] = set()
        self.thread = threading.Thread(
            target=self._run, name=f"ogpu-provider-{identity.address[:10]}", daemon=True
        )

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None or self.runtime._stopping.is_set():
                return
            kind, address = item
            try:
                if kind == "register":
                    self.runtime._register(self.identity, address)
                else:
                    self.runtime._work(self.identity, address)
            except Exception:  # never let one task kill the machine
                logger.exception(
                    "provider %s: unexpected error on %s %s", self.identity.address, kind, address
                )


class ProviderRuntime:
    """Providers playing a source's docker runtime on a devnet (see the module docstring).

    Use :func:`start_providers` to build and start one; stop it with :meth:`stop` (or use it
    as a context manager). Attributes: ``identities``, ``stats``, ``outcomes`` (one
    :class:`Outcome` per provider and task handled), ``sources`` (served source addresses).
    """

    def __init__(
        self,
        network: Network,
        handler: Handler,
        *,
        count: int = 1,
        sources: Iterable[Source | str] | None = None,
        environment: Environment = Environment.CPU,
        stake: int | None = None,
        funding: int = 10 * ETHER,
        handler_timeout: float = 30.0,
        poll_interval: float = 0.1,
        suggested_payment: Callable[[Task], int] | None = None,
        accounts: Sequence[tuple[LocalAccount, LocalAccount]] | None = None,
    ) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ProviderRuntimeError(f"count must be an int >= 1, got {count!r}")
        for name, value in (("handler_timeout", handler_timeout), ("poll_interval", poll_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ProviderRuntimeError(f"{name} must be a positive number, got {value!r}")
        if not callable(handler):
            raise ProviderRuntimeError(f"handler must be callable, got {type(handler).__name__}")
        self.network = network
        self.handler = handler
        self.environment = Environment(environment)
        self.follow_all = sources is None
        self._initial_sources = [to_checksum(s, argument="source") for s in (sources or [])]
        self.stake = stake
        self.funding = funding
        self.handler_timeout = handler_timeout
        self.poll_interval = poll_interval
        self._suggested_payment = suggested_payment
        if accounts is None:
            accounts = [(Account.create(), Account.create()) for _ in range(count)]
        self.identities = [ProviderIdentity(p, m) for p, m in accounts]
        self.sources: set[str] = set()
        self.stats = RuntimeStats()
        self.outcomes: list[Outcome] = []
        self.chain: ChainLike | None = None
        self._workers: list[_Worker] = []
        self._poller: threading.Thread | None = None
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._last_block = -1
        self._pinning_acquired = False

    # ------------------------------------------------------------------ lifecycle

    def __repr__(self) -> str:
        state = "running" if self._poller is not None and self._poller.is_alive() else "stopped"
        return f"ProviderRuntime({len(self.identities)} providers, {state})"

    @property
    def providers(self) -> list[str]:
        """The providers' addresses."""
        return [i.address for i in self.identities]

    @property
    def masters(self) -> list[str]:
        """The masters' addresses."""
        return [i.master_address for i in self.identities]

    def start(self) -> ProviderRuntime:
        """Fund, pair, stake, register (synchronously), then start watching for tasks."""
        self.chain = self.network.configure()
        self._last_block = ChainConfig.get_web3(self.chain).eth.block_number
        stake = self._stake_amount()
        try:
            self._fund()
            for identity in self.identities:
                terminal.announce_master(
                    identity.master_address, signer=identity.provider, chain=self.chain
                )
                # announceProvider credits the stake to the provider's lockup (live-chain.md
                # row 17): eligible at once, no Vault.lock needed
                terminal.announce_provider(
                    identity.address, stake, signer=identity.master, chain=self.chain
                )
                set_provider_data(
                    self.chain, identity.provider, "base", '{"runtime": "ogpu-devnet"}'
                )
                logger.info(
                    "provider %s paired with master %s, %d wei locked",
                    identity.address,
                    identity.master_address,
                    stake,
                )
        except (OGPUError, SubmitError) as exc:
            raise ProviderRuntimeError(f"provider set-up failed: {exc}") from exc
        if not self._pinning_acquired:
            _PinningDefault.acquire(self.network.ipfs_publish_url)
            self._pinning_acquired = True
        self._workers = [_Worker(self, identity) for identity in self.identities]
        for worker in self._workers:
            worker.thread.start()
        self._poller = threading.Thread(target=self._poll, name="ogpu-provider-poller", daemon=True)
        self._poller.start()
        for source in self._initial_sources:  # registered (or declined) before start() returns
            self.add_source(source)
        if self.follow_all:  # the sources that exist already; the poller sees the new ones
            for source in nexus.get_sources(chain=self.chain):
                self.add_source(source, wait=False)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and let the workers finish their current task (idempotent)."""
        self._stopping.set()
        for worker in self._workers:
            worker.queue.put(None)
        deadline = time.monotonic() + timeout
        threads = [w.thread for w in self._workers]
        if self._poller is not None:
            threads.append(self._poller)
        for thread in threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._changed:
            self._changed.notify_all()
        if self._pinning_acquired:
            self._pinning_acquired = False
            _PinningDefault.release()

    def __enter__(self) -> ProviderRuntime:
        return self if self._poller is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ sources

    def add_source(self, source: Source | str, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Serve ``source`` too: register every provider to it and take its open tasks.

        With ``wait`` (default) return once every provider has registered (or declined: an
        inactive source, or one that does not offer the runtime's environment).
        """
        address = to_checksum(source, argument="source")
        self.sources.add(address)
        for worker in self._workers:
            worker.queue.put(("register", address))
        if wait:
            self.wait_until(lambda: self._registration_done(address), timeout=timeout)

    def _registration_done(self, source: str) -> bool:
        return all(source in w.registration_tried for w in self._workers)

    def _register(self, identity: ProviderIdentity, source_address: str) -> None:
        source = Source(source_address, self.chain)
        try:
            if source.get_status() != SourceStatus.ACTIVE:
                logger.info("source %s is inactive; not registering", source_address)
                return
            params = source.get_params()
            if not params.imageEnvironments & int(self.environment):
                logger.info(
                    "source %s does not offer %s; not registering",
                    source_address,
                    self.environment.name,
                )
                return
            if identity.address not in source.get_registrants():
                self._ensure_lockup(identity, params.minAvailableLockup)
                nexus.register(
                    source_address,
                    identity.address,
                    int(self.environment),
                    signer=identity.provider,
                    chain=self.chain,
                )
                logger.info("provider %s registered to source %s", identity.address, source_address)
            tasks = source.get_tasks()
        except OGPUError as exc:
            logger.warning(
                "provider %s could not register to %s: %s", identity.address, source_address, exc
            )
            return
        finally:
            worker = next(w for w in self._workers if w.identity is identity)
            with self._changed:
                worker.registration_tried.add(source_address)
                self._changed.notify_all()
        for task in tasks:  # tasks published before we joined
            self._work(identity, task.address)

    def _ensure_lockup(self, identity: ProviderIdentity, required: int) -> None:
        lockup = vault.get_lockup_of(identity.address, chain=self.chain)
        if lockup >= required:
            return
        missing = required - lockup
        vault.deposit(identity.address, missing, signer=identity.provider, chain=self.chain)
        vault.lock(missing, signer=identity.provider, chain=self.chain)

    # ------------------------------------------------------------------ tasks

    def _work(self, identity: ProviderIdentity, task_address: str) -> None:
        worker = next(w for w in self._workers if w.identity is identity)
        if task_address in worker.seen or self._stopping.is_set():
            return
        worker.seen.add(task_address)
        task = Task(task_address, self.chain)
        who = identity.address
        try:
            snap = task.snapshot()  # status, expiry and payment in one round trip
            if snap.status not in _OPEN:
                self._record(Outcome("skipped", who, task_address, f"task is {snap.status.name}"))
                return
            if snap.expiry_time <= chain_time(self.chain):
                self._record(Outcome("skipped", who, task_address, "task has expired"))
                return
            payment = snap.payment
            suggested = self._suggested_payment(task) if self._suggested_payment else payment
            attempt_receipt = nexus.attempt(
                task_address, who, suggested, signer=identity.provider, chain=self.chain
            )
            with self._changed:
                self.stats.attempted += 1
            logger.info("provider %s attempted task %s", who, task_address)
            config = task.get_metadata()
        except OGPUError as exc:
            self._record(Outcome("skipped", who, task_address, f"{type(exc).__name__}: {exc}"))
            return
        try:
            output = run_task_handler(self.handler, task_address, config, self.handler_timeout)
        except HandlerError as exc:
            logger.warning("provider %s: handler failed on task %s: %s", who, task_address, exc)
            self._record(Outcome("failed", who, task_address, str(exc)))
            return
        url = ""
        try:
            url = output.url or publish_to_ipfs(
                output.payload, filename="response.json",
                publish_url=self.network.ipfs_publish_url,
            )  # fmt: skip
            if task.get_status() not in _OPEN:
                self._record(Outcome("skipped", who, task_address, "task closed meanwhile"))
                return
            if task.is_already_submitted(keccak(text=url)):
                self._record(Outcome("skipped", who, task_address, "identical payload submitted"))
                return
            assert self.chain is not None
            done = submit_response(self.chain, identity.provider, task_address, url, payment)
        except (OGPUError, SubmitError) as exc:
            where = f" (payload already at {url})" if url else ""
            self._record(
                Outcome("skipped", who, task_address, f"{type(exc).__name__}: {exc}{where}")
            )
            return
        logger.info(
            "provider %s submitted response %s for task %s (tx %s)",
            who,
            done.response,
            task_address,
            done.tx_hash,
        )
        self._record(
            Outcome(
                "submitted",
                who,
                task_address,
                url,
                done.response,
                done.tx_hash,
                attempt_receipt.tx_hash,
            )
        )

    def _record(self, outcome: Outcome) -> None:
        if outcome.kind == "skipped":
            logger.info(
                "provider %s skipped task %s: %s", outcome.provider, outcome.task, outcome.detail
            )
        with self._changed:
            self.outcomes.append(outcome)
            setattr(self.stats, outcome.kind, getattr(self.stats, outcome.kind) + 1)
            self._changed.notify_all()

    # ------------------------------------------------------------------ watching

    def _poll(self) -> None:
        w3 = ChainConfig.get_web3(self.chain)
        nexus_address = w3.to_checksum_address(
            ChainConfig.get_contract_address("NEXUS", self.chain)
        )
        topics = [
            event_topic(name, chain=self.chain) for name in ("TaskPublished", "SourcePublished")
        ]
        while not self._stopping.wait(self.poll_interval):
            try:
                head = w3.eth.block_number
                if head < self._last_block:  # the chain was reverted under us
                    self._last_block = head
                if head == self._last_block:
                    continue
                logs = w3.eth.get_logs({
                    "address": nexus_address, "topics": [topics],
                    "fromBlock": self._last_block + 1, "toBlock": head,
                })  # fmt: skip
                self._last_block = head
            except Exception as exc:  # the node restarting, a blip: try again next tick
                logger.debug("log poll failed: %s", exc)
                continue
            for log in logs:
                try:
                    self._dispatch(log)
                except Exception:  # one odd log must not stop the watching
                    logger.exception("could not handle log %r", log)

    def _dispatch(self, log: Any) -> None:
        source_published = decode_event("SourcePublished", log, chain=self.chain)
        if source_published is not None:
            if self.follow_all:
                self.add_source(source_published["source"], wait=False)
            return
        published = decode_event("TaskPublished", log, chain=self.chain)
        if published is not None and published["source"] in self.sources:
            for worker in self._workers:
                worker.queue.put(("task", str(published["task"])))

    # ------------------------------------------------------------------ observing

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        """Block until ``predicate()`` holds (re-checked on every outcome and registration).

        Raises :class:`ProviderRuntimeError` after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProviderRuntimeError(f"condition not reached within {timeout} s")
                self._changed.wait(min(remaining, 0.25))

    def outcomes_for(self, task: Task | str) -> list[Outcome]:
        """The outcomes recorded for ``task`` so far."""
        address = to_checksum(task, argument="task")
        with self._changed:
            return [o for o in self.outcomes if o.task == address]

    def wait_for_outcomes(
        self, task: Task | str, count: int | None = None, timeout: float = 60.0
    ) -> list[Outcome]:
        """Wait until ``count`` providers (default: all) have handled ``task``; return them."""
        wanted = len(self.identities) if count is None else count
        self.wait_until(lambda: len(self.outcomes_for(task)) >= wanted, timeout=timeout)
        return self.outcomes_for(task)

    # ------------------------------------------------------------------ funding

    def _stake_amount(self) -> int:
        minimum = vault.get_min_lockup_per_source(chain=self.chain)
        if self.stake is not None:
            return max(self.stake, minimum)
        required = [
            Source(s, self.chain).get_params().minAvailableLockup for s in self._initial_sources
        ]
        return max([minimum, *required])

    def _fund(self) -> None:
        """Send every provider and master its gas money (plus the stake) from the funder."""
        w3 = ChainConfig.get_web3(self.chain)
        funder = Account.from_key(self.network.funder_key)
        stake = self._stake_amount()
        hashes = []
        from ogpu.chain import NonceManager

        with NonceManager.hold(funder.address, self.chain) as slot:
            nonce = slot.chain_pending()
            fees = {"maxFeePerGas": 2 * w3.eth.gas_price + 10**9, "maxPriorityFeePerGas": 10**9}
            assert self.chain is not None
            for identity in self.identities:
                for account, amount in (
                    (identity.provider, self.funding),
                    (identity.master, self.funding + stake),
                ):
                    tx = {
                        "to": account.address,
                        "value": amount,
                        "gas": 21_000,
                        "nonce": nonce,
                        "chainId": self.chain.value,
                        "type": 2,
                        **fees,
                    }
                    signed = funder.sign_transaction(tx)
                    hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))
                    nonce += 1
            slot.commit(nonce - 1)
        for tx_hash in hashes:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.02)
            if receipt["status"] != 1:
                raise ProviderRuntimeError(f"funding transaction {tx_hash.to_0x_hex()} failed")


HandlerSpec = str | Handler


def start_providers(
    target: Any,
    handler: HandlerSpec | Sequence[HandlerSpec],
    *,
    count: int = 1,
    sources: Iterable[Source | str] | None = None,
    environment: Environment = Environment.CPU,
    stake: int | None = None,
    handler_timeout: float = 30.0,
    poll_interval: float = 0.1,
    funder: int | str | None = None,
    suggested_payment: Callable[[Task], int] | None = None,
) -> ProviderGroup:
    """Start providers on a devnet and return a running handle (call ``stop()`` when done).

    Args:
        target: a running :class:`ogpu_devnet.Devnet`, its ``manifest()`` dict, or the path
            of a manifest JSON file (``ogpu-devnet serve --manifest``).
        handler: a callable ``handler(input_data)``, ``"MODULE:FUNCTION"``,
            ``"path/to/file.py:FUNCTION"``, or a list of those (``count`` providers each).
        count: providers per handler.
        sources: the sources to serve; None serves every active source, existing and new.
        environment: the environment the providers register with (one flag).
        stake: wei each provider locks in the Vault (default: the larger of the Vault's
            minimum and the served sources' ``minAvailableLockup``).
        handler_timeout: seconds a handler may run for one task before it is skipped.
        poll_interval: seconds between two looks at the chain.
        funder: index into the manifest's accounts (default: the last one) or a private key
            that pays the providers' gas and stake.
        suggested_payment: ``f(task) -> wei`` for ``Nexus.attempt`` (default: the payment).

    Example::

        with Devnet() as devnet:
            providers = start_providers(devnet, "my_source.handler:predict", count=2)
            ...
            providers.stop()
    """
    network = Network.from_target(target, funder)
    specs = [handler] if isinstance(handler, str) or callable(handler) else list(handler)
    runtimes = []
    try:
        for spec in specs:
            runtime = ProviderRuntime(
                network,
                load_handler(spec),
                count=count,
                sources=sources,
                environment=environment,
                stake=stake,
                handler_timeout=handler_timeout,
                poll_interval=poll_interval,
                suggested_payment=suggested_payment,
            )
            runtimes.append(runtime.start())
    except BaseException:
        for runtime in runtimes:
            runtime.stop()
        raise
    return ProviderGroup(runtimes)


class ProviderGroup:
    """The runtimes :func:`start_providers` started (one per handler)."""

    def __init__(self, runtimes: list[ProviderRuntime]) -> None:
        self.runtimes = runtimes

    def __repr__(self) -> str:
        return f"ProviderGroup({self.runtimes!r})"

    @property
    def runtime(self) -> ProviderRuntime:
        """The first (usually only) runtime."""
        return self.runtimes[0]

    @property
    def providers(self) -> list[str]:
        """Every provider address."""
        return [p for r in self.runtimes for p in r.providers]

    @property
    def masters(self) -> list[str]:
        """Every master address."""
        return [m for r in self.runtimes for m in r.masters]

    @property
    def outcomes(self) -> list[Outcome]:
        """Every outcome recorded so far."""
        return [o for r in self.runtimes for o in r.outcomes]

    def add_source(self, source: Source | str, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Serve ``source`` with every runtime."""
        for runtime in self.runtimes:
            runtime.add_source(source, wait=wait, timeout=timeout)

    def wait_for_outcomes(
        self, task: Task | str, count: int | None = None, timeout: float = 60.0
    ) -> list[Outcome]:
        """Wait until ``count`` providers (default: all of the first runtime) handled ``task``."""
        return self.runtime.wait_for_outcomes(task, count, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every runtime."""
        for runtime in self.runtimes:
            runtime.stop(timeout)

    def __enter__(self) -> ProviderGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
