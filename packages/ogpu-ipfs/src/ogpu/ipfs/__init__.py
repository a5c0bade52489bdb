"""Publish and fetch OpenGPU off-chain content on IPFS (the ``ogpu-ipfs`` distribution).

Example::

    from ogpu.ipfs import fetch_ipfs_json, fetch_to_file, publish_to_ipfs

    url = publish_to_ipfs({"result": "cat"}, filename="response.json")
    assert fetch_ipfs_json(url, verify=True) == {"result": "cat"}
    fetch_to_file(url, "response.json", verify=True)  # to disk, whole or not at all

Defaults are OGPU's production services; see :func:`configure` and the environment
variables ``OGPU_IPFS_PUBLISH_URL`` and ``OGPU_IPFS_GATEWAY``. Only ``requests`` is needed.
"""

from __future__ import annotations

from ogpu.ipfs._address import IPFSAddress, parse_ipfs_url
from ogpu.ipfs._cache import clear_cache
from ogpu.ipfs._cid import compute_cid
from ogpu.ipfs._errors import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSError,
    IPFSFetchError,
    IPFSGatewayError,
    IPFSIntegrityError,
    IPFSTimeoutError,
    IPFSTooLargeError,
    IPFSUntrustedURLError,
    OGPUError,
)
from ogpu.ipfs._fetch import fetch_ipfs_bytes, fetch_ipfs_json, fetch_many
from ogpu.ipfs._fetch_file import fetch_to_file
from ogpu.ipfs._logging import _install, set_verbose
from ogpu.ipfs._publish import publish_bytes, publish_file, publish_to_ipfs
from ogpu.ipfs._settings import (
    DEFAULT_GATEWAY,
    DEFAULT_MAX_BYTES,
    DEFAULT_PUBLISH_URL,
    IPFSSettings,
    configure,
    get_settings,
)
from ogpu.ipfs._version import __version__

_install()

__all__ = [
    "DEFAULT_GATEWAY",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PUBLISH_URL",
    "IPFSAddress",
    "IPFSAddressError",
    "IPFSConfigError",
    "IPFSError",
    "IPFSFetchError",
    "IPFSGatewayError",
    "IPFSIntegrityError",
    "IPFSSettings",
    "IPFSTimeoutError",
    "IPFSTooLargeError",
    "IPFSUntrustedURLError",
    "OGPUError",
    "__version__",
    "clear_cache",
    "compute_cid",
    "configure",
    "fetch_ipfs_bytes",
    "fetch_ipfs_json",
    "fetch_many",
    "fetch_to_file",
    "get_settings",
    "parse_ipfs_url",
    "publish_bytes",
    "publish_file",
    "publish_to_ipfs",
    "set_verbose",
]
