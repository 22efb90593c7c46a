"""The ``[[tests]]`` entries of the model specification: hypothesis tests computed on every
model of a family variant (Wald tests of linear restrictions, ratios of two effects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import ConfigError
from analysis.models.spec_blocks import Block, Family
from analysis.models.spec_checks import check_keys, choice, require, suggestion

TEST_KINDS = ("wald", "ratio")
TEST_SOURCES = ("coef", "ame")


@dataclass(frozen=True)
class TestDef:
    """A hypothesis test computed on every model (outcome) of ``family`` x ``variant``.

    kind "wald": H0 sum(coefficient * parameter) = 0 over ``terms`` (e.g.
    ``{breadth_international = 1, breadth_local = -1}``: the two effects are equal;
    ``{breadth_international = 1, breadth_local = -4}``: one is four times the other).
    kind "ratio": numerator / denominator with its Fieller confidence set, and the
    delta-method SE and interval (Stata ``nlcom``) as an extra row.
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
                          f"the family's models ({', '.join(known)})" + suggestion(base, known))
    return name


def _parse_test(body: object, index: int, blocks: dict[str, Block],
                families: dict[str, Family], path: Path) -> TestDef:
    where = f"[[tests]] entry {index}"
    if not isinstance(body, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    test_id = require(body, "id", f"{where}", path)
    if not isinstance(test_id, str) or not test_id:
        raise ConfigError(f"{path}: {where} id must be a non-empty string")
    where = f"[[tests]] '{test_id}'"
    check_keys(body, ("id", "kind", "family", "variant", "terms", "numerator", "denominator",
                      "on", "description"), where, path)
    kind = choice(require(body, "kind", where, path), TEST_KINDS, f"{where} kind", path)
    family_name = require(body, "family", where, path)
    if family_name not in families:
        raise ConfigError(f"{path}: {where} family names the unknown family '{family_name}'"
                          + suggestion(family_name, families))
    family = families[family_name]
    variant = require(body, "variant", where, path)
    if variant not in family.variants:
        raise ConfigError(f"{path}: {where} variant '{variant}' is not a variant of family "
                        f"'{family_name}' ({', '.join(family.variants)})")
    on = choice(body.get("on", "coef"), TEST_SOURCES, f"{where} on", path)
    known = _family_variables(family, variant, blocks)
    if kind == "wald":
        for key in ("numerator", "denominator"):
            if key in body:
                raise ConfigError(f"{path}: {where} key '{key}' is for kind = 'ratio'; a Wald "
                                "test takes 'terms'")
        terms = require(body, "terms", where, path)
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
    numerator = _check_parameter(require(body, "numerator", where, path), known, where,
                                 "numerator", path)
    denominator = _check_parameter(require(body, "denominator", where, path), known, where,
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
