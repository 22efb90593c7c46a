"""The policies of the output tree: whose it is, what it may never touch, what it holds.

A run writes into two folders, ``data_clean/`` and ``output/`` (:class:`Paths`), and
nowhere else. Before any step:

* **Ownership** (:func:`claim`): ``<output>/logs/study_owner.json`` records the study whose
  outputs the folders hold (its ``[study] name``, or the configuration's full path when it
  has none). A run of another study refuses to write there, so two studies never
  overwrite each other. ``run_all.py --config`` runs go to ``output/studies/<name>/``,
  named by :func:`study_folder_name` after that identity, not after the file's name.
* **Inputs are never written** (:func:`input_problems`): no file a step reads may be
  written by a step (other than an earlier one: the pipeline at work), lie in
  ``data_clean/`` or below an output root given on the command line (``--output-root`` at
  or above the data folder); the files the user names (study configuration, survey file,
  model specification, file options) may not lie in ``output/`` either. Symbolic links are
  followed both ways.

After every successful run:

* **Stale outputs** (:func:`stale_outputs`): files the package wrote in an earlier run
  (``pytask.lock``, with their SHA-256) that no step declares any more are removed, so the
  tree, ``manifest.csv`` and ``--verify`` show what this run makes. A file whose content
  changed since the package wrote it, a README, the logs, another study's folder and
  anything outside the two folders are never removed. The files are set aside (moved into
  a hidden folder) before the steps run and deleted only when the run succeeds; a failed or
  interrupted run puts them back (:class:`SetAside`).
* :func:`manifest`: the generated files of the run, with size and SHA-256.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analysis import io
from analysis.context import Context, Paths, study_name
from analysis.errors import OutputError

OWNER_FILE = "study_owner.json"
#: The hidden folder (in ``data_clean/`` and ``output/``) where stale outputs wait.
ASIDE = ".stale-outputs"
HAND_WRITTEN = ("README.md",)


# ------------------------------------------------------------------------ study identity


def study_identity(study_config: Path) -> str:
    """Who owns a run's folders: the study's name, else its configuration's full path."""
    name = study_name(study_config)
    return f"study {name!r}" if name else f"the study configured in {Path(study_config).resolve()}"


def owner_file(paths: Paths) -> Path:
    return paths.logs / OWNER_FILE


def claim(paths: Paths, study_config: Path) -> None:
    """Record the study as the owner of the run's folders; OutputError when another study
    owns them."""
    identity, path = study_identity(study_config), owner_file(paths)
    try:
        owner = json.loads(path.read_text(encoding="utf-8")).get("study")
    except FileNotFoundError:
        owner = None
    except (OSError, ValueError, AttributeError):
        owner = "an unreadable owner record"
    if owner is not None and owner != identity:
        raise OutputError(
            f"{paths.output.parent}: holds the outputs of {owner} ({path}); this run is "
            f"{identity} and would overwrite them",
            hint="give this study its own --output-root (or its own [study] name); remove "
                 "the folder only if its outputs are no longer needed")
    if owner is None:
        io.write_text(path, json.dumps({"study": identity, "configuration": str(
            Path(study_config).resolve())}, indent=2) + "\n")


# -------------------------------------------------------------------------------- inputs


def forms(path: Path) -> set[Path]:
    """A path as given (made absolute) and with every symbolic link resolved."""
    return {Path(os.path.abspath(path)), Path(path).resolve()}


