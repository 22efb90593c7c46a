"""Tests of the runner (analysis.runner) on fake steps (tests/fake_steps.py): failures,
typos, the run log, the manifest, --verify, the command line's helpers and the checks that
run on every run (issue 20). Order, selection and skipping: tests/test_pipeline.py.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import config, io
from analysis.context import Paths, parse_option
from analysis.runner import steps

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
