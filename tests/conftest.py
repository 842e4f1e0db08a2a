"""Shared fixtures: the data root resolved as the library resolves it (``--data-root`` is the
CLI's; here $HMLPE_DATA, then data/data_roots.txt), so real-data tests follow the user's data.

Real-data tests take ``data_root`` (or ``buffy_root``, ``lsp_root``, ``flic_root``, which also
need that dataset's folder); without the data they are skipped, and the run says so once in
its header and its summary ("real data absent: N real-data tests skipped (why)")."""

from __future__ import annotations

import pytest

from hmlpe.paths import DataRootError, resolve_data_root

ABSENT = "real data absent"


@pytest.fixture(scope="session")
def data_root():
    """The data root, or a skip that says why (counted in the terminal summary)."""
    try:
        return resolve_data_root(None)
    except DataRootError as exc:
        pytest.skip(f"{ABSENT}: {exc}")


@pytest.fixture(scope="session")
def data_source(data_root):
    """The data root as the handle the pipeline and the engine take (hmlpe.data.source)."""
    from hmlpe.data.source import DataSource

    return DataSource(data_root)


@pytest.fixture(scope="session")
def data_pack(data_root, tmp_path_factory):
    """A data pack (hmlpe.data.pack) of the data root, written once per session."""
    from hmlpe.data.pack import write_pack

    path = tmp_path_factory.mktemp("pack") / "pack.zip"
    write_pack(path, data_root)
    return path


def _dataset_root(root, name):
    """``root`` if it holds the ``name`` folder, else a skip naming the folder."""
    if not (root / name).is_dir():
        pytest.skip(f"{ABSENT}: no {name}/ folder in the data root {root}")
    return root


@pytest.fixture(scope="session")
def buffy_root(data_root):
    """The data root, which holds buffy/ (else the test is skipped)."""
    return _dataset_root(data_root, "buffy")


@pytest.fixture(scope="session")
def lsp_root(data_root):
    """The data root, which holds lsp/ (else the test is skipped)."""
    return _dataset_root(data_root, "lsp")


@pytest.fixture(scope="session")
def flic_root(data_root):
    """The data root, which holds flic/ (else the test is skipped)."""
    return _dataset_root(data_root, "flic")


def pytest_report_header(config):
    """The data root the real-data tests read, or why there is none."""
    try:
        return f"data root: {resolve_data_root(None)}"
    except DataRootError as exc:
        return f"{ABSENT.upper()}: {exc}"


def pytest_terminal_summary(terminalreporter):
    """Say once, loudly, how many real-data tests were skipped and why."""
    reasons = {}
    for rep in terminalreporter.stats.get("skipped", []):
        longrepr = rep.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(ABSENT):
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        n = sum(reasons.values())
        why = "; ".join(r.removeprefix(f"{ABSENT}: ") for r in reasons)
        terminalreporter.write_sep("!", ABSENT.upper(), red=True, bold=True)
        terminalreporter.write_line(
            f"{ABSENT}: {n} real-data tests skipped ({why})", red=True, bold=True
        )
