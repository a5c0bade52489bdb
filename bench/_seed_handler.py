"""The seed's source handler, for workload 5's flow (``--provider bench/_seed_handler.py:predict``)."""

from __future__ import annotations

from typing import Any


def predict(input_data: dict[str, Any]) -> dict[str, Any]:
    """Count the words of ``input_data["text"]``."""
    return {"words": len(str(input_data["text"]).split())}
