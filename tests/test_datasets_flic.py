"""FLIC reader (hmlpe.data.datasets.flic)."""

import numpy as np
import pytest

from hmlpe.data.datasets import load_dataset, training_records
from hmlpe.data.datasets.flic import LOOKUP_PART, convert, read_examples
from hmlpe.skeleton import JOINT_INDEX as J


def test_convert_hand_made():
    c = np.full((2, 29), np.nan)
    for name, xy in {
        "lsho": (301, 101),
        "rsho": (201, 111),
        "lelb": (311, 201),
        "lwri": (321, 301),
        "relb": (191, 201),
        "nose": (251, 51),
        "lhip": (281, 301),
        "rhip": (221, 301),
    }.items():
        c[:, LOOKUP_PART.index(name)] = xy
    joints, visible, hips = convert(c)
    np.testing.assert_allclose(joints[J["neck"]], [250, 105])  # mid-shoulders, 0-based
    np.testing.assert_allclose(joints[J["nose"]], [250, 50])
    assert np.isnan(joints[J["r_wrist"]]).all() and not visible[J["r_wrist"]]
    assert visible.sum() == 7
    np.testing.assert_allclose(hips, [[280, 300], [220, 300]])


@pytest.fixture(scope="module")
def flic(flic_root):
    return load_dataset("flic", root=flic_root)


def test_counts(flic):
    assert len(flic) == 5003
    assert sum(r.split == "train" for r in flic) == 3987
    assert sum(r.split == "test" for r in flic) == 1016
    assert all(r.visible.all() for r in flic)
    assert all(r.image.is_file() for r in flic[::250])


def test_left_right_relabelled_per_example(flic, flic_root):
    ex = read_examples(flic_root)
    raw = np.stack([e.coords for e in ex])
    assert np.mean(raw[:, 0, 0] < raw[:, 0, 3]) == pytest.approx(0.0494, abs=0.0005)
    j = np.stack([r.joints for r in flic])
    assert (j[:, J["l_shoulder"], 0] < j[:, J["r_shoulder"], 0]).all()
    assert sum(r.swapped_lr for r in flic) == 4756
    # hips follow the arms
    r = next(r for r in flic if r.swapped_lr)
    i = r.extra["index"]
    np.testing.assert_allclose(r.extra["r_hip"], raw[i, :, LOOKUP_PART.index("lhip")] - 1)
    np.testing.assert_allclose(r.joints[J["r_shoulder"]], raw[i, :, 0] - 1)


def test_neck_and_torso_box(flic):
    for r in flic[::97]:
        np.testing.assert_allclose(
            r.joints[J["neck"]], (r.joints[J["l_shoulder"]] + r.joints[J["r_shoulder"]]) / 2
        )
        x1, y1, x2, y2 = r.torso_box
        assert 0 <= x1 < x2 <= 720 and 0 <= y1 < y2 <= 480 and r.image_size == (720, 480)


def test_training_drops(flic_root):
    kept, counts = training_records("flic", flic_root)
    assert counts == {
        "missing_joint": 0,
        "occluded_joint": 0,
        "joint_outside_image": 5,
        "total": 3987,
        "kept": 3982,
    }
    for r in kept:
        w, h = r.image_size
        assert (r.joints >= -1.5).all() and (r.joints[:, 0] <= w + 0.5).all()
