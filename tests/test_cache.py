"""Crop cache (hmlpe.data.cache): synthetic records first, then the Buffy test set."""

import os

import numpy as np
import pytest
from PIL import Image

from hmlpe.config import CropConfig, DataConfig
from hmlpe.data.boxes import train_box_for
from hmlpe.data.cache import heldout_arrays, train_arrays
from hmlpe.data.crops import ImageReadError, image_to_crop
from hmlpe.data.datasets import PoseRecord, load_dataset

SMALL = CropConfig(train_size=32, input_size=16)


def _records(tmp_path, n=3):
    rng = np.random.default_rng(0)
    recs = []
    for i in range(n):
        p = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(p)
        j = rng.uniform([10, 10], [70, 50], size=(8, 2))
        recs.append(
            PoseRecord(
                "flic",
                f"flic_{i:05d}",
                p,
                (80, 60),
                j,
                np.ones(8, bool),
                "train",
                torso_box=np.array([30.0, 20, 50, 40]),
            )
        )
    return recs


def test_train_arrays_shapes_joints_and_hit(tmp_path, monkeypatch):
    recs = _records(tmp_path)
    cache = tmp_path / "cache"
    a = train_arrays(recs, SMALL, cache_dir=cache)
    assert a["images"].shape == (3, 32, 32, 3) and a["images"].dtype == np.uint8
    assert list(a["uids"]) == ["flic/flic_00000", "flic/flic_00001", "flic/flic_00002"]
    box = train_box_for(recs[1], SMALL)
    np.testing.assert_allclose(a["boxes"][1], box)
    np.testing.assert_allclose(a["joints"][1], image_to_crop(recs[1].joints, box, 32), rtol=1e-5)
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 1 and entries[0].startswith("train-")
    # a hit decodes no image
    import hmlpe.data.cache

    monkeypatch.setattr(hmlpe.data.cache, "open_image", lambda p: pytest.fail(f"decoded {p}"))
    b = train_arrays(recs, SMALL, cache_dir=cache)
    np.testing.assert_array_equal(a["images"], b["images"])
    np.testing.assert_array_equal(a["joints"], b["joints"])


def test_margin_rule_keeps_every_joint_inside(tmp_path):
    recs = _records(tmp_path)
    a = train_arrays(
        recs,
        CropConfig(train_size=32, input_size=16, train_box="margin"),
        cache_dir=tmp_path / "cache",
    )
    assert (a["joints"] >= 0).all() and (a["joints"] <= 32).all()


def test_changes_invalidate(tmp_path):
    recs = _records(tmp_path)
    cache = tmp_path / "cache"
    train_arrays(recs, SMALL, cache_dir=cache)
    moved = [
        PoseRecord(
            r.dataset,
            r.example,
            r.image,
            r.image_size,
            r.joints + 1.0,
            r.visible,
            r.split,
            torso_box=r.torso_box,
        )
        for r in recs
    ]
    train_arrays(moved, SMALL, cache_dir=cache)  # joints changed
    train_arrays(
        recs,
        CropConfig(train_size=32, input_size=16, train_box="margin"),
        cache_dir=cache,
    )  # settings changed
    os.utime(recs[2].image, ns=(1, 1))
    train_arrays(recs, SMALL, cache_dir=cache)  # file changed
    assert len([p for p in cache.iterdir() if p.name.startswith("train-")]) == 4
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_unreadable_image_names_the_file(tmp_path):
    recs = _records(tmp_path, 2)
    data = recs[1].image.read_bytes()
    recs[1].image.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageReadError, match="img1.png"):
        train_arrays(recs, SMALL, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_flic_heldout_arrays(tmp_path):
    recs = [
        PoseRecord(
            r.dataset,
            r.example,
            r.image,
            r.image_size,
            r.joints,
            r.visible,
            "test",
            torso_box=r.torso_box,
        )
        for r in _records(tmp_path, 2)
    ]
    t = heldout_arrays(recs, None, SMALL, cache_dir=tmp_path / "c")  # FLIC reads no file
    assert t["images"].shape == (2, 16, 16, 3) and t["matched"].all()
    # torso 20 x 20 about (40, 30): width 70, height 20 + 35 = 55; clipped to the image
    np.testing.assert_allclose(t["boxes"][0], [5, 2.5, 75, 57.5])


def test_buffy_heldout_arrays_keep_unmatched_frames(tmp_path, buffy_root):
    test = load_dataset("buffy", buffy_root, split="test")
    for rule, n in (("paper", 267), ("buffy", 263)):
        t = heldout_arrays(
            test,
            buffy_root,
            CropConfig(),
            DataConfig(buffy_association=rule),
            cache_dir=tmp_path / "c",
        )
        assert t["images"].shape == (276, 112, 112, 3) and t["matched"].sum() == n
        assert np.isnan(t["boxes"][~t["matched"]]).all()
        assert not t["images"][~t["matched"]].any()
        assert t["images"][t["matched"]].any(axis=(1, 2, 3)).all()
    assert len(list((tmp_path / "c").iterdir())) == 2
