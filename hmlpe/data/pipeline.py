"""The engine's input: decoded crops from ``hmlpe.data.cache`` as arrays, per training stage and
per test set. The per-batch work (random crops, mirrors, indicator maps) is in
``hmlpe.engine.batches``, on the training device; everything image-sized is decoded once and cached.

Every loader reads from the ``DataSource`` it is given (``hmlpe.data.source``): its data pack
when it has one, else its data root through the crop cache."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hmlpe.config import CHOICES, TrainConfig
from hmlpe.data import cache
from hmlpe.data.crops import image_to_crop
from hmlpe.data.datasets import load_dataset, load_pool, training_records
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.data.pack import DataPack
from hmlpe.data.source import DataSource
from hmlpe.errors import UnknownNameError


@dataclass
class TrainSet:
    """uint8 crops (N, 128, 128, 3) of the training boxes and joints (N, 8, 2) in their
    pixel-edge crop coordinates."""

    name: str
    images: np.ndarray
    joints: np.ndarray
    ids: list[str]
    fingerprint: str
    drop_counts: dict | None = None


@dataclass
class HeldOutSet:
    """uint8 crops (N, 112, 112, 3) of the test boxes, boxes (N, 4) in image pixels (NaN when
    unmatched), matched (N,), ground-truth joints (N, 8, 2) in crop coordinates, and
    ``usable``: matched with every joint annotated (used for the per-epoch test errors)."""

    name: str
    records: list[PoseRecord]
    images: np.ndarray
    boxes: np.ndarray
    matched: np.ndarray
    joints: np.ndarray
    usable: np.ndarray
    fingerprint: str
    part: str = "test"  # "test" (the paper's test sets) or "validation" (hmlpe.data.splits)


def training_set_records(cfg: TrainConfig, source: DataSource) -> tuple[list[PoseRecord], dict]:
    """The records of ``cfg.stage.dataset``: the pool, or one dataset's training split (from
    the source's pack when it has one, with the kept count per dataset)."""
    name = cfg.stage.dataset
    if name not in CHOICES["stage.dataset"]:
        raise UnknownNameError(
            f"unknown training set {name!r}; choose {', '.join(CHOICES['stage.dataset'])}"
        )
    pack = source.pack
    if pack is not None:
        chunks = _pack_chunks(pack, cfg)
        return [r for c in chunks.values() for r in c[0]], {
            n: {"kept": len(c[0])} for n, c in chunks.items()
        }
    root = source.require_root("the training set")
    if name == "pool":
        return load_pool(cfg.data, root)
    part = "train" if cfg.data.holdout_validation else "all"
    kept, counts = training_records(name, root, cfg.data.max_train_examples, part)
    return kept, {name: counts}


def _pack_chunks(pack: DataPack, cfg: TrainConfig) -> dict[str, tuple]:
    """{dataset: (records, crops, joints, boxes)} of ``cfg.stage.dataset``'s training set in
    ``pack`` (every dataset of the pool, or the one)."""
    pack.check_settings(cfg)
    name = cfg.stage.dataset
    names = cfg.data.pool if name == "pool" else (name,)
    part = "train" if cfg.data.holdout_validation else "all"
    return {n: pack.training(n, cfg.data.max_train_examples, part) for n in names}


def _pack_train_set(pack: DataPack, cfg: TrainConfig) -> TrainSet:
    chunks = list(_pack_chunks(pack, cfg).items())
    records = [r for _, c in chunks for r in c[0]]
    return TrainSet(
        name=cfg.stage.dataset,
        images=np.concatenate([c[1] for _, c in chunks]),
        joints=np.concatenate([c[2] for _, c in chunks]).astype(np.float64),
        ids=[r.uid for r in records],
        fingerprint=pack.fingerprint(cache.cache_key("train", records, cfg.crop)),
        drop_counts={n: {"kept": len(c[0])} for n, c in chunks},
    )


def load_train_set(cfg: TrainConfig, source: DataSource) -> TrainSet:
    """The crops and joints of ``cfg.stage.dataset``'s training set: from the source's data
    pack when it has one (``hmlpe.data.pack``), else from its data root through the crop
    cache."""
    pack = source.pack
    if pack is not None:
        return _pack_train_set(pack, cfg)
    records, counts = training_set_records(cfg, source)
    arrays = cache.train_arrays(records, cfg.crop)
    return TrainSet(
        name=cfg.stage.dataset,
        images=arrays["images"],
        joints=np.asarray(arrays["joints"], dtype=np.float64),
        ids=[str(u) for u in arrays["uids"]],
        fingerprint=cache.cache_key("train", records, cfg.crop),
        drop_counts=counts,
    )


