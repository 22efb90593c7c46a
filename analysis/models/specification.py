"""Model specifications as data: load ``config/models.toml`` and expand it into models.

The TOML file is the single place that names outcomes, regressor blocks, controls,
estimators, standard errors and labels; this module only reads it, checks it, and
crosses families x outcomes x variants into a flat, ordered list of :class:`ModelDef`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import ConfigError
from analysis.io import read_toml_text
from analysis.models.estimation.survey import SurveyDesign

ESTIMATORS = ("logit", "probit", "ologit", "lpm")
SE_TYPES = ("robust", "cluster", "nonrobust")
DISPLAYS = ("coefficients", "indicator")
QUANTITIES = ("coef", "ame", "odds_ratio")
TEST_KINDS = ("wald", "ratio")
TEST_SOURCES = ("coef", "ame")


@dataclass(frozen=True)
class Block:
    name: str
    label: str
    display: str
    variables: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    estimator: str
    outcomes: tuple[str, ...]
    main: tuple[str, ...]
    variants: dict[str, tuple[str, ...]]
    se: str
    cluster: str
    #: True: the survey's sampling weights (clean column ``weight``) enter as pweights
    weighted: bool = False


@dataclass(frozen=True)
class TableDef:
    name: str
    title: str
    families: tuple[str, ...]
    quantity: str
    #: families of the table dropped by :func:`omit_unavailable` (nothing to estimate)
    omitted_families: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestDef:
    """A hypothesis test computed on every model (outcome) of ``family`` x ``variant``.

    kind "wald": H0 sum(coefficient * parameter) = 0 over ``terms`` (e.g.
    ``{breadth_international = 1, breadth_local = -1}``: the two effects are equal).
    kind "ratio": numerator / denominator with a delta-method SE (Stata ``nlcom``).
    ``on``: "coef" (index coefficients, the default) or "ame" (average marginal effects).
    """

    __test__ = False  # not a pytest test class

    id: str
    kind: str
    family: str
    variant: str
    terms: dict[str, float] = field(default_factory=dict)
    numerator: str = ""
    denominator: str = ""
    on: str = "coef"
    description: str = ""

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameters the test involves."""
        if self.kind == "ratio":
            return (self.numerator, self.denominator)
        return tuple(self.terms)


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
    weighted: bool = False

    @property
    def blocks(self) -> tuple[str, ...]:
        return self.main_blocks + self.control_blocks


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


def _require(mapping: dict[str, Any], key: str, where: str, path: Path) -> Any:
    if key not in mapping:
        raise ConfigError(f"{path}: [{where}] is missing the required key '{key}'")
    return mapping[key]


def _choice(value: str, allowed: Sequence[str], where: str, path: Path) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{path}: {where} = '{value}' is not one of {', '.join(allowed)}"
        )
    return value


