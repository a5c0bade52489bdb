# pragma version 0.4.3
"""
@title Manager (OpenGPU devnet stub)
@notice AccessControl-style role registry: DEFAULT_ADMIN_ROLE (0x00),
        CONTROLLER, PROVIDER, JUDGE (keccak256 of the name), plus the devnet's
        TERMINAL role, which administers PROVIDER so that Terminal can grant it
        on pairing. Reverts: "Unauthorized" (missing admin role),
        "BadConfirmation" (renounceRole for someone else).
"""
import common

event RoleAdminChanged:
    role: indexed(bytes32)
    previousAdminRole: indexed(bytes32)
    newAdminRole: indexed(bytes32)

event RoleGranted:
    role: indexed(bytes32)
    account: indexed(address)
    sender: indexed(address)

event RoleRevoked:
    role: indexed(bytes32)
    account: indexed(address)
    sender: indexed(address)

DEFAULT_ADMIN_ROLE: public(constant(bytes32)) = common.DEFAULT_ADMIN_ROLE
CONTROLLER: public(constant(bytes32)) = common.CONTROLLER_ROLE
PROVIDER: public(constant(bytes32)) = common.PROVIDER_ROLE
JUDGE: public(constant(bytes32)) = common.JUDGE_ROLE
TERMINAL: public(constant(bytes32)) = common.TERMINAL_ROLE

# ERC-165 ids: IERC165 and IAccessControl
_IERC165_ID: constant(bytes4) = 0x01ffc9a7
_IACCESS_CONTROL_ID: constant(bytes4) = 0x7965db0b

_members: HashMap[bytes32, HashMap[address, bool]]
_admins: HashMap[bytes32, bytes32]


@deploy
def __init__():
    self._grant(common.DEFAULT_ADMIN_ROLE, msg.sender)
    self._admins[common.PROVIDER_ROLE] = common.TERMINAL_ROLE
    log RoleAdminChanged(
        role=common.PROVIDER_ROLE,
        previousAdminRole=common.DEFAULT_ADMIN_ROLE,
        newAdminRole=common.TERMINAL_ROLE,
    )


@internal
def _grant(role: bytes32, account: address):
    if not self._members[role][account]:
        self._members[role][account] = True
        log RoleGranted(role=role, account=account, sender=msg.sender)


@internal
def _revoke(role: bytes32, account: address):
    if self._members[role][account]:
        self._members[role][account] = False
        log RoleRevoked(role=role, account=account, sender=msg.sender)


@external
@view
def hasRole(role: bytes32, account: address) -> bool:
    return self._members[role][account]


@external
@view
def getRoleAdmin(role: bytes32) -> bytes32:
    return self._admins[role]


@external
def grantRole(role: bytes32, account: address):
    assert self._members[self._admins[role]][msg.sender], "Unauthorized"
    self._grant(role, account)


@external
def revokeRole(role: bytes32, account: address):
    assert self._members[self._admins[role]][msg.sender], "Unauthorized"
    self._revoke(role, account)


@external
def renounceRole(role: bytes32, callerConfirmation: address):
    assert callerConfirmation == msg.sender, "BadConfirmation"
    self._revoke(role, msg.sender)


@external
@view
def supportsInterface(interfaceId: bytes4) -> bool:
    return interfaceId == _IERC165_ID or interfaceId == _IACCESS_CONTROL_ID
