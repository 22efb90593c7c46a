"""Where a run reads and writes: the paths of one study, and the context handed to each step."""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import config, io
from analysis.errors import ConfigError

#: The file that lists every generated file (in the output folder; the README's exhibit
#: map names it too). It is written after every step, so no step reads it.
MANIFEST_NAME = "manifest.csv"


@dataclass(frozen=True)
class Paths:
    """Every folder a run touches. Steps never build paths from ``config.ROOT`` themselves.

    The default replication writes to ``data_clean/`` and ``output/``; a run on another
    survey (``run_all.py --config``) or a test in a temporary folder passes other roots.
    """

    root: Path
    data_clean: Path
    output: Path

    @property
    def tables(self) -> Path:
        return self.output / "tables"

    @property
    def figures(self) -> Path:
        return self.output / "figures"

    @property
    def estimates(self) -> Path:
        return self.output / "estimates"

    @property
    def logs(self) -> Path:
        return self.output / "logs"

    @property
    def data_appendix(self) -> Path:
        return self.output / "data_appendix"

    # The files the steps hand to each other (contracts C3-C6), named here only.
    @property
    def clean_data(self) -> Path:
        """The clean survey (C3), written by the clean step."""
        return self.data_clean / "survey_clean.parquet"

    @property
    def clean_flow(self) -> Path:
        """Records removed by each sample rule, written by the clean step."""
        return self.data_clean / "clean_flow.csv"

    @property
    def analysis_data(self) -> Path:
        """The analysis data set, written by the build step."""
        return self.data_clean / "analysis_data.parquet"

    @property
    def analysis_meta(self) -> Path:
        """What the survey provides and lacks (C4), written by the build step."""
        return self.data_clean / "analysis_meta.json"

    @property
    def estimates_file(self) -> Path:
        """Every estimated quantity of every model (C1/C5), written by the estimate step."""
        return self.estimates / "estimates.csv"

    @property
    def predictions_file(self) -> Path:
        return self.estimates / "predictions.csv"

    @property
    def models_file(self) -> Path:
        """One row per estimated model."""
        return self.estimates / "models.csv"

    @property
    def claims_estimates(self) -> Path:
        """The rows behind every verdict of the claims report, written by the claims step."""
        return self.estimates / "claims_estimates.csv"

    @property
    def crosscheck(self) -> Path:
        """The R and Stata scripts of the crosscheck step, and their results."""
        return self.output / "crosscheck"

    @property
    def crosscheck_data(self) -> Path:
        """The data the crosscheck scripts read, written by the crosscheck step."""
        return self.data_clean / "crosscheck_data.csv"

    @property
    def report(self) -> Path:
        """The replication report, written by the report step."""
        return self.output / "replication_report.html"

    @property
    def readme(self) -> Path:
        """The README whose exhibit map the report follows."""
        return self.root / "README.md"

    @property
    def disclosure_flags(self) -> Path:
        """The folder of the small-cell flags each step writes (C6). They name cells and
        counts below the threshold, so they stay with the private data, out of output/."""
        return self.data_clean / "disclosure"

    def flags_file(self, step: str) -> Path:
        return self.disclosure_flags / f"{step}.csv"

    # The runner's own files (analysis.runner, analysis.provenance, analysis.output_tree).
    @property
    def manifest(self) -> Path:
        """Path, size and SHA-256 of every generated file, written after a successful run."""
        return self.output / MANIFEST_NAME

    @property
    def run_log(self) -> Path:
        """The run log (JSON; its Markdown twin beside it, ``.md``)."""
        return self.logs / "run_log.json"

    @property
    def run_state(self) -> Path:
        """pytask's state (``pytask.lock`` and the root file it is kept for) and the stored
        import analysis: a folder of the run's own, so runs never share it."""
        return self.logs / "pytask"

    @property
    def verify_report(self) -> Path:
        """What ``run_all.py --verify`` found, file by file."""
        return self.logs / "verify.csv"

    @property
    def other_studies(self) -> Path:
        """Where runs on other studies write, each in a folder of its own."""
        return self.output / "studies"

    @classmethod
    def default(cls) -> Paths:
        return cls(root=config.ROOT, data_clean=config.DATA_CLEAN, output=config.OUTPUT)

    @classmethod
    def for_study(cls, study_config: Path, output_root: Path | None = None) -> Paths:
        """Where a run writes: under ``output_root`` if given, else the default folders
        for the default study and ``output/studies/<study>/`` for another one (named by
        :func:`study_folder_name`)."""
        if output_root is not None:
            return cls.under(Path(output_root).resolve())
        if Path(study_config).resolve() == config.DEFAULT_STUDY_CONFIG.resolve():
            return cls.default()
        return cls.under(cls.default().other_studies / study_folder_name(study_config))

    @classmethod
    def under(cls, base: Path, root: Path | None = None) -> Paths:
        """Paths whose generated folders sit below ``base`` (for other studies and tests)."""
        return cls(
            root=root or config.ROOT,
            data_clean=base / "data_clean",
            output=base / "output",
        )


