"""Atomic file writing and reading helpers shared by every step, and file manifests.

Every output is written to a temporary file in the destination folder and moved into
place with ``os.replace``, which is atomic on POSIX and Windows: an interrupted run leaves
each file either in its old or its new state, never half written. A manifest (path, size,
SHA-256 of every file below some folders) fingerprints what a run wrote, so two runs can
be compared byte for byte.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.errors import DataError, OutputError

if TYPE_CHECKING:  # pandas is imported lazily: the pipeline runner must start fast
    import pandas as pd


TEMP_SUFFIX = ".tmp"


def is_temp_file(path: Path) -> bool:
    """True for the hidden temporary files of an atomic write (``.<name>.<...>.tmp``)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def temp_file_owner(path: Path) -> int | None:
    """The pid of the process that created a temporary file, when its name records one."""
    parts = Path(path).name[1:-len(TEMP_SUFFIX)].rsplit(".", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return int(parts[1])
    return None


#: A temporary file without its writer's pid in its name is stale after this many seconds.
STALE_TEMP_AGE_S = 600


def temp_file_is_stale(path: Path, now: float) -> bool:
    """True if a temporary file's writer is gone (dead pid, or old enough when unknown)."""
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


def remove_stale_temp_files(folders: Iterable[Path], skip: Iterable[Path] = ()) -> list[Path]:
    """Delete the temporary files that killed writers left below ``folders`` (not below
    ``skip``, e.g. other studies' outputs); they are hidden, so never in a manifest."""
    removed, now, skipped = [], time.time(), {Path(p) for p in skip}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skipped]
            for name in filenames:
                path = Path(dirpath, name)
                if is_temp_file(path) and temp_file_is_stale(path, now):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return sorted(removed)


def check_writable(folder: Path) -> None:
    """Create ``folder`` and check that a file can be written there (a probe file: the
    permission bits do not stop root); OutputError naming the folder otherwise."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise write_failure(Path(folder), err, "output folder") from None


#: What to do about a failed write, by errno (the default: OutputError's own hint).
WRITE_HINTS = {
    errno.ENOSPC: "free some disk space (or choose an --output-root on another disk) and "
                  "rerun; the previous version of the file is unchanged",
    errno.EDQUOT: "free some of your disk quota (or choose another --output-root) and rerun; "
                  "the previous version of the file is unchanged",
    errno.EACCES: "make the folder writable for you (or choose another --output-root) and "
                  "rerun; the previous version of the file is unchanged",
    errno.EPERM: "make the folder writable for you (or choose another --output-root) and "
                 "rerun; the previous version of the file is unchanged",
    errno.EROFS: "the disk is read-only: choose an --output-root on a writable disk and rerun",
}


def write_failure(path: Path, err: OSError, what: str = "file") -> OutputError:
    """The one-line error of a failed write: the file (not its temporary copy), the
    system's reason, what to do."""
    path = path.with_suffix("") if path.suffix == TEMP_SUFFIX else path
    return OutputError(f"cannot write {what} {path}: {err.strerror or err}",
                       hint=WRITE_HINTS.get(err.errno or 0))


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def manifest(folders: Iterable[Path], base: Path, skip: Iterable[Path] = ()
             ) -> dict[str, tuple[int, str]]:
    """POSIX path relative to ``base`` -> (size, SHA-256) of every file below ``folders``,
    sorted by path; hidden files and folders and the ``skip`` paths are left out."""
    skipped, entries = {Path(p) for p in skip}, {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")
                           and Path(dirpath, d) not in skipped]
            for path in (Path(dirpath, n) for n in filenames if not n.startswith(".")):
                if path not in skipped:
                    key = path.resolve().relative_to(base).as_posix()
                    entries[key] = (path.stat().st_size, file_sha256(path))
    return dict(sorted(entries.items()))


def compare_manifests(old: dict[str, tuple[int, str]], new: dict[str, tuple[int, str]]
                      ) -> list[dict[str, Any]]:
    """One row per path whose file differs: "changed", "missing" (only in ``old``) or
    "extra" (only in ``new``), with both sizes and SHA-256s; sorted by path."""
    rows = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before != after:
            (old_size, old_sha), (new_size, new_sha) = before or (None, None), after or (
                None, None)
            rows.append({"path": path, "status": "changed" if before and after else
                         "missing" if before else "extra", "old_size": old_size,
                         "new_size": new_size, "old_sha256": old_sha, "new_sha256": new_sha})
    return rows


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A CSV of plain rows (None as empty), atomically; no pandas needed."""
    buffer = StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [header, *([("" if v is None else v) for v in row] for row in rows)])
    return write_text(path, buffer.getvalue())


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The writer's pid in the name lets the next run tell a stale temporary file (its
        # writer was killed) from one being written right now (see temp_file_owner).
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                        dir=path.parent)
    except OSError as err:
        raise write_failure(path, err) from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates files readable by the owner only; outputs are for everyone to read.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:  # disk full, quota, permissions: the old file stays as it was
        tmp.unlink(missing_ok=True)
        raise write_failure(path, err) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` as UTF-8 with Unix newlines, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_csv(path: Path, frame: pd.DataFrame, index: bool = False) -> Path:
    """Write a frame as CSV with a fixed float format, so reruns are byte-identical."""
    return write_text(path, frame.to_csv(index=index, lineterminator="\n"))


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """Write a frame as Parquet (types and categories kept), atomically."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    return Path(path)


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_parquet` (DataError when it is absent)."""
    import pandas as pd

    if not Path(path).is_file():
        raise DataError(f"{path}: not found (run the step that writes it first)")
    return pd.read_parquet(path, engine="pyarrow")


def read_toml_text(path: Path) -> str:
    """The text of a TOML file, without the UTF-8 byte-order mark some Windows editors write
    (TOML forbids it; reading with ``utf-8-sig`` drops it and changes nothing else)."""
    return Path(path).read_text(encoding="utf-8-sig")


def special_file_kind(path: Path) -> str | None:
    """What ``path`` is when it exists but is not a regular file ("a directory", "a FIFO
    (named pipe)", ...), else None. Uses ``stat`` only, so it never opens (or blocks on) a
    pipe or a device."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    for test, kind in ((stat.S_ISREG, None), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def display(path: Path) -> str:
    """``path`` relative to the working directory when below it, else absolute."""
    path = Path(path).resolve()
    if path.is_relative_to(Path.cwd()):
        return path.relative_to(Path.cwd()).as_posix()
    return str(path)


def tree_sha256(folder: Path, skip: Sequence[Path] = ()) -> str:
    """One hash of the files below ``folder`` (hidden ones, temporary files and those at or
    below a path in ``skip`` left out)."""
    lines = []
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if any(path.is_relative_to(other) for other in skip):
            continue
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            lines.append(f"{relative}={file_sha256(path)}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()
