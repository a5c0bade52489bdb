"""The devnet's mock IPFS pinning service (OGPU's wire contract, real CIDs).

Example::

    from ogpu_devnet.ipfs import MockPinningService

    with MockPinningService() as svc:
        url = publish_to_ipfs({"a": 1}, publish_url=svc.publish_url)
"""

from ogpu_devnet.ipfs._service import Faults, MockPinningService

__all__ = ["Faults", "MockPinningService"]
