"""Settings of the benchmark (bench/run_benchmark.py): what is measured, how often, and
the targets of issues 7 and 15."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The bare scientific stack a replication cannot avoid importing (issue 15): the cold run
#: is compared with the time a fresh interpreter takes to import just these.
SCIENTIFIC_STACK = ("numpy", "pandas", "scipy", "matplotlib", "pyreadstat")
#: Wider stacks, measured beside it for the reader (not a target): the design card's
#: packages (stargazer imports statsmodels and linearmodels to register its translators,
#: so a run that uses stargazer pays for both), and every third-party package a run imports.
DESIGN_CARD_STACK = (*SCIENTIFIC_STACK, "statsmodels.api", "linearmodels", "stargazer.stargazer")
RUN_STACK = (*DESIGN_CARD_STACK, "pyarrow.parquet", "docx", "pytask", "joblib")
WIDER_STACKS = {"design card's packages": DESIGN_CARD_STACK,
                "third-party packages a run imports": RUN_STACK}
#: Import-only runs of each wider stack (the median is shown).
WIDER_RUNS = 3
#: Cold runs of the full replication, each after an import-only run (the medians are
#: compared): on a shared machine the speed drifts by 10-20% within minutes.
COLD_RUNS = 5
#: Seconds between two polls of the RSS of a process tree: often enough for the peaks of
#: seconds-long steps, rarely enough that the poller (psutil walks /proc) does not take
#: CPU from the pipeline it measures (every 5 ms it took ~20% of a core).
TREE_POLL_S = 0.05
PACKAGES = ("numpy", "scipy", "pandas", "statsmodels", "linearmodels", "joblib", "pyarrow",
            "matplotlib", "stargazer", "psutil")
N_REGRESSORS = 30
N_CLUSTERS = 1_600
SEED = 20110601
RESULT_TAG = "BENCH_RESULT "
STATSMODELS_GUARD = 1_000_000  # get_margeff needs ~15 GB here (issue 7)
TARGETS = {"rerun_s": 1.5, "cold_over_import": 3.0, "estimation_over_reference": 1.5,
           "estimation_peak_mb": 2048.0, "bootstrap_over_statsmodels": 0.2}
