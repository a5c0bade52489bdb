"""Agent calls: an authorised agent registers providers and attempts tasks on their behalf.

A master (or client) authorises an agent with ``Terminal.setAgent(agent, True)``
(``ogpu.client.set_agent``); the agent then signs these calls, by default with
``AGENT_PRIVATE_KEY``. The agent never submits responses: that happens inside the
provider's source runtime only.

Example::

    from ogpu.agent import attempt, register_to
    from ogpu.types import Environment

    register_to(source, provider, Environment.CPU)
    attempt(task, provider, suggested_payment=10**16)
"""

from __future__ import annotations

from ogpu.agent._calls import attempt, register_to, unregister_from
from ogpu.types import Receipt, Role

_COMPAT = (Receipt, Role)  # importable, as from the published 0.2.x module

__all__ = ["attempt", "register_to", "unregister_from"]
