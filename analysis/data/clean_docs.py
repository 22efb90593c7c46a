"""Documentation (label, source item, valid values) of every canonical variable."""

from __future__ import annotations

from analysis.data.appendix import VariableDoc
from analysis.data.clean_canonical import SOURCE_JOIN, canonical_columns
from analysis.data.clean_read import ID_ROLES, RawMeta, value_text
from analysis.data.study_config import (
    BINARY_NEVER,
    BINARY_YES,
    StudyConfig,
)

DEFAULT_LABELS: dict[str, str] = {
    "firm_id": "Firm identifier (organisation number)",
    "interview_id": "Interview identifier",
    "region": "{Region_unit} of the firm",
    "nace": "{sector_classification} of the firm's main activity",
    "sector": "Sector group (from the {sector_short})",
    "employees": "Number of employees",
    "size_class": "Size class of the firm (from the survey)",
    "founded": "Year the firm was founded",
    "foreign_share": "Share of capital owned by foreign owners (per cent)",
    "group": "Firm belongs to a business group",
    "higher_ed_share": "Share of employees with higher education (per cent)",
    "manager_education": "Highest education of the managing director",
    "trust_general": "Generalised trust",
    "trust_regional": "Trust in firms of the {region_unit}",
    "design_stratum": "Stratum of the survey design",
    "design_psu": "Primary sampling unit of the survey design",
    "design_fpc": "Finite-population correction (population PSUs of the stratum, or the "
                  "sampling fraction)",
    "weight": "Sampling weight",
}


# ----------------------------------------------------------------------------- the docs


def _item_values(column: str, cfg: StudyConfig, meta: RawMeta, reverse: bool = False) -> str:
    """Valid values of a file column: codes with their file labels, or the kind's range.

    ``reverse``: the canonical variable is ``scale_min + scale_max - code``, so code ``c``
    carries the label of the file's code ``lo + hi - c``.
    """
    column = column.split(SOURCE_JOIN)[0]  # a combined item has the codes of its columns
    kind = cfg.column_kinds().get(column)
    if kind is None:  # ids and text regions need no kind: the appendix reads the data
        return ""
    labels = meta.value_labels.get(column, {})
    if kind.codes is None:
        return kind.describe().removeprefix("range ")
    om = cfg.open_mindedness
    flip = (om.scale_min + om.scale_max) if reverse and om is not None else None
    parts = []
    for code in sorted(kind.codes):
        label = labels.get(float(flip - code if flip is not None else code), "")
        parts.append(f"{code} = {label}" if label else str(code))
    return "; ".join(parts)


def _novelty_values(column: str, outcome_firm: tuple[int, ...], outcome_market: tuple[int, ...],
                    meta: RawMeta) -> str:
    labels = meta.value_labels.get(column, {})

    def text(name: str, codes: tuple[int, ...]) -> str:
        described = [labels.get(float(c), "") for c in codes]
        detail = "; ".join(d for d in described if d) or f"code {list(codes)}"
        return f"{name} = {detail}"

    return f"{text('firm', outcome_firm)}; {text('market', outcome_market)}"


def recode_note(column: str | None, cfg: StudyConfig) -> str:
    """`` [text recoded: Yes = 1; No = 0]`` for a source with a ``[recode]`` table."""
    parts = []
    for name in (column or "").split(SOURCE_JOIN):
        mapping = cfg.recode.get(name)
        if mapping:
            pairs = "; ".join(f"{text} = {value_text(code)}" for text, code in mapping.items())
            parts.append(f"{name}: {pairs}" if SOURCE_JOIN in (column or "") else pairs)
    return f" [text recoded: {' | '.join(parts)}]" if parts else ""


def derived_note(column: str | None, cfg: StudyConfig) -> str:
    """`` [nov = max of a, b, c]`` for a source made by ``[derived]`` (and ``[blank = no]``
    for a tick-box item whose blank means no)."""
    parts = []
    for name in (column or "").split(SOURCE_JOIN):
        item = cfg.derived.get(name)
        if item is not None:
            parts.append(f"{name} = {item.combine} of {', '.join(item.columns)}")
    c = cfg.collaboration
    blank = c is not None and any(n in c.blank_means_no for n in (column or "").split(
        SOURCE_JOIN))
    return (f" [{' | '.join(parts)}]" if parts else "") + (" [blank = no]" if blank else "")


def variable_docs(cfg: StudyConfig, meta: RawMeta) -> dict[str, VariableDoc]:
    """Label, source item and valid values of every canonical variable."""
    docs: dict[str, VariableDoc] = {}
    reverse = cfg.open_mindedness.reverse if cfg.open_mindedness else ()
    for name, column in canonical_columns(cfg):
        label = meta.column_labels.get(column or "", "") or cfg.wording.fill(
            DEFAULT_LABELS.get(name, name))
        source = column or ""
        values = _item_values(column, cfg, meta) if column else ""
        if column and SOURCE_JOIN in column:
            source = " + ".join(column.split(SOURCE_JOIN)) + (
                " (yes if any is yes)" if name in cfg.outcomes else " (the most frequent answer)")
        if name == "weight" and column is None:
            label, values = "Weight (no sampling weights in the survey: every firm 1.0)", "1.0"
        elif name.startswith("collab__") and cfg.collaboration is not None \
                and cfg.collaboration.type == "binary":
            c = cfg.collaboration
            source = f"{source}: yes/no item recoded 2 if code in {list(c.yes)}, 1 if in " \
                     f"{list(c.never)}"
            values = f"{BINARY_NEVER} = no collaboration; {BINARY_YES} = collaboration"
        elif name == "sector":
            label = cfg.wording.fill(DEFAULT_LABELS["sector"])
            source = f"{cfg.columns['nace']} grouped by the [sectors] ranges"
            classification = cfg.wording.sector_classification
            prefix = "NACE" if classification.startswith("NACE") else classification
            values = "; ".join(f"{s} = {prefix} " + ", ".join(f"{lo}-{hi}" for lo, hi in rs)
                               for s, rs in cfg.sectors.items())
        elif name == "size_class":
            source = f"{column} (the survey's size class)"
            values = "; ".join(f"{k} = {v}" for k, v in cfg.size.classes.items())
        elif name == "region" and cfg.regions:
            source = f"{column} (codes mapped to names)"
            values = "; ".join(f"{v} ({k})" for k, v in cfg.regions.items())
        elif name == "group" or name in cfg.outcomes:
            outcome = cfg.outcomes.get(name)
            yes, no = (outcome.yes, outcome.no) if outcome else (cfg.binary_yes, cfg.binary_no)
            source = f"{source}: 1 if code in {list(yes)}, 0 if in {list(no)}"
            values = "0 = no; 1 = yes"
        elif any(name == o.novelty_name for o in cfg.outcomes.values()):
            o = next(o for o in cfg.outcomes.values() if o.novelty_name == name)
            source = (f"{column}: firm if code in {list(o.new_to_firm)}, market if in "
                      f"{list(o.new_to_market)}; not_applicable if not a {o.name} innovator")
            values = _novelty_values(column, o.new_to_firm, o.new_to_market, meta)
        elif column in reverse and name.startswith("open_"):
            om = cfg.open_mindedness
            source = f"{column}, reverse-coded ({om.scale_min + om.scale_max} - x)"
            values = _item_values(column, cfg, meta, reverse=True)
        source += recode_note(column, cfg) + derived_note(column, cfg)
        binary = name == "group" or name in cfg.outcomes
        docs[name] = VariableDoc(label=label, source=source, values=values,
                                 type="binary (0/1)" if binary else "",
                                 summarize=name not in ID_ROLES)
    return docs
