"""Design-based (Taylor-linearised) standard errors against R's survey package.

Every estimator (logit, probit, LPM, ordered logit and probit) is fitted with
``se_type="survey"`` on a stratified two-stage sample with sampling weights and a
finite-population correction, and compared with R: ``svydesign(ids=~psu, strata=~stratum,
fpc=~..., weights=~w, nest=TRUE)`` with ``svyglm`` (logit, LPM), and R's own design variance
``svyrecvar`` of the scores times the observed-information bread for probit (Stata's
``svy: probit`` bread; ``svyglm`` uses the expected information) and for the ordered logit
and probit (``svyolr`` uses BFGS with a numerical Hessian, not precise to 1e-6; the ordered
logit is also checked against it to 1e-4). Singleton strata are compared with R's
``survey.lonely.psu`` options. Frequency weights with a design are refused, as Stata's
``svyset`` takes pweights only. Skipped only when Rscript is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import ConfigError, SpecificationError
from analysis.models.estimation import average_marginal_effects, fit_model, wald_test
from analysis.models.estimation.survey import (
    SurveyDesign,
    design_meat,
    survey_arrays,
)
from analysis.models.specification import parse_model_spec, with_weights
from analysis.models.survey_spec import for_survey_design

RSCRIPT = shutil.which("Rscript")
needs_r = pytest.mark.skipif(RSCRIPT is None, reason="Rscript not installed (R's survey "
                             "package is the reference for design-based SEs)")
TOL = 1e-6


def survey_sample(seed: int = 7, singletons: int = 0) -> pd.DataFrame:
    """A stratified sample: 8 strata of 3-7 PSUs, 6-20 firms per PSU, weights, fpc."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(8):
        n_psu = 1 if h < singletons else int(rng.integers(3, 8))
        for i in range(n_psu):
            effect = rng.normal(0, 0.5)
            for _ in range(int(rng.integers(6, 21))):
                rows.append((f"S{h}", i + 1, effect, n_psu * (h + 3)))
    frame = pd.DataFrame(rows, columns=["stratum", "psu", "effect", "fpc_total"])
    n = len(frame)
    frame["x1"] = rng.normal(0, 1, n) + 0.3 * frame["effect"]
    frame["x2"] = (rng.random(n) < 0.4).astype(float)
    frame["w"] = rng.uniform(1.0, 12.0, n) * (1 + frame["stratum"].str[1:].astype(int) / 4)
    index = -0.3 + 0.8 * frame["x1"] - 0.6 * frame["x2"] + frame["effect"]
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-index))).astype(float)
    latent = index + rng.logistic(size=n)
    frame["yo"] = np.digitize(latent, [-0.5, 1.0]).astype(float)
    frame["fpc_rate"] = frame.groupby("stratum")["psu"].transform("nunique") / frame["fpc_total"]
    return frame.drop(columns="effect")


DESIGN = SurveyDesign(strata="stratum", psu="psu", fpc="fpc_total")

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
out <- args[2]
options(survey.lonely.psu = args[3])
fpc <- if (args[4] == "none") NULL else as.formula(paste0("~", args[4]))
ids <- if (args[5] == "firm") ~1 else ~psu
des <- svydesign(ids = ids, strata = ~stratum, fpc = fpc, weights = ~w, data = d,
                 nest = TRUE)
