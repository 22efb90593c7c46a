"""Perfect prediction handled as Stata's ``logit`` and ``probit`` handle it.

When the observations with a 0/1 regressor x != v (v = 0 or 1) all have the same outcome,
the maximum-likelihood coefficient of x is infinite. Stata then prints

    note: x != 0 predicts success perfectly
          x dropped and 40 obs not used

drops x and those observations, and fits the rest. :func:`drop_perfect_predictors` does the
same: it checks the 0/1 regressors in model order on the observations still in the sample
(first "x != 0", i.e. the rows with x = 1, then "x != 1", the rows with x = 0), drops each
predicting regressor with the rows it determines, and repeats the pass until nothing
changes, so that no 0/1 regressor separates the remaining sample. A regressor that was not
constant before but is constant once those rows are gone is omitted too (Stata: "omitted
because of collinearity"). If the outcome no longer varies, the regressors predict the data
perfectly and there is nothing to fit: PerfectSeparationError, as Stata's r(2000).

Complete separation by a continuous regressor (or a combination) is not handled here: the
Newton iterations detect it and raise PerfectSeparationError naming the regressor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.errors import PerfectSeparationError
from analysis.models.estimation.design import CONSTANT, Design

#: ``perfect_prediction`` options: "drop" (Stata's rule, the default) or "error" (refuse).
PERFECT_PREDICTION = ("drop", "error")


@dataclass(frozen=True)
class DroppedTerm:
    """A regressor dropped for perfect prediction, or omitted because the drop made it
    constant; ``value`` / ``outcome`` are NaN for an omitted one."""

    term: str
    value: float
    outcome: float
    n_dropped: int

    @property
    def predicts(self) -> bool:
        return not np.isnan(self.value)

    @property
    def rule(self) -> str:
        """The rows removed, as Stata names them (``x != 0``: the rows with x = 1)."""
        return f"{self.term} != {self.value:g}" if self.predicts else ""

    @property
    def note(self) -> str:
        """Stata's note, in one sentence."""
        if not self.predicts:
            return (f"{self.term} omitted: constant once the perfectly predicted "
                    "observations are dropped")
        word = "success" if self.outcome == 1.0 else "failure"
        return (f"{self.rule} predicts {word} perfectly; {self.term} dropped and "
                f"{self.n_dropped} obs not used")


def _predicting_side(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """(v, outcome) when the rows with x != v all have one outcome, checking v = 0 first."""
    for value, rows in ((0.0, x == 1.0), (1.0, x == 0.0)):
        if rows.any() and not rows.all():
            outcomes = y[rows]
            if (outcomes == outcomes[0]).all():
                return value, float(outcomes[0])
    return None


def drop_perfect_predictors(design: Design, outcome: str, model_id: str
                            ) -> tuple[Design, tuple[DroppedTerm, ...]]:
    """The design without the perfectly predicting 0/1 regressors and the rows they
    determine (see the module docstring), and what was dropped, in order."""
    X, y = design.X, design.y
    keep = np.ones(design.nobs, dtype=bool)
    dropped: list[DroppedTerm] = []
    gone: set[int] = set()
    candidates = [j for j in np.flatnonzero(design.is_binary) if design.terms[j] != CONSTANT
                  and design.col_min[j] != design.col_max[j]]
    changed = True
    while changed:
        changed = False
        for j in candidates:
            if j in gone:
                continue
            found = _predicting_side(X[keep, j], y[keep])
            if found is None:
                continue
            value, result = found
            rows = keep & (X[:, j] != value)
            keep &= ~rows
            gone.add(j)
            dropped.append(DroppedTerm(design.terms[j], value, result, int(rows.sum())))
            changed = True
    if not dropped:
        return design, ()
    if np.unique(y[keep]).size < 2:
        raise PerfectSeparationError(
            model_id, f"{', '.join(repr(d.term) for d in dropped)} predict(s) the data "
            "perfectly: " + "; ".join(d.note for d in dropped) + f"; the observations left "
            f"all have the same outcome {outcome!r} (Stata: outcome predicts data perfectly, "
            "r(2000))",
            [d.term for d in dropped])
    for j, term in enumerate(design.terms):
        column = X[keep, j]
        if (term != CONSTANT and j not in gone and design.col_min[j] != design.col_max[j]
                and column.min() == column.max()):
            gone.add(j)
            dropped.append(DroppedTerm(term, float("nan"), float("nan"), 0))
    return design.drop(keep, [design.terms[j] for j in sorted(gone)]), tuple(dropped)
