"""The documentation site: it builds with warnings as errors, and every sample runs.

Each ```python block of ``docs/**/*.md`` is executed, in page order and in one namespace per
page, against the session devnet (inside an ``evm_snapshot`` reverted afterwards), with what
the pages tell the reader to set up: ``ChainId.OGPU_DEVNET`` pointing at the devnet (the
ports ``ogpu-devnet serve`` uses by default are free ports here), the role variables
(``CLIENT_PRIVATE_KEY`` ...) holding devnet keys, and ``OGPU_IPFS_PUBLISH_URL`` /
``OGPU_IPFS_GATEWAY`` pointing at its pinning service. Page markers (HTML comments, invisible
on the site):

- ``<!-- docs-test: provider -->``: the page needs a provider; one runs the devnet demo
  handler (``ogpu_devnet.demo:analyze_text``) while the page's samples run;
- ``<!-- docs-test: skip REASON -->`` right before a block: the block is not run (the reason
  is required and says why, e.g. it serves forever);
- ``<!-- docs-test: file NAME -->`` right before a block: the block is written to the file
  NAME in the page's working directory instead of being run (a source's ``main.py``);
- ``<!-- docs-test: provider-source NAME -->`` on a line of its own: from that point of the
  page, a provider drives the source service NAME (started as a subprocess by
  ``ogpu_devnet.provider.start_service_providers``, as ``ogpu-devnet serve --provider-source
  NAME`` does); it is stopped when the page ends.
"""

from __future__ import annotations

import linecache
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP = re.compile(r"^<!--\s*docs-test:\s*skip\b(?P<reason>.*?)-->\s*$")
FILE = re.compile(r"^<!--\s*docs-test:\s*file\s+(?P<name>[\w.-]+)\s*-->\s*$")
SERVICE = re.compile(r"^<!--\s*docs-test:\s*provider-source\s+(?P<name>[\w.-]+)\s*-->\s*$")
PROVIDER = "<!-- docs-test: provider -->"


@dataclass
class Block:
    line: int
    code: str
    skip: str | None  # the reason, when the block is not run
    file: str | None = None  # written to this file instead of run
    service: str | None = None  # not a block: start a provider driving this source service

    @property
    def runs(self) -> bool:
        return self.skip is None and self.file is None and self.service is None


def blocks(page: Path) -> list[Block]:
    """The ```python blocks of a page (and its provider-source markers), in page order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        service = SERVICE.match(lines[i].strip())
        if service:
            found.append(Block(i + 1, "", None, service=service["name"]))
        if lines[i].strip() == "```python":
            previous = next((x.strip() for x in reversed(lines[:i]) if x.strip()), "")
            match, file = SKIP.match(previous), FILE.match(previous)
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            found.append(
                Block(
                    start + 1,
                    "\n".join(body) + "\n",
                    match and match["reason"].strip(),
                    file and file["name"],
                )
            )
        i += 1
    return found


PAGES = sorted(p for p in DOCS.rglob("*.md") if any(b.runs for b in blocks(p)))
# The guides whose samples must run (a page losing all its samples is a failure, not a skip).
MUST_RUN = {
    "getting-started.md",
    "guides/ipfs.md",
    "guides/publishing.md",
    "guides/reading-state.md",
    "guides/responses.md",
    "guides/events.md",
    "guides/vault.md",
    "guides/agents.md",
    "guides/devnet.md",
    "guides/service.md",
    "guides/network.md",
    "migrating.md",
    "errors.md",
}


def test_every_guide_has_running_samples_and_every_skip_says_why() -> None:
    with_samples = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert with_samples >= MUST_RUN, MUST_RUN - with_samples
    for page in DOCS.rglob("*.md"):
        written: set[str] = set()
        for block in blocks(page):
            assert block.skip is None or block.skip, f"{page}:{block.line}: skip without a reason"
            if block.file is not None:
                written.add(block.file)
            if block.service is not None:  # the service's main.py is written earlier on the page
                assert block.service in written, f"{page}:{block.line}: {block.service} unwritten"


def test_the_errors_page_names_every_public_error_class() -> None:
    import ogpu.client
    import ogpu.ipfs
    import ogpu.service
    import ogpu.types

    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    missing = [
        f"{module.__name__}.{name}"
        for module in (ogpu.types, ogpu.ipfs, ogpu.client, ogpu.service)
        for name in module.__all__
        if isinstance(getattr(module, name), type)
        and issubclass(getattr(module, name), BaseException)
        and not re.search(rf"\b{name}\b", text)
    ]
    assert not missing, missing


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_samples_run_against_the_devnet(
    page: Path,
    net: Any,
    providers: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import ogpu.ipfs
    from ogpu.chain import ChainConfig, ChainId

    devnet = net.devnet
    # A page may point ChainId.OGPU_DEVNET at a devnet of its own: put the session's back.
    saved = {
        "rpc_url": ChainConfig.get_rpc(ChainId.OGPU_DEVNET),
        "contracts": {
            n: ChainConfig.get_contract_address(n, ChainId.OGPU_DEVNET) for n in devnet.contracts
        },
        "ipfs_publish_url": ChainConfig.get_ipfs_publish_url(ChainId.OGPU_DEVNET),
        "ipfs_gateway_url": ChainConfig.get_ipfs_gateway_url(ChainId.OGPU_DEVNET),
    }
    for var, key in (
        ("CLIENT_PRIVATE_KEY", net.client_key),
        ("AGENT_PRIVATE_KEY", net.agent_key),
        ("PROVIDER_PRIVATE_KEY", net.provider_key),
        ("MASTER_PRIVATE_KEY", net.master_key),
    ):
        monkeypatch.setenv(var, key)
    monkeypatch.setenv("OGPU_IPFS_PUBLISH_URL", devnet.ipfs.publish_url)
    monkeypatch.setenv("OGPU_IPFS_GATEWAY", devnet.ipfs.gateway_url)
    if PROVIDER in page.read_text(encoding="utf-8"):
        from ogpu_devnet.demo import analyze_text

        providers(analyze_text)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    monkeypatch.chdir(tmp_path)  # files a sample writes land here
    services: list[Any] = []
    try:
        for block in blocks(page):
            if block.file is not None:
                (tmp_path / block.file).write_text(block.code, encoding="utf-8")
            elif block.service is not None:
                from ogpu_devnet.provider import start_service_providers

                services.append(
                    start_service_providers(
                        devnet,
                        source_path=tmp_path / block.service,
                        poll_interval=0.05,
                        service_output=tmp_path / "service.log",
                    )
                )
            elif block.runs:
                name = f"{page.relative_to(ROOT)}:{block.line}"
                lines = block.code.splitlines(keepends=True)
                linecache.cache[name] = (len(block.code), None, lines, name)  # tracebacks
                exec(compile(block.code, name, "exec"), namespace)
    finally:
        for group in services:
            group.stop()
        ogpu.ipfs.configure(reset=True)
        ChainConfig.configure(ChainId.OGPU_DEVNET, **saved)
        ChainConfig.set_chain(ChainId.OGPU_DEVNET)


def test_site_builds_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "site" / "reference" / "ogpu-client" / "index.html").is_file()
    assert (tmp_path / "site" / "cli" / "index.html").is_file()
