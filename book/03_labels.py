# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Labels (Figure 2)
#
# Reproduces: Figure 2 and the window labels of eq. 2 (sections 3.2 and 4.2)
#
# The detection tasks need a label for every body part $p$ and every window $l$: does the
# window contain the part? The annotations are sticks, so the paper labels a window positive
# when enough of the stick lies inside it (eq. 2):
#
# $$y_{p,l} = \mathbb{1}\big[\operatorname{len}(\text{window}_l \cap \text{stick}_p) >
#   \beta \operatorname{len}(\text{stick}_p)\big], \qquad \beta = 0.3,$$
#
# over "64 local windows of equal size uniformly distributed in the bounding box", of side 30
# in the 112 x 112 input (section 4.2). The 64 labels of one part form its *indicator map*;
# Figure 2 shows the one of the left upper arm. This chapter computes such maps with
# `hmlpe.data.labels` on real training crops, lets you vary $\beta$ and the window size, and
# counts the labels over the whole training pool.

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run used
run_dir = "../runs/smoke"  # where the run's results and book_timings.json are
data_root = None  # None: $HMLPE_DATA, else data/data_roots.txt
part = "l_upper_arm"  # the part of the single-image figures (hmlpe.skeleton.PART_NAMES)
beta = 0.3  # eq. 2's threshold for the single-image figures and the pool statistics
window = 30  # window side in crop pixels, likewise

# %%
from dataclasses import replace

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display

from hmlpe.companion import label_explorer, plotting
from hmlpe.config import CropConfig, DataConfig, LabelConfig
from hmlpe.data.augment import crop_and_mirror
from hmlpe.data.boxes import training_box
from hmlpe.data.crops import crop_and_resize, image_to_crop, load_image
from hmlpe.data.datasets import load_pool, training_records
from hmlpe.data.labels import (
    LAYOUTS,
    labels_from_joints,
    part_indicator_map,
    window_boxes,
    window_edges,
)
from hmlpe.paths import resolve_data_root
from hmlpe.skeleton import PART_NAMES, parts_from_joints

ROOT = resolve_data_root(data_root)
CROP = CropConfig()
LABELS = replace(LabelConfig(), beta=beta, window=window)
P = PART_NAMES.index(part)
OFFSET = (CROP.train_size - CROP.input_size) // 2  # the central 112 crop of the 128 crop
print(f"profile: {profile}")
print(f"part: {part}; {LABELS}")
print(
    f"crops: {CROP.train_size} x {CROP.train_size} training crop, central "
    f"{CROP.input_size} x {CROP.input_size} crop at offset ({OFFSET}, {OFFSET})"
)
print(
    f"defaults: {LabelConfig()} (crop, window, grid and beta are the paper's; "
    "the layout is the reproduction's choice, see below)"
)

# %% [markdown]
# ## The left upper arm on a Buffy training image
#
# The first Buffy training frame (episode 3), cropped as training crops are (chapter
# [Data](02_data): training box resized to 128 x 128), then the central 112 x 112 crop, one of
# the random crops the network is trained on (`hmlpe.data.augment.crop_and_mirror` at the central
# offset, no mirror). As in Figure 2: joints are green dots and parts red lines (left); the
# windows whose label is 1 are white boxes, all 64 windows faint (middle); and the 8 x 8
# indicator map itself (right; row = window row, column = window column).


# %% tags=["hide-input"]
def central_crop(record):
    """The record's 128 x 128 training crop and joints, cut to the central 112 x 112."""
    box = training_box(record)
    crop128 = crop_and_resize(load_image(record.image), box, CROP.train_size)
    joints128 = image_to_crop(record.joints, box, CROP.train_size)
    images, joints = crop_and_mirror(
        crop128[None],
        joints128[None],
        np.array([[OFFSET, OFFSET]]),
        np.array([False]),
        out=CROP.input_size,
    )
    return images[0], joints[0]


