"""Heatmap targets and decoding (hmlpe.data.heatmaps): hand-made maps first, then properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmlpe.data.heatmaps import cell_centres, decode_heatmaps, gaussian_heatmaps


def test_cell_centres_in_pixel_edge_coordinates():
    # stride 4: cell 0 covers pixels [0, 4], its centre is 2
    np.testing.assert_allclose(cell_centres(3, 4), [2, 6, 10])


def test_target_is_one_at_a_joint_on_a_cell_centre_and_falls_as_a_gaussian():
    maps, w = gaussian_heatmaps(np.array([[6.0, 10.0]]), cells=5, stride=4, sigma=1.0)
    assert maps.shape == (1, 5, 5) and w.tolist() == [1.0]
    # (6, 10) is the centre of cell (row 2, col 1)
    assert maps[0, 2, 1] == pytest.approx(1.0)
    assert maps[0, 2, 2] == pytest.approx(np.exp(-0.5))  # one cell away in x
    assert maps[0, 3, 2] == pytest.approx(np.exp(-1.0))  # one cell in x and in y


def test_unannotated_joint_has_zero_map_and_weight():
    maps, w = gaussian_heatmaps(np.array([[np.nan, 3.0], [8.0, 8.0]]), 4, 4, 1.0)
    assert not maps[0].any() and w.tolist() == [0.0, 1.0]


def test_hand_made_heatmap_decodes_to_its_sub_pixel_peak():
    """A map made by hand from the Gaussian centred between cells: cell (3, 2) of stride 4
    with the peak 0.3 cells right and 0.2 cells up of its centre, at crop pixel
    ((2 + 0.5 + 0.3) * 4, (3 + 0.5 - 0.2) * 4) = (11.2, 13.2)."""
    rows = cols = 7
    yy, xx = np.mgrid[0:rows, 0:cols].astype(float)
    m = np.exp(-((xx - 2.3) ** 2 + (yy - 2.8) ** 2) / (2 * 1.5**2))
    joints, peak = decode_heatmaps(m[None], stride=4)
    np.testing.assert_allclose(joints[0], [11.2, 13.2], atol=1e-9)
    assert peak[0] == pytest.approx(m.max())


def test_peak_on_the_border_is_not_refined_along_that_axis():
    m = np.zeros((5, 5))
    m[0, 2], m[0, 1], m[0, 3], m[1, 2] = 1.0, 0.5, 0.25, 0.1
    joints, _ = decode_heatmaps(m[None], stride=1)
    # x refined (neighbours 0.5 and 0.25 pull it left), y stays at row 0's centre
    assert joints[0, 1] == pytest.approx(0.5)
    assert 2.0 < joints[0, 0] < 2.5


def test_flat_map_decodes_to_the_first_cell_without_nan():
    joints, peak = decode_heatmaps(np.zeros((2, 4, 4)), stride=4)
    np.testing.assert_allclose(joints, [[2, 2], [2, 2]])
    assert peak.tolist() == [0, 0]


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 2\)"):
        gaussian_heatmaps(np.zeros(3), 4, 4, 1.0)
    with pytest.raises(ValueError, match="rows, cols"):
        decode_heatmaps(np.zeros((4, 4)), 4)
    with pytest.raises(ValueError, match="sigma > 0"):
        gaussian_heatmaps(np.zeros((1, 2)), 4, 4, 0.0)


@settings(max_examples=60, deadline=None)
@given(x=st.floats(6, 106), y=st.floats(6, 106), sigma=st.floats(0.8, 3.0))
def test_targets_decode_to_their_joints(x, y, sigma):
    """Targets of joints inside the map (a cell from its border) decode to the joints."""
    maps, _ = gaussian_heatmaps(np.array([[[x, y]]]), cells=28, stride=4, sigma=sigma)
    joints, _ = decode_heatmaps(maps, stride=4)
    np.testing.assert_allclose(joints[0, 0], [x, y], atol=1e-3)
