"""The estimate step's files (contract C5): estimates.csv, predictions.csv, models.csv.

:func:`results_csv` writes them and :func:`read_results` reads any of them back, with the
model ids, terms and variable names as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd

#: 12 significant digits: far beyond any displayed precision, and rounding noise in the
#: last bits of a float cannot change the bytes of a rerun.
FLOAT_FORMAT = "%.12g"
#: Columns read as text whatever they hold (an id that looks like a number stays an id; an
#: empty cell is missing).
TEXT_COLUMNS = ("model", "term", "terms", "cluster", "unavailable", "variable", "interval",
                "weight_type", "dropped_notes")


def results_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT)


def read_results(path: Path) -> pd.DataFrame:
    """One of the estimate step's files; ModelError when it is absent or unreadable."""
    import pandas as pd

    if not Path(path).is_file():
        raise ModelError(f"{path}: not found (run the estimate step first)")
    try:
        header = pd.read_csv(path, nrows=0).columns
        return pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS if c in header},
                           keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as err:
        raise ModelError(f"{path}: cannot read the estimates: {err}") from err
