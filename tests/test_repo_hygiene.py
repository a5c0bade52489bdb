"""Repository-wide rules that no single distribution can check on its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SDK_SOURCES = {
    "ogpu-ipfs": ROOT / "packages/ogpu-ipfs/src/ogpu",
    "ogpu-protocol": ROOT / "packages/ogpu-protocol/src/ogpu",
    "ogpu-client": ROOT / "packages/ogpu-client/src/ogpu",
    "ogpu": ROOT / "src/ogpu",
}
# Built-in exceptions library code must not raise bare: users catch OGPUError.
BARE_BUILTINS = {"ValueError", "TypeError", "RuntimeError", "Exception", "KeyError", "OSError"}


def _py_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("dist", sorted(SDK_SOURCES))
def test_no_bare_builtin_raise(dist: str) -> None:
    offenders = []
    for path in _py_files(SDK_SOURCES[dist]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id in BARE_BUILTINS:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} raises {exc.id}")
    assert not offenders, "raise a typed OGPUError subclass instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize("dist", sorted(SDK_SOURCES))
def test_sdk_never_exposes_submit_response(dist: str) -> None:
    # Docstrings may say it is absent; no code may define, call or look it up.
    pattern = re.compile(r"^submit_?response$", re.IGNORECASE)
    offenders = []
    for path in _py_files(SDK_SOURCES[dist]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.alias):
                names = [node.asname or node.name.rsplit(".", 1)[-1]]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]  # e.g. contract.get_function_by_name("submitResponse")
            for name in names:
                if pattern.match(name):
                    where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
                    offenders.append(f"{where}: {name}")
    assert not offenders, "submit_response belongs to the provider runtime only:\n" + "\n".join(
        offenders
    )


def test_only_the_meta_package_ships_ogpu_init() -> None:
    inits = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("**/ogpu/__init__.py")
        if ".venv" not in p.parts and "node_modules" not in p.parts and ".bench" not in p.parts
    )
    assert inits == ["src/ogpu/__init__.py"]


@pytest.mark.parametrize("dist", ["ogpu-ipfs", "ogpu-protocol", "ogpu-client"])
def test_every_portion_ships_py_typed(dist: str) -> None:
    portions = [p for p in SDK_SOURCES[dist].iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert portions, f"{dist} has no portion under ogpu/"
    for portion in portions:
        assert (portion / "py.typed").is_file(), f"{portion} lacks py.typed"
        assert (portion / "__init__.py").is_file(), f"{portion} lacks __init__.py"


def test_layering_is_one_way() -> None:
    # ipfs <- protocol <- client <- meta; nothing imports the devnet.
    forbidden = {
        "ogpu-ipfs": (
            "ogpu.types",
            "ogpu.chain",
            "ogpu.protocol",
            "ogpu.client",
            "ogpu.agent",
            "ogpu.events",
            "ogpu_devnet",
            "web3",
            "eth_account",
            "eth_abi",
        ),
        "ogpu-protocol": ("ogpu.client", "ogpu.agent", "ogpu.events", "ogpu_devnet"),
        "ogpu-client": ("ogpu_devnet",),
    }
    offenders = []
    for dist, names in forbidden.items():
        for path in _py_files(SDK_SOURCES[dist]):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                mods: list[str] = []
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    mods = [node.module]
                    if node.module == "ogpu":
                        offenders.append(
                            f"{path.relative_to(ROOT)}: 'from ogpu import' (import the owning portion)"
                        )
                for mod in mods:
                    if any(mod == n or mod.startswith(n + ".") for n in names):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {mod}")
    assert not offenders, "\n".join(offenders)


# Inside ogpu-protocol the portions run one way too: types <- chain <- protocol. An import
# statement anywhere in the file (module level or inside a function) counts, and so does
# ``importlib.import_module("...")`` with a literal name, except on this allow-list:
# ("file relative to ROOT", "function") -> why.
UPWARD_LOOKUPS_ALLOWED: dict[tuple[str, str], str] = {
    ("packages/ogpu-protocol/src/ogpu/chain/config.py", "_protocol_abi"): (
        "the 0.2.3 accessors ChainConfig.load_abi / get_chain_abi_directory read the ABI "
        "files the protocol portion owns, at call time"
    ),
}
PORTION_LAYERS = {
    "types": ("ogpu.chain", "ogpu.protocol"),
    "chain": ("ogpu.protocol",),
}


def _upward_imports(path: Path, names: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    rel = str(path.relative_to(ROOT))

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        mods: list[str] = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods = [node.module]
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("importlib.import_module", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (rel, function) not in UPWARD_LOOKUPS_ALLOWED
        ):
            mods = [node.args[0].value]
        for mod in mods:
            if any(mod == n or mod.startswith(n + ".") for n in names):
                found.append(f"{rel}:{getattr(node, 'lineno', '?')} ({function}) imports {mod}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(path.read_text(), str(path)), "<module>")
    return found


def test_protocol_portions_layer_one_way() -> None:
    offenders = []
    for portion, names in PORTION_LAYERS.items():
        for path in _py_files(SDK_SOURCES["ogpu-protocol"] / portion):
            offenders += _upward_imports(path, names)
    assert not offenders, "\n".join(offenders)
    for (rel, function), why in UPWARD_LOOKUPS_ALLOWED.items():
        tree = ast.parse((ROOT / rel).read_text())
        assert any(isinstance(n, ast.FunctionDef) and n.name == function for n in ast.walk(tree)), (
            f"stale allow-list entry {rel}:{function} ({why})"
        )


# Imports of another distribution's private module (a `_name` part), allowed on purpose:
# ("importing file relative to ROOT", "module") -> why. Keep it short: prefer making the
# shared piece public (as ogpu.ipfs.cid and ogpu.ipfs.safe_json were).
PRIVATE_IMPORTS_ALLOWED: dict[tuple[str, str], str] = {}


def _distribution_of_portions() -> dict[str, str]:
    owners: dict[str, str] = {}
    for project in [*sorted((ROOT / "packages").iterdir()), ROOT / "devnet"]:
        for init in project.glob("src/ogpu/*/__init__.py"):
            owners[f"ogpu.{init.parent.name}"] = project.name
        for init in project.glob("src/*/__init__.py"):
            if init.parent.name != "ogpu":
                owners[init.parent.name] = project.name
    return owners


def test_no_distribution_imports_another_ones_private_modules() -> None:
    owners = _distribution_of_portions()
    sources = {name: path for name, path in SDK_SOURCES.items() if name != "ogpu"}
    sources = {Path(p).parents[1].name: p for p in sources.values()}
    sources["devnet"] = ROOT / "devnet/src/ogpu_devnet"
    sources["meta"] = ROOT / "src/ogpu"
    offenders = []
    used_allowances = set()
    for dist, root in sources.items():
        for path in _py_files(root):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    mods = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                else:
                    continue
                for mod in mods:
                    parts = mod.split(".")
                    portion = ".".join(parts[:2]) if parts[0] == "ogpu" else parts[0]
                    owner = owners.get(portion)
                    private = any(p.startswith("_") and not p.startswith("__") for p in parts)
                    if owner is None or owner == dist or not private:
                        continue
                    key = (str(path.relative_to(ROOT)), mod)
                    if key in PRIVATE_IMPORTS_ALLOWED:
                        used_allowances.add(key)
                    else:
                        offenders.append(
                            f"{key[0]}:{node.lineno} imports {mod} ({owner}'s private)"
                        )
    assert not offenders, (
        "import the public API of another distribution, or make the shared piece public:\n"
        + "\n".join(offenders)
    )
    assert used_allowances == set(PRIVATE_IMPORTS_ALLOWED), "stale PRIVATE_IMPORTS_ALLOWED entries"
