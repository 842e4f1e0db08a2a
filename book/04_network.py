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
import numpy as np
import pandas as pd
import torch
from matplotlib.patches import FancyArrowPatch, Rectangle
from torch import nn

from hmlpe import config as hconfig
from hmlpe.network import model as hmodel
from hmlpe.companion import runinfo
from hmlpe.network.backtrack import backtrack_region, receptive_field
from hmlpe.network.model import HMLPENet, count_flops, count_parameters
from hmlpe.engine.profiles import get_profile
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
def layer_rows(net: HMLPENet) -> pd.DataFrame:
    """Run one zero image through ``net`` with forward hooks on every leaf module."""
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: shapes.__setitem__(
                 name, tuple(out.shape[1:])))
             for name, m in net.named_modules() if len(list(m.children())) == 0]
    x = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        out = net(x)
    for h in hooks:
        h.remove()
    sub = {"trunk": "shared", "regression": "regression", "detection": "detection"}
    rows, in_shape = [], (3, cfg.input_size, cfg.input_size)
    rows.append({"sub-network": "input", "layer": "input", "module": "RGB image", "settings": "",
                 "output shape": in_shape, "parameters": 0, "FLOPs": 0})
    for name, m in net.named_modules():
        if name not in shapes:
            continue
        group, _, short = name.partition(".")
        if group != "trunk" and in_shape and len(in_shape) == 3:  # first FC layer: flatten
            flat = (int(np.prod(in_shape)),)
            rows.append({"sub-network": "shared", "layer": "flatten", "module": "flatten",
                         "settings": f"{in_shape[0]} x {in_shape[1]} x {in_shape[2]}",
                         "output shape": flat, "parameters": 0, "FLOPs": 0})
            trunk_out = flat
        if group == "detection" and short == "0":
            in_shape = trunk_out  # the detection head reads the same flattened features
        if group != "trunk":
            short = f"{group[:3]}.{short}"
        settings, flops = "", 0
        if isinstance(m, nn.Conv2d):
            settings = (f"{m.kernel_size[0]}x{m.kernel_size[1]}, stride {m.stride[0]}, "
                        f"padding {m.padding[0]}, {m.in_channels} -> {m.out_channels} maps")
            flops = 2 * int(np.prod(shapes[name])) * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.MaxPool2d):
            settings = f"{m.kernel_size}x{m.kernel_size}, stride {m.stride}"
        elif isinstance(m, nn.Linear):
            settings = f"{m.in_features} -> {m.out_features}"
            flops = 2 * m.in_features * m.out_features
        elif isinstance(m, nn.Dropout):
            settings = f"p = {m.p:g} (training only)"
        rows.append({"sub-network": sub[group], "layer": short, "module": type(m).__name__,
                     "settings": settings, "output shape": shapes[name],
                     "parameters": sum(p.numel() for p in m.parameters(recurse=False)),
                     "FLOPs": flops})
        in_shape = shapes[name]
        if group == "regression" and short.endswith(str(len(net.regression) - 1)):
            rows.append({"sub-network": "regression", "layer": "tanh", "module": "tanh",
                         "settings": "output activation", "output shape": in_shape,
                         "parameters": 0, "FLOPs": 0})
            rows.append({"sub-network": "regression", "layer": "joints", "module": "reshape",
                         "settings": "(x, y) per joint", "output shape": tuple(out.joints.shape[1:]),
                         "parameters": 0, "FLOPs": 0})
    rows.append({"sub-network": "detection", "layer": "parts", "module": "reshape",
                 "settings": "logits; logistic in the loss and in predict",
                 "output shape": tuple(out.part_logits.shape[1:]), "parameters": 0, "FLOPs": 0})
    frame = pd.DataFrame(rows)
    frame["output shape"] = frame["output shape"].map(lambda s: " x ".join(map(str, s)))
    return frame.set_index(["sub-network", "layer"])


layers = layer_rows(net)
(layers.style.set_uuid("network-layers")
       .format({"parameters": "{:,}", "FLOPs": "{:,}"})
       .set_caption(f"HMLPENet of the {profile} profile, one 112 x 112 image"))

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
first_fc = int(net.regression[0].weight.numel() + net.regression[0].bias.numel()
               + net.detection[0].weight.numel() + net.detection[0].bias.numel())
