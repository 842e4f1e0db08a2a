"""Long work made visible for the book runner: what the training chapters will cost before they
start, and their training progress while papermill executes them.

The chapters train with progress bars off (a notebook's output is the book, not a log), so
the runner reads the run folder instead: every stage folder's ``history.jsonl`` gains a row
per epoch, and :class:`RunWatcher` prints each new row as one line on the terminal. The
notebooks and their outputs stay as they were (nbval compares them)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hmlpe.engine.layout import HISTORY_NAME
from hmlpe.engine.records import RecordError, read_run_record

# The chapters that train when their run folder lacks the stages, and the stages they train
# (keys of companion.compute.profile_visits).
TRAINING_CHAPTERS: dict[str, tuple[str, ...]] = {
    "05_training": ("pretrain", "finetune_buffy", "finetune_flic"),
    "08_multitask": ("sweep",),
}


@dataclass(frozen=True)
class StageProgress:
    """One stage folder: epochs done (rows of its history) of its config's total."""

    name: str  # the folder relative to the run folder, e.g. "sweep/ratio_0.5"
    epochs_done: int
    epochs_total: int | None
    last: dict  # the last history row ({} before the first epoch ends)
    seconds_per_epoch: float | None

    def line(self) -> str:
        total = f"/{self.epochs_total}" if self.epochs_total else ""
        parts = [f"{self.name} epoch {self.epochs_done}{total}"]
        if "visits" in self.last:
            parts.append(f"{self.last['visits']:,} visits")
        if "images_per_second" in self.last:
            parts.append(f"{self.last['images_per_second']:.0f} img/s")
        if "train_regression" in self.last:
            parts.append(f"train eq. 1 {self.last['train_regression']:.3f}")
        if "val_regression" in self.last:
            parts.append(f"validation eq. 1 {self.last['val_regression']:.3f}")
        left = self.minutes_left()
        if left is not None and left > 0:
            parts.append(
                f"about {left:.0f} min left in this stage"
                if left >= 1
                else "under a minute left in this stage"
            )
        return ", ".join(parts)

    def minutes_left(self) -> float | None:
        if not (self.epochs_total and self.seconds_per_epoch):
            return None
        return (self.epochs_total - self.epochs_done) * self.seconds_per_epoch / 60.0


def _read_rows(path: Path) -> list[dict]:
    rows: list[dict] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return rows
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a row being written: read it next time
            break
    return rows


def _epochs_total(folder: Path) -> int | None:
    try:
        return read_run_record(folder).epochs
    except (RecordError, AttributeError, TypeError, ValueError):  # a record being written
        return None


def stage_progress(run_dir: Path) -> dict[str, StageProgress]:
    """Every stage folder under ``run_dir`` (at most two levels down) that has a history."""
    run_dir = Path(run_dir)
    out = {}
    for history in sorted(
        [*run_dir.glob(f"*/{HISTORY_NAME}"), *run_dir.glob(f"*/*/{HISTORY_NAME}")]
    ):
        folder = history.parent
        rows = _read_rows(history)
        seconds = [r["train_seconds"] for r in rows[-5:] if "train_seconds" in r]
        name = folder.relative_to(run_dir).as_posix()
        out[name] = StageProgress(
            name,
            len(rows),
            _epochs_total(folder),
            rows[-1] if rows else {},
            sum(seconds) / len(seconds) if seconds else None,
        )
    return out


def new_epoch_lines(before: dict[str, StageProgress], after: dict[str, StageProgress]) -> list[str]:
    """A line for each stage that finished an epoch between two readings."""
    return [
        p.line()
        for name, p in after.items()
        if p.epochs_done > (before[name].epochs_done if name in before else 0)
    ]


