"""Training-time augmentation of paper 4.1: random 112x112 crops of the 128x128 training box and a
horizontal mirror ("randomly selecting 16 bounding box of size 112x112 inside the extracted human
image, and apply a mirror transformation"). Pure NumPy.

Coordinate convention (used throughout ``hmlpe``): **pixel-edge coordinates**. Pixel column
``c`` covers ``x in [c, c + 1]``, its centre is ``x = c + 0.5``; likewise rows and ``y``. An image
of width ``W`` spans ``[0, W]``. In these coordinates:

* cropping at offset ``(ox, oy)`` maps ``(x, y) -> (x - ox, y - oy)``;
* the horizontal mirror ``img[:, ::-1]`` maps ``x -> W - x``: the centre ``c + 0.5`` of column
  ``c`` goes to ``W - c - 0.5``, the centre of column ``W - 1 - c``, which is where
  ``img[:, ::-1]`` puts that column. (With pixel-centre/index coordinates the same flip would be
  ``x -> W - 1 - x``, as in the first author's code.)

Mirroring also swaps left and right joints (``skeleton.JOINT_MIRROR``), so that "l_*" keeps
meaning the arm drawn on the image's left (the observer-centric convention of ``skeleton``).
NaN joints stay NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hmlpe.skeleton import JOINT_MIRROR, JOINTS

N_JOINTS = len(JOINTS)


def mirror_joints(joints: np.ndarray, width: float) -> np.ndarray:
    """Joints (..., 8, 2) of an image of width ``width`` -> joints of the mirrored image:
    ``x' = width - x`` and left/right swapped."""
    joints = np.asarray(joints, dtype=float)
    if joints.shape[-2:] != (N_JOINTS, 2):
        raise ValueError(f"joints must have shape (..., {N_JOINTS}, 2), got {joints.shape}")
    out = joints[..., JOINT_MIRROR, :].copy()
    out[..., 0] = width - out[..., 0]
    return out


