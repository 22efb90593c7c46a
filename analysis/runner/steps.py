"""The registered steps (analysis.tasks.STEPS) as pytask tasks.

Each step module keeps its contract (``DESCRIPTION``, ``inputs(ctx)``, ``outputs(ctx)``,
``run(ctx)``); here it becomes a task whose dependencies are its inputs, the study
configuration, the model specification, ``pyproject.toml`` and ``uv.lock``, the seed, the
options and its code: the source of every ``analysis`` module it imports, transitively
(static import analysis). Its products are its outputs. A folder among the inputs stands
for the files other steps write below it (so the step runs after them), or for the whole
tree when no step writes there. Files are compared by content (SHA-256).
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
from analysis.errors import RunnerError

#: Files of the environment every step depends on.
ENVIRONMENT_FILES = ("pyproject.toml", "uv.lock")


@dataclass(frozen=True)
class Step:
    """One registered step: its name and the dotted path of its module."""

    name: str
    module: str


class StepSetupError(Exception):
    """A step's module, ``inputs(ctx)`` or ``outputs(ctx)`` failed: ``error`` says why."""

    def __init__(self, step: str, error: BaseException) -> None:
        super().__init__(f"step '{step}': {error}")
        self.step, self.error = step, error


def registry() -> list[Step]:
    from analysis.tasks import STEPS

    return [Step(name, module) for name, module in STEPS]


def description(step: Step) -> str:
    """A step's ``DESCRIPTION``, read from its source without importing it."""
    path = module_file(step.module)
    if path is None:
        return f"(module {step.module} not found)"
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DESCRIPTION"
                                                 for t in node.targets)):
            return str(ast.literal_eval(node.value))
    return ""


# ------------------------------------------------------------------------------ code


