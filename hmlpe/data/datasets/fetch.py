"""Download the datasets from their official URLs (``data/registry.json``) for users on the
open internet, then check them against the committed manifests.

Each archive is downloaded to ``<dest>/.downloads/`` through a temporary ``.part`` file that is
renamed only when complete (and, when the registry knows the archive's SHA-256, only when it
matches); it is extracted into a temporary folder inside ``<dest>``, the dataset's folder is
found by its anchor file (e.g. ``joints.mat``; archives wrap it in folders of various names)
and renamed into place as ``<dest>/<folder>``; finally every file is checked against the
manifest (``registry.verify_dataset``). ``base_url`` replaces the official location (a mirror:
``<base_url>/<archive filename>``).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hmlpe.data.datasets.registry import DatasetEntry, DatasetStatus, load_registry, verify_dataset
from hmlpe.errors import FetchError, UnknownNameError  # noqa: F401  (FetchError re-exported)
from hmlpe.progress import progress_bar
from hmlpe.provenance import file_digest


@dataclass
class FetchResult:
    name: str
    url: str
    archive: Path
    folder: Path
    status: DatasetStatus


def archive_url(entry: DatasetEntry, base_url: str | None = None) -> str:
    if base_url:
        return base_url.rstrip("/") + "/" + entry.archive["filename"]
    return entry.archive["url"]


def download(
    url: str,
    path: Path,
    sha256: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``path`` atomically (temporary file + rename); with ``sha256``,
    the file is kept only when its digest matches."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                resp = urllib.request.urlopen(url, timeout=timeout)
            except Exception as exc:
                raise FetchError(f"cannot download {url}: {exc}") from exc
            with resp:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with progress_bar(total=total, unit="B", unit_scale=True, desc=path.name) as bar:
                    while block := resp.read(1 << 20):
                        out.write(block)
                        bar.update(len(block))
            if total is not None and out.tell() != total:
                raise FetchError(f"download of {url} incomplete: {out.tell()} of {total} bytes")
        if sha256:
            got = file_digest(Path(tmp))
            if got != sha256.lower():
                raise FetchError(f"checksum mismatch for {url}: sha256 {got}, expected {sha256}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def extract(archive: Path, dest: Path) -> None:
    """Extract a .zip or .tar(.gz/.tgz/.bz2/.xz) archive into ``dest``, refusing members that
    would land outside it."""
    archive, dest = Path(archive), Path(dest)
    dest_res = dest.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for n in zf.namelist():
                if not (dest / n).resolve().is_relative_to(dest_res):
                    raise FetchError(f"{archive}: member {n!r} would extract outside {dest}")
            zf.extractall(dest)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")
    else:
        raise FetchError(f"{archive} is neither a zip nor a tar archive")


def _find_dataset_dir(tree: Path, anchor: str) -> Path:
    anchor_parts = Path(anchor).parts
    hits = sorted(
        p for p in tree.rglob(anchor_parts[-1]) if p.parts[-len(anchor_parts) :] == anchor_parts
    )
    if not hits:
        raise FetchError(f"the archive has no {anchor}; cannot find the dataset folder")
    found = hits[0]
    for _ in anchor_parts:
        found = found.parent
    return found


def fetch(
    name: str,
    dest: str | os.PathLike,
    base_url: str | None = None,
    registry: dict | None = None,
    force: bool = False,
    full_check: bool = True,
    keep_archive: bool = True,
) -> FetchResult:
    """Download, extract and check dataset ``name`` into ``dest/<folder>`` (module doc).
    An existing ``dest/<folder>`` is kept unless ``force``."""
    registry = registry if registry is not None else load_registry()
    if name not in registry:
        raise UnknownNameError(f"unknown dataset {name!r}; registry has {sorted(registry)}")
    entry = registry[name]
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / entry.folder
    url = archive_url(entry, base_url)
    archive = dest / ".downloads" / entry.archive["filename"]
    if target.exists() and not force:
        raise FetchError(f"{target} exists; pass force=True to replace it")
    want = entry.archive.get("sha256")
    if not (archive.is_file() and want and file_digest(archive) == want):
        download(url, archive, sha256=want)
    tmp = Path(tempfile.mkdtemp(prefix=f".extract-{name}-", dir=dest))
    try:
        extract(archive, tmp)
        src = _find_dataset_dir(tmp, entry.archive["anchor"])
        if target.exists():
            shutil.rmtree(target)
        os.replace(src, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not keep_archive:
        archive.unlink(missing_ok=True)
    status = verify_dataset(dest, entry, full=full_check, check_records=False)
    return FetchResult(name=name, url=url, archive=archive, folder=target, status=status)


def fetch_all(
    dest: str | os.PathLike,
    datasets: list[str] | tuple[str, ...] | None = None,
    base_url: str | None = None,
    registry: dict | None = None,
    force: bool = False,
) -> list[FetchResult]:
    """``fetch`` each dataset (all in the registry by default). Raises FetchError listing the
    datasets whose files do not match the manifests after download."""
    registry = registry if registry is not None else load_registry()
    results = [
        fetch(n, dest, base_url=base_url, registry=registry, force=force)
        for n in (datasets or tuple(registry))
    ]
    bad = [r for r in results if r.status.status != "ok"]
    if bad:
        raise FetchError(
            "; ".join(f"{r.name} from {r.url}: " + ", ".join(r.status.problems[:5]) for r in bad)
        )
    return results
