"""A nonce learnt from one node is no evidence about another node of the same chain id.

Nodes queue a transaction whose nonce is above the sender's pending count until the gap
fills (geth's txpool "queued", devnet row 42): signing at a nonce cached from another
endpoint would wait for ever. The cache starts afresh when the chain's RPC endpoint changes.
"""

from __future__ import annotations

from ogpu.chain import ChainConfig, ChainId
from ogpu.chain.nonce import NonceManager
from ogpu.protocol import vault
from ogpu_devnet import Devnet


def _configure(net: Devnet) -> None:
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url, contracts=dict(net.contracts))
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)


def test_a_new_endpoint_of_the_same_chain_id_starts_from_its_pending_count() -> None:
    previous_rpc = ChainConfig.get_rpc(ChainId.OGPU_DEVNET)
    previous_chain = ChainConfig.get_current_chain()
    with Devnet() as first, Devnet() as second:
        alice = first.accounts[1]
        try:
            _configure(first)
            for _ in range(3):
                vault.deposit(alice.address, 1, signer=alice.private_key)
            assert NonceManager.get_cached_nonce(alice.address) == 3
            _configure(second)  # same chain id, a node that has seen nothing from alice
            receipt = vault.deposit(alice.address, 1, signer=alice.private_key)
            tx = second.web3().eth.get_transaction(receipt.tx_hash)
            assert tx["nonce"] == 0  # not 3: that one would have been queued for ever
            assert NonceManager.get_cached_nonce(alice.address) == 1
        finally:
            ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=previous_rpc)
            ChainConfig.set_chain(previous_chain)
            NonceManager.clear_all()
