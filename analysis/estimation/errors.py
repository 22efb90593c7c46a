"""Named estimation errors.

Every message starts with the model id and names the offending terms or values, so a failed
pipeline run says *which* model broke and *why* instead of silently dropping a column.
"""

from __future__ import annotations

from collections.abc import Iterable


class EstimationError(Exception):
    """Base class of every problem raised by the estimation layer."""

    def __init__(self, model_id: str, message: str, terms: Iterable[str] = ()) -> None:
        self.model_id = model_id
        self.terms = tuple(terms)
        super().__init__(f"model {model_id!r}: {message}")


class SpecificationError(EstimationError):
    """Bad input: missing or non-numeric column, outcome not coded as required, bad option."""


class PerfectSeparationError(EstimationError):
    """A regressor (value) predicts the outcome perfectly; the ML estimate does not exist."""


class CollinearityError(EstimationError):
    """Constant regressor or linearly dependent regressors (e.g. a full set of dummies)."""


class ConvergenceError(EstimationError):
    """The Newton iterations did not converge within the iteration limit."""


class EmptyCellError(EstimationError):
    """No observations after listwise deletion, or an outcome (cell) without variation."""
