"""Run folders that nothing overwrites or deletes by mistake: which folders a command may write
(``check_output_folder``), which it may delete (``check_deletable``) and one writer at a time
(``RunLock``). Every check runs before any work and raises :class:`RunFolderError`, one line
naming the folder and what is wrong.

Protected: a folder holding exported results (``MANIFEST.json``, written by ``hmlpe export``)
or lying inside one, and anything inside the project's committed ``results/`` folder; only
``hmlpe export`` writes there.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from hmlpe.engine.layout import (
    CHECKPOINT_NAME,
    CONFIG_NAME,
    HISTORY_NAME,
    MANIFEST_NAME,
    METRICS_NAME,
)
from hmlpe.errors import RunFolderError  # noqa: F401  (re-exported)
from hmlpe.paths import PROJECT_ROOT

RESULTS_ROOT = PROJECT_ROOT / "results"
LOCK_NAME = ".writer.lock"
# Files that make a folder a run's (never deleted by a command that replaces a folder).
RUN_MARKERS = (CHECKPOINT_NAME, CONFIG_NAME, HISTORY_NAME, METRICS_NAME, MANIFEST_NAME)


def exported_root(path: Path) -> Path | None:
    """The folder of exported results (holding ``MANIFEST.json``) that is ``path`` or holds
    it, else None."""
    path = Path(path).resolve()
    for folder in (path, *path.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    return None


def inside_results(path: Path, results_root: Path | None = None) -> bool:
    path, root = Path(path).resolve(), Path(results_root or RESULTS_ROOT).resolve()
    return path == root or root in path.parents


def check_output_folder(
    path: Path, option: str = "--out", *, results_root: Path | None = None
) -> Path:
    """``path`` if a command may write its run there, else :class:`RunFolderError`: it holds
    or lies inside exported results, lies inside ``results/``, is a file, or cannot be
    created. Creates nothing."""
    path = Path(path)
    exported = exported_root(path)
    if exported is not None:
        raise RunFolderError(
            f"{option} {path}: {exported} holds exported results "
            f"({MANIFEST_NAME}); they are read, never written: use another "
            f"{option}"
        )
    if inside_results(path, results_root):
        raise RunFolderError(
            f"{option} {path} lies inside {results_root or RESULTS_ROOT}, "
            "the committed results, which only `hmlpe export` writes: train "
            "into runs/ and export from there"
        )
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"{option} {path} is a file, not a folder")
    existing = next(p for p in (path.absolute(), *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise RunFolderError(
            f"{option} {path}: {existing} is a file, so the folder cannot be created"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunFolderError(f"{option} {path}: no permission to write in {existing}")
    return path


def run_markers(path: Path) -> list[str]:
    """The names of ``RUN_MARKERS`` found in ``path`` or below it (empty: it holds no run)."""
    path = Path(path)
    if not path.is_dir():
        return []
    return sorted({p.name for name in RUN_MARKERS for p in path.rglob(name)})


COPY_MARK = ".copied_from"  # written by the book runner into its copies of exported results


def check_deletable(path: Path, option: str) -> Path:
    """``path`` if a command may delete it to put a fresh copy there, else
    :class:`RunFolderError`: it lies inside ``results/``, or holds a run or exported results
    (only a copy the book runner made, marked by ``.copied_from``, may be replaced)."""
    path = Path(path)
    if inside_results(path):
        raise RunFolderError(
            f"{option} {path} lies inside {RESULTS_ROOT}, the committed results: never replaced"
        )
    if (path / COPY_MARK).is_file():
        return path
    check_output_folder(path, option)
    markers = run_markers(path)
    if markers:
        raise RunFolderError(
            f"{option} {path} holds a run ({', '.join(markers)}); "
            "it is never deleted: remove it yourself or choose another "
            f"{option}"
        )
    return path


def check_disjoint(source: Path, target: Path, source_option: str, target_option: str) -> None:
    """``target`` neither is, contains nor lies inside ``source`` (a copy must not eat its
    source)."""
    s, t = Path(source).resolve(), Path(target).resolve()
    if s == t or s in t.parents or t in s.parents:
        raise RunFolderError(
            f"{target_option} {target} and {source_option} {source} overlap "
            "(one is or holds the other); the copy must go elsewhere"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clear_temporaries(folder: Path) -> list[Path]:
    """Remove what a killed atomic write left in ``folder`` (``.<name>.<random>.tmp``, see
    ``provenance.atomic_write_bytes``); call it only while holding the folder's lock."""
    folder = Path(folder)
    stale = sorted(folder.glob(".*.tmp")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        print(
            f"warning: removed {len(stale)} temporary file(s) of an interrupted write in "
            f"{folder}: {', '.join(p.name for p in stale)}",
            file=sys.stderr,
        )
    return stale


class RunLock:
    """One writer per run folder: ``folder/.writer.lock`` holds the writer's pid, host and
    start, created exclusively. A second writer fails at once; a lock whose process is gone
    (same host) is taken over with a warning; the lock is removed on exit."""

    def __init__(self, folder: Path, what: str = "run"):
        self.folder, self.what = Path(folder), what
        self.path = self.folder / LOCK_NAME
        self.held = False
        self.created: list[Path] = []

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def acquire(self) -> RunLock:
        self.created = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. under /proc, or a full disk: access() said yes
            raise RunFolderError(
                f"{self.what} folder {self.folder} cannot be created: {exc.strerror or exc}"
            ) from exc
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(sys.argv[:3]),
        }
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                pid, host = holder.get("pid"), holder.get("host")
                if isinstance(pid, int) and host == me["host"] and not _pid_alive(pid):
                    print(
                        f"warning: {self.path}: the {self.what} writer pid {pid} (started "
                        f"{holder.get('started')}) is gone; taking its lock over",
                        file=sys.stderr,
                    )
                    self.path.unlink(missing_ok=True)
                    continue
                if not holder:  # being written this instant, or unreadable: not ours
                    raise RunFolderError(
                        f"{self.folder} is locked by another writer "
                        f"({self.path} unreadable); if none runs, delete it"
                    ) from None
                raise RunFolderError(
                    f"{self.folder} is being written by pid {pid} on {host} since "
                    f"{holder.get('started')} ({holder.get('command', '?')}); wait for it or "
                    f"use another folder (if that process is gone, delete {self.path})"
                ) from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise RunFolderError(f"{self.path}: could not take the lock")

    def release(self) -> None:
        """Remove the lock, and the folders ``acquire`` created if nothing was written in them
        (a run that failed before writing leaves no trace)."""
        if self.held:
            if self._holder().get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False
            for folder in self.created:  # deepest first
                try:
                    folder.rmdir()
                except OSError:  # not empty (or gone): keep it
                    break

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
