"""Our ogpu.service against the published ogpu==0.2.3[service], in a venv of its own.

Signatures are compared with ``inspect.signature`` (parameter names, kinds, defaults), and the
logger's task methods and the 202 body are checked on both sides. The published SDK only ever
runs in a subprocess of its venv (``.bench/published-ogpu-0.2.3-service``).
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

SIGNATURES = """
import inspect, json, logging
import ogpu.service as s

def describe(func):
    return [[p.name, p.kind.name, repr(p.default)] for p in inspect.signature(func).parameters.values()]

print(json.dumps({
    "expose": describe(s.expose),
    "init": describe(s.init),
    "start": describe(s.start),
    "logger_name": s.logger.name,
    "task_methods": {m: describe(getattr(s.logger, m)) for m in ("task_success", "task_fail", "task_timeout")},
    "levels": {n: logging.getLevelName(n) for n in (25, 35, 45)},
}))
"""


def published_python() -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from _published import BENCH_DIR, ensure_venv
    finally:
        sys.path.pop(0)
    return Path(ensure_venv(BENCH_DIR / "published-ogpu-0.2.3-service", "ogpu[service]==0.2.3"))


def describe(func: Any) -> list[list[str]]:
    return [
        [p.name, p.kind.name, repr(p.default)] for p in inspect.signature(func).parameters.values()
    ]


@pytest.mark.slow
def test_the_surface_matches_the_published_service() -> None:
    out = subprocess.run(
        [str(published_python()), "-c", SIGNATURES],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    published = json.loads(out.strip().splitlines()[-1])
    import logging

    import ogpu.service as ours

    assert (
        describe(ours.expose)
        == published["expose"]
        == [["timeout", "POSITIONAL_OR_KEYWORD", "None"]]
    )
    assert describe(ours.init) == published["init"] == []
    assert describe(ours.start) == published["start"] == []
    assert ours.logger.name == published["logger_name"] == "ogpu.service"
    for method, params in published["task_methods"].items():
        assert describe(getattr(ours.logger, method)) == params
    assert {str(n): logging.getLevelName(n) for n in (25, 35, 45)} == published["levels"]
