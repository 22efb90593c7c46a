"""The model specification as one survey can estimate it, and the checks of every name in
it against the survey's analysis data (contract C4).

* :func:`check_variables`: every variable the specification names (block variables,
  outcomes, cluster variables) is in the analysis data, or is replaced by a stand-in the
  build step declared (``analysis_meta.json`` ``substitutes``), or is declared
  ``optional`` in the specification (a variable some surveys lack). Anything else is a
  typo: ConfigError naming the file, the key and the nearest valid names, before any model
  is estimated.
* :func:`unlabelled`: the variables the tables show without a label of their own.
* :func:`with_substitutes`, :func:`omit_unavailable`, :func:`for_survey_weights`,
  :func:`for_survey_design`, :func:`with_wording`: the specification with the stand-ins
  swapped in, without the models this survey cannot tell apart or estimate, unweighted
  when the survey has no weights, with the survey design (design-based SEs) and with the
  study's own words in the labels. Each takes a ModelSpec and returns a new one;
  :func:`survey_model_spec` chains them (the one resolution every step uses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.config import WEIGHTS
from analysis.data.wording import Wording
from analysis.errors import ConfigError, ModelError
from analysis.models.spec_checks import suggestion
from analysis.models.specification import (
    Family,
    ModelDef,
    ModelSpec,
    OmittedFamily,
    OmittedVariant,
    load_model_spec,
    spec_variables,
    with_weights,
)


def _where_named(spec: ModelSpec, name: str) -> str:
    """The key of the specification that names ``name`` first (for error messages)."""
    for block in spec.blocks.values():
        if name in block.variables:
            return f"[blocks.{block.name}] variables"
    for family in spec.families.values():
        if name in family.outcomes:
            return f"[families.{family.name}] outcomes"
        if family.se == "cluster" and family.cluster == name:
            return f"[families.{family.name}] cluster (or [defaults] cluster)"
    return "the specification"


def check_variables(spec: ModelSpec, columns: Iterable[str],
                    substitutes: Mapping[str, str] | None = None,
                    where: str = "the analysis data set") -> None:
    """Every variable of the specification is in the data, stood in for, or optional.

    ``columns``: the analysis data's columns (or, before any step, every variable the build
    step can make: ``where`` says which); ``substitutes``: the stand-ins of the analysis
    meta (standard name -> the variable that replaces it on this survey). Raises ConfigError
    naming the file, the key, the variable and the nearest valid names.
    """
    present = set(columns)
    stand_ins = {old: new for old, new in (substitutes or {}).items() if new in present}
    optional = set(spec.optional)
    named = spec_variables(spec)
    for name in named:
        if name in present or name in stand_ins or name in optional:
            continue
        raise ConfigError(
            f"{spec.path}: {_where_named(spec, name)} names '{name}', which is not in "
            f"{where}" + suggestion(name, present)
            + ". Check the spelling; a variable that some surveys lack must be listed in "
            "'optional' (it is then left out, with a note, where the data lack it)")
    for name in spec.optional:  # checked after the variables: a typo there is named first
        if name not in named:
            raise ConfigError(f"{spec.path}: optional names '{name}', which no block, outcome "
                              "or cluster of the specification uses" + suggestion(name, named))


def check_before_build(spec: ModelSpec, names: Iterable[str], prefixes: Sequence[str]
                       ) -> None:
    """Before any step: every variable of the specification is one the build step can make
    for this study (``names``, or a dummy with one of ``prefixes``), or optional; else
    ConfigError with the nearest valid names (:func:`check_variables`)."""
    known = set(names) | {v for v in spec_variables(spec) if v.startswith(tuple(prefixes))}
    check_variables(spec, known, where="the variables the build step makes for this study "
                    "(the variable registry of analysis/data)")


def unlabelled(spec: ModelSpec) -> list[str]:
    """The variables a table shows by their raw name: outcomes without an ``[outcomes]``
    label and variables of blocks displayed as coefficients without a ``[labels]`` entry
    (a categorical variable's dummies read "<its label>: level", so it needs one too)."""
    missing = [o for f in spec.families.values() for o in f.outcomes
               if o not in spec.outcome_labels]
    missing += [v for b in spec.blocks.values() if b.display == "coefficients"
                for v in b.variables if v not in spec.labels]
    return list(dict.fromkeys(missing))


def unlabelled_note(spec: ModelSpec, shown: Iterable[str]) -> list[str]:
    """A note naming the variables among ``shown`` that have no label (none: no note)."""
    names = [v for v in unlabelled(spec) if v in set(shown)]
    if not names:
        return []
    return [f"No label in {spec.path.name} for {', '.join(names)}: shown by the variable "
            "name (add it under [labels] or [outcomes])."]


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
    note = ("Weights were requested (weights = \"pweight\", \"fweight\" or true), but this "
            "survey has no weight column (columns.weight): the models are unweighted.")
    return replace(with_weights(spec, False), notes=(*spec.notes, note))


def for_survey_design(spec: ModelSpec, design: Mapping[str, str] | None,
                      survey_weighted: bool) -> ModelSpec:
    """The spec of a study with a ``[design]``: design-based SEs in the estimate step
    (``spec.survey``), every family weighted by the survey weights when it has them, as
    probability weights (Stata's svy: always uses the svyset weights, and svyset takes
    pweights only: frequency weights with a design are refused, naming the keys)."""
    if not design:
        return spec
    fweighted = [name for name, fam in spec.families.items() if fam.weights == "fweight"]
    if fweighted:
        raise ConfigError(
            f"{spec.path}: weights = \"fweight\" ([families.{fweighted[0]}] weights, "
            "[defaults] weights or --option weights) cannot be combined with the study's "
            "[design] (strata / psu / fpc): a survey design takes sampling weights only, as "
            "Stata's svyset takes pweights only; use weights = \"pweight\" (or true), or "
            "remove [design] for frequency-weighted models without design-based SEs")
    # imported here: the check before any step (check_before_build) needs no estimator
    from analysis.models.estimation.survey import SurveyDesign

    survey = SurveyDesign(strata=design.get("strata"), psu=design.get("psu"),
                          fpc=design.get("fpc"), singleton=design.get("singleton", "fail"))
    families = {name: replace(fam, weights="pweight" if survey_weighted else fam.weights)
                for name, fam in spec.families.items()}
    return replace(spec, families=families, survey=survey,
                   survey_source=str(design.get("source", "")))


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


def check_against_data(spec: ModelSpec, models: Sequence[ModelDef], columns: Iterable[str],
                       unavailable: Iterable[str] = ()) -> None:
    """Fail with the file, model and variable when a model names a variable not in the data.

    ``unavailable`` lists variables the survey cannot provide (a scale or partner type it
    does not record); those are dropped from models rather than reported as errors.
    """
    present = set(columns)
    skip = set(unavailable)
    for model in models:
        needed = [model.outcome] + spec.variables(model)
        if model.se == "cluster":
            needed.append(model.cluster)
        for name in needed:
            if name not in present and name not in skip:
                raise ConfigError(
                    f"{spec.path}: model '{model.id}' uses the variable '{name}', which is not "
                    "in the analysis data set (check the spelling, or add it in "
                    "analysis/data/variables.py)"
                )


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


def weights_option(value: object) -> bool | str:
    """``--option weights=...``: weight every model by the survey's weight column, as
    probability weights (true or pweight) or frequency weights (fweight), or not at all
    (false or none)."""
    if isinstance(value, bool) or value in WEIGHTS:
        return value
    raise ModelError(f"--option weights={value!r}: expected true, false, " + ", ".join(WEIGHTS))


def survey_model_spec(path: Path, meta: Mapping[str, Any],
                      options: Mapping[str, Any] | None = None, *,
                      columns: Iterable[str] | None = None,
                      wording: Wording | None = None, log_plus_one: bool = False
                      ) -> ModelSpec:
    """The model specification at ``path`` as this survey (``meta``, contract C4) can
    estimate it.

    Every variable it names is checked against the analysis data's ``columns`` when given
    (a misspelt name stops here, before any model is estimated, with the nearest valid
    names); the stand-ins are swapped in; ``--option weights`` applies; the survey's
    design and weights decide the standard errors and weighting; the study's ``wording``
    goes into the labels; variants that would repeat an earlier variant's model and
    families without any available main variable are left out, each with a note.
    """
    unavailable = [str(v) for v in meta.get("unavailable", [])]
    substitutes = meta.get("substitutes", {}) or {}
    spec = load_model_spec(path)
    if columns is not None:
        check_variables(spec, columns, substitutes)
    spec = with_substitutes(spec, substitutes, unavailable)
    if options and "weights" in options:
        spec = with_weights(spec, weights_option(options["weights"]))
    weighted = bool(meta.get("weighted", False))
    spec = for_survey_design(spec, meta.get("design"), weighted)
    spec = for_survey_weights(spec, weighted)
    spec = with_wording(spec, (wording or Wording()).fill)
    if log_plus_one:  # say what the control is: log(1 + employees)
        spec = replace(spec, labels={**spec.labels, "log_employees": "Log (1 + employees)"})
    return omit_unavailable(spec, unavailable)
