"""The pipeline from the raw twin to the regression tables and figures, checked end to end.

The session's one run of the whole pipeline in a temporary folder (tests/conftest.py): the
tables follow the specification and carry their notes, and an extender's one-line edit of
the specification adds a row (the numbers of every file: tests/test_table_files.py; the
page fit of every LaTeX exhibit: tests/test_page_fit.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import default_spec

from analysis import config
from analysis.data.study_config import load_study_config
from analysis.models.specification import load_model_spec
from analysis.runner import pipeline

STEPS = ["clean", "build", "describe", "estimate", "tables", "figures"]
TABLES = ("table2", "table3", "table4", "table5")

def run_pipeline(root: Path, steps: list[str], models: Path = config.DEFAULT_MODEL_SPEC) -> None:
    argv = ["--output-root", str(root), "--models", str(models)]
    for name in steps:
        argv += ["--only", name]
    assert pipeline.main(argv) == 0


@pytest.fixture(scope="module")
def root(full_run) -> Path:
    """The session's end-to-end run of every step (tests/conftest.py)."""
    return full_run


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of each table line (separator line dropped), unescaping \\|."""
    out = []
    for line in text.splitlines():
        if not line.startswith("| ") and not line.startswith("|:"):
            continue
        if line.startswith("|:"):
            continue
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        out.append([c.strip().replace("\\|", "|") for c in cells])
    return out


def test_every_exhibit_exists(root):
    out = root / "output"
    for name in TABLES:
        for ext in ("tex", "html", "md"):
            assert (out / "tables" / f"{name}.{ext}").stat().st_size > 0
    for stem in ("figure1_marginal_effects", "figure2_predicted_probability"):
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 0
    for name in ("estimates.csv", "predictions.csv", "models.csv"):
        assert (out / "estimates" / name).stat().st_size > 0


def test_tables_follow_the_specification(root):
    spec = default_spec()
    table2 = (root / "output" / "tables" / "table2.md").read_text("utf-8")
    grid = markdown_rows(table2)
    assert len(grid[0]) == 7  # 3 outcomes x (base, manager)
    labels = [row[0] for row in grid]
    breadth = [spec.labels[v] for v in spec.blocks["breadth"].variables]
    assert [labels.index(x) for x in breadth] == sorted(labels.index(x) for x in breadth)
    assert labels.index(breadth[-1]) < labels.index(spec.labels["log_employees"])
    # indicator blocks get a Yes/No row naming the base; coefficient blocks need none
    assert "Sector dummies (base: manufacturing)" in labels
    assert "City-region dummies (base: Oslo)" in labels
    assert spec.blocks["manager"].label not in labels
    assert spec.blocks["firm"].label not in labels
    trust = grid[labels.index(spec.labels["trust_general"])]
    assert [c != "" for c in trust[1:]] == [False, True] * 3  # manager columns only
    assert not any(lab.startswith("Sector group:") for lab in labels)  # no dummy rows
    table5 = markdown_rows((root / "output" / "tables" / "table5.md").read_text("utf-8"))
    cuts = [row for row in table5 if row[0].startswith("Cut point")]
    assert len(cuts) == 2 and not any("*" in c for row in cuts for c in row[1:])


def test_notes_carry_standard_errors_stars_and_the_synthetic_data_note(root):
    cfg = load_study_config(config.DEFAULT_STUDY_CONFIG)
    assert cfg.synthetic and cfg.data_note
    for name in TABLES:
        text = (root / "output" / "tables" / f"{name}.md").read_text("utf-8")
        assert cfg.data_note in text
        assert "Heteroskedasticity-robust standard errors" in text
        assert "* p<0.10, ** p<0.05, *** p<0.01" in text
        html = (root / "output" / "tables" / f"{name}.html").read_text("utf-8")
        assert "synthetic twin" in html
        assert "synthetic twin" in (root / "output" / "tables" / f"{name}.tex").read_text()
    table4 = (root / "output" / "tables" / "table4.md").read_text("utf-8")
    assert "discrete change" in table4 and "delta method" in table4


EXTRA_TABLE = """
[families.nomanager]
estimator = "logit"
outcomes = ["product"]
main = ["breadth"]
variants = { base = ["firm", "sector", "region"] }

[tables.table9]
title = "Table 9. Without manager controls"
families = ["nomanager"]
quantity = "coef"
"""


def test_a_covariate_added_to_a_block_becomes_a_row(root, tmp_path):
    original = config.DEFAULT_MODEL_SPEC.read_text(encoding="utf-8")
    old = 'variables = ["manager_higher_ed", "open_mindedness", "trust_general"]'
    assert original.count(old) == 1
    # The extender's one edit; EXTRA_TABLE (a table without the manager block) is the
    # test's control group.
    edited = original.replace(old, old[:-1] + ', "trust_regional"]')
    spec_path = tmp_path / "models.toml"  # an input: outside the output root
    spec_path.write_text(edited + EXTRA_TABLE, encoding="utf-8")
    out = tmp_path / "run"
    shutil.copytree(root / "data_clean", out / "data_clean")
    run_pipeline(out, ["estimate", "tables"], models=spec_path)

    spec = load_model_spec(spec_path)
    for name, table in spec.tables.items():
        models = [m for f in table.families for m in spec.families[f].variants.values()]
        uses_manager = any("manager" in blocks for blocks in models)
        grid = markdown_rows((out / "output" / "tables" / f"{name}.md").read_text("utf-8"))
        rows = {row[0]: row[1:] for row in grid}
        assert ("trust_regional" in rows) == uses_manager, name
        if uses_manager:  # filled in the manager columns (named in one of the two headers)
            label = spec.variant_label("manager")
            manager = [label in pair for pair in zip(grid[0][1:], grid[1][1:], strict=True)]
            filled = [c != "" for c in rows["trust_regional"]]
            assert filled == manager, name
    assert "table9" in spec.tables


def test_figure_notes_name_the_models_and_figure2_stays_on_the_data(root):
    """The notes (text in the PDFs) say which models, variant and averaging; Figure 2's
    predictions stop at the largest value observed in the headline models' samples."""
    import subprocess

    from analysis.exhibits.samples import union_mask
    from analysis.models.specification import expand_models

    figures = root / "output" / "figures"
    text = {name: subprocess.run(["pdftotext", "-raw", str(figures / f"{name}.pdf"), "-"],
                                 capture_output=True, text=True, check=True).stdout
            for name in ("figure1_marginal_effects", "figure2_predicted_probability")}
    one, two = (" ".join(t.split()) for t in text.values())
    assert "logit models (variant: manager controls; Table 4, columns 2, 4 and 6)" in one
    assert "logit models (variant: manager controls; Table 2, columns 2, 4 and 6)" in two
    assert "margins, dydx()" in one and "margins, at()" in two
    spec = load_model_spec(config.DEFAULT_MODEL_SPEC)
    data = pd.read_parquet(root / "data_clean" / "analysis_data.parquet")
    headline = [m for m in expand_models(spec, ["breadth"]) if m.variant == "manager"]
    top = data.loc[union_mask(data, spec, headline), "breadth_international"].max()
    assert f"the predictions stop at the largest observed value ({top:g})" in two
    assert top < 7  # the survey's range goes to 7; no firm of the samples has 7
