"""Delivery of the twin: routing, item non-response, extra records and identifiers."""



import numpy as np
import pandas as pd

from analysis.config import SCALES
from analysis.data.twin.draws import draw_firms, draw_frame
from analysis.data.twin.latent import COLUMNS, COMPONENTS, PERTURBABLE_ITEMS, PRE_OUTCOME_ITEMS
from analysis.data.twin.questionnaire import DONT_KNOW, ITEMS, ITEMS_BY_NAME, REFUSED, Item
from analysis.data.twin.truth import (
    TwinParams,
    collaboration_column,
)

# ---------------------------------------------------------------------------------------
# Delivery: non-response, extra records, identifiers
# ---------------------------------------------------------------------------------------


def apply_routing(frame: pd.DataFrame) -> pd.DataFrame:
    """Blank (NaN) the items a respondent was not asked, given the reported filter answers."""
    out = frame.copy()
    out.loc[out["q6_prod"] != 1, "q7_prod_new"] = np.nan
    out.loc[out["q8_proc"] != 1, "q9_proc_new"] = np.nan
    group_items = [collaboration_column("group", s) for s in SCALES]
    out.loc[out["q4_group"] != 1, group_items] = np.nan
    return out


def apply_nonresponse(answers: pd.DataFrame, rng: np.random.Generator,
                      params: TwinParams) -> pd.DataFrame:
    """Replace some asked answers by don't-know / refused codes, then re-apply routing."""
    nonresponse = params.nonresponse
    out = answers.copy()
    n = len(out)
    shape = nonresponse.propensity_shape
    propensity = rng.gamma(shape, 1 / shape, size=n)
    missing_flags = {}
    for item in ITEMS:  # fixed order: stable stream use
        rate = nonresponse.rates.get(item.name, 0.0)
        if rate <= 0 or not item.missing:
            continue
        prob = np.minimum(rate * propensity, nonresponse.max_prob)
        missing = (rng.random(n) < prob) & out[item.name].notna().to_numpy()
        dont_know = rng.random(n) < nonresponse.dont_know_share.get(item.name, 0.7)
        missing_flags[item.name] = (missing, dont_know)
    # "No outcome answered" must only mark break-offs: keep Q8 when Q6 is also missing.
    if "q6_prod" in missing_flags and "q8_proc" in missing_flags:
        both = missing_flags["q6_prod"][0] & missing_flags["q8_proc"][0]
        missing_flags["q8_proc"] = (missing_flags["q8_proc"][0] & ~both,
                                    missing_flags["q8_proc"][1])
    for name, (missing, dont_know) in missing_flags.items():
        codes = missing_codes(ITEMS_BY_NAME[name])
        replacement = np.where(dont_know, codes[DONT_KNOW], codes[REFUSED])
        out[name] = np.where(missing, replacement, out[name].to_numpy(dtype=float))
    return apply_routing(out)


def missing_codes(item: Item) -> dict[str, float]:
    return {kind: float(code) for code, kind in item.missing.items()}


def blank_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(np.nan, index=range(n), columns=list(COLUMNS), dtype=float)


def draw_screen_outs(n: int, rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Firms under 10 employees: frame variables and Q1 only."""
    out = blank_frame(n)
    frame = draw_frame(n, rng, params)
    out["region"] = frame["region"].to_numpy()
    out["nace"] = frame["nace"].to_numpy()
    low, high = params.design.screen_out_employees
    out["q1_emp"] = rng.integers(low, high + 1, size=n).astype(float)
    return out


def draw_break_offs(n: int, rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Interviews ending before Q6: frame variables, Q1 and the next 0-4 items of Q2-Q5."""
    streams = {name: rng for name in COMPONENTS}  # one stream drives the whole record
    firms = draw_firms(n, streams, params)
    out = blank_frame(n)
    out["region"] = firms["region"].to_numpy()
    out["nace"] = firms["nace"].to_numpy()
    answered = rng.integers(1, len(PRE_OUTCOME_ITEMS) + 1, size=n)
    for position, name in enumerate(PRE_OUTCOME_ITEMS):
        out[name] = np.where(answered > position, firms[name].to_numpy(), np.nan)
    return out


def draw_duplicates(reported: pd.DataFrame, n: int, rng: np.random.Generator,
                    params: TwinParams) -> tuple[pd.DataFrame, np.ndarray]:
    """Second interviews of ``n`` usable firms: a copy with a few one-step differences.

    Returns the duplicate records and the row positions of their originals in ``reported``.
    """
    origin = np.sort(rng.choice(len(reported), size=n, replace=False))
    out = reported.iloc[origin].reset_index(drop=True).copy()
    for name in PERTURBABLE_ITEMS:
        item = ITEMS_BY_NAME[name]
        values = out[name].to_numpy(dtype=float)
        change = rng.random(n) < params.design.duplicate_change_prob
        step = rng.choice(np.array([-1.0, 1.0]), size=n)
        if name == "q5_highed":
            step = step * 5
        low, high = (min(item.codes), max(item.codes)) if item.codes else item.valid_range
        # Only valid answers move (user-missing and blank stay as they were).
        valid = np.isin(values, list(item.codes)) if item.codes else (
            (values >= low) & (values <= high))
        moved = np.clip(values + step, low, high)
        out[name] = np.where(change & valid, moved, values)
    return out, origin


def check_digit(base: np.ndarray) -> np.ndarray:
    """Mod-11 check digit of Norwegian organisation numbers (-1 where none exists)."""
    weights = np.array([3, 2, 7, 6, 5, 4, 3, 2])
    digits = (base[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    remainder = (digits * weights).sum(axis=1) % 11
    check = (11 - remainder) % 11
    return np.where(check == 10, -1, check)


def draw_orgnr(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 9-digit organisation numbers (8xxxxxxxx-9xxxxxxxx, valid check digit)."""
    found = np.empty(0, dtype=np.int64)
    while len(found) < n:
        base = rng.integers(80_000_000, 100_000_000, size=2 * (n - len(found)) + 16)
        check = check_digit(base)
        fresh = (base * 10 + check)[check >= 0]
        merged = np.concatenate([found, fresh])
        _, first = np.unique(merged, return_index=True)
        found = merged[np.sort(first)]
    return found[:n]


def record_counts(n_usable: int, params: TwinParams) -> dict[str, int]:
    design = params.design
    return {
        "usable": n_usable,
        "screen_out": round(design.screen_out_rate * n_usable),
        "break_off": round(design.break_off_rate * n_usable),
        "duplicate": min(round(design.duplicate_rate * n_usable), n_usable),
    }
