"""Where a run comes from: the git commit of the code, the Python and platform, the versions
of the packages, and the checksums of the configuration files.

Shared by the run log (analysis.runner.record) and the replication report
(analysis.exhibits.report); nothing here is imported from the packages it names.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from analysis.io import file_sha256

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
