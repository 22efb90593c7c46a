"""Our estimates side by side with a cross-check's (R or Stata), and the largest relative
difference per model.

A results file (``crosscheck_r.csv``, ``crosscheck_stata.csv``) has one row per number:
``model, quantity, term, estimate, std_error, fingerprint``. Compared are every
coefficient, AME and cut point (estimate and SE) and the fit statistics both sides report
(N, the log likelihood except under a survey design, R-squared). The relative difference
of two numbers is ``|theirs - ours| / |ours|`` (the absolute difference where ours is 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ExhibitError

RESULT_COLUMNS = ("model", "quantity", "term", "estimate", "std_error", "fingerprint")
QUANTITIES = ("coef", "ame", "cut", "fit")
#: Fit statistics compared: N; the log likelihood (ML models); R-squared (LPM).
FIT_TERMS = ("nobs", "llf", "r2")
KEY = ["model", "quantity", "term"]
#: Every coefficient, SE, AME and cut point must agree to this relative difference. Measured
#: (tests/test_crosscheck_r.py): about 1e-9 for logit, probit and LPM; ordered models, where
#: polr's BFGS stops about 1e-9 (absolute) from the maximum, up to about 1e-7.
TOLERANCE = 1e-6
TOLERANCE_NOTE = (f"every coefficient, SE, AME and cut point within "
                  f"{TOLERANCE:.0e}".replace("e-0", "e-") + " relative "
                  "of the package's (measured: about 1e-9 for logit, probit and LPM; up to "
                  "1e-7 for ordered models, where polr's BFGS stops about 1e-9 short of the "
                  "maximum)")


@dataclass(frozen=True)
class Results:
    """One cross-check's numbers, or why there are none to compare."""

    software: str
    frame: pd.DataFrame | None
    status: str  # "current", "absent", "stale"
    message: str = ""


