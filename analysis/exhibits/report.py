"""The replication report: one self-contained HTML page with every exhibit of the run.

Built from the README's exhibit map (:mod:`analysis.exhibits.exhibit_map`), in its order:
each exhibit gets a section with its program and files; tables are embedded from their
HTML files, figures as PNG data URIs, data files (CSV) as tables one can unfold, Markdown
as text. The page ends with the verification state: the commit, the platform and package
versions, the seed, the configuration files with their checksums, and the SHA-256 of
every exhibit file. No script, no stylesheet or font from elsewhere: it opens offline, and
the same outputs give the same bytes (no dates, no absolute paths).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.context import MANIFEST_NAME
from analysis.errors import ExhibitError
from analysis.exhibits.exhibit_map import MapEntry
from analysis.exhibits.html import STYLE, exhibit_fragment
from analysis.io import file_sha256
from analysis.provenance import git_state, package_versions

REPORT_STYLE = STYLE + """
section.entry{border-top:1px solid #999;margin-top:2em;padding-top:0.5em;}
p.files{font-size:9pt;color:#444;}
img.figure{max-width:100%;height:auto;border:0;}
table.data{border-collapse:collapse;font-size:8.5pt;}
table.data th,table.data td{border-bottom:1px solid #ddd;padding:0.1em 0.4em;text-align:left;}
pre{font-size:8.5pt;white-space:pre-wrap;}
nav ol{columns:2;font-size:9.5pt;}
"""


@dataclass(frozen=True)
class RunFacts:
    """What the report records about the run (nothing that changes between reruns)."""

    title: str
    data_note: str
    git: Mapping[str, object]
    python: str
    platform: str
    packages: Mapping[str, str | None]
    seed: int
    files: Mapping[str, str]  # configuration file (relative path) -> SHA-256
    options: Mapping[str, object] = field(default_factory=dict)


def shown_path(path: Path, root: Path) -> str:
    """A configuration file's path relative to the project (else its name)."""
    path = Path(path).resolve()
    return path.relative_to(root.resolve()).as_posix() if path.is_relative_to(
        root.resolve()) else path.name


def run_facts(title: str, data_note: str, root: Path, configs: Sequence[Path], seed: int,
              options: Mapping[str, object]) -> RunFacts:
    """The facts of a run of the project at ``root``: its commit, Python, platform, package
    versions, seed, options and the checksums of the configuration files ``configs``."""
    files = {shown_path(p, root): file_sha256(p) for p in configs if Path(p).is_file()}
    return RunFacts(title=title, data_note=data_note, git=git_state(root),
                    python=platform.python_version(), platform=platform.platform(),
                    packages=package_versions(), seed=seed, files=files, options=dict(options))


def read_exhibits(output: Path, names: Sequence[str]
                  ) -> tuple[dict[str, bytes | None], list[tuple[str, int, str]]]:
    """The content of each file ``names`` below ``output`` (None: not produced) and the
    size and SHA-256 of those present."""
    files: dict[str, bytes | None] = {}
    for name in names:
        path = Path(output) / name
        files[name] = path.read_bytes() if path.is_file() else None
    checksums = [(name, len(data), hashlib.sha256(data).hexdigest())
                 for name, data in files.items() if data is not None]
    return files, checksums


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def csv_html(text: str, caption: str) -> str:
    """A CSV file as an HTML table (header cells from its first line), folded away."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return f"<p>{esc(caption)}: empty file.</p>"
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in rows[0])
    body = "\n".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                     for row in rows[1:])
    return (f"<details><summary>{esc(caption)}: {len(rows) - 1:,} rows, "
            f"{len(rows[0])} columns</summary>\n<table class=\"data\">\n<thead><tr>{head}"
            f"</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</details>")


def png_html(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img class="figure" alt="{esc(alt)}" src="data:image/png;base64,{encoded}">'


def page_body(text: str) -> str:
    """The exhibit part of an HTML file (its markers, else its body, else all of it)."""
    try:
        return exhibit_fragment(text)
    except ExhibitError:
        lower = text.lower()
        if "<body" in lower and "</body>" in lower:
            start = lower.index(">", lower.index("<body")) + 1
            return text[start:lower.rindex("</body>")]
        return text


def entry_content(entry: MapEntry, files: Mapping[str, bytes | None], own: str) -> list[str]:
    """What the report shows of one exhibit, from its files' contents (None: missing)."""
    present = {name: data for name, data in files.items() if data is not None}
    if own in entry.files:
        return ["<p>This page.</p>"]
    parts = []
    for name in entry.files:
        data = present.get(name)
        if data is None:
            continue
        if name.endswith(".html"):
            parts.append(page_body(data.decode("utf-8")))
        elif name.endswith(".png"):
            parts.append(png_html(data, entry.title))
    if parts:
        return parts
    for name in entry.files:
        data = present.get(name)
        if name == MANIFEST_NAME:
            parts.append("<p>Written after this page (it lists this page's checksum too); "
                         "the checksums of every exhibit at the time this page was made are "
                         'in <a href="#verification">the verification state</a>.</p>')
        elif data is not None and name.endswith(".csv"):
            parts.append(csv_html(data.decode("utf-8"), name))
        elif data is not None and name.endswith(".md"):
            parts.append(f"<details><summary>{esc(name)}</summary><pre>"
                         f"{esc(data.decode('utf-8'))}</pre></details>")
    return parts or ["<p>No file of this exhibit was produced by this run.</p>"]


def entry_html(entry: MapEntry, files: Mapping[str, bytes | None], own: str) -> str:
    """One exhibit's section: title, program, files (missing ones marked), content."""
    listed = ", ".join(f"<code>{esc(f)}</code>" + (" (not produced by this run)"
                                                   if files.get(f) is None and f != own
                                                   and f != MANIFEST_NAME else "")
                       for f in entry.files)
    return "\n".join([
        f'<section class="entry" id="{esc(entry.anchor)}" data-exhibit="{esc(entry.title)}">',
        f"<h2>{esc(entry.title)}</h2>",
        f'<p class="files">Program <code>{esc(entry.program)}</code>; files (below '
        f"<code>output/</code>): {listed}</p>",
        *entry_content(entry, files, own), "</section>"])


def facts_html(facts: RunFacts, checksums: Sequence[tuple[str, int, str]]) -> str:
    """The verification state: provenance of the run and the checksum of every file."""
    git = facts.git
    if git.get("available"):
        dirty = {True: "yes", False: "no"}.get(git.get("dirty"), "unknown")  # type: ignore
        commit = f"<code>{esc(git.get('commit'))}</code> (uncommitted changes: {dirty})"
    else:
        commit = "not a git repository"
    packages = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v or 'not installed')}</td></tr>"
                       for k, v in facts.packages.items())
    configs = "".join(f"<tr><td><code>{esc(k)}</code></td><td><code>{esc(v)}</code></td></tr>"
                      for k, v in facts.files.items())
    rows = "\n".join(f"<tr><td><code>{esc(p)}</code></td><td>{size:,}</td>"
                     f"<td><code>{esc(sha)}</code></td></tr>" for p, size, sha in checksums)
    options = ", ".join(f"{k} = {v}" for k, v in sorted(facts.options.items())) or "none"
    return "\n".join([
        '<section class="entry" id="verification">', "<h2>Verification state</h2>",
        "<ul>", f"<li>Git commit: {commit}</li>", f"<li>Python {esc(facts.python)} on "
        f"{esc(facts.platform)}</li>", f"<li>Seed: {facts.seed}</li>",
        f"<li>Options: {esc(options)}</li>",
        "<li>The times of every step are in <code>output/logs/run_log.md</code> (they change "
        "with every run, so they are not part of this page); "
        "<code>uv run run_all.py --verify</code> reruns everything in a temporary folder "
        "and names any output that differs.</li>", "</ul>",
        "<h3>Configuration files</h3>",
        f'<table class="data"><thead><tr><th scope="col">file</th><th scope="col">SHA-256'
        f"</th></tr></thead><tbody>{configs}</tbody></table>",
        "<h3>Package versions</h3>",
        f'<table class="data"><thead><tr><th scope="col">package</th><th scope="col">'
        f"version</th></tr></thead><tbody>{packages}</tbody></table>",
        "<h3>Manifest of the exhibits</h3>",
        "<p>Every file of the exhibit map as this page saw it (<code>output/manifest.csv"
        "</code>, written after the run, adds this page).</p>",
        '<details open><summary>Files, sizes and SHA-256</summary><table class="data">'
        '<thead><tr><th scope="col">file</th><th scope="col">bytes</th><th scope="col">'
        f"SHA-256</th></tr></thead><tbody>\n{rows}\n</tbody></table></details>",
        "</section>"])


