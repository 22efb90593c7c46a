"""Tests of analysis.exhibits.figures on small hand-made tidy frames."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ExhibitError
from analysis.exhibits import figures
from analysis.exhibits.figures import DATA_GID

PANELS = {"m_prod": "Product", "m_proc": "Process", "m_ntm": "New to market"}
SCALES = {"breadth_local": "Local", "breadth_national": "National",
          "breadth_international": "International"}


def ame_frame() -> pd.DataFrame:
    """AME rows with distinct values per model and term, plus coef rows that must be ignored."""
    rows = []
    for m, model in enumerate(PANELS):
        for t, term in enumerate(SCALES):
            estimate = 0.01 * (t + 1) + 0.1 * m
            rows.append({"model": model, "quantity": "ame", "term": term, "estimate": estimate,
                         "ci_lower": estimate - 0.02, "ci_upper": estimate + 0.03})
            rows.append({"model": model, "quantity": "coef", "term": term, "estimate": 9.0,
                         "ci_lower": 8.0, "ci_upper": 10.0})
    return pd.DataFrame(rows)


def prediction_frame(values=range(8)) -> pd.DataFrame:
    rows = []
    for m, model in enumerate(PANELS):
        for v in reversed(list(values)):  # unsorted on purpose
            p = 0.2 + 0.05 * v + 0.1 * m
            rows.append({"model": model, "outcome": model, "variable": "breadth_international",
                         "value": v, "prediction": p, "std_error": 0.02,
                         "ci_lower": p - 0.04, "ci_upper": p + 0.04})
        rows.append({"model": model, "outcome": model, "variable": "breadth_local", "value": 0,
                     "prediction": 0.9, "std_error": 0.1, "ci_lower": 0.7, "ci_upper": 1.0})
    return pd.DataFrame(rows)


def figure_one():
    return figures.plot_marginal_effects(ame_frame(), PANELS, SCALES, note="Synthetic data",
                                         title="Average marginal effects")


#: The variable in the estimation sample: no firm has more than 5 partner types abroad.
OBSERVED = pd.Series([0] * 50 + [1] * 20 + [2] * 9 + [3] * 4 + [5] * 2 + [np.nan] * 3,
                     name="breadth_international")


def figure_two():
    return figures.plot_predicted_probabilities(
        prediction_frame(), {"m_prod": "Product", "m_proc": "Process", "m_ntm": "New to market"},
        "breadth_international", OBSERVED, note="Synthetic data")


def data_lines(ax):
    return [line for line in ax.get_lines() if line.get_gid() == DATA_GID]


def test_marginal_effects_one_panel_per_outcome_with_points_bars_and_zero_line():
    figure = figure_one()
    axes = figure.get_axes()
    assert [ax.get_title() for ax in axes] == list(PANELS.values())
    frame = ame_frame()
    for ax, model in zip(axes, PANELS, strict=True):
        (points,) = data_lines(ax)
        expected = frame[(frame["model"] == model) & (frame["quantity"] == "ame")]
        np.testing.assert_allclose(points.get_ydata(), expected["estimate"])
        np.testing.assert_allclose(points.get_xdata(), [0, 1, 2])
        # One vertical CI segment per point, from ci_lower to ci_upper.
        segments = [c for c in ax.collections if c.get_segments()]
        spans = sorted((s[0][1], s[1][1]) for s in segments[0].get_segments())
        np.testing.assert_allclose(spans, sorted(zip(expected["ci_lower"], expected["ci_upper"],
                                                     strict=True)))
        zero = [line for line in ax.get_lines() if list(line.get_ydata()) == [0.0, 0.0]]
        assert len(zero) == 1
        assert [t.get_text() for t in ax.get_xticklabels()] == list(SCALES.values())
        assert ax.get_xlabel()
    assert axes[0].get_ylabel().startswith("Average marginal effect")
    texts = [t.get_text() for t in figure.texts]
    assert "Synthetic data" in texts
    assert figure.get_suptitle() == "Average marginal effects"


def test_predicted_probabilities_stop_at_the_largest_observed_value_over_the_data():
    figure = figure_two()
    ax, bars = figure.get_axes()
    lines = data_lines(ax)
    assert len(lines) == 3
    frame = prediction_frame()
    shifts = []
    for line, model in zip(lines, PANELS, strict=True):
        expected = frame[(frame["model"] == model) & (frame["variable"] == "breadth_international")
                         & (frame["value"] <= 5)].sort_values("value")
        np.testing.assert_allclose(line.get_ydata(), expected["prediction"])
        shifts.append(line.get_xdata() - expected["value"].to_numpy())  # no value beyond 5
    # the lines' interval bars are set apart, and differ in marker and line style
    assert len({round(float(s[0]), 6) for s in shifts}) == 3
    assert len({(line.get_marker(), line.get_linestyle()) for line in lines}) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(PANELS.values())
    # the lower panel: firms at each observed value (the missing ones left out)
    heights = {round(p.get_x() + p.get_width() / 2): p.get_height() for p in bars.patches
               if p.get_gid() == "observed" or p.get_height() > 0}
    assert heights == {0: 50, 1: 20, 2: 9, 3: 4, 5: 2}
    np.testing.assert_allclose(bars.get_xticks(), [0, 1, 2, 3, 5])
    assert bars.get_xlim()[1] == 5.5  # the axis stops at the largest observed value
    assert bars.get_xlabel() == "Number of international partner types"


def test_specification_curve_one_panel_per_outcome():
    curve = pd.DataFrame({"estimate": [0.01, 0.02, 0.05], "ci_lower": [-0.01, 0.0, 0.01],
                          "ci_upper": [0.03, 0.04, 0.09]})
    indicators = {"Estimator: Logit": np.array([True, False, True]),
                  "Controls: firm": np.array([False, True, True])}
    figure = figures.plot_specification_curve(
        {"Product": (curve, indicators), "Process": (curve.iloc[:2], {
            k: v[:2] for k, v in indicators.items()})}, ylabel="AME", note="A note " * 40)
    axes = figure.get_axes()
    assert len(axes) == 4  # estimates and indicators for each of the two outcomes
    assert [a.get_title() for a in axes[:2]] == ["Product", "Process"]
    note = [t.get_text() for t in figure.texts if t.get_text().startswith("A note")]
    assert note and "\n" in note[0]  # a long note wraps instead of running off the page


def test_missing_term_or_model_is_named():
    with pytest.raises(ExhibitError, match="'m_prod'.*breadth_regional"):
        figures.plot_marginal_effects(ame_frame(), PANELS, {**SCALES, "breadth_regional": "R"})
    with pytest.raises(ExhibitError, match="'m_other'"):
        figures.plot_predicted_probabilities(prediction_frame(), {"m_other": "x"},
                                             "breadth_international", OBSERVED)


def test_non_finite_values_are_rejected():
    frame = ame_frame()
    frame.loc[0, "ci_upper"] = math.nan
    with pytest.raises(ExhibitError, match="ci_upper"):
        figures.plot_marginal_effects(frame, PANELS, SCALES)
    predictions = prediction_frame()
    predictions.loc[0, "prediction"] = math.inf
    with pytest.raises(ExhibitError, match="prediction"):
        figures.plot_predicted_probabilities(predictions, {"m_prod": "P"},
                                             "breadth_international", OBSERVED)


def test_no_observed_value_is_an_error():
    with pytest.raises(ExhibitError, match="no observed value"):
        figures.plot_predicted_probabilities(prediction_frame(), {"m_prod": "P"},
                                             "breadth_international",
                                             pd.Series([np.nan, np.nan]))


def test_duplicated_prediction_value_is_rejected():
    predictions = prediction_frame()
    predictions = pd.concat([predictions, predictions.iloc[[0]]], ignore_index=True)
    with pytest.raises(ExhibitError, match="twice"):
        figures.plot_predicted_probabilities(predictions, {"m_prod": "P"},
                                             "breadth_international", OBSERVED)


def write_both(directory: Path) -> list[Path]:
    # A low resolution keeps the tests fast; determinism does not depend on it.
    return (figures.write_figure(figure_one(), directory, "figure1", dpi=60)
            + figures.write_figure(figure_two(), directory, "figure2", dpi=60))


def test_written_files_exist_and_carry_no_timestamp_or_software(tmp_path):
    paths = write_both(tmp_path)
    assert [p.name for p in paths] == ["figure1.pdf", "figure1.png", "figure2.pdf",
                                       "figure2.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 1000
        assert path.stat().st_size == len(data)
        if path.suffix == ".pdf":
            assert data.startswith(b"%PDF") and b"/CreationDate" not in data
        else:
            assert data.startswith(b"\x89PNG") and b"Software" not in data


def test_two_renders_are_byte_identical_also_in_another_process(tmp_path):
    first = [p.read_bytes() for p in write_both(tmp_path / "a")]
    second = [p.read_bytes() for p in write_both(tmp_path / "b")]
    assert first == second
    # A fresh interpreter with another hash seed (a rerun of the pipeline) gives the same bytes.
    script = ("import sys; from pathlib import Path; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
              "import test_figures as t; t.write_both(Path(sys.argv[3]))")
    tests_dir, root = Path(__file__).parent, Path(__file__).parents[1]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(tests_dir), str(root), str(tmp_path / "c")],
                   check=True, env=env, timeout=120)
    third = [(tmp_path / "c" / p.name).read_bytes() for p in sorted((tmp_path / "a").iterdir())]
    assert sorted(first) == sorted(third)


def test_write_figures_in_workers_equals_one_at_a_time(tmp_path):
    together = figures.write_figures({"figure1": figure_one(), "figure2": figure_two()},
                                     tmp_path / "together", dpi=60, n_jobs=2)
    assert [p.name for p in together] == ["figure1.pdf", "figure1.png", "figure2.pdf",
                                          "figure2.png"]
    alone = write_both(tmp_path / "alone")
    assert [p.read_bytes() for p in together] == [p.read_bytes() for p in alone]
    assert not list(tmp_path.rglob("*.tmp"))


def test_pdf_embeds_one_font_subset_and_keeps_ligature_letters():
    """Ligatures (ff, fi) would put glyphs outside the first 256 into a second subset."""
    figure = figure_one()
    figure.suptitle("Marginal effects, different firms, fine office staff")
    pdf = figures.render_figure(figure, dpi=60)["pdf"]
    assert pdf.count(b"/FontFile2") == 1
    texts = [t for t in figure.findobj(figures.matplotlib.text.Text) if t.get_text()]
    assert texts and all(t.get_fontfeatures() == ("-liga",) for t in texts)
