"""The building blocks of a model specification: named blocks of variables, and families
that cross outcomes with variants (lists of blocks) into models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    name: str
    label: str
    display: str
    variables: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    estimator: str
    outcomes: tuple[str, ...]
    main: tuple[str, ...]
    variants: dict[str, tuple[str, ...]]
    se: str
    cluster: str
    #: "" (unweighted), "pweight" or "fweight": the survey's weight column, by kind
    weights: str = ""
    perfect_prediction: str = "drop"

    @property
    def weighted(self) -> bool:
        return bool(self.weights)
