"""``ogpu-devnet demo``: the IPFS guide's whole flow, end to end, on an embedded devnet.

Starts a devnet (chain, JSON-RPC and pinning service on free loopback ports) and a provider
runtime in this process, then walks the seed's flow with :func:`analyze_text` as the source
handler: publish a source, publish a task, a provider attempts it and submits its response,
the response is confirmed, and the client fetches the payload and verifies it against its CID.
Every step prints its addresses, transaction hashes and timing. No setup, no network access.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from typing import Any

# A tiny sentiment lexicon: enough to give a real, input-dependent answer.
_POSITIVE = frozenset(
    [
        "good",
        "great",
        "excellent",
        "happy",
        "love",
        "loved",
        "lovely",
        "nice",
        "wonderful",
        "fast",
        "best",
        "fantastic",
        "amazing",
        "pleasant",
        "enjoy",
        "enjoyed",
        "helpful",
        "clean",
        "easy",
        "calm",
        "bright",
    ]
)
_NEGATIVE = frozenset(
    [
        "bad",
        "terrible",
        "awful",
        "sad",
        "hate",
        "hated",
        "slow",
        "worst",
        "poor",
        "broken",
        "ugly",
        "angry",
        "boring",
        "difficult",
        "hard",
        "noisy",
        "dirty",
        "painful",
        "late",
    ]
)
_NEGATIONS = frozenset({"not", "no", "never", "hardly", "isn't", "wasn't", "don't", "didn't"})
_WORD = re.compile(r"[a-z']+")

DEMO_TEXT = (
    "The new GPU cluster is fast and the setup was easy. Support was helpful, "
    "but the dashboard is slow and the docs are not great. Overall a good day."
)


def analyze_text(input_data: dict[str, Any]) -> dict[str, Any]:
    """Source handler: word statistics and lexicon sentiment of ``input_data["text"]``.

    Shaped like the IPFS guide's ``predict(input_data)``; a negation flips the next word.

    Example::

        >>> analyze_text({"text": "not bad, quite good"})["sentiment"]["label"]
        'positive'
    """
    text = str(input_data.get("text", ""))
    words = _WORD.findall(text.lower())
    counts = Counter(words)
    positive: list[str] = []
    negative: list[str] = []
    for i, word in enumerate(words):
        negated = i > 0 and words[i - 1] in _NEGATIONS
        if word in _POSITIVE:
            (negative if negated else positive).append(("not " if negated else "") + word)
        elif word in _NEGATIVE:
            (positive if negated else negative).append(("not " if negated else "") + word)
    score = (len(positive) - len(negative)) / max(1, len(positive) + len(negative))
    label = "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
    top = int(input_data.get("top", 5))
    return {
        "words": len(words),
        "unique_words": len(counts),
        "sentences": max(1, len([s for s in re.split(r"[.!?]+", text) if s.strip()])),
        "top_words": [[w, n] for w, n in counts.most_common(top)],
        "sentiment": {
            "label": label,
            "score": round(score, 3),
            "positive": positive,
            "negative": negative,
        },
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``demo``."""
    parser.add_argument("--text", default=DEMO_TEXT, help="the text the task asks to analyse")
    parser.add_argument(
        "--delivery",
        choices=("manual", "first"),
        default="manual",
        help="manual: the client confirms the response (default); first: first response wins",
    )
    parser.add_argument(
        "--providers", type=int, default=1, help="how many providers to run (default 1)"
    )


def _ogpu(wei: int) -> str:
    """``wei`` in OGPU (the chain's native token, 18 decimals), with the exact wei."""
    return f"{wei / 10**18:g} OGPU ({wei} wei)"


