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
# # Network (Figure 3)
#
# Reproduces: Figure 3 (the network of section 3.4) and the receptive fields of Algorithm 1
#
# The paper's Figure 3 is a picture that the text does not repeat. What the text says
# (section 3.4, Figure 3's caption, section 3.5): the input is a 112 x 112 RGB image; "the
# first 6 hidden layers are shared", namely three convolutional layers, each followed by a
# max-pooling layer, with "small filter and stride size" to keep location information; the
# last pooling layer feeds two separate sub-networks of three fully connected layers each,
# one regressing the joints, one detecting the body parts in windows. Most neurons are
# rectified linear units; the last regression layer uses the hyperbolic tangent and the last
# detection layer the logistic function; dropout (0.5) acts on the first fully connected
# layer of each sub-network; conv1 has 32 maps (Figure 6a). Kernel sizes, strides and the
# widths of all other layers are not given: they are the reproduction's choices, kept in
# one place (`hmlpe.config.ModelConfig`) and listed at the end of this page.
#
# Everything below is read from the network itself (`hmlpe.network.model.HMLPENet` built from the
# profile's `ModelConfig`): the layers and their settings from the modules, the output shapes
# by running an image through them, the parameter counts from the weights.

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run used
run_dir = "../runs/smoke"  # the run folder (unused here: the model is described from its config)

# %%
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from hmlpe import config as hconfig
from hmlpe.companion import network_summary, runinfo
from hmlpe.engine.profiles import get_profile
from hmlpe.network import model as hmodel
from hmlpe.network.backtrack import backtrack_region, receptive_field
from hmlpe.network.model import HMLPENet, count_flops, count_parameters
from hmlpe.provenance import git_commit

run_dir = Path(run_dir)
cfg = get_profile(profile).base.model
torch.manual_seed(0)  # the weights do not matter here: shapes and counts only
net = HMLPENet(cfg).eval()
print(f"profile: {profile}")
print("ModelConfig:\n  " + ",\n  ".join(f"{k}={v}" for k, v in cfg.__dict__.items()))

# %% [markdown]
# ## The layers
#
# One row per module, in the order the forward pass runs them, plus the three operations
# that are not modules (flattening the last pooled maps, the tanh of the regression output
# and the reshaping of the outputs). Output shapes are recorded by forward hooks while one
# 112 x 112 image passes through the network; FLOPs count 2 x the multiply-adds of the
# convolutions and fully connected layers for one image (bias additions, activations and
# pooling are left out, as in `hmlpe.network.model.count_flops`). The trunk runs each max-pooling
# *before* its ReLU: both are monotone, so this is the same function as ReLU then pooling,
# computed on the smaller pooled map (`hmlpe.network.model`'s docstring).

# %% tags=["hide-input"]
layers = network_summary.layer_table(net)
(
    layers.style.set_uuid("network-layers")
    .format({"parameters": "{:,}", "FLOPs": "{:,}"})
    .set_caption(f"HMLPENet of the {profile} profile, one 112 x 112 image")
)

# %% [markdown]
# Totals. The parameter count is also taken from the weights as a whole
# (`hmlpe.network.model.count_parameters`) and the FLOPs from the configuration
# (`hmlpe.network.model.count_flops`); both must agree with the sums of the table.

# %% tags=["hide-input"]
totals = layers.groupby(level="sub-network", sort=False)[["parameters", "FLOPs"]].sum()
totals = totals.drop(index="input")
totals.loc["total"] = totals.sum()
totals["parameters %"] = 100 * totals["parameters"] / totals.loc["total", "parameters"]
totals["FLOPs %"] = 100 * totals["FLOPs"] / totals.loc["total", "FLOPs"]
assert totals.loc["total", "parameters"] == count_parameters(net)
assert totals.loc["total", "FLOPs"] == count_flops(cfg)
first_fc = int(
    net.regression[0].weight.numel()
    + net.regression[0].bias.numel()
    + net.detection[0].weight.numel()
    + net.detection[0].bias.numel()
)
print(f"parameters: {count_parameters(net):,} (count_parameters)")
print(f"FLOPs per image: {count_flops(cfg):,} = {count_flops(cfg) / 1e6:.1f} MFLOPs (count_flops)")
print(
    f"the two first fully connected layers: {first_fc:,} parameters "
    f"({100 * first_fc / count_parameters(net):.1f} %)"
)
totals.style.set_uuid("network-totals").format(
    {"parameters": "{:,}", "FLOPs": "{:,}", "parameters %": "{:.1f}", "FLOPs %": "{:.1f}"}
)

# %% [markdown]
# ## Figure 3, as built
#
# Our drawing of the network above. Square sides are proportional to the maps' sides, the
# stacked outlines behind a square stand for its maps; bars of the fully connected layers
# have heights growing with the logarithm of their width. Every label is read from the table.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(12, 8))
network_summary.draw_network(layers, ax, cfg.input_size)
ax.set_title(
    f"HMLPENet ({profile} profile): {count_parameters(net):,} parameters, "
    f"{count_flops(cfg) / 1e6:.1f} MFLOPs per image",
    fontsize=10,
)
plt.show()

