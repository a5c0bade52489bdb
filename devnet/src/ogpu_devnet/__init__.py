"""ogpu-devnet: a local OpenGPU network (chain, pinning service, provider runtime) for tests and demos."""

from ogpu_devnet._version import __version__

__all__ = ["__version__"]
