"""Compile LaTeX exhibits with pdflatex in a minimal booktabs document (test helper)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

PREAMBLE = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
            "\\usepackage[margin=1cm,landscape]{geometry}\n\\begin{document}\n")


def require_pdflatex() -> None:
    """Fail without pdflatex, unless GLOCAL_ALLOW_NO_LATEX=1 asks to skip instead."""
    if shutil.which("pdflatex") is None:
        if os.environ.get("GLOCAL_ALLOW_NO_LATEX") == "1":
            pytest.skip("pdflatex not on PATH (GLOCAL_ALLOW_NO_LATEX=1)")
        pytest.fail("pdflatex is not on PATH: install TeX Live with booktabs "
                    "(texlive-latex-recommended) or set GLOCAL_ALLOW_NO_LATEX=1 to skip")


def compile_latex(bodies: Sequence[str], folder: Path) -> Path:
    """Put each LaTeX fragment on its own page of one document, compile, return the PDF."""
    require_pdflatex()
    body = "\\clearpage\n".join(bodies)
    (folder / "doc.tex").write_text(PREAMBLE + body + "\n\\end{document}\n", encoding="utf-8")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                             "doc.tex"], cwd=folder, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    pdf = folder / "doc.pdf"
    assert pdf.stat().st_size > 0
    return pdf
