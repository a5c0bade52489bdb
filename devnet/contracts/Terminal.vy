# pragma version 0.4.3
"""
@title Terminal (OpenGPU devnet stub)
@notice Provider/master pairing, agents, provider base/live data.
        A pair forms once the provider announced the master (announceMaster)
        and the master announced the provider (announceProvider), in either
        order; the provider then holds the PROVIDER role in Manager.
        getIsAgentOf(principal, agent) is true for agents set with setAgent and
        for the default agent ("The Order") unless the principal disabled it.
"""
import common
import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

event AgentSet:
    account: address
    agent: address
    value: bool

event BaseDataUpdated:
    provider: address

event DefaultAgentDisabled:
    master: address
    value: bool

event LiveDataUpdated:
    provider: address

event MasterAnnounced:
    provider: address
    master: address

event ProviderAnnounced:
    provider: address
    master: address

event ProviderRemoved:
    provider: address

event RemoveContainer:
    provider: address
    source: address

PROVIDER: public(constant(bytes32)) = common.PROVIDER_ROLE

manager: public(address)
vault: public(address)
defaultAgent: public(address)

isAgentOf: public(HashMap[address, HashMap[address, bool]])
defaultAgentDisabled: public(HashMap[address, bool])
isMaster: public(HashMap[address, bool])
isProvider: public(HashMap[address, bool])
masterOf: public(HashMap[address, address])
providerOf: public(HashMap[address, address])
baseDataOf: public(HashMap[address, String[4096]])
liveDataOf: public(HashMap[address, String[4096]])

# pending announcements, keyed by provider
announcedMasterOf: public(HashMap[address, address])
announcedByMaster: public(HashMap[address, address])


@deploy
def __init__(_manager: address, _vault: address, _default_agent: address):
    ownable.__init__(msg.sender)
    self.manager = _manager
    self.vault = _vault
    self.defaultAgent = _default_agent


# ---- pairing ----------------------------------------------------------------------

@internal
def _try_pair(provider: address, master: address):
    if self.masterOf[provider] != empty(address):
        return
    if self.announcedMasterOf[provider] != master or self.announcedByMaster[provider] != master:
        return
    self.masterOf[provider] = master
    self.providerOf[master] = provider
    self.isProvider[provider] = True
    self.isMaster[master] = True
    extcall common.IManager(self.manager).grantRole(common.PROVIDER_ROLE, provider)


@external
def announceMaster(master: address):
    assert master != empty(address) and master != msg.sender, "InvalidMaster"
    current: address = self.masterOf[msg.sender]
    assert current == empty(address) or current == master, "AlreadyPaired"
    self.announcedMasterOf[msg.sender] = master
    log MasterAnnounced(provider=msg.sender, master=master)
    self._try_pair(msg.sender, master)


@external
@payable
def announceProvider(provider: address, amount: uint256):
    assert provider != empty(address) and provider != msg.sender, "InvalidProvider"
    assert msg.value == amount, "InvalidAmount"
    current: address = self.masterOf[provider]
    assert current == empty(address) or current == msg.sender, "AlreadyPaired"
    paired: address = self.providerOf[msg.sender]
    assert paired == empty(address) or paired == provider, "AlreadyPaired"
    self.announcedByMaster[provider] = msg.sender
    if msg.value > 0:
        # credited to the provider's lockup: eligible at once (published SDK docs)
        extcall common.IVault(self.vault).depositLockup(provider, value=msg.value)
    log ProviderAnnounced(provider=provider, master=msg.sender)
    self._try_pair(provider, msg.sender)


@external
def removeProvider(provider: address):
    master: address = self.masterOf[provider]
    if master == empty(address):
        master = self.announcedByMaster[provider]
    assert master != empty(address) and msg.sender == master, "NotMaster"
    if self.providerOf[master] == provider:
        self.providerOf[master] = empty(address)
        self.isMaster[master] = False
    self.masterOf[provider] = empty(address)
    self.isProvider[provider] = False
    self.announcedByMaster[provider] = empty(address)
    self.announcedMasterOf[provider] = empty(address)
    extcall common.IManager(self.manager).revokeRole(common.PROVIDER_ROLE, provider)
    log ProviderRemoved(provider=provider)


@external
def removeContainer(provider: address, source: address):
    master: address = self.masterOf[provider]
    assert master != empty(address), "NotProvider"
    assert msg.sender == master or self._is_agent(master, msg.sender), "NotMaster"
    log RemoveContainer(provider=provider, source=source)


# ---- agents and data --------------------------------------------------------------

@internal
@view
def _is_agent(principal: address, agent: address) -> bool:
    if self.isAgentOf[principal][agent]:
        return True
    return (
        agent != empty(address)
        and agent == self.defaultAgent
        and not self.defaultAgentDisabled[principal]
    )


@external
def setAgent(agent: address, _value: bool):
    """
    @notice Clients and masters set agents; a provider cannot (published SDK docs).
    """
    assert not self.isProvider[msg.sender], "NotClientOrMaster"
    assert agent != empty(address) and agent != msg.sender, "InvalidAgent"
    self.isAgentOf[msg.sender][agent] = _value
    log AgentSet(account=msg.sender, agent=agent, value=_value)


@external
def setDefaultAgentDisabled(_value: bool):
    self.defaultAgentDisabled[msg.sender] = _value
    log DefaultAgentDisabled(master=msg.sender, value=_value)


@external
def setBaseData(_baseData: String[4096]):
    self.baseDataOf[msg.sender] = _baseData
    log BaseDataUpdated(provider=msg.sender)


@external
def setLiveData(_liveData: String[4096]):
    self.liveDataOf[msg.sender] = _liveData
    log LiveDataUpdated(provider=msg.sender)


# ---- views ------------------------------------------------------------------------

@external
@view
def getIsAgentOf(master: address, agent: address) -> bool:
    return self._is_agent(master, agent)


@external
@view
def getIsMaster(master: address) -> bool:
    return self.isMaster[master]


@external
@view
def getMasterOf(provider: address) -> address:
    return self.masterOf[provider]


# ---- owner ------------------------------------------------------------------------

@external
def setManager(_manager: address):
    ownable._check_owner()
    self.manager = _manager


@external
def setVault(_vault: address):
    ownable._check_owner()
    self.vault = _vault


@external
def setDefaultAgent(_agent: address):
    ownable._check_owner()
    self.defaultAgent = _agent
