"""``run_all.py``: the replication pipeline, run by pytask (``uv run run_all.py --help``).

    uv run run_all.py                       # every step; unchanged steps are skipped
    uv run run_all.py --only tables         # this step (repeatable), after the out-of-date
                                            # steps whose outputs it reads; the steps it
                                            # leaves out of date are named
    uv run run_all.py --config other.toml   # another study: output/studies/<its name>/
    uv run run_all.py --verify              # fresh run in a temporary folder, compare bytes

The steps become pytask tasks (:mod:`analysis.runner.steps`); pytask decides what is out of
date. Its state (``pytask.lock``, ``.pytask/``) lives in ``<output>/logs/pytask/``, so runs
into different output folders never share it. Before any step the output tree is checked
(:mod:`analysis.output_tree`: the study owns its folders, no input lies in them); every
message is screened for disclosure. A run writes the run log and, when it succeeds,
``<output>/manifest.csv`` after removing the outputs no step makes any more. Exit codes:
0 success, 1 a step failed (or --verify found differences), 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis import config, io, output_tree
from analysis.context import (
    OPTIONS,
    Context,
    Paths,
    check_options,
    close_matches,
    inside_project_warning,
    parse_option,
)
from analysis.errors import ConfigError, OutputError, explain
from analysis.exhibits.disclosure_text import MessageScreen
from analysis.io import display
from analysis.provenance import now, write_run_log
from analysis.runner.steps import registry

PROG = "run_all"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
STATUS = {"success": "ran", "skip_unchanged": "skipped", "fail": "failed", "skip": "not selected"}


def execute(ctx: Context, selected: Sequence[str], force: bool, debug: bool,
            screen: MessageScreen) -> dict[str, Any]:
    """Run the selected steps, after the out-of-date steps they depend on, with pytask;
    first the checks of the output tree (analysis.output_tree), after it its outcome."""
    import pytask

    from analysis.runner.steps import (
        StepSetupError,
        build_tasks,
        check_before_run,
        plan,
        run_unfinished,
    )

    result: dict[str, Any] = {"status": "success", "started_at": now(), "steps": []}
    clock = time.perf_counter()
    failures: list[tuple[str | None, BaseException]] = []
    reports, aside = {}, None
    state = ctx.paths.run_state / "pytask.toml"  # pytask's root: its state goes here
    try:
        tasks = build_tasks(ctx, registry(), set(selected) if force else set())
        check_before_run(ctx, tasks)
        aside = output_tree.prepare(ctx, *plan(ctx, tasks))
        io.write_text(state, "# Written by run_all.py\n[tool.pytask.ini_options]\n")
    except StepSetupError as exc:  # a step's module, inputs() or outputs(): before any work
        failures, tasks = [(exc.step, exc.error)], []
    except OutputError as exc:  # the output tree: before any work
        failures, tasks = [(None, exc)], []
    else:
        try:  # the database in memory: pytask.lock (in the state folder) records states
            session = pytask.build(
                tasks=tasks, config=state, capture="no", database_url="sqlite://",
                marker_expression=" or ".join([*selected, "every_run"]),
                show_traceback=False, stop_after_first_failure=True,
                verbose=1 if sys.stdout.isatty() else 0)
        except OSError as err:  # pytask's own state: its lock is replaced atomically
            failures.append((None, io.write_failure(Path(err.filename or state), err,
                                                    "pytask's state file")))
        else:
            reports = {report.task.name: report for report in session.execution_reports}
            if session.exit_code not in (pytask.ExitCode.OK, pytask.ExitCode.FAILED):
                failures.append(("pytask", RuntimeError(f"exit code {session.exit_code}")))
            failures += run_unfinished(tasks, reports)  # the checks run after a failure
    for index, task in enumerate(tasks, start=1):
        step, error = step_record(task, reports.get(task.name), screen)
        if error is not None:
            failures.append((task.name, error))
        result["steps"].append(step)
        wanted = task.name in selected or "every_run" in task.depends_on
        print(f"[{index}/{len(tasks)}] {step_line(step, wanted)}")
    for step_name, exc in dict.fromkeys(failures):
        if isinstance(exc, KeyboardInterrupt):
            result["status"] = "interrupted"
            continue
        if debug:
            print(screen("".join(traceback.format_exception(exc)), f"traceback of {step_name}"),
                  end="", file=sys.stderr)
        where = f"step '{step_name}' failed: " if step_name else ""
        print(f"{PROG}: {where}{screen(explain(exc), f'message of {step_name}')}",
              file=sys.stderr)
        result["status"] = "failed"
    if aside is not None:  # stale outputs: deleted after a success, else put back
        removed = aside.discard() if result["status"] == "success" else aside.restore()
        result["removed_stale_outputs"] = [display(path) for path in removed]
    result["finished_at"] = now()
    result["duration_s"] = round(time.perf_counter() - clock, 3)
    return result


def step_record(task: Any, report: Any, screen: MessageScreen
                ) -> tuple[dict[str, Any], BaseException | None]:
    """A task's entry in the run log (its messages screened) and, when it failed, its error."""
    status = STATUS.get(report.outcome.name.lower(), "not run") if report else "not run"
    status = task.info.get("status", status)  # a check run after a failure (run_unfinished)
    reason = task.info.get("reason")
    if status == "not selected":  # left out of date by a step that ran before it?
        reason = task.changes() or None
    step = {"name": task.name, "module": task.step.module, "status": status,
            "duration_s": task.info.get("duration_s", 0.0), "reason": reason}
    error = report.exc_info[1] if report and report.exc_info else task.info.get("error")
    if status != "failed" or error is None:
        return step, None
    step.update(error=screen(str(error), f"log of {task.name}"),
                error_type=type(error).__qualname__, traceback=screen(
                    "".join(traceback.format_exception(error)), f"logged traceback of {task.name}"))
    return step, error


