"""Simulated firms for the estimation tests: one builder instead of one per test file."""

from __future__ import annotations

import numpy as np
import pandas as pd


def firms(n: int, seed: int, *, weights: str | None = None, clusters: int = 0) -> pd.DataFrame:
    """``n`` firms: x1 (normal), x2 (gamma), a dummy d, a 3-level factor as dummies f_b and
    f_c (base a), a logit outcome y and a 4-category ordered outcome y_ord.

    ``clusters``: cluster ids g with a shock per cluster; ``weights``: a column w of
    "integer" (1 to 4, so that repeating rows is the same as weighting) or "uniform"
    (0.5 to 3) sampling weights.
    """
    rng = np.random.default_rng(seed)
    factor = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    data = pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.gamma(2.0, 1.5, size=n),
        "d": (rng.uniform(size=n) < 0.35).astype(float),
        "f_b": (factor == "b").astype(float), "f_c": (factor == "c").astype(float)})
    index = (-0.3 + 0.7 * data.x1 - 0.25 * data.x2 + 0.5 * data.d + 0.4 * data.f_b
             - 0.5 * data.f_c)
    if clusters:
        data["g"] = rng.integers(0, clusters, size=n)
        index = index + rng.normal(scale=0.4, size=clusters)[data["g"]]
    if weights == "integer":
        data["w"] = rng.integers(1, 5, size=n).astype(float)
    elif weights == "uniform":
        data["w"] = rng.uniform(0.5, 3.0, size=n)
    data["y"] = (rng.logistic(size=n) < index).astype(float)
    data["y_ord"] = np.digitize(index + rng.logistic(size=n), [-1.0, 0.3, 1.4]) + 1.0
    return data
