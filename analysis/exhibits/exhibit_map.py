"""The README's exhibit map: every exhibit, the program that writes it and its files.

The map is the table between ``<!-- exhibits:start -->`` and ``<!-- exhibits:end -->`` in
README.md; a test checks that it lists exactly the files a run produces, and the
replication report shows every exhibit it lists (an exhibit added to the map, by any step,
appears in the report with no code change). File patterns are paths below ``output/``
with ``{a,b}`` alternatives: ``tables/table2.{tex,md}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analysis.context import MANIFEST_NAME
from analysis.errors import ExhibitError

START, END = "<!-- exhibits:start -->", "<!-- exhibits:end -->"


@dataclass(frozen=True)
class MapEntry:
    """One row of the map: the exhibit's title, its program and its files below output/."""

    title: str
    program: str
    files: tuple[str, ...]

    @property
    def anchor(self) -> str:
        """An HTML id for the exhibit ("table-2-logit-models-...")."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


def expand(pattern: str) -> list[str]:
    """``a/b.{csv,md}`` -> ``a/b.csv``, ``a/b.md``."""
    match = re.search(r"\{([^}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [p for choice in match.group(1).split(",") for p in expand(head + choice + tail)]


def map_block(readme: str) -> str:
    """The text between the exhibit-map markers."""
    if START not in readme or END not in readme:
        raise ExhibitError(f"README.md has no exhibit map (the {START} ... {END} table)")
    return readme.split(START, 1)[1].split(END, 1)[0]


def parse_map(readme: str) -> list[MapEntry]:
    """The entries of the exhibit map, in README order."""
    entries = []
    for line in map_block(readme).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[2].startswith("`"):
            continue
        program = cells[1].replace("`", "")  # "analysis/tasks/x.py -> analysis/exhibits/y.py"
        files = [f for pattern in re.findall(r"`([^`]+)`", cells[2]) for f in expand(pattern)]
        entries.append(MapEntry(cells[0], program, tuple(files)))
    return entries


def listed_outputs(readme: str) -> set[str]:
    """Every output file the map names (paths below output/)."""
    return {f for entry in parse_map(readme) for f in entry.files}


def exhibit_files(entries: list[MapEntry], own: str) -> list[str]:
    """Every file of the map the report reads (not itself ``own``, not the manifest)."""
    return list(dict.fromkeys(f for e in entries for f in e.files if f not in (own, MANIFEST_NAME)))


def read_map(path: Path) -> list[MapEntry]:
    """The exhibit map of the README at ``path``."""
    if not path.is_file():
        raise ExhibitError(f"{path}: not found; the replication report lists the exhibits of "
                           "its exhibit map")
    return parse_map(path.read_text(encoding="utf-8"))