def study_name(study_config: Path) -> str | None:
    """The ``[study] name`` of a study configuration (None when absent or unreadable: the
    steps report a broken configuration in their own words)."""
    try:
        data = tomllib.loads(io.read_toml_text(study_config))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    study = data.get("study")
    name = study.get("name") if isinstance(study, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def study_folder_name(study_config: Path) -> str:
    """``output/studies/<this>/``: the slugged ``[study] name``, or the file's stem and a
    hash of its full path when the study has no name."""
    name = study_name(study_config)
    if name:
        slug = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")
        if slug:
            return slug
    path = str(Path(study_config).resolve())
    return f"{Path(study_config).stem}-{hashlib.sha256(path.encode()).hexdigest()[:10]}"


def inside_project_warning(study_config: Path, output_root: Path | None) -> str | None:
    """A warning when another study's outputs (cleaned microdata included) would be written
    inside the project folder: confidential data belong outside the repository."""
    if output_root is not None or Path(study_config).resolve() == (
            config.DEFAULT_STUDY_CONFIG.resolve()):
        return None
    where = Paths.for_study(study_config).output.parent.relative_to(config.ROOT).as_posix()
    return (f"the outputs of this study, including its cleaned microdata (data_clean/), go to "
            f"{where} inside the project folder; for confidential data use --output-root DIR "
            "outside the repository (docs/using_your_own_survey.md)")


@dataclass(frozen=True)
class Context:
    """What every step receives: where to read and write, the study, the models and the seed."""

    paths: Paths
    study_config_path: Path
    model_spec_path: Path
    seed: int = config.SEED
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """A ``run_all.py --option KEY=VALUE`` that steps read from ``Context.options``."""

    kind: type  # bool, int or Path (a file that must exist)
    help: str
    minimum: int | None = None
    forbidden: tuple[Any, ...] = ()
    #: words allowed besides the values of ``kind`` (e.g. a weight kind besides true/false)
    words: tuple[str, ...] = ()


#: Every option a step reads; run_all.py checks keys and values against it before any step.
OPTIONS: dict[str, Option] = {
    "weights": Option(bool, "weight every model by the survey's weight column: true or "
                      "pweight (probability weights), fweight (frequency weights), false or "
                      "none", words=config.WEIGHTS),
    "bootstrap_reps": Option(int, "bootstrap replications of the robustness step", minimum=2),
    "n_jobs": Option(int, "workers of the robustness step (-1 = all cores)", minimum=-1,
                     forbidden=(0,)),
    "robustness_config": Option(Path, "settings of the robustness analyses (TOML file)"),
}


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a TOML value when it is one (else as a string);
    ValueError without ``=``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked against :data:`OPTIONS` (ConfigError naming the key, the close
    matches or the valid values); paths are returned as :class:`Path`."""
    checked: dict[str, Any] = {}
    for key, value in options.items():
        where = f"--option {key}={value if not isinstance(value, bool) else str(value).lower()}"
        option = OPTIONS.get(key)
        if option is None:
            close = difflib.get_close_matches(key, OPTIONS, n=3, cutoff=0.6)
            maybe = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: unknown option '{key}'{maybe} (options: "
                              f"{', '.join(sorted(OPTIONS))})")
        if option.kind is bool and not isinstance(value, bool) and value not in option.words:
            allowed = ["true", "false", *option.words]
            raise ConfigError(f"{where}: '{key}' must be {', '.join(allowed[:-1])} or "
                              f"{allowed[-1]}")
        if option.kind is int and (isinstance(value, bool) or not isinstance(value, int)
                                   or value < (option.minimum or value)
                                   or value in option.forbidden):
            rule = f"an integer >= {option.minimum}" + "".join(
                f", not {v}" for v in option.forbidden)
            raise ConfigError(f"{where}: '{key}' must be {rule} ({option.help})")
        if option.kind is Path:
            value = Path(str(value))
            if not value.is_file():
                raise ConfigError(f"{where}: '{key}' names no file ({option.help})")
        checked[key] = value
    return checked


def close_matches(name: str, known: list[str]) -> str:
    """ " (did you mean --force?)", or the valid names when none is close."""
    close = difflib.get_close_matches(name.split("=")[0], known, n=2)
    if close:
        return f" (did you mean {' or '.join(close)}?)"
    return f" ({', '.join(known)})"
