"""Documentation (label, definition, source items) of every analysis variable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.config import (
    PARTNER_GROUPS,
    PARTNER_LABELS,
    PARTNER_TYPES,
    REGIONAL_SCALES,
    SCALE_LABELS,
    SCALES,
)
from analysis.data.variables_collaboration import near_far_scales, split_scales, weight_map
from analysis.data.variables_common import (
    DEFAULT_INTENSITY,
    FOREIGN_OWNED_THRESHOLD,
    GLOCAL_TYPES,
    HIGHER_ED_LEVEL,
    INTERNAL_PARTNERS,
    SIZE_LABELS,
    collab_name,
    item_column,
    slug,
)
from analysis.data.variables_controls import min_answered
from analysis.data.wording import Wording

# --------------------------------------------------------------------------------------------
# Documentation of every constructed variable
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VariableDoc:
    """Label, definition and source items (clean columns) of one analysis variable."""

    label: str
    definition: str
    source: str


def scale_phrase(scale: str, wording: Wording | None = None) -> str:
    """The scale's label inside a sentence in the study's ``wording`` ("elsewhere in
    Norway", "same city-region"; without a wording the labels of analysis.config)."""
    label = (wording.scale_label(scale) if wording is not None
             else SCALE_LABELS.get(scale, scale.replace("_", " ").capitalize()))
    return label[:1].lower() + label[1:]


def _group_label(group: str) -> str:
    return {"sti": "STI partners", "dui_supply": "DUI supply-chain partners",
            "dui_competitors": "DUI competitors", "internal": "Group-internal partners"
            }.get(group, group)


def _items(partners: Sequence[str], scales: Sequence[str]) -> str:
    return ", ".join(item_column(p, s) for p in partners for s in scales)


def _collaboration_docs(partners, scales, groups, regional_scales, intensity_weights,
                        wording: Wording):
    docs: dict[str, VariableDoc] = {}

    battery = "defined when at most half of the partner items at the scale are unknown"
    for p in partners:
        for s in scales:
            docs[collab_name(p, s)] = VariableDoc(
                f"Collaborates with {PARTNER_LABELS[p].lower()}: {scale_phrase(s, wording)}",
                "1 if the frequency code is not 'never', 0 if never or routed out; NA if "
                "unknown", item_column(p, s))
    for s in scales:
        docs[f"breadth_{s}"] = VariableDoc(
            f"Breadth of collaboration: {scale_phrase(s, wording)}",
            f"Number of partner types (0-{len(partners)}) collaborated with at this scale; "
            f"{battery}", _items(partners, [s]))
    regional, extra = split_scales(scales, regional_scales)
    # no regional scale: one count per scale
    sides = [("regional", regional, "in the own {region_unit}"),
             ("extra", extra, "outside the own {region_unit}")] if regional else [
        (s, [s], scale_phrase(s, wording)) for s in scales]
    for g, members in groups.items():
        present = [p for p in members if p in partners]
        for suffix, side, where in sides:
            if present and side:
                docs[f"{g}_{suffix}"] = VariableDoc(
                    f"{_group_label(g)}, {where}",
                    f"Number of the types {', '.join(present)} collaborated with at any of "
                    f"the scales {', '.join(side)} (a type counts once); {battery}, at "
                    "each of these scales",
                    _items(present, side))
    for s in scales:
        docs[f"any_collab_{s}"] = VariableDoc(
            f"Any collaboration: {scale_phrase(s, wording)}", f"1 if breadth_{s} > 0",
            _items(partners, [s]))
        weights = ", ".join(f"code {k:g} = {v:g}"
                            for k, v in weight_map(intensity_weights).items())
        docs[f"intensity_{s}"] = VariableDoc(
            f"Collaboration intensity: {scale_phrase(s, wording)}",
            f"Sum over partner types of the weight of the frequency code ({weights}); "
            f"unknown and routed-out items 0; {battery}", _items(partners, [s]))
    near, _ = near_far_scales(scales, regional_scales)
    where = ("in the own {region_unit}" if near == regional
             else f"at the nearest scale recorded ({', '.join(near) or 'none'}; the survey has "
                  "no {region_unit} scale)")
    docs["glocal_type"] = VariableDoc(
        "Glocal type (local buzz / global pipelines)",
        f"External partners (excluding firms of the own business group) {where} only, "
        "outside it only, both, or none; NA if any scale is unusable",
        _items([p for p in partners if p not in INTERNAL_PARTNERS], scales))
    for t in GLOCAL_TYPES:
        docs[f"glocal_type_{slug(t)}"] = VariableDoc(f"Glocal type: {t}",
                                                f"1 if glocal_type is '{t}'", "glocal_type")
    return docs


_FIXED_DOCS: dict[str, VariableDoc] = {
    "firm_id": VariableDoc("Firm identifier", "Organisation number", "firm_id"),
    "interview_id": VariableDoc("Interview identifier", "Survey vendor's interview number",
                                "interview_id"),
    "region": VariableDoc("{Region_unit}", "{Region_unit} of the firm's address", "region"),
    "nace": VariableDoc("{sector_short}", "{sector_classification} of the main activity",
                        "nace"),
    "sector": VariableDoc("Sector group", "Sector group of the {sector_short}", "sector"),
    "employees": VariableDoc("Employees", "Number of employees incl. owners", "employees"),
    "founded": VariableDoc("Founding year", "Year the firm was founded", "founded"),
    "foreign_share": VariableDoc("Foreign ownership share (%)",
                                 "Share of capital owned by foreign owners, 0-100",
                                 "foreign_share"),
    "group": VariableDoc("Business group", "1 if the firm is part of a business group", "group"),
    "higher_ed_share": VariableDoc("Employees with higher education (%)",
                                   "Share of employees with a degree, 0-100", "higher_ed_share"),
    "manager_education": VariableDoc("Manager education (1-5)",
                                     "Highest education of the managing director (1 compulsory "
                                     "... 5 doctorate)", "manager_education"),
    "trust_general": VariableDoc("Generalised trust (0-10)",
                                 "Most people can be trusted (10) vs can't be too careful (0)",
                                 "trust_general"),
    "trust_regional": VariableDoc("Trust in regional firms (1-5)",
                                  "Most firms in the {region_unit} keep their agreements",
                                  "trust_regional"),
    "weight": VariableDoc("Sampling weight", "Survey weight; 1 when the survey has none",
                          "weight"),
    "design_stratum": VariableDoc("Design stratum", "Stratum of the survey design ([design] "
                                  "strata)", "design_stratum"),
    "design_psu": VariableDoc("Primary sampling unit", "PSU of the survey design ([design] "
                              "psu)", "design_psu"),
    "design_fpc": VariableDoc("Finite-population correction", "Population PSUs of the "
                              "stratum, or the sampling fraction ([design] fpc)",
                              "design_fpc"),
    "product": VariableDoc("Product innovation", "1 if new or significantly improved goods or "
                           "services in the last three years", "product"),
    "process": VariableDoc("Process innovation", "1 if new or significantly improved methods "
                           "in the last three years", "process"),
    "new_to_market": VariableDoc(
        "New-to-market product innovation", "1 if a product innovation new to the market; 0 "
        "if no product innovation or new to the firm only; NA if novelty unknown",
        "product, product_novelty"),
    "process_new_to_industry": VariableDoc(
        "New-to-industry process innovation", "1 if a process innovation new to the industry; "
        "0 if none or new to the firm only; NA if novelty unknown", "process, process_novelty"),
    "novelty_ordered": VariableDoc(
        "Product novelty (ordered)", "none < new to firm < new to market",
        "product, product_novelty"),
    "novelty_code": VariableDoc(
        "Product novelty (0/1/2)", "0 none, 1 new to the firm, 2 new to the market (for "
        "ordered logit)", "product, product_novelty"),
    "any_innovation": VariableDoc("Any innovation", "1 if product or process innovation",
                                  "product, process"),
    "log_employees": VariableDoc("Log employees", "Natural log of employees", "employees"),
    "size_class": VariableDoc("Size class", "Employees 10-19, 20-49, 50-99, 100-249, 250+",
                              "employees"),
    "foreign_owned": VariableDoc("Foreign owned",
                                 f"1 if foreign ownership share >= {FOREIGN_OWNED_THRESHOLD:g}%"
                                 " (majority foreign owned)", "foreign_share"),
    "region_sector": VariableDoc("{Region_unit} x sector cell",
                                 "Combination of {region_unit} and sector group (cluster of "
                                 "robust standard errors)", "region, sector"),
    "manager_higher_ed": VariableDoc("Manager has higher education",
                                     f"1 if manager education code >= {HIGHER_ED_LEVEL}",
                                     "manager_education"),
}


def variable_registry(
    partners: Sequence[str] = PARTNER_TYPES,
    scales: Sequence[str] = SCALES,
    *,
    survey_year: int = 2010,
    items: Sequence[str] = ("open_1", "open_2", "open_3", "open_4"),
    groups: Mapping[str, Sequence[str]] = PARTNER_GROUPS,
    regional_scales: Sequence[str] = REGIONAL_SCALES,
    intensity_weights: Mapping[object, float] = DEFAULT_INTENSITY,
    categories: Mapping[str, Sequence[object]] | None = None,
    wording: Wording | None = None,
    size_labels: Sequence[str] = SIZE_LABELS,
    log_plus_one: bool = False,
) -> dict[str, VariableDoc]:
    """Documentation (label, definition, source) of every analysis variable of a layout.

    ``categories`` maps ``sector`` / ``region`` to their categories, for the dummies;
    ``wording`` names the country and the regional unit (default: neutral words);
    ``size_labels`` the size classes; ``log_plus_one`` the log-employees policy.
    """
    wording = wording or Wording()
    docs = dict(_FIXED_DOCS)
    docs["firm_age"] = VariableDoc("Firm age (years)", f"{survey_year} (survey year) minus "
                                   "founding year", "founded")
    docs["open_mindedness"] = VariableDoc(
        "Open-mindedness index (1-5)", f"Mean of the answered items (reverse-coded where "
        f"needed) if at least {min_answered(len(items))} of {len(items)} answered",
        ", ".join(items))
    docs.update(_collaboration_docs(partners, scales, groups, regional_scales,
                                    intensity_weights, wording))
    docs["size_class"] = VariableDoc("Size class", "Employees " + ", ".join(size_labels),
                                     "employees")
    if log_plus_one:
        docs["log_employees"] = VariableDoc("Log (1 + employees)", "Natural log of 1 + "
                                            "employees (sample.zero_employees = "
                                            "log_plus_one)", "employees")
    for label in size_labels:
        docs[f"size_class_{slug(label)}"] = VariableDoc(f"Size class {label}",
                                                  f"1 if size_class is {label}", "employees")
    for column, values in (categories or {}).items():
        for value in values:
            docs[f"{column}_{slug(value)}"] = VariableDoc(
                f"{_FIXED_DOCS[column].label}: {value}", f"1 if {column} is {value}", column)
    return {name: VariableDoc(wording.fill(doc.label), wording.fill(doc.definition),
                              doc.source) for name, doc in docs.items()}


#: Documentation of the canonical layout (7 partner types x 3 scales; dummies not included).
VARIABLES: dict[str, VariableDoc] = variable_registry()
