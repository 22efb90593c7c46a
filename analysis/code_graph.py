"""Which modules of a package a module imports, found statically (``ast``; nothing is
imported): the code a pipeline step depends on (analysis.runner.steps) and the import graph
the layout tests check (tests/test_layout.py).

An import inside a function counts (a step imports its stage code inside ``run``); one under
``if TYPE_CHECKING:`` does not (it never runs). ``from a import b`` counts as importing
``a`` and ``a.b`` (b may be a module).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

#: Statement fields that hold nested statements (if/else, try/except/finally, with, match).
NESTED = ("body", "orelse", "finalbody", "handlers", "cases")


@functools.cache
def module_file(name: str) -> Path | None:
    """The source of module ``name``, found below its top-level package's folder (nothing
    but that package is imported), or None when ``name`` is not a module."""
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    origin = Path(spec.origin).resolve()
    if not rest:
        return origin
    base = origin.parent.joinpath(*rest)
    candidates = (base.with_suffix(".py"), base / "__init__.py")
    return next((path for path in candidates if path.is_file()), None)


def is_type_checking(node: ast.stmt) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    return isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")


def absolute_name(node: ast.ImportFrom, package_parts: list[str]) -> str:
    """The module a ``from ... import`` statement names, relative imports resolved against
    the package of the importing module (``package_parts``)."""
    if not node.level:
        return str(node.module)
    parent = package_parts[:len(package_parts) + 1 - node.level]
    return ".".join([*parent, *([node.module] if node.module else [])])


def imported_modules(path: Path, name: str, package: str = "analysis") -> set[str]:
    """Modules of ``package`` that module ``name`` (its source at ``path``) imports."""
    found: set[str] = set()
    parts = name.split(".")
    if path.name != "__init__.py":
        parts = parts[:-1]  # relative imports start from the module's package
    todo = list(ast.parse(path.read_text(encoding="utf-8"), str(path)).body)
    while todo:  # statements only: an import is never inside an expression
        node = todo.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = absolute_name(node, parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif is_type_checking(node):
            todo.extend(node.orelse)
        else:
            for field in NESTED:
                todo.extend(getattr(node, field, ()))
    return {m for m in found if m == package or m.startswith(package + ".")}


def source_imports(path: Path, name: str, package: str,
                   stored: dict[str, tuple[str, list[str]]]) -> set[str]:
    """:func:`imported_modules`, reused from ``stored`` (module -> SHA-256 of its source and
    its imports, as an earlier run found them) when the source is byte for byte the same:
    parsing every module on every run would cost a rerun most of its time."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if name in stored and stored[name][0] == digest:
        return set(stored[name][1])
    found = imported_modules(path, name, package)
    stored[name] = (digest, sorted(found))
    return found


def code_files(module: str, cache: dict[str, set[str]],
               stored: dict[str, tuple[str, list[str]]] | None = None) -> list[Path]:
    """Sources of ``module`` and of the modules of its package it imports, transitively,
    with their packages' ``__init__.py``; ``cache``: module -> its imports (shared between
    calls, so each source is parsed once); ``stored``: see :func:`source_imports` (none:
    every source is parsed)."""
    stored = {} if stored is None else stored
    package = module.split(".")[0]
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        parts = todo.pop().split(".")
        for depth in range(1, len(parts) + 1):  # the packages first, then the module
            dotted = ".".join(parts[:depth])
            path = module_file(dotted)
            if dotted in seen or path is None:
                continue
            seen[dotted] = path
            if dotted not in cache:
                cache[dotted] = source_imports(path, dotted, package, stored)
            todo.extend(cache[dotted])
    return sorted(seen.values())
