# pragma version 0.4.3
"""
@title Ownable module of the OpenGPU devnet stub contracts
@notice OpenZeppelin-compatible surface (owner, transferOwnership,
        renounceOwnership, OwnershipTransferred) reverting with "NotOwner".
"""

event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)

owner: public(address)


@deploy
def __init__(initial_owner: address):
    self._transfer(initial_owner)


@internal
def _transfer(new_owner: address):
    old_owner: address = self.owner
    self.owner = new_owner
    log OwnershipTransferred(previousOwner=old_owner, newOwner=new_owner)


@internal
@view
def _check_owner():
    assert msg.sender == self.owner, "NotOwner"


@external
def transferOwnership(newOwner: address):
    self._check_owner()
    assert newOwner != empty(address), "InvalidOwner"
    self._transfer(newOwner)


@external
def renounceOwnership():
    self._check_owner()
    self._transfer(empty(address))
