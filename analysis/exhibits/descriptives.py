"""Descriptive exhibits of the analysis data set, as plain frames (no I/O).

Each ``*_table`` function returns the frame of one exhibit; :func:`descriptive_exhibits`
bundles them with titles and notes for the describe step, which writes them with
:func:`analysis.exhibits.frames.write_frame_exhibit`. Shares and means are weighted by the
survey weight when the survey has weights (weights that are all equal give the unweighted
numbers, so one formula serves both).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.config import (
    PARTNER_GROUPS,
    PARTNER_LABELS,
    PARTNER_TYPES,
    REGIONAL_SCALES,
    SCALE_LABELS,
)
from analysis.data.variables import scale_phrase, variable_registry
from analysis.data.wording import Wording
from analysis.errors import ExhibitError
from analysis.exhibits.disclosure import (
    COUNT_BASIS,
    DisclosureSettings,
    cells_frame,
    check_exhibit,
    merge_flags,
    share_cells,
)
from analysis.exhibits.frames import write_frame_exhibit
from analysis.exhibits.layout import FrameLayout
from analysis.exhibits.sample_pairs import paired, with_firm_counts, within
from analysis.exhibits.summary import (
    ALL_PREFIX,
    SAMPLE_PREFIX,
    as_float,
    is_weighted,
    known_values,
    summary_cells,
    summary_display,
    summary_statistics,
    weighted_share,
    weights_of,
)

if TYPE_CHECKING:
    from analysis.models.specification import ModelSpec


@dataclass(frozen=True)
class Exhibit:
    """One descriptive exhibit: its frame, file stem, title and notes.

    ``cells`` lists the counts of firms behind each cell (see :mod:`analysis.exhibits.disclosure`),
    rows identified by the value of ``key_column``.
    """

    frame: pd.DataFrame
    stem: str
    title: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    key_column: str = ""
    cells: pd.DataFrame | None = None
    #: The printed version of a (checked) frame, and the column whose changes start a
    #: panel in it; None: the frame is printed as it is.
    display: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    panel_column: str | None = None


OUTCOMES: tuple[tuple[str, str], ...] = (
    ("product", "Product innovation"),
    ("process", "Process innovation"),
    ("new_to_market", "New-to-market product"),
)
#: The outcomes' column heads where a table shows them twice (under "Innovation rates" in
#: the title; the CSV keeps the full names).
SHORT_OUTCOMES = {"Product innovation": "Product", "Process innovation": "Process",
                  "New-to-market product": "New to market"}


def _scale_label(scale: str, wording: Wording | None = None) -> str:
    if wording is not None:
        return wording.scale_label(scale)
    return SCALE_LABELS.get(scale, scale.replace("_", " ").capitalize())


def expand_model_variables(frame: pd.DataFrame, variables: Sequence[str]) -> list[str]:
    """Model variables with categoricals replaced by their dummies (``sector`` -> ``sector_*``).

    An ordered categorical without dummies stays (summarised by its codes); variables
    absent from ``frame`` raise :class:`ExhibitError`.
    """
    out: list[str] = []
    for name in variables:
        if name not in frame.columns:
            raise ExhibitError(f"model variable {name} is not in the analysis data")
        dtype = frame[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            prefix = f"{name}_"
            found = [c for c in frame.columns if c.startswith(prefix)
                     and not isinstance(frame[c].dtype, pd.CategoricalDtype)]
            if not found and dtype.ordered:
                out.append(name)
                continue
            if not found:
                raise ExhibitError(f"categorical model variable {name} has no dummies "
                                        f"({prefix}*) in the analysis data")
            out += found
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def default_model_variables(frame: pd.DataFrame, scales: Sequence[str]) -> list[str]:
    """The variables the models use, as far as present: outcomes, collaboration, controls."""
    candidates = [
        "product", "process", "new_to_market", "novelty_ordered",
        *(f"breadth_{s}" for s in scales),
        *(f"{g}_{side}" for g in PARTNER_GROUPS for side in ("regional", "extra")),
        "log_employees", "foreign_share", "foreign_owned", "group", "higher_ed_share",
        "firm_age", "manager_education", "manager_higher_ed", "open_mindedness",
        "trust_general", "trust_regional", "sector", "region",
    ]
    return expand_model_variables(frame, [c for c in candidates if c in frame.columns])


def collaboration_prevalence(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    weight: str | None = None,
    *,
    wording: Wording | None = None,
) -> pd.DataFrame:
    """Share of firms collaborating with each partner type (rows) at each scale (columns).

    Item shares use the firms that answered the item; the last row ("Any partner type") is
    the share with ``any_collab_{scale}`` = 1.
    """
    w = weights_of(frame, weight)
    rows = []
    for partner in partners:
        row: dict[str, object] = {"Partner type": PARTNER_LABELS.get(partner, partner)}
        for scale in scales:
            column = f"collab_{partner}_{scale}"
            if column not in frame.columns:
                raise ExhibitError(f"prevalence: {column} is not in the analysis data")
            row[_scale_label(scale, wording)] = weighted_share(frame[column], w)
        rows.append(row)
    any_row: dict[str, object] = {"Partner type": "Any partner type"}
    for scale in scales:
        column = f"any_collab_{scale}"
        if column not in frame.columns:
            raise ExhibitError(f"prevalence: {column} is not in the analysis data")
        any_row[_scale_label(scale, wording)] = weighted_share(frame[column], w)
    rows.append(any_row)
    return pd.DataFrame(rows, columns=["Partner type", *(_scale_label(s, wording) for s in scales)])


def breadth_correlations(frame: pd.DataFrame, scales: Sequence[str], *,
                         wording: Wording | None = None) -> pd.DataFrame:
    """Pearson correlations of ``breadth_{scale}`` (pairwise complete, unweighted)."""
    columns = [f"breadth_{s}" for s in scales]
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ExhibitError(f"breadth correlations: {', '.join(absent)} not in the data")
    values = pd.DataFrame({c: as_float(frame[c]) for c in columns})
    corr = values.corr(method="pearson")
    names = [f"Breadth, {scale_phrase(s, wording)}" for s in scales]
    corr.index, corr.columns = names, names
    return corr.reset_index(names="Variable")


#: The last row of the innovation-rate tables: every group together.
TOTAL_ROW = "All"


def group_masks(frame: pd.DataFrame, by: str) -> list[tuple[str, np.ndarray]]:
    """(category, mask) of each category of ``by`` (its categorical order, else sorted),
    then (:data:`TOTAL_ROW`, every firm)."""
    groups = frame[by]
    categories = (list(groups.cat.categories) if isinstance(groups.dtype, pd.CategoricalDtype)
                  else sorted(groups.dropna().unique()))
    return [*((str(c), (groups == c).fillna(False).to_numpy(dtype=bool)) for c in categories),
            (TOTAL_ROW, np.ones(len(frame), dtype=bool))]


def innovation_rates_by(
    frame: pd.DataFrame,
    by: str,
    outcomes: Sequence[tuple[str, str]] = OUTCOMES,
    weight: str | None = None,
    by_label: str | None = None,
    inside: np.ndarray | None = None,
) -> pd.DataFrame:
    """Innovation rates (weighted shares) and N firms for each category of ``by``, plus all
    (row :data:`TOTAL_ROW`), among the firms ``inside`` (default: every firm).

    Firms with ``by`` missing appear only in the last row; each rate uses the firms of the
    group whose outcome is known.
    """
    if by not in frame.columns:
        raise ExhibitError(f"innovation rates: grouping variable {by} not in the data")
    w = weights_of(frame, weight)
    keep = np.ones(len(frame), dtype=bool) if inside is None else inside
    rows = []
    for name, group in group_masks(frame, by):
        mask = group & keep
        row: dict[str, object] = {by_label or by: name, "N": int(mask.sum())}
        for column, label in outcomes:
            if column not in frame.columns:
                raise ExhibitError(f"innovation rates: outcome {column} not in the data")
            row[label] = weighted_share(frame.loc[mask, column], w[mask])
        rows.append(row)
    out = pd.DataFrame(rows)
    out["N"] = out["N"].astype("int64")
    return out


# ------------------------------------------------------- counts behind the cells (disclosure)


def prevalence_cells(frame: pd.DataFrame, partners: Sequence[str], scales: Sequence[str],
                     weight: str | None = None, *,
                     wording: Wording | None = None) -> pd.DataFrame:
    """Counts behind each share of :func:`collaboration_prevalence`."""
    records: list[tuple] = []
    rows = [(PARTNER_LABELS.get(p, p), p) for p in partners] + [("Any partner type", None)]
    for label, partner in rows:
        for scale in scales:
            column = f"collab_{partner}_{scale}" if partner else f"any_collab_{scale}"
            records += share_cells(label, _scale_label(scale, wording),
                                   known_values(frame, column, weight))
    return cells_frame(records)


def correlation_cells(frame: pd.DataFrame, scales: Sequence[str], *,
                      wording: Wording | None = None) -> pd.DataFrame:
    """Pairwise-complete N behind each correlation of :func:`breadth_correlations`."""
    records = []
    names = [f"Breadth, {scale_phrase(s, wording)}" for s in scales]
    for row_scale, row_name in zip(scales, names, strict=True):
        for col_scale, col_name in zip(scales, names, strict=True):
            both = as_float(frame[f"breadth_{row_scale}"]).notna() & as_float(
                frame[f"breadth_{col_scale}"]).notna()
            records.append((row_name, col_name, int(both.sum()), "firms with both known"))
    return cells_frame(records)


def rates_cells(frame: pd.DataFrame, by: str, outcomes: Sequence[tuple[str, str]] = OUTCOMES,
                weight: str | None = None, by_label: str | None = None,
                inside: np.ndarray | None = None) -> pd.DataFrame:
    """Counts behind :func:`innovation_rates_by`: N of each row, and each rate's firms
    (rows are keyed by category, so ``by_label`` changes nothing)."""
    keep = np.ones(len(frame), dtype=bool) if inside is None else inside
    records: list[tuple] = []
    for name, group in group_masks(frame, by):
        mask = group & keep
        records.append((name, "N", int(mask.sum()), COUNT_BASIS))
        for column, label in outcomes:
            records += share_cells(name, label, known_values(frame[mask], column, weight))
    return cells_frame(records)


def exhibit_notes(notes: Sequence[str], data_note: str | None, weighted: bool) -> tuple[str, ...]:
    """Notes of an exhibit: its own, the weighting, and the study's data note (if any)."""
    weighting = ("Shares, means and SDs weighted by the survey weight." if weighted
                 else "Unweighted (the survey has no sampling weights).")
    return tuple([*notes, weighting, *([data_note] if data_note else [])])


