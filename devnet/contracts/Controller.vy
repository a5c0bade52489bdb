# pragma version 0.4.3
"""
@title Controller (OpenGPU devnet stub)
@notice Task publishing (escrow frozen in Vault, Task created from a
        blueprint), cancel and confirm. Holds the CONTROLLER role in Manager.
"""
import common
import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

nexus: public(address)
terminal: public(address)
vault: public(address)
taskBlueprint: public(address)


@deploy
def __init__(_nexus: address, _terminal: address, _vault: address, _task_blueprint: address):
    ownable.__init__(msg.sender)
    self.nexus = _nexus
    self.terminal = _terminal
    self.vault = _vault
    self.taskBlueprint = _task_blueprint


@internal
@view
def _check_client(client: address):
    """sender must be `client` or an agent of it"""
    if msg.sender != client:
        assert staticcall common.ITerminal(self.terminal).getIsAgentOf(client, msg.sender), "NotOwner"


@external
def publishTask(_taskParams: common.TaskParams):
    """
    @notice Anyone may publish to an ACTIVE source (not only its client); the escrow is
            frozen from the publisher's (msg.sender's) Vault balance and the publisher owns
            the task. An expiryTime already in the past is accepted (the task lands expired).
    """
    source: address = _taskParams.source
    assert staticcall common.INexus(self.nexus).isSource(source), "UnknownSource"
    sp: common.SourceParams = staticcall common.ISource(source).getSourceParams()
    assert staticcall common.ISource(source).getStatus() == common.SOURCE_ACTIVE, "SourceInactive"
    assert _taskParams.payment >= sp.minPayment, "PaymentTooLow"
    assert _taskParams.expiryTime <= block.timestamp + sp.maxExpiryDuration, "ExpiryTooLong"
    task: address = create_from_blueprint(
        self.taskBlueprint, _taskParams, sp.deliveryMethod, self.nexus
    )
    extcall common.IVault(self.vault).freezePayment(msg.sender, task, _taskParams.payment)
    extcall common.ISource(source).publishTask(task)
    extcall common.INexus(self.nexus).emitTaskPublished(task, source)


@external
def cancelTask(task: address):
    source: address = staticcall common.INexus(self.nexus).taskSource(task)
    assert source != empty(address), "UnknownTask"
    client: address = staticcall common.IVault(self.vault).taskClient(task)
    self._check_client(client)
    status: uint8 = staticcall common.ITask(task).getStatus()
    assert status != common.TASK_FINALIZED, "AlreadyFinalized"
    assert status != common.TASK_CANCELED and status != common.TASK_EXPIRED, "NotCancelable"
    new_status: uint8 = common.TASK_CANCELED
    if block.timestamp > staticcall common.ITask(task).getExpiryTime():
        new_status = common.TASK_EXPIRED
    else:
        assert status == common.TASK_NEW, "NotCancelable"
    extcall common.INexus(self.nexus).setTaskStatus(task, new_status)
    extcall common.IVault(self.vault).releasePayment(client, task)


@external
def confirmResponse(response: address):
    task: address = staticcall common.INexus(self.nexus).responseTask(response)
    assert task != empty(address), "UnknownResponse"
    client: address = staticcall common.IVault(self.vault).taskClient(task)
    self._check_client(client)
    r: common.IResponse = common.IResponse(response)
    assert staticcall r.getStatus() != common.RESPONSE_CONFIRMED, "AlreadyConfirmed"
    status: uint8 = staticcall common.ITask(task).getStatus()
    assert status != common.TASK_FINALIZED, "AlreadyFinalized"
    assert status == common.TASK_RESPONDED, "NotConfirmable"
    params: common.ResponseParams = staticcall r.getResponseParams()
    extcall common.INexus(self.nexus).setResponseStatus(response, common.RESPONSE_CONFIRMED)
    extcall common.ITask(task).setWinningProvider(params.provider)
    extcall common.INexus(self.nexus).setTaskStatus(task, common.TASK_FINALIZED)
    extcall common.IVault(self.vault).processPayment(client, params.provider, task, params.payment)


# ---- owner --------------------------------------------------------------------------

@external
def setNexus(_nexus: address):
    ownable._check_owner()
    self.nexus = _nexus


@external
def setTerminal(_terminal: address):
    ownable._check_owner()
    self.terminal = _terminal


@external
def setVault(_vault: address):
    ownable._check_owner()
    self.vault = _vault


@external
def setTaskBlueprint(_task_blueprint: address):
    ownable._check_owner()
    self.taskBlueprint = _task_blueprint
