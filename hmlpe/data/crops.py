"""Image loading, box crops and the coordinate maps between image and crop (paper 4.1: training
boxes resized to 128 x 128; 4.3/4.4: test boxes resized to 112 x 112, aspect ratio not kept,
protocol facts).

Pixel conventions (reproduction's choice, used by every module):

* image coordinates: 0-based pixels, pixel i's centre at i (the annotations minus 1); boxes
  [x1, y1, x2, y2] are in these coordinates;
* crop coordinates: continuous, the crop of size (W, H) spans [0, W] x [0, H] and crop pixel j
  covers [j, j + 1] (its centre at j + 0.5). The box edges map to the crop edges:
  ``u = (x - x1) * W / (x2 - x1)``. So a horizontal mirror of a crop maps u to W - u, and a
  sub-crop at integer offset o maps u to u - o.

``crop_and_resize`` samples crop pixel j at image position x1 + (j + 0.5) (x2 - x1) / W, with
PIL's bilinear filter (which widens its support when shrinking, i.e. antialiased).
"""

from __future__ import annotations

from pathlib import Path
from typing import SupportsInt, cast

import numpy as np
from PIL import Image, ImageFile

from hmlpe.data.boxes import as_box
from hmlpe.errors import ImageReadError  # noqa: F401  (re-exported)


def open_image(path) -> Image.Image:
    """The image at ``path`` as a decoded RGB PIL image; errors as ``load_image``."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"image file not found: {path}")
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(path) as im:
            im.load()
            return im if im.mode == "RGB" else im.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(
            f"cannot read image {path}: {exc} "
            f"(file size {path.stat().st_size} bytes; truncated or corrupt?)"
        ) from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def load_image(path) -> np.ndarray:
    """The image at ``path`` as uint8 (H, W, 3) RGB. Raises ImageReadError naming the file when
    it is missing, truncated (never decoded as grey padding) or not an image."""
    return np.asarray(open_image(path), dtype=np.uint8)


def _size_wh(size) -> tuple[int, int]:
    if np.isscalar(size):
        w = h = int(cast(SupportsInt, size))  # np.isscalar's guard also admits str and complex
    else:
        w, h = (int(v) for v in size)
    if w <= 0 or h <= 0:
        raise ValueError(f"crop size must be positive, got {size!r}")
    return w, h


def check_box(box, image_wh=None) -> np.ndarray:
    b = as_box(box)
    if b[2] <= b[0] or b[3] <= b[1]:
        raise ValueError(f"degenerate box {b.tolist()}: x2 must exceed x1 and y2 exceed y1")
    if image_wh is not None:
        w, h = image_wh
        if b[0] < -0.5 or b[1] < -0.5 or b[2] > w - 0.5 or b[3] > h - 0.5:
            raise ValueError(
                f"box {b.tolist()} is not inside the image {w}x{h} "
                f"(allowed [-0.5, {w - 0.5}] x [-0.5, {h - 0.5}]); clip it first "
                "(hmlpe.data.boxes.clip_box)"
            )
    return b


def crop_and_resize(image, box, size) -> np.ndarray:
    """The ``box`` region of ``image`` (uint8 (H, W, 3) array or PIL image) resized to ``size``
    (an int, or (width, height)) with bilinear interpolation, aspect ratio not kept.
    Returns uint8 (height, width, 3). The box must lie inside the image."""
    im = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, np.uint8))
    if im.mode != "RGB":
        im = im.convert("RGB")
    b = check_box(box, im.size)
    w, h = _size_wh(size)
    # PIL's box coordinates put pixel i's centre at i + 0.5.
    x1, y1, x2, y2 = (float(v) + 0.5 for v in b)
    out = im.resize((w, h), Image.Resampling.BILINEAR, box=(x1, y1, x2, y2))
    return np.asarray(out, dtype=np.uint8)


def image_to_crop(points, box, size) -> np.ndarray:
    """Image coordinates -> crop coordinates of the crop of ``box`` at ``size`` (module doc).
    ``points``: (..., 2); NaN stays NaN."""
    b = check_box(box)
    w, h = _size_wh(size)
    p = np.asarray(points, dtype=np.float64)
    scale = np.array([w / (b[2] - b[0]), h / (b[3] - b[1])])
    return (p - b[:2]) * scale


def crop_to_image(points, box, size) -> np.ndarray:
    """Crop coordinates -> image coordinates; the exact inverse of ``image_to_crop``."""
    b = check_box(box)
    w, h = _size_wh(size)
    p = np.asarray(points, dtype=np.float64)
    scale = np.array([(b[2] - b[0]) / w, (b[3] - b[1]) / h])
    return p * scale + b[:2]
