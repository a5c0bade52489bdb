"""Terminal: provider/master pairing, agents and provider data (one function per method)."""

from __future__ import annotations

from ogpu.chain._address import check_amount
from ogpu.chain.signer import Signer
from ogpu.protocol._base import ChainArg, addr, check_bool, view, write
from ogpu.protocol._revert import RevertContext
from ogpu.types.enums import Role
from ogpu.types.errors import InvalidArgumentTypeError
from ogpu.types.receipt import Receipt

__all__ = [
    "announce_master",
    "announce_provider",
    "get_base_data_of",
    "get_live_data_of",
    "get_master_of",
    "get_provider_of",
    "is_agent_of",
    "is_default_agent_disabled",
    "is_master",
    "is_provider",
    "remove_container",
    "remove_provider",
    "revoke_agent",
    "set_agent",
    "set_default_agent_disabled",
]


def announce_master(
    master_address: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Terminal.announceMaster(master)`` by the provider (``PROVIDER_PRIVATE_KEY``)."""
    master = addr(master_address, "master_address")
    return write(
        "Terminal",
        "announceMaster",
        (master,),
        signer=signer,
        role=Role.PROVIDER,
        chain=chain,
        ctx=lambda caller: RevertContext("Terminal.announceMaster", caller),
    )


def announce_provider(
    provider: str, amount: int, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Terminal.announceProvider(provider, amount)`` by the master, paying ``amount`` wei
    (deposited to the provider's Vault balance)."""
    prov = addr(provider, "provider")
    value = check_amount(amount)
    return write(
        "Terminal",
        "announceProvider",
        (prov, value),
        signer=signer,
        role=Role.MASTER,
        chain=chain,
        value=value,
        ctx=lambda caller: RevertContext("Terminal.announceProvider", caller),
    )


def remove_provider(
    provider: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Terminal.removeProvider(provider)`` by the master."""
    prov = addr(provider, "provider")
    return write(
        "Terminal",
        "removeProvider",
        (prov,),
        signer=signer,
        role=Role.MASTER,
        chain=chain,
        ctx=lambda caller: RevertContext("Terminal.removeProvider", caller),
    )


def remove_container(
    provider: str, source: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Terminal.removeContainer(provider, source)`` by the provider's master."""
    prov = addr(provider, "provider")
    src = addr(source, "source")
    return write(
        "Terminal",
        "removeContainer",
        (prov, src),
        signer=signer,
        role=Role.MASTER,
        chain=chain,
        ctx=lambda caller: RevertContext("Terminal.removeContainer", caller, source=src),
    )


def set_agent(
    agent: str, value: bool, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Terminal.setAgent(agent, value)``; signer defaults to ``CLIENT_PRIVATE_KEY``."""
    agt = addr(agent, "agent")
    flag = check_bool(value, "value")
    return write(
        "Terminal",
        "setAgent",
        (agt, flag),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=lambda caller: RevertContext("Terminal.setAgent", caller),
    )


def revoke_agent(agent: str, *, signer: Signer | None = None, chain: ChainArg = None) -> Receipt:
    """Shorthand for ``set_agent(agent, False)``."""
    return set_agent(agent, False, signer=signer, chain=chain)


def set_default_agent_disabled(
    value: bool, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Terminal.setDefaultAgentDisabled(value)`` for the sender (``MASTER_PRIVATE_KEY``)."""
    flag = check_bool(value, "value")
    return write(
        "Terminal",
        "setDefaultAgentDisabled",
        (flag,),
        signer=signer,
        role=Role.MASTER,
        chain=chain,
        ctx=lambda caller: RevertContext("Terminal.setDefaultAgentDisabled", caller),
    )


def _check_str(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(argument, "a str", type(value).__name__)
    return value


def get_master_of(provider: str, *, chain: ChainArg = None) -> str:
    """``Terminal.masterOf(provider)`` (zero address when unpaired)."""
    return addr(view("Terminal", "masterOf", addr(provider, "provider"), chain=chain), "master")


def get_provider_of(master: str, *, chain: ChainArg = None) -> str:
    """``Terminal.providerOf(master)`` (zero address when unpaired)."""
    return addr(view("Terminal", "providerOf", addr(master, "master"), chain=chain), "provider")


def is_agent_of(account: str, agent: str, *, chain: ChainArg = None) -> bool:
    """``Terminal.isAgentOf(account, agent)``."""
    return bool(
        view("Terminal", "isAgentOf", addr(account, "account"), addr(agent, "agent"), chain=chain)
    )


def is_master(address: str, *, chain: ChainArg = None) -> bool:
    """``Terminal.isMaster(address)``."""
    return bool(view("Terminal", "isMaster", addr(address, "address"), chain=chain))


def is_provider(address: str, *, chain: ChainArg = None) -> bool:
    """``Terminal.isProvider(address)``."""
    return bool(view("Terminal", "isProvider", addr(address, "address"), chain=chain))


def is_default_agent_disabled(address: str, *, chain: ChainArg = None) -> bool:
    """``Terminal.defaultAgentDisabled(address)``."""
    return bool(view("Terminal", "defaultAgentDisabled", addr(address, "address"), chain=chain))


def get_base_data_of(provider: str, *, chain: ChainArg = None) -> str:
    """``Terminal.baseDataOf(provider)``."""
    return str(view("Terminal", "baseDataOf", addr(provider, "provider"), chain=chain))


def get_live_data_of(provider: str, *, chain: ChainArg = None) -> str:
    """``Terminal.liveDataOf(provider)``."""
    return str(view("Terminal", "liveDataOf", addr(provider, "provider"), chain=chain))
