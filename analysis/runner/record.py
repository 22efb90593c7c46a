"""What a run leaves besides its outputs: the manifest (path, size, SHA-256 of every
generated file) and the run log (``<output>/logs/run_log.{json,md}``: commit, versions,
platform, seed, and which steps ran or were skipped, why and for how long)."""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.context import Context, Paths
from analysis.errors import OutputError
from analysis.io import write_text

#: Packages whose versions the run log records (read from metadata, never imported).
KEY_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "linearmodels", "stargazer",
                "pyreadstat", "matplotlib", "joblib", "formulaic", "pyarrow", "pytask")
DIFF_COLUMNS = ("path", "status", "old_size", "new_size", "old_sha256", "new_sha256")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def display(path: Path) -> str:
    """``path`` relative to the working directory when below it, else absolute."""
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def prepare_output_folders(paths: Paths) -> None:
    """Create ``data_clean`` and ``output`` and check that files can be written there (a
    probe file, because permission bits do not stop root); OutputError names the folder."""
    for folder in (paths.data_clean, paths.output):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".run_all_probe.", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise OutputError(f"cannot write to output folder {folder}: "
                              f"{err.strerror or err}; choose another --output-root or "
                              "make the folder writable") from None


# ------------------------------------------------------------------------------ manifest


def manifest_path(paths: Paths) -> Path:
    return paths.output / "manifest.csv"


def manifest(paths: Paths) -> dict[str, tuple[int, str]]:
    """Relative path -> (size, SHA-256) of every generated file of a run's folders.

    Paths are relative to the folder holding data_clean/ and output/. Left out: hidden
    files, the logs, the manifest itself, other studies (``<output>/studies``) and the
    hand-written README.md at the top of each folder.
    """
    base = Path(os.path.commonpath([paths.data_clean.resolve(), paths.output.resolve()]))
    skip = {paths.logs, manifest_path(paths), paths.output / "studies",
            paths.data_clean / "README.md", paths.output / "README.md"}
    entries = {}
    for folder in (paths.data_clean, paths.output):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")
                           and Path(dirpath, d) not in skip]
            for name in filenames:
                path = Path(dirpath, name)
                if name.startswith(".") or path in skip:
                    continue
                with open(path, "rb") as handle:
                    sha = hashlib.file_digest(handle, "sha256").hexdigest()
                entries[path.resolve().relative_to(base).as_posix()] = (path.stat().st_size,
                                                                        sha)
    return dict(sorted(entries.items()))


def write_manifest(paths: Paths) -> int:
    """Write ``<output>/manifest.csv`` (path,size,sha256); return the number of files."""
    entries = manifest(paths)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([("path", "size", "sha256"),
                      *((path, *entry) for path, entry in entries.items())])
    write_text(manifest_path(paths), buffer.getvalue())
    return len(entries)


def compare_trees(reference: Paths, current: Paths) -> tuple[list[dict[str, Any]], int]:
    """Files that differ between two runs' folders ("changed", "missing" from
    ``current``, "extra" in it), sorted by path; and the number of files in ``reference``."""
    old, new = manifest(reference), manifest(current)
    rows = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "changed" if before and after else "missing" if before else "extra"
        (old_size, old_sha), (new_size, new_sha) = before or (None, None), after or (None, None)
        rows.append({"path": path, "status": status, "old_size": old_size,
                     "new_size": new_size, "old_sha256": old_sha, "new_sha256": new_sha})
    return rows, len(old)


def write_diff(path: Path, rows: list[dict[str, Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, DIFF_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())


# ------------------------------------------------------------------------------ run log


def git_state(root: Path) -> dict[str, Any]:
    """Commit and dirtiness of the repository at ``root`` (tracked files only)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if head is None:
        return {"available": False, "commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"available": True, "commit": head.strip(),
            "dirty": None if status is None else bool(status.strip())}


def file_fact(path: Path) -> dict[str, str]:
    try:
        with open(path, "rb") as handle:
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        sha = "missing"
    return {"path": str(path), "sha256": sha}


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def write_run_log(ctx: Context, result: dict[str, Any], argv: list[str]) -> Path:
    """Write ``run_log.json`` and ``run_log.md`` into the logs folder; return the .md."""
    log = {"command": ["run_all.py", *argv], **{k: result.get(k) for k in (
        "status", "started_at", "finished_at", "duration_s", "manifest_files")},
        "git": git_state(ctx.paths.root),
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "packages": versions(), "platform": platform.platform(),
        "machine": platform.machine(), "cpu_count": os.cpu_count(), "seed": ctx.seed,
        "study_config": file_fact(ctx.study_config_path),
        "model_spec": file_fact(ctx.model_spec_path), "options": ctx.options,
        "paths": {k: str(getattr(ctx.paths, k)) for k in ("root", "data_clean", "output")},
        "steps": result["steps"]}
    write_text(ctx.paths.logs / "run_log.json", json.dumps(log, indent=2, default=str) + "\n")
    git = log["git"]
    commit = (f"`{git['commit']}` (uncommitted changes to tracked files: "
              f"{ {True: 'yes', False: 'no', None: 'unknown'}[git['dirty']]})"
              if git["available"] else "not a git repository (or git unavailable)")
    lines = [
        "# Run log", "",
        "This file changes on every run (times, durations): it is excluded from the manifest.",
        "", f"- Command: `{' '.join(log['command'])}`", f"- Status: **{log['status']}**",
        f"- Started: {log['started_at']}; finished: {log['finished_at']}; "
        f"{log['duration_s']:.2f} s", f"- Git commit: {commit}",
        f"- Python: {log['python']['version']} ({log['python']['implementation']})",
        f"- Platform: {log['platform']} ({log['machine']}), {log['cpu_count']} CPUs",
        f"- Seed: {log['seed']}",
        *(f"- {label}: `{log[key]['path']}` (sha256 {log[key]['sha256'][:12]})" for label, key
          in (("Study configuration", "study_config"), ("Model specification", "model_spec"))),
        f"- Options: {json.dumps(log['options'], sort_keys=True, default=str)}",
        f"- Clean data: `{log['paths']['data_clean']}`; outputs: `{log['paths']['output']}`",
        "", "## Steps", "", "| step | status | seconds | why it ran / error |",
        "|---|---|---:|---|"]
    for step in log["steps"]:
        note = step.get("error") if step["status"] == "failed" else step.get("reason")
        note = (note or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {step['name']} | {step['status']} | {step['duration_s']:.2f} | {note} |")
    lines += ["", "## Packages", "", "| package | version |", "|---|---|",
              *(f"| {k} | {v or 'not installed'} |" for k, v in log["packages"].items())]
    return write_text(ctx.paths.logs / "run_log.md", "\n".join(lines) + "\n")
