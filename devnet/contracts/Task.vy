# pragma version 0.4.3
"""
@title Task (OpenGPU devnet stub)
@notice One per published task, created by Controller from a blueprint. Holds
        the TaskParams, the status, the attempts and the responses. Every write
        is privileged: only Nexus or a CONTROLLER-role contract.
"""
import common
import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

nexus: public(address)
status: public(uint8)
deliveryMethod: public(uint8)
winningProvider: public(address)
attempters: public(DynArray[address, common.MAX_ITEMS])
attemptTimestamps: public(DynArray[uint256, common.MAX_ITEMS])
attempterId: public(HashMap[address, uint256])
hasAttempted: public(HashMap[address, bool])
responseOf: public(HashMap[address, address])
isAlreadySubmitted: public(HashMap[bytes32, bool])

_params: common.TaskParams
_responses: DynArray[address, common.MAX_ITEMS]


@deploy
@payable
def __init__(_taskParams: common.TaskParams, _deliveryMethod: uint8, nexus: address):
    ownable.__init__(msg.sender)
    self._params = _taskParams
    self.deliveryMethod = _deliveryMethod
    self.nexus = nexus
    self.status = common.TASK_NEW


@internal
@view
def _only_protocol():
    if msg.sender != self.nexus:
        assert staticcall common.INexus(self.nexus).checkController(msg.sender), "Unauthorized"


# ---- privileged writes ----------------------------------------------------------

@external
def attempt(provider: address):
    self._only_protocol()
    assert not self.hasAttempted[provider], "AlreadyAttempted"
    self.attempterId[provider] = len(self.attempters)
    self.attempters.append(provider)
    self.attemptTimestamps.append(block.timestamp)
    self.hasAttempted[provider] = True


@external
def submitResponse(response: address, provider: address):
    self._only_protocol()
    assert self.responseOf[provider] == empty(address), "AlreadyResponded"
    params: common.ResponseParams = staticcall common.IResponse(response).getResponseParams()
    data_hash: bytes32 = keccak256(params.data)
    assert not self.isAlreadySubmitted[data_hash], "AlreadySubmitted"
    self.isAlreadySubmitted[data_hash] = True
    self.responseOf[provider] = response
    self._responses.append(response)


@external
def setStatus(_status: uint8):
    self._only_protocol()
    assert _status <= common.TASK_FINALIZED, "InvalidStatus"
    self.status = _status


@external
def setWinningProvider(provider: address):
    self._only_protocol()
    self.winningProvider = provider


# ---- views ------------------------------------------------------------------------

@external
@view
def taskParams() -> (address, String[4096], uint256, uint256):
    return (self._params.source, self._params.config, self._params.expiryTime, self._params.payment)


@external
@view
def getTaskParams() -> common.TaskParams:
    return self._params


@external
@view
def getSource() -> address:
    return self._params.source


@external
@view
def getExpiryTime() -> uint256:
    return self._params.expiryTime


@external
@view
def getPayment() -> uint256:
    return self._params.payment


@external
@view
def getStatus() -> uint8:
    return self.status


@external
@view
def getDeliveryMethod() -> uint8:
    return self.deliveryMethod


@external
@view
def getAttemptCount() -> uint256:
    return len(self.attempters)


@external
@view
def getAttempterId(provider: address) -> uint256:
    return self.attempterId[provider]


@external
@view
def getAttempters(lower: uint256, upper: uint256) -> DynArray[address, common.MAX_PAGE]:
    """
    @notice Attempters lower..upper, both inclusive; index >= count reverts with Panic(0x32).
    """
    common.check_page(lower, upper, len(self.attempters))
    out: DynArray[address, common.MAX_PAGE] = []
    for i: uint256 in range(lower, upper + 1, bound=common.MAX_PAGE):
        out.append(self.attempters[i])
    return out


@external
@view
def getAttemptTimestamps(lower: uint256, upper: uint256) -> DynArray[uint256, common.MAX_PAGE]:
    """
    @notice Attempt timestamps lower..upper, both inclusive; Panic(0x32) past the end.
    """
    common.check_page(lower, upper, len(self.attemptTimestamps))
    out: DynArray[uint256, common.MAX_PAGE] = []
    for i: uint256 in range(lower, upper + 1, bound=common.MAX_PAGE):
        out.append(self.attemptTimestamps[i])
    return out


@external
@view
def getResponseCount() -> uint256:
    return len(self._responses)


@external
@view
def getResponsesOf(lower: uint256, upper: uint256) -> DynArray[address, common.MAX_PAGE]:
    """
    @notice Entry i is the response of attempter i (zero address: no response yet); indexed like
            the attempters (count: getAttemptCount), both bounds inclusive.
    """
    common.check_page(lower, upper, len(self.attempters))
    out: DynArray[address, common.MAX_PAGE] = []
    for i: uint256 in range(lower, upper + 1, bound=common.MAX_PAGE):
        out.append(self.responseOf[self.attempters[i]])
    return out
