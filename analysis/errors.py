"""The package's error classes: one per layer, under one base.

Every deliberate error of the package is a :class:`ReplicationError`. The runner prints
its message on one line, followed by the class's ``hint`` ("What to do"), and exits
non-zero; any other exception is a bug and is shown as such.

Layers, from the bottom up::

    ReplicationError
    ├── ConfigError        what the user typed: study configuration, model specification,
    │                      robustness settings, command-line options, published estimates
    ├── DataError          reading, validating and cleaning survey data; building variables
    │   └── RawValidationError (problems: one line per invalid value)
    │       └── RecodeError    (a text answer without a code in [recode.<column>])
    ├── ModelError         model frames, estimation, resampling, robustness analyses
    │   ├── RobustnessError    (an analysis the data cannot support: reported, not fatal)
    │   └── EstimationError    (model_id, terms: which model broke and why)
    │       ├── SpecificationError, PerfectSeparationError, CollinearityError,
    │       └── ConvergenceError, EmptyCellError
    ├── ExhibitError       tables, figures, descriptives, claims
    │   └── DisclosureError    (an exhibit would disclose firm-level information)
    ├── OutputError        a file cannot be written
    └── RunnerError        the pipeline's own contract (a step, its registry)

Every class survives pickling whatever its ``__init__`` takes (:meth:`__reduce__`), so an
error raised in a worker process reaches the parent with its class and message intact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
             ) -> BaseException:
    """Recreate an exception without calling its ``__init__`` (see ReplicationError)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ReplicationError(Exception):
    """Base of every error the package raises on purpose."""

    #: What the user can do about it, printed after the message ("What to do: ...").
    hint: ClassVar[str | None] = None

    def __reduce__(self) -> tuple[Any, ...]:
        # The default rebuilds with cls(*args), which fails for classes whose __init__
        # takes other arguments than the final message (EstimationError, ...).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ConfigError(ReplicationError):
    """A configuration file or option is missing a key, has a wrong value or contradicts
    itself; the message names the file (or option) and the key."""

    hint = "fix the configuration at the key named; then rerun"


class DataError(ReplicationError):
    """The survey data cannot be read, contradict the study configuration, or cannot be
    turned into the variables the models need; the message names file, column and value."""

    hint = ("check the data file named (path, format, a complete export) and the study "
            "configuration's [study] data_file / format and column roles; then rerun")


class RawValidationError(DataError):
    """One or more values of the raw file are invalid; ``problems`` lists each one."""

    hint = ("correct these values in the raw file, or declare the codes in the study "
            "configuration ([kinds] codes / dont_know / refused, [validate]); then rerun")

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"raw data file {source}: {len(problems)} problem(s):\n{lines}")


class RecodeError(RawValidationError):
    """A text value of the raw file has no code in the column's ``[recode]`` table."""

    hint = ("add each text value named to [recode.<column>] of the study configuration "
            "with its code (TOML: \"Don't know\" = -9), or correct the raw file; then rerun")


class ModelError(ReplicationError):
    """A model frame, an estimator, a resampling scheme or a robustness analysis cannot
    run on the data or settings given."""

    hint = "check the model specification and the analysis data named; then rerun"


class RobustnessError(ModelError):
    """The data cannot support one robustness analysis (reported in its exhibit)."""


class EstimationError(ModelError):
    """A model cannot be estimated; the message starts with the model id and names the
    offending terms or values."""

    hint = "fix the model named in the model specification"

    def __init__(self, model_id: str, message: str, terms: Iterable[str] = ()) -> None:
        self.model_id = model_id
        self.terms = tuple(terms)
        super().__init__(f"model {model_id!r}: {message}")


class SpecificationError(EstimationError):
    """Bad input: missing or non-numeric column, outcome not coded as required, bad option."""


class PerfectSeparationError(EstimationError):
    """A regressor (value) predicts the outcome perfectly; the ML estimate does not exist."""

    hint = ("the regressor named predicts the outcome perfectly: drop it or merge its "
            "categories in the model specification, or use estimator = \"lpm\"")


class CollinearityError(EstimationError):
    """Constant regressor or linearly dependent regressors (e.g. a full set of dummies)."""

    hint = ("drop the constant or linearly dependent regressor(s) named from the model "
            "specification's blocks")


class ConvergenceError(EstimationError):
    """The Newton iterations did not converge within the iteration limit."""

    hint = "rescale the regressors or simplify the model named"


class EmptyCellError(EstimationError):
    """No observations after listwise deletion, or an outcome (cell) without variation."""

    hint = ("check the outcome and the regressors of the model named for missing values "
            "(no usable observations, or an outcome without variation)")


class ExhibitError(ReplicationError):
    """An exhibit cannot be made from the estimates or data it was given; the message
    names the file, model, term or variable."""

    hint = "rerun the steps before this one (run_all.py without --only), then this step"


class DisclosureError(ExhibitError):
    """An exhibit would disclose firm-level information (it was not written, or removed)."""

    hint = ("change the configuration that made the exhibit named so that it describes "
            "groups of firms (for example a robustness subsample or a model variable that is "
            "a firm identifier), or merge small categories; see docs/disclosure_control.md")


class OutputError(ReplicationError):
    """An output could not be written (for example, the folder is read-only or the disk is
    full), or a run would write where it must not; ``hint`` may be given per error."""

    hint = "choose another --output-root or make the folder writable"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


class RunnerError(ReplicationError):
    """The pipeline's own contract is broken (a step's declared output is missing, a
    registry names a step twice, ...)."""


def explain(error: BaseException) -> str:
    """An error in one line for the user: a ReplicationError's message and its class's
    ``hint`` ("What to do"), any other error with its class name (a bug)."""
    if isinstance(error, ReplicationError) and str(error):
        return f"{error}" + (f"\n  What to do: {error.hint}." if error.hint else "")
    return f"{type(error).__name__}: {error}".rstrip(": ")
