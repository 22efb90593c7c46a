"""The pipeline runner behind ``run_all.py``: runs the registered steps in order.

Usage (from the repository root)::

    uv run run_all.py                       # run every step; unchanged steps are skipped
    uv run run_all.py --list                # the steps and what they do
    uv run run_all.py --only estimate       # just these steps (repeatable)
    uv run run_all.py --from tables         # from this step to the end
    uv run run_all.py --force               # rerun even unchanged steps
    uv run run_all.py --config other.toml   # another study; outputs in output/studies/other/
    uv run run_all.py --verify              # fresh run in a temporary folder, compare bytes
    uv run run_all.py --sequential          # every step in its turn (none started ahead)

A step is skipped when its *stamp* is the one recorded by its last successful run and
every output it wrote then is still on disk with the same SHA-256. The stamp is a SHA-256
over the step's name, the content of its ``inputs(ctx)``, the code (every ``.py`` file
under ``analysis/`` plus the step's module), ``pyproject.toml`` and ``uv.lock``, the study
configuration, the model specification, the seed, the options and the paths.

A step listed in ``analysis.tasks.AHEAD`` (the robustness step) starts, when it must run,
in a forked process as soon as the step it names is done, beside the steps in between;
the runner reports it at its own turn, so the printed order, stamps, run log and outputs
are those of a run in order (:mod:`analysis.runner.background`; ``--sequential`` turns it off).

Every run writes ``<output>/logs/run_log.json`` and ``run_log.md`` (the one documented
exception to byte-identical outputs) and, when it succeeds, ``<output>/manifest.csv``.

Nothing here imports pandas or the step modules unless a step actually runs, so a rerun
with nothing changed takes a fraction of a second.

What a step module (contract C2) must respect:

- ``inputs(ctx)`` lists every file (or folder, hashed as a whole) the step reads,
  including the outputs of earlier steps; the code, the study configuration and the
  model specification are covered anyway. It may depend only on the code and ``ctx``
  (and on files named in the configuration) but not on what is on disk at the time (no
  globbing; list the folder instead), because a skipped step is checked against the
  input list recorded at its last run without importing it.
- ``outputs(ctx)`` lists the files (preferably files, not folders) that ``run(ctx)``
  writes; each must exist after the run, or the step fails.
- Outputs are deterministic (rerun = byte-identical) so that downstream steps are
  skipped when an upstream rerun changes nothing, and ``--verify`` passes.
- ``DESCRIPTION`` is a plain string literal, so ``--list`` reads it without importing.
- ``warm_up()`` (optional) imports what ``run(ctx)`` would import lazily; the runner calls
  it before forking a step it starts ahead, so that both processes share those imports
  instead of compiling them twice.
- Deliberate errors are ``*Error`` classes defined under ``analysis``; the runner prints
  just their message.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from analysis import config
from analysis.context import Context, Paths
from analysis.errors import ReplicationError, RunnerError
from analysis.provenance import git_state, package_versions
from analysis.runner.background import BackgroundStep, StepFailedElsewhere, fork_available
from analysis.runner.manifest import (
    FileHasher,
    ManifestEntry,
    atomic_write_text,
    diff_csv,
    diff_entries,
    iter_files,
    manifest_entries,
    relative_posix,
    write_manifest,
)

PROG = "run_all"
#: Bump when the meaning of a stamp changes, so every step reruns once.
STAMP_FORMAT = 2
#: Files of the environment whose content enters every stamp.
ENVIRONMENT_FILES = ("pyproject.toml", "uv.lock")
#: Hand-written files at the top of data_clean/ and output/, left out of the manifest.
FOLDER_DOCS = ("README.md",)
#: Functions a step module must define (contract C2); DESCRIPTION is a str constant.
STEP_FUNCTIONS = ("inputs", "outputs", "run")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class PipelineError(RunnerError):
    """A step broke the pipeline's contract (for example, a declared output is missing)."""


class StepNotFoundError(PipelineError):
    """A registered step's module cannot be found or lacks a required function."""


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Step:
    """One registered step: its name and the dotted path of its module."""

    name: str
    module: str


def load_steps(steps: Iterable[tuple[str, str] | Step] | None = None) -> list[Step]:
    """The registry as :class:`Step` objects (``analysis.tasks.STEPS`` unless injected)."""
    if steps is None:
        from analysis.tasks import STEPS

        steps = STEPS
    registry = [s if isinstance(s, Step) else Step(str(s[0]), str(s[1])) for s in steps]
    names = [step.name for step in registry]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PipelineError(f"step registry names {', '.join(duplicates)} more than once")
    return registry


