"""The true answers of the interviewed firms (frame, firm traits, collaboration, outcomes)."""



import numpy as np
import pandas as pd
from scipy import special

from analysis.config import PARTNER_TYPES, SCALES
from analysis.data.twin.latent import (
    draw_categories,
    employees_from_score,
    group_collaboration_thresholds,
    group_latent_loadings,
    ordered_from_shares,
)
from analysis.data.twin.truth import (
    SURVEY_YEAR,
    FirmParams,
    OutcomeModel,
    TwinParams,
    build_regressors,
    collaboration_column,
    linear_index,
)

# ---------------------------------------------------------------------------------------
# True answers of interviewed firms
# ---------------------------------------------------------------------------------------


def draw_frame(n: int, rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Region code, sector group and NACE division of ``n`` firms."""
    region = draw_categories(rng, params.frame.region_shares, n).astype(float)
    sector = draw_categories(rng, params.frame.sector_shares, n)
    nace = np.zeros(n)
    for name, weights in params.frame.nace_weights.items():
        mask = sector == name
        nace[mask] = draw_categories(rng, weights, int(mask.sum())).astype(float)
    return pd.DataFrame({"region": region, "nace": nace, "sector": sector.astype(str)})


def draw_firms(n: int, streams: dict[str, np.random.Generator],
               params: TwinParams) -> pd.DataFrame:
    """True answers Q1-Q5, Q10-Q13 (no outcomes) and latent traits of ``n`` firms."""
    firm = params.firm
    out = draw_frame(n, streams["frame"], params)

    rng = streams["latent"]
    openness = rng.standard_normal(n)
    r = firm.openness_size_corr
    size_score = r * openness + np.sqrt(1 - r * r) * rng.standard_normal(n)
    out["openness"] = openness
    out["size_score"] = size_score
    out["q1_emp"] = employees_from_score(size_score, firm)

    rng = streams["firm"]
    b = firm.foreign_size_loading
    foreign_latent = b * size_score + np.sqrt(1 - b * b) * rng.standard_normal(n)
    foreign_any = foreign_latent > special.ndtri(1 - firm.foreign_any_share)
    full = rng.random(n) < firm.foreign_full_share
    partial = np.rint(1 + 98 * rng.beta(*firm.foreign_partial_beta, size=n))
    out["q3_foreign"] = np.where(foreign_any, np.where(full, 100.0, partial), 0.0)

    a_size, a_foreign, a_noise = group_latent_loadings(firm)
    group_latent = (a_size * size_score + a_foreign * foreign_latent
                    + a_noise * rng.standard_normal(n))
    out["group_latent"] = group_latent
    in_group = group_latent > special.ndtri(1 - firm.group_share)
    out["q4_group"] = np.where(in_group, 1.0, 2.0)

    highed_noise = rng.standard_normal(n)
    sector_mean = out["sector"].map(firm.higher_ed_sector_mean).to_numpy(dtype=float)
    share = 100 * special.expit(special.logit(sector_mean)
                                + firm.higher_ed_openness_loading * openness
                                + firm.higher_ed_noise_sd * highed_noise)
    share = np.rint(share)
    out["q5_highed"] = np.where(share >= 10, 5 * np.rint(share / 5), share)

    age = np.floor(np.exp(np.log(firm.age_median) + firm.age_size_loading * size_score
                          + firm.age_noise_sd * rng.standard_normal(n)))
    out["q2_founded"] = np.clip(SURVEY_YEAR - age, firm.founded_min, SURVEY_YEAR)

    m_o, m_h = firm.manager_openness_loading, firm.manager_higher_ed_loading
    manager_latent = (m_o * openness + m_h * highed_noise
                      + np.sqrt(1 - m_o**2 - m_h**2) * rng.standard_normal(n))
    out["q11_ceo_edu"] = ordered_from_shares(manager_latent, firm.manager_education_shares)

    out = pd.concat([out, draw_attitudes(openness, streams["attitudes"], firm)], axis=1)
    collab = draw_collaboration(openness, group_latent, streams["collaboration"], params)
    return pd.concat([out, collab], axis=1)


def draw_attitudes(openness: np.ndarray, rng: np.random.Generator,
                   firm: FirmParams) -> pd.DataFrame:
    """Open-mindedness items q12a-d and trust items q13a-b."""
    n = len(openness)
    out = {}
    for item, loading in firm.open_item_loadings.items():
        latent = loading * openness + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        out[item] = ordered_from_shares(latent, firm.open_item_shares[item])
    a = firm.trust_openness_loading
    trust = a * openness + np.sqrt(1 - a * a) * rng.standard_normal(n)
    general = np.rint(firm.trust_general_mean + firm.trust_general_sd * trust)
    out["q13a"] = np.clip(general, 0, 10)
    c = firm.trust_regional_loading
    regional = c * trust + np.sqrt(1 - c * c) * rng.standard_normal(n)
    out["q13b"] = ordered_from_shares(regional, firm.trust_regional_shares)
    return pd.DataFrame(out)


def draw_collaboration(openness: np.ndarray, group_latent: np.ndarray,
                       rng: np.random.Generator, params: TwinParams) -> pd.DataFrame:
    """Frequency codes of the Q10 battery (1 = never; NaN = routed out of group items)."""
    collab, firm = params.collaboration, params.firm
    n = len(openness)
    a, b = collab.openness_loading, collab.scale_loading
    c = np.sqrt(1 - a * a - b * b)
    in_group = group_latent > special.ndtri(1 - firm.group_share)
    group_thresholds = group_collaboration_thresholds(params)
    f = collab.frequency_openness_loading
    out = {}
    for scale in SCALES:
        scale_factor = rng.standard_normal(n)
        for partner in PARTNER_TYPES:
            latent = a * openness + b * scale_factor + c * rng.standard_normal(n)
            freq_latent = (f * openness + np.sqrt(1 - f * f) * rng.standard_normal(n)
                           + collab.frequency_shift[partner])
            if partner == "group":
                active = (latent > group_thresholds[scale]) & in_group
            else:
                active = latent > special.ndtri(1 - collab.prevalence[(partner, scale)])
            frequency = 2.0 + np.searchsorted(collab.frequency_cuts, freq_latent)
            code = np.where(active, frequency, 1.0)
            if partner == "group":
                code = np.where(in_group, code, np.nan)
            out[collaboration_column(partner, scale)] = code
    return pd.DataFrame(out)


def draw_outcome(index: np.ndarray, model: OutcomeModel,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ordered-logit outcome: (latent y*, category 0 none / 1 new to firm / 2 new to market)."""
    latent = index + rng.logistic(size=len(index))
    category = np.searchsorted(np.asarray(model.cuts), latent).astype(float)
    return latent, category


def draw_truth(n_usable: int, streams: dict[str, np.random.Generator],
               params: TwinParams) -> pd.DataFrame:
    """True answers, latent traits, regressors, indexes and outcomes of usable firms."""
    firms = draw_firms(n_usable, streams, params)
    regressors = build_regressors(firms, params.frame)
    rng = streams["outcomes"]
    parts = {}
    for model, yes_item, novelty_item, top in (
            (params.product, "q6_prod", "q7_prod_new", "new_to_market"),
            (params.process, "q8_proc", "q9_proc_new", "new_to_industry")):
        index = linear_index(regressors, model)
        latent, category = draw_outcome(index, model, rng)
        parts[f"index_{model.name}"] = index
        parts[f"latent_{model.name}"] = latent
        parts[model.name] = (category >= 1).astype(float)
        parts[f"{model.name}_novelty"] = category
        parts[top] = (category == 2).astype(float)
        parts[yes_item] = np.where(category >= 1, 1.0, 2.0)
        parts[novelty_item] = np.where(category >= 1, category, np.nan)
    truth = pd.concat([firms, regressors, pd.DataFrame(parts, index=firms.index)], axis=1)
    return truth
