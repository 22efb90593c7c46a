"""Average marginal effects and average adjusted predictions with delta-method SEs.

Logit / probit: closed-form Jacobians, memory linear in N. With index q = x'b, F the cdf,
f = F' and f' = f':

* continuous regressor j: AME_j = mean(f(q)) b_j, with
  d AME_j / d b = mean(f(q)) e_j + b_j mean(f'(q) x)  (one pass X' f'(q) / N);
* 0/1 regressor j (Stata factor variable): AME_j = mean(F(q1) - F(q0)) where q1 / q0 set
  x_j to 1 / 0 (and, for a dummy in a factor group, its sibling dummies to 0, i.e. the
  base category), with gradient mean(f(q1) x1 - f(q0) x0).

This reproduces statsmodels `get_margeff(at="overall")` (dummy=True for the discrete ones)
and Stata `margins, dydx(*)`. LPM: the AMEs are the coefficients. Ordered logit / probit:
effects on P(y = category) (default: the top category; ordered_ames_by_category gives every
category, Stata `margins, dydx(*) predict(outcome(#))`), Jacobian by central differences of
the sample-mean function (2 x n_params passes of O(Nk), never N x k x k).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import SpecificationError
from analysis.models.estimation.design import CONSTANT, Design
from analysis.models.estimation.ordered import ORDERED_LINKS, category_probability, pdf
from analysis.models.estimation.result import FitResult, inference

PREDICTION_COLUMNS = ["model", "outcome", "variable", "value", "prediction", "std_error",
                      "ci_lower", "ci_upper"]
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True, eq=False)
class Margins:
    """AMEs of one fit: estimates, their covariance (J V J') and the Jacobian J."""

    model_id: str
    estimator: str
    outcome: str
    terms: tuple[str, ...]
    estimates: np.ndarray
    cov: np.ndarray
    jacobian: np.ndarray
    discrete: tuple[bool, ...]
    category: float | None
    nobs: int
    df_resid: float | None
    #: design degrees of freedom of a design-based fit (Wald tests use the adjusted F)
    design_df: float | None = None

    @property
    def params(self) -> pd.Series:
        return pd.Series(self.estimates, index=list(self.terms))

    @property
    def cov_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.cov, index=list(self.terms), columns=list(self.terms))

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def frame(self) -> pd.DataFrame:
        """term, estimate, std_error, statistic, p_value, ci_lower, ci_upper, discrete."""
        se = self.std_errors
        stat, p, lo, hi = inference(self.estimates, se, self.df_resid)
        return pd.DataFrame({
            "term": list(self.terms), "estimate": self.estimates, "std_error": se,
            "statistic": stat, "p_value": p, "ci_lower": lo, "ci_upper": hi,
            "discrete": list(self.discrete)})


def _link_functions(estimator: str):
    """(F and f together, f' from q, F and f) of the index for logit / probit: one cdf
    evaluation gives all three."""
    if estimator == "logit":
        def cdf_pdf(q):
            p = special.expit(q)
            return p, p * (1.0 - p)

        def dpdf(q, big, f):
            return f * (1.0 - 2.0 * big)
        return cdf_pdf, dpdf

    def ncdf_pdf(q):
        return special.ndtr(q), np.exp(-0.5 * q * q) * _INV_SQRT_2PI

    def ndpdf(q, big, f):
        return -q * f
    return ncdf_pdf, ndpdf


