"""Regression tables from the tidy estimates frame (contract C1), rendered with stargazer.

Stargazer reads fitted-model objects; we never hand it a fitted model. Instead
:func:`model_results` builds one small adapter (:class:`TidyModelResults`, with the
statsmodels-like attributes ``params``, ``bse``, ``pvalues``, ``conf_int()``, ``nobs``) per
table column *from the tidy rows*, so every number a table shows is the estimates file's
number, rounded for display. Stargazer then does what it does well (covariate order and
labels, three-decimal cells with significance stars, custom Yes/No and fit-statistic lines,
grouped column headers, title). Its output is repaired in exactly one place per format
(:func:`_booktabs_latex`, :func:`_repair_html`): booktabs rules instead of ``\\hline``, notes
below the tabular, and a few malformed HTML rows of stargazer 0.0.7.

:func:`table_cells` is the grid of displayed strings (the Markdown renderer prints it as is,
and tests compare it with the estimates file). Every label, title and note is plain text and
is escaped here for LaTeX and HTML.
"""

from __future__ import annotations

import copy
import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from stargazer.stargazer import LineLocation, Stargazer
from stargazer.translators import register_class

from analysis import io
from analysis.errors import ExhibitError
from analysis.exhibits.frames import display_value, escape_latex

#: Significance thresholds, largest first (stargazer's order), and the legend that states them.
SIG_LEVELS: tuple[float, float, float] = (0.10, 0.05, 0.01)
STAR_LEGEND = "* p<0.10, ** p<0.05, *** p<0.01"
DECIMALS = 3

#: Quantities a table column can show (rows of the C1 frame); "cut" rows (ordered-logit
#: thresholds) are always available in addition, by their term names ("cut1|2", ...).
TABLE_QUANTITIES = ("coef", "ame", "odds_ratio")

#: Display labels of the C1 fit statistics.
FIT_LABELS: dict[str, str] = {
    "nobs": "Observations",
    "pseudo_r2": "Pseudo R-squared",
    "llf": "Log-likelihood",
    "llnull": "Log-likelihood (null model)",
    "aic": "AIC",
    "bic": "BIC",
    "n_clusters": "Clusters",
    "r2": "R-squared",
}
#: Fit statistics that are counts (shown as integers with a thousands separator).
COUNT_STATISTICS = frozenset({"nobs", "n_clusters"})
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
    notes: plain-text notes printed below the table (e.g. the SE type, STAR_LEGEND, data).
    label: LaTeX \\label (e.g. "tab:table2"), or None.
    """

    models: Sequence[str]
    terms: Mapping[str, str]
    title: str
    quantity: str = "coef"
    dependent_variable: str | Sequence[str] | None = None
    column_labels: Sequence[str] | None = None
    control_rows: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    fit_rows: Sequence[str] | Mapping[str, str] = DEFAULT_FIT_ROWS
    notes: Sequence[str] = ()
    label: str | None = None

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


@dataclass(frozen=True)
class RenderedTable:
    """One table in the three formats, plus the grid of displayed strings behind them."""

    latex: str
    html: str
    markdown: str
    cells: pd.DataFrame


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
        # A missing p-value (e.g. for a threshold) means "no test": no stars, never "***".
        self.pvalues = pd.Series(
            [None if pd.isna(p) else float(p) for p in rows["p_value"]], index=index,
            dtype=object)
        self._ci = pd.DataFrame({0: rows["ci_lower"].to_numpy(float),
                                 1: rows["ci_upper"].to_numpy(float)}, index=index)
        self.nobs = nobs
        self.fit = dict(fit)

    def conf_int(self) -> pd.DataFrame:
        return self._ci

    def for_display(self, decimals: int = DECIMALS) -> TidyModelResults:
        """A copy whose estimates and standard errors that round to zero are +0.0.

        Stargazer formats the numbers itself; this keeps its cells equal to
        :func:`table_cells` ("0.000", not "-0.000"). Stars still come from the p-values.
        """
        shown = copy.copy(self)
        shown.params = self.params.map(lambda v: display_value(v, decimals))
        shown.bse = self.bse.map(lambda v: display_value(v, decimals))
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


def significance_stars(p_value: float | None) -> str:
    """Stars for a two-sided p-value: *** below 0.01, ** below 0.05, * below 0.10."""
    if p_value is None or pd.isna(p_value):
        return ""
    return "*" * sum(p_value < level for level in SIG_LEVELS)


def format_number(value: float, decimals: int = DECIMALS) -> str:
    """A number as the tables show it (the same format stargazer applies).

    A number that rounds to zero prints as "0.000", never "-0.000": the sign of a value
    too small to show is noise (:func:`display_value` gives stargazer the same number).
    """
    return f"{display_value(value, decimals):.{decimals}f}"


def format_statistic(term: str, value: float) -> str:
    """A fit statistic: counts as integers with thousands separators, others 3 decimals."""
    if value is None or pd.isna(value):
        return ""
    if term in COUNT_STATISTICS:
        return f"{round(value):,}"
    return format_number(value)


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


def _cells_from_results(results: Sequence[TidyModelResults], spec: TableSpec) -> pd.DataFrame:
    models = list(spec.models)
    rows: list[list[str]] = []
    if spec.dependent_variable is not None:
        rows.append(["header", "dependent_variable", "", *spec.per_model_headers()])
    if spec.column_labels is not None:
        rows.append(["header", "column_label", "", *spec.column_labels])
    rows.append(["header", "model_number", "", *[f"({i})" for i in range(1, len(models) + 1)]])
    for term, label in spec.terms.items():
        estimates, errors = [], []
        for r in results:
            has = term in r.params.index
            estimates.append(format_number(r.params[term]) + significance_stars(r.pvalues[term])
                             if has else "")
            errors.append(f"({format_number(r.bse[term])})" if has else "")
        rows.append(["estimate", term, label, *estimates])
        rows.append(["std_error", term, "", *errors])
    for label, included in spec.control_rows.items():
        rows.append(["control", label, label, *["Yes" if included[m] else "No" for m in models]])
    for term, (label, values) in _fit_values(results, spec).items():
        rows.append(["fit", term, label, *values])
    return pd.DataFrame(rows, columns=["section", "key", "label", *models], dtype=object)


def table_cells(estimates: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The grid of displayed strings, one row per table line, one column per model.

    Columns: ``section`` ("header", "estimate", "std_error", "control", "fit"), ``key``
    (term, control label or fit term), ``label`` (the row label shown) and one column per
    model id holding exactly the string displayed (e.g. "0.123**", "(0.045)", "Yes", "1,604").
    """
    return _cells_from_results(model_results(estimates, spec), spec)


