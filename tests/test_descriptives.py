"""Tests of analysis.exhibits.descriptives and the build / describe steps."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from latex import compile_latex, require_pdflatex

from analysis import config, io
from analysis.context import Context, Paths
from analysis.data import variables as v
from analysis.data.study_config import load_study_config
from analysis.data.study_settings import settings_from_config, study_settings
from analysis.errors import DataError, ExhibitError
from analysis.exhibits import descriptives as d
from analysis.exhibits import summary
from analysis.exhibits.frames import write_frame_exhibit
from analysis.tasks import build, describe

NOTE = "Data: synthetic twin (test note)."


def tiny() -> pd.DataFrame:
    """Five firms of an analysis data set, enough for hand computations."""
    return pd.DataFrame({
        "x": [1.0, 2.0, 4.0, np.nan, 3.0],
        "b": pd.array([1, 0, 1, None, 1], dtype="Int64"),
        "w": [1.0, 2.0, 3.0, 1.0, 2.0],
        "region": pd.Categorical(["Oslo", "Oslo", "Bergen", None, "Bergen"],
                                 categories=["Oslo", "Bergen"]),
    })


def test_weighted_stats_match_hand_computation():
    frame = tiny()
    got = summary.weighted_stats(frame["x"], frame["w"])
    x, w = np.array([1.0, 2.0, 4.0, 3.0]), np.array([1.0, 2.0, 3.0, 2.0])
    mean = (1 + 4 + 12 + 6) / 8
    # Stata aweights: weights rescaled to sum to N = 4, variance divided by N - 1
    var = np.sum(w * 4 / 8 * (x - mean) ** 2) / 3
    assert got["N"] == 4 and got["Mean"] == pytest.approx(mean)
    assert got["SD"] == pytest.approx(np.sqrt(var))
    assert (got["Min"], got["Max"]) == (1.0, 4.0)
    unweighted = summary.weighted_stats(frame["x"], pd.Series(1.0, index=frame.index))
    assert unweighted["SD"] == pytest.approx(np.std(x, ddof=1))
    assert unweighted["Mean"] == pytest.approx(2.5)


def test_summary_statistics_table_and_missing_variable():
    frame = tiny()
    table = summary.summary_statistics(frame, ["x", "b"], {"x": "An x"}, weight="w")
    assert list(table.columns) == ["Variable", "Description", "N", "Mean", "SD", "Min", "Max"]
    assert table["N"].tolist() == [4, 4]
    assert table.loc[1, "Mean"] == pytest.approx((1 + 3 + 2) / 8)
    assert table.loc[0, "Description"] == "An x"
    with pytest.raises(ExhibitError, match="variable nope"):
        summary.summary_statistics(frame, ["nope"])


def test_is_weighted():
    assert not summary.is_weighted(pd.Series([1.0, 1.0]))
    assert summary.is_weighted(pd.Series([1.0, 2.0]))
    assert not summary.is_weighted(None)


def test_expand_model_variables():
    frame = tiny()
    frame["region_oslo"] = pd.array([1, 1, 0, None, 0], dtype="Int64")
    frame["region_bergen"] = pd.array([0, 0, 1, None, 1], dtype="Int64")
    frame["novelty_ordered"] = pd.Categorical(["none"] * 5, categories=["none", "firm"],
                                              ordered=True)
    assert d.expand_model_variables(frame, ["x", "region", "novelty_ordered"]) == [
        "x", "region_oslo", "region_bergen", "novelty_ordered"]
    assert summary.as_float(frame["novelty_ordered"]).tolist() == [0.0] * 5
    with pytest.raises(ExhibitError, match="model variable sector"):
        d.expand_model_variables(frame, ["sector"])


def prevalence_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "collab_suppliers_local": pd.array([1, 0, 1, None], dtype="Int64"),
        "collab_suppliers_international": pd.array([0, 0, 1, 0], dtype="Int64"),
        "collab_customers_local": pd.array([0, 0, 0, 0], dtype="Int64"),
        "collab_customers_international": pd.array([1, 0, 0, 0], dtype="Int64"),
        "any_collab_local": pd.array([1, 0, 1, 0], dtype="Int64"),
        "any_collab_international": pd.array([1, 0, 1, None], dtype="Int64"),
        "weight": [1.0, 1.0, 2.0, 1.0],
    })


def test_collaboration_prevalence_shares():
    frame = prevalence_frame()
    out = d.collaboration_prevalence(frame, ["suppliers", "customers"],
                                     ["local", "international"])
    assert list(out.columns) == ["Partner type", "Same city-region", "Abroad"]
    assert out["Partner type"].tolist() == ["Suppliers", "Customers", "Any partner type"]
    assert out["Same city-region"].tolist() == pytest.approx([2 / 3, 0.0, 0.5])
    assert out["Abroad"].tolist() == pytest.approx([0.25, 0.25, 2 / 3])
    weighted = d.collaboration_prevalence(frame, ["suppliers"], ["local"], weight="weight")
    assert weighted.iloc[0, 1] == pytest.approx(3 / 4)
    with pytest.raises(ExhibitError, match="collab_group_local"):
        d.collaboration_prevalence(frame, ["group"], ["local"])


def test_breadth_correlations_match_numpy():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"breadth_{s}": rng.integers(0, 8, 30) for s in config.SCALES})
    out = d.breadth_correlations(frame, config.SCALES)
    assert out["Variable"].tolist()[0] == "Breadth, same city-region"
    expected = np.corrcoef(frame.to_numpy(dtype=float), rowvar=False)
    assert np.allclose(out.iloc[:, 1:].to_numpy(dtype=float), expected)


def test_innovation_rates_by_group_with_missing_group():
    frame = pd.DataFrame({
        "product": pd.array([1, 0, 1, 1, None], dtype="Int64"),
        "process": pd.array([0, 0, 1, 0, 1], dtype="Int64"),
        "new_to_market": pd.array([1, 0, 0, None, None], dtype="Int64"),
        "glocal_type": pd.Categorical(["Local only", "Local only", None, "Non-local only",
                                       "Non-local only"], categories=list(v.GLOCAL_TYPES)),
    })
    out = d.innovation_rates_by(frame, "glocal_type", by_label="Glocal type")
    assert out["Glocal type"].tolist() == [*v.GLOCAL_TYPES, d.TOTAL_ROW]
    assert out["N"].tolist() == [0, 2, 2, 0, 5]
    local = out.set_index("Glocal type").loc["Local only"]
    assert local["Product innovation"] == pytest.approx(0.5)
    assert local["New-to-market product"] == pytest.approx(0.5)
    non_local = out.set_index("Glocal type").loc["Non-local only"]
    assert non_local["Product innovation"] == pytest.approx(1.0)  # NA outcome left out
    assert np.isnan(non_local["New-to-market product"])
    assert out.iloc[-1]["Process innovation"] == pytest.approx(2 / 5)


# ------------------------------------------------------------------------------ steps

def synthetic_clean(n: int = 200, seed: int = 5, weights: bool = False) -> pd.DataFrame:
    """A random clean survey in the C3 layout with some missing answers of every kind."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    data: dict[str, object] = {
        "firm_id": np.arange(n) + 900000001, "interview_id": np.arange(n) + 1,
        "region": pd.Categorical(rng.choice(["Oslo", "Bergen", "Stavanger"], n),
                                 categories=["Oslo", "Bergen", "Stavanger"]),
        "nace": rng.choice([10, 46, 62], n),
        "sector": pd.Categorical(rng.choice(["manufacturing", "trade", "business_services"], n),
                                 categories=["manufacturing", "trade", "business_services"]),
        "employees": pd.array(np.maximum(10, rng.lognormal(3.2, 1, n).astype(int)),
                              dtype="Int64"),
        "founded": pd.array(rng.integers(1900, 2011, n), dtype="Int64"),
        "foreign_share": rng.choice([0.0, 0.0, 0.0, 30.0, 100.0], n),
        "group": pd.array(group, dtype="Int64"),
        "higher_ed_share": rng.uniform(0, 100, n),
        "product": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "process": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "manager_education": pd.array(rng.integers(1, 6, n), dtype="Int64"),
        "trust_general": pd.array(rng.integers(0, 11, n), dtype="Int64"),
        "trust_regional": pd.array(rng.integers(1, 6, n), dtype="Int64"),
        "weight": rng.uniform(0.5, 2, n) if weights else np.ones(n),
    }
    frame = pd.DataFrame(data)
    frame["product_novelty"] = pd.Categorical(
        np.where(frame["product"] == 1, rng.choice(["firm", "market"], n), None),
        categories=["firm", "market"])
    frame["process_novelty"] = pd.Categorical(
        np.where(frame["process"] == 1, rng.choice(["firm", "market"], n), None),
        categories=["firm", "market"])
    for p in config.PARTNER_TYPES:
        for s in config.SCALES:
            col = v.item_column(p, s)
            codes = pd.array(rng.choice([1, 1, 1, 2, 3, 4, 5], n), dtype="Int64")
            kinds = pd.array([None] * n, dtype="string")
            unknown = rng.random(n) < 0.05
            codes[unknown] = pd.NA
            kinds[unknown] = "dont_know"
            if p == "group":
                codes[group == 0] = pd.NA
                kinds[group == 0] = "not_applicable"
            frame[col], frame[col + "__missing"] = codes, kinds
    frame.loc[:4, [v.item_column(p, "national") for p in config.PARTNER_TYPES]] = pd.NA
    for i in range(1, 5):
        frame[f"open_{i}"] = pd.array(rng.integers(1, 6, n), dtype="Int64")
    frame.loc[rng.random(n) < 0.05, "open_2"] = pd.NA
    return frame


