"""Load and check a study configuration (a TOML file describing one survey file).

The study configuration is the only place that knows the column names and codes of a
survey. :func:`load_study_config` reads it into frozen dataclasses and checks it *before*
any data are touched: every problem raises :class:`ConfigError` naming the file, the key
path (e.g. ``collaboration.intensity.7``) and what is wrong.

Optional parts, so that other surveys can be described: every column role except the two
ids, the sampling weight (``columns.weight``), the novelty questions, the open-mindedness
battery, regions, sectors, and any partner type or scale (the collaboration battery holds
whatever partners and scales the file lists).

General layouts: an outcome may combine several yes/no columns (``column = ["a", "b"]``: yes
if any is yes); a collaboration item may be a frequency scale or a yes/no item
(``collaboration.type = "binary"``) and one (partner, scale) item may combine several columns
(a scale code list such as ``international = ["eu", "us", "oth"]``, or explicit
``[collaboration.items]``); sectors are NACE ranges or single codes. ``[disclosure]`` (C6)
holds the statistical-disclosure settings.

Text in the data file: ``[recode.<column>]`` maps text answers to numeric codes (``Yes = 1``,
``"Don't know" = -9``; matched case-sensitively after trimming surrounding whitespace).
Without a recode only three roles may hold text, and only when ``[validate]`` gives them no
kind: the two ids (e.g. ``"F000123"``) and the region (e.g. NUTS codes ``"DE1"``); the
``[regions]`` keys are then the text codes (absent ``[regions]``, the region names are the
distinct codes in sorted order).

The code is split by concern: :mod:`~analysis.data.study_schema` (roles and dataclasses),
:mod:`~analysis.data.study_parse` (reading and checking the TOML, with
:mod:`~analysis.data.study_collaboration` for the battery and
:mod:`~analysis.data.study_checker` for the shared checks) and
:mod:`~analysis.data.study_data` (checks against the data file). This module re-exports the
public names, so callers import from one place.
"""

from __future__ import annotations

from analysis.data.study_data import check_codes_in_data, check_columns, check_data_file
from analysis.data.study_parse import (
    infer_format,
    load_study_config,
    parse_study_config,
    region_code,
)
from analysis.data.study_schema import (
    ALLOWED_SCALES,
    BINARY_NEVER,
    BINARY_YES,
    COLLABORATION_TYPES,
    DUPLICATE_RULES,
    FORMATS,
    MISSING_KIND_KEYS,
    OPTIONAL_ROLES,
    OUTCOME_NAMES,
    REQUIRED_ROLES,
    ROLES,
    TEXT_ROLES,
    Collaboration,
    Disclosure,
    Kind,
    OpenMindedness,
    Outcome,
    SampleRules,
    StudyConfig,
)

__all__ = [
    "ALLOWED_SCALES", "BINARY_NEVER", "BINARY_YES", "COLLABORATION_TYPES", "DUPLICATE_RULES",
    "FORMATS", "MISSING_KIND_KEYS", "OPTIONAL_ROLES", "OUTCOME_NAMES", "REQUIRED_ROLES", "ROLES",
    "TEXT_ROLES", "Collaboration", "Disclosure", "Kind", "OpenMindedness", "Outcome",
    "SampleRules", "StudyConfig", "check_codes_in_data", "check_columns", "check_data_file",
    "infer_format", "load_study_config", "parse_study_config", "region_code",
]
