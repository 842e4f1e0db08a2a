"""Downloader (hmlpe.data.datasets.fetch) against a local HTTP server; no outside network."""

import functools
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest
from test_registry import make_fake

from hmlpe.data.datasets.fetch import FetchError, download, fetch, fetch_all


@pytest.fixture()
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _zip(files, wrapper="toy_release_v1"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, data in files.items():
            zf.writestr(f"{wrapper}/{rel.removeprefix('toy/')}", data)
    return buf.getvalue()


def test_fetch_zip_from_local_server(tmp_path, server):
    served, base = server
    src, reg = make_fake(tmp_path)
    files = _files(src)
    (served / "toy.zip").write_bytes(_zip(files))
    dest = tmp_path / "dest"
    res = fetch("toy", dest, base_url=base, registry=reg)
    assert res.status.status == "ok" and res.status.checksummed == 3, res.status
    assert _files(dest / "toy") == {k.removeprefix("toy/"): v for k, v in files.items()}
    assert res.url == f"{base}/toy.zip" and res.archive.is_file()
    assert not [p for p in dest.iterdir() if p.name.startswith(".extract")]
    with pytest.raises(FetchError, match="exists"):
        fetch("toy", dest, base_url=base, registry=reg)
    # a corrupted archive member is reported by the manifest check
    bad = dict(files)
    bad["toy/a.txt"] = b"ALPHA\n"
    (served / "toy.zip").write_bytes(_zip(bad))
    res.archive.unlink()
    res = fetch("toy", dest, base_url=base, registry=reg, force=True)
    assert res.status.status == "problems"
    assert "checksum mismatch in toy/a.txt" in res.status.problems[0]


def test_fetch_tar_gz(tmp_path, server):
    served, base = server
    src, reg = make_fake(tmp_path)
    with tarfile.open(served / "toy.zip", "w:gz") as tf:  # the registry's name; tar inside
        tf.add(src / "toy", arcname="some/deeper/toy")
    res = fetch("toy", tmp_path / "dest", base_url=base, registry=reg)
    assert res.status.status == "ok"


def test_download_checksum_mismatch_leaves_nothing(tmp_path, server):
    served, base = server
    (served / "f.bin").write_bytes(b"payload")
    out = tmp_path / "dl" / "f.bin"
    good = hashlib.sha256(b"payload").hexdigest()
    assert download(f"{base}/f.bin", out, sha256=good).read_bytes() == b"payload"
    out.unlink()
    with pytest.raises(FetchError, match="checksum mismatch"):
        download(f"{base}/f.bin", out, sha256="0" * 64)
    assert list((tmp_path / "dl").iterdir()) == []


def test_download_errors_name_the_url(tmp_path, server):
    _, base = server
    with pytest.raises(FetchError, match="missing.zip"):
        download(f"{base}/missing.zip", tmp_path / "x.zip")
    assert not list(tmp_path.glob("x.zip*"))


def test_archive_without_anchor(tmp_path, server):
    served, base = server
    src, reg = make_fake(tmp_path)
    files = {k: v for k, v in _files(src).items() if not k.endswith("a.txt")}
    (served / "toy.zip").write_bytes(_zip(files))
    with pytest.raises(FetchError, match="has no a.txt"):
        fetch("toy", tmp_path / "dest", base_url=base, registry=reg)


def test_fetch_all_raises_on_problems(tmp_path, server):
    served, base = server
    src, reg = make_fake(tmp_path)
    files = _files(src)
    files["toy/images/1.jpg"] = b"ONE"
    (served / "toy.zip").write_bytes(_zip(files))
    with pytest.raises(FetchError, match="toy from .*checksum mismatch in toy/images/1.jpg"):
        fetch_all(tmp_path / "dest", base_url=base, registry=reg)
