"""Count module-level import cycles among the repository's modules (ogpu.*, ogpu_devnet.*).

An edge A -> B is an import executed when A is imported: top-level statements, not inside a
function or an ``if TYPE_CHECKING:`` block (``from P import name`` counts as an edge to the
submodule ``P.name`` when that is a module, else to ``P``). Cycles are reported as strongly
connected components of more than one module.

    python scripts/import_cycles.py [ROOT] [--lazy] [--typing]   # each cycle, then the count
    (--lazy also counts imports inside functions: the dependencies that are only deferred;
    --typing also the imports under ``if TYPE_CHECKING:``, which never run: annotations only)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module under the distributions' src/ folders."""
    found: dict[str, Path] = {}
    for src in [root / "src", *root.glob("packages/*/src"), root / "devnet/src"]:
        for path in src.rglob("*.py"):
            parts = list(path.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.unparse(node.test):
                todo += node.orelse
                continue
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                todo += handler.body
        else:
            out.append(node)
    return out


def _executed(tree: ast.Module) -> list[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)
    return out


def graph(root: Path, *, lazy: bool = False, typing: bool = False) -> dict[str, set[str]]:
    """Module -> the repository modules its import executes (``lazy``: also the imports
    inside functions; ``typing``: also those only type checkers read)."""
    mods = modules(root)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        if typing:
            nodes: list[ast.AST] = list(ast.walk(tree))
        elif lazy:
            nodes = _executed(tree)
        else:
            nodes = list(_top_level(tree))
        for node in nodes:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names
                ]
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    """Print every cycle and their count."""
    args = [a for a in sys.argv[1:] if a not in ("--lazy", "--typing")]
    typing = "--typing" in sys.argv[1:]
    lazy = typing or "--lazy" in sys.argv[1:]
    root = Path(args[0]) if args else Path(__file__).resolve().parents[1]
    found = cycles(graph(root, lazy=lazy, typing=typing))
    for component in found:
        print(" <-> ".join(component))
    kind = (
        "import (also inside functions and TYPE_CHECKING)"
        if typing
        else "import (also inside functions)"
        if lazy
        else "module-level import"
    )
    print(f"{len(found)} {kind} cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
