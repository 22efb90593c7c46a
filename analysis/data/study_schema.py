"""The study configuration as data: canonical roles, vocabularies and frozen dataclasses.

Parsed and checked by :mod:`analysis.data.study_parse`; the public names are re-exported
by :mod:`analysis.data.study_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analysis import config
from analysis.data.wording import Wording

#: Canonical role names of ``[columns]``; only the two ids are required.
REQUIRED_ROLES: tuple[str, ...] = ("firm_id", "interview_id")
OPTIONAL_ROLES: tuple[str, ...] = (
    "region", "nace", "employees", "size_class", "founded", "foreign_share", "group",
    "higher_ed_share", "manager_education", "trust_general", "trust_regional", "weight",
)
ROLES: tuple[str, ...] = REQUIRED_ROLES + OPTIONAL_ROLES

#: Scales a survey may record, from near to far: the canonical three, or "domestic" for
#: surveys that only distinguish at home from abroad.
ALLOWED_SCALES: tuple[str, ...] = (*config.SCALES[:-1], "domestic", *config.SCALES[-1:])

FORMATS: dict[str, str] = {".sav": "sav", ".zsav": "sav", ".dta": "dta", ".csv": "csv",
                           ".parquet": "parquet", ".pq": "parquet"}
DUPLICATE_RULES: tuple[str, ...] = ("first", "last")
MISSING_KIND_KEYS: tuple[str, ...] = ("dont_know", "refused")

#: Policies for firms with zero / missing employment (``[sample]``).
ZERO_EMPLOYEES_RULES: tuple[str, ...] = ("error", "exclude", "log_plus_one")
MISSING_EMPLOYEES_RULES: tuple[str, ...] = ("keep", "exclude")
#: How a ``[derived]`` variable combines its columns.
COMBINE_RULES: tuple[str, ...] = ("max", "min", "sum", "any")
#: Where a blank tick-box item counts as no (``collaboration.blank_scope``).
BLANK_SCOPES: tuple[str, ...] = ("all", "filter_answered")
#: Default employee size bands (lower bounds): the Norwegian survey's 10+ classes.
DEFAULT_SIZE_BANDS: tuple[int, ...] = (10, 20, 50, 100, 250)
#: What to do with a stratum of one PSU (the rules of analysis.models.estimation.survey).
SINGLETON_RULES: tuple[str, ...] = ("fail", "certainty", "scaled", "centered")
#: Categorical variables whose sparse categories may be pooled.
POOLABLE: tuple[str, ...] = ("region", "sector")
#: Roles whose column may hold text when [validate] gives it no kind.
TEXT_ROLES: tuple[str, ...] = ("firm_id", "interview_id", "region")
#: Outcomes a survey may describe (both are needed by the analysis data).
OUTCOME_NAMES: tuple[str, ...] = ("product", "process")
#: How collaboration items are answered: a frequency scale or yes/no.
COLLABORATION_TYPES: tuple[str, ...] = ("frequency", "binary")
#: Canonical codes of a yes/no collaboration item in the clean data: a two-point frequency
#: scale (1 = never, 2 = at least once), so that C3's "1 = never" holds for every survey.
BINARY_NEVER, BINARY_YES = 1, 2


def num_text(x: float) -> str:
    """A number as text: ``5`` for 5.0, ``2.5`` for 2.5."""
    return str(int(x)) if float(x).is_integer() else str(x)


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
        return f"range {num_text(self.range[0])} to {num_text(self.range[1])}"


@dataclass(frozen=True)
class SampleRules:
    """Sample rules: screen-out size threshold and which duplicate interview to keep."""

    min_employees: float | None = None
    duplicates: str = "first"
    #: firms reporting 0 employees: "error" (default), "exclude" or "log_plus_one"
    zero_employees: str = "error"
    #: firms without an employee count: "keep" (default) or "exclude"
    missing_employees: str = "keep"


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
    #: item columns whose blank (system-missing) cell means no: tick-box grids
    blank_means_no: tuple[str, ...] = ()
    #: "all": every blank of those items is no; "filter_answered": only where the filter
    #: question was answered
    blank_scope: str = "all"
    #: the filter question: the battery is asked only if its answer is in filter_asked
    filter: str | None = None
    filter_asked: tuple[int, ...] = ()

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
    """Statistical disclosure control of the exhibits (contract C6): the minimum frequency
    rule, the (n, k) dominance rule for magnitudes, and flag or suppress."""

    min_cell_count: int = 5
    suppress: bool = False
    dominance_n: int = 2
    dominance_share: float = 0.85


@dataclass(frozen=True)
class OpenMindedness:
    """The open-mindedness battery (Likert items; some reverse-coded)."""

    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    scale_min: int = 1
    scale_max: int = 5


@dataclass(frozen=True)
class Derived:
    """A variable made of several file columns (``[derived.<name>]``), usable as a column."""

    name: str
    columns: tuple[str, ...]
    combine: str
    kind: str
    yes: tuple[int, ...] = ()
    no: tuple[int, ...] = ()


@dataclass(frozen=True)
class SizeClasses:
    """Employee size bands (lower bounds), or names of the survey's own size-class codes."""

    bands: tuple[int, ...] = DEFAULT_SIZE_BANDS
    classes: dict[int, str] = field(default_factory=dict)

    def labels(self) -> tuple[str, ...]:
        """Names of the size classes, smallest first ("10-19", ..., "250+")."""
        if self.classes:
            return tuple(dict.fromkeys(self.classes.values()))
        # imported here: reading a configuration (as the runner does) needs no pandas
        from analysis.data.variables_common import band_labels

        return band_labels(self.bands)