# %% [markdown]
# ## Receptive fields (Algorithm 1)
#
# The shared layers are only locally connected, so each neuron of a trunk layer sees a
# square region of the input: its *receptive field*. Algorithm 1 of the paper computes it by
# walking back through the layer list, `R_l <- R_l * stride` and
# `R_u <- R_u * stride + filter_size - 1`; our convolutions pad with zeros, so the library
# (`hmlpe.network.backtrack.backtrack_region`) also subtracts the padding (with padding 0 it is the
# paper's recursion). The table applies it to the geometry read from the modules
# (`HMLPENet.trunk_geometry`): *field* is the side of a neuron's field, *jump* the distance in
# input pixels between neighbouring neurons, *start* the first input pixel of neuron 0
# (negative: in the padding). As in the Features chapter, "convK" is the K-th convolution's
# output (after its ReLU), before the K-th pooling. The last two columns backtrack the
# centre neuron (n // 2, n // 2) of an n x n map and the corner neuron (0, 0) to the input, clipped to the 112 x 112 image.

# %% tags=["hide-input"]
geometry = net.trunk_geometry()
rf = pd.DataFrame([r.__dict__ for r in receptive_field(geometry, input_size=cfg.input_size)])
rf = rf.rename(columns={"name": "layer", "size": "field", "output_size": "map side"})
centre_box, corner_box = [], []
for k in range(len(geometry)):
    n = rf.loc[k, "map side"]
    centre_box.append(
        backtrack_region(geometry[: k + 1], n // 2, n // 2, input_size=cfg.input_size)
    )
    corner_box.append(backtrack_region(geometry[: k + 1], 0, 0, input_size=cfg.input_size))
rf["centre neuron: input box"] = centre_box
rf["corner neuron: input box"] = corner_box
rf["field / input side %"] = 100 * rf["field"] / cfg.input_size
rf = rf.set_index("layer")
(
    rf.style.set_uuid("network-receptive")
    .format({"field / input side %": "{:.1f}"})
    .set_caption("receptive fields of the shared layers (boxes: x1, y1, x2, y2, inclusive)")
)

# %% [markdown]
# A neuron of the last pooling layer sees a patch of the input whose side is the last
# row's *field*; every neuron of the fully connected layers sees the whole image. The
# Features chapter checks these boxes against the pixels that actually influence each
# neuron, and uses them to show what the maps of conv2 and conv3 respond to (Figures 6, 7).

# %% tags=["hide-input"]
last = rf.iloc[-1]
print(f"{rf.index[-1]}: {int(last['map side'])} x {int(last['map side'])} neurons per map,")
print(
    f"each seeing {int(last['field'])} x {int(last['field'])} input pixels "
    f"({last['field / input side %']:.1f} % of the side), neighbours {int(last['jump'])} px apart"
)

# %% [markdown]
# ## What the text fixes and what is ours
#
# The docstring of `ModelConfig` states the split; the table lists every setting with the
# note `hmlpe.config` writes beside it ("paper ..." where the text gives the value, "ours"
# where the reproduction chose it; settings without a note are explained below the table).

# %% tags=["hide-input"]
print(textwrap.fill(" ".join(hconfig.ModelConfig.__doc__.split()), 78))
(
    runinfo.config_table(cfg)
    .style.set_uuid("network-config")
    .set_caption(f"ModelConfig of the {profile} profile")
)

# %% [markdown]
# * **From the text:** the 112 x 112 x 3 input; three convolution + max-pooling stages shared
#   by both tasks; 32 maps in conv1; ReLU everywhere except the outputs; two sub-networks of
#   three fully connected layers; dropout 0.5 on the first fully connected layer of each;
#   tanh on the regression output (8 joints x 2 coordinates, section 4.1) and the logistic
#   function on the detection output (7 parts x 64 windows, section 4.2).
# * **Ours** (the text gives no value): the kernel sizes and strides of the convolutions, the
#   pooling windows, the numbers of maps of conv2 and conv3, the widths of the first two
#   fully connected layers of each sub-network, zero padding of the convolutions (so that
#   maps halve at every pooling), the order pooling-then-ReLU (same function), the input
#   normalisation and the weight initialisation. These, with their reasons, are in the
#   docstrings of `hmlpe.config.ModelConfig` and `hmlpe.network.model`. The notes of the paper's
#   author's public code ({doc}`protocol facts <11_protocol_facts>`) concern the data and labels, not the network.

# %% tags=["hide-input"]
print(hmodel.__doc__.split("\n\n", 1)[1].split("- Input:", 1)[0].strip())
for para in hmodel.__doc__.split("\n- ")[1:]:
    print(textwrap.fill(" ".join(para.split()), 78, initial_indent="- ", subsequent_indent="  "))

# %% [markdown]
# ## Provenance
#
# The network of this page is built from the code and the profile below; the pre-training run
# of the run folder (chapter Training) is checked for the same `ModelConfig`.

# %% tags=["hide-input"]
# This chapter runs before training (chapter 5), so it describes the profile's model;
# the training chapter shows the config each run was trained with.
prov = pd.DataFrame(
    {
        "value": {
            "code commit": git_commit(),
            "profile": profile,
            "model": f"hmlpe.network.model.HMLPENet(get_profile({profile!r}).base.model)",
            "torch": torch.__version__,
        }
    }
)
prov.index.name = "item"
prov.style.set_uuid("network-provenance")
