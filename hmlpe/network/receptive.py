"""Receptive fields measured, not computed: an independent check of Algorithm 1.

``hmlpe.network.backtrack.backtrack_region`` computes the input box of a neuron with the paper's
recursion (plus the padding term). This module finds the same box by asking the network
itself: which input pixels can change the neuron's activation? It differentiates the neuron
with respect to the input (float64) and returns the bounding box of the pixels with a nonzero
gradient.

In the trained network itself the answer depends on the image: a ReLU that is off, or a pixel
that loses a max-pooling comparison, blocks the gradient, so the pixels that influence a neuron
on one image are a subset of its receptive field (:func:`active_pixels` shows that subset).
The receptive field is the set of pixels that influence the neuron *for some input*. To see
all of them at once, :func:`probe_network` rebuilds the trunk's spatial operations with
PyTorch's own modules and the model's own kernel, stride, padding and ceil mode, but one
channel, all-ones weights, no bias, no ReLU and average instead of max pooling. Every path from
an input pixel to the neuron then has a positive weight, so the gradient is positive exactly on
the receptive field (clipped to the image, including the pixels a floor-mode pooling drops,
which get none) and zero elsewhere. The probe is built from the modules, not from
``HMLPENet.trunk_geometry``, and runs PyTorch's convolution and pooling arithmetic, so it checks
both the geometry that backtracking reads and the recursion itself.

Which point a layer name is follows ``hmlpe.network.backtrack``: "convK" is the K-th convolution's output
(after its ReLU, before its pooling), "poolK" the K-th pooling layer's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from hmlpe.network.model import FEATURE_POINTS, HMLPENet, LayerGeometry


def _spatial_modules(model_or_layers) -> list[tuple[str, nn.Module]]:
    """(name, module) of the convolution and pooling layers in forward order."""
    seq: nn.Module
    if isinstance(model_or_layers, HMLPENet):
        seq = model_or_layers.trunk
    elif isinstance(model_or_layers, nn.Module):
        seq = model_or_layers
    else:
        out: list[tuple[str, nn.Module]] = []
        for g in model_or_layers:
            if not isinstance(g, LayerGeometry):
                raise TypeError(
                    f"expected an HMLPENet, an nn.Module or LayerGeometry items, got {g!r}"
                )
            m = (
                nn.Conv2d(1, 1, g.kernel, g.stride, g.padding)
                if g.kind == "conv"
                else nn.AvgPool2d(g.kernel, g.stride, g.padding)
            )
            out.append((g.name, m))
        return out
    return [
        (name, m)
        for name, m in seq.named_children()
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))
    ]


def _pair(v: tuple[int, ...]) -> tuple[int, int]:
    """A 2-d convolution's (kernel, stride, padding or dilation) pair, as its type says."""
    a, b = v
    return a, b


def probe_network(model_or_layers, layer: str | None = None) -> nn.Sequential:
    """The linear, positive, one-channel float64 copy of the trunk's spatial layers up to and
    including ``layer`` (None: all of them); see the module docstring."""
    layers: list[tuple[str, nn.Module]] = []
    found = layer is None
    for name, m in _spatial_modules(model_or_layers):
        p: nn.Module
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise ValueError(f"{name}: only explicit zero padding is supported")
            conv = nn.Conv2d(
                1,
                1,
                _pair(m.kernel_size),
                stride=_pair(m.stride),
                padding=_pair(m.padding),
                dilation=_pair(m.dilation),
                bias=False,
            )
            nn.init.ones_(conv.weight)
            p = conv
        elif isinstance(m, nn.MaxPool2d):
            if m.dilation not in (1, (1, 1)):
                raise ValueError(f"{name}: dilated pooling is not supported")
            p = nn.AvgPool2d(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode)
        else:
            assert isinstance(m, nn.AvgPool2d)  # _spatial_modules keeps nothing else
            p = nn.AvgPool2d(
                m.kernel_size,
                m.stride,
                m.padding,
                ceil_mode=m.ceil_mode,
                count_include_pad=m.count_include_pad,
            )
        layers.append((name, p))
        if name == layer:
            found = True
            break
    if not found:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(n for n, _ in layers)}")
    net = nn.Sequential()
    for name, p in layers:
        net.add_module(name, p)
    return net.double().eval().requires_grad_(False)


