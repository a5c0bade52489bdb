"""JSON decoding that a hostile document cannot crash, and encoding that can be read back.

``json.loads`` recurses once per nesting level. At the default recursion limit that ends in
``RecursionError``, but processes that raise the limit (py-evm does, on import) can overflow
the C stack and die on a few hundred kilobytes of ``[[[[...``. Bodies come from untrusted
gateways and services, so the nesting depth is checked before decoding.

The check runs in linear time whatever the body holds: strings are removed by one regular
expression that cannot backtrack (an unterminated string runs to the end of the body instead
of being rescanned from every later quote), and the depth is the running sum of the brackets
left, computed in C (``itertools.accumulate``). :func:`dumps` refuses, before anything is
sent, what :func:`loads` might refuse to read back (NaN/Infinity, nesting deeper than
:data:`MAX_WRITE_DEPTH`), checking the depth iteratively so that a 100,000-deep dict cannot crash
the process either.
"""

from __future__ import annotations

import re
from typing import Any

from ogpu.ipfs._errors import MalformedDataError

#: Deepest nesting accepted; real documents stay far below it.
MAX_DEPTH = 1000
#: Deepest nesting :func:`dumps` writes. Below :data:`MAX_DEPTH` with room to spare: ``json``
#: reads nesting with the interpreter's stack, so a reader already deep in calls at the
#: default recursion limit (1000) fails on documents nested a little under 1000 levels.
MAX_WRITE_DEPTH = 500

# A JSON string, its closing quote optional: an unterminated string is consumed to the end
# in one pass (with a mandatory quote, the regex engine would rescan from every later quote:
# quadratic). Each alternative advances at least one byte per step and cannot backtrack.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# +1 for an opening bracket, -1 for a closing one, indexed by byte value.
_STEP = [0] * 256
for _b in b"[{":
    _STEP[_b] = 1
for _b in b"]}":
    _STEP[_b] = -1


def depth_of(body: bytes) -> int:
    """The deepest bracket nesting of a JSON text (brackets inside strings do not count).

    Linear in ``len(body)``. Example::

        >>> depth_of(b'{"a": [[1]], "b": "[[[["}')
        3
    """
    from itertools import accumulate

    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets)), default=0))


def _too_deep(body: bytes) -> bool:
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False  # cannot nest deeper than it has brackets: the usual, cheap answer
    return depth_of(body) > MAX_DEPTH


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


def check_depth(obj: object, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`MalformedDataError` if ``obj`` nests more than ``limit`` containers deep.

    Iterative (no recursion, so any depth is safe to check); dicts, lists and tuples count,
    as they do for ``json.dumps``. A container reached twice on one path (a cycle) is
    reported as too deep.
    """
    stack: list[tuple[object, int]] = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        if depth > limit:
            raise MalformedDataError(f"nested more than {limit} levels deep")
        stack.extend((child, depth) for child in children)


def dumps(obj: object) -> bytes:
    """Encode ``obj`` as JSON that :func:`loads` accepts; :class:`MalformedDataError` otherwise.

    Refuses NaN and Infinity (not JSON: other readers reject them), nesting deeper than
    :data:`MAX_WRITE_DEPTH`, and objects ``json`` cannot serialise, before encoding anything.

    Example::

        >>> dumps({"a": [1]})
        b'{"a": [1]}'
    """
    import json

    check_depth(obj, MAX_WRITE_DEPTH)
    try:
        return json.dumps(obj, allow_nan=False).encode("utf-8")
    except ValueError as exc:
        if "Out of range float" in str(exc):  # json's words for allow_nan=False
            raise MalformedDataError(
                "cannot encode as JSON: NaN and Infinity are not JSON (other readers reject them)"
            ) from None
        raise MalformedDataError(f"cannot encode as JSON: {exc}") from None
    except (TypeError, RecursionError) as exc:
        raise MalformedDataError(f"cannot encode as JSON: {exc}") from None
