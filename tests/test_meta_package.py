"""The ``ogpu`` meta-package: one ``ogpu/__init__.py``, lazy re-exports, cheap ``ogpu.ipfs``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_only_ogpu_init_is_the_meta_packages() -> None:
    inits = sorted(
        p.relative_to(ROOT).as_posix()
        for p in ROOT.glob("**/ogpu/__init__.py")
        if not {".venv", "node_modules", ".bench", "build", "dist"} & set(p.parts)
    )
    assert inits == ["src/ogpu/__init__.py"]
    import ogpu

    assert Path(ogpu.__file__).resolve() == ROOT / "src/ogpu/__init__.py"


def test_import_ogpu_ipfs_loads_no_web3_with_everything_installed() -> None:
    code = (
        "import sys, json, ogpu.ipfs\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('web3', 'eth_account', 'eth_abi', 'ogpu_devnet')"
        " or m in ('ogpu.chain', 'ogpu.protocol', 'ogpu.client')]\n"
        "print(json.dumps(heavy))"
    )
    assert json.loads(_run(code)) == []


def test_import_ogpu_alone_is_lazy_too() -> None:
    code = "import sys, json, ogpu\nprint(json.dumps('web3' in sys.modules))"
    assert json.loads(_run(code)) is False


def test_top_level_names() -> None:
    code = (
        "from ogpu import (publish_to_ipfs, fetch_ipfs_json, ChainConfig, ChainId, fix_nonce,\n"
        "    reset_nonce_cache, clear_all_nonce_caches, get_nonce_info, set_verbose)\n"
        "import ogpu.ipfs, ogpu.chain\n"
        "assert publish_to_ipfs is ogpu.ipfs.publish_to_ipfs\n"
        "assert ChainConfig is ogpu.chain.ChainConfig\n"
        "assert ChainId.OGPU_DEVNET.value == 31071\n"
        "import ogpu\n"
        "assert ogpu.client.publish_task and ogpu.events.watch_attempted and ogpu.agent.attempt\n"
        "print('ok')"
    )
    assert _run(code).strip() == "ok"


def test_client_reexports_are_the_protocol_and_types_objects() -> None:
    import ogpu.client as client
    import ogpu.protocol as protocol
    import ogpu.types as types

    for name in ("Source", "Task", "Response"):
        assert getattr(client, name) is getattr(protocol, name)
    for name in (
        "SourceInfo",
        "TaskInfo",
        "TaskInput",
        "SourceMetadata",
        "ImageEnvironments",
        "DeliveryMethod",
        "Environment",
        "combine_environments",
        "parse_environments",
        "environment_names",
    ):
        assert getattr(client, name) is getattr(types, name)
    assert not [n for n in dir(client) if "submit" in n.lower()]


def test_sdk_imports_never_load_the_web_stack() -> None:
    # ogpu-service (starlette, uvicorn) is installed in this venv; the SDK must not touch it.
    code = (
        "import sys, json, ogpu, ogpu.ipfs, ogpu.types, ogpu.chain, ogpu.protocol\n"
        "import ogpu.client, ogpu.agent, ogpu.events\n"
        "web = ('starlette', 'uvicorn', 'fastapi', 'anyio', 'h11', 'ogpu.service')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(web))))"
    )
    assert json.loads(_run(code)) == []
    # ...while ogpu.service, once asked for, is the ogpu-service portion.
    code = "import ogpu\nprint(ogpu.service.__version__, ogpu.service.start.__module__)"
    assert _run(code).split() == ["0.3.0", "ogpu.service._server"]


def test_import_ogpu_client_loads_no_cli() -> None:
    # The `ogpu` command (ogpu.cli) and any terminal library stay out of library imports.
    code = (
        "import sys, json, ogpu.client, ogpu.events, ogpu.agent\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'ogpu.cli' "
        "or m.startswith('ogpu.cli.') or m.split('.')[0] in ('rich', 'typer', 'click'))))"
    )
    assert json.loads(_run(code)) == []
