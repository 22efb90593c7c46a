"""Read a study TOML and check it section by section (raises ConfigError naming the key)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis import config
from analysis.data.study_checker import (
    Checker,
    check_disjoint,
    codes_cover,
    codes_in_kind,
    column_list,
    is_valid,
)
from analysis.data.study_collaboration import parse_collaboration
from analysis.data.study_keys import allowed, sections
from analysis.data.study_schema import (
    DUPLICATE_RULES,
    FORMATS,
    MISSING_EMPLOYEES_RULES,
    OUTCOME_NAMES,
    REQUIRED_ROLES,
    ROLES,
    TEXT_ROLES,
    ZERO_EMPLOYEES_RULES,
    Disclosure,
    Kind,
    OpenMindedness,
    Outcome,
    SampleRules,
    StudyConfig,
    num_text,
)
from analysis.data.study_sections import (
    check_sections,
    parse_derived,
    parse_design,
    parse_size,
    parse_sparse,
    parse_wording,
)
from analysis.errors import ConfigError
from analysis.io import read_toml_text


def infer_format(path: Path, source: Path | None = None) -> str:
    """File format from the extension (sav, dta, csv, parquet)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        where = f"study config {source}: " if source else ""
        raise ConfigError(f"{where}[study.data_file] cannot infer the format of {path.name!r} "
                          f"from its extension; use one of {', '.join(sorted(FORMATS))} or "
                          f"set study.format")
    return FORMATS[suffix]


def load_study_config(path: Path | str, root: Path | None = None) -> StudyConfig:
    """Read and check a study TOML; ``data_file`` is resolved against ``root`` (repo root)."""
    source = Path(path)
    check = Checker(source)
    if not source.is_file():
        raise ConfigError(f"study config {source}: file not found")
    try:
        data = tomllib.loads(read_toml_text(source))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"study config {source}: not valid TOML: {err}") from err
    return parse_study_config(data, source, root if root is not None else config.ROOT, check)


def parse_study_config(data: Mapping[str, Any], source: Path, root: Path,
                       check: Checker | None = None) -> StudyConfig:
    """Build a checked :class:`StudyConfig` from parsed TOML ``data``."""
    check = check or Checker(source)
    check.unknown_keys(data, "top level", sections())

    study = check.table(data, "study")
    check.unknown_keys(study, "study", allowed("study"))
    name = check.value(study, "name", "study", (str,))
    data_file_text = check.value(study, "data_file", "study", (str,))
    data_file = Path(data_file_text)
    if not data_file.is_absolute():
        data_file = Path(root) / data_file
    fmt = check.value(study, "format", "study", (str,), required=False)
    if fmt is None:
        fmt = infer_format(data_file, source)
    elif fmt not in set(FORMATS.values()):
        raise check.fail("study.format", f"unknown format {fmt!r} (use sav, dta, csv, parquet)")

    kinds = _parse_kinds(check, data)
    columns = _parse_columns(check, data)
    validate = _parse_validate(check, data, kinds)
    derived = parse_derived(check, data, kinds, validate)
    sample = _parse_sample(check, data, columns)
    outcomes = _parse_outcomes(check, data, validate, kinds)
    binary = check.table(data, "binary_codes", required="group" in columns)
    check.unknown_keys(binary, "binary_codes", allowed("binary_codes"))
    binary_yes = check.codes(binary, "yes", "binary_codes", required=bool(binary))
    binary_no = check.codes(binary, "no", "binary_codes", required=bool(binary))
    check_disjoint(check, "binary_codes", binary_yes, binary_no)
    collaboration = parse_collaboration(check, data, kinds)
    open_minded = _parse_open_mindedness(check, data)
    regions = _parse_regions(check, data)
    sectors = _parse_sectors(check, data)
    disclosure = _parse_disclosure(check, data)
    recode = _parse_recode(check, data)

    cfg = StudyConfig(
        source=source, name=name,
        title=check.value(study, "title", "study", (str,), required=False, default=name),
        synthetic=check.value(study, "synthetic", "study", (bool,), required=False,
                              default=False),
        data_note=check.value(study, "data_note", "study", (str,), required=False, default=""),
        data_file=data_file, format=fmt, sample=sample, columns=columns, outcomes=outcomes,
        binary_yes=binary_yes, binary_no=binary_no, collaboration=collaboration,
        open_mindedness=open_minded, regions=regions, sectors=sectors, kinds=kinds,
        validate=validate,
        country=check.value(study, "country", "study", (str,), required=False, default=""),
        survey_year=check.value(study, "survey_year", "study", (int,), required=False),
        disclosure=disclosure, recode=recode, wording=parse_wording(check, study),
        derived=derived, size=parse_size(check, data, columns),
        sparse=parse_sparse(check, data), design=parse_design(check, data),
    )
    _cross_check(check, cfg)
    return cfg


