"""The Vault of the devnet's stub contracts, with plain web3.py over HTTP.

Covers protocol.md "Vault": deposit, withdraw, lock, unbond, cancelUnbonding, claim (through
evm_increaseTime), the views, eligibility, sanctions and the admin entry points; and value
conservation (the Vault's native balance always equals the sum of its ledgers).
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("backend_isolated")

ETHER = 10**18
Protocol = Any  # conftest.Protocol
World = Any  # conftest.World


def _gas_cost(receipt: Any) -> int:
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])


def test_deposit_by_anyone_for_an_account(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    before = v.balanceOf(w.client2.address).call()
    receipt = proto.send(v.deposit(w.client2.address), w.outsider, value=3 * ETHER)
    assert proto.events(receipt, proto.vault, "Deposited") == [
        {"account": w.client2.address, "amount": 3 * ETHER}
    ]
    assert v.balanceOf(w.client2.address).call() == before + 3 * ETHER
    assert v.getBalanceOf(w.client2.address).call() == before + 3 * ETHER
    assert v.balanceOf(w.outsider.address).call() == 0
    proto.assert_conserved(w.vault_accounts())


def test_withdraw_sends_native_tokens(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    proto.send(v.deposit(w.client2.address), w.client2, value=2 * ETHER)
    proto.expect_revert(v.withdraw(2 * ETHER + 1), w.client2, "InsufficientBalance")
    native_before = proto.w3.eth.get_balance(w.client2.address)
    receipt = proto.send(v.withdraw(ETHER), w.client2)
    assert proto.events(receipt, proto.vault, "Withdrawn") == [
        {"account": w.client2.address, "amount": ETHER}
    ]
    native_after = proto.w3.eth.get_balance(w.client2.address)
    assert native_after == native_before + ETHER - _gas_cost(receipt)
    assert v.balanceOf(w.client2.address).call() == ETHER
    proto.assert_conserved(w.vault_accounts())


def test_lock_unbond_claim_cycle(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    a = w.client2
    proto.send(v.deposit(a.address), a, value=ETHER)
    proto.expect_revert(v.lock(ETHER + 1), a, "InsufficientBalance")
    receipt = proto.send(v.lock(ETHER // 2), a)
    assert proto.events(receipt, proto.vault, "Locked") == [
        {"account": a.address, "amount": ETHER // 2}
    ]
    assert v.lockupOf(a.address).call() == ETHER // 2
    assert v.getLockupOf(a.address).call() == ETHER // 2
    assert v.isEligible(a.address).call() is True

    proto.expect_revert(v.unbond(ETHER // 2 + 1), a, "InsufficientLockup")
    receipt = proto.send(v.unbond(ETHER // 4), a)
    assert proto.events(receipt, proto.vault, "Unbonded") == [
        {"account": a.address, "amount": ETHER // 4}
    ]
    period = v.UNBONDING_PERIOD().call()
    unbond_time = proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert v.unbondingOf(a.address).call() == ETHER // 4
    assert v.unbondingTimestamp(a.address).call() == unbond_time + period
    assert v.lockupOf(a.address).call() == ETHER // 4

    proto.expect_revert(v.claim(), a, "UnbondingNotElapsed")
    proto.travel(period)
    receipt = proto.send(v.claim(), a)
    assert proto.events(receipt, proto.vault, "Claimed") == [
        {"account": a.address, "amount": ETHER // 4}
    ]
    assert v.unbondingOf(a.address).call() == 0
    assert v.balanceOf(a.address).call() == ETHER // 2 + ETHER // 4
    proto.expect_revert(v.claim(), a, "NothingUnbonding")
    proto.assert_conserved(w.vault_accounts())


def test_cancel_unbonding_restores_lockup(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    p = w.provider2
    lockup = v.lockupOf(p.address).call()
    proto.expect_revert(v.cancelUnbonding(), p, "NothingUnbonding")
    proto.send(v.unbond(lockup), p)
    assert v.isEligible(p.address).call() is False
    receipt = proto.send(v.cancelUnbonding(), p)
    assert proto.events(receipt, proto.vault, "UnbondingCanceled") == [
        {"account": p.address, "amount": lockup}
    ]
    assert v.lockupOf(p.address).call() == lockup
    assert v.unbondingOf(p.address).call() == 0
    assert v.unbondingTimestamp(p.address).call() == 0
    assert v.isEligible(p.address).call() is True
    proto.assert_conserved(w.vault_accounts())


def test_constants_and_views(proto: Protocol, proto_world: World) -> None:
    v = proto.vault.functions
    assert v.MIN_LOCKUP_PER_SOURCE().call() == 10**15  # devnet default
    assert v.UNBONDING_PERIOD().call() == 60  # devnet default
    assert v.nexus().call() == proto.nexus.address
    assert v.terminal().call() == proto.terminal.address
    assert v.manager().call() == proto.manager.address
    w = proto_world
    assert v.frozenPayment(w.client.address).call() == 0
    assert v.totalEarningsOf(w.provider.address).call() == 0
    assert v.sanctionOf(w.provider.address).call() == 0
    assert v.sanctionedAmount().call() == 0
    assert v.isWhitelisted(w.provider.address).call() is False
    assert v.isEligible(w.provider.address).call() is True
    assert v.isEligible(w.outsider.address).call() is False


def test_sanction_waive_and_withdraw_sanction(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    p = w.provider2
    amount = 10**16
    proto.expect_revert(v.sanction(p.address, amount), w.outsider, "Unauthorized")
    receipt = proto.send(v.sanction(p.address, amount), w.admin)
    assert proto.events(receipt, proto.vault, "Sanctioned") == [
        {"account": p.address, "amount": amount}
    ]
    assert v.sanctionOf(p.address).call() == amount
    assert v.sanctionedAmount().call() == amount
    assert v.isEligible(p.address).call() is False
    proto.assert_conserved(w.vault_accounts())
    # a sanctioned provider cannot register nor attempt
    source = proto.publish_source(w.client)
    fn = proto.nexus.functions.register(source, p.address, 1)
    proto.expect_revert(fn, p, "NotEligible")

    proto.expect_revert(v.waive(p.address, amount), w.outsider, "Unauthorized")
    receipt = proto.send(v.waive(p.address, amount // 2), w.admin)
    assert proto.events(receipt, proto.vault, "Waived") == [
        {"account": p.address, "amount": amount // 2}
    ]
    proto.expect_revert(v.waive(p.address, amount), w.admin, "InsufficientSanction")
    proto.expect_revert(v.withdrawSanctionOf(p.address), w.outsider, "Unauthorized")
    admin_before = proto.w3.eth.get_balance(w.admin.address)
    receipt = proto.send(v.withdrawSanctionOf(p.address), w.admin)
    admin_after = proto.w3.eth.get_balance(w.admin.address)
    assert admin_after == admin_before + amount // 2 - _gas_cost(receipt)
    assert v.sanctionOf(p.address).call() == 0
    assert v.sanctionedAmount().call() == 0
    proto.assert_conserved(w.vault_accounts())


def test_whitelist_is_recorded_but_eligibility_is_lockup_and_no_sanction(
    proto: Protocol, proto_world: World
) -> None:
    """protocol.md: isEligible = lockup >= MIN_LOCKUP_PER_SOURCE and not sanctioned, and
    register needs lockup >= max(minAvailableLockup, MIN_LOCKUP_PER_SOURCE): a whitelist
    flag changes neither."""
    w = proto_world
    v = proto.vault.functions
    a = w.outsider
    minimum = v.MIN_LOCKUP_PER_SOURCE().call()
    proto.expect_revert(v.setWhitelist(a.address, True), a, "Unauthorized")
    proto.send(v.setWhitelist(a.address, True), w.admin)
    assert v.isWhitelisted(a.address).call() is True
    assert v.isEligible(a.address).call() is False
    register = proto.nexus.functions.register(w.src_first, a.address, 1)
    proto.expect_revert(register, a, "InsufficientLockup")
    proto.send(v.deposit(a.address), a, value=minimum + 1)
    proto.send(v.lock(minimum - 1), a)
    assert v.isEligible(a.address).call() is False  # one wei short
    proto.send(v.lock(1), a)
    assert v.isEligible(a.address).call() is True  # exactly the minimum
    proto.send(v.lock(1), a)
    proto.send(v.sanction(a.address, 1), w.admin)
    assert v.lockupOf(a.address).call() == minimum
    assert v.isEligible(a.address).call() is False  # enough lockup, but sanctioned
    proto.send(v.waive(a.address, 1), w.admin)
    assert v.isEligible(a.address).call() is True
    proto.send(register, a)


def test_emergency_exit_pays_out_everything(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    p = w.provider2
    proto.send(v.deposit(p.address), p, value=ETHER)
    proto.send(v.unbond(10**16), p)
    total = sum(proto.ledger(p.address).values())
    proto.expect_revert(v.emergencyExit(p.address), p, "Unauthorized")
    native_before = proto.w3.eth.get_balance(p.address)
    proto.send(v.emergencyExit(p.address), w.admin)
    assert proto.w3.eth.get_balance(p.address) == native_before + total
    assert sum(proto.ledger(p.address).values()) == 0
    proto.assert_conserved(w.vault_accounts())


def test_admin_setters(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    v = proto.vault.functions
    for fn in (
        v.setMinLockupPerSource(5),
        v.setMaxUnbondingPeriod(7),
        v.setTerminal(w.outsider.address),
    ):
        proto.expect_revert(fn, w.outsider, "Unauthorized")
    proto.send(v.setMinLockupPerSource(5), w.admin)
    proto.send(v.setMaxUnbondingPeriod(7), w.admin)
    assert v.MIN_LOCKUP_PER_SOURCE().call() == 5
    assert v.UNBONDING_PERIOD().call() == 7


def test_payments_conserved_across_a_busy_history(proto: Protocol, proto_world: World) -> None:
    """Every wei frozen is paid out or returned: FIRST_RESPONSE, confirm, cancel, expiry."""
    w = proto_world
    v = proto.vault.functions
    accounts = w.vault_accounts()
    client_total = sum(proto.ledger(w.client.address).values())
    pay = 10**16
    t1 = proto.publish_task(w.src_first, w.client, payment=pay)  # paid 60%
    t2 = proto.publish_task(w.src_manual, w.client, payment=pay)  # confirmed, full
    t3 = proto.publish_task(w.src_first, w.client, payment=pay)  # canceled
    t4 = proto.publish_task(w.src_first, w.client, payment=pay, expires_in=100)  # expires
    assert v.frozenPayment(w.client.address).call() == 4 * pay
    proto.assert_conserved(accounts)
    proto.attempt(t1, w.provider)
    proto.submit(t1, w.provider, "r1", pay * 6 // 10)
    proto.attempt(t2, w.provider2)
    r2, _ = proto.submit(t2, w.provider2, "r2", pay)
    proto.send(proto.controller.functions.confirmResponse(r2), w.client)
    proto.send(proto.controller.functions.cancelTask(t3), w.client)
    proto.travel(101)
    proto.attempt(t4, w.provider)
    proto.assert_conserved(accounts)
    assert v.frozenPayment(w.client.address).call() == 0
    earned = pay * 6 // 10 + pay
    assert v.totalEarningsOf(w.provider.address).call() == pay * 6 // 10
    assert v.totalEarningsOf(w.provider2.address).call() == pay
    assert sum(proto.ledger(w.client.address).values()) == client_total - earned
