"""Which network the runtime plays on: a running Devnet, its manifest dict, or a manifest file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ogpu.chain import ChainConfig, ChainId, ChainLike

from ogpu_devnet.errors import DevnetError


class NetworkConfigError(DevnetError, ValueError):
    """The devnet/manifest given to the provider runtime is unusable."""


@dataclass(frozen=True)
class Network:
    """Endpoints, contracts and the funding key of the network the providers join."""

    rpc_url: str
    chain_id: int
    contracts: dict[str, str]
    ipfs_publish_url: str
    ipfs_gateway_url: str
    funder_key: str = field(repr=False)

    @classmethod
    def from_target(cls, target: Any, funder: int | str | None = None) -> Network:
        """Build from a :class:`ogpu_devnet.Devnet`, a manifest dict or a manifest JSON path.

        ``funder`` picks the account that pays the providers' gas and stake: an index into
        the manifest's accounts (default: the last one) or a private key.
        """
        if hasattr(target, "manifest") and callable(target.manifest):
            manifest: Mapping[str, Any] = target.manifest()
        elif isinstance(target, Mapping):
            manifest = target
        elif isinstance(target, (str, os.PathLike)):
            try:
                manifest = json.loads(Path(target).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise NetworkConfigError(f"cannot read manifest {target}: {exc}") from exc
        else:
            raise NetworkConfigError(
                f"expected a Devnet, a manifest dict or a manifest path, got {type(target).__name__}"
            )
        try:
            accounts = list(manifest.get("accounts") or [])
            if isinstance(funder, str):
                funder_key = funder
            else:
                if not accounts:
                    raise NetworkConfigError(
                        "the manifest lists no funded accounts; pass funder=KEY"
                    )
                funder_key = str(accounts[-1 if funder is None else funder]["private_key"])
            return cls(
                rpc_url=str(manifest["rpc_url"]),
                chain_id=int(manifest["chain_id"]),
                contracts={str(k).upper(): str(v) for k, v in manifest["contracts"].items()},
                ipfs_publish_url=str(manifest["ipfs_publish_url"]),
                ipfs_gateway_url=str(manifest["ipfs_gateway_url"]),
                funder_key=funder_key,
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            if isinstance(exc, NetworkConfigError):
                raise
            raise NetworkConfigError(f"incomplete manifest: {exc!r}") from None

    def configure(self) -> ChainLike:
        """Point ogpu.chain at this network; return the chain handle to pass as ``chain=``.

        The devnet's chain id is the built-in ``ChainId.OGPU_DEVNET``, whose endpoints and
        addresses are overridden; any other id is registered as a custom chain.
        """
        contracts = dict(self.contracts)
        if self.chain_id == ChainId.OGPU_DEVNET.value:
            ChainConfig.configure(
                ChainId.OGPU_DEVNET,
                rpc_url=self.rpc_url,
                contracts=contracts,
                ipfs_publish_url=self.ipfs_publish_url,
                ipfs_gateway_url=self.ipfs_gateway_url,
            )
            return ChainId.OGPU_DEVNET
        return ChainConfig.register_chain(
            self.chain_id,
            "ogpu-devnet",
            self.rpc_url,
            contracts,
            self.ipfs_publish_url,
            self.ipfs_gateway_url,
        )