@functools.cache
def module_file(name: str) -> Path | None:
    """The source file of module ``name`` (dotted), found without importing it (its
    packages' ``__init__`` only), or None when ``name`` is not a module."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return Path(origin).resolve() if origin and origin.endswith(".py") else None


def imported_modules(path: Path, name: str, package: str = "analysis") -> set[str]:
    """Modules of ``package`` that the module ``name`` at ``path`` imports, anywhere in it
    (also inside functions); ``from a import b`` counts as importing a and a.b."""
    found: set[str] = set()
    parts = name.split(".")
    if path.name != "__init__.py":
        parts = parts[:-1]  # the package that relative imports start from
    todo = list(ast.parse(path.read_text(encoding="utf-8"), str(path)).body)
    while todo:  # statements only: an import is never inside an expression
        node = todo.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*parts[:len(parts) - node.level + 1], *([node.module] if
                             node.module else [])]) if node.level else node.module or ""
            found.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                todo.extend(getattr(node, field, ()))
    return {m for m in found if m == package or m.startswith(package + ".")}


def code_files(module: str, cache: dict[str, set[str]] | None = None) -> list[Path]:
    """Sources of ``module`` and of every module of its package it imports, transitively,
    with the ``__init__.py`` of their packages. ``cache``: module -> its imports."""
    cache = {} if cache is None else cache
    package = module.split(".")[0]
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        parts = todo.pop().split(".")
        for depth in range(1, len(parts) + 1):
            dotted = ".".join(parts[:depth])
            path = module_file(dotted)
            if dotted in seen or path is None:
                continue
            seen[dotted] = path
            if dotted not in cache:
                cache[dotted] = imported_modules(path, dotted, package)
            todo.extend(cache[dotted])
    return sorted(seen.values())


# ----------------------------------------------------------------------------- nodes


@dataclass(kw_only=True)
class FileNode(PathNode):
    """A file (SHA-256 of its content) or a folder (of its tree). An input no step
    produces counts as present when absent, so that its step runs and says what is
    missing in its own words."""

    required: bool = True

    def state(self) -> str | None:
        if self.path.is_dir():
            files = sorted(p for p in self.path.rglob("*") if p.is_file()
                           and not any(part.startswith(".") for part in
                                       p.relative_to(self.path).parts))
            text = "".join(f"{p.relative_to(self.path).as_posix()}={get_state_of_path(p)}\n"
                           for p in files)
            return hashlib.sha256(text.encode()).hexdigest()
        return get_state_of_path(self.path) or (None if self.required else "missing")


@dataclass
class ValueNode:
    """A value the steps depend on (the seed, the options, a forced rerun)."""

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
        raise RunnerError(f"{self.name} is not written by a step")


@dataclass
class CodeNode(ValueNode):
    """The code of a step: its state lists the SHA-256 of every source file the step
    imports (so that a changed file can be named)."""

    files: dict[str, Path] = field(default_factory=dict)

    def state(self) -> str:
        return " ".join(f"{name}={get_state_of_path(path) or 'missing'}"
                        for name, path in self.files.items())


@dataclass(kw_only=True)
class StepTask(TaskWithoutPath):
    """A step run by pytask; ``info`` collects why it ran and how long it took."""

    step: Step
    ctx: Context
    last: dict[str, Any] | None = None  # its entry in pytask.lock from the last run
    info: dict[str, Any] = field(default_factory=dict)

    def state(self) -> str:
        return self.step.module  # its code is among its dependencies

    def execute(self, **kwargs: Any) -> None:
        self.info["reason"] = self.reason()
        start = time.perf_counter()
        try:
            importlib.import_module(self.step.module).run(self.ctx)
        finally:
            self.info["duration_s"] = round(time.perf_counter() - start, 3)

    def reason(self) -> str:
        """What changed since the last run: "forced", "code changed: ...", ..."""
        if "force" in self.depends_on:
            return "forced"
        if self.last is None:
            return "no earlier run"
        root = (self.ctx.paths.logs / "pytask").resolve()
        old = {**self.last.get("depends_on", {}), **self.last.get("produces", {})}
        changed: dict[str, list[str]] = {}
        for kind, nodes in [*self.depends_on.items(), ("outputs", self.produces["outputs"])]:
            for node in nodes if isinstance(nodes, list) else [nodes]:
                key = (Path(os.path.relpath(node.path, root)).as_posix()
                       if isinstance(node, PathNode) else node.name)
                state = node.state()
                if isinstance(node, CodeNode) and old.get(key) != state:
                    before = set(str(old.get(key, "")).split())
                    changed[kind] = [f.split("=")[0] for f in state.split() if f not in before]
                elif old.get(key) != state:
                    changed.setdefault(kind, []).append(node.name)
        return "; ".join(f"{kind} changed" + (f": {shorten(names)}" if names != [kind] else "")
                         for kind, names in changed.items()) or "out of date"


def shorten(items: list[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" (+{len(items) - limit} more)"
                                       if len(items) > limit else "")


def declared(step: Step, kind: str, value: object, ctx: Context) -> list[Path]:
    """What inputs()/outputs() returned, as absolute paths (relative: to the root)."""
    if isinstance(value, (str, os.PathLike)) or not isinstance(value, list | tuple):
        raise RunnerError(f"{kind}() of step '{step.name}' must return a list of paths")
    bad = [item for item in value if not isinstance(item, (str, os.PathLike))]
    if bad:
        raise RunnerError(f"{kind}() of step '{step.name}' returned {bad[0]!r}, not a path")
    return [Path(os.path.abspath(ctx.paths.root / item)) for item in value]


def previous_runs(ctx: Context) -> dict[str, dict[str, Any]]:
    """The entries of ``pytask.lock`` in the run's state folder, by task."""
    try:
        lock = tomllib.loads((ctx.paths.logs / "pytask" / "pytask.lock").read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {str(entry.get("id")): entry for entry in lock.get("task", [])}


def build_tasks(ctx: Context, steps: list[Step], forced: set[str] = frozenset()
                ) -> list[StepTask]:
    """One task per step (errors of a step's inputs()/outputs() name the step)."""
    root = ctx.paths.root
    nodes: dict[Path, FileNode] = {}

    def label(path: Path) -> str:  # relative to the project when below it
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    def node(path: Path, required: bool = True) -> FileNode:
        if path not in nodes:
            nodes[path] = FileNode(name=label(path), path=path, required=required)
        return nodes[path]

    modules = {}
    declared_io: dict[str, tuple[list[Path], list[Path]]] = {}
    for step in steps:
        try:
            modules[step.name] = module = importlib.import_module(step.module)
            declared_io[step.name] = (declared(step, "inputs", module.inputs(ctx), ctx),
                                      declared(step, "outputs", module.outputs(ctx), ctx))
        except Exception as err:  # reported as a failure of this step
            raise StepSetupError(step.name, err) from err
    products = {path: name for name, (_, outs) in declared_io.items() for path in outs}
    shared = [ValueNode("seed", str(ctx.seed)),
              ValueNode("options", json.dumps(ctx.options, sort_keys=True, default=str))]
    settings = [node(Path(p)) for p in (ctx.study_config_path, ctx.model_spec_path,
                                        *(root / f for f in ENVIRONMENT_FILES))]
    force = ValueNode("force", str(time.time_ns()))
    previous = previous_runs(ctx)
    imports: dict[str, set[str]] = {}
    tasks = []
    for step in steps:
        ins, outs = declared_io[step.name]
        inputs = []
        for path in ins:
            below = [p for p, name in products.items()
                     if name != step.name and p.is_relative_to(path) and p != path]
            inputs += ([node(p) for p in below] if path.is_dir() or below
                       else [node(path, required=path in products)])
        depends_on: dict[str, Any] = {
            "inputs": inputs, "settings": settings, "seed": shared[0], "options": shared[1],
            "code": CodeNode(f"code of {step.name}", files={
                label(p): p for p in code_files(step.module, imports)})}
        if step.name in forced:
            depends_on["force"] = force
        tasks.append(StepTask(name=step.name, function=modules[step.name].run, step=step,
                              ctx=ctx, depends_on=depends_on,
                              produces={"outputs": [node(p) for p in outs]},
                              markers=[Mark(step.name, (), {})], last=previous.get(step.name)))
    return tasks