def build_report(entries: Sequence[MapEntry], files: Mapping[str, bytes | None],
                 facts: RunFacts, checksums: Sequence[tuple[str, int, str]],
                 own: str) -> str:
    """The report page. ``files``: path below output/ -> content (None: not produced);
    ``own``: the report's own path below output/."""
    contents = "\n".join(f'<li><a href="#{esc(e.anchor)}">{esc(e.title)}</a></li>'
                         for e in entries)
    intro = [f"<h1>Replication report: {esc(facts.title)}</h1>"]
    if facts.data_note:
        intro.append(f'<p class="note"><strong>{esc(facts.data_note)}</strong></p>')
    intro.append("<p>Every exhibit of the run, in the order of the README's exhibit map, "
                 "then the verification state. Tables as in their HTML files (the same "
                 "content as their .tex, .md, .csv and .docx files), figures as their PNG "
                 "files, data files as tables (click to unfold).</p>")
    body = "\n".join([*intro, f"<nav><h2>Contents</h2><ol>{contents}<li><a "
                      'href="#verification">Verification state</a></li></ol></nav>',
                      *[entry_html(e, files, own) for e in entries],
                      facts_html(facts, checksums)])
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>Replication report: {esc(facts.title)}</title>\n<style>\n"
            f"{REPORT_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
