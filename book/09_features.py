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
# # Features (Figures 6, 7, Algorithm 1)
#
# Reproduces: Figure 6 (a, b, c), Figure 7 and Algorithm 1 (section 5)
#
# Section 5 of the paper looks at what the shared layers learned. The first convolutional
# layer works on the image, so its filters can be shown directly (Figure 6a). For the
# second and third layers the paper uses that the shared layers are only locally connected:
# a neuron of conv2 or conv3 sees a square patch of the input, which Algorithm 1 finds by
# walking back through the layers. For each feature map and each training image, it takes the
# neuron of maximal activation, backtracks it to its input patch, and averages these patches
# over all training images (Figures 6b and 6c). Figure 7 shows, on one Buffy test image,
# the patch of maximal activation of every map of conv3.
#
# Everything here uses the network pre-trained on the pooled training set (chapter
# Training) and the library functions `hmlpe.network.backtrack` (Algorithm 1, the patches and their
# averages) and `hmlpe.network.receptive` (the brute-force check of Algorithm 1). When the run
# folder holds committed results instead of weights, the page shows what `hmlpe export` saved
# of the same computations (`hmlpe.engine.features`, `pretrain/features.npz`).

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run used
run_dir = "../runs/smoke"  # the run folder the Training chapter filled
checkpoint = None  # None: run_dir/pretrain/last.pt (the network pre-trained on the pool)
max_images = None  # cap on the training images averaged (evenly spaced); None: all of them
buffy_frame = None  # index of the Buffy test frame of Figure 7; None: the first with a detection
data_root = None  # None: $HMLPE_DATA, else data/data_roots.txt (hmlpe.data.source)
data_pack = None  # a data pack to read the crops from (None: $HMLPE_DATA_PACK, else none)

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from hmlpe.companion import feature_figures, runinfo
from hmlpe.data.crops import crop_to_image, load_image
from hmlpe.data.pipeline import load_test_set
from hmlpe.data.source import DataSource
from hmlpe.engine import features
from hmlpe.network import backtrack
from hmlpe.network.receptive import compare_with_backtrack

source = DataSource.resolve(data_root, data_pack)  # where every cell below reads the data
page = feature_figures.page_network(run_dir, checkpoint, profile)
model, cfg, fx, network, trained = page.model, page.cfg, page.features, page.network, page.trained
print(f"profile: {profile}")
print(f"network: {network}")
print(f"Figures 6 and 7: {page.source}")


# %% [markdown]
# The training images are the crops the network was trained on: the training boxes of the
# pool resized to 128 x 128 (chapter Data), of which we take the central 112 x 112 crop (the
# network's input; training uses random 112 crops and mirrors).

# %% tags=["hide-input"]
if fx is None:
    images, test, frame = features.feature_inputs(
        cfg, source, buffy_frame=buffy_frame, max_images=max_images
    )
    fx = features.compute_features(
        model,
        images,
        test.images[frame],
        meta={"network": network, "frame": frame, "example": test.records[frame].example},
    )
else:
    test = load_test_set("buffy", cfg, source)
    frame = int(fx.meta["frame"])
print(
    f"training images: {fx.meta['n_images']} central {cfg.crop.input_size} x "
    f"{cfg.crop.input_size} crops of the {cfg.stage.dataset} training set"
)

# %% tags=["hide-input"]
if trained:
    prov = runinfo.provenance_frame(page.checkpoint.parent)
else:
    prov = pd.DataFrame({"value": {"network": network}}).rename_axis("item")
prov.style.set_uuid("features-provenance").set_caption("the network of this page")

# %% [markdown]
# ## Figure 6a: the filters of conv1
#
# The weights of each of conv1's filters (3 colour channels x kernel x kernel), drawn as an
# RGB image. Display (our choice): each filter is scaled on its own so that 0 is mid-grey and
# its largest absolute weight reaches black or white (the range of these largest weights is
# printed below the figure).

# %% tags=["hide-input"]
w = fx.filters  # (32, k, k, 3)
peak = np.abs(w).max(axis=(1, 2, 3))
feature_figures.show_patch_grid(
    0.5 + w / (2 * peak[:, None, None, None]),
    f"Figure 6a (ours): the {len(w)} filters of conv1, {w.shape[1]} x {w.shape[2]} x 3",
    width=8.0,
)
plt.show()
print(
    f"largest absolute weight per filter: {peak.min():.3f} to {peak.max():.3f} "
    f"(median {np.median(peak):.3f})"
)

