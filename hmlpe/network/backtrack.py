"""Backtracked patches (paper section 5, Algorithm 1) and receptive-field arithmetic.

Algorithm 1 maps a neuron at (mx, my) of the last layer of ``layer_list`` back to the input by,
for each layer from the top down, ``R_l <- R_l * stride`` and ``R_u <- R_u * stride +
filter_size - 1``. Our convolutions pad with zeros, so the recursion here also subtracts the
padding: ``R_l <- R_l * stride - padding``, ``R_u <- R_u * stride - padding + filter_size - 1``
(with padding 0 this is exactly the paper's). Boxes are inclusive input-pixel coordinates
(x1, y1, x2, y2).

Which point of the network a "layer" is (choice made explicit here): "convK" is the K-th
convolution's output after its ReLU and *before* its max-pooling; its layer list is every conv
and pool layer up to and including convK (e.g. conv3 backtracks through conv1, pool1, conv2,
pool2, conv3). "poolK" is the output of the K-th pooling layer, whose list ends with poolK.
Pooling layers count in the layer list as the paper's do (they have a filter size and stride).
The paper's Figures 6b, 6c and 7 use the 2nd and 3rd convolutional layers; the default here is
"conv3", backtracked without pool3.

Patches at image borders: the unclipped box of a border neuron reaches outside the image (into
the convolutions' zero padding). ``average_backtracked_patches`` pads each image with zeros
before cropping, so every patch has the full receptive-field size and the same pixel of every
patch has the same position relative to its neuron; the padded area counts as black (0) in the
average, exactly as the network saw it (the input is zero-padded after mean subtraction, i.e.
mid-grey, but for display black marks "outside the image" unambiguously).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hmlpe.network.model import FEATURE_POINTS, HMLPENet, LayerGeometry, to_input
from hmlpe.progress import progress_bar


def _pair(size) -> tuple[int, int]:
    """(height, width) from an int or a pair."""
    if isinstance(size, (tuple, list)):
        return int(size[0]), int(size[1])
    return int(size), int(size)


def backtrack_region(
    layers: Sequence[LayerGeometry], mx, my, input_size: int | tuple[int, int] | None = None
):
    """Inclusive input box (x1, y1, x2, y2) of the neuron at column ``mx``, row ``my`` of the last
    layer of ``layers`` (in forward order), by Algorithm 1 with padding.

    ``input_size`` (an int or (height, width)): clip the box to the image; ``None`` returns the
    unclipped box, which may extend past the image into the zero padding. Clipping is done at
    every layer to that layer's input map: a floor-mode pooling may drop the last rows/columns
    of its input, and the padding that replaces them beyond the map holds no image content, so
    clipping only at the end could overshoot the true field by those dropped pixels.

    ``mx`` and ``my`` may be numpy integer arrays (of one shape); the four results then are too.
    """
    x1 = x2 = np.asarray(mx, dtype=np.int64)
    y1 = y2 = np.asarray(my, dtype=np.int64)
    if input_size is not None:
        h, w = _pair(input_size)
        sizes = [(h, w)]  # input size of each layer
        for g in layers[:-1]:
            h = (h + 2 * g.padding - g.kernel) // g.stride + 1
            w = (w + 2 * g.padding - g.kernel) // g.stride + 1
            sizes.append((h, w))
    for i in reversed(range(len(layers))):
        g = layers[i]
        x1 = x1 * g.stride - g.padding
        y1 = y1 * g.stride - g.padding
        x2 = x2 * g.stride - g.padding + g.kernel - 1
        y2 = y2 * g.stride - g.padding + g.kernel - 1
        if input_size is not None:
            h, w = sizes[i]
            x1, y1 = np.maximum(x1, 0), np.maximum(y1, 0)
            x2, y2 = np.minimum(x2, w - 1), np.minimum(y2, h - 1)
    if x1.ndim == 0:
        return int(x1), int(y1), int(x2), int(y2)
    return x1, y1, x2, y2


@dataclass(frozen=True)
class ReceptiveField:
    name: str
    kind: str
    kernel: int
    stride: int
    padding: int
    size: int  # receptive-field side in input pixels
    jump: int  # input pixels between neighbouring neurons of this layer (cumulative stride)
    start: int  # input coordinate of the first pixel of neuron 0's field (negative: padding)
    output_size: int | None = None  # map side for the given input size, if one was given


def receptive_field(
    layers: Sequence[LayerGeometry], input_size: int | None = None
) -> list[ReceptiveField]:
    """Receptive-field size, jump (cumulative stride) and start offset after each layer.

    Neuron m of a layer sees input pixels [start + m * jump, start + m * jump + size - 1] along
    each axis (the same box ``backtrack_region`` returns unclipped). With ``input_size`` each row
    also holds the layer's output map side (floor-mode arithmetic, as PyTorch's)."""
    size, jump, start, n = 1, 1, 0, input_size
    out = []
    for g in layers:
        size += (g.kernel - 1) * jump
        start -= g.padding * jump
        jump *= g.stride
        if n is not None:
            n = (n + 2 * g.padding - g.kernel) // g.stride + 1
        out.append(
            ReceptiveField(g.name, g.kind, g.kernel, g.stride, g.padding, size, jump, start, n)
        )
    return out


def _layer_list(model: HMLPENet, layer: str) -> list[LayerGeometry]:
    if layer not in FEATURE_POINTS:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(FEATURE_POINTS)}")
    return model.trunk_geometry(upto=layer)


@dataclass
class MaxActivations:
    """Per image and feature map of one layer: the maximal activation and where it is."""

    layer: str
    values: np.ndarray  # (N, C) float32, the maximum of each map
    locations: (
        np.ndarray
    )  # (N, C, 2) int, (mx, my) of the maximum (first in row-major order on ties)
    boxes: np.ndarray  # (N, C, 4) int, unclipped backtracked boxes (x1, y1, x2, y2), inclusive
    clipped: np.ndarray  # (N, C, 4) int, the same boxes clipped to the image
    layers: list[LayerGeometry]

    @property
    def patch_size(self) -> int:
        """Side of every unclipped box (the layer's receptive-field size)."""
        return receptive_field(self.layers)[-1].size


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def max_activation_patches(
    model: HMLPENet,
    images,
    layer: str = "conv3",
    batch_size: int = 64,
) -> MaxActivations:
    """For each image (uint8 (N, H, W, 3)) and each feature map of ``layer``: the location of the
    maximal activation and its backtracked box. Runs the model in eval mode, fp32, batched."""
    layers = _layer_list(model, layer)
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    was_training = model.training
    model.eval()
    device = _device_of(model)
    vals, locs = [], []
    try:
        starts = range(0, n, batch_size)
        for s in progress_bar(starts, total=len(starts), desc=f"max activations {layer}"):
            x = to_input(images[s : s + batch_size]).to(device)
            fm = model.feature_maps(x, (layer,))[layer].float()
            b, c, fh, fw = fm.shape
            v, idx = fm.reshape(b, c, fh * fw).max(dim=2)
            vals.append(v.cpu().numpy())
            locs.append(torch.stack([idx % fw, idx // fw], dim=-1).cpu().numpy())
    finally:
        model.train(was_training)
    values = np.concatenate(vals)
    locations = np.concatenate(locs).astype(np.int64)
    boxes = np.stack(backtrack_region(layers, locations[..., 0], locations[..., 1]), axis=-1)
    clipped = np.stack(
        backtrack_region(layers, locations[..., 0], locations[..., 1], input_size=(h, w)), axis=-1
    )
    return MaxActivations(layer, values, locations, boxes, clipped, layers)


def extract_patch(image: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """The inclusive box (x1, y1, x2, y2) of ``image`` (H, W, C); pixels outside are zeros."""
    x1, y1, x2, y2 = (int(v) for v in box)
    h, w = image.shape[:2]
    out = np.zeros((y2 - y1 + 1, x2 - x1 + 1) + image.shape[2:], dtype=image.dtype)
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, w - 1), min(y2, h - 1)
    if sx1 <= sx2 and sy1 <= sy2:
        out[sy1 - y1 : sy2 - y1 + 1, sx1 - x1 : sx2 - x1 + 1] = image[sy1 : sy2 + 1, sx1 : sx2 + 1]
    return out


def average_backtracked_patches(
    model: HMLPENet,
    images,
    layer: str = "conv3",
    batch_size: int = 64,
) -> np.ndarray:
    """Figure 6b/6c: for each feature map of ``layer``, the mean over ``images`` (uint8
    (N, H, W, 3)) of the backtracked patch of that map's maximal activation.

    Returns float32 (C, s, s, 3) in pixel units (0..255), s the receptive-field size; patches
    reaching past the image are zero-padded (module docstring)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
        raise ValueError(f"images must have shape (N, H, W, 3) with N > 0, got {images.shape}")
    acts = max_activation_patches(model, images, layer, batch_size=batch_size)
    s = acts.patch_size
    n, c = acts.locations.shape[:2]
    # Pad every image by the largest overhang once, then crop with plain slicing.
    pad = int(
        max(
            0,
            -acts.boxes[..., :2].min(),
            acts.boxes[..., 2].max() - (images.shape[2] - 1),
            acts.boxes[..., 3].max() - (images.shape[1] - 1),
        )
    )
    total = np.zeros((c, s, s, 3), dtype=np.float64)
    for i in range(n):
        padded = np.pad(images[i], ((pad, pad), (pad, pad), (0, 0))) if pad else images[i]
        for k in range(c):
            x1, y1 = acts.boxes[i, k, :2] + pad
            total[k] += padded[y1 : y1 + s, x1 : x1 + s]
    return (total / n).astype(np.float32)
