"""Coverage study: do the package's 95% intervals cover the truth 95% of the time?

A Monte Carlo on the synthetic twin's own generator (analysis/data/twin), where the truth
is known: N firms are drawn once (their true answers, so no item is missing) and, in each
replication, product innovation is drawn again from its true model, the logit
P(y = 1) = logistic(x'b - cut_1) of ``analysis.data.twin.truth.PRODUCT`` (true
international / local breadth coefficient 0.24 / 0.06: ratio exactly 4). Every replication
fits the correctly specified logit with robust (Stata vce(robust)) standard errors and
asks whether each interval contains the truth:

* coefficients (normal intervals);
* average marginal effects, continuous (dF/dx) and discrete (0 -> 1, a lone dummy and a
  dummy of the sector factor), delta-method intervals; the true AME is the average of the
  true effects over the fixed firms (the estimand of the delta method);
* the ratio international / local, of the coefficients and of the AMEs, by the delta method
  (Stata nlcom) and by Fieller's confidence set.

All replications are fitted together by the batched engine (estimation.batched:
one Newton for the block, Hessians and sandwich meats as one GEMM each). Replication r
draws from ``SeedSequence(seed, spawn_key=(COVERAGE_STREAM, r))``, so a study with fewer
replications is a prefix of a larger one. A replication in trouble (separation, no
convergence) is left out and counted. The Monte Carlo SE of a coverage p is
sqrt(p (1 - p) / R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis import config
from analysis.data.twin.generator import draw_firms, spawn_streams
from analysis.data.twin.truth import (
    DEFAULT,
    REGRESSORS,
    SECTOR_DUMMIES,
    TwinParams,
    build_regressors,
)
from analysis.models.estimation import batched
from analysis.models.estimation.inference import BOUNDED, fieller_contains, fieller_set
from analysis.models.estimation.margins import _link_functions, discrete_change

#: spawn_key of the outcome draws (a number no other stream of the project uses).
COVERAGE_STREAM = 16_000
#: Replications fitted together: memory ~ 10 arrays of N x BLOCK doubles.
BLOCK = 250
COEF_TERMS = ("breadth_local", "breadth_national", "breadth_international", "log_employees",
              "foreign_owned", "open_mindedness")
CONTINUOUS_AMES = ("breadth_local", "breadth_national", "breadth_international")
DISCRETE_AMES = ("foreign_owned", "sector_manufacturing")
NUMERATOR, DENOMINATOR = "breadth_international", "breadth_local"
COLUMNS = ["Quantity", "Term", "Truth", "Coverage", "MC SE", "Median", "Missed low",
           "Unbounded"]
#: The ratio's row label (the Term column stays narrow enough for a portrait page).
RATIO_TERM = "international / local"


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """The coverage table and what it was computed from."""

    frame: pd.DataFrame
    n: int
    replications: int
    failed: int
    seed: int
    level: float
    #: share of replications whose local-breadth coefficient has |z| < the critical value
    local_insignificant: float

    @property
    def used(self) -> int:
        return self.replications - self.failed


def fixed_design(n: int, seed: int, params: TwinParams = DEFAULT) -> tuple[np.ndarray,
                                                                          tuple[str, ...]]:
    """The regressors of n firms of the twin (true answers) with a constant, and their names."""
    firms = draw_firms(n, spawn_streams(seed), params)
    X = build_regressors(firms, params.frame)[list(REGRESSORS)].to_numpy(dtype=np.float64)
    return np.column_stack([X, np.ones(n)]), (*REGRESSORS, "const")


def _outcomes(p: np.ndarray, seed: int, replications: range) -> np.ndarray:
    """n x R outcomes, replication r from its own generator."""
    return np.column_stack([
        np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(COVERAGE_STREAM, r)))
        .random(p.size) < p for r in replications]).astype(np.float64)


def _ames(X, B, terms):
    """AMEs (m x R) and their Jacobians (R x m x k) at coefficients B (k x R)."""
    n = X.shape[0]
    cdf_pdf, dpdf = _link_functions("logit")
    q = X @ B
    observed = cdf_pdf(q)
    mean_f = observed[1].mean(axis=0)
    fx = X.T @ dpdf(q, *observed) / n
    index = {t: j for j, t in enumerate(terms)}
    values, jacobians = [], []
    for t in CONTINUOUS_AMES:
        j = index[t]
        jac = B[j] * fx
        jac[j] += mean_f
        values.append(mean_f * B[j])
        jacobians.append(jac.T)
    bases: dict = {}
    for t in DISCRETE_AMES:
        j = index[t]
        siblings = ([index[s] for s in SECTOR_DUMMIES if s != t] if t in SECTOR_DUMMIES
                    else [])
        d_big, d_f, f1 = discrete_change(cdf_pdf, X, q, B, j, siblings, observed, bases)
        jac = X.T @ d_f / n
        jac[j] = f1.mean(axis=0)
        jac[siblings] = 0.0
        values.append(d_big.mean(axis=0))
        jacobians.append(jac.T)
    return np.array(values), np.stack(jacobians, axis=1)


def _robust_cov(X, Y, B):
    """R x k x k robust (HC0 x N/(N-1)) covariances of the logits."""
    n = X.shape[0]
    p = special.expit(X @ B)
    bread = np.linalg.inv(batched.row_grams(X, p * (1.0 - p)))
    meat = batched.row_grams(X, (Y - p) ** 2)
    return bread @ meat @ bread * (n / (n - 1.0))


def _block(X, Y, truth, terms, crit):
    """Per-replication results of one block: estimates, SEs, coverage flags."""
    B, trouble = batched.fit_outcomes("logit", X, Y, truth, max_iter=100)
    ok = ~trouble
    B, Y = B[:, ok], Y[:, ok]
    cov = _robust_cov(X, Y, B)
    se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2)).T  # k x R
    ames, jac = _ames(X, B, terms)
    ame_cov = jac @ cov @ np.transpose(jac, (0, 2, 1))  # R x m x m
    return {"B": B, "se": se, "cov": cov, "ames": ames, "ame_cov": ame_cov,
            "failed": int(trouble.sum())}


def _interval_row(quantity, term, truth, estimate, se, crit) -> dict:
    lower, upper = estimate - crit * se, estimate + crit * se
    covered = (lower <= truth) & (truth <= upper)
    return _row(quantity, term, truth, covered, estimate, missed_low=np.mean(upper < truth))


def _row(quantity, term, truth, covered, estimate, missed_low=np.nan, unbounded=np.nan):
    p = float(np.mean(covered))
    return {"Quantity": quantity, "Term": term, "Truth": float(truth), "Coverage": p,
            "MC SE": float(np.sqrt(p * (1.0 - p) / covered.size)),
            "Median": float(np.median(estimate)), "Missed low": float(missed_low),
            "Unbounded": float(unbounded)}


def _ratio_rows(what, a, b, vaa, vab, vbb, truth, crit) -> list[dict]:
    value = a / b
    delta_se = np.sqrt(vaa / b**2 - 2.0 * a * vab / b**3 + a**2 * vbb / b**4)
    kind, _, _ = fieller_set(a, b, vaa, vab, vbb, crit)
    return [_interval_row(f"Ratio ({what}), delta", RATIO_TERM, truth, value, delta_se, crit),
            _row(f"Ratio ({what}), Fieller", RATIO_TERM, truth,
                 fieller_contains(truth, a, b, vaa, vab, vbb, crit), value,
                 unbounded=np.mean(kind != BOUNDED))]


def coverage_study(n: int = 1604, replications: int = 1000, seed: int = config.SEED,
                   level: float = 0.95, params: TwinParams = DEFAULT) -> CoverageResult:
    """Run the Monte Carlo (see the module docstring); one row per quantity."""
    X, terms = fixed_design(n, seed, params)
    model = params.product
    truth = np.append(model.beta(), model.intercepts()[0])
    p = special.expit(X @ truth)
    crit = float(stats.norm.ppf(0.5 + level / 2.0))
    parts = [_block(X, _outcomes(p, seed, range(start, min(start + BLOCK, replications))),
                    truth, terms, crit) for start in range(0, replications, BLOCK)]
    B = np.hstack([part["B"] for part in parts])
    se = np.hstack([part["se"] for part in parts])
    cov = np.concatenate([part["cov"] for part in parts])
    ames = np.hstack([part["ames"] for part in parts])
    ame_cov = np.concatenate([part["ame_cov"] for part in parts])
    true_ames, _ = _ames(X, truth[:, None], terms)
    index = {t: j for j, t in enumerate(terms)}
    rows = [_interval_row("Coefficient", t, truth[index[t]], B[index[t]], se[index[t]], crit)
            for t in COEF_TERMS]
    ame_terms = (*CONTINUOUS_AMES, *DISCRETE_AMES)
    for m, t in enumerate(ame_terms):
        kind = "AME, continuous" if t in CONTINUOUS_AMES else "AME, discrete"
        rows.append(_interval_row(kind, t, true_ames[m, 0], ames[m],
                                  np.sqrt(ame_cov[:, m, m]), crit))
    i, j = index[NUMERATOR], index[DENOMINATOR]
    rows += _ratio_rows("coef.", B[i], B[j], cov[:, i, i], cov[:, i, j], cov[:, j, j],
                        truth[i] / truth[j], crit)
    a, b = ame_terms.index(NUMERATOR), ame_terms.index(DENOMINATOR)
    rows += _ratio_rows("AME", ames[a], ames[b], ame_cov[:, a, a], ame_cov[:, a, b],
                        ame_cov[:, b, b], true_ames[a, 0] / true_ames[b, 0], crit)
    return CoverageResult(
        frame=pd.DataFrame(rows, columns=COLUMNS), n=n, replications=replications,
        failed=sum(part["failed"] for part in parts), seed=seed, level=level,
        local_insignificant=float(np.mean(np.abs(B[j] / se[j]) < crit)))


def coverage_notes(result: CoverageResult) -> list[str]:
    """What the table shows, in words and numbers (for the exhibit)."""
    frame = result.frame.set_index("Quantity")
    delta = frame.loc["Ratio (coef.), delta"]
    fieller = frame.loc["Ratio (coef.), Fieller"]
    mc_se = np.sqrt(result.level * (1 - result.level) / max(result.used, 1))
    pct = f"{result.level:.0%}"
    notes = [
        f"Monte Carlo on the synthetic twin's generator: {result.n:,} firms drawn once "
        f"(seed {result.seed}); in each of {result.replications:,} replications product "
        "innovation is drawn again from its true logit (docs/study.md section 6; true "
        "international / local breadth ratio 4) and the correctly specified logit is "
        f"fitted with robust SEs (Stata vce(robust)); {pct} normal intervals.",
        f"Coverage: share of the {result.used:,} replications whose interval contains the "
        f"truth; MC SE = sqrt(p(1-p)/R), {mc_se:.1%} at p = {pct}. Missed low: share whose "
        "interval lies entirely below the truth. Unbounded: share of Fieller sets that are "
        "two rays or the whole line. Ratio: breadth_international / breadth_local, of the "
        "coefficients (coef.) or of the AMEs (AME); delta: the delta-method interval.",
        f"The delta-method interval of the ratio (Stata nlcom) covers {delta['Coverage']:.1%}"
        f" of the time, not {pct}, and misses low in {delta['Missed low']:.1%}: the local "
        f"effect is not distinguishable from zero (|z| < 1.96) in "
        f"{result.local_insignificant:.0%} of samples, where the ratio's sampling "
        "distribution is far from normal. The Fieller set covers "
        f"{fieller['Coverage']:.1%}; it is unbounded in {fieller['Unbounded']:.0%} of "
        "samples, the honest answer when the denominator may be zero. The claims report "
        "therefore reads claim 4 from the Fieller set.",
        "True AMEs: averages of the true effects over the fixed firms (the estimand of the "
        "delta method); discrete changes set the dummy from 0 to 1 (sector_manufacturing: "
        "against the base sector, its sibling dummies 0).",
    ]
    if result.failed:
        notes.append(f"{result.failed} replication(s) could not be estimated (separation or "
                     "no convergence) and are left out.")
    return notes