@dataclass(frozen=True)
class SparseCategories:
    """Categories with fewer than ``min_firms`` firms are pooled into ``label``."""

    min_firms: int = 0
    variables: tuple[str, ...] = POOLABLE
    label: str = "Other"


@dataclass(frozen=True)
class DesignSpec:
    """The survey design (``[design]``): strata, PSU and fpc columns, singleton rule."""

    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    singleton: str = "fail"

    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.strata, self.psu, self.fpc) if c is not None)


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
    wording: Wording = Wording()
    #: ``[derived.<name>]`` variables, computed from their columns before validation
    derived: dict[str, Derived] = field(default_factory=dict)
    size: SizeClasses = SizeClasses()
    sparse: SparseCategories = SparseCategories()
    design: DesignSpec | None = None

    def design_columns(self) -> tuple[str, ...]:
        """File columns of the survey design (strata, PSU, fpc)."""
        return self.design.columns() if self.design is not None else ()

    def text_role_columns(self) -> tuple[str, ...]:
        """File columns of the roles that may hold text (ids, region, design strata / PSU)."""
        design = (self.design.strata, self.design.psu) if self.design is not None else ()
        return tuple(dict.fromkeys([*(self.columns[role] for role in TEXT_ROLES
                                      if role in self.columns),
                                    *(c for c in design if c is not None)]))

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
        if self.collaboration is not None and self.collaboration.filter:
            keys.setdefault(self.collaboration.filter, "collaboration.filter")
        for derived in self.derived.values():
            for col in derived.columns:
                keys.setdefault(col, f"derived.{derived.name}.columns")
        if self.design is not None:
            for key in ("strata", "psu", "fpc"):
                col = getattr(self.design, key)
                if col is not None:
                    keys.setdefault(col, f"design.{key}")
        for col in self.validate:
            keys.setdefault(col, f"validate.{col}")
        # derived variables are made by the package, not read from the file
        return {col: key for col, key in keys.items() if col not in self.derived}

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
        if self.collaboration is not None and self.collaboration.filter:
            cols.append(self.collaboration.filter)
        cols += list(self.design_columns())
        cols += [c for d in self.derived.values() for c in d.columns]
        cols += [c for c in self.validate if c not in cols]
        return list(dict.fromkeys(cols))