def _parse_kinds(check: Checker, data: Mapping[str, Any]) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for kname, spec in check.table(data, "kinds").items():
        path = f"kinds.{kname}"
        if not isinstance(spec, dict):
            raise check.fail(path, f"must be a table, got {spec!r}")
        check.unknown_keys(spec, path, allowed("kinds.*"))
        if ("codes" in spec) == ("range" in spec):
            raise check.fail(path, "give exactly one of `codes` (valid answers) or `range`")
        codes = check.codes(spec, "codes", path) if "codes" in spec else None
        rng = None
        if "range" in spec:
            r = check.codes(spec, "range", path, numbers=True)
            if len(r) != 2 or r[0] > r[1]:
                raise check.fail(f"{path}.range", f"must be [lo, hi] with lo <= hi, got {list(r)}")
            rng = (r[0], r[1])
        dk = check.codes(spec, "dont_know", path, required=False, numbers=True)
        rf = check.codes(spec, "refused", path, required=False, numbers=True)
        kind = Kind(kname, codes, rng, dk, rf)
        check_disjoint(check, f"{path}.dont_know/refused", dk, rf)
        for code in (*dk, *rf):
            if is_valid(kind, code):
                raise check.fail(path, f"missing code {num_text(code)} is also a valid value")
        kinds[kname] = kind
    return kinds


def _parse_columns(check: Checker, data: Mapping[str, Any]) -> dict[str, str]:
    table = check.table(data, "columns")
    check.unknown_keys(table, "columns", ROLES)
    columns: dict[str, str] = {}
    for role in ROLES:  # canonical order, whatever the file's order
        col = check.value(table, role, "columns", (str,), required=role in REQUIRED_ROLES)
        if col is not None:
            columns[role] = col
    return columns


def _parse_validate(check: Checker, data: Mapping[str, Any],
                    kinds: dict[str, Kind]) -> dict[str, str]:
    table = check.table(data, "validate")
    out: dict[str, str] = {}
    for col, kname in table.items():
        if not isinstance(kname, str):
            raise check.fail(f"validate.{col}", f"must name a kind, got {kname!r}")
        if kname not in kinds:
            raise check.fail(f"validate.{col}", f"unknown kind {kname!r} (defined kinds: "
                                                f"{', '.join(kinds)})")
        if col != "collaboration":
            out[col] = kname
    return out


def _parse_sample(check: Checker, data: Mapping[str, Any],
                  columns: dict[str, str]) -> SampleRules:
    table = check.table(data, "sample", required=False)
    check.unknown_keys(table, "sample", allowed("sample"))
    min_emp = check.value(table, "min_employees", "sample", (int, float), required=False)
    if min_emp is not None and "employees" not in columns:
        raise check.fail("sample.min_employees", "needs columns.employees")
    dup = check.value(table, "duplicates", "sample", (str,), required=False, default="first")
    if dup not in DUPLICATE_RULES:
        raise check.fail("sample.duplicates", f"unknown rule {dup!r} (use first or last)")
    rules = {}
    for key, choices, default in (("zero_employees", ZERO_EMPLOYEES_RULES, "error"),
                                  ("missing_employees", MISSING_EMPLOYEES_RULES, "keep")):
        value = check.value(table, key, "sample", (str,), required=False, default=default)
        if value not in choices:
            raise check.fail(f"sample.{key}", f"unknown rule {value!r} (use "
                                              f"{', '.join(choices)})")
        if key in table and "employees" not in columns:
            raise check.fail(f"sample.{key}", "needs columns.employees")
        rules[key] = value
    return SampleRules(min_emp, dup, **rules)


