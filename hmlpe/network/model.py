"""The HMLPE network of Figure 3 (paper section 3.4), built from ``ModelConfig``.

Structure (what the paper fixes, plus the reproduction's choices, marked "ours"):

- Input: 112 x 112 RGB. Normalisation (ours): ``to_input`` maps uint8 pixels to
  ``x / 255 - INPUT_MEAN`` per channel with ``INPUT_MEAN = 0.5`` for every channel, so inputs lie
  in [-0.5, 0.5]. A data-set mean would differ by a few hundredths; conv1's biases absorb that.
- Shared trunk, "the first 6 hidden layers": 3 x [Conv2d -> ReLU -> MaxPool2d]. The modules run
  in the order Conv2d -> MaxPool2d -> ReLU: max-pooling and ReLU commute (both are monotone, so
  relu(max(a)) = max(relu(a)), and the gradients agree too), so this is the same function, but
  the ReLU and its backward then touch a 4x smaller map (measured ~15% faster training on CPU).
  Padding (ours): every convolution pads ``kernel // 2`` zeros on each side ("same" padding for
  odd kernels at stride 1), so with the default config the maps are 112 -> 56 -> 28 -> 14 after
  the three poolings and Algorithm 1 only has to subtract the padding. Pooling has no padding and
  floors (PyTorch's default, ``ceil_mode=False``). Each layer's kernel, stride and padding are
  read back from the modules by ``HMLPENet.trunk_geometry`` for ``hmlpe.network.backtrack``.
- Two sub-networks of three fully connected layers, fed by the flattened last pooling layer:
  regression ``FC(w1) -> ReLU -> Dropout -> FC(w2) -> ReLU -> FC(16) -> tanh``;
  detection ``FC(w1) -> ReLU -> Dropout -> FC(w2) -> ReLU -> FC(7 * 8 * 8)`` (logits).
  The logistic of the detection layer is applied by the loss (BCE with logits, numerically
  stable) and by ``predict``; the forward pass returns logits.
- tanh output: the regression targets are joints in crop-normalised units (pixel / 112), which lie
  in [0, 1] for joints inside the crop; tanh's range (-1, 1) covers them (and allows joints
  slightly outside the crop on the left/top).
- Dropout (paper 3.5: "in the first fully connected layers", p = 0.5): applied to the *outputs*
  of the first FC layer of each sub-network, after its ReLU, i.e. those neurons are randomly
  kept "to forward their activation to the output units". PyTorch's inverted dropout scales the
  kept activations by 1 / (1 - p) = 2 during training and uses them unscaled in eval mode; this is
  equivalent in expectation to the paper's unscaled training and x0.5 at test time (the two nets
  differ only by a factor 2 on the weights of the second FC layer).
- Weight initialisation (ours; the paper gives none): ``ModelConfig.init``, see
  ``hmlpe.network.init`` (PyTorch's defaults, [14]'s rule, or Kaiming).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

import numpy as np
import torch
from torch import nn

from hmlpe.config import ModelConfig
from hmlpe.network.init import initialise

if TYPE_CHECKING:
    from hmlpe.network.heatmap import HeatmapNet

INPUT_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)

# Names of the points in the trunk that ``feature_maps`` and ``hmlpe.network.backtrack`` accept:
# "convK" is the output of the K-th convolution after its ReLU (before pooling),
# "poolK" the output of the K-th max-pooling layer (rectified, i.e. what conv K+1 receives).
FEATURE_POINTS: tuple[str, ...] = ("conv1", "conv2", "conv3", "pool1", "pool2", "pool3")


@dataclass(frozen=True)
class LayerGeometry:
    """Spatial geometry of one locally connected layer (square kernels only)."""

    name: str  # "conv1", "pool1", ...
    kind: str  # "conv" or "pool"
    kernel: int
    stride: int
    padding: int


class HMLPEOutput(NamedTuple):
    joints: torch.Tensor  # (B, n_joints, 2), tanh outputs (x, y) in crop-normalised units
    part_logits: torch.Tensor  # (B, n_parts, grid, grid), logits of the window indicators


class HMLPEPrediction(NamedTuple):
    joints: torch.Tensor  # (B, n_joints, 2)
    part_probs: torch.Tensor  # (B, n_parts, grid, grid), logistic of the logits


def _square(value, what: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"{what} must be square, got {value}")
        value = value[0]
    if isinstance(value, str):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return int(value)


def conv_output_size(n: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution or floor-mode pooling along one axis."""
    return (n + 2 * padding - kernel) // stride + 1