# %% [markdown]
# ## Figures 6b and 6c: average backtracked patches of conv2 and conv3
#
# For each map of conv2 (Figure 6b) and conv3 (Figure 6c), and for each training image: the
# neuron of maximal activation in that map (`backtrack.max_activation_patches`; the first in
# row-major order on ties), its input patch by Algorithm 1, and the mean of these patches over
# the training images (`backtrack.average_backtracked_patches`). "convK" is the K-th
# convolution's output after its ReLU, before its pooling (the choice of `hmlpe.network.backtrack`).
# A patch of a neuron near the border reaches past the image; that part is filled with zeros
# (black), so every patch has the receptive field's full size and each of its pixels keeps
# its position relative to the neuron. Display (our choice): each average patch is stretched
# to the full grey range on its own (the averages are close to a uniform grey otherwise).

# %% tags=["hide-input"]
LAYERS = features.LAYERS
averages = fx.averages
n_images = fx.meta["n_images"]


for layer, fig_name in zip(LAYERS, ("6b", "6c")):
    avg = averages[layer]
    feature_figures.show_patch_grid(
        [feature_figures.stretch(p) for p in avg],
        f"Figure {fig_name} (ours): average backtracked patch of each of the "
        f"{len(avg)} maps of {layer} ({avg.shape[1]} x {avg.shape[2]} px, "
        f"{n_images} training images)",
    )
    plt.show()

# %% [markdown]
# Some numbers behind these pictures: the receptive-field side (the patch size), how many
# maps never activate on any training image (their maximum is 0 everywhere, so the
# "maximal" neuron is the first one and the average patch is the top-left corner of the
# image), how often the patch of maximal activation reaches past the image border, and how
# concentrated the positions of the maxima are (the share of images on which a map's maximum
# is at its single most frequent position, averaged over the live maps).

# %% tags=["hide-input"]
stats = pd.DataFrame(fx.stats).set_index("layer")
stats.style.set_uuid("features-stats").format(
    {
        "maxima reaching past the border %": "{:.1f}",
        "most frequent position, share of images %": "{:.1f}",
    }
)

# %% [markdown]
# ## Figure 7: patches of maximal activation on a Buffy test image
#
# One Buffy test frame, cropped as the test protocol crops it (chapter Buffy: the
# upper-body detection widened and extended, resized to 112 x 112). For every map of conv3:
# the neuron of maximal activation on this crop and its backtracked patch, first as a grid of
# patches numbered like Figure 6c (parts past the crop's border are black), then as boxes on
# the original image (the crop's pixel boxes mapped back through the crop's box; boxes
# clipped to the crop), sixteen maps per panel.

# %% tags=["hide-input"]
record, crop, crop_box = test.records[frame], test.images[frame], test.boxes[frame]
fig7 = fx.figure7
patches = [backtrack.extract_patch(crop, b) for b in fig7["boxes"]]
print(f"Buffy test frame {frame}: {record.example}")
print(
    f"conv3 patches: {fx.figure7_patch_size} x {fx.figure7_patch_size} px of the "
    f"{crop.shape[1]} x {crop.shape[0]} crop"
)
print(f"conv3 maps with no positive activation on this crop: {int((fig7['values'] <= 0).sum())}")
feature_figures.show_patch_grid(
    patches,
    f"Figure 7 (ours): patch of maximal activation of each conv3 map, Buffy {record.example}",
)
plt.show()

# %% tags=["hide-input"]
image = load_image(record.image)
x0, y0, x1, y1 = crop_box
n_maps = len(patches)
panels = int(np.ceil(n_maps / 16))
pcols = min(2, panels)
prows = int(np.ceil(panels / pcols))
fig, axes = plt.subplots(
    prows, pcols, figsize=(5 * pcols, prows * (5 * (y1 - y0) / (x1 - x0) + 0.4)), squeeze=False
)
colours = plt.cm.tab20(np.linspace(0, 1, 16, endpoint=False))
size = (crop.shape[1], crop.shape[0])
for ax in axes.ravel()[panels:]:
    ax.set_axis_off()
for p, ax in enumerate(axes.ravel()[:panels]):
    ax.imshow(image)
    for j, k in enumerate(range(16 * p, min(16 * (p + 1), n_maps))):
        bx1, by1, bx2, by2 = fig7["clipped"][k]
        (ix1, iy1), (ix2, iy2) = crop_to_image(
            np.array([[bx1, by1], [bx2 + 1, by2 + 1]]), crop_box, size
        )
        ax.add_patch(
            Rectangle((ix1, iy1), ix2 - ix1, iy2 - iy1, fill=False, edgecolor=colours[j], lw=1.2)
        )
        ax.text(
            ix1 + 1,
            iy1 + 1,
            str(k + 1),
            color=colours[j],
            fontsize=6,
            va="top",
            bbox=dict(boxstyle="square,pad=0.05", fc="black", alpha=0.5, lw=0),
        )
    ax.add_patch(
        Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="white", ls="--", lw=0.8)
    )
    ax.set_xlim(x0 - 2, x1 + 2)
    ax.set_ylim(y1 + 2, y0 - 2)
    ax.set_axis_off()
    ax.set_title(f"conv3 maps {16 * p + 1}-{min(16 * (p + 1), n_maps)}", fontsize=9)
