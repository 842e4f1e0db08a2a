"""LSP reader (hmlpe.data.datasets.lsp)."""

import numpy as np
import pytest

from hmlpe.data.datasets import load_dataset, training_records
from hmlpe.data.datasets.lsp import convert, read_joints_mat
from hmlpe.skeleton import JOINT_INDEX as J


def test_convert_hand_made():
    xyf = np.zeros((3, 14))
    xyf[0] = np.arange(14) + 1.0  # x = LSP index, 1-based
    xyf[1] = 100.0
    xyf[1, 12], xyf[1, 13] = 51.0, 11.0  # neck y, head-top y
    xyf[2, 10] = 1  # left elbow flagged (occluded)
    joints, visible, top = convert(xyf)
    assert joints[J["r_wrist"], 0] == 6 and joints[J["l_wrist"], 0] == 11  # 0-based
    assert joints[J["neck"], 0] == 12 and joints[J["r_shoulder"], 0] == 8
    np.testing.assert_allclose(joints[J["nose"]], [12.5, 30.0])  # midpoint neck - head top
    np.testing.assert_allclose(top, [13, 10])
    assert not visible[J["l_elbow"]] and visible.sum() == 7


@pytest.fixture(scope="module")
def lsp(lsp_root):
    return load_dataset("lsp", root=lsp_root)


def test_counts(lsp):
    assert len(lsp) == 2000
    assert [r.example for r in lsp[:2]] == ["im0001", "im0002"]
    assert sum(r.split == "train" for r in lsp) == 1000
    assert all(r.split == "train" for r in lsp[:1000])


def test_flag_marks_occluded_joints(lsp_root):
    """Third row: 1 for 7.3 % of joints; where a shoulder is flagged the shoulders are much
    closer together (side views hide the far shoulder): so 1 = occluded, not visible."""
    x, y, f = read_joints_mat(lsp_root)
    assert f.mean() == pytest.approx(0.073, abs=0.001)
    assert set(np.unique(f)) == {0.0, 1.0}
    sw = np.hypot(x[8] - x[9], y[8] - y[9])
    torso = np.hypot((x[8] + x[9] - x[2] - x[3]) / 2, (y[8] + y[9] - y[2] - y[3]) / 2)
    flagged = (f[8] == 1) | (f[9] == 1)
    assert flagged.sum() == 523
    assert np.median((sw / torso)[flagged]) < 0.5 * np.median((sw / torso)[~flagged])


def test_left_right_relabelled_per_example(lsp, lsp_root):
    x, _, _ = read_joints_mat(lsp_root)
    assert np.mean(x[9] < x[8]) == pytest.approx(0.332, abs=0.001)  # person-centric source
    j = np.stack([r.joints for r in lsp])
    assert (j[:, J["l_shoulder"], 0] <= j[:, J["r_shoulder"], 0]).all()
    assert sum(r.swapped_lr for r in lsp) == 1323


def test_training_drops(lsp, lsp_root):
    kept, counts = training_records("lsp", lsp_root)
    assert counts == {
        "missing_joint": 0,
        "occluded_joint": 395,
        "joint_outside_image": 0,
        "total": 1000,
        "kept": 605,
    }
    assert all(r.visible.all() for r in kept)
    test = [r for r in lsp if r.split == "test"]
    assert len(test) == 1000 and sum(not r.visible.all() for r in test) > 0  # kept


def test_visible_joints_inside_images(lsp):
    for r in lsp:
        w, h = r.image_size
        v = r.joints[r.visible]
        assert (v >= -1.5).all() and (v[:, 0] <= w + 0.5).all() and (v[:, 1] <= h + 0.5).all()
