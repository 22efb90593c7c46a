"""The README's list of exhibits and the files a run produces agree, both ways."""

from __future__ import annotations

import re
from pathlib import Path

from analysis import config
from analysis.exhibits.exhibit_map import expand, listed_outputs, parse_map
from analysis.exhibits.frames import TABLE_FORMATS

README = config.ROOT / "README.md"
#: Generated files that are not exhibits: logs change every run by design.
NOT_EXHIBITS = ("logs/",)


def test_expand_braces() -> None:
    assert expand("t/x.{a,b}") == ["t/x.a", "t/x.b"]
    assert listed_outputs("<!-- exhibits:start -->\n| e | `p.py` | `t/a.{x,y}`, `m.csv` |\n"
                          "<!-- exhibits:end -->") == {"t/a.x", "t/a.y", "m.csv"}


def test_every_listed_exhibit_exists_and_every_exhibit_is_listed(full_run: Path) -> None:
    listed = listed_outputs(README.read_text(encoding="utf-8"))
    output = full_run / "output"
    produced = {p.relative_to(output).as_posix() for p in output.rglob("*")
                if p.is_file() and not p.name.startswith(".")
                and not p.relative_to(output).as_posix().startswith(NOT_EXHIBITS)}
    assert sorted(listed - produced) == [], "listed in the README but not produced"
    assert sorted(produced - listed) == [], "produced but not listed in the README"


def test_every_table_is_listed_in_every_format() -> None:
    """Each table exists as .csv, .md, .tex, .html and .docx, and the map says so."""
    for entry in parse_map(README.read_text(encoding="utf-8")):
        stems = {f.rsplit(".", 1)[0] for f in entry.files if f.startswith("tables/")}
        for stem in stems:
            assert {f"{stem}.{ext}" for ext in TABLE_FORMATS} <= set(entry.files), stem


def test_every_listed_program_exists() -> None:
    programs = {path for entry in parse_map(README.read_text(encoding="utf-8"))
                for path in entry.program.split(" -> ")}
    assert all(re.fullmatch(r"analysis/[\w/]+\.py", p) for p in programs), programs
    assert programs and all((config.ROOT / p).is_file() for p in programs)
