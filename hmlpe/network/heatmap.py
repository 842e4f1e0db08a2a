"""The "Since 2014" reference network (not the paper's): a small SimpleBaseline-style heatmap
network (Xiao, Wu and Wei 2018: a residual encoder, transposed convolutions, one heatmap per
joint), configured by ``config.HeatmapConfig``.

    stem 3x3/2 -> residual stages (one basic block each, stride 1, 2, 2, 2)
    -> deconv_layers x (4x4 transposed conv /2, BN, ReLU) -> 1x1 conv to one map per joint

For the 112 input: 56 -> 56, 28, 14, 7 -> 14, 28: heatmaps of 28 x 28, stride 4. Targets and
decoding: ``hmlpe.data.heatmaps`` (NumPy, the definitions); here their torch forms for the
training device (``gaussian_heatmaps_torch``, ``decode_heatmaps_torch``, tested against the
NumPy ones), and the network's output, ``HeatmapOutput``, whose ``joints`` are the decoded
heatmaps in the crop-normalised units of ``HMLPEOutput.joints``, so that held-out errors,
inference and evaluation read both networks alike. The network has no detection head:
``part_logits`` is None. Weights keep PyTorch's default initialisation (the reproduction's
choice; ``ModelConfig.init`` is HMLPE's)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from hmlpe.config import HeatmapConfig


def _conv_bn_relu(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut (1x1 conv-BN where the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn_relu(c_in, c_out, stride),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def gaussian_heatmaps_torch(
    joints: torch.Tensor, cells: int, stride: float, sigma: float
) -> torch.Tensor:
    """``hmlpe.data.heatmaps.gaussian_heatmaps`` on tensors (every joint annotated): joints
    (B, J, 2) in crop pixels -> float32 maps (B, J, cells, cells) on the joints' device."""
    centre = torch.arange(cells, device=joints.device, dtype=torch.float32) + 0.5
    scaled = joints.float() / stride
    gx = torch.exp(-((centre - scaled[..., 0:1]) ** 2) / (2 * sigma**2))  # (B, J, cells)
    gy = torch.exp(-((centre - scaled[..., 1:2]) ** 2) / (2 * sigma**2))
    return gy[..., :, None] * gx[..., None, :]


def _log_parabola_offset_torch(left, mid, right):
    tiny = torch.finfo(torch.float32).tiny
    ll, lm, lr = (torch.log(v.clamp_min(tiny)) for v in (left, mid, right))
    curvature = ll - 2 * lm + lr
    offset = 0.5 * (ll - lr) / curvature
    ok = (curvature < 0) & (left > 0) & (mid > 0) & (right > 0) & torch.isfinite(offset)
    return torch.where(ok, offset.clamp(-0.5, 0.5), torch.zeros_like(offset))


@torch.no_grad()
def decode_heatmaps_torch(maps: torch.Tensor, stride: float) -> torch.Tensor:
    """``hmlpe.data.heatmaps.decode_heatmaps`` on tensors: maps (B, J, rows, cols) -> joints
    (B, J, 2) in crop pixels (float32; arg-max cell, log-parabola refinement per axis)."""
    maps = maps.float()
    rows, cols = maps.shape[-2:]
    flat = maps.flatten(-2)
    best = flat.argmax(dim=-1)
    r, c = best // cols, best % cols
    peak = flat.gather(-1, best[..., None])[..., 0]

    def at(rr, cc):
        idx = rr.clamp(0, rows - 1) * cols + cc.clamp(0, cols - 1)
        return flat.gather(-1, idx[..., None])[..., 0]

    zero = torch.zeros_like(peak)
    dx = torch.where(
        (c > 0) & (c < cols - 1), _log_parabola_offset_torch(at(r, c - 1), peak, at(r, c + 1)), zero
    )
    dy = torch.where(
        (r > 0) & (r < rows - 1), _log_parabola_offset_torch(at(r - 1, c), peak, at(r + 1, c)), zero
    )
    return torch.stack([(c + dx + 0.5) * stride, (r + dy + 0.5) * stride], dim=-1)


@dataclass
class HeatmapOutput:
    """What ``HeatmapNet`` returns: the heatmaps, and their decoded joints on demand."""

    heatmaps: torch.Tensor  # (B, n_joints, cells, cells), the trained output
    stride: int
    input_size: int
    part_logits: None = None  # no detection head

    @property
    def joints(self) -> torch.Tensor:
        """(B, n_joints, 2) decoded joints in crop-normalised units (x / input_size), no grad."""
        return decode_heatmaps_torch(self.heatmaps, self.stride) / self.input_size


class HeatmapNet(nn.Module):
    """Images (N, 3, S, S) -> ``HeatmapOutput`` with heatmaps (N, n_joints, S / stride,
    S / stride)."""

    def __init__(self, cfg: HeatmapConfig = HeatmapConfig()):
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = _conv_bn_relu(3, cfg.stem_channels, 2)
        c = cfg.stem_channels
        for k, width in enumerate(cfg.stage_channels):
            layers.append(BasicBlock(c, width, 1 if k == 0 else 2))
            c = width
        self.encoder = nn.Sequential(*layers)
        head: list[nn.Module] = []
        for _ in range(cfg.deconv_layers):
            head += [
                nn.ConvTranspose2d(c, cfg.deconv_channels, 4, 2, 1, bias=False),
                nn.BatchNorm2d(cfg.deconv_channels),
                nn.ReLU(inplace=True),
            ]
            c = cfg.deconv_channels
        head.append(nn.Conv2d(c, cfg.n_joints, 1))
        self.head = nn.Sequential(*head)

    @property
    def stride(self) -> int:
        """Input pixels per heatmap cell."""
        return 2 ** (1 + len(self.cfg.stage_channels) - 1 - self.cfg.deconv_layers)

    def forward(self, x: torch.Tensor) -> HeatmapOutput:
        return HeatmapOutput(self.head(self.encoder(x)), self.stride, self.cfg.input_size)


def count_flops(model: nn.Module, input_size: int) -> int:
    """Floating-point operations of one forward pass for one image: 2 x the multiply-adds of
    every convolution and transposed convolution (BatchNorm, ReLU and additions left out, as
    is customary), counted with forward hooks on one input."""
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.ConvTranspose2d):  # each input cell meets the whole kernel
            n_in = inputs[0].shape[-2] * inputs[0].shape[-1]
            macs += (
                n_in
                * module.in_channels
                * module.out_channels
                * module.kernel_size[0]
                * module.kernel_size[1]
                // module.groups
            )
        elif isinstance(module, nn.Conv2d):
            n_out = output.shape[-2] * output.shape[-1]
            macs += (
                n_out
                * module.out_channels
                * module.in_channels
                * module.kernel_size[0]
                * module.kernel_size[1]
                // module.groups
            )

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 3, input_size, input_size, device=_device_of(model)))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return 2 * macs


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device
