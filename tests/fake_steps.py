"""A temporary package of fake steps for the runner's tests (tests/test_pipeline.py and
tests/test_pipeline_runs.py).

Each fake step appends its name to a calls file when it runs, reads its inputs and writes
``<output>/<name>.txt`` (step ``a`` also writes a file into data_clean).
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from pathlib import Path

import pytest

from analysis import code_graph
from analysis.runner import pipeline, steps

STEP_TEMPLATE = '''"""Fake step {name}."""
from pathlib import Path

DESCRIPTION = {description!r}
CALLS = Path({calls!r})
INPUTS = {inputs!r}
CLEAN = {clean!r}
{flags}


def _resolve(ctx, item):
    if item.startswith("output:"):
        return ctx.paths.output / item[len("output:"):]
    return Path(item)


def inputs(ctx):
    return [_resolve(ctx, item) for item in INPUTS]


def outputs(ctx):
    paths = [ctx.paths.output / "{name}.txt"]
    if CLEAN:
        paths.append(ctx.paths.data_clean / "{name}.csv")
    return paths


def run(ctx):
    with CALLS.open("a") as handle:
        handle.write("{name}\\n")
    {action}
    text = "".join(path.read_text() for path in inputs(ctx) if path.is_file()) + "{name};"
    ctx.paths.output.mkdir(parents=True, exist_ok=True)
    (ctx.paths.output / "{name}.txt").write_text(text)
    if CLEAN:
        ctx.paths.data_clean.mkdir(parents=True, exist_ok=True)
        (ctx.paths.data_clean / "{name}.csv").write_text("x\\n1\\n")
'''


class FakeProject:
    """A temporary package of fake steps plus config files, inputs and an output root."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        self.tmp = tmp_path
        self.capsys = capsys
        self.package = f"fakesteps_{uuid.uuid4().hex[:10]}"
        self.package_dir = tmp_path / "src" / self.package
        self.package_dir.mkdir(parents=True)
        (self.package_dir / "__init__.py").write_text("")
        (self.package_dir / "shared.py").write_text("VALUE = 1\n")
        monkeypatch.syspath_prepend(str(tmp_path / "src"))
        self.calls_file = tmp_path / "calls.txt"
        self.config = tmp_path / "study.toml"
        self.config.write_text("name = 'fake'\n")
        self.models = tmp_path / "models.toml"
        self.models.write_text("[models]\n")
        self.raw_a = tmp_path / "raw_a.txt"
        self.raw_a.write_text("raw a;")
        self.raw_c = tmp_path / "raw_c.txt"
        self.raw_c.write_text("raw c;")
        self.root = tmp_path / "out"
        self.steps: list[steps.Step] = []
        monkeypatch.setattr(pipeline, "registry", lambda: list(self.steps))

    def add_step(self, name: str, inputs: list[str], action: str = "pass",
                 clean: bool = False, description: str | None = None, flags: str = "") -> None:
        source = STEP_TEMPLATE.format(
            name=name, description=description or f"Fake step {name}",
            calls=str(self.calls_file), inputs=inputs, clean=clean, action=action, flags=flags)
        (self.package_dir / f"{name}.py").write_text(source)
        importlib.invalidate_caches()
        code_graph.module_file.cache_clear()
        self.steps.append(steps.Step(name, f"{self.package}.{name}"))

    def add_chain(self) -> None:
        """a <- raw_a; b <- a's output; c <- raw_c (independent of a and b)."""
        self.add_step("a", [str(self.raw_a)], clean=True)
        self.add_step("b", ["output:a.txt"])
        self.add_step("c", [str(self.raw_c)])

    def main(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()  # drop output of earlier runs
        for step in self.steps:  # a fresh import sees edited modules
            sys.modules.pop(step.module, None)
        argv = ["--config", str(self.config), "--models", str(self.models)]
        argv += ["--output-root", str(self.root), *args]
        code = pipeline.main(argv)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def calls(self) -> list[str]:
        """Steps that ran since the last call (and forget them)."""
        if not self.calls_file.exists():
            return []
        names = self.calls_file.read_text().split()
        self.calls_file.unlink()
        return names

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def data_clean(self) -> Path:
        return self.root / "data_clean"

    def run_log(self) -> dict:
        return json.loads((self.output / "logs" / "run_log.json").read_text())

    def statuses(self) -> dict[str, str]:
        return {s["name"]: s["status"] for s in self.run_log()["steps"]}


