"""Design-based (Taylor-linearised) variance for stratified, clustered survey samples.

What Stata's ``svyset psu [pw=w], strata(s) fpc(f)`` + ``svy: logit`` and R's
``svydesign(ids=~psu, strata=~s, fpc=~f, weights=~w)`` + ``svyglm`` compute for any
M-estimator with weighted scores s_i (the sampling weight already multiplied in) and
bread B = (minus Hessian)^-1 of the weighted objective:

    V = B  M  B,   M = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)(z_hi - zbar_h)'

where z_hi is the sum of the scores of PSU i of stratum h, zbar_h their mean over the n_h
PSUs of stratum h, and f_h the first-stage sampling fraction (n_h / N_h from population
totals, or given as a fraction; 0 without a finite-population correction). This is the
with-replacement (ultimate-cluster) variance of the PSU totals within strata. PSUs are
nested in strata (the same PSU code in two strata means two PSUs, as in Stata and R's
``nest = TRUE``); without a PSU column every observation is its own PSU; without strata
the sample is one stratum. Design degrees of freedom = number of PSUs - number of strata,
used for t and F inference (Stata's svy convention).

A stratum with a single PSU has no within-stratum variance. ``singleton`` says what to do:

* ``"fail"`` (default, as Stata and R): stop, naming the strata;
* ``"certainty"``: the stratum contributes nothing (a certainty PSU; R "certainty");
* ``"scaled"``: it contributes nothing and the sum over the other strata is scaled by
  H / (H - number of singleton strata) (Stata ``singleunit(scaled)``, R "average");
* ``"centered"``: its PSU total is centred at the grand mean of all PSU totals, with
  factor (1 - f_h) (Stata ``singleunit(centered)``, R "adjust").

Firms with a missing value in a model's variables are dropped before the design is set up,
as Stata's ``svy:`` drops observations with missing values (not a ``subpop()`` analysis):
n_h counts the PSUs of the estimation sample.

Estimators get design-based standard errors by passing their score blocks and bread to
:func:`design_covariance`; nothing here depends on the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import SpecificationError

SINGLETON_RULES: tuple[str, ...] = ("fail", "certainty", "scaled", "centered")
#: Rows per block when PSU totals are accumulated.
_BLOCK_ROWS = 8_192


@dataclass(frozen=True)
class SurveyDesign:
    """The design columns of a data frame (Stata ``svyset``, R ``svydesign``).

    ``fpc``: population number of PSUs of the stratum (a total, > 1) or the sampling
    fraction (0 < f <= 1), constant within a stratum. Sampling weights are the model's
    ``weights`` column.
    """

    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    singleton: str = "fail"

    @property
    def columns(self) -> list[str]:
        """The columns a fit needs besides its variables."""
        return [c for c in (self.strata, self.psu, self.fpc) if c is not None]

    def describe(self) -> str:
        """One phrase naming the design, e.g. ``strata: stratum; PSUs: firms; FPC: N_h``."""
        parts = [f"strata: {self.strata}" if self.strata else "one stratum",
                 f"PSUs: {self.psu}" if self.psu else "PSUs: firms",
                 f"finite-population correction: {self.fpc}" if self.fpc else
                 "no finite-population correction"]
        return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class SurveyArrays:
    """The design of an estimation sample, coded for the variance computation."""

    psu: np.ndarray  # PSU code 0..P-1 of every row (PSUs nested in strata)
    psu_stratum: np.ndarray  # stratum code 0..H-1 of every PSU
    n_psu: np.ndarray  # PSUs per stratum (length H)
    keep: np.ndarray  # 1 - f_h per stratum (1 without a finite-population correction)
    strata_labels: tuple[str, ...]
    singleton: str = "fail"

    @property
    def n_strata(self) -> int:
        return int(self.n_psu.size)

    @property
    def n_psus(self) -> int:
        return int(self.psu_stratum.size)

    @property
    def df(self) -> int:
        """Design degrees of freedom: number of PSUs minus number of strata."""
        return self.n_psus - self.n_strata


@dataclass(frozen=True)
class SurveySummary:
    """What a table note says about the design of one fit."""

    design: SurveyDesign
    n_strata: int
    n_psus: int
    df: int
    population: float  # sum of the sampling weights of the estimation sample


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.intp), np.asarray(uniques)


def survey_arrays(data: pd.DataFrame, rows: np.ndarray, design: SurveyDesign,
                  model_id: str) -> SurveyArrays:
    """Code the design columns of the rows ``rows`` (a boolean mask or positions)."""
    if design.singleton not in SINGLETON_RULES:
        raise SpecificationError(model_id, f"survey design: unknown singleton rule "
                                 f"{design.singleton!r} (use {', '.join(SINGLETON_RULES)})")
    n = int(np.count_nonzero(rows)) if rows.dtype == bool else int(rows.size)
    if design.strata is not None:
        strata, labels = _codes(data[design.strata].to_numpy()[rows])
    else:
        strata, labels = np.zeros(n, dtype=np.intp), np.array(["(one stratum)"])
    if design.psu is not None:
        units, _ = _codes(data[design.psu].to_numpy()[rows])
        # PSUs are nested in strata: (stratum, unit) pairs, coded 0..P-1 in sorted order
        psu, _ = _codes(strata.astype(np.int64) * (int(units.max()) + 1) + units)
    else:
        psu = np.arange(n, dtype=np.intp)
    n_psus = int(psu.max()) + 1 if n else 0
    psu_stratum = np.zeros(n_psus, dtype=np.intp)
    psu_stratum[psu] = strata
    n_psu = np.bincount(psu_stratum, minlength=len(labels)).astype(np.intp)
    keep = np.ones(len(labels))
    if design.fpc is not None:
        keep = _keep_fractions(data[design.fpc].to_numpy(dtype=float)[rows], strata, n_psu,
                               labels, design.fpc, model_id)
    arrays = SurveyArrays(psu=psu, psu_stratum=psu_stratum, n_psu=n_psu, keep=keep,
                          strata_labels=tuple(str(v) for v in labels),
                          singleton=design.singleton)
    singles = np.flatnonzero(n_psu == 1)
    if singles.size and design.singleton == "fail":
        raise _singleton_error(arrays, singles, model_id)
    return arrays


def _keep_fractions(fpc: np.ndarray, strata: np.ndarray, n_psu: np.ndarray,
                    labels: np.ndarray, column: str, model_id: str) -> np.ndarray:
    """1 - f_h per stratum from the fpc column (totals N_h > 1 or fractions 0 < f <= 1)."""
    if not np.all(np.isfinite(fpc)) or np.any(fpc <= 0):
        raise SpecificationError(model_id, f"survey design: fpc column {column!r} must hold "
                                 "positive numbers (population PSUs of the stratum, or the "
                                 "sampling fraction)", [column])
    keep = np.ones(len(labels))
    fractions = bool(np.all(fpc <= 1.0))
    for h in range(len(labels)):
        values = np.unique(fpc[strata == h])
        if values.size > 1:
            raise SpecificationError(model_id, f"survey design: fpc column {column!r} takes "
                                     f"{values.size} values in stratum {labels[h]!r}; it must "
                                     "be constant within a stratum", [column])
        value = float(values[0])
        if fractions:
            keep[h] = 1.0 - value
        elif value < n_psu[h]:
            raise SpecificationError(
                model_id, f"survey design: fpc column {column!r} gives {value:g} population "
                f"PSUs in stratum {labels[h]!r}, fewer than the {n_psu[h]} sampled; give "
                "population totals (>= the sample) or sampling fractions (<= 1) throughout",
                [column])
        else:
            keep[h] = 1.0 - n_psu[h] / value
    return keep


def _singleton_error(arrays: SurveyArrays, singles: np.ndarray, model_id: str
                     ) -> SpecificationError:
    named = ", ".join(repr(arrays.strata_labels[h]) for h in singles[:5])
    more = f" and {singles.size - 5} more" if singles.size > 5 else ""
    return SpecificationError(
        model_id, f"survey design: {singles.size} stratum/strata with a single PSU in the "
        f"estimation sample ({named}{more}): no within-stratum variance; set [design] "
        "singleton = \"certainty\", \"scaled\" or \"centered\" (Stata singleunit(), R "
        "survey.lonely.psu), or collapse strata")


def take(arrays: SurveyArrays, rows: np.ndarray) -> SurveyArrays:
    """The design of rows ``rows`` (positions) of an estimation sample."""
    psu, _ = _codes(arrays.psu[rows])
    psu_stratum = np.zeros(int(psu.max()) + 1 if psu.size else 0, dtype=np.intp)
    psu_stratum[psu] = arrays.psu_stratum[arrays.psu[rows]]
    n_psu = np.bincount(psu_stratum, minlength=arrays.n_strata).astype(np.intp)
    return SurveyArrays(psu=psu, psu_stratum=psu_stratum, n_psu=n_psu, keep=arrays.keep,
                        strata_labels=arrays.strata_labels, singleton=arrays.singleton)


def psu_totals(score_block: Callable[[slice], np.ndarray], n: int, arrays: SurveyArrays,
               p: int) -> np.ndarray:
    """P x p matrix of the scores summed within each PSU (over row blocks)."""
    totals = np.zeros((arrays.n_psus, p))
    for start in range(0, n, _BLOCK_ROWS):
        sl = slice(start, min(start + _BLOCK_ROWS, n))
        scores = score_block(sl)
        codes = arrays.psu[sl]
        for j in range(p):
            totals[:, j] += np.bincount(codes, weights=scores[:, j], minlength=arrays.n_psus)
    return totals


def design_meat(totals: np.ndarray, arrays: SurveyArrays, model_id: str = "model"
                ) -> np.ndarray:
    """sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)(z_hi - zbar_h)' (see module)."""
    p = totals.shape[1]
    meat = np.zeros((p, p))
    singles = np.flatnonzero(arrays.n_psu == 1)
    if singles.size and arrays.singleton == "fail":
        raise _singleton_error(arrays, singles, model_id)
    grand = totals.mean(axis=0) if totals.shape[0] else np.zeros(p)
    order = np.argsort(arrays.psu_stratum, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(arrays.n_psu)))
    for h in range(arrays.n_strata):
        z = totals[order[bounds[h]:bounds[h + 1]]]
        n_h = z.shape[0]
        if n_h == 0 or arrays.keep[h] <= 0.0:
            continue
        if n_h == 1:
            if arrays.singleton != "centered":
                continue
            dev = z - grand
            factor = arrays.keep[h]
        else:
            dev = z - z.mean(axis=0)
            factor = arrays.keep[h] * n_h / (n_h - 1.0)
        meat += factor * (dev.T @ dev)
    if singles.size and arrays.singleton == "scaled":
        meat *= arrays.n_strata / (arrays.n_strata - singles.size)
    return (meat + meat.T) / 2.0


def design_covariance(bread: np.ndarray, score_block: Callable[[slice], np.ndarray], n: int,
                      arrays: SurveyArrays, model_id: str = "model") -> np.ndarray:
    """Linearised covariance B M B of an estimator with weighted scores ``score_block(sl)``
    (rows ``sl``, one column per parameter) and bread B."""
    totals = psu_totals(score_block, n, arrays, bread.shape[0])
    cov = bread @ design_meat(totals, arrays, model_id) @ bread
    return (cov + cov.T) / 2.0


def summary(design: SurveyDesign, arrays: SurveyArrays, weights: np.ndarray | None,
            n: int) -> SurveySummary:
    """The design facts of one fit, for its table notes."""
    population = float(weights.sum()) if weights is not None else float(n)
    return SurveySummary(design=design, n_strata=arrays.n_strata, n_psus=arrays.n_psus,
                         df=arrays.df, population=population)
