"""Shared fixtures: the data root resolved as the library resolves it (``--data-root`` is the
CLI's; here $HMLPE_DATA, ../shared/data, data/raw), so real-data tests follow the user's data."""
from __future__ import annotations

import pytest

from hmlpe.paths import DataRootError, resolve_data_root


@pytest.fixture(scope="session")
def data_root():
    """The data root, or a skip that says why (once per test, loudly in -rs output)."""
    try:
        return resolve_data_root(None)
    except DataRootError as exc:
        pytest.skip(f"real data absent: {exc}")
