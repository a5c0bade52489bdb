"""JSON decoding that a hostile document cannot crash.

``json.loads`` recurses once per nesting level. At the default recursion limit that ends in
``RecursionError``, but processes that raise the limit (py-evm does, on import) can overflow
the C stack and die on a few hundred kilobytes of ``[[[[...``. Bodies come from untrusted
gateways and services, so the nesting depth is checked before decoding.
"""

from __future__ import annotations

from typing import Any

from ogpu.ipfs._errors import MalformedDataError

#: Deepest nesting accepted; real documents stay far below it.
MAX_DEPTH = 1000


def _too_deep(body: bytes) -> bool:
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False  # cannot nest deeper than it has brackets: the usual, cheap answer
    import re

    # Strings (whose brackets do not count) and brackets, in one left-to-right pass.
    tokens = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]')
    depth = 0
    for match in tokens.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def loads(body: bytes) -> Any:
    """Decode a JSON document; ``ValueError`` if it is not JSON or nests too deeply.

    Example::

        >>> loads(b'{"a": [1]}')
        {'a': [1]}
    """
    import json

    if _too_deep(body):
        raise MalformedDataError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(body)
    except RecursionError:
        raise MalformedDataError("nested too deeply") from None