def _parse_outcomes(check: Checker, data: Mapping[str, Any], validate: dict[str, str],
                    kinds: dict[str, Kind]) -> dict[str, Outcome]:
    table = check.table(data, "outcomes")
    absent = [name for name in OUTCOME_NAMES if name not in table]
    if absent:
        raise check.fail("outcomes", f"must define the outcome(s) {', '.join(absent)} "
                                     f"([outcomes.{absent[0]}])")
    out: dict[str, Outcome] = {}
    for oname, spec in table.items():
        path = f"outcomes.{oname}"
        if oname not in OUTCOME_NAMES:
            raise check.fail(path, f"unknown outcome {oname!r} (allowed: "
                                   f"{', '.join(OUTCOME_NAMES)})")
        if not isinstance(spec, dict):
            raise check.fail(path, f"must be a table, got {spec!r}")
        check.unknown_keys(spec, path, allowed("outcomes.*"))
        columns = column_list(check, spec, "column", path)
        yes, no = check.codes(spec, "yes", path), check.codes(spec, "no", path)
        check_disjoint(check, path, yes, no)
        nov = check.value(spec, "novelty_column", path, (str,), required=False)
        firm = check.codes(spec, "new_to_firm", path, required=nov is not None)
        market = check.codes(spec, "new_to_market", path, required=nov is not None)
        check_disjoint(check, path, firm, market)
        outcome = Outcome(oname, columns[0], yes, no, nov, firm, market, columns[1:])
        for column in columns:
            codes_in_kind(check, path, column, yes + no, validate, kinds)
            codes_cover(check, path, column, yes + no, kinds[validate[column]], "yes nor no")
        if nov is not None:
            codes_in_kind(check, path, nov, firm + market, validate, kinds)
            codes_cover(check, path, nov, firm + market, kinds[validate[nov]],
                         "new_to_firm nor new_to_market")
        out[oname] = outcome
    return out


def _parse_open_mindedness(check: Checker, data: Mapping[str, Any]) -> OpenMindedness | None:
    table = check.table(data, "open_mindedness", required=False)
    if not table:
        return None
    path = "open_mindedness"
    check.unknown_keys(table, path, allowed("open_mindedness"))
    items = tuple(check.value(table, "items", path, (list,)))
    reverse = tuple(check.value(table, "reverse", path, (list,), required=False, default=[]))
    if not items or not all(isinstance(i, str) for i in items):
        raise check.fail(f"{path}.items", "must list the item columns")
    for col in reverse:
        if col not in items:
            raise check.fail(f"{path}.reverse", f"{col!r} is not one of the items")
    lo = check.value(table, "scale_min", path, (int,))
    hi = check.value(table, "scale_max", path, (int,))
    if lo >= hi:
        raise check.fail(path, f"scale_min ({lo}) must be below scale_max ({hi})")
    return OpenMindedness(items, reverse, lo, hi)


def region_code(key: str) -> int | str:
    """A ``[regions]`` key: an integer code (``1``, ``"-3"``) or a text code (``"DE1"``).

    Only canonical integers become numbers, so a text code with leading zeros ("01")
    stays text and matches the same text in the file.
    """
    text = key.strip()
    try:
        number = int(text)
    except ValueError:
        return text
    return number if str(number) == text else text