def descriptive_exhibits(
    frame: pd.DataFrame,
    partners: Sequence[str],
    scales: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    model_variables: Sequence[str] | None = None,
    weight: str | None = "weight",
    data_note: str | None = None,
    regional_scales: Sequence[str] = REGIONAL_SCALES,
    wording: Wording | None = None,
    sample: pd.Series | None = None,
    sample_note: str = "",
    groups: Mapping[str, str] | None = None,
) -> list[Exhibit]:
    """The five descriptive exhibits of the analysis data set, with titles and notes.

    ``model_variables`` defaults to :func:`default_model_variables`; ``data_note`` (the study
    config's note when the data are synthetic) is appended to every exhibit's notes.
    ``sample``: the firms of the estimation sample Table 1 describes (``sample_note`` says
    which); ``groups``: variable -> panel heading of Table 1.
    """
    if weight is not None and weight not in frame.columns:
        weight = None
    weighted = is_weighted(frame[weight]) if weight else False
    w = weight if weighted else None
    variables = (expand_model_variables(frame, model_variables) if model_variables is not None
                 else default_model_variables(frame, scales))
    regional = " or ".join(scale_phrase(s, wording) for s in scales
                           if s in regional_scales) or "none"

    def notes(*own: str) -> tuple[str, ...]:
        return exhibit_notes(own, data_note, weighted)

    groups = dict(groups or {})
    for name in variables:  # dummies of a categorical variable share its heading
        parent = next((g for g in groups if name.startswith(f"{g}_") and name not in groups),
                      None)
        if parent is not None:
            groups[name] = groups[parent]
    table1_notes = [sample_note] if sample is not None and sample_note else []
    table1_notes.append("N is the number of firms with the variable known; minimum and "
                        "maximum as observed. Dummies of categorical variables are listed "
                        "one by one.")
    return [
        Exhibit(summary_statistics(frame, variables, labels, w, sample),
                "table1_summary_statistics",
                "Table 1. Summary statistics of the model variables",
                notes(*table1_notes), "Variable", summary_cells(frame, variables, w, sample),
                display=lambda checked: summary_display(checked, frame, groups),
                panel_column="group"),
        *samples_exhibits(frame, partners, scales, w, wording, regional, sample, notes,
                          sample_note),
    ]


