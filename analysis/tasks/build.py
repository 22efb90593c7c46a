"""Build step: clean survey -> analysis data set, its data appendix and the missing-data table.

Reads ``<data_clean>/survey_clean.parquet`` (contract C3) and a few values of the study
configuration; every variable is made by :mod:`analysis.data.variables`. Writes
``<data_clean>/analysis_meta.json`` (contract C4): the partner types and scales of the survey,
the standard variables it cannot provide (``unavailable``), whether it is weighted, and for a
survey without a city-region scale the variables that stand in for the regional ones
(``substitutes``, e.g. ``breadth_local`` -> ``breadth_domestic``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import io
from analysis.context import Context
from analysis.data import variables
from analysis.data.clean import DESIGN_COLUMNS
from analysis.data.study_config import StudyConfig, load_study_config
from analysis.data.study_schema import SparseCategories
from analysis.data.wording import Wording
from analysis.errors import ConfigError, DataError
from analysis.exhibits.frames import TABLE_FORMATS, to_markdown, write_frame_exhibit

DESCRIPTION = ("Build the analysis data set (outcomes, collaboration by partner type and "
               "scale, controls), its data appendix and the missing-data policy table")

CLEAN_FILE = "survey_clean.parquet"
ANALYSIS_FILE = "analysis_data.parquet"
META_FILE = "analysis_meta.json"
APPENDIX_STEM = "analysis_variables"
POLICY_STEM = "missing_data_policy"


@dataclass(frozen=True)
class BuildSettings:
    """The values of the study configuration the build needs."""

    survey_year: int
    never: tuple[int, ...]
    intensity: dict[int, float]
    scale_order: tuple[str, ...]
    data_note: str
    study: str = ""
    weighted: bool = False
    collaboration_type: str = "frequency"
    wording: Wording = Wording()
    size_bands: tuple[int, ...] = variables.SIZE_BANDS
    size_labels: tuple[str, ...] = variables.SIZE_LABELS
    log_plus_one: bool = False
    sparse: SparseCategories = SparseCategories()
    #: the ``[design]`` columns (canonical names) and singleton rule, or None
    design: dict[str, str] | None = None


def _survey_year(data: Mapping[str, Any], source: Path) -> int:
    """``[study].survey_year``; else the latest valid founding year (the survey year).

    The fallback reads the range of the kind that validates the founding-year column: a
    firm cannot be founded after the survey, so its upper bound is the survey year.
    """
    year = data.get("study", {}).get("survey_year")
    if year is None:
        founded = data.get("columns", {}).get("founded")
        kind = data.get("validate", {}).get(founded) if founded else None
        valid = data.get("kinds", {}).get(kind, {}).get("range") if kind else None
        year = valid[1] if valid else None
    if isinstance(year, float) and year.is_integer():  # 2010.0 is 2010
        year = int(year)
    if not isinstance(year, int) or isinstance(year, bool):
        raise DataError(f"study config {source}: no survey year (set [study].survey_year; "
                         f"firm age = survey year - founding year)")
    return year


def read_settings(path: Path) -> BuildSettings:
    """The survey year, never codes, intensity weights, scale order and data note."""
    try:
        data = tomllib.loads(io.read_toml_text(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataError(f"study config {path}: cannot read: {err}") from err
    study = data.get("study", {})
    collaboration = data.get("collaboration", {})
    intensity = collaboration.get("intensity") or variables.DEFAULT_INTENSITY
    return BuildSettings(
        survey_year=_survey_year(data, Path(path)),
        never=tuple(collaboration.get("never", variables.DEFAULT_NEVER)),
        intensity={int(k): float(v) for k, v in intensity.items()},
        scale_order=tuple(collaboration.get("scales", {})),
        data_note=study.get("data_note", "") if study.get("synthetic", False) else "",
    )


def settings_from_config(cfg: StudyConfig) -> BuildSettings:
    """The build settings of a loaded (and checked) study configuration.

    Survey year: ``[study].survey_year``, else the upper bound of the founding-year kind;
    required only when the survey has a founding year (firm age).
    """
    year = cfg.survey_year
    founded = cfg.columns.get("founded")
    if year is None and founded is not None:
        kind = cfg.kinds.get(cfg.validate.get(founded, ""))
        year = int(kind.range[1]) if kind is not None and kind.range is not None else None
    if year is None and founded is not None:
        raise DataError(f"study config {cfg.source}: no survey year (set [study].survey_year; "
                         f"firm age = survey year - founding year)")
    c = cfg.collaboration
    return BuildSettings(
        survey_year=year if year is not None else 0,
        never=c.canonical_never if c is not None else variables.DEFAULT_NEVER,
        intensity=(c.canonical_intensity or variables.DEFAULT_INTENSITY) if c is not None
        else variables.DEFAULT_INTENSITY,
        scale_order=tuple(c.scales) if c is not None else (),
        data_note=cfg.data_note if cfg.synthetic else "",
        study=cfg.name,
        weighted=cfg.weight_column is not None,
        collaboration_type=c.type if c is not None else "frequency",
        wording=cfg.wording,
        size_bands=cfg.size.bands,
        size_labels=cfg.size.labels(),
        log_plus_one=cfg.sample.zero_employees == "log_plus_one",
        sparse=cfg.sparse,
        design=design_meta(cfg),
    )


def design_meta(cfg: StudyConfig) -> dict[str, str] | None:
    """The survey design as the analysis meta records it (canonical column names)."""
    if cfg.design is None:
        return None
    out = {key: DESIGN_COLUMNS[key] for key in DESIGN_COLUMNS
           if getattr(cfg.design, key) is not None}
    out["singleton"] = cfg.design.singleton
    out["source"] = "; ".join(f"{key}: {getattr(cfg.design, key)}" for key in DESIGN_COLUMNS
                              if getattr(cfg.design, key) is not None)
    return out


def study_settings(path: Path, root: Path | None = None) -> BuildSettings:
    """Load the study configuration at ``path`` (checked) and return its build settings."""
    try:
        cfg = load_study_config(path, root=root)
    except ConfigError as err:
        raise DataError(str(err)) from err
    return settings_from_config(cfg)


#: Standard variables of the canonical layout that models, exhibits and claims may name, in
#: the order the meta lists them when unavailable (besides those of the model specification).
STANDARD_VARIABLES: tuple[str, ...] = (
    "product", "process", "new_to_market", "process_new_to_industry", "novelty_ordered",
    *(f"breadth_{s}" for s in variables.SCALES),
    *(f"{g}_{side}" for g in variables.PARTNER_GROUPS for side in ("regional", "extra")),
    "log_employees", "foreign_owned", "group", "higher_ed_share", "firm_age",
    "manager_higher_ed", "open_mindedness", "trust_general", "trust_regional",
    "sector", "region", "region_sector", "glocal_type",
)


def spec_variables(spec_path: Path | None) -> list[str]:
    """Outcomes, block variables and the cluster variable of the model specification."""
    if spec_path is None or not Path(spec_path).is_file():
        return []
    try:
        spec = tomllib.loads(io.read_toml_text(spec_path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataError(f"model specification {spec_path}: cannot read: {err}") from err
    names = [str(o) for o in spec.get("outcomes", {})]
    for block in spec.get("blocks", {}).values():
        names += [str(v) for v in block.get("variables", [])]
    cluster = spec.get("defaults", {}).get("cluster")
    names += [str(cluster)] if cluster else []
    return list(dict.fromkeys(names))


def substitutes(columns: Sequence[str], scales: Sequence[str]) -> dict[str, str]:
    """Stand-ins for the regional variables when the survey has no city-region scale.

    With scales such as ("domestic", "international") the nearest scale plays the part of
    the local one and the farthest that of the extra-regional ones: ``breadth_local`` ->
    ``breadth_domestic``, ``sti_regional`` -> ``sti_domestic``, ``sti_extra`` ->
    ``sti_international``. ``breadth_national`` has none (the domestic scale covers it).
    """
    regional, _ = variables.split_scales(scales)
    if regional or len(scales) < 2:
        return {}
    near, far = scales[0], scales[-1]
    present = set(columns)
    pairs = [("breadth_local", f"breadth_{near}")]
    for group in variables.PARTNER_GROUPS:
        pairs += [(f"{group}_regional", f"{group}_{near}"), (f"{group}_extra", f"{group}_{far}")]
    return {old: new for old, new in pairs if old not in present and new in present}


def analysis_meta(analysis: pd.DataFrame, settings: BuildSettings, partners: Sequence[str],
                  scales: Sequence[str], standard: Sequence[str]) -> dict[str, Any]:
    """The C4 meta: study, partners, scales, unavailable standard variables, weighted.

    Additions beyond C4: ``substitutes`` (see :func:`substitutes`), ``collaboration_type``
    and ``notes`` (sentences for exhibit notes saying what the survey lacks).
    """
    wanted = list(dict.fromkeys([*standard, *STANDARD_VARIABLES]))
    unavailable = [name for name in wanted if name not in analysis.columns]
    stand_ins = substitutes(list(analysis.columns), scales)
    notes = []
    missing_scales = [s for s in variables.SCALES if s not in scales]
    if missing_scales:
        notes.append(f"The survey records collaboration at the scale(s) {', '.join(scales)} "
                     f"only (no {', '.join(missing_scales)} scale).")
    missing_partners = [p for p in variables.PARTNER_TYPES if p not in partners]
    if missing_partners:
        notes.append(f"The survey lacks the partner type(s) {', '.join(missing_partners)}.")
    if stand_ins:
        notes.append(settings.wording.fill("No {region_unit} scale: ") + "; ".join(
            f"{new} stands in for {old}" for old, new in stand_ins.items()) + ".")
    dropped = [name for name in unavailable if name not in stand_ins]
    if dropped:
        notes.append(f"Not available in this survey: {', '.join(dropped)}.")
    meta = {"study": settings.study, "partners": list(partners), "scales": list(scales),
            "unavailable": unavailable, "weighted": settings.weighted,
            "substitutes": stand_ins, "collaboration_type": settings.collaboration_type,
            "notes": notes}
    if settings.design is not None:  # only for a study with a [design] section
        meta["design"] = settings.design
    return meta


def read_meta(data_clean: Path) -> dict[str, Any]:
    """``<data_clean>/analysis_meta.json`` (C4); an absent file means nothing unavailable."""
    path = Path(data_clean) / META_FILE
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read the analysis meta: {err}") from err
    if not isinstance(meta, dict):
        raise DataError(f"{path}: the analysis meta must be a JSON object")
    return meta


def resolve_variables(names: Sequence[str], meta: Mapping[str, Any]) -> list[str]:
    """``names`` with each unavailable variable replaced by its substitute, or dropped.

    The rule consumers of C4 can share: a standard variable the survey lacks is replaced by
    ``meta["substitutes"][name]`` when there is one (e.g. breadth_local -> breadth_domestic),
    otherwise left out; duplicates keep their first position.
    """
    unavailable = set(meta.get("unavailable", []))
    stand_ins = meta.get("substitutes", {}) or {}
    out = [stand_ins.get(n) if n in unavailable else n for n in names]
    return list(dict.fromkeys(n for n in out if n))


def layout(clean: pd.DataFrame, scale_order: tuple[str, ...]
           ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partner types and scales of the clean data; scales in the study config's order."""
    partners, scales = variables.collaboration_layout(clean)
    if scale_order and set(scales) <= set(scale_order):
        scales = tuple(s for s in scale_order if s in scales)
    return partners, scales


