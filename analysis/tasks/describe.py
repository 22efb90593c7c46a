"""Describe step: descriptive exhibits of the analysis data set (CSV, Markdown, LaTeX, HTML,
Word).

Writes Table 1 (summary statistics of every model variable in the estimation sample of the
headline models, beside the N and mean of all firms), collaboration prevalence by partner
type and scale, the correlations of the breadth measures, and innovation rates by glocal
type and by city-region into ``<output>/tables``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data import variables
from analysis.data.study_config import load_study_config
from analysis.errors import ExhibitError
from analysis.exhibits import descriptives, disclosure
from analysis.exhibits.frames import TABLE_FORMATS, write_frame_exhibit
from analysis.exhibits.layout import FrameLayout
from analysis.exhibits.samples import union_mask
from analysis.models.specification import ModelSpec, expand_models
from analysis.tasks import build, estimate
from analysis.tasks import disclosure as disclosure_step

DESCRIPTION = ("Descriptive exhibits: summary statistics, collaboration prevalence, breadth "
               "correlations, innovation by glocal type and by city-region")

STEMS = ("table1_summary_statistics", "collaboration_prevalence", "breadth_correlations",
         "innovation_by_glocal_type", "innovation_by_region")


def model_variables(spec_path: Path) -> tuple[list[str] | None, dict[str, str]]:
    """Outcomes and block variables of the model specification, and its labels.

    ``(None, {})`` when there is no specification file (the exhibit then uses the default
    list of :func:`analysis.exhibits.descriptives.default_model_variables`).
    """
    if not Path(spec_path).is_file():
        return None, {}
    try:
        spec = tomllib.loads(io.read_toml_text(spec_path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ExhibitError(f"model specification {spec_path}: not valid TOML: {err}") from err
    names = list(spec.get("outcomes", {}))
    for block in spec.get("blocks", {}).values():
        names += list(block.get("variables", []))
    labels = {**spec.get("outcomes", {}), **spec.get("labels", {})}
    return list(dict.fromkeys(names)), {k: str(x) for k, x in labels.items()}


def headline_sample(ctx: Context, analysis: pd.DataFrame,
                    unavailable: list[str]) -> tuple[pd.Series | None, str, ModelSpec | None]:
    """The firms of the estimation sample of at least one headline model (the headline
    family and variant of the specification), a note saying so, and the spec; (None, "",
    None) without a specification or headline."""
    if not Path(ctx.model_spec_path).is_file():
        return None, "", None
    spec = estimate.model_spec(ctx)
    head = spec.headline or {}
    chosen = [m for m in expand_models(spec, [head["family"]])
              if m.variant == head.get("variant")] if head.get("family") in spec.families else []
    if not chosen:
        return None, "", spec
    mask = union_mask(analysis, spec, chosen, unavailable)
    variant = spec.variant_label(chosen[0].variant).lower()
    outcomes = ", ".join(spec.outcome_labels.get(m.outcome, m.outcome).lower() for m in chosen)
    note = (f"Estimation sample: the {int(mask.sum()):,} firms in at least one of the headline "
            f"models ({chosen[0].estimator}, {variant}; outcomes {outcomes}), each with the "
            "outcome and every regressor known; all firms: the clean survey.")
    return mask, note, spec


def variable_groups(spec: ModelSpec | None) -> dict[str, str]:
    """Variable -> the heading of its Table 1 panel: "Outcomes", else its block's label."""
    if spec is None:
        return {}
    groups = {o: "Outcomes" for o in spec.outcome_labels}
    for block in spec.blocks.values():
        for name in block.variables:
            groups.setdefault(name, block.label)
    return groups


def inputs(ctx: Context) -> list[Path]:
    files = [ctx.paths.data_clean / build.ANALYSIS_FILE,
             ctx.paths.data_clean / build.META_FILE, ctx.study_config_path]
    return files + ([ctx.model_spec_path] if Path(ctx.model_spec_path).is_file() else [])


def outputs(ctx: Context) -> list[Path]:
    return [*(ctx.paths.tables / f"{stem}.{ext}" for stem in STEMS for ext in TABLE_FORMATS),
            disclosure_step.flags_path(ctx, "describe")]


def run(ctx: Context) -> None:
    path = ctx.paths.data_clean / build.ANALYSIS_FILE
    if not path.is_file():
        raise ExhibitError(f"{path}: analysis data not found (run the build step first)")
    analysis = io.read_parquet(path)
    settings = build.read_settings(ctx.study_config_path)
    partners = tuple(p for p in variables.PARTNER_TYPES
                     if any(c.startswith(f"collab_{p}_") for c in analysis.columns))
    scales = tuple(c.removeprefix("breadth_") for c in analysis.columns
                   if c.startswith("breadth_"))
    wording = load_study_config(ctx.study_config_path, root=ctx.paths.root).wording
    names, spec_labels = model_variables(ctx.model_spec_path)
    spec_labels = {k: wording.fill(v) for k, v in spec_labels.items()}
    meta = build.read_meta(ctx.paths.data_clean)  # C4: what this survey cannot provide
    if names is not None:
        names = build.resolve_variables(names, meta)
    categories = {c: list(analysis[c].cat.categories) for c in ("sector", "region")
                  if c in analysis.columns and isinstance(analysis[c].dtype, pd.CategoricalDtype)}
    labels = {name: doc.label for name, doc in variables.variable_registry(
        partners, scales, survey_year=settings.survey_year, categories=categories,
        wording=wording).items()}
    labels.update(spec_labels)
    sample, sample_note, spec = headline_sample(ctx, analysis,
                                                [str(v) for v in meta.get("unavailable", [])])
    try:
        exhibits = descriptives.descriptive_exhibits(
            analysis, partners, scales, labels=labels, model_variables=names,
            data_note=" ".join([*meta.get("notes", []), settings.data_note]).strip() or None,
            sample=sample, sample_note=sample_note, groups=variable_groups(spec),
            wording=wording)
    except ExhibitError as err:
        raise ExhibitError(f"{path}: {err}") from err
    # Disclosure control before anything is written: flag (or suppress) small cells.
    settings = disclosure_step.settings(ctx)
    checked = [disclosure.check_exhibit(e.stem, e.frame, e.cells, e.key_column, settings)
               for e in exhibits]
    for exhibit, result in zip(exhibits, checked, strict=True):
        shown = exhibit.display(result.frame) if exhibit.display else None
        write_frame_exhibit(result.frame, ctx.paths.tables, exhibit.stem, exhibit.title,
                            (*exhibit.notes, *result.notes), shown=shown,
                            layout=FrameLayout(panel_column=exhibit.panel_column))
    disclosure_step.write_flags(ctx, "describe",
                                disclosure.merge_flags([r.flags for r in checked]))
