"""File manifests: path, size and SHA-256 of every generated file, and their comparison.

A manifest is the fingerprint of a run's outputs. ``run_all.py`` writes one after every
successful run (``output/manifest.csv``) and ``run_all.py --verify`` compares the files on
disk with those of a fresh run to show that the package reproduces itself byte for byte.

The core works on plain Python objects so the pipeline can use it without importing
pandas (a multi-second import); :func:`build_manifest`, :func:`compare_manifests` and
:func:`read_manifest` return data frames for interactive and test use.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.io import write_text as atomic_write_text

if TYPE_CHECKING:  # pandas is imported lazily: see the module docstring
    import pandas as pd

MANIFEST_COLUMNS = ("path", "size", "sha256")
DIFF_COLUMNS = ("path", "status", "old_size", "new_size", "old_sha256", "new_sha256")
#: Status of a path in :func:`compare_manifests`.
CHANGED, MISSING, EXTRA = "changed", "missing", "extra"


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a manifest; ``path`` is POSIX-style and relative to the manifest's base."""

    path: str
    size: int
    sha256: str


class FileHasher:
    """SHA-256 of files, cached on (size, mtime, inode) so one run hashes each file once.

    An atomic rewrite (``os.replace``) gives the file a new inode and mtime, so a file a
    step rewrites is hashed again.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, int, int], str]] = {}

    def sha256(self, path: Path) -> str:
        """Hex SHA-256 of the content of ``path`` (which must be a file)."""
        stat = os.stat(path)
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        name = os.fspath(path)
        cached = self._cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        self._cache[name] = (key, digest)
        return digest


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of one file's content."""
    return FileHasher().sha256(path)


def is_hidden(path: Path) -> bool:
    """True for dot files such as ``.gitkeep`` or the temporary files of an atomic write."""
    return path.name.startswith(".")


def iter_files(folder: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted, skipping the ``exclude`` paths.

    ``exclude`` may name files or folders (a folder excludes everything below it).
    A folder that does not exist has no files.
    """
    excluded = {os.path.abspath(path) for path in exclude}
    found: list[Path] = []
    if not os.path.isdir(folder):
        return found
    for dirpath, dirnames, filenames in os.walk(folder):
        # Prune excluded and hidden folders in place so os.walk does not descend into them.
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not name.startswith(".")
            and os.path.abspath(os.path.join(dirpath, name)) not in excluded
        )
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name.startswith(".") or os.path.abspath(full) in excluded:
                continue
            found.append(Path(full))
    return sorted(found)


def relative_posix(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with forward slashes (stable across platforms)."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(base))).as_posix()


def manifest_entries(
    folders: Sequence[Path],
    base: Path,
    exclude: Iterable[Path] = (),
    hasher: FileHasher | None = None,
) -> list[ManifestEntry]:
    """Entries for every file under ``folders`` (paths relative to ``base``), sorted by path."""
    hasher = hasher or FileHasher()
    excluded = list(exclude)
    entries: dict[str, ManifestEntry] = {}
    for folder in folders:
        for file in iter_files(folder, excluded):
            relative = relative_posix(file, base)
            entries[relative] = ManifestEntry(relative, os.path.getsize(file), hasher.sha256(file))
    return [entries[key] for key in sorted(entries)]


def build_manifest(
    folders: Sequence[Path], base: Path, exclude: Iterable[Path] = ()
) -> pd.DataFrame:
    """Manifest of every file under ``folders`` as a frame with columns path, size, sha256."""
    return entries_to_frame(manifest_entries(folders, base, exclude))


def entries_to_frame(entries: Sequence[ManifestEntry]) -> pd.DataFrame:
    """A list of entries as a manifest frame (path, size, sha256)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "path": pd.Series([e.path for e in entries], dtype="string"),
            "size": pd.Series([e.size for e in entries], dtype="int64"),
            "sha256": pd.Series([e.sha256 for e in entries], dtype="string"),
        }
    )


def entries_from_records(records: Iterable[Mapping[str, Any]]) -> list[ManifestEntry]:
    """Entries from mappings with keys path, size, sha256 (rows of a frame or a CSV)."""
    return [
        ManifestEntry(str(row["path"]), int(row["size"]), str(row["sha256"])) for row in records
    ]


def manifest_csv(entries: Sequence[ManifestEntry]) -> str:
    """The CSV text of a manifest: header path,size,sha256, one line per file, sorted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for entry in sorted(entries, key=lambda e: e.path):
        writer.writerow((entry.path, entry.size, entry.sha256))
    return buffer.getvalue()


def write_manifest(path: Path, entries: Sequence[ManifestEntry]) -> Path:
    """Write the manifest CSV atomically (left untouched when the content is unchanged)."""
    text = manifest_csv(entries)
    if os.path.isfile(path) and Path(path).read_text(encoding="utf-8") == text:
        return Path(path)
    return atomic_write_text(path, text)


def read_manifest_entries(path: Path) -> list[ManifestEntry]:
    """Entries of a manifest CSV written by :func:`write_manifest`."""
    with open(path, encoding="utf-8", newline="") as handle:
        return entries_from_records(csv.DictReader(handle))


def read_manifest(path: Path) -> pd.DataFrame:
    """A manifest CSV as a frame (path, size, sha256)."""
    return entries_to_frame(read_manifest_entries(path))


def diff_entries(
    old: Sequence[ManifestEntry], new: Sequence[ManifestEntry]
) -> list[dict[str, Any]]:
    """Differences between two manifests, one dict per differing path, sorted by path.

    status is "changed" (in both, different content), "missing" (in ``old`` only) or
    "extra" (in ``new`` only). Identical files are not listed.
    """
    old_by_path = {entry.path: entry for entry in old}
    new_by_path = {entry.path: entry for entry in new}
    rows: list[dict[str, Any]] = []
    for path in sorted(old_by_path.keys() | new_by_path.keys()):
        before, after = old_by_path.get(path), new_by_path.get(path)
        if before is not None and after is not None:
            if before.sha256 == after.sha256 and before.size == after.size:
                continue
            status = CHANGED
        else:
            status = MISSING if after is None else EXTRA
        rows.append(
            {
                "path": path,
                "status": status,
                "old_size": before.size if before else None,
                "new_size": after.size if after else None,
                "old_sha256": before.sha256 if before else None,
                "new_sha256": after.sha256 if after else None,
            }
        )
    return rows


def compare_manifests(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Differences between two manifest frames (columns path, size, sha256).

    Returns one row per differing path with columns path, status, old_size, new_size,
    old_sha256, new_sha256; status is "changed" (content differs), "missing" (only in
    ``old``) or "extra" (only in ``new``). An empty frame means the manifests agree.
    """
    import pandas as pd

    rows = diff_entries(
        entries_from_records(old.to_dict("records")),
        entries_from_records(new.to_dict("records")),
    )
    frame = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    for column in ("old_size", "new_size"):
        frame[column] = frame[column].astype("Int64")
    for column in ("path", "status", "old_sha256", "new_sha256"):
        frame[column] = frame[column].astype("string")
    return frame


def diff_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The CSV text of :func:`diff_entries` rows (header even when there is no difference)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DIFF_COLUMNS)
    for row in rows:
        writer.writerow(["" if row[column] is None else row[column] for column in DIFF_COLUMNS])
    return buffer.getvalue()