class RunWatcher:
    """While open, prints a line per finished epoch of any stage under ``run_dir``, polled every
    ``interval`` seconds on a daemon thread; one last poll on close.

        with RunWatcher(run_dir, prefix="[book] 05_training: "):
            execute_chapter(...)"""

    def __init__(
        self,
        run_dir: Path,
        *,
        prefix: str = "",
        interval: float = 5.0,
        stream: TextIO | None = None,
        read: Callable[[Path], dict[str, StageProgress]] = stage_progress,
    ):
        self.run_dir, self.prefix, self.interval = Path(run_dir), prefix, interval
        self.stream = stream
        self._read = read
        self._stop = threading.Event()
        self._seen: dict[str, StageProgress] = {}
        self._thread: threading.Thread | None = None

    def poll(self) -> list[str]:
        now = self._read(self.run_dir)
        lines = new_epoch_lines(self._seen, now)
        self._seen = now
        stream = self.stream or sys.stdout
        for line in lines:
            print(f"{self.prefix}{line}", file=stream, flush=True)
        return lines

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def __enter__(self) -> RunWatcher:
        self._seen = self._read(self.run_dir)  # what was there before is not news
        self._thread = threading.Thread(target=self._loop, name="hmlpe-run-watcher", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
        self.poll()


def measured_rate(results_dir: Path) -> tuple[float, str] | None:
    """Training images per second over every history row under ``results_dir`` (visits made /
    training seconds), and the device they were measured on; None without histories."""
    results_dir = Path(results_dir)
    images = seconds = 0.0
    device = ""
    for history in sorted(results_dir.rglob(HISTORY_NAME)):
        for row in _read_rows(history):
            if row.get("train_seconds") and row.get("images_per_second"):
                seconds += row["train_seconds"]
                images += row["images_per_second"] * row["train_seconds"]
        if not device:
            try:
                device = read_run_record(history.parent).device or ""
            except RecordError:
                pass
    return (images / seconds, device) if seconds else None


# Runs shorter than this are not timed before they start (measuring takes seconds).
LONG_RUN_VISITS = 100_000


def training_cost_note(
    profile_name: str,
    chapters: list[str],
    results_root: Path,
    visits: dict[str, int],
    this_machine: tuple[float, str] | None = None,
) -> str | None:
    """What the training chapters among ``chapters`` will train (image visits of the profile's
    stages, ``companion.compute.profile_visits``), the time at ``this_machine``'s measured
    training rate (images/s and device, ``engine.bench.training_rate``) and at the rate of the
    committed runs of the profile under ``results_root/<profile>``, and the way to read those
    results instead of training. None when no chapter trains."""
    stages = [s for c in chapters for s in TRAINING_CHAPTERS.get(c, ())]
    if not stages:
        return None
    total = sum(visits[s] for s in stages)
    training = [c for c in chapters if c in TRAINING_CHAPTERS]
    verb = "trains" if len(training) == 1 else "train"
    parts = [
        f"{' and '.join(training)} {verb} the {profile_name} profile where the run folder "
        f"lacks its stages: {total:,} image visits "
        f"({', '.join(f'{s} {visits[s]:,}' for s in stages)})"
    ]
    if this_machine is not None:
        rate, device = this_machine
        parts.append(
            f"this machine trains {rate:.0f} img/s ({device}; measured just now over a "
            f"few steps): about {total / rate / 60:.0f} min of training steps, plus "
            f"evaluations and data"
        )
    seed_dir = Path(results_root) / profile_name / "seed_0"
    committed = measured_rate(seed_dir) if seed_dir.is_dir() else None
    if committed is not None:
        rate, device = committed
        try:
            seed_dir = seed_dir.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            pass
        parts.append(
            f"the committed {seed_dir} trained at {rate:.0f} img/s ({device}), about "
            f"{total / rate / 60:.0f} min. To read those results instead, without "
            f"training: hmlpe book --from-results {seed_dir}"
        )
    elif this_machine is None:
        parts.append(
            "no committed run of this profile to time it by (`hmlpe bench` measures "
            "this machine's images per second)"
        )
    return "; ".join(parts)