def discrete_change(cdf_pdf, X: np.ndarray, q: np.ndarray, beta: np.ndarray, j: int,
                    siblings: Sequence[int], observed: tuple[np.ndarray, np.ndarray],
                    bases: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F(q1) - F(q0), f(q1) - f(q0) and f(q1), where q1 / q0 are the index `q` with x_j set
    to 1 / 0 and its factor siblings to 0 (q may be n x R with beta k x R: one column per
    replication). `observed`: F(q), f(q); `bases`: a cache for the base-category index of
    each factor group, shared by its members.

    A lone dummy needs one cdf evaluation, not two: each row's observed index is one of
    its two counterfactuals. A factor group's base-category index is the same for all of
    its members, so it is evaluated once per group.
    """
    x = X[:, j] if q.ndim == 1 else X[:, j:j + 1]
    if not siblings:
        sign = 2.0 * x - 1.0  # +1 where x_j = 1 (q = q1), -1 where x_j = 0 (q = q0)
        big_c, f_c = cdf_pdf(q - sign * beta[j])  # the other counterfactual
        big, f = observed
        return sign * (big - big_c), sign * (f - f_c), np.where(x == 1.0, f, f_c)
    group = tuple(sorted((j, *siblings)))
    if group not in bases:
        q0 = q.copy()
        for m in group:
            q0 -= (X[:, m] if q.ndim == 1 else X[:, m:m + 1]) * beta[m]
        bases[group] = (q0, *cdf_pdf(q0))
    q0, big0, f0 = bases[group]
    big1, f1 = cdf_pdf(q0 + beta[j])
    return big1 - big0, f1 - f0, f1


def _siblings(term: str, factor_groups: Iterable[Sequence[str]]) -> list[str]:
    for group in factor_groups:
        if term in group:
            return [t for t in group if t != term]
    return []


def _resolve_terms(fit: FitResult, terms, binary, factor_groups):
    terms = [t for t in fit.terms if t != CONSTANT] if terms is None else list(terms)
    unknown = [t for t in terms if t not in fit.terms or t == CONSTANT]
    if unknown:
        raise SpecificationError(fit.model_id, f"no marginal effect for terms {unknown}",
                                 unknown)
    flagged = set(binary) | {t for g in factor_groups for t in g}
    not_in_model = sorted(t for t in flagged if t not in fit.terms)
    if not_in_model:
        raise SpecificationError(
            fit.model_id, f"binary/factor terms not in the model: {not_in_model}", not_in_model)
    for t in flagged:
        if not fit.design.is_binary[fit.terms.index(t)]:
            raise SpecificationError(
                fit.model_id, f"term {t!r} is flagged binary but takes values other than 0/1",
                [t])
    return terms, flagged


def average_marginal_effects(
    fit: FitResult,
    *,
    binary: Iterable[str] = (),
    factor_groups: Iterable[Sequence[str]] = (),
    terms: Sequence[str] | None = None,
    category: float | None = None,
) -> Margins:
    """AMEs with delta-method covariance (uses fit.cov, so robust/cluster SEs carry over).

    binary: 0/1 regressors whose AME is the discrete change 0 -> 1 (else dF/dx).
    factor_groups: lists of dummies of one categorical variable (base omitted); each member
    is treated as binary and its counterfactuals zero the siblings (Stata `i.var`).
    terms: which regressors (default: all but the constant), in model order.
    category: ordered models only, the outcome value whose probability is differentiated
    (default: the highest category).
    """
    factor_groups = [list(g) for g in factor_groups]
    terms, flagged = _resolve_terms(fit, terms, binary, factor_groups)
    if fit.estimator in ORDERED_LINKS:
        return _ordered_ames(fit, terms, flagged, factor_groups, category)
    if category is not None:
        raise SpecificationError(fit.model_id, "category= applies to ordered models only")
    estimates, jac = _index_ames(fit.estimator, fit.design, fit.beta, fit.terms, terms,
                                 flagged, factor_groups)
    return _margins(fit, terms, estimates, jac, flagged, None)


def ame_estimates(fit: FitResult, design: Design, beta: np.ndarray, terms: Sequence[str], *,
                  binary: Iterable[str] = (), factor_groups: Iterable[Sequence[str]] = ()
                  ) -> np.ndarray:
    """Point AMEs of `fit`'s model at coefficients `beta` on `design` (e.g. a bootstrap
    resample from fit.refit_coefficients); same definitions as average_marginal_effects,
    logit / probit / LPM only, no covariance."""
    factor_groups = [list(g) for g in factor_groups]
    terms, flagged = _resolve_terms(fit, terms, binary, factor_groups)
    if fit.estimator in ORDERED_LINKS:
        raise SpecificationError(fit.model_id, "ame_estimates: ordered models not supported")
    return _index_ames(fit.estimator, design, beta, fit.terms, terms, flagged,
                       factor_groups)[0]


def _index_ames(estimator: str, design: Design, beta: np.ndarray, model_terms, terms,
                flagged, factor_groups) -> tuple[np.ndarray, np.ndarray]:
    """AMEs of logit / probit / LPM and their Jacobian with respect to beta.

    Averages over observations are weighted by the design's sampling weights, if any
    (Stata `margins` after a [pw=] fit).
    """
    idx = {t: j for j, t in enumerate(model_terms)}
    rows, jac = [], np.zeros((len(terms), beta.size))
    if estimator == "lpm":
        for i, t in enumerate(terms):
            rows.append(beta[idx[t]])
            jac[i, idx[t]] = 1.0
        return np.array(rows, dtype=float), jac
    X = design.X
    cdf_pdf, dpdf = _link_functions(estimator)
    q = X @ beta
    observed = cdf_pdf(q)
    mean_f = design.mean(observed[1])
    fx = design.column_means(dpdf(q, *observed))
    discrete: list[tuple[int, int, list[int], float]] = []
    bases: dict = {}
    n_discrete = sum(t in flagged for t in terms)
    # f(q1) - f(q0) of each discrete change, one column each (Fortran order: filled in place)
    changes = np.empty((X.shape[0], n_discrete), order="F")
    for i, t in enumerate(terms):
        j = idx[t]
        if t not in flagged:
            rows.append(mean_f * beta[j])
            jac[i] = beta[j] * fx
            jac[i, j] += mean_f
            continue
        sib = [idx[s] for s in _siblings(t, factor_groups)]
        d_big, changes[:, len(discrete)], f1 = discrete_change(cdf_pdf, X, q, beta, j, sib,
                                                                observed, bases)
        rows.append(design.mean(d_big))
        discrete.append((i, j, sib, design.mean(f1)))
    if discrete:
        # One pass over X for every discrete change's gradient, not one per term.
        gradients = design.column_means(changes)
        for (i, j, sib, mean_f1), gradient in zip(discrete, gradients.T, strict=True):
            jac[i] = gradient
            jac[i, j] = mean_f1  # x1_j = 1, x0_j = 0
            jac[i, sib] = 0.0  # siblings are 0 in both counterfactuals
    return np.array(rows, dtype=float), jac


def _margins(fit, terms, estimates, jac, flagged, category) -> Margins:
    cov = jac @ fit.cov.to_numpy() @ jac.T
    return Margins(
        model_id=fit.model_id, estimator=fit.estimator, outcome=fit.outcome,
        terms=tuple(terms), estimates=np.asarray(estimates, dtype=float),
        cov=(cov + cov.T) / 2.0, jacobian=jac, discrete=tuple(t in flagged for t in terms),
        category=category, nobs=fit.nobs, df_resid=fit.df_resid,
        design_df=None if fit.survey is None else float(fit.survey.df))


def _category_index(fit: FitResult, category: float | None) -> int:
    if category is None:
        return len(fit.categories) - 1
    if float(category) not in fit.categories:
        raise SpecificationError(
            fit.model_id, f"category {category!r} not among outcome values {fit.categories}")
    return fit.categories.index(float(category))


def _numeric_jacobian(func, theta: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of a vector function of the parameters."""
    base = func(theta)
    jac = np.zeros((np.size(base), theta.size))
    for p in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[p]))
        up, down = theta.copy(), theta.copy()
        up[p] += h
        down[p] -= h
        jac[:, p] = (func(up) - func(down)) / (2.0 * h)
    return jac


