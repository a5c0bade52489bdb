# pragma version 0.4.3
"""
@title Nexus (OpenGPU devnet stub)
@notice Sources, registration, attempts, responses, and every protocol event.
        Sources and responses are created here from blueprints; tasks are
        created by Controller, which reports them through emitTaskPublished.
        Privileged entry points (emitTaskPublished, set*Status) accept only
        accounts holding the CONTROLLER role in Manager ("Unauthorized").
"""
import common
import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

event Attempted:
    task: address
    provider: address
    suggestedPayment: uint256

event Registered:
    provider: address
    registrantId: uint256
    source: address
    preferredEnvironment: uint8

event ResponseStatusChanged:
    response: address
    status: uint8

event ResponseSubmitted:
    response: address
    task: address

event SourcePublished:
    source: address

event SourceStatusChanged:
    source: address
    status: uint8

event SourceUpdated:
    source: address
    sourceParams: common.SourceParams

event TaskPublished:
    task: address
    source: address

event TaskStatusChanged:
    task: address
    status: uint8

CONTROLLER: public(constant(bytes32)) = common.CONTROLLER_ROLE
PROVIDER: public(constant(bytes32)) = common.PROVIDER_ROLE

manager: public(address)
terminal: public(address)
vault: public(address)
sourceBlueprint: public(address)
responseBlueprint: public(address)

sources: public(DynArray[address, common.MAX_ITEMS])
sourceId: public(HashMap[address, uint256])
isSource: public(HashMap[address, bool])
clients: public(DynArray[address, common.MAX_ITEMS])
isClient: public(HashMap[address, bool])
sourcesOf: public(HashMap[address, DynArray[address, common.MAX_ITEMS]])
activeSourceCountOf: public(HashMap[address, uint256])
# task -> its source, response -> its task (the protocol's registry)
taskSource: public(HashMap[address, address])
responseTask: public(HashMap[address, address])


@deploy
def __init__(
    _manager: address,
    _terminal: address,
    _vault: address,
    _source_blueprint: address,
    _response_blueprint: address,
):
    ownable.__init__(msg.sender)
    self.manager = _manager
    self.terminal = _terminal
    self.vault = _vault
    self.sourceBlueprint = _source_blueprint
    self.responseBlueprint = _response_blueprint


# ---- access helpers ---------------------------------------------------------------

@internal
@view
def _is_controller(account: address) -> bool:
    return staticcall common.IManager(self.manager).hasRole(common.CONTROLLER_ROLE, account)


@internal
@view
def _only_controller():
    assert self._is_controller(msg.sender), "Unauthorized"


@internal
@view
def _check_client(client: address):
    """sender must be `client` or an agent of it"""
    if msg.sender != client:
        assert staticcall common.ITerminal(self.terminal).getIsAgentOf(client, msg.sender), "NotOwner"


@internal
@view
def _check_provider_sender(provider: address):
    """sender must be the provider, its master, or an agent of that master"""
    if msg.sender == provider:
        return
    master: address = staticcall common.ITerminal(self.terminal).masterOf(provider)
    assert master != empty(address), "NotProvider"
    if msg.sender != master:
        terminal: common.ITerminal = common.ITerminal(self.terminal)
        assert staticcall terminal.getIsAgentOf(master, msg.sender), "NotMaster"
        # a provider that disabled the default agent (setDefaultAgentDisabled, signed by
        # the provider) is not acted for by it
        if staticcall terminal.defaultAgentDisabled(provider):
            assert msg.sender != staticcall terminal.defaultAgent(), "NotMaster"


@internal
@view
def _validate(p: common.SourceParams):
    assert p.imageEnvironments != 0 and p.imageEnvironments <= common.ENV_ALL, "InvalidEnvironment"
    assert p.deliveryMethod <= common.DELIVERY_FIRST_RESPONSE, "InvalidDeliveryMethod"


@internal
@view
def _known_source(source: address):
    assert self.isSource[source], "UnknownSource"


@internal
def _set_task_status(task: address, new_status: uint8):
    extcall common.ITask(task).setStatus(new_status)
    log TaskStatusChanged(task=task, status=new_status)


# ---- sources ------------------------------------------------------------------------

