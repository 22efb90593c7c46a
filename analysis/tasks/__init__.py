"""The ordered registry of pipeline steps (contract C2).

Each entry is ``(name, module path)``. The module must expose ``DESCRIPTION: str``,
``inputs(ctx) -> list[Path]``, ``outputs(ctx) -> list[Path]`` and ``run(ctx) -> None``.
Modules are imported lazily by :mod:`analysis.runner.pipeline` (only when the step runs), so
listing the steps or skipping unchanged ones never pays for heavy imports.

The lead keeps this list in sync with the step modules; a step whose module does not
exist makes the run stop with a clear message when it is reached.
"""

from __future__ import annotations

STEPS: list[tuple[str, str]] = [
    ("clean", "analysis.tasks.clean"),
    ("build", "analysis.tasks.build"),
    ("describe", "analysis.tasks.describe"),
    ("estimate", "analysis.tasks.estimate"),
    ("tables", "analysis.tasks.tables"),
    ("figures", "analysis.tasks.figures"),
    ("robustness", "analysis.tasks.robustness"),
    ("claims", "analysis.tasks.claims"),
    ("compare", "analysis.tasks.compare"),
    ("disclosure", "analysis.tasks.disclosure"),
]

