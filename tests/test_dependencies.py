"""Every distribution declares what its code imports, and declares nothing it does not import.

Imports are read from the sources (AST; ``if TYPE_CHECKING:`` blocks do not count), mapped to
the distributions that provide them in the workspace venv, and compared with the
``dependencies`` (and extras) of each ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11; the rule is checked there

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = sorted(
    [ROOT, ROOT / "devnet", *(p for p in (ROOT / "packages").iterdir() if p.is_dir())]
)

# Declared without a direct import, on purpose (one line each, with the reason).
DECLARED_NOT_IMPORTED = {
    # The meta package only re-exports lazily; installing it means installing the portions.
    ("ogpu", "ogpu-ipfs"),
    ("ogpu", "ogpu-protocol"),
    ("ogpu", "ogpu-client"),
    ("ogpu", "ogpu-service"),
    # Only for recompiling the contract sources (the `compile` extra), run as a subprocess.
    ("ogpu-devnet", "vyper"),
    # eth-keys picks libsecp256k1 (coincurve) when it is installed: sender recovery ~2x cheaper.
    ("ogpu-devnet", "coincurve"),
}
# Optional imports (guarded, behind an extra) whose distribution the workspace venv does not
# install: import name -> distribution.
OPTIONAL_NOT_INSTALLED = {
    # ogpu-service's `sentry` extra: Sentry only when OGPU_SDK_SENTRY_DSN is set and it is installed.
    "sentry_sdk": "sentry-sdk",
}
# Imported without being declared, on purpose.
IMPORTED_NOT_DECLARED = {
    # The pytest plugin module is loaded by pytest itself (entry point pytest11).
    ("ogpu-devnet", "pytest"),
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(project: Path) -> tuple[str, list[Requirement]]:
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    reqs = list(meta.get("dependencies", []))
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += extra
    return meta["name"], [Requirement(r) for r in reqs]


def _declared(project: Path) -> tuple[str, set[str]]:
    name, reqs = _requirements(project)
    return name, {_norm(r.name) for r in reqs}


def _portion_owners() -> dict[str, str]:
    owners = {"ogpu": "ogpu"}
    for project in PROJECTS:
        name = _declared(project)[0]
        for init in project.glob("src/ogpu/*/__init__.py"):
            owners[f"ogpu.{init.parent.name}"] = name
        for init in project.glob("src/*/__init__.py"):
            if init.parent.name != "ogpu":
                owners[init.parent.name] = name
    return owners


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _providers(module: str, owners: dict[str, str]) -> set[str]:
    parts = module.split(".")
    if parts[0] == "ogpu":
        return {owners.get(".".join(parts[:2]), "ogpu")}
    if parts[0] in owners:
        return {owners[parts[0]]}
    dists = importlib.metadata.packages_distributions().get(parts[0], [])
    if not dists and parts[0] in OPTIONAL_NOT_INSTALLED:
        return {OPTIONAL_NOT_INSTALLED[parts[0]]}
    return {_norm(d) for d in dists}


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_dependencies_are_declared_where_imported(project: Path) -> None:
    name, declared = _declared(project)
    owners = _portion_owners()
    used: set[str] = set()
    missing = []
    for path in sorted((project / "src").rglob("*.py")):
        for module, line in _imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            providers = _providers(module, owners)
            assert providers, f"{path}:{line}: no installed distribution provides {module}"
            providers.discard(_norm(name))
            if not providers:
                continue
            used |= providers
            if (
                not providers & declared
                and not {(name, p) for p in providers} & IMPORTED_NOT_DECLARED
            ):
                missing.append(
                    f"{path.relative_to(ROOT)}:{line} imports {module} ({'/'.join(sorted(providers))})"
                )
    assert not missing, f"{name} does not declare:\n" + "\n".join(missing)
    unused = {d for d in declared - used if (name, d) not in DECLARED_NOT_IMPORTED}
    assert not unused, f"{name} declares but never imports: {sorted(unused)}"
    needless = {(n, d) for n, d in DECLARED_NOT_IMPORTED if n == name and d in used}
    assert not needless, f"drop from DECLARED_NOT_IMPORTED (now imported): {needless}"


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_declared_ranges_admit_the_tested_versions(project: Path) -> None:
    # The workspace venv (constraints.txt) is what the suite runs on: every range must hold it.
    name, reqs = _requirements(project)
    outside = []
    for req in reqs:
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        if _norm(req.name) in OPTIONAL_NOT_INSTALLED.values():
            continue  # not installed in the workspace: nothing tested to compare with
        installed = importlib.metadata.version(req.name)
        if not req.specifier.contains(installed, prereleases=True):
            outside.append(f"{req} excludes the tested {req.name} {installed}")
    assert not outside, f"{name}: " + "; ".join(outside)