@external
def publishSource(_sourceParams: common.SourceParams):
    self._check_client(_sourceParams.client)
    self._validate(_sourceParams)
    p: common.SourceParams = _sourceParams
    p.lastUpdateTime = block.timestamp
    source: address = create_from_blueprint(self.sourceBlueprint, p)
    self.sourceId[source] = len(self.sources)
    self.sources.append(source)
    self.isSource[source] = True
    if not self.isClient[p.client]:
        self.isClient[p.client] = True
        self.clients.append(p.client)
    self.sourcesOf[p.client].append(source)
    self.activeSourceCountOf[p.client] += 1
    log SourcePublished(source=source)


@external
def updateSource(source: address, _sourceParams: common.SourceParams):
    self._known_source(source)
    client: address = staticcall common.ISource(source).getClient()
    self._check_client(client)
    assert _sourceParams.client == client, "ClientMismatch"
    assert staticcall common.ISource(source).getStatus() == common.SOURCE_ACTIVE, "SourceInactive"
    self._validate(_sourceParams)
    p: common.SourceParams = _sourceParams
    p.lastUpdateTime = block.timestamp
    extcall common.ISource(source).setSourceParams(p)
    log SourceUpdated(source=source, sourceParams=p)


@internal
def _set_source_status(source: address, new_status: uint8):
    old_status: uint8 = staticcall common.ISource(source).getStatus()
    if old_status == new_status:
        return
    client: address = staticcall common.ISource(source).getClient()
    if new_status == common.SOURCE_INACTIVE:
        self.activeSourceCountOf[client] -= 1
    else:
        self.activeSourceCountOf[client] += 1
    extcall common.ISource(source).setStatus(new_status)
    log SourceStatusChanged(source=source, status=new_status)


@external
def inactivateSource(source: address):
    self._known_source(source)
    self._check_client(staticcall common.ISource(source).getClient())
    assert staticcall common.ISource(source).getStatus() == common.SOURCE_ACTIVE, "SourceInactive"
    self._set_source_status(source, common.SOURCE_INACTIVE)


# ---- registration -------------------------------------------------------------------

@external
def register(source: address, provider: address, preferredEnvironment: uint8):
    self._known_source(source)
    self._check_provider_sender(provider)
    assert staticcall common.ISource(source).getStatus() == common.SOURCE_ACTIVE, "SourceInactive"
    envs: uint8 = 0
    min_lockup: uint256 = 0
    envs, min_lockup = staticcall common.ISource(source).registrationRequirements()
    env: uint8 = preferredEnvironment
    assert (env == 1 or env == 2 or env == 4) and (envs & env) != 0, "InvalidEnvironment"
    vault: common.IVault = common.IVault(self.vault)
    assert staticcall vault.sanctionOf(provider) == 0, "NotEligible"
    required: uint256 = max(min_lockup, staticcall vault.MIN_LOCKUP_PER_SOURCE())
    assert staticcall vault.lockupOf(provider) >= required, "InsufficientLockup"
    registrant_id: uint256 = extcall common.ISource(source).register(provider, env)
    log Registered(
        provider=provider, registrantId=registrant_id, source=source, preferredEnvironment=env
    )


@external
def unregister(source: address, provider: address):
    self._known_source(source)
    self._check_provider_sender(provider)
    assert staticcall common.ISource(source).isRegistered(provider), "NotRegistered"
    extcall common.ISource(source).unregister(provider)


# ---- attempts and responses ------------------------------------------------------------

@external
def attempt(task: address, provider: address, suggestedPayment: uint256):
    source: address = self.taskSource[task]
    assert source != empty(address), "UnknownTask"
    self._check_provider_sender(provider)
    assert staticcall common.ISource(source).isRegistered(provider), "NotRegistered"
    t: common.ITask = common.ITask(task)
    status: uint8 = staticcall t.getStatus()
    assert status != common.TASK_FINALIZED, "AlreadyFinalized"
    assert status != common.TASK_CANCELED, "Canceled"
    assert status != common.TASK_EXPIRED, "Expired"
    if block.timestamp > staticcall t.getExpiryTime():
        # expires the task and returns the escrow; records no attempt
        self._set_task_status(task, common.TASK_EXPIRED)
        extcall common.IVault(self.vault).releasePayment(
            staticcall common.IVault(self.vault).taskClient(task), task
        )
        return
    assert staticcall common.IVault(self.vault).isEligible(provider), "NotEligible"
    extcall t.attempt(provider)
    log Attempted(task=task, provider=provider, suggestedPayment=suggestedPayment)
    if status == common.TASK_NEW:
        self._set_task_status(task, common.TASK_ATTEMPTED)


