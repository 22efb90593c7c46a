"""Load and check a study configuration (a TOML file describing one survey file).

The study configuration is the only place that knows the column names and codes of a
survey. :func:`load_study_config` reads it into frozen dataclasses and checks it *before*
any data are touched: every problem raises :class:`ConfigError` naming the file, the key
path (e.g. ``collaboration.intensity.7``) and what is wrong.

Optional parts, so that other surveys can be described: every column role except the two
ids, the sampling weight (``columns.weight``), the novelty questions, the open-mindedness
battery, regions, sectors, and any partner type or scale (the collaboration battery holds
whatever partners and scales the file lists).

General layouts: an outcome may combine several yes/no columns (``column = ["a", "b"]``: yes
if any is yes); a collaboration item may be a frequency scale or a yes/no item
(``collaboration.type = "binary"``) and one (partner, scale) item may combine several columns
(a scale code list such as ``international = ["eu", "us", "oth"]``, or explicit
``[collaboration.items]``); sectors are NACE ranges or single codes. ``[disclosure]`` (C6)
holds the statistical-disclosure settings.

Text in the data file: ``[recode.<column>]`` maps text answers to numeric codes (``Yes = 1``,
``"Don't know" = -9``; matched case-sensitively after trimming surrounding whitespace).
Without a recode only three roles may hold text, and only when ``[validate]`` gives them no
kind: the two ids (e.g. ``"F000123"``) and the region (e.g. NUTS codes ``"DE1"``); the
``[regions]`` keys are then the text codes (absent ``[regions]``, the region names are the
distinct codes in sorted order).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.errors import ConfigError

#: Canonical role names of ``[columns]``; only the two ids are required.
REQUIRED_ROLES: tuple[str, ...] = ("firm_id", "interview_id")
OPTIONAL_ROLES: tuple[str, ...] = (
    "region", "nace", "employees", "founded", "foreign_share", "group", "higher_ed_share",
    "manager_education", "trust_general", "trust_regional", "weight",
)
ROLES: tuple[str, ...] = REQUIRED_ROLES + OPTIONAL_ROLES

#: Scales a survey may record, from near to far: the canonical three, or "domestic" for
#: surveys that only distinguish at home from abroad.
ALLOWED_SCALES: tuple[str, ...] = (*config.SCALES[:-1], "domestic", *config.SCALES[-1:])

FORMATS: dict[str, str] = {".sav": "sav", ".zsav": "sav", ".dta": "dta", ".csv": "csv",
                           ".parquet": "parquet", ".pq": "parquet"}
DUPLICATE_RULES: tuple[str, ...] = ("first", "last")
MISSING_KIND_KEYS: tuple[str, ...] = ("dont_know", "refused")

_SECTIONS = ("study", "sample", "columns", "outcomes", "binary_codes", "collaboration",
             "open_mindedness", "regions", "sectors", "kinds", "validate", "disclosure",
             "recode")
#: Roles whose column may hold text when [validate] gives it no kind.
TEXT_ROLES: tuple[str, ...] = ("firm_id", "interview_id", "region")
#: Outcomes a survey may describe (both are needed by the analysis data).
OUTCOME_NAMES: tuple[str, ...] = ("product", "process")
#: How collaboration items are answered: a frequency scale or yes/no.
COLLABORATION_TYPES: tuple[str, ...] = ("frequency", "binary")
#: Canonical codes of a yes/no collaboration item in the clean data: a two-point frequency
#: scale (1 = never, 2 = at least once), so that C3's "1 = never" holds for every survey.
BINARY_NEVER, BINARY_YES = 1, 2


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Kind:
    """What a column may hold: valid ``codes`` or an inclusive ``range``, plus missing codes."""

    name: str
    codes: tuple[int, ...] | None = None
    range: tuple[float, float] | None = None
    dont_know: tuple[float, ...] = ()
    refused: tuple[float, ...] = ()

    @property
    def missing_codes(self) -> dict[float, str]:
        """User-missing code -> kind of missing ("dont_know" / "refused")."""
        out = {float(c): "dont_know" for c in self.dont_know}
        out.update({float(c): "refused" for c in self.refused})
        return out

    def describe(self) -> str:
        """Short text of the valid values, e.g. ``codes 1, 2`` or ``range 0 to 100``."""
        if self.codes is not None:
            return "codes " + ", ".join(str(c) for c in self.codes)
        assert self.range is not None
        return f"range {_num(self.range[0])} to {_num(self.range[1])}"


@dataclass(frozen=True)
class SampleRules:
    """Sample rules: screen-out size threshold and which duplicate interview to keep."""

    min_employees: float | None = None
    duplicates: str = "first"


@dataclass(frozen=True)
class Outcome:
    """A yes/no innovation outcome and (optionally) its novelty follow-up question."""

    name: str
    column: str
    yes: tuple[int, ...]
    no: tuple[int, ...]
    novelty_column: str | None = None
    new_to_firm: tuple[int, ...] = ()
    new_to_market: tuple[int, ...] = ()
    #: Further yes/no columns combined with ``column``: yes if any is yes, no if all are no.
    extra_columns: tuple[str, ...] = ()

    @property
    def novelty_name(self) -> str:
        return f"{self.name}_novelty"

    @property
    def columns(self) -> tuple[str, ...]:
        """Every file column of the outcome (one, or several combined by "any yes")."""
        return (self.column, *self.extra_columns)


@dataclass(frozen=True)
class Collaboration:
    """The collaboration battery: one item per (partner type, scale).

    ``type`` is "frequency" (codes of a frequency scale; ``never`` = no collaboration) or
    "binary" (yes/no codes ``yes`` / ``no``; the clean data then hold 1 = never, 2 = yes and
    intensity counts partner types). ``sources`` maps (partner, scale) to the file column(s)
    of the item; several columns are combined (the most frequent answer / any yes).
    """

    column_template: str
    partners: dict[str, str]
    scales: dict[str, str]
    never: tuple[int, ...]
    intensity: dict[int, float]
    routed_by_group: tuple[str, ...] = ()
    kind: str = ""
    type: str = "frequency"
    yes: tuple[int, ...] = ()
    sources: dict[tuple[str, str], tuple[str, ...]] | None = None

    def columns(self, partner: str, scale: str) -> tuple[str, ...]:
        """The file column(s) of one (partner type, scale) item."""
        if self.sources is not None:
            return self.sources[(partner, scale)]
        return (self.column_template.format(partner=self.partners[partner],
                                            scale=self.scales[scale]),)

    def column(self, partner: str, scale: str) -> str:
        """The file's column of one (partner type, scale) item (the first, if several)."""
        return self.columns(partner, scale)[0]

    @property
    def canonical_never(self) -> tuple[int, ...]:
        """Codes meaning "never" in the clean data."""
        return (BINARY_NEVER,) if self.type == "binary" else self.never

    @property
    def canonical_intensity(self) -> dict[int, float]:
        """Intensity weights of the clean codes (binary: a count of partner types)."""
        if self.type == "binary":
            return {BINARY_NEVER: 0.0, BINARY_YES: 1.0}
        return self.intensity


