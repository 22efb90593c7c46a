"""The missing-data policy, stated once, and the number of firms each rule touches."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.data.variables_collaboration import item_unknown, scale_answered
from analysis.data.variables_common import (
    MAX_MISSING_SHARE,
    NOT_APPLICABLE,
    item_column,
    missing_kind,
    open_items,
)
from analysis.data.variables_controls import min_answered
from analysis.data.variables_outcomes import any_innovation, novelty_code

# --------------------------------------------------------------------------------------------
# Missing-data policy
# --------------------------------------------------------------------------------------------

MISSING_DATA_POLICY: dict[str, str] = {
    "Product / process innovation": (
        "A don't know, refusal or no answer leaves the outcome missing (NA); the firm drops "
        "out of models of that outcome (listwise). No imputation."),
    "New to market / industry": (
        "0 for firms without the innovation; for innovators 1 if new to the market "
        "(industry), 0 if new to the firm only; NA for innovators whose novelty answer is "
        "missing (their novelty is not guessed) and when the innovation item is missing."),
    "Ordered novelty": (
        "0 none, 1 new to the firm, 2 new to the market (product innovation); NA exactly when "
        "new_to_market is NA."),
    "Any innovation": "1 if product or process is 1; 0 only if both are 0; otherwise NA.",
    "Collaboration item": (
        "The partner-by-scale indicator is NA for don't know, refusal or no answer (item "
        "prevalence uses the firms that answered the item)."),
    "Routed-out collaboration item": (
        "not_applicable (group-firm items for firms outside a business group) means no "
        "collaboration (0), not missing."),
    "Collaboration aggregates": (
        "Breadth, group counts, any-collaboration, intensity and the glocal type at a scale "
        "are defined if at most half of the partner items at that scale are unknown; unknown "
        "items then count as no collaboration. They are NA if more than half are unknown; a "
        "measure spanning several scales (extra-regional counts, glocal type) is NA if any of "
        "its scales is."),
    "Open-mindedness index": (
        "Mean of the answered items (after reverse coding) if at least 3 of 4 items (75%, "
        "rounded up) are answered; otherwise NA. Cronbach's alpha uses complete cases."),
    "Controls": (
        "Employees, founding year, foreign share, business group, higher-education share, "
        "manager education and trust are NA when the item is missing; no imputation; models "
        "drop such firms (listwise) and report N."),
}


def _firms(mask: pd.Series) -> int:
    return int(mask.fillna(False).astype(bool).sum())


def policy_counts(
    clean: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    items: Sequence[str] | None = None,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> pd.DataFrame:
    """Number of firms each missing-data rule touches: construct, case, firms.

    ``construct`` is a key of :data:`MISSING_DATA_POLICY`.
    """
    rows: list[tuple[str, str, int]] = []
    for outcome in ("product", "process"):
        rows.append(("Product / process innovation", f"{outcome} missing (NA)",
                     _firms(clean[outcome].isna())))
    for outcome, novelty in (("product", "product_novelty"), ("process", "process_novelty")):
        if novelty in clean.columns:
            rows.append(("New to market / industry",
                         f"{outcome} innovator without novelty answer (NA)",
                         _firms((clean[outcome] == 1) & clean[novelty].isna())))
    if "product_novelty" in clean.columns:
        rows.append(("Ordered novelty", "novelty_code NA",
                     _firms(novelty_code(clean).isna())))
    rows.append(("Any innovation", "any_innovation NA", _firms(any_innovation(clean).isna())))
    unknown = pd.DataFrame({(p, s): item_unknown(clean, p, s) for p in partners
                            for s in scales})
    routed = pd.DataFrame({(p, s): missing_kind(clean, item_column(p, s)) == NOT_APPLICABLE
                           for p in partners for s in scales}).fillna(False)
    answered = scale_answered(clean, partners, scales, max_missing_share)
    rows.append(("Collaboration item", "at least one partner item unknown (indicator NA)",
                 _firms(unknown.any(axis=1))))
    rows.append(("Routed-out collaboration item", "at least one item not applicable (= 0)",
                 _firms(routed.any(axis=1))))
    in_usable = pd.concat([unknown.xs(s, axis=1, level=1).any(axis=1) & answered[s]
                           for s in scales], axis=1).any(axis=1)
    rows.append(("Collaboration aggregates",
                 "unknown item(s) counted as no collaboration at a usable scale",
                 _firms(in_usable)))
    for scale in scales:
        rows.append(("Collaboration aggregates",
                     f"more than half the items unknown at {scale}: aggregates NA",
                     _firms(~answered[scale])))
    items = list(items) if items is not None else open_items(clean)
    if items:
        n_answered = clean[items].notna().sum(axis=1)
        need = min_answered(len(items))
        answered_range = (f"{need}" if need == len(items) - 1
                          else f"{need} to {len(items) - 1}")
        rows.append(("Open-mindedness index", f"{answered_range} of {len(items)} items "
                     "answered: mean of answered items",
                     _firms((n_answered >= need) & (n_answered < len(items)))))
        rows.append(("Open-mindedness index", f"fewer than {need} items answered: NA",
                     _firms(n_answered < need)))
    for column in ("employees", "founded", "foreign_share", "group", "higher_ed_share",
                   "manager_education", "trust_general", "trust_regional"):
        if column in clean.columns:
            rows.append(("Controls", f"{column} missing (NA)", _firms(clean[column].isna())))
    return pd.DataFrame(rows, columns=["construct", "case", "firms"])
