"""Model specifications as data: load ``config/models.toml`` and expand it into models.

The TOML file is the single place that names outcomes, regressor blocks, controls,
estimators, standard errors, weights and labels; this module only reads it, checks it
(every key against the keys it may have, every name against the names defined, with the
nearest valid names on a typo), and crosses families x outcomes x variants into a flat,
ordered list of :class:`ModelDef`. The ``[[tests]]`` entries are read by
:mod:`analysis.models.spec_tests`; adapting the specification to one survey (stand-ins,
unavailable variables, the check of every variable against the analysis data) is
:mod:`analysis.models.survey_spec`.

Weights (``weights`` in ``[defaults]`` or a family), named as Stata names them:
``"pweight"`` (the survey's sampling weights, column ``weight``, as probability weights;
needs se = "robust" or "cluster"), ``"fweight"`` (the same column as frequency weights:
whole numbers, each row counting as that many firms; any se) or ``"none"``. For backward
compatibility ``true`` means ``"pweight"`` and ``false`` means ``"none"``.
``perfect_prediction``: ``"drop"`` (Stata's rule for logit / probit: a 0/1 regressor that
predicts the outcome perfectly is dropped with the observations it determines, and the
tables and models.csv say so) or ``"error"`` (refuse the model).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.config import WEIGHTS
from analysis.errors import ConfigError
from analysis.io import read_toml_text, special_file_kind
from analysis.models.spec_blocks import Block as Block  # re-exported: part of a spec
from analysis.models.spec_blocks import Family as Family  # re-exported: part of a spec
from analysis.models.spec_checks import check_keys, choice, require, suggestion
from analysis.models.spec_tests import TestDef as TestDef  # re-exported: part of a spec
from analysis.models.spec_tests import parse_tests

if TYPE_CHECKING:  # the estimation package is heavy: reading a spec does not need it
    from analysis.models.estimation.survey import SurveyDesign

ESTIMATORS = ("logit", "probit", "ologit", "oprobit", "lpm")
#: Estimators of a binary outcome: the ones the claims report can compare.
BINARY_ESTIMATORS = ("logit", "probit", "lpm")
SE_TYPES = ("robust", "cluster", "nonrobust")
DISPLAYS = ("coefficients", "indicator")
#: What a table shows: coefficients, AMEs, odds ratios, or an ordered model's AMEs on the
#: probability of each outcome category ("ame_category").
QUANTITIES = ("coef", "ame", "odds_ratio", "ame_category")
PERFECT_PREDICTION = ("drop", "error")

TOP_KEYS = ("defaults", "blocks", "outcomes", "labels", "variant_labels", "families",
            "tables", "headline", "tests", "optional", "claims")
DEFAULT_KEYS = ("estimator", "se", "cluster", "confidence_level", "weights",
                "perfect_prediction")
BLOCK_KEYS = ("label", "display", "variables")
FAMILY_KEYS = ("description", "estimator", "outcomes", "main", "variants", "se", "cluster",
               "weights", "perfect_prediction")
TABLE_KEYS = ("title", "families", "quantity")
HEADLINE_KEYS = ("family", "variant", "international", "local")
CLAIMS_KEYS = ("estimators",)

@dataclass(frozen=True)
class TableDef:
    name: str
    title: str
    families: tuple[str, ...]
    quantity: str
    #: families of the table dropped by :func:`omit_unavailable` (nothing to estimate)
    omitted_families: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelDef:
    """One model to estimate: an outcome, its regressor blocks, the estimator and the SEs."""

    id: str
    family: str
    outcome: str
    variant: str
    estimator: str
    se: str
    cluster: str
    main_blocks: tuple[str, ...]
    control_blocks: tuple[str, ...]
    weights: str = ""
    perfect_prediction: str = "drop"

    @property
    def blocks(self) -> tuple[str, ...]:
        return self.main_blocks + self.control_blocks

    @property
    def weighted(self) -> bool:
        return bool(self.weights)


@dataclass(frozen=True)
class OmittedVariant:
    """A variant left out because this survey gives it the regressors of ``same_as``.

    ``blocks``: the control blocks it adds whose variables are all unavailable (e.g. the
    manager controls of a survey without manager questions).
    """

    family: str
    variant: str
    same_as: str
    blocks: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class OmittedFamily:
    """A family left out because no variable of its main block(s) is available."""

    family: str
    main: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class ModelSpec:
    path: Path
    defaults: dict[str, Any]
    blocks: dict[str, Block]
    outcome_labels: dict[str, str]
    labels: dict[str, str]
    families: dict[str, Family]
    tables: dict[str, TableDef]
    headline: dict[str, str] = field(default_factory=dict)
    tests: tuple[TestDef, ...] = ()
    variant_labels: dict[str, str] = field(default_factory=dict)
    omitted_variants: tuple[OmittedVariant, ...] = ()
    omitted_families: tuple[OmittedFamily, ...] = ()
    #: notes for every exhibit of the models (e.g. weights requested, survey has none)
    notes: tuple[str, ...] = ()
    #: variables a survey may lack (``optional``): dropped with a note when absent
    optional: tuple[str, ...] = ()
    #: ``[claims] estimators``: the claims report evaluates each claim with each of them
    claims_estimators: tuple[str, ...] = ()
    #: the survey design of the study (design-based SEs in the estimate step), or None
    survey: SurveyDesign | None = None
    #: the design in the study's own column names, for the table notes
    survey_source: str = ""

    def resolve_variant(self, family: str, variant: str) -> str:
        """``variant``, or the variant that replaced it when it was omitted as a duplicate."""
        for omitted in self.omitted_variants:
            if omitted.family == family and omitted.variant == variant:
                return omitted.same_as
        return variant

    def omission_notes(self, families: Iterable[str]) -> list[str]:
        """The notes saying which of ``families``' models were left out, and why."""
        chosen = set(families)
        return ([o.note for o in self.omitted_families if o.family in chosen]
                + [o.note for o in self.omitted_variants if o.family in chosen])

    def variant_label(self, variant: str) -> str:
        """The column label of a variant (``[variant_labels]``, else the name capitalised)."""
        return self.variant_labels.get(variant, variant.replace("_", " ").capitalize())

    def tests_for(self, model: ModelDef) -> list[TestDef]:
        """The tests computed on ``model`` (those naming its family and variant)."""
        return [t for t in self.tests if t.family == model.family and t.variant == model.variant]

    def variables(self, model: ModelDef) -> list[str]:
        """The model's regressors (data-set variables, before dummy expansion), in order."""
        names: list[str] = []
        for block in model.blocks:
            names += [v for v in self.blocks[block].variables if v not in names]
        return names

    def label(self, term: str) -> str:
        """The row label of a term; dummies ``var[level]`` read ``level``."""
        if term in self.labels:
            return self.labels[term]
        if "[" in term and term.endswith("]"):
            return term.split("[", 1)[1][:-1]
        return term