def influence_masks(
    model_or_layers,
    layer: str | None,
    mx,
    my,
    input_size: int | tuple[int, int] = 112,
    batch_size: int = 512,
) -> np.ndarray:
    """(K, H, W) bool: for each neuron (``mx[k]``, ``my[k]``) of ``layer``, the input pixels whose
    change changes its activation in the probe network (nonzero gradient)."""
    if np.isscalar(input_size):
        h = w = cast(int, input_size)  # np.isscalar's guard widens it to any numpy scalar
    else:
        assert not isinstance(input_size, int)  # np.isscalar(int) is True
        h, w = map(int, input_size)
    mx = np.atleast_1d(np.array(mx, dtype=np.int64))
    my = np.atleast_1d(np.array(my, dtype=np.int64))
    if mx.shape != my.shape or mx.ndim != 1:
        raise ValueError("mx and my must be integers or 1-d arrays of one length")
    net = probe_network(model_or_layers, layer)
    x = torch.zeros(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    y = net(x)  # the probe is linear: its input gradients do not depend on x
    if (mx < 0).any() or (my < 0).any() or (mx >= y.shape[-1]).any() or (my >= y.shape[-2]).any():
        raise ValueError(f"neuron outside the {y.shape[-2]} x {y.shape[-1]} map of {layer}")
    out = np.zeros((len(mx), h, w), dtype=bool)
    for s in range(0, len(mx), batch_size):
        bx, by = torch.as_tensor(mx[s : s + batch_size]), torch.as_tensor(my[s : s + batch_size])
        k = torch.arange(len(bx))
        onehot = torch.zeros((len(bx),) + tuple(y.shape), dtype=torch.float64)
        onehot[k, 0, 0, by, bx] = 1.0
        # one vector-Jacobian product per neuron, batched: d y[0, 0, my, mx] / d x
        (g,) = torch.autograd.grad(
            y, x, grad_outputs=onehot, is_grads_batched=True, retain_graph=True
        )
        out[s : s + len(bx)] = (g[:, 0, 0] > 0).numpy()
    return out


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Inclusive bounding box (x1, y1, x2, y2) of a 2-d bool mask; None when it is empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def brute_force_region(
    model_or_layers, layer: str | None, mx, my, input_size: int | tuple[int, int] = 112
):
    """The box (x1, y1, x2, y2), inclusive, of the input pixels whose perturbation changes the
    activation of the neuron at column ``mx``, row ``my`` of ``layer``, measured on the probe
    network (gradients w.r.t. the input, float64). Comparable with
    ``backtrack_region(layers, mx, my, input_size=input_size)``.

    Raises ValueError when the influencing pixels do not fill their bounding box (they always do
    for convolutions and poolings; the check makes the box a complete description).
    With arrays ``mx``, ``my`` returns four arrays, like ``backtrack_region``."""
    scalar = np.ndim(mx) == 0 and np.ndim(my) == 0
    masks = influence_masks(model_or_layers, layer, mx, my, input_size)
    cols, rows = np.any(masks, axis=1), np.any(masks, axis=2)  # (K, W), (K, H)
    if not cols.any(axis=1).all():
        raise ValueError(f"a neuron of {layer} sees no input pixel")
    x1, x2 = cols.argmax(axis=1), cols.shape[1] - 1 - cols[:, ::-1].argmax(axis=1)
    y1, y2 = rows.argmax(axis=1), rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    if (masks.sum(axis=(1, 2)) != (x2 - x1 + 1) * (y2 - y1 + 1)).any():
        raise ValueError(f"the influencing pixels of a neuron of {layer} are not a rectangle")
    x1, y1, x2, y2 = (a.astype(np.int64) for a in (x1, y1, x2, y2))
    if scalar:
        return int(x1[0]), int(y1[0]), int(x2[0]), int(y2[0])
    return x1, y1, x2, y2


def active_pixels(
    model: HMLPENet, image: torch.Tensor, layer: str, channel: int, mx: int, my: int
) -> np.ndarray:
    """(H, W) bool: the input pixels with a nonzero gradient of the *trained* network's neuron
    (``channel``, ``my``, ``mx``) of ``layer`` at this input (float32 (3, H, W), as
    ``hmlpe.network.model.to_input`` makes it), computed in float64 on a copy of the model: the part of
    the receptive field that influences the neuron on this image (module docstring)."""
    import copy

    if layer not in FEATURE_POINTS:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(FEATURE_POINTS)}")
    trunk = copy.deepcopy(model.trunk).double().eval()  # the heads are not needed
    h = image.detach().to("cpu", torch.float64)[None].clone().requires_grad_(True)
    x, fm = h, None
    for name, m in trunk.named_children():  # the points of HMLPENet.feature_maps
        h = m(h)
        if name == layer and isinstance(m, nn.Conv2d):
            fm = torch.relu(h)  # "convK": after its ReLU, before pooling
            break
        if name == f"relu{layer[4:]}" and layer.startswith("pool"):
            fm = h  # "poolK": pooled and rectified
            break
    assert fm is not None  # every point of FEATURE_POINTS is one of the trunk's
    (g,) = torch.autograd.grad(fm[0, channel, my, mx], x)
    return (g[0].abs().sum(0) > 0).numpy()


def compare_with_backtrack(
    model: HMLPENet, layers: Sequence[str], input_size: int = 112
) -> list[dict]:
    """For every neuron of each of ``layers``: does ``brute_force_region`` equal
    ``backtrack_region`` (clipped to the input)? One row per layer: neurons, agreements, and for
    contrast the agreements of the paper's recursion without the padding term."""
    from hmlpe.network.backtrack import backtrack_region

    rows = []
    for layer in layers:
        geo = model.trunk_geometry(upto=layer)
        n = probe_network(model, layer)(
            torch.zeros(1, 1, input_size, input_size, dtype=torch.float64)
        ).shape[-1]
        my, mx = (a.ravel() for a in np.mgrid[0:n, 0:n])
        measured = np.stack(brute_force_region(model, layer, mx, my, input_size), axis=-1)
        ours = np.stack(backtrack_region(geo, mx, my, input_size=input_size), axis=-1)
        no_pad = [LayerGeometry(g.name, g.kind, g.kernel, g.stride, 0) for g in geo]
        paper = np.stack(backtrack_region(no_pad, mx, my, input_size=input_size), axis=-1)
        rows.append(
            {
                "layer": layer,
                "map side": n,
                "neurons": n * n,
                "Algorithm 1 with padding = measured": int((ours == measured).all(axis=1).sum()),
                "Algorithm 1 without padding = measured": int(
                    (paper == measured).all(axis=1).sum()
                ),
            }
        )
    return rows