def _parse_regions(check: Checker, data: Mapping[str, Any]) -> dict[int | str, str]:
    out: dict[int | str, str] = {}
    for key, name in check.table(data, "regions", required=False).items():
        code = region_code(key)
        if code == "":
            raise check.fail(f"regions.{key}", "key must be a region code, got an empty text")
        if code in out:
            raise check.fail(f"regions.{key}", f"region code {code!r} is listed twice")
        if not isinstance(name, str) or not name:
            raise check.fail(f"regions.{key}", f"name must be a non-empty string, got {name!r}")
        out[code] = name  # several codes may share a name: those regions are pooled
    return out


def _parse_recode(check: Checker, data: Mapping[str, Any]
                  ) -> dict[str, dict[str, int | float]]:
    """``[recode.<column>]`` tables: text value = numeric code (keys trimmed)."""
    out: dict[str, dict[str, int | float]] = {}
    for column, table in check.table(data, "recode", required=False).items():
        path = f"recode.{column}"
        if not isinstance(table, dict) or not table:
            raise check.fail(path, f"must be a table of text value = code (e.g. Yes = 1), got "
                                   f"{table!r}")
        mapping: dict[str, int | float] = {}
        for text, code in table.items():
            key = text.strip()
            where = f'{path}."{text}"'
            if not key:
                raise check.fail(where, "an empty text is system-missing and cannot be recoded")
            if key in mapping:
                raise check.fail(where, f"text {key!r} is listed twice (surrounding whitespace "
                                        "is ignored)")
            if isinstance(code, bool) or not isinstance(code, int | float):
                raise check.fail(where, f"code must be a number, got {code!r}")
            mapping[key] = code
        out[column] = mapping
    return out


def _parse_sectors(check: Checker, data: Mapping[str, Any]) -> dict[str, tuple]:
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    seen: list[tuple[int, int, str]] = []
    for sector, ranges in check.table(data, "sectors", required=False).items():
        path = f"sectors.{sector}"
        if not isinstance(ranges, list) or not ranges:
            raise check.fail(path, f"must be a list of codes or [lo, hi] ranges, got "
                                   f"{ranges!r}")
        parsed = []
        for r in ranges:
            if isinstance(r, float):
                r = check.integer(r, path)
            if isinstance(r, list):
                r = [check.integer(x, path) if isinstance(x, float) else x for x in r]
            if isinstance(r, int) and not isinstance(r, bool):
                r = [r, r]  # a single code: an explicit code -> group map
            if (not isinstance(r, list) or len(r) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in r)
                    or r[0] > r[1]):
                raise check.fail(path, f"range {r!r} is not [lo, hi] (integers, lo <= hi)")
            for lo, hi, other in seen:
                if r[0] <= hi and lo <= r[1]:
                    raise check.fail(path, f"range {r} overlaps [{lo}, {hi}] of sector {other!r}")
            seen.append((r[0], r[1], sector))
            parsed.append((r[0], r[1]))
        out[sector] = tuple(parsed)
    return out


def _parse_disclosure(check: Checker, data: Mapping[str, Any]) -> Disclosure:
    table = check.table(data, "disclosure", required=False)
    check.unknown_keys(table, "disclosure", allowed("disclosure"))
    count = check.value(table, "min_cell_count", "disclosure", (int,), required=False,
                        default=Disclosure.min_cell_count)
    if count < 1:
        raise check.fail("disclosure.min_cell_count", f"must be at least 1, got {count}")
    suppress = check.value(table, "suppress", "disclosure", (bool,), required=False,
                           default=Disclosure.suppress)
    top = check.value(table, "dominance_n", "disclosure", (int,), required=False,
                      default=Disclosure.dominance_n)
    if not 1 <= top <= 5:
        raise check.fail("disclosure.dominance_n", f"must be 1 to 5, got {top}")
    share = check.value(table, "dominance_share", "disclosure", (int, float), required=False,
                        default=Disclosure.dominance_share)
    if not 0 < share <= 1:
        raise check.fail("disclosure.dominance_share", f"must be in (0, 1], got {share}")
    return Disclosure(count, suppress, top, float(share))