example = training_records("buffy", ROOT)[0][0]
crop, joints = central_crop(example)
sticks = parts_from_joints(joints)
stick = sticks[P]
windows = window_boxes(LABELS.crop, LABELS.window, LABELS.grid, LABELS.layout)
indicator = part_indicator_map(
    stick[0],
    stick[1],
    crop=LABELS.crop,
    window=LABELS.window,
    grid=LABELS.grid,
    beta=LABELS.beta,
    layout=LABELS.layout,
)

fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
plotting.show_image(axes[0], crop, pixel_edges=True)
plotting.draw_sticks(axes[0], sticks, colours=plotting.FIGURE2_STICK_COLOUR)
plotting.draw_joints(axes[0], joints)
axes[0].set_title(f"Buffy {example.example}: 8 joints, 7 parts", fontsize=9)
plotting.show_indicator_map(
    axes[1],
    crop,
    stick,
    indicator,
    windows,
    joints=stick,
    title=f"{part}: {int(indicator.sum())} of {indicator.size} windows",
)
axes[2].imshow(indicator, cmap="gray", vmin=0, vmax=1)
axes[2].set_xticks(range(LABELS.grid))
axes[2].set_yticks(range(LABELS.grid))
axes[2].set_title(
    f"indicator map of {part} (beta {LABELS.beta:g}, window {LABELS.window})", fontsize=9
)
fig.tight_layout()
plt.show()
print(
    f"{part}: stick length {np.hypot(*(stick[1] - stick[0])):.1f} crop px; "
    f"{int(indicator.sum())} positive windows of {indicator.size}"
)

# %% [markdown]
# ## Try it: beta, window size, part and layout
#
# Two explorers of the same map, one for each way of reading this chapter:
#
# - **Live kernel** (this notebook open in Jupyter): the ipywidgets sliders below recompute the
#   map with `hmlpe.data.labels.part_indicator_map` for any $\beta$ (0 to 0.95, step 0.05),
#   window side (10 to 60, step 2), part and layout, and redraw it. In the static HTML page
#   these sliders only show the state in which the page was built.
# - **Static HTML page** (the published book): the explorer after them shows maps precomputed
#   when the book was built (`hmlpe.companion.label_explorer`, with
#   `hmlpe.data.labels.labels_from_joints`) for a grid of values: $\beta$ from 0 to 0.95 in
#   steps of 0.05 and windows of side 10 to 60 in steps of 5, for every part and both layouts;
#   moving its controls switches between them in the browser (the book's script
#   `_static/hmlpe-label-explorer.js`, no kernel and no download). In Jupyter its controls stay
#   disabled.


# %% tags=["hide-input", "nbval-ignore-output"]
# (nbval ignores this cell's output: without a widget front end, nbval's kernel sends the
# figure that the Output widget would hold to the cell's own output.)
def redraw(part, beta, window, layout):
    stick = sticks[PART_NAMES.index(part)]
    try:
        plotting.indicator_map_figure(
            crop, stick, part, LABELS, beta=beta, window=window, layout=layout
        )
    except ValueError as exc:
        print(exc)
        return
    plt.show()


controls = widgets.interactive(
    redraw,
    part=widgets.Dropdown(options=list(PART_NAMES), value=part, description="part"),
    beta=widgets.FloatSlider(
        value=beta, min=0.0, max=0.95, step=0.05, description="beta", continuous_update=False
    ),
    window=widgets.IntSlider(
        value=window, min=10, max=60, step=2, description="window", continuous_update=False
    ),
    layout=widgets.ToggleButtons(options=list(LAYOUTS), value=LABELS.layout, description="layout"),
)
display(controls)

# %% tags=["hide-input"]
# The static page's explorer: every map of the grid, computed now, switched in the browser.
explorer = label_explorer.precompute(joints, cfg=LABELS)
HTML(
    label_explorer.render_html(
        explorer, crop, part=part, beta=beta, window=window, layout=LABELS.layout
    )
)

