"""Input files as users save them: byte-order marks, integral floats, special files and
repeated column names, through the real entry point where a run is involved.

- Every TOML the package reads (study configuration, model specification, robustness
  settings) may start with a UTF-8 byte-order mark, as some Windows editors write it.
- An integer setting given as a float (``min_cell_count = 5.0``) is that integer; ``5.5`` is
  an error naming the key.
- A data file that is a directory or a FIFO is named as such (not "not found"), and a FIFO
  is never opened (a read could block).
- A data file with a repeated column name stops the run, naming the column and its
  positions, for every reader (CSV, Stata, SPSS, Parquet): a CSV with two ``q3_foreign``
  columns must not run on the stale copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from analysis import config
from analysis.data.study_config import load_study_config
from analysis.errors import ConfigError, RobustnessError
from analysis.models.robustness_config import load_robustness_config
from analysis.models.specification import load_model_spec
from analysis.runner import pipeline

BOM = "\ufeff"
N_RECORDS = 60


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    """The first records of the synthetic twin (user-missing codes kept)."""
    source = config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav"
    frame, _ = pyreadstat.read_sav(str(source), user_missing=True, row_limit=N_RECORDS)
    return frame


def study_config(folder: Path, data_file: Path, extra: str = "", bom: bool = False,
                 replace: dict[str, str] | None = None) -> Path:
    """The twin's study configuration pointing at ``data_file``."""
    text = config.DEFAULT_STUDY_CONFIG.read_text(encoding="utf-8")
    text = "\n".join(f"data_file = '{data_file}'" if line.startswith("data_file =") else line
                     for line in text.splitlines()) + "\n" + extra
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text((BOM if bom else "") + text, encoding="utf-8")
    return path


def run(capsys, study: Path, root: Path, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = pipeline.main(["--config", str(study), "--output-root", str(root), "--only",
                          "clean", *extra])
    return code, capsys.readouterr().err


# ------------------------------------------------------------------ byte-order marks


def test_study_config_with_bom_runs(tmp_path, records, capsys):
    data = tmp_path / "twin.csv"
    records.to_csv(data, index=False)
    study = study_config(tmp_path / "cfg", data, bom=True)
    code, err = run(capsys, study, tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "data_clean" / "survey_clean.parquet").is_file()


def test_model_spec_and_robustness_settings_with_bom(tmp_path):
    spec = tmp_path / "models.toml"
    spec.write_text(BOM + config.DEFAULT_MODEL_SPEC.read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert load_model_spec(spec).families
    robustness = tmp_path / "robustness.toml"
    robustness.write_text(BOM + (config.CONFIG_DIR / "robustness.toml").read_text(
        encoding="utf-8"), encoding="utf-8")
    assert load_robustness_config(robustness).bootstrap_reps == 999


# -------------------------------------------------------------------- integral floats


def test_integral_floats_are_integers_and_fractions_name_the_key(tmp_path):
    data = config.DATA_RAW / "norway_firm_survey_2010_synthetic.sav"
    extra = "\n[disclosure]\nmin_cell_count = 5.0\n"
    study = study_config(tmp_path / "a", data, extra,
                         replace={"survey_year = 2010": "survey_year = 2010.0",
                                  "scale_max = 5": "scale_max = 5.0"})
    cfg = load_study_config(study)
    assert cfg.disclosure.min_cell_count == 5 and isinstance(cfg.disclosure.min_cell_count, int)
    assert cfg.survey_year == 2010 and cfg.open_mindedness.scale_max == 5
    bad = study_config(tmp_path / "b", data, "\n[disclosure]\nmin_cell_count = 5.5\n")
    with pytest.raises(ConfigError, match=r"\[disclosure.min_cell_count\] must be a whole "
                                          r"number, got 5.5"):
        load_study_config(bad)
    robustness = tmp_path / "robustness.toml"
    robustness.write_text("[bootstrap]\nreps = 199.0\n", encoding="utf-8")
    assert load_robustness_config(robustness).bootstrap_reps == 199
    robustness.write_text("[bootstrap]\nreps = 19.5\n", encoding="utf-8")
    with pytest.raises(RobustnessError, match="bootstrap.reps must be a whole number"):
        load_robustness_config(robustness)


# ----------------------------------------------------------------------- special files


def test_data_file_that_is_a_directory_is_named_as_such(tmp_path, capsys):
    folder = tmp_path / "survey.sav"
    folder.mkdir()
    code, err = run(capsys, study_config(tmp_path / "cfg", folder), tmp_path / "out")
    assert code != 0
    assert "is a directory, not a data file" in err and "not found" not in err
    assert "Traceback" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_data_file_that_is_a_fifo_is_named_and_never_opened(tmp_path):
    fifo = tmp_path / "survey.csv"
    os.mkfifo(fifo)
    study = study_config(tmp_path / "cfg", fifo)
    code = ("import sys; from analysis.runner import pipeline; "
            f"sys.exit(pipeline.main(['--config', {str(study)!r}, '--output-root', "
            f"{str(tmp_path / 'out')!r}, '--only', 'clean']))")
    # A reader that opened the pipe would wait for a writer forever: the timeout says so.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=config.ROOT)
    assert done.returncode != 0
    assert "is a FIFO (named pipe), not a data file" in done.stderr, done.stderr


# ------------------------------------------------------------------ repeated columns


def csv_with_stale_copy(records: pd.DataFrame, path: Path) -> Path:
    """A CSV with a stale ``q3_foreign`` column first and the current one in place."""
    stale = records.assign(q3_foreign=0.0)
    frame = pd.concat([stale[["q3_foreign"]], records], axis=1)
    frame.to_csv(path, index=False)
    return path


def patched(records: pd.DataFrame, path: Path, writer) -> Path:
    """A Stata / SPSS file whose column ``q3_foreigx`` is renamed ``q3_foreign`` in its
    dictionary (the writers refuse repeated names; a delivered file may still hold them)."""
    frame = records.assign(q3_foreigx=records["q3_foreign"])
    writer(frame, str(path))
    raw = path.read_bytes()
    assert raw.count(b"q3_foreigx") == 1
    path.write_bytes(raw.replace(b"q3_foreigx", b"q3_foreign"))
    return path


def parquet_with_repeat(records: pd.DataFrame, path: Path) -> Path:
    table = pa.Table.from_pandas(records, preserve_index=False)
    table = table.append_column("q3_foreign", table.column("q3_foreign"))
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "dta", "sav", "parquet"])
def test_repeated_column_names_stop_the_run_naming_them(tmp_path, records, capsys, fmt):
    path = tmp_path / f"survey.{fmt}"
    n = records.shape[1]
    position = list(records.columns).index("q3_foreign") + 1
    if fmt == "csv":
        csv_with_stale_copy(records, path)
        where = f"'q3_foreign' at positions 1, {position + 1}"
    elif fmt == "parquet":
        parquet_with_repeat(records, path)
        where = f"'q3_foreign' at positions {position}, {n + 1}"
    else:
        writer = pyreadstat.write_dta if fmt == "dta" else pyreadstat.write_sav
        patched(records, path, writer)
        where = f"'q3_foreign' at positions {position}, {n + 1}"
    code, err = run(capsys, study_config(tmp_path / "cfg", path), tmp_path / "out")
    assert code != 0
    assert "duplicate column names" in err and where in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "data_clean" / "survey_clean.parquet").exists()
