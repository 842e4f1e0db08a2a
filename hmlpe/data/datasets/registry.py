"""The dataset registry: what files each dataset has, where it comes from, what it should hold,
and ``verify`` to check a data root against it.

``data/registry.json`` (committed) holds, per dataset: its folder under the data root, the
official page and archive URLs (data README), the key annotation files, split rules and
expected counts, and the names of two small committed manifests under ``data/checksums/``:
``<name>.sha256`` (``sha256sum -c`` format, paths relative to the data root; made from the
reference copy's SHA256SUMS) and ``<name>.sizes`` ("<bytes> <path>" lines). FLIC's
``flic.reencoded`` lists the 3626 training-only images that the reference copy re-encoded
(JPEG quality 75, data README): a fresh official download differs from the manifest exactly
there, which ``verify`` reports as notes, not problems.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from hmlpe.errors import UnknownNameError
from hmlpe.paths import PROJECT_ROOT, data_root_folder
from hmlpe.progress import progress_bar
from hmlpe.provenance import file_digest

REGISTRY_PATH = PROJECT_ROOT / "data" / "registry.json"


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    folder: str
    title: str
    page_url: str
    archive: dict  # {"url", "filename", "sha256" | None, "anchor"}
    key_files: tuple[str, ...]
    image_glob: str
    counts: dict
    split: str
    manifest: Path  # <name>.sha256
    sizes: Path  # <name>.sizes
    reencoded: Path | None = None
    notes: str = ""


def load_registry(path: str | os.PathLike | None = None) -> dict[str, DatasetEntry]:
    """The registry as {name: DatasetEntry}; manifest paths resolved beside the registry."""
    path = Path(path) if path is not None else REGISTRY_PATH
    if not path.is_file():
        raise FileNotFoundError(f"dataset registry not found: {path}")
    raw = json.loads(path.read_text())
    base = path.parent
    out = {}
    for name, d in raw["datasets"].items():
        out[name] = DatasetEntry(
            name=name,
            folder=d["folder"],
            title=d.get("title", name),
            page_url=d.get("page_url", ""),
            archive=d.get("archive", {}),
            key_files=tuple(d.get("key_files", ())),
            image_glob=d.get("image_glob", ""),
            counts=d.get("counts", {}),
            split=d.get("split", ""),
            manifest=base / d["manifest"],
            sizes=base / d["sizes"],
            reencoded=base / d["reencoded"] if d.get("reencoded") else None,
            notes=d.get("notes", ""),
        )
    return out


def read_manifest(entry: DatasetEntry) -> dict[str, tuple[str, int]]:
    """{relative path: (sha256, size)} of every file of the dataset."""
    sums: dict[str, str] = {}
    for line in entry.manifest.read_text().splitlines():
        if line.strip():
            digest, rel = line.split(None, 1)
            sums[rel.strip().removeprefix("./")] = digest
    sizes: dict[str, int] = {}
    for line in entry.sizes.read_text().splitlines():
        if line.strip():
            n, rel = line.split(None, 1)
            sizes[rel.strip().removeprefix("./")] = int(n)
    if set(sums) != set(sizes):
        raise ValueError(
            f"{entry.manifest} and {entry.sizes} list different files "
            f"(e.g. {sorted(set(sums) ^ set(sizes))[:3]})"
        )
    return {p: (sums[p], sizes[p]) for p in sums}


@dataclass
class DatasetStatus:
    name: str
    status: str = "ok"  # "ok" | "missing" | "problems"
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    checksummed: int = 0


@dataclass
class VerifyReport:
    root: Path
    full: bool
    datasets: dict[str, DatasetStatus]

    @property
    def ok(self) -> bool:
        return all(s.status == "ok" for s in self.datasets.values())

    def format(self, max_lines: int = 10) -> str:
        mode = "full checksums" if self.full else "fast (existence, sizes, counts)"
        lines = [f"data root {self.root} [{mode}]"]
        for s in self.datasets.values():
            extra = f", {s.checksummed} checksummed" if self.full else ""
            lines.append(f"  {s.name}: {s.status} ({s.files_checked} files checked{extra})")
            for p in s.problems[:max_lines]:
                lines.append(f"    problem: {p}")
            if len(s.problems) > max_lines:
                lines.append(f"    ... and {len(s.problems) - max_lines} more problems")
            for n in s.notes[:max_lines]:
                lines.append(f"    note: {n}")
            if len(s.notes) > max_lines:
                lines.append(f"    ... and {len(s.notes) - max_lines} more notes")
        return "\n".join(lines)


def _read_list(path: Path | None) -> set[str]:
    if path is None or not path.is_file():
        return set()
    return {ln.strip() for ln in path.read_text().splitlines() if ln.strip()}


def verify_dataset(
    root: Path,
    entry: DatasetEntry,
    full: bool = False,
    sample: list[str] | None = None,
    check_records: bool = True,
) -> DatasetStatus:
    """Check one dataset under ``root``: every manifest file exists with its size; expected
    counts (image files; records per split when ``check_records``); with ``full``, every
    file's SHA-256 (or only the ``sample`` paths when given)."""
    st = DatasetStatus(entry.name)
    folder = Path(root) / entry.folder
    if not folder.is_dir():
        st.status = "missing"
        st.problems.append(f"missing folder {folder}")
        return st
    manifest = read_manifest(entry)
    reencoded = _read_list(entry.reencoded)
    present = []
    for rel, (_, size) in sorted(manifest.items()):
        p = Path(root) / rel
        st.files_checked += 1
        if not p.is_file():
            st.problems.append(f"missing file {rel}")
            continue
        actual = p.stat().st_size
        if actual != size:
            msg = f"size mismatch in {rel}: {actual} bytes, expected {size}"
            (st.notes if rel in reencoded else st.problems).append(
                msg
                + (
                    " (re-encoded in the reference copy; expected for the official download)"
                    if rel in reencoded
                    else ""
                )
            )
        present.append(rel)
    if entry.image_glob:
        n_img = len(list(Path(root).glob(entry.image_glob)))
        want = entry.counts.get("images")
        if want is not None and n_img != want:
            st.problems.append(
                f"count mismatch: {n_img} files match {entry.image_glob}, expected {want}"
            )
    if full:
        todo = present if sample is None else [r for r in sample if r in set(present)]
        for rel in progress_bar(todo, desc=f"sha256 {entry.name}", unit="file"):
            digest = file_digest(Path(root) / rel)
            st.checksummed += 1
            if digest != manifest[rel][0]:
                msg = (
                    f"checksum mismatch in {rel}: {digest[:16]}..., expected "
                    f"{manifest[rel][0][:16]}..."
                )
                if rel in reencoded:
                    st.notes.append(msg + " (re-encoded in the reference copy)")
                else:
                    st.problems.append(msg)
    if check_records and not any(p.startswith("missing file") for p in st.problems):
        _check_record_counts(root, entry, st)
    if st.problems:
        st.status = "problems"
    return st


