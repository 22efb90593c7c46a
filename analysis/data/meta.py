"""The analysis meta (contract C4, ``<data_clean>/analysis_meta.json``): what this survey
provides (partner types, scales, weights) and lacks (``unavailable``), the stand-ins for
the regional variables of a survey without a city-region scale (``substitutes``), and notes
for the exhibits. Written by the build step; :func:`read_meta` is its one reader.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.data import variables
from analysis.errors import DataError
from analysis.io import read_toml_text

if TYPE_CHECKING:
    import pandas as pd

    from analysis.data.study_settings import BuildSettings

#: Standard variables of the canonical layout that models, exhibits and claims may name, in
#: the order the meta lists them when unavailable (besides those of the model specification).
STANDARD_VARIABLES: tuple[str, ...] = (
    "product", "process", "new_to_market", "process_new_to_industry", "novelty_ordered",
    *(f"breadth_{s}" for s in variables.SCALES),
    *(f"{g}_{side}" for g in variables.PARTNER_GROUPS for side in ("regional", "extra")),
    "log_employees", "foreign_owned", "group", "higher_ed_share", "firm_age",
    "manager_higher_ed", "open_mindedness", "trust_general", "trust_regional",
    "sector", "region", "region_sector", "glocal_type",
)


#: Prefixes of the dummies the build step makes; their names follow the data's categories.
DUMMY_PREFIXES = ("sector_", "region_", "size_class_", "glocal_type_")


def producible_variables(partners: Sequence[str], scales: Sequence[str]
                         ) -> tuple[set[str], tuple[str, ...]]:
    """Every variable the build step can make for a survey whose collaboration battery has
    ``partners`` and ``scales`` (before any data are read: the variable registry of that
    layout and of the canonical one, whose regional variables stand-ins replace, and the
    pass-through columns), and the prefixes of the dummies it makes. A superset, for the
    check of the model specification before any step; the estimate step checks the
    analysis data's own columns."""
    names = set(variables.PASS_THROUGH) | set(STANDARD_VARIABLES)
    for layout in ((variables.PARTNER_TYPES, variables.SCALES), (partners, scales)):
        names |= set(variables.variable_registry(*layout))
        names |= set(variables.variable_registry(*layout, log_plus_one=True))
    return names, DUMMY_PREFIXES


def substitutes(columns: Sequence[str], scales: Sequence[str]) -> dict[str, str]:
    """Stand-ins for the regional variables when the survey has no city-region scale.

    With scales such as ("domestic", "international") the nearest scale plays the part of
    the local one and the farthest that of the extra-regional ones: ``breadth_local`` ->
    ``breadth_domestic``, ``sti_regional`` -> ``sti_domestic``, ``sti_extra`` ->
    ``sti_international``. ``breadth_national`` has none (the domestic scale covers it).
    """
    regional, _ = variables.split_scales(scales)
    if regional or len(scales) < 2:
        return {}
    near, far = scales[0], scales[-1]
    present = set(columns)
    pairs = [("breadth_local", f"breadth_{near}")]
    for group in variables.PARTNER_GROUPS:
        pairs += [(f"{group}_regional", f"{group}_{near}"), (f"{group}_extra", f"{group}_{far}")]
    return {old: new for old, new in pairs if old not in present and new in present}


def analysis_meta(analysis: pd.DataFrame, settings: BuildSettings, partners: Sequence[str],
                  scales: Sequence[str], standard: Sequence[str]) -> dict[str, Any]:
    """The C4 meta: study, partners, scales, unavailable standard variables, weighted.

    Additions beyond C4: ``substitutes`` (see :func:`substitutes`), ``collaboration_type``,
    ``notes`` (sentences for exhibit notes saying what the survey lacks) and, for a study
    with a ``[design]`` section, ``design`` (its columns and singleton rule).
    """
    wanted = list(dict.fromkeys([*standard, *STANDARD_VARIABLES]))
    unavailable = [name for name in wanted if name not in analysis.columns]
    stand_ins = substitutes(list(analysis.columns), scales)
    notes = []
    missing_scales = [s for s in variables.SCALES if s not in scales]
    if missing_scales:
        notes.append(f"The survey records collaboration at the scale(s) {', '.join(scales)} "
                     f"only (no {', '.join(missing_scales)} scale).")
    missing_partners = [p for p in variables.PARTNER_TYPES if p not in partners]
    if missing_partners:
        notes.append(f"The survey lacks the partner type(s) {', '.join(missing_partners)}.")
    if stand_ins:
        notes.append(settings.wording.fill("No {region_unit} scale: ") + "; ".join(
            f"{new} stands in for {old}" for old, new in stand_ins.items()) + ".")
    dropped = [name for name in unavailable if name not in stand_ins]
    if dropped:
        notes.append(f"Not available in this survey: {', '.join(dropped)}.")
    meta = {"study": settings.study, "partners": list(partners), "scales": list(scales),
            "unavailable": unavailable, "weighted": settings.weighted,
            "substitutes": stand_ins, "collaboration_type": settings.collaboration_type,
            "notes": notes}
    if settings.design is not None:  # only for a study with a [design] section
        meta["design"] = settings.design
    return meta


def named_variables(spec_path: Path | None) -> list[str]:
    """Outcomes, block variables and the cluster variable of the model specification at
    ``spec_path``, read as plain TOML: the build records what the survey lacks whether or
    not the specification is valid (the estimate step checks it)."""
    if spec_path is None or not Path(spec_path).is_file():
        return []
    try:
        spec = tomllib.loads(read_toml_text(spec_path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataError(f"model specification {spec_path}: cannot read: {err}") from err
    names = [str(o) for o in spec.get("outcomes", {})]
    for block in spec.get("blocks", {}).values():
        names += [str(v) for v in block.get("variables", [])]
    cluster = spec.get("defaults", {}).get("cluster")
    names += [str(cluster)] if cluster else []
    return list(dict.fromkeys(names))


def meta_json(meta: Mapping[str, Any]) -> str:
    return json.dumps(meta, indent=2) + "\n"


def read_meta(path: Path) -> dict[str, Any]:
    """The analysis meta at ``path``; an absent file means nothing is unavailable ({}).

    DataError when it cannot be read or is not a JSON object whose ``unavailable`` is a
    list of names.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read the analysis meta: {err}") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("unavailable", []), list):
        raise DataError(f"{path}: the analysis meta must be a JSON object whose "
                        "'unavailable' is a list of variable names")
    return meta


def unavailable(meta: Mapping[str, Any]) -> list[str]:
    """The variables this survey cannot provide."""
    return [str(v) for v in meta.get("unavailable", [])]


def resolve_variables(names: Sequence[str], meta: Mapping[str, Any]) -> list[str]:
    """``names`` with each unavailable variable replaced by its substitute, or dropped.

    The rule consumers of C4 can share: a standard variable the survey lacks is replaced by
    ``meta["substitutes"][name]`` when there is one (e.g. breadth_local -> breadth_domestic),
    otherwise left out; duplicates keep their first position.
    """
    missing = set(meta.get("unavailable", []))
    stand_ins = meta.get("substitutes", {}) or {}
    out = [stand_ins.get(n) if n in missing else n for n in names]
    return list(dict.fromkeys(n for n in out if n))
