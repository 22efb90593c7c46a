"""Checks shared by the bad-input tests (tests/test_bad_inputs.py and
tests/test_bad_estimation_inputs.py): the digests of a tree (analysis.io.file_sha256 for
one file), leftover temporary files, and the one message a failed run must print."""

from __future__ import annotations

from pathlib import Path

from analysis.io import file_sha256


def tree_state(root: Path) -> dict[str, str]:
    """SHA-256 of every file below ``root`` except the run logs (rewritten on every run)."""
    return {str(p.relative_to(root)): file_sha256(p) for p in sorted(root.rglob("*"))
            if p.is_file() and "logs" not in p.relative_to(root).parts}


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def assert_one_message(err: str, *needles: str) -> None:
    """One message (one ``run_all:`` line, no traceback) containing every needle."""
    assert "Traceback" not in err, err
    assert err.count("run_all:") == 1, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in message:\n{err}"