def step_line(step: dict[str, Any], selected: bool) -> str:
    """ "tables: ran in 0.74 s (code changed: ...)", "compare: skipped (unchanged)"."""
    if step["status"] == "ran":
        text = f"ran in {step['duration_s']:.2f} s ({step['reason']})"
        if not selected:
            text += "; not selected, but a selected step depends on it"
    elif step["status"] == "skipped":
        text = "skipped (unchanged)"
    elif step["status"] == "not selected" and step["reason"]:
        text = f"not selected, now out of date ({step['reason']}): run it to update"
    else:
        text = step["status"]
    return f"{step['name']}: {text}"


def run(ctx: Context, selected: Sequence[str], args: argparse.Namespace, argv: list[str]
        ) -> int:
    """Run, then write the manifest (on success) and the run log; one summary line."""
    screen = MessageScreen.for_study(ctx.study_config_path)
    try:
        for folder in (ctx.paths.data_clean, ctx.paths.output):
            io.check_writable(folder)
        io.remove_stale_temp_files([ctx.paths.data_clean, ctx.paths.output],
                                   skip=[ctx.paths.other_studies])
        result = execute(ctx, selected, args.force, args.debug, screen)
        if result["status"] == "success":
            result["manifest_files"] = output_tree.write_manifest(ctx.paths)
        result["disclosure_screen"] = screen.summary()
        log = display(write_run_log(ctx, result, argv))
        if args.diagnostics:
            io.write_text(args.diagnostics, screen.diagnostics())
    except OutputError as exc:  # a write of the runner's own: the old files stay as they were
        print(f"{PROG}: {explain(exc)}", file=sys.stderr)
        return EXIT_FAILED
    counts = ", ".join(f"{sum(s['status'] == what for s in result['steps'])} {what}"
                       for what in ("ran", "skipped"))
    stale = [s["name"] for s in result["steps"] if s["status"] == "not selected" and s["reason"]]
    if stale and result["status"] == "success":
        print(f"{PROG}: warning: out of date, not selected: {', '.join(stale)} (their outputs "
              f"describe the earlier inputs; run them, or every step, to update)",
              file=sys.stderr)
    if result["status"] == "success":
        print(f"{PROG}: {len(selected)} step(s) in {result['duration_s']:.2f} s: {counts}; "
              f"manifest {display(ctx.paths.manifest)} "
              f"({result['manifest_files']} files); log {log}")
        return EXIT_OK
    print(f"{PROG}: {result['status']} after {result['duration_s']:.2f} s ({counts}); log {log}")
    return EXIT_INTERRUPTED if result["status"] == "interrupted" else EXIT_FAILED


