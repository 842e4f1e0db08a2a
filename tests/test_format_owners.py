"""The house rules of issue 16 that a reader of the code relies on, checked on the sources:
only ``engine/records.py`` parses the run folders' JSON records (``config.json``,
``metrics.json``, ``MANIFEST.json``), chapters stay thin (no function over 15 lines), and a
chapter that reads data takes both data parameters the book runner hands down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hmlpe.companion.book import chapter_parameters, toc_chapters
from hmlpe.paths import PROJECT_ROOT

RECORD_NAMES = {"CONFIG_NAME", "METRICS_NAME", "MANIFEST_NAME"}
RECORD_FILES = {"config.json", "metrics.json", "MANIFEST.json"}
OWNER = PROJECT_ROOT / "hmlpe" / "engine" / "records.py"
SOURCES = sorted((PROJECT_ROOT / "hmlpe").rglob("*.py")) + sorted(
    (PROJECT_ROOT / "book").glob("*.py")
)


def _parses_json(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("load", "loads")
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "json"
        for n in ast.walk(node)
    )


def _names_a_record(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in RECORD_NAMES)
        or (isinstance(n, ast.Attribute) and n.attr in RECORD_NAMES)
        or (isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in RECORD_FILES)
        for n in ast.walk(node)
    )


def record_parsers(source: str) -> list[str]:
    """Functions (and the module's top level) that both parse JSON and name a record file."""
    tree = ast.parse(source)
    found = [
        n.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and _parses_json(n)
        and _names_a_record(n)
    ]
    top = ast.Module(
        body=[n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))],
        type_ignores=[],
    )
    if _parses_json(top) and _names_a_record(top):
        found.append("<module>")
    return found


def test_the_check_finds_a_reader_by_key():
    """The rule can fail: a hand-made reader of metrics.json is found, a lock reader is not."""
    reader = "import json\ndef table(d):\n    return json.loads((d / METRICS_NAME).read_text())\n"
    lock = "import json\ndef holder(p):\n    return json.loads(p.read_text())['pid']\n"
    assert record_parsers(reader) == ["table"] and record_parsers(lock) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_only_records_parses_the_run_records(path):
    if path == OWNER:
        assert record_parsers(path.read_text()), "records.py should parse them"
        return
    assert record_parsers(path.read_text()) == [], (
        f"{path.relative_to(PROJECT_ROOT)} parses a run record itself: read it through "
        "hmlpe.engine.records"
    )


@pytest.mark.parametrize("entry", toc_chapters(), ids=lambda e: Path(e).name)
def test_chapters_are_thin_and_take_the_data_parameters_they_use(entry):
    source = (PROJECT_ROOT / f"{entry}.py").read_text()
    long = [
        (n.name, n.end_lineno - n.lineno + 1)
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno + 1 > 15
    ]
    assert not long, f"{entry}: functions over 15 lines belong in hmlpe: {long}"
    declared = {p["name"] for p in chapter_parameters(entry)}
    if "DataSource.resolve(" in source:
        assert {"data_root", "data_pack"} <= declared, entry
