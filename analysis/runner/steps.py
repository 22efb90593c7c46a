"""The registered steps (analysis.tasks.STEPS) as pytask tasks.

A step keeps its contract (``DESCRIPTION``, ``inputs(ctx)``, ``outputs(ctx)``, ``run(ctx)``,
optional ``RUN_FIRST`` / ``RUN_LAST``: pytask's try_first / try_last); its task depends on
its inputs, the study configuration, the model specification, ``pyproject.toml``,
``uv.lock``, the seed, the options and its code (the source of every module of its package
it imports, transitively: static import analysis), and produces its outputs. A folder among
the inputs stands for the files other steps write below it (so the step runs after them),
or for its whole tree when no step writes there; for a RUN_LAST step, which runs after the
others anyway, always for its tree as it is then. Files are compared by content (SHA-256).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytask import Mark, PathNode, TaskWithoutPath, get_state_of_path

from analysis.context import Context
from analysis.io import special_file_kind

ENVIRONMENT_FILES = ("pyproject.toml", "uv.lock")
#: Optional flags of a step module -> pytask's marker: among the steps ready to run, those
#: marked try_first start first, those marked try_last when no other is ready.
PRIORITIES = {"RUN_FIRST": "try_first", "RUN_LAST": "try_last"}


@dataclass(frozen=True)
class Step:
    name: str
    module: str


def registry() -> list[Step]:
    from analysis.tasks import STEPS

    return [Step(name, module) for name, module in STEPS]


class StepSetupError(Exception):
    """A step's module, ``inputs(ctx)`` or ``outputs(ctx)`` failed with ``error``."""

    def __init__(self, step: str, error: BaseException) -> None:
        super().__init__(f"step '{step}': {error}")
        self.step, self.error = step, error


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
    base = Path(spec.origin).resolve().parent.joinpath(*rest)
    if not rest:
        return Path(spec.origin).resolve()
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()),
                None)


def imported_modules(path: Path, name: str, package: str = "analysis") -> set[str]:
    """Modules of ``package`` that module ``name`` (at ``path``) imports anywhere, also
    inside functions, but not under ``if TYPE_CHECKING:`` (no import at run time);
    ``from a import b`` counts as importing a and a.b."""
    found: set[str] = set()
    parts = name.split(".")[:None if path.name == "__init__.py" else -1]  # for relative ones
    todo = list(ast.parse(path.read_text(encoding="utf-8"), str(path)).body)
    while todo:  # statements only: an import is never inside an expression
        node = todo.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (".".join([*parts[:len(parts) + 1 - node.level], *filter(None, [node.module])])
                    if node.level else str(node.module))
            found.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
        elif isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            todo.extend(node.orelse)
        else:
            for body in ("body", "orelse", "finalbody", "handlers", "cases"):
                todo.extend(getattr(node, body, ()))
    return {m for m in found if m == package or m.startswith(package + ".")}


def code_files(module: str, cache: dict[str, set[str]]) -> list[Path]:
    """Sources of ``module`` and of the modules of its package it imports, transitively,
    with their packages' ``__init__.py``; ``cache``: module -> its imports."""
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        parts = todo.pop().split(".")
        for dotted in (".".join(parts[:depth]) for depth in range(1, len(parts) + 1)):
            path = module_file(dotted)
            if dotted not in seen and path is not None:
                seen[dotted] = path
                if dotted not in cache:
                    cache[dotted] = imported_modules(path, dotted, module.split(".")[0])
                todo.extend(cache[dotted])
    return sorted(seen.values())


@dataclass(kw_only=True)
class FileNode(PathNode):
    """A file, or a folder (its tree). An input no step writes counts as present when
    absent, so that its step runs and says what is missing in its own words."""

    required: bool = True

    def state(self) -> str | None:
        kind = special_file_kind(self.path)
        if kind not in (None, "a directory"):  # never opened: reading a pipe would block
            return kind
        if not self.path.is_dir():
            return get_state_of_path(self.path) or (None if self.required else "missing")
        files = sorted(p for p in self.path.rglob("*") if p.is_file() and not any(
            part.startswith(".") for part in p.relative_to(self.path).parts))
        return hashlib.sha256("".join(f"{p.relative_to(self.path)}={get_state_of_path(p)}\n"
                                      for p in files).encode()).hexdigest()


@dataclass
class ValueNode:
    """A value the steps depend on: the seed, the options, a forced rerun."""

    name: str
    value: str = ""
    attributes: dict[Any, Any] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        return hashlib.sha256(f"{type(self).__name__}:{self.name}".encode()).hexdigest()

    def state(self) -> str:
        return hashlib.sha256(self.value.encode()).hexdigest()

    def load(self, is_product: bool = False) -> str:
        return self.value

    def save(self, value: Any) -> None:
        raise NotImplementedError(f"{self.name} is not written by a step")


