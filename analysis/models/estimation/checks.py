"""Checks after a converged fit, shared by both engines: coefficients or standard errors
that diverge mean separation or collinearity, reported by name."""

from __future__ import annotations

import numpy as np

from analysis.errors import CollinearityError, PerfectSeparationError
from analysis.models.estimation.design import CONSTANT, Design

#: |index coefficient| x (1 for a 0/1 regressor, else its SD) above which an estimate is
#: treated as diverging (odds ratio above e^15 for a one-unit / one-SD change).
HUGE_EFFECT = {"logit": 15.0, "ologit": 15.0, "probit": 8.0, "oprobit": 8.0}
#: The same for standard errors (a 95% CI wider than +-100 on the index scale).
HUGE_SE = 50.0


def term_scales(design: Design) -> np.ndarray:
    """1 for 0/1 regressors (a 0->1 change), else the column's SD; 0 for the constant."""
    scale = design.col_std.copy()
    scale[design.is_binary] = 1.0
    scale[[t == CONSTANT for t in design.terms]] = 0.0
    return scale


def check_huge(model_id, estimator, design, beta, cov=None) -> None:
    """After a converged fit: diverging coefficients or SEs mean separation/collinearity
    (without `cov`, the coefficients only)."""
    k = len(design.terms)
    scale = term_scales(design)
    se = np.zeros(k) if cov is None else np.sqrt(np.diag(cov)[:k])
    effect, se_effect = np.abs(beta[:k]) * scale, se * scale
    binary = set(np.flatnonzero(design.is_binary))
    for j, term in enumerate(design.terms):
        if effect[j] > HUGE_EFFECT[estimator] or se_effect[j] > HUGE_SE:
            what = (f"implausibly large estimate for {term!r} (b={beta[j]:.4g}, "
                    f"se={se[j]:.4g}, per {'0->1 change' if j in binary else 'SD'}: "
                    f"{effect[j]:.3g})")
            if j in binary or effect[j] > HUGE_EFFECT[estimator]:
                raise PerfectSeparationError(
                    model_id, what + "; likely quasi-complete separation (a category that "
                    "(almost) predicts the outcome)", [term])
            raise CollinearityError(model_id, what + "; likely near collinearity", [term])


def category_label(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"