def within(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies below it, lexically or after resolving links."""
    return any(p == f or p.is_relative_to(f) for p in forms(path) for f in forms(folder))


def protected_root(paths: Paths) -> Path | None:
    """The output root given on the command line (or a study's folder), which must hold no
    input; None for the project's own layout (its root holds config/ and data_raw/)."""
    base = paths.output.parent
    if paths.data_clean.parent != base or forms(base) & forms(paths.root):
        return None
    return base


def upstream(step: str, inputs: Mapping[str, Iterable[Path]], products: Mapping[Path, str]
             ) -> set[str]:
    """The steps whose outputs ``step`` reads, directly or through other steps."""
    seen, todo = set(), [step]
    while todo:
        for path in inputs.get(todo.pop(), ()):
            writer = products.get(Path(os.path.abspath(path)))
            if writer is not None and writer not in seen:
                seen.add(writer)
                todo.append(writer)
    return seen


def configured_files(study_config: Path, model_spec: Path, options: Mapping[str, object],
                     root: Path) -> list[Path]:
    """The input files the user names: the study configuration, the survey file it names
    (read leniently: relative to ``root``), the model specification and any file option."""
    files = [Path(study_config), Path(model_spec)]
    try:
        study = tomllib.loads(io.read_toml_text(study_config)).get("study", {})
        data_file = Path(study["data_file"])
        files.append(data_file if data_file.is_absolute() else Path(root) / data_file)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError,
            AttributeError):
        pass  # the clean step reports a broken configuration in its own words
    return files + [value for value in options.values() if isinstance(value, Path)]


def input_problems(paths: Paths, inputs: Mapping[str, Iterable[Path]],
                   products: Mapping[Path, str], previous: Mapping[Path, str],
                   configured: Iterable[Path] = ()) -> list[str]:
    """Why the run would write over or next to an input, one text per input.

    ``inputs``: step -> the files it reads; ``products``: file -> the step writing it;
    ``previous``: the files an earlier run wrote (path -> SHA-256); ``configured``: the
    files the user names (:func:`configured_files`). A file a step reads from an earlier
    step is the pipeline at work. No other input may be written by a step, lie in
    ``data_clean/`` (all generated: an unchanged stale output is the package's own) or below
    an output root given on the command line; a configured file may not lie in ``output/``
    either (results a referee puts back there, such as the R cross-check's, may).
    """
    root, problems = protected_root(paths), []
    named = {Path(os.path.abspath(p)) for p in configured}
    reads = {**inputs, "configuration": named}
    writers_below: dict[Path, set[str]] = {}  # folder -> the steps writing files below it
    for product, writer in products.items():
        for folder in product.parents:
            writers_below.setdefault(folder, set()).add(writer)
    for step, files in reads.items():
        for path in map(Path, map(os.path.abspath, files)):
            writer = products.get(path)
            if writer is not None and step not in upstream(writer, inputs, products):
                continue
            if writers_below.get(path, set()) - {step}:
                continue  # a folder standing for the files other steps write below it
            if writer is not None:
                problems.append(f"{path} is read by {step!r} and written by step {writer!r}")
            elif within(path, paths.data_clean) or (path in named
                                                     and within(path, paths.output)):
                if os.path.lexists(path) and not (
                        path in previous and path.is_file()
                        and io.file_sha256(path) == previous[path]) or path in named:
                    problems.append(f"{path} lies in a folder the run writes "
                                    f"({paths.data_clean} or {paths.output})")
            elif root is not None and within(path, root) and not within(path, paths.output):
                problems.append(f"{path} lies below the output root {root}")
    return list(dict.fromkeys(problems))


def check_inputs(paths: Paths, inputs: Mapping[str, Iterable[Path]],
                 products: Mapping[Path, str], previous: Mapping[Path, str],
                 configured: Iterable[Path] = ()) -> None:
    """OutputError naming the first input the run would endanger."""
    problems = input_problems(paths, inputs, products, previous, configured)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise OutputError(
            f"input file in the way of the outputs: {problems[0]}{more}; the run writes "
            f"{paths.data_clean} and {paths.output} and never writes an input",
            hint="keep the survey file and the configuration files outside the output "
                 "folders: choose an --output-root that holds no input file (a new empty "
                 "folder), or move the input")


# ------------------------------------------------------------------------- stale outputs


def removable(paths: Paths, path: Path) -> bool:
    """A file the tree policy may remove: in data_clean/ or output/, not a log, a README
    or another study's output."""
    path = Path(os.path.abspath(path))
    inside = path.is_relative_to(paths.data_clean) or path.is_relative_to(paths.output)
    kept = [paths.logs, paths.other_studies, paths.manifest]
    return (inside and path.name not in HAND_WRITTEN
            and not any(path == k or path.is_relative_to(k) for k in kept))


def stale_outputs(paths: Paths, previous: Mapping[Path, str], current: Iterable[Path]
                  ) -> list[Path]:
    """Files an earlier run wrote (``previous``: path -> SHA-256), declared by no step now
    and unchanged since: the outputs no step makes any more."""
    declared = {Path(os.path.abspath(p)) for p in current}
    return sorted(path for path, sha in previous.items()
                  if path not in declared and removable(paths, path) and path.is_file()
                  and io.file_sha256(path) == sha)


@dataclass
class SetAside:
    """Stale outputs moved into a hidden folder next to them; ``discard`` deletes them
    (the run succeeded), ``restore`` puts them back (it did not)."""

    paths: Paths
    moved: list[tuple[Path, Path]] = field(default_factory=list)

    def folders(self) -> list[Path]:
        return [self.paths.data_clean / ASIDE, self.paths.output / ASIDE]

    def move(self, files: Iterable[Path]) -> SetAside:
        for folder in self.folders():  # a killed run's leftovers: stale then, stale now
            shutil.rmtree(folder, ignore_errors=True)
        for path in files:
            top = self.paths.data_clean if path.is_relative_to(self.paths.data_clean) \
                else self.paths.output
            target = top / ASIDE / path.relative_to(top)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
            except OSError as err:
                self.restore()
                raise OutputError(f"cannot move the stale output {path} aside: "
                                  f"{err.strerror or err}") from None
            self.moved.append((path, target))
        return self

    def restore(self) -> list[Path]:
        """Put the files back; nothing was removed."""
        for path, target in reversed(self.moved):
            if target.exists() and not path.exists():
                os.replace(target, path)
        self.moved = []
        for folder in self.folders():
            shutil.rmtree(folder, ignore_errors=True)
        return []

    def discard(self) -> list[Path]:
        """Delete the files set aside (and the folders they leave empty); their paths."""
        removed = [path for path, _ in self.moved]
        for folder in self.folders():
            shutil.rmtree(folder, ignore_errors=True)
        for path in removed:
            for parent in path.parents:
                if parent in (self.paths.data_clean, self.paths.output) or any(parent.iterdir()):
                    break
                parent.rmdir()
        self.moved = []
        return removed


def prepare(ctx: Context, inputs: Mapping[str, Iterable[Path]], products: Mapping[Path, str],
            previous: Mapping[Path, str]) -> SetAside:
    """Before any step: the inputs are safe, the folders are this study's, and the outputs
    no step makes any more are set aside (OutputError when the run must not start)."""
    paths = ctx.paths
    check_inputs(paths, inputs, products, previous, configured_files(
        ctx.study_config_path, ctx.model_spec_path, ctx.options, paths.root))
    claim(paths, ctx.study_config_path)
    return SetAside(paths).move(stale_outputs(paths, previous, products))


# ------------------------------------------------------------------------------ manifest


def manifest(paths: Paths) -> dict[str, tuple[int, str]]:
    """The generated files of a run: not the logs, the manifest, other studies, READMEs."""
    skip = [paths.logs, paths.manifest, paths.other_studies,
            *(folder / name for folder in (paths.data_clean, paths.output)
              for name in HAND_WRITTEN)]
    base = Path(os.path.commonpath([paths.data_clean.resolve(), paths.output.resolve()]))
    return io.manifest([paths.data_clean, paths.output], base, skip)


def write_manifest(paths: Paths) -> int:
    """Write ``<output>/manifest.csv`` (path, size, SHA-256 of every output); how many."""
    files = manifest(paths)
    io.write_rows(paths.manifest, ("path", "size", "sha256"),
                  ((path, *entry) for path, entry in files.items()))
    return len(files)


def compare_trees(fresh: Paths, paths: Paths) -> tuple[list[dict], int, Path]:
    """The files of the tree at ``paths`` that differ from a fresh run's (``fresh``), the
    number the fresh run produced, and ``<output>/logs/verify.csv`` listing them."""
    reference = manifest(fresh)
    rows = io.compare_manifests(reference, manifest(paths))
    columns = ("path", "status", "old_size", "new_size", "old_sha256", "new_sha256")
    report = io.write_rows(paths.verify_report, columns,
                           ([row[c] for c in columns] for row in rows))
    return rows, len(reference), report
