"""Buffy reader (hmlpe.data.datasets.buffy): hand-made sticks first, then the real data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from hmlpe.data.datasets._io import DatasetFileError
from hmlpe.data.datasets.buffy import (
    joints_from_sticks,
    load_detections,
    nearest_ends,
    parse_sticks_file,
    read_buffy,
)
from hmlpe.data.datasets.convention import needs_swap
from hmlpe.skeleton import JOINT_INDEX as J

# One frame, 1-based: torso, LUA, RUA, LLA, RLA, head. The left lower arm is stored
# wrist-to-elbow (reversed) and the right upper arm elbow-to-shoulder (reversed).
FRAME = """4508
 101 101 101 201
 81 101 71 151
 141 151 121 101
 51 191 73 153
 131 153 141 201
 101 41 101 91
"""


def _write_root(tmp_path, text=FRAME, size=(300, 250)):
    (tmp_path / "buffy" / "data").mkdir(parents=True)
    (tmp_path / "buffy" / "data" / "buffy_s5e3_sticks.txt").write_text(text)
    img = tmp_path / "buffy" / "images" / "buffy_s5e3_original"
    img.mkdir(parents=True)
    Image.new("RGB", size).save(img / "004508.jpg")
    return tmp_path


def test_hand_made_frame_gives_the_right_joints(tmp_path):
    root = _write_root(tmp_path)
    [rec] = read_buffy(root, episodes=(3,))
    assert rec.example == "s5e3_004508" and rec.split == "train" and rec.image_size == (300, 250)
    j = rec.joints
    # left arm: upper (80,100)-(70,150), lower reversed (50,190)-(72,152): elbow = mean of
    # (70,150) and (72,152); shoulder (80,100); wrist (50,190). All 0-based (minus 1).
    np.testing.assert_allclose(j[J["l_elbow"]], [71, 151])
    np.testing.assert_allclose(j[J["l_shoulder"]], [80, 100])
    np.testing.assert_allclose(j[J["l_wrist"]], [50, 190])
    # right arm: upper reversed (140,150)-(120,100); lower (130,152)-(140,200).
    np.testing.assert_allclose(j[J["r_elbow"]], [135, 151])
    np.testing.assert_allclose(j[J["r_shoulder"]], [120, 100])
    np.testing.assert_allclose(j[J["r_wrist"]], [140, 200])
    np.testing.assert_allclose(j[J["nose"]], [100, 65])  # head stick midpoint
    np.testing.assert_allclose(j[J["neck"]], [100, 95])  # mean of (100,90) and (100,100)
    assert rec.visible.all()
    np.testing.assert_allclose(rec.sticks[0], [[100, 100], [100, 200]])


def test_malformed_sticks_file_names_the_file(tmp_path):
    root = _write_root(tmp_path, FRAME.replace(" 51 191 73 153", " 51 191 73"))
    with pytest.raises(DatasetFileError, match="buffy_s5e3_sticks.txt"):
        read_buffy(root, episodes=(3,))
    with pytest.raises(DatasetFileError, match="not found"):
        parse_sticks_file(tmp_path / "nope.txt")


coord = st.floats(0, 700, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(coord, min_size=24, max_size=24), st.lists(st.booleans(), min_size=6, max_size=6))
def test_joints_do_not_depend_on_stick_end_order(vals, flips):
    s = np.array(vals).reshape(6, 2, 2)
    flipped = s.copy()
    for k, f in enumerate(flips):
        if f:
            flipped[k] = flipped[k, ::-1]
    a, b = joints_from_sticks(s), joints_from_sticks(flipped)
    # equal unless two end pairs tie exactly (then either is "nearest")
    if not np.allclose(a, b):
        for u, lo in ((1, 3), (2, 4), (5, 0)):
            d = np.sort(np.linalg.norm(s[u][:, None] - s[lo][None], axis=-1).ravel())
            if np.isclose(d[0], d[1]):
                return
        raise AssertionError((a, b))


def pcp_eq6(pred, gt, alpha=0.5):
    """Eq. 6 (protocol facts): both ends within alpha * L of the GT ends, in either order."""
    L = np.linalg.norm(gt[1] - gt[0])
    d = lambda p, q: np.linalg.norm(p - q)  # noqa: E731
    return (
        max(d(pred[0], gt[0]), d(pred[1], gt[1])) <= alpha * L
        or max(d(pred[0], gt[1]), d(pred[1], gt[0])) <= alpha * L
    )


@pytest.fixture(scope="module")
def buffy(buffy_root):
    return read_buffy(buffy_root)


def test_counts_and_splits(buffy):
    assert len(buffy) == 748
    assert sum(r.split == "train" for r in buffy) == 472
    assert sum(r.split == "test" for r in buffy) == 276
    assert {r.episode for r in buffy if r.split == "train"} == {3, 4}
    assert len({r.example for r in buffy}) == 748


ARMS = (
    (1, "l_shoulder", "l_elbow"),
    (2, "r_shoulder", "r_elbow"),
    (3, "l_elbow", "l_wrist"),
    (4, "r_elbow", "r_wrist"),
)


def _pcp_failures(records):
    return [
        (r.example, a, b)
        for r in records
        for k, a, b in ARMS
        if not pcp_eq6(r.joints[[J[a], J[b]]], r.sticks[k])
    ]


def test_gt_joints_score_100_percent_pcp_on_the_test_set(buffy):
    assert _pcp_failures([r for r in buffy if r.split == "test"]) == []  # 1104 of 1104 arms


def test_gt_joints_pcp_on_the_training_set(buffy):
    # 5 of 1888 training arms fail: a stick shorter than twice the gap between the upper-
    # and lower-arm sticks, so the averaged elbow is more than alpha*L from that stick's end.
    assert sorted(_pcp_failures([r for r in buffy if r.split == "train"])) == [
        ("s5e3_005468", "r_elbow", "r_wrist"),
        ("s5e3_032400", "r_elbow", "r_wrist"),
        ("s5e3_050566", "l_shoulder", "l_elbow"),
        ("s5e3_050577", "l_shoulder", "l_elbow"),
        ("s5e3_050601", "l_shoulder", "l_elbow"),
    ]


def test_143_of_552_test_arms_are_stored_out_of_order(buffy):
    # protocol facts: upper arm wrist-to-shoulder, or the sticks meet at their first ends
    n = sum(
        nearest_ends(r.sticks[u], r.sticks[lo]) != (1, 0)
        for r in buffy
        if r.split == "test"
        for u, lo in ((1, 3), (2, 4))
    )
    assert n == 143


def test_observer_centric_and_inside_images(buffy):
    assert not any(needs_swap(r.joints) or r.swapped_lr for r in buffy)
    for r in buffy:
        w, h = r.image_size
        assert r.visible.all() and (w, h) == (720, 405)
        assert (r.joints > -0.5 - 1).all() and (r.joints[:, 0] < w + 0.5).all()
        assert (r.joints[:, 1] < h + 0.5).all()


def test_detections_file(buffy_root):
    det = load_detections(buffy_root)
    assert len(det) == 276
    assert sum(len(d) == 0 for d in det.values()) == 6
    assert sum(len(d) > 1 for d in det.values()) == 92
    np.testing.assert_allclose(det["s5e2_000063"], [[108, 160, 271, 307]])  # 1-based minus 1
