"""Where a run reads and writes: the paths of one study, and the context handed to each step."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import config


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

    @classmethod
    def default(cls) -> Paths:
        return cls(root=config.ROOT, data_clean=config.DATA_CLEAN, output=config.OUTPUT)

    @classmethod
    def under(cls, base: Path, root: Path | None = None) -> Paths:
        """Paths whose generated folders sit below ``base`` (for other studies and tests)."""
        return cls(
            root=root or config.ROOT,
            data_clean=base / "data_clean",
            output=base / "output",
        )


@dataclass(frozen=True)
class Context:
    """What every step receives: where to read and write, the study, the models and the seed."""

    paths: Paths
    study_config_path: Path
    model_spec_path: Path
    seed: int = config.SEED
    options: dict[str, Any] = field(default_factory=dict)
