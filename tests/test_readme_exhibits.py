"""The README's list of exhibits and the files a run produces agree, both ways."""

from __future__ import annotations

import re
from pathlib import Path

from analysis import config

README = config.ROOT / "README.md"
#: Generated files that are not exhibits: logs change every run by design.
NOT_EXHIBITS = ("logs/",)


def expand(pattern: str) -> list[str]:
    """``a/b.{csv,md}`` -> ``a/b.csv``, ``a/b.md``."""
    match = re.search(r"\{([^}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [p for choice in match.group(1).split(",") for p in expand(head + choice + tail)]


def listed_outputs(readme: str) -> set[str]:
    """Output files named in the exhibits table of the README (paths below output/)."""
    block = readme.split("<!-- exhibits:start -->", 1)[1].split("<!-- exhibits:end -->", 1)[0]
    files: set[str] = set()
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[2].startswith("`"):
            continue
        for pattern in re.findall(r"`([^`]+)`", cells[2]):
            files.update(expand(pattern))
    return files


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


def test_every_listed_program_exists() -> None:
    readme = README.read_text(encoding="utf-8")
    block = readme.split("<!-- exhibits:start -->", 1)[1].split("<!-- exhibits:end -->", 1)[0]
    programs = {path for line in block.splitlines() if line.count("|") == 4
                for path in re.findall(r"`(analysis/[^`]+\.py)`", line.split("|")[2])}
    assert programs and all((config.ROOT / p).is_file() for p in programs)