def make_ctx(tmp_path: Path, clean: pd.DataFrame) -> Context:
    paths = Paths.under(tmp_path)
    io.write_parquet(paths.clean_data, clean)
    return Context(paths=paths, study_config_path=config.DEFAULT_STUDY_CONFIG,
                   model_spec_path=config.DEFAULT_MODEL_SPEC)


def test_build_settings_from_the_study_config():
    settings = study_settings(config.DEFAULT_STUDY_CONFIG)
    assert settings.survey_year == 2010
    assert settings.never == (1,)
    assert settings.intensity == {1: 0.0, 2: 1.0, 3: 2.0, 4: 3.0, 5: 4.0}
    assert settings.scale_order == config.SCALES
    assert "synthetic" in settings.data_note
    cfg = load_study_config(config.DEFAULT_STUDY_CONFIG)
    assert settings_from_config(dataclasses.replace(cfg, survey_year=2016)).survey_year == 2016
    with pytest.raises(DataError, match="no survey year"):
        settings_from_config(dataclasses.replace(cfg, survey_year=None, kinds={}))


def test_build_and_describe_steps_write_their_outputs_deterministically(tmp_path):
    ctx = make_ctx(tmp_path, synthetic_clean())
    build.run(ctx)
    describe.run(ctx)
    files = build.outputs(ctx) + describe.outputs(ctx)
    assert all(f.is_file() for f in files), [f for f in files if not f.is_file()]
    analysis = io.read_parquet(ctx.paths.analysis_data)
    appendix = pd.read_csv(ctx.paths.output / "data_appendix" / "analysis_variables.csv")
    assert appendix["variable"].tolist() == list(analysis.columns)
    assert appendix["label"].notna().all() and appendix["definition"].notna().all()
    assert "Missing-data policy" in (ctx.paths.output / "data_appendix" /
                                     "analysis_variables.md").read_text()
    table1 = pd.read_csv(ctx.paths.tables / "table1_summary_statistics.csv")
    for name in ("breadth_international", "sti_extra", "log_employees", "open_mindedness",
                 "sector_trade", "region_bergen", "novelty_ordered"):
        assert name in table1["Variable"].tolist(), name
    for stem in describe.STEMS:
        assert NOTE[:4] in (ctx.paths.tables / f"{stem}.md").read_text()
        assert "synthetic twin" in (ctx.paths.tables / f"{stem}.md").read_text()
    before = {f: f.read_bytes() for f in files}
    build.run(ctx)
    describe.run(ctx)
    assert all(f.read_bytes() == before[f] for f in files)