def verify(ctx: Context, debug: bool) -> int:
    """Rerun every step into a temporary folder and compare its files with the tree's
    (``<output>/logs/verify.csv``: "missing" = absent from the tree, "extra" = in the tree
    but no longer produced by the code)."""
    scratch = Path(tempfile.mkdtemp(prefix="run_all_verify_"))
    try:
        fresh = dataclasses.replace(ctx, paths=Paths.under(scratch, root=ctx.paths.root))
        print(f"verify: rerunning every step into {scratch}")
        result = execute(fresh, [step.name for step in registry()], True, debug,
                         MessageScreen.for_study(ctx.study_config_path))
        if result["status"] != "success":
            return EXIT_INTERRUPTED if result["status"] == "interrupted" else EXIT_FAILED
        rows, produced, report = output_tree.compare_trees(fresh.paths, ctx.paths)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for row in rows:
        print(f"verify: {row['status']:<8} {row['path']}")
    print(f"verify: {len(rows)} file(s) differ from a fresh run ({produced} produced); "
          f"missing = absent from the tree, extra = not produced by the code; see "
          f"{display(report)}" if rows else f"verify: {produced} outputs identical")
    return EXIT_FAILED if rows else EXIT_OK


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The arguments and the steps to run, checked before any work (ValueError: usage)."""
    parser = argparse.ArgumentParser(prog="run_all.py", allow_abbrev=False, description=(
        "Run the replication pipeline (pytask): every step whose inputs, code or "
        "configuration changed since its last run, and the steps that depend on it."))
    add = parser.add_argument

    def option(text: str) -> tuple[str, Any]:
        try:
            return parse_option(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    add("--list", action="store_true", help="list the steps and exit")
    add("--only", action="append", metavar="STEP", default=[],
        help="run this step (repeatable), after the out-of-date steps it depends on")
    add("--from", dest="start", metavar="STEP", help="run this step and every later one")
    add("--force", action="store_true", help="rerun the selected steps even if unchanged")
    add("--config", type=Path, default=config.DEFAULT_STUDY_CONFIG, metavar="PATH",
        help="study configuration (TOML); another one writes to output/studies/<its name>/")
    add("--models", type=Path, default=config.DEFAULT_MODEL_SPEC, metavar="PATH",
        help="model specification (TOML)")
    add("--output-root", type=Path, metavar="DIR", help="write data_clean/ and output/ there")
    add("--option", action="append", type=option, default=[], metavar="KEY=VALUE",
        help="an option of the steps (repeatable): " + "; ".join(
            f"{key}: {option.help}" for key, option in sorted(OPTIONS.items())))
    add("--verify", action="store_true", help="rerun everything in a temporary folder and "
        "compare every generated file with the current tree; exit 1 if any differs")
    add("--debug", action="store_true", help="show tracebacks of failures")
    add("--diagnostics", type=Path, metavar="PATH", help="write the full text of messages "
        "that name firms or small counts to this private file (never inside output/)")
    args, unknown = parser.parse_known_args(argv)
    names = [step.name for step in registry()]
    if unknown:
        flags = [flag for action in parser._actions for flag in action.option_strings]
        raise ValueError(f"unknown argument {unknown[0]}{close_matches(unknown[0], flags)}")
    for name in [*args.only, *([args.start] if args.start else [])]:
        if name not in names:
            raise ValueError(f"unknown step {name!r}{close_matches(name, names)}")
    if sum(map(bool, (args.only, args.start, args.verify))) > 1:
        raise ValueError("--only, --from and --verify cannot be combined")
    for label, path in (("study configuration", args.config),
                        ("model specification", args.models)):
        if not path.is_file():
            raise ValueError(f"{label} not found: {path}")
    args.option = check_options(dict(args.option))
    selected = names[names.index(args.start):] if args.start else args.only or names
    return args, [name for name in names if name in selected]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_all.py``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args, selected = parse(argv)
    except SystemExit as exit_:  # --help, or a value argparse rejects itself
        return int(exit_.code or 0)
    except (ValueError, ConfigError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        for index, step in enumerate(registry(), start=1):
            try:
                text = importlib.import_module(step.module).DESCRIPTION
            except ImportError as exc:
                text = f"(module {step.module} not found: {exc})"
            print(f"{index:>2}. {step.name:<12} {text}")
        return EXIT_OK
    warning = inside_project_warning(args.config, args.output_root)
    if warning:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    ctx = Context(paths=Paths.for_study(args.config, args.output_root),
                  study_config_path=args.config.resolve(), model_spec_path=args.models.resolve(),
                  seed=config.SEED, options=args.option)
    if args.diagnostics and any(output_tree.within(args.diagnostics, folder)
                                for folder in (ctx.paths.output, ctx.paths.data_clean)):
        print(f"{PROG}: --diagnostics {args.diagnostics}: the private diagnostics file must "
              f"lie outside {ctx.paths.output} and {ctx.paths.data_clean}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return verify(ctx, args.debug) if args.verify else run(ctx, selected, args, argv)
    except KeyboardInterrupt:  # outside a step (hashing, manifest): nothing half written
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