# %% [markdown]
# ## The effect of beta and the window size
#
# The same map for $\beta \in \{0.1, 0.3, 0.5\}$ (rows) and windows of side 20, 30 and 40
# (columns), always 8 x 8 windows spread uniformly over the crop. A larger $\beta$ asks for a
# larger share of the stick inside a window, so it can only remove positives; with
# $\beta \ge 0.5$ a window needs more than half of the stick, so at most a few windows (those
# around the stick's middle) can be positive. Larger windows hold more of the stick.

# %% tags=["hide-input"]
BETAS, WINDOWS = (0.1, 0.3, 0.5), (20, 30, 40)
fig, counts = plotting.show_indicator_grid(
    crop, stick, BETAS, WINDOWS, grid=LABELS.grid, layout=LABELS.layout
)
plt.show()
grid_counts = pd.DataFrame(
    counts, index=pd.Index(BETAS, name="beta"), columns=pd.Index(WINDOWS, name="window")
)
grid_counts.style.set_uuid("labels-grid-counts").format_index("{:g}", axis=0).set_caption(
    f"positive windows of {part} (of {LABELS.grid**2})"
)

# %% [markdown]
# ## Window layout: uniform or the first author's
#
# "Uniformly distributed" does not say where the windows sit. The reproduction's default
# (`LabelConfig.layout = "uniform"`, its choice) spaces the window columns so that the first
# starts at 0 and the last ends at the crop's edge: stride (crop - window) / (grid - 1), the
# grid tiles the crop exactly and is symmetric under the horizontal mirror used in training.
# The first author's public code (`"itheano"`, {doc}`protocol facts <11_protocol_facts>`) uses a fixed stride of 12 px, so its
# last row and column overhang the crop. The window edges along one axis:

# %% tags=["hide-input"]
edges = pd.DataFrame(
    {
        lay: [
            f"{b[0]:.2f}-{b[2]:.2f}"
            for b in window_boxes(LABELS.crop, LABELS.window, LABELS.grid, lay)[0]
        ]
        for lay in LAYOUTS
    },
    index=pd.Index(range(LABELS.grid), name="column"),
).T
edges.index.name = "layout"
for lay in LAYOUTS:
    lo, hi = window_edges(LABELS.crop, LABELS.window, LABELS.grid, lay)
    print(
        f"{lay}: stride {lo[1] - lo[0]:.2f} px, last window ends at {hi[-1]:g} "
        f"(crop {LABELS.crop}: overhang {hi[-1] - LABELS.crop:g} px)"
    )
edges.style.set_uuid("labels-layout-edges")

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, len(LAYOUTS), figsize=(8.5, 4.3))
for ax, lay in zip(axes, LAYOUTS):
    m = part_indicator_map(
        stick[0],
        stick[1],
        crop=LABELS.crop,
        window=LABELS.window,
        grid=LABELS.grid,
        beta=LABELS.beta,
        layout=lay,
    )
    plotting.show_indicator_map(
        ax,
        crop,
        stick,
        m,
        window_boxes(LABELS.crop, LABELS.window, LABELS.grid, lay),
        title=f"{lay}: {int(m.sum())} positive",
    )
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Labels over the training pool
#
# The same labels for every example of the pre-training pool (Buffy, LSP and FLIC training
# sets after the filter of chapter [Data](02_data); the whole pool, whatever the profile),
# each on its central 112 x 112 crop, with `hmlpe.data.labels.labels_from_joints`. Training draws
# a random crop and a mirror per example and batch and computes the labels from it
# (`hmlpe.engine.batches`), so these counts describe the typical label, not every one.
# Only joint coordinates are needed: no image is decoded.

