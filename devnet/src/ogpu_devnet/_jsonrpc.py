"""JSON-RPC 2.0 envelopes: declaring methods, reading requests and batches, answering them.

- :func:`method` declares a handler next to its code: its JSON-RPC name, aliases, the most
  positional parameters it takes and where its block tag sits; :data:`METHODS` holds every
  declaration (a name declared twice is refused at import) and lists them.
- :func:`dispatch` answers one decoded request object: a :class:`~ogpu_devnet.errors.DevnetError`
  ends it with the error object its class builds (the class carries its JSON-RPC code);
  Python's own ``KeyError``/``TypeError``/``ValueError``... from malformed parameters with
  -32602; anything else with -32603 and a logged traceback. A notification (a request without
  an ``id`` member, JSON-RPC 2.0 section 4.1) is executed and answered with nothing.
- :func:`answer_body` answers a raw HTTP body: the depth pre-scan (:func:`_too_deep`), JSON
  decoding, batches (in a batch, notifications get no entry; a batch of notifications only,
  no answer at all).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from ogpu_devnet.errors import (
    DevnetError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    MethodNotFoundError,
    ParseError,
)

logger = logging.getLogger("ogpu_devnet.rpc")

#: Deepest nesting of JSON arrays/objects a request body may have (above: -32700).
MAX_JSON_DEPTH = 64
# A whole string (possessive unrolled loop: no backtracking), or an unterminated string's quote.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers become 2, closers 0: after k brackets the running sum minus k is the depth.
_BRACKET_WEIGHTS = bytes(2 if b in b"[{" else 0 for b in range(256))

Answer: TypeAlias = dict[str, Any]
"""One JSON-RPC response object (``jsonrpc``, ``id``, then ``result`` or ``error``)."""
Payload: TypeAlias = Answer | list[Answer] | None
"""What an HTTP body is answered with: one response, a batch of them, or nothing (``None``:
only notifications were sent)."""

_Handler = TypeVar("_Handler", bound=Callable[..., object])


@dataclass(frozen=True)
class MethodSpec:
    """One declared JSON-RPC method."""

    name: str
    aliases: tuple[str, ...]
    #: Most positional parameters (geth answers more with -32602 "too many arguments").
    max_params: int
    #: Index of the block tag parameter (a lagging replica answers for its own head), if any.
    block_param: int | None
    #: The handler, called as ``handler(methods, params)``.
    handler: Callable[..., object]

    @property
    def names(self) -> tuple[str, ...]:
        """The name, then the aliases."""
        return (self.name, *self.aliases)


class MethodRegistry:
    """JSON-RPC methods by name (aliases included); a name is declared at most once."""

    def __init__(self) -> None:
        """An empty registry."""
        self._by_name: dict[str, MethodSpec] = {}
        self._specs: list[MethodSpec] = []

    def method(
        self, name: str, *aliases: str, max_params: int = 0, block_param: int | None = None
    ) -> Callable[[_Handler], _Handler]:
        """Declare the decorated handler as JSON-RPC method ``name`` (and ``aliases``) taking
        at most ``max_params`` positional parameters, its block tag at index ``block_param``."""
        if block_param is not None and not 0 <= block_param < max_params:
            raise ValueError(f"{name}: block_param {block_param} is not one of its parameters")

        def declare(handler: _Handler) -> _Handler:
            self.add(MethodSpec(name, aliases, max_params, block_param, handler))
            return handler

        return declare

    def add(self, spec: MethodSpec) -> None:
        """Register ``spec``; a name (or alias) already declared is refused (``ValueError``)."""
        taken = [n for n in spec.names if n in self._by_name]
        if taken or len(set(spec.names)) != len(spec.names):
            raise ValueError(f"JSON-RPC method name declared twice: {taken or list(spec.names)}")
        for name in spec.names:
            self._by_name[name] = spec
        self._specs.append(spec)

    def lookup(self, name: str) -> MethodSpec | None:
        """The method called ``name`` (a name or an alias), if declared."""
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[MethodSpec]:
        """Every declared method, in declaration order."""
        return iter(list(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        """Every name a client may call (aliases included), sorted."""
        return sorted(self._by_name)


#: The devnet's JSON-RPC methods (declared by :func:`method` in the handlers' modules).
METHODS = MethodRegistry()
method = METHODS.method


def _request_id(request: object) -> tuple[object, bool]:
    """(the id to answer with, whether the request's id is unusable)."""
    request_id = request.get("id") if isinstance(request, dict) else None
    usable = (
        request_id is None
        or isinstance(request_id, str)
        or (isinstance(request_id, int) and not isinstance(request_id, bool))
        or (isinstance(request_id, float) and math.isfinite(request_id))
    )
    return (request_id, False) if usable else (None, True)


def is_notification(request: object) -> bool:
    """Whether ``request`` is a JSON-RPC 2.0 notification: a request (version "2.0", a method
    name) without an ``id`` member. Invalid requests without an ``id`` are not notifications:
    they are answered -32600 with id null, as geth answers them."""
    return (
        isinstance(request, dict)
        and "id" not in request
        and request.get("jsonrpc") == "2.0"
        and isinstance(request.get("method"), str)
    )


def dispatch(
    request: object,
    call: Callable[[MethodSpec, list[Any]], object],
    registry: MethodRegistry = METHODS,
) -> Answer | None:
    """Answer one decoded request object, running its method through ``call(spec, params)``;
    ``None`` for a notification (executed all the same)."""
    request_id, bad_id = _request_id(request)
    try:
        if not isinstance(request, dict):
            raise InvalidRequestError("invalid request: expected a JSON object")
        if bad_id:
            raise InvalidRequestError("invalid request: id must be a string, number or null")
        name = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(name, str):
            raise InvalidRequestError("invalid request: needs jsonrpc '2.0' and a method")
        params = request.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            raise InvalidParamsError("expected a positional list")
        spec = registry.lookup(name)
        if spec is None:
            raise MethodNotFoundError(name)
        if len(params) > spec.max_params:
            raise InvalidParamsError(f"too many arguments, want at most {spec.max_params}")
        answer: Answer = {"jsonrpc": "2.0", "id": request_id, "result": call(spec, params)}
    except DevnetError as exc:
        answer = error_answer(exc, request_id)
    except (KeyError, IndexError, TypeError, ValueError, OverflowError) as exc:
        answer = error_answer(InvalidParamsError(type(exc).__name__), request_id)
    except Exception as exc:  # never let one request take the server down
        logger.exception("internal error in %s", getattr(request, "get", lambda _: "?")("method"))
        answer = error_answer(InternalError(f"internal error: {type(exc).__name__}"), request_id)
    return None if is_notification(request) else answer


def error_answer(error: DevnetError, request_id: object = None) -> Answer:
    """The response object carrying ``error`` (its class gives the code)."""
    return {"jsonrpc": "2.0", "id": request_id, "error": error.error_object()}


def answer_body(
    body: bytes,
    handle: Callable[[object], Answer | None],
    *,
    max_batch: int,
    no_batch: bool = False,
) -> tuple[int, Payload, list[str]]:
    """(HTTP status, what to answer, methods called) for a raw HTTP body, each request object
    answered by ``handle``. Batches: ``no_batch`` refuses every one (HTTP 400), larger than
    ``max_batch`` are refused as geth refuses them (HTTP 200, one error object)."""
    if _too_deep(body):
        depth = ParseError(f"parse error: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return 200, error_answer(depth), []
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 200, error_answer(ParseError("parse error: invalid JSON")), []
    if not isinstance(decoded, list):
        method = [str(decoded.get("method"))] if isinstance(decoded, dict) else []
        return 200, handle(decoded), method
    if not decoded:
        return 200, error_answer(InvalidRequestError("invalid request: empty batch")), []
    if no_batch:
        return 400, error_answer(InvalidRequestError("batch requests are not supported")), []
    if len(decoded) > max_batch:
        refused = InvalidRequestError(f"batch too large (max {max_batch})")
        return 200, error_answer(refused), []
    methods = [str(item.get("method")) for item in decoded if isinstance(item, dict)]
    answers = [answer for answer in map(handle, decoded) if answer is not None]
    return 200, answers or None, methods


def _too_deep(body: bytes) -> bool:
    """Whether ``body`` nests JSON arrays/objects deeper than :data:`MAX_JSON_DEPTH`.

    Checked before ``json.loads``: py-evm's dependencies raise the interpreter's recursion limit
    to 100 000, so a deeply nested body would overflow the C stack inside the JSON decoder and
    kill the whole process instead of raising ``RecursionError``.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    # Linear time: each string is matched once without backtracking (an unterminated one ends
    # the scan: the decoder stops there too), then the depth after each bracket outside the
    # strings is computed by C-level iterators (no Python loop per byte).
    parts = []
    pos = 0
    for match in _JSON_STRING.finditer(body):
        parts.append(body[pos : match.start()])
        pos = match.end()
        if pos - match.start() == 1:
            pos = len(body)
            break
    parts.append(body[pos:])
    weights = b"".join(parts).translate(_BRACKET_WEIGHTS, _NOT_BRACKETS)
    total = 0
    for start in range(0, len(weights), 65536):  # in chunks, to stop early
        chunk = weights[start : start + 65536]
        sums = itertools.accumulate(chunk, initial=total)
        if max(map(operator.sub, sums, itertools.count(start))) > MAX_JSON_DEPTH:
            return True
        total += sum(chunk)
    return False