def read_results(path: Path, software: str, fingerprint: str) -> Results:
    """A results file, checked: its columns, numbers, and that it comes from the current
    script and data (same fingerprint); absent or stale files say how to redo them."""
    if not path.is_file():
        return Results(software, None, "absent")
    try:
        frame = pd.read_csv(path, dtype={c: str for c in ("model", "quantity", "term",
                                                          "fingerprint")},
                            keep_default_na=False, na_values=[""], skipinitialspace=True)
    except (OSError, ValueError) as err:
        raise ExhibitError(f"{path}: cannot read the {software} results: {err}") from err
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise ExhibitError(f"{path}: the {software} results lack the column(s) "
                           f"{', '.join(missing)}")
    for column in ("estimate", "std_error"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ExhibitError(f"{path}: row {row + 2}, column '{column}': "
                               f"'{frame[column].iloc[row]}' is not a number")
        frame[column] = values
    found = set(frame["fingerprint"].dropna())
    if found != {fingerprint}:
        return Results(software, None, "stale", (
            f"{path.name} comes from another version of the script or data (fingerprint "
            f"{', '.join(sorted(found)) or 'none'}, expected {fingerprint})"))
    return Results(software, frame[list(RESULT_COLUMNS[:-1])], "current")


def our_numbers(estimates: pd.DataFrame) -> pd.DataFrame:
    """The rows of estimates.csv a cross-check reproduces."""
    rows = estimates[estimates["quantity"].isin(QUANTITIES)]
    # The LPM's log likelihood is Gaussian, and ours normalises the weights; a design-based
    # fit has a pseudo-likelihood that neither svy: nor svyglm reports: not compared.
    fit = rows["term"].isin(FIT_TERMS) & ~(((rows["estimator"] == "lpm")
                                            | (rows["se_type"] == "survey"))
                                           & (rows["term"] == "llf"))
    rows = rows[(rows["quantity"] != "fit") | fit]
    out = rows[[*KEY, "estimate", "std_error"]].copy()
    out.loc[out["quantity"] == "fit", "std_error"] = np.nan
    return out.reset_index(drop=True)


def relative_difference(theirs: pd.Series, ours: pd.Series) -> pd.Series:
    """|theirs - ours| / |ours| (absolute where ours is 0; NaN where either is missing)."""
    diff = (theirs - ours).abs()
    scale = ours.abs()
    return diff.where(scale == 0, diff / scale.where(scale != 0))


def side_by_side(ours: pd.DataFrame, theirs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every number of ours with each software's, and the larger of the estimate's and the
    SE's relative difference (``rel_diff_<software>``); a number one side lacks shows NaN
    there and is counted as missing in :func:`summary`."""
    frame = ours.assign(_row=range(len(ours)))
    for software, numbers in theirs.items():
        tag = software.lower()
        numbers = numbers.rename(columns={"estimate": f"estimate_{tag}",
                                          "std_error": f"std_error_{tag}"})
        frame = frame.merge(numbers, on=KEY, how="outer", indicator=f"_in_{tag}")
        est = relative_difference(frame[f"estimate_{tag}"], frame["estimate"])
        se = relative_difference(frame[f"std_error_{tag}"], frame["std_error"])
        frame[f"rel_diff_{tag}"] = pd.concat([est, se], axis=1).max(axis=1, skipna=True)
        frame[f"missing_{tag}"] = frame.pop(f"_in_{tag}").astype(str).map(
            {"both": "", "left_only": f"not in {software}", "right_only": "not in ours"})
        blank = ((frame["estimate"].notna() & frame[f"estimate_{tag}"].isna())
                 | (frame["std_error"].notna() & frame[f"std_error_{tag}"].isna()))
        frame.loc[blank & (frame[f"missing_{tag}"] == ""), f"missing_{tag}"] = \
            f"no value in {software}"
    # Our order (estimates.csv); numbers only the other side has go last, by model.
    frame = frame.sort_values(["_row", *KEY], kind="stable", na_position="last")
    return frame.drop(columns="_row").reset_index(drop=True)


def summary(numbers: pd.DataFrame, models: pd.DataFrame, software: Sequence[str],
            tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Per model: how many numbers were compared, the largest relative difference and
    where, and whether all agree within ``tolerance`` with none missing."""
    rows = []
    for model in models.to_dict("records"):
        mine = numbers[numbers["model"] == model["model"]]
        row = {"model": model["model"], "estimator": model["estimator"],
               "se_type": model["se_type"], "weighted": model["weighted"]}
        for name in software:
            tag = name.lower()
            diff = mine[f"rel_diff_{tag}"]
            missing = int((mine[f"missing_{tag}"] != "").sum())
            worst = diff.idxmax() if diff.notna().any() else None
            where = "" if worst is None else \
                f"{mine.at[worst, 'quantity']} {mine.at[worst, 'term']}"
            largest = float(diff.max()) if worst is not None else float("nan")
            agrees = missing == 0 and worst is not None and largest <= tolerance
            row.update({f"numbers_{tag}": int(diff.notna().sum()),
                        f"largest_rel_diff_{tag}": largest, f"where_{tag}": where,
                        f"missing_{tag}": missing,
                        f"verdict_{tag}": "agrees" if agrees else "differs"})
        rows.append(row)
    return pd.DataFrame(rows)


STATUS_WORDS = {"absent": "{software} results absent", "stale": "{software} results stale"}


def comparison(estimates: pd.DataFrame, models: pd.DataFrame, results: Sequence[Results],
               tolerance: float = TOLERANCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every number side by side, the per-model summary) against each of ``results``.

    A software whose results are absent or stale keeps its columns, empty, and its verdict
    says so: nothing is compared with numbers the current script did not produce.
    """
    ours = our_numbers(estimates)
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in KEY}).assign(
        estimate=pd.Series(dtype="float64"), std_error=pd.Series(dtype="float64"))
    theirs = {r.software: r.frame if r.status == "current" else empty for r in results}
    numbers = side_by_side(ours, theirs)
    table = summary(numbers, models, [r.software for r in results], tolerance)
    for r in results:
        if r.status == "current":
            continue
        tag = r.software.lower()
        numbers[f"missing_{tag}"] = ""
        table[f"numbers_{tag}"] = 0
        table[f"missing_{tag}"] = 0
        table[f"verdict_{tag}"] = STATUS_WORDS[r.status].format(software=r.software)
    return numbers, table


def display_numbers(numbers: pd.DataFrame, software: Sequence[str]) -> pd.DataFrame:
    """The side-by-side frame for reading: numbers at 7 significant digits (agreement to
    1e-6 relative shows; the CSV keeps every digit), relative differences in scientific
    notation, readable column names."""
    out = pd.DataFrame({"model": numbers["model"], "quantity": numbers["quantity"],
                        "term": numbers["term"], "estimate": _digits(numbers["estimate"]),
                        "SE": _digits(numbers["std_error"])})
    for name in software:
        tag = name.lower()
        out[f"estimate ({name})"] = _digits(numbers[f"estimate_{tag}"])
        out[f"SE ({name})"] = _digits(numbers[f"std_error_{tag}"])
        out[f"rel. diff. ({name})"] = _scientific(numbers[f"rel_diff_{tag}"])
        flag = numbers[f"missing_{tag}"]
        out.loc[flag != "", f"rel. diff. ({name})"] = flag[flag != ""]
    return out


def display_summary(table: pd.DataFrame, software: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame({"model": table["model"], "estimator": table["estimator"],
                        "SE": table["se_type"], "weighted": table["weighted"].astype(str)})
    for name in software:
        tag = name.lower()
        out[f"numbers ({name})"] = table[f"numbers_{tag}"].astype(str)
        out[f"largest rel. diff. ({name})"] = _scientific(table[f"largest_rel_diff_{tag}"])
        out[f"where ({name})"] = table[f"where_{tag}"]
        out[f"verdict ({name})"] = table[f"verdict_{tag}"]
    return out


def _digits(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{v:.7g}")


def _scientific(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{v:.1e}")