emit <- function(name, b, V) {
  write.csv(data.frame(est = b, V), file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
tight <- glm.control(epsilon = 1e-14, maxit = 100)
logit <- svyglm(y ~ x1 + x2, design = des, family = quasibinomial(), control = tight)
emit("logit", coef(logit), vcov(logit))
lpm <- svyglm(y ~ x1 + x2, design = des)
emit("lpm", coef(lpm), vcov(lpm))
writeLines(as.character(degf(des)), file.path(out, "degf.txt"))
# AMEs of the logit (delta method with the design covariance, Stata's margins default)
X <- model.matrix(~ x1 + x2, d)
ame <- function(b) {
  p <- plogis(X %*% b)
  x1 <- weighted.mean(p * (1 - p), d$w) * b[2]
  X1 <- X; X1[, 3] <- 1; X0 <- X; X0[, 3] <- 0
  x2 <- weighted.mean(plogis(X1 %*% b) - plogis(X0 %*% b), d$w)
  c(x1, x2)
}
b <- coef(logit)
J <- t(sapply(1:2, function(k) sapply(1:3, function(j) {
  h <- 1e-6; e <- replace(rep(0, 3), j, h); (ame(b + e)[k] - ame(b - e)[k]) / (2 * h)
})))
emit("logit_ame", ame(b), J %*% vcov(logit) %*% t(J))
# probit with the observed-information bread (Stata), R's design variance of the scores
probit <- svyglm(y ~ x1 + x2, design = des, family = quasibinomial(link = "probit"),
                 control = tight)
bp <- coef(probit)
q <- 2 * d$y - 1
z <- q * drop(X %*% bp)
mills <- dnorm(z) / pnorm(z)
scores <- X * (d$w * q * mills)
H <- crossprod(X * (d$w * mills * (mills + z)), X)
Vp <- svyrecvar(scores %*% solve(H), des$cluster, des$strata, des$fpc)
emit("probit", bp, Vp)
# ordered logit and probit: analytic scores, Hessian by central differences of the
# analytic gradient, R's design variance; svyolr as the start (and, for the ordered logit,
# a looser cross-check of the estimates)
yc <- as.integer(factor(d$yo))
Z <- model.matrix(~ x1 + x2, d)[, -1]
k <- ncol(Z); m <- max(yc) - 1
ordered_fit <- function(cdf, pdf, th) {
  grad_rows <- function(th) {
    beta <- th[1:k]; cuts <- th[k + 1:m]
    eta <- drop(Z %*% beta)
    ext <- c(-Inf, cuts, Inf)
    a <- ext[yc + 1] - eta; bb <- ext[yc] - eta
    P <- cdf(a) - cdf(bb)
    fa <- pdf(a) / P; fb <- pdf(bb) / P
    G <- matrix(0, nrow(Z), k + m)
    G[, 1:k] <- -Z * (fa - fb)
    for (j in 1:m) G[, k + j] <- fa * (yc == j) - fb * (yc == j + 1)
    G * d$w
  }
  loglik <- function(th) {
    beta <- th[1:k]; cuts <- th[k + 1:m]
    if (any(diff(cuts) <= 0)) return(-1e10)
    eta <- drop(Z %*% beta); ext <- c(-Inf, cuts, Inf)
    sum(d$w * log(cdf(ext[yc + 1] - eta) - cdf(ext[yc] - eta)))
  }
  th <- optim(th, function(t) -loglik(t), function(t) -colSums(grad_rows(t)),
              method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))$par
  hess <- function(th) {
    Hm <- matrix(0, k + m, k + m)
    for (j in 1:(k + m)) {
      h <- 1e-5 * max(1, abs(th[j])); e <- replace(rep(0, k + m), j, h)
      Hm[, j] <- (colSums(grad_rows(th + e)) - colSums(grad_rows(th - e))) / (2 * h)
    }
    (Hm + t(Hm)) / 2
  }
  for (it in 1:5) th <- th - solve(hess(th), colSums(grad_rows(th)))
  list(th = th, V = svyrecvar(grad_rows(th) %*% solve(-hess(th)), des$cluster, des$strata,
                              des$fpc))
}
olr <- svyolr(factor(yo) ~ x1 + x2, design = des)
fit_o <- ordered_fit(plogis, dlogis, c(olr$coefficients, olr$zeta))
emit("ologit", fit_o$th, fit_o$V)
opr <- svyolr(factor(yo) ~ x1 + x2, design = des, method = "probit")
fit_p <- ordered_fit(pnorm, dnorm, c(opr$coefficients, opr$zeta))
emit("oprobit", fit_p$th, fit_p$V)
emit("ologit_svyolr", c(olr$coefficients, olr$zeta), vcov(olr))
"""


def run_r(frame: pd.DataFrame, tmp: Path, lonely: str = "fail", fpc: str = "fpc_total",
          ids: str = "psu") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = tmp / "survey.csv"
    frame.to_csv(data, index=False)
    script = tmp / "check.R"
    script.write_text(R_SCRIPT)
    done = subprocess.run([RSCRIPT, str(script), str(data), str(tmp), lonely, fpc, ids],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = {}
    for name in ("logit", "lpm", "logit_ame", "probit", "ologit", "oprobit", "ologit_svyolr"):
        table = pd.read_csv(tmp / f"{name}.csv")
        out[name] = (table["est"].to_numpy(), table.drop(columns="est").to_numpy())
    out["degf"] = float((tmp / "degf.txt").read_text())
    return out


def ours(frame: pd.DataFrame, design: SurveyDesign, estimator: str):
    outcome = "yo" if estimator in ("ologit", "oprobit") else "y"
    return fit_model(frame, outcome, ["x1", "x2"], estimator=estimator, se_type="survey",
                     survey=design, weights="w")


def r_order(fit) -> tuple[np.ndarray, np.ndarray]:
    """Our estimates and covariance in R's order (constant first for the binary models)."""
    names = list(fit.params.index)
    if "const" in names:
        names = ["const"] + [n for n in names if n != "const"]
    return fit.params[names].to_numpy(), fit.cov.loc[names, names].to_numpy()


def assert_close(ours_pair, r_pair, tol: float = TOL) -> None:
    b, V = ours_pair
    rb, rV = r_pair
    np.testing.assert_allclose(b, rb, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(rV)), rtol=tol)
    np.testing.assert_allclose(V, rV, rtol=tol, atol=tol * np.abs(rV).max())


