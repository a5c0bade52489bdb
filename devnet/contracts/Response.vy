# pragma version 0.4.3
"""
@title Response (OpenGPU devnet stub)
@notice One per submitted response, created by Nexus from a blueprint. Status
        SUBMITTED until confirmed; writes are privileged (Nexus or a
        CONTROLLER-role contract).
"""
import common
import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

nexus: public(address)
status: public(uint8)
confirmedFinal: public(bool)
responseTimestamp: public(uint256)

_params: common.ResponseParams


@deploy
@payable
def __init__(_responseParams: common.ResponseParams):
    ownable.__init__(msg.sender)
    self.nexus = msg.sender
    self._params = _responseParams
    self.status = common.RESPONSE_SUBMITTED
    self.responseTimestamp = block.timestamp


@internal
@view
def _only_protocol():
    if msg.sender != self.nexus:
        assert staticcall common.INexus(self.nexus).checkController(msg.sender), "Unauthorized"


@internal
def _set_status(new_status: uint8):
    assert new_status <= common.RESPONSE_CONFIRMED, "InvalidStatus"
    self.status = new_status
    self.confirmedFinal = new_status == common.RESPONSE_CONFIRMED


@external
def confirm():
    self._only_protocol()
    assert self.status != common.RESPONSE_CONFIRMED, "AlreadyConfirmed"
    self._set_status(common.RESPONSE_CONFIRMED)


@external
def setStatus(_status: uint8):
    self._only_protocol()
    self._set_status(_status)


@external
@view
def getStatus() -> uint8:
    return self.status


@external
@view
def getResponseParams() -> common.ResponseParams:
    return self._params


@external
@view
def responseParams() -> (address, address, String[4096], uint256):
    return (self._params.task, self._params.provider, self._params.data, self._params.payment)
