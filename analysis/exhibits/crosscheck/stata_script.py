"""The Stata cross-check do-file: every model in Stata syntax, its numbers to a CSV.

Each model is one block: the command (``logit``, ``probit``, ``regress``, ``ologit``,
``oprobit``, with an ``svy:`` prefix under a survey design), its weights (``[pw=]``,
``[fw=]``), its SE type (``vce(robust)``, ``vce(cluster c)``), then ``post`` lines that
write every coefficient, cut point and fit statistic under the package's names, then
``margins, dydx(*) post`` (ordered models: on the top outcome) and its ``post`` lines.
The posted numbers go to ``crosscheck_stata.csv`` (no esttab needed). 0/1 regressors and
categorical variables enter as ``i.var``, so that margins computes discrete changes, as
the package does; a categorical variable is stored as codes 1..K, so its base is the
first category.

Extension points: :data:`COMMANDS` (estimator -> command), :func:`weight_clause`,
:func:`vce_option`, :func:`survey_lines`, :func:`margins_line`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from analysis.exhibits.crosscheck import STATA_RESULTS
from analysis.exhibits.crosscheck.models import CheckModel, DataSchema

RESULTS_FILE = STATA_RESULTS
FINGERPRINT_SLOT = "@FINGERPRINT@"
COMMANDS = {"logit": "logit", "probit": "probit", "lpm": "regress", "ologit": "ologit",
            "oprobit": "oprobit"}
WEIGHT_TOKENS = {"pweight": "pw", "fweight": "fw"}
#: Fit statistics posted per estimator (package name, Stata e() scalar).
FIT_SCALARS = {"lpm": (("nobs", "e(N)"), ("r2", "e(r2)"))}
ML_FIT = (("nobs", "e(N)"), ("llf", "e(ll)"))


def stata_string(text: str) -> str:
    """A Stata compound-quoted string (may hold double quotes)."""
    return f'`"{text}"\''


def regressor_token(model: CheckModel, variable: str) -> str:
    """How a regressor enters the command: ``i.var`` for categorical and 0/1 variables."""
    return f"i.{variable}" if variable in model.factors or variable in model.binary \
        else variable


def coefficient_name(model: CheckModel, term: str, schema: DataSchema) -> str:
    """Stata's name of one of our terms: ``x``, ``1.x`` (0/1), ``3.sector``, ``_cons``."""
    kind = model.kind_of(term)
    if kind == "const":
        return "_cons"
    if kind == "binary":
        return f"1.{term}"
    if kind == "factor":
        variable, level = term[:-1].split("[", 1)
        return f"{schema.labels[variable].index(level) + 1}.{variable}"
    return term


def weight_clause(model: CheckModel) -> str:
    """``[pw=weight]``, ``[fw=weight]``, or nothing (under svy the design holds them)."""
    if not model.weight or model.design is not None:
        return ""
    return f" [{WEIGHT_TOKENS[model.weight_kind]}={model.weight}]"


def vce_option(model: CheckModel) -> str:
    """``, vce(robust)`` / ``, vce(cluster c)`` / nothing (OIM; OLS for regress; svy)."""
    if model.design is not None or model.se == "nonrobust":
        return ""
    return ", vce(robust)" if model.se == "robust" else f", vce(cluster {model.cluster})"


def survey_lines(model: CheckModel) -> list[str]:
    """``svyset`` for a model with a survey design (strata, PSU, FPC, weights)."""
    design = model.design
    if design is None:
        return []
    psu = design.psu or "_n"
    options = [f"strata({design.strata})"] if design.strata else []
    options += [f"fpc({design.fpc})"] if design.fpc else []
    options += [f"singleunit({design.singleton})"] if design.singleton != "fail" else []
    weight = f" [pw={model.weight}]" if model.weight else ""
    return [f"svyset {psu}{weight}" + (f", {' '.join(options)}" if options else "")]


def command_line(model: CheckModel) -> str:
    """The estimation command, e.g. ``logit y x i.d i.sector [pw=weight], vce(robust)``."""
    prefix = "svy: " if model.design is not None else ""
    regressors = " ".join(regressor_token(model, v) for v in model.regressors)
    return (f"{prefix}{COMMANDS[model.estimator]} {model.outcome} {regressors}"
            f"{weight_clause(model)}{vce_option(model)}")


def margins_line(model: CheckModel) -> str:
    """``margins, dydx(*) post``; ordered models on the top outcome (``outcome(#K)``)."""
    if model.ordered:
        return f"margins, dydx(*) predict(outcome(#{len(model.cuts) + 1})) post"
    return "margins, dydx(*) post"