@needs_r
@pytest.mark.parametrize("fpc", ["fpc_total", "fpc_rate"])
def test_every_estimator_matches_r_survey(tmp_path: Path, fpc: str) -> None:
    frame = survey_sample()
    design = SurveyDesign(strata="stratum", psu="psu", fpc=fpc)
    r = run_r(frame, tmp_path, fpc=fpc)
    for estimator in ("logit", "lpm", "probit", "ologit", "oprobit"):
        fit = ours(frame, design, estimator)
        assert_close(r_order(fit), r[estimator])
        assert fit.df_resid == r["degf"] == fit.survey.n_psus - fit.survey.n_strata
    olr = ours(frame, design, "ologit")
    assert_close((olr.params.to_numpy(), olr.cov.to_numpy()), r["ologit_svyolr"], tol=1e-4)
    fit = ours(frame, design, "logit")
    margins = average_marginal_effects(fit, binary=["x2"])
    assert_close((margins.estimates, margins.cov), r["logit_ame"])
    assert margins.df_resid == r["degf"]


@needs_r
def test_firms_as_psus_without_fpc(tmp_path: Path) -> None:
    frame = survey_sample(seed=11)
    r = run_r(frame, tmp_path, fpc="none", ids="firm")
    design = SurveyDesign(strata="stratum")
    for estimator in ("logit", "lpm"):
        assert_close(r_order(ours(frame, design, estimator)), r[estimator])


@needs_r
@pytest.mark.parametrize(("rule", "r_rule"), [("certainty", "certainty"),
                                              ("scaled", "average"), ("centered", "adjust")])
def test_singleton_strata_match_r_lonely_psu(tmp_path: Path, rule: str, r_rule: str) -> None:
    frame = survey_sample(seed=3, singletons=2)
    r = run_r(frame, tmp_path, lonely=r_rule)
    design = SurveyDesign(strata="stratum", psu="psu", fpc="fpc_total", singleton=rule)
    for estimator in ("logit", "lpm"):
        assert_close(r_order(ours(frame, design, estimator)), r[estimator])


def test_singleton_stratum_fails_by_default_naming_it() -> None:
    frame = survey_sample(seed=3, singletons=1)
    with pytest.raises(SpecificationError, match=r"single PSU.*'S0'.*singleton"):
        ours(frame, DESIGN, "logit")


def test_meat_by_hand_two_strata() -> None:
    """Hand computation: stratum A has PSU totals 1, 3 (f = 0.5); B has 2, 4, 9 (no fpc)."""
    frame = pd.DataFrame({"s": ["A", "A", "B", "B", "B"], "u": [1, 2, 1, 2, 3],
                          "f": [4.0, 4.0, 1e9, 1e9, 1e9]})
    arrays = survey_arrays(frame, np.ones(5, dtype=bool), SurveyDesign("s", "u", "f"), "m")
    totals = np.array([[1.0], [3.0], [2.0], [4.0], [9.0]])
    # A: mean 2, deviations -1, 1; B: mean 5, deviations -3, -1, 4
    expected = (1 - 2 / 4) * 2 / 1 * (1 + 1) + (1 - 3 / 1e9) * 3 / 2 * (9 + 1 + 16)
    assert design_meat(totals, arrays)[0, 0] == pytest.approx(expected, rel=1e-12)
    assert arrays.df == 3


