"""Tests of the runner (analysis.runner: pytask under run_all.py) on fake steps
(tests/fake_steps.py): which steps run, in which order, and which are skipped.

The steps are fake modules written into a temporary package per test, so these tests do
not depend on the real steps; tests/test_pipeline_runs.py has the failures, the run log,
the manifest, --verify and the checks of every run; the real steps are exercised in
tests/test_runner_real.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis import code_graph, config
from analysis.runner import steps

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