def test_build_step_names_the_missing_clean_file(tmp_path):
    ctx = Context(paths=Paths.under(tmp_path), study_config_path=config.DEFAULT_STUDY_CONFIG,
                  model_spec_path=config.DEFAULT_MODEL_SPEC)
    with pytest.raises(DataError, match="survey_clean.parquet"):
        build.run(ctx)


def test_exhibits_carry_the_data_note_and_the_weighting():
    analysis = v.build_analysis_data(synthetic_clean(60, weights=True), survey_year=2010)
    exhibits = d.descriptive_exhibits(analysis, config.PARTNER_TYPES, config.SCALES,
                                      data_note=NOTE)
    assert [e.stem for e in exhibits] == list(describe.STEMS)
    for exhibit in exhibits:
        assert NOTE in exhibit.notes
        assert any("weighted by the survey weight" in n for n in exhibit.notes)
    plain = d.descriptive_exhibits(analysis.assign(weight=1.0), config.PARTNER_TYPES,
                                   config.SCALES)
    assert all(NOTE not in e.notes and any("Unweighted" in n for n in e.notes) for e in plain)


def test_descriptives_show_the_estimation_sample_beside_all_firms():
    """Prevalence and innovation rates: the estimation sample's N and shares beside all
    firms' (as Table 1); the correlations say they describe all firms; every title says
    which sample."""
    analysis = v.build_analysis_data(synthetic_clean(120), survey_year=2010)
    sample = pd.Series(np.arange(len(analysis)) % 3 != 0, index=analysis.index)
    exhibits = {e.stem: e for e in d.descriptive_exhibits(
        analysis, config.PARTNER_TYPES, config.SCALES, sample=sample,
        sample_note="Estimation sample: the firms of the models.")}
    rates = exhibits["innovation_by_region"].frame.set_index("City-region")
    inside = analysis[sample.to_numpy()]
    assert rates.loc[d.TOTAL_ROW, "Estimation sample: N"] == int(sample.sum())
    assert rates.loc[d.TOTAL_ROW, "All firms: N"] == len(analysis)
    assert rates.loc[d.TOTAL_ROW, "Estimation sample: Product innovation"] == pytest.approx(
        inside["product"].astype(float).mean())
    assert rates.loc[d.TOTAL_ROW, "All firms: Product innovation"] == pytest.approx(
        analysis["product"].astype(float).mean())
    shares = exhibits["collaboration_prevalence"]
    assert shares.frame.columns.tolist()[1] == "Estimation sample: Same city-region"
    shown = shares.display(shares.frame)
    assert shown.columns[1] == f"Estimation sample ({int(sample.sum()):,} firms): Same city-region"
    cells = shares.cells
    assert set(cells["column"]) == set(shares.frame.columns[1:])  # checked, every cell
    for stem in ("collaboration_prevalence", "innovation_by_glocal_type",
                 "innovation_by_region"):
        assert exhibits[stem].title.endswith("(estimation sample and all firms)")
        assert "Estimation sample: the firms of the models." in exhibits[stem].notes
    assert exhibits["breadth_correlations"].title.endswith("(all firms)")
    alone = d.descriptive_exhibits(analysis, config.PARTNER_TYPES, config.SCALES)
    assert all(e.title.endswith("(all firms)") for e in alone[1:])
    assert "N" in alone[-1].frame.columns  # without a sample: all firms alone


