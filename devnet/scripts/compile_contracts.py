"""Compile the devnet's Vyper contract sources into committed artifacts.

Usage (from the repository root)::

    .venv/bin/python devnet/scripts/compile_contracts.py [--output PATH] [--check]

Reads devnet/contracts/*.vy, compiles every deployable contract with Vyper
0.4.3 for the "cancun" EVM (optimisation "gas"), and writes
devnet/src/ogpu_devnet/contracts/_artifacts.json: for each contract its ABI,
its deployment bytecode (initcode) and, for the per-entity contracts created
from ERC-5202 blueprints (Source, Task, Response), the blueprint deployment
bytecode. The file's "_meta" header records the compiler, the settings, the
command and the SHA-256 of every source. `--check` compares instead of writing
and exits 1 when the committed file is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

DEVNET_DIR = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = DEVNET_DIR / "contracts"
DEFAULT_OUTPUT = DEVNET_DIR / "src" / "ogpu_devnet" / "contracts" / "_artifacts.json"

#: Vyper version the committed artifacts were built with.
VYPER_VERSION = "0.4.3"
EVM_VERSION = "cancun"
OPTIMIZE = "gas"
#: Deployable contracts, in deployment order. Other .vy files are modules.
CONTRACTS = ("Manager", "Source", "Task", "Response", "Vault", "Terminal", "Nexus", "Controller")
#: Contracts deployed as ERC-5202 blueprints (created per entity).
BLUEPRINTS = ("Source", "Task", "Response")
COMMAND = "python devnet/scripts/compile_contracts.py"


def _compile(names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    import vyper
    from vyper.cli.vyper_compile import compile_files
    from vyper.compiler.settings import OptimizationLevel, Settings

    if not vyper.__version__.startswith(VYPER_VERSION):
        raise SystemExit(f"vyper {VYPER_VERSION} is required, found {vyper.__version__}")
    settings = Settings(evm_version=EVM_VERSION, optimize=OptimizationLevel.from_string(OPTIMIZE))
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        formats = ["abi", "bytecode"] + (["blueprint_bytecode"] if name in BLUEPRINTS else [])
        path = CONTRACTS_DIR / f"{name}.vy"
        result = compile_files(
            [str(path)],
            formats,
            paths=[str(CONTRACTS_DIR)],
            include_sys_path=False,
            settings=settings,
        )
        (compiled,) = result.values()
        entry: dict[str, Any] = {"abi": compiled["abi"], "bytecode": compiled["bytecode"]}
        if name in BLUEPRINTS:
            entry["blueprint_bytecode"] = compiled["blueprint_bytecode"]
        out[name] = entry
    return out


def build() -> dict[str, Any]:
    """Compile every contract and return the artifacts document."""
    import vyper

    sources = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(CONTRACTS_DIR.glob("*.vy"))
    }
    return {
        "_meta": {
            "generated_by": COMMAND,
            "note": "Generated file: do not edit. Recompile with the command above.",
            "compiler": f"vyper {vyper.__version__}",
            "evm_version": EVM_VERSION,
            "optimize": OPTIMIZE,
            "sources_sha256": sources,
        },
        "contracts": _compile(CONTRACTS),
    }


def render(doc: dict[str, Any]) -> str:
    """Serialise deterministically (sorted keys, fixed indentation, trailing newline)."""
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; run: {COMMAND}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
