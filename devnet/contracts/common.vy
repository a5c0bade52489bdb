# pragma version 0.4.3
"""
@title Shared types of the OpenGPU devnet stub contracts
@notice Structs, enum values (uint8 on chain, as in the deployed ABIs), bounds
        and the cross-contract interfaces. Stateless: imported, never deployed.
"""

# ---- bounds -----------------------------------------------------------------
# Largest string each field accepts (the ABI type stays `string`; longer
# values fail ABI decoding and revert).
# imageMetadataUrl / optionalParamsUrl: 1024 bytes; config / data: 4096 bytes.

# ---- tuples (ABI order of network.md) ---------------------------------------
struct SourceParams:
    client: address
    imageMetadataUrl: String[1024]
    imageEnvironments: uint8
    minPayment: uint256
    minAvailableLockup: uint256
    maxExpiryDuration: uint256
    privacyEnabled: bool
    optionalParamsUrl: String[1024]
    deliveryMethod: uint8
    lastUpdateTime: uint256

struct TaskParams:
    source: address
    config: String[4096]
    expiryTime: uint256
    payment: uint256

struct ResponseParams:
    task: address
    provider: address
    data: String[4096]
    payment: uint256

# ---- enums ------------------------------------------------------------------
TASK_NEW: constant(uint8) = 0
TASK_ATTEMPTED: constant(uint8) = 1
TASK_RESPONDED: constant(uint8) = 2
TASK_CANCELED: constant(uint8) = 3
TASK_EXPIRED: constant(uint8) = 4
TASK_FINALIZED: constant(uint8) = 5

SOURCE_ACTIVE: constant(uint8) = 0
SOURCE_INACTIVE: constant(uint8) = 1

RESPONSE_SUBMITTED: constant(uint8) = 0
RESPONSE_CONFIRMED: constant(uint8) = 1

DELIVERY_MANUAL_CONFIRMATION: constant(uint8) = 0
DELIVERY_FIRST_RESPONSE: constant(uint8) = 1

ENV_ALL: constant(uint8) = 7

# ---- roles (Manager) --------------------------------------------------------
DEFAULT_ADMIN_ROLE: constant(bytes32) = empty(bytes32)
CONTROLLER_ROLE: constant(bytes32) = keccak256("CONTROLLER")
PROVIDER_ROLE: constant(bytes32) = keccak256("PROVIDER")
JUDGE_ROLE: constant(bytes32) = keccak256("JUDGE")
TERMINAL_ROLE: constant(bytes32) = keccak256("TERMINAL")

# ---- sizes --------------------------------------------------------------------
# Storage lists (sources, tasks, registrants, attempts, responses).
MAX_ITEMS: constant(uint256) = 2**32
# Static bound of a getX(lower, upper) result (Vyper needs one; the live contracts return a
# memory array limited only by the call's gas). Far above what 50M gas reads.
MAX_PAGE: constant(uint256) = 20000

# Solidity panic codes (revert data: Panic(uint256) selector 0x4e487b71 + the code).
PANIC_UNDERFLOW: constant(uint256) = 17  # 0x11, checked arithmetic
PANIC_OUT_OF_BOUNDS: constant(uint256) = 50  # 0x32, array index out of bounds


@internal
@pure
def panic(code: uint256):
    """Revert exactly as solc does for a panic: Panic(uint256) with `code`."""
    raw_revert(concat(method_id("Panic(uint256)"), convert(code, bytes32)))


@internal
@pure
def check_page(lower: uint256, upper: uint256, length: uint256):
    """Bounds of an inclusive getX(lower, upper) as solc's
    `new T[](upper - lower + 1)` plus indexed reads check them: lower > upper underflows
    (Panic 0x11); upper >= length is out of bounds (Panic 0x32)."""
    if lower > upper:
        self.panic(PANIC_UNDERFLOW)
    if upper >= length:
        self.panic(PANIC_OUT_OF_BOUNDS)

# ---- interfaces ---------------------------------------------------------------
interface IManager:
    def hasRole(role: bytes32, account: address) -> bool: view
    def grantRole(role: bytes32, account: address): nonpayable
    def revokeRole(role: bytes32, account: address): nonpayable

interface ITerminal:
    def getIsAgentOf(master: address, agent: address) -> bool: view
    def masterOf(provider: address) -> address: view
    def defaultAgent() -> address: view
    def defaultAgentDisabled(account: address) -> bool: view

interface IVault:
    def deposit(account: address): payable
    def depositLockup(account: address): payable
    def taskClient(task: address) -> address: view
    def freezePayment(client: address, task: address, amount: uint256): nonpayable
    def processPayment(client: address, provider: address, task: address, amount: uint256): nonpayable
    def releasePayment(client: address, task: address): nonpayable
    def lockupOf(account: address) -> uint256: view
    def sanctionOf(account: address) -> uint256: view
    def isWhitelisted(account: address) -> bool: view
    def isEligible(account: address) -> bool: view
    def MIN_LOCKUP_PER_SOURCE() -> uint256: view

interface INexus:
    def checkController(account: address) -> bool: view
    def emitTaskPublished(task: address, source: address): nonpayable
    def setTaskStatus(task: address, status: uint8): nonpayable
    def setResponseStatus(response: address, status: uint8): nonpayable
    def isSource(source: address) -> bool: view
    def taskSource(task: address) -> address: view
    def responseTask(response: address) -> address: view

interface ISource:
    def getClient() -> address: view
    def getStatus() -> uint8: view
    def getSourceParams() -> SourceParams: view
    def publishTask(task: address): nonpayable
    def register(provider: address, preferredEnvironment: uint8) -> uint256: nonpayable
    def unregister(provider: address): nonpayable
    def setSourceParams(_sourceParams: SourceParams): nonpayable
    def setStatus(_status: uint8): nonpayable
    def isRegistered(provider: address) -> bool: view
    def registrationRequirements() -> (uint8, uint256): view

interface ITask:
    def getStatus() -> uint8: view
    def getSource() -> address: view
    def getPayment() -> uint256: view
    def getExpiryTime() -> uint256: view
    def getDeliveryMethod() -> uint8: view
    def attempt(provider: address): nonpayable
    def submitResponse(response: address, provider: address): nonpayable
    def setStatus(_status: uint8): nonpayable
    def setWinningProvider(provider: address): nonpayable
    def isAlreadySubmitted(dataHash: bytes32) -> bool: view
    def responseOf(provider: address) -> address: view
    def hasAttempted(provider: address) -> bool: view

interface IResponse:
    def getResponseParams() -> ResponseParams: view
    def getStatus() -> uint8: view
    def confirm(): nonpayable
    def setStatus(_status: uint8): nonpayable
