"""Recovery: on a large draw of the synthetic twin, pushed through the same cleaning,
variable construction and estimation code as the pipeline, the logit and ordered-logit
slopes recover the generator's true coefficients (analysis/data/twin/truth.py).

The truth's index has sector base business_services and region base Oslo; our dummies
have the first category (manufacturing, Oslo) as base, so sector dummies are compared as
contrasts with manufacturing. Probit and LPM are misspecified for this generator and are
not tested for recovery.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from analysis import config
from analysis.data import clean, variables
from analysis.data.study_config import load_study_config
from analysis.data.study_settings import layout, study_settings
from analysis.data.twin import truth
from analysis.data.twin.generator import draw_survey
from analysis.models.estimate import estimate_model
from analysis.models.specification import expand_models, load_model_spec, model_id

N_USABLE = 30_000
SEED = 20240607
Z_LIMIT = 4.0


@pytest.fixture(scope="module")
def twin_data():
    twin = draw_survey(n_usable=N_USABLE, seed=SEED)
    cfg = load_study_config(config.DEFAULT_STUDY_CONFIG)
    meta = clean.RawMeta(Path("twin_recovery.sav"), "sav", len(twin.raw), {}, {}, {})
    cleaned = clean.clean_survey(twin.raw, meta, cfg).data
    settings = study_settings(config.DEFAULT_STUDY_CONFIG)
    partners, scales = layout(cleaned, settings.scale_order)
    analysis = variables.build_analysis_data(
        cleaned, survey_year=settings.survey_year, partners=partners, scales=scales,
        never=settings.never, intensity_weights=settings.intensity)
    return analysis, twin.truth


@pytest.fixture(scope="module")
def spec():
    return load_model_spec(config.DEFAULT_MODEL_SPEC)


def fitted(spec, frame, family, outcome, variant="manager"):
    model = next(m for m in expand_models(spec, [family])
                 if m.id == model_id(family, outcome, variant))
    estimate, _ = estimate_model(frame, spec, model)
    return estimate


def true_slopes(model: truth.OutcomeModel, terms) -> dict[str, float]:
    """The true value of each of our slope terms (sector dummies as contrasts)."""
    coef = model.coefficients
    out = {}
    for term in terms:
        if term.startswith("sector["):
            level = term[7:-1]
            out[term] = coef.get(f"sector_{level}", 0.0) - coef.get("sector_manufacturing", 0.0)
        elif term.startswith("region["):
            out[term] = coef.get(f"region_{term[7:-1].lower()}", 0.0)
        elif term in truth.REGRESSORS:
            out[term] = coef.get(term, 0.0)
    return out


def assert_recovers(fit, model: truth.OutcomeModel) -> None:
    slopes = true_slopes(model, [t for t in fit.terms if t != "const"])
    assert {"breadth_local", "breadth_international", "open_mindedness",
            "sector[construction]", "region[Bergen]"} <= set(slopes)
    z = {t: (fit.params[t] - v) / fit.bse[t] for t, v in slopes.items()}
    worst = max(z, key=lambda t: abs(z[t]))
    assert abs(z[worst]) < Z_LIMIT, f"{fit.model_id}: {worst} z = {z[worst]:.2f}"
    # and the test has power: the breadth slopes are estimated precisely
    assert fit.bse["breadth_international"] < 0.05


@pytest.mark.parametrize(("outcome", "model"), [("product", truth.PRODUCT),
                                                 ("process", truth.PROCESS)])
def test_logit_recovers_true_slopes(twin_data, spec, outcome, model):
    analysis, _ = twin_data
    est = fitted(spec, analysis, "breadth", outcome)
    assert est.fit.nobs > 0.85 * N_USABLE
    assert_recovers(est.fit, model)


def test_ordered_logit_of_novelty_recovers_the_product_slopes(twin_data, spec):
    analysis, _ = twin_data
    est = fitted(spec, analysis, "novelty", "novelty_ordered")
    assert est.fit.estimator == "ologit"
    assert_recovers(est.fit, truth.PRODUCT)


def test_logit_ames_are_close_to_the_true_ames(twin_data, spec):
    analysis, truth_frame = twin_data
    est = fitted(spec, analysis, "breadth", "product")
    used = analysis.loc[est.fit.design.index, "firm_id"].astype("int64")
    index = truth_frame.set_index(truth_frame["orgnr"].astype("int64"))["index_product"]
    # True P(product) = logistic(x'b - cut_0): the true AME of a count is mean(f) * b.
    q = index.reindex(used.to_numpy()).to_numpy() - truth.PRODUCT.cuts[0]
    assert not np.isnan(q).any()
    density = special.expit(q) * (1 - special.expit(q))
    ames = pd.Series(est.margins.estimates, index=list(est.margins.terms))
    ses = pd.Series(est.margins.std_errors, index=list(est.margins.terms))
    for term in ("breadth_local", "breadth_national", "breadth_international",
                 "open_mindedness"):
        true_ame = density.mean() * truth.PRODUCT.coefficients[term]
        assert abs(ames[term] - true_ame) < Z_LIMIT * ses[term], term
    assert ames["breadth_international"] > 2 * ames["breadth_local"]