def _ordered_ames(fit, terms, flagged, factor_groups, category) -> Margins:
    link = ORDERED_LINKS[fit.estimator]
    design = fit.design
    X = design.X
    k = len(fit.terms)
    jcat = _category_index(fit, category)
    idx = {t: j for j, t in enumerate(fit.terms)}
    ext_index = {t: (idx[t], [idx[s] for s in _siblings(t, factor_groups)]) for t in terms}

    def ames(theta: np.ndarray) -> np.ndarray:
        beta, cuts = theta[:k], theta[k:]
        q = X @ beta
        ext = np.concatenate(([-np.inf], cuts, [np.inf]))
        fu = pdf(link, ext[jcat + 1] - q)
        fl = pdf(link, ext[jcat] - q)
        dprob = design.mean(fl - fu)  # dP_j / d(x'b), averaged
        out = []
        for t in terms:
            j, sib = ext_index[t]
            if t not in flagged:
                out.append(dprob * beta[j])
                continue
            q0 = q - X[:, j] * beta[j]
            for s in sib:
                q0 = q0 - X[:, s] * beta[s]
            out.append(design.mean(category_probability(q0 + beta[j], cuts, jcat, link)
                                   - category_probability(q0, cuts, jcat, link)))
        return np.array(out)

    theta = fit.params.to_numpy()
    jac = _numeric_jacobian(ames, theta)
    return _margins(fit, terms, ames(theta), jac, flagged, fit.categories[jcat])


