"""The replication's steps for ``pytask`` run from this folder (the default study).

``uv run run_all.py`` is the documented command; ``uv run pytask`` builds the same tasks
(:func:`analysis.runner.steps.build_tasks`) for the default study configuration, model
specification and seed. pytask then keeps its state (``pytask.lock``, ``.pytask/``) in
this folder, apart from run_all.py's (``output/logs/pytask/``); both compare files by
content, so neither relies on the other's record.
"""

import sys
from pathlib import Path

# pytask imports this file without putting its folder on the path (run_all.py, a script,
# gets it from Python); the project is not installed as a package (pyproject: package = false).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analysis import config  # noqa: E402
from analysis.context import Context, Paths  # noqa: E402
from analysis.runner.steps import build_tasks, registry  # noqa: E402

CONTEXT = Context(paths=Paths.default(), study_config_path=config.DEFAULT_STUDY_CONFIG,
                  model_spec_path=config.DEFAULT_MODEL_SPEC, seed=config.SEED)
for _task in build_tasks(CONTEXT, registry(), forced=set()):
    globals()[f"task_{_task.name}"] = _task