def parse_model_spec(raw: dict[str, Any], path: Path) -> ModelSpec:
    """Check a parsed TOML document and turn it into a :class:`ModelSpec`."""
    defaults = {"estimator": "logit", "se": "robust", "cluster": "", "confidence_level": 0.95,
                "weights": False}
    defaults.update(raw.get("defaults", {}))
    _choice(defaults["estimator"], ESTIMATORS, "[defaults] estimator", path)
    _choice(defaults["se"], SE_TYPES, "[defaults] se", path)
    _flag(defaults["weights"], "[defaults] weights", path)

    blocks = {}
    for name, body in _require(raw, "blocks", "top level", path).items():
        variables = _require(body, "variables", f"blocks.{name}", path)
        if not variables:
            raise ConfigError(f"{path}: [blocks.{name}] variables is empty")
        blocks[name] = Block(
            name=name,
            label=body.get("label", name),
            display=_choice(body.get("display", "coefficients"), DISPLAYS,
                            f"[blocks.{name}] display", path),
            variables=tuple(variables),
        )

    families = {}
    for name, body in _require(raw, "families", "top level", path).items():
        where = f"families.{name}"
        main = tuple(_require(body, "main", where, path))
        variants = {k: tuple(v) for k, v in body.get("variants", {"base": []}).items()}
        for block in main + tuple(b for v in variants.values() for b in v):
            if block not in blocks:
                raise ConfigError(f"{path}: [{where}] names the unknown block '{block}'")
        se = _choice(body.get("se", defaults["se"]), SE_TYPES, f"[{where}] se", path)
        cluster = body.get("cluster", defaults["cluster"])
        if se == "cluster" and not cluster:
            raise ConfigError(f"{path}: [{where}] se = 'cluster' needs a 'cluster' variable")
        weighted = _flag(body.get("weights", defaults["weights"]), f"[{where}] weights", path)
        check_weighted_se(weighted, se, where, path)
        families[name] = Family(
            name=name,
            description=body.get("description", ""),
            estimator=_choice(body.get("estimator", defaults["estimator"]), ESTIMATORS,
                              f"[{where}] estimator", path),
            outcomes=tuple(_require(body, "outcomes", where, path)),
            main=main,
            variants=variants,
            se=se,
            cluster=cluster,
            weighted=weighted,
        )

    tables = {}
    for name, body in raw.get("tables", {}).items():
        where = f"tables.{name}"
        fams = tuple(_require(body, "families", where, path))
        for fam in fams:
            if fam not in families:
                raise ConfigError(f"{path}: [{where}] names the unknown family '{fam}'")
        tables[name] = TableDef(
            name=name,
            title=body.get("title", name),
            families=fams,
            quantity=_choice(body.get("quantity", "coef"), QUANTITIES, f"[{where}] quantity",
                             path),
        )

    headline = dict(raw.get("headline", {}))
    if headline and headline.get("family") not in families:
        raise ConfigError(f"{path}: [headline] family '{headline.get('family')}' is not defined")

    return ModelSpec(
        path=path,
        defaults=defaults,
        blocks=blocks,
        outcome_labels=dict(raw.get("outcomes", {})),
        labels=dict(raw.get("labels", {})),
        families=families,
        tables=tables,
        headline=headline,
        tests=parse_tests(raw.get("tests", []), blocks, families, path),
        variant_labels={str(k): str(v) for k, v in raw.get("variant_labels", {}).items()},
    )


