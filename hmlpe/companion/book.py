"""Run the book: execute its chapters with papermill, then build the HTML with Jupyter Book.

Chapters are jupytext percent-format sources ``book/NN_name.py``, listed in ``_toc.yml`` (at
the repository root) in dependency order. For each chapter, :func:`run_book`

1. converts ``book/NN_name.py`` to ``book/NN_name.ipynb`` (jupytext, as a library);
2. executes that notebook in place with papermill on the ``python3`` kernel of the running
   interpreter (jupyter_client swaps the kernelspec's ``python`` for ``sys.executable``), in
   ``book/`` as working folder (the folder nbval uses too), with the parameters ``profile``,
   ``run_dir`` (absolute) and any extra ones;
3. tags papermill's ``injected-parameters`` cell ``remove-cell`` (it is not shown in the HTML)
   and the chapter's own ``parameters`` cell ``hide-input`` (collapsed, one click away);
4. records the chapter's start and end time, wall time and the exact shell command that
   reruns it in ``run_dir/book_timings.json`` (rewritten atomically after every chapter,
   merged with entries of chapters not run this time).

Then, when ``build`` is true, ``jupyter-book build . -W`` makes ``_build/html``; warnings are
errors, and on failure its output is raised in :class:`BookError`.

The command line is ``python -m hmlpe book`` (``hmlpe.cli``).
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hmlpe.companion.watch import LONG_RUN_VISITS, TRAINING_CHAPTERS, RunWatcher, training_cost_note
from hmlpe.data.source import DataSource
from hmlpe.engine.guard import COPY_MARK, check_deletable, check_disjoint, check_output_folder
from hmlpe.engine.layout import MANIFEST_NAME, TIMINGS_NAME, RunLayout
from hmlpe.errors import BookError, HMLPEError, ResultsError  # noqa: F401  (BookError re-exported)
from hmlpe.paths import PROJECT_ROOT
from hmlpe.provenance import atomic_write_json, git_commit, now_utc

BOOK_DIR = PROJECT_ROOT / "book"
TOC_FILE = PROJECT_ROOT / "_toc.yml"
KERNEL_NAME = "python3"
INJECTED_TAG = "injected-parameters"
HIDE_INJECTED_TAG = "remove-cell"
HIDE_PARAMETERS_TAG = "hide-input"


# --------------------------------------------------------------------------- table of contents
def toc_chapters(toc_file: Path = TOC_FILE) -> list[str]:
    """The chapters of ``_toc.yml`` in order, as paths relative to the repository root without
    suffix (``book/01_introduction``): the root first, then every ``file`` entry of chapters,
    parts and sections, depth first."""
    import yaml

    toc = yaml.safe_load(Path(toc_file).read_text(encoding="utf-8")) or {}
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                out.append(_strip_suffix(str(node["file"])))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    if "root" in toc:
        out.append(_strip_suffix(str(toc["root"])))
    walk({k: v for k, v in toc.items() if k in ("parts", "chapters")})
    return list(dict.fromkeys(out))  # each chapter once, where it first appears


def _strip_suffix(entry: str) -> str:
    for suffix in (".ipynb", ".md", ".py"):
        if entry.endswith(suffix):
            return entry[: -len(suffix)]
    return entry


def chapter_name(entry: str) -> str:
    """``book/01_introduction`` -> ``01_introduction``."""
    return Path(entry).name


def select_chapters(all_entries: list[str], wanted: Iterable[str] | None) -> list[str]:
    """The entries of ``all_entries`` named by ``wanted`` (in ToC order). A wanted name matches
    an entry by its full name (``01_introduction``), its name without the number
    (``introduction``), its number (``01``) or its path (``book/01_introduction``)."""
    if wanted is None:
        return list(all_entries)
    chosen: set[str] = set()
    for w in wanted:
        w = _strip_suffix(str(w).strip())
        hits = [
            e
            for e in all_entries
            if w
            in (
                e,
                chapter_name(e),
                chapter_name(e).split("_", 1)[-1],
                chapter_name(e).split("_", 1)[0],
            )
        ]
        if not hits:
            names = ", ".join(chapter_name(e) for e in all_entries)
            raise BookError(f"no chapter {w!r} in {TOC_FILE.name} (chapters: {names})")
        chosen.update(hits)
    return [e for e in all_entries if e in chosen]


# --------------------------------------------------------------------------- one chapter
def _ensure_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel as exc:  # pragma: no cover - depends on the environment
        raise BookError(
            f"no Jupyter kernel {KERNEL_NAME!r}: install ipykernel in this environment "
            f"({sys.executable} -m pip install ipykernel; then "
            f"{sys.executable} -m ipykernel install --sys-prefix)"
        ) from exc


def rerun_command(entry: str, parameters: dict[str, Any]) -> str:
    """The shell command, run from the repository root, that converts and re-executes one
    chapter exactly as :func:`run_book` did (same kernel, working folder and parameters)."""
    bindir = Path(sys.executable).parent
    src, nb = f"{entry}.py", f"{entry}.ipynb"
    jupytext = [str(bindir / "jupytext"), "--to", "ipynb", "--output", nb, src]
    papermill = [
        str(bindir / "papermill"),
        nb,
        nb,
        "--kernel",
        KERNEL_NAME,
        "--cwd",
        str(BOOK_DIR),
        "--parameters_yaml",
        json.dumps(parameters, sort_keys=True),
    ]
    return f"{shlex.join(jupytext)} && {shlex.join(papermill)}"


def runner_command(
    name: str,
    profile: str,
    run_dir: Path,
    extra_parameters: dict | None = None,
    source: DataSource | None = None,
) -> str:
    """The same rerun through this module, which also hides the injected-parameters cell in
    the HTML (the bare papermill command does not) and updates book_timings.json."""
    cmd = [
        sys.executable,
        "-m",
        "hmlpe",
        "book",
        "--profile",
        profile,
        "--run-dir",
        str(run_dir),
        "--chapter",
        name,
        "--no-build",
    ]
    for option, value in source_parameters(source).items():
        if value is not None:
            cmd += [f"--{option.replace('_', '-')}", value]
    for key, value in sorted((extra_parameters or {}).items()):
        cmd += ["--param", f"{key}={json.dumps(value)}"]
    return shlex.join(cmd)


PARAMETERS_MARK = '# %% tags=["parameters"]'


def chapter_parameters(entry: str, root: Path = PROJECT_ROOT) -> list[dict[str, str]]:
    """The papermill parameters of a chapter, read from its source's ``parameters`` cell: one
    {"name", "default", "comment"} per ``name = value  # comment`` line, in order."""
    lines = (root / f"{entry}.py").read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(PARAMETERS_MARK) + 1
    except ValueError:
        return []
    out = []
    for line in lines[start:]:
        if line.startswith("# %%"):
            break
        code, _, comment = line.partition("#")
        name, eq, default = code.partition("=")
        if eq and name.strip().isidentifier():
            out.append(
                {"name": name.strip(), "default": default.strip(), "comment": comment.strip()}
            )
    return out


