"""Training filter (paper 4.1) and the pool loader."""

from pathlib import Path

import numpy as np
import pytest

from hmlpe.config import DataConfig
from hmlpe.data.datasets import PoseRecord, filter_training, load_dataset, load_pool
from hmlpe.errors import UnknownNameError
from hmlpe.paths import DataRootError


def _rec(joints, visible=None, split="train", size=(100, 80), ex="a"):
    joints = np.asarray(joints, float)
    if visible is None:
        visible = np.isfinite(joints).all(axis=1)
    return PoseRecord("lsp", ex, Path("x.jpg"), size, joints, visible, split)


def test_drop_reasons_are_counted():
    ok = np.tile([[10.0, 10.0]], (8, 1))
    nan = ok.copy()
    nan[3] = np.nan
    occ = _rec(ok, visible=np.r_[np.ones(7, bool), False], ex="occ")
    out = ok.copy()
    out[5] = [99 + 1.6, 10]  # 1.6 px right of the last pixel centre
    edge = ok.copy()
    edge[5] = [99 + 1.4, 10]  # within the 1 px tolerance
    recs = [
        _rec(ok),
        _rec(nan, ex="nan"),
        occ,
        _rec(out, ex="out"),
        _rec(edge, ex="edge"),
        _rec(nan, split="test", ex="t"),
    ]
    kept, counts = filter_training(recs)
    assert [r.example for r in kept] == ["a", "edge", "t"]
    assert counts == {
        "missing_joint": 1,
        "occluded_joint": 1,
        "joint_outside_image": 1,
        "total": 6,
        "kept": 3,
    }
    assert np.isnan(kept[-1].joints[3]).all() and not kept[-1].visible[3]


def test_record_validation():
    with pytest.raises(ValueError, match="shape"):
        _rec(np.zeros((7, 2)))
    with pytest.raises(ValueError, match="split"):
        _rec(np.zeros((8, 2)), split="val")
    with pytest.raises(ValueError, match="visible is NaN"):
        _rec(np.full((8, 2), np.nan), visible=np.ones(8, bool))
    r = _rec(np.zeros((8, 2)))
    with pytest.raises(ValueError):
        r.joints[0, 0] = 1.0  # read-only


def test_missing_data_root(tmp_path):
    with pytest.raises(DataRootError, match="nope"):
        load_dataset("buffy", tmp_path / "nope")
    with pytest.raises(UnknownNameError, match="unknown dataset 'mpii'; known: buffy"):
        load_dataset("mpii", tmp_path)


@pytest.mark.usefixtures("buffy_root", "lsp_root", "flic_root")
def test_pool(data_root):
    pool, counts = load_pool(DataConfig(), data_root)
    assert len(pool) == 472 + 605 + 3982
    assert {k: v["kept"] for k, v in counts.items()} == {"buffy": 472, "lsp": 605, "flic": 3982}
    small, c = load_pool(DataConfig(pool=("lsp",), max_train_examples=10), data_root)
    assert len(small) == 10 and c["lsp"]["capped"] == 595
