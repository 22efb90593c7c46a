"""The one place that owns paths, the seed and the canonical vocabulary of the study.

Everything that says *where* (folders, files) or *which* (seed, partner types, scales)
lives here; the analysis functions receive these values as arguments.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "config"
DATA_RAW = ROOT / "data_raw"
DATA_CLEAN = ROOT / "data_clean"
OUTPUT = ROOT / "output"

#: The study configuration of the shipped replication (the synthetic Norwegian twin).
DEFAULT_STUDY_CONFIG = CONFIG_DIR / "norway_twin.toml"
#: The model specifications (outcomes, regressor blocks, controls, estimators, labels).
DEFAULT_MODEL_SPEC = CONFIG_DIR / "models.toml"

#: The single seed of the project. The synthetic twin, bootstraps and any other random
#: draw derive their streams from it (numpy SeedSequence spawning), so one number fixes
#: every random result of a run.
SEED = 20110601

#: Partner types of the collaboration battery, in the order the exhibits show them.
#: The clean data's sampling-weight column (contract C3; 1.0 for every firm when the survey
#: has no weights), used by weighted descriptives and, with `weights = true`, the models.
WEIGHT_COLUMN = "weight"
#: Kinds of model weights (``weights`` of the model specification, ``--option weights``):
#: unweighted, probability weights, frequency weights.
WEIGHTS = ("none", "pweight", "fweight")
#: The files of every exhibit table, in the order they are written.
TABLE_FORMATS = ("csv", "md", "tex", "html", "docx")

PARTNER_TYPES: tuple[str, ...] = (
    "group",
    "suppliers",
    "customers",
    "competitors",
    "consultants",
    "universities",
    "institutes",
)

PARTNER_LABELS: dict[str, str] = {
    "group": "Firms in the same business group",
    "suppliers": "Suppliers",
    "customers": "Customers",
    "competitors": "Competitors",
    "consultants": "Consultants",
    "universities": "Universities",
    "institutes": "Research institutes",
}

#: Fitjar and Rodriguez-Pose (2013) grouping of partner types into modes of innovation.
PARTNER_GROUPS: dict[str, tuple[str, ...]] = {
    "sti": ("consultants", "universities", "institutes"),
    "dui_supply": ("suppliers", "customers"),
    "dui_competitors": ("competitors",),
    "internal": ("group",),
}

#: Geographic scales of the partner's location, from near to far.
SCALES: tuple[str, ...] = ("local", "national", "international")

SCALE_LABELS: dict[str, str] = {
    "local": "Same city-region",
    "national": "Elsewhere in Norway",
    "international": "Abroad",
    "domestic": "Domestic",
}

#: Scales that count as "regional" (inside the firm's own city-region) in the 2013 design;
#: every other scale is extra-regional.
REGIONAL_SCALES: tuple[str, ...] = ("local",)
