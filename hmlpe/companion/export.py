"""Export a run's small results (no weights) into a folder that is committed to git, with a
manifest of what was copied and the provenance of the run: code commit, configs, data
checksum manifests, device, time.

    python -m hmlpe export --run-dir runs/cpu --out results/cpu/seed_0 --exclude sweep
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from hmlpe.companion.runinfo import manifest_digests
from hmlpe.engine.guard import RunFolderError
from hmlpe.engine.layout import (
    CONFIG_NAME,
    FEATURES_NAME,
    HISTORY_CSV_NAME,
    HISTORY_NAME,
    MANIFEST_NAME,
    METRICS_NAME,
    PREDICTIONS_NAME,
    TIMINGS_NAME,
)
from hmlpe.engine.records import (
    ExportManifest,
    read_export_manifest,
    read_run_record,
    write_export_manifest,
)
from hmlpe.errors import ResultsError
from hmlpe.provenance import file_digest, git_commit, now_utc, package_versions

# Files worth keeping: configs, per-epoch histories, metrics, predictions, book timings.
SMALL_FILES = (
    CONFIG_NAME,
    HISTORY_CSV_NAME,
    HISTORY_NAME,
    METRICS_NAME,
    PREDICTIONS_NAME,
    TIMINGS_NAME,
    FEATURES_NAME,
)
MAX_BYTES = 2_000_000


def _wall_seconds(first_started: str | None, last_written: float) -> float | None:
    from datetime import datetime

    if not first_started or not last_written:
        return None
    first = datetime.fromisoformat(first_started.replace("Z", "+00:00")).timestamp()
    return round(last_written - first, 1)


def _result_files(run_dir: Path, exclude: tuple[str, ...]) -> list[Path]:
    """The files of ``run_dir`` an export copies: ``SMALL_FILES`` outside the excluded
    top-level folders, in a stable order."""
    return [
        src
        for src in sorted(run_dir.rglob("*"))
        if src.is_file()
        and src.name in SMALL_FILES
        and src.relative_to(run_dir).parts[0] not in exclude
    ]


def _run_identity(files: list[Path]) -> tuple[str | None, list[str]]:
    """What tells one training run from another: the first stage's start and the sorted
    training commits, read from the ``config.json`` files among ``files``."""
    starts, commits = [], set()
    for config in (f for f in files if f.name == CONFIG_NAME):
        record = read_run_record(config.parent)
        commits.add(record.git_commit)
        if record.created:
            starts.append(record.created)
    return (min(starts) if starts else None), sorted(c for c in commits if c)


def check_export_target(
    out_dir: Path, identity: tuple[str | None, list[str]]
) -> ExportManifest | None:
    """The manifest of ``out_dir`` when it holds an export of the same training run (same
    first stage start; for older manifests without one, the same training commits), None when
    ``out_dir`` is absent or empty; else ``RunFolderError``: a folder holding files but no
    export manifest, or the export of another run, would lose results."""
    if not out_dir.exists():
        return None
    if not out_dir.is_dir():
        raise RunFolderError(f"--out {out_dir} is a file, not a folder")
    previous = out_dir / MANIFEST_NAME
    if not previous.is_file():
        if any(out_dir.iterdir()):
            raise RunFolderError(
                f"--out {out_dir} holds files but no {MANIFEST_NAME}: not an "
                "export of this run; export to a new folder"
            )
        return None
    try:
        prev = read_export_manifest(out_dir)
    except ResultsError as exc:
        raise RunFolderError(f"{exc}; export to a new folder") from exc
    started, commits = identity
    same = (
        prev.first_stage_started == started
        if prev.records_start
        else list(prev.training_commits) == commits
    )
    if not same:
        raise RunFolderError(
            f"--out {out_dir} holds the export of another run ({prev.run_dir}, first "
            f"stage started {prev.first_stage_started}; this run started {started}): "
            "export to a new folder, or remove that one with git first if it is to be replaced"
        )
    return prev


def export_results(run_dir: Path, out_dir: Path, exclude: tuple[str, ...] = ()) -> ExportManifest:
    """Copy the small result files of ``run_dir`` (recursively) to ``out_dir`` and write
    ``out_dir/MANIFEST.json``. Weights (``*.pt``) are never copied; top-level folders named in
    ``exclude`` are skipped (e.g. a sweep exported on its own). Exporting the same training run
    again (same first stage start; for older manifests, the same training commits) keeps the
    first export's wall time. Returns the manifest written (``records.ExportManifest``)."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"run folder {run_dir} does not exist")
    for src in _result_files(run_dir, ()):  # every result file, excluded ones too
        if src.stat().st_size > MAX_BYTES:
            raise RunFolderError(
                f"{src} is {src.stat().st_size} bytes: too large to commit as a result"
            )
    sources = _result_files(run_dir, exclude)
    identity = _run_identity(sources)
    prev = check_export_target(out_dir, identity)  # before anything is written
    files: dict[str, dict[str, Any]] = {}
    devices = set()
    last_written = 0.0
    for src in sources:
        rel = src.relative_to(run_dir)
        dst = out_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
        files[str(rel)] = {"sha256": file_digest(dst), "bytes": dst.stat().st_size}
        last_written = max(last_written, src.stat().st_mtime)
        if src.name == CONFIG_NAME:
            devices.add(read_run_record(src.parent).device)
    if not files:
        raise RunFolderError(
            f"run folder {run_dir} holds no result files ({', '.join(SMALL_FILES)})"
        )
    manifest = ExportManifest(
        run_dir=str(run_dir),
        exported=now_utc(),
        export_commit=git_commit(),
        training_commits=tuple(identity[1]),
        devices=tuple(sorted(d for d in devices if d)),
        # From the first stage's start to the last result file written: the run's wall time
        # (None when no stage recorded its start).
        wall_seconds=_wall_seconds(identity[0], last_written),
        first_stage_started=identity[0],
        data_manifests_sha256=manifest_digests(),
        versions=package_versions(),
        files=files,
    )
    if prev is not None and prev.wall_seconds is not None:
        # Re-exporting the same training run (check_export_target: files added later, e.g.
        # features or another evaluation): its wall time is the first export's, not stretched
        # to today.
        manifest = replace(
            manifest,
            wall_seconds=prev.wall_seconds,
            wall_seconds_from_export=(
                prev.wall_seconds_from_export
                if prev.wall_seconds_from_export is not None
                else prev.exported
            ),
        )
    write_export_manifest(out_dir, manifest)
    return manifest
