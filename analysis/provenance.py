"""Where a run comes from: the git commit of the code, the Python and platform, the versions
of the packages, and the checksums of the configuration files; and the run log that records
them with what the run did.

Shared by the run log (:func:`write_run_log`, written by ``run_all.py``) and the replication
report (analysis.exhibits.report); nothing here is imported from the packages it names.

The run log (``<output>/logs/run_log.{json,md}``): command, status, times, these facts, the
seed, the options, each step's status, reason and duration, the disclosure screen of the
messages (counts only) and the stale outputs removed. It changes on every run, so it is not
in the manifest.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.context import Context
from analysis.io import file_sha256, write_text

#: Packages whose versions the run log and the report record (read from metadata).
KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "stargazer",
    "pyreadstat",
    "matplotlib",
    "joblib",
    "formulaic",
    "pyarrow",
    "python-docx",
    "pytask",
)


def git_state(root: Path) -> dict[str, Any]:
    """Commit and dirtiness of the repository at ``root`` (tracked files only)."""

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return {"available": False, "commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return {"available": True, "commit": head.stdout.strip(), "dirty": dirty}


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed versions from package metadata (the packages are not imported)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def python_and_platform() -> dict[str, Any]:
    """The interpreter (version, implementation, executable) and the machine."""
    return {"python": {"version": platform.python_version(),
                       "implementation": platform.python_implementation(),
                       "executable": sys.executable},
            "platform": platform.platform(), "machine": platform.machine(),
            "cpu_count": os.cpu_count()}


def file_fact(path: Path) -> dict[str, str]:
    """A configuration file's path and SHA-256 ("missing" when it is absent)."""
    return {"path": str(path), "sha256": file_sha256(path) if Path(path).is_file() else "missing"}


def now() -> str:
    """The time in UTC, to the second (``2026-01-31T12:00:00Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_log_step(step: dict[str, Any]) -> str:
    """One row of the steps table: status, seconds, and why it ran or how it failed."""
    why = step.get("error") if step["status"] == "failed" else step.get("reason")
    text = str(why or "").replace("|", "\\|").replace("\n", " ")
    return f"| {step['name']} | {step['status']} | {step['duration_s']:.2f} | {text} |"


def write_run_log(ctx: Context, result: dict[str, Any], argv: list[str]) -> Path:
    """Write ``run_log.json`` and ``run_log.md`` into the logs folder; return the .md."""
    git = git_state(ctx.paths.root)
    log = {"command": ["run_all.py", *argv], **result, "git": git,
           **python_and_platform(),
           "packages": package_versions(), "seed": ctx.seed,
           "study_config": file_fact(ctx.study_config_path),
           "model_spec": file_fact(ctx.model_spec_path), "options": ctx.options,
           "paths": {k: str(getattr(ctx.paths, k)) for k in ("root", "data_clean", "output")}}
    write_text(ctx.paths.run_log, json.dumps(log, indent=2, default=str) + "\n")
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
        *(run_log_step(step) for step in log["steps"]),
        "", "## Packages", "", "| package | version |", "|---|---|",
        *(f"| {name} | {version or 'not installed'} |"
          for name, version in log["packages"].items()),
    ]
    return write_text(ctx.paths.run_log.with_suffix(".md"), "\n".join(lines) + "\n")
