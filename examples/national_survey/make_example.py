"""Make the national-survey example: ``uv run examples/national_survey/make_example.py``.

A synthetic innovation survey laid out as national statistical offices deliver a CIS-type
file (2,600 enterprises, CSV): a stratified sample (size class x sector group) with
expansion weights and the population count of each stratum; 26 province codes (two island
provinces share one name, several provinces have few firms); the survey's own size class
(micro firms included, a few with 0 employees); novelty asked per product item in four
columns; a cooperation filter question; and a tick-box location grid of cooperation
partners in which a ticked box is 1 and an unticked one is blank (also for firms that did
not cooperate). It exists to show (and test) that such a file runs from its configuration
alone (``study.toml``), with design-based standard errors. The numbers are draws from a
seeded generator: they describe no real firms.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "national_survey_2018.csv"
SEED = 20180601
N_FIRMS = 2600

#: Province code -> (name, share of the population of firms); 25 and 26 are one name.
PROVINCES = {
    1: ("Capital", 0.16), 2: ("Northern Coast", 0.07), 3: ("Lakeland", 0.06),
    4: ("River Valley", 0.06), 5: ("Eastern Plains", 0.06), 6: ("Harbour", 0.06),
    7: ("Highlands", 0.05), 8: ("Western Hills", 0.05), 9: ("Southern Shore", 0.05),
    10: ("Forest", 0.04), 11: ("Midlands", 0.04), 12: ("Upper Valley", 0.04),
    13: ("Old Town", 0.035), 14: ("Bay", 0.035), 15: ("Vineyards", 0.03),
    16: ("Mining District", 0.03), 17: ("Lower Valley", 0.025), 18: ("Marshes", 0.02),
    19: ("Border", 0.02), 20: ("Peninsula", 0.015), 21: ("Far North", 0.01),
    22: ("Glacier", 0.008), 23: ("Steppe", 0.008), 24: ("Delta", 0.007),
    25: ("Islands", 0.006), 26: ("Islands", 0.006),
}
#: Sector group -> NACE divisions.
SECTORS = {"manufacturing": (10, 16, 20, 22, 25, 26, 27, 28, 29, 31),
           "construction": (41, 42, 43), "trade": (45, 46, 47),
           "transport": (49, 50, 52, 53), "knowledge_services": (58, 62, 63, 70, 71, 72, 73)}
#: Size class code -> (label, employee range, population of firms per sector group,
#: sampled per sector group). The 250+ class is a take-all stratum (a census).
SIZE_CLASSES = {1: ("0-9", (0, 9), 9000, 110), 2: ("10-49", (10, 49), 5000, 190),
                3: ("50-249", (50, 249), 1200, 160), 4: ("250+", (250, 4000), 60, 60)}
PARTNERS = ("grp", "sup", "cus", "com", "con", "uni", "ins")
LOCATIONS = ("reg", "nat", "eu", "oth")
#: Base rate of each partner type at each location (among cooperating firms).
RATES = {"grp": (0.25, 0.20, 0.15, 0.08), "sup": (0.45, 0.40, 0.25, 0.10),
         "cus": (0.40, 0.35, 0.20, 0.10), "com": (0.15, 0.12, 0.06, 0.03),
         "con": (0.25, 0.20, 0.06, 0.03), "uni": (0.30, 0.25, 0.10, 0.04),
         "ins": (0.20, 0.18, 0.06, 0.02)}


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def sample_frame(rng: np.random.Generator) -> pd.DataFrame:
    """Strata (size class x sector group), their population counts and the sampled firms."""
    rows = []
    for size, (_, (low, high), population, sampled) in SIZE_CLASSES.items():
        for s, (sector, divisions) in enumerate(SECTORS.items(), start=1):
            n_h = sampled + (10 * s if size in (1, 2) else 0)
            n_pop = population if size == 4 else population + 500 * s
            if size == 4:
                n_pop = n_h  # take-all: every large firm is in the sample
            if low == 0:
                emp = rng.integers(0, 10, n_h)
            else:
                emp = np.round(np.exp(rng.uniform(np.log(low), np.log(high + 1), n_h)))
                emp = np.clip(emp, low, high)
            for e in emp:
                rows.append((size * 10 + s, size, sector, int(rng.choice(divisions)), int(e),
                             n_pop, n_pop / n_h))
    frame = pd.DataFrame(rows, columns=["stratum", "sizecl", "sector", "nace2", "emp",
                                        "n_pop", "weight"])
    frame = frame.iloc[rng.permutation(len(frame))[:N_FIRMS]].reset_index(drop=True)
    # expansion weights of the realised sample: population / sampled firms of the stratum
    n_h = frame.groupby("stratum")["stratum"].transform("size")
    frame["n_pop"] = np.where(frame["sizecl"] == 4, n_h, frame["n_pop"])
    frame["weight"] = frame["n_pop"] / n_h
    return frame


def draw_grid(rng: np.random.Generator, co: np.ndarray, openness: np.ndarray) -> dict:
    """The tick-box grid: 1 where ticked, blank otherwise (and for non-cooperators)."""
    grid = {}
    for partner in PARTNERS:
        for j, location in enumerate(LOCATIONS):
            base = RATES[partner][j]
            p = logistic(np.log(base / (1 - base)) + 0.8 * openness)
            ticked = (co == 1) & (rng.random(len(co)) < p)
            grid[f"co_{partner}_{location}"] = np.where(ticked, 1.0, np.nan)
    return grid


def make_survey(seed: int = SEED) -> pd.DataFrame:
    """The example survey as a frame (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    frame = sample_frame(rng)
    n = len(frame)
    codes = list(PROVINCES)
    shares = np.array([PROVINCES[c][1] for c in codes])
    frame["prov"] = rng.choice(codes, size=n, p=shares / shares.sum())
    log_emp = np.log1p(frame["emp"].to_numpy())
    frame["gp"] = (rng.random(n) < logistic(-2.0 + 0.5 * log_emp)).astype(float)
    frame["highed"] = np.clip(np.round(rng.beta(2, 5, n) * 100), 0, 100)
    openness = rng.normal(0, 1, n) + 0.25 * (log_emp - 2.5)
    active = rng.random(n) < logistic(-0.4 + 0.9 * openness + 0.2 * log_emp)
    co = np.where(active & (rng.random(n) < logistic(-0.2 + 0.9 * openness)), 1.0, 0.0)
    co[rng.random(n) < 0.02] = np.nan  # item non-response on the filter question
    frame["co"] = co
    grid = draw_grid(rng, co, openness)
    breadth = {loc: sum(np.nan_to_num(grid[f"co_{p}_{loc}"]) for p in PARTNERS)
               for loc in LOCATIONS}
    international = sum(np.maximum(np.nan_to_num(grid[f"co_{p}_eu"]),
                                   np.nan_to_num(grid[f"co_{p}_oth"])) for p in PARTNERS)
    index = (-1.6 + 0.05 * breadth["reg"] + 0.08 * breadth["nat"] + 0.30 * international
             + 0.25 * log_emp + 0.3 * frame["gp"] + 0.01 * frame["highed"]
             + 0.6 * active)
    goods = rng.random(n) < logistic(index)
    services = rng.random(n) < logistic(index - 0.8)
    process = rng.random(n) < logistic(index - 0.3)
    frame["inpdgd"], frame["inpdsv"] = goods.astype(float), services.astype(float)
    frame["inpspd"] = process.astype(float)
    product = goods | services
    market = rng.random(n) < logistic(-0.8 + 0.35 * international)
    for item in range(1, 5):  # novelty per product item: asked only of product innovators
        introduced = product & ((item == 1) | (rng.random(n) < 0.45))
        novel = np.where(market & (rng.random(n) < 0.7), 2.0, 1.0)
        frame[f"nov_{item}"] = np.where(introduced, novel, np.nan)
    for column in ("inpdgd", "inpspd", "highed"):  # a little item non-response
        values = frame[column].to_numpy(dtype=float, copy=True)
        dont_know = rng.random(n) < 0.01
        if column == "inpdgd":  # the novelty items follow a yes: keep the routing
            dont_know &= ~product
        values[dont_know] = -9.0
        frame[column] = values
    frame = pd.concat([frame, pd.DataFrame(grid)], axis=1)
    frame.insert(0, "ent_id", 100001 + np.arange(n))
    order = ["ent_id", "prov", "nace2", "sector", "emp", "sizecl", "gp", "highed", "inpdgd",
             "inpdsv", "inpspd", *(f"nov_{i}" for i in range(1, 5)), "co", *grid,
             "stratum", "n_pop", "weight"]
    frame = frame[order].drop(columns="sector")
    frame["weight"] = frame["weight"].round(6)
    return frame


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else OUTPUT
    make_survey().to_csv(out, index=False, float_format="%.10g", lineterminator="\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
