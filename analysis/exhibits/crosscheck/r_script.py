"""The R cross-check script: every model refitted with base R, MASS, sandwich and survey.

The script is the fixed helpers of ``crosscheck_lib.R`` followed by one block per model:
the estimation sample (listwise deletion), the fit, the covariance of the model's SE
type, and its coefficients, AMEs (delta method) and fit statistics. One function per
concern is the extension point for another estimator, SE type, weight kind or design:
:func:`fit_lines` (by fitting function: ``glm``, ``lm``, ``polr``, ``svyglm``, ``svyolr``),
:func:`vcov_lines` (by SE type and weights) and :func:`result_lines`.

Conventions matched (Stata's): robust ML SEs are the sandwich times N/(N-1), clustered ML
SEs G/(G-1); the LPM's robust SEs are HC1, N/(N-k), clustered G/(G-1)(N-1)/(N-k);
probability weights give the weighted (pseudo) likelihood with sandwich SEs; frequency
weights count each record that many times (N = sum of the weights).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from analysis.exhibits.crosscheck import LIBRARY, R_RESULTS
from analysis.exhibits.crosscheck.models import SINGLETON_R, CheckModel, DataSchema

RESULTS_FILE = R_RESULTS
FINGERPRINT_SLOT = "@FINGERPRINT@"
#: glm's IRLS stops on a relative deviance change below epsilon (default 1e-8); 1e-12 puts
#: the coefficients at machine precision (Newton converges quadratically).
GLM_CONTROL = "glm.control(epsilon = 1e-12, maxit = 100)"
LINKS = {"logit": "logit", "probit": "probit", "lpm": "identity", "ologit": "logit",
         "oprobit": "probit"}
POLR_METHODS = {"ologit": "logistic", "oprobit": "probit"}
SE_WORDS = {"nonrobust": "model-based SEs (inverse information; Stata's default)",
            "robust": "robust SEs (Stata vce(robust))",
            "cluster": "clustered SEs (Stata vce(cluster {cluster}))",
            "survey": "survey design SEs (linearisation, Stata svy:)"}
WEIGHT_WORDS = {"": "unweighted", "pweight": "probability weights {weight} (Stata [pw=])",
                "fweight": "frequency weights {weight} (Stata [fw=])"}


def r_string(text: str) -> str:
    """A double-quoted R string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def r_vector(items: Sequence[str]) -> str:
    """``c("a", "b")``, or ``character(0)``."""
    return f"c({', '.join(r_string(i) for i in items)})" if items else "character(0)"


def describe(model: CheckModel) -> str:
    """One line: estimator, SEs, weights, design."""
    parts = [model.estimator, SE_WORDS[model.se].format(cluster=model.cluster),
             WEIGHT_WORDS[model.weight_kind].format(weight=model.weight)]
    if model.design is not None:
        parts[1] = "survey design SEs (linearisation, Stata svy:)"
    return "; ".join(parts)


def formula(model: CheckModel) -> str:
    return f"{model.outcome} ~ {' + '.join(model.regressors)}"


def fit_function(model: CheckModel) -> str:
    """The R function that fits ``model``."""
    if model.design is not None:
        return "svyolr" if model.ordered else "svyglm"
    if model.ordered:
        return "polr"
    return "lm" if model.estimator == "lpm" else "glm"


# ------------------------------------------------------------------------------ blocks


def sample_lines(model: CheckModel) -> list[str]:
    weight = f", weight = {r_string(model.weight)}" if model.weight else ""
    lines = [f"d <- estimation_sample(data, {r_vector(model.variables)}{weight})"]
    if model.ordered:
        lines.append(f'd[["{model.outcome}"]] <- factor(d[["{model.outcome}"]], ordered = TRUE)')
    w = f'd[["{model.weight}"]]' if model.weight else "rep(1, nrow(d))"
    lines.append(f"w <- {w}")
    return lines


def _design_lines(model: CheckModel) -> list[str]:
    design = model.design
    assert design is not None
    ids = f"~{design.psu}" if design.psu else "~1"
    strata = f"~{design.strata}" if design.strata else "NULL"
    fpc = f"~{design.fpc}" if design.fpc else "NULL"
    weights = f"~{model.weight}" if model.weight else "NULL"
    lonely = SINGLETON_R[design.singleton]
    return [f'options(survey.lonely.psu = "{lonely}")  # strata with a single PSU',
            f"des <- survey::svydesign(ids = {ids}, strata = {strata}, fpc = {fpc}, "
            f"weights = {weights}, data = d, nest = TRUE)"]


