"""Export a run's small results (no weights) into a folder that is committed to git, with a
manifest of what was copied and the provenance of the run: code commit, configs, data
checksum manifests, device, time.

    python -m hmlpe export --run-dir runs/cpu --out results/cpu/seed_0 --exclude sweep
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hmlpe.companion.runinfo import manifest_digests
from hmlpe.engine.guard import RunFolderError
from hmlpe.engine.layout import (CONFIG_NAME, FEATURES_NAME, HISTORY_CSV_NAME, HISTORY_NAME,
                                MANIFEST_NAME, METRICS_NAME, PREDICTIONS_NAME, TIMINGS_NAME)
from hmlpe.provenance import atomic_write_json, file_digest, git_commit, now_utc, package_versions

# Files worth keeping: configs, per-epoch histories, metrics, predictions, book timings.
SMALL_FILES = (CONFIG_NAME, HISTORY_CSV_NAME, HISTORY_NAME, METRICS_NAME, PREDICTIONS_NAME,
               TIMINGS_NAME, FEATURES_NAME)
MAX_BYTES = 2_000_000


def _wall_seconds(started: list[str], last_written: float) -> float | None:
    from datetime import datetime
    if not started or not last_written:
        return None
    first = min(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() for s in started)
    return round(last_written - first, 1)


def _first_stage_started(run_dir: Path) -> str | None:
    starts = []
    for config in run_dir.rglob(CONFIG_NAME):
        try:
            created = json.loads(config.read_text()).get("created")
        except (OSError, ValueError):
            continue
        if created:
            starts.append(created)
    return min(starts) if starts else None


def check_export_target(run_dir: Path, out_dir: Path) -> None:
    """Refuse (``RunFolderError``) an ``out_dir`` that would lose results: one that holds files
    but no export manifest, or the export of another training run (another first stage start;
    for older manifests, other training commits). Re-exporting the same run updates it."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise RunFolderError(f"--out {out_dir} is a file, not a folder")
    previous = out_dir / MANIFEST_NAME
    if not previous.is_file():
        if any(out_dir.iterdir()):
            raise RunFolderError(f"--out {out_dir} holds files but no {MANIFEST_NAME}: not an "
                                 "export of this run; export to a new folder")
        return
    try:
        prev = json.loads(previous.read_text())
    except ValueError as exc:
        raise RunFolderError(f"{previous} is not valid JSON ({exc}); export to a new folder") from exc
    started = _first_stage_started(run_dir)
    if prev.get("first_stage_started") is not None or started is None:
        same = prev.get("first_stage_started") == started
    else:   # an older manifest: by the run folder it came from
        same = Path(str(prev.get("run_dir"))).resolve() == run_dir.resolve()
    if not same:
        raise RunFolderError(
            f"--out {out_dir} holds the export of another run ({prev.get('run_dir')}, first "
            f"stage started {prev.get('first_stage_started')}; this run started {started}): "
            "export to a new folder, or remove that one with git first if it is to be replaced")


def export_results(run_dir: Path, out_dir: Path, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Copy the small result files of ``run_dir`` (recursively) to ``out_dir`` and write
    ``out_dir/MANIFEST.json``. Weights (``*.pt``) are never copied; top-level folders named in
    ``exclude`` are skipped (e.g. a sweep exported on its own). Exporting the same training run
    again (same first stage start; for older manifests, the same training commits) keeps the
    first export's wall time."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist")
    check_export_target(run_dir, out_dir)
    files: dict[str, dict[str, Any]] = {}
    devices, commits = set(), set()
    started: list[str] = []
    last_written = 0.0
    for src in sorted(run_dir.rglob("*")):
        if not src.is_file() or src.name not in SMALL_FILES:
            continue
        if src.stat().st_size > MAX_BYTES:
            raise ValueError(f"{src} is {src.stat().st_size} bytes: too large to commit as a result")
        rel = src.relative_to(run_dir)
        if rel.parts[0] in exclude:
            continue
        dst = out_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
        files[str(rel)] = {"sha256": file_digest(dst), "bytes": dst.stat().st_size}
        last_written = max(last_written, src.stat().st_mtime)
        if src.name == "config.json":
            meta = json.loads(src.read_text())
            devices.add(meta.get("device"))
            commits.add(meta.get("git_commit"))
            if meta.get("created"):
                started.append(meta["created"])
    if not files:
        raise ValueError(f"run folder {run_dir} holds no result files ({', '.join(SMALL_FILES)})")
    manifest = {
        "run_dir": str(run_dir),
        "exported": now_utc(),
        "export_commit": git_commit(),
        "training_commits": sorted(c for c in commits if c),
        "devices": sorted(d for d in devices if d),
        # From the first stage's start to the last result file written: the run's wall time
        # (None when no stage recorded its start).
        "wall_seconds": _wall_seconds(started, last_written),
        "first_stage_started": min(started) if started else None,
        "data_manifests_sha256": manifest_digests(),
        "versions": package_versions(),
        "files": files,
    }
    previous = out_dir / MANIFEST_NAME
    if previous.is_file():
        # Re-exporting the same training run (files added later, e.g. features or another
        # evaluation): its wall time is the first export's, not stretched to today.
        prev = json.loads(previous.read_text())
        same_run = (prev.get("first_stage_started") == manifest["first_stage_started"]
                    if "first_stage_started" in prev   # older manifests: by their commits
                    else prev.get("training_commits") == manifest["training_commits"])
        if same_run and prev.get("wall_seconds") is not None:
            manifest["wall_seconds"] = prev["wall_seconds"]
            manifest["wall_seconds_from_export"] = prev.get("wall_seconds_from_export",
                                                            prev.get("exported"))
    atomic_write_json(previous, manifest)
    return manifest