def weights_kind(value: object, where: str, path: Path) -> str:
    """``weights`` as "" / "pweight" / "fweight" (true = "pweight", false / "none" = "")."""
    if isinstance(value, bool):
        return "pweight" if value else ""
    if isinstance(value, str) and value in WEIGHTS:
        return "" if value == "none" else value
    raise ConfigError(f"{path}: {where} weights must be true, false, \"pweight\", \"fweight\" "
                      f"or \"none\", got {value!r}"
                      + (suggestion(value, WEIGHTS) if isinstance(value, str) else ""))


def check_weighted_se(weights: str, se: str, where: str, path: Path) -> None:
    """Stata imposes vce(robust) with pweights: the inverse information is no variance then."""
    if weights == "pweight" and se == "nonrobust":
        raise ConfigError(f"{path}: [{where}] weights = \"pweight\" (or true) needs se = "
                          "'robust' or 'cluster' (sampling weights make the inverse-"
                          "information SE invalid; frequency weights, \"fweight\", do not)")


def _names(value: object, where: str, path: Path) -> tuple[str, ...]:
    """A list of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{path}: {where} must be a list of names, got {value!r}")
    return tuple(value)


def _parse_blocks(raw: dict[str, Any], path: Path) -> dict[str, Block]:
    blocks = {}
    for name, body in require(raw, "blocks", "top level", path).items():
        check_keys(body, BLOCK_KEYS, f"[blocks.{name}]", path)
        variables = _names(require(body, "variables", f"blocks.{name}", path),
                           f"[blocks.{name}] variables", path)
        if not variables:
            raise ConfigError(f"{path}: [blocks.{name}] variables is empty")
        blocks[name] = Block(
            name=name, label=body.get("label", name),
            display=choice(body.get("display", "coefficients"), DISPLAYS,
                           f"[blocks.{name}] display", path),
            variables=variables)
    return blocks


def _parse_family(name: str, body: dict[str, Any], defaults: dict[str, Any],
                  blocks: dict[str, Block], path: Path) -> Family:
    where = f"families.{name}"
    check_keys(body, FAMILY_KEYS, f"[{where}]", path)
    main = _names(require(body, "main", where, path), f"[{where}] main", path)
    variants = {k: _names(v, f"[{where}] variants.{k}", path)
                for k, v in body.get("variants", {"base": []}).items()}
    for block in main + tuple(b for v in variants.values() for b in v):
        if block not in blocks:
            raise ConfigError(f"{path}: [{where}] names the unknown block '{block}'"
                              + suggestion(block, blocks))
    se = choice(body.get("se", defaults["se"]), SE_TYPES, f"[{where}] se", path)
    cluster = body.get("cluster", defaults["cluster"])
    if se == "cluster" and not cluster:
        raise ConfigError(f"{path}: [{where}] se = 'cluster' needs a 'cluster' variable")
    weights = weights_kind(body.get("weights", defaults["weights"]), f"[{where}]", path)
    check_weighted_se(weights, se, where, path)
    return Family(
        name=name, description=body.get("description", ""),
        estimator=choice(body.get("estimator", defaults["estimator"]), ESTIMATORS,
                         f"[{where}] estimator", path),
        outcomes=_names(require(body, "outcomes", where, path), f"[{where}] outcomes", path),
        main=main, variants=variants, se=se, cluster=cluster, weights=weights,
        perfect_prediction=choice(body.get("perfect_prediction",
                                           defaults["perfect_prediction"]),
                                  PERFECT_PREDICTION, f"[{where}] perfect_prediction", path))


def _parse_tables(raw: dict[str, Any], families: dict[str, Family],
                  path: Path) -> dict[str, TableDef]:
    tables = {}
    for name, body in raw.get("tables", {}).items():
        where = f"tables.{name}"
        check_keys(body, TABLE_KEYS, f"[{where}]", path)
        fams = _names(require(body, "families", where, path), f"[{where}] families", path)
        for fam in fams:
            if fam not in families:
                raise ConfigError(f"{path}: [{where}] names the unknown family '{fam}'"
                                  + suggestion(fam, families))
        tables[name] = TableDef(
            name=name, title=body.get("title", name), families=fams,
            quantity=choice(body.get("quantity", "coef"), QUANTITIES, f"[{where}] quantity",
                            path))
    return tables


def _parse_headline(raw: dict[str, Any], families: dict[str, Family],
                    blocks: dict[str, Block], path: Path) -> dict[str, str]:
    headline = dict(raw.get("headline", {}))
    if not headline:
        return headline
    check_keys(headline, HEADLINE_KEYS, "[headline]", path)
    family = families.get(headline.get("family"))
    if family is None:
        raise ConfigError(f"{path}: [headline] family '{headline.get('family')}' is not defined"
                          + suggestion(str(headline.get("family")), families))
    if "variant" in headline and headline["variant"] not in family.variants:
        raise ConfigError(f"{path}: [headline] variant '{headline['variant']}' is not a "
                          f"variant of family '{family.name}'"
                          + suggestion(headline["variant"], family.variants))
    main = [v for b in family.main for v in blocks[b].variables]
    for key in ("international", "local"):
        if key in headline and headline[key] not in main:
            raise ConfigError(f"{path}: [headline] {key} = '{headline[key]}' is not a main "
                              f"variable of family '{family.name}'"
                              + suggestion(headline[key], main))
    return headline


def _parse_claims(raw: dict[str, Any], path: Path) -> tuple[str, ...]:
    body = raw.get("claims", {})
    check_keys(body, CLAIMS_KEYS, "[claims]", path)
    estimators = _names(body.get("estimators", []), "[claims] estimators", path)
    for name in estimators:
        choice(name, BINARY_ESTIMATORS, "[claims] estimators", path)
    return tuple(dict.fromkeys(estimators))


def _spec_variables(blocks: dict[str, Block], families: dict[str, Family]) -> list[str]:
    """Every variable the specification names: block variables, outcomes, clusters."""
    names = [v for b in blocks.values() for v in b.variables]
    names += [o for f in families.values() for o in f.outcomes]
    names += [f.cluster for f in families.values() if f.se == "cluster"]
    return list(dict.fromkeys(names))


def parse_model_spec(raw: dict[str, Any], path: Path) -> ModelSpec:
    """Check a parsed TOML document and turn it into a :class:`ModelSpec`."""
    check_keys(raw, TOP_KEYS, "the top level", path)
    defaults = {"estimator": "logit", "se": "robust", "cluster": "", "confidence_level": 0.95,
                "weights": False, "perfect_prediction": "drop"}
    check_keys(raw.get("defaults", {}), DEFAULT_KEYS, "[defaults]", path)
    defaults.update(raw.get("defaults", {}))
    choice(defaults["estimator"], ESTIMATORS, "[defaults] estimator", path)
    choice(defaults["se"], SE_TYPES, "[defaults] se", path)
    weights_kind(defaults["weights"], "[defaults]", path)
    choice(defaults["perfect_prediction"], PERFECT_PREDICTION, "[defaults] perfect_prediction",
           path)
    blocks = _parse_blocks(raw, path)
    families = {name: _parse_family(name, body, defaults, blocks, path)
                for name, body in require(raw, "families", "top level", path).items()}
    return ModelSpec(
        path=path, defaults=defaults, blocks=blocks,
        outcome_labels=dict(raw.get("outcomes", {})), labels=dict(raw.get("labels", {})),
        families=families, tables=_parse_tables(raw, families, path),
        headline=_parse_headline(raw, families, blocks, path),
        tests=parse_tests(raw.get("tests", []), blocks, families, path),
        variant_labels={str(k): str(v) for k, v in raw.get("variant_labels", {}).items()},
        optional=_names(raw.get("optional", []), "optional", path),
        claims_estimators=_parse_claims(raw, path),
    )


def spec_variables(spec: ModelSpec) -> list[str]:
    """Every variable the specification names (block variables, outcomes, clusters)."""
    return _spec_variables(spec.blocks, spec.families)


def with_weights(spec: ModelSpec, weights: bool | str) -> ModelSpec:
    """Every family weighted (or not): the ``--option weights=...`` override (true /
    "pweight", "fweight", false / "none")."""
    kind = weights_kind(weights, "--option", spec.path)
    families = {}
    for name, fam in spec.families.items():
        check_weighted_se(kind, fam.se, f"families.{name}", spec.path)
        families[name] = replace(fam, weights=kind)
    return replace(spec, families=families)


def load_model_spec(path: Path) -> ModelSpec:
    """Read and check the specification file at ``path`` (a byte-order mark is allowed)."""
    path = Path(path)
    try:
        kind = special_file_kind(path)
        if kind is not None:  # never open a FIFO or a device: reading one could block
            raise ConfigError(f"{path}: is {kind}, not a model specification file")
        raw = tomllib.loads(read_toml_text(path))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: model specification file not found") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    return parse_model_spec(raw, path)


def model_id(family: str, outcome: str, variant: str) -> str:
    return f"{family}__{outcome}__{variant}"


def expand_models(spec: ModelSpec, families: Iterable[str] | None = None) -> list[ModelDef]:
    """Cross each family's outcomes with its variants, in file order."""
    chosen = list(families) if families is not None else list(spec.families)
    models = []
    for fam_name in chosen:
        fam = spec.families[fam_name]
        for outcome in fam.outcomes:
            for variant, controls in fam.variants.items():
                models.append(ModelDef(
                    id=model_id(fam_name, outcome, variant), family=fam_name,
                    outcome=outcome, variant=variant, estimator=fam.estimator, se=fam.se,
                    cluster=fam.cluster, main_blocks=fam.main, control_blocks=controls,
                    weights=fam.weights, perfect_prediction=fam.perfect_prediction))
    return models


def with_estimator(model: ModelDef, estimator: str) -> ModelDef:
    """The same model fitted by another estimator (the claims' sensitivity)."""
    return replace(model, estimator=estimator)