def chapter_title_and_reproduces(entry: str, root: Path = PROJECT_ROOT) -> tuple[str, str]:
    """A chapter's title (its first ``# # `` heading; the file name when it has none) and the
    paper's results it declares on its ``# Reproduces: ...`` line ("" when it has none)."""
    src = (root / f"{entry}.py").read_text(encoding="utf-8")
    title = re.search(r"^# # (.+)$", src, re.M)
    reproduces = re.search(r"^# Reproduces: (.+)$", src, re.M)
    return (
        title.group(1) if title else chapter_name(entry),
        reproduces.group(1) if reproduces else "",
    )


def chapters_table(entries: list[str] | None = None, root: Path = PROJECT_ROOT) -> list[dict]:
    """One row per chapter of the ToC (or ``entries``): a link to its page, its source and what
    of the paper it reproduces. The introduction prints it."""
    rows = []
    for entry in entries if entries is not None else toc_chapters(root / "_toc.yml"):
        title, reproduces = chapter_title_and_reproduces(entry, root)
        name = chapter_name(entry)
        rows.append(
            {
                "chapter": f'<a href="{name}.html">{title}</a>',
                "source": f"{entry}.py",
                "reproduces": reproduces,
            }
        )
    return rows


def _as_json(python_literal: str) -> str:
    """A parameter's default as ``--param`` takes it (JSON): ``None`` -> ``null``, ``"a"`` ->
    ``"a"``, ``0.3`` -> ``0.3``; what is not a literal is passed on as written."""
    try:
        return json.dumps(ast.literal_eval(python_literal))
    except (ValueError, SyntaxError):
        return python_literal


