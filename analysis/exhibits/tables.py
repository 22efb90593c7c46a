"""Regression tables from the tidy estimates frame (contract C1), laid out by stargazer.

Stargazer reads fitted-model objects; we never hand it a fitted model. Instead
:func:`model_results` builds one small adapter (:class:`TidyModelResults`, with the
statsmodels-like attributes ``params``, ``bse``, ``pvalues``, ``conf_int()``, ``nobs``) per
table column *from the tidy rows*, so every number a table shows is the estimates file's
number, rounded for display. :func:`table_cells` is the grid of displayed strings: numbers at
an adaptive precision (each row has the decimals that show its smallest standard error with
two significant digits, at least three; no standard error prints as zero), stars from the
p-values (none on cut points), fit statistics, Yes/No rows of indicator blocks and the rows
of hypothesis tests (:mod:`analysis.exhibits.hypothesis_rows`). :mod:`analysis.exhibits.regression`
lays the grid out and writes it: the LaTeX is stargazer's body inside our journal layout
(:mod:`analysis.exhibits.regression_latex`); HTML, Word and Markdown draw the same grid as a
:class:`~analysis.exhibits.layout.Table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from stargazer.translators import register_class

from analysis.errors import ExhibitError
from analysis.exhibits import hypothesis_rows
from analysis.exhibits.hypothesis_rows import TestRow
from analysis.exhibits.layout import SIG_LEVELS as SIG_LEVELS  # stargazer's thresholds
from analysis.exhibits.layout import display_value, significance_stars

#: The legend that states the significance thresholds.
STAR_LEGEND = "* p<0.10, ** p<0.05, *** p<0.01"
DECIMALS = 3
MAX_DECIMALS = 6

#: Quantities a table column can show (rows of the C1 frame); "cut" rows (ordered-logit
#: thresholds) are always available in addition, by their term names ("cut1|2", ...).
TABLE_QUANTITIES = ("coef", "ame", "odds_ratio")

#: Display labels of the C1 fit statistics.
FIT_LABELS: dict[str, str] = {
    "nobs": "Observations",
    "pseudo_r2": "Pseudo R² (McFadden)",
    "llf": "Log-likelihood",
    "llnull": "Log-likelihood (null model)",
    "aic": "AIC",
    "bic": "BIC",
    "n_clusters": "Clusters",
    "r2": "R²",
}
#: Fit statistics that are counts (integers with a thousands separator) and the decimals
#: of the others.
COUNT_STATISTICS = frozenset({"nobs", "n_clusters"})
FIT_DECIMALS = {"llf": 2, "llnull": 2, "aic": 1, "bic": 1}
DEFAULT_FIT_ROWS: tuple[str, ...] = ("nobs", "pseudo_r2", "llf")

REQUIRED_COLUMNS = ("model", "outcome", "quantity", "term", "estimate", "std_error", "p_value",
                    "ci_lower", "ci_upper", "nobs")


@dataclass(frozen=True)
class TableSpec:
    """Everything that decides a table's layout (the numbers come from the estimates frame).

    models: model ids, one column each, in display order.
    terms: term -> row label, in display order; a model without the term shows a blank cell.
    quantity: "coef", "ame" or "odds_ratio" (ordered-logit "cut" rows can be listed in terms).
    dependent_variable: one header over all columns, or one per model (equal neighbours
        are merged into one spanning header), or None.
    column_labels: one label per model (e.g. "Base", "Managers"), or None.
    control_rows: row label -> {model: included?}, shown as Yes/No below the coefficients.
    fit_rows: C1 fit terms to show (labels from FIT_LABELS), or a mapping term -> label.
        A statistic that no model of the table has is left out.
    tests: hypothesis tests (test rows of the estimates frame) shown below the fit rows.
    notes: plain-text notes printed below the table (e.g. the SE type, STAR_LEGEND, data).
    label: LaTeX \\label (e.g. "tab:table2"), or None.
    panels: one panel per dependent variable (rows stacked), its columns the column labels
        (every dependent variable must have the same ones): for comparisons whose columns
        would not fit the page side by side.
    """

    models: Sequence[str]
    terms: Mapping[str, str]
    title: str
    quantity: str = "coef"
    dependent_variable: str | Sequence[str] | None = None
    column_labels: Sequence[str] | None = None
    control_rows: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    fit_rows: Sequence[str] | Mapping[str, str] = DEFAULT_FIT_ROWS
    tests: Sequence[TestRow] = ()
    notes: Sequence[str] = ()
    label: str | None = None
    panels: bool = False

    def __post_init__(self) -> None:
        models = list(self.models)
        if not models:
            raise ExhibitError(f"table {self.title!r}: no models given")
        if len(set(models)) != len(models):
            raise ExhibitError(f"table {self.title!r}: a model id is repeated in {models}")
        if not self.terms:
            raise ExhibitError(f"table {self.title!r}: no terms given")
        if self.quantity not in TABLE_QUANTITIES:
            raise ExhibitError(f"table {self.title!r}: quantity {self.quantity!r} is not one of "
                               f"{TABLE_QUANTITIES}")
        for name, values in (("column_labels", self.column_labels),
                             ("dependent_variable", self.per_model_headers())):
            if values is not None and len(values) != len(models):
                raise ExhibitError(f"table {self.title!r}: {name} has {len(values)} entries "
                                   f"for {len(models)} models")
        for row, included in self.control_rows.items():
            missing = [m for m in models if m not in included]
            if missing:
                raise ExhibitError(f"table {self.title!r}: control row {row!r} does not say "
                                   f"whether models {missing} include it")
        unknown = [t for t in self.fit_labels() if t not in FIT_LABELS]
        if unknown and not isinstance(self.fit_rows, Mapping):
            raise ExhibitError(f"table {self.title!r}: unknown fit statistics {unknown}; "
                               f"known: {sorted(FIT_LABELS)}")
        if self.panels:
            self.panel_models()  # checks that the panels share their columns

    def panel_models(self) -> list[tuple[str, list[str]]]:
        """(dependent variable, its model ids) per panel; every panel has the same column
        labels in the same order."""
        headers, labels = self.per_model_headers(), self.column_labels
        if headers is None or labels is None:
            raise ExhibitError(f"table {self.title!r}: panels need a dependent variable and "
                               "a column label per model")
        panels: list[tuple[str, list[str]]] = []
        for model, header in zip(self.models, headers, strict=True):
            if panels and panels[-1][0] == header:
                panels[-1][1].append(model)
            else:
                panels.append((header, [model]))
        position = {m: i for i, m in enumerate(self.models)}
        first = [labels[position[m]] for m in panels[0][1]]
        for header, models in panels:
            if [labels[position[m]] for m in models] != first:
                raise ExhibitError(f"table {self.title!r}: panel {header!r} has columns "
                                   f"{[labels[position[m]] for m in models]}, not {first}")
        return panels

    def per_model_headers(self) -> list[str] | None:
        """The dependent-variable header of each column, or None."""
        if self.dependent_variable is None:
            return None
        if isinstance(self.dependent_variable, str):
            return [self.dependent_variable] * len(self.models)
        return list(self.dependent_variable)

    def header_groups(self) -> list[tuple[str, int]]:
        """The dependent-variable header as (label, number of columns spanned) pairs."""
        groups: list[tuple[str, int]] = []
        for name in self.per_model_headers() or []:
            if groups and groups[-1][0] == name:
                groups[-1] = (name, groups[-1][1] + 1)
            else:
                groups.append((name, 1))
        return groups

    def fit_labels(self) -> dict[str, str]:
        """Fit term -> display label, in display order."""
        if isinstance(self.fit_rows, Mapping):
            return dict(self.fit_rows)
        return {term: FIT_LABELS.get(term, term) for term in self.fit_rows}


class Shown(float):
    """A number with the text a table prints for it; stargazer formats numbers with
    ``"{:.3f}".format``, which for a Shown returns that text (per-row precision)."""

    text: str

    def __new__(cls, value: float, text: str) -> Shown:
        number = super().__new__(cls, value)
        number.text = text
        return number

    def __format__(self, spec: str) -> str:
        return self.text


class TidyModelResults:
    """A statsmodels-like view of one model's tidy rows, for stargazer.

    ``params``/``bse``/``pvalues`` are Series indexed by term; ``fit`` maps C1 fit terms to
    their values. Nothing is recomputed: the values are the tidy frame's.
    """

    def __init__(self, model_id: str, outcome: str, rows: pd.DataFrame, nobs: float,
                 fit: Mapping[str, float]) -> None:
        index = pd.Index(rows["term"].astype(str).tolist(), dtype=object)
        self.model_id = model_id
        self.endog_names = outcome
        self.params = pd.Series(rows["estimate"].to_numpy(float), index=index)
        self.bse = pd.Series(rows["std_error"].to_numpy(float), index=index)
        # No test, no stars: thresholds (cut points) and missing p-values show none.
        self.pvalues = pd.Series(
            [None if pd.isna(p) or q == "cut" else float(p)
             for p, q in zip(rows["p_value"], rows["quantity"], strict=True)],
            index=index, dtype=object)
        self._ci = pd.DataFrame({0: rows["ci_lower"].to_numpy(float),
                                 1: rows["ci_upper"].to_numpy(float)}, index=index)
        self.nobs = nobs
        self.fit = dict(fit)

    def conf_int(self) -> pd.DataFrame:
        return self._ci

    def for_display(self, decimals: Mapping[str, int]) -> TidyModelResults:
        """A copy whose estimates and standard errors are :class:`Shown` at the decimals
        of their row (stars still come from the p-values)."""
        shown = TidyModelResults.__new__(TidyModelResults)
        shown.__dict__.update(self.__dict__)
        shown.params = pd.Series([Shown(v, format_number(v, decimals[t]))
                                  for t, v in self.params.items()], index=self.params.index,
                                 dtype=object)
        shown.bse = pd.Series([Shown(v, format_number(v, decimals[t]))
                               for t, v in self.bse.items()], index=self.bse.index,
                              dtype=object)
        return shown


def _stargazer_data(model: TidyModelResults) -> dict[str, object]:
    """Stargazer's extractor for the adapter: its model-data dictionary.

    Fit statistics are shown through custom lines (our labels, order and formats), so
    stargazer's own automatic statistics are all None and switched off.
    """
    ci = model.conf_int()
    data: dict[str, object] = dict.fromkeys(
        ("r2", "r2_adj", "pseudo_r2", "f_statistic", "f_p_value", "resid_std_err",
         "degree_freedom", "degree_freedom_resid"))
    data.update(
        dependent_variable=model.endog_names, cov_names=model.params.index.values,
        cov_values=model.params, cov_std_err=model.bse, p_values=model.pvalues,
        conf_int_low_values=ci[0], conf_int_high_values=ci[1], nobs=model.nobs)
    return data


register_class(TidyModelResults, _stargazer_data)


# --------------------------------------------------------------------------- numbers


def format_number(value: float, decimals: int = DECIMALS) -> str:
    """A number as the tables show it; one that rounds to zero prints as "0.000", never
    "-0.000" (the sign of a value too small to show is noise)."""
    return f"{display_value(value, decimals):.{decimals}f}"


def row_decimals(std_errors: Sequence[float]) -> int:
    """Decimals of a table row: two significant digits of its smallest positive standard
    error, at least :data:`DECIMALS`, at most :data:`MAX_DECIMALS` (so no SE prints as 0)."""
    positive = [s for s in std_errors if s is not None and math.isfinite(s) and s > 0]
    if not positive:
        return DECIMALS
    needed = 1 - math.floor(math.log10(min(positive)))
    return int(min(max(DECIMALS, needed), MAX_DECIMALS))


def format_statistic(term: str, value: float) -> str:
    """A fit statistic: counts as integers with thousands separators, the log-likelihood
    with two decimals and a thousands separator, others with three decimals."""
    if value is None or pd.isna(value):
        return ""
    if term in COUNT_STATISTICS:
        return f"{round(value):,}"
    decimals = FIT_DECIMALS.get(term, DECIMALS)
    return f"{display_value(value, decimals):,.{decimals}f}"


# --------------------------------------------------------------------------- adapters


def _check_columns(estimates: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in estimates.columns]
    if missing:
        raise ExhibitError(f"estimates frame lacks columns {missing}")


def _model_fit(model_id: str, rows: pd.DataFrame) -> tuple[dict[str, float], float]:
    """The fit statistics of one model and its N (the "nobs" fit row or the nobs column)."""
    fit_rows = rows[rows["quantity"] == "fit"]
    duplicated = fit_rows["term"][fit_rows["term"].duplicated()].tolist()
    if duplicated:
        raise ExhibitError(f"model {model_id!r}: fit statistics {duplicated} appear twice")
    fit = dict(zip(fit_rows["term"].astype(str), fit_rows["estimate"].astype(float),
                   strict=True))
    column_n = rows["nobs"].dropna().unique()
    if len(column_n) > 1:
        raise ExhibitError(f"model {model_id!r}: column nobs takes several values {column_n}")
    if "nobs" not in fit and len(column_n):
        fit["nobs"] = float(column_n[0])
    if "nobs" in fit and len(column_n) and fit["nobs"] != column_n[0]:
        raise ExhibitError(f"model {model_id!r}: fit row nobs={fit['nobs']} disagrees with "
                           f"column nobs={column_n[0]}")
    return fit, fit.get("nobs", math.nan)


def _model_estimates(model_id: str, rows: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """The rows of ``quantity`` (plus thresholds) of one model, checked for display."""
    shown = rows[rows["quantity"].isin([quantity, "cut"])]
    if not (shown["quantity"] == quantity).any():
        raise ExhibitError(f"model {model_id!r} has no {quantity!r} rows in the estimates frame")
    duplicated = shown["term"][shown["term"].duplicated()].tolist()
    if duplicated:
        raise ExhibitError(f"model {model_id!r}: terms {duplicated} appear twice among its "
                           f"{quantity!r}/'cut' rows")
    for column in ("estimate", "std_error"):
        bad = shown.loc[~pd.to_numeric(shown[column]).map(math.isfinite), "term"].tolist()
        if bad:
            raise ExhibitError(f"model {model_id!r}, quantity {quantity!r}: column {column} is "
                               f"missing or not finite for terms {bad}")
    return shown


def model_results(estimates: pd.DataFrame, spec: TableSpec) -> list[TidyModelResults]:
    """One stargazer adapter per model of ``spec``, built from the tidy rows."""
    _check_columns(estimates)
    results = []
    for model_id in spec.models:
        rows = estimates[estimates["model"] == model_id]
        if rows.empty:
            raise ExhibitError(f"model {model_id!r} of table {spec.title!r} is not in the "
                               f"estimates frame")
        outcomes = rows["outcome"].dropna().unique()
        fit, nobs = _model_fit(model_id, rows)
        shown = _model_estimates(model_id, rows, spec.quantity)
        results.append(TidyModelResults(model_id, str(outcomes[0]) if len(outcomes) else "",
                                        shown, nobs, fit))
    absent = [t for t in spec.terms if not any(t in r.params.index for r in results)]
    if absent:
        raise ExhibitError(f"table {spec.title!r}: terms {absent} are in no model's "
                           f"{spec.quantity!r} rows")
    return results


def term_decimals(results: Sequence[TidyModelResults], terms: Sequence[str]) -> dict[str, int]:
    """The decimals of each term's row (:func:`row_decimals` over the table's models)."""
    return {t: row_decimals([r.bse[t] for r in results if t in r.bse.index]) for t in terms}


# --------------------------------------------------------------------------- cell grid


def _fit_values(results: Sequence[TidyModelResults],
                spec: TableSpec) -> dict[str, tuple[str, list[str]]]:
    """Fit term -> (label, one formatted string per model); terms no model has are left out."""
    rows = {}
    for term, label in spec.fit_labels().items():
        values = [format_statistic(term, r.fit.get(term, math.nan)) for r in results]
        if any(values):
            rows[term] = (label, values)
    return rows


def cells_from_results(results: Sequence[TidyModelResults], spec: TableSpec,
                        estimates: pd.DataFrame) -> pd.DataFrame:
    models = list(spec.models)
    rows: list[list[str]] = []
    if spec.dependent_variable is not None:
        rows.append(["header", "dependent_variable", "", *spec.per_model_headers()])
    if spec.column_labels is not None:
        rows.append(["header", "column_label", "", *spec.column_labels])
    rows.append(["header", "model_number", "", *[f"({i})" for i in range(1, len(models) + 1)]])
    decimals = term_decimals(results, list(spec.terms))
    for term, label in spec.terms.items():
        places = decimals[term]
        estimates_, errors = [], []
        for r in results:
            has = term in r.params.index
            estimates_.append(format_number(r.params[term], places)
                              + significance_stars(r.pvalues[term]) if has else "")
            errors.append(f"({format_number(r.bse[term], places)})" if has else "")
        rows.append(["estimate", term, label, *estimates_])
        rows.append(["std_error", term, "", *errors])
    for label, included in spec.control_rows.items():
        rows.append(["control", label, label, *["Yes" if included[m] else "No" for m in models]])
    for term, (label, values) in _fit_values(results, spec).items():
        rows.append(["fit", term, label, *values])
    for key, label, values in hypothesis_rows.test_cells(estimates, spec.tests, models):
        rows.append(["test", key, label, *values])
    return pd.DataFrame(rows, columns=["section", "key", "label", *models], dtype=object)


def table_cells(estimates: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The grid of displayed strings, one row per table line, one column per model.

    Columns: ``section`` ("header", "estimate", "std_error", "control", "fit", "test"),
    ``key`` (term, control label, fit term or test row key), ``label`` (the row label
    shown) and one column per model id holding exactly the string displayed (e.g.
    "0.123**", "(0.045)", "Yes", "1,604").
    """
    return cells_from_results(model_results(estimates, spec), spec, estimates)
