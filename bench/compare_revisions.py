"""Do two revisions of the package write the same outputs? (Issue 15: a restructuring must
leave every output byte-identical.)

    uv run python bench/compare_revisions.py b1aebb7 a8f2690 \\
        --config examples/cis_like/study.toml --rename analysis/twin=analysis/data/twin

Each revision is checked out in a worktree of its own (``git worktree add --detach``), its
environment made from its own lock file (``uv sync --frozen``), and ``run_all.py`` run there
on the default study and on each ``--config``. The manifests (``manifest.csv``: path, size,
SHA-256 of every output) are then compared file by file. A file whose bytes differ is read
again with each ``--rename OLD=NEW`` applied to the first revision's bytes (a module path
printed in a note, when the restructuring moved the module): "same after renames" means
that was the only difference; a PDF that still differs is compared by its text
(``pdftotext``, white space normalised, the renames applied), since a renamed path in a
figure's note changes its glyphs, not bytes that can be replaced. Images are not compared
further. The report (Markdown) goes to ``--out``; the worktrees are removed at the end.
Exit code 0 when every file is the same (after the renames), else 1.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manifests(output: Path) -> set[Path]:
    """Every manifest below a run's output folder (the default study's and each other
    study's, wherever the revision puts them)."""
    return set(output.rglob("manifest.csv"))


def run_revision(revision: str, work: Path, configs: list[str]) -> dict[str, Path]:
    """Check ``revision`` out, make its environment, run it on the default study and on
    each config; the manifest of each run ("default" or the config's path)."""
    tree = work / revision
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), revision], cwd=ROOT,
                   check=True, capture_output=True)
    subprocess.run(["uv", "sync", "--frozen", "--quiet"], cwd=tree, check=True)
    found: dict[str, Path] = {}
    for config in ["default", *configs]:
        before = manifests(tree / "output")
        argv = [str(tree / ".venv" / "bin" / "python"), "run_all.py"]
        argv += [] if config == "default" else ["--config", config]
        subprocess.run(argv, cwd=tree, check=True, capture_output=True)
        new = sorted(manifests(tree / "output") - before)
        found[config] = new[0] if new else tree / "output" / "manifest.csv"
    return found


def read_manifest(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["path"]: row["sha256"] for row in csv.DictReader(handle)}


def pdf_text(path: Path) -> str | None:
    """The text of a PDF with white space normalised (None without ``pdftotext``)."""
    if shutil.which("pdftotext") is None:
        return None
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return " ".join(text.split())


def same_text(first: Path, second: Path, renames: list[tuple[bytes, bytes]]) -> bool:
    """Two PDFs print the same text once the renames are applied to the first's."""
    if first.suffix != ".pdf":
        return False
    a, b = pdf_text(first), pdf_text(second)
    if a is None or b is None:
        return False
    for old, new in renames:
        a = a.replace(old.decode(), new.decode())
    return a == b


def compare(first: Path, second: Path, renames: list[tuple[bytes, bytes]]) -> list[str]:
    """Report lines comparing two runs' manifests (paths relative to the folder above the
    manifest's folder, as the manifests write them)."""
    a, b = read_manifest(first), read_manifest(second)
    lines = [f"- files: {len(a)} and {len(b)}"]
    for label, names in (("only in the first", sorted(a.keys() - b.keys())),
                         ("only in the second", sorted(b.keys() - a.keys()))):
        if names:
            lines.append(f"- {label}: {', '.join(names)}")
    differ = sorted(name for name in a.keys() & b.keys() if a[name] != b[name])
    renamed = []
    for name in differ:
        data = (first.parent.parent / name).read_bytes()
        for old, new in renames:
            data = data.replace(old, new)
        if data == (second.parent.parent / name).read_bytes():
            renamed.append(name)
    texts = [name for name in differ if name not in renamed and same_text(
        first.parent.parent / name, second.parent.parent / name, renames)]
    lines.append(f"- byte-identical: {len(a.keys() & b.keys()) - len(differ)}")
    lines.append(f"- same after renames: {len(renamed)}")
    lines.append(f"- PDFs whose text is the same after renames: {len(texts)}"
                 + (f" ({', '.join(texts)})" if texts else ""))
    still = [name for name in differ if name not in renamed and name not in texts]
    lines.append(f"- different: {len(still)}" + (f" ({', '.join(still)})" if still else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--config", action="append", default=[], metavar="PATH",
                        help="also run this study configuration (repeatable)")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="text the first revision printed as OLD and the second as NEW")
    parser.add_argument("--out", type=Path, help="write the report here (Markdown)")
    args = parser.parse_args(argv)
    renames = []
    for pair in args.rename:
        old, sep, new = pair.partition("=")
        if not sep or not old:
            parser.error(f"--rename {pair!r}: expected OLD=NEW")
        renames.append((old.encode(), new.encode()))
    work = Path(tempfile.mkdtemp(prefix="compare_revisions_"))
    try:
        runs = [run_revision(revision, work, args.config)
                for revision in (args.first, args.second)]
        report = [f"# Outputs of {args.first} and {args.second}", "",
                  f"Command: `python bench/compare_revisions.py "
                  f"{' '.join(argv if argv is not None else sys.argv[1:])}`", ""]
        same = True
        for config in ["default", *args.config]:
            lines = compare(runs[0][config], runs[1][config], renames)
            same &= lines[-1] == "- different: 0" and not any("only in" in x for x in lines)
            report += [f"## {config}", "", *lines, ""]
    finally:
        for revision in (args.first, args.second):
            subprocess.run(["git", "worktree", "remove", "--force", str(work / revision)],
                           cwd=ROOT, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(report)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