def registry(analysis: pd.DataFrame, clean: pd.DataFrame, partners: tuple[str, ...],
             scales: tuple[str, ...], settings: BuildSettings) -> dict[str, variables.VariableDoc]:
    """Variable documentation for this layout, including the dummies of this data set."""
    categories = {c: list(analysis[c].cat.categories) for c in ("sector", "region")
                  if c in analysis.columns and isinstance(analysis[c].dtype, pd.CategoricalDtype)}
    return variables.variable_registry(
        partners, scales, survey_year=settings.survey_year,
        items=variables.open_items(clean) or ("open_1",), intensity_weights=settings.intensity,
        categories=categories, wording=settings.wording, size_labels=size_labels(analysis),
        log_plus_one=settings.log_plus_one)


def size_labels(analysis: pd.DataFrame) -> tuple[str, ...]:
    """The size classes of the analysis data (the bands, or the survey's own classes)."""
    if "size_class" in analysis.columns and isinstance(analysis["size_class"].dtype,
                                                       pd.CategoricalDtype):
        return tuple(str(c) for c in analysis["size_class"].cat.categories)
    return variables.SIZE_LABELS


def pool_sparse_categories(clean: pd.DataFrame, settings: BuildSettings
                           ) -> tuple[pd.DataFrame, list[str]]:
    """The clean data with the sparse categories of ``[sparse_categories]`` pooled, and a
    note per variable naming what was pooled."""
    rule = settings.sparse
    if rule.min_firms <= 0:
        return clean, []
    out, notes = clean, []
    for column in rule.variables:
        if column not in clean.columns:
            continue
        pooled_series, pooled = variables.pool_sparse(clean[column], rule.min_firms, rule.label)
        if pooled:
            out = out if out is not clean else clean.copy()
            out[column] = pooled_series
            name = pooled_series.cat.categories[-1]
            what = settings.wording.fill("{region_unit}") if column == "region" else column
            notes.append(f"Sparse categories pooled (fewer than {rule.min_firms} firms, "
                         f"[sparse_categories]): {what} {', '.join(map(str, pooled))} -> "
                         f"'{name}'.")
    return out, notes


