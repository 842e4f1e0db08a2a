"""Training batches made on the training device (torch): the paper 4.1 augmentation and the
eq. 2 targets of every batch by vectorised tensor operations, with no per-image Python and no
host round trip per step. The same code is the CPU path and the GPU path.

* ``epoch_plan`` (NumPy, on the host, once per epoch): which pool image each visit of the epoch
  shows, its crop offset, mirror (and optional rotation and scale), all drawn from the stream
  ``(seed, epoch)``: a resumed run, or a run on another device, draws exactly the same visits.
  An epoch of ``passes`` passes is ``passes`` permutations of the pool, one after the other
  (``StageConfig.epoch_unit``: the paper's epoch is 32 passes).
* ``DevicePool``: the pool's 128 x 128 uint8 crops and their joints as tensors on the device,
  and the plan of the current epoch (a few hundred kB, moved once per epoch);
  ``DevicePool.batch(start, stop)`` returns the network input, normalised joint targets and
  indicator maps of visits ``start:stop`` of the plan.
* ``part_indicator_maps``: eq. 2 in torch, the same operations in the same order as
  ``hmlpe.data.labels.part_indicator_maps`` (float64), so the maps are bitwise the NumPy ones
  on a CPU (``tests/test_batches.py``).

The NumPy reference of the whole batch is ``augment.apply_augmentation`` followed by
``labels.labels_from_joints``; the tests hold the two equal for the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hmlpe.config import AugmentConfig, LabelConfig
from hmlpe.data import augment
from hmlpe.data.labels import labels_from_joints, window_edges
from hmlpe.network.model import INPUT_MEAN, to_input
from hmlpe.skeleton import JOINT_MIRROR, PART_JOINTS


@dataclass(frozen=True)
class EpochPlan:
    """The visits of one epoch: ``order`` (V,) pool indices and their augmentation draws."""

    order: np.ndarray
    draw: augment.AugmentDraw

    def __len__(self) -> int:
        return len(self.order)


def epoch_plan(
    n_images: int,
    passes: int,
    seed: int,
    epoch: int,
    height: int,
    width: int,
    out: int,
    aug: AugmentConfig = AugmentConfig(),
) -> EpochPlan:
    """The visits of epoch ``epoch`` (1-based) of a run with ``seed``: ``passes`` permutations
    of the ``n_images`` pool images, then the augmentation draws of all visits in order
    (``augment.draw_augmentation``: x offsets, y offsets, mirrors[, angles, scales])."""
    if n_images < 1 or passes < 1:
        raise ValueError(f"an epoch needs images and passes >= 1, got {n_images}, {passes}")
    rng = np.random.default_rng([seed, epoch])
    order = np.concatenate([rng.permutation(n_images) for _ in range(passes)])
    draw = augment.draw_augmentation(
        len(order),
        height,
        width,
        rng,
        out=out,
        mirror_prob=aug.mirror_prob,
        rotation_deg=aug.rotation_deg,
        scale_jitter=aug.scale_jitter,
    )
    return EpochPlan(order, draw)


def _clip_interval(
    p: torch.Tensor, d: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``geometry.axis_clip_interval`` in torch (same operations, same NaN and parallel rules)."""
    ta = (lo - p) / d
    tb = (hi - p) / d
    t0 = torch.minimum(ta, tb)
    t1 = torch.maximum(ta, tb)
    parallel = d == 0
    inside = (lo <= p) & (p <= hi)
    inf = torch.full_like(t0, float("inf"))
    t0 = torch.where(parallel, torch.where(inside, -inf, inf), t0)
    t1 = torch.where(parallel, torch.where(inside, inf, -inf), t1)
    return t0, t1


