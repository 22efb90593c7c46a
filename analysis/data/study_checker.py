"""Shared checks of the study-configuration parsers: the error builder and code tests."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.data.study_schema import Kind
from analysis.errors import ConfigError


class Checker:
    """Raises ConfigError with the config file and key path in the message."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"study config {self.source}: [{key}] {problem}")

    def table(self, data: Mapping[str, Any], key: str, required: bool = True) -> dict[str, Any]:
        value = dig(data, key)
        if value is None:
            if required:
                raise self.fail(key, "missing required section/key")
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {value!r}")
        return value

    def value(self, table: Mapping[str, Any], key: str, path: str, types: tuple[type, ...],
              required: bool = True, default: Any = None) -> Any:
        if key not in table:
            if required:
                raise self.fail(f"{path}.{key}", "missing required key")
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in types:
            raise self.fail(f"{path}.{key}", f"wrong type: {value!r}")
        if int in types and float not in types and isinstance(value, float):
            value = self.integer(value, f"{path}.{key}")
        if not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise self.fail(f"{path}.{key}", f"must be {names}, got {value!r}")
        return value

    def codes(self, table: Mapping[str, Any], key: str, path: str, required: bool = True,
              numbers: bool = False) -> tuple:
        raw = self.value(table, key, path, (list,), required=required, default=[])
        wanted = (int, float) if numbers else (int,)
        out = []
        for code in raw:
            if not numbers and isinstance(code, float):
                code = self.integer(code, f"{path}.{key}")
            if isinstance(code, bool) or not isinstance(code, wanted):
                what = "numbers" if numbers else "integers"
                raise self.fail(f"{path}.{key}", f"codes must be {what}, got {code!r}")
            out.append(code)
        if required and not out:
            raise self.fail(f"{path}.{key}", "must list at least one code")
        return tuple(out)

    def integer(self, value: float, key: str) -> int:
        """An integral float (``5.0``, as some tools write counts) as an int; ``5.5`` is an
        error naming the key."""
        if not value.is_integer():
            raise self.fail(key, f"must be a whole number, got {value!r}")
        return int(value)

    def unknown_keys(self, table: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=3, cutoff=0.6)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                raise self.fail(f"{path}.{key}", f"unknown key ({hint}allowed: "
                                                 f"{', '.join(allowed)})")


def dig(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node



def is_valid(kind: Kind, value: float) -> bool:
    if kind.codes is not None:
        return value in kind.codes
    assert kind.range is not None
    return kind.range[0] <= value <= kind.range[1]


def check_disjoint(check: Checker, path: str, a: tuple, b: tuple) -> None:
    common = sorted(set(a) & set(b))
    if common:
        raise check.fail(path, f"code(s) {common} listed twice")



def column_list(check: Checker, table: Mapping[str, Any], key: str, path: str
                 ) -> tuple[str, ...]:
    """A column name, or a non-empty list of distinct column names."""
    raw = check.value(table, key, path, (str, list))
    names = [raw] if isinstance(raw, str) else raw
    if not names or not all(isinstance(n, str) and n for n in names):
        raise check.fail(f"{path}.{key}", f"must be a column name or a list of column names, "
                                          f"got {raw!r}")
    if len(set(names)) != len(names):
        raise check.fail(f"{path}.{key}", f"lists a column twice: {raw!r}")
    return tuple(names)


def codes_in_kind(check: Checker, path: str, column: str, codes: tuple,
                   validate: dict[str, str], kinds: dict[str, Kind]) -> None:
    if column not in validate:
        raise check.fail(f"validate.{column}", f"column {column!r} (used in [{path}]) has no kind")
    kind = kinds[validate[column]]
    for code in codes:
        if not is_valid(kind, code):
            raise check.fail(path, f"code {code} is not a valid code of kind {kind.name!r} "
                                   f"({kind.describe()}) of column {column!r}")


def codes_cover(check: Checker, path: str, column: str, codes: tuple, kind: Kind,
                 what: str) -> None:
    # every valid answer must map to a canonical value, or it would silently become NA
    left = sorted(set(kind.codes or ()) - set(codes))
    if left:
        raise check.fail(path, f"valid code(s) {left} of column {column!r} (kind {kind.name!r}) "
                               f"are neither {what}")


