"""Tests of the runner (analysis.runner: pytask under run_all.py) on fake steps.

The steps are fake modules written into a temporary package per test, so these tests do
not depend on the real steps. Each fake step appends its name to a calls file when it
runs, reads its inputs and writes ``<output>/<name>.txt`` (step ``a`` also writes a file
into data_clean). The real steps are exercised in tests/test_runner_real.py.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from analysis import code_graph, config, io
from analysis.context import Paths, parse_option
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


@pytest.fixture
def project(tmp_path, monkeypatch, capsys) -> FakeProject:
    fake = FakeProject(tmp_path, monkeypatch, capsys)
    fake.add_chain()
    return fake


# --------------------------------------------------------------------------- order and selection


def test_runs_every_step_and_reports_each(project):
    code, out, err = project.main()
    assert code == 0, err
    assert sorted(project.calls()) == ["a", "b", "c"]
    assert "[1/3] a: ran in" in out and "(no earlier run)" in out
    assert (project.output / "b.txt").read_text() == "raw a;a;b;"
    assert err == ""


def test_only_runs_the_named_steps_and_the_out_of_date_steps_they_depend_on(project):
    code, out, _ = project.main("--only", "b")
    assert code == 0
    assert project.calls() == ["a", "b"]  # b reads a's output: a is out of date
    assert "a: ran in" in out and "not selected, but a selected step depends on it" in out
    assert project.statuses()["c"] == "not selected"
    code, _, _ = project.main("--only", "b")
    assert code == 0 and project.calls() == []


def test_steps_left_out_of_date_by_a_selection_are_named(project):
    """After --only a, step b reads a new a.txt it has not seen: the run says so (line,
    warning, run log); c, whose inputs did not change, is not named."""
    project.add_step("d", ["output:b.txt"])
    project.main()
    project.raw_a.write_text("raw a, edited;")
    code, out, err = project.main("--only", "a")
    assert code == 0 and project.calls()[-1] == "a"
    assert re.search(r"b: not selected, now out of date \(inputs changed: \S*/output/a.txt\)"
                     r": run it to update", out)
    assert "c: not selected\n" in out + "\n" and "d: not selected\n" in out + "\n"
    assert "warning: out of date, not selected: b (" in err
    log = json.loads((project.output / "logs" / "run_log.json").read_text())
    reasons = {s["name"]: s["reason"] for s in log["steps"]}
    assert reasons["a"].endswith("raw_a.txt") and reasons["b"].endswith("output/a.txt")
    assert reasons["c"] is None and reasons["d"] is None
    code, out, err = project.main()  # the whole pipeline brings them up to date
    assert project.calls() == ["b", "d"] and "warning" not in err  # d: b wrote anew


def test_from_selects_the_named_step_and_every_later_one(project):
    project.main()
    project.calls()
    code, _, _ = project.main("--from", "b", "--force")
    assert code == 0
    assert sorted(project.calls()) == ["b", "c"]


def test_unknown_step_is_a_usage_error_with_close_matches(project):
    code, _, err = project.main("--only", "bb")
    assert code == 2
    assert "unknown step 'bb' (did you mean" in err
    assert project.calls() == []


def test_list_shows_descriptions(project):
    project.add_step("d", [], description="Draw the figures")
    project.steps.append(steps.Step("ghost", f"{project.package}.ghost"))
    code, out, _ = project.main("--list")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == ["a", "b", "c", "d", "ghost"]
    assert "Draw the figures" in lines[3]
    assert "not found" in lines[4]
    assert project.calls() == []


def test_a_run_first_step_starts_before_the_other_ready_steps(project):
    """A step checking the input (RUN_FIRST) fails before a step that needs nothing of it
    has written anything."""
    project.add_step("check", [str(project.raw_c)], action="raise ValueError('bad file')",
                     flags="RUN_FIRST = True")
    code, _, err = project.main()
    assert code == 1 and "step 'check' failed" in err
    assert project.calls() == ["check"]


def test_a_run_last_step_reads_a_folder_as_the_others_left_it(project):
    """A RUN_LAST step's folder input is the folder's files when it runs (after the others,
    though registered first), not the steps writing there: it reruns when a file there
    changes, and --only selects it alone."""
    seen = project.data_clean / "seen.csv"
    write = f"seen = Path({str(seen)!r}); seen.parent.mkdir(parents=True, exist_ok=True); "
    project.steps.clear()
    project.add_step("check", [str(project.data_clean)], flags="RUN_LAST = True")
    project.add_step("a", [str(project.raw_a)], clean=True, action=write + "seen.write_text("
                     "Path(INPUTS[0]).read_text())")
    project.add_step("c", [str(project.raw_c)])
    assert project.main()[0] == 0
    assert project.calls()[-1] == "check"
    assert project.main()[0] == 0 and project.calls() == []
    project.raw_a.write_text("raw a, revised;")
    assert project.main()[0] == 0 and sorted(project.calls()) == ["a", "check"]
    project.raw_a.write_text("raw a, revised again;")
    assert project.main("--only", "check")[0] == 0
    assert project.calls() == []  # a is not its predecessor: the folder is as it was


# --------------------------------------------------------------------------- skipping


def test_rerun_with_nothing_changed_skips_every_step(project):
    project.main()
    project.calls()
    code, out, _ = project.main()
    assert code == 0
    assert project.calls() == []
    assert out.count("skipped (unchanged)") == 3
    assert set(project.statuses().values()) == {"skipped"}


def test_input_change_reruns_the_step_and_those_reading_its_outputs(project):
    project.main()
    project.calls()
    project.raw_a.write_text("raw a, revised;")
    _, out, _ = project.main()
    assert project.calls() == ["a", "b"]  # c does not read a's or b's files
    assert "(inputs changed: " in out and "raw_a.txt)" in out
    project.raw_c.write_text("raw c, revised;")
    project.main()
    assert project.calls() == ["c"]


def test_identical_upstream_output_lets_downstream_skip(project):
    project.main()
    project.calls()
    (project.output / "a.txt").unlink()  # a reruns and rewrites the same bytes
    _, out, _ = project.main()
    assert project.calls() == ["a"]
    assert "outputs changed" in out


def test_modified_output_reruns_its_step(project):
    project.main()
    project.calls()
    (project.output / "c.txt").write_text("tampered")
    project.main()
    assert project.calls() == ["c"]
    assert (project.output / "c.txt").read_text() == "raw c;c;"


def test_config_or_model_spec_change_reruns_every_step(project):
    project.main()
    project.calls()
    project.config.write_text("name = 'other'\n")
    _, out, _ = project.main()
    assert sorted(project.calls()) == ["a", "b", "c"]
    assert out.count("(settings changed: ") == 3
    project.models.write_text("[models]\nx = 1\n")
    project.main()
    assert sorted(project.calls()) == ["a", "b", "c"]


def test_code_change_reruns_exactly_the_steps_that_import_it(project):
    project.add_step("d", [], action=f"import {project.package}.shared")
    project.main()
    project.calls()
    shared = project.package_dir / "shared.py"
    shared.write_text("VALUE = 2\n")
    _, out, _ = project.main()
    assert project.calls() == ["d"]
    assert f"code changed: {shared}" in out
    module = project.package_dir / "b.py"
    module.write_text(module.read_text() + "\n# a comment changes the code hash\n")
    project.main()
    assert project.calls() == ["b"]


def test_option_change_reruns_and_reaches_the_context(project):
    project.main()
    project.calls()
    project.main("--option", "bootstrap_reps=10")
    assert sorted(project.calls()) == ["a", "b", "c"]
    assert project.run_log()["options"] == {"bootstrap_reps": 10}


def test_force_reruns_the_selected_steps_only(project):
    project.main()
    project.calls()
    project.main("--force")
    assert sorted(project.calls()) == ["a", "b", "c"]
    project.main("--only", "b", "--force")
    assert project.calls() == ["b"]  # a is up to date


def test_state_lives_with_the_outputs_of_each_run(project, tmp_path):
    outside = [Path.cwd() / "pytask.lock", config.ROOT / "pytask.lock"]
    before = [p.stat().st_mtime_ns if p.exists() else None for p in outside]
    project.main()
    other = tmp_path / "other"
    project.main("--output-root", str(other))  # the last --output-root wins
    for root in (project.root, other):
        assert (root / "output" / "logs" / "pytask" / "pytask.lock").is_file()
    assert sorted(project.calls()) == ["a", "a", "b", "b", "c", "c"]
    assert [p.stat().st_mtime_ns if p.exists() else None for p in outside] == before


def test_import_analysis_resolves_relative_imports(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "__init__.py").write_text("from . import mod\n")
    (package / "sub" / "mod.py").write_text(
        "import os\nfrom ..other import thing\nfrom .sibling import x\n"
        "def f():\n    import pkg.lazy\n")
    assert code_graph.imported_modules(package / "sub" / "mod.py", "pkg.sub.mod", "pkg") == {
        "pkg.other", "pkg.other.thing", "pkg.sub.sibling", "pkg.sub.sibling.x", "pkg.lazy"}
    assert code_graph.imported_modules(package / "sub" / "__init__.py", "pkg.sub", "pkg") == {
        "pkg.sub", "pkg.sub.mod"}


def test_code_files_cover_the_stage_modules_a_step_calls():
    """A step's code is every module it imports, the stage modules its run() imports
    included: a change there reruns the step."""
    package = config.ROOT / "analysis"
    estimate = code_graph.code_files("analysis.tasks.estimate", {})
    tables = code_graph.code_files("analysis.tasks.tables", {})
    assert package / "models" / "estimate.py" in estimate
    assert package / "exhibits" / "latex.py" in tables


def test_the_import_analysis_of_an_unchanged_source_is_reused(tmp_path):
    """source_imports: the stored imports of a source with the same SHA-256 are reused (no
    parse: a stored answer that parsing would not give shows it), a changed source is
    parsed again and its entry replaced."""
    path = tmp_path / "mod.py"
    path.write_text("import pkg.a\n")
    stored: dict = {}
    assert code_graph.source_imports(path, "pkg.mod", "pkg", stored) == {"pkg.a"}
    digest = stored["pkg.mod"][0]
    stored["pkg.mod"] = (digest, ["pkg.only_in_the_store"])
    assert code_graph.source_imports(path, "pkg.mod", "pkg", stored) == {
        "pkg.only_in_the_store"}
    path.write_text("import pkg.b\n")
    assert code_graph.source_imports(path, "pkg.mod", "pkg", stored) == {"pkg.b"}
    assert stored["pkg.mod"][0] != digest


def test_a_rerun_reuses_the_stored_import_analysis(project):
    project.main()
    stored = project.output / "logs" / "pytask" / "imports.json"
    modules = json.loads(stored.read_text())
    assert {f"{project.package}.a", f"{project.package}.b"} <= set(modules)
    (project.package_dir / "b.py").write_text(
        (project.package_dir / "b.py").read_text() + "\nfrom . import shared\n")
    project.main()
    assert f"{project.package}.shared" in json.loads(stored.read_text())[
        f"{project.package}.b"][1]
    assert "b" in project.calls()  # its code changed


# --------------------------------------------------------------------------- failures


def test_unexpected_error_prints_one_line_and_stops(project):
    project.add_step("d", ["output:a.txt"], action="raise ValueError('boom in row 7')")
    project.add_step("e", ["output:d.txt"])
    code, out, err = project.main()
    assert code == 1
    assert err.splitlines() == ["run_all: step 'd' failed: ValueError: boom in row 7"]
    assert "Traceback" not in err + out
    statuses = project.statuses()
    assert statuses["a"] == "ran" and statuses["d"] == "failed" and statuses["e"] == "not run"
    assert project.run_log()["status"] == "failed"
    assert [s["error"] for s in project.run_log()["steps"] if s["name"] == "d"] == [
        "boom in row 7"]
    assert not (project.output / "manifest.csv").exists()


def test_project_error_prints_its_message_and_what_to_do(project):
    action = "from analysis.errors import DataError; raise DataError('bad file x.csv')"
    project.add_step("d", [], action=action)
    code, _, err = project.main()
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "run_all: step 'd' failed: bad file x.csv"
    assert lines[1].startswith("  What to do: check the data file named")


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


def test_missing_module_is_reported_before_any_step_runs(project):
    project.steps.append(steps.Step("ghost", f"{project.package}.ghost"))
    code, _, err = project.main()
    assert code == 1
    assert err.splitlines()[0].startswith("run_all: step 'ghost' failed: ModuleNotFoundError")
    assert project.calls() == []


def test_declared_output_not_written_is_a_failure(project):
    project.add_step("d", [], action="return")
    code, _, err = project.main()
    assert code == 1
    assert "step 'd' failed" in err and "d.txt" in err


def test_keyboard_interrupt_exits_130(project):
    project.add_step("d", [], action="raise KeyboardInterrupt")
    code, _, _ = project.main()
    assert code == 130
    assert project.run_log()["status"] == "interrupted"


def test_missing_config_is_a_usage_error(project):
    project.config.unlink()
    code, _, err = project.main()
    assert code == 2
    assert "study configuration not found" in err


# --------------------------------------------------------------------------- typos


@pytest.mark.parametrize(("args", "message"), [
    (["--option", "foo=bar"], "--option foo=bar: unknown option 'foo' (options: "),
    (["--option", "weight=true"], "unknown option 'weight'; did you mean weights?"),
    (["--option", "weights=tru"], "--option weights=tru: 'weights' must be true, false, none, "
                                  "pweight or fweight"),
    (["--option", "bootstrap_reps=1"], "'bootstrap_reps' must be an integer >= 2"),
    (["--option", "n_jobs=0"], "'n_jobs' must be an integer >= -1, not 0"),
    (["--forc"], "unknown argument --forc (did you mean --force"),
])
def test_typos_stop_before_any_step_with_close_matches(project, args, message):
    code, _, err = project.main(*args)
    assert code == 2
    assert message in err
    assert project.calls() == []
    assert not project.output.exists()


# --------------------------------------------------------------------------- run log


def test_run_log_records_environment_and_steps(project):
    project.main()
    log = project.run_log()
    for key in ("git", "python", "packages", "platform", "cpu_count", "seed", "started_at"):
        assert key in log
    assert log["seed"] == config.SEED
    assert log["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert log["packages"]["numpy"] and log["packages"]["pytask"]
    assert log["study_config"]["path"] == str(project.config.resolve())
    assert log["study_config"]["sha256"] == hashlib.sha256(project.config.read_bytes()).hexdigest()
    assert [(s["name"], s["status"], s["reason"]) for s in log["steps"]] == [
        ("a", "ran", "no earlier run"), ("b", "ran", "no earlier run"),
        ("c", "ran", "no earlier run")]
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


def test_manifests_and_their_comparison(tmp_path):
    folders = {}
    for name, files in (("1", {"a": "1", "b": "2", "c": "3"}),
                        ("2", {"a": "1", "b": "X", "d": "4", ".hidden.tmp": "t"})):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for file, text in files.items():
            (folders[name] / file).write_text(text)
    old, new = (io.manifest([folders[n]], tmp_path) for n in ("1", "2"))
    assert old["1/b"] == (1, hashlib.sha256(b"2").hexdigest())
    assert "2/.hidden.tmp" not in new
    renamed = {k.replace("2/", "1/"): v for k, v in new.items()}
    assert [(r["path"], r["status"]) for r in io.compare_manifests(old, renamed)] == [
        ("1/b", "changed"), ("1/c", "missing"), ("1/d", "extra")]
    assert io.compare_manifests(old, old) == []


# --------------------------------------------------------------------------- verify


def test_verify_passes_on_a_faithful_tree(project):
    project.main()
    code, out, _ = project.main("--verify")
    assert code == 0
    assert "verify: 4 outputs identical" in out


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
    """Another study's folder is named by its [study] name (slugged), or by its file's stem
    and a hash of its full path when it has none: two study.toml never share a folder."""
    assert Paths.for_study(config.DEFAULT_STUDY_CONFIG, None) == Paths.default()
    named = tmp_path / "a" / "study.toml"
    named.parent.mkdir()
    named.write_text("[study]\nname = 'Sweden 2012'\n")
    other = Paths.for_study(named, None)
    assert other.output == config.OUTPUT / "studies" / "sweden-2012" / "output"
    assert other.data_clean == config.OUTPUT / "studies" / "sweden-2012" / "data_clean"
    unnamed = [tmp_path / folder / "study.toml" for folder in ("b", "c")]
    folders = {Paths.for_study(path, None).output.parent.name for path in unnamed}
    assert len(folders) == 2 and all(name.startswith("study-") for name in folders)
    rooted = Paths.for_study(tmp_path / "sweden.toml", tmp_path / "elsewhere")
    assert rooted.output == (tmp_path / "elsewhere" / "output").resolve()


def test_parse_option_reads_toml_values():
    assert parse_option("reps=200") == ("reps", 200)
    assert parse_option("flag=true") == ("flag", True)
    assert parse_option("label=plain words") == ("label", "plain words")


def test_building_the_real_tasks_imports_no_stage_code():
    """Every run builds every task: the step modules' top level stays light, so a rerun with
    nothing changed does not pay for pandas, statsmodels, matplotlib or scipy (issue 15)."""
    heavy = "{'pandas', 'numpy', 'statsmodels', 'matplotlib', 'scipy', 'stargazer', 'docx'}"
    probe = ("import sys; from analysis import config; from analysis.context import Context, "
             "Paths; from analysis.runner.steps import build_tasks, registry; "
             "build_tasks(Context(Paths.default(), config.DEFAULT_STUDY_CONFIG, "
             f"config.DEFAULT_MODEL_SPEC), registry(), set()); print(sorted({heavy} & "
             "{m.split('.')[0] for m in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=config.ROOT, capture_output=True,
                          text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------- checks of every run (issue 20)


UNREAD = """
def unread(ctx):
    return [ctx.paths.logs, ctx.paths.output / "manifest.csv", ctx.paths.output / "check.txt"]
