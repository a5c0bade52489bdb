"""Every error class of every distribution keeps its constructor arguments as fields and
survives pickle (multiprocessing, task queues): one walk over all subclasses, so a class added
anywhere later is checked without being listed here."""

from __future__ import annotations

import enum
import importlib
import inspect
import pickle
import pkgutil
import sys
import types
import typing
from typing import Any

import ogpu_devnet
import pytest
from ogpu.ipfs import OGPUError
from ogpu_devnet.errors import DevnetError

import ogpu


def _import_everything() -> None:
    for package in (ogpu, ogpu_devnet):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.rsplit(".", 1)[-1] != "__main__":
                importlib.import_module(info.name)


def _subclasses(root: type[BaseException]) -> list[type[BaseException]]:
    seen: dict[type[BaseException], None] = {root: None}
    todo = [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen[sub] = None
                todo.append(sub)
    return sorted(seen, key=lambda c: f"{c.__module__}.{c.__qualname__}")


_import_everything()
CLASSES = _subclasses(OGPUError) + _subclasses(DevnetError)


def _sample(annotation: Any, name: str) -> Any:
    """A value of the annotated type, distinct per parameter name."""
    if isinstance(annotation, (types.UnionType,)) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _sample(members[0], name)
    if annotation in (str, Any, object):
        return f"<{name}>"
    if annotation is bool:
        return True
    if annotation is int:
        return 7 + len(name)
    if annotation is float:
        return 1.5 + len(name)
    if annotation is bytes:
        return b""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    raise AssertionError(f"no sample value for {annotation!r} (parameter {name!r}): add one here")


def _build(cls: type[BaseException]) -> tuple[BaseException, dict[str, Any]]:
    init = cls.__init__
    if not inspect.isfunction(init):  # Exception's own constructor: a message
        return cls("something went wrong"), {}
    hints = typing.get_type_hints(init)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for p in list(inspect.signature(init).parameters.values())[1:]:
        value = _sample(hints.get(p.name, Any), p.name)
        given[p.name] = value
        if p.kind is p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    return cls(*args, **kwargs), given


def test_the_walk_finds_every_distribution() -> None:
    modules = {
        c.__module__.split(".")[1]
        if c.__module__.startswith("ogpu.")
        else c.__module__.split(".")[0]
        for c in CLASSES
    }
    assert {"ipfs", "types", "client", "ogpu_devnet"} <= modules, modules
    assert not set(_subclasses(DevnetError)) & set(_subclasses(OGPUError))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_error_keeps_its_fields_and_pickles(cls: type[BaseException]) -> None:
    error, given = _build(cls)
    for name, value in given.items():
        kept = getattr(error, name, "<missing>")
        assert kept == value, f"{cls.__qualname__} keeps {name}={kept!r}, was given {value!r}"
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is cls
    assert str(clone) == str(error)
    assert clone.args == error.args
    assert vars(clone) == vars(error)
    for name in given:
        assert getattr(clone, name) == getattr(error, name)
    if hasattr(error, "attach_transaction"):  # raised after signing: hash and nonce survive too
        error.attach_transaction("0x" + "ab" * 32, 5)
        clone = pickle.loads(pickle.dumps(error))
        assert (str(clone), clone.args, vars(clone)) == (str(error), error.args, vars(error))


# Exceptions outside both roots, on purpose: internal signals that never leave their module.
UNROOTED = {
    "ogpu.chain._rpc._Refused": "a node refused a batch; caught in RpcClient to fall back",
    "ogpu.events._poller._FilterGone": "the poller's signal to re-create a filter; caught there",
    "ogpu_devnet.cli.serve._ProviderUnavailable": "caught in serve to print a usage error",
    "ogpu_devnet.testing._UpstreamStatus": "a node's non-2xx answer; FaultProxy passes it on",
}


def test_every_exception_class_has_one_of_the_two_roots() -> None:
    found = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if not (name.startswith("ogpu.") or name.startswith("ogpu_devnet")):
            continue
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__ == name
                and not issubclass(obj, (OGPUError, DevnetError))
            ):
                found.add(f"{name}.{obj.__qualname__}")
    assert found == set(UNROOTED), "derive from OGPUError (SDK) or DevnetError (devnet)"