fig.suptitle(
    f"Figure 7 (ours): the same patches as boxes on the image (Buffy {record.example}; "
    "dashed: the test crop)",
    fontsize=10,
)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Algorithm 1 in the library
#
# The paper's Algorithm 1 starts from the position $(m_x, m_y)$ of the maximal activation, a
# box $R = (m_x, m_y, m_x, m_y)$, and for every layer from the top down multiplies the lower
# corner by the layer's stride and the upper corner too, adding the filter size minus one. Our
# convolutions pad with zeros (the reproduction's choice: a convolution keeps its map's size, only the poolings shrink it),
# so a neuron's field starts `padding` pixels earlier; the library subtracts it at every layer,
# and can clip the box to each layer's input map (needed when a floor-mode pooling drops the
# last row or column). With padding 0 the recursion is exactly the paper's. The code:

# %% tags=["hide-input"]
src = inspect.getsource(backtrack.backtrack_region)
print(src[src.index("    x1 = x2") :])

# %% [markdown]
# **Check against brute force.** `hmlpe.network.receptive.brute_force_region` does not use the
# recursion: it asks the network which input pixels change a neuron's activation, by
# differentiating the neuron with respect to the input in double precision. In the trained
# network that set depends on the image (a ReLU that is off or a pixel losing a max-pooling
# comparison blocks the gradient), so the check uses a probe copy of the trunk built from the
# model's own modules (same kernels, strides, padding and pooling mode; one channel, weights
# all 1, no ReLU, average pooling), where every path counts and the gradient is nonzero
# exactly on the receptive field. For every neuron of conv2, pool2, conv3 and pool3 (the
# layers of Figures 6 and 7 and the last shared layer; `tests/test_receptive.py` checks the
# others) the table counts the neurons whose measured box equals Algorithm 1's box clipped to the
# image, with our padding term and, for contrast, with the paper's recursion as printed
# (no padding term), which is the right one only for a network without padding.

# %% tags=["hide-input"]
check = pd.DataFrame(
    compare_with_backtrack(
        model, ["conv2", "pool2", "conv3", "pool3"], input_size=cfg.model.input_size
    )
).set_index("layer")
check.style.set_uuid("features-algorithm1-check").set_caption(
    "neurons whose measured input box equals Algorithm 1's (112 x 112 input)"
)

# %% [markdown]
# **On a real image.** For three conv3 maps, the neuron of maximal activation on the Buffy
# crop above: its box from Algorithm 1 (yellow) and the pixels whose gradient in the *trained*
# network is nonzero on this crop (`hmlpe.network.receptive.active_pixels`, red). They always lie
# inside the box; how much of the box they fill depends on which units are active.

# %% tags=["hide-input"]
chosen = fx.active
fig, axes = plt.subplots(1, max(len(chosen), 1), figsize=(10, 3.7), squeeze=False)
for ax, item in zip(axes[0], chosen):
    k, mx, my, act = item["map"], item["mx"], item["my"], item["mask"]
    bx1, by1, bx2, by2 = fig7["clipped"][k]
    inside = np.zeros_like(act)
    inside[by1 : by2 + 1, bx1 : bx2 + 1] = True
    overlay = crop.astype(float) / 255
    overlay[act] = 0.45 * overlay[act] + 0.55 * np.array([1.0, 0.0, 0.0])
    ax.imshow(overlay, interpolation="nearest")
    ax.add_patch(
        Rectangle(
            (bx1 - 0.5, by1 - 0.5),
            bx2 - bx1 + 1,
            by2 - by1 + 1,
            fill=False,
            edgecolor="yellow",
            lw=1.2,
        )
    )
    ax.set_axis_off()
    ax.set_title(
        f"conv3 map {k + 1}, neuron ({mx}, {my})\n{int(act.sum())} of {int(inside.sum())} "
        f"box pixels active, {int((act & ~inside).sum())} outside the box",
        fontsize=8,
    )
for ax in axes[0][len(chosen) :]:
    ax.set_axis_off()
fig.tight_layout()
plt.show()
