"""Settings of the robustness analyses (``config/robustness.toml`` and ``--option``)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import RobustnessError
from analysis.io import read_toml_text
from analysis.models.specification import BINARY_ESTIMATORS

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RobustnessConfig:
    """Settings of the robustness step (``config/robustness.toml``; defaults below)."""

    bootstrap_reps: int = 999
    bootstrap_level: float = 0.95
    n_jobs: int = -1
    cluster: str = "region_sector"
    subsample_by: tuple[str, ...] = ("region", "sector")
    estimators: tuple[str, ...] = BINARY_ESTIMATORS
    manager_block: str = "manager"
    curve_estimators: tuple[str, ...] = BINARY_ESTIMATORS
    source: str = "built-in defaults"


#: TOML section -> {key: (RobustnessConfig field, expected type)}.
_CONFIG_KEYS: dict[str, dict[str, tuple[str, type]]] = {
    "parallel": {"n_jobs": ("n_jobs", int)},
    "bootstrap": {"reps": ("bootstrap_reps", int), "level": ("bootstrap_level", float)},
    "standard_errors": {"cluster": ("cluster", str)},
    "subsamples": {"by": ("subsample_by", list)},
    "estimators": {"compare": ("estimators", list)},
    "controls": {"manager_block": ("manager_block", str)},
    "specification_curve": {"estimators": ("curve_estimators", list)},
}
#: ``run_all.py --option KEY=VALUE`` keys that override the file (e.g. bootstrap_reps=99).
OPTION_KEYS = ("bootstrap_reps", "n_jobs")


def _checked(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, float):  # 999.0 is 999; 99.5 is an error
        if not value.is_integer():
            raise RobustnessError(f"{where} must be a whole number, got {value!r}")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise RobustnessError(f"{where} must be a {kind.__name__}, got {value!r}")
    if kind is list:
        if not all(isinstance(v, str) for v in value):
            raise RobustnessError(f"{where} must be a list of names, got {value!r}")
        return tuple(value)
    return value


def parse_robustness_config(raw: Mapping[str, Any], source: str,
                            overrides: Mapping[str, Any] | None = None) -> RobustnessConfig:
    """Check a parsed ``robustness.toml`` (and option overrides) into a config."""
    values: dict[str, Any] = {}
    for section, body in raw.items():
        if section not in _CONFIG_KEYS or not isinstance(body, dict):
            raise RobustnessError(f"{source}: unknown section [{section}] (known: "
                                  f"{', '.join(_CONFIG_KEYS)})")
        for key, value in body.items():
            if key not in _CONFIG_KEYS[section]:
                raise RobustnessError(f"{source}: [{section}] has the unknown key '{key}'")
            name, kind = _CONFIG_KEYS[section][key]
            values[name] = _checked(value, kind, f"{source}: {section}.{key}")
    for key, value in (overrides or {}).items():
        if key in OPTION_KEYS:
            values[key] = _checked(value, int, f"option {key}")
    config = RobustnessConfig(**values, source=source)
    if config.bootstrap_reps < 2:
        raise RobustnessError(f"{source}: bootstrap.reps must be at least 2, got "
                              f"{config.bootstrap_reps}")
    if not 0 < config.bootstrap_level < 1:
        raise RobustnessError(f"{source}: bootstrap.level must be in (0, 1), got "
                              f"{config.bootstrap_level}")
    if config.n_jobs == 0:
        raise RobustnessError(f"{source}: parallel.n_jobs must be -1 (all cores) or >= 1")
    for where, names in (("estimators.compare", config.estimators),
                         ("specification_curve.estimators", config.curve_estimators)):
        bad = [e for e in names if e not in BINARY_ESTIMATORS]
        if bad or not names:
            raise RobustnessError(f"{source}: {where} must list some of "
                                  f"{', '.join(BINARY_ESTIMATORS)}; got {list(names)}")
    return config


def load_robustness_config(path: Path | None,
                           overrides: Mapping[str, Any] | None = None) -> RobustnessConfig:
    """Read ``path`` (absent file: the defaults), then apply ``overrides``."""
    if path is None or not Path(path).is_file():
        return parse_robustness_config({}, "built-in defaults", overrides)
    try:
        raw = tomllib.loads(read_toml_text(path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise RobustnessError(f"{path}: not valid TOML: {err}") from err
    return parse_robustness_config(raw, str(path), overrides)
