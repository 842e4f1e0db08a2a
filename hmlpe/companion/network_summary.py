"""The network chapter's summary of HMLPENet: the layer table (shapes, settings, parameters,
FLOPs per layer) and the drawing of Figure 3 as built, both read from the model itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from matplotlib.patches import FancyArrowPatch, Rectangle
from torch import nn

from hmlpe.network.model import HMLPENet


def layer_table(net: HMLPENet) -> pd.DataFrame:
    """One row per leaf module of ``net`` in forward order, plus the operations that are not
    modules (flatten, the tanh and the reshapes of the outputs): output shape (recorded by
    forward hooks on one zero image), settings, parameters and FLOPs (2 x multiply-adds of the
    convolutions and fully connected layers, as ``network.model.count_flops``). Indexed by
    (sub-network, layer)."""
    cfg = net.cfg
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        m.register_forward_hook(
            lambda mod, inp, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
        )
        for name, m in net.named_modules()
        if len(list(m.children())) == 0
    ]
    x = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        out = net(x)
    for h in hooks:
        h.remove()
    sub = {"trunk": "shared", "regression": "regression", "detection": "detection"}
    rows: list[dict] = []
    in_shape: tuple[int, ...] = (3, cfg.input_size, cfg.input_size)
    rows.append(
        {
            "sub-network": "input",
            "layer": "input",
            "module": "RGB image",
            "settings": "",
            "output shape": in_shape,
            "parameters": 0,
            "FLOPs": 0,
        }
    )
    for name, m in net.named_modules():
        if name not in shapes:
            continue
        group, _, short = name.partition(".")
        if group != "trunk" and in_shape and len(in_shape) == 3:  # first FC layer: flatten
            flat = (int(np.prod(in_shape)),)
            rows.append(
                {
                    "sub-network": "shared",
                    "layer": "flatten",
                    "module": "flatten",
                    "settings": f"{in_shape[0]} x {in_shape[1]} x {in_shape[2]}",
                    "output shape": flat,
                    "parameters": 0,
                    "FLOPs": 0,
                }
            )
            trunk_out = flat
        if group == "detection" and short == "0":
            in_shape = trunk_out  # the detection head reads the same flattened features
        if group != "trunk":
            short = f"{group[:3]}.{short}"
        settings, flops = "", 0
        if isinstance(m, nn.Conv2d):
            settings = (
                f"{m.kernel_size[0]}x{m.kernel_size[1]}, stride {m.stride[0]}, "
                f"padding {m.padding[0]}, {m.in_channels} -> {m.out_channels} maps"
            )
            flops = (
                2 * int(np.prod(shapes[name])) * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            )
        elif isinstance(m, nn.MaxPool2d):
            settings = f"{m.kernel_size}x{m.kernel_size}, stride {m.stride}"
        elif isinstance(m, nn.Linear):
            settings = f"{m.in_features} -> {m.out_features}"
            flops = 2 * m.in_features * m.out_features
        elif isinstance(m, nn.Dropout):
            settings = f"p = {m.p:g} (training only)"
        rows.append(
            {
                "sub-network": sub[group],
                "layer": short,
                "module": type(m).__name__,
                "settings": settings,
                "output shape": shapes[name],
                "parameters": sum(p.numel() for p in m.parameters(recurse=False)),
                "FLOPs": flops,
            }
        )
        in_shape = shapes[name]
        if group == "regression" and short.endswith(str(len(net.regression) - 1)):
            rows.append(
                {
                    "sub-network": "regression",
                    "layer": "tanh",
                    "module": "tanh",
                    "settings": "output activation",
                    "output shape": in_shape,
                    "parameters": 0,
                    "FLOPs": 0,
                }
            )
            rows.append(
                {
                    "sub-network": "regression",
                    "layer": "joints",
                    "module": "reshape",
                    "settings": "(x, y) per joint",
                    "output shape": tuple(out.joints.shape[1:]),
                    "parameters": 0,
                    "FLOPs": 0,
                }
            )
    rows.append(
        {
            "sub-network": "detection",
            "layer": "parts",
            "module": "reshape",
            "settings": "logits; logistic in the loss and in predict",
            "output shape": tuple(out.part_logits.shape[1:]),
            "parameters": 0,
            "FLOPs": 0,
        }
    )
    frame = pd.DataFrame(rows)
    frame["output shape"] = frame["output shape"].map(lambda s: " x ".join(map(str, s)))
    return frame.set_index(["sub-network", "layer"])


def draw_network(layers: pd.DataFrame, ax, input_size: int) -> None:
    """Figure 3 as built, from ``layer_table``: squares with sides proportional to the maps'
    sides (stacked outlines for their maps), bars for the fully connected layers with heights
    growing with the logarithm of their width; every label read from the table."""
    shapes = {k: tuple(int(v) for v in s.split(" x ")) for k, s in layers["output shape"].items()}
    trunk = [("input", "input")] + [
        k
        for k in layers.index
        if k[0] == "shared" and not k[1].startswith("relu") and k[1] != "flatten"
    ]
    scale = 1.6 / input_size
    x = 0.0
    trunk_right = {}
    for key in trunk:
        c, h, w = shapes[key]
        side = h * scale
        depth = min(6, max(1, int(np.log2(c)) - 1))
        slot = max(side + 0.05 * depth, 1.05)
        bx = x + (slot - side - 0.05 * depth) / 2  # the box centred in its slot
        for d in reversed(range(depth)):
            ax.add_patch(
                Rectangle(
                    (bx + 0.05 * d, 2.5 - side / 2 + 0.05 * d),
                    side,
                    side,
                    facecolor="#dbe8f5" if d == 0 else "white",
                    edgecolor="#3a6ea5",
                    lw=0.8,
                )
            )
        name = key[1]
        row = layers.loc[key]
        desc = {"Conv2d": "conv + ReLU", "MaxPool2d": "max-pool", "RGB image": "input"}[
            row["module"]
        ]
        ax.text(
            bx + side / 2,
            2.5 - side / 2 - 0.12,
            f"{name}\n{desc}\n{row['settings'].split(',')[0]}" if row["settings"] else desc,
            ha="center",
            va="top",
            fontsize=8.5,
        )
        ax.text(
            bx + side / 2,
            2.5 + side / 2 + 0.05 * depth + 0.05,
            f"{c}x{h}x{w}",
            ha="center",
            va="bottom",
            fontsize=8.5,
            color="#3a6ea5",
        )
        trunk_right[key] = x + slot
        x += slot + 0.2
    shared_left = trunk_right[trunk[0]] + 0.05
    ax.add_patch(
        Rectangle((shared_left, 0.7), x - shared_left, 3.5, fill=False, ls="--", edgecolor="grey")
    )
    ax.text(
        shared_left + 0.05,
        4.12,
        f"shared: {len(trunk) - 1} hidden layers",
        fontsize=9.5,
        va="top",
        color="grey",
    )
    flat = shapes[("shared", "flatten")][0]
    fx = x + 0.55
    ax.add_patch(Rectangle((fx, 2.5 - 0.6), 0.12, 1.2, facecolor="#eeeeee", edgecolor="k", lw=0.8))
    ax.text(fx + 0.06, 1.8, f"flatten\n{flat:,}", ha="center", va="top", fontsize=8.5)
    for group, y0, colour in (("regression", 5.0, "#d95f02"), ("detection", 0.0, "#1b9e77")):
        keys = [k for k in layers.index if k[0] == group and layers.loc[k, "module"] == "Linear"]
        has_dropout = any(
            k[0] == group and layers.loc[k, "module"] == "Dropout" for k in layers.index
        )
        heights = [0.17 * np.log2(shapes[k][0]) for k in keys]
        bx = fx + 0.9
        ax.add_patch(
            FancyArrowPatch(
                (fx + 0.12, 2.5),
                (bx - 0.05, y0),
                arrowstyle="-|>",
                mutation_scale=8,
                color="grey",
                lw=0.8,
            )
        )
        left = bx - 0.4
        for i, (key, hgt) in enumerate(zip(keys, heights)):
            n = shapes[key][0]
            ax.add_patch(
                Rectangle(
                    (bx, y0 - hgt / 2), 0.18, hgt, facecolor=colour, alpha=0.35, edgecolor=colour
                )
            )
            act = "ReLU" if i < len(keys) - 1 else ("tanh" if group == "regression" else "logistic")
            extra = "\n+ dropout" if i == 0 and has_dropout else ""
            ax.text(
                bx + 0.09,
                y0 - max(heights) / 2 - 0.08,
                f"FC{i + 1}\n{n}\n{act}{extra}",
                ha="center",
                va="top",
                fontsize=8.5,
            )
            if i:
                ax.add_patch(
                    FancyArrowPatch(
                        (bx - 0.72, y0),
                        (bx, y0),
                        arrowstyle="-|>",
                        mutation_scale=8,
                        color="grey",
                        lw=0.8,
                    )
                )
            bx += 0.9
        out_key = (group, "joints" if group == "regression" else "parts")
        label = ("joints " if group == "regression" else "parts x windows ") + " x ".join(
            map(str, shapes[out_key])
        )
        ax.add_patch(
            FancyArrowPatch(
                (bx - 0.72, y0),
                (bx - 0.05, y0),
                arrowstyle="-|>",
                mutation_scale=8,
                color="grey",
                lw=0.8,
            )
        )
        ax.text(bx, y0, label, va="center", fontsize=9.5)
        top, bottom = y0 + max(heights) / 2 + 0.15, y0 - max(heights) / 2 - 1.2
        ax.add_patch(
            Rectangle(
                (left, bottom),
                bx - left - 0.45,
                top - bottom,
                fill=False,
                ls="--",
                edgecolor=colour,
            )
        )
        ax.text(left, top + 0.05, f"{group} sub-network", fontsize=9.5, va="bottom", color=colour)
    ax.set_xlim(-0.1, bx + 1.6)
    ax.set_ylim(-2.4, 6.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
