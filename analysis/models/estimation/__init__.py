"""Estimation layer: binary and ordered models, SEs, marginal effects, tests, tidy output.

Pure functions (no file I/O). See fit.py for the standard-error conventions and
margins.py for the marginal-effect definitions.
"""

from analysis.errors import (
    CollinearityError,
    ConvergenceError,
    EmptyCellError,
    EstimationError,
    PerfectSeparationError,
    SpecificationError,
)
from analysis.models.estimation.design import CONSTANT, WEIGHT_TYPES, Design
from analysis.models.estimation.fit import (
    ENGINES,
    ESTIMATORS,
    SE_TYPES,
    fit_logit,
    fit_lpm,
    fit_model,
    fit_ologit,
    fit_oprobit,
    fit_probit,
    refit_coefficients,
)
from analysis.models.estimation.inference import (
    BOUNDED,
    DELTA_SUFFIX,
    TWO_RAYS,
    WHOLE_LINE,
    TestResult,
    fieller_contains,
    fieller_set,
    odds_ratios,
    ratio,
    wald_test,
)
from analysis.models.estimation.margins import (
    PREDICTION_COLUMNS,
    Margins,
    ame_estimates,
    average_marginal_effects,
    ologit_ames_by_category,
    ordered_ames_by_category,
    predictions,
)
from analysis.models.estimation.perfect import PERFECT_PREDICTION, DroppedTerm
from analysis.models.estimation.result import FitResult
from analysis.models.estimation.tidy import TIDY_COLUMNS, fit_statistics, stack_tidy, tidy

__all__ = [
    "BOUNDED", "CONSTANT", "DELTA_SUFFIX", "ENGINES", "ESTIMATORS", "PERFECT_PREDICTION",
    "PREDICTION_COLUMNS", "SE_TYPES", "TIDY_COLUMNS", "TWO_RAYS", "WEIGHT_TYPES", "WHOLE_LINE",
    "CollinearityError", "ConvergenceError", "Design", "DroppedTerm", "EmptyCellError",
    "EstimationError", "FitResult", "Margins", "PerfectSeparationError", "SpecificationError",
    "TestResult", "ame_estimates", "average_marginal_effects", "fieller_contains",
    "fieller_set", "fit_logit", "fit_lpm", "fit_model", "fit_ologit", "fit_oprobit",
    "fit_probit", "fit_statistics", "odds_ratios", "ologit_ames_by_category",
    "ordered_ames_by_category", "predictions", "ratio", "refit_coefficients", "stack_tidy",
    "tidy", "wald_test",
]