def _post(model: CheckModel, quantity: str, term: str, estimate: str, se: str = ".") -> str:
    return (f"post `out' ({stata_string(model.id)}) (\"{quantity}\") ({stata_string(term)}) "
            f"({estimate}) ({se})")


def post_lines(model: CheckModel, schema: DataSchema) -> list[str]:
    """Coefficients, cut points and fit statistics of the fitted model."""
    lines = [_post(model, "fit", name, scalar)
             for name, scalar in FIT_SCALARS.get(model.estimator, ML_FIT)
             if not (name == "llf" and model.design is not None)]
    for term in model.terms:
        name = coefficient_name(model, term, schema)
        lines.append(_post(model, "coef", term, f"_b[{name}]", f"_se[{name}]"))
    for j, cut in enumerate(model.cuts, start=1):
        lines.append(_post(model, "cut", cut, f"_b[/cut{j}]", f"_se[/cut{j}]"))
    return lines


def ame_lines(model: CheckModel, schema: DataSchema) -> list[str]:
    """The AMEs of ``margins, dydx(*) post`` (every term but the constant)."""
    out = []
    for term in model.terms:
        if term == "const":
            continue
        name = coefficient_name(model, term, schema)
        out.append(_post(model, "ame", term, f"_b[{name}]", f"_se[{name}]"))
    return out


def describe(model: CheckModel) -> str:
    se = {"nonrobust": "OIM SEs", "robust": "robust SEs",
          "cluster": f"SEs clustered by {model.cluster}",
          "survey": "survey design (linearised) SEs"}[model.se]
    weights = {"": "unweighted", "pweight": f"pweights {model.weight}",
               "fweight": f"fweights {model.weight}"}[model.weight_kind]
    if model.design is not None:
        se = "survey design (linearised) SEs"
    return f"{model.estimator}, {se}, {weights}"


def model_block(model: CheckModel, schema: DataSchema) -> str:
    lines = [f"* ---- {model.id}: {describe(model)}", *survey_lines(model),
             command_line(model), *post_lines(model, schema), margins_line(model),
             *ame_lines(model, schema)]
    return "\n".join(lines) + "\n"


def label_lines(schema: DataSchema) -> list[str]:
    lines = []
    for name, labels in schema.labels.items():
        pairs = " ".join(f"{code} {stata_string(label)}" for code, label in
                         enumerate(labels, start=1))
        lines += [f"label define {name} {pairs}, replace", f"label values {name} {name}"]
    return lines


def stata_script(models: Sequence[CheckModel], schema: DataSchema, data_path: str,
                 tolerance_note: str) -> str:
    """The whole do-file; its fingerprint is ``FINGERPRINT_SLOT`` until the caller fills it in."""
    expected = textwrap.fill(f"Expected agreement, as R's (the package has no Stata and "
                             f"has not run this do-file): {tolerance_note}.", width=88,
                             initial_indent="* ", subsequent_indent="* ")
    head = f"""* Cross-check of the replication package's estimates in Stata (15 or later).
* Generated by the package's crosscheck step (analysis/tasks/crosscheck.py) from
* output/estimates/models.csv and the model specification: do not edit; rerun
* `uv run run_all.py` instead.
*
* Every model of the run refitted with Stata's own commands; coefficients, cut points,
* fit statistics and the AMEs of margins, dydx(*) are written to {RESULTS_FILE} in this
* folder, and `uv run run_all.py` then adds them to output/tables/crosscheck_comparison.*.
*
* Run in Stata from this folder:   cd output/crosscheck
*                                  do crosscheck.do
* Data: {data_path} (relative to this folder).
{expected}

version 15
clear all
set more off
local fingerprint "{FINGERPRINT_SLOT}"
import delimited using "{data_path}", clear asdouble varnames(1) case(preserve) ///
    delimiters(",") encoding("utf-8")
"""
    setup = [*label_lines(schema), "",
             "tempname out",
             "postfile `out' str244 model str16 quantity str244 term double estimate "
             "double std_error using \"crosscheck_stata_results.dta\", replace", ""]
    blocks = "\n".join(model_block(m, schema) for m in models)
    tail = f"""
postclose `out'
use "crosscheck_stata_results.dta", clear
generate str16 fingerprint = "`fingerprint'"
format estimate std_error %21.0g  // every digit of a double
export delimited model quantity term estimate std_error fingerprint using ///
    "{RESULTS_FILE}", datafmt replace
erase "crosscheck_stata_results.dta"
display as text "crosscheck: results in {RESULTS_FILE}"
"""
    return head + "\n".join(setup) + "\n" + blocks + tail