def _cross_check(check: Checker, cfg: StudyConfig) -> None:
    """Checks that need several sections at once."""
    check_sections(check, cfg)
    for role, col in cfg.columns.items():
        if role != "weight" and role not in TEXT_ROLES and col not in cfg.validate:
            raise check.fail(f"validate.{col}", f"column {col!r} (columns.{role}) has no kind")
    _check_recode_codes(check, cfg)
    weight = cfg.weight_column
    if weight and weight in cfg.validate:
        wkind = cfg.kinds[cfg.validate[weight]]
        if wkind.range is None:
            raise check.fail(f"validate.{weight}", "a weight needs a range kind")
        if wkind.range[0] < 0:
            raise check.fail(f"kinds.{wkind.name}.range", f"weights cannot be negative (range "
                                                          f"starts at {num_text(wkind.range[0])})")
    if cfg.open_mindedness is not None:
        om = cfg.open_mindedness
        for col in om.items:
            if col not in cfg.validate:
                raise check.fail(f"validate.{col}", f"open-mindedness item {col!r} has no kind")
            kind = cfg.kinds[cfg.validate[col]]
            lo_hi = (min(kind.codes), max(kind.codes)) if kind.codes else kind.range
            if lo_hi is not None and (lo_hi[0] < om.scale_min or lo_hi[1] > om.scale_max):
                raise check.fail("open_mindedness", f"valid values of {col!r} ({kind.describe()})"
                                                    f" fall outside scale_min..scale_max")
    if "group" in cfg.columns:
        kind = cfg.kind_of(cfg.columns["group"])
        for code in cfg.binary_yes + cfg.binary_no:
            if not is_valid(kind, code):
                raise check.fail("binary_codes", f"code {code} is not a valid code of kind "
                                                 f"{kind.name!r} of column "
                                                 f"{cfg.columns['group']!r}")
        codes_cover(check, "binary_codes", cfg.columns["group"], cfg.binary_yes + cfg.binary_no,
                     kind, "yes nor no")
    if cfg.collaboration is not None and cfg.collaboration.routed_by_group \
            and "group" not in cfg.columns:
        raise check.fail("collaboration.routed_by_group", "needs columns.group")
    if cfg.regions:
        if "region" not in cfg.columns:
            raise check.fail("regions", "needs columns.region")
        kind = cfg.column_kinds().get(cfg.columns["region"])
        text = [c for c in cfg.regions if isinstance(c, str)]
        if text and (kind is not None or cfg.columns["region"] in cfg.recode):
            raise check.fail(f"regions.{text[0]}", f"text region code {text[0]!r}, but column "
                             f"{cfg.columns['region']!r} is numeric (it has a kind in "
                             "[validate] or a [recode]); use the file's numeric codes, or drop "
                             "the kind and the recode to match the region codes as text")
        unnamed = [c for c in (kind.codes or ()) if c not in cfg.regions] if kind else []
        if unnamed:
            raise check.fail("regions", f"region code(s) {unnamed} of kind {kind.name!r} "
                                        f"have no name")
    if cfg.sectors and "nace" not in cfg.columns:
        raise check.fail("sectors", "needs columns.nace")
    canonical = set(cfg.columns) | set(cfg.outcomes)
    clash = canonical & {o.novelty_name for o in cfg.outcomes.values()}
    if clash:
        raise check.fail("outcomes", f"outcome name clashes with {sorted(clash)}")


def _check_recode_codes(check: Checker, cfg: StudyConfig) -> None:
    """Every recoded code must be a valid or missing code of the column's kind."""
    kinds = cfg.column_kinds()
    for column, mapping in cfg.recode.items():
        kind = kinds.get(column)
        if kind is None:
            continue
        for text, code in mapping.items():
            if not is_valid(kind, code) and float(code) not in kind.missing_codes:
                missing = ", ".join(num_text(c) for c in kind.missing_codes) or "none"
                raise check.fail(f'recode.{column}."{text}"',
                                 f"code {num_text(code)} is neither a valid code of kind "
                                 f"{kind.name!r} ({kind.describe()}) of column {column!r} nor "
                                 f"one of its missing codes ({missing})")


