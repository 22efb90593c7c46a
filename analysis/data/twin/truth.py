"""The true parameters of the synthetic twin: every number the generator uses lives here.

Everything in this module is OUR assumption, chosen so that the synthetic survey looks like
the 2010 Norwegian firm survey described in the published papers (Fitjar and
Rodriguez-Pose 2011, 2013) and so that the headline pattern of the 2011 paper holds in the
twin (international breadth about four times as strong as local breadth). None of these
numbers is taken from, or estimated on, the real microdata, which are not public. The
calibration targets are those of ``docs/study.md`` section 6.

The module has three parts:

1. frozen dataclasses holding the parameters (sample design, frame shares, firm
   characteristics, collaboration, item non-response, outcome models), bundled in
   :class:`TwinParams` with the default instance :data:`DEFAULT`;
2. the exact definitions of the regressors of the true outcome index
   (:data:`REGRESSORS`, :data:`REGRESSOR_DEFINITIONS`, :func:`build_regressors`), which
   work on vendor-coded answer columns (``q1_emp``, ``q10_sup_reg``, ...) so that a
   recovery test can rebuild them from the generator's truth frame;
3. :func:`linear_index`, the true index ``x'b`` (no intercept: the ordered-logit cut points
   play that role; the binary logit of "any innovation" has intercept ``-cut[0]`` and the
   logit of "new to the market" has intercept ``-cut[1]``, with the same slopes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.config import PARTNER_TYPES, SCALES
from analysis.data.twin.questionnaire import PARTNER_CODES, SCALE_CODES

#: The year of fieldwork; firm age is measured against it.
SURVEY_YEAR = 2010

#: Sector groups in the order of ``config/norway_twin.toml`` ``[sectors]``.
SECTORS: tuple[str, ...] = (
    "manufacturing", "construction", "trade", "transport", "accommodation_food",
    "business_services",
)
#: The base (omitted) category of the sector dummies in the true index.
SECTOR_BASE = "business_services"
#: City-region codes (questionnaire.REGIONS) and their dummy names; 1 = Oslo is the base.
REGION_NAMES: dict[int, str] = {
    1: "oslo", 2: "bergen", 3: "stavanger", 4: "trondheim", 5: "kristiansand",
}
REGION_BASE = 1


def collaboration_column(partner: str, scale: str) -> str:
    """Vendor column of the collaboration item for one partner type at one scale."""
    return f"q10_{PARTNER_CODES[partner]}_{SCALE_CODES[scale]}"


# ---------------------------------------------------------------------------------------
# 1. Parameters
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleDesign:
    """Record counts of the delivery (our assumptions).

    ``n_usable`` firms survive cleaning. On top of them the raw file holds, as a real
    vendor delivery does, records that cleaning must remove; their numbers are
    ``round(rate * n_usable)``:

    * screen-outs: firms that turn out to have fewer than 10 employees; only the frame
      variables and Q1 are filled in, everything after Q1 is system-missing;
    * duplicates: a second interview of an already-interviewed usable firm (same orgnr,
      a later, higher intnr, near-identical answers);
    * break-offs: interviews that stop before the outcome questions: frame variables and
      Q1 up to some item of Q2-Q5 answered, Q6 onward system-missing.
    """

    n_usable: int = 1604
    screen_out_rate: float = 0.015
    duplicate_rate: float = 0.006
    break_off_rate: float = 0.020
    #: Employees reported by screen-outs: uniform on this inclusive range.
    screen_out_employees: tuple[int, int] = (2, 9)
    #: Chance that a perturbable item of a duplicate interview differs by one step from
    #: the first interview ("near-identical answers").
    duplicate_change_prob: float = 0.03


@dataclass(frozen=True)
class FrameShares:
    """Sample-frame composition (docs/study.md section 6): city-region and sector shares.

    The NACE Rev. 2 divisions within each sector group and their relative weights are our
    assumption; the groups follow the division ranges of ``config/norway_twin.toml``
    ``[sectors]`` (manufacturing 10-33, construction 41-43, trade 45-47, transport 49-53,
    accommodation and food 55-56, business services 58-82). Region and sector are drawn
    independently.
    """

    region_shares: dict[int, float] = field(default_factory=lambda: {
        1: 0.45, 2: 0.18, 3: 0.16, 4: 0.13, 5: 0.08})
    sector_shares: dict[str, float] = field(default_factory=lambda: {
        "manufacturing": 0.14, "construction": 0.16, "trade": 0.22, "transport": 0.08,
        "accommodation_food": 0.07, "business_services": 0.33})
    nace_weights: dict[str, dict[int, float]] = field(default_factory=lambda: {
        "manufacturing": {10: 0.18, 16: 0.08, 22: 0.07, 25: 0.20, 26: 0.08, 28: 0.15,
                          30: 0.09, 33: 0.15},
        "construction": {41: 0.35, 42: 0.15, 43: 0.50},
        "trade": {45: 0.15, 46: 0.45, 47: 0.40},
        "transport": {49: 0.50, 50: 0.20, 52: 0.30},
        "accommodation_food": {55: 0.35, 56: 0.65},
        "business_services": {62: 0.16, 64: 0.06, 68: 0.08, 69: 0.10, 70: 0.10, 71: 0.16,
                               72: 0.03, 73: 0.06, 74: 0.04, 78: 0.07, 81: 0.08, 82: 0.06},
    })


@dataclass(frozen=True)
class FirmParams:
    """Firm and manager characteristics (our assumptions).

    Latent structure: ``openness`` and ``size_score`` are standard normal with correlation
    ``openness_size_corr`` (a Gaussian copula). Employees are the ``size_score`` quantile of
    a log-normal truncated at ``employees_min`` whose truncated median is
    ``employees_median``. Binary traits (foreign ownership, business group) are probit
    thresholds on standardised latent indexes, so their marginal shares are exact in
    expectation.
    """

    openness_size_corr: float = 0.30
    employees_min: int = 10
    employees_median: float = 25.0
    #: Standard deviation of log employees before truncation (gives a max of a few
    #: thousand among 1,604 firms).
    employees_log_sd: float = 1.6
    employees_max: int = 99997
    # Foreign ownership: any foreign capital if F* > threshold, F* = a*size + e.
    foreign_any_share: float = 0.20
    foreign_size_loading: float = 0.30
    #: Among foreign-owned firms, the share wholly foreign-owned (the spike at 100).
    foreign_full_share: float = 0.45
    #: Other foreign shares: 1 + 98 * Beta(a, b), rounded.
    foreign_partial_beta: tuple[float, float] = (1.3, 1.0)
    # Business group membership: G* = a*size + b*F* + e (standardised).
    group_share: float = 0.40
    group_size_loading: float = 0.40
    group_foreign_loading: float = 0.40
    # Higher-education share: 100 * expit(logit(sector mean) + a*openness + s*e);
    # answers of 10 or more heaped to multiples of 5.
    higher_ed_sector_mean: dict[str, float] = field(default_factory=lambda: {
        "manufacturing": 0.18, "construction": 0.08, "trade": 0.15, "transport": 0.10,
        "accommodation_food": 0.06, "business_services": 0.50})
    higher_ed_openness_loading: float = 0.50
    higher_ed_noise_sd: float = 1.0
    # Firm age in years: exp(log(median) + a*size + s*e), floored; founded = 2010 - age.
    age_median: float = 18.0
    age_size_loading: float = 0.35
    age_noise_sd: float = 0.80
    founded_min: int = 1800
    # Manager education (codes 1-5): ordered probit on 0.35*openness + 0.35*(higher-ed
    # noise) + e; cut points give these marginal shares.
    manager_education_shares: tuple[float, ...] = (0.06, 0.30, 0.32, 0.28, 0.04)
    manager_openness_loading: float = 0.35
    manager_higher_ed_loading: float = 0.35
    # Open-mindedness items q12a-d (codes 1-5): ordered probit on loading*openness + e.
    # q12c is reverse-worded, hence the negative loading.
    open_item_loadings: dict[str, float] = field(default_factory=lambda: {
        "q12a": 0.65, "q12b": 0.60, "q12c": -0.55, "q12d": 0.60})
    open_item_shares: dict[str, tuple[float, ...]] = field(default_factory=lambda: {
        "q12a": (0.03, 0.10, 0.22, 0.42, 0.23),
        "q12b": (0.04, 0.12, 0.26, 0.40, 0.18),
        "q12c": (0.08, 0.25, 0.30, 0.27, 0.10),
        "q12d": (0.03, 0.08, 0.24, 0.43, 0.22)})
    # Trust: q13a = clip(round(mean + sd*T), 0, 10), T = a*openness + e;
    # q13b ordered probit on 0.5*T + e.
    trust_general_mean: float = 6.5
    trust_general_sd: float = 1.9
    trust_openness_loading: float = 0.20
    trust_regional_shares: tuple[float, ...] = (0.03, 0.10, 0.27, 0.45, 0.15)
    trust_regional_loading: float = 0.50


def _default_prevalence() -> dict[tuple[str, str], float]:
    # docs/study.md section 6, (local, national, international). Group: share of ALL firms.
    table = {
        "group": (0.15, 0.15, 0.12),
        "suppliers": (0.45, 0.40, 0.25),
        "customers": (0.45, 0.35, 0.18),
        "competitors": (0.20, 0.15, 0.07),
        "consultants": (0.30, 0.20, 0.06),
        "universities": (0.10, 0.08, 0.04),
        "institutes": (0.08, 0.08, 0.04),
    }
    return {(p, s): table[p][i] for p in PARTNER_TYPES for i, s in enumerate(SCALES)}


@dataclass(frozen=True)
class CollaborationParams:
    """Collaboration battery Q10 (our assumptions; prevalence targets from docs/study.md section 6).

    A firm collaborates with partner type p at scale s if
    ``C = a*openness + b*S_s + c*e > k_ps`` with ``S_s`` a firm-level factor per scale,
    ``e`` item noise (all standard normal, ``c = sqrt(1 - a^2 - b^2)``) and ``k_ps`` the
    probit threshold that hits ``prevalence[(p, s)]``. The group partner additionally
    requires business-group membership; its threshold solves the bivariate-normal
    equation so that ``prevalence`` is the share of ALL firms. Collaborators get a
    frequency code 2-5 from an ordered probit on ``0.4*openness + e + shift[p]``;
    non-collaborators answer 1 (never); non-group firms are routed out of the group items.
    """

    prevalence: dict[tuple[str, str], float] = field(default_factory=_default_prevalence)
    openness_loading: float = 0.60
    scale_loading: float = 0.35
    frequency_openness_loading: float = 0.40
    #: Cut points between codes 2|3, 3|4 and 4|5 of the frequency latent.
    frequency_cuts: tuple[float, float, float] = (-0.5, 0.5, 1.3)
    frequency_shift: dict[str, float] = field(default_factory=lambda: {
        "group": 0.5, "suppliers": 0.3, "customers": 0.3, "competitors": -0.2,
        "consultants": 0.0, "universities": -0.2, "institutes": -0.2})


def _default_nonresponse_rates() -> dict[str, float]:
    rates = {
        "q1_emp": 0.0,  # the screener: always answered, so the screen-out rule is exact
        "q2_founded": 0.025, "q3_foreign": 0.03, "q4_group": 0.015, "q5_highed": 0.03,
        "q6_prod": 0.015, "q7_prod_new": 0.025, "q8_proc": 0.015, "q9_proc_new": 0.025,
        "q11_ceo_edu": 0.02, "q12a": 0.015, "q12b": 0.015, "q12c": 0.02, "q12d": 0.015,
        "q13a": 0.025, "q13b": 0.025,
    }
    rates.update({collaboration_column(p, s): 0.015 for p in PARTNER_TYPES for s in SCALES})
    return rates


def _default_dont_know_shares() -> dict[str, float]:
    shares = {"q2_founded": 0.8, "q3_foreign": 0.8, "q5_highed": 0.85, "q4_group": 0.6,
              "q6_prod": 0.7, "q7_prod_new": 0.75, "q8_proc": 0.7, "q9_proc_new": 0.75,
              "q11_ceo_edu": 0.5, "q12a": 0.6, "q12b": 0.6, "q12c": 0.6, "q12d": 0.6,
              "q13a": 0.5, "q13b": 0.55}
    shares.update({collaboration_column(p, s): 0.75 for p in PARTNER_TYPES for s in SCALES})
    return shares


@dataclass(frozen=True)
class NonResponseParams:
    """Item non-response of usable firms (our assumptions; docs/study.md section 6:
    1-4 % on most items).

    An asked item of firm i is missing with probability ``min(rate * m_i, max_prob)``, where
    ``m_i ~ Gamma(shape, 1/shape)`` (mean 1) is a respondent's propensity to say "don't
    know" or refuse. The propensity concentrates non-response in a few respondents, as in
    real surveys, so listwise deletion loses far fewer firms than independent item
    non-response would. A missing answer is "don't know" with probability
    ``dont_know_share[item]``, otherwise "refused" (codes from questionnaire.ITEMS).
    Frame variables and Q1 (the screener) are never missing. A firm whose draws leave both
    Q6 and Q8 missing gets its Q8 answer back, so that "no outcome answered" only ever
    marks break-offs.
    """

    rates: dict[str, float] = field(default_factory=_default_nonresponse_rates)
    dont_know_share: dict[str, float] = field(default_factory=_default_dont_know_shares)
    propensity_shape: float = 0.5
    max_prob: float = 0.9


#: The regressors of the true index, in order. Definitions: :data:`REGRESSOR_DEFINITIONS`.
BREADTH = tuple(f"breadth_{s}" for s in SCALES)
SECTOR_DUMMIES = tuple(f"sector_{s}" for s in SECTORS if s != SECTOR_BASE)
REGION_DUMMIES = tuple(f"region_{n}" for c, n in REGION_NAMES.items() if c != REGION_BASE)
REGRESSORS: tuple[str, ...] = (
    *BREADTH, "log_employees", "foreign_owned", "group", "higher_ed_share", "firm_age",
    "manager_higher_ed", "open_mindedness", "trust_general", *SECTOR_DUMMIES,
    *REGION_DUMMIES,
)

REGRESSOR_DEFINITIONS: dict[str, str] = {
    **{f"breadth_{s}": (
        f"number of partner types (0-7) whose collaboration item at scale '{s}' "
        f"(q10_<partner>_{SCALE_CODES[s]}) is a frequency code 2-5; a routed-out group item "
        "counts as 0") for s in SCALES},
    "log_employees": "natural log of q1_emp",
    "foreign_owned": "1 if q3_foreign >= 50 (majority foreign-owned), else 0",
    "group": "1 if q4_group == 1, else 0 (true coefficient 0)",
    "higher_ed_share": "q5_highed, per cent (0-100) of employees with higher education",
    "firm_age": f"{SURVEY_YEAR} - q2_founded, in years (true coefficient 0)",
    "manager_higher_ed": "1 if q11_ceo_edu >= 3 (higher education), else 0 (true coefficient 0)",
    "open_mindedness": "mean of q12a, q12b, 6 - q12c, q12d (1-5; q12c reverse-coded)",
    "trust_general": "q13a (0-10) (true coefficient 0)",
    **{f"sector_{s}": (f"1 if the NACE division of `nace` is in sector group '{s}' "
                       f"(base: {SECTOR_BASE})") for s in SECTORS if s != SECTOR_BASE},
    **{f"region_{n}": f"1 if region == {c} ({n.title()}; base: Oslo)"
       for c, n in REGION_NAMES.items() if c != REGION_BASE},
}


@dataclass(frozen=True)
class OutcomeModel:
    """The TRUE ordered logit of one innovation outcome (our assumption).

    ``y* = x'b + u`` with ``u`` standard logistic and ``x`` the :data:`REGRESSORS`
    (missing keys have coefficient 0). Outcome: none if ``y* <= cuts[0]``, new to the firm
    if ``cuts[0] < y* <= cuts[1]``, new to the market (product) / industry (process) if
    ``y* > cuts[1]``. Hence ``P(innovation) = logistic(x'b - cuts[0])`` and
    ``P(new to market) = logistic(x'b - cuts[1])``: binary logits with the same slopes ``b``
    and intercepts ``-cuts[0]`` and ``-cuts[1]``. The cut points were calibrated with
    ``analysis.data.twin.generator.calibrate_cut_points`` (400,000 firms, seed 20110601) so
    that the shares of usable firms hit ``targets``.
    """

    name: str
    coefficients: dict[str, float]
    cuts: tuple[float, float]
    targets: tuple[float, float]

    def beta(self) -> np.ndarray:
        """Coefficient vector in :data:`REGRESSORS` order (0 for regressors not listed)."""
        unknown = set(self.coefficients) - set(REGRESSORS)
        if unknown:
            raise KeyError(f"outcome model {self.name!r}: unknown regressors {sorted(unknown)}")
        return np.array([self.coefficients.get(r, 0.0) for r in REGRESSORS])

    def intercepts(self) -> tuple[float, float]:
        """Intercepts of the binary logits (any innovation, new to market/industry)."""
        return (-self.cuts[0], -self.cuts[1])


PRODUCT = OutcomeModel(
    name="product",
    coefficients={
        "breadth_local": 0.06, "breadth_national": 0.07, "breadth_international": 0.24,
        "log_employees": 0.10, "foreign_owned": 0.30, "higher_ed_share": 0.008,
        "open_mindedness": 0.40,
        "sector_manufacturing": 0.45, "sector_construction": -0.35, "sector_trade": 0.05,
        "sector_transport": -0.30, "sector_accommodation_food": -0.25,
        "region_bergen": -0.05, "region_stavanger": 0.10, "region_trondheim": 0.05,
        "region_kristiansand": -0.10,
    },
    cuts=(2.442, 3.929),
    targets=(0.48, 0.20),
)

PROCESS = OutcomeModel(
    name="process",
    coefficients={
        "breadth_local": 0.05, "breadth_national": 0.07, "breadth_international": 0.20,
        "log_employees": 0.18, "foreign_owned": 0.15, "higher_ed_share": 0.003,
        "open_mindedness": 0.30,
        "sector_manufacturing": 0.55, "sector_construction": 0.10, "sector_trade": -0.10,
        "sector_transport": 0.20, "sector_accommodation_food": -0.05,
        "region_bergen": 0.05, "region_stavanger": 0.05, "region_trondheim": -0.05,
        "region_kristiansand": 0.0,
    },
    cuts=(2.626, 4.347),
    targets=(0.40, 0.12),
)


@dataclass(frozen=True)
class TwinParams:
    """All parameters of the synthetic twin; :data:`DEFAULT` is the shipped set."""

    design: SampleDesign = field(default_factory=SampleDesign)
    frame: FrameShares = field(default_factory=FrameShares)
    firm: FirmParams = field(default_factory=FirmParams)
    collaboration: CollaborationParams = field(default_factory=CollaborationParams)
    nonresponse: NonResponseParams = field(default_factory=NonResponseParams)
    product: OutcomeModel = PRODUCT
    process: OutcomeModel = PROCESS


DEFAULT = TwinParams()


# ---------------------------------------------------------------------------------------
# 2. Regressors of the true index
# ---------------------------------------------------------------------------------------


def sector_of_nace(nace: pd.Series, frame: FrameShares = DEFAULT.frame) -> pd.Series:
    """Sector group of each NACE division (NA for a division outside the frame)."""
    lookup = {div: sector for sector, divs in frame.nace_weights.items() for div in divs}
    return nace.map(lambda v: lookup.get(int(v)) if pd.notna(v) else None)


def _valid(column: pd.Series, codes: tuple[int, ...]) -> pd.Series:
    """The column where it holds a valid code, NaN elsewhere (user-missing codes drop)."""
    values = pd.to_numeric(column, errors="coerce").astype(float)
    return values.where(values.isin(codes))


def build_regressors(answers: pd.DataFrame, frame: FrameShares = DEFAULT.frame) -> pd.DataFrame:
    """The regressors of the true index from vendor-coded answers (one row per firm).

    ``answers`` needs the columns region, nace, q1_emp, q2_founded, q3_foreign, q4_group,
    q5_highed, q10_*, q11_ceo_edu, q12a-d and q13a, coded as in the questionnaire. Applied
    to the generator's truth frame it reproduces the regressors the outcomes were drawn
    from. User-missing codes give NaN (breadth counts only valid frequency codes 2-5).
    """
    out = pd.DataFrame(index=answers.index)
    collab_codes = (2, 3, 4, 5)
    for scale in SCALES:
        columns = [collaboration_column(p, scale) for p in PARTNER_TYPES]
        out[f"breadth_{scale}"] = answers[columns].isin(collab_codes).sum(axis=1).astype(float)
    employees = pd.to_numeric(answers["q1_emp"], errors="coerce").astype(float)
    out["log_employees"] = np.log(employees.where(employees.between(1, 99997)))
    foreign = pd.to_numeric(answers["q3_foreign"], errors="coerce").astype(float)
    foreign = foreign.where(foreign.between(0, 100))
    out["foreign_owned"] = (foreign >= 50).astype(float).where(foreign.notna())
    out["group"] = (_valid(answers["q4_group"], (1, 2)) == 1).astype(float).where(
        _valid(answers["q4_group"], (1, 2)).notna())
    highed = pd.to_numeric(answers["q5_highed"], errors="coerce").astype(float)
    out["higher_ed_share"] = highed.where(highed.between(0, 100))
    founded = pd.to_numeric(answers["q2_founded"], errors="coerce").astype(float)
    out["firm_age"] = SURVEY_YEAR - founded.where(founded.between(1800, SURVEY_YEAR))
    edu = _valid(answers["q11_ceo_edu"], (1, 2, 3, 4, 5))
    out["manager_higher_ed"] = (edu >= 3).astype(float).where(edu.notna())
    agree = (1, 2, 3, 4, 5)
    items = [_valid(answers[c], agree) for c in ("q12a", "q12b", "q12c", "q12d")]
    items[2] = 6 - items[2]  # q12c is reverse-worded
    out["open_mindedness"] = pd.concat(items, axis=1).mean(axis=1, skipna=False)
    trust = pd.to_numeric(answers["q13a"], errors="coerce").astype(float)
    out["trust_general"] = trust.where(trust.between(0, 10))
    sector = sector_of_nace(answers["nace"], frame)
    for name in SECTORS:
        if name != SECTOR_BASE:
            out[f"sector_{name}"] = (sector == name).astype(float).where(sector.notna())
    region = pd.to_numeric(answers["region"], errors="coerce")
    for code, name in REGION_NAMES.items():
        if code != REGION_BASE:
            out[f"region_{name}"] = (region == code).astype(float).where(region.notna())
    return out[list(REGRESSORS)]


def linear_index(regressors: pd.DataFrame, model: OutcomeModel) -> np.ndarray:
    """The true index ``x'b`` (no intercept) of ``model`` for each row of ``regressors``."""
    return regressors[list(REGRESSORS)].to_numpy(dtype=float) @ model.beta()
