# pragma version 0.4.3
"""
@title Vault (OpenGPU devnet stub)
@notice Native-token ledgers per account: liquid balance, lockup, unbonding,
        frozen (escrowed task payments, per client and per task), sanctions and
        earnings. Invariant: this contract's native balance equals the sum over
        accounts of balanceOf + lockupOf + unbondingOf + frozenPayment, plus
        sanctionedAmount.
        Escrow entry points (freezePayment, processPayment, releasePayment) are
        for CONTROLLER-role contracts (Nexus, Controller); admin entry points
        need DEFAULT_ADMIN_ROLE in Manager; sanction/waive need JUDGE or admin.
"""
import common

event Claimed:
    account: address
    amount: uint256

event Deposited:
    account: address
    amount: uint256

event Locked:
    account: address
    amount: uint256

event Sanctioned:
    account: address
    amount: uint256

event Unbonded:
    account: address
    amount: uint256

event UnbondingCanceled:
    account: address
    amount: uint256

event Waived:
    account: address
    amount: uint256

event Withdrawn:
    account: address
    amount: uint256

manager: public(address)
nexus: public(address)
terminal: public(address)

UNBONDING_PERIOD: public(uint256)
MIN_LOCKUP_PER_SOURCE: public(uint256)

balanceOf: public(HashMap[address, uint256])
lockupOf: public(HashMap[address, uint256])
unbondingOf: public(HashMap[address, uint256])
unbondingTimestamp: public(HashMap[address, uint256])
frozenPayment: public(HashMap[address, uint256])
totalEarningsOf: public(HashMap[address, uint256])
sanctionOf: public(HashMap[address, uint256])
sanctionedAmount: public(uint256)
isWhitelisted: public(HashMap[address, bool])

# per task escrow: task -> (client, amount)
taskClient: public(HashMap[address, address])
taskFrozen: public(HashMap[address, uint256])


@deploy
def __init__(
    _manager: address,
    _nexus: address,
    _terminal: address,
    unbonding_period: uint256,
    min_lockup_per_source: uint256,
):
    self.manager = _manager
    self.nexus = _nexus
    self.terminal = _terminal
    self.UNBONDING_PERIOD = unbonding_period
    self.MIN_LOCKUP_PER_SOURCE = min_lockup_per_source


# ---- access ---------------------------------------------------------------------

@internal
@view
def _has_role(role: bytes32, account: address) -> bool:
    return staticcall common.IManager(self.manager).hasRole(role, account)


@internal
@view
def _only_controller():
    assert self._has_role(common.CONTROLLER_ROLE, msg.sender), "Unauthorized"


@internal
@view
def _only_admin():
    assert self._has_role(common.DEFAULT_ADMIN_ROLE, msg.sender), "Unauthorized"


@internal
@view
def _only_judge():
    if not self._has_role(common.JUDGE_ROLE, msg.sender):
        assert self._has_role(common.DEFAULT_ADMIN_ROLE, msg.sender), "Unauthorized"


@internal
def _pay_out(to: address, amount: uint256):
    if amount > 0:
        raw_call(to, b"", value=amount)


# ---- account operations -------------------------------------------------------------

@external
@payable
def deposit(account: address):
    assert account != empty(address), "InvalidAccount"
    self.balanceOf[account] += msg.value
    log Deposited(account=account, amount=msg.value)


@external
@payable
def depositLockup(account: address):
    """
    @notice Terminal only: credit msg.value to `account`'s lockup (announceProvider).
    """
    assert msg.sender == self.terminal, "Unauthorized"
    assert account != empty(address), "InvalidAccount"
    self.lockupOf[account] += msg.value
    log Deposited(account=account, amount=msg.value)
    log Locked(account=account, amount=msg.value)


@external
@nonreentrant
def withdraw(amount: uint256):
    assert self.balanceOf[msg.sender] >= amount, "InsufficientBalance"
    self.balanceOf[msg.sender] -= amount
    log Withdrawn(account=msg.sender, amount=amount)
    self._pay_out(msg.sender, amount)


@external
def lock(amount: uint256):
    assert self.balanceOf[msg.sender] >= amount, "InsufficientBalance"
    self.balanceOf[msg.sender] -= amount
    self.lockupOf[msg.sender] += amount
    log Locked(account=msg.sender, amount=amount)


@external
def unbond(amount: uint256):
    assert self.lockupOf[msg.sender] >= amount, "InsufficientLockup"
    self.lockupOf[msg.sender] -= amount
    self.unbondingOf[msg.sender] += amount
    self.unbondingTimestamp[msg.sender] = block.timestamp + self.UNBONDING_PERIOD
    log Unbonded(account=msg.sender, amount=amount)


