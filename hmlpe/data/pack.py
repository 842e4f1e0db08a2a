"""The data pack: every crop training and evaluation read, in one zip file that travels where the
datasets do not (a GPU machine that receives at most 64 MiB, a cluster node without Buffy, LSP
and FLIC). ``hmlpe data pack OUT`` writes it from a data root; ``--data-pack FILE`` (or
``$HMLPE_DATA_PACK``) puts it in the entry point's ``DataSource`` (``hmlpe.data.source``), and
``hmlpe.data.pipeline`` then reads the pool, the fine-tuning sets, the validation split and the
test sets from it instead of the data root.

What it holds (zip members, stored uncompressed: the images are JPEG already):

* ``manifest.json``: format and version, when and from which commit it was written, the crop
  and association settings it was cut with, the data registry's checksum, the JPEG quality and
  its measured error, counts, and the SHA-256 of every other member;
* ``<part>/images.bin`` + ``<part>/offsets.npy``: the crops of ``<part>`` as concatenated JPEG
  files (``train``: every kept training example of every dataset at 128 x 128, in the order of
  ``training_records``; ``test_buffy``, ``test_flic``: every test record's 112 x 112 crop);
* ``<part>/arrays.npz``: joints, boxes (and ``matched`` for test parts), and the records'
  arrays (joints, visibility, Buffy's sticks, FLIC's torso box) for evaluation;
* ``<part>/records.json``: the records' other fields (dataset, example, image path relative to
  its dataset folder, image size, split, episode, frame, left/right swap, extras).

The crops are JPEG (quality ``JPEG_QUALITY``), not the raw pixels: the raw crops of the pool
alone are 237 MiB. The manifest records the mean absolute difference to the raw crops (grey
levels) measured when the pack was written; runs trained from a pack carry fingerprints that
start with ``pack-``, so they are never taken for runs on the raw data.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hmlpe.config import CropConfig, DataConfig, TrainConfig
from hmlpe.errors import DataPackError  # noqa: F401  (re-exported)

FORMAT = "hmlpe-data-pack"
VERSION = 1
JPEG_QUALITY = 90
TRAIN_DATASETS = ("buffy", "lsp", "flic")
TEST_DATASETS = ("buffy", "flic")
# The settings a pack's crops depend on: a run with other values cannot read the pack.
_CROP_FIELDS = tuple(CropConfig.__dataclass_fields__)
_DATA_FIELDS = ("buffy_association",)


# --- writing ------------------------------------------------------------------------------


def _jpeg_blobs(images: np.ndarray, quality: int) -> tuple[bytes, np.ndarray, float]:
    """Concatenated JPEG files of uint8 (N, H, W, 3) images, their offsets (N + 1,) and the
    mean absolute difference of the decoded images to the originals (grey levels)."""
    from PIL import Image

    out, offsets, err = io.BytesIO(), [0], 0.0
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(img)).save(buf, "JPEG", quality=quality)
        data = buf.getvalue()
        out.write(data)
        offsets.append(offsets[-1] + len(data))
        err += float(np.abs(_decode(data).astype(np.int16) - img).mean())
    return out.getvalue(), np.asarray(offsets, dtype=np.int64), err / max(len(images), 1)


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _relative(record) -> str:
    parts = Path(record.image).parts
    if record.dataset in parts:
        start = len(parts) - 1 - parts[::-1].index(record.dataset)
        return "/".join(parts[start:])
    return Path(record.image).name


def _extra_to_json(extra: dict) -> dict:
    """A record's extras with arrays as {"__array__": values, "dtype": ...} (JSON)."""
    return {
        k: {"__array__": v.tolist(), "dtype": str(v.dtype)} if isinstance(v, np.ndarray) else v
        for k, v in extra.items()
    }


def _extra_from_json(extra: dict) -> dict:
    return {
        k: np.asarray(v["__array__"], dtype=v["dtype"])
        if isinstance(v, dict) and "__array__" in v
        else v
        for k, v in extra.items()
    }


def _records_fields(records) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    meta = [
        {
            "dataset": r.dataset,
            "example": r.example,
            "image": _relative(r),
            "image_size": list(r.image_size),
            "split": r.split,
            "episode": r.episode,
            "frame": r.frame,
            "swapped_lr": bool(r.swapped_lr),
            "extra": _extra_to_json(r.extra),
            "n_sticks": 0 if r.sticks is None else len(r.sticks),
            "has_torso": r.torso_box is not None,
        }
        for r in records
    ]
    n = len(records)
    sticks = [r.sticks for r in records if r.sticks is not None]
    arrays = {
        "rec_joints": np.stack([r.joints for r in records]) if n else np.zeros((0, 8, 2)),
        "rec_visible": np.stack([r.visible for r in records]) if n else np.zeros((0, 8), bool),
        "rec_sticks": np.concatenate(sticks) if sticks else np.zeros((0, 2, 2)),
        "rec_torso": np.stack(
            [r.torso_box if r.torso_box is not None else np.full(4, np.nan) for r in records]
        )
        if n
        else np.zeros((0, 4)),
    }
    return meta, arrays


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # mypy matches **arrays to allow_pickle
    return buf.getvalue()


