"""Figures of the book (matplotlib): images with sticks, joints and boxes, and the part
indicator maps of eq. 2 drawn over a crop as in the paper's Figure 2.

Every function draws on axes it is given (or makes one figure) and returns what it drew, so
tests can count the artists. Nothing here computes labels except ``show_indicator_grid``,
which calls ``hmlpe.data.labels`` for each (beta, window size).

Coordinates: images and crops are shown with ``imshow`` extents matching the project's two
pixel conventions. ``pixel_edges=False`` (image coordinates of ``hmlpe.data.datasets.records``:
pixel ``i``'s centre at ``i``, the image spans ``[-0.5, w - 0.5]``); ``pixel_edges=True``
(crop coordinates of ``hmlpe.data.crops`` / ``hmlpe.data.augment``: pixel ``j`` covers ``[j, j + 1]``,
a crop of width ``W`` spans ``[0, W]``). Points and boxes are drawn as given, in the same
coordinates as the image.

Colours: one per part of ``hmlpe.skeleton.PARTS`` (``hmlpe.skeleton.PART_COLOURS``, shared
with the prediction overlays of ``hmlpe.engine.predict``: left parts warm, right parts cool, the
head yellow), grey for Buffy's torso stick (not one of the paper's 7 parts), and joints as
green dots. ``show_indicator_map`` follows Figure 2 instead: the part as a red line, joints
green, windows that contain the part as white boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from hmlpe.skeleton import JOINTS, PART_COLOURS, PART_NAMES, parts_from_joints

OTHER_STICK_COLOUR = "#bdc3c7"  # sticks that are not one of the 7 parts (Buffy's torso)
JOINT_COLOUR = "#00e000"  # Figure 2: "the green dot indicates the joint point"
FIGURE2_STICK_COLOUR = "#ff0000"  # Figure 2: "the red line is the body part"
POSITIVE_WINDOW_COLOUR = "white"  # Figure 2: "white boxes indicate detection windows"


def part_colour(name: str) -> str:
    """The colour of part ``name`` (``skeleton.PART_NAMES``); other names (e.g. Buffy's
    "torso") get ``OTHER_STICK_COLOUR``."""
    return PART_COLOURS.get(name, OTHER_STICK_COLOUR)


# --------------------------------------------------------------------------- checks
def _image(image) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape[:2]:
        raise ValueError(f"image must have shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    return a


def _points(points, name: str) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {p.shape}")
    return p


def _sticks(sticks) -> np.ndarray:
    s = np.asarray(sticks, dtype=float)
    if s.ndim == 2 and s.shape == (2, 2):
        s = s[None]
    if s.ndim != 3 or s.shape[1:] != (2, 2):
        raise ValueError(f"sticks must have shape (S, 2, 2) (or (2, 2) for one), got {s.shape}")
    return s


def _boxes(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=float)
    if b.size == 0:
        return b.reshape(0, 4)
    if b.ndim == 1:
        b = b[None]
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (K, 4) [x1, y1, x2, y2] (or (4,)), got {b.shape}")
    return b


# --------------------------------------------------------------------------- primitives
def image_extent(shape: tuple[int, ...], pixel_edges: bool) -> tuple[float, float, float, float]:
    """``imshow`` extent (left, right, bottom, top) of an image of ``shape`` (H, W, ...) in the
    chosen pixel convention (module doc)."""
    h, w = shape[:2]
    if pixel_edges:
        return (0.0, float(w), float(h), 0.0)
    return (-0.5, w - 0.5, h - 0.5, -0.5)


def show_image(ax, image, *, pixel_edges: bool = False, axis_off: bool = True):
    """Draw ``image`` (H, W[, 3|4]) on ``ax`` in the given pixel convention; returns the
    AxesImage."""
    a = _image(image)
    im = ax.imshow(
        a,
        extent=image_extent(a.shape, pixel_edges),
        interpolation="nearest",
        cmap="gray" if a.ndim == 2 else None,
    )
    if axis_off:
        ax.set_axis_off()
    return im


def draw_sticks(
    ax,
    sticks,
    names: Sequence[str] | None = None,
    colours: Sequence[str] | str | None = None,
    linewidth: float = 3.0,
) -> list:
    """Draw sticks (S, 2, 2) as line segments; colour by ``names`` (``part_colour``) unless
    ``colours`` (one colour or one per stick) is given. Sticks with a NaN end are skipped.
    Returns the Line2D objects drawn."""
    s = _sticks(sticks)
    if names is not None and len(names) != len(s):
        raise ValueError(f"{len(names)} stick names for {len(s)} sticks")
    if isinstance(colours, str):
        colours = [colours] * len(s)
    if colours is not None and len(colours) != len(s):
        raise ValueError(f"{len(colours)} colours for {len(s)} sticks")
    lines = []
    for k, st in enumerate(s):
        if not np.isfinite(st).all():
            continue
        c = (
            colours[k]
            if colours is not None
            else part_colour(names[k])
            if names is not None
            else FIGURE2_STICK_COLOUR
        )
        lines += ax.plot(
            st[:, 0], st[:, 1], "-", color=c, linewidth=linewidth, solid_capstyle="round"
        )
    return lines


def draw_joints(
    ax, joints, colour: str = JOINT_COLOUR, size: float = 5.0, labels: Sequence[str] | None = None
):
    """Draw points (N, 2) as dots (NaN rows skipped), optionally labelled; returns the Line2D
    of the dots (or None when no point is finite)."""
    p = _points(joints, "joints")
    ok = np.isfinite(p).all(axis=1)
    if labels is not None and len(labels) != len(p):
        raise ValueError(f"{len(labels)} labels for {len(p)} joints")
    if not ok.any():
        return None
    (dots,) = ax.plot(
        p[ok, 0],
        p[ok, 1],
        "o",
        color=colour,
        markersize=size,
        markeredgecolor="black",
        markeredgewidth=0.6,
        linestyle="none",
    )
    if labels is not None:
        for (x, y), lab, good in zip(p, labels, ok):
            if good:
                ax.annotate(
                    lab,
                    (x, y),
                    xytext=(4, -4),
                    textcoords="offset points",
                    color="white",
                    fontsize=7,
                    bbox=dict(boxstyle="round,pad=0.1", fc="black", alpha=0.5, lw=0),
                )
    return dots


def draw_boxes(
    ax,
    boxes,
    colours: Sequence[str] | str = "yellow",
    labels: Sequence[str | None] | None = None,
    linewidth: float = 2.0,
    linestyle: str = "-",
) -> list[Rectangle]:
    """Draw boxes (K, 4) ``[x1, y1, x2, y2]`` (or one (4,)) as unfilled rectangles; boxes with a
    NaN coordinate are skipped. ``labels`` become legend entries. Returns the Rectangles."""
    b = _boxes(boxes)
    if isinstance(colours, str):
        colours = [colours] * len(b)
    if len(colours) != len(b):
        raise ValueError(f"{len(colours)} colours for {len(b)} boxes")
    if labels is not None and len(labels) != len(b):
        raise ValueError(f"{len(labels)} labels for {len(b)} boxes")
    out = []
    for k, (x1, y1, x2, y2) in enumerate(b):
        if not np.isfinite([x1, y1, x2, y2]).all():
            continue
        r = Rectangle(
            (x1, y1),
            x2 - x1,
            y2 - y1,
            fill=False,
            edgecolor=colours[k],
            linewidth=linewidth,
            linestyle=linestyle,
            label=None if labels is None else labels[k],
        )
        ax.add_patch(r)
        out.append(r)
    return out


# --------------------------------------------------------------------------- composites
def show_pose(
    ax,
    image=None,
    joints=None,
    sticks=None,
    *,
    stick_names: Sequence[str] | None = None,
    boxes=(),
    box_colours: Sequence[str] | str = "yellow",
    box_labels: Sequence[str | None] | None = None,
    pixel_edges: bool = False,
    joint_labels: bool = False,
    title: str | None = None,
    linewidth: float = 3.0,
    joint_size: float = 5.0,
    legend: bool | None = None,
):
    """An image with a pose and boxes on ``ax``.

    image: (H, W[, 3]) or None (only the overlay is drawn); joints: (8, 2) in the order of
    ``skeleton.JOINTS`` or None; sticks: (S, 2, 2) or None. When ``sticks`` is None and joints
    are given, the 7 parts of ``skeleton.PARTS`` are drawn from the joints, coloured per part;
    explicit sticks are coloured by ``stick_names`` (e.g. Buffy's file order). Joints are green
    dots (labelled with their names when ``joint_labels``). ``boxes`` (K, 4) are drawn with
    ``box_colours``; ``box_labels`` make a legend (``legend`` forces it on or off).
    Returns ``ax``.
    """
    if image is not None:
        a = _image(image)
        show_image(ax, a, pixel_edges=pixel_edges)
    if joints is not None:
        j = _points(joints, "joints")
        if j.shape != (len(JOINTS), 2):
            raise ValueError(f"joints must have shape ({len(JOINTS)}, 2), got {j.shape}")
    if sticks is None and joints is not None:
        draw_sticks(ax, parts_from_joints(j), names=PART_NAMES, linewidth=linewidth)
    elif sticks is not None:
        draw_sticks(ax, sticks, names=stick_names, linewidth=linewidth)
    if joints is not None:
        draw_joints(ax, j, size=joint_size, labels=JOINTS if joint_labels else None)
    rects = draw_boxes(ax, boxes, colours=box_colours, labels=box_labels)
    if image is not None:  # keep the view on the image even if a box or point lies outside
        left, right, bottom, top = image_extent(a.shape, pixel_edges)
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)
    if legend or (legend is None and box_labels is not None and rects):
        ax.legend(loc="lower right", fontsize=7, framealpha=0.8)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_indicator_map(
    ax,
    crop_image,
    stick,
    indicator,
    windows,
    *,
    joints=None,
    pixel_edges: bool = True,
    grid_alpha: float = 0.3,
    stick_colour: str = FIGURE2_STICK_COLOUR,
    title: str | None = None,
    linewidth: float = 1.5,
    fill_alpha: float = 0.08,
) -> list[Rectangle]:
    """Figure 2 (right): a part's indicator map over the crop it was computed on.

    crop_image: (H, W[, 3]); stick: (2, 2), the part's end points in crop coordinates;
    indicator: bool (g, g), eq. 2 for every window (``hmlpe.data.labels``); windows: (g, g, 4), the
    windows' boxes (``labels.window_boxes``). Draws every window faintly (one LineCollection,
    alpha ``grid_alpha``), each positive window as a white Rectangle (filled white at
    opacity ``fill_alpha``, so overlaps of positive windows show brighter), the stick as a red line
    and ``joints`` ((N, 2), optional) as green dots. The view covers the crop and any window
    overhanging it (the "itheano" layout). Returns the Rectangles of the positive windows.
    """
    a = _image(crop_image)
    st = np.asarray(stick, dtype=float)
    if st.shape != (2, 2):
        raise ValueError(f"stick must have shape (2, 2) (two end points), got {st.shape}")
    w = np.asarray(windows, dtype=float)
    if w.ndim != 3 or w.shape[2] != 4:
        raise ValueError(f"windows must have shape (g, g, 4), got {w.shape}")
    ind = np.asarray(indicator)
    if ind.shape != w.shape[:2]:
        raise ValueError(f"indicator has shape {ind.shape}, windows a {w.shape[:2]} grid")
    if ind.dtype != bool:
        if not np.isin(ind, (0, 1)).all():
            raise ValueError("indicator must be boolean (or 0/1)")
        ind = ind.astype(bool)
    show_image(ax, a, pixel_edges=pixel_edges)
    flat = w.reshape(-1, 4)
    outlines = [[(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)] for x1, y1, x2, y2 in flat]
    ax.add_collection(LineCollection(outlines, colors="white", linewidths=0.5, alpha=grid_alpha))
    rects = draw_boxes(ax, w[ind], colours=POSITIVE_WINDOW_COLOUR, linewidth=linewidth)
    for r in rects:  # a light fill: where positive windows overlap the crop gets brighter
        r.set_fill(fill_alpha > 0)
        r.set_facecolor((1.0, 1.0, 1.0, fill_alpha))
    draw_sticks(ax, st, colours=stick_colour, linewidth=2.5)
    if joints is not None:
        draw_joints(ax, joints, size=4)
    left, right, bottom, top = image_extent(a.shape, pixel_edges)
    ax.set_xlim(min(left, flat[:, 0].min()) - 1, max(right, flat[:, 2].max()) + 1)
    ax.set_ylim(max(bottom, flat[:, 3].max()) + 1, min(top, flat[:, 1].min()) - 1)
    if title:
        ax.set_title(title, fontsize=9)
    return rects


def indicator_map_figure(crop_image, stick, part: str, labels, *, beta, window, layout):
    """Chapter 3's interactive Figure 2: eq. 2's map of one part for ``beta``, ``window`` and
    ``layout`` (the rest from ``labels``, a ``LabelConfig``), drawn over its crop; returns the
    figure. A uniform layout needs ``window <= labels.crop``: otherwise a ``ValueError`` that
    says so."""
    from hmlpe.data.labels import part_indicator_map, window_boxes

    if layout == "uniform" and window > labels.crop:
        raise ValueError(f"the uniform layout needs window <= {labels.crop}, got {window}")
    indicator = part_indicator_map(
        stick[0],
        stick[1],
        crop=labels.crop,
        window=window,
        grid=labels.grid,
        beta=beta,
        layout=layout,
    )
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    show_indicator_map(
        ax,
        crop_image,
        stick,
        indicator,
        window_boxes(labels.crop, window, labels.grid, layout),
        title=f"{part}, beta {beta:.2f}, window {window}, {layout}: {int(indicator.sum())} positive",
    )
    return fig


def show_indicator_grid(
    crop_image,
    stick,
    betas: Iterable[float],
    window_sizes: Iterable[int],
    *,
    joints=None,
    grid: int = 8,
    layout: str = "uniform",
    axsize: float = 2.4,
):
    """One ``show_indicator_map`` per (beta, window size): rows beta, columns window size.

    The crop is square (side = the image's width); maps come from
    ``labels.part_indicator_map(stick[0], stick[1], crop=side, window=..., grid=grid,
    beta=..., layout=layout)``. Returns ``(fig, counts)``, counts (len(betas),
    len(window_sizes)) the number of positive windows of each map.
    """
    from hmlpe.data.labels import part_indicator_map, window_boxes

    a = _image(crop_image)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"the crop must be square, got {a.shape[:2]}")
    st = np.asarray(stick, dtype=float)
    if st.shape != (2, 2):
        raise ValueError(f"stick must have shape (2, 2), got {st.shape}")
    betas, window_sizes = list(betas), list(window_sizes)
    if not betas or not window_sizes:
        raise ValueError("need at least one beta and one window size")
    side = a.shape[1]
    fig, axes = plt.subplots(
        len(betas),
        len(window_sizes),
        squeeze=False,
        figsize=(axsize * len(window_sizes), axsize * len(betas)),
    )
    counts = np.zeros((len(betas), len(window_sizes)), dtype=int)
    for i, beta in enumerate(betas):
        for k, win in enumerate(window_sizes):
            m = part_indicator_map(
                st[0], st[1], crop=side, window=win, grid=grid, beta=beta, layout=layout
            )
            counts[i, k] = int(m.sum())
            show_indicator_map(
                axes[i, k],
                a,
                st,
                m,
                window_boxes(side, win, grid, layout),
                joints=joints,
                title=f"beta {beta:g}, window {win}: {counts[i, k]} positive",
            )
    fig.tight_layout()
    return fig, counts


def show_window_frequencies(
    axes, freq, names: Sequence[str] = PART_NAMES, vmax: float | None = None, cmap: str = "magma"
):
    """Heat maps, one per part, of how often each window is positive: ``freq`` (P, g, g) in
    [0, 1] (e.g. the mean of ``labels.part_indicator_maps`` over a data set), drawn on
    ``axes`` (P axes, flattened in order). Returns the AxesImages (share one colour scale)."""
    f = np.asarray(freq, dtype=float)
    axes = np.ravel(axes)
    if f.ndim != 3 or f.shape[1] != f.shape[2]:
        raise ValueError(f"freq must have shape (P, g, g), got {f.shape}")
    if len(names) != len(f) or len(axes) < len(f):
        raise ValueError(f"{len(f)} maps, {len(names)} names, {len(axes)} axes")
    vmax = float(np.nanmax(f)) if vmax is None else vmax
    out = []
    for ax, m, name in zip(axes, f, names):
        out.append(ax.imshow(m, vmin=0.0, vmax=vmax, cmap=cmap, interpolation="nearest"))
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(f) :]:
        ax.set_axis_off()
    return out


__all__ = [
    "PART_COLOURS",
    "JOINT_COLOUR",
    "part_colour",
    "image_extent",
    "show_image",
    "draw_sticks",
    "draw_joints",
    "draw_boxes",
    "show_pose",
    "show_indicator_map",
    "show_indicator_grid",
    "show_window_frequencies",
]


def plot_framing(axes, train_joints, test_joints, label: str = "") -> None:
    """Training against test framing of one dataset on three axes: histograms of the joint
    extent along x and along y, and of every joint's y position (crop-normalised units,
    ``hmlpe.data.cropstats``). ``test_joints`` may be None (no test protocol)."""
    from hmlpe.data.cropstats import joint_extents

    series = [("training crops (centre 112)", train_joints, "#1f77b4")]
    if test_joints is not None:
        series.append(("test crops", test_joints, "#d62728"))
    panels = (
        ("joint extent x", lambda j: joint_extents(j)[:, 0]),
        ("joint extent y", lambda j: joint_extents(j)[:, 1]),
        ("joint position y", lambda j: np.asarray(j)[:, :, 1].ravel()),
    )
    bins = np.linspace(-0.1, 1.1, 49)
    for ax, (title, fn) in zip(axes, panels):
        for name, joints, colour in series:
            v = fn(joints)
            v = v[np.isfinite(v)]
            ax.hist(
                v,
                bins=bins,
                density=True,
                histtype="step",
                linewidth=1.8,
                color=colour,
                label=f"{name} (mean {v.mean():.2f})",
            )
        ax.set_title(f"{label}: {title}" if label else title, fontsize=10)
        ax.set_xlabel("crop-normalised units")
        ax.legend(fontsize=7, loc="upper left")
