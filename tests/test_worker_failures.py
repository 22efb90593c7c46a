"""A failure in any worker ends the run in seconds with the worker's own message (issue 14).

Each kind of parallel work is made to fail through the real entry point, in a child
process with a generous timeout (a regression shows as a failed test, not a hung suite):
a robustness analysis, the bootstrap, the specification curve and the figure workers
raise the package's errors; a worker killed outright (SIGKILL) ends the run too. The
fault is patched into the parent before the run, so forked workers inherit it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_BOOTSTRAP_REPS

from analysis import config

#: target -> (code replacing it, step to rerun, message expected on stderr)
FAULTS = {
    "robustness analysis": (
        "analysis.models.robustness.manager_comparison",
        "raise ModelError('injected: the manager comparison broke')", "robustness",
        "run_all: step 'robustness' failed: injected: the manager comparison broke"),
    "bootstrap": (
        "analysis.models.resampling._run_block",
        "raise EstimationError('boot', 'injected: a bootstrap block broke')", "robustness",
        "model 'boot': injected: a bootstrap block broke"),
    "specification curve": (
        "analysis.models.specification_curve._curve_chunk",
        "raise ModelError('injected: a curve chunk broke')", "robustness",
        "run_all: step 'robustness' failed: injected: a curve chunk broke"),
    "figure workers": (
        "analysis.exhibits.figures.render_figure",
        "raise ExhibitError('injected: a figure broke')", "figures",
        "run_all: step 'figures' failed: injected: a figure broke"),
    "worker killed": (
        "analysis.models.robustness.manager_comparison",
        "os.kill(os.getpid(), signal.SIGKILL)", "robustness",
        "a worker process died"),
}

SCRIPT = """
import importlib, os, signal, sys
from analysis.errors import EstimationError, ExhibitError, ModelError
module, _, name = {target!r}.rpartition(".")
def fault(*args, **kwargs):
    {code}
setattr(importlib.import_module(module), name, fault)
from analysis.runner.pipeline import main
sys.exit(main({argv!r}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", FAULTS)
def test_a_failing_worker_ends_the_run_with_its_message(full_run, tmp_path, kind):
    target, code, step, message = FAULTS[kind]
    root = tmp_path / "out"
    shutil.copytree(full_run, root)
    # The options of the session's run: nothing but the failing step reruns.
    argv = ["--output-root", str(root), "--only", step, "--force",
            "--option", f"bootstrap_reps={TEST_BOOTSTRAP_REPS}"]
    script = SCRIPT.format(target=target, code=code, argv=argv)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=config.ROOT,
                          capture_output=True, text=True, timeout=240)
    elapsed = time.monotonic() - start
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 60, f"the run took {elapsed:.0f} s to end after the failure"
    assert (Path(root) / "output" / "logs" / "run_log.json").is_file()
