"""Compile LaTeX exhibits on a journal page and measure whether they fit (test helper).

The page is the one the README names for the exhibits (analysis.exhibits.latex.preamble): a
plain ``article`` on US letter, portrait, 1-inch margins (6.5 in x 9 in of text), with
booktabs, dcolumn, threeparttable, longtable and array. Each exhibit starts on a fresh page;
the fit is measured, not eyeballed:

- from the log: every ``Overfull \\hbox``/``\\vbox`` and ``Float too large`` warning between
  the exhibit's begin and end markers, and the number of pages it takes;
- from the PDF (``pdftotext -bbox``): every word printed outside the text area.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.exhibits.latex import preamble

#: The text area of the page in PDF points (1 in = 72 bp): 1-inch margins on 8.5 x 11 in.
TEXT_AREA = (72.0, 72.0, 540.0, 720.0)
#: Tolerance for glyph boxes that pdftotext reports a little beyond their ink, in bp; at
#: the bottom the descenders of the last line hang below the text area by design (TeX
#: places the last baseline at the bottom of the text height, and \maxdepth = 4 pt below
#: it; pdftotext's boxes use the font's full descent, a little more). A line set below the
#: text area would lie a whole line (> 8 bp) lower.
SLACK = 1.0
DESCENDERS = 5.5
PREAMBLE = preamble() + "\\pagestyle{empty}\n\\begin{document}\n"
WARNINGS = re.compile(r"^(Overfull \\[hv]box .*|LaTeX Warning: Float too large.*)$", re.M)


def require_tools(*tools: str) -> None:
    """Fail without the tools, unless GLOCAL_ALLOW_NO_LATEX=1 asks to skip instead."""
    missing = [t for t in ("pdflatex", *tools) if shutil.which(t) is None]
    if missing:
        if os.environ.get("GLOCAL_ALLOW_NO_LATEX") == "1":
            pytest.skip(f"{', '.join(missing)} not on PATH (GLOCAL_ALLOW_NO_LATEX=1)")
        pytest.fail(f"{', '.join(missing)} not on PATH: install TeX Live (texlive-latex-base, "
                    "-recommended, -extra) and poppler-utils, or set GLOCAL_ALLOW_NO_LATEX=1 "
                    "to skip")


def require_pdflatex() -> None:
    require_tools()


#: longtable settles its column widths over runs ("Table widths have changed. Rerun").
RERUN = re.compile(r"Rerun LaTeX|Table widths have changed|Label\(s\) may have changed")


def run_pdflatex(folder: Path, name: str = "doc", runs: int = 3
                 ) -> subprocess.CompletedProcess[str]:
    """pdflatex until no rerun is asked for (at most ``runs`` times); the last result."""
    env = {**os.environ, "max_print_line": "100000"}  # log lines unbroken
    for _ in range(runs):
        result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                                 f"{name}.tex"], cwd=folder, capture_output=True, text=True,
                                timeout=300, check=False, env=env)
        if result.returncode != 0 or not RERUN.search(result.stdout):
            break
    return result


def compile_latex(bodies: Sequence[str], folder: Path) -> Path:
    """Put each LaTeX fragment on its own page of one document, compile, return the PDF."""
    require_pdflatex()
    body = "\\clearpage\n".join(bodies)
    (folder / "doc.tex").write_text(PREAMBLE + body + "\n\\end{document}\n", encoding="utf-8")
    result = run_pdflatex(folder)
    assert result.returncode == 0, result.stdout[-3000:]
    pdf = folder / "doc.pdf"
    assert pdf.stat().st_size > 0
    return pdf


@dataclass(frozen=True)
class PageFit:
    """How one exhibit sits on the page."""

    name: str
    pages: int
    warnings: tuple[str, ...]
    outside: tuple[str, ...]
    long: bool

    @property
    def fits(self) -> bool:
        return not self.warnings and not self.outside and (self.long or self.pages == 1)

    def problem(self) -> str:
        parts = list(self.warnings[:3]) + [f"outside the text area: {w}"
                                          for w in self.outside[:3]]
        if not self.long and self.pages != 1:
            parts.append(f"takes {self.pages} pages")
        return f"{self.name}: " + "; ".join(parts)


def words_by_page(pdf: Path) -> dict[int, list[tuple[str, float, float, float, float]]]:
    """Every word of the PDF with its box (xMin, yMin, xMax, yMax), by page number."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    pages: dict[int, list[tuple[str, float, float, float, float]]] = {}
    page = 0
    for line in out.splitlines():
        if line.strip().startswith("<page "):
            page += 1
            pages[page] = []
        match = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                          r'yMax="([\d.]+)">(.*)</word>', line)
        if match:
            x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
            pages[page].append((match.group(5), x0, y0, x1, y1))
    return pages


def measure_exhibits(files: Mapping[str, Path], folder: Path) -> list[PageFit]:
    """Compile every .tex exhibit of ``files`` (name -> path), each from a fresh page, and
    measure how each fits the journal page."""
    require_tools("pdftotext")
    parts = []
    for i, (name, path) in enumerate(files.items()):
        target = folder / f"exhibit{i}.tex"
        shutil.copy(path, target)
        parts.append(f"\\clearpage\\typeout{{EXHIBIT-BEGIN {name} \\thepage}}\n"
                     f"\\input{{exhibit{i}.tex}}\n"
                     f"\\clearpage\\typeout{{EXHIBIT-END {name} \\thepage}}\n")
    (folder / "doc.tex").write_text(PREAMBLE + "".join(parts) + "\\end{document}\n",
                                    encoding="utf-8")
    result = run_pdflatex(folder)
    assert result.returncode == 0, result.stdout[-3000:]
    log = (folder / "doc.log").read_text(encoding="latin-1")
    pages = words_by_page(folder / "doc.pdf")
    fits = []
    for name, path in files.items():
        begin = re.search(rf"^EXHIBIT-BEGIN {re.escape(name)} (\d+)$", log, re.M)
        end = re.search(rf"^EXHIBIT-END {re.escape(name)} (\d+)$", log, re.M)
        assert begin and end, f"markers of {name} missing from the log"
        first, after = int(begin.group(1)), int(end.group(1))
        warnings = tuple(WARNINGS.findall(log[begin.end():end.start()]))
        x0, y0, x1, y1 = TEXT_AREA
        outside = tuple(
            f"{word!r} on page {p} at x {a:.1f}-{c:.1f}, y {b:.1f}-{d:.1f}"
            for p in range(first, after) for word, a, b, c, d in pages.get(p, [])
            if a < x0 - SLACK or c > x1 + SLACK or b < y0 - SLACK or d > y1 + DESCENDERS)
        long = "\\begin{longtable}" in path.read_text(encoding="utf-8")
        fits.append(PageFit(name, after - first, warnings, outside, long))
    return fits


def tex_exhibits(output: Path) -> dict[str, Path]:
    """Every .tex file under an output folder, by its path below it."""
    return {p.relative_to(output).as_posix(): p for p in sorted(output.rglob("*.tex"))}