def rerun_table(profile: str = "smoke", entries: list[str] | None = None) -> list[dict[str, str]]:
    """For each chapter of the ToC: its parameters (``name = default``) and a command, relative
    to the project root, that reruns it on ``runs/<profile>`` with one of its own parameters
    (beyond ``profile`` and ``run_dir``; the first whose default is not None) set to its
    default, for the reader to edit."""
    rows = []
    for entry in entries if entries is not None else toc_chapters():
        params = chapter_parameters(entry)
        cmd = [
            ".venv/bin/python",
            "-m",
            "hmlpe",
            "book",
            "--profile",
            profile,
            "--run-dir",
            f"runs/{profile}",
            "--chapter",
            chapter_name(entry),
            "--no-build",
        ]
        extra = [p for p in params if p["name"] not in ("profile", "run_dir")]
        shown = [p for p in extra if p["default"] != "None"] or extra
        if shown:
            cmd += ["--param", f"{shown[0]['name']}={_as_json(shown[0]['default'])}"]
        rows.append(
            {
                "chapter": chapter_name(entry),
                "parameters": "; ".join(f"{p['name']} = {p['default']}" for p in params),
                "command": shlex.join(cmd),
            }
        )
    return rows


def convert_chapter(entry: str, root: Path = PROJECT_ROOT) -> Path:
    """book/NN_name.py -> book/NN_name.ipynb (jupytext); returns the notebook's path."""
    import jupytext

    src = root / f"{entry}.py"
    if not src.is_file():
        raise BookError(f"chapter source {src} is missing (listed in {TOC_FILE.name})")
    nb = jupytext.read(src)
    nb.metadata.setdefault(
        "kernelspec", {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    )
    out = root / f"{entry}.ipynb"
    jupytext.write(nb, out, fmt="ipynb")
    return out


def tag_parameter_cells(notebook: Path) -> None:
    """Hide papermill's injected-parameters cell (``remove-cell``) and collapse the chapter's
    ``parameters`` cell (``hide-input``), rewriting the notebook atomically."""
    import nbformat

    from hmlpe.provenance import atomic_write_text

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", []))
        new = None
        if INJECTED_TAG in tags and HIDE_INJECTED_TAG not in tags:
            new = HIDE_INJECTED_TAG
        elif "parameters" in tags and HIDE_PARAMETERS_TAG not in tags:
            new = HIDE_PARAMETERS_TAG
        if new:
            cell.metadata["tags"] = tags + [new]
    atomic_write_text(notebook, nbformat.writes(nb))


def execute_chapter(notebook: Path, parameters: dict[str, Any], log_output: bool = False) -> None:
    import papermill as pm

    pm.execute_notebook(
        str(notebook),
        str(notebook),
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        cwd=str(BOOK_DIR),
        progress_bar=False,
        log_output=log_output,
    )


# --------------------------------------------------------------------------- timings file
def load_timings(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / TIMINGS_NAME
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            pass
    return {}


def _write_timings(run_dir: Path, record: dict[str, Any]) -> None:
    atomic_write_json(Path(run_dir) / TIMINGS_NAME, record)


# --------------------------------------------------------------------------- from results
def copy_results(results: Path, run_dir: Path | None = None) -> Path:
    """Copy a folder of exported results (``hmlpe export``: MANIFEST.json, no weights) to
    ``run_dir`` (default ``runs/from_<name>``, replaced if present), where the book runner may
    write its timings; chapters read such a folder and never train into it."""
    results = Path(results)
    if not (results / MANIFEST_NAME).is_file():
        raise ResultsError(
            f"{results} is not a folder of exported results (no "
            f"{MANIFEST_NAME}); `python -m hmlpe export` makes one"
        )
    run_dir = (
        Path(run_dir) if run_dir is not None else PROJECT_ROOT / "runs" / f"from_{results.name}"
    )
    check_disjoint(results, run_dir, "--from-results", "--run-dir")
    check_deletable(run_dir, "--run-dir")  # only an earlier copy is replaced, never a run
    if run_dir.exists():
        shutil.rmtree(run_dir)
    tmp = run_dir.with_name(f".{run_dir.name}.copying")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(results, tmp)
    (tmp / COPY_MARK).write_text(f"{results.resolve()}\n")
    tmp.replace(run_dir)
    return run_dir


def check_book_run_dir(run_dir: Path) -> Path:
    """``run_dir`` if the runner may execute chapters into it: a copy of exported results
    (``copy_results``) or a folder ``train`` could write (``guard.check_output_folder``)."""
    if (Path(run_dir) / COPY_MARK).is_file():
        return Path(run_dir)
    return check_output_folder(run_dir, "--run-dir")


def results_profile(run_dir: Path) -> str:
    """The profile the exported results were trained with (their pre-training's config)."""
    from hmlpe.engine.records import RecordError, read_run_record

    try:
        return str(read_run_record(RunLayout(run_dir).pretrain).profile)
    except RecordError as exc:
        raise ResultsError(f"{exc}: cannot tell the results' profile (pass --profile)") from None


# --------------------------------------------------------------------------- the runner
def run_book(
    profile: str,
    run_dir: Path,
    chapters: list[str] | None = None,
    build: bool = True,
    extra_parameters: dict | None = None,
    log_output: bool = False,
    source: DataSource | None = None,
) -> dict[str, Any]:
    """Execute the chapters (all of ``_toc.yml`` or the named ones, in ToC order) with
    papermill, record timings in ``run_dir/book_timings.json``, then build the HTML when
    ``build``. Returns the timings record. Raises :class:`BookError` on the first failure
    (the failed chapter is recorded with status ``failed`` first).

    ``source``: where the chapters read the datasets (``hmlpe.data.source``), handed to each
    chapter that reads data as its ``data_root`` and ``data_pack`` parameters; None: each
    resolves the defaults itself."""
    entries = select_chapters(toc_chapters(), chapters)  # a bad name fails before any write
    run_dir = check_book_run_dir(Path(run_dir)).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    _ensure_kernel()
    parameters = {"profile": str(profile), "run_dir": str(run_dir), **(extra_parameters or {})}

    record = load_timings(run_dir)
    if record.get("profile") not in (None, profile):
        record = {}  # another profile's timings: start afresh
    record.update(
        {
            "profile": profile,
            "run_dir": str(run_dir),
            "kernel": KERNEL_NAME,
            "python": sys.executable,
            "git_commit": git_commit(),
            "last_started": now_utc(),
            "last_finished": None,
        }
    )
    record.setdefault("chapters", {})
    _write_timings(run_dir, record)

    total = len(entries)
    names = [chapter_name(e) for e in entries]
    exported = RunLayout(run_dir).is_exported
    if not exported:
        note = _training_note(profile, names, source)
        if note:
            print(f"[book] {note}", flush=True)
    t_all = time.perf_counter()
    for i, entry in enumerate(entries, 1):
        name = chapter_name(entry)
        print(f"[book] ({i}/{total}) {name}: converting and executing ...", flush=True)
        declared = {p["name"] for p in chapter_parameters(entry)}
        chapter_params = {
            **{k: v for k, v in source_parameters(source).items() if k in declared},
            **parameters,
        }
        info: dict[str, Any] = {
            "source": f"{entry}.py",
            "notebook": f"{entry}.ipynb",
            "parameters": chapter_params,
            "command": rerun_command(entry, chapter_params),
            "runner_command": runner_command(name, profile, run_dir, extra_parameters, source),
            "start": now_utc(),
            "end": None,
            "wall_seconds": None,
            "status": "running",
        }
        record["chapters"][name] = info
        _write_timings(run_dir, record)
        t0 = time.perf_counter()
        try:
            nb = convert_chapter(entry)
            if name in TRAINING_CHAPTERS and not exported:
                # the chapter trains with its progress bars off: its epochs are printed here
                with RunWatcher(run_dir, prefix=f"[book] ({i}/{total}) {name}: "):
                    execute_chapter(nb, chapter_params, log_output=log_output)
            else:
                execute_chapter(nb, chapter_params, log_output=log_output)
            tag_parameter_cells(nb)
        except Exception as exc:
            info.update(
                end=now_utc(),
                wall_seconds=round(time.perf_counter() - t0, 3),
                status="failed",
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            _write_timings(run_dir, record)
            raise BookError(
                f"chapter {name} failed after {info['wall_seconds']:.1f} s; "
                f"rerun it with:\n  {info['command']}\n{exc}"
            ) from exc
        info.update(end=now_utc(), wall_seconds=round(time.perf_counter() - t0, 3), status="ok")
        info.pop("error", None)
        _write_timings(run_dir, record)
        print(f"[book] ({i}/{total}) {name}: done in {info['wall_seconds']:.1f} s", flush=True)
    record["last_finished"] = now_utc()
    record["execute_seconds"] = round(time.perf_counter() - t_all, 3)
    _write_timings(run_dir, record)

    if build:
        record["build_seconds"] = build_html()
        _write_timings(run_dir, record)
    return record


def source_parameters(source: DataSource | None) -> dict[str, str | None]:
    """The chapters' parameters that name the data source ({} for None: their defaults)."""
    if source is None:
        return {}
    return {
        "data_root": None if source.root is None else str(source.root),
        "data_pack": None if source.pack_path is None else str(source.pack_path),
    }


def _training_note(profile: str, chapters: list[str], source: DataSource | None) -> str | None:
    """``watch.training_cost_note`` for the chosen chapters, or None where the profile's
    visits cannot be counted (no data here: the chapters will say so themselves)."""
    from hmlpe.companion.compute import profile_visits
    from hmlpe.engine.profiles import get_profile

    if not any(c in TRAINING_CHAPTERS for c in chapters):
        return None
    try:
        prof = get_profile(profile)
        visits = profile_visits(prof, source if source is not None else DataSource.resolve())
    except HMLPEError:
        return None
    this_machine = None
    if sum(visits.values()) >= LONG_RUN_VISITS:  # a long run: seconds to time it are worth it
        from hmlpe.engine.bench import training_rate

        this_machine = training_rate(prof.stage_config("pretrain"))
    return training_cost_note(profile, chapters, PROJECT_ROOT / "results", visits, this_machine)


def build_html(root: Path = PROJECT_ROOT) -> float:
    """``jupyter-book build . -W`` in ``root``; returns its wall time. Raises BookError with
    the build's output when it fails (a warning is a failure)."""
    vendor = root / "book" / "_static" / "thirdparty" / "VERSIONS"
    if not vendor.is_file():
        raise BookError(
            f"{vendor.parent} is missing: run `bash ci/vendor_widgets.sh` first "
            "(the book serves its own require.js, widget embedder and MathJax)"
        )
    exe = Path(sys.executable).parent / "jupyter-book"
    # --all: rebuild every page, so that a warning in an unchanged page still fails the build
    cmd = [
        str(exe) if exe.exists() else "jupyter-book",
        "build",
        ".",
        "-W",
        "--all",
        "--builder",
        "html",
    ]
    print(f"[book] building HTML: {shlex.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    seconds = round(time.perf_counter() - t0, 3)
    if proc.returncode != 0:
        raise BookError(
            f"jupyter-book build failed (exit {proc.returncode}, {seconds:.0f} s):\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    print(
        f"[book] HTML built in {seconds:.1f} s: {root / '_build' / 'html' / 'index.html'}",
        flush=True,
    )
    return seconds