def load_ahead(registry: Sequence[Step], ahead: Mapping[str, str] | None = None
               ) -> dict[str, str]:
    """Step -> the earlier step after which it may start (``analysis.tasks.AHEAD`` unless
    given); checked against the registry's order."""
    if ahead is None:
        from analysis.tasks import AHEAD

        ahead = AHEAD
    position = {step.name: index for index, step in enumerate(registry)}
    for name, after in ahead.items():
        if name not in position or after not in position:
            raise PipelineError(f"AHEAD names a step that is not registered: {name!r} after "
                                f"{after!r}")
        if position[after] >= position[name]:
            raise PipelineError(f"AHEAD: step '{name}' cannot start after '{after}', which "
                                "comes later")
    return dict(ahead)


def launch_points(registry: Sequence[Step], selected: Sequence[Step],
                  ahead: Mapping[str, str]) -> dict[int, list[int]]:
    """Index in ``selected`` after which (-1: before the first) each step started ahead
    is forked -> the indexes of those steps; a step with nothing to overlap is left out."""
    position = {step.name: index for index, step in enumerate(registry)}
    points: dict[int, list[int]] = {}
    for index, step in enumerate(selected):
        if step.name not in ahead:
            continue
        anchor = position[ahead[step.name]]
        earlier = [i for i in range(index) if position[selected[i].name] <= anchor]
        after = earlier[-1] if earlier else -1
        if after < index - 1:  # at least one step to run beside it
            points.setdefault(after, []).append(index)
    return points


def import_step(step: Step) -> ModuleType:
    """Import a step's module and check it defines inputs(), outputs() and run()."""
    try:
        module = importlib.import_module(step.module)
    except ModuleNotFoundError as err:
        # Only the step's own module (or its package) being absent is "not found"; a
        # missing dependency inside the module is a genuine failure and propagates.
        if err.name and (step.module == err.name or step.module.startswith(err.name + ".")):
            raise StepNotFoundError(f"step '{step.name}': module {step.module} not found") from None
        raise
    missing = [name for name in STEP_FUNCTIONS if not callable(getattr(module, name, None))]
    if missing:
        functions = ", ".join(f"{name}()" for name in missing)
        raise StepNotFoundError(f"step '{step.name}': module {step.module} has no {functions}")
    return module


def module_source(step: Step) -> Path | None:
    """The ``.py`` file of a step's module, found without importing the module itself."""
    loaded = sys.modules.get(step.module)
    if loaded is not None:
        origin = getattr(loaded, "__file__", None)
    else:
        try:
            spec = importlib.util.find_spec(step.module)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
    if origin and origin.endswith(".py") and os.path.isfile(origin):
        return Path(origin).resolve()
    return None


def literal_description(source: Path) -> str | None:
    """The string assigned to ``DESCRIPTION`` at module level, read without importing."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        named = any(isinstance(t, ast.Name) and t.id == "DESCRIPTION" for t in targets)
        if named and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node.value.value
    return None


def step_description(step: Step) -> str:
    """A step's DESCRIPTION, from its source when possible so ``--list`` stays instant."""
    loaded = sys.modules.get(step.module)
    if loaded is not None:
        return str(getattr(loaded, "DESCRIPTION", ""))
    source = module_source(step)
    if source is None:
        return f"(module {step.module} not found)"
    text = literal_description(source)
    if text is not None:
        return text
    try:
        module = import_step(step)
    except Exception as err:  # --list must list every step, even a broken one
        return f"(cannot import {step.module}: {type(err).__name__}: {err})"
    return str(getattr(module, "DESCRIPTION", ""))


# --------------------------------------------------------------------------- hashing


def digest(parts: Iterable[str]) -> str:
    """SHA-256 over a sequence of strings (NUL-separated, so boundaries count)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8"))
        hasher.update(b"\0")
    return hasher.hexdigest()


def path_digest(path: Path, hasher: FileHasher) -> str:
    """SHA-256 of a file, of a folder's tree (names and contents), or "missing"."""
    if path.is_file():
        return hasher.sha256(path)
    if path.is_dir():
        return digest(
            f"{relative_posix(file, path)}={hasher.sha256(file)}" for file in iter_files(path)
        )
    return "missing"


def code_files(registry: Sequence[Step]) -> list[Path]:
    """Every ``.py`` file under ``analysis/`` plus the modules of injected steps (this
    module is in analysis/runner/: the package is its parent's parent)."""
    package_dir = Path(__file__).resolve().parents[1]
    files = {
        path.resolve()
        for path in package_dir.rglob("*.py")
        if not any(part.startswith((".", "__pycache__")) for part in path.parts)
    }
    for step in registry:
        source = module_source(step)
        if source is not None:
            files.add(source)
    return sorted(files)


