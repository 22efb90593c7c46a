"""Side-by-side comparison of this run's estimates with numbers typed in from the papers."""

from __future__ import annotations

import pandas as pd

from analysis.errors import ConfigError

PUBLISHED_COLUMNS = ["table", "model", "quantity", "term", "published_estimate",
                     "published_std_error", "published_decimals", "source", "note"]


def check_published(published: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate the user's file: required columns, numbers where numbers belong."""
    missing = [c for c in PUBLISHED_COLUMNS if c not in published.columns]
    if missing:
        raise ConfigError(f"{source}: missing column(s) {', '.join(missing)}")
    out = published.copy()
    out["quantity"] = out["quantity"].fillna("coef").replace("", "coef")
    for column in ("published_estimate", "published_std_error", "published_decimals"):
        values = pd.to_numeric(out[column], errors="coerce")
        bad = values.isna() & out[column].notna()
        if bad.any() or (column != "published_std_error" and values.isna().any()):
            row = int((bad | values.isna()).to_numpy().argmax())
            raise ConfigError(
                f"{source}: row {row + 2}, column '{column}': "
                f"'{published[column].iloc[row]}' is not a number")
        out[column] = values
    return out


def compare_published(published: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """Join published numbers to this run's; flag differences beyond the printed precision."""
    ours = estimates[["model", "quantity", "term", "estimate", "std_error"]]
    merged = published.merge(ours, on=["model", "quantity", "term"], how="left")
    tolerance = 0.5 * 10.0 ** (-merged["published_decimals"])
    diff = merged["estimate"] - merged["published_estimate"]
    se_diff = merged["std_error"] - merged["published_std_error"]
    merged["difference"] = diff
    merged["status"] = "matches at printed precision"
    merged.loc[diff.abs() > tolerance, "status"] = "differs"
    merged.loc[se_diff.abs() > tolerance, "status"] = "differs"
    merged.loc[merged["estimate"].isna(), "status"] = "not in this run's estimates"
    return merged[["table", "model", "quantity", "term", "published_estimate", "estimate",
                   "difference", "published_std_error", "std_error", "published_decimals",
                   "status", "source"]]


def comparison_exhibit(published: pd.DataFrame, estimates: pd.DataFrame | None,
                       data_note: str = "") -> tuple[pd.DataFrame, list[str]]:
    """The comparison frame (or a row saying that nothing was entered) and its notes."""
    notes = ["Published numbers are typed by the user into config/published_estimates.csv "
             "(format: config/published_estimates.md). 'differs': the two numbers would print "
             "differently at the paper's precision (|difference| > half a unit of the last "
             "printed decimal)."]
    notes += [data_note] if data_note else []
    if published.empty or estimates is None:
        return pd.DataFrame({"status": [
            "No published numbers entered: config/published_estimates.csv has only its "
            "header. Type the papers' numbers into it (see config/published_estimates.md) "
            "and rerun."]}), notes
    return compare_published(published, estimates), notes
