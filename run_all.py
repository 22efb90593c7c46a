"""Run the whole replication package: ``uv run run_all.py`` (``--help`` for the options).

This file holds no logic; the pipeline lives in :mod:`analysis.runner.pipeline` and the ordered
list of steps in :mod:`analysis.tasks`.
"""

import sys

from analysis.runner.pipeline import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