def test_latex_exhibits_compile_with_booktabs(tmp_path):
    require_pdflatex()
    clean = synthetic_clean(80)
    analysis = v.build_analysis_data(clean, survey_year=2010)
    stems = []
    for exhibit in d.descriptive_exhibits(analysis, config.PARTNER_TYPES, config.SCALES,
                                          data_note=NOTE + " 50% & $ # _ ~ ^ <>"):
        write_frame_exhibit(exhibit.frame, tmp_path, exhibit.stem, exhibit.title, exhibit.notes)
        stems.append(exhibit.stem)
    counts = v.policy_counts(clean, config.PARTNER_TYPES, config.SCALES)
    write_frame_exhibit(counts, tmp_path, "missing_data_policy", "Policy",
                        list(v.MISSING_DATA_POLICY.values()))
    stems.append("missing_data_policy")
    compile_latex([rf"\input{{{s}.tex}}" for s in stems], tmp_path)


# ------------------------------------------------------------------------------ the twin

@pytest.fixture(scope="module")
def twin_ctx(tmp_path_factory) -> Context:
    """The shipped synthetic twin, cleaned by the clean step into a temporary folder."""
    try:
        clean_step = importlib.import_module("analysis.tasks.clean")
    except ImportError:
        pytest.skip("the clean step does not exist yet")
    ctx = Context(paths=Paths.under(tmp_path_factory.mktemp("twin")),
                  study_config_path=config.DEFAULT_STUDY_CONFIG,
                  model_spec_path=config.DEFAULT_MODEL_SPEC)
    raw = config.ROOT / "data_raw" / "norway_firm_survey_2010_synthetic.sav"
    if not raw.is_file():
        pytest.skip(f"{raw} not generated yet")
    clean_step.run(ctx)
    return ctx


