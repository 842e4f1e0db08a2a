"""Random crops and mirrors, paper 4.1 (hmlpe.data.augment)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmlpe.config import LabelConfig
from hmlpe.data.augment import (
    affine_crop_and_mirror,
    crop_and_mirror,
    mirror,
    mirror_joints,
    random_affine_crops,
    random_crops_and_mirrors,
)
from hmlpe.data.labels import labels_from_joints
from hmlpe.skeleton import JOINT_INDEX, PART_MIRROR


def test_mirror_maps_pixel_centres():
    img = np.zeros((4, 6, 3), np.uint8)
    img[1, 1] = 255  # centre of pixel (row 1, col 1) is (1.5, 1.5)
    joints = np.zeros((8, 2))
    joints[JOINT_INDEX["nose"]] = [1.5, 1.5]
    joints[JOINT_INDEX["l_wrist"]] = [0.0, 2.0]
    joints[JOINT_INDEX["r_wrist"]] = [6.0, 3.0]
    img_m, joints_m = mirror(img, joints)
    assert img_m[1, 4].tolist() == [255, 255, 255]  # column W - 1 - c = 4
    assert joints_m[JOINT_INDEX["nose"]].tolist() == [4.5, 1.5]  # centre of column 4
    # left and right swapped, x' = W - x
    assert joints_m[JOINT_INDEX["r_wrist"]].tolist() == [6.0, 2.0]
    assert joints_m[JOINT_INDEX["l_wrist"]].tolist() == [0.0, 3.0]


def test_crop_shifts_joints():
    imgs = np.arange(2 * 10 * 10 * 3, dtype=np.uint8).reshape(2, 10, 10, 3)
    joints = np.full((2, 8, 2), 5.5)
    crops, j = crop_and_mirror(
        imgs, joints, np.array([[2, 3], [0, 0]]), np.array([False, False]), out=6
    )
    assert np.array_equal(crops[0], imgs[0, 3:9, 2:8])
    assert np.allclose(j[0], [3.5, 2.5]) and np.allclose(j[1], 5.5)


def test_crop_then_mirror_equals_manual():
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (3, 20, 20, 3), dtype=np.uint8)
    joints = rng.uniform(0, 20, (3, 8, 2))
    offsets = np.array([[0, 4], [4, 0], [2, 2]])
    flips = np.array([True, False, True])
    crops, j = crop_and_mirror(imgs, joints, offsets, flips, out=16)
    for i in range(3):
        ox, oy = offsets[i]
        c = imgs[i, oy : oy + 16, ox : ox + 16]
        jj = joints[i] - [ox, oy]
        if flips[i]:
            c, jj = mirror(c, jj)
        assert np.array_equal(crops[i], c)
        assert np.allclose(j[i], jj)


def test_nan_joints_stay_nan():
    imgs = np.zeros((1, 16, 16, 3), np.uint8)
    joints = np.full((1, 8, 2), 4.0)
    joints[0, 3] = np.nan
    _, j = crop_and_mirror(imgs, joints, np.array([[1, 1]]), np.array([True]), out=12)
    assert np.isnan(j[0, 2]).all() and np.isfinite(j[0, 3]).all()  # joint 3 moved to index 2


def test_errors():
    imgs = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="joints"):
        crop_and_mirror(imgs, np.zeros((2, 7, 2)), np.zeros((2, 2), int), np.zeros(2, bool), out=8)
    with pytest.raises(ValueError, match="offsets"):
        crop_and_mirror(
            imgs, np.zeros((2, 8, 2)), np.array([[9, 0], [0, 0]]), np.zeros(2, bool), out=8
        )


# --- properties ------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_mirror_twice_is_identity(h, w, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    joints = rng.uniform(-5, 20, (8, 2))
    img2, joints2 = mirror(*mirror(img, joints))
    assert np.array_equal(img2, img)
    assert np.allclose(joints2, joints, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_joints_keep_their_pixel_content(seed, flip):
    """A joint at the centre of a marked pixel lands on the same marked pixel of the crop."""
    rng = np.random.default_rng(seed)
    n, size, out = 4, 32, 24
    imgs = np.zeros((n, size, size, 3), np.uint8)
    cols = rng.integers(0, size, (n, 8))
    rows = rng.integers(0, size, (n, 8))
    for i in range(n):
        for k in range(8):
            imgs[i, rows[i, k], cols[i, k]] = [k + 1, 100 + k, 200]
    joints = np.stack([cols + 0.5, rows + 0.5], axis=-1).astype(float)
    offsets = rng.integers(0, size - out + 1, (n, 2))
    crops, j = crop_and_mirror(imgs, joints, offsets, np.full(n, flip), out=out)
    for i in range(n):
        for k in range(8):
            x, y = j[i, k]
            c, r = int(np.floor(x)), int(np.floor(y))
            if 0 <= r < out and 0 <= c < out:
                assert crops[i, r, c, 2] == 200
                assert x - c == 0.5 and y - r == 0.5


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_mirrored_labels_are_flipped_labels(seed):
    rng = np.random.default_rng(seed)
    # avoid exact ties at eq. 2's threshold: coordinates on a 1e-3 grid, each moved off it by
    # its own amount (one shared offset left ties: a stick 100 px wide crosses a 30 px window
    # at exactly beta = 0.3 of its length, decided by rounding; 8 of 20,000 seeds)
    joints = rng.uniform(-10, 122, (16, 8, 2)).round(3) + rng.uniform(1e-5, 1e-4, (16, 8, 2))
    cfg = LabelConfig()
    lab = labels_from_joints(joints, cfg)
    lab_m = labels_from_joints(mirror_joints(joints, 112), cfg)
    assert np.array_equal(lab_m, lab[:, PART_MIRROR, :, ::-1])


def test_random_crops_distribution_and_timing():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (128, 128, 128, 3), dtype=np.uint8)
    joints = rng.uniform(0, 128, (128, 8, 2))
    crops, j = random_crops_and_mirrors(imgs, joints, rng)
    assert crops.shape == (128, 112, 112, 3) and crops.dtype == np.uint8
    assert j.shape == (128, 8, 2)
    # same seed, same result
    a = random_crops_and_mirrors(imgs, joints, np.random.default_rng(5))
    b = random_crops_and_mirrors(imgs, joints, np.random.default_rng(5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_random_offsets_cover_range():
    rng = np.random.default_rng(3)
    imgs = np.zeros((2000, 20, 20, 1), np.uint8)
    joints = np.zeros((2000, 8, 2))
    _, j = random_crops_and_mirrors(imgs, joints, rng, out=16)
    # unflipped joints at 0 become -ox; flipped become 16 + ox after the swap
    xs = j[:, 0, 0]
    ox = np.where(xs <= 0, -xs, xs - 16)
    assert set(np.round(ox).astype(int)) == set(range(5))
    flipped = xs > 0
    assert 0.45 < flipped.mean() < 0.55


def test_affine_identity_equals_crop_and_mirror():
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (5, 40, 40, 3), dtype=np.uint8)
    joints = rng.uniform(0, 40, (5, 8, 2))
    offsets = rng.integers(0, 9, (5, 2))
    flips = np.array([0, 1, 1, 0, 1], bool)
    a, ja = crop_and_mirror(imgs, joints, offsets, flips, out=32)
    b, jb = affine_crop_and_mirror(imgs, joints, offsets, np.zeros(5), np.ones(5), flips, out=32)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ja, jb, atol=1e-12)


def test_affine_quarter_turn_by_hand():
    """4x4 image, crop the whole of it, +90 degrees: output (u, v) reads q = c + R (p - c) with
    c = (2, 2); the output pixel centre (0.5, 0.5) reads (3.5, 0.5), i.e. column 3, row 0."""
    img = np.arange(16, dtype=np.uint8).reshape(1, 4, 4, 1)
    joints = np.zeros((1, 8, 2))
    joints[0, 0] = (3.5, 0.5)  # the centre of image pixel (row 0, column 3)
    out, j = affine_crop_and_mirror(
        img, joints, np.zeros((1, 2)), np.array([np.pi / 2]), np.ones(1), np.zeros(1, bool), out=4
    )
    assert out[0, 0, 0, 0] == img[0, 0, 3, 0]
    np.testing.assert_allclose(j[0, 0], (0.5, 0.5), atol=1e-12)
    # A quarter turn is a permutation of the pixels: np.rot90 of the image.
    np.testing.assert_array_equal(out[0, :, :, 0], np.rot90(img[0, :, :, 0], k=1))


def test_affine_scale_two_magnifies_about_the_centre():
    img = np.zeros((1, 8, 8, 1), np.uint8)
    joints = np.full((1, 8, 2), 4.0)
    joints[0, 1] = (5.0, 4.0)  # one pixel right of the centre -> two pixels right
    _, j = affine_crop_and_mirror(
        img, joints, np.zeros((1, 2)), np.zeros(1), np.full(1, 2.0), np.zeros(1, bool), out=8
    )
    np.testing.assert_allclose(j[0, 0], (4.0, 4.0))
    np.testing.assert_allclose(j[0, 1], (6.0, 4.0))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_affine_joints_follow_their_pixels(seed, flip):
    """A bright 3x3 blob centred on a joint is brightest, in the warped crop, next to where the
    warped joint lands (rotation up to 30 degrees, scale 0.8-1.25)."""
    rng = np.random.default_rng(seed)
    size, out = 48, 40
    img = np.zeros((1, size, size, 1), np.uint8)
    r, c = rng.integers(12, size - 12, 2)
    img[0, r - 1 : r + 2, c - 1 : c + 2] = 255
    joints = np.full((1, 8, 2), np.nan)
    joints[0, 0] = (c + 0.5, r + 0.5)
    off = rng.integers(0, size - out + 1, (1, 2))
    ang = np.deg2rad(rng.uniform(-30, 30, 1))
    sc = np.exp(rng.uniform(np.log(0.8), np.log(1.25), 1))
    crop, j = affine_crop_and_mirror(img, joints, off, ang, sc, np.full(1, flip), out=out)
    known = j[0][~np.isnan(j[0, :, 0])]  # a mirror may move joint 0 to its partner's slot
    assert len(known) == 1
    x, y = known[0]
    if 2 <= x < out - 2 and 2 <= y < out - 2:
        assert crop[0, int(y), int(x), 0] >= 128


def test_random_affine_without_jitter_keeps_the_papers_stream():
    imgs = np.random.default_rng(0).integers(0, 256, (6, 128, 128, 3), dtype=np.uint8)
    joints = np.random.default_rng(1).uniform(0, 128, (6, 8, 2))
    a = random_crops_and_mirrors(imgs, joints, np.random.default_rng(7))
    b = random_affine_crops(imgs, joints, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="rotation_deg"):
        random_affine_crops(imgs, joints, np.random.default_rng(7), rotation_deg=-1)
    c, jc = random_affine_crops(
        imgs, joints, np.random.default_rng(7), rotation_deg=20, scale_jitter=0.2
    )
    assert c.shape == (6, 112, 112, 3) and c.dtype == np.uint8 and jc.shape == (6, 8, 2)
