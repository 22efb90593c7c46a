"""The model specification as one survey can estimate it.

Stand-ins for variables the survey lacks, the sampling weights, the survey design, the
study's wording in the labels, and the variants and families this survey cannot tell apart
or estimate at all. Each function takes a :class:`~analysis.models.specification.ModelSpec`
and returns a new one; ``analysis.tasks.estimate.model_spec`` chains them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from analysis.models.estimation.survey import SurveyDesign
from analysis.models.specification import (
    Family,
    ModelSpec,
    OmittedFamily,
    OmittedVariant,
    check_weighted_se,
)


def with_weights(spec: ModelSpec, weighted: bool) -> ModelSpec:
    """Every family weighted (or not): the ``--option weights=true|false`` override."""
    families = {}
    for name, fam in spec.families.items():
        check_weighted_se(weighted, fam.se, f"families.{name}", spec.path)
        families[name] = replace(fam, weighted=weighted)
    return replace(spec, families=families)


def for_survey_weights(spec: ModelSpec, survey_weighted: bool) -> ModelSpec:
    """The spec as a survey without sampling weights can estimate it: unweighted, saying so
    when weights were asked for (C4 ``weighted`` false). A survey with weights whose models
    are all unweighted says so too (its descriptive exhibits are weighted)."""
    if survey_weighted and not any(f.weighted for f in spec.families.values()):
        note = ("Unweighted models: each firm counts once (the survey's sampling weights, "
                "used by the descriptive exhibits, are not used here; set weights = true to "
                "use them).")
        return replace(spec, notes=(*spec.notes, note))
    if survey_weighted or not any(f.weighted for f in spec.families.values()):
        return spec
    note = ("Sampling weights were requested (weights = true), but this survey has no weight "
            "column (columns.weight): the models are unweighted.")
    return replace(with_weights(spec, False), notes=(*spec.notes, note))



def with_substitutes(spec: ModelSpec, substitutes: dict[str, str],
                     unavailable: Iterable[str] = ()) -> ModelSpec:
    """The spec with each unavailable variable replaced by its stand-in (contract C4).

    A survey that records only "domestic" and "abroad" has no city-region scale; the build
    step then names stand-ins (e.g. ``breadth_domestic`` for ``breadth_local``). They replace
    the originals in the blocks, the ``[[tests]]`` and the headline, so every model, table,
    test and claim compares what the survey can measure. Variables without a stand-in stay
    and are dropped later as unavailable.
    """
    missing = set(unavailable)
    swap = {old: new for old, new in substitutes.items() if old in missing and new}
    if not swap:
        return spec

    def rename(name: str) -> str:
        return swap.get(name, name)

    blocks = {name: replace(block, variables=tuple(dict.fromkeys(
        rename(v) for v in block.variables))) for name, block in spec.blocks.items()}
    tests = tuple(replace(test, terms={rename(t): w for t, w in test.terms.items()},
                          numerator=rename(test.numerator),
                          denominator=rename(test.denominator)) for test in spec.tests)
    headline = {key: rename(value) for key, value in spec.headline.items()}
    labels = dict(spec.labels)
    for old, new in swap.items():
        labels.setdefault(new, stand_in_label(labels.get(old, old), new))
    return replace(spec, blocks=blocks, tests=tests, headline=headline, labels=labels)


#: How a variable name's scale suffix reads in a label (placeholders: see with_wording).
_SUFFIX_PHRASES = {"local": "same {region_unit}", "national": "elsewhere in {country}",
                   "domestic": "domestic", "international": "abroad"}


def stand_in_label(old_label: str, new: str) -> str:
    """The label of a stand-in: the original's with the scale after its last comma replaced
    by the stand-in's own ("STI partners, regional" -> "STI partners, domestic" for
    sti_domestic), so a row says what it measures; the notes say what it stands in for."""
    scale = next((s for s in _SUFFIX_PHRASES if new.endswith(f"_{s}")), None)
    if scale is None or ", " not in old_label:
        return new
    return f"{old_label.rsplit(', ', 1)[0]}, {_SUFFIX_PHRASES[scale]}"


def with_wording(spec: ModelSpec, fill: Callable[[str], str]) -> ModelSpec:
    """Every label, block label, outcome label, variant label and table title with the
    study's words put in for ``{country}``, ``{region_unit}``, ... (``fill``)."""
    return replace(
        spec,
        labels={k: fill(v) for k, v in spec.labels.items()},
        outcome_labels={k: fill(v) for k, v in spec.outcome_labels.items()},
        variant_labels={k: fill(v) for k, v in spec.variant_labels.items()},
        blocks={k: replace(b, label=fill(b.label)) for k, b in spec.blocks.items()},
        tables={k: replace(tb, title=fill(tb.title)) for k, tb in spec.tables.items()})


