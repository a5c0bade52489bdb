"""@expose / @init refuse what the published SDK refused, with typed errors, at registration."""

from __future__ import annotations

from typing import Any

import pytest
from ogpu.service import (
    DuplicateRegistrationError,
    HandlerSignatureError,
    Registry,
    ServiceConfig,
    ServiceConfigError,
)
from pydantic import BaseModel


class In(BaseModel):
    text: str


class Out(BaseModel):
    words: int


def test_a_good_handler_is_registered_and_returned_unchanged() -> None:
    registry = Registry()

    def count(data: In) -> Out:
        return Out(words=len(data.text.split()))

    assert registry.expose(timeout=5)(count) is count
    exposed = registry.handlers["count"]
    assert (exposed.input_model, exposed.output_model, exposed.timeout) == (In, Out, 5.0)
    assert count(In(text="a b")) == Out(words=2)


def none_args() -> Out: ...
def two_args(a: In, b: In) -> Out: ...
def no_return(data: In): ...  # type: ignore[no-untyped-def]
def dict_input(data: dict) -> Out: ...  # type: ignore[type-arg]
def dict_output(data: In) -> dict: ...  # type: ignore[type-arg]


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (none_args, "exactly ONE input argument (got 0)"),
        (two_args, "exactly ONE input argument (got 2)"),
        (no_return, "must have a return type"),
        (dict_input, "Input to `dict_input` must be a subclass of pydantic.BaseModel"),
        (dict_output, "Return type of `dict_output` must be a subclass of pydantic.BaseModel"),
    ],
)
def test_bad_handler_signatures_are_typed_errors(func: Any, message: str) -> None:
    registry = Registry()
    with pytest.raises(
        HandlerSignatureError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as info:
        registry.expose()(func)
    assert isinstance(info.value, TypeError)  # as the published SDK raised
    assert registry.handlers == {}


def test_names_are_unique_and_init_is_single() -> None:
    registry = Registry()

    def count(data: In) -> Out: ...

    registry.expose()(count)
    with pytest.raises(DuplicateRegistrationError, match="`count` is already registered") as info:
        registry.expose()(count)
    assert isinstance(info.value, ValueError)

    def load() -> None: ...

    def load_again() -> None: ...

    def load_with(path: str) -> None: ...

    registry.init()(load)
    with pytest.raises(DuplicateRegistrationError, match="`load` is already registered"):
        registry.init()(load_again)
    with pytest.raises(HandlerSignatureError, match="must take no arguments"):
        Registry().init()(load_with)
    assert registry.init_function is load


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5", True])
def test_bad_timeouts_are_refused(timeout: Any) -> None:
    with pytest.raises(ServiceConfigError, match="timeout must be a positive number"):
        Registry().expose(timeout)


def test_configuration_from_the_environment() -> None:
    env = {
        "CALLBACK_URL": "http://runtime:9000/callback/",
        "SOURCE_ADDRESS": "0xSource",
        "PROVIDER_ADDRESS": "0xProvider",
        "PROTOCOL_VERSION": "2",
        "OGPU_SDK_SENTRY_DSN": "https://secret@sentry.example/1",
        "PORT": "7000",
        "OGPU_SERVICE_MAX_CONCURRENCY": "2",
    }
    config = ServiceConfig.from_env(env)
    assert (config.host, config.port, config.callback_url) == (
        "0.0.0.0", 7000, "http://runtime:9000/callback",
    )  # fmt: skip
    assert (config.source_address, config.provider_address, config.max_concurrency) == (
        "0xSource", "0xProvider", 2,
    )  # fmt: skip
    assert "secret" not in repr(config)
    assert ServiceConfig.from_env({"OGPU_SERVICE_PORT": "1", "PORT": "2"}).port == 1
    assert ServiceConfig.from_env({}).port == 5555
    for bad in ({"PORT": "x"}, {"PORT": "70000"}, {"OGPU_SERVICE_MAX_CONCURRENCY": "0"},
                {"CALLBACK_URL": "ftp://x"}, {"OGPU_SERVICE_GRACE_PERIOD": "inf"}):  # fmt: skip
        with pytest.raises(ServiceConfigError):
            ServiceConfig.from_env(bad)


def test_published_submodule_paths_are_the_same_objects() -> None:
    # Source images written for 0.2.3 import from the submodules; they keep working.
    import importlib

    import ogpu.service as service
    from ogpu.service import config, decorators, server

    logger = importlib.import_module("ogpu.service.logger")
    from ogpu.service.logger import task_success

    assert service.logger is logger.logger  # the package's name is still the logger object
    assert callable(task_success)

    assert decorators.expose is service.expose and decorators.init is service.init
    assert server.start is service.start
    assert logger.logger is service.logger
    assert logger.SUCCESS_LEVEL < logger.TIMEOUT_LEVEL < logger.FAIL_LEVEL
    assert service.ServiceConfig.from_env().port == config.SERVICE_PORT
    assert isinstance(config.SDK_VERSION, str) and service.__version__ == config.SDK_VERSION