def write_pack(
    out: Path,
    root: Path,
    data: DataConfig | None = None,
    crop: CropConfig | None = None,
    quality: int = JPEG_QUALITY,
) -> dict[str, Any]:
    """Write the pack of the data root ``root`` to ``out`` (a temporary file renamed at the
    end: an interrupted write leaves no pack); the manifest."""
    from hmlpe.data import cache
    from hmlpe.data.datasets import load_dataset, training_records
    from hmlpe.data.datasets.registry import REGISTRY_PATH
    from hmlpe.provenance import git_commit, now_utc

    data, crop = data or DataConfig(), crop or CropConfig()
    if not 1 <= quality <= 100:
        raise DataPackError(f"JPEG quality must be in 1..100, got {quality}")
    out = Path(out)
    if out.is_dir():
        raise DataPackError(
            f"{out} is a folder; give the pack's file name (e.g. {out}/hmlpe-pack.zip)"
        )
    parts: dict[str, dict[str, bytes]] = {}
    counts, errors = {}, {}
    train_records = []
    for name in TRAIN_DATASETS:
        train_records += training_records(name, root)[0]
    arrays = cache.train_arrays(train_records, crop)
    blob, offsets, errors["train"] = _jpeg_blobs(np.asarray(arrays["images"]), quality)
    meta, rec_arrays = _records_fields(train_records)
    parts["train"] = {
        "images.bin": blob,
        "offsets.npy": _npz_bytes({"offsets": offsets}),
        "arrays.npz": _npz_bytes(
            {
                "joints": np.asarray(arrays["joints"], np.float64),
                "boxes": np.asarray(arrays["boxes"], np.float64),
                **rec_arrays,
            }
        ),
        "records.json": json.dumps(meta).encode(),
    }
    counts["train"] = len(train_records)
    for name in TEST_DATASETS:
        records = load_dataset(name, root, "test")
        arrays = cache.heldout_arrays(records, root, crop, data)
        blob, offsets, errors[f"test_{name}"] = _jpeg_blobs(np.asarray(arrays["images"]), quality)
        meta, rec_arrays = _records_fields(records)
        parts[f"test_{name}"] = {
            "images.bin": blob,
            "offsets.npy": _npz_bytes({"offsets": offsets}),
            "arrays.npz": _npz_bytes(
                {
                    "boxes": np.asarray(arrays["boxes"], np.float64),
                    "matched": np.asarray(arrays["matched"], bool),
                    **rec_arrays,
                }
            ),
            "records.json": json.dumps(meta).encode(),
        }
        counts[f"test_{name}"] = len(records)
    members = {
        f"{part}/{name}": payload
        for part, files in parts.items()
        for name, payload in files.items()
    }
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created": now_utc(),
        "git_commit": git_commit(),
        "crop": asdict(crop),
        "data": {k: getattr(data, k) for k in _DATA_FIELDS},
        "registry_sha256": hashlib.sha256(REGISTRY_PATH.read_bytes()).hexdigest(),
        "jpeg_quality": quality,
        "jpeg_mean_abs_error": {k: round(v, 4) for k, v in errors.items()},
        "counts": counts,
        "members": {k: hashlib.sha256(v).hexdigest() for k, v in members.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            z.writestr("manifest.json", json.dumps(manifest, indent=1))
            for name, payload in members.items():
                z.writestr(name, payload)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return manifest


# --- reading ------------------------------------------------------------------------------


@dataclass
class _Part:
    images: np.ndarray
    arrays: dict[str, np.ndarray]
    records: list


class DataPack:
    """A pack opened for reading: checked (format, version, every member's SHA-256) on open."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataPackError(f"data pack {self.path} does not exist (or is not a file)")
        try:
            with zipfile.ZipFile(self.path) as z:
                self.manifest = json.loads(z.read("manifest.json"))
                if self.manifest.get("format") != FORMAT:
                    raise DataPackError(
                        f"{self.path} is not an hmlpe data pack "
                        f"(format {self.manifest.get('format')!r})"
                    )
                if self.manifest.get("version") != VERSION:
                    raise DataPackError(
                        f"{self.path}: pack version {self.manifest.get('version')}"
                        f", this hmlpe reads version {VERSION}; write it again"
                    )
                self._members = {}
                for name, digest in self.manifest["members"].items():
                    payload = z.read(name)
                    if hashlib.sha256(payload).hexdigest() != digest:
                        raise DataPackError(
                            f"{self.path}: member {name} is damaged (SHA-256 "
                            f"differs from the manifest)"
                        )
                    self._members[name] = payload
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as e:
            raise DataPackError(f"{self.path} is not a readable data pack: {e}") from None
        self.id = hashlib.sha256(
            json.dumps(self.manifest["members"], sort_keys=True).encode()
        ).hexdigest()[:12]
        self._parts: dict[str, _Part] = {}

    def check_settings(self, cfg: TrainConfig) -> None:
        """Raise unless ``cfg``'s crop and association settings are the pack's."""
        for section, fields, ours in (
            ("crop", _CROP_FIELDS, cfg.crop),
            ("data", _DATA_FIELDS, cfg.data),
        ):
            for f in fields:
                theirs = self.manifest[section].get(f)
                mine = getattr(ours, f)
                if json.loads(json.dumps(mine)) != theirs:
                    raise DataPackError(
                        f"{self.path} was cut with {section}.{f}={theirs!r}; this "
                        f"run asks for {mine!r}: write a pack with its settings"
                    )

    def _part(self, part: str) -> _Part:
        if part not in self._parts:
            from hmlpe.data.datasets.records import PoseRecord

            blob = self._members[f"{part}/images.bin"]
            offsets = np.load(io.BytesIO(self._members[f"{part}/offsets.npy"]))["offsets"]
            images = np.stack([_decode(blob[a:b]) for a, b in zip(offsets[:-1], offsets[1:])])
            arrays = dict(np.load(io.BytesIO(self._members[f"{part}/arrays.npz"])))
            meta = json.loads(self._members[f"{part}/records.json"])
            records, s = [], 0
            for k, m in enumerate(meta):
                n_sticks = m.pop("n_sticks")
                has_torso = m.pop("has_torso")
                m["extra"] = _extra_from_json(m["extra"])
                records.append(
                    PoseRecord(
                        **m,
                        joints=arrays["rec_joints"][k],
                        visible=arrays["rec_visible"][k],
                        sticks=arrays["rec_sticks"][s : s + n_sticks] if n_sticks else None,
                        torso_box=arrays["rec_torso"][k] if has_torso else None,
                    )
                )
                s += n_sticks
            self._parts[part] = _Part(images, arrays, records)
        return self._parts[part]

    def training(self, name: str, max_examples: int | None, part: str):
        """(records, 128 crops, joints, boxes) of ``name``'s training set as
        ``datasets.training_records(name, ..., max_examples, part)`` selects it."""
        from hmlpe.data.splits import is_validation

        p = self._part("train")
        idx = [
            k
            for k, r in enumerate(p.records)
            if r.dataset == name and (part == "all" or is_validation(r) == (part == "validation"))
        ]
        if max_examples is not None:
            idx = idx[:max_examples]
        rows = np.asarray(idx, dtype=np.int64)
        return (
            [p.records[k] for k in rows],
            p.images[rows],
            p.arrays["joints"][rows],
            p.arrays["boxes"][rows],
        )

    def test(self, name: str):
        """(records, 112 crops, boxes, matched) of ``name``'s test set."""
        if f"test_{name}/images.bin" not in self._members:
            raise DataPackError(f"{self.path} holds no test set {name!r}")
        p = self._part(f"test_{name}")
        return p.records, p.images, p.arrays["boxes"], p.arrays["matched"].astype(bool)

    def provenance(self) -> dict[str, Any]:
        """What a result read from this pack records about it."""
        m = self.manifest
        return {
            "path": str(self.path),
            "id": self.id,
            "created": m["created"],
            "git_commit": m["git_commit"],
            "registry_sha256": m["registry_sha256"],
            "jpeg_quality": m["jpeg_quality"],
            "jpeg_mean_abs_error": m["jpeg_mean_abs_error"],
        }

    def fingerprint(self, what: str) -> str:
        return f"pack-{self.id}-{what}"


def open_pack(path: Path | str) -> DataPack:
    """The pack at ``path``, opened and checked once per file version (path and mtime)."""
    p = Path(path)
    if not p.is_file():
        raise DataPackError(f"data pack {p} does not exist (or is not a file)")
    return _open(str(p.resolve()), p.stat().st_mtime)


@lru_cache(maxsize=2)
def _open(path: str, mtime: float) -> DataPack:
    return DataPack(path)