# --------------------------------------------------------------------------- stargazer


def _stargazer(results: Sequence[TidyModelResults], spec: TableSpec, cells: pd.DataFrame,
               escape: Callable[[str], str]) -> Stargazer:
    """A configured Stargazer; every label passes through ``escape`` (the target format's)."""
    table = Stargazer([r.for_display() for r in results])
    table.title(escape(spec.title))
    table.significance_levels(list(SIG_LEVELS))
    table.significant_digits(DECIMALS)
    table.covariate_order(list(spec.terms))
    table.rename_covariates({t: escape(label) for t, label in spec.terms.items()})
    # The dependent variables form grouped headers; stargazer's single
    # "Dependent variable:" line would be wrong for tables mixing outcomes.
    table.dep_var_name = None
    groups = spec.header_groups()
    if groups:
        table.custom_columns([escape(g) for g, _ in groups], [n for _, n in groups])
    # Column labels, then the model numbers, under the dependent-variable header.
    table.show_model_numbers(False)
    header = cells[cells["section"] == "header"].set_index("key")
    models = list(spec.models)
    for key in ("column_label", "model_number"):
        if key in header.index:
            table.add_line("", [escape(v) for v in header.loc[key, models]],
                           LineLocation.HEADER_BOTTOM)
    for section, location in (("control", LineLocation.BODY_BOTTOM),
                              ("fit", LineLocation.FOOTER_TOP)):
        for _, row in cells[cells["section"] == section].iterrows():
            table.add_line(escape(row["label"]), [escape(v) for v in row[models]], location)
    for stat in ("n", "ngroups", "r2", "within_r2", "adj_r2", "pseudo_r2", "residual_std_err",
                 "f_statistic"):
        setattr(table, f"show_{stat}", False)
    # Stargazer's notes sit inside the tabular (long notes overflow) and its HTML note rows
    # are malformed when the star legend is not appended: notes are added by the repairs.
    table.show_notes = False
    if spec.label:
        table.table_label = spec.label
    return table


def _replace_once(text: str, old: str, new: str) -> str:
    """Replace the single occurrence of ``old``; fail loudly if stargazer's layout changed."""
    if text.count(old) != 1:
        raise ExhibitError(f"unexpected stargazer output: {old!r} occurs {text.count(old)} times")
    return text.replace(old, new)