def framing_joints(
    cfg: TrainConfig, dataset: str, source: DataSource
) -> tuple[np.ndarray, np.ndarray | None]:
    """Joints of ``dataset``'s training crops (the centre ``input_size`` crop of each) and of
    its usable test crops, both in crop-normalised units (``hmlpe.data.cropstats``); the test part
    is None for a dataset without a test protocol (LSP)."""
    from dataclasses import replace

    from hmlpe.config import StageConfig
    from hmlpe.data.cropstats import centre_crop_normalised

    train = load_train_set(replace(cfg, stage=StageConfig(dataset, 1, 1.0)), source)
    tr = centre_crop_normalised(train.joints, cfg.crop.train_size, cfg.crop.input_size)
    if dataset not in ("buffy", "flic"):
        return tr, None
    test = load_test_set(dataset, cfg, source)
    return tr, test.joints[test.usable] / cfg.crop.input_size


def load_validation_set(name: str, cfg: TrainConfig, source: DataSource) -> HeldOutSet:
    """The validation part of ``name``'s training set (``hmlpe.data.splits``) as a held-out
    set: the centre ``input_size`` crop of each training crop (with the default "test_rule"
    boxes, the test rule's own box, so validation crops frame people as test crops do), its
    box in image pixels and joints in crop pixels. Every example is matched and usable (the
    training filter has kept only fully annotated ones)."""
    if name not in ("buffy", "lsp", "flic"):
        raise UnknownNameError(f"unknown validation set {name!r}; choose buffy, lsp or flic")
    pack = source.pack
    if pack is not None:
        pack.check_settings(cfg)
        records, crops, crop_joints, train_boxes = pack.training(name, None, "validation")
        fingerprint = pack.fingerprint(cache.cache_key("train", records, cfg.crop))
    else:
        records, _ = training_records(
            name, source.require_root("the validation split"), None, "validation"
        )
        arrays = cache.train_arrays(records, cfg.crop)
        crops, crop_joints, train_boxes = arrays["images"], arrays["joints"], arrays["boxes"]
        fingerprint = cache.cache_key("train", records, cfg.crop)
    big, small = cfg.crop.train_size, cfg.crop.input_size
    o = (big - small) // 2
    images = np.ascontiguousarray(crops[:, o : o + small, o : o + small])
    joints = np.asarray(crop_joints, dtype=np.float64) - o
    train_boxes = np.asarray(train_boxes, dtype=np.float64).reshape(-1, 4)
    scale = (train_boxes[:, 2:] - train_boxes[:, :2]) / big  # image pixels per crop pixel
    boxes = np.concatenate(
        [train_boxes[:, :2] + o * scale, train_boxes[:, :2] + (o + small) * scale], axis=1
    )
    n = len(records)
    return HeldOutSet(
        name=name,
        records=records,
        images=images,
        boxes=boxes,
        matched=np.ones(n, bool),
        joints=joints,
        usable=np.ones(n, bool),
        fingerprint=fingerprint,
        part="validation",
    )


def load_test_set(name: str, cfg: TrainConfig, source: DataSource) -> HeldOutSet:
    """The test crops of ``name`` (Buffy: Table 1, FLIC: Table 2), their boxes and joints."""
    if name not in ("buffy", "flic"):
        raise UnknownNameError(f"unknown test set {name!r}; the paper tests on buffy and flic")
    pack = source.pack
    if pack is not None:
        pack.check_settings(cfg)
        records, crops, boxes, matched = pack.test(name)
    else:
        root = source.require_root(f"the {name} test set")
        records = load_dataset(name, root, "test")
        arrays = cache.heldout_arrays(records, root, cfg.crop, cfg.data)
        crops, boxes, matched = arrays["images"], arrays["boxes"], arrays["matched"]
    boxes = np.asarray(boxes, dtype=np.float64)
    matched = np.asarray(matched, dtype=bool)
    joints = np.full((len(records), 8, 2), np.nan)
    for i in np.flatnonzero(matched):
        joints[i] = image_to_crop(records[i].joints, boxes[i], cfg.crop.input_size)
    usable = matched & np.isfinite(joints).all(axis=(1, 2))
    key = cache.cache_key("test", records, cfg.crop, boxes)
    return HeldOutSet(
        name=name,
        records=records,
        images=crops,
        boxes=boxes,
        matched=matched,
        joints=joints,
        usable=usable,
        fingerprint=pack.fingerprint(key) if pack is not None else key,
    )
