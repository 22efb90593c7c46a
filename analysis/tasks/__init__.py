"""The ordered registry of pipeline steps (contract C2).

Each entry is ``(name, module path)``. The module must expose ``DESCRIPTION: str``,
``inputs(ctx) -> list[Path]``, ``outputs(ctx) -> list[Path]`` and ``run(ctx) -> None``;
optionally ``RUN_FIRST = True`` (among the steps ready to run, it starts first: the steps
that check the survey), ``RUN_LAST = True`` (it starts when no other selected step is
ready: a step that checks the others' outputs), ``EVERY_RUN = True`` (selected on every
run, whatever was selected, and run even after another step failed: the disclosure check;
it reruns, as any step, when its inputs changed), ``unread(ctx) -> list[Path]`` (what the
step does not read below a folder among its inputs: changes there do not rerun it),
``PROVENANCE = True`` (the step reports the git commit and whether tracked files changed:
it reruns when they do) and
``check(ctx) -> None`` (run before any step: what the user typed, such as the model
specification's variable names). :mod:`analysis.runner.steps` turns each into a pytask
task:

- ``inputs(ctx)`` lists every file the step reads (a folder stands for the files other
  steps write below it), including the outputs of earlier steps: those steps run first,
  and rerun when out of date, so a step never reads stale files. The code it imports,
  the study configuration, the model specification, the seed and the options are
  covered anyway. It may depend only on the code and ``ctx`` (and on files named in the
  configuration), not on what is on disk at the time.
- ``outputs(ctx)`` lists the files ``run(ctx)`` writes (atomically, :mod:`analysis.io`);
  each must exist after the run, or the step fails.
- Outputs are deterministic (rerun = byte-identical), so the steps reading them are
  skipped when an upstream rerun changes nothing, and ``--verify`` passes.
- Every run imports every step module to learn its inputs and outputs: keep the module
  level light (what ``inputs``/``outputs`` need) and import the stage modules ``run``
  calls inside ``run``. A step reads, calls the stage modules, writes; it never imports
  another step.

The order is the order of ``--list``; the order of execution follows the inputs.
"""

from __future__ import annotations

STEPS: list[tuple[str, str]] = [
    ("clean", "analysis.tasks.clean"),
    ("build", "analysis.tasks.build"),
    ("describe", "analysis.tasks.describe"),
    ("estimate", "analysis.tasks.estimate"),
    ("samples", "analysis.tasks.samples"),
    ("crosscheck", "analysis.tasks.crosscheck"),
    ("tables", "analysis.tasks.tables"),
    ("figures", "analysis.tasks.figures"),
    ("robustness", "analysis.tasks.robustness"),
    ("claims", "analysis.tasks.claims"),
    ("coverage", "analysis.tasks.coverage"),
    ("compare", "analysis.tasks.compare"),
    ("disclosure", "analysis.tasks.disclosure"),
    ("report", "analysis.tasks.report"),
]