# %% tags=["hide-input"]
pool, _ = load_pool(DataConfig(), ROOT)
pool_joints = (
    np.stack([image_to_crop(r.joints, training_box(r), CROP.train_size) for r in pool]) - OFFSET
)  # pixel-edge coordinates: a shift
maps = {lay: labels_from_joints(pool_joints, replace(LABELS, layout=lay)) for lay in LAYOUTS}
pool_source = pd.Series([r.dataset for r in pool])
print(
    f"{len(pool)} pool examples ({', '.join(f'{k} {v}' for k, v in pool_source.value_counts(sort=False).items())}); "
    f"beta {LABELS.beta:g}, window {LABELS.window}"
)

# %% tags=["hide-input"]
m = maps[LABELS.layout]
positives = m.sum(axis=(2, 3))  # (N, 7)
stats = pd.DataFrame(
    {
        "mean positive windows": positives.mean(axis=0),
        "median": np.median(positives, axis=0),
        "min": positives.min(axis=0),
        "max": positives.max(axis=0),
        "examples with none %": 100 * (positives == 0).mean(axis=0),
        "share of all labels %": 100 * m.mean(axis=(0, 2, 3)),
    },
    index=pd.Index(PART_NAMES, name="part"),
)
(
    stats.style.set_uuid("labels-pool-stats")
    .format(
        {
            "mean positive windows": "{:.2f}",
            "median": "{:.0f}",
            "examples with none %": "{:.2f}",
            "share of all labels %": "{:.2f}",
        }
    )
    .set_caption(
        f"{LABELS.layout} layout, beta {LABELS.beta:g}, window {LABELS.window}, "
        f"{len(pool)} examples"
    )
)

# %% [markdown]
# A part has no positive window when its stick has zero length (eq. 2's comparison is strict)
# or lies mostly outside the central crop: the training box is clipped to the image, so near
# an image border the margin is gone and the 8 px cut off by the central crop can hold a joint.

# %% tags=["hide-input"]
lengths = np.hypot(*np.moveaxis(np.diff(parts_from_joints(pool_joints), axis=-2)[..., 0, :], -1, 0))
outside = ((pool_joints < 0) | (pool_joints > CROP.input_size)).any(axis=-1)
print(
    f"parts without a positive window: {int((positives == 0).sum())} "
    f"(of {positives.size} part labels), of which zero-length sticks: "
    f"{int(((positives == 0) & (lengths == 0)).sum())}"
)
print(
    f"pool examples with a joint outside the central {CROP.input_size} crop: "
    f"{int(outside.any(axis=1).sum())} of {len(pool)}"
)

# %% [markdown]
# Where each part tends to be: the fraction of pool examples for which each window is positive
# (one colour scale for all parts). With the observer-centric convention of chapter
# [Data](02_data), `l_` parts sit on the image's left and `r_` parts on its right.

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 4, figsize=(11, 5.6))
ims = plotting.show_window_frequencies(axes, m.mean(axis=0))
fig.colorbar(ims[0], ax=list(axes.ravel()), shrink=0.8, label="fraction of examples positive")
plt.show()

# %% [markdown]
# Positives per example by dataset, and how much the layout changes the labels (share of the
# pool's labels, all parts and windows, that differ between the two layouts):

# %% tags=["hide-input"]
by_dataset = pd.DataFrame(positives, columns=PART_NAMES).groupby(pool_source.values).mean().T
by_dataset.index.name = "part"
by_dataset.columns.name = "dataset"
display(
    by_dataset.style.set_uuid("labels-by-dataset")
    .format("{:.2f}")
    .set_caption("mean positive windows per example")
)
layout_rows = []
for lay in LAYOUTS:
    layout_rows.append(
        {
            "layout": lay,
            "mean positive windows per part": maps[lay].sum(axis=(2, 3)).mean(),
            "share of labels positive %": 100 * maps[lay].mean(),
        }
    )
layout_table = pd.DataFrame(layout_rows).set_index("layout")
display(layout_table.style.set_uuid("labels-layouts").format("{:.3f}"))
differ = (maps["uniform"] != maps["itheano"]).mean()
print(f"labels that differ between the layouts: {100 * differ:.2f} %")
