"""Decoded crops for the training engine, built once and cached on disk.

* training (paper 4.1): each record's training box (``boxes.training_box``) cropped and resized
  to ``CropConfig.train_size`` (128): uint8 images (N, 128, 128, 3), joints (N, 8, 2) in crop
  coordinates (``crops`` module doc), example uids, boxes (N, 4);
* test (paper 4.3 / 4.4): each record's test box resized to ``CropConfig.input_size`` (112):
  images (N, 112, 112, 3), boxes (N, 4), matched (N,) bool, uids. A Buffy frame without an
  associated detection keeps its entry with matched False, a zero image and a NaN box.

An entry is a folder ``<cache_dir>/<kind>-<key>/`` of ``.npy`` files (memory-mappable) plus
``meta.json``, written to a temporary folder and renamed into place. The key is a SHA-256 of
the records' content (``PoseRecord.fingerprint``), the crop settings, the test boxes, and the
size and mtime of every image file, so any change gives a new entry. Images are decoded in a
thread pool (PIL releases the GIL while decoding and resizing).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hmlpe.config import CropConfig, DataConfig
from hmlpe.data.boxes import buffy_test_box, flic_test_box, train_box_for
from hmlpe.data.crops import crop_and_resize, image_to_crop, open_image
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.errors import DataRootError
from hmlpe.paths import PROJECT_ROOT
from hmlpe.progress import progress_bar

CACHE_VERSION = 2


def default_cache_dir() -> Path:
    """$HMLPE_CACHE, else <project>/cache/crops (git-ignored)."""
    env = os.environ.get("HMLPE_CACHE")
    return Path(env) if env else PROJECT_ROOT / "cache" / "crops"


def heldout_boxes(
    records: list[PoseRecord],
    root: Path | None,
    crop: CropConfig = CropConfig(),
    data: DataConfig = DataConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """(boxes (N, 4), matched (N,)) of test records: Buffy, the associated detection window
    (rule ``data.buffy_association``, detections read under the data root ``root``) scaled by
    ``buffy_test_box``, NaN when none matches; FLIC, ``flic_test_box`` of its torso box (no
    file read: ``root`` may be None). Other datasets have no test box protocol."""
    boxes = np.full((len(records), 4), np.nan)
    matched = np.zeros(len(records), bool)
    buffy = [r for r in records if r.dataset == "buffy"]
    det = {}
    if buffy:
        from hmlpe.data.datasets.buffy import associated_detections, load_detections

        if root is None:
            raise DataRootError("Buffy's test boxes need the data root (its detections file)")
        det = associated_detections(buffy, load_detections(Path(root)), data.buffy_association)
    for i, r in enumerate(records):
        if r.dataset == "buffy":
            d = det.get(r.example)
            if d is not None:
                boxes[i] = buffy_test_box(
                    d, r.image_size, crop.buffy_width_scale, crop.buffy_height_scale
                )
                matched[i] = True
        elif r.dataset == "flic":
            boxes[i] = flic_test_box(
                r.torso_box, r.image_size, crop.flic_width_scale, crop.flic_height_scale
            )
            matched[i] = True
        else:
            raise ValueError(
                f"{r.uid}: no test-box protocol for dataset {r.dataset!r} "
                "(the paper tests on Buffy and FLIC)"
            )
    return boxes, matched


def cache_key(
    kind: str, records: list[PoseRecord], crop: CropConfig, boxes: np.ndarray | None = None
) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {"version": CACHE_VERSION, "kind": kind, "crop": asdict(crop)}, sort_keys=True
        ).encode()
    )
    for r in records:
        st = r.image.stat() if r.image.is_file() else None
        h.update(
            json.dumps(
                [r.fingerprint(), None if st is None else [st.st_size, st.st_mtime_ns]]
            ).encode()
        )
    if boxes is not None:
        h.update(np.ascontiguousarray(np.round(boxes, 6)).tobytes())
    return h.hexdigest()[:24]


def _crop_train(args):
    rec, crop = args
    box = train_box_for(rec, crop)
    img = crop_and_resize(open_image(rec.image), box, crop.train_size)
    return img, image_to_crop(rec.joints, box, crop.train_size), box


def _crop_test(args):
    rec, box, size = args
    if not np.isfinite(box).all():
        return np.zeros((size, size, 3), np.uint8)
    return crop_and_resize(open_image(rec.image), box, size)


def _map(fn, items, desc: str, workers: int | None):
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as ex:
        yield from progress_bar(ex.map(fn, items), total=len(items), desc=desc)


def _load(folder: Path) -> dict[str, np.ndarray] | None:
    meta = folder / "meta.json"
    if not meta.is_file():
        return None
    names = json.loads(meta.read_text())["arrays"]
    return {
        n: np.load(
            folder / f"{n}.npy", mmap_mode="r" if n == "images" else None, allow_pickle=False
        )
        for n in names
    }


def _save(folder: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for n, a in arrays.items():
            np.save(tmp / f"{n}.npy", a, allow_pickle=False)
        (tmp / "meta.json").write_text(json.dumps({**meta, "arrays": list(arrays)}, indent=1))
        try:
            os.replace(tmp, folder)
        except OSError:  # another process wrote the same entry first
            if not (folder / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load_saved(folder: Path) -> dict[str, np.ndarray]:
    """The entry ``_save`` has just written (or found written by another process)."""
    arrays = _load(folder)
    assert arrays is not None  # _save leaves folder/meta.json or raises
    return arrays


def train_arrays(
    records: list[PoseRecord],
    crop: CropConfig = CropConfig(),
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
) -> dict[str, np.ndarray]:
    """{"images" uint8 (N, S, S, 3), "joints" float32 (N, 8, 2) crop coordinates, "visible"
    (N, 8), "boxes" (N, 4) image coordinates, "uids" (N,) str}, S = ``crop.train_size``;
    cached (module doc)."""
    folder = Path(cache_dir or default_cache_dir()) / f"train-{cache_key('train', records, crop)}"
    hit = _load(folder)
    if hit is not None:
        return hit
    n, s = len(records), crop.train_size
    images = np.zeros((n, s, s, 3), np.uint8)
    joints = np.zeros((n, 8, 2), np.float32)
    boxes = np.zeros((n, 4))
    items = [(r, crop) for r in records]
    for i, (img, j, b) in enumerate(_map(_crop_train, items, "train crops", workers)):
        images[i], joints[i], boxes[i] = img, j, b
    arrays: dict[str, np.ndarray] = {
        "images": images,
        "joints": joints,
        "boxes": boxes,
        "visible": np.stack([r.visible for r in records]) if n else np.zeros((0, 8), bool),
        "uids": np.array([r.uid for r in records], dtype=str),
    }
    _save(folder, arrays, {"kind": "train", "count": n, "crop": asdict(crop)})
    return _load_saved(folder)


def heldout_arrays(
    records: list[PoseRecord],
    root: Path | None,
    crop: CropConfig = CropConfig(),
    data: DataConfig = DataConfig(),
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
) -> dict[str, np.ndarray]:
    """{"images" uint8 (N, S, S, 3), "boxes" (N, 4) (NaN when unmatched), "matched" (N,),
    "uids" (N,)}, S = ``crop.input_size``, of test records under the data root ``root``
    (``heldout_boxes``); cached (module doc)."""
    boxes, matched = heldout_boxes(records, root, crop, data)
    key = cache_key("test", records, crop, boxes)
    folder = Path(cache_dir or default_cache_dir()) / f"test-{key}"
    hit = _load(folder)
    if hit is not None:
        return hit
    s = crop.input_size
    images = np.zeros((len(records), s, s, 3), np.uint8)
    items = [(r, b, s) for r, b in zip(records, boxes)]
    for i, img in enumerate(_map(_crop_test, items, "test crops", workers)):
        images[i] = img
    arrays = {
        "images": images,
        "boxes": boxes,
        "matched": matched,
        "uids": np.array([r.uid for r in records], dtype=str),
    }
    _save(
        folder,
        arrays,
        {
            "kind": "test",
            "count": len(records),
            "crop": asdict(crop),
            "buffy_association": data.buffy_association,
        },
    )
    return _load_saved(folder)