def fit_lines(model: CheckModel) -> list[str]:
    """``F <- formula; fit <- ...`` for the model's fitting function. A glm (svyglm) is
    iterated to the maximum by ``settle`` (crosscheck_lib.R): its own stopping rule leaves
    a probit's coefficients up to 1e-8 off and the covariance a step behind."""
    kind = fit_function(model)
    # The weight column by name: glm, lm and polr look it up in the data.
    weights = f", weights = {model.weight}" if model.weight else ""
    lines = [f"F <- {formula(model)}"]
    control = (f'polr_control(model_matrix(F, d, intercept = FALSE), '
               f'nlevels(d[["{model.outcome}"]]) - 1)')
    if kind == "glm":
        call = (f'glm(F, family = binomial("{LINKS[model.estimator]}"), data = d{weights}, '
                f"control = {GLM_CONTROL})")
    elif kind == "lm":
        call = f"lm(F, data = d{weights})"
    elif kind == "polr":
        call = (f"MASS::polr(F, data = d{weights}, method = "
                f'"{POLR_METHODS[model.estimator]}", Hess = TRUE, control = {control})')
    elif kind == "svyglm":
        family = ("gaussian()" if model.estimator == "lpm"
                  else f'quasibinomial("{LINKS[model.estimator]}")')
        call = f"survey::svyglm(F, design = des, family = {family}, control = {GLM_CONTROL})"
        lines += _design_lines(model)
    else:  # svyolr
        call = (f'survey::svyolr(F, design = des, method = "{POLR_METHODS[model.estimator]}", '
                f"control = {control})")
        lines += _design_lines(model)
    if model.weight and kind in ("glm", "polr"):
        call = f"allow_noninteger_weights({call})"
    if kind in ("glm", "svyglm"):
        call = f"settle({call})"
    return [*lines, f"fit <- {call}"]


def vcov_lines(model: CheckModel) -> list[str]:
    """``V <- ...``: the covariance of the model's SE type, with Stata's scale factors."""
    kind = fit_function(model)
    if model.design is not None and model.estimator == "probit":
        return ["V <- design_vcov(fit, des, observed_bread(fit))  # svy: probit (observed "
                "information, as Stata; svyglm's vcov uses the expected one)"]
    if model.design is not None:
        return ["V <- vcov(fit)  # linearisation (Taylor series), as Stata's svy:"]
    if model.weight_kind == "fweight":
        return _fweight_vcov(model, kind)
    cluster = f'd[["{model.cluster}"]]' if model.cluster else ""
    if kind == "glm" and model.estimator == "probit":
        return _written_sandwich(model, "observed_bread(fit)", "nrow(d)")
    if model.se == "nonrobust":
        return ["V <- vcov(fit)  # inverse information (OLS: s^2 (X'X)^-1)"]
    if kind == "lm":
        if model.se == "robust":
            return ['V <- sandwich::vcovHC(fit, type = "HC1")  # HC1: N/(N-k), Stata regress']
        return [f'V <- sandwich::vcovCL(fit, cluster = {cluster}, type = "HC1", '
                "cadjust = TRUE)  # G/(G-1) (N-1)/(N-k), Stata regress"]
    if kind == "glm":
        if model.se == "robust":
            return ['V <- sandwich::vcovHC(fit, type = "HC0") * nrow(d) / (nrow(d) - 1)'
                    "  # N/(N-1), Stata vce(robust)"]
        return [f'V <- sandwich::vcovCL(fit, cluster = {cluster}, type = "HC0", '
                "cadjust = TRUE)  # G/(G-1), Stata vce(cluster)"]
    # polr: its n is the sum of the weights (sandwich::vcovHC would rescale by it)
    return _written_sandwich(model, "vcov(fit)", "nrow(d)")


def _written_sandwich(model: CheckModel, bread: str, n: str) -> list[str]:
    """An ML model's covariance written out: ``bread`` (the inverse observed information)
    alone, or around the (clustered) scores with Stata's N/(N-1) or G/(G-1)."""
    if model.se == "nonrobust":
        return [f"V <- {bread}  # inverse observed information (Stata's OIM)"]
    if model.se == "robust":
        return [f"V <- sandwich_vcov({bread}, cluster_meat(sandwich::estfun(fit))) * "
                f"{n} / ({n} - 1)  # N/(N-1), Stata vce(robust)"]
    cluster = f'd[["{model.cluster}"]]'
    return [f"G <- length(unique({cluster}))",
            f"V <- sandwich_vcov({bread}, cluster_meat(sandwich::estfun(fit), {cluster})) "
            "* G / (G - 1)  # Stata vce(cluster)"]


def _fweight_vcov(model: CheckModel, kind: str) -> list[str]:
    """Frequency weights: N = sum of the weights; a sandwich sums f_i s_i s_i'."""
    lines = ["N <- sum(w)"]
    k = "k <- length(coef(fit))"
    bread = {"polr": "vcov(fit)", "glm": "observed_bread(fit)"}.get(
        kind, "summary(fit)$cov.unscaled")
    if model.se == "nonrobust":
        if kind == "lm":
            return [*lines, k, "V <- summary(fit)$cov.unscaled * sum(w * residuals(fit)^2) / "
                    "(N - k)  # s^2 (X'FX)^-1, Stata regress [fw=]"]
        return [*lines, f"V <- {bread}  # inverse information of the repeated records"]
    cluster = f', d[["{model.cluster}"]]' if model.cluster else ""
    meat = f"fweight_meat(sandwich::estfun(fit), w{cluster})"
    if model.se == "robust":
        scale = "N / (N - k)" if kind == "lm" else "N / (N - 1)"
    else:
        lines.append(f'G <- length(unique(d[["{model.cluster}"]]))')
        scale = "G / (G - 1) * (N - 1) / (N - k)" if kind == "lm" else "G / (G - 1)"
    if kind == "lm":
        lines.append(k)
    return [*lines, f"V <- sandwich_vcov({bread}, {meat}) * {scale}"]


