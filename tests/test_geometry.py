"""Segment / closed-box clipping (hmlpe.geometry)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmlpe.geometry import clip_parameters, segment_length_in_box

BOX = np.array([0.0, 0.0, 10.0, 10.0])


def L(p1, p2, box=BOX):
    return float(
        segment_length_in_box(np.array(p1, float), np.array(p2, float), np.array(box, float))
    )


# --- hand-computed cases ---------------------------------------------------------------------
def test_fully_inside():
    assert L([1, 1], [4, 5]) == pytest.approx(5.0)


def test_fully_outside():
    assert L([11, 0], [20, 5]) == 0.0
    assert L([-5, 12], [15, 12]) == 0.0


def test_horizontal_crossing():
    assert L([-5, 3], [15, 3]) == pytest.approx(10.0)
    assert L([5, 3], [15, 3]) == pytest.approx(5.0)


def test_vertical_crossing():
    assert L([2, -3], [2, 4]) == pytest.approx(4.0)


def test_diagonal_crossing():
    # y = x from (-5,-5) to (15,15): inside from (0,0) to (10,10)
    assert L([-5, -5], [15, 15]) == pytest.approx(10 * np.sqrt(2))


def test_corner_clip():
    # passes through (8, 10) and (10, 8): a corner triangle, clipped length 2*sqrt(2)
    assert L([6, 12], [12, 6]) == pytest.approx(2 * np.sqrt(2))


def test_on_edges_closed_box():
    assert L([2, 0], [7, 0]) == pytest.approx(5.0)  # on the bottom edge
    assert L([10, -2], [10, 3]) == pytest.approx(3.0)  # on the right edge, partly outside
    assert L([10, 10], [20, 20]) == 0.0  # touches a corner only


def test_degenerate_segment():
    assert L([3, 3], [3, 3]) == 0.0
    assert L([30, 3], [30, 3]) == 0.0


def test_reversed_direction_same_length():
    assert L([15, 3], [-5, 3]) == pytest.approx(10.0)


def test_nan_gives_nan():
    assert np.isnan(L([np.nan, 3], [5, 3]))


def test_broadcast_shapes():
    p1 = np.zeros((3, 5, 2))
    p2 = np.ones((3, 5, 2))
    boxes = np.tile(BOX, (4, 6, 1))
    out = segment_length_in_box(p1, p2, boxes)
    assert out.shape == (3, 5, 4, 6)
    assert np.allclose(out, np.sqrt(2))


def test_shape_errors():
    with pytest.raises(ValueError, match="boxes"):
        segment_length_in_box(np.zeros(2), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="p2"):
        segment_length_in_box(np.zeros(2), np.ones((2, 2)), BOX)


# --- properties ------------------------------------------------------------------------------
coord = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
points = st.tuples(coord, coord)


@st.composite
def boxes(draw):
    x1, x2 = sorted((draw(coord), draw(coord)))
    y1, y2 = sorted((draw(coord), draw(coord)))
    return np.array([x1, y1, x2, y2])


def brute_length(p1, p2, box, n=20001):
    t = np.linspace(0, 1, n)
    pts = p1[None] + t[:, None] * (p2 - p1)[None]
    inside = (
        (pts[:, 0] >= box[0])
        & (pts[:, 0] <= box[2])
        & (pts[:, 1] >= box[1])
        & (pts[:, 1] <= box[3])
    )
    return inside.mean() * np.hypot(*(p2 - p1))


@settings(max_examples=150, deadline=None)
@given(points, points, boxes())
def test_bounded_and_symmetric(a, b, box):
    p1, p2 = np.array(a), np.array(b)
    ln = float(segment_length_in_box(p1, p2, box))
    total = np.hypot(*(p2 - p1))
    assert 0.0 <= ln <= total + 1e-9
    assert ln == pytest.approx(float(segment_length_in_box(p2, p1, box)), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(points, points, boxes())
def test_matches_dense_sampling(a, b, box):
    p1, p2 = np.array(a), np.array(b)
    ln = float(segment_length_in_box(p1, p2, box))
    total = np.hypot(*(p2 - p1))
    assert ln == pytest.approx(brute_length(p1, p2, box), abs=2e-4 * total + 1e-9)


@settings(max_examples=100, deadline=None)
@given(points, points, boxes(), st.floats(0.05, 0.95))
def test_additive_under_split(a, b, box, s):
    """Splitting a segment at an interior point splits its clipped length."""
    p1, p2 = np.array(a), np.array(b)
    m = p1 + s * (p2 - p1)
    whole = float(segment_length_in_box(p1, p2, box))
    parts = float(segment_length_in_box(p1, m, box)) + float(segment_length_in_box(m, p2, box))
    assert whole == pytest.approx(parts, abs=1e-7 * (1 + np.hypot(*(p2 - p1))))


@settings(max_examples=100, deadline=None)
@given(points, points, boxes())
def test_inside_box_means_full_length(a, b, box):
    p1 = np.clip(np.array(a), box[:2], box[2:])
    p2 = np.clip(np.array(b), box[:2], box[2:])
    ln = float(segment_length_in_box(p1, p2, box))
    assert ln == pytest.approx(np.hypot(*(p2 - p1)), rel=1e-9, abs=1e-9)


def test_clip_parameters_interval():
    t0, t1 = clip_parameters(np.array([-5.0, 3.0]), np.array([15.0, 3.0]), BOX)
    assert float(t0) == pytest.approx(0.25) and float(t1) == pytest.approx(0.75)
