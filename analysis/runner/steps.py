"""The registered steps (analysis.tasks.STEPS) as pytask tasks.

A step keeps its contract (``DESCRIPTION``, ``inputs(ctx)``, ``outputs(ctx)``, ``run(ctx)``,
optional ``RUN_FIRST`` / ``RUN_LAST``: pytask's try_first / try_last; ``EVERY_RUN``: selected
on every run, and run even after another step failed; ``unread(ctx)``: paths below its input
folders it does not read; ``PROVENANCE``: it reports the git commit, which it then depends
on); its task depends on
its inputs, the study configuration, the model specification, ``pyproject.toml``,
``uv.lock``, the seed, the options and its code (the source of every module of its package
it imports, transitively: static import analysis), and produces its outputs. A folder among
the inputs stands for the files other steps write below it (so the step runs after them),
or for its whole tree when no step writes there; for a RUN_LAST step, which runs after the
others anyway, always for its tree as it is then. Files are compared by content (SHA-256).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytask import Mark, PathNode, TaskWithoutPath, get_state_of_path

from analysis.code_graph import code_files
from analysis.context import Context
from analysis.errors import OutputError
from analysis.io import special_file_kind, tree_sha256, write_text
from analysis.provenance import git_state

ENVIRONMENT_FILES = ("pyproject.toml", "uv.lock")
#: The import analysis of the last run, beside pytask's state.
IMPORTS_FILE = "imports.json"
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


@dataclass(kw_only=True)
class FileNode(PathNode):
    """A file, or a folder (its tree). An input no step writes counts as present when
    absent, so that its step runs and says what is missing in its own words."""

    required: bool = True
    unread: tuple[Path, ...] = ()  # below a folder: what the step does not read

    def state(self) -> str | None:
        kind = special_file_kind(self.path)
        if kind not in (None, "a directory"):
            return kind  # a pipe or a device is never opened: reading it would block
        if self.path.is_dir():
            return tree_sha256(self.path, self.unread)
        return get_state_of_path(self.path) or (None if self.required else "missing")


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
    reads: list[Path] = field(default_factory=list)  # its inputs(ctx), as declared
    info: dict[str, Any] = field(default_factory=dict)

    def state(self) -> str:
        return self.step.module

    def execute(self, **kwargs: Any) -> None:
        self.info["reason"], start = self.reason(), time.perf_counter()
        self.info["ran"] = True
        try:
            importlib.import_module(self.step.module).run(self.ctx)
        finally:
            self.info["duration_s"] = round(time.perf_counter() - start, 3)

    def reason(self) -> str:
        """What changed since its last run: "code changed: analysis/x.py", ..."""
        if "force" in self.depends_on:
            return "forced"
        if self.last is None:
            return "no earlier run"
        return self.changes() or "out of date"

    def changes(self) -> str:
        """What changed since its last run ("" when nothing did, or it never ran)."""
        if self.last is None:
            return ""
        root = self.ctx.paths.run_state.resolve()
        old = {**self.last.get("depends_on", {}), **self.last.get("produces", {})}
        changed: dict[str, list[str]] = {}
        for kind, nodes in [*self.depends_on.items(), ("outputs", self.produces["outputs"])]:
            for node in nodes if isinstance(nodes, list) else [nodes]:
                if isinstance(node, PathNode):  # the lock names files relative to itself
                    key = Path(os.path.relpath(node.path, root)).as_posix()
                else:
                    key = node.name
                state = node.state()
                if old.get(key) == state:
                    continue
                names = [node.name]
                if isinstance(node, CodeNode):
                    before = set(str(old.get(key)).split())
                    names = [entry.split("=")[0] for entry in state.split()
                             if entry not in before]
                changed.setdefault(kind, []).extend(names)
        return "; ".join(change_text(kind, names) for kind, names in changed.items())


def change_text(kind: str, names: list[str]) -> str:
    """ "code changed: analysis/a.py, analysis/b.py (+2 more)"; "seed changed"."""
    if names == [kind]:
        return f"{kind} changed"
    more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
    return f"{kind} changed: {', '.join(names[:3])}{more}"


def previous_runs(ctx: Context) -> dict[str, dict[str, Any]]:
    """The entries of ``pytask.lock`` in the run's state folder, by task."""
    try:
        lock = tomllib.loads((ctx.paths.run_state / "pytask.lock").read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {str(entry.get("id")): entry for entry in lock.get("task", [])}


def declare(ctx: Context, steps: list[Step]
            ) -> dict[str, tuple[Any, list[Path], list[Path], list[Path]]]:
    """Each step's module, inputs, outputs and unread paths (absolute); StepSetupError when
    a module, ``inputs(ctx)``, ``outputs(ctx)`` or ``unread(ctx)`` fails."""
    declared = {}
    for step in steps:
        try:
            module = importlib.import_module(step.module)
            lists = (module.inputs(ctx), module.outputs(ctx),
                     getattr(module, "unread", lambda ctx: [])(ctx))
        except Exception as err:
            raise StepSetupError(step.name, err) from err
        absolute = [[Path(os.path.abspath(ctx.paths.root / p)) for p in paths]
                    for paths in lists]
        declared[step.name] = (module, *absolute)
    return declared


def written_below(folder: Path, step: str, products: dict[Path, str]) -> list[Path]:
    """The files steps other than ``step`` write below ``folder`` (none for a file)."""
    if folder in products:
        return []
    return [path for path, name in products.items()
            if name != step and path.is_relative_to(folder)]


def build_tasks(ctx: Context, steps: list[Step], forced: set[str]) -> list[StepTask]:
    """One task per step; a failing module, inputs() or outputs() is a StepSetupError."""
    root, nodes = ctx.paths.root, {}

    def node(path: Path, required: bool = True, unread: tuple[Path, ...] = ()) -> FileNode:
        label = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        if unread:  # one step's view of a folder: a node of its own
            return FileNode(name=label, path=path, required=required, unread=unread)
        return nodes.setdefault(path, FileNode(name=label, path=path, required=required))

    declared = declare(ctx, steps)
    products = {path: name for name, (_, _, outputs, _) in declared.items() for path in outputs}
    settings = [ctx.study_config_path, ctx.model_spec_path,
                *(root / name for name in ENVIRONMENT_FILES)]
    options = json.dumps(ctx.options, sort_keys=True, default=str)
    shared = {"settings": [node(Path(path)) for path in settings],
              "seed": ValueNode("seed", str(ctx.seed)), "options": ValueNode("options", options)}
    force = ValueNode("force", str(time.time_ns()))
    previous, imports = previous_runs(ctx), {}
    stored = stored_imports(ctx)
    tasks = []
    for step in steps:
        module, paths, outputs, unread = declared[step.name]
        last = getattr(module, "RUN_LAST", False)
        inputs = []
        for path in paths:
            below = [] if last else written_below(path, step.name, products)
            inputs += [node(p) for p in below] or [node(
                path, required=path in products, unread=tuple(unread) if path.is_dir() else ())]
        code = CodeNode(f"code of {step.name}",
                        files={node(p).name: p for p in code_files(step.module, imports, stored)})
        depends_on = {"inputs": inputs, **shared, "code": code}
        if step.name in forced:
            depends_on["force"] = force
        if getattr(module, "EVERY_RUN", False):  # selected on every run, not forced
            depends_on["every_run"] = ValueNode("every_run")
        if getattr(module, "PROVENANCE", False):  # it prints the commit: rerun when it moves
            depends_on["git state"] = ValueNode("git state", json.dumps(git_state(root)))
        marks = [Mark(step.name, (), {})]
        marks += [Mark("every_run", (), {})] if "every_run" in depends_on else []
        marks += [Mark(mark, (), {}) for flag, mark in PRIORITIES.items()
                  if getattr(module, flag, False)]
        tasks.append(StepTask(name=step.name, function=module.run, step=step, ctx=ctx,
                              depends_on=depends_on, markers=marks, reads=paths,
                              produces={"outputs": [node(p) for p in outputs]},
                              last=previous.get(step.name)))
    save_stored_imports(ctx, stored)
    return tasks


def stored_imports(ctx: Context) -> dict[str, tuple[str, list[str]]]:
    """The import analysis of the last run (``imports.json`` beside pytask's state)."""
    try:
        return json.loads((ctx.paths.run_state / IMPORTS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def save_stored_imports(ctx: Context, stored: dict[str, tuple[str, list[str]]]) -> None:
    """Keep the import analysis for the next run (a cache: a failed write costs time only)."""
    with contextlib.suppress(OSError, OutputError):
        write_text(ctx.paths.run_state / IMPORTS_FILE,
                   json.dumps(stored, sort_keys=True))


def plan(ctx: Context, tasks: list[StepTask]
         ) -> tuple[dict[str, list[Path]], dict[Path, str], dict[Path, str]]:
    """What each task reads (the settings files included), which task writes each file, and
    what the last runs wrote (``pytask.lock``: file -> SHA-256), for analysis.output_tree."""
    root = ctx.paths.run_state
    reads = {task.name: [*task.reads, *(node.path for node in task.depends_on["settings"])]
             for task in tasks}
    products = {node.path: task.name for task in tasks for node in task.produces["outputs"]}
    previous = {Path(os.path.normpath(root / key)): str(sha) for entry in
                previous_runs(ctx).values() for key, sha in entry.get("produces", {}).items()}
    return reads, products, previous


def run_unfinished(tasks: list[StepTask], reports: dict[str, Any]
                   ) -> list[tuple[str, BaseException]]:
    """Run the EVERY_RUN steps that pytask did not run because a step failed before them,
    when another step wrote its outputs (the checks of the outputs run whatever happened
    after it); their failures."""
    outcomes = {report.outcome.name.lower() for report in reports.values()}
    if not any(report.outcome.name.lower() == "fail" and report.exc_info
               and isinstance(report.exc_info[1], Exception) for report in reports.values()
               ) or "success" not in outcomes:
        return []  # nothing failed, the user interrupted the run, or nothing was written
    failures = []
    for task in tasks:
        if "every_run" in task.depends_on and not task.info.get("ran"):
            try:
                task.execute()
                task.info["status"] = "ran"
            except Exception as err:
                task.info.update(status="failed", error=err)
                failures.append((task.name, err))
    return failures


def check_before_run(ctx: Context, tasks: list[StepTask]) -> None:
    """Each step's optional ``check(ctx)`` (what the user typed, checked before any step
    runs; not for a step that is up to date: its last run, on the same inputs, settings and
    code, passed it); StepSetupError naming the step whose check failed."""
    for task in tasks:
        check = getattr(importlib.import_module(task.step.module), "check", None)
        if check is None or (task.last is not None and not task.changes()):
            continue
        try:
            check(ctx)
        except Exception as err:
            raise StepSetupError(task.name, err) from err