print(f"parameters: {count_parameters(net):,} (count_parameters)")
print(f"FLOPs per image: {count_flops(cfg):,} = {count_flops(cfg) / 1e6:.1f} MFLOPs (count_flops)")
print(f"the two first fully connected layers: {first_fc:,} parameters "
      f"({100 * first_fc / count_parameters(net):.1f} %)")
totals.style.set_uuid("network-totals").format(
    {"parameters": "{:,}", "FLOPs": "{:,}", "parameters %": "{:.1f}", "FLOPs %": "{:.1f}"})

# %% [markdown]
# ## Figure 3, as built
#
# Our drawing of the network above. Square sides are proportional to the maps' sides, the
# stacked outlines behind a square stand for its maps; bars of the fully connected layers
# have heights growing with the logarithm of their width. Every label is read from the table.

# %% tags=["hide-input"]
def draw_network(layers: pd.DataFrame, ax) -> None:
    shapes = {k: tuple(int(v) for v in s.split(" x ")) for k, s in layers["output shape"].items()}
    trunk = [("input", "input")] + [k for k in layers.index
                                     if k[0] == "shared" and not k[1].startswith("relu")
                                     and k[1] != "flatten"]
    scale = 1.6 / cfg.input_size
    x = 0.0
    trunk_right = {}
    for key in trunk:
        c, h, w = shapes[key]
        side = h * scale
        depth = min(6, max(1, int(np.log2(c)) - 1))
        slot = max(side + 0.05 * depth, 1.05)
        bx = x + (slot - side - 0.05 * depth) / 2  # the box centred in its slot
        for d in reversed(range(depth)):
            ax.add_patch(Rectangle((bx + 0.05 * d, 2.5 - side / 2 + 0.05 * d), side, side,
                                   facecolor="#dbe8f5" if d == 0 else "white",
                                   edgecolor="#3a6ea5", lw=0.8))
        name = key[1]
        row = layers.loc[key]
        desc = {"Conv2d": "conv + ReLU", "MaxPool2d": "max-pool", "RGB image": "input"}[row["module"]]
        ax.text(bx + side / 2, 2.5 - side / 2 - 0.12, f"{name}\n{desc}\n{row['settings'].split(',')[0]}"
                if row["settings"] else desc, ha="center", va="top", fontsize=8.5)
        ax.text(bx + side / 2, 2.5 + side / 2 + 0.05 * depth + 0.05, f"{c}x{h}x{w}", ha="center",
                va="bottom", fontsize=8.5, color="#3a6ea5")
        trunk_right[key] = x + slot
        x += slot + 0.2
    shared_left = trunk_right[trunk[0]] + 0.05
    ax.add_patch(Rectangle((shared_left, 0.7), x - shared_left, 3.5, fill=False, ls="--",
                           edgecolor="grey"))
    ax.text(shared_left + 0.05, 4.12, f"shared: {len(trunk) - 1} hidden layers", fontsize=9.5,
            va="top", color="grey")
    flat = shapes[("shared", "flatten")][0]
    fx = x + 0.55
    ax.add_patch(Rectangle((fx, 2.5 - 0.6), 0.12, 1.2, facecolor="#eeeeee", edgecolor="k", lw=0.8))
    ax.text(fx + 0.06, 1.8, f"flatten\n{flat:,}", ha="center", va="top", fontsize=8.5)
    for group, y0, colour in (("regression", 5.0, "#d95f02"), ("detection", 0.0, "#1b9e77")):
        keys = [k for k in layers.index if k[0] == group and layers.loc[k, "module"] == "Linear"]
        has_dropout = any(k[0] == group and layers.loc[k, "module"] == "Dropout"
                          for k in layers.index)
        heights = [0.17 * np.log2(shapes[k][0]) for k in keys]
        bx = fx + 0.9
        ax.add_patch(FancyArrowPatch((fx + 0.12, 2.5), (bx - 0.05, y0), arrowstyle="-|>",
                                     mutation_scale=8, color="grey", lw=0.8))
        left = bx - 0.4
        for i, (key, hgt) in enumerate(zip(keys, heights)):
            n = shapes[key][0]
            ax.add_patch(Rectangle((bx, y0 - hgt / 2), 0.18, hgt, facecolor=colour, alpha=0.35,
                                   edgecolor=colour))
            act = "ReLU" if i < len(keys) - 1 else ("tanh" if group == "regression" else "logistic")
            extra = "\n+ dropout" if i == 0 and has_dropout else ""
            ax.text(bx + 0.09, y0 - max(heights) / 2 - 0.08, f"FC{i + 1}\n{n}\n{act}{extra}",
                    ha="center", va="top", fontsize=8.5)
            if i:
                ax.add_patch(FancyArrowPatch((bx - 0.72, y0), (bx, y0), arrowstyle="-|>",
                                             mutation_scale=8, color="grey", lw=0.8))
            bx += 0.9
        out_key = (group, "joints" if group == "regression" else "parts")
        label = ("joints " if group == "regression" else "parts x windows ") + \
            " x ".join(map(str, shapes[out_key]))
        ax.add_patch(FancyArrowPatch((bx - 0.72, y0), (bx - 0.05, y0), arrowstyle="-|>",
                                     mutation_scale=8, color="grey", lw=0.8))
        ax.text(bx, y0, label, va="center", fontsize=9.5)
        top, bottom = y0 + max(heights) / 2 + 0.15, y0 - max(heights) / 2 - 1.2
        ax.add_patch(Rectangle((left, bottom), bx - left - 0.45, top - bottom, fill=False, ls="--",
                               edgecolor=colour))
        ax.text(left, top + 0.05, f"{group} sub-network", fontsize=9.5, va="bottom", color=colour)
    ax.set_xlim(-0.1, bx + 1.6)
    ax.set_ylim(-2.4, 6.4)
    ax.set_aspect("equal")
    ax.set_axis_off()