def appendix_frame(analysis: pd.DataFrame, docs: Mapping[str, variables.VariableDoc]
                   ) -> pd.DataFrame:
    """The data appendix: :func:`analysis.data.appendix.describe_variables` plus a
    definition column.

    Every variable must be documented (an undocumented one raises :class:`DataError`).
    """
    from analysis.data.appendix import VariableDoc, describe_variables

    undocumented = [c for c in analysis.columns if c not in docs]
    if undocumented:
        raise DataError(f"analysis data: undocumented variable(s) {', '.join(undocumented)}")
    identifiers = {"firm_id", "interview_id"}
    table = describe_variables(analysis, {
        name: VariableDoc(label=doc.label, source=doc.source, summarize=name not in identifiers)
        for name, doc in docs.items()})
    table.insert(2, "definition", [docs[c].definition for c in table["variable"]])
    return table


def alpha_text(clean: pd.DataFrame) -> str:
    """Cronbach's alpha of the open-mindedness items, as a sentence for the appendix."""
    items = variables.open_items(clean)
    if len(items) < 2:
        return ""
    try:
        alpha = variables.cronbach_alpha(clean[items])
    except DataError as err:
        return f"Cronbach's alpha not computed: {err}."
    complete = int(clean[items].notna().all(axis=1).sum())
    return (f"Cronbach's alpha of the {len(items)} items = {alpha:.3f} ({complete} firms "
            f"answering all items).")


