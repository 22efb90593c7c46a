"""Every key of a study configuration, with what it means: the validator's own key list.

The parsers check each table against these keys (an unknown key is an error with close
matches), and the key reference of ``docs/using_your_own_survey.md`` is generated from them
(``uv run python -m analysis.data.study_keys`` prints it; a test fails when the document
and this list differ), so no key can be accepted without being documented.

Sections whose keys are the user's own names (region codes, sector names, kinds, columns,
recoded text, derived variables, outcomes) list the keys *inside* each entry; ``*`` stands
for the user's name.
"""

from __future__ import annotations

import sys

from analysis.data.study_schema import OPTIONAL_ROLES, REQUIRED_ROLES

#: section -> (what the section is, {key: meaning}).
KEYS: dict[str, tuple[str, dict[str, str]]] = {
    "study": ("the survey and its wording", {
        "name": "short identifier of the study (letters, digits, _)",
        "title": "title shown in exhibit headings (default: name)",
        "country": "country of the survey, used in labels such as 'elsewhere in <country>' "
                   "(default: 'the country')",
        "region_unit": "name of the regional unit in labels ('city-region', 'province', "
                       "'NUTS 2 region'; default 'region')",
        "sector_classification": "name of the sector code in labels (default 'NACE Rev. 2 "
                                 "division')",
        "survey_year": "fieldwork year (firm age = survey_year - founding year)",
        "synthetic": "true for synthetic data: every exhibit then carries data_note",
        "data_note": "note under every exhibit of synthetic data",
        "data_file": "the survey file, relative to the project folder or absolute",
        "format": "sav, dta, csv or parquet (default: from the file extension)",
    }),
    "sample": ("sample rules, applied in the order listed in the sample flow", {
        "min_employees": "firms below this size are screen-outs (needs columns.employees)",
        "duplicates": "which interview of a firm to keep: first (lowest id) or last",
        "zero_employees": "firms reporting 0 employees: error (default, with advice), exclude "
                          "(a sample rule) or log_plus_one (log(1 + employees) for all firms)",
        "missing_employees": "firms without an employee count: keep (default; models drop "
                             "them listwise) or exclude (a sample rule)",
    }),
    "columns": ("canonical role = column in the file", {
        **{role: "required" for role in REQUIRED_ROLES},
        **{role: "optional" for role in OPTIONAL_ROLES},
    }),
    "outcomes.*": ("[outcomes.product] and [outcomes.process] (both required)", {
        "column": "the yes/no column, or a list of columns (yes if any is yes)",
        "yes": "codes meaning yes",
        "no": "codes meaning no",
        "novelty_column": "the novelty follow-up (asked of innovators); a [derived] column "
                          "combines one asked per product item",
        "new_to_firm": "novelty codes meaning new to the firm only",
        "new_to_market": "novelty codes meaning new to the market",
    }),
    "binary_codes": ("yes/no codes of columns.group", {
        "yes": "codes meaning yes",
        "no": "codes meaning no",
    }),
    "collaboration": ("the collaboration battery: one item per partner type and scale", {
        "type": "frequency (default) or binary (yes/no items)",
        "column_template": "column names from partner and scale codes, e.g. "
                           "'co_{partner}_{scale}'",
        "partners": "table: canonical partner type = code in the column template",
        "scales": "table: canonical scale = code (or list of codes) in the column template",
        "items": "explicit tables [collaboration.items.<partner>] scale = column(s)",
        "never": "frequency items: codes meaning no collaboration",
        "intensity": "frequency items: table code = weight in the intensity",
        "yes": "binary items: codes meaning collaboration",
        "no": "binary items: codes meaning no collaboration",
        "routed_by_group": "partner types asked only of firms in a business group",
        "filter": "filter question: the battery is asked only of firms whose answer is in "
                  "filter_asked (others count as not collaborating)",
        "filter_asked": "codes of the filter question that lead to the battery",
        "blank_means_no": "tick-box grids: a blank item means no; true for the whole battery "
                          "or a list of item columns",
        "blank_scope": "all (default): every blank counts as no; filter_answered: only where "
                       "the filter question was answered",
    }),
    "open_mindedness": ("the open-mindedness battery (Likert items)", {
        "items": "the item columns",
        "reverse": "items that are reverse-worded",
        "scale_min": "lowest code of the scale",
        "scale_max": "highest code of the scale",
    }),
    "regions": ("region code = name", {
        "*": "a code of the region column (several codes may share a name: they are pooled)",
    }),
    "sectors": ("sector group = codes", {
        "*": "list of single codes or [lo, hi] ranges of the sector code",
    }),
    "kinds.*": ("what a column may hold", {
        "codes": "the valid codes (give codes or range)",
        "range": "[lo, hi], inclusive (give codes or range)",
        "dont_know": "codes meaning don't know",
        "refused": "codes meaning refused",
    }),
    "validate": ("column = kind", {
        "*": "the kind of a file column; collaboration = the kind of every battery item",
    }),
    "recode.*": ("text answers to codes, for one column", {
        "*": "a text answer (case-sensitive, surrounding spaces ignored) = its code",
    }),
    "derived.*": ("a variable made of several columns, usable wherever a column is", {
        "columns": "the source columns (two or more)",
        "combine": "max, min, sum or any (any: yes if any source is yes)",
        "kind": "the kind of every source column (the derived column gets its kind from it)",
        "yes": "combine = any: codes meaning yes (the result is the first yes code)",
        "no": "combine = any: codes meaning no (the result is the first no code)",
    }),
    "size": ("size classes", {
        "bands": "lower bounds of the employee size bands (default 10, 20, 50, 100, 250)",
        "classes": "table code = name of the survey's own size class (columns.size_class)",
    }),
    "sparse_categories": ("pooling of sparse categories before the models", {
        "min_firms": "categories with fewer firms than this are pooled (default 0: off)",
        "variables": "which categorical variables: region and/or sector (default both)",
        "label": "name of the pooled category (default 'Other')",
    }),
    "design": ("the survey design, for design-based standard errors (Stata svy:)", {
        "strata": "the stratum column",
        "psu": "the primary-sampling-unit column (default: every firm is a PSU)",
        "fpc": "population PSUs of the stratum (totals) or the sampling fraction (<= 1)",
        "singleton": "strata with one PSU: fail (default), certainty, scaled or centered",
    }),
    "disclosure": ("statistical disclosure control of the exhibits", {
        "min_cell_count": "cells based on fewer firms are flagged (default 5)",
        "suppress": "true: blank such cells instead of flagging them",
        "dominance_n": "dominance rule: the n largest firms of a magnitude cell (default 2)",
        "dominance_share": "... may contribute at most this share of its total (default 0.85)",
    }),
}


def allowed(section: str) -> tuple[str, ...]:
    """The keys of ``section`` (e.g. "design", "outcomes.*")."""
    return tuple(KEYS[section][1])


def sections() -> tuple[str, ...]:
    """Top-level tables of a study configuration."""
    return tuple(dict.fromkeys(name.split(".")[0] for name in KEYS))


def reference_markdown() -> str:
    """The key reference of docs/using_your_own_survey.md (between its markers)."""
    lines = ["| table | key | meaning |", "|---|---|---|"]
    for section, (what, keys) in KEYS.items():
        table = f"[{section.replace('.*', '.<name>')}]"
        lines.append(f"| `{table}` | | {what} |")
        for key, meaning in keys.items():
            shown = "<your name>" if key == "*" else f"`{key}`"
            lines.append(f"| | {shown} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())
