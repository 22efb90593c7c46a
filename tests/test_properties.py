"""Property-based tests (hypothesis) of cleaning and variable construction.

Random raw frames in the layout of the twin's study configuration (codes valid, user-
missing, out of range or system-missing; duplicate interview and firm ids; screen-outs;
break-offs) must give either a clean result whose sample flow balances, or a clear project
error (DataError / ConfigError), never an unhandled exception. On every clean result
the analysis variables must respect their definitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.data import clean, variables
from analysis.data.study_config import StudyConfig, load_study_config
from analysis.errors import ConfigError, DataError

CFG: StudyConfig = load_study_config(config.DEFAULT_STUDY_CONFIG)
META = clean.RawMeta(CFG.data_file, "sav", 0, {}, {}, {})
PARTNERS = tuple(p for p in config.PARTNER_TYPES if p in CFG.collaboration.partners)
SCALES = tuple(s for s in config.SCALES if s in CFG.collaboration.scales)
EXTERNAL = tuple(p for p in PARTNERS if p != "group")
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])
#: Building the variables is slower than cleaning: fewer examples keep the file < 20 s.
BUILD_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=15)


def value_pool(column: str, allow_bad: bool) -> list[float]:
    """Values a column may get: valid ones, its missing codes, NaN, and (maybe) bad ones."""
    kind = CFG.kind_of(column)
    if kind.codes is not None:
        valid = [float(c) for c in kind.codes]
        bad = [float(max(kind.codes) + 1)]
    else:
        lo, hi = kind.range
        valid = [float(lo), float(hi), float((lo + hi) // 2)]
        bad = [float(hi + 1)]
    pool = valid + list(kind.missing_codes) + [np.nan]
    return pool + bad if allow_bad else pool


@st.composite
def raw_frames(draw) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=10))
    allow_bad = draw(st.sampled_from([False, False, True]))  # mostly valid codes
    ids = st.integers(min_value=1, max_value=n + 2).map(float)
    unique = st.permutations([float(i) for i in range(1, n + 1)])
    interviews = draw(unique if not allow_bad else st.lists(ids, min_size=n, max_size=n))
    data: dict[str, list[float]] = {
        CFG.columns["interview_id"]: list(interviews),
        CFG.columns["firm_id"]: draw(st.lists(ids, min_size=n, max_size=n)),  # duplicates
    }
    for column in CFG.used_columns():
        if column in data:
            continue
        pool = value_pool(column, allow_bad)
        data[column] = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    frame = pd.DataFrame(data)
    if CFG.columns.get("nace"):  # NACE divisions inside a [sectors] range, mostly
        codes = [10.0, 41.0, 46.0, 62.0] + ([99.0] if allow_bad else [])
        frame[CFG.columns["nace"]] = draw(st.lists(st.sampled_from(codes), min_size=n,
                                                   max_size=n))
    if not allow_bad or draw(st.booleans()):  # respect the routing, mostly
        for column, (filter_column, asked) in clean.routing_rules(CFG).items():
            routed = clean.routed_out(frame, filter_column, asked)
            frame.loc[routed, column] = np.nan
    return frame


def clean_or_error(raw: pd.DataFrame) -> clean.CleanResult | None:
    try:
        return clean.clean_survey(raw, META, CFG)
    except (DataError, ConfigError) as err:
        assert str(err), "a project error must say what is wrong"
        return None


@PROPERTY_SETTINGS
@given(raw=raw_frames())
def test_cleaning_balances_or_fails_clearly(raw):
    result = clean_or_error(raw)
    if result is None:
        return
    flow = result.flow.set_index("stage")
    n_excluded = flow.drop(index=["raw", "final"])["records"].sum()
    assert flow.loc["raw", "records"] == len(raw)
    assert flow.loc["raw", "records"] == n_excluded + flow.loc["final", "records"]
    assert flow.loc["final", "records"] == len(result.data)
    assert result.flow["adds_up"].all()
    assert result.data["firm_id"].is_unique
    assert result.data["interview_id"].is_unique
    removed = sum(len(e.removed) for e in result.sample.exclusions)
    assert removed + len(result.data) == len(raw)


def build(result: clean.CleanResult) -> pd.DataFrame | None:
    try:
        return variables.build_analysis_data(result.data, survey_year=CFG.survey_year or 2010,
                                             partners=PARTNERS, scales=SCALES)
    except DataError as err:
        assert str(err)
        return None


def any_external(analysis: pd.DataFrame, scales: tuple[str, ...]) -> pd.Series:
    cols = [f"collab_{p}_{s}" for p in EXTERNAL for s in scales]
    return analysis[cols].astype("Float64").fillna(0).sum(axis=1) > 0


@BUILD_SETTINGS
@given(raw=raw_frames())
def test_variables_respect_their_definitions(raw):
    result = clean_or_error(raw)
    if result is None or result.data.empty:
        return
    analysis = build(result)
    if analysis is None:
        return
    assert len(analysis) == len(result.data)
    assert analysis["firm_id"].is_unique
    for column in analysis.columns:
        if column.startswith("collab_") or column in ("product", "process", "new_to_market"):
            values = analysis[column].dropna().astype(float)
            assert values.isin([0.0, 1.0]).all(), column
    for scale in SCALES:
        width = analysis[f"breadth_{scale}"].astype("Float64")
        known = width.notna()
        assert width[known].between(0, len(PARTNERS)).all()
        any_collab = analysis[f"any_collab_{scale}"].astype("Float64")
        assert (any_collab[known] == (width[known] > 0).astype("Float64")).all()
    glocal = analysis["glocal_type"]
    known = glocal.notna()
    local = any_external(analysis, ("local",))
    distant = any_external(analysis, tuple(s for s in SCALES if s != "local"))
    expected = pd.Series(np.array(variables.GLOCAL_TYPES, dtype=object)[
        (local.astype(int) + 2 * distant.astype(int)).to_numpy()], index=analysis.index)
    assert (glocal[known].astype(str) == expected[known]).all()


def test_generator_reaches_both_outcomes():
    """The strategy must produce clean results as well as errors (else the tests are empty)."""
    outcomes = set()

    @settings(max_examples=20, deadline=None, derandomize=True)
    @given(raw=raw_frames())
    def probe(raw):
        outcomes.add(clean_or_error(raw) is not None)

    probe()
    if outcomes != {True, False}:
        pytest.fail(f"only {'successes' if True in outcomes else 'errors'} generated")
