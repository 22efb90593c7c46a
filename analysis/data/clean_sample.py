"""Sample rules: screen-outs, break-offs and duplicate interviews, and the sample flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.data.clean_read import value_text
from analysis.data.study_config import (
    StudyConfig,
)
from analysis.errors import DataError

# -------------------------------------------------------------------------- sample rules


@dataclass(frozen=True)
class Exclusion:
    """Records removed by one sample rule."""

    rule: str
    reason: str
    removed: pd.DataFrame


@dataclass(frozen=True)
class SampleResult:
    """The sample after the rules, and what each rule removed (in the order applied)."""

    n_raw: int
    kept: pd.DataFrame
    exclusions: tuple[Exclusion, ...]


def screen_outs(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Firms below ``sample.min_employees`` (unknown size stays: the frame had >10 employees)."""
    if cfg.sample.min_employees is None:
        return pd.Series(False, index=frame.index)
    return (frame["employees"] < cfg.sample.min_employees).fillna(False).astype(bool)


def no_employees(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Firms reporting 0 employees (``sample.zero_employees = "exclude"``)."""
    return (frame["employees"] <= 0).fillna(False).astype(bool)


def employees_unknown(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Firms without an employee count (``sample.missing_employees = "exclude"``)."""
    return frame["employees"].isna()


def break_offs(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Interviews with no innovation outcome answered (every outcome missing, of any kind)."""
    return frame[list(cfg.outcomes)].isna().all(axis=1)


def duplicate_interviews(frame: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """Further interviews of a firm: keep the lowest (``first``) or highest interview id."""
    order = frame.sort_values("interview_id", kind="stable")
    keep = "first" if cfg.sample.duplicates == "first" else "last"
    dup = order["firm_id"].duplicated(keep=keep)
    return dup.reindex(frame.index)


def sample_rules(cfg: StudyConfig) -> list[tuple[str, str, Callable]]:
    """(rule id, reason text, rule) in the order they are applied."""
    rules: list[tuple[str, str, Callable]] = []
    if cfg.sample.min_employees is not None:
        least = value_text(cfg.sample.min_employees)
        rules.append(("screen_out", f"Screen-outs: fewer than {least} employees "
                      f"({cfg.columns['employees']})", screen_outs))
    if cfg.sample.zero_employees == "exclude":
        rules.append(("no_employees", f"Firms reporting 0 employees "
                      f"({cfg.columns['employees']}; sample.zero_employees = exclude)",
                      no_employees))
    if cfg.sample.missing_employees == "exclude":
        rules.append(("employees_unknown", f"Firms without an employee count "
                      f"({cfg.columns['employees']}; sample.missing_employees = exclude)",
                      employees_unknown))
    outcome_cols = ", ".join(c for o in cfg.outcomes.values() for c in o.columns)
    rules.append(("break_off", f"Break-offs: no innovation outcome answered ({outcome_cols})",
                  break_offs))
    which = "lowest" if cfg.sample.duplicates == "first" else "highest"
    rules.append(("duplicate", f"Duplicate interviews of a firm ({cfg.columns['firm_id']}): "
                  f"kept the one with the {which} interview id", duplicate_interviews))
    return rules


def apply_sample_rules(frame: pd.DataFrame, cfg: StudyConfig) -> SampleResult:
    """Apply the rules in order; every raw record ends up kept or in exactly one exclusion."""
    kept = frame
    exclusions = []
    for rule, reason, flag in sample_rules(cfg):
        mask = flag(kept, cfg)
        exclusions.append(Exclusion(rule, reason, kept[mask]))
        kept = kept[~mask]
    excluded = sum(len(e.removed) for e in exclusions)
    if excluded + len(kept) != len(frame):
        raise DataError(f"sample flow does not add up: {len(frame)} raw records, "
                              f"{excluded} excluded, {len(kept)} kept")
    return SampleResult(len(frame), kept, tuple(exclusions))


def sample_flow(result: SampleResult) -> pd.DataFrame:
    """Rows: raw records, each exclusion, final N; ``adds_up`` checks each subtraction."""
    rows = [("raw", "Records in the raw survey file", result.n_raw, result.n_raw, True)]
    remaining = result.n_raw
    for e in result.exclusions:
        rows.append((e.rule, e.reason, len(e.removed), remaining - len(e.removed), True))
        remaining -= len(e.removed)
    excluded = sum(len(e.removed) for e in result.exclusions)
    n_final = len(result.kept)
    rows.append(("final", "Firms in the clean data (estimation sample before item "
                 "non-response)", n_final, n_final,
                 n_final == remaining == result.n_raw - excluded))
    frame = pd.DataFrame(rows, columns=["stage", "description", "records", "remaining",
                                        "adds_up"])
    return frame.astype({"records": "int64", "remaining": "int64", "adds_up": "bool"})


def check_zero_employees(kept: pd.DataFrame, cfg: StudyConfig, source: str) -> None:
    """DataError with advice when firms of the sample report 0 employees and the policy is
    "error": log employees (a control of every model) has no value for them."""
    if cfg.sample.zero_employees != "error" or "employees" not in kept.columns:
        return
    zero = (kept["employees"] <= 0).fillna(False)
    if not zero.any():
        return
    raise DataError(
        f"raw data file {source}: {int(zero.sum()):,} firm(s) of the sample report 0 "
        f"employees in column {cfg.columns['employees']!r}, and log employees (a control) "
        "has no value for them; state a policy in [sample]: zero_employees = \"exclude\" "
        "(drop them, counted in the sample flow), zero_employees = \"log_plus_one\" "
        "(log(1 + employees) for every firm), or min_employees = 1 (treat them as "
        "screen-outs)")