def test_fpc_must_be_constant_within_stratum_and_cover_the_sample() -> None:
    frame = survey_sample()
    varying = frame.assign(fpc_total=frame["fpc_total"] + np.arange(len(frame)) % 2)
    with pytest.raises(SpecificationError, match="constant within a stratum"):
        ours(varying, DESIGN, "logit")
    small = frame.assign(fpc_total=2.0)
    with pytest.raises(SpecificationError, match="fewer than the"):
        ours(small, DESIGN, "logit")


def test_design_wald_uses_adjusted_f_with_design_df() -> None:
    frame = survey_sample()
    fit = ours(frame, DESIGN, "logit")
    test = wald_test(fit, [{"x1": 1}, {"x2": 1}])
    d = fit.survey.df
    b = fit.params[["x1", "x2"]].to_numpy()
    chi2 = b @ np.linalg.solve(fit.cov.loc[["x1", "x2"], ["x1", "x2"]].to_numpy(), b)
    f = chi2 * (d - 2 + 1) / (d * 2)  # Stata's svy adjusted Wald F(2, d - 1)
    assert test.statistic == pytest.approx(f, rel=1e-10)
    assert test.df_denom == d - 1 and test.f_statistic == test.statistic
    assert test.p_value == pytest.approx(stats.f.sf(f, 2, d - 1), rel=1e-10)
    single = wald_test(fit, [{"x1": 1}])
    t = fit.params["x1"] / fit.bse["x1"]
    assert single.statistic == pytest.approx(t * t, rel=1e-10) and single.df_denom == d
    assert single.p_value == pytest.approx(2 * stats.t.sf(abs(t), d), rel=1e-10)
    half = stats.t.ppf(0.975, d) * fit.bse["x1"]
    assert (single.ci_lower, single.ci_upper) == pytest.approx(
        (fit.params["x1"] - half, fit.params["x1"] + half), rel=1e-10)


def test_frequency_weights_with_a_design_are_refused_naming_the_keys(tmp_path: Path) -> None:
    """Stata's svyset takes pweights only: a design with fweights is an error, in the
    estimation layer (naming the weight column) and in the specification (naming the
    family, the weights key and [design])."""
    frame = survey_sample().assign(w=lambda f: f["w"].round())
    with pytest.raises(SpecificationError, match=r"pweights.*fweights.*'w'.*svyset"):
        fit_model(frame, "y", ["x1", "x2"], estimator="logit", se_type="survey",
                  survey=DESIGN, weights="w", weight_type="fweight")
    raw = {"blocks": {"main": {"variables": ["x1", "x2"]}},
           "families": {"fam": {"outcomes": ["y"], "main": ["main"], "weights": "fweight"}}}
    spec = parse_model_spec(raw, tmp_path / "models.toml")
    design = {"strata": "stratum", "psu": "psu", "source": "strata: stratum; psu: psu"}
    with pytest.raises(ConfigError, match=r'models.toml.*"fweight".*\[families.fam\] weights'
                       r".*\[design\].*svyset takes pweights only"):
        for_survey_design(spec, design, survey_weighted=True)
    pweighted = for_survey_design(with_weights(spec, "pweight"), design, survey_weighted=True)
    assert pweighted.survey == SurveyDesign(strata="stratum", psu="psu")
    assert pweighted.families["fam"].weights == "pweight"


def test_perfect_prediction_under_a_design_keeps_the_design_of_the_firms_left() -> None:
    """A 0/1 regressor that predicts failure perfectly is dropped with its firms (Stata's
    rule); the design-based fit equals the fit on the remaining firms without it."""
    frame = survey_sample(seed=5)
    frame["rare"] = 0.0
    rows = frame.index[frame["y"] == 0][:6]
    frame.loc[rows, "rare"] = 1.0
    fit = fit_model(frame, "y", ["x1", "x2", "rare"], estimator="logit", se_type="survey",
                    survey=DESIGN, weights="w")
    assert [d.term for d in fit.perfect_prediction] == ["rare"]
    rest = fit_model(frame.drop(index=rows), "y", ["x1", "x2"], estimator="logit",
                     se_type="survey", survey=DESIGN, weights="w")
    np.testing.assert_allclose(fit.params.to_numpy(), rest.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(fit.cov.to_numpy(), rest.cov.to_numpy(), rtol=1e-8)
    assert fit.df_resid == rest.df_resid == rest.survey.df
