"""The ``[collaboration]`` section: layout of the battery, its codes and intensity weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from analysis import config
from analysis.data.study_checker import Checker, check_disjoint, column_list, dig
from analysis.data.study_keys import allowed
from analysis.data.study_schema import (
    ALLOWED_SCALES,
    BLANK_SCOPES,
    COLLABORATION_TYPES,
    Collaboration,
    Kind,
)


def parse_collaboration(check: Checker, data: Mapping[str, Any],
                         kinds: dict[str, Kind]) -> Collaboration | None:
    table = check.table(data, "collaboration", required=False)
    if not table:
        return None
    path = "collaboration"
    check.unknown_keys(table, path, allowed("collaboration"))
    ctype = check.value(table, "type", path, (str,), required=False, default="frequency")
    if ctype not in COLLABORATION_TYPES:
        raise check.fail(f"{path}.type", f"unknown type {ctype!r} (use frequency or binary)")
    template, partners, scales, sources = _collaboration_layout(check, table)
    kname = dig(data, "validate.collaboration")
    if kname is None:
        raise check.fail("validate.collaboration", "missing: the kind of the collaboration items")
    kind = kinds[kname]
    if kind.codes is None:
        raise check.fail("validate.collaboration", f"kind {kname!r} must list codes")
    if ctype == "binary":
        never, yes, intensity = _binary_collaboration(check, table, kind)
    else:
        never, intensity = _frequency_collaboration(check, data, table, kind)
        yes = tuple(c for c in kind.codes if c not in never)
    routed = tuple(check.value(table, "routed_by_group", path, (list,), required=False,
                               default=[]))
    for partner in routed:
        if partner not in partners:
            raise check.fail(f"{path}.routed_by_group", f"partner type {partner!r} is not in "
                                                        f"the collaboration battery")
    draft = Collaboration(template, partners, scales, never, intensity, routed, kname, ctype,
                          yes, sources)
    return replace(draft, **_grid_settings(check, table, draft))


def _grid_settings(check: Checker, table: Mapping[str, Any], draft: Collaboration
                   ) -> dict[str, Any]:
    """Tick-box grids and routing by a filter question: ``blank_means_no``,
    ``blank_scope``, ``filter`` and ``filter_asked``."""
    path = "collaboration"
    items = [col for p in draft.partners for s in draft.scales for col in draft.columns(p, s)]
    raw = table.get("blank_means_no", False)
    if isinstance(raw, bool):
        blank = tuple(items) if raw else ()
    elif isinstance(raw, list) and raw and all(isinstance(c, str) for c in raw):
        unknown = [c for c in raw if c not in items]
        if unknown:
            raise check.fail(f"{path}.blank_means_no", f"{unknown} are not items of the "
                                                       f"battery (its columns: "
                                                       f"{', '.join(items[:6])}, ...)")
        blank = tuple(dict.fromkeys(raw))
    else:
        raise check.fail(f"{path}.blank_means_no", f"must be true, false or a list of item "
                                                   f"columns, got {raw!r}")
    scope = check.value(table, "blank_scope", path, (str,), required=False, default="all")
    if scope not in BLANK_SCOPES:
        raise check.fail(f"{path}.blank_scope", f"unknown scope {scope!r} (use "
                                                f"{', '.join(BLANK_SCOPES)})")
    column = check.value(table, "filter", path, (str,), required=False)
    asked = check.codes(table, "filter_asked", path, required=column is not None)
    if asked and column is None:
        raise check.fail(f"{path}.filter_asked", "needs collaboration.filter (the column of "
                                                 "the filter question)")
    if scope == "filter_answered" and column is None:
        raise check.fail(f"{path}.blank_scope", '"filter_answered" needs collaboration.filter')
    if "blank_scope" in table and not blank:
        raise check.fail(f"{path}.blank_scope", "applies only with blank_means_no")
    if column is not None and draft.routed_by_group:
        raise check.fail(f"{path}.filter", "give either a filter question or routed_by_group, "
                                           "not both")
    return {"blank_means_no": blank, "blank_scope": scope, "filter": column,
            "filter_asked": asked}


def _frequency_collaboration(check: Checker, data: Mapping[str, Any],
                             table: Mapping[str, Any], kind: Kind
                             ) -> tuple[tuple[int, ...], dict[int, float]]:
    """``never`` codes and intensity weights of a frequency battery."""
    path = "collaboration"
    for key in ("yes", "no"):
        if key in table:
            raise check.fail(f"{path}.{key}", 'only for type = "binary" (a frequency battery '
                                              "gives `never`)")
    never = check.codes(table, "never", path)
    for code in never:
        if code not in kind.codes:
            raise check.fail(f"{path}.never", f"code {code} is not among the codes of kind "
                                              f"{kind.name!r} ({kind.describe()})")
    intensity_raw = check.table(data, f"{path}.intensity", required=False)
    intensity: dict[int, float] = {}
    for key, weight in intensity_raw.items():
        ipath = f"{path}.intensity.{key}"
        try:
            code = int(key)
        except ValueError:
            raise check.fail(ipath, f"key must be an integer code, got {key!r}") from None
        if code not in kind.codes:
            raise check.fail(ipath, f"intensity code {code} is not among the codes of kind "
                                    f"{kind.name!r} ({kind.describe()})")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise check.fail(ipath, f"weight must be a number, got {weight!r}")
        intensity[code] = float(weight)
    if intensity and set(intensity) != set(kind.codes):
        missing = sorted(set(kind.codes) - set(intensity))
        raise check.fail(f"{path}.intensity", f"no weight for code(s) {missing}")
    return never, intensity


def _binary_collaboration(check: Checker, table: Mapping[str, Any], kind: Kind
                          ) -> tuple[tuple[int, ...], tuple[int, ...], dict[int, float]]:
    """``no`` (= never) and ``yes`` codes of a yes/no battery; intensity = count."""
    path = "collaboration"
    for key in ("never", "intensity"):
        if key in table:
            raise check.fail(f"{path}.{key}", 'not used with type = "binary" (give `yes` and '
                                              "`no`; intensity is the number of partner types)")
    yes, no = check.codes(table, "yes", path), check.codes(table, "no", path)
    check_disjoint(check, path, yes, no)
    for code in yes + no:
        if code not in kind.codes:
            raise check.fail(path, f"code {code} is not among the codes of kind "
                                   f"{kind.name!r} ({kind.describe()})")
    left = sorted(set(kind.codes) - set(yes) - set(no))
    if left:
        raise check.fail(path, f"valid code(s) {left} of kind {kind.name!r} are neither yes "
                               f"nor no")
    return no, yes, {}


def _collaboration_layout(check: Checker, table: Mapping[str, Any]
                          ) -> tuple[str, dict[str, str], dict[str, str],
                                     dict[tuple[str, str], tuple[str, ...]] | None]:
    """Template, partner codes, scale codes and (partner, scale) -> file columns.

    Either ``column_template`` with ``partners`` and ``scales`` (a scale code may be a list:
    its columns are combined), or explicit ``[collaboration.items.<partner>]`` tables.
    """
    path = "collaboration"
    if "items" in table:
        for key in ("column_template", "partners", "scales"):
            if key in table:
                raise check.fail(f"{path}.{key}", "give either [collaboration.items] or "
                                                  "column_template with partners and scales")
        return _explicit_items(check, check.table(table, "items"))
    template = check.value(table, "column_template", path, (str,))
    if "{partner}" not in template or "{scale}" not in template:
        raise check.fail(f"{path}.column_template", "must contain {partner} and {scale}")
    partners = _code_map(check, table, "partners", config.PARTNER_TYPES, "partner type")
    raw_scales = _code_map(check, table, "scales", ALLOWED_SCALES, "scale", lists=True)
    if all(isinstance(code, str) for code in raw_scales.values()):
        return template, partners, raw_scales, None
    sources: dict[tuple[str, str], tuple[str, ...]] = {}
    for p, pcode in partners.items():
        for s, scodes in raw_scales.items():
            codes = [scodes] if isinstance(scodes, str) else scodes
            sources[(p, s)] = tuple(template.format(partner=pcode, scale=c) for c in codes)
    scales = {s: c if isinstance(c, str) else c[0] for s, c in raw_scales.items()}
    return template, partners, scales, sources


def _explicit_items(check: Checker, items: Mapping[str, Any]
                    ) -> tuple[str, dict[str, str], dict[str, str],
                               dict[tuple[str, str], tuple[str, ...]]]:
    path = "collaboration.items"
    if not items:
        raise check.fail(path, "must list at least one partner type")
    sources: dict[tuple[str, str], tuple[str, ...]] = {}
    scale_sets = []
    for partner, by_scale in items.items():
        ppath = f"{path}.{partner}"
        if partner not in config.PARTNER_TYPES:
            raise check.fail(ppath, f"unknown partner type {partner!r} (allowed: "
                                    f"{', '.join(config.PARTNER_TYPES)})")
        if not isinstance(by_scale, dict) or not by_scale:
            raise check.fail(ppath, f"must be a table scale = column(s), got {by_scale!r}")
        for scale in by_scale:
            if scale not in ALLOWED_SCALES:
                raise check.fail(f"{ppath}.{scale}", f"unknown scale {scale!r} (allowed: "
                                                     f"{', '.join(ALLOWED_SCALES)})")
            sources[(partner, scale)] = column_list(check, by_scale, scale, ppath)
        scale_sets.append((partner, set(by_scale)))
    every = set().union(*(found for _, found in scale_sets))
    for partner, found in scale_sets:
        if found != every:
            raise check.fail(f"{path}.{partner}", f"lacks scale(s) {sorted(every - found)}: "
                                                  f"every partner type needs every scale")
    partners = {p: p for p in config.PARTNER_TYPES if p in items}
    scales = {s: s for s in ALLOWED_SCALES if s in every}
    return "", partners, scales, sources


def _code_map(check: Checker, table: Mapping[str, Any], key: str, allowed: tuple[str, ...],
              what: str, lists: bool = False) -> dict[str, Any]:
    path = f"collaboration.{key}"
    raw = check.table(table, key)
    if not raw:
        raise check.fail(path, f"must list at least one {what}")
    for name, code in raw.items():
        if name not in allowed:
            raise check.fail(f"{path}.{name}", f"unknown {what} {name!r} (allowed: "
                                               f"{', '.join(allowed)})")
        many = lists and isinstance(code, list) and code and all(
            isinstance(c, str) and c for c in code) and len(set(code)) == len(code)
        if not many and (not isinstance(code, str) or not code):
            expected = "a non-empty string or a list of distinct strings" if lists else \
                "a non-empty string"
            raise check.fail(f"{path}.{name}", f"code must be {expected}, got {code!r}")
    # canonical order (config.PARTNER_TYPES / SCALES), so exhibits do not depend on the file
    return {name: raw[name] for name in allowed if name in raw}