def policy_markdown() -> str:
    """The missing-data policy as Markdown, for the data appendix."""
    lines = ["## Missing-data policy", ""]
    lines += [f"- **{construct}.** {rule}" for construct, rule in
              variables.MISSING_DATA_POLICY.items()]
    return "\n".join(lines) + "\n"


def inputs(ctx: Context) -> list[Path]:
    files = [ctx.paths.data_clean / CLEAN_FILE, ctx.study_config_path]
    return files + ([ctx.model_spec_path] if Path(ctx.model_spec_path).is_file() else [])


def outputs(ctx: Context) -> list[Path]:
    appendix = ctx.paths.output / "data_appendix"
    return [
        ctx.paths.data_clean / ANALYSIS_FILE,
        ctx.paths.data_clean / META_FILE,
        appendix / f"{APPENDIX_STEM}.csv",
        appendix / f"{APPENDIX_STEM}.md",
        *(ctx.paths.tables / f"{POLICY_STEM}.{ext}" for ext in TABLE_FORMATS),
    ]


def run(ctx: Context) -> None:
    clean_path = ctx.paths.data_clean / CLEAN_FILE
    if not clean_path.is_file():
        raise DataError(f"{clean_path}: clean survey not found (run the clean step first)")
    clean = io.read_parquet(clean_path)
    settings = study_settings(ctx.study_config_path, root=ctx.paths.root)
    partners, scales = layout(clean, settings.scale_order)
    clean, pooled = pool_sparse_categories(clean, settings)
    try:
        analysis = variables.build_analysis_data(
            clean, survey_year=settings.survey_year, partners=partners, scales=scales,
            never=settings.never, intensity_weights=settings.intensity,
            size_bands=settings.size_bands, log_plus_one=settings.log_plus_one)
        counts = variables.policy_counts(clean, partners, scales)
    except DataError as err:
        raise DataError(f"{clean_path}: {err}") from err
    io.write_parquet(ctx.paths.data_clean / ANALYSIS_FILE, analysis)
    meta = analysis_meta(analysis, settings, partners, scales,
                         spec_variables(ctx.model_spec_path))
    meta["notes"] += pooled
    io.write_text(ctx.paths.data_clean / META_FILE, json.dumps(meta, indent=2) + "\n")

    docs = registry(analysis, clean, partners, scales, settings)
    appendix = appendix_frame(analysis, docs)
    alpha = alpha_text(clean)
    if alpha and "open_mindedness" in analysis.columns:
        row = appendix["variable"] == "open_mindedness"
        appendix.loc[row, "definition"] = appendix.loc[row, "definition"] + ". " + alpha
    notes = [f"{len(analysis)} firms. Definitions and source items of every variable of "
             f"{ANALYSIS_FILE}."] + ([f"Open-mindedness index: {alpha}"] if alpha else [])
    notes += [settings.data_note] if settings.data_note else []
    folder = ctx.paths.output / "data_appendix"
    io.write_csv(folder / f"{APPENDIX_STEM}.csv", appendix)
    io.write_text(folder / f"{APPENDIX_STEM}.md",
                  to_markdown(appendix, "Variables of the analysis data set", notes)
                  + "\n" + policy_markdown())

    policy_notes = [f"{len(clean)} firms in the clean survey. Rules by construct:"]
    policy_notes += [f"{c}: {r}" for c, r in variables.MISSING_DATA_POLICY.items()]
    policy_notes += [settings.data_note] if settings.data_note else []
    write_frame_exhibit(counts.rename(columns={"construct": "Construct", "case": "Case",
                                               "firms": "Firms affected"}),
                        ctx.paths.tables, POLICY_STEM,
                        "Missing-data policy: firms affected by each rule", policy_notes)
