"""The study-configuration sections for real national surveys.

``[derived]`` (a variable made of several columns), ``[size]`` (size bands or the survey's
own size class), ``[sparse_categories]`` (pooling of categories with few firms),
``[design]`` (strata, PSUs and finite-population correction) and the wording keys of
``[study]`` (country, regional unit, sector classification). Each parser raises
ConfigError naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.data.study_checker import Checker, column_list, is_valid
from analysis.data.study_keys import allowed
from analysis.data.study_schema import (
    COMBINE_RULES,
    DEFAULT_SIZE_BANDS,
    POOLABLE,
    SINGLETON_RULES,
    Derived,
    DesignSpec,
    Kind,
    SizeClasses,
    SparseCategories,
    StudyConfig,
)
from analysis.data.wording import Wording

#: Prefix of the kind made for the sum of a [derived] variable.
SUM_KIND_PREFIX = "sum of "


def parse_wording(check: Checker, study: Mapping[str, Any]) -> Wording:
    """``[study]`` country, region_unit and sector_classification."""
    values = {}
    defaults = Wording()
    for key, default in (("country", ""), ("region_unit", defaults.region_unit),
                         ("sector_classification", defaults.sector_classification)):
        value = check.value(study, key, "study", (str,), required=False, default=default)
        if key != "country" and not value.strip():
            raise check.fail(f"study.{key}", "must be a non-empty text")
        values[key] = value.strip()
    return Wording(**values)


def parse_derived(check: Checker, data: Mapping[str, Any], kinds: dict[str, Kind],
                  validate: dict[str, str]) -> dict[str, Derived]:
    """``[derived.<name>]`` tables; adds each source and derived column to ``validate``
    (and a range kind for a sum to ``kinds``) so that later sections treat it as a column."""
    out: dict[str, Derived] = {}
    for name, spec in check.table(data, "derived", required=False).items():
        path = f"derived.{name}"
        if not isinstance(spec, dict):
            raise check.fail(path, f"must be a table, got {spec!r}")
        check.unknown_keys(spec, path, allowed("derived.*"))
        columns = column_list(check, spec, "columns", path)
        if len(columns) < 2:
            raise check.fail(f"{path}.columns", "must list at least two columns")
        if name in columns:
            raise check.fail(f"{path}.columns", f"a derived variable cannot use its own name "
                                                f"{name!r} as a source")
        combine = check.value(spec, "combine", path, (str,))
        if combine not in COMBINE_RULES:
            raise check.fail(f"{path}.combine", f"unknown rule {combine!r} (use "
                                                f"{', '.join(COMBINE_RULES)})")
        kname = check.value(spec, "kind", path, (str,))
        if kname not in kinds:
            raise check.fail(f"{path}.kind", f"unknown kind {kname!r} (defined kinds: "
                                             f"{', '.join(kinds)})")
        kind = kinds[kname]
        yes = check.codes(spec, "yes", path, required=combine == "any")
        no = check.codes(spec, "no", path, required=combine == "any")
        if combine != "any" and (yes or no):
            raise check.fail(path, 'yes and no are for combine = "any"')
        if combine == "sum" and kind.codes is None and kind.range is None:
            raise check.fail(f"{path}.kind", "a sum needs a kind with codes or a range")
        for column in columns:
            given = validate.get(column)
            if given is not None and given != kname:
                raise check.fail(f"validate.{column}", f"column {column!r} has kind {given!r} "
                                                       f"but [{path}] says {kname!r}")
            validate[column] = kname
        if name in validate:
            raise check.fail(f"validate.{name}", f"{name!r} is a derived variable: it takes "
                                                 f"its kind from [{path}]")
        validate[name] = _derived_kind(kinds, name, kind, combine, len(columns))
        out[name] = Derived(name, columns, combine, kname, yes, no)
    return out


def _derived_kind(kinds: dict[str, Kind], name: str, kind: Kind, combine: str,
                  n_columns: int) -> str:
    """The kind of a derived column: its sources' kind, or a range for a sum."""
    if combine != "sum":
        return kind.name
    top = max(kind.codes) if kind.codes is not None else kind.range[1]
    low = min(min(kind.codes) if kind.codes is not None else kind.range[0], 0)
    summed = Kind(f"{SUM_KIND_PREFIX}{name}", None, (low * n_columns, top * n_columns),
                  kind.dont_know, kind.refused)
    kinds[summed.name] = summed
    return summed.name


