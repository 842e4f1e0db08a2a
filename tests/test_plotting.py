"""Figures (hmlpe.companion.plotting), drawn with the Agg backend: artists counted, shapes checked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from hmlpe.companion import plotting  # noqa: E402
from hmlpe.data.labels import part_indicator_map, window_boxes  # noqa: E402
from hmlpe.skeleton import JOINTS, PART_NAMES  # noqa: E402

CROP = np.zeros((112, 112, 3), np.uint8)
JOINTS_8 = np.array(
    [[56, 20], [56, 35], [35, 40], [77, 40], [30, 65], [82, 65], [28, 90], [84, 90]], float
)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _rects(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_every_part_has_its_own_colour():
    assert set(plotting.PART_COLOURS) == set(PART_NAMES)
    assert len(set(plotting.PART_COLOURS.values())) == len(PART_NAMES)
    assert plotting.part_colour("torso") == plotting.OTHER_STICK_COLOUR


def test_figures_and_prediction_overlays_share_one_palette():
    """One palette (hmlpe.skeleton): the book's figures and ``predict.draw_skeleton`` draw a
    part in the same colour, so the left arm is the same colour everywhere."""
    import io

    from PIL import Image, ImageColor

    from hmlpe import skeleton
    from hmlpe.engine import predict

    assert plotting.PART_COLOURS is skeleton.PART_COLOURS
    assert predict.PART_COLOURS is skeleton.PART_COLOURS
    joints = np.full((8, 2), np.nan)
    joints[JOINTS.index("l_elbow")] = [40, 100]
    joints[JOINTS.index("l_wrist")] = [160, 100]  # only the left lower arm is drawn
    png = predict.draw_skeleton(np.zeros((200, 200, 3), np.uint8), joints)
    pixel = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[100, 100]
    assert tuple(pixel) == ImageColor.getrgb(plotting.part_colour("l_lower_arm"))


def test_image_extent_conventions():
    assert plotting.image_extent((4, 6, 3), pixel_edges=True) == (0, 6, 4, 0)
    assert plotting.image_extent((4, 6), pixel_edges=False) == (-0.5, 5.5, 3.5, -0.5)


def test_indicator_map_draws_one_rectangle_per_positive_window(ax):
    stick = JOINTS_8[[2, 4]]  # left shoulder -> left elbow
    windows = window_boxes(112, 30, 8)
    m = part_indicator_map(stick[0], stick[1], beta=0.3, window=30)
    assert 0 < m.sum() < 64
    rects = plotting.show_indicator_map(ax, CROP, stick, m, windows, joints=JOINTS_8)
    assert len(rects) == int(m.sum()) == len(_rects(ax))
    # the positive rectangles are exactly the positive windows
    got = sorted((r.get_x(), r.get_y(), r.get_width()) for r in rects)
    want = sorted((b[0], b[1], b[2] - b[0]) for b in windows[m])
    assert np.allclose(got, want)
    assert all(r.get_edgecolor()[:3] == (1.0, 1.0, 1.0) for r in rects)
    # the faint grid is one collection of all 64 windows, not 64 patches
    grids = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(grids) == 1 and len(grids[0].get_segments()) == 64


def test_indicator_map_with_no_positive_window(ax):
    m = np.zeros((8, 8), bool)
    assert plotting.show_indicator_map(ax, CROP, [[0, 0], [1, 1]], m, window_boxes()) == []
    assert _rects(ax) == []


def test_indicator_map_view_includes_overhanging_windows(ax):
    w = window_boxes(112, 30, 8, "itheano")  # reaches 114
    plotting.show_indicator_map(ax, CROP, [[10, 10], [50, 50]], np.zeros((8, 8), bool), w)
    assert max(ax.get_xlim()) >= 114 and max(ax.get_ylim()) >= 114


@pytest.mark.parametrize(
    "stick, ind, windows",
    [
        (np.zeros(4), np.zeros((8, 8), bool), window_boxes()),  # stick not (2, 2)
        (np.zeros((2, 2)), np.zeros((7, 8), bool), window_boxes()),  # grid mismatch
        (np.zeros((2, 2)), np.zeros((8, 8), bool), np.zeros((8, 8, 3))),  # windows not boxes
        (np.zeros((2, 2)), np.full((8, 8), 2), window_boxes()),  # not boolean
    ],
)
def test_indicator_map_rejects_wrong_shapes(ax, stick, ind, windows):
    with pytest.raises(ValueError):
        plotting.show_indicator_map(ax, CROP, stick, ind, windows)


def test_indicator_map_rejects_bad_image(ax):
    with pytest.raises(ValueError, match="image"):
        plotting.show_indicator_map(
            ax, np.zeros((4, 4, 2)), np.zeros((2, 2)), np.zeros((8, 8), bool), window_boxes()
        )


def test_indicator_map_figure_counts_the_positive_windows_of_eq2():
    from hmlpe.config import LabelConfig

    labels, stick = LabelConfig(), np.array([[20.0, 30.0], [60.0, 80.0]])
    fig = plotting.indicator_map_figure(
        CROP, stick, "x", labels, beta=0.3, window=30, layout="uniform"
    )
    want = part_indicator_map(stick[0], stick[1], crop=112, window=30, grid=8, beta=0.3)
    assert 0 < want.sum() < 64
    assert len(_rects(fig.axes[0])) == int(want.sum())
    assert f"{int(want.sum())} positive" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="window <= 112"):
        plotting.indicator_map_figure(
            CROP, stick, "x", labels, beta=0.3, window=120, layout="uniform"
        )


def test_show_pose_draws_parts_joints_and_boxes(ax):
    boxes = np.array([[10, 10, 100, 100], [5, 5, 50, 50], [np.nan, 0, 1, 1]])
    plotting.show_pose(
        ax,
        CROP,
        JOINTS_8,
        boxes=boxes,
        box_colours=["red", "blue", "k"],
        box_labels=["a", "b", "c"],
        pixel_edges=True,
        title="t",
    )
    sticks = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(sticks) == len(PART_NAMES)
    assert [ln.get_color() for ln in sticks] == [plotting.PART_COLOURS[p] for p in PART_NAMES]
    assert len(dots) == 1 and len(dots[0].get_xdata()) == len(JOINTS)
    assert len(_rects(ax)) == 2  # the NaN box is skipped
    assert ax.get_legend() is not None
    assert ax.get_xlim() == (0, 112)


def test_show_pose_skips_missing_joints_and_uses_stick_names(ax):
    j = JOINTS_8.copy()
    j[6] = np.nan  # l_wrist missing: l_lower_arm not drawn
    plotting.show_pose(ax, None, j)
    assert len([ln for ln in ax.lines if ln.get_marker() != "o"]) == len(PART_NAMES) - 1
    fig, ax2 = plt.subplots()
    sticks = np.zeros((6, 2, 2))
    sticks[:, 1] = 1
    names = ("torso", "l_upper_arm", "r_upper_arm", "l_lower_arm", "r_lower_arm", "head")
    plotting.show_pose(ax2, CROP, sticks=sticks, stick_names=names)
    assert [ln.get_color() for ln in ax2.lines] == [plotting.part_colour(n) for n in names]
    plt.close(fig)


def test_show_pose_rejects_wrong_shapes(ax):
    with pytest.raises(ValueError, match="joints"):
        plotting.show_pose(ax, CROP, np.zeros((7, 2)))
    with pytest.raises(ValueError, match="sticks"):
        plotting.show_pose(ax, CROP, sticks=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="boxes"):
        plotting.show_pose(ax, CROP, boxes=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="image"):
        plotting.show_pose(ax, np.zeros((5,)))
    with pytest.raises(ValueError, match="names"):
        plotting.draw_sticks(ax, np.zeros((2, 2, 2)), names=["head"])


def test_indicator_grid_counts_match_the_labels():
    stick = JOINTS_8[[2, 4]]
    fig, counts = plotting.show_indicator_grid(CROP, stick, [0.1, 0.3, 0.5], [20, 30, 40])
    try:
        assert counts.shape == (3, 3)
        for i, beta in enumerate([0.1, 0.3, 0.5]):
            for k, win in enumerate([20, 30, 40]):
                m = part_indicator_map(stick[0], stick[1], window=win, beta=beta)
                assert counts[i, k] == m.sum()
                assert len(_rects(fig.axes[3 * i + k])) == m.sum()
        # a larger beta never adds a window
        assert (np.diff(counts, axis=0) <= 0).all()
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="square"):
        plotting.show_indicator_grid(np.zeros((112, 100, 3)), stick, [0.3], [30])


def test_window_frequencies(ax):
    fig, axes = plt.subplots(2, 4)
    f = np.random.default_rng(0).random((7, 8, 8))
    ims = plotting.show_window_frequencies(axes, f)
    assert len(ims) == 7 and not axes.ravel()[7].axison
    assert ims[0].get_clim() == (0.0, f.max())
    with pytest.raises(ValueError):
        plotting.show_window_frequencies(axes, f[:, :, :7])
    plt.close(fig)