def trunk_sizes(cfg: ModelConfig) -> list[tuple[str, int, int]]:
    """(point name, channels, spatial size) after each conv (+ReLU) and pool of the trunk."""
    out = []
    n, c = cfg.input_size, 3
    for k in range(3):
        c = cfg.conv_channels[k]
        n = conv_output_size(n, cfg.conv_kernels[k], cfg.conv_strides[k], cfg.conv_kernels[k] // 2)
        out.append((f"conv{k + 1}", c, n))
        n = conv_output_size(n, cfg.pool_kernel, cfg.pool_stride, 0)
        if n < 1:
            raise ValueError(f"ModelConfig {cfg} shrinks the maps to nothing after pool{k + 1}")
        out.append((f"pool{k + 1}", c, n))
    return out


def _head(
    in_features: int, widths: tuple[int, int], out_features: int, dropout: float
) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_features, widths[0]),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(widths[0], widths[1]),
        nn.ReLU(inplace=True),
        nn.Linear(widths[1], out_features),
    )


class HMLPENet(nn.Module):
    """Heterogeneous multi-task network: shared conv trunk, regression and detection heads."""

    def __init__(self, cfg: ModelConfig = ModelConfig()):
        super().__init__()
        self.cfg = cfg
        layers: list[tuple[str, nn.Module]] = []
        c_in = 3
        for k in range(3):
            kern = cfg.conv_kernels[k]
            layers += [
                (
                    f"conv{k + 1}",
                    nn.Conv2d(
                        c_in,
                        cfg.conv_channels[k],
                        kern,
                        stride=cfg.conv_strides[k],
                        padding=kern // 2,
                    ),
                ),
                # pool before ReLU: same function as ReLU before pool, cheaper (module docstring)
                (f"pool{k + 1}", nn.MaxPool2d(cfg.pool_kernel, stride=cfg.pool_stride)),
                (f"relu{k + 1}", nn.ReLU(inplace=True)),
            ]
            c_in = cfg.conv_channels[k]
        self.trunk = nn.Sequential()
        for name, module in layers:
            self.trunk.add_module(name, module)
        _, c, n = trunk_sizes(cfg)[-1]
        self.trunk_features = c * n * n
        self.regression = _head(self.trunk_features, cfg.fc_widths, cfg.n_joints * 2, cfg.dropout)
        self.detection = _head(
            self.trunk_features, cfg.fc_widths, cfg.n_parts * cfg.grid**2, cfg.dropout
        )
        initialise(self, cfg.init)

    def forward(self, x: torch.Tensor) -> HMLPEOutput:
        h = torch.flatten(self.trunk(x), 1)
        joints = torch.tanh(self.regression(h)).view(-1, self.cfg.n_joints, 2)
        logits = self.detection(h).view(-1, self.cfg.n_parts, self.cfg.grid, self.cfg.grid)
        return HMLPEOutput(joints, logits)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> HMLPEPrediction:
        """Eval-mode forward pass (dropout off) with probabilities; restores the previous mode."""
        was_training = self.training
        self.eval()
        try:
            out = self(x)
        finally:
            self.train(was_training)
        return HMLPEPrediction(out.joints, torch.sigmoid(out.part_logits))

    def trunk_geometry(self, upto: str | None = None) -> list[LayerGeometry]:
        """Kernel, stride and padding of the trunk's conv and pool layers, read from the modules,
        in forward order; ReLUs are pointwise and left out. ``upto`` ("conv2", "pool3", ...)
        stops at that layer (inclusive)."""
        out: list[LayerGeometry] = []
        for name, m in self.trunk.named_children():
            if isinstance(m, nn.Conv2d):
                if _square(m.dilation, f"{name}.dilation") != 1 or m.padding_mode != "zeros":
                    raise ValueError(
                        f"{name}: only undilated zero-padded convolutions are supported"
                    )
                kind = "conv"
            elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
                if isinstance(m, nn.MaxPool2d) and _square(m.dilation, f"{name}.dilation") != 1:
                    raise ValueError(f"{name}: dilated pooling is not supported")
                if m.ceil_mode:
                    raise ValueError(f"{name}: ceil_mode pooling is not supported")
                kind = "pool"
            else:
                continue
            out.append(
                LayerGeometry(
                    name,
                    kind,
                    _square(m.kernel_size, f"{name}.kernel_size"),
                    _square(m.stride, f"{name}.stride"),
                    _square(m.padding, f"{name}.padding"),
                )
            )
            if name == upto:
                return out
        if upto is not None:
            raise ValueError(
                f"unknown trunk layer {upto!r}; known: {', '.join(g.name for g in out)}"
            )
        return out

    def feature_maps(
        self,
        x: torch.Tensor,
        points: tuple[str, ...] = ("conv1", "conv2", "conv3"),
    ) -> dict[str, torch.Tensor]:
        """Activations of the trunk at ``points``: "convK" after the K-th ReLU (before pooling),
        "poolK" after the K-th max-pooling. Runs the trunk only as far as needed."""
        unknown = set(points) - set(FEATURE_POINTS)
        if unknown:
            raise ValueError(f"unknown feature points {sorted(unknown)}; known: {FEATURE_POINTS}")
        wanted = set(points)
        out: dict[str, torch.Tensor] = {}
        h = x
        for name, m in self.trunk.named_children():
            if not wanted - set(out):
                break
            h = m(h)
            if isinstance(m, nn.Conv2d) and name in wanted:
                out[name] = torch.relu(h)  # conv point: after its ReLU, before pooling
            elif name.startswith("relu") and f"pool{name[4:]}" in wanted:
                out[f"pool{name[4:]}"] = h  # pool point: pooled and rectified
        return {p: out[p] for p in points}


