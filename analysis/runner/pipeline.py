"""``run_all.py``: the replication pipeline, run by pytask (``uv run run_all.py --help``).

    uv run run_all.py                       # every step; unchanged steps are skipped
    uv run run_all.py --list                # the steps and what they do
    uv run run_all.py --only tables         # this step (repeatable), after any step whose
                                            # outputs it reads that is out of date
    uv run run_all.py --from tables         # this step and every later one
    uv run run_all.py --force               # rerun the selected steps even if unchanged
    uv run run_all.py --config other.toml   # another study; outputs in output/studies/other/
    uv run run_all.py --verify              # fresh run in a temporary folder, compare bytes

The steps become pytask tasks (:mod:`analysis.runner.steps`); pytask decides what is out
of date. Its state (``pytask.lock``, ``.pytask/``) lives in ``<output>/logs/pytask/``, so
runs into different output folders never share it. Every run writes
``<output>/logs/run_log.{json,md}`` and, when it succeeds, ``<output>/manifest.csv``.
Exit codes: 0 success, 1 a step failed (or --verify found differences), 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis import config
from analysis.context import OPTIONS, Context, Paths, check_options
from analysis.errors import ConfigError, OutputError, ReplicationError
from analysis.io import remove_stale_temp_files
from analysis.runner import record
from analysis.runner.steps import Step, registry

PROG = "run_all"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
STATE_CONFIG = "# Written by run_all.py: pytask keeps its state beside this file.\n" \
               "[tool.pytask.ini_options]\n"


class UsageError(Exception):
    """A command line that cannot run (exit code 2)."""


def failure_line(step: str, exc: BaseException) -> str:
    """One line (plus "What to do" for the package's own errors) about a failed step."""
    if isinstance(exc, ReplicationError) and str(exc):
        hint = f"\n  What to do: {exc.hint}." if exc.hint else ""
        return f"{PROG}: step '{step}' failed: {exc}{hint}"
    return f"{PROG}: step '{step}' failed: {type(exc).__name__}: {exc}".rstrip(": ")


def execute(ctx: Context, selected: Sequence[str], *, force: bool, debug: bool
            ) -> dict[str, Any]:
    """Run the selected steps (and the out-of-date steps they depend on) with pytask."""
    import pytask

    from analysis.runner.steps import StepSetupError, build_tasks

    result: dict[str, Any] = {"started_at": record.now(), "status": "success", "steps": []}
    clock = time.perf_counter()
    state = ctx.paths.logs / "pytask" / "pytask.toml"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(STATE_CONFIG, encoding="utf-8")
    failures: list[tuple[str, BaseException]] = []
    try:
        tasks = build_tasks(ctx, registry(), forced=set(selected) if force else set())
    except StepSetupError as exc:  # a step's module, inputs() or outputs(): before any work
        failures.append((exc.step, exc.error))
        tasks = []
    else:
        session = pytask.build(
            tasks=tasks, config=state, marker_expression=" or ".join(selected),
            database_url="sqlite://",  # in memory: pytask.lock is the record
            capture="no", show_traceback=debug, stop_after_first_failure=True,
            show_capture="no", verbose=1 if sys.stdout.isatty() else 0)
        outcomes = {r.task.name: r for r in session.execution_reports}
        if session.exit_code not in (pytask.ExitCode.OK, pytask.ExitCode.FAILED):
            failures.append(("pytask", RuntimeError(f"exit code {session.exit_code}")))
    for task in tasks:
        report = outcomes.get(task.name)
        outcome = report.outcome.name.lower() if report else "not run"
        status = {"success": "ran", "skip_unchanged": "skipped", "fail": "failed",
                  "skip": "not selected"}.get(outcome, "not run")
        entry = {"name": task.name, "module": task.step.module, "status": status,
                 "duration_s": task.info.get("duration_s", 0.0),
                 "reason": task.info.get("reason")}
        exc = report.exc_info[1] if report and report.exc_info else None
        if status == "failed" and exc is not None:
            failures.append((task.name, exc))
            entry.update(error=str(exc), error_type=type(exc).__qualname__,
                         traceback="".join(traceback.format_exception(exc)))
            if isinstance(exc, KeyboardInterrupt):
                entry["status"] = result["status"] = "interrupted"
        result["steps"].append(entry)
    for step, exc in failures:
        if debug:
            print("".join(traceback.format_exception(exc)), end="", file=sys.stderr)
        if not isinstance(exc, KeyboardInterrupt):
            print(failure_line(step, exc), file=sys.stderr)
            result["status"] = "failed"
    for index, step in enumerate(result["steps"], start=1):
        what = {"ran": f"ran in {step['duration_s']:.2f} s ({step['reason']})",
                "skipped": "skipped (unchanged)"}.get(step["status"], step["status"])
        also = ("; not selected, but a selected step depends on it"
                if step["status"] == "ran" and step["name"] not in selected else "")
        print(f"[{index}/{len(tasks)}] {step['name']}: {what}{also}")
    result.update(finished_at=record.now(), duration_s=round(time.perf_counter() - clock, 3))
    return result


def run(ctx: Context, selected: Sequence[str], args: argparse.Namespace,
        argv: Sequence[str]) -> int:
    """Run, then write the manifest (on success) and the run log; print one summary line."""
    try:
        record.prepare_output_folders(ctx.paths)
    except OutputError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    remove_stale_temp_files([ctx.paths.data_clean, ctx.paths.output],
                            skip=[ctx.paths.output / "studies"])
    result = execute(ctx, selected, force=args.force, debug=args.debug)
    if result["status"] == "success":
        result["manifest_files"] = record.write_manifest(ctx.paths)
    log = record.write_run_log(ctx, result, argv)
    ran = sum(s["status"] == "ran" for s in result["steps"])
    skipped = sum(s["status"] == "skipped" for s in result["steps"])
    counts = f"{ran} ran, {skipped} skipped"
    if result["status"] == "success":
        print(f"{PROG}: {len(selected)} step(s) in {result['duration_s']:.2f} s: {counts}; "
              f"manifest {record.display(record.manifest_path(ctx.paths))} "
              f"({result['manifest_files']} files); log {record.display(log)}")
        return EXIT_OK
    print(f"{PROG}: {result['status']} after {result['duration_s']:.2f} s ({counts}); "
          f"log {record.display(log)}")
    return EXIT_INTERRUPTED if result["status"] == "interrupted" else EXIT_FAILED


def verify(ctx: Context, args: argparse.Namespace) -> int:
    """Rerun every step into a temporary folder and compare its files with the tree's
    (``<output>/logs/verify.csv``: "missing" = absent from the tree, "extra" = a file
    in the tree the code no longer produces)."""
    scratch = Path(tempfile.mkdtemp(prefix="run_all_verify_"))
    try:
        fresh = dataclasses.replace(ctx, paths=Paths.under(scratch, root=ctx.paths.root))
        print(f"verify: rerunning every step into {scratch}")
        names = [step.name for step in registry()]
        result = execute(fresh, names, force=True, debug=args.debug)
        if result["status"] != "success":
            return EXIT_INTERRUPTED if result["status"] == "interrupted" else EXIT_FAILED
        rows, produced = record.compare_trees(fresh.paths, ctx.paths)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = record.write_diff(ctx.paths.logs / "verify.csv", rows)
    for row in rows:
        print(f"verify: {row['status']:<8} {row['path']}")
    if not rows:
        print(f"verify: {produced} outputs identical")
        return EXIT_OK
    print(f"verify: {len(rows)} file(s) differ from a fresh run ({produced} produced); "
          "missing = absent from the tree, extra = not produced by the code; see "
          f"{record.display(report)}")
    return EXIT_FAILED


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a TOML value when it is one (else as a string)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_all.py", allow_abbrev=False,
        description="Run the replication pipeline (pytask): every step whose inputs, code "
        "or configuration changed since its last run, and the steps that depend on it.")
    add = parser.add_argument
    add("--list", action="store_true", help="list the steps and exit")
    add("--only", action="append", metavar="STEP", default=[],
        help="run this step (repeatable), after the out-of-date steps it depends on")
    add("--from", dest="start", metavar="STEP", help="run this step and every later one")
    add("--force", action="store_true", help="rerun the selected steps even if unchanged")
    add("--config", type=Path, default=config.DEFAULT_STUDY_CONFIG, metavar="PATH",
        help="study configuration (TOML); a non-default one writes to output/studies/<stem>/")
    add("--models", type=Path, default=config.DEFAULT_MODEL_SPEC, metavar="PATH",
        help="model specification (TOML)")
    add("--output-root", type=Path, metavar="DIR",
        help="write data_clean/ and output/ under DIR instead")
    add("--option", action="append", type=parse_option, default=[], metavar="KEY=VALUE",
        help="an option of the steps (repeatable): " + "; ".join(
            f"{key}: {option.help}" for key, option in sorted(OPTIONS.items())))
    add("--verify", action="store_true", help="rerun everything in a temporary folder and "
        "compare every generated file with the current tree; exit 1 if any differs")
    add("--debug", action="store_true", help="show tracebacks of failures")
    return parser


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The arguments and the steps to run; UsageError with close matches for a typo."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    flags = [s for action in parser._actions for s in action.option_strings]
    for arg in unknown:
        close = difflib.get_close_matches(arg.split("=")[0], flags, n=2)
        raise UsageError(f"unknown argument {arg}" + (f" (did you mean {' or '.join(close)}?)"
                                                       if close else "; see --help"))
    names = [step.name for step in registry()]
    for name in [*args.only, *([args.start] if args.start else [])]:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=2)
            maybe = f"did you mean {' or '.join(close)}? " if close else ""
            raise UsageError(f"unknown step '{name}' ({maybe}steps: {', '.join(names)})")
    if args.only and args.start:
        raise UsageError("--only and --from cannot be combined")
    if args.verify and (args.only or args.start):
        raise UsageError("--verify always reruns every step; drop --only/--from")
    for label, path in (("study configuration", args.config), ("model specification",
                                                                 args.models)):
        if not path.is_file():
            raise UsageError(f"{label} not found: {path}")
    try:
        args.option = check_options(dict(args.option))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    selected = names[names.index(args.start):] if args.start else args.only or names
    return args, [name for name in names if name in selected]


def study_paths(config_path: Path, output_root: Path | None) -> Paths:
    """Where a run writes: the default folders, ``--output-root``, or the study's folder."""
    if output_root is not None:
        return Paths.under(output_root.resolve())
    if config_path.resolve() == config.DEFAULT_STUDY_CONFIG.resolve():
        return Paths.default()
    return Paths.under(config.OUTPUT / "studies" / config_path.stem)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_all.py``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args, selected = parse(argv)
    except SystemExit as exit_:  # --help, or a malformed value argparse reports itself
        return int(exit_.code or 0)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        from analysis.runner.steps import description

        steps: list[Step] = registry()
        width = max(len(step.name) for step in steps)
        for index, step in enumerate(steps, start=1):
            print(f"{index:>2}. {step.name:<{width}}  {description(step)}")
        return EXIT_OK
    ctx = Context(paths=study_paths(args.config, args.output_root),
                  study_config_path=args.config.resolve(),
                  model_spec_path=args.models.resolve(), seed=config.SEED,
                  options=args.option)
    try:
        return verify(ctx, args) if args.verify else run(ctx, selected, args, argv)
    except KeyboardInterrupt:  # outside a step (hashing, manifest): nothing half written
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