@dataclass
class CodeNode(ValueNode):
    """A step's code; the state lists each file's SHA-256, so a changed file can be named."""

    files: dict[str, Path] = field(default_factory=dict)

    def state(self) -> str:
        return " ".join(f"{name}={get_state_of_path(path)}" for name, path in self.files.items())


@dataclass(kw_only=True)
class StepTask(TaskWithoutPath):
    """A step run by pytask; ``info`` records why it ran and for how long."""

    step: Step
    ctx: Context
    last: dict[str, Any] | None = None  # its entry in pytask.lock
    info: dict[str, Any] = field(default_factory=dict)

    def state(self) -> str:
        return self.step.module

    def execute(self, **kwargs: Any) -> None:
        self.info["reason"], start = self.reason(), time.perf_counter()
        try:
            importlib.import_module(self.step.module).run(self.ctx)
        finally:
            self.info["duration_s"] = round(time.perf_counter() - start, 3)

    def reason(self) -> str:
        """What changed since its last run: "code changed: analysis/x.py", ..."""
        if "force" in self.depends_on or self.last is None:
            return "forced" if "force" in self.depends_on else "no earlier run"
        root = (self.ctx.paths.logs / "pytask").resolve()
        old = {**self.last.get("depends_on", {}), **self.last.get("produces", {})}
        changed: dict[str, list[str]] = {}
        for kind, nodes in [*self.depends_on.items(), ("outputs", self.produces["outputs"])]:
            for node in nodes if isinstance(nodes, list) else [nodes]:
                key = (Path(os.path.relpath(node.path, root)).as_posix()
                       if isinstance(node, PathNode) else node.name)
                if old.get(key) != (state := node.state()):
                    before = set(str(old.get(key)).split())
                    changed.setdefault(kind, []).extend(
                        [f.split("=")[0] for f in state.split() if f not in before]
                        if isinstance(node, CodeNode) else [node.name])
        return "; ".join(f"{kind} changed" + (f": {', '.join(names[:3])}" + (
            f" (+{len(names) - 3} more)" if len(names) > 3 else "") if names != [kind] else "")
            for kind, names in changed.items()) or "out of date"


def previous_runs(ctx: Context) -> dict[str, dict[str, Any]]:
    """The entries of ``pytask.lock`` in the run's state folder, by task."""
    try:
        lock = tomllib.loads((ctx.paths.logs / "pytask" / "pytask.lock").read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {str(entry.get("id")): entry for entry in lock.get("task", [])}


def build_tasks(ctx: Context, steps: list[Step], forced: set[str]) -> list[StepTask]:
    """One task per step; a failing module, inputs() or outputs() is a StepSetupError."""
    root, nodes, declared = ctx.paths.root, {}, {}

    def node(path: Path, required: bool = True) -> FileNode:
        label = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        return nodes.setdefault(path, FileNode(name=label, path=path, required=required))

    for step in steps:
        try:
            module = importlib.import_module(step.module)
            declared[step.name] = module, *([Path(os.path.abspath(root / p)) for p in paths]
                                            for paths in (module.inputs(ctx), module.outputs(ctx)))
        except Exception as err:
            raise StepSetupError(step.name, err) from err
    products = {path: name for name, (_, _, outs) in declared.items() for path in outs}
    shared = {"settings": [node(Path(p)) for p in (ctx.study_config_path, ctx.model_spec_path,
                                                  *(root / f for f in ENVIRONMENT_FILES))],
              "seed": ValueNode("seed", str(ctx.seed)),
              "options": ValueNode("options", json.dumps(ctx.options, sort_keys=True,
                                                         default=str))}
    force, previous, imports = ValueNode("force", str(time.time_ns())), previous_runs(ctx), {}
    tasks = []
    for step in steps:
        module, ins, outs = declared[step.name]
        last = getattr(module, "RUN_LAST", False)
        inputs = []
        for path in ins:
            below = [] if last or path in products else [
                p for p, name in products.items() if name != step.name and p.is_relative_to(path)]
            inputs += [node(p) for p in below] or [node(path, required=path in products)]
        code = CodeNode(f"code of {step.name}", files={
            node(p).name: p for p in code_files(step.module, imports)})
        depends_on = {"inputs": inputs, **shared, "code": code,
                      **({"force": force} if step.name in forced else {})}
        order = [Mark(mark, (), {}) for flag, mark in PRIORITIES.items()
                 if getattr(module, flag, False)]
        tasks.append(StepTask(name=step.name, function=module.run, step=step, ctx=ctx,
                              depends_on=depends_on, markers=[Mark(step.name, (), {}), *order],
                              produces={"outputs": [node(p) for p in outs]},
                              last=previous.get(step.name)))
    return tasks
