"""Every LaTeX exhibit fits a portrait journal page, measured (tests/latex.py).

The page: plain ``article``, US letter, 1-inch margins (6.5 in x 9 in of text), the packages
the README names. An exhibit fits when the log has no overfull box or too-large float
between its markers, no word of the PDF lies outside the text area, and a float takes one
page (a longtable may take several). The CIS-like example's exhibits are measured in
tests/test_byo_survey.py with that run.
"""

from __future__ import annotations

from latex import measure_exhibits, tex_exhibits

from analysis import config
from analysis.exhibits.latex import PACKAGES, preamble

WIDE = r"""\begin{table}[!htbp]\centering
\begin{tabular}{ll}\toprule
A & B \\ \midrule
%s & x \\ \bottomrule
\end{tabular}
\end{table}
""" % ("word " * 40)
TALL = r"""\begin{table}[!htbp]\centering
\begin{tabular}{l}\toprule
%s\bottomrule
\end{tabular}
\end{table}
""" % ("row \\\\\n" * 80)


def test_every_latex_exhibit_of_the_replication_fits_the_page(full_run, tmp_path):
    files = tex_exhibits(full_run / "output")
    assert len(files) >= 25
    fits = measure_exhibits(files, tmp_path)
    assert [f.problem() for f in fits if not f.fits] == []
    assert {f.name for f in fits if f.long} >= {"tables/specification_curve.tex"}


def test_the_measurement_catches_a_table_too_wide_or_too_tall(tmp_path):
    (tmp_path / "wide.tex").write_text(WIDE, encoding="utf-8")
    (tmp_path / "tall.tex").write_text(TALL, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    wide, tall = measure_exhibits({"wide": tmp_path / "wide.tex",
                                   "tall": tmp_path / "tall.tex"}, work)
    assert not wide.fits and any("Overfull \\hbox" in w for w in wide.warnings)
    assert wide.outside  # words printed beyond the right margin
    assert not tall.fits and any("Float too large" in w for w in tall.warnings)


def test_the_readme_names_the_page_and_the_packages():
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    assert preamble() in readme  # the exact preamble the tests compile with
    assert all(package in readme for package in PACKAGES)
