"""The replication report: one self-contained page holding every exhibit of the README map.

Parsed with the standard library's HTML parser: every entry of the map has its section,
holding its table (caption), figure (an embedded PNG) or data file; nothing is loaded from
elsewhere (no script, stylesheet, font or image from a URL), so the page opens offline;
the verification state lists the checksum of every exhibit file.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis import config
from analysis.errors import ExhibitError
from analysis.exhibits.exhibit_map import MapEntry, parse_map
from analysis.exhibits.report import RunFacts, build_report, entry_html

README = config.ROOT / "README.md"
REPORT = "replication_report.html"  # Paths.report, below output/


class Sections(HTMLParser):
    """Per section id: its exhibit title, captions, images, tables; external references."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.current: dict | None = None
        self.depth = 0
        self.external: list[str] = []
        self.in_caption = False
        self.charset = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("charset") == "utf-8":
            self.charset = True
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value and not value.startswith(("#", "data:")):
                self.external.append(value)
        if tag in ("script", "link", "iframe", "object"):
            self.external.append(tag)
        if tag == "section":
            self.depth += 1
            if self.depth == 1:
                self.current = {"title": attrs.get("data-exhibit"), "captions": [],
                                "images": [], "tables": 0, "text": ""}
                self.sections[attrs.get("id")] = self.current
        if self.current is None:
            return
        if tag == "img":
            self.current["images"].append(attrs.get("src", ""))
        if tag == "table":
            self.current["tables"] += 1
        if tag == "caption":
            self.in_caption = True
            self.current["captions"].append("")

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
            if self.depth == 0:
                self.current = None
        if tag == "caption":
            self.in_caption = False

    def handle_data(self, data):
        if self.current is not None:
            self.current["text"] += data
            if self.in_caption:
                self.current["captions"][-1] += data


def parsed(path: Path) -> Sections:
    parser = Sections()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def test_the_report_holds_every_exhibit_of_the_readme_map(full_run):
    output = full_run / "output"
    page = parsed(output / REPORT)
    assert page.charset and page.external == []  # opens offline
    entries = parse_map(README.read_text(encoding="utf-8"))
    for entry in entries:
        section = page.sections.get(entry.anchor)
        assert section is not None and section["title"] == entry.title, entry.title
        for name in entry.files:
            if name.endswith(".html") and name != REPORT:
                caption = (output / name).read_text(encoding="utf-8").split(
                    "<caption>", 1)[1].split("</caption>", 1)[0]
                assert any(c == caption.replace("&amp;", "&").replace("&#x27;", "'")
                           for c in section["captions"]), name
            if name.endswith(".png"):
                embedded = base64.b64encode((output / name).read_bytes()).decode()
                assert f"data:image/png;base64,{embedded}" in section["images"], name
        if all(f.endswith((".csv", ".md")) for f in entry.files):
            assert section["tables"] or "Written after this page" in section["text"]
    verification = page.sections["verification"]
    for entry in entries:
        for name in entry.files:
            path = output / name
            if name not in (REPORT, "manifest.csv"):
                assert hashlib.sha256(path.read_bytes()).hexdigest() in verification["text"]
    assert "Seed: 20110601" in verification["text"]


def test_an_exhibit_added_to_the_map_appears_without_code_changes():
    entry = MapEntry("Coverage study of the intervals", "analysis/tasks/coverage.py",
                     ("tables/coverage_study.csv", "tables/coverage_study.html"))
    page = ("<!DOCTYPE html><html><body><!-- exhibit:start -->\n<table><caption>Coverage"
            "</caption></table>\n<!-- exhibit:end --></body></html>")
    html = entry_html(entry, {"tables/coverage_study.csv": b"a,b\n1,2\n",
                              "tables/coverage_study.html": page.encode()}, own="r.html")
    assert 'id="coverage-study-of-the-intervals"' in html
    assert "<caption>Coverage</caption>" in html
    missing = entry_html(entry, {"tables/coverage_study.csv": None,
                                 "tables/coverage_study.html": None}, own="r.html")
    assert "not produced by this run" in missing


def test_a_data_file_is_shown_as_a_table():
    entry = MapEntry("Estimates", "p.py", ("estimates/estimates.csv",))
    html = entry_html(entry, {"estimates/estimates.csv": b"model,term\nm1,<x>\n"}, own="r")
    assert '<th scope="col">model</th>' in html and "&lt;x&gt;" in html


def test_the_report_is_the_same_for_the_same_outputs():
    facts = RunFacts(title="T", data_note="Synthetic.", git={"available": False},
                     python="3.11", platform="x", packages={"numpy": "2"}, seed=1,
                     files={"config/a.toml": "ab"})
    entries = [MapEntry("Figure", "p.py", ("figures/f.png",))]
    files = {"figures/f.png": b"\x89PNG..."}
    first = build_report(entries, files, facts, [("figures/f.png", 9, "cd")], own="r.html")
    assert first == build_report(entries, files, facts, [("figures/f.png", 9, "cd")],
                                 own="r.html")
    assert "Synthetic." in first and "<img" in first


def test_a_readme_without_a_map_is_named(tmp_path):
    from analysis.exhibits.exhibit_map import read_map

    (tmp_path / "README.md").write_text("# no map\n", encoding="utf-8")
    with pytest.raises(ExhibitError, match="exhibit map"):
        read_map(tmp_path / "README.md")