def run_facts(ctx: Context, registry: Sequence[Step], hasher: FileHasher) -> dict[str, Any]:
    """What every step's stamp depends on besides its inputs, shared by all steps of a run.

    The code is kept file by file so that a rerun can say which file changed.
    """
    root = ctx.paths.root
    return {
        "format": STAMP_FORMAT,
        "code": {relative_posix(f, root): hasher.sha256(f) for f in code_files(registry)},
        "environment": {name: path_digest(root / name, hasher) for name in ENVIRONMENT_FILES},
        "study_config": path_digest(ctx.study_config_path, hasher),
        "model_spec": path_digest(ctx.model_spec_path, hasher),
        "seed": ctx.seed,
        "options": json.loads(json.dumps(ctx.options, sort_keys=True, default=str)),
        "paths": {key: str(value) for key, value in dataclasses.asdict(ctx.paths).items()},
    }


def step_key(step: Step, facts: dict[str, Any]) -> str:
    """Everything a step's stamp depends on except the content of its inputs."""
    return digest([step.name, step.module, json.dumps(facts, sort_keys=True)])


def input_digests(inputs: Sequence[Path], hasher: FileHasher) -> dict[str, str]:
    return {str(path): path_digest(path, hasher) for path in inputs}


def step_stamp(key: str, digests: dict[str, str]) -> str:
    """The step's stamp: its key plus the path and content of each input.

    Inputs are sorted by path: the record is saved as JSON with sorted keys, so the stamp
    must not depend on the order in which ``inputs(ctx)`` listed them.
    """
    return digest([key, *(f"{path}={sha}" for path, sha in sorted(digests.items()))])


def declared_paths(step: Step, kind: str, value: object, ctx: Context) -> list[Path]:
    """Validate what inputs()/outputs() returned; relative paths are relative to the root."""
    if isinstance(value, (str, os.PathLike)) or not isinstance(value, Iterable):
        raise PipelineError(f"{kind}() of step '{step.name}' must return a list of paths")
    paths = []
    for item in value:
        if not isinstance(item, (str, os.PathLike)):
            raise PipelineError(
                f"{kind}() of step '{step.name}' returned {item!r}, which is not a path"
            )
        path = Path(item)
        paths.append(path if path.is_absolute() else ctx.paths.root / path)
    return paths


class StampStore:
    """The stamps of the last successful run of each step (``<output>/logs/stamps.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no or unreadable stamps: every step simply reruns
        if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT:
            return {}
        steps = data.get("steps")
        return steps if isinstance(steps, dict) else {}

    def get(self, name: str) -> dict[str, Any] | None:
        record = self.records.get(name)
        return record if isinstance(record, dict) else None

    def set(self, name: str, record: dict[str, Any]) -> None:
        self.records[name] = record
        self.save()

    def drop(self, name: str) -> None:
        if self.records.pop(name, None) is not None:
            self.save()

    def save(self) -> None:
        payload = {"format": STAMP_FORMAT, "steps": self.records}
        atomic_write_text(self.path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def stale_reason(
    key: str, facts: dict[str, Any], record: dict[str, Any] | None, hasher: FileHasher
) -> str | None:
    """Why a step must rerun, or None when its recorded run still holds.

    A recorded run holds when the key (code, configuration, context) and the content of
    every input are unchanged and every output it wrote is on disk with the same SHA-256.
    With an equal key, the recorded input list is still what ``inputs(ctx)`` returns (it
    may depend only on the code and the context), so the module need not be imported.
    """
    if record is None:
        return "no earlier run"
    if record.get("key") != key:
        return describe_changed_facts(record.get("facts") or {}, facts)
    recorded_inputs = record.get("inputs") or {}
    current = input_digests([Path(path) for path in recorded_inputs], hasher)
    if step_stamp(key, current) != record.get("stamp"):
        changed = [path for path, sha in current.items() if recorded_inputs.get(path) != sha]
        return "input changed: " + shorten([display(Path(path)) for path in changed])
    outputs = record.get("outputs") or {}
    altered = [path for path, sha in outputs.items() if path_digest(Path(path), hasher) != sha]
    if altered:
        return "output changed or missing: " + shorten([display(Path(p)) for p in altered])
    return None


def describe_changed_facts(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Which parts of the key changed, e.g. "code changed: analysis/exhibits/tables.py"."""
    if old.get("code") != new.get("code"):
        old_code, new_code = old.get("code") or {}, new.get("code") or {}
        files = sorted(
            name
            for name in old_code.keys() | new_code.keys()
            if old_code.get(name) != new_code.get(name)
        )
        return "code changed: " + shorten(files)
    labels = [name.replace("_", " ") for name in new if old.get(name) != new.get(name)]
    return "changed: " + shorten(labels) if labels else "step renamed or moved"


def shorten(items: Sequence[str], limit: int = 3) -> str:
    """At most ``limit`` items, then "+N more"."""
    shown = ", ".join(items[:limit]) or "?"
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


# --------------------------------------------------------------------------- running


@dataclass
class StepResult:
    """What happened to one step in a run."""

    name: str
    module: str
    status: str = "not run"  # "ran", "skipped", "failed", "interrupted" or "not run"
    duration_s: float = 0.0
    reason: str | None = None  # why it ran: "forced", "input changed: ...", ...
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    beside: list[str] | None = None  # started ahead: the steps it ran beside