def _flag(value: object, where: str, path: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {where} must be true or false, got {value!r}")
    return value


def check_weighted_se(weighted: bool, se: str, where: str, path: Path) -> None:
    # Stata imposes vce(robust) with pweights: the inverse information is no variance then.
    if weighted and se == "nonrobust":
        raise ConfigError(f"{path}: [{where}] weights = true needs se = 'robust' or 'cluster' "
                        "(sampling weights make the inverse-information SE invalid)")


def _family_variables(family: Family, variant: str, blocks: dict[str, Block]) -> list[str]:
    names: list[str] = []
    for block in family.main + family.variants[variant]:
        names += [v for v in blocks[block].variables if v not in names]
    return names


def _check_parameter(name: object, known: list[str], where: str, key: str, path: Path) -> str:
    """A test parameter must be a model variable or a dummy ``var[level]`` of one."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: {where} {key} must be a variable name, got {name!r}")
    base = name.split("[", 1)[0] if name.endswith("]") else name
    if base not in known:
        raise ConfigError(f"{path}: {where} {key} names '{name}', which is not a variable of "
                        f"the family's models ({', '.join(known)})")
    return name


def _parse_test(body: object, index: int, blocks: dict[str, Block],
                families: dict[str, Family], path: Path) -> TestDef:
    where = f"[[tests]] entry {index}"
    if not isinstance(body, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    test_id = _require(body, "id", f"{where}", path)
    if not isinstance(test_id, str) or not test_id:
        raise ConfigError(f"{path}: {where} id must be a non-empty string")
    where = f"[[tests]] '{test_id}'"
    allowed = {"id", "kind", "family", "variant", "terms", "numerator", "denominator", "on",
               "description"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ConfigError(f"{path}: {where} has unknown key(s) {', '.join(unknown)}")
    kind = _choice(_require(body, "kind", where, path), TEST_KINDS, f"{where} kind", path)
    family_name = _require(body, "family", where, path)
    if family_name not in families:
        raise ConfigError(f"{path}: {where} family names the unknown family '{family_name}'")
    family = families[family_name]
    variant = _require(body, "variant", where, path)
    if variant not in family.variants:
        raise ConfigError(f"{path}: {where} variant '{variant}' is not a variant of family "
                        f"'{family_name}' ({', '.join(family.variants)})")
    on = _choice(body.get("on", "coef"), TEST_SOURCES, f"{where} on", path)
    known = _family_variables(family, variant, blocks)
    if kind == "wald":
        for key in ("numerator", "denominator"):
            if key in body:
                raise ConfigError(f"{path}: {where} key '{key}' is for kind = 'ratio'; a Wald "
                                "test takes 'terms'")
        terms = _require(body, "terms", where, path)
        if not isinstance(terms, dict) or not terms:
            raise ConfigError(f"{path}: {where} terms must be a non-empty table such as "
                            "{a = 1, b = -1}")
        checked = {}
        for name, coef in terms.items():
            _check_parameter(name, known, where, "terms", path)
            if isinstance(coef, bool) or not isinstance(coef, int | float) or coef == 0:
                raise ConfigError(f"{path}: {where} terms.{name} must be a non-zero number, "
                                f"got {coef!r}")
            checked[name] = float(coef)
        return TestDef(id=test_id, kind=kind, family=family_name, variant=variant,
                       terms=checked, on=on, description=str(body.get("description", "")))
    if "terms" in body:
        raise ConfigError(f"{path}: {where} key 'terms' is for kind = 'wald'; a ratio takes "
                        "'numerator' and 'denominator'")
    numerator = _check_parameter(_require(body, "numerator", where, path), known, where,
                                 "numerator", path)
    denominator = _check_parameter(_require(body, "denominator", where, path), known, where,
                                   "denominator", path)
    if numerator == denominator:
        raise ConfigError(f"{path}: {where} numerator and denominator are both '{numerator}'")
    return TestDef(id=test_id, kind=kind, family=family_name, variant=variant,
                   numerator=numerator, denominator=denominator, on=on,
                   description=str(body.get("description", "")))


def parse_tests(raw: object, blocks: dict[str, Block], families: dict[str, Family],
                path: Path) -> tuple[TestDef, ...]:
    """Check the ``[[tests]]`` entries; ids must be unique."""
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: 'tests' must be an array of tables ([[tests]])")
    tests = tuple(_parse_test(body, i, blocks, families, path) for i, body in enumerate(raw, 1))
    seen: set[str] = set()
    for test in tests:
        if test.id in seen:
            raise ConfigError(f"{path}: [[tests]] id '{test.id}' is used twice")
        seen.add(test.id)
    return tests


def load_model_spec(path: Path) -> ModelSpec:
    """Read and check the specification file at ``path``."""
    path = Path(path)
    try:
        raw = tomllib.loads(read_toml_text(path))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: model specification file not found") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
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
                    id=model_id(fam_name, outcome, variant),
                    family=fam_name,
                    outcome=outcome,
                    variant=variant,
                    estimator=fam.estimator,
                    se=fam.se,
                    cluster=fam.cluster,
                    main_blocks=fam.main,
                    control_blocks=controls,
                    weighted=fam.weighted,
                ))
    return models


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


#: Functions that adapt a spec to one survey; they live in spec_survey (importable from
#: here too, resolved on first use so that the two modules do not import each other).
_SURVEY_FUNCTIONS = ("for_survey_design", "for_survey_weights", "omit_unavailable",
                     "stand_in_label", "with_substitutes", "with_weights", "with_wording")


def __getattr__(name: str) -> Any:
    if name in _SURVEY_FUNCTIONS:
        from analysis.models import spec_survey

        return getattr(spec_survey, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