def part_indicator_maps(parts: torch.Tensor, cfg: LabelConfig = LabelConfig()) -> torch.Tensor:
    """Eq. 2 for a batch of sticks, in torch: parts (B, 7, 2, 2) crop pixels -> bool
    (B, 7, grid, grid); ``hmlpe.data.labels.part_indicator_maps`` is the NumPy reference
    (sticks with a NaN end or zero length mark no window)."""
    if parts.ndim != 4 or parts.shape[2:] != (2, 2):
        raise ValueError(f"parts must have shape (B, P, 2, 2), got {tuple(parts.shape)}")
    lo_np, hi_np = window_edges(cfg.crop, cfg.window, cfg.grid, cfg.layout)
    lo = torch.as_tensor(lo_np, dtype=parts.dtype, device=parts.device)
    hi = torch.as_tensor(hi_np, dtype=parts.dtype, device=parts.device)
    p1 = parts[..., 0, :]
    d = parts[..., 1, :] - p1
    tx0, tx1 = _clip_interval(p1[..., 0, None], d[..., 0, None], lo, hi)
    ty0, ty1 = _clip_interval(p1[..., 1, None], d[..., 1, None], lo, hi)
    tx0 = torch.clamp_min(tx0, 0.0)
    ty0 = torch.clamp_min(ty0, 0.0)
    tx1 = torch.clamp_max(tx1, 1.0)
    ty1 = torch.clamp_max(ty1, 1.0)
    span = torch.minimum(ty1[..., :, None], tx1[..., None, :])
    span = span - torch.maximum(ty0[..., :, None], tx0[..., None, :])
    length = torch.hypot(d[..., 0], d[..., 1])
    span = span * length[..., None, None]
    return span > (cfg.beta * length)[..., None, None]  # NaN compares False


def mirror_joints(joints: torch.Tensor, width: float) -> torch.Tensor:
    """``augment.mirror_joints`` in torch: x' = width - x and left/right swapped."""
    out = joints[..., torch.as_tensor(JOINT_MIRROR, device=joints.device), :].clone()
    out[..., 0] = width - out[..., 0]
    return out