@external
def cancelUnbonding():
    amount: uint256 = self.unbondingOf[msg.sender]
    assert amount > 0, "NothingUnbonding"
    self.unbondingOf[msg.sender] = 0
    self.unbondingTimestamp[msg.sender] = 0
    self.lockupOf[msg.sender] += amount
    log UnbondingCanceled(account=msg.sender, amount=amount)


@external
def claim():
    amount: uint256 = self.unbondingOf[msg.sender]
    assert amount > 0, "NothingUnbonding"
    assert block.timestamp >= self.unbondingTimestamp[msg.sender], "UnbondingNotElapsed"
    self.unbondingOf[msg.sender] = 0
    self.unbondingTimestamp[msg.sender] = 0
    self.balanceOf[msg.sender] += amount
    log Claimed(account=msg.sender, amount=amount)


# ---- escrow (CONTROLLER role) ---------------------------------------------------------

@external
def freezePayment(client: address, task: address, amount: uint256):
    self._only_controller()
    assert self.taskClient[task] == empty(address), "AlreadyFrozen"
    assert self.balanceOf[client] >= amount, "InsufficientBalance"
    self.balanceOf[client] -= amount
    self.frozenPayment[client] += amount
    self.taskClient[task] = client
    self.taskFrozen[task] = amount


@internal
def _settle(client: address, provider: address, task: address, amount: uint256):
    assert client != empty(address) and self.taskClient[task] == client, "UnknownEscrow"
    frozen: uint256 = self.taskFrozen[task]
    assert amount <= frozen, "PaymentTooHigh"
    self.taskFrozen[task] = 0
    self.frozenPayment[client] -= frozen
    if amount > 0:
        self.balanceOf[provider] += amount
        self.totalEarningsOf[provider] += amount
    self.balanceOf[client] += frozen - amount


@external
def processPayment(client: address, provider: address, task: address, amount: uint256):
    self._only_controller()
    self._settle(client, provider, task, amount)


@external
def releasePayment(client: address, task: address):
    self._only_controller()
    self._settle(client, empty(address), task, 0)


@external
def forceReleasePayment(client: address, task: address):
    self._only_admin()
    self._settle(client, empty(address), task, 0)


# ---- sanctions and admin ----------------------------------------------------------------

@external
def sanction(account: address, amount: uint256):
    self._only_judge()
    assert self.lockupOf[account] >= amount, "InsufficientLockup"
    self.lockupOf[account] -= amount
    self.sanctionOf[account] += amount
    self.sanctionedAmount += amount
    log Sanctioned(account=account, amount=amount)


@external
def waive(account: address, amount: uint256):
    self._only_judge()
    assert self.sanctionOf[account] >= amount, "InsufficientSanction"
    self.sanctionOf[account] -= amount
    self.sanctionedAmount -= amount
    self.lockupOf[account] += amount
    log Waived(account=account, amount=amount)


@external
@nonreentrant
def withdrawSanctionOf(account: address):
    self._only_admin()
    amount: uint256 = self.sanctionOf[account]
    self.sanctionOf[account] = 0
    self.sanctionedAmount -= amount
    self._pay_out(msg.sender, amount)


@external
@nonreentrant
def emergencyExit(account: address):
    self._only_admin()
    amount: uint256 = self.balanceOf[account] + self.lockupOf[account] + self.unbondingOf[account]
    self.balanceOf[account] = 0
    self.lockupOf[account] = 0
    self.unbondingOf[account] = 0
    self.unbondingTimestamp[account] = 0
    log Withdrawn(account=account, amount=amount)
    self._pay_out(account, amount)


@external
def setWhitelist(account: address, _value: bool):
    self._only_admin()
    self.isWhitelisted[account] = _value


@external
def setMaxUnbondingPeriod(period: uint256):
    self._only_admin()
    self.UNBONDING_PERIOD = period


@external
def setMinLockupPerSource(amount: uint256):
    self._only_admin()
    self.MIN_LOCKUP_PER_SOURCE = amount


@external
def setTerminal(_terminal: address):
    self._only_admin()
    self.terminal = _terminal


@external
def setNexus(_nexus: address):
    self._only_admin()
    self.nexus = _nexus


@external
def setManager(_manager: address):
    self._only_admin()
    self.manager = _manager


# ---- views ------------------------------------------------------------------------------

@external
@view
def getBalanceOf(account: address) -> uint256:
    return self.balanceOf[account]


@external
@view
def getLockupOf(account: address) -> uint256:
    return self.lockupOf[account]


@external
@view
def isEligible(account: address) -> bool:
    # protocol.md: lockup >= MIN_LOCKUP_PER_SOURCE and not sanctioned (whitelisting is
    # recorded by setWhitelist/isWhitelisted but grants nothing on the devnet)
    return self.sanctionOf[account] == 0 and self.lockupOf[account] >= self.MIN_LOCKUP_PER_SOURCE