@dataclass(frozen=True)
class Disclosure:
    """Statistical disclosure control of the exhibits (contract C6)."""

    min_cell_count: int = 5
    suppress: bool = False


@dataclass(frozen=True)
class OpenMindedness:
    """The open-mindedness battery (Likert items; some reverse-coded)."""

    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    scale_min: int = 1
    scale_max: int = 5


@dataclass(frozen=True)
class StudyConfig:
    """One survey file described for the pipeline (see ``config/norway_twin.toml``)."""

    source: Path
    name: str
    title: str
    synthetic: bool
    data_note: str
    data_file: Path
    format: str
    sample: SampleRules
    columns: dict[str, str]
    outcomes: dict[str, Outcome]
    binary_yes: tuple[int, ...]
    binary_no: tuple[int, ...]
    collaboration: Collaboration | None
    open_mindedness: OpenMindedness | None
    regions: dict[int | str, str]
    sectors: dict[str, tuple[tuple[int, int], ...]]
    kinds: dict[str, Kind]
    validate: dict[str, str]
    country: str = ""
    survey_year: int | None = None
    disclosure: Disclosure = Disclosure()
    #: File column -> {text value: numeric code} (``[recode.<column>]``).
    recode: dict[str, dict[str, int | float]] = field(default_factory=dict)

    def text_role_columns(self) -> tuple[str, ...]:
        """File columns of the roles that may hold text (ids and region)."""
        return tuple(dict.fromkeys(self.columns[role] for role in TEXT_ROLES
                                   if role in self.columns))

    def text_columns(self) -> tuple[str, ...]:
        """File columns that may hold text: id and region columns without a kind or recode."""
        return tuple(c for c in self.text_role_columns()
                     if c not in self.validate and c not in self.recode)

    @property
    def weight_column(self) -> str | None:
        return self.columns.get("weight")

    def collaboration_items(self) -> list[tuple[str, str, str]]:
        """(partner type, scale, file column) of every collaboration column, in config order.

        An item made of several columns appears once per column.
        """
        return [(p, s, col) for p, s, cols in self.collaboration_sources() for col in cols]

    def collaboration_sources(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(partner type, scale, file columns) of every collaboration item, in config order."""
        if self.collaboration is None:
            return []
        c = self.collaboration
        return [(p, s, c.columns(p, s)) for p in c.partners for s in c.scales]

    def column_keys(self) -> dict[str, str]:
        """File column -> the configuration key that names it (for error messages)."""
        keys: dict[str, str] = {}
        for role, col in self.columns.items():
            keys.setdefault(col, f"columns.{role}")
        for o in self.outcomes.values():
            for col in o.columns:
                keys.setdefault(col, f"outcomes.{o.name}.column")
            if o.novelty_column:
                keys.setdefault(o.novelty_column, f"outcomes.{o.name}.novelty_column")
        c = self.collaboration
        for p, s, cols in self.collaboration_sources():
            where = ("collaboration.items" if c is not None and c.sources is not None
                     else "collaboration.column_template")
            for col in cols:
                keys.setdefault(col, f"{where} ({p}, {s})")
        if self.open_mindedness is not None:
            for col in self.open_mindedness.items:
                keys.setdefault(col, "open_mindedness.items")
        for col in self.validate:
            keys.setdefault(col, f"validate.{col}")
        return keys

    def column_kinds(self) -> dict[str, Kind]:
        """Kind of every file column the configuration names (collaboration items included)."""
        out = {col: self.kinds[k] for col, k in self.validate.items()}
        if self.collaboration is not None:
            kind = self.kinds[self.collaboration.kind]
            for _, _, col in self.collaboration_items():
                out.setdefault(col, kind)
        return out

    def kind_of(self, column: str) -> Kind:
        """Kind of one file column; KeyError if the configuration gives it none."""
        return self.column_kinds()[column]

    def used_columns(self) -> list[str]:
        """Every file column the pipeline reads, in a stable order."""
        cols: list[str] = list(self.columns.values())
        for o in self.outcomes.values():
            cols += list(o.columns)
            if o.novelty_column:
                cols.append(o.novelty_column)
        cols += [col for _, _, col in self.collaboration_items()]
        if self.open_mindedness is not None:
            cols += list(self.open_mindedness.items)
        cols += [c for c in self.validate if c not in cols]
        return list(dict.fromkeys(cols))


# ------------------------------------------------------------------------------ loading


class _Checker:
    """Raises ConfigError with the config file and key path in the message."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"study config {self.source}: [{key}] {problem}")

    def table(self, data: Mapping[str, Any], key: str, required: bool = True) -> dict[str, Any]:
        value = _dig(data, key)
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
        if not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise self.fail(f"{path}.{key}", f"must be {names}, got {value!r}")
        return value

    def codes(self, table: Mapping[str, Any], key: str, path: str, required: bool = True,
              numbers: bool = False) -> tuple:
        raw = self.value(table, key, path, (list,), required=required, default=[])
        wanted = (int, float) if numbers else (int,)
        for code in raw:
            if isinstance(code, bool) or not isinstance(code, wanted):
                what = "numbers" if numbers else "integers"
                raise self.fail(f"{path}.{key}", f"codes must be {what}, got {code!r}")
        if required and not raw:
            raise self.fail(f"{path}.{key}", "must list at least one code")
        return tuple(raw)

    def unknown_keys(self, table: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{path}.{key}", f"unknown key (allowed: {', '.join(allowed)})")


def _dig(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


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
    check = _Checker(source)
    if not source.is_file():
        raise ConfigError(f"study config {source}: file not found")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"study config {source}: not valid TOML: {err}") from err
    return parse_study_config(data, source, root if root is not None else config.ROOT, check)


def parse_study_config(data: Mapping[str, Any], source: Path, root: Path,
                       check: _Checker | None = None) -> StudyConfig:
    """Build a checked :class:`StudyConfig` from parsed TOML ``data``."""
    check = check or _Checker(source)
    check.unknown_keys(data, "top level", _SECTIONS)

    study = check.table(data, "study")
    check.unknown_keys(study, "study", ("name", "title", "country", "synthetic", "data_note",
                                        "data_file", "format", "survey_year"))
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
    sample = _parse_sample(check, data, columns)
    outcomes = _parse_outcomes(check, data, validate, kinds)
    binary = check.table(data, "binary_codes", required="group" in columns)
    check.unknown_keys(binary, "binary_codes", ("yes", "no"))
    binary_yes = check.codes(binary, "yes", "binary_codes", required=bool(binary))
    binary_no = check.codes(binary, "no", "binary_codes", required=bool(binary))
    _check_disjoint(check, "binary_codes", binary_yes, binary_no)
    collaboration = _parse_collaboration(check, data, kinds)
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
        disclosure=disclosure, recode=recode,
    )
    _cross_check(check, cfg)
    return cfg


def _parse_kinds(check: _Checker, data: Mapping[str, Any]) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for kname, spec in check.table(data, "kinds").items():
        path = f"kinds.{kname}"
        if not isinstance(spec, dict):
            raise check.fail(path, f"must be a table, got {spec!r}")
        check.unknown_keys(spec, path, ("codes", "range", *MISSING_KIND_KEYS))
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
        _check_disjoint(check, f"{path}.dont_know/refused", dk, rf)
        for code in (*dk, *rf):
            if _is_valid(kind, code):
                raise check.fail(path, f"missing code {_num(code)} is also a valid value")
        kinds[kname] = kind
    return kinds


def _is_valid(kind: Kind, value: float) -> bool:
    if kind.codes is not None:
        return value in kind.codes
    assert kind.range is not None
    return kind.range[0] <= value <= kind.range[1]


def _check_disjoint(check: _Checker, path: str, a: tuple, b: tuple) -> None:
    common = sorted(set(a) & set(b))
    if common:
        raise check.fail(path, f"code(s) {common} listed twice")


def _parse_columns(check: _Checker, data: Mapping[str, Any]) -> dict[str, str]:
    table = check.table(data, "columns")
    check.unknown_keys(table, "columns", ROLES)
    columns: dict[str, str] = {}
    for role in ROLES:  # canonical order, whatever the file's order
        col = check.value(table, role, "columns", (str,), required=role in REQUIRED_ROLES)
        if col is not None:
            columns[role] = col
    return columns


def _parse_validate(check: _Checker, data: Mapping[str, Any],
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


def _parse_sample(check: _Checker, data: Mapping[str, Any],
                  columns: dict[str, str]) -> SampleRules:
    table = check.table(data, "sample", required=False)
    check.unknown_keys(table, "sample", ("min_employees", "duplicates"))
    min_emp = check.value(table, "min_employees", "sample", (int, float), required=False)
    if min_emp is not None and "employees" not in columns:
        raise check.fail("sample.min_employees", "needs columns.employees")
    dup = check.value(table, "duplicates", "sample", (str,), required=False, default="first")
    if dup not in DUPLICATE_RULES:
        raise check.fail("sample.duplicates", f"unknown rule {dup!r} (use first or last)")
    return SampleRules(min_emp, dup)


def _parse_outcomes(check: _Checker, data: Mapping[str, Any], validate: dict[str, str],
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
        check.unknown_keys(spec, path, ("column", "yes", "no", "novelty_column", "new_to_firm",
                                        "new_to_market"))
        columns = _column_list(check, spec, "column", path)
        yes, no = check.codes(spec, "yes", path), check.codes(spec, "no", path)
        _check_disjoint(check, path, yes, no)
        nov = check.value(spec, "novelty_column", path, (str,), required=False)
        firm = check.codes(spec, "new_to_firm", path, required=nov is not None)
        market = check.codes(spec, "new_to_market", path, required=nov is not None)
        _check_disjoint(check, path, firm, market)
        outcome = Outcome(oname, columns[0], yes, no, nov, firm, market, columns[1:])
        for column in columns:
            _codes_in_kind(check, path, column, yes + no, validate, kinds)
            _codes_cover(check, path, column, yes + no, kinds[validate[column]], "yes nor no")
        if nov is not None:
            _codes_in_kind(check, path, nov, firm + market, validate, kinds)
            _codes_cover(check, path, nov, firm + market, kinds[validate[nov]],
                         "new_to_firm nor new_to_market")
        out[oname] = outcome
    return out


def _column_list(check: _Checker, table: Mapping[str, Any], key: str, path: str
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


def _codes_in_kind(check: _Checker, path: str, column: str, codes: tuple,
                   validate: dict[str, str], kinds: dict[str, Kind]) -> None:
    if column not in validate:
        raise check.fail(f"validate.{column}", f"column {column!r} (used in [{path}]) has no kind")
    kind = kinds[validate[column]]
    for code in codes:
        if not _is_valid(kind, code):
            raise check.fail(path, f"code {code} is not a valid code of kind {kind.name!r} "
                                   f"({kind.describe()}) of column {column!r}")


def _codes_cover(check: _Checker, path: str, column: str, codes: tuple, kind: Kind,
                 what: str) -> None:
    # every valid answer must map to a canonical value, or it would silently become NA
    left = sorted(set(kind.codes or ()) - set(codes))
    if left:
        raise check.fail(path, f"valid code(s) {left} of column {column!r} (kind {kind.name!r}) "
                               f"are neither {what}")


def _parse_collaboration(check: _Checker, data: Mapping[str, Any],
                         kinds: dict[str, Kind]) -> Collaboration | None:
    table = check.table(data, "collaboration", required=False)
    if not table:
        return None
    path = "collaboration"
    check.unknown_keys(table, path, ("type", "column_template", "never", "yes", "no",
                                     "intensity", "routed_by_group", "partners", "scales",
                                     "items"))
    ctype = check.value(table, "type", path, (str,), required=False, default="frequency")
    if ctype not in COLLABORATION_TYPES:
        raise check.fail(f"{path}.type", f"unknown type {ctype!r} (use frequency or binary)")
    template, partners, scales, sources = _collaboration_layout(check, table)
    kname = _dig(data, "validate.collaboration")
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
    return Collaboration(template, partners, scales, never, intensity, routed, kname, ctype,
                         yes, sources)


def _frequency_collaboration(check: _Checker, data: Mapping[str, Any],
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


def _binary_collaboration(check: _Checker, table: Mapping[str, Any], kind: Kind
                          ) -> tuple[tuple[int, ...], tuple[int, ...], dict[int, float]]:
    """``no`` (= never) and ``yes`` codes of a yes/no battery; intensity = count."""
    path = "collaboration"
    for key in ("never", "intensity"):
        if key in table:
            raise check.fail(f"{path}.{key}", 'not used with type = "binary" (give `yes` and '
                                              "`no`; intensity is the number of partner types)")
    yes, no = check.codes(table, "yes", path), check.codes(table, "no", path)
    _check_disjoint(check, path, yes, no)
    for code in yes + no:
        if code not in kind.codes:
            raise check.fail(path, f"code {code} is not among the codes of kind "
                                   f"{kind.name!r} ({kind.describe()})")
    left = sorted(set(kind.codes) - set(yes) - set(no))
    if left:
        raise check.fail(path, f"valid code(s) {left} of kind {kind.name!r} are neither yes "
                               f"nor no")
    return no, yes, {}


def _collaboration_layout(check: _Checker, table: Mapping[str, Any]
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


def _explicit_items(check: _Checker, items: Mapping[str, Any]
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
            sources[(partner, scale)] = _column_list(check, by_scale, scale, ppath)
        scale_sets.append((partner, set(by_scale)))
    every = set().union(*(found for _, found in scale_sets))
    for partner, found in scale_sets:
        if found != every:
            raise check.fail(f"{path}.{partner}", f"lacks scale(s) {sorted(every - found)}: "
                                                  f"every partner type needs every scale")
    partners = {p: p for p in config.PARTNER_TYPES if p in items}
    scales = {s: s for s in ALLOWED_SCALES if s in every}
    return "", partners, scales, sources


def _code_map(check: _Checker, table: Mapping[str, Any], key: str, allowed: tuple[str, ...],
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


def _parse_open_mindedness(check: _Checker, data: Mapping[str, Any]) -> OpenMindedness | None:
    table = check.table(data, "open_mindedness", required=False)
    if not table:
        return None
    path = "open_mindedness"
    check.unknown_keys(table, path, ("items", "reverse", "scale_min", "scale_max"))
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


def _parse_regions(check: _Checker, data: Mapping[str, Any]) -> dict[int | str, str]:
    out: dict[int | str, str] = {}
    for key, name in check.table(data, "regions", required=False).items():
        code = region_code(key)
        if code == "":
            raise check.fail(f"regions.{key}", "key must be a region code, got an empty text")
        if code in out:
            raise check.fail(f"regions.{key}", f"region code {code!r} is listed twice")
        if not isinstance(name, str) or not name:
            raise check.fail(f"regions.{key}", f"name must be a non-empty string, got {name!r}")
        out[code] = name
    if len(set(out.values())) != len(out):
        raise check.fail("regions", "two codes share one name")
    return out


def _parse_recode(check: _Checker, data: Mapping[str, Any]
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


def _parse_sectors(check: _Checker, data: Mapping[str, Any]) -> dict[str, tuple]:
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    seen: list[tuple[int, int, str]] = []
    for sector, ranges in check.table(data, "sectors", required=False).items():
        path = f"sectors.{sector}"
        if not isinstance(ranges, list) or not ranges:
            raise check.fail(path, f"must be a list of codes or [lo, hi] ranges, got "
                                   f"{ranges!r}")
        parsed = []
        for r in ranges:
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


def _parse_disclosure(check: _Checker, data: Mapping[str, Any]) -> Disclosure:
    table = check.table(data, "disclosure", required=False)
    check.unknown_keys(table, "disclosure", ("min_cell_count", "suppress"))
    count = check.value(table, "min_cell_count", "disclosure", (int,), required=False,
                        default=Disclosure.min_cell_count)
    if count < 1:
        raise check.fail("disclosure.min_cell_count", f"must be at least 1, got {count}")
    suppress = check.value(table, "suppress", "disclosure", (bool,), required=False,
                           default=Disclosure.suppress)
    return Disclosure(count, suppress)


def _cross_check(check: _Checker, cfg: StudyConfig) -> None:
    """Checks that need several sections at once."""
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
                                                          f"starts at {_num(wkind.range[0])})")
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
            if not _is_valid(kind, code):
                raise check.fail("binary_codes", f"code {code} is not a valid code of kind "
                                                 f"{kind.name!r} of column "
                                                 f"{cfg.columns['group']!r}")
        _codes_cover(check, "binary_codes", cfg.columns["group"], cfg.binary_yes + cfg.binary_no,
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


def _check_recode_codes(check: _Checker, cfg: StudyConfig) -> None:
    """Every recoded code must be a valid or missing code of the column's kind."""
    kinds = cfg.column_kinds()
    for column, mapping in cfg.recode.items():
        kind = kinds.get(column)
        if kind is None:
            continue
        for text, code in mapping.items():
            if not _is_valid(kind, code) and float(code) not in kind.missing_codes:
                missing = ", ".join(_num(c) for c in kind.missing_codes) or "none"
                raise check.fail(f'recode.{column}."{text}"',
                                 f"code {_num(code)} is neither a valid code of kind "
                                 f"{kind.name!r} ({kind.describe()}) of column {column!r} nor "
                                 f"one of its missing codes ({missing})")


# ------------------------------------------------------------- checks against the data file


def check_data_file(cfg: StudyConfig) -> None:
    """Raise ConfigError if ``study.data_file`` does not exist (before anything is read)."""
    if not cfg.data_file.is_file():
        near = ""
        if cfg.data_file.parent.is_dir():
            names = [p.name for p in cfg.data_file.parent.iterdir() if p.is_file()]
            close = difflib.get_close_matches(cfg.data_file.name, names, n=3, cutoff=0.6)
            near = f"; files with close names there: {', '.join(close)}" if close else ""
        raise ConfigError(f"study config {cfg.source}: [study.data_file] data file "
                          f"{cfg.data_file} not found{near}")


def check_columns(cfg: StudyConfig, available: Sequence[str]) -> None:
    """Raise ConfigError naming every configured column absent from the data file.

    Each line gives the configuration key, the column and the file's closest column names
    (column names are compared case-sensitively; a match differing only in case is named).
    """
    present = [str(c) for c in available]
    lower = {c.lower(): c for c in present}
    problems = []
    keys = cfg.column_keys()
    for column in cfg.recode:
        keys.setdefault(column, f"recode.{column}")
    for column, key in keys.items():
        if column in present:
            continue
        close = difflib.get_close_matches(column, present, n=3, cutoff=0.6)
        # also names that contain one another ("emp" for "emp_total"), and case variants
        low = column.lower()
        close += [c for c in present if len(c) > 1 and (c.lower() in low or low in c.lower())
                  and c not in close][:3]
        if low in lower and lower[low] not in close:
            close.insert(0, lower[low])
        hint = f" (close matches: {', '.join(close)})" if close else " (no close match)"
        problems.append(f"[{key}] column {column!r} is not in the data file{hint}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"study config {cfg.source}: {len(problems)} configured column(s) "
                          f"not in {cfg.data_file.name}:\n{lines}")


def _values_text(values: pd.Series, limit: int = 8) -> str:
    """ "0 (812 rows), 2 (1,301 rows)": the values a column holds, most frequent first."""
    counts = values.dropna().value_counts(sort=True)
    if counts.empty:
        return "no values (the column is empty)"
    shown = [f"{_num(float(v))} ({n:,} row{'s' if n != 1 else ''})"
             for v, n in counts.head(limit).items()]
    more = f", and {len(counts) - limit} more" if len(counts) > limit else ""
    return ", ".join(shown) + more


def _codes_text(codes: Sequence[int]) -> str:
    return f"code {_num(codes[0])}" if len(codes) == 1 else \
        "codes " + ", ".join(_num(c) for c in codes)


def check_codes_in_data(cfg: StudyConfig, raw: pd.DataFrame) -> None:
    """Raise ConfigError when a configured yes code matches no row of the data.

    - Outcomes: the ``yes`` codes of an outcome must occur in every column of the outcome
      (``[outcomes.<name>] column``). A column where nobody answers yes is almost always a
      wrong code (e.g. ``yes = [1]`` on a file coding yes as 2), and a survey where nobody
      innovates cannot be analysed anyway.
    - Collaboration: the codes meaning collaboration (``[collaboration] yes`` of a yes/no
      battery; every code but ``never`` of a frequency battery) must occur in at least one
      column of the battery. A single item nobody answers yes to (say, universities abroad
      in a small survey) is a finding, not a configuration error: the breadth counts stay
      defined, so it is accepted.
    - Codes of the category maps (``[regions]``, ``[sectors]``) and of the novelty question
      need not occur: a region or sector without a sampled firm is legitimate, and a
      novelty outcome without variation is reported by the estimate step (EmptyCellError).

    Values are compared as numbers; text cannot occur here (the file's columns were checked
    to be numeric before).
    """
    where = cfg.data_file.name
    for outcome in cfg.outcomes.values():
        for column in outcome.columns:
            values = pd.to_numeric(raw[column], errors="coerce")
            if not values.isin([float(c) for c in outcome.yes]).any():
                raise ConfigError(
                    f"study config {cfg.source}: [outcomes.{outcome.name}.yes] "
                    f"{_codes_text(outcome.yes)} occurs in no row of column {column!r} of "
                    f"{where} (the column holds {_values_text(values)}); with nobody "
                    f"answering yes the outcome '{outcome.name}' cannot be analysed: check "
                    "the yes/no codes of the outcome against the file's codebook")
    collab = cfg.collaboration
    if collab is None or not cfg.collaboration_items():
        return
    columns = [column for _, _, column in cfg.collaboration_items()]
    yes = [float(c) for c in collab.yes]
    if any(pd.to_numeric(raw[c], errors="coerce").isin(yes).any() for c in columns):
        return
    key = "collaboration.yes" if collab.type == "binary" else "collaboration.never"
    meaning = (f"{_codes_text(collab.yes)} (yes)" if collab.type == "binary" else
               f"{_codes_text(collab.yes)} (every valid code but never = "
               f"{', '.join(_num(c) for c in collab.never)})")
    first = columns[0]
    raise ConfigError(
        f"study config {cfg.source}: [{key}] collaboration {meaning} occurs in no row of "
        f"any of the {len(columns)} collaboration column(s) of {where} (e.g. column "
        f"{first!r} holds {_values_text(pd.to_numeric(raw[first], errors='coerce'))}); "
        "with nobody collaborating the breadth of collaboration cannot be analysed: check "
        "the collaboration codes against the file's codebook")