def for_survey_design(spec: ModelSpec, design: Mapping[str, str] | None,
                      survey_weighted: bool) -> ModelSpec:
    """The spec of a study with a ``[design]``: design-based SEs in the estimate step
    (``spec.survey``), every family weighted by the survey weights when it has them (as
    Stata's svy: always uses the svyset weights)."""
    if not design:
        return spec
    survey = SurveyDesign(strata=design.get("strata"), psu=design.get("psu"),
                          fpc=design.get("fpc"), singleton=design.get("singleton", "fail"))
    families = {name: replace(fam, weighted=survey_weighted or fam.weighted)
                for name, fam in spec.families.items()}
    return replace(spec, families=families, survey=survey,
                   survey_source=str(design.get("source", "")))


def _available(spec: ModelSpec, blocks: Iterable[str], skip: set[str]) -> list[str]:
    """The variables of ``blocks`` the survey provides, in order, without repeats."""
    names: list[str] = []
    for block in blocks:
        names += [v for v in spec.blocks[block].variables if v not in skip and v not in names]
    return names


def _variant_note(spec: ModelSpec, omitted: OmittedVariant) -> str:
    label, kept = spec.variant_label(omitted.variant), spec.variant_label(omitted.same_as)
    if omitted.blocks:
        what = ", ".join(spec.blocks[b].label for b in omitted.blocks)
        return (f"{what} not available in this survey: the '{label}' columns are omitted "
                f"(their models would repeat the '{kept}' columns).")
    return (f"The '{label}' columns are omitted: in this survey their models have the same "
            f"regressors as the '{kept}' columns.")


def omit_unavailable(spec: ModelSpec, unavailable: Iterable[str] = ()) -> ModelSpec:
    """The spec without the models this survey cannot tell apart or cannot estimate at all.

    - A variant whose available regressors are those of an earlier variant of its family
      (e.g. "manager" on a survey without manager questions) is dropped: the models
      would be identical. The ``[headline]`` and ``[[tests]]`` naming it move to the
      surviving variant, so every consumer finds the models it looks for.
    - A family none of whose main-block variables is available is dropped with its tests
      (estimating a controls-only model would answer another question).

    What was dropped is kept in ``omitted_variants`` / ``omitted_families`` with a note for
    the exhibits. Tables keep their entries; a table whose families are all dropped names
    none (the tables step then writes a note instead of the table).
    """
    skip = set(unavailable)
    families: dict[str, Family] = {}
    gone_families: list[OmittedFamily] = []
    gone_variants: list[OmittedVariant] = []
    for name, fam in spec.families.items():
        if not _available(spec, fam.main, skip):
            wanted = ", ".join(v for b in fam.main for v in spec.blocks[b].variables)
            labels = ", ".join(spec.blocks[b].label for b in fam.main)
            gone_families.append(OmittedFamily(name, fam.main, (
                f"Models of family '{name}' are omitted: none of its main variables "
                f"({labels}: {wanted}) is available in this survey.")))
            continue
        seen: dict[frozenset[str], str] = {}
        kept: dict[str, tuple[str, ...]] = {}
        for variant, controls in fam.variants.items():
            regressors = frozenset(_available(spec, fam.main + controls, skip))
            if regressors in seen:
                same_as = seen[regressors]
                extra = tuple(b for b in controls if b not in fam.variants[same_as]
                              and not _available(spec, [b], skip))
                draft = OmittedVariant(name, variant, same_as, extra, "")
                gone_variants.append(replace(draft, note=_variant_note(spec, draft)))
                continue
            seen[regressors] = variant
            kept[variant] = controls
        families[name] = replace(fam, variants=kept)
    if not gone_families and not gone_variants:
        return spec
    moved = {(o.family, o.variant): o.same_as for o in gone_variants}
    tests = tuple(replace(t, variant=moved.get((t.family, t.variant), t.variant))
                  for t in spec.tests if t.family in families)
    headline = dict(spec.headline)
    if headline.get("family") in families and "variant" in headline:
        headline["variant"] = moved.get((headline["family"], headline["variant"]),
                                        headline["variant"])
    tables = {name: replace(table, families=tuple(f for f in table.families if f in families),
                            omitted_families=tuple(f for f in table.families
                                                   if f not in families))
              for name, table in spec.tables.items()}
    return replace(spec, families=families, tests=tests, headline=headline, tables=tables,
                   omitted_variants=tuple(gone_variants),
                   omitted_families=tuple(gone_families))