def test_twin_prevalence_matches_the_generator_targets(twin_ctx):
    truth = importlib.import_module("analysis.data.twin.truth")
    targets = truth.DEFAULT.collaboration.prevalence  # share of ALL firms, (partner, scale)
    clean = io.read_parquet(twin_ctx.paths.clean_data)
    assert set(targets) == {(p, s) for p in config.PARTNER_TYPES for s in config.SCALES}
    for (partner, scale), target in targets.items():
        # routed-out group items are 0, so the share is among all firms answering
        indicator = v.collaboration_indicator(clean, partner, scale).dropna().astype(float)
        share, n = float(indicator.mean()), len(indicator)
        assert n > 0.95 * len(clean)
        se = np.sqrt(target * (1 - target) / n)
        assert abs(share - target) < 4 * se, (partner, scale, share, target, n)


def test_build_and_describe_on_the_twin(twin_ctx):
    build.run(twin_ctx)
    describe.run(twin_ctx)
    analysis = io.read_parquet(twin_ctx.paths.analysis_data)
    truth = importlib.import_module("analysis.data.twin.truth")
    assert len(analysis) == 1604
    assert set(truth.REGRESSORS) <= set(analysis.columns)  # names the recovery tests use
    assert analysis["breadth_local"].notna().mean() > 0.99
    prevalence = pd.read_csv(twin_ctx.paths.tables / "collaboration_prevalence.csv")
    # the estimation sample's shares beside all firms'
    assert prevalence.shape == (len(config.PARTNER_TYPES) + 1, 2 * len(config.SCALES) + 1)
    assert prevalence.columns[1].startswith("Estimation sample: ")
    assert prevalence.columns[-1].startswith("All firms: ")
    appendix = (twin_ctx.paths.output / "data_appendix" / "analysis_variables.csv")
    assert "Cronbach's alpha" in appendix.read_text()


@pytest.mark.parametrize(("value", "decimals", "shown"),
                         [(-0.0004, 3, "0.000"), (-0.0006, 3, "-0.001"), (-0.00004, 4, "0.0000"),
                          (0.0004, 3, "0.000"), (-2.5, 1, "-2.5")])
def test_frame_cells_never_print_a_signed_zero(value, decimals, shown):
    from analysis.exhibits.layout import format_cell

    assert format_cell(value, decimals) == shown