"""


def test_an_every_run_step_runs_whatever_was_selected_skipped_or_failed(project):
    """The disclosure check's contract: selected with any --only; rerun whenever a file it
    checks changed (also by hand, with no step run), not when nothing did (what it does
    not read, such as the run log, does not count); run after another step failed once
    something was written."""
    project.add_step("check", [str(project.output)],
                     flags="RUN_LAST = True\nEVERY_RUN = True\n" + UNREAD)
    assert project.main()[0] == 0 and project.calls()[-1] == "check"
    code, out, _ = project.main()
    assert code == 0 and project.calls() == []
    assert "check: skipped (unchanged)" in out
    (project.output / "b.txt").write_text("edited by hand")
    code, out, _ = project.main("--only", "c")
    assert code == 0 and project.calls() == ["check"]
    assert re.search(r"check: ran in \S+ s \(inputs changed: \S*output\)", out)
    assert project.main("--only", "c")[0] == 0 and project.calls() == []
    assert project.statuses()["check"] == "skipped"  # selected, though not named
    project.add_step("d", ["output:b.txt"], action="raise ValueError('late failure')")
    project.raw_a.write_text("raw a, revised;")
    code, _, err = project.main()
    assert code == 1 and "step 'd' failed" in err
    assert project.calls() == ["a", "b", "d", "check"]
    assert project.statuses()["check"] == "ran"


def test_a_step_that_names_the_commit_reruns_when_the_git_state_moves(project, monkeypatch):
    """PROVENANCE (the replication report): a new commit or uncommitted changes rerun it,
    and only it, so its page never names an older commit."""
    state = {"available": True, "commit": "a" * 40, "dirty": False}
    monkeypatch.setattr(steps, "git_state", lambda root: dict(state))
    project.add_step("report", ["output:b.txt"], flags="PROVENANCE = True")
    assert project.main()[0] == 0 and "report" in project.calls()
    assert project.main()[0] == 0 and project.calls() == []
    state["dirty"] = True
    code, out, _ = project.main()
    assert code == 0 and project.calls() == ["report"] and "git state changed" in out


def test_a_failing_unread_stops_the_run_before_any_step(project):
    """unread(ctx) is declared as inputs() and outputs() are: its failure names the step."""
    project.add_step("check", [str(project.output)],
                     flags="def unread(ctx):\n    raise ValueError('no such folder')")
    code, _, err = project.main()
    assert code == 1 and "step 'check' failed: ValueError: no such folder" in err
    assert project.calls() == []


def test_a_step_check_runs_before_any_step(project):
    project.add_step("typo", [], flags="def check(ctx):\n    raise ValueError('no such key')")
    code, _, err = project.main()
    assert code == 1 and "step 'typo' failed: ValueError: no such key" in err
    assert project.calls() == []


def test_outputs_no_step_makes_any_more_are_removed_after_a_success(project):
    """A step dropped from the registry: its output goes when the next run succeeds (and is
    listed in the run log), stays when it fails; a file edited since, a README and a file
    the package never wrote stay."""
    project.add_step("d", [str(project.raw_c)], clean=True)
    project.add_step("e", [str(project.raw_c)])
    assert project.main()[0] == 0
    readme, own = project.output / "README.md", project.output / "mine.txt"
    readme.write_text("hand-written\n")
    own.write_text("not the package's\n")
    (project.output / "e.txt").write_text("edited by hand\n")
    project.steps[:] = [s for s in project.steps if s.name not in ("d", "e")]
    project.add_step("f", [], action="raise ValueError('fails')")
    assert project.main()[0] == 1
    assert (project.output / "d.txt").is_file() and (project.data_clean / "d.csv").is_file()
    project.steps.pop()
    assert project.main()[0] == 0
    assert not (project.output / "d.txt").exists() and not (project.data_clean / "d.csv").exists()
    assert sorted(Path(p).name for p in project.run_log()["removed_stale_outputs"]) == [
        "d.csv", "d.txt"]
    assert readme.is_file() and own.is_file() and (project.output / "e.txt").is_file()
    assert "d.txt" not in (project.output / "manifest.csv").read_text()