fig, ax = plt.subplots(figsize=(12, 8))
draw_network(layers, ax)
ax.set_title(f"HMLPENet ({profile} profile): {count_parameters(net):,} parameters, "
             f"{count_flops(cfg) / 1e6:.1f} MFLOPs per image", fontsize=10)
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
    centre_box.append(backtrack_region(geometry[:k + 1], n // 2, n // 2, input_size=cfg.input_size))
    corner_box.append(backtrack_region(geometry[:k + 1], 0, 0, input_size=cfg.input_size))
rf["centre neuron: input box"] = centre_box
rf["corner neuron: input box"] = corner_box
rf["field / input side %"] = 100 * rf["field"] / cfg.input_size
rf = rf.set_index("layer")
(rf.style.set_uuid("network-receptive")
   .format({"field / input side %": "{:.1f}"})
   .set_caption("receptive fields of the shared layers (boxes: x1, y1, x2, y2, inclusive)"))

# %% [markdown]
# A neuron of the last pooling layer sees a patch of the input whose side is the last
# row's *field*; every neuron of the fully connected layers sees the whole image. The
# Features chapter checks these boxes against the pixels that actually influence each
# neuron, and uses them to show what the maps of conv2 and conv3 respond to (Figures 6, 7).

# %% tags=["hide-input"]
last = rf.iloc[-1]
print(f"{rf.index[-1]}: {int(last['map side'])} x {int(last['map side'])} neurons per map,")
print(f"each seeing {int(last['field'])} x {int(last['field'])} input pixels "
      f"({last['field / input side %']:.1f} % of the side), neighbours {int(last['jump'])} px apart")

# %% [markdown]
# ## What the text fixes and what is ours
#
# The docstring of `ModelConfig` states the split; the table lists every setting with the
# note `hmlpe.config` writes beside it ("paper ..." where the text gives the value, "ours"
# where the reproduction chose it; settings without a note are explained below the table).

# %% tags=["hide-input"]
print(textwrap.fill(" ".join(hconfig.ModelConfig.__doc__.split()), 78))
(runinfo.config_table(cfg).style.set_uuid("network-config")
       .set_caption(f"ModelConfig of the {profile} profile"))

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
prov = pd.DataFrame({"value": {
    "code commit": git_commit(),
    "profile": profile,
    "model": f"hmlpe.network.model.HMLPENet(get_profile({profile!r}).base.model)",
    "torch": torch.__version__,
}})
prov.index.name = "item"
prov.style.set_uuid("network-provenance")