@external
def submitResponse(_responseParams: common.ResponseParams):
    task: address = _responseParams.task
    provider: address = _responseParams.provider
    assert msg.sender == provider, "NotProvider"
    source: address = self.taskSource[task]
    assert source != empty(address), "UnknownTask"
    t: common.ITask = common.ITask(task)
    status: uint8 = staticcall t.getStatus()
    assert status != common.TASK_FINALIZED, "AlreadyFinalized"
    assert status != common.TASK_CANCELED, "Canceled"
    assert status != common.TASK_EXPIRED, "Expired"
    assert block.timestamp <= staticcall t.getExpiryTime(), "Expired"
    assert staticcall t.hasAttempted(provider), "NotAttempted"
    assert _responseParams.payment <= staticcall t.getPayment(), "PaymentTooHigh"
    assert staticcall t.responseOf(provider) == empty(address), "AlreadyResponded"
    assert not staticcall t.isAlreadySubmitted(keccak256(_responseParams.data)), "AlreadySubmitted"

    response: address = create_from_blueprint(self.responseBlueprint, _responseParams)
    self.responseTask[response] = task
    extcall t.submitResponse(response, provider)
    log ResponseSubmitted(response=response, task=task)

    if staticcall t.getDeliveryMethod() == common.DELIVERY_FIRST_RESPONSE:
        extcall common.IResponse(response).confirm()
        log ResponseStatusChanged(response=response, status=common.RESPONSE_CONFIRMED)
        extcall t.setWinningProvider(provider)
        self._set_task_status(task, common.TASK_FINALIZED)
        extcall common.IVault(self.vault).processPayment(
            staticcall common.IVault(self.vault).taskClient(task),
            provider,
            task,
            _responseParams.payment,
        )
    elif status != common.TASK_RESPONDED:
        self._set_task_status(task, common.TASK_RESPONDED)


# ---- privileged (CONTROLLER role) ----------------------------------------------------------

@external
def emitTaskPublished(task: address, source: address):
    self._only_controller()
    self._known_source(source)
    assert self.taskSource[task] == empty(address), "AlreadyPublished"
    self.taskSource[task] = source
    log TaskPublished(task=task, source=source)


@external
def setTaskStatus(task: address, status: uint8):
    self._only_controller()
    assert self.taskSource[task] != empty(address), "UnknownTask"
    self._set_task_status(task, status)


@external
def setResponseStatus(response: address, status: uint8):
    self._only_controller()
    assert self.responseTask[response] != empty(address), "UnknownResponse"
    extcall common.IResponse(response).setStatus(status)
    log ResponseStatusChanged(response=response, status=status)


@external
def setSourceStatus(source: address, status: uint8):
    self._only_controller()
    self._known_source(source)
    assert status <= common.SOURCE_INACTIVE, "InvalidStatus"
    self._set_source_status(source, status)


# ---- views --------------------------------------------------------------------------

@external
@view
def checkController(account: address) -> bool:
    return self._is_controller(account)


@external
@view
def getActiveSourceCount(client: address) -> uint256:
    return self.activeSourceCountOf[client]


@external
@view
def getSourceCount() -> uint256:
    return len(self.sources)


@external
@view
def getSourceId(source: address) -> uint256:
    return self.sourceId[source]


@external
@view
def getClientCount() -> uint256:
    return len(self.clients)


@external
@view
def getSources(lower: uint256, upper: uint256) -> DynArray[address, common.MAX_PAGE]:
    """
    @notice Sources lower..upper, both inclusive (devnet choice, like the other getters).
    """
    common.check_page(lower, upper, len(self.sources))
    out: DynArray[address, common.MAX_PAGE] = []
    for i: uint256 in range(lower, upper + 1, bound=common.MAX_PAGE):
        out.append(self.sources[i])
    return out


# ---- owner --------------------------------------------------------------------------

@external
def setManager(_manager: address):
    ownable._check_owner()
    self.manager = _manager


@external
def setTerminal(_terminal: address):
    ownable._check_owner()
    self.terminal = _terminal


@external
def setVault(_vault: address):
    ownable._check_owner()
    self.vault = _vault


@external
def setBlueprints(_source_blueprint: address, _response_blueprint: address):
    ownable._check_owner()
    self.sourceBlueprint = _source_blueprint
    self.responseBlueprint = _response_blueprint