def _tx_of(event: str, from_block: int, **match: str) -> str:
    """The hash of the transaction that emitted Nexus ``event`` (args matching) since a block."""
    from ogpu.chain import ChainConfig
    from ogpu.protocol import decode_event, event_topic

    w3 = ChainConfig.get_web3()
    nexus = w3.to_checksum_address(ChainConfig.get_contract_address("NEXUS"))
    logs = w3.eth.get_logs(
        {"address": nexus, "topics": [event_topic(event)], "fromBlock": from_block}
    )
    for log in logs:
        fields = decode_event(event, log)
        if fields is not None and all(
            str(fields[k]).lower() == v.lower() for k, v in match.items()
        ):
            return "0x" + bytes(log["transactionHash"]).hex()
    return "(not found)"


def _shorten(text: str, limit: int = 72) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class _Steps:
    """Prints numbered steps with the time each took."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.number = 0

    def step(self, title: str, **details: Any) -> None:
        now = time.monotonic()
        self.number += 1
        print(f"\n[{self.number}] {title}  (+{(now - self.last) * 1000:.0f} ms)", flush=True)
        for key, value in details.items():
            print(f"      {key:<14} {value}", flush=True)
        self.last = now


def _event_log(source: str, task: str, response: str, statuses: int) -> dict[str, str]:
    """Replay the flow's Nexus events from block 0 with ogpu.events: name -> block and tx."""
    import asyncio

    import ogpu.events as events

    async def first(stream: Any, count: int = 1) -> list[Any]:
        got: list[Any] = []
        async for event in stream:
            got.append(event)
            if len(got) == count:
                break
        await stream.aclose()
        return got

    async def replay() -> dict[str, str]:
        kw: dict[str, Any] = {"from_block": 0, "poll_interval": 0.05}
        found = {
            "Registered": await first(events.watch_registered(source, **kw)),
            "TaskPublished": await first(events.watch_task_published(source, **kw)),
            "Attempted": await first(events.watch_attempted(task, **kw)),
            "ResponseSubmitted": await first(events.watch_response_submitted(task, **kw)),
            "ResponseStatus": await first(events.watch_response_status_changed(response, **kw)),
            "TaskStatus": await first(events.watch_task_status_changed(task, **kw), statuses),
        }
        rows = []
        for name, items in found.items():
            for item in items:
                status = getattr(item, "status", None)
                label = f"{name} -> {status.name}" if status is not None else name
                rows.append((item.block_number, item.log_index, label, item.transaction_hash))
        rows.sort()
        width = max(len(label) for _, _, label, _ in rows)
        return {
            f"{i + 1:>2}. block {block}": f"{label:<{width}}  tx {tx}"
            for i, (block, _, label, tx) in enumerate(rows)
        }

    return asyncio.run(asyncio.wait_for(replay(), 30))


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit code (0 when every step checked out)."""
    import logging

    from eth_account import Account
    from ogpu.chain import ChainConfig
    from ogpu.client import (
        DeliveryMethod,
        ImageEnvironments,
        SourceInfo,
        TaskInfo,
        TaskInput,
        confirm_response,
        publish_source,
        publish_task,
        wait_for_response,
    )
    from ogpu.ipfs import compute_cid, fetch_ipfs_bytes, fetch_ipfs_json, parse_ipfs_url
    from ogpu.protocol import Task, chain_time, vault

    from ogpu_devnet import Devnet
    from ogpu_devnet.provider import Network, start_providers

    logging.getLogger("ogpu").addHandler(logging.NullHandler())
    steps = _Steps()
    manual = args.delivery == "manual"
    with Devnet() as devnet:
        network = Network.from_target(devnet)
        ChainConfig.set_chain(network.configure())  # ChainId.OGPU_DEVNET, pointed at this devnet
        client_key = devnet.accounts[1].private_key
        client = Account.from_key(client_key).address
        steps.step(
            "devnet started",
            rpc=devnet.rpc_url,
            ipfs=network.ipfs_gateway_url,
            chain_id=devnet.chain_id,
            nexus=devnet.contracts["NEXUS"],
            client=client,
        )

        deposit = vault.deposit(client, 10**18, signer=client_key)
        first_block = ChainConfig.get_web3().eth.block_number + 1
        source = publish_source(
            SourceInfo(
                name="text-insights",
                description="word counts and a tiny sentiment lexicon",
                logoUrl="",
                imageEnvs=ImageEnvironments(cpu="https://example.org/text-insights/compose.yml"),
                minPayment=10**15,
                minAvailableLockup=0,
                maxExpiryDuration=3600,
                deliveryMethod=(
                    DeliveryMethod.MANUAL_CONFIRMATION if manual else DeliveryMethod.FIRST_RESPONSE
                ),
            ),
            client_key,
        )
        params = source.get_params()
        steps.step(
            "source published",
            source=source.address,
            tx=_tx_of("SourcePublished", first_block, source=source.address),
            metadata=params.imageMetadataUrl,
            delivery="MANUAL_CONFIRMATION" if manual else "FIRST_RESPONSE",
            deposit=f"{_ogpu(10**18)} into the client's Vault balance (tx {deposit.tx_hash})",
        )

        with start_providers(
            devnet, analyze_text, count=max(1, args.providers), sources=[source]
        ) as providers:
            steps.step(
                "provider runtime up (paired with a master, stake locked, registered)",
                providers=", ".join(providers.providers),
                registrants=source.get_registrant_count(),
            )

            now = chain_time()
            task_block = ChainConfig.get_web3().eth.block_number + 1
            task = publish_task(
                TaskInfo(
                    source=source.address,
                    config=TaskInput(function_name="analyze", data={"text": args.text}),
                    expiryTime=now + 600,
                    payment=10**16,
                ),
                client_key,
                total_timeout=30,
            )
            steps.step(
                "task published",
                task=task.address,
                tx=_tx_of("TaskPublished", task_block, task=task.address),
                input=_shorten(args.text),
                config=task.get_params().config,
                payment=f"{_ogpu(10**16)}, escrowed in the Vault",
                expires=f"in 600 s (chain time {now + 600})",
            )

            outcome = providers.runtime.wait_for_outcomes(task, 1, timeout=30)[0]
            if outcome.kind != "submitted":
                print(f"\nprovider did not answer: {outcome.kind}: {outcome.detail}")
                return 1
            attempters = Task(task.address).get_attempters()
            steps.step(
                "attempted, handler ran, response submitted",
                provider=outcome.provider,
                attempters=len(attempters),
                attempt_tx=outcome.attempt_tx,
                response=outcome.response,
                payload=outcome.detail,
                submit_tx=outcome.tx_hash,
            )

            if manual:
                response = wait_for_response(task, timeout=30, poll_interval=0.05, confirmed=False)
                tx_hash = confirm_response(response.address, client_key)
                steps.step("response confirmed by the client", response=response.address,
                           confirm_tx=tx_hash)  # fmt: skip
            final = task.get_confirmed_response()
            if final is None:
                print("\nno confirmed response")
                return 1
            steps.step(
                "task finalized",
                status=task.get_status().name,
                winner=task.get_winning_provider(),
                earnings=_ogpu(vault.get_total_earnings_of(outcome.provider)),
            )

            url = final.get_data()
            payload = fetch_ipfs_json(url, verify=True)
            cid = parse_ipfs_url(url).cid
            recomputed = compute_cid(fetch_ipfs_bytes(url, verify=True))
            if payload != analyze_text({"text": args.text}) or recomputed != cid:
                print("\npayload does not match")
                return 1
            steps.step(
                "payload fetched and verified against its CID",
                url=url,
                cid=f"{cid} (recomputed: match)",
                words=payload["words"],
                top_words=", ".join(f"{w}={n}" for w, n in payload["top_words"]),
                sentiment=f"{payload['sentiment']['label']} ({payload['sentiment']['score']})",
            )
            steps.step("the same story from the chain's logs (ogpu.events replay)",
                       **_event_log(source.address, task.address, final.address, 3 if manual else 2))  # fmt: skip
    total = time.monotonic() - steps.started
    print(f"\nDone: source -> task -> response -> payload in {total:.1f} s.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="ogpu-devnet demo", description=__doc__)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