def _booktabs_latex(latex: str, spec: TableSpec) -> str:
    """Turn stargazer's LaTeX into a booktabs table with notes below the tabular."""
    latex = re.sub(r"\{@\{\\extracolsep\{5pt\}\}(lc*)\}", r"{\1}", latex)
    latex = _replace_once(latex, "\\\\[-1.8ex]\\hline\n\\hline \\\\[-1.8ex]\n", "\\toprule\n")
    latex = _replace_once(latex, "\\hline\n\\hline \\\\[-1.8ex]\n", "\\bottomrule\n")
    if latex.count("\\hline \\\\[-1.8ex]\n") != 2:
        raise ExhibitError("unexpected stargazer output: expected two inner rules")
    latex = latex.replace("\\hline \\\\[-1.8ex]\n", "\\midrule\n")
    latex = latex.replace("\\\\[-1.8ex] ", "").replace("$^{}$", "")
    lines = [line.rstrip() for line in latex.split("\n")]
    groups = spec.header_groups()
    if groups:
        # \cmidrule under each dependent-variable group, right after the group line.
        at = next(i for i, line in enumerate(lines) if line.startswith("& \\multicolumn"))
        first, rules = 2, []
        for _, span in groups:
            rules.append(f"\\cmidrule(lr){{{first}-{first + span - 1}}}")
            first += span
        lines.insert(at + 1, "".join(rules))
    if spec.notes:
        at = lines.index("\\end{tabular}") + 1
        lines[at:at] = [r"\par\smallskip", r"\begin{minipage}{0.95\linewidth}\footnotesize",
                        *[escape_latex(note) + r"\par" for note in spec.notes],
                        r"\end{minipage}"]
    if "\\hline" in "\n".join(lines) or "\\cline" in "\n".join(lines):
        raise ExhibitError("unexpected stargazer output: a \\hline or \\cline is left")
    return "\n".join(lines) + "\n"


def _repair_html(markup: str, spec: TableSpec) -> str:
    """Fix stargazer 0.0.7's unbalanced rows, move the title into <caption>, add the notes."""
    title = html.escape(spec.title)
    markup = _replace_once(markup, f'{title}<br><table style="text-align:center">',
                           f'<table style="text-align:center">\n<caption>{title}</caption>')
    # The header opens a row it never closes before the next one.
    markup = re.sub(r'<tr><td style="text-align:left"></td>\s*<tr>', "<tr>", markup)
    # The footer's first rule lacks its opening <tr>.
    markup = re.sub(r'(?<!<tr>)<td colspan="(\d+)" style="border-bottom',
                    r'<tr><td colspan="\1" style="border-bottom', markup)
    markup = markup.replace("<sup></sup>", "")
    width = len(spec.models) + 1
    notes = "".join(f'<tr><td colspan="{width}" style="text-align: left">{html.escape(n)}'
                    "</td></tr>\n" for n in spec.notes)
    markup = _replace_once(markup, "</table>", f"\n{notes}</table>")
    return markup.rstrip("\n") + "\n"


def _markdown(cells: pd.DataFrame, spec: TableSpec) -> str:
    """A GitHub-flavoured Markdown table printing the cell grid as is (header rows first)."""
    def row(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    models = list(spec.models)
    lines = [row([label, *values]) for label, values in
             zip(cells["label"], cells[models].itertuples(index=False, name=None), strict=True)]
    separator = "|:---|" + "---:|" * len(models)
    body = [lines[0], separator, *lines[1:]]
    notes = []
    for note in spec.notes:  # one paragraph each
        notes += ["", "*Note:* " + note.replace("|", "\\|")]
    return "\n".join([f"**{spec.title}**", "", *body, *notes]) + "\n"


def render_regression_table(estimates: pd.DataFrame, spec: TableSpec) -> RenderedTable:
    """Render the models of ``spec`` from the tidy ``estimates`` as LaTeX, HTML and Markdown.

    Raises :class:`ExhibitError` (naming the model, term or column) when the frame cannot
    provide a requested cell, rather than printing a blank or a "nan".
    """
    results = model_results(estimates, spec)
    cells = _cells_from_results(results, spec)
    latex = _booktabs_latex(_stargazer(results, spec, cells, escape_latex).render_latex(), spec)
    markup = _repair_html(_stargazer(results, spec, cells, html.escape).render_html(), spec)
    return RenderedTable(latex=latex, html=markup, markdown=_markdown(cells, spec), cells=cells)


def write_regression_table(table: RenderedTable, directory: Path, stem: str) -> list[Path]:
    """Write ``stem``.tex/.html/.md in ``directory`` atomically; return the paths."""
    directory = Path(directory)
    return [io.write_text(directory / f"{stem}.tex", table.latex),
            io.write_text(directory / f"{stem}.html", table.html),
            io.write_text(directory / f"{stem}.md", table.markdown)]
