"""List the public surface of every portion, so that each addition or removal is a reviewed line.

One file per portion in ``api/`` (``api/ogpu.chain.txt``, ``api/ogpu_devnet.txt``, ...): a line
per public module (``ogpu.chain.config``) and per public name (``ogpu.chain.config:ChainConfig``).
A module is public when no part of its dotted path starts with ``_``; its public names are its
``__all__``, or else the names it defines at top level without a leading ``_``.

Beside them, written by hand:

- ``api/published-0.2.3.txt``: the surface of the published ``ogpu`` 0.2.3, made by
  ``--seed`` from its wheel (``pip download --no-deps ogpu==0.2.3``). Each of its lines is
  either still offered or listed in ``api/removed.txt``.
- ``api/removed.txt``: what of 0.2.3 is deliberately gone, with the reason after ``#``.
- ``api/forbidden.txt``: what the SDK must never offer, with the reason after ``#``.

Usage::

    python scripts/public_api.py --write            # regenerate api/*.txt (`make api`)
    python scripts/public_api.py --check            # exit 1 and print the differences
    python scripts/public_api.py --seed ogpu-0.2.3-py3-none-any.whl

``--write`` also drops lines of ``api/removed.txt`` that are offered again. The test
``tests/test_public_api.py`` runs the same checks.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "api"
PUBLISHED = API / "published-0.2.3.txt"
REMOVED = API / "removed.txt"
FORBIDDEN = API / "forbidden.txt"
REGENERATE = "make api (python scripts/public_api.py --write)"


@dataclass(frozen=True)
class Portion:
    """One importable top-level package shipped by one distribution."""

    name: str  # "ogpu.chain", "ogpu" (the meta package), "ogpu_devnet"
    distribution: str
    path: Path  # its directory

    @property
    def file(self) -> Path:
        """Where its listing lives."""
        return API / f"{self.name}.txt"


def _distribution(project: Path) -> str:
    for line in (project / "pyproject.toml").read_text().splitlines():
        if line.startswith("name = "):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit(f"{project}/pyproject.toml names no project")


def portions() -> list[Portion]:
    """Every portion of every distribution in the repository (found on disk)."""
    found = [Portion("ogpu", _distribution(ROOT), ROOT / "src/ogpu")]
    for project in sorted([*ROOT.glob("packages/*"), ROOT / "devnet"]):
        if not (project / "pyproject.toml").is_file():
            continue
        dist = _distribution(project)
        for init in sorted(project.glob("src/*/__init__.py")):  # ogpu_devnet
            found.append(Portion(init.parent.name, dist, init.parent))
        for init in sorted(project.glob("src/ogpu/*/__init__.py")):  # ogpu.<portion>
            found.append(Portion(f"ogpu.{init.parent.name}", dist, init.parent))
    return found


def _public_modules(portion: Portion) -> Iterator[tuple[str, Path]]:
    if portion.name == "ogpu":  # the meta package: its __init__ only
        yield "ogpu", portion.path / "__init__.py"
        return
    for path in sorted(portion.path.rglob("*.py")):
        parts = path.relative_to(portion.path).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or "__pycache__" in path.parts:
            continue
        yield ".".join((portion.name, *parts)), path


def _defined_names(source: str) -> list[str]:
    """Top-level names a module defines (classes, functions, assignments)."""
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def _declared_all(source: str) -> list[str] | None:
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return [str(n) for n in ast.literal_eval(node.value)]  # type: ignore[union-attr]
    return None


def _lines(module: str, source: str) -> list[str]:
    names = _declared_all(source)
    if names is None:
        names = [n for n in _defined_names(source) if not n.startswith("_")]
    return [module, *(f"{module}:{n}" for n in sorted(set(names)))]


def listing(portion: Portion) -> list[str]:
    """The current public surface of ``portion``, one entry a line."""
    out: list[str] = []
    for module, path in _public_modules(portion):
        out += _lines(module, path.read_text())
    return out


def render(portion: Portion, lines: Iterable[str]) -> str:
    """The text of ``portion``'s file."""
    head = (
        f"# Public surface of {portion.name} (distribution {portion.distribution}).\n"
        f"# Generated by {REGENERATE}: review every changed line.\n"
    )
    return head + "".join(f"{line}\n" for line in lines)