# The network a run trains (``TrainConfig.network``): HMLPE's, or the "Since 2014" heatmap one.
PoseNet: TypeAlias = "HMLPENet | HeatmapNet"


def to_input(
    images, channels_last: bool = False, mean: tuple[float, float, float] = INPUT_MEAN
) -> torch.Tensor:
    """uint8 images (B, H, W, 3) (numpy or torch) -> float32 (B, 3, H, W) = x / 255 - mean.

    With ``channels_last`` the result uses ``torch.channels_last`` memory (free here: NHWC input
    already has that layout), otherwise it is contiguous NCHW.
    """
    if isinstance(images, np.ndarray):
        # Cached crops are read-only memory maps: torch.from_numpy needs a writable array.
        images = np.ascontiguousarray(images)
        if not images.flags.writeable:
            images = images.copy()
    t = torch.as_tensor(images)
    if t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f"images must have shape (B, H, W, 3), got {tuple(t.shape)}")
    x = t.to(torch.float32).div_(255.0)
    x = x.sub_(torch.tensor(mean, dtype=torch.float32, device=x.device)).permute(0, 3, 1, 2)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return x.contiguous(memory_format=fmt)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(cfg: ModelConfig) -> int:
    """Floating-point operations of one forward pass for one image: 2 x multiply-adds of the
    convolutions and fully connected layers (bias adds, activations and pooling are left out,
    as is customary; they are < 1% here)."""
    macs = 0
    c_in = 3
    for name, c, n in trunk_sizes(cfg):
        if name.startswith("conv"):
            k = cfg.conv_kernels[int(name[4:]) - 1]
            macs += n * n * c * c_in * k * k
            c_in = c
    _, c, n = trunk_sizes(cfg)[-1]
    feats = c * n * n
    w1, w2 = cfg.fc_widths
    for out in (cfg.n_joints * 2, cfg.n_parts * cfg.grid**2):
        macs += feats * w1 + w1 * w2 + w2 * out
    return 2 * macs
