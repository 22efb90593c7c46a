"""Make the CIS-like example survey: ``uv run examples/cis_like/make_example.py``.

A small synthetic innovation survey (1,500 firms, Stata .dta) in a layout unlike the
Norwegian twin: its own variable names (``id``, ``nuts2``, ``inpdgd`` ...), yes/no items
coded 1 = yes / 0 = no, -9 = don't know, collaboration recorded only as domestic (``_nat``)
or foreign (``_for``) partners, no business-group partner type, no manager, trust or
open-mindedness questions, and sampling weights. It exists to show (and test) that the
pipeline runs on another survey from its configuration alone (``study.toml``). The numbers
are random draws from a seeded generator: they describe no real firms.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "cis_like_2012.dta"
SEED = 20120101
N_FIRMS = 1500
DONT_KNOW = -9.0

REGIONS = {1: "Capital region", 2: "North", 3: "East", 4: "South", 5: "West", 6: "Islands"}
NACE_DIVISIONS = (10, 11, 13, 16, 20, 22, 25, 26, 27, 28, 29, 31, 41, 43, 46, 47, 49, 52,
                  58, 62, 63, 64, 66, 70, 71, 72, 73)
PARTNERS = {"sup": "suppliers", "cus": "clients or customers", "com": "competitors",
            "con": "consultants", "uni": "universities",
            "ins": "public research institutes"}
LOCATIONS = {"nat": "in the country", "for": "abroad"}
#: Share of firms collaborating with each partner type (domestic, foreign), at mean propensity.
BASE_RATES = {"sup": (0.22, 0.12), "cus": (0.20, 0.10), "com": (0.08, 0.04),
              "con": (0.12, 0.05), "uni": (0.10, 0.05), "ins": (0.07, 0.03)}
YES_NO_LABELS = {1.0: "Yes", 0.0: "No", DONT_KNOW: "Don't know"}


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def with_dont_know(values: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    """``values`` as float with a random ``share`` replaced by the don't-know code."""
    out = values.astype("float64")
    out[rng.random(len(out)) < share] = DONT_KNOW
    return out


def make_survey(seed: int = SEED, n: int = N_FIRMS) -> pd.DataFrame:
    """The example survey as a frame (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    region = rng.choice(list(REGIONS), size=n, p=[0.3, 0.12, 0.18, 0.15, 0.2, 0.05])
    nace = rng.choice(NACE_DIVISIONS, size=n)
    employees = np.round(np.exp(rng.normal(3.4, 1.0, n))) + 5  # a few below the 10 threshold
    log_emp = np.log(employees)
    group = (rng.random(n) < logistic(-1.5 + 0.5 * (log_emp - 3.4))).astype(float)
    highed = np.clip(np.round(rng.beta(2, 4, n) * 100), 0, 100)
    openness = rng.normal(0, 1, n) + 0.3 * (log_emp - 3.4)  # latent propensity to collaborate
    frame = pd.DataFrame({"id": np.arange(1, n + 1, dtype="float64"), "nuts2": region,
                          "nace": nace, "emp": with_dont_know(employees, rng, 0.01),
                          "gp": with_dont_know(group, rng, 0.01),
                          "highed": with_dont_know(highed, rng, 0.03)})
    domestic = np.zeros(n)
    foreign = np.zeros(n)
    for code, (rate_nat, rate_for) in BASE_RATES.items():
        for loc, rate in (("nat", rate_nat), ("for", rate_for)):
            shift = np.log(rate / (1 - rate))
            yes = rng.random(n) < logistic(shift + 1.2 * openness)
            (domestic if loc == "nat" else foreign)[:] += yes
            frame[f"co_{code}_{loc}"] = with_dont_know(yes, rng, 0.02)
    # Outcomes: foreign breadth matters more than domestic breadth (as in the 2011 paper).
    index = -1.4 + 0.15 * domestic + 0.35 * foreign + 0.25 * (log_emp - 3.4) + 0.01 * (
        highed - 30)
    goods = rng.random(n) < logistic(index)
    services = rng.random(n) < logistic(index - 1.0)
    process = rng.random(n) < logistic(index + 0.1)
    frame["inpdgd"] = with_dont_know(goods, rng, 0.01)
    frame["inpdsv"] = with_dont_know(services, rng, 0.01)
    frame["inpspd"] = with_dont_know(process, rng, 0.01)
    innovator = (frame["inpdgd"] == 1) | (frame["inpdsv"] == 1)
    market = rng.random(n) < logistic(-0.8 + 0.3 * foreign)
    frame["newmkt"] = np.where(innovator, with_dont_know(market, rng, 0.03), np.nan)
    # Weights: small firms are sampled less often, so they weigh more.
    frame["weight"] = np.round(np.exp(1.5 - 0.35 * (log_emp - 3.4) + rng.normal(0, 0.2, n)),
                               3)
    frame.loc[rng.choice(n, 5, replace=False), "inpdgd"] = np.nan  # a few break-offs
    frame.loc[frame["inpdgd"].isna(), ["inpdsv", "inpspd", "newmkt"]] = np.nan
    return frame


def labels() -> tuple[dict[str, str], dict[str, dict[float, str]]]:
    """Column labels and value labels of the .dta file."""
    columns = {"id": "Enterprise identifier", "nuts2": "NUTS 2 region",
               "nace": "NACE Rev. 2 division", "emp": "Employees (-9 don't know)",
               "gp": "Part of an enterprise group", "highed": "Employees with a degree (%)",
               "inpdgd": "Introduced new or improved goods", "inpdsv":
               "Introduced new or improved services", "inpspd":
               "Introduced new or improved production processes", "newmkt":
               "Product innovation new to the market (asked of product innovators)",
               "weight": "Sampling weight"}
    values: dict[str, dict[float, str]] = {"nuts2": {float(k): v for k, v in REGIONS.items()}}
    for name in ("gp", "inpdgd", "inpdsv", "inpspd", "newmkt"):
        values[name] = YES_NO_LABELS
    for code, partner in PARTNERS.items():
        for loc, where in LOCATIONS.items():
            columns[f"co_{code}_{loc}"] = f"Co-operated on innovation with {partner} {where}"
            values[f"co_{code}_{loc}"] = YES_NO_LABELS
    return columns, values


def main(path: Path = OUTPUT) -> Path:
    frame = make_survey()
    column_labels, value_labels = labels()
    pyreadstat.write_dta(frame, str(path), column_labels=column_labels,
                         variable_value_labels=value_labels, version=15)
    return path


if __name__ == "__main__":
    print(f"wrote {main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)}")
