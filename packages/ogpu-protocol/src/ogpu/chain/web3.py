"""Compatibility module (published 0.2.3 path): the cached Web3 per chain, now in :mod:`ogpu.chain`.

The SDK itself talks JSON-RPC through :meth:`ChainConfig.rpc_client`; these return the web3.py
object of a chain for what the SDK does not cover.
"""

from __future__ import annotations

from ogpu.chain import WEB3, Web3Manager, get_web3_for_chain

__all__ = ["WEB3", "Web3Manager", "get_web3_for_chain"]
