"""Errors of ogpu.service.

::

    OGPUError (the SDK's one root, from ogpu-ipfs)
    └── ServiceError
        ├── ServiceConfigError (ValueError)        bad environment / start() arguments
        └── RegistrationError                      @expose / @init used wrongly
            ├── HandlerSignatureError (TypeError)  not one pydantic input, no pydantic return
            └── DuplicateRegistrationError (ValueError)  a second handler name or init

The published SDK raised bare ``TypeError``/``ValueError`` for registration mistakes; these
classes subclass them, so ``except TypeError`` written for 0.2.x keeps working.
"""

from __future__ import annotations

from ogpu.ipfs import OGPUError


class ServiceError(OGPUError):
    """Root of the errors raised by ogpu.service."""


class ServiceConfigError(ServiceError, ValueError):
    """The service's configuration (environment variables or arguments) is unusable."""


class RegistrationError(ServiceError):
    """A handler or init function was registered wrongly."""


class HandlerSignatureError(RegistrationError, TypeError):
    """A handler does not take one pydantic model and return a pydantic model."""


class DuplicateRegistrationError(RegistrationError, ValueError):
    """A second handler with the same name, or a second init function."""


__all__ = [
    "DuplicateRegistrationError",
    "HandlerSignatureError",
    "RegistrationError",
    "ServiceConfigError",
    "ServiceError",
]
