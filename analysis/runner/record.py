"""The run log (``<output>/logs/run_log.{json,md}``): command, status, times, git commit,
Python, package versions, platform, seed, configuration files, options, and each step's
status, reason and duration. It changes on every run, so it is not in the manifest."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from analysis.context import Context
from analysis.io import file_sha256, write_text

#: Packages whose versions the run log records (from metadata; none is imported).
PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "linearmodels", "stargazer",
            "pyreadstat", "matplotlib", "joblib", "formulaic", "pyarrow", "pytask")


def git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def fact(path: Path) -> dict[str, str]:
    return {"path": str(path), "sha256": file_sha256(path) if Path(path).is_file() else "missing"}


def write_run_log(ctx: Context, result: dict[str, Any], argv: list[str]) -> Path:
    """Write ``run_log.json`` and ``run_log.md`` into the logs folder; return the .md."""
    commit = git(ctx.paths.root, "rev-parse", "HEAD")
    status = git(ctx.paths.root, "status", "--porcelain", "--untracked-files=no")
    log = {"command": ["run_all.py", *argv], **result,
           "git": {"available": commit is not None, "commit": commit,
                   "dirty": None if commit is None or status is None else bool(status)},
           "python": {"version": platform.python_version(),
                      "implementation": platform.python_implementation(),
                      "executable": sys.executable},
           "packages": {name: version(name) for name in PACKAGES},
           "platform": platform.platform(), "machine": platform.machine(),
           "cpu_count": os.cpu_count(), "seed": ctx.seed,
           "study_config": fact(ctx.study_config_path), "model_spec": fact(ctx.model_spec_path),
           "options": ctx.options, "paths": {k: str(getattr(ctx.paths, k)) for k in (
               "root", "data_clean", "output")}}
    write_text(ctx.paths.logs / "run_log.json", json.dumps(log, indent=2, default=str) + "\n")
    dirty = {True: "yes", False: "no", None: "unknown"}[log["git"]["dirty"]]
    lines = [
        "# Run log", "", "This file changes on every run (times, durations): it is excluded "
        "from the manifest.", "", f"- Command: `{' '.join(log['command'])}`",
        f"- Status: **{log['status']}**", f"- Started: {log['started_at']}; finished: "
        f"{log['finished_at']}; {log['duration_s']:.2f} s",
        f"- Git commit: `{commit}` (uncommitted changes to tracked files: {dirty})" if commit
        else "- Git commit: not a git repository (or git unavailable)",
        f"- Python: {log['python']['version']} ({log['python']['implementation']})",
        f"- Platform: {log['platform']} ({log['machine']}), {log['cpu_count']} CPUs",
        f"- Seed: {log['seed']}",
        *(f"- {label}: `{log[key]['path']}` (sha256 {log[key]['sha256'][:12]})" for label, key
          in (("Study configuration", "study_config"), ("Model specification", "model_spec"))),
        f"- Options: {json.dumps(log['options'], sort_keys=True, default=str)}",
        f"- Clean data: `{log['paths']['data_clean']}`; outputs: `{log['paths']['output']}`",
        "", "## Steps", "", "| step | status | seconds | why it ran / error |",
        "|---|---|---:|---|",
        *(f"| {s['name']} | {s['status']} | {s['duration_s']:.2f} | " + str(
            (s.get("error") if s["status"] == "failed" else s.get("reason")) or "").replace(
            "|", "\\|").replace("\n", " ") + " |" for s in log["steps"]),
        "", "## Packages", "", "| package | version |", "|---|---|",
        *(f"| {k} | {v or 'not installed'} |" for k, v in log["packages"].items())]
    return write_text(ctx.paths.logs / "run_log.md", "\n".join(lines) + "\n")
