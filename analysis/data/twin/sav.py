"""Writing the twin as an SPSS .sav file with labels, missing codes and a fixed timestamp."""


from pathlib import Path

import pandas as pd
import pyreadstat

from analysis.data.twin.latent import COLUMNS, SAV_FILE_LABEL, SAV_TIMESTAMP
from analysis.data.twin.questionnaire import ITEMS, Item
from analysis.errors import DataError
from analysis.io import atomic_path

# ---------------------------------------------------------------------------------------
# SPSS output
# ---------------------------------------------------------------------------------------


def format_width(item: Item) -> int:
    """Digits needed for the largest code, valid value or missing code of an item."""
    values = [*item.codes, *item.missing]
    if item.valid_range:
        values += list(item.valid_range)
    return max(len(str(int(v))) for v in values)


def sav_metadata(items: tuple[Item, ...] = ITEMS) -> dict:
    """Keyword arguments of ``pyreadstat.write_sav`` carrying the codebook metadata."""
    return {
        "column_labels": {item.name: item.label for item in items},
        "variable_value_labels": {item.name: {float(k): v for k, v in item.value_labels.items()}
                                  for item in items if item.value_labels},
        "missing_ranges": {item.name: [float(code) for code in sorted(item.missing)]
                           for item in items if item.missing},
        "variable_measure": {item.name: item.measure for item in items},
        "variable_format": {item.name: f"F{format_width(item)}.0" for item in items},
        "variable_display_width": {item.name: max(format_width(item), 8) for item in items},
    }


def fix_sav_timestamp(data: bytearray) -> bytearray:
    """Overwrite the creation date and time of a SAV header with :data:`SAV_TIMESTAMP`."""
    if data[:4] != b"$FL2":
        raise DataError("not an SPSS system file: the header does not start with $FL2")
    date, time = SAV_TIMESTAMP
    data[92:101] = date
    data[101:109] = time
    return data


def write_sav(frame: pd.DataFrame, path: Path, note: list[str] | None = None) -> Path:
    """Write the delivered frame as SPSS ``.sav`` with the questionnaire metadata.

    Variable labels = Item.label, value labels = Item.value_labels (options and missing
    codes), user-missing values = Item.missing codes, measure levels and F<w>.0 formats.
    The header's creation timestamp is fixed (:data:`SAV_TIMESTAMP`), so the same frame
    always gives the same bytes. ``note``: document lines of at most 80 characters.
    Written atomically.
    """
    if tuple(frame.columns) != COLUMNS:
        raise DataError(f"frame columns must be questionnaire.ITEMS in order; got "
                        f"{list(frame.columns)[:5]}... for {path}")
    with atomic_path(Path(path)) as tmp:
        # Row (bytecode) compression is the SPSS default and keeps the file small.
        pyreadstat.write_sav(frame.astype(float), str(tmp), file_label=SAV_FILE_LABEL,
                             row_compress=True, note=note, **sav_metadata())
        tmp.write_bytes(bytes(fix_sav_timestamp(bytearray(tmp.read_bytes()))))
    return Path(path)

