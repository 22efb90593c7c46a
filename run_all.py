"""Run the whole replication package: ``uv run run_all.py`` (``--help`` for the options).

This file holds no logic; the pipeline lives in :mod:`analysis.pipeline` and the ordered
list of steps in :mod:`analysis.steps`.
"""

import sys

from analysis.pipeline import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
