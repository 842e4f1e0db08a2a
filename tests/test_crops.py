"""Images, crops and the image <-> crop maps (hmlpe.data.crops)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from hmlpe.data.crops import (
    ImageReadError,
    crop_and_resize,
    crop_to_image,
    image_to_crop,
    load_image,
)


def _img(w=20, h=10):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_identity_and_sub_crops_are_exact():
    img = _img()
    np.testing.assert_array_equal(crop_and_resize(img, [-0.5, -0.5, 19.5, 9.5], (20, 10)), img)
    np.testing.assert_array_equal(crop_and_resize(img, [1.5, 2.5, 5.5, 6.5], 4), img[3:7, 2:6])


def test_shape_and_aspect_not_kept():
    out = crop_and_resize(_img(), [0, 0, 19, 9], (7, 30))
    assert out.shape == (30, 7, 3) and out.dtype == np.uint8


def test_sampling_positions_follow_the_convention():
    # a horizontal ramp: value = 10 * x. Crop pixel j of a box [x1, x2] at size W samples
    # x1 + (j + 0.5) (x2 - x1) / W; upsampling keeps bilinear exact on a ramp.
    img = np.repeat(np.repeat((10 * np.arange(20))[None, :, None], 5, 0), 3, 2).astype(np.uint8)
    out = crop_and_resize(img, [2, 0, 10, 4], (16, 4))
    x = 2 + (np.arange(16) + 0.5) * 8 / 16
    np.testing.assert_allclose(out[2, :, 0], 10 * x, atol=1)
    # and image_to_crop puts image x at crop u = (x - x1) W / (x2 - x1): pixel centres j + 0.5
    np.testing.assert_allclose(
        image_to_crop(np.c_[x, np.ones(16)], [2, 0, 10, 4], (16, 4))[:, 0], np.arange(16) + 0.5
    )


def test_box_edges_map_to_crop_edges():
    box = [10, 20, 110, 70]
    np.testing.assert_allclose(image_to_crop([[10, 20], [110, 70]], box, 112), [[0, 0], [112, 112]])
    assert np.isnan(image_to_crop([[np.nan, np.nan]], box, 112)).all()


box_st = st.tuples(st.floats(-100, 500), st.floats(-100, 500), st.floats(1, 400), st.floats(1, 400))


@settings(max_examples=200, deadline=None)
@given(
    box_st,
    st.lists(st.floats(-1000, 1000), min_size=2, max_size=16).filter(lambda v: len(v) % 2 == 0),
    st.integers(1, 256),
    st.integers(1, 256),
)
def test_round_trip(b, vals, w, h):
    box = [b[0], b[1], b[0] + b[2], b[1] + b[3]]
    p = np.array(vals).reshape(-1, 2)
    np.testing.assert_allclose(
        crop_to_image(image_to_crop(p, box, (w, h)), box, (w, h)), p, atol=1e-7
    )
    np.testing.assert_allclose(
        image_to_crop(crop_to_image(p, box, (w, h)), box, (w, h)), p, atol=1e-7
    )


def test_box_outside_image_raises():
    with pytest.raises(ValueError, match=r"not inside the image 20x10"):
        crop_and_resize(_img(), [5, 5, 30, 9], 8)
    with pytest.raises(ValueError, match="degenerate"):
        crop_and_resize(_img(), [5, 5, 5, 9], 8)


def test_load_image_rgb_and_errors(tmp_path):
    gray = tmp_path / "g.png"
    Image.fromarray(np.full((6, 9), 7, np.uint8)).save(gray)
    assert load_image(gray).shape == (6, 9, 3)
    with pytest.raises(ImageReadError, match="not found: .*missing.jpg"):
        load_image(tmp_path / "missing.jpg")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    with pytest.raises(ImageReadError, match="junk.jpg"):
        load_image(junk)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_jpeg_raises(tmp_path, keep):
    rng = np.random.default_rng(1)
    src = tmp_path / "full.jpg"
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(src, quality=90)
    data = src.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        load_image(cut)


def test_real_truncated_copy(tmp_path, lsp_root):
    data = (lsp_root / "lsp" / "images" / "im0001.jpg").read_bytes()
    cut = tmp_path / "im0001.jpg"
    cut.write_bytes(data[: len(data) // 2])
    assert load_image(lsp_root / "lsp" / "images" / "im0001.jpg").shape == (160, 70, 3)
    with pytest.raises(ImageReadError, match="im0001.jpg"):
        load_image(cut)