@dataclass
class RunResult:
    """The outcome of running a selection of steps."""

    steps: list[StepResult]
    status: str = "success"  # "success", "failed" or "interrupted"
    started_at: str = ""
    finished_at: str = ""
    duration_s: float = 0.0
    manifest_files: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.steps)


def is_project_error(exc: BaseException) -> bool:
    """True for errors the project raises on purpose (:class:`ReplicationError`)."""
    return isinstance(exc, ReplicationError)


def failure_hint(exc: BaseException) -> str | None:
    """What to do about a project error: the ``hint`` its class carries, if any."""
    return getattr(exc, "hint", None) if is_project_error(exc) else None


def failure_line(step: Step, exc: BaseException) -> str:
    """The message printed when a step fails: one line, plus a "What to do" line if known."""
    if isinstance(exc, StepNotFoundError):
        return f"{PROG}: {exc}"
    message = str(exc)
    if is_project_error(exc) and message:
        hint = failure_hint(exc)
        what = f"\n  What to do: {hint}." if hint else ""
        return f"{PROG}: step '{step.name}' failed: {message}{what}"
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{PROG}: step '{step.name}' failed: {detail}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_steps(
    ctx: Context,
    registry: Sequence[Step],
    selected: Sequence[Step],
    *,
    force: bool = False,
    debug: bool = False,
    hasher: FileHasher | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ahead: Mapping[str, str] | None = None,
) -> RunResult:
    """Run ``selected`` steps in registry order, skipping those that are up to date.

    ``ahead`` (step -> earlier step, see :mod:`analysis.runner.background`): such a step, when it
    must run, is forked as soon as the earlier one is done and reported at its own turn.
    Stops at the first failure (reported on ``err`` in one line) or on Ctrl-C.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    hasher = hasher or FileHasher()
    ahead = dict(ahead or {}) if fork_available() else {}
    result = RunResult(
        steps=[StepResult(step.name, step.module) for step in selected], started_at=now_iso()
    )
    clock = time.perf_counter()
    stamps = StampStore(ctx.paths.logs / "stamps.json")
    facts = run_facts(ctx, registry, hasher)
    position = {step.name: index for index, step in enumerate(registry, start=1)}
    points = launch_points(registry, selected, ahead)
    background: dict[str, BackgroundStep] = {}

    def launch(after: int) -> None:
        for index in points.get(after, []):
            started = start_ahead(selected[index], ctx, facts, stamps, hasher, force, out, err)
            if started is not None:
                started.beside = [s.name for s in selected[after + 1:index]]
                background[started.name] = started

    try:
        launch(-1)
        for index, (step, step_result) in enumerate(zip(selected, result.steps, strict=True)):
            print(f"[{position[step.name]}/{len(registry)}] {step.name} ... ", end="", file=out)
            out.flush()
            key = step_key(step, facts)
            started = time.perf_counter()
            # Left in `background` until it succeeded: on Ctrl-C while waiting it is
            # stopped like the others.
            pending = background.get(step.name)
            try:
                if pending is not None:
                    step_result.reason, step_result.beside = pending.reason, pending.beside
                    record, duration = pending.wait()
                    del background[step.name]
                    shown = f"{pending.reason}; run beside {', '.join(pending.beside)}"
                else:
                    # Inside the try: an unreadable input is reported like any other failure.
                    step_result.reason = shown = (
                        "forced" if force
                        else stale_reason(key, facts, stamps.get(step.name), hasher))
                    if shown is None:
                        step_result.status = "skipped"
                        print("skipped (unchanged)", file=out)
                        launch(index)
                        continue
                    record = execute_step(step, ctx, key, facts, stamps, hasher)
                    duration = round(time.perf_counter() - started, 3)
            except KeyboardInterrupt:
                step_result.status = "interrupted"
                step_result.duration_s = round(time.perf_counter() - started, 3)
                print("interrupted", file=out)
                print(f"{PROG}: interrupted during step '{step.name}'", file=err)
                result.status = "interrupted"
                break
            except Exception as exc:
                step_result.duration_s = round(time.perf_counter() - started, 3)
                report_failure(step, step_result, exc, debug, out, err)
                result.status = "failed"
                break
            stamps.set(step.name, record)
            step_result.status, step_result.duration_s = "ran", duration
            print(f"done in {duration:.2f} s ({shown})", file=out)
            launch(index)
    except KeyboardInterrupt:  # between two steps, or in a launch
        result.status = "interrupted"
        print(f"{PROG}: interrupted", file=err)
    finally:
        settle_background(background, result, stamps, stopped=result.status == "interrupted")
    result.duration_s = round(time.perf_counter() - clock, 3)
    result.finished_at = now_iso()
    return result


def report_failure(step: Step, step_result: StepResult, exc: Exception, debug: bool,
                   out: TextIO, err: TextIO) -> None:
    """Record a failed step and print it: one line (plus the traceback with --debug); a
    step that failed in a forked process brings its own line and traceback."""
    elsewhere = isinstance(exc, StepFailedElsewhere)
    step_result.status = "failed"
    step_result.error = str(exc)
    step_result.error_type = (exc.error_type if elsewhere
                              else f"{type(exc).__module__}.{type(exc).__qualname__}")
    step_result.traceback = exc.trace if elsewhere else traceback.format_exc()
    print(f"FAILED after {step_result.duration_s:.2f} s", file=out)
    out.flush()
    if debug:
        print(step_result.traceback, end="", file=err)
    print(exc.line if elsewhere else failure_line(step, exc), file=err)
    err.flush()


def start_ahead(step: Step, ctx: Context, facts: dict[str, Any], stamps: StampStore,
                hasher: FileHasher, force: bool, out: TextIO, err: TextIO
                ) -> BackgroundStep | None:
    """Fork ``step`` now if it must run; None if it is up to date or cannot be prepared
    (then it runs, or fails with its message, at its own turn)."""
    key = step_key(step, facts)
    try:
        reason = "forced" if force else stale_reason(key, facts, stamps.get(step.name), hasher)
        if reason is None:
            return None
        module = import_step(step)  # here, so that the forked process inherits the imports
        warm_up = getattr(module, "warm_up", None)
        if callable(warm_up):
            warm_up()  # and those its run() would make lazily
    except Exception:  # noqa: BLE001  (reported in order, when the step's turn comes)
        return None
    # Forget the old stamp here: the child has no stamp store of its own.
    stamps.drop(step.name)
    out.flush()
    err.flush()
    work = functools.partial(execute_step, step, ctx, key, facts, None, hasher)
    try:
        return BackgroundStep.start(step.name, reason, work,
                                    functools.partial(failure_line, step))
    except OSError:  # no fork possible now (process limit, memory): run it in order
        return None


def settle_background(background: Mapping[str, BackgroundStep], result: RunResult,
                      stamps: StampStore, *, stopped: bool) -> None:
    """After a run that ended early: stop (interrupted) or wait for the steps still running
    ahead; one that finished keeps its stamp, so its work is not redone."""
    results = {r.name: r for r in result.steps}
    for name, pending in background.items():
        if results[name].status == "failed":
            continue  # failed at its turn, already reported
        if stopped:
            pending.stop()
            results[name].status = "interrupted"
            continue
        message = pending.outcome()
        results[name].reason, results[name].beside = pending.reason, pending.beside
        results[name].duration_s = message["duration_s"]
        results[name].status = message["status"]
        if message["status"] == "ran":
            stamps.set(name, message["record"])
        elif message["status"] == "failed":
            results[name].error = message["error"]
            results[name].error_type = message["error_type"]
            results[name].traceback = message["traceback"]


def execute_step(
    step: Step,
    ctx: Context,
    key: str,
    facts: dict[str, Any],
    stamps: StampStore | None,
    hasher: FileHasher,
) -> dict[str, Any]:
    """Import and run one step; return the stamp record of this successful run.

    ``stamps`` None: a step run ahead in a forked process, whose stamp the runner dropped.
    """
    module = import_step(step)
    inputs = declared_paths(step, "inputs", module.inputs(ctx), ctx)
    digests = input_digests(inputs, hasher)  # inputs as they are when the step starts
    # Forget the old stamp first: a step interrupted half way must rerun next time.
    if stamps is not None:
        stamps.drop(step.name)
    module.run(ctx)
    outputs: dict[str, str] = {}
    for path in declared_paths(step, "outputs", module.outputs(ctx), ctx):
        if not path.exists():
            raise PipelineError(f"declared output {display(path)} was not written")
        outputs[str(path)] = path_digest(path, hasher)
    return {
        "module": step.module,
        "key": key,
        "stamp": step_stamp(key, digests),
        "facts": facts,
        "inputs": digests,
        "outputs": outputs,
    }


# --------------------------------------------------------------------------- manifest


def manifest_path(paths: Paths) -> Path:
    return paths.output / "manifest.csv"


def manifest_base(paths: Paths) -> Path:
    """The folder manifest paths are relative to (the repo, or the study's base folder)."""
    return Path(os.path.commonpath([paths.data_clean.resolve(), paths.output.resolve()]))


def current_manifest(paths: Paths, hasher: FileHasher | None = None) -> list[ManifestEntry]:
    """Manifest of the generated files of ``paths``, computed from the files on disk.

    Excludes the logs folder (run logs change every run), the manifest itself, hidden
    files, ``<output>/studies`` (the outputs of other studies live there) and the
    hand-written ``README.md`` at the top of each folder (committed, not generated).
    """
    exclude = [
        paths.logs,
        manifest_path(paths),
        paths.output / "studies",
        *(folder / name for folder in (paths.data_clean, paths.output) for name in FOLDER_DOCS),
    ]
    return manifest_entries([paths.data_clean, paths.output], manifest_base(paths), exclude, hasher)


# --------------------------------------------------------------------------- output folders

#: A temporary file without the writer's pid in its name is stale after this many seconds.
STALE_TEMP_AGE_S = 600


def prepare_output_folders(paths: Paths) -> None:
    """Create ``data_clean`` and ``output`` and check that files can be written there.

    Raises :class:`PipelineError` naming the folder, so an unwritable output root stops the
    run with one message before any step starts (a probe file is created and removed,
    because permission bits do not stop root).
    """
    for folder in (paths.data_clean, paths.output):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".run_all_probe.", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise PipelineError(
                f"cannot write to output folder {folder}: {err.strerror or err}; choose "
                f"another --output-root or make the folder writable"
            ) from None


def temp_file_is_stale(path: Path, now: float) -> bool:
    """True if a temporary file's writer is gone (dead pid, or old enough when unknown)."""
    from analysis.io import temp_file_owner

    pid = temp_file_owner(path)
    if pid is not None and pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except (OSError, OverflowError):
            return False  # alive but not ours (PermissionError), or not a pid at all
        return False
    try:
        return now - path.stat().st_mtime > STALE_TEMP_AGE_S
    except OSError:
        return False


def remove_stale_temp_files(paths: Paths) -> list[Path]:
    """Delete the temporary files an interrupted run left in the output folders.

    Atomic writes (:mod:`analysis.io`) leave ``.<name>.<pid>.<random>.tmp`` behind only when
    the process is killed; they are hidden (never in the manifest) and removed here by the
    next run. Other studies' folders (``<output>/studies``) are left alone.
    """
    from analysis.io import is_temp_file

    removed = []
    now = time.time()
    studies = paths.output / "studies"
    for folder in (paths.data_clean, paths.output):
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            if Path(dirpath) == paths.output:
                dirnames[:] = [d for d in dirnames if Path(dirpath, d) != studies]
            for name in filenames:
                path = Path(dirpath, name)
                if is_temp_file(path) and temp_file_is_stale(path, now):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return sorted(removed)


# --------------------------------------------------------------------------- run log


def file_fact(path: Path, hasher: FileHasher) -> dict[str, str]:
    return {"path": str(path), "sha256": path_digest(path, hasher)}


def run_log_record(
    ctx: Context, result: RunResult, argv: Sequence[str], hasher: FileHasher
) -> dict[str, Any]:
    """Everything the run log records about a run and its environment."""
    return {
        "command": ["run_all.py", *argv],
        "status": result.status,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "duration_s": result.duration_s,
        "git": git_state(ctx.paths.root),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "packages": package_versions(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "seed": ctx.seed,
        "study_config": file_fact(ctx.study_config_path, hasher),
        "model_spec": file_fact(ctx.model_spec_path, hasher),
        "options": ctx.options,
        "paths": {key: str(value) for key, value in dataclasses.asdict(ctx.paths).items()},
        "manifest_files": result.manifest_files,
        "steps": [dataclasses.asdict(step) for step in result.steps],
    }


def run_log_markdown(record: dict[str, Any]) -> str:
    """A readable rendering of the run log."""
    git = record["git"]
    if git["available"]:
        dirty = {True: "yes", False: "no", None: "unknown"}[git["dirty"]]
        git_line = f"`{git['commit']}` (uncommitted changes to tracked files: {dirty})"
    else:
        git_line = "not a git repository (or git unavailable)"
    lines = [
        "# Run log",
        "",
        "This file changes on every run (times, durations): it is excluded from the manifest.",
        "",
        f"- Command: `{' '.join(record['command'])}`",
        f"- Status: **{record['status']}**",
        f"- Started: {record['started_at']}; finished: {record['finished_at']}; "
        f"{record['duration_s']:.2f} s",
        f"- Git commit: {git_line}",
        f"- Python: {record['python']['version']} ({record['python']['implementation']})",
        f"- Platform: {record['platform']} ({record['machine']}), {record['cpu_count']} CPUs",
        f"- Seed: {record['seed']}",
        f"- Study configuration: `{record['study_config']['path']}` "
        f"(sha256 {record['study_config']['sha256'][:12]})",
        f"- Model specification: `{record['model_spec']['path']}` "
        f"(sha256 {record['model_spec']['sha256'][:12]})",
        f"- Options: {json.dumps(record['options'], sort_keys=True, default=str)}",
        f"- Clean data: `{record['paths']['data_clean']}`; outputs: `{record['paths']['output']}`",
        "",
        "## Steps",
        "",
        "| step | status | seconds | why it ran / error |",
        "|---|---|---:|---|",
    ]
    for step in record["steps"]:
        note = step["error"] if step["status"] == "failed" else step["reason"]
        if step.get("beside") and step["status"] != "failed":
            note = f"{note}; run beside {', '.join(step['beside'])}"
        note = (note or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {step['name']} | {step['status']} | {step['duration_s']:.2f} | {note} |")
    lines += ["", "## Packages", "", "| package | version |", "|---|---|"]
    for name, version in record["packages"].items():
        lines.append(f"| {name} | {version or 'not installed'} |")
    return "\n".join(lines) + "\n"


def write_run_log(ctx: Context, result: RunResult, argv: Sequence[str], hasher: FileHasher) -> Path:
    """Write ``run_log.json`` and ``run_log.md`` into the logs folder; return the .md path."""
    record = run_log_record(ctx, result, argv, hasher)
    text = json.dumps(record, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write_text(ctx.paths.logs / "run_log.json", text)
    return atomic_write_text(ctx.paths.logs / "run_log.md", run_log_markdown(record))


# --------------------------------------------------------------------------- verify


def verify(
    ctx: Context,
    registry: Sequence[Step],
    *,
    debug: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ahead: Mapping[str, str] | None = None,
) -> int:
    """Rerun every step into a temporary folder and compare its files with the tree's.

    The comparison (``<output>/logs/verify.csv``) takes the fresh run as "old" and the
    current tree as "new": "missing" means a file the code produces is absent from the
    tree, "extra" a file in the tree the code no longer produces.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    hasher = FileHasher()
    scratch = Path(tempfile.mkdtemp(prefix="run_all_verify_"))
    try:
        fresh = dataclasses.replace(ctx, paths=Paths.under(scratch, root=ctx.paths.root))
        print(f"verify: rerunning every step into {scratch}", file=out)
        result = run_steps(
            fresh, registry, registry, force=True, debug=debug, hasher=hasher, out=out,
            err=err, ahead=ahead)
        if result.status != "success":
            return EXIT_INTERRUPTED if result.status == "interrupted" else EXIT_FAILED
        reference = current_manifest(fresh.paths, hasher)
        current = current_manifest(ctx.paths, hasher)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = diff_entries(reference, current)
    report = atomic_write_text(ctx.paths.logs / "verify.csv", diff_csv(rows))
    if not rows:
        print(f"verify: {len(reference)} outputs identical", file=out)
        return EXIT_OK
    for row in rows:
        print(f"verify: {row['status']:<8} {row['path']}", file=out)
    print(
        f"verify: {len(rows)} file(s) differ from a fresh run ({len(reference)} produced); "
        f"missing = absent from the tree, extra = not produced by the code; see {display(report)}",
        file=out,
    )
    return EXIT_FAILED


# --------------------------------------------------------------------------- CLI


def display(path: Path) -> str:
    """``path`` relative to the working directory when below it, else absolute."""
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a TOML value when it is one (else as a string)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed: Any = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return key.strip(), parsed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_all.py",
        description="Run the replication pipeline: every step in order, skipping the "
        "steps whose inputs, code and configuration are unchanged since their last run.",
    )
    parser.add_argument("--list", action="store_true", help="list the steps and exit")
    parser.add_argument(
        "--only",
        action="append",
        metavar="STEP",
        default=[],
        help="run only this step (repeatable); other steps are not checked",
    )
    parser.add_argument("--from", dest="start", metavar="STEP", help="start at this step")
    parser.add_argument("--force", action="store_true", help="rerun steps even if unchanged")
    parser.add_argument(
        "--config",
        type=Path,
        default=config.DEFAULT_STUDY_CONFIG,
        metavar="PATH",
        help="study configuration (TOML); a non-default one writes to output/studies/<stem>/",
    )
    parser.add_argument(
        "--models",
        type=Path,
        default=config.DEFAULT_MODEL_SPEC,
        metavar="PATH",
        help="model specification (TOML)",
    )
    parser.add_argument(
        "--output-root",
        type=Path,
        metavar="DIR",
        help="write data_clean/ and output/ under DIR instead",
    )
    parser.add_argument(
        "--option",
        action="append",
        type=parse_option,
        default=[],
        metavar="KEY=VALUE",
        help="an option passed to the steps in ctx.options (repeatable; part of the stamps)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="rerun everything in a temporary folder and compare every generated file with "
        "the current tree; exit 1 if any differs",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="run every step in its turn, one at a time (by default a step listed in "
        "analysis.tasks.AHEAD starts early, in a forked process, beside the steps before it)",
    )
    return parser


def study_paths(config_path: Path, output_root: Path | None) -> Paths:
    """Where a run writes: the default folders, ``--output-root``, or the study's folder."""
    if output_root is not None:
        return Paths.under(output_root.resolve())
    if config_path.resolve() == config.DEFAULT_STUDY_CONFIG.resolve():
        return Paths.default()
    return Paths.under(config.OUTPUT / "studies" / config_path.stem)


def inside_project_warning(config_path: Path, output_root: Path | None) -> str | None:
    """A warning when another study's outputs (cleaned microdata included) would be written
    inside the project folder: confidential data belong outside the repository."""
    if output_root is not None or config_path.resolve() == config.DEFAULT_STUDY_CONFIG.resolve():
        return None
    where = display(study_paths(config_path, None).output.parent)
    return (f"the outputs of this study, including its cleaned microdata (data_clean/), go to "
            f"{where} inside the project folder; for confidential data use --output-root DIR "
            "outside the repository (docs/using_your_own_survey.md)")


def select_steps(registry: Sequence[Step], only: Sequence[str], start: str | None) -> list[Step]:
    """The steps to run, in registry order."""
    if only:
        wanted = set(only)
        return [step for step in registry if step.name in wanted]
    if start is not None:
        names = [step.name for step in registry]
        return list(registry[names.index(start) :])
    return list(registry)


def print_steps(registry: Sequence[Step], out: TextIO) -> None:
    width = max((len(step.name) for step in registry), default=0)
    for index, step in enumerate(registry, start=1):
        print(f"{index:>2}. {step.name:<{width}}  {step_description(step)}", file=out)


def main(
    argv: Sequence[str] | None = None,
    steps: Iterable[tuple[str, str] | Step] | None = None,
    ahead: Mapping[str, str] | None = None,
) -> int:
    """Entry point of ``run_all.py``; returns the process exit code.

    ``steps`` replaces the registry of :mod:`analysis.tasks` and ``ahead`` its AHEAD
    (used by the tests; an injected registry starts no step ahead unless ``ahead`` says).
    Exit codes: 0 success, 1 a step failed or --verify found differences, 2 usage
    error, 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        registry = load_steps(steps)
        if args.sequential:
            started_ahead: dict[str, str] = {}
        else:  # the registry's own AHEAD, or none for an injected registry
            started_ahead = load_ahead(registry, ahead if steps is None else ahead or {})
        names = [step.name for step in registry]
        for name in [*args.only, *([args.start] if args.start else [])]:
            if name not in names:
                parser.error(f"unknown step '{name}' (steps: {', '.join(names)})")
        if args.only and args.start:
            parser.error("--only and --from cannot be combined")
        if args.verify and (args.only or args.start):
            parser.error("--verify always reruns every step; drop --only/--from")
    except SystemExit as exit_:  # argparse exits on --help and on usage errors
        return int(exit_.code or 0)
    except PipelineError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    if args.list:
        print_steps(registry, sys.stdout)
        return EXIT_OK
    for label, path in (("study configuration", args.config), ("model specification", args.models)):
        if not path.is_file():
            print(f"{PROG}: {label} not found: {path}", file=sys.stderr)
            return EXIT_USAGE

    warning = inside_project_warning(args.config, args.output_root)
    if warning:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    ctx = Context(
        paths=study_paths(args.config, args.output_root),
        study_config_path=args.config.resolve(),
        model_spec_path=args.models.resolve(),
        seed=config.SEED,
        options=dict(args.option),
    )
    try:
        if args.verify:
            return verify(ctx, registry, debug=args.debug, ahead=started_ahead)
        return run(ctx, registry, select_steps(registry, args.only, args.start), args, argv,
                   ahead=started_ahead)
    except KeyboardInterrupt:  # outside a step (hashing, manifest): nothing half written
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run(
    ctx: Context,
    registry: Sequence[Step],
    selected: Sequence[Step],
    args: argparse.Namespace,
    argv: Sequence[str],
    ahead: Mapping[str, str] | None = None,
) -> int:
    """Run the selected steps, then write the manifest (on success) and the run log."""
    try:
        prepare_output_folders(ctx.paths)
    except PipelineError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    remove_stale_temp_files(ctx.paths)
    hasher = FileHasher()
    result = run_steps(ctx, registry, selected, force=args.force, debug=args.debug, hasher=hasher,
                       ahead=ahead)
    if result.status == "success":
        entries = current_manifest(ctx.paths, hasher)
        write_manifest(manifest_path(ctx.paths), entries)
        result.manifest_files = len(entries)
    log = write_run_log(ctx, result, argv, hasher)
    counts = f"{result.count('ran')} ran, {result.count('skipped')} skipped"
    if result.status == "success":
        print(
            f"{PROG}: {len(selected)} step(s) in {result.duration_s:.2f} s: {counts}; "
            f"manifest {display(manifest_path(ctx.paths))} ({result.manifest_files} files); "
            f"log {display(log)}"
        )
        return EXIT_OK
    print(f"{PROG}: {result.status} after {result.duration_s:.2f} s ({counts}); log {display(log)}")
    return EXIT_INTERRUPTED if result.status == "interrupted" else EXIT_FAILED
