"""The pipeline from the raw twin to the regression tables and figures, checked end to end.

The session's one run of the whole pipeline in a temporary folder (tests/conftest.py);
every number printed in Tables 2-5 is compared with estimates.csv, the
LaTeX is compiled, and an extender's one-line edit of the specification adds a row.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from latex import compile_latex

from analysis import config
from analysis.data.study_config import load_study_config
from analysis.exhibits.table_specs import table_spec
from analysis.models.specification import load_model_spec
from analysis.runner import pipeline

STEPS = ["clean", "build", "describe", "estimate", "tables", "figures"]
TABLES = ("table2", "table3", "table4", "table5")
FIT_TERMS = {"Observations": "nobs", "Pseudo R-squared": "pseudo_r2",
             "Log-likelihood": "llf", "Clusters": "n_clusters", "R-squared": "r2"}


def run_pipeline(root: Path, steps: list[str], models: Path = config.DEFAULT_MODEL_SPEC) -> None:
    argv = ["--output-root", str(root), "--models", str(models)]
    for name in steps:
        argv += ["--only", name]
    assert pipeline.main(argv) == 0


@pytest.fixture(scope="module")
def root(full_run) -> Path:
    """The session's end-to-end run of every step (tests/conftest.py)."""
    return full_run


def read_outputs(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = root / "output" / "estimates"
    options = dict(dtype={"model": str, "term": str, "terms": str, "cluster": str,
                          "unavailable": str}, keep_default_na=False, na_values=[""])
    return (pd.read_csv(folder / "estimates.csv", **options),
            pd.read_csv(folder / "models.csv", **options))


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


def shown(value: float) -> str:
    """Three decimals; a number that rounds to zero has no sign ("0.000", not "-0.000")."""
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def stars(p: float) -> str:
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


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


@pytest.mark.parametrize("name", TABLES)
def test_every_displayed_number_is_the_estimates_file_number(root, name):
    estimates, models = read_outputs(root)
    spec = load_model_spec(config.DEFAULT_MODEL_SPEC)
    layout = table_spec(spec, spec.tables[name], models, estimates)
    by_label = {label: term for term, label in layout.terms.items()}
    assert len(by_label) == len(layout.terms), "row labels must be unique"
    grid = markdown_rows((root / "output" / "tables" / f"{name}.md").read_text("utf-8"))
    ids = list(layout.models)
    assert grid[2] == ["", *[f"({i})" for i in range(1, len(ids) + 1)]]
    checked, term = 0, None
    for label, *cells in grid[3:]:
        assert len(cells) == len(ids)
        if label in by_label:  # an estimate row; its SE row follows
            term = by_label[label]
            for model, cell in zip(ids, cells, strict=True):
                row = estimates[(estimates["model"] == model) & (estimates["term"] == term)
                                & estimates["quantity"].isin([layout.quantity, "cut"])]
                if row.empty:
                    assert cell == ""
                    continue
                value, p = row["estimate"].iloc[0], row["p_value"].iloc[0]
                assert cell == f"{shown(value)}{stars(p)}", (model, term)
                checked += 1
        elif label == "" and term is not None:  # standard errors of the row above
            for model, cell in zip(ids, cells, strict=True):
                row = estimates[(estimates["model"] == model) & (estimates["term"] == term)
                                & estimates["quantity"].isin([layout.quantity, "cut"])]
                assert cell == ("" if row.empty else f"({shown(row['std_error'].iloc[0])})")
                checked += not row.empty
            term = None
        elif label in FIT_TERMS:
            for model, cell in zip(ids, cells, strict=True):
                fit = estimates[(estimates["model"] == model) & (estimates["quantity"] == "fit")
                                & (estimates["term"] == FIT_TERMS[label])]["estimate"]
                if label == "Observations":
                    n = models.loc[models["model"] == model, "nobs"].iloc[0]
                    assert fit.iloc[0] == n
                    assert cell == f"{int(n):,}"
                else:
                    assert cell == f"{fit.iloc[0]:.3f}"
                checked += 1
        else:  # control blocks: Yes/No
            assert label in layout.control_rows, f"unexpected row {label!r} in {name}"
            assert set(cells) <= {"Yes", "No"}
    n_terms = sum((estimates["model"] == m).any() for m in ids)
    assert checked >= n_terms * 3  # at least the three breadth/mode rows, SEs and N


def test_tables_follow_the_specification(root):
    spec = load_model_spec(config.DEFAULT_MODEL_SPEC)
    table2 = (root / "output" / "tables" / "table2.md").read_text("utf-8")
    grid = markdown_rows(table2)
    assert len(grid[0]) == 7  # 3 outcomes x (base, manager)
    labels = [row[0] for row in grid]
    breadth = [spec.labels[v] for v in spec.blocks["breadth"].variables]
    assert [labels.index(x) for x in breadth] == sorted(labels.index(x) for x in breadth)
    assert labels.index(breadth[-1]) < labels.index(spec.labels["log_employees"])
    assert spec.blocks["sector"].label in labels and spec.blocks["manager"].label in labels
    manager_row = grid[labels.index(spec.blocks["manager"].label)]
    assert manager_row[1:] == ["No", "Yes"] * 3
    assert not any(lab.startswith("Sector") and ":" in lab for lab in labels)  # no dummies
    table5 = markdown_rows((root / "output" / "tables" / "table5.md").read_text("utf-8"))
    assert sum(row[0].startswith("Cut point") for row in table5) == 2


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


def test_latex_compiles_with_booktabs(root, tmp_path):
    tables = root / "output" / "tables"
    names = [*TABLES, *sorted(p.stem for p in tables.glob("robustness_*.tex")),
             "claims_report", "specification_curve"]
    for name in names:
        shutil.copy(tables / f"{name}.tex", tmp_path / f"{name}.tex")
    compile_latex([rf"\input{{{name}.tex}}" for name in names], tmp_path)


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
    spec_path = tmp_path / "models.toml"
    spec_path.write_text(edited + EXTRA_TABLE, encoding="utf-8")
    shutil.copytree(root / "data_clean", tmp_path / "data_clean")
    run_pipeline(tmp_path, ["estimate", "tables"], models=spec_path)

    spec = load_model_spec(spec_path)
    for name, table in spec.tables.items():
        models = [m for f in table.families for m in spec.families[f].variants.values()]
        uses_manager = any("manager" in blocks for blocks in models)
        grid = markdown_rows((tmp_path / "output" / "tables" / f"{name}.md").read_text("utf-8"))
        rows = {row[0]: row[1:] for row in grid}
        assert ("trust_regional" in rows) == uses_manager, name
        if uses_manager:
            layout_columns = grid[1][1:]
            filled = [c != "" for c in rows["trust_regional"]]
            assert filled == [c == spec.variant_label("manager") for c in layout_columns]
    assert "table9" in spec.tables
