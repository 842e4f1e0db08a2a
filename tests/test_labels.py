"""Part indicator maps, eq. 2 (hmlpe.data.labels)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmlpe.config import LabelConfig
from hmlpe.data.labels import (
    labels_from_joints,
    part_indicator_map,
    part_indicator_maps,
    part_overlap_lengths,
    window_boxes,
)
from hmlpe.skeleton import JOINT_MIRROR, PART_MIRROR, parts_from_joints

IT = LabelConfig(layout="itheano")
UNI = LabelConfig()


# --- windows ---------------------------------------------------------------------------------
def test_uniform_windows_tile_the_crop():
    b = window_boxes()
    assert b.shape == (8, 8, 4)
    s = 82 / 7
    assert np.allclose(b[2, 3], [3 * s, 2 * s, 3 * s + 30, 2 * s + 30])
    assert b[0, 0].tolist() == [0, 0, 30, 30]
    assert b[7, 7].tolist() == [82, 82, 112, 112]
    assert np.allclose(b[..., 2] - b[..., 0], 30) and np.allclose(b[..., 3] - b[..., 1], 30)


def test_uniform_windows_mirror_symmetric():
    b = window_boxes()
    x1, x2 = b[0, :, 0], b[0, :, 2]
    assert np.allclose(112 - x2[::-1], x1, rtol=0, atol=1e-12)


def test_itheano_windows_overhang():
    b = window_boxes(layout="itheano")
    assert b[0, :, 0].tolist() == [0, 12, 24, 36, 48, 60, 72, 84]
    assert b[7, 7].tolist() == [84, 84, 114, 114]


def test_bad_layout():
    with pytest.raises(ValueError, match="layout"):
        window_boxes(layout="nope")


# --- hand-computed maps ----------------------------------------------------------------------
def test_horizontal_stick_length_40_itheano():
    # y = 15 lies in rows 0 ([0,30]) and 1 ([12,42]); overlaps along x with columns
    # [0,30]: 30, [12,42]: 28, [24,54]: 16, [36,66]: 4; threshold 0.3 * 40 = 12.
    m = part_indicator_map([0, 15], [40, 15], layout="itheano")
    expect = np.zeros((8, 8), bool)
    expect[0:2, 0:3] = True
    assert np.array_equal(m, expect)
    inside, length = part_overlap_lengths(np.array([[0.0, 15], [40, 15]]), IT)
    assert length == 40
    assert np.allclose(inside[0, :4], [30, 28, 16, 4])
    assert inside[2].tolist() == [0] * 8


def test_threshold_is_strict():
    # stick x in [39, 49] at y = 5, length 10, threshold 0.3 * 10 = 3.0 exactly.
    # Column 1 ([12, 42]) holds exactly 3 -> not marked; columns 2 ([24,54]) and 3 ([36,66]) hold 10.
    m = part_indicator_map([39, 5], [49, 5], layout="itheano")
    assert m[0].tolist() == [False, False, True, True, False, False, False, False]
    m = part_indicator_map([39, 5], [49, 5], layout="itheano", beta=0.29)
    assert m[0, 1]


def test_stick_on_window_edge_counts():
    # a vertical stick on x = 30: the right edge of column 0 and inside column 1 and 2 (itheano)
    m = part_indicator_map([30, 2], [30, 8], layout="itheano")
    assert m[0, :4].tolist() == [True, True, True, False]


def test_zero_length_and_nan_sticks_mark_nothing():
    assert not part_indicator_map([10, 10], [10, 10]).any()
    assert not part_indicator_map([np.nan, 10], [20, 10]).any()
    parts = np.full((2, 7, 2, 2), 50.0)
    parts[1, 3, 0, 0] = np.nan
    assert not part_indicator_maps(parts, UNI).any()


def test_stick_inside_one_window_marks_it():
    m = part_indicator_map([3, 3], [20, 25])  # inside window (0,0) only among windows
    assert m[0, 0]
    # uniform window (0,1) is [11.71, 41.71] in x: stick part with x >= 11.71 is ~ half: marked too
    assert m.sum() >= 1


def test_itheano_stick_in_overhang_counts():
    # stick entirely beyond the crop edge (x in [112, 114]) still lies in the last column
    m = part_indicator_map([112.5, 105], [113.5, 106], layout="itheano")
    assert m[7, 7] and m.sum() == 1
    assert not part_indicator_map([112.5, 105], [113.5, 106]).any()


def test_batch_shapes_and_errors():
    with pytest.raises(ValueError, match="parts"):
        part_indicator_maps(np.zeros((3, 6, 2, 2)), UNI)
    out = labels_from_joints(np.full((5, 8, 2), 30.0), UNI)
    assert out.shape == (5, 7, 8, 8) and out.dtype == bool


# --- properties ------------------------------------------------------------------------------
coord = st.floats(-20, 132, allow_nan=False, allow_infinity=False)
# Points of the lattice Z/8 + 1/3 never lie on a window edge (multiples of 82/7 or 12, plus 30)
# nor on a mirrored one, so an axis-parallel stick cannot sit exactly on an edge, where the
# clipped length jumps and rounding of x -> 112 - x decides the label.
lattice = st.integers(-160, 1056).map(lambda i: i / 8 + 1 / 3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(coord, coord, coord, coord), min_size=7, max_size=7),
    st.sampled_from(["uniform", "itheano"]),
)
def test_batch_equals_single(sticks, layout):
    parts = np.array(sticks, float).reshape(1, 7, 2, 2)
    cfg = LabelConfig(layout=layout)
    batch = part_indicator_maps(parts, cfg)[0]
    for p in range(7):
        single = part_indicator_map(parts[0, p, 0], parts[0, p, 1], layout=layout)
        assert np.array_equal(batch[p], single)


@settings(max_examples=60, deadline=None)
@given(coord, coord, coord, coord)
def test_end_order_irrelevant(a, b, c, d):
    m1 = part_indicator_map([a, b], [c, d])
    m2 = part_indicator_map([c, d], [a, b])
    inside, length = part_overlap_lengths(np.array([[a, b], [c, d]]), UNI)
    border = np.abs(inside - 0.3 * length) < 1e-9 * (1 + length)
    assert np.array_equal(m1[~border], m2[~border])


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0, 82),
    st.floats(0, 82),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_stick_inside_a_window_marks_it(x0, y0, u1, v1, u2, v2):
    # a window at (x0, y0) of side 30 need not be a grid window: take the grid window (r, c)
    # whose box contains the stick
    b = window_boxes()
    r, c = int(y0 // (82 / 7)), int(x0 // (82 / 7))
    r, c = min(r, 7), min(c, 7)
    x1, y1, x2, y2 = b[r, c]
    p1 = [x1 + u1 * (x2 - x1), y1 + v1 * (y2 - y1)]
    p2 = [x1 + u2 * (x2 - x1), y1 + v2 * (y2 - y1)]
    if np.hypot(p1[0] - p2[0], p1[1] - p2[1]) < 1e-6:
        return
    assert part_indicator_map(p1, p2)[r, c]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(lattice, lattice), min_size=8, max_size=8))
def test_mirror_equivariance_uniform(pts):
    """Labels of mirrored joints = labels flipped left-right with left/right parts swapped."""
    joints = np.array(pts, float)[None]
    mirrored = joints[:, JOINT_MIRROR].copy()
    mirrored[..., 0] = 112 - mirrored[..., 0]
    lab = labels_from_joints(joints, UNI)
    lab_m = labels_from_joints(mirrored, UNI)
    expect = lab[:, PART_MIRROR, :, ::-1]
    inside, length = part_overlap_lengths(parts_from_joints(joints), UNI)
    border = np.abs(inside - 0.3 * length[..., None, None]) < 1e-9 * (1 + length[..., None, None])
    border = border | border[:, PART_MIRROR, :, ::-1]
    assert np.array_equal(lab_m[~border], expect[~border])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(lattice, lattice), min_size=8, max_size=8),
    st.integers(-3, 3),
    st.integers(-3, 3),
)
def test_translation_by_grid_step_itheano(pts, dr, dc):
    """In the itheano layout (stride 12) shifting a stick by 12 px shifts its map by one cell,
    away from the border."""
    joints = np.array(pts, float)[None]
    shifted = joints + np.array([12 * dc, 12 * dr])
    lab = labels_from_joints(joints, IT)[0]
    lab_s = labels_from_joints(shifted, IT)[0]
    rs = slice(max(0, -dr), 8 - max(0, dr))
    cs = slice(max(0, -dc), 8 - max(0, dc))
    rt = slice(max(0, dr), 8 - max(0, -dr))
    ct = slice(max(0, dc), 8 - max(0, -dc))
    inside, length = part_overlap_lengths(parts_from_joints(joints), IT)
    border = np.abs(inside[0] - 0.3 * length[0, :, None, None]) < 1e-9 * (
        1 + length[0, :, None, None]
    )
    ok = ~border[:, rs, cs]
    assert np.array_equal(lab[:, rs, cs][ok], lab_s[:, rt, ct][ok])
