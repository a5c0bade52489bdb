# pragma version 0.4.3
"""
@title Source (OpenGPU devnet stub)
@notice One per published source, created by Nexus from a blueprint. Holds the
        SourceParams, the status, the registrants and the tasks. Every write is
        privileged: only Nexus (its owner) or a CONTROLLER-role contract.
"""
import common
import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

nexus: public(address)
status: public(uint8)
registrants: public(DynArray[address, common.MAX_ITEMS])
registrantId: public(HashMap[address, uint256])
preferredEnvironmentOf: public(HashMap[address, uint8])
tasks: public(DynArray[address, common.MAX_ITEMS])
isRegistered: public(HashMap[address, bool])

_params: common.SourceParams


@deploy
@payable
def __init__(_sourceParams: common.SourceParams):
    ownable.__init__(msg.sender)
    self.nexus = msg.sender
    self._params = _sourceParams
    self.status = common.SOURCE_ACTIVE


@internal
@view
def _only_protocol():
    if msg.sender != self.nexus:
        assert staticcall common.INexus(self.nexus).checkController(msg.sender), "Unauthorized"


# ---- privileged writes ----------------------------------------------------------

@external
def publishTask(task: address):
    self._only_protocol()
    self.tasks.append(task)


@external
def register(provider: address, preferredEnvironment: uint8) -> uint256:
    self._only_protocol()
    assert not self.isRegistered[provider], "AlreadyRegistered"
    registrant_id: uint256 = len(self.registrants)
    self.registrants.append(provider)
    self.registrantId[provider] = registrant_id
    self.preferredEnvironmentOf[provider] = preferredEnvironment
    self.isRegistered[provider] = True
    return registrant_id


@external
def unregister(provider: address):
    self._only_protocol()
    assert self.isRegistered[provider], "NotRegistered"
    self.registrants[self.registrantId[provider]] = empty(address)
    self.registrantId[provider] = 0
    self.preferredEnvironmentOf[provider] = 0
    self.isRegistered[provider] = False


@external
def setSourceParams(_sourceParams: common.SourceParams):
    self._only_protocol()
    self._params = _sourceParams


@external
def setStatus(_status: uint8):
    self._only_protocol()
    assert _status <= common.SOURCE_INACTIVE, "InvalidStatus"
    self.status = _status


# ---- views ------------------------------------------------------------------------

@external
@view
def getClient() -> address:
    return self._params.client


@external
@view
def getStatus() -> uint8:
    return self.status


@external
@view
def getSourceParams() -> common.SourceParams:
    return self._params


@external
@view
def sourceParams() -> (
    address, String[1024], uint8, uint256, uint256, uint256, bool, String[1024], uint8, uint256
):
    p: common.SourceParams = self._params
    return (
        p.client,
        p.imageMetadataUrl,
        p.imageEnvironments,
        p.minPayment,
        p.minAvailableLockup,
        p.maxExpiryDuration,
        p.privacyEnabled,
        p.optionalParamsUrl,
        p.deliveryMethod,
        p.lastUpdateTime,
    )


@external
@view
def registrationRequirements() -> (uint8, uint256):
    """
    @notice (imageEnvironments, minAvailableLockup): what Nexus.register checks,
            without copying the whole params struct.
    """
    return (self._params.imageEnvironments, self._params.minAvailableLockup)


@external
@view
def getRegistrantCount() -> uint256:
    return len(self.registrants)


@external
@view
def getRegistrantId(provider: address) -> uint256:
    return self.registrantId[provider]


@external
@view
def getRegistrants(lower: uint256, upper: uint256) -> DynArray[address, common.MAX_PAGE]:
    """
    @notice Entries lower..upper, BOTH inclusive. Like the live contract, the result
            array is indexed absolutely: any lower > 0 reverts with Panic(0x32).
    """
    common.check_page(lower, upper, len(self.registrants))
    if lower > 0:
        common.panic(common.PANIC_OUT_OF_BOUNDS)
    out: DynArray[address, common.MAX_PAGE] = []
    for i: uint256 in range(lower, upper + 1, bound=common.MAX_PAGE):
        out.append(self.registrants[i])
    return out


@external
@view
def getTaskCount() -> uint256:
    return len(self.tasks)


@external
@view
def getTasks(lower: uint256, upper: uint256) -> DynArray[address, common.MAX_PAGE]:
    """
    @notice Entries lower..upper, BOTH inclusive. Like the live contract, the result
            array is indexed absolutely: any lower > 0 reverts with Panic(0x32).
    """
    common.check_page(lower, upper, len(self.tasks))
    if lower > 0:
        common.panic(common.PANIC_OUT_OF_BOUNDS)
    out: DynArray[address, common.MAX_PAGE] = []
    for i: uint256 in range(lower, upper + 1, bound=common.MAX_PAGE):
        out.append(self.tasks[i])
    return out
