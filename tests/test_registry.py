"""Registry and verification (hmlpe.data.datasets.registry)."""

import hashlib
import json
import random

import pytest

from hmlpe.data.datasets.registry import load_registry, read_manifest, verify, verify_dataset
from hmlpe.paths import DataRootError
from hmlpe.provenance import file_digest


def make_fake(tmp_path, files=None):
    """A one-dataset registry ("toy", folder "toy") and a matching data root."""
    files = files or {
        "toy/a.txt": b"alpha\n",
        "toy/images/1.jpg": b"one",
        "toy/images/2.jpg": b"two",
    }
    root = tmp_path / "root"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    reg = tmp_path / "reg"
    (reg / "checksums").mkdir(parents=True)
    (reg / "checksums" / "toy.sha256").write_text(
        "".join(f"{hashlib.sha256(d).hexdigest()}  {r}\n" for r, d in files.items())
    )
    (reg / "checksums" / "toy.sizes").write_text(
        "".join(f"{len(d)} {r}\n" for r, d in files.items())
    )
    (reg / "registry.json").write_text(
        json.dumps(
            {
                "datasets": {
                    "toy": {
                        "folder": "toy",
                        "archive": {
                            "url": "http://127.0.0.1:1/toy.zip",
                            "filename": "toy.zip",
                            "sha256": None,
                            "anchor": "a.txt",
                        },
                        "image_glob": "toy/images/*.jpg",
                        "counts": {"images": 2},
                        "manifest": "checksums/toy.sha256",
                        "sizes": "checksums/toy.sizes",
                    }
                }
            }
        )
    )
    return root, load_registry(reg / "registry.json")


def test_fake_dataset_ok_then_problems(tmp_path):
    root, reg = make_fake(tmp_path)
    st = verify_dataset(root, reg["toy"], full=True, check_records=False)
    assert st.status == "ok" and st.checksummed == 3
    (root / "toy/images/2.jpg").write_bytes(b"TWO")  # same size, other bytes
    st = verify_dataset(root, reg["toy"], full=False, check_records=False)
    assert st.status == "ok"  # fast mode: sizes only
    st = verify_dataset(root, reg["toy"], full=True, check_records=False)
    assert len(st.problems) == 1
    assert "checksum mismatch in toy/images/2.jpg" in st.problems[0]
    (root / "toy/a.txt").unlink()
    (root / "toy/images/1.jpg").write_bytes(b"longer")
    st = verify_dataset(root, reg["toy"], check_records=False)
    assert st.status == "problems"
    assert "missing file toy/a.txt" in st.problems
    assert any("size mismatch in toy/images/1.jpg: 6 bytes, expected 3" in p for p in st.problems)
    (root / "toy/images/3.jpg").write_bytes(b"x")
    st = verify_dataset(root, reg["toy"], check_records=False)
    assert any(
        "count mismatch: 3 files match toy/images/*.jpg, expected 2" in p for p in st.problems
    )


def test_missing_folder_and_root(tmp_path):
    root, reg = make_fake(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    rep = verify(empty, registry=reg, check_records=False)
    assert not rep.ok and rep.datasets["toy"].status == "missing"
    assert "missing folder" in rep.format()
    with pytest.raises(DataRootError, match="nowhere"):
        verify(tmp_path / "nowhere", registry=reg)


def test_registry_file_is_consistent():
    reg = load_registry()
    assert set(reg) == {"buffy", "lsp", "flic"}
    for e in reg.values():
        m = read_manifest(e)
        assert len(m) == e.counts["files"]
        assert all(p.startswith(e.folder + "/") for p in m)
        assert e.archive["url"].startswith("http") and e.page_url.startswith("http")
    assert reg["buffy"].counts["train"] == 472 and reg["flic"].counts["test"] == 1016
    assert len(reg["flic"].reencoded.read_text().split()) == 3626


@pytest.mark.usefixtures("buffy_root", "lsp_root", "flic_root")
def test_manifests_match_the_reference_sums(data_root):
    ref = {}
    for line in (data_root / "SHA256SUMS").read_text().splitlines():
        d, p = line.split(None, 1)
        ref[p.strip().removeprefix("./")] = d
    ours = {p: d for e in load_registry().values() for p, (d, _) in read_manifest(e).items()}
    assert ours == ref and len(ours) == 7311


@pytest.mark.usefixtures("buffy_root", "lsp_root", "flic_root")
def test_real_data_fast_verification_and_sample_checksums(data_root):
    reg = load_registry()
    rng = random.Random(0)
    sample = {
        n: rng.sample(sorted(read_manifest(e)), 5) + list(e.key_files) for n, e in reg.items()
    }
    rep = verify(data_root, full=True, sample=sample)
    assert rep.ok, rep.format()
    assert sum(s.checksummed for s in rep.datasets.values()) == 15 + 8
    want = read_manifest(reg["lsp"])["lsp/joints.mat"][0]
    assert file_digest(data_root / "lsp" / "joints.mat") == want


def test_count_differences_names_each_split(tmp_path):
    from hmlpe.data.datasets.registry import count_differences

    registry = load_registry()
    want = registry["buffy"].counts
    assert count_differences("buffy", {"train": want["train"], "test": want["test"]}) == []
    assert count_differences("buffy", {"train": 10, "test": want["test"]}) == [
        f"10 train examples, expected {want['train']}"
    ]
    assert count_differences("toy_not_registered", {"train": 1}) == []


def test_a_shortened_annotation_file_warns_once(tmp_path, buffy_root):
    """A copy of Buffy whose episode-3 sticks file holds its first frame only: reading it
    warns, naming the dataset, the counts and the verify command; the memoised second read
    does not warn again."""
    import warnings

    from hmlpe.data.datasets import load_dataset
    from hmlpe.data.datasets.registry import DatasetCountWarning

    src = buffy_root / "buffy"
    dst = tmp_path / "buffy"
    (dst / "data").mkdir(parents=True)
    for item in src.iterdir():
        if item.name != "data":
            (dst / item.name).symlink_to(item)
    for sticks in (src / "data").iterdir():
        (dst / "data" / sticks.name).symlink_to(sticks)
    short = dst / "data" / "buffy_s5e3_sticks.txt"
    first_frame = short.read_text().splitlines()[:7]
    short.unlink()
    short.write_text("\n".join(first_frame) + "\n")
    with pytest.warns(
        DatasetCountWarning,
        match=r"buffy under .*train examples, expected 472"
        r".*hmlpe data verify",
    ):
        load_dataset("buffy", root=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset("buffy", root=tmp_path, split="train")
