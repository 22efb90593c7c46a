"""The questionnaire of the (synthetic) Norwegian firm survey, as data.

This module is the vendor's codebook: for every column of the delivered SPSS file it
holds the variable name, the question wording (the SPSS variable label), the response
options and their codes (value labels), the valid range for numeric answers, the
user-defined missing codes, and the routing. The generator writes the ``.sav`` metadata
from it and :func:`render_markdown` writes ``data_raw/questionnaire.md``, so the file and
its documentation cannot drift apart.

The wording is ours, modelled on the published descriptions of the 2010 survey
(Fitjar and Rodriguez-Pose 2011, 2013); the original instrument is not public.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.config import PARTNER_LABELS, PARTNER_TYPES, SCALE_LABELS

DONT_KNOW = "dont_know"
REFUSED = "refused"

YES_NO = {1: "Yes", 2: "No"}
FREQUENCY = {
    1: "Never",
    2: "Rarely (once a year or less)",
    3: "Sometimes (a few times a year)",
    4: "Often (about monthly)",
    5: "Very often (weekly or more)",
}
AGREE = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
REGIONS = {1: "Oslo", 2: "Bergen", 3: "Stavanger", 4: "Trondheim", 5: "Kristiansand"}
MANAGER_EDUCATION = {
    1: "Compulsory school",
    2: "Upper secondary school",
    3: "Higher education, up to four years",
    4: "Higher education, more than four years",
    5: "Doctorate (PhD)",
}
NOVELTY_PRODUCT = {1: "New to the firm only", 2: "New to the firm's market"}
NOVELTY_PROCESS = {1: "New to the firm only", 2: "New to the firm's industry"}

#: NACE Rev. 2 divisions in the sample frame, with their titles (abridged).
NACE_DIVISIONS = {
    10: "Food products", 16: "Wood products", 22: "Rubber and plastic products",
    25: "Fabricated metal products", 26: "Computer and electronic products",
    28: "Machinery and equipment n.e.c.", 30: "Other transport equipment",
    33: "Repair and installation of machinery",
    41: "Construction of buildings", 42: "Civil engineering",
    43: "Specialised construction activities",
    45: "Wholesale and retail trade of motor vehicles", 46: "Wholesale trade",
    47: "Retail trade",
    49: "Land transport", 50: "Water transport", 52: "Warehousing and support for transport",
    55: "Accommodation", 56: "Food and beverage service activities",
    62: "Computer programming and consultancy", 64: "Financial services",
    68: "Real estate activities", 69: "Legal and accounting activities",
    70: "Head offices; management consultancy", 71: "Architecture and engineering",
    72: "Scientific research and development", 73: "Advertising and market research",
    74: "Other professional, scientific and technical activities",
    78: "Employment activities", 81: "Services to buildings and landscape",
    82: "Office administrative and business support",
}

#: Short codes used in the collaboration item names: q10_<partner>_<scale>.
PARTNER_CODES = {
    "group": "grp", "suppliers": "sup", "customers": "cus", "competitors": "com",
    "consultants": "con", "universities": "uni", "institutes": "ins",
}
SCALE_CODES = {"local": "reg", "national": "nat", "international": "int"}
SCALE_WORDING = {
    "local": "located in the same city-region as your firm",
    "national": "located elsewhere in Norway",
    "international": "located abroad",
}


@dataclass(frozen=True)
class Item:
    """One column of the delivered file."""

    name: str
    label: str
    section: str
    codes: dict[int, str] = field(default_factory=dict)
    valid_range: tuple[int, int] | None = None
    missing: dict[int, str] = field(default_factory=dict)
    routing: str = "All firms."
    measure: str = "nominal"

    @property
    def value_labels(self) -> dict[int, str]:
        """Value labels as SPSS carries them: the response options and the missing codes."""
        labels = dict(self.codes)
        labels.update({code: MISSING_LABELS[kind] for code, kind in self.missing.items()})
        return labels

    @property
    def valid_codes(self) -> tuple[int, ...]:
        return tuple(sorted(self.codes))


MISSING_LABELS = {DONT_KNOW: "Don't know", REFUSED: "Refused"}


def _missing(dont_know: int, refused: int) -> dict[int, str]:
    return {dont_know: DONT_KNOW, refused: REFUSED}


def collaboration_item(partner: str, scale: str) -> Item:
    """The frequency item for one partner type at one scale."""
    routing = "Firms in a business group (q4_group = 1)." if partner == "group" else (
        "All firms.")
    return Item(
        name=f"q10_{PARTNER_CODES[partner]}_{SCALE_CODES[scale]}",
        label=(f"Q10. How often has your firm collaborated on innovation during the last three "
               f"years with {PARTNER_LABELS[partner].lower()} {SCALE_WORDING[scale]}?"),
        section="Collaboration",
        codes=FREQUENCY,
        missing=_missing(8, 9),
        routing=routing,
        measure="ordinal",
    )


def build_items() -> tuple[Item, ...]:
    """All items, in the order of the delivered file."""
    frame = [
        Item("intnr", "Interview number (assigned by the survey vendor)", "Sample frame",
             valid_range=(1, 99999), measure="scale"),
        Item("orgnr", "Organisation number of the firm (sample frame)", "Sample frame",
             valid_range=(800000000, 999999999), measure="scale"),
        Item("region", "City-region of the firm's address (sample frame)", "Sample frame",
             codes=REGIONS),
        Item("nace", "NACE Rev. 2 division of the firm's main activity (sample frame)",
             "Sample frame", codes=NACE_DIVISIONS),
    ]
    firm = [
        Item("q1_emp", "Q1. How many employees, including owners, did the firm have at the "
             "end of last year?", "Firm", valid_range=(0, 99997),
             missing=_missing(99998, 99999), measure="scale",
             routing="All firms. Firms with fewer than 10 employees are screened out: the "
                     "interview ends after Q1."),
        Item("q2_founded", "Q2. In which year was the firm founded?", "Firm",
             valid_range=(1800, 2010), missing=_missing(9998, 9999), measure="scale"),
        Item("q3_foreign", "Q3. What share of the firm's capital is owned by foreign owners? "
             "(per cent)", "Firm", valid_range=(0, 100), missing=_missing(998, 999),
             measure="scale"),
        Item("q4_group", "Q4. Is the firm part of a business group (konsern)?", "Firm",
             codes=YES_NO, missing=_missing(8, 9)),
        Item("q5_highed", "Q5. Approximately what share of the firm's employees have a "
             "university or university college degree? (per cent)", "Firm",
             valid_range=(0, 100), missing=_missing(998, 999), measure="scale"),
    ]
    innovation = [
        Item("q6_prod", "Q6. During the last three years, has the firm introduced new or "
             "significantly improved goods or services?", "Innovation", codes=YES_NO,
             missing=_missing(8, 9)),
        Item("q7_prod_new", "Q7. Were any of these new goods or services new to the firm's "
             "market, or were they only new to the firm?", "Innovation",
             codes=NOVELTY_PRODUCT, missing=_missing(8, 9),
             routing="Product innovators (q6_prod = 1).", measure="ordinal"),
        Item("q8_proc", "Q8. During the last three years, has the firm introduced new or "
             "significantly improved methods of producing goods or services, logistics or "
             "support activities?", "Innovation", codes=YES_NO, missing=_missing(8, 9)),
        Item("q9_proc_new", "Q9. Were any of these new methods new to the firm's industry, or "
             "were they only new to the firm?", "Innovation", codes=NOVELTY_PROCESS,
             missing=_missing(8, 9), routing="Process innovators (q8_proc = 1).",
             measure="ordinal"),
    ]
    collaboration = [collaboration_item(p, s) for p in PARTNER_TYPES for s in SCALE_CODES]
    manager = [
        Item("q11_ceo_edu", "Q11. What is the highest level of education completed by the "
             "firm's managing director?", "Manager", codes=MANAGER_EDUCATION,
             missing=_missing(8, 9), measure="ordinal"),
        Item("q12a", "Q12a. We actively look for new ideas from outside the firm.", "Manager",
             codes=AGREE, missing=_missing(8, 9), measure="ordinal"),
        Item("q12b", "Q12b. Ideas from outside our own industry are often useful to us.",
             "Manager", codes=AGREE, missing=_missing(8, 9), measure="ordinal"),
        Item("q12c", "Q12c. We prefer to stick to proven ways of doing things (reverse-coded "
             "in the open-mindedness index).", "Manager", codes=AGREE,
             missing=_missing(8, 9), measure="ordinal"),
        Item("q12d", "Q12d. I enjoy discussing with people whose background and opinions "
             "differ from mine.", "Manager", codes=AGREE, missing=_missing(8, 9),
             measure="ordinal"),
        Item("q13a", "Q13a. Generally speaking, would you say that most people can be trusted, "
             "or that you can't be too careful? (0 = can't be too careful, 10 = most people "
             "can be trusted)", "Manager", valid_range=(0, 10), missing=_missing(98, 99),
             measure="ordinal"),
        Item("q13b", "Q13b. Most firms in this city-region can be trusted to keep their "
             "agreements.", "Manager", codes=AGREE, missing=_missing(8, 9), measure="ordinal"),
    ]
    return tuple(frame + firm + innovation + collaboration + manager)


ITEMS: tuple[Item, ...] = build_items()
ITEMS_BY_NAME: dict[str, Item] = {item.name: item for item in ITEMS}


def item_table_rows(item: Item) -> list[str]:
    """Markdown lines documenting one item."""
    lines = [f"### `{item.name}`", "", item.label, ""]
    if item.codes:
        lines.append("Response options: " + "; ".join(
            f"{code} = {text}" for code, text in item.codes.items()) + ".")
    if item.valid_range:
        lines.append(f"Valid range: {item.valid_range[0]} to {item.valid_range[1]}.")
    if item.missing:
        lines.append("Missing codes (SPSS user-missing): " + "; ".join(
            f"{code} = {MISSING_LABELS[kind]}" for code, kind in item.missing.items()) + ".")
    lines += [f"Routing: {item.routing} Not asked: system-missing (blank).", ""]
    return lines


def render_markdown() -> str:
    """The questionnaire document (``data_raw/questionnaire.md``)."""
    head = [
        "# Questionnaire and codebook: Norwegian firm survey (synthetic twin)",
        "",
        "This is the codebook of `data_raw/norway_firm_survey_2010_synthetic.sav`. It is "
        "generated from `analysis/data/twin/questionnaire.py` (run `uv run python -m "
        "analysis.data.twin.generate`), so every column of the file is documented here and "
        "nowhere else. The wording is ours, modelled on the published descriptions of the "
        "2010 survey of firms in Oslo, Bergen, Stavanger, Trondheim and Kristiansand "
        "(Fitjar and Rodriguez-Pose 2011, 2013); the original instrument is not public.",
        "",
        "Conventions: codes 8/98/998/9998/99998 mean *don't know* and 9/99/999/9999/99999 "
        "mean *refused*; both are declared as SPSS user-missing values. Items not asked "
        "because of routing, and items after a break-off, are system-missing (blank). "
        "The reference period of all innovation and collaboration items is the last three "
        "years.",
        "",
        "Scales of the collaboration battery (Q10): "
        + "; ".join(f"`{code}` = {SCALE_LABELS[s]}" for s, code in SCALE_CODES.items())
        + ". Partner types: "
        + "; ".join(f"`{code}` = {PARTNER_LABELS[p]}" for p, code in
                    PARTNER_CODES.items()) + ".",
        "",
    ]
    body: list[str] = []
    section = None
    for item in ITEMS:
        if item.section != section:
            section = item.section
            body += [f"## {section}", ""]
        body += item_table_rows(item)
    return "\n".join(head + body).rstrip() + "\n"