def ordered_ames_by_category(
    fit: FitResult, *, binary: Iterable[str] = (), factor_groups=(), terms=None
) -> pd.DataFrame:
    """AMEs on P(y = c) for every outcome category c: Margins.frame() plus `category`."""
    if fit.estimator not in ORDERED_LINKS:
        raise SpecificationError(fit.model_id, "AMEs by category need an ordered model, not "
                                 f"{fit.estimator}")
    frames = []
    for c in fit.categories:
        m = average_marginal_effects(fit, binary=binary, factor_groups=factor_groups,
                                     terms=terms, category=c)
        frames.append(m.frame().assign(category=c))
    return pd.concat(frames, ignore_index=True)


#: The former name, for ordered logit.
ologit_ames_by_category = ordered_ames_by_category


def predictions(
    fit: FitResult,
    variable: str,
    values: Sequence[float],
    *,
    factor_groups: Iterable[Sequence[str]] = (),
    category: float | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Average adjusted predictions with `variable` set to each value for every observation
    (Stata `margins, at(variable=(values))`), delta-method SEs; C1 predictions frame.

    Predicts Pr(y=1) (logit/probit), the linear prediction (LPM) or Pr(y=category) (ordered
    logit / probit, default top category). If `variable` is a dummy in a factor group, its
    siblings are set to 0 as well.
    """
    if variable not in fit.terms or variable == CONSTANT:
        raise SpecificationError(fit.model_id, f"{variable!r} is not a regressor", [variable])
    idx = {t: j for j, t in enumerate(fit.terms)}
    j = idx[variable]
    sib = [idx[s] for s in _siblings(variable, [list(g) for g in factor_groups])]
    design = fit.design
    X = design.X
    k = len(fit.terms)
    theta = fit.params.to_numpy()
    cov = fit.cov.to_numpy()
    beta = theta[:k]
    means = design.column_means(np.ones(design.nobs))
    q_rest = X @ beta - X[:, j] * beta[j] - sum((X[:, s] * beta[s] for s in sib), 0.0)
    preds, ses = [], []
    for v in values:
        v = float(v)
        if fit.estimator == "lpm":
            grad = means.copy()
            grad[j], grad[sib] = v, 0.0
            pred = float(grad @ beta)
        elif fit.estimator in ORDERED_LINKS:
            jcat = _category_index(fit, category)
            link = ORDERED_LINKS[fit.estimator]

            def mean_prob(th, v=v, jcat=jcat, link=link):
                # index with the variable set to v (siblings 0), as a function of theta
                q = X @ th[:k] - X[:, j] * th[j] + v * th[j]
                q = q - sum((X[:, s] * th[s] for s in sib), 0.0)
                return np.array([design.mean(category_probability(q, th[k:], jcat, link))])
            pred = float(mean_prob(theta)[0])
            grad = _numeric_jacobian(mean_prob, theta)[0]
        else:
            cdf_pdf, _ = _link_functions(fit.estimator)
            big, f = cdf_pdf(q_rest + v * beta[j])
            pred = design.mean(big)
            grad = design.column_means(f)
            grad[j], grad[sib] = v * design.mean(f), 0.0
        preds.append(pred)
        ses.append(float(np.sqrt(grad @ cov[: grad.size, : grad.size] @ grad)))
    preds_a, ses_a = np.array(preds), np.array(ses)
    _, _, lo, hi = inference(preds_a, ses_a, fit.df_resid, level)
    return pd.DataFrame({
        "model": fit.model_id, "outcome": fit.outcome, "variable": variable,
        "value": np.asarray(values, dtype=float), "prediction": preds_a, "std_error": ses_a,
        "ci_lower": lo, "ci_upper": hi}, columns=PREDICTION_COLUMNS)
