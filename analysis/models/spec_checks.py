"""Checks shared by the readers of the model specification: required keys, allowed values,
unknown keys and misspelt names, each reported with the file, the key and the nearest valid
names (difflib close matches)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.errors import ConfigError


def nearest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The valid names closest to a misspelt ``name`` (difflib, most similar first)."""
    return difflib.get_close_matches(str(name), sorted(set(candidates)), n=n, cutoff=0.6)


def suggestion(name: str, candidates: Iterable[str]) -> str:
    """" (nearest valid names: a, b)" or "" when nothing is close."""
    close = nearest(name, candidates)
    return f" (nearest valid names: {', '.join(close)})" if close else ""


def require(mapping: Mapping[str, Any], key: str, where: str, path: Path) -> Any:
    """``mapping[key]``, or a ConfigError naming the table that lacks it."""
    if key not in mapping:
        raise ConfigError(f"{path}: [{where}] is missing the required key '{key}'")
    return mapping[key]


def choice(value: object, allowed: Sequence[str], where: str, path: Path) -> str:
    """``value`` when it is one of ``allowed``, else a ConfigError with the close matches."""
    if value not in allowed:
        raise ConfigError(f"{path}: {where} = '{value}' is not one of {', '.join(allowed)}"
                          + suggestion(str(value), allowed))
    return str(value)


def check_keys(body: object, allowed: Iterable[str], where: str, path: Path) -> None:
    """A table ``where`` may hold only ``allowed`` keys: an unknown key is a typo."""
    if not isinstance(body, Mapping):
        raise ConfigError(f"{path}: {where} must be a table")
    allowed = list(allowed)
    unknown = [k for k in body if k not in allowed]
    if unknown:
        key = unknown[0]
        raise ConfigError(f"{path}: {where} has the unknown key '{key}'"
                          + suggestion(key, allowed) + f"; allowed: {', '.join(allowed)}")
