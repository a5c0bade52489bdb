"""The ``ogpu`` command: inspect and drive the OpenGPU protocol from a terminal.

Examples::

    ogpu --chain devnet task show 0xTASK             # a snapshot as a table
    ogpu task show 0xTASK --json                       # ... or as JSON
    ogpu task publish --source 0xSRC --function analyze --data '{"text": "hi"}' \\
        --payment 0.01ogpu --expires-in 10m --wait     # progress, then the payload
    ogpu vault deposit 1ogpu --key-env MY_CLIENT_KEY   # writes sign with a key from the env

Everything goes through the public API (``ogpu.client``, ``ogpu.protocol``, ``ogpu.events``,
``ogpu.ipfs``). Keys are read from the environment only. Exit codes: see :data:`EXIT_CODES`.
Importing this package is cheap: the SDK is imported when a command runs.
"""

from __future__ import annotations

from ogpu.cli._exit import EXIT_CODES, exit_code_for
from ogpu.cli._main import main

__all__ = ["EXIT_CODES", "exit_code_for", "main"]