def mirror(image: np.ndarray, joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal mirror of one image (H, W[, C]) and its joints (8, 2): ``image[:, ::-1]``,
    ``x' = W - x``, left/right swapped. Applying it twice gives back the inputs."""
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got {image.shape}")
    return np.ascontiguousarray(image[:, ::-1]), mirror_joints(joints, image.shape[1])


def crop_and_mirror(
    images: np.ndarray, joints: np.ndarray, offsets: np.ndarray, flips: np.ndarray, out: int = 112
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic core of ``random_crops_and_mirrors``.

    images (N, H, W, C); joints (N, 8, 2) image pixels; offsets (N, 2) integer ``(ox, oy)`` top-left
    corner of each ``out x out`` crop; flips (N,) bool, mirror the crop after cropping.
    Returns images (N, out, out, C) of the input dtype and joints (N, 8, 2) in crop pixels.
    """
    images = np.asarray(images)
    joints = np.asarray(joints, dtype=float)
    offsets = np.asarray(offsets)
    flips = np.asarray(flips, dtype=bool)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}")
    n, h, w, c = images.shape
    if joints.shape != (n, N_JOINTS, 2):
        raise ValueError(f"joints must have shape ({n}, {N_JOINTS}, 2), got {joints.shape}")
    if offsets.shape != (n, 2):
        raise ValueError(f"offsets must have shape ({n}, 2), got {offsets.shape}")
    if flips.shape != (n,):
        raise ValueError(f"flips must have shape ({n},), got {flips.shape}")
    if out > h or out > w:
        raise ValueError(f"crop size {out} exceeds the image size {h}x{w}")
    ox = offsets[:, 0].astype(np.int64)
    oy = offsets[:, 1].astype(np.int64)
    if (ox < 0).any() or (oy < 0).any() or (ox > w - out).any() or (oy > h - out).any():
        raise ValueError(f"offsets must lie in [0, {w - out}] x [0, {h - out}]")
    crops = np.empty((n, out, out, c), dtype=images.dtype)
    for i in range(n):  # slice copies: much faster than a fancy-index gather
        patch = images[i, oy[i] : oy[i] + out, ox[i] : ox[i] + out]
        if flips[i]:
            # One strided copy per channel: NumPy copies patch[:, ::-1] (innermost run of C = 3
            # bytes) about 8x slower than C copies whose innermost run is a whole row.
            for k in range(c):
                crops[i, :, :, k] = patch[:, ::-1, k]
        else:
            crops[i] = patch
    shifted = joints - np.stack([ox, oy], axis=1)[:, None, :].astype(float)
    if flips.any():
        shifted[flips] = mirror_joints(shifted[flips], out)
    return crops, shifted


def random_crops_and_mirrors(
    images: np.ndarray,
    joints: np.ndarray,
    rng: np.random.Generator,
    out: int = 112,
    mirror_prob: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Paper 4.1 augmentation for a batch: a uniformly random ``out x out`` crop of each image
    (every integer offset in ``[0, W - out] x [0, H - out]`` equally likely; 17 x 17 for
    128 -> 112) and a horizontal mirror with probability ``mirror_prob``.

    images uint8 (N, 128, 128, 3); joints (N, 8, 2) in image pixels (pixel-edge coordinates).
    Returns (uint8 (N, out, out, 3), joints (N, 8, 2) in crop pixels).
    The paper enumerates 16 crops x 2 mirrors per image offline; drawing them per batch is the
    reproduction's choice (same distribution of crops, no stored copies).
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}")
    n: int  # a shape entry (Any to numpy's stubs): rng.random(n) is then an array, not a float
    n, h, w, _ = images.shape
    if out > h or out > w:
        raise ValueError(f"crop size {out} exceeds the image size {h}x{w}")
    ox = rng.integers(0, w - out + 1, size=n)
    oy = rng.integers(0, h - out + 1, size=n)
    flips = rng.random(n) < mirror_prob
    return crop_and_mirror(images, joints, np.stack([ox, oy], axis=1), flips, out)


def affine_crop_and_mirror(
    images: np.ndarray,
    joints: np.ndarray,
    offsets: np.ndarray,
    angles: np.ndarray,
    scales: np.ndarray,
    flips: np.ndarray,
    out: int = 112,
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic core of ``random_affine_crops``: each ``out x out`` output is the window of
    ``crop_and_mirror`` at ``offsets`` rotated by ``angles`` (radians, counter-clockwise on
    screen... i.e. a positive angle turns the image content clockwise as y points down) and
    magnified by ``scales`` about its centre, sampled bilinearly with edge clamping, then mirrored
    where ``flips``. With angle 0 and scale 1 it equals ``crop_and_mirror`` exactly.

    Output pixel centre ``p`` (crop pixels, pixel-edge coordinates) reads the image at
    ``q = c + R(angle) (p - out/2) / scale`` with ``c = offset + out/2``; joints map back by
    ``p = out/2 + scale R(-angle) (q - c)``. Returns float-free uint8 images of the input dtype.
    """
    images = np.asarray(images)
    joints = np.asarray(joints, dtype=float)
    n, h, w, c = images.shape
    offsets = np.asarray(offsets, dtype=float).reshape(n, 2)
    angles = np.asarray(angles, dtype=float).reshape(n)
    scales = np.asarray(scales, dtype=float).reshape(n)
    flips = np.asarray(flips, dtype=bool).reshape(n)
    if joints.shape != (n, N_JOINTS, 2):
        raise ValueError(f"joints must have shape ({n}, {N_JOINTS}, 2), got {joints.shape}")
    if (scales <= 0).any():
        raise ValueError(f"scales must be > 0, got min {scales.min()}")
    half = out / 2.0
    cos, sin = np.cos(angles), np.sin(angles)
    centre = offsets + half  # (n, 2)
    grid = (np.arange(out) + 0.5 - half).astype(np.float32)  # output pixel centres - out/2
    dx = grid[None, None, :]
    dy = grid[None, :, None]
    # float32 is exact for the identity case (half-integers) and enough for bilinear weights.
    a = (cos / scales).astype(np.float32)[:, None, None]
    b_ = (sin / scales).astype(np.float32)[:, None, None]
    cx = centre[:, 0].astype(np.float32)[:, None, None]
    cy = centre[:, 1].astype(np.float32)[:, None, None]
    qx = cx + a * dx - b_ * dy
    qy = cy + b_ * dx + a * dy
    # Pixel-edge -> index coordinates; bilinear weights; clamp to the image's edge.
    fx = np.clip(qx - 0.5, 0, w - 1)
    fy = np.clip(qy - 0.5, 0, h - 1)
    x0 = np.floor(fx).astype(np.int64)
    y0 = np.floor(fy).astype(np.int64)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    wx = (fx - x0).astype(np.float32)[..., None]
    wy = (fy - y0).astype(np.float32)[..., None]
    # One flat gather per corner (much faster than 3-D fancy indexing).
    flat = images.reshape(n * h * w, c)
    base = (np.arange(n) * (h * w))[:, None, None]

    def corner(yy, xx):
        return (
            np.take(flat, (base + yy * w + xx).ravel(), axis=0)
            .reshape(n, out, out, c)
            .astype(np.float32)
        )

    c00, c10 = corner(y0, x0), corner(y1, x0)
    top = c00 + (corner(y0, x1) - c00) * wx
    bottom = c10 + (corner(y1, x1) - c10) * wx
    sampled = top + (bottom - top) * wy
    if np.issubdtype(images.dtype, np.integer):
        info = np.iinfo(images.dtype)
        crops = np.clip(np.rint(sampled), info.min, info.max).astype(images.dtype)
    else:
        crops = sampled.astype(images.dtype)
    rel = joints - centre[:, None, :]
    px = half + scales[:, None] * (cos[:, None] * rel[..., 0] + sin[:, None] * rel[..., 1])
    py = half + scales[:, None] * (-sin[:, None] * rel[..., 0] + cos[:, None] * rel[..., 1])
    mapped = np.stack([px, py], axis=-1)
    if flips.any():
        crops[flips] = crops[flips][:, :, ::-1]
        mapped[flips] = mirror_joints(mapped[flips], out)
    return np.ascontiguousarray(crops), mapped


@dataclass(frozen=True)
class AugmentDraw:
    """The random values of one batch's augmentation, apart from the work they drive: a
    data-parallel rank draws those of the whole global batch (so the random stream is the one
    a single process draws) and crops only its own shard (``draw[shard]``)."""

    offsets: np.ndarray  # (N, 2) integer (ox, oy): top-left corner of each crop
    flips: np.ndarray  # (N,) bool: mirror after cropping
    angles: np.ndarray | None = None  # (N,) radians; None with scales: the paper's crop only
    scales: np.ndarray | None = None  # (N,)

    def __len__(self) -> int:
        return len(self.flips)

    def __getitem__(self, sel) -> AugmentDraw:
        def pick(a):
            return None if a is None else a[sel]

        return AugmentDraw(self.offsets[sel], self.flips[sel], pick(self.angles), pick(self.scales))


def draw_augmentation(
    n: int,
    height: int,
    width: int,
    rng: np.random.Generator,
    out: int = 112,
    mirror_prob: float = 0.5,
    rotation_deg: float = 0.0,
    scale_jitter: float = 0.0,
) -> AugmentDraw:
    """The random values ``random_affine_crops`` draws for ``n`` images of ``height x width``,
    in the same order from ``rng``: x offsets, y offsets, mirrors, then (only with rotation or
    scale jitter) angles and scales."""
    if rotation_deg < 0 or scale_jitter < 0:
        raise ValueError(
            f"rotation_deg and scale_jitter must be >= 0, got {rotation_deg}, {scale_jitter}"
        )
    if out > height or out > width:
        raise ValueError(f"crop size {out} exceeds the image size {height}x{width}")
    offsets = np.stack(
        [rng.integers(0, width - out + 1, size=n), rng.integers(0, height - out + 1, size=n)],
        axis=1,
    )
    flips = rng.random(n) < mirror_prob
    if rotation_deg == 0 and scale_jitter == 0:
        return AugmentDraw(offsets, flips)
    angles = np.deg2rad(rng.uniform(-rotation_deg, rotation_deg, size=n))
    log_s = np.log1p(scale_jitter)
    scales = np.exp(rng.uniform(-log_s, log_s, size=n))
    return AugmentDraw(offsets, flips, angles, scales)


def apply_augmentation(
    images: np.ndarray, joints: np.ndarray, draw: AugmentDraw, out: int = 112
) -> tuple[np.ndarray, np.ndarray]:
    """The crops and joints of ``draw`` (``crop_and_mirror``, or ``affine_crop_and_mirror`` when
    it holds angles and scales)."""
    if draw.angles is None and draw.scales is None:
        return crop_and_mirror(images, joints, draw.offsets, draw.flips, out)
    assert draw.angles is not None and draw.scales is not None, "angles and scales go together"
    return affine_crop_and_mirror(
        images, joints, draw.offsets, draw.angles, draw.scales, draw.flips, out
    )


def random_affine_crops(
    images: np.ndarray,
    joints: np.ndarray,
    rng: np.random.Generator,
    out: int = 112,
    mirror_prob: float = 0.5,
    rotation_deg: float = 0.0,
    scale_jitter: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's random crop and mirror (the draws and crops of ``random_crops_and_mirrors``
    when ``rotation_deg == scale_jitter == 0``, so those runs keep their random stream), plus a
    rotation uniform in ``[-rotation_deg, rotation_deg]`` degrees and a scale log-uniform in
    ``[1 / (1 + scale_jitter), 1 + scale_jitter]`` about the crop's centre (reproduction's
    addition, ``config.AugmentConfig``). ``draw_augmentation`` then ``apply_augmentation``."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {images.shape}")
    n, h, w, _ = images.shape
    draw = draw_augmentation(
        n,
        h,
        w,
        rng,
        out=out,
        mirror_prob=mirror_prob,
        rotation_deg=rotation_deg,
        scale_jitter=scale_jitter,
    )
    return apply_augmentation(images, joints, draw, out)
