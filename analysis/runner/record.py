"""The run log (``<output>/logs/run_log.{json,md}``): command, status, times, and the facts
of :mod:`analysis.provenance` (git commit, Python, package versions, platform, checksums of
the configuration files), the seed, the options, and each step's status, reason and
duration, the disclosure screen of the messages (counts only) and the stale outputs removed.
It changes on every run, so it is not in the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis import provenance
from analysis.context import Context
from analysis.io import write_text


def step_line(step: dict[str, Any]) -> str:
    """One row of the steps table: status, seconds, and why it ran or how it failed."""
    why = step.get("error") if step["status"] == "failed" else step.get("reason")
    text = str(why or "").replace("|", "\\|").replace("\n", " ")
    return f"| {step['name']} | {step['status']} | {step['duration_s']:.2f} | {text} |"


def write_run_log(ctx: Context, result: dict[str, Any], argv: list[str]) -> Path:
    """Write ``run_log.json`` and ``run_log.md`` into the logs folder; return the .md."""
    git = provenance.git_state(ctx.paths.root)
    log = {"command": ["run_all.py", *argv], **result, "git": git,
           **provenance.python_and_platform(),
           "packages": provenance.package_versions(), "seed": ctx.seed,
           "study_config": provenance.file_fact(ctx.study_config_path),
           "model_spec": provenance.file_fact(ctx.model_spec_path), "options": ctx.options,
           "paths": {k: str(getattr(ctx.paths, k)) for k in ("root", "data_clean", "output")}}
    write_text(ctx.paths.logs / "run_log.json", json.dumps(log, indent=2, default=str) + "\n")
    dirty = {True: "yes", False: "no", None: "unknown"}[git["dirty"]]
    if git["available"]:
        commit = f"- Git commit: `{git['commit']}` (uncommitted changes to tracked files: {dirty})"
    else:
        commit = "- Git commit: not a git repository (or git unavailable)"
    python = log["python"]
    lines = [
        "# Run log", "",
        "This file changes on every run (times, durations): it is excluded from the manifest.",
        "",
        f"- Command: `{' '.join(log['command'])}`",
        f"- Status: **{log['status']}**",
        f"- Started: {log['started_at']}; finished: {log['finished_at']}; "
        f"{log['duration_s']:.2f} s",
        commit,
        f"- Python: {python['version']} ({python['implementation']})",
        f"- Platform: {log['platform']} ({log['machine']}), {log['cpu_count']} CPUs",
        f"- Seed: {log['seed']}",
    ]
    for label, key in (("Study configuration", "study_config"), ("Model specification",
                                                                  "model_spec")):
        lines.append(f"- {label}: `{log[key]['path']}` (sha256 {log[key]['sha256'][:12]})")
    lines += [
        f"- Options: {json.dumps(log['options'], sort_keys=True, default=str)}",
        f"- Clean data: `{log['paths']['data_clean']}`; outputs: `{log['paths']['output']}`",
        "- Messages screened for disclosure: {messages_checked} checked, {messages_changed} "
        "changed (identifier values withheld, counts below {threshold} said as 'fewer than "
        "{threshold}')".format(**log.get("disclosure_screen", {
            "messages_checked": 0, "messages_changed": 0, "threshold": "the threshold"})),
        f"- Outputs no step makes any more, removed: "
        f"{', '.join(log.get('removed_stale_outputs', [])) or 'none'}",
        "", "## Steps", "",
        "| step | status | seconds | why it ran / error |", "|---|---|---:|---|",
        *(step_line(step) for step in log["steps"]),
        "", "## Packages", "", "| package | version |", "|---|---|",
        *(f"| {name} | {version or 'not installed'} |"
          for name, version in log["packages"].items()),
    ]
    return write_text(ctx.paths.logs / "run_log.md", "\n".join(lines) + "\n")
