"""The specifications the claims report evaluates every claim on (pure: no file I/O).

A claim is checked on the models of the headline and modes families (the families named
by ``[headline]`` and ``[[tests]]``) in every *specification*: each variant of the family,
fitted with each estimator of ``[claims] estimators`` (besides the family's own), and, on a
survey with sampling weights, both with the family's weighting and the other one
(unweighted vs probability-weighted). The family's own variant, estimator and weighting is
the *main* specification, the one the tables show.

Every model is estimated as the estimate step estimates it (:func:`estimate_model`: same
regressors, listwise deletion, perfect-prediction rule, AMEs), and its ``[[tests]]`` are
computed in every variant that has their parameters, so each claim can be read the same
way in each specification. The result is one frame of C1 rows (coefficients, AMEs, tests,
N) with the specification's ``family``, ``variant``, ``weights`` ("none" / "pweight" /
"fweight") and ``main``: whether the row's estimator and weighting are the family's own
(the main specification is that estimator and weighting in the headline's variant).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pandas as pd

from analysis.errors import EstimationError
from analysis.models.estimate import estimate_model
from analysis.models.estimation import TIDY_COLUMNS
from analysis.models.specification import BINARY_ESTIMATORS, ModelSpec, expand_models

SPECIFICATION_COLUMNS = [*TIDY_COLUMNS, "family", "variant", "weights", "main"]
#: The quantities a claim reads.
KEPT_QUANTITIES = ("coef", "ame", "test", "fit")


def claim_families(spec: ModelSpec) -> list[str]:
    """The families the claims look at: the headline family and every family named by a
    ``[[tests]]`` entry, in file order, binary-outcome estimators only."""
    named = {spec.headline.get("family")} | {t.family for t in spec.tests}
    return [name for name, fam in spec.families.items()
            if name in named and fam.estimator in BINARY_ESTIMATORS]


def with_tests_in_every_variant(spec: ModelSpec) -> ModelSpec:
    """The spec with each ``[[tests]]`` entry repeated in every variant of its family whose
    models have the test's parameters (so that a claim reads the same in each variant)."""
    tests = []
    for test in spec.tests:
        family = spec.families.get(test.family)
        if family is None:
            continue
        for variant, controls in family.variants.items():
            names = {v for b in family.main + controls for v in spec.blocks[b].variables}
            if all(p.split("[", 1)[0] in names for p in test.parameters):
                tests.append(replace(test, variant=variant))
    return replace(spec, tests=tuple(tests))


def weightings(main: str, survey_weighted: bool) -> list[str]:
    """The weightings to fit: the family's own first; with survey weights also the other of
    "none" and "pweight" (a frequency-weighted family is compared with nothing else)."""
    if not survey_weighted or main == "fweight":
        return [main]
    return [main, "" if main else "pweight"]


def specification_estimates(frame: pd.DataFrame, spec: ModelSpec,
                            unavailable: Iterable[str] = (), *,
                            survey_weighted: bool = False) -> pd.DataFrame:
    """C1 rows of every model of every specification of the claim families (see the module
    docstring), with the columns of ``SPECIFICATION_COLUMNS``.

    An estimation problem in a specification other than the main one does not stop the
    report: that model is left out (the claim is then "not testable" there, with the
    reason); in the main specification it propagates, as in the estimate step.
    """
    unavailable = tuple(unavailable)
    spec = with_tests_in_every_variant(spec)
    frames = []
    for family in claim_families(spec):
        fam = spec.families[family]
        estimators = list(dict.fromkeys([fam.estimator, *spec.claims_estimators]))
        for model in expand_models(spec, [family]):
            if model.outcome in unavailable:
                continue
            for estimator in estimators:
                for weights in weightings(fam.weights, survey_weighted):
                    main = estimator == fam.estimator and weights == fam.weights
                    variant_model = replace(model, estimator=estimator, weights=weights)
                    try:
                        estimate, _ = estimate_model(frame, spec, variant_model, unavailable)
                    except EstimationError:
                        if main:
                            raise
                        continue
                    rows = estimate.tidy[estimate.tidy["quantity"].isin(KEPT_QUANTITIES)]
                    frames.append(rows.assign(family=family, variant=model.variant,
                                              weights=weights or "none", main=main))
    if not frames:
        return pd.DataFrame(columns=SPECIFICATION_COLUMNS)
    return pd.concat(frames, ignore_index=True)[SPECIFICATION_COLUMNS]