def read_entries(path: Path) -> dict[str, str]:
    """``entry -> comment`` of a listing (blank lines and ``#`` lines skipped)."""
    entries: dict[str, str] = {}
    if not path.is_file():
        return entries
    for raw in path.read_text().splitlines():
        entry, _, comment = raw.partition("#")
        if entry.strip():
            entries[entry.strip()] = comment.strip()
    return entries


def is_offered(entry: str) -> bool:
    """Whether ``module`` imports, or ``module:name`` resolves to an attribute."""
    module, _, name = entry.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return False
    return not name or hasattr(mod, name)


def seed(wheel: Path) -> list[str]:
    """The public surface of a published ``ogpu`` wheel, read from its sources (not run)."""
    out: list[str] = []
    with zipfile.ZipFile(wheel) as zf:
        for member in sorted(zf.namelist()):
            if not member.endswith(".py"):
                continue
            parts = member[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(p.startswith("_") for p in parts):
                continue
            out += _lines(".".join(parts), zf.read(member).decode())
    return out


def surface_problems() -> list[str]:
    """Every difference between the code's public names and the portions' files."""
    found: list[str] = []
    known = {p.file for p in portions()}
    for portion in portions():
        current = listing(portion)
        listed = list(read_entries(portion.file)) if portion.file.is_file() else None
        if listed is None:
            found.append(f"{portion.file.relative_to(ROOT)} is missing")
            continue
        added = sorted(set(current) - set(listed))
        gone = sorted(set(listed) - set(current))
        found += [f"{portion.name}: new public name {e} is not listed" for e in added]
        found += [f"{portion.name}: listed name {e} is gone" for e in gone]
    for stale in sorted(set(API.glob("ogpu*.txt")) - known):
        found.append(f"{stale.relative_to(ROOT)} lists a portion that no longer exists")
    return found


def published_problems() -> list[str]:
    """0.2.3 entries neither offered nor listed as removed, and stale or unexplained removals."""
    found: list[str] = []
    removed = read_entries(REMOVED)
    for entry in read_entries(PUBLISHED):
        if entry in removed:
            if is_offered(entry):
                found.append(f"{entry} is offered again: drop it from api/removed.txt")
            elif not removed[entry]:
                found.append(f"api/removed.txt gives no reason (after #) for {entry}")
        elif not is_offered(entry):
            found.append(
                f"{entry} of the published 0.2.3 no longer imports: restore it (a compat "
                "module re-exporting its new home) or list it in api/removed.txt with the reason"
            )
    return found


def forbidden_offered() -> list[str]:
    """Entries of api/forbidden.txt that the code offers."""
    return [entry for entry in read_entries(FORBIDDEN) if is_offered(entry)]


def write() -> None:
    """Regenerate every portion's file; drop removed.txt lines that are offered again."""
    API.mkdir(exist_ok=True)
    for portion in portions():
        portion.file.write_text(render(portion, listing(portion)))
    for stale in set(API.glob("ogpu*.txt")) - {p.file for p in portions()}:
        stale.unlink()
    if REMOVED.is_file():
        kept = []
        for raw in REMOVED.read_text().splitlines(keepends=True):
            entry = raw.partition("#")[0].strip()
            if entry and is_offered(entry):
                print(f"api/removed.txt: {entry} is offered again; line dropped")
                continue
            kept.append(raw)
        REMOVED.write_text("".join(kept))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate api/*.txt")
    group.add_argument("--check", action="store_true", help="print differences, exit 1 if any")
    group.add_argument("--seed", type=Path, metavar="WHEEL", help="write api/published-0.2.3.txt")
    args = parser.parse_args(argv)
    if args.seed:
        header = (
            f"# Public surface of the published ogpu 0.2.3 ({args.seed.name}), read by\n"
            "# python scripts/public_api.py --seed WHEEL. Every line is offered or in removed.txt.\n"
        )
        PUBLISHED.write_text(header + "".join(f"{e}\n" for e in seed(args.seed)))
        return 0
    if args.write:
        write()
        return 0
    issues = surface_problems() + published_problems()
    issues += [f"{e} is offered although api/forbidden.txt forbids it" for e in forbidden_offered()]
    print("\n".join(issues) or "public surface matches api/")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
