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
