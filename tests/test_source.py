"""hmlpe.data.source: the data source an entry point resolves once (root and pack, explicit
before environment before data/data_roots.txt), its errors and what results record of it;
hmlpe.progress: the one progress setting."""

from __future__ import annotations

import pickle

import pytest

from hmlpe import paths, progress
from hmlpe.data.source import PACK_ENV, DataSource
from hmlpe.errors import DataPackError, DataRootError


@pytest.fixture
def no_default_data(monkeypatch, tmp_path):
    """No $HMLPE_DATA, no $HMLPE_DATA_PACK and no existing folder in data/data_roots.txt."""
    monkeypatch.delenv("HMLPE_DATA", raising=False)
    monkeypatch.delenv(PACK_ENV, raising=False)
    monkeypatch.setattr(paths, "CANDIDATE_ROOTS", (tmp_path / "nowhere",))


def test_explicit_root_before_environment_before_the_roots_file(
    no_default_data, monkeypatch, tmp_path
):
    listed, env, given = (tmp_path / n for n in ("listed", "env", "given"))
    for folder in (listed, env, given):
        folder.mkdir()
    monkeypatch.setattr(paths, "CANDIDATE_ROOTS", (tmp_path / "missing", listed))
    assert DataSource.resolve() == DataSource(listed.resolve())
    monkeypatch.setenv("HMLPE_DATA", str(env))
    assert DataSource.resolve().root == env.resolve()
    assert DataSource.resolve(given).root == given.resolve()
    assert DataSource.resolve(given).pack_path is None


def test_no_data_anywhere_is_one_clear_error(no_default_data, tmp_path):
    with pytest.raises(DataRootError, match="no data root found.*HMLPE_DATA"):
        DataSource.resolve()
    with pytest.raises(DataRootError, match="missing.*from --data-root.*not a folder"):
        DataSource.resolve(tmp_path / "missing")


def test_a_pack_alone_serves_without_a_root(no_default_data, monkeypatch, tmp_path):
    pack = tmp_path / "pack.zip"
    pack.write_bytes(b"opened only when read")
    alone = DataSource.resolve(data_pack=pack)
    assert alone == DataSource(None, pack.resolve())
    monkeypatch.setenv(PACK_ENV, str(pack))
    assert DataSource.resolve() == alone
    with pytest.raises(DataRootError, match="the Buffy test set reads the datasets' files.*pack"):
        alone.require_root("the Buffy test set")
    # an explicit root that is missing is an error even with a pack
    with pytest.raises(DataRootError, match="from --data-root"):
        DataSource.resolve(tmp_path / "missing", pack)


def test_a_missing_pack_is_named_with_where_it_came_from(no_default_data, monkeypatch, tmp_path):
    with pytest.raises(DataPackError, match="none.zip \\(from --data-pack\\) does not exist"):
        DataSource.resolve(tmp_path, tmp_path / "none.zip")
    monkeypatch.setenv(PACK_ENV, str(tmp_path / "gone.zip"))
    with pytest.raises(DataPackError, match="gone.zip \\(from \\$HMLPE_DATA_PACK\\)"):
        DataSource.resolve(tmp_path)


def test_provenance_and_pickling(tmp_path):
    source = DataSource(tmp_path)
    assert source.provenance() == {"data_root": str(tmp_path), "data_pack": None}
    assert source.require_root("x") == tmp_path
    assert pickle.loads(pickle.dumps(source)) == source  # jobs carry it to other processes
    assert DataSource(None).provenance()["data_root"] is None


def test_one_progress_setting_for_the_process(monkeypatch):
    monkeypatch.setenv("HMLPE_PROGRESS", "0")
    assert progress.progress_enabled() is False  # the rule: HMLPE_PROGRESS=0 is off
    with progress.progress_set_to(True):
        assert progress.progress_enabled() is True
        assert progress.progress_bar(range(3)).disable is False
        with progress.progress_set_to(False):
            assert progress.progress_bar(range(3)).disable is True
        assert progress.progress_enabled() is True
    assert progress.progress_enabled() is False  # restored
