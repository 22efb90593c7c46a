"""Tests of the pipeline runner (analysis.runner.pipeline) and manifests (analysis.runner.manifest).

The steps are fake modules written into a temporary package per test, so these tests do
not depend on the real steps. Each fake step appends its name to a calls file when it
runs, reads its inputs and writes ``<output>/<name>.txt`` (step ``a`` also writes a file
into data_clean).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from analysis.runner.manifest import (
    build_manifest,
    compare_manifests,
    diff_entries,
    manifest_entries,
    read_manifest,
)

from analysis import config
from analysis.context import Paths
from analysis.runner import pipeline

#: The real function, saved before the fixture replaces it.
REAL_CODE_FILES = pipeline.code_files

STEP_TEMPLATE = '''"""Fake step {name}."""
from pathlib import Path

DESCRIPTION = {description!r}
CALLS = Path({calls!r})
INPUTS = {inputs!r}
CLEAN = {clean!r}


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
    text = "".join(path.read_text() for path in inputs(ctx)) + "{name};"
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
        self.steps: list[tuple[str, str]] = []
        self.ahead: dict[str, str] | None = None  # AHEAD of the fake registry
        # Hash only the fake modules as "code": other engineers edit analysis/ meanwhile.
        monkeypatch.setattr(
            pipeline, "code_files", lambda registry: sorted(self.package_dir.glob("*.py"))
        )
        monkeypatch.setattr(pipeline, "ENVIRONMENT_FILES", ())

    def add_step(
        self,
        name: str,
        inputs: list[str],
        action: str = "pass",
        clean: bool = False,
        description: str | None = None,
    ) -> None:
        source = STEP_TEMPLATE.format(
            name=name,
            description=description or f"Fake step {name}",
            calls=str(self.calls_file),
            inputs=inputs,
            clean=clean,
            action=action,
        )
        (self.package_dir / f"{name}.py").write_text(source)
        importlib.invalidate_caches()
        self.steps.append((name, f"{self.package}.{name}"))

    def add_chain(self) -> None:
        """a <- raw_a; b <- a's output; c <- raw_c (independent of a and b)."""
        self.add_step("a", [str(self.raw_a)], clean=True)
        self.add_step("b", ["output:a.txt"])
        self.add_step("c", [str(self.raw_c)])

    def main(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()  # drop output of earlier runs
        argv = ["--config", str(self.config), "--models", str(self.models)]
        argv += ["--output-root", str(self.root), *args]
        code = pipeline.main(argv, steps=self.steps, ahead=self.ahead)
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


@pytest.fixture
def project(tmp_path, monkeypatch, capsys) -> FakeProject:
    fake = FakeProject(tmp_path, monkeypatch, capsys)
    fake.add_chain()
    return fake


# --------------------------------------------------------------------------- order and selection


def test_runs_every_step_in_registry_order(project):
    code, out, err = project.main()
    assert code == 0, err
    assert project.calls() == ["a", "b", "c"]
    assert "[1/3] a ... done in" in out
    assert "[3/3] c ... done in" in out
    assert (project.output / "b.txt").read_text() == "raw a;a;b;"
    assert err == ""


def test_only_runs_just_the_named_steps(project):
    code, _, _ = project.main("--only", "c", "--only", "a")
    assert code == 0
    assert project.calls() == ["a", "c"]  # registry order, not command-line order
    assert not (project.output / "b.txt").exists()


def test_from_starts_at_the_named_step(project):
    project.main()
    project.calls()
    code, _, _ = project.main("--from", "b", "--force")
    assert code == 0
    assert project.calls() == ["b", "c"]


def test_unknown_step_is_a_usage_error(project):
    code, _, err = project.main("--only", "nope")
    assert code == 2
    assert "unknown step 'nope'" in err
    assert project.calls() == []


def test_list_shows_descriptions_without_importing_steps(project):
    project.add_step("d", [], description="Draw the figures")
    project.steps.append(("ghost", f"{project.package}.ghost"))
    code, out, _ = project.main("--list")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == ["a", "b", "c", "d", "ghost"]
    assert "Draw the figures" in lines[3]
    assert "not found" in lines[4]
    assert f"{project.package}.a" not in sys.modules  # read from source, not imported
    assert project.calls() == []


# --------------------------------------------------------------------------- skipping


def test_rerun_with_nothing_changed_skips_every_step(project):
    project.main()
    project.calls()
    code, out, _ = project.main()
    assert code == 0
    assert project.calls() == []
    assert out.count("skipped (unchanged)") == 3
    assert [s["status"] for s in project.run_log()["steps"]] == ["skipped"] * 3


def test_inputs_listed_out_of_path_order_still_skip(project):
    # The stamp record is saved with sorted keys; the order inputs(ctx) uses must not matter.
    project.add_step("z", [str(project.raw_c), str(project.raw_a)])
    assert project.main()[0] == 0
    project.calls()
    code, out, _ = project.main()
    assert code == 0 and project.calls() == []
    assert "skipped (unchanged)" in out


def test_skipping_imports_neither_the_steps_nor_pandas(project):
    project.main()
    assert project.calls() == ["a", "b", "c"]
    for _, module in project.steps:
        sys.modules.pop(module, None)
    project.main()
    assert project.calls() == []
    assert not [module for _, module in project.steps if module in sys.modules]
    # The runner itself must not import pandas (seconds of start-up on every rerun).
    probe = ("import sys, analysis.runner.pipeline; "
             "print(sorted({'pandas', 'numpy'} & set(sys.modules)))")
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=config.ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_input_change_reruns_the_step_and_those_reading_its_outputs(project):
    project.main()
    project.calls()
    project.raw_a.write_text("raw a, revised;")
    _, out, _ = project.main()
    assert project.calls() == ["a", "b"]  # c does not read a's or b's files
    assert "(input changed: " in out and "raw_a.txt)" in out
    assert project.run_log()["steps"][1]["reason"].endswith("a.txt")
    project.raw_c.write_text("raw c, revised;")
    project.main()
    assert project.calls() == ["c"]


def test_identical_upstream_output_lets_downstream_skip(project):
    project.main()
    project.calls()
    (project.output / "a.txt").unlink()  # a reruns and rewrites the same bytes
    project.main()
    assert project.calls() == ["a"]


def test_modified_output_reruns_its_step(project):
    project.main()
    project.calls()
    (project.output / "c.txt").write_text("tampered")
    _, out, _ = project.main()
    assert "c ... done in" in out and "(output changed or missing: " in out
    assert project.calls() == ["c"]
    assert (project.output / "c.txt").read_text() == "raw c;c;"


def test_config_or_model_spec_change_reruns_every_step(project):
    project.main()
    project.calls()
    project.config.write_text("name = 'other'\n")
    _, out, _ = project.main()
    assert project.calls() == ["a", "b", "c"]
    assert out.count("(changed: study config)") == 3
    project.models.write_text("[models]\nx = 1\n")
    project.main()
    assert project.calls() == ["a", "b", "c"]


def test_code_change_reruns_every_step(project):
    project.main()
    project.calls()
    module = project.package_dir / "b.py"
    module.write_text(module.read_text() + "\n# a comment changes the code hash\n")
    _, out, _ = project.main()
    assert project.calls() == ["a", "b", "c"]
    assert out.count("(code changed: ") == 3 and "b.py)" in out


def test_option_change_reruns_and_reaches_the_context(project):
    project.main()
    project.calls()
    project.main("--option", "reps=10")
    assert project.calls() == ["a", "b", "c"]
    assert project.run_log()["options"] == {"reps": 10}


def test_force_reruns_unchanged_steps(project):
    project.main()
    project.calls()
    project.main("--force")
    assert project.calls() == ["a", "b", "c"]


def test_code_files_cover_the_analysis_package_and_step_modules(project):
    files = REAL_CODE_FILES(pipeline.load_steps(project.steps))
    assert Path(pipeline.__file__).resolve() in files
    assert (project.package_dir / "b.py").resolve() in files


# --------------------------------------------------------------------------- failures


def test_unexpected_error_prints_one_line_and_stops(project):
    project.add_step("d", [], action="raise ValueError('boom in row 7')")
    project.steps.insert(1, project.steps.pop())  # a, d, b, c
    code, out, err = project.main()
    assert code == 1
    assert err.splitlines() == ["run_all: step 'd' failed: ValueError: boom in row 7"]
    assert "Traceback" not in err + out
    assert project.calls() == ["a", "d"]
    log = project.run_log()
    assert log["status"] == "failed"
    statuses = {s["name"]: s["status"] for s in log["steps"]}
    assert statuses == {"a": "ran", "d": "failed", "b": "not run", "c": "not run"}
    assert log["steps"][1]["error"] == "boom in row 7"
    assert not (project.output / "manifest.csv").exists()


def test_project_error_prints_just_its_message(project):
    action = ("from analysis.runner.pipeline import PipelineError; "
              "raise PipelineError('bad file x.csv')")
    project.add_step("d", [], action=action)
    code, _, err = project.main()
    assert code == 1
    assert err.splitlines() == ["run_all: step 'd' failed: bad file x.csv"]


def test_debug_shows_the_traceback(project):
    project.add_step("d", [], action="raise ValueError('boom')")
    code, _, err = project.main("--debug")
    assert code == 1
    assert "Traceback" in err
    assert err.splitlines()[-1] == "run_all: step 'd' failed: ValueError: boom"


def test_failed_step_reruns_next_time(project):
    project.add_step("d", [], action="raise ValueError('boom')")
    project.main()
    project.calls()
    project.main()
    assert project.calls() == ["d"]


def test_missing_module_names_the_step_and_module(project):
    project.steps.append(("ghost", f"{project.package}.ghost"))
    code, _, err = project.main()
    assert code == 1
    assert err.splitlines() == [f"run_all: step 'ghost': module {project.package}.ghost not found"]


def test_declared_output_not_written_is_a_failure(project):
    project.add_step("d", [], action="return")
    code, _, err = project.main()
    assert code == 1
    assert "step 'd' failed: declared output" in err
    assert "d.txt was not written" in err


def test_keyboard_interrupt_exits_130(project):
    project.add_step("d", [], action="raise KeyboardInterrupt")
    code, _, err = project.main()
    assert code == 130
    assert "interrupted" in err
    assert project.run_log()["status"] == "interrupted"


def test_missing_config_is_a_usage_error(project):
    project.config.unlink()
    code, _, err = project.main()
    assert code == 2
    assert "study configuration not found" in err


# --------------------------------------------------------------------------- run log


def test_run_log_records_environment_and_steps(project):
    project.main()
    log = project.run_log()
    for key in ("git", "python", "packages", "platform", "cpu_count", "seed", "started_at"):
        assert key in log
    assert log["seed"] == config.SEED
    assert log["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert log["packages"]["numpy"]  # read from metadata
    assert log["study_config"]["path"] == str(project.config.resolve())
    assert log["study_config"]["sha256"] == hashlib.sha256(project.config.read_bytes()).hexdigest()
    assert [(s["name"], s["status"]) for s in log["steps"]] == [
        ("a", "ran"),
        ("b", "ran"),
        ("c", "ran"),
    ]
    assert all(s["duration_s"] >= 0 for s in log["steps"])
    markdown = (project.output / "logs" / "run_log.md").read_text()
    assert "| b | ran |" in markdown
    assert "numpy" in markdown


# --------------------------------------------------------------------------- manifest


def test_manifest_lists_generated_files_but_not_logs(project):
    (project.output).mkdir(parents=True)
    (project.output / "README.md").write_text("hand written")
    project.main()
    rows = (project.output / "manifest.csv").read_text().splitlines()
    assert rows[0] == "path,size,sha256"
    paths = [row.split(",")[0] for row in rows[1:]]
    assert paths == ["data_clean/a.csv", "output/a.txt", "output/b.txt", "output/c.txt"]
    b_row = rows[1:][2].split(",")
    content = (project.output / "b.txt").read_bytes()
    assert b_row[1:] == [str(len(content)), hashlib.sha256(content).hexdigest()]


def test_build_manifest_frame(tmp_path):
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "sub" / "x.csv").write_bytes(b"1,2\n")
    (tmp_path / "out" / "a.txt").write_bytes(b"")
    (tmp_path / "out" / ".hidden.tmp").write_bytes(b"temp")
    (tmp_path / "out" / "logs").mkdir()
    (tmp_path / "out" / "logs" / "run_log.json").write_text("{}")
    frame = build_manifest([tmp_path / "out"], tmp_path, exclude=[tmp_path / "out" / "logs"])
    assert list(frame.columns) == ["path", "size", "sha256"]
    assert frame["path"].tolist() == ["out/a.txt", "out/sub/x.csv"]
    assert frame["size"].tolist() == [0, 4]
    assert frame["sha256"].iloc[1] == hashlib.sha256(b"1,2\n").hexdigest()


def test_compare_manifests_statuses(tmp_path):
    import pandas as pd

    old = pd.DataFrame({"path": ["a", "b", "c"], "size": [1, 2, 3], "sha256": ["h1", "h2", "h3"]})
    new = pd.DataFrame({"path": ["a", "b", "d"], "size": [1, 2, 4], "sha256": ["h1", "hX", "h4"]})
    diff = compare_manifests(old, new)
    assert diff[["path", "status"]].values.tolist() == [
        ["b", "changed"],
        ["c", "missing"],
        ["d", "extra"],
    ]
    assert compare_manifests(old, old).empty


def test_diff_entries_flags_a_size_only_difference(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    entries = manifest_entries([tmp_path], tmp_path)
    (tmp_path / "f").write_bytes(b"abd")
    changed = manifest_entries([tmp_path], tmp_path)
    assert [row["status"] for row in diff_entries(entries, changed)] == ["changed"]
    assert diff_entries(entries, entries) == []


# --------------------------------------------------------------------------- verify


def test_verify_passes_on_a_faithful_tree(project):
    project.main()
    code, out, _ = project.main("--verify")
    assert code == 0
    assert "verify: 4 outputs identical" in out
    assert read_manifest(project.output / "manifest.csv")["path"].tolist()[0] == "data_clean/a.csv"


def test_verify_catches_a_one_byte_edit_and_names_the_file(project):
    project.main()
    target = project.output / "b.txt"
    data = bytearray(target.read_bytes())
    data[0] ^= 1  # same size, one byte different
    target.write_bytes(bytes(data))
    (project.output / "stale.txt").write_text("left over")
    (project.data_clean / "a.csv").unlink()
    code, out, _ = project.main("--verify")
    assert code == 1
    assert "changed  output/b.txt" in out
    assert "extra    output/stale.txt" in out
    assert "missing  data_clean/a.csv" in out
    report = (project.output / "logs" / "verify.csv").read_text().splitlines()
    assert report[0].startswith("path,status")
    assert sorted(line.split(",")[1] for line in report[1:]) == ["changed", "extra", "missing"]


# --------------------------------------------------------------------------- CLI helpers


def test_default_and_other_study_paths(tmp_path):
    assert pipeline.study_paths(config.DEFAULT_STUDY_CONFIG, None) == Paths.default()
    other = pipeline.study_paths(tmp_path / "sweden.toml", None)
    assert other.output == config.OUTPUT / "studies" / "sweden" / "output"
    assert other.data_clean == config.OUTPUT / "studies" / "sweden" / "data_clean"
    rooted = pipeline.study_paths(tmp_path / "sweden.toml", tmp_path / "elsewhere")
    assert rooted.output == (tmp_path / "elsewhere" / "output").resolve()


def test_parse_option_reads_toml_values():
    assert pipeline.parse_option("reps=200") == ("reps", 200)
    assert pipeline.parse_option("flag=true") == ("flag", True)
    assert pipeline.parse_option("label=plain words") == ("label", "plain words")


# --------------------------------------------------------------------------- steps started ahead


def pid_action(project: FakeProject, name: str) -> str:
    """Fake-step code that records the id of the process running the step."""
    return (f"import os; Path({str(project.tmp / ('pid_' + name))!r})"
            ".write_text(str(os.getpid()))")


@pytest.fixture
def ahead_project(project) -> FakeProject:
    """a, b, c, then d (reads raw_c only), which may start right after a."""
    project.add_step("d", [str(project.raw_c)], action=pid_action(project, "d"))
    project.ahead = {"d": "a"}
    return project


def test_step_started_ahead_runs_in_another_process_and_reports_in_order(ahead_project):
    code, out, err = ahead_project.main()
    assert code == 0, err
    assert sorted(ahead_project.calls()) == ["a", "b", "c", "d"]
    assert int((ahead_project.tmp / "pid_d").read_text()) != os.getpid()
    lines = [line for line in out.splitlines() if line.startswith("[")]
    assert [line.split(" ... ")[0] for line in lines] == ["[1/4] a", "[2/4] b", "[3/4] c",
                                                          "[4/4] d"]
    assert lines[3].endswith("(no earlier run; run beside b, c)")
    assert (ahead_project.output / "d.txt").read_text() == "raw c;d;"
    steps = ahead_project.run_log()["steps"]
    assert {s["name"]: s["status"] for s in steps} == {
        "a": "ran", "b": "ran", "c": "ran", "d": "ran"}
    assert [s["beside"] for s in steps] == [None, None, None, ["b", "c"]]
    log_md = (ahead_project.output / "logs" / "run_log.md").read_text()
    assert "| d | ran |" in log_md and "no earlier run; run beside b, c |" in log_md
    code, out, _ = ahead_project.main()  # its stamp was recorded: nothing reruns
    assert code == 0 and ahead_project.calls() == []
    assert "[4/4] d ... skipped (unchanged)" in out


def test_sequential_runs_the_same_step_in_turn_with_the_same_outputs(ahead_project):
    ahead_project.main()
    ahead_project.calls()
    first = {p.name: p.read_bytes() for p in ahead_project.output.glob("*.txt")}
    code, out, err = ahead_project.main("--force", "--sequential")
    assert code == 0, err
    assert ahead_project.calls() == ["a", "b", "c", "d"]  # each in its turn
    assert int((ahead_project.tmp / "pid_d").read_text()) == os.getpid()
    assert "run beside" not in out
    assert {p.name: p.read_bytes() for p in ahead_project.output.glob("*.txt")} == first


def test_failure_of_a_step_run_ahead_is_reported_at_its_turn(project):
    project.add_step("d", [str(project.raw_c)], action="raise ValueError('boom in row 7')")
    project.ahead = {"d": "a"}
    code, out, err = project.main()
    assert code == 1
    assert err.splitlines() == ["run_all: step 'd' failed: ValueError: boom in row 7"]
    assert "[4/4] d ... FAILED after" in out
    log = project.run_log()
    assert {s["name"]: s["status"] for s in log["steps"]} == {
        "a": "ran", "b": "ran", "c": "ran", "d": "failed"}
    assert log["steps"][3]["error"] == "boom in row 7"
    assert log["steps"][3]["error_type"] == "builtins.ValueError"
    assert not (project.output / "manifest.csv").exists()
    project.calls()
    code, _, err = project.main("--debug")
    assert project.calls() == ["d"]  # only the failed step reruns
    assert code == 1 and "Traceback" in err and "ValueError: boom in row 7" in err


def test_failure_beside_a_step_run_ahead_keeps_that_steps_finished_work(ahead_project):
    ahead_project.add_step("b2", ["output:a.txt"], action="raise ValueError('boom')")
    ahead_project.steps.insert(2, ahead_project.steps.pop())  # a, b, b2, c, d
    code, _, err = ahead_project.main()
    assert code == 1
    assert err.splitlines() == ["run_all: step 'b2' failed: ValueError: boom"]
    statuses = {s["name"]: s["status"] for s in ahead_project.run_log()["steps"]}
    assert statuses == {"a": "ran", "b": "ran", "b2": "failed", "c": "not run", "d": "ran"}
    assert (ahead_project.output / "d.txt").read_text() == "raw c;d;"
    ahead_project.calls()
    ahead_project.main()
    assert "d" not in ahead_project.calls()  # its stamp was kept


def test_interrupt_of_a_step_run_ahead_exits_130(project):
    project.add_step("d", [str(project.raw_c)], action="raise KeyboardInterrupt")
    project.ahead = {"d": "a"}
    code, _, err = project.main()
    assert code == 130
    assert "interrupted during step 'd'" in err
    assert project.run_log()["status"] == "interrupted"


def test_launch_points_follow_the_selection():
    registry = pipeline.load_steps([(name, f"m.{name}") for name in "abcd"])
    steps = {step.name: step for step in registry}
    ahead = {"d": "a"}

    def points(*names):
        return pipeline.launch_points(registry, [steps[n] for n in names], ahead)
    assert points("a", "b", "c", "d") == {0: [3]}  # forked right after a
    assert points("b", "c", "d") == {-1: [2]}  # --from b: at once
    assert points("a", "d") == {}  # nothing to run beside it
    assert points("d") == {}
    assert points("a", "b", "c") == {}


def test_ahead_must_name_registered_steps_in_order():
    registry = pipeline.load_steps([(name, f"m.{name}") for name in "abc"])
    assert pipeline.load_ahead(registry, {"c": "a"}) == {"c": "a"}
    with pytest.raises(pipeline.PipelineError, match="not registered"):
        pipeline.load_ahead(registry, {"z": "a"})
    with pytest.raises(pipeline.PipelineError, match="comes later"):
        pipeline.load_ahead(registry, {"a": "c"})


def overlaps(first: Path, second: Path) -> bool:
    """The same file, or one inside the other (a folder input covers its files)."""
    return first == second or first in second.parents or second in first.parents


def test_registry_ahead_steps_share_no_file_with_the_steps_they_run_beside(tmp_path):
    """For the real registry: the steps between A and S write none of S's inputs and
    read or write none of S's outputs, as declared by inputs(ctx) and outputs(ctx)."""
    from analysis.context import Context
    from analysis.tasks import AHEAD

    registry = pipeline.load_steps()
    ctx = Context(paths=Paths.under(tmp_path), study_config_path=config.DEFAULT_STUDY_CONFIG,
                  model_spec_path=config.DEFAULT_MODEL_SPEC, seed=config.SEED, options={})
    names = [step.name for step in registry]
    declared = {}
    for step in registry:
        module = pipeline.import_step(step)
        declared[step.name] = ([Path(p) for p in module.inputs(ctx)],
                               [Path(p) for p in module.outputs(ctx)])
    assert pipeline.load_ahead(registry) == AHEAD
    for name, after in AHEAD.items():
        s_in, s_out = declared[name]
        for between in names[names.index(after) + 1:names.index(name)]:
            b_in, b_out = declared[between]
            clashes = [(b, s) for b in b_out for s in [*s_in, *s_out] if overlaps(b, s)]
            clashes += [(b, s) for b in b_in for s in s_out if overlaps(b, s)]
            assert not clashes, f"{between} and {name} share {clashes}"