def parse_size(check: Checker, data: Mapping[str, Any], columns: dict[str, str]
               ) -> SizeClasses:
    """``[size]``: employee bands, or names of the codes of ``columns.size_class``."""
    table = check.table(data, "size", required=False)
    check.unknown_keys(table, "size", allowed("size"))
    bands = tuple(check.codes(table, "bands", "size", required=False)) or DEFAULT_SIZE_BANDS
    if any(b < 0 for b in bands) or list(bands) != sorted(set(bands)):
        raise check.fail("size.bands", f"must be increasing lower bounds >= 0, got "
                                       f"{list(bands)}")
    classes: dict[int, str] = {}
    for key, label in check.table(table, "classes", required=False).items():
        try:
            code = int(key)
        except ValueError:
            raise check.fail(f"size.classes.{key}", "key must be an integer code") from None
        if not isinstance(label, str) or not label.strip():
            raise check.fail(f"size.classes.{key}", f"must be a name, got {label!r}")
        classes[code] = label.strip()
    if classes and "size_class" not in columns:
        raise check.fail("size.classes", "needs columns.size_class (the survey's size class)")
    if "size_class" in columns and not classes:
        raise check.fail("size.classes", "columns.size_class needs names for its codes: "
                                         "[size.classes] 1 = \"10-49\", ...")
    if "size_class" in columns and "bands" in table:
        raise check.fail("size.bands", "give either bands (from employees) or the survey's "
                                       "size class (columns.size_class), not both")
    return SizeClasses(bands, dict(sorted(classes.items())))


def parse_sparse(check: Checker, data: Mapping[str, Any]) -> SparseCategories:
    """``[sparse_categories]``: pool categories with fewer than ``min_firms`` firms."""
    table = check.table(data, "sparse_categories", required=False)
    check.unknown_keys(table, "sparse_categories", allowed("sparse_categories"))
    path = "sparse_categories"
    min_firms = check.value(table, "min_firms", path, (int,), required=False, default=0)
    if min_firms < 0:
        raise check.fail(f"{path}.min_firms", f"must be 0 (off) or more, got {min_firms}")
    variables = tuple(check.value(table, "variables", path, (list,), required=False,
                                  default=list(POOLABLE)))
    unknown = [v for v in variables if v not in POOLABLE]
    if unknown or not variables:
        raise check.fail(f"{path}.variables", f"must list some of {', '.join(POOLABLE)}, got "
                                              f"{list(variables)}")
    label = check.value(table, "label", path, (str,), required=False, default="Other")
    if not label.strip():
        raise check.fail(f"{path}.label", "must be a non-empty name")
    return SparseCategories(min_firms, variables, label.strip())


def parse_design(check: Checker, data: Mapping[str, Any]) -> DesignSpec | None:
    """``[design]``: strata, PSU and fpc columns and the singleton-stratum rule."""
    table = check.table(data, "design", required=False)
    if not table:
        return None
    check.unknown_keys(table, "design", allowed("design"))
    values = {key: check.value(table, key, "design", (str,), required=False)
              for key in ("strata", "psu", "fpc")}
    if not any(values.values()):
        raise check.fail("design", "name at least one of strata, psu (and fpc)")
    singleton = check.value(table, "singleton", "design", (str,), required=False,
                            default="fail")
    if singleton not in SINGLETON_RULES:
        raise check.fail("design.singleton", f"unknown rule {singleton!r} (use "
                                             f"{', '.join(SINGLETON_RULES)})")
    named = [v for v in values.values() if v]
    if len(set(named)) != len(named):
        raise check.fail("design", "strata, psu and fpc must be different columns")
    return DesignSpec(values["strata"], values["psu"], values["fpc"], singleton)


def check_sections(check: Checker, cfg: StudyConfig) -> None:
    """Checks of the national-survey sections that need the whole configuration."""
    c = cfg.collaboration
    if c is not None and c.filter is not None:
        kind = cfg.column_kinds().get(c.filter)
        if kind is None:
            raise check.fail(f"validate.{c.filter}", f"filter question {c.filter!r} "
                                                     "(collaboration.filter) has no kind")
        bad = [code for code in c.filter_asked if not is_valid(kind, code)]
        if bad:
            raise check.fail("collaboration.filter_asked", f"code(s) {bad} are not valid "
                                                           f"codes of kind {kind.name!r} "
                                                           f"({kind.describe()})")
    if "size_class" in cfg.columns:
        column = cfg.columns["size_class"]
        kind = cfg.kind_of(column)
        if kind.codes is None:
            raise check.fail(f"validate.{column}", f"the size class {column!r} needs a kind "
                                                   "with codes")
        unnamed = sorted(set(kind.codes) - set(cfg.size.classes))
        extra = sorted(set(cfg.size.classes) - set(kind.codes))
        if unnamed or extra:
            what = (f"code(s) {unnamed} of kind {kind.name!r} have no name" if unnamed else
                    f"code(s) {extra} are not codes of kind {kind.name!r}")
            raise check.fail("size.classes", what)
    design = cfg.design
    if design is not None and design.fpc is not None and design.fpc in cfg.validate:
        kind = cfg.kind_of(design.fpc)
        low = kind.range[0] if kind.range is not None else min(kind.codes or (1,))
        if low <= 0:
            raise check.fail(f"validate.{design.fpc}", "the fpc column holds population "
                                                       "totals or sampling fractions: its "
                                                       "kind must start above 0")