def _rgba_words(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) -> int32 (N, H, W): each pixel's RGB and a zero byte as one 4-byte
    word, so a crop gathers one word per pixel instead of three bytes (about 5x faster on a
    CPU; the memory is 4/3 of the RGB array's)."""
    n, h, w, _ = images.shape
    rgba = np.zeros((n, h, w, 4), np.uint8)
    rgba[..., :3] = images
    return rgba.view(np.int32).reshape(n, h, w)


def _rgb_of_words(words: torch.Tensor) -> torch.Tensor:
    """int32 (B, H, W) pixel words -> uint8 (B, H, W, 3) view (no copy)."""
    return words.view(torch.uint8).view(*words.shape, 4)[..., :3]


def normalise_words(words: torch.Tensor, channels_last: bool = True) -> torch.Tensor:
    """int32 pixel words (B, H, W) -> float32 (B, 3, H, W) = x / 255 - INPUT_MEAN, as
    ``model.to_input`` computes it from uint8 images; channels_last memory or NCHW."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = _rgb_of_words(words).permute(0, 3, 1, 2).to(torch.float32, memory_format=fmt)
    mean = torch.tensor(INPUT_MEAN, dtype=torch.float32, device=words.device)
    return x.div_(255.0).sub_(mean[None, :, None, None])


class DevicePool:
    """The training crops and joints on ``device``, cropped, mirrored and labelled there.

    images: uint8 (N, S, S, 3) (NumPy); joints (N, 8, 2) in crop pixels (float64 on the
    device, so eq. 2 sees the NumPy path's values); ``out``: the network input size."""

    def __init__(
        self,
        images,
        joints,
        device: torch.device | str,
        *,
        out: int = 112,
        labels: LabelConfig = LabelConfig(),
        channels_last: bool = True,
    ):
        self.device = torch.device(device)
        arr = np.asarray(images)
        if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, H, W, 3), got {arr.dtype} {arr.shape}")
        if out > arr.shape[1] or out > arr.shape[2]:
            raise ValueError(
                f"crop size {out} exceeds the image size {arr.shape[1]}x{arr.shape[2]}"
            )
        self.words = torch.from_numpy(_rgba_words(arr)).to(self.device)
        self.joints = torch.as_tensor(np.asarray(joints, dtype=np.float64)).to(self.device)
        if self.joints.shape != (len(arr), len(JOINT_MIRROR), 2):
            raise ValueError(
                f"joints must have shape ({len(arr)}, 8, 2), got {tuple(self.joints.shape)}"
            )
        self.out = out
        self.labels = labels
        self.channels_last = channels_last
        self._ramp = torch.arange(out, device=self.device)
        self._part_joints = torch.as_tensor(PART_JOINTS, device=self.device)
        self._plan: dict[str, torch.Tensor | None] = {}

    def __len__(self) -> int:
        return len(self.words)

    @property
    def height(self) -> int:
        return int(self.words.shape[1])

    @property
    def width(self) -> int:
        return int(self.words.shape[2])

    def set_plan(self, plan: EpochPlan) -> None:
        """Move one epoch's plan to the device (one copy per epoch, not per step)."""
        d = plan.draw

        def put(a, dtype):
            return (
                None if a is None else torch.as_tensor(np.asarray(a), dtype=dtype).to(self.device)
            )

        self._plan = {
            "order": put(plan.order, torch.int64),
            "ox": put(d.offsets[:, 0], torch.int64),
            "oy": put(d.offsets[:, 1], torch.int64),
            "flips": put(d.flips, torch.bool),
            "angles": put(d.angles, torch.float64),
            "scales": put(d.scales, torch.float64),
        }

    def _visits(self, start: int, stop: int) -> dict[str, torch.Tensor | None]:
        if not self._plan:
            raise RuntimeError("set_plan() first: the pool has no epoch plan")
        return {k: (None if v is None else v[start:stop]) for k, v in self._plan.items()}

    def _crop_words(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        p = self._visits(start, stop)
        if p["angles"] is None:
            return self._crop_and_mirror(p["order"], p["ox"], p["oy"], p["flips"])
        return self._affine(p["order"], p["ox"], p["oy"], p["angles"], p["scales"], p["flips"])

    def batch(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input (B, 3, out, out) float32, joint targets (B, 8, 2) float32 in crop-normalised
        units and indicator maps (B, 7, grid, grid) float32 of plan visits ``start:stop``."""
        words, joints = self._crop_words(start, stop)
        maps = part_indicator_maps(joints[:, self._part_joints], self.labels)
        x = normalise_words(words, self.channels_last)
        return x, (joints / self.out).to(torch.float32), maps.to(torch.float32)

    def crops(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 crops (B, out, out, 3) and joints (B, 8, 2) float64 crop pixels of plan visits
        ``start:stop`` (what ``batch`` normalises; the tests compare it with NumPy)."""
        words, joints = self._crop_words(start, stop)
        return _rgb_of_words(words), joints

    def _crop_and_mirror(self, idx, ox, oy, flips):
        """``augment.crop_and_mirror``: the crop's rows gathered whole, then its columns, the
        mirror folded into the column index."""
        n, h, w = self.words.shape
        ramp, out = self._ramp, self.out
        rows = (idx[:, None] * h + oy[:, None] + ramp).reshape(-1)  # (B * out,)
        strips = self.words.view(n * h, w).index_select(0, rows).view(-1, out, w)
        cols = ox[:, None] + torch.where(flips[:, None], out - 1 - ramp, ramp)  # (B, out)
        words = torch.gather(strips, 2, cols[:, None, :].expand(-1, out, out))
        shift = torch.stack([ox, oy], dim=1).to(torch.float64)[:, None, :]
        joints = self.joints[idx] - shift
        joints = torch.where(flips[:, None, None], mirror_joints(joints, out), joints)
        return words, joints

    def _affine(self, idx, ox, oy, angles, scales, flips):
        """``augment.affine_crop_and_mirror`` in torch (bilinear, edge clamping, float32
        weights as there; rounding may differ by one grey level where a value ties at .5)."""
        out, h, w = self.out, self.height, self.width
        half = out / 2.0
        cos, sin = torch.cos(angles), torch.sin(angles)
        cx = (ox.to(torch.float64) + half).to(torch.float32)[:, None, None]
        cy = (oy.to(torch.float64) + half).to(torch.float32)[:, None, None]
        grid = self._ramp.to(torch.float32) + 0.5 - half
        dx, dy = grid[None, None, :], grid[None, :, None]
        a = (cos / scales).to(torch.float32)[:, None, None]
        b = (sin / scales).to(torch.float32)[:, None, None]
        qx = cx + a * dx - b * dy
        qy = cy + b * dx + a * dy
        fx = torch.clamp(qx - 0.5, 0, w - 1)
        fy = torch.clamp(qy - 0.5, 0, h - 1)
        x0, y0 = torch.floor(fx).long(), torch.floor(fy).long()
        x1, y1 = torch.clamp_max(x0 + 1, w - 1), torch.clamp_max(y0 + 1, h - 1)
        wx = (fx - x0).unsqueeze(-1)
        wy = (fy - y0).unsqueeze(-1)
        base = (idx * (h * w))[:, None, None]
        flat = self.words.view(-1)

        def corner(yy, xx):
            return _rgb_of_words(flat[base + yy * w + xx]).to(torch.float32)

        c00, c10 = corner(y0, x0), corner(y1, x0)
        top = c00 + (corner(y0, x1) - c00) * wx
        bottom = c10 + (corner(y1, x1) - c10) * wx
        rgb = torch.clamp(torch.round(top + (bottom - top) * wy), 0, 255).to(torch.uint8)
        rgb = torch.where(flips[:, None, None, None], rgb.flip(2), rgb)
        rgba = torch.zeros((*rgb.shape[:3], 4), dtype=torch.uint8, device=self.device)
        rgba[..., :3] = rgb
        words = rgba.view(torch.int32).view(rgb.shape[:3])
        centre = torch.stack([ox, oy], dim=1).to(torch.float64) + half
        rel = self.joints[idx] - centre[:, None, :]
        c, s, k = cos[:, None], sin[:, None], scales[:, None]
        px = half + k * (c * rel[..., 0] + s * rel[..., 1])
        py = half + k * (-s * rel[..., 0] + c * rel[..., 1])
        joints = torch.stack([px, py], dim=-1)
        joints = torch.where(flips[:, None, None], mirror_joints(joints, out), joints)
        return words, joints


# --- the NumPy reference: the host path this module replaced --------------------------------


def make_batch(train, idx: np.ndarray, rng: np.random.Generator, cfg, shard: slice | None = None):
    """The NumPy reference of one batch (the host path before ``DevicePool``; ``hmlpe bench``
    times it beside the device path and the tests hold the two equal): random crops, mirrors,
    joint targets in crop-normalised units and indicator maps of ``train`` (a ``TrainSet``)
    images ``idx``, drawn from ``rng``. With ``shard``, only that part of the batch, cropped
    with its share of the random values drawn for the whole batch."""
    aug = cfg.augment
    height, width = train.images.shape[1:3]
    draw = augment.draw_augmentation(
        len(idx),
        height,
        width,
        rng,
        out=cfg.crop.input_size,
        mirror_prob=aug.mirror_prob,
        rotation_deg=aug.rotation_deg,
        scale_jitter=aug.scale_jitter,
    )
    if shard is not None:
        idx, draw = idx[shard], draw[shard]
    images, joints = augment.apply_augmentation(
        train.images[idx], train.joints[idx], draw, out=cfg.crop.input_size
    )
    part_maps = labels_from_joints(joints, cfg.labels)
    return images, joints / cfg.crop.input_size, part_maps


def to_device(spec, images, joints, part_maps):
    """A NumPy batch (``make_batch``) as the device tensors a training step takes."""
    x = to_input(images, channels_last=spec.channels_last).to(spec.device, non_blocking=True)
    j = torch.as_tensor(joints, dtype=torch.float32).to(spec.device, non_blocking=True)
    p = torch.as_tensor(part_maps, dtype=torch.float32).to(spec.device, non_blocking=True)
    return x, j, p
