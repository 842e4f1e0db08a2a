"""Boxes (hmlpe.data.boxes): hand-computed cases, then the Buffy association counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmlpe.data.boxes import (
    buffy_gt_window,
    buffy_test_box,
    clip_box,
    flic_test_box,
    match_detections,
    training_box,
)
from hmlpe.data.datasets import load_dataset
from hmlpe.data.datasets.buffy import load_detections
from hmlpe.errors import ConfigError


def test_buffy_test_box_hand_computed():
    # window 100 wide, 80 high, centre x 150: width 170, top kept, bottom top + 4.2 * 40
    np.testing.assert_allclose(
        buffy_test_box([100, 50, 200, 130], (720, 405)), [65, 50, 235, 50 + 168]
    )
    # clipped to the image
    np.testing.assert_allclose(buffy_test_box([0, 300, 100, 380], (720, 405)), [0, 300, 135, 404])


def test_flic_test_box_hand_computed():
    # torso 40 x 100 at x 200..240, y 100..200: width 140 about x 220; height grows by
    # 3.5 * 50 = 175, half above, half below
    np.testing.assert_allclose(
        flic_test_box([200, 100, 240, 200], (720, 480)), [150, 12.5, 290, 287.5]
    )


def test_training_box_hand_computed():
    pts = np.array([[10, 20], [50, 100], [np.nan, np.nan]])
    # tight box 40 x 80; margin 0.25 * 80 = 20 on every side
    np.testing.assert_allclose(training_box(pts, (200, 200), margin=0.25), [0, 0, 70, 120])
    np.testing.assert_allclose(training_box(pts, (60, 110), margin=0.25), [0, 0, 59, 109])
    with pytest.raises(ValueError, match="no annotated point"):
        training_box(np.full((3, 2), np.nan), (10, 10))


def test_bad_boxes_raise_naming_box_and_image():
    with pytest.raises(ValueError, match=r"outside the image 100x50"):
        clip_box([200, 10, 300, 40], (100, 50))
    with pytest.raises(ValueError, match=r"degenerate box \[10.0, 10.0, 10.0, 40.0\]"):
        clip_box([10, 10, 10, 40], (100, 50))
    with pytest.raises(ValueError, match="outside the image"):
        flic_test_box([-500, -500, -400, -450], (720, 480))
    with pytest.raises(ValueError, match="4 finite numbers"):
        clip_box([0, 0, np.nan, 1], (10, 10))


def test_gt_window_hand_computed():
    s = np.zeros((6, 2, 2))
    s[0] = [[100, 100], [100, 200]]  # torso, centre (100, 150)
    s[5] = [[110, 40], [110, 90]]  # head, centre (110, 65)
    # top = min(100, 40, 150) = 40; bottom = max(40, 90, 150) = 150; height 110
    w = 110 / 0.9
    np.testing.assert_allclose(buffy_gt_window(s), [105 - w / 2, 40, 105 + w / 2, 150])


def test_association_rules_differ():
    gt = [0, 0, 100, 100]
    looser = [0, 0, 100, 70]  # inter 7000 > 0.5 * 3000; IoU 0.7 > 0.5: both
    only_paper = [0, 0, 100, 40]  # inter 4000 > 0.5 * 6000 = 3000; IoU 0.4: paper only
    far = [300, 300, 400, 400]
    assert match_detections([far, only_paper], gt, "paper") == 1
    assert match_detections([far, only_paper], gt, "buffy") is None
    assert match_detections([only_paper, looser], gt, "paper") == 1  # highest IoU wins
    assert match_detections(np.zeros((0, 4)), gt) is None
    with pytest.raises(
        ConfigError, match="data.buffy_association=iou: expected one of paper, buffy"
    ):
        match_detections([gt], gt, "iou")


@settings(max_examples=100, deadline=None)
@given(st.floats(-50, 700), st.floats(-50, 400), st.floats(2, 300), st.floats(2, 300))
def test_clipped_boxes_stay_in_image(x, y, w, h):
    try:
        b = clip_box([x, y, x + w, y + h], (720, 405))
    except ValueError:
        return
    assert 0 <= b[0] < b[2] <= 719 and 0 <= b[1] < b[3] <= 404


def test_buffy_association_counts(buffy_root):
    test = load_dataset("buffy", root=buffy_root, split="test")
    det = load_detections(buffy_root)
    n = {
        rule: sum(
            match_detections(det[r.example], buffy_gt_window(r.sticks), rule) is not None
            for r in test
        )
        for rule in ("paper", "buffy")
    }
    assert n == {"paper": 267, "buffy": 263}
