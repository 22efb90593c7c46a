"""Disclosure control of text: messages, the run log, notes and the text of exhibit files.

Two patterns give a firm away in text (pure functions, no I/O):

* an **identifier value**: a firm-identifier column named with a value, as in
  ``orgnr=912345678``, ``firm_id[17]`` or ``subsample firm_id=17`` (the column named alone,
  as in "duplicate interviews of a firm (orgnr)", reveals nothing);
* a **small count**: a count of firms, observations, records or rows between 1 and the
  threshold minus one, as in "2 obs, all with outcome 0" or "N = 3".

:class:`MessageScreen` rewrites the messages a run prints and logs: an identifier value
becomes ``<withheld>``, a small count "fewer than k". It keeps the original text of every
message it changed, for the private diagnostics file the user may ask for
(``run_all.py --diagnostics PATH``, outside the output folder).
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.io import read_toml_text

DEFAULT_THRESHOLD = 5
ID_ROLES = ("firm_id", "interview_id")
UNITS = (r"obs|observations?|firms?|records?|rows?|cases?|respondents?|interviews?|"
         r"enterprises?|companies|company")
SMALL_COUNT = re.compile(rf"\b(\d+)(\s+)({UNITS})\b")
N_EQUALS = re.compile(r"\b([Nn])(\s*=\s*)(\d+)\b")
WITHHELD = "<withheld>"
PLURALS = {"observation": "observations", "firm": "firms", "record": "records", "row": "rows",
           "case": "cases", "respondent": "respondents", "interview": "interviews",
           "enterprise": "enterprises", "company": "companies"}


def id_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """``name=value``, ``name == value`` or ``name[value]`` for any of the identifier column
    names (case-insensitive); group 3 is the value."""
    alternatives = "|".join(sorted((re.escape(n) for n in set(names) if n), key=len,
                                   reverse=True))
    return re.compile(rf"\b({alternatives})(\s*(?:==?|\[)\s*)(['\"]?[\w.\-/]+['\"]?)",
                      re.IGNORECASE)


def identifier_values(text: str, names: Iterable[str]) -> int:
    """How many identifier values ``text`` names (``orgnr=912345678``, ``firm_id[17]``);
    a value must hold a digit or a letter."""
    return sum(1 for m in id_pattern(names).finditer(text) if re.search(r"\w", m.group(3)))


def visible_text(markup: str) -> str:
    """The text of HTML or XML without its tags (an ``id="..."`` attribute names no firm)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def small_counts(text: str, threshold: int) -> list[int]:
    """The counts of firms, observations, ... in ``text`` with 0 < count < threshold."""
    counts = [int(m.group(1)) for m in SMALL_COUNT.finditer(text)]
    counts += [int(m.group(3)) for m in N_EQUALS.finditer(text)]
    return [n for n in counts if 0 < n < threshold]


def redact(text: str, threshold: int, names: Iterable[str]) -> str:
    """``text`` with identifier values withheld and small counts said as "fewer than k"."""
    def count(match: re.Match[str]) -> str:
        n, unit = int(match.group(1)), match.group(3)
        if not 0 < n < threshold:
            return match.group(0)
        return f"fewer than {threshold}{match.group(2)}{PLURALS.get(unit, unit)}"

    def equals(match: re.Match[str]) -> str:
        n = int(match.group(3))
        return f"{match.group(1)} < {threshold}" if 0 < n < threshold else match.group(0)

    def ident(match: re.Match[str]) -> str:
        return f"{match.group(1)}{match.group(2)}{WITHHELD}" if re.search(
            r"\w", match.group(3)) else match.group(0)

    text = id_pattern(names).sub(ident, text)
    return N_EQUALS.sub(equals, SMALL_COUNT.sub(count, text))


def study_screen_settings(study_config: Path) -> tuple[int, list[str]]:
    """Threshold and identifier column names of a study configuration, read leniently
    (defaults when the file is unreadable: the steps report that in their own words)."""
    try:
        data = tomllib.loads(read_toml_text(study_config))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    section = data.get("disclosure") if isinstance(data.get("disclosure"), dict) else {}
    threshold = section.get("min_cell_count", DEFAULT_THRESHOLD)
    if isinstance(threshold, float) and threshold.is_integer():
        threshold = int(threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        threshold = DEFAULT_THRESHOLD
    columns = data.get("columns") if isinstance(data.get("columns"), dict) else {}
    own = [str(columns[r]) for r in ID_ROLES if isinstance(columns.get(r), str)]
    return threshold, list(dict.fromkeys([*ID_ROLES, *own]))


@dataclass
class MessageScreen:
    """Screens every message of a run; counts what it checked and changed and keeps the
    originals of the changed ones (for ``--diagnostics``)."""

    threshold: int = DEFAULT_THRESHOLD
    id_names: list[str] = field(default_factory=lambda: list(ID_ROLES))
    checked: int = 0
    changed: int = 0
    originals: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def for_study(cls, study_config: Path) -> MessageScreen:
        threshold, names = study_screen_settings(study_config)
        return cls(threshold, names)

    def __call__(self, text: str, where: str = "message") -> str:
        self.checked += 1
        safe = redact(text, self.threshold, self.id_names)
        if safe != text:
            self.changed += 1
            self.originals.append((where, text))
        return safe

    def summary(self) -> dict[str, object]:
        """The run log's record of the screen (counts only)."""
        return {"threshold": self.threshold, "identifier_columns": self.id_names,
                "messages_checked": self.checked, "messages_changed": self.changed}

    def diagnostics(self) -> str:
        """The private diagnostics file: the original text of every message changed."""
        lines = ["# run_all diagnostics: PRIVATE, may name firms and small counts; do not "
                 "publish", ""]
        for where, text in self.originals:
            lines += [f"## {where}", "", text.rstrip(), ""]
        if not self.originals:
            lines.append("No message needed screening in this run.")
        return "\n".join(lines) + "\n"