def result_lines(model: CheckModel) -> list[str]:
    """``results[[id]] <- ...``: coefficients, AMEs (delta method) and fit statistics."""
    nobs = "sum(w)" if model.weight_kind == "fweight" else "nrow(d)"
    link = f"LINKS${LINKS[model.estimator]}"
    common = [f"link = {link}, w = w,",
              f"binary = {r_vector(model.binary)}, factors = {r_vector(model.factors)},"]
    target = f"results[[{r_string(model.id)}]]"
    if model.ordered:
        llf = "NULL" if model.design is not None else "-fit$deviance / 2"
        return [f"{target} <- ordered_results(",
                f"  {r_string(model.id)}, F, d, coef(fit), fit$zeta, V,",
                *(f"  {c}" for c in common), f"  nobs = {nobs}, llf = {llf})"]
    if model.estimator == "lpm":
        fit_rows = f'c(r2 = weighted_r2(d[["{model.outcome}"]], fitted(fit), w))'
    elif model.design is not None:
        fit_rows = "c()"
    else:
        fit_rows = (f'c(llf = binary_llf(d[["{model.outcome}"]], fit$linear.predictors, '
                    f"{link}, w))")
    return [f"{target} <- index_results(", f"  {r_string(model.id)}, F, d, coef(fit), V,",
            *(f"  {c}" for c in common), f"  nobs = {nobs},", f"  fit_rows = {fit_rows})"]


def model_block(model: CheckModel) -> str:
    lines = [f"## {model.id}: {describe(model)}", *sample_lines(model), *fit_lines(model),
             *vcov_lines(model), *result_lines(model)]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ script


def header(data_path: str, tolerance_note: str) -> str:
    expected = textwrap.fill(f"Expected agreement: {tolerance_note}.", width=88,
                             initial_indent="# ", subsequent_indent="# ")
    return f"""# Cross-check of the replication package's estimates in R.
# Generated by the package's crosscheck step (analysis/tasks/crosscheck.py) from
# output/estimates/models.csv and the model specification: do not edit; rerun
# `uv run run_all.py` instead.
#
# Every model of the run is refitted with base R (glm, lm), MASS::polr, sandwich and
# survey; average marginal effects are computed from the fitted coefficients with
# delta-method SEs (numerical Jacobian). The results go to {RESULTS_FILE} next to this
# script (or to the path given as the first argument), and `uv run run_all.py` then writes
# output/tables/crosscheck_comparison.* and crosscheck_summary.*.
#
# Run from the project folder:   Rscript output/crosscheck/crosscheck.R
# Needs R >= 4.0 with MASS and sandwich (and survey for survey designs).
# Data: {data_path} (relative to this script's folder).
{expected}
"""


def r_script(models: Sequence[CheckModel], schema: DataSchema, data_path: str,
             tolerance_note: str, library: str | None = None) -> str:
    """The whole R script; its fingerprint is ``FINGERPRINT_SLOT`` until the caller fills
    it in (:func:`analysis.exhibits.crosscheck.models.fingerprint`)."""
    library = LIBRARY.read_text(encoding="utf-8") if library is None else library
    packages = ["MASS", "sandwich"] + (["survey"] if any(m.design for m in models) else [])
    labels = ",\n".join(f"  {name} = {r_vector(values)}" for name, values in
                        schema.labels.items())
    setup = [
        "suppressPackageStartupMessages({",
        *[f"  library({p})" for p in packages],
        "})",
        f'FINGERPRINT <- "{FINGERPRINT_SLOT}"',
        "",
        library.rstrip("\n"),
        "",
        "# ---- The data ---------------------------------------------------------------------",
        "",
        "LABELS <- list(" + (f"\n{labels}\n" if labels else "") + ")",
        "here <- script_folder()",
        f"data <- read_analysis_data(file.path(here, {r_string(data_path)}), LABELS)",
        "args <- commandArgs(trailingOnly = TRUE)",
        f'out_path <- if (length(args) >= 1L) args[[1]] else file.path(here, "{RESULTS_FILE}")',
        "results <- list()",
        "",
        "# ---- The models -------------------------------------------------------------------",
        "",
    ]
    blocks = "\n".join(model_block(m) for m in models)
    footer = "write_results(results, out_path, FINGERPRINT)\n"
    return header(data_path, tolerance_note) + "\n" + "\n".join(setup) + "\n" + blocks + \
        "\n" + footer
