"""The ``ogpu-devnet`` command (also ``python -m ogpu_devnet``).

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; they are imported only when chosen, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("ogpu_devnet.cli.serve", "run the chain, the pinning service and optional providers"),
    "ipfs": ("ogpu_devnet.ipfs.cli", "run only the mock IPFS pinning service"),
    "deploy": ("ogpu_devnet.cli.deploy", "deploy the OpenGPU stub contracts onto another EVM node"),
    "demo": ("ogpu_devnet.demo", "run the source -> task -> response flow end to end"),
    "conformance": (
        "ogpu_devnet.cli.conformance",
        "read-only probe: does a node behave like the devnet (docs/live-chain.md)",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="ogpu-devnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = argv[0] if argv and argv[0] in _SUBCOMMANDS else None
    modules = {}
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:  # import only the module that will run
            modules[name] = importlib.import_module(module_name)
            modules[name].add_arguments(p)
    args = parser.parse_args(argv)
    module = modules[args.command]
    return int(module.run(args))


if __name__ == "__main__":
    sys.exit(main())
