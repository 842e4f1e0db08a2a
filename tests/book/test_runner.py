"""hmlpe.companion.book's pieces that need no kernel: the ToC, chapter selection, commands, tags."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import nbformat
import pytest

from hmlpe.companion import book
from hmlpe.engine.guard import RunFolderError
from hmlpe.errors import ResultsError


def test_toc_order_walks_root_parts_chapters_sections(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/01_introduction\nparts:\n"
        "  - caption: Data\n    chapters:\n      - file: book/02_data.py\n"
        "        sections:\n          - file: book/03_labels\n"
        "  - caption: Results\n    chapters:\n      - file: book/04_buffy.ipynb\n"
        "      - file: book/10_reproducibility\n"
    )
    assert book.toc_chapters(toc) == [
        "book/01_introduction",
        "book/02_data",
        "book/03_labels",
        "book/04_buffy",
        "book/10_reproducibility",
    ]


def test_repository_toc_lists_existing_sources():
    entries = book.toc_chapters()
    assert entries[0] == "book/01_introduction" and entries[-1] == "book/10_reproducibility"
    for e in entries:
        assert (book.PROJECT_ROOT / f"{e}.py").is_file(), e


def test_select_chapters_by_name_number_or_path_keeps_toc_order():
    entries = ["book/01_introduction", "book/04_buffy", "book/10_reproducibility"]
    assert book.select_chapters(entries, None) == entries
    assert book.select_chapters(entries, ["reproducibility", "01"]) == [
        "book/01_introduction",
        "book/10_reproducibility",
    ]
    assert book.select_chapters(entries, ["book/04_buffy.py"]) == ["book/04_buffy"]
    with pytest.raises(book.BookError, match="no chapter 'flic'"):
        book.select_chapters(entries, ["flic"])


def test_rerun_command_carries_kernel_cwd_and_parameters():
    params = {"profile": "smoke", "run_dir": "runs/smoke", "epochs": 3}
    cmd = book.rerun_command("book/04_buffy", params)
    conv, run = cmd.split(" && ")
    assert shlex.split(conv)[1:] == [
        "--to",
        "ipynb",
        "--output",
        "book/04_buffy.ipynb",
        "book/04_buffy.py",
    ]
    argv = shlex.split(run)
    assert argv[1:3] == ["book/04_buffy.ipynb", "book/04_buffy.ipynb"]
    assert argv[argv.index("--kernel") + 1] == "python3"
    assert argv[argv.index("--cwd") + 1] == str(book.BOOK_DIR)
    assert json.loads(argv[argv.index("--parameters_yaml") + 1]) == params


def test_tag_parameter_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("a = 2", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(a)"),
    ]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    book.tag_parameter_cells(path)
    book.tag_parameter_cells(path)  # idempotent
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters", "hide-input"], ["injected-parameters", "remove-cell"], []]


def test_one_command_line_lists_the_chapters(capsys):
    """`python -m hmlpe book --list` (the only book command line) prints the notebooks in ToC order."""
    from hmlpe.cli import main

    assert main(["book", "--list"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines == [f"{entry}.ipynb" for entry in book.toc_chapters()]
    assert main(["book", "--list", "--chapter", lines[-1].split("/")[-1][:-6]]) == 0
    assert capsys.readouterr().out.split() == lines[-1:]


def test_runner_command_reruns_through_the_one_command_line():
    cmd = book.runner_command("06_buffy", "quick", Path("runs/quick"), {"n_examples": 2})
    assert (
        " -m hmlpe book --profile quick --run-dir runs/quick --chapter 06_buffy --no-build" in cmd
    )
    assert "--param n_examples=2" in cmd


def test_chapters_table_reads_titles_and_reproduces_lines(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/01_a\nchapters:\n- file: book/02_b\n"
    )
    (tmp_path / "book" / "01_a.py").write_text("# %% [markdown]\n# # Intro\n# Reproduces: -\n")
    (tmp_path / "book" / "02_b.py").write_text("# %%\nx = 1\n")  # no title, no line
    rows = book.chapters_table(root=tmp_path)
    assert rows == [
        {"chapter": '<a href="01_a.html">Intro</a>', "source": "book/01_a.py", "reproduces": "-"},
        {"chapter": '<a href="02_b.html">02_b</a>', "source": "book/02_b.py", "reproduces": ""},
    ]
    # the project's own chapters: every one declares what it reproduces
    assert all(row["reproduces"] for row in book.chapters_table())


def test_chapter_parameters_are_read_from_the_parameters_cell(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "07_x.py").write_text(
        '# %%\nimport os\n\n# %% tags=["parameters"]\nprofile = "smoke"  # which profile\n'
        "n_examples = 4  # how many\nratios = None\n\n# %%\nother = 1\n"
    )
    params = book.chapter_parameters("book/07_x", root=tmp_path)
    assert params == [
        {"name": "profile", "default": '"smoke"', "comment": "which profile"},
        {"name": "n_examples", "default": "4", "comment": "how many"},
        {"name": "ratios", "default": "None", "comment": ""},
    ]


def test_rerun_table_commands_are_relative_and_parse(capsys):
    from hmlpe.cli import build_parser, parse_overrides

    rows = book.rerun_table("quick")
    assert [r["chapter"] for r in rows] == [book.chapter_name(e) for e in book.toc_chapters()]
    for row in rows:
        argv = shlex.split(row["command"])
        assert (
            argv[:3] == [".venv/bin/python", "-m", "hmlpe"]
            and "/" not in argv[argv.index("--chapter") + 1]
        )
        args = build_parser().parse_args(argv[3:])
        assert args.run_dir == Path("runs/quick") and args.chapters == [row["chapter"]]
        parse_overrides(args.param)  # every --param value is valid KEY=JSON
    labels = next(r for r in rows if r["chapter"] == "03_labels")
    assert "beta = 0.3" in labels["parameters"] and "--param" in labels["command"]


def test_copy_results_makes_a_scratch_run_folder(tmp_path):
    results = tmp_path / "results" / "seed_0"
    (results / "pretrain").mkdir(parents=True)
    (results / "pretrain" / "config.json").write_text(json.dumps({"config": {"profile": "cpu"}}))
    with pytest.raises(ResultsError, match="not a folder of exported results"):
        book.copy_results(results, tmp_path / "run")
    (results / "MANIFEST.json").write_text("{}")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "stale.txt").write_text("old")
    run = book.copy_results(results, tmp_path / "run")
    assert (run / "MANIFEST.json").is_file() and not (run / "stale.txt").exists()
    assert book.results_profile(run) == "cpu"
    assert (run / ".copied_from").read_text().strip() == str(results.resolve())
    book.copy_results(results, run)  # an earlier copy is replaced
    with pytest.raises(RunFolderError, match="overlap"):
        book.copy_results(results, results)
    with pytest.raises(RunFolderError, match="overlap"):  # a copy may not swallow its source
        book.copy_results(results, tmp_path / "results")
    trained = tmp_path / "trained"
    (trained / "pretrain").mkdir(parents=True)
    (trained / "pretrain" / "last.pt").write_bytes(b"weights")
    with pytest.raises(RunFolderError, match="holds a run"):
        book.copy_results(results, trained)
    assert (trained / "pretrain" / "last.pt").read_bytes() == b"weights"