class DatasetCountWarning(UserWarning):
    """A dataset read with another number of examples than the registry expects."""


def count_differences(
    name: str, split_counts: dict[str, int], registry: dict[str, DatasetEntry] | None = None
) -> list[str]:
    """Each split whose count differs from ``registry.json``'s, as "<got> <split> examples,
    expected <want>"; empty when they agree or the registry has no count for the dataset."""
    registry = registry if registry is not None else load_registry()
    entry = registry.get(name)
    if entry is None:
        return []
    return [
        f"{split_counts.get(split, 0)} {split} examples, expected {want}"
        for split in ("train", "test")
        if (want := entry.counts.get(split)) is not None and split_counts.get(split, 0) != want
    ]


def warn_on_count_differences(name: str, root: Path, split_counts: dict[str, int]) -> None:
    """Warn (``DatasetCountWarning``) when a dataset read from ``root`` holds other counts than
    the registry: a shortened or replaced annotation file would otherwise train on fewer
    examples without a word."""
    import warnings

    try:
        differing = count_differences(name, split_counts)
    except (OSError, ValueError, KeyError):  # no readable registry: nothing to compare with
        return
    if differing:
        warnings.warn(
            DatasetCountWarning(
                f"{name} under {root}: {'; '.join(differing)} (data/registry.json); results will "
                f"not be comparable; check the copy with `hmlpe data verify`"
            ),
            stacklevel=3,
        )


def _check_record_counts(root: Path, entry: DatasetEntry, st: DatasetStatus) -> None:
    from hmlpe.data.datasets import load_dataset

    try:
        records = load_dataset(entry.name, root=root)
    except Exception as exc:  # report, do not crash the verification
        st.problems.append(f"cannot read the {entry.name} annotations: {exc}")
        return
    for split in ("train", "test"):
        want = entry.counts.get(split)
        got = sum(r.split == split for r in records)
        if want is not None and got != want:
            st.problems.append(f"count mismatch: {got} {split} examples, expected {want}")


def verify(
    root: str | os.PathLike,
    full: bool = False,
    datasets: tuple[str, ...] | None = None,
    registry: dict | None = None,
    sample: dict[str, list[str]] | None = None,
    check_records: bool = True,
) -> VerifyReport:
    """Check the data root ``root`` against the registry (module doc). ``full``: SHA-256 of
    every file (about 238 MB; progress bar on a terminal), or of ``sample[name]`` paths only."""
    root = data_root_folder(root)
    registry = registry if registry is not None else load_registry()
    names = datasets or tuple(registry)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise UnknownNameError(f"unknown dataset(s) {unknown}; registry has {sorted(registry)}")
    out = {
        n: verify_dataset(
            root,
            registry[n],
            full=full,
            sample=None if sample is None else sample.get(n, []),
            check_records=check_records,
        )
        for n in names
    }
    return VerifyReport(root=Path(root), full=full, datasets=out)