def samples_exhibits(frame: pd.DataFrame, partners: Sequence[str], scales: Sequence[str],
                     w: str | None, wording: Wording | None, regional: str,
                     sample: pd.Series | None, notes: Callable[..., tuple[str, ...]],
                     sample_note: str) -> list[Exhibit]:
    """Prevalence and innovation rates for the estimation sample beside all firms (all
    firms alone without a sample), the breadth correlations for all firms; each says
    which firms it describes in its title and notes."""
    inside = within(frame, sample) if sample is not None else None
    counts = {SAMPLE_PREFIX: int(inside.sum()) if inside is not None else 0,
              ALL_PREFIX: len(frame)}
    which = " (estimation sample and all firms)" if inside is not None else " (all firms)"
    about = ((sample_note,) if inside is not None and sample_note
             else ("All firms of the clean survey.",))
    unit = (wording or Wording(country="Norway", region_unit="city-region")).placeholders()

    def prevalence(mask: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        part = frame[mask]
        return (collaboration_prevalence(part, partners, scales, w, wording=wording),
                prevalence_cells(part, partners, scales, w, wording=wording))

    def rates(by: str, label: str) -> Callable[[np.ndarray], tuple[pd.DataFrame, pd.DataFrame]]:
        return lambda mask: (innovation_rates_by(frame, by, weight=w, by_label=label,
                                                 inside=mask),
                             rates_cells(frame, by, weight=w, inside=mask))

    def short_heads(checked: pd.DataFrame) -> pd.DataFrame:
        """Outcome heads shortened where each appears under both samples."""
        if inside is None:
            return checked
        return checked.rename(columns={
            c: next((c.replace(full, short) for full, short in SHORT_OUTCOMES.items()
                     if c.endswith(full)), c) for c in checked.columns})

    shares, share_counts = paired("Partner type", prevalence, len(frame), inside)
    glocal, glocal_counts = paired("Glocal type", rates("glocal_type", "Glocal type"),
                                   len(frame), inside)
    region, region_counts = paired(unit["Region_unit"], rates("region", unit["Region_unit"]),
                                   len(frame), inside)
    pairs = correlation_cells(frame, scales, wording=wording)["count"]
    n_pairs = (f"{pairs.min():,}" if pairs.min() == pairs.max()
               else f"{pairs.min():,} to {pairs.max():,}")
    return [
        Exhibit(shares, "collaboration_prevalence",
                "Collaboration on innovation by partner type and location, share of firms"
                + which,
                notes("Share of firms that collaborated with the partner type at the location "
                      "at least rarely, among the firms of the sample answering the item; "
                      "group-firm items of firms outside a business group count as no "
                      "collaboration.",
                      "Any partner type: collaborated with at least one partner type there.",
                      *about),
                "Partner type", share_counts,
                display=(lambda checked: with_firm_counts(checked, counts))
                if inside is not None else None),
        Exhibit(breadth_correlations(frame, scales, wording=wording), "breadth_correlations",
                "Correlations of the breadth of collaboration at each scale (all firms)",
                notes("Pearson correlations (unweighted, pairwise complete) of the number of "
                      "partner types collaborated with at each scale, over all firms of the "
                      f"clean survey with both measures known ({n_pairs} firms)."),
                "Variable", correlation_cells(frame, scales, wording=wording)),
        Exhibit(glocal, "innovation_by_glocal_type",
                "Innovation rates by type of collaboration geography" + which,
                notes(f"Local: any external partner (all partner types except firms of the "
                      f"own business group) at the regional scale ({regional}); non-local: "
                      "any external partner at another scale. N: firms of the sample in the "
                      "row; each rate uses those whose outcome is known.", *about),
                "Glocal type", glocal_counts, display=short_heads),
        Exhibit(region, "innovation_by_region",
                f"Innovation rates by {unit['region_unit']}" + which,
                notes(f"N: firms of the sample in the {unit['region_unit']}; each rate uses "
                      "those whose outcome is known.", *about),
                unit["Region_unit"], region_counts, display=short_heads),
    ]


def analysis_layout(frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partner types and scales of an analysis data set, read from its columns."""
    partners = tuple(p for p in PARTNER_TYPES
                     if any(c.startswith(f"collab_{p}_") for c in frame.columns))
    scales = tuple(c.removeprefix("breadth_") for c in frame.columns if c.startswith("breadth_"))
    return partners, scales


def variable_labels(frame: pd.DataFrame, partners: Sequence[str], scales: Sequence[str],
                    survey_year: int, extra: Mapping[str, str],
                    wording: Wording | None = None) -> dict[str, str]:
    """Labels of the analysis variables (and of this data set's dummies) in the study's
    words, then ``extra``."""
    categories = {c: list(frame[c].cat.categories) for c in ("sector", "region")
                  if c in frame.columns and isinstance(frame[c].dtype, pd.CategoricalDtype)}
    labels = {name: doc.label for name, doc in variable_registry(
        partners, scales, survey_year=survey_year, categories=categories,
        wording=wording or Wording()).items()}
    return {**labels, **extra}


def variable_groups(spec: ModelSpec | None) -> dict[str, str]:
    """Variable -> the heading of its Table 1 panel: "Outcomes", else its block's label."""
    if spec is None:
        return {}
    groups = {o: "Outcomes" for o in spec.outcome_labels}
    for block in spec.blocks.values():
        for name in block.variables:
            groups.setdefault(name, block.label)
    return groups


def write_checked_exhibits(exhibits: Sequence[Exhibit], settings: DisclosureSettings,
                           directory: Path) -> pd.DataFrame:
    """Check every exhibit's cells (flag or suppress small cells) before anything is
    written, write them, and return the flags."""
    checked = [check_exhibit(e.stem, e.frame, e.cells, e.key_column, settings)
               for e in exhibits]
    for exhibit, result in zip(exhibits, checked, strict=True):
        shown = exhibit.display(result.frame) if exhibit.display else None
        write_frame_exhibit(result.frame, directory, exhibit.stem, exhibit.title,
                            (*exhibit.notes, *result.notes), shown=shown,
                            layout=FrameLayout(panel_column=exhibit.panel_column))
    return merge_flags([r.flags for r in checked])
