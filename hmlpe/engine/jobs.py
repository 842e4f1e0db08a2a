"""Table 3's sweep and a profile's seeds as jobs: one job per ratio (``sweep/ratio_<r>`` of one
run folder) or per seed (``seed_<n>``, a whole protocol run, under one seeds root), the names
from ``layout``.

Executors:

- ``none`` (the default): one job after another in this process, as ``hmlpe reproduce`` runs
  them; no extra dependency.
- ``local``: submitit's local executor, each job a subprocess of this machine (at most
  ``max_parallel`` at once, default 1), logs in ``<root>/jobs/``.
- ``slurm``: submitit's Slurm executor (``sbatch``; every job at once unless ``max_parallel``);
  submitit is the optional extra ``cluster`` (``pip install -e ".[cluster]"``), imported only here.

A job whose folder is already finished is skipped (not submitted); an unfinished one resumes
(its stages resume and skip on their own, ``protocol.run_stage``). A job that fails is reported
by name with its log: submitit's stderr file, or for executor ``none`` the traceback written
to ``<root>/jobs/<name>.err``; the other jobs still run, and the CLI exits 1 naming each failure
on one line.
"""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmlpe.config import TrainConfig
from hmlpe.data.source import DataSource
from hmlpe.engine.checkpoint import CheckpointError, check_same_config, load_checkpoint
from hmlpe.engine.guard import check_output_folder
from hmlpe.engine.layout import (
    FEATURES_NAME,
    FINETUNE_DATASETS,
    SWEEP,
    RunLayout,
    seed_folder_name,
    sweep_folder_name,
)
from hmlpe.engine.profiles import Profile
from hmlpe.engine.protocol import configure, run_protocol, run_sweep
from hmlpe.errors import ExecutorError  # noqa: F401  (re-exported)
from hmlpe.progress import set_progress

EXECUTORS = ("none", "local", "slurm")


@dataclass(frozen=True)
class Job:
    """One unit of work: ``fn(*args)`` trains into ``folder``."""

    name: str  # the folder relative to the root, e.g. "sweep/ratio_0.5"
    folder: Path
    fn: Callable[..., Any]  # a module-level function (submitit pickles it)
    args: tuple
    finished: Callable[[], bool]  # checked before submitting: True -> skipped


@dataclass(frozen=True)
class Outcome:
    name: str
    folder: Path
    status: str  # "skipped" (already finished), "done" or "failed"
    log: Path | None = None
    error: str | None = None

    def line(self) -> str:
        """The one line that reports a failure."""
        where = f"log: {self.log}" if self.log else "not submitted"
        return f"job {self.name} failed: {self.error} ({where})"


@dataclass(frozen=True)
class ExecutorOptions:
    """What a submitted job asks for (submitit's generic parameters)."""

    timeout_min: int = 24 * 60  # submitit's own defaults are minutes: set one always
    partition: str | None = None  # Slurm only
    gpus_per_node: int = 0
    cpus_per_task: int | None = None  # Slurm only
    mem_gb: float | None = None  # Slurm only
    max_parallel: int | None = None  # jobs running at once (local: 1, Slurm: all)


# --- what "finished" means ------------------------------------------------------------------


def stage_finished(cfg: TrainConfig, folder: Path) -> bool:
    """The stage's checkpoint holds all of ``cfg``'s epochs, written with ``cfg``. An unreadable
    checkpoint or another config counts as unfinished: the job then meets the problem and
    reports it."""
    ckpt = RunLayout.checkpoint(folder)
    if not ckpt.is_file():
        return False
    try:
        state = load_checkpoint(ckpt)
        check_same_config(state, cfg, ckpt)
    except CheckpointError:
        return False
    return int(state["epoch"]) >= cfg.stage.epochs


def protocol_finished(profile: Profile, run_dir: Path) -> bool:
    """Every stage of the protocol complete, the pre-training's features and the evaluations
    (plain, mirror-averaged, Buffy under its own rule) written."""
    layout = RunLayout(run_dir)
    stages = [(profile.stage_config("pretrain"), layout.pretrain)]
    stages += [
        (profile.stage_config("finetune", ds), layout.finetune(ds)) for ds in FINETUNE_DATASETS
    ]
    if not all(stage_finished(cfg, folder) for cfg, folder in stages):
        return False
    evaluations = [
        layout.evaluation(ds, mirror=m) for ds in FINETUNE_DATASETS for m in (False, True)
    ]
    evaluations.append(layout.evaluation("buffy", association="buffy"))
    return (layout.pretrain / FEATURES_NAME).is_file() and all(
        RunLayout.metrics(folder).is_file() for folder in evaluations
    )


# --- the jobs -------------------------------------------------------------------------------


def _sweep_job(profile: Profile, root: str, ratio: float, source: DataSource) -> str:
    return str(run_sweep(profile, Path(root), ratios=(ratio,), source=source)[ratio])


def _seed_job(profile: Profile, folder: str, source: DataSource) -> str:
    run_protocol(profile, Path(folder), source=source)
    return folder


def _quietly(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` with progress bars off: a submitted job writes to a log file."""
    set_progress(False)
    return fn(*args)


def sweep_jobs(
    profile: Profile, run_dir: Path, source: DataSource, ratios: Sequence[float] | None = None
) -> list[Job]:
    """One job per lambda_R/lambda_P ratio (default: the profile's), into ``run_dir/sweep``,
    reading the datasets from ``source``."""
    root = Path(run_dir).resolve()
    layout = RunLayout(check_output_folder(root, "--out"))
    jobs: dict[str, Job] = {}
    for ratio in ratios if ratios is not None else profile.sweep.ratios:
        cfg, folder = profile.sweep_config(ratio), layout.sweep(ratio)
        name = f"{SWEEP}/{sweep_folder_name(ratio)}"
        jobs.setdefault(
            name,
            Job(
                name,
                folder,
                _sweep_job,
                (profile, str(root), ratio, source),
                functools.partial(stage_finished, cfg, folder),
            ),
        )
    return list(jobs.values())  # a ratio given twice is one job


def seed_jobs(profile: Profile, root: Path, seeds: Sequence[int], source: DataSource) -> list[Job]:
    """One job per seed: the whole protocol (no sweep) with that seed, into ``root/seed_<n>``,
    reading the datasets from ``source``."""
    root = Path(root).resolve()
    jobs: dict[str, Job] = {}
    for seed in seeds:
        prof = configure(profile, {"seed": seed})
        name = seed_folder_name(seed)
        folder = root / name
        check_output_folder(folder, "--root")
        jobs.setdefault(
            name,
            Job(
                name,
                folder,
                _seed_job,
                (prof, str(folder), source),
                functools.partial(protocol_finished, prof, folder),
            ),
        )
    return list(jobs.values())  # a seed given twice is one job


# --- running them ---------------------------------------------------------------------------


def run_jobs(
    jobs: Sequence[Job],
    root: Path,
    executor: str = "none",
    *,
    options: ExecutorOptions = ExecutorOptions(),
    poll_seconds: float = 1.0,
) -> list[Outcome]:
    """Run the unfinished ``jobs`` with ``executor`` (module docstring); an Outcome per job,
    in order. Never raises for a failed job: its Outcome says so."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose {', '.join(EXECUTORS)}")
    log_dir = RunLayout(Path(root).resolve()).jobs
    outcomes: dict[str, Outcome] = {}
    todo = []
    for job in jobs:
        if job.finished():
            outcomes[job.name] = Outcome(job.name, job.folder, "skipped")
        else:
            todo.append(job)
    if executor == "none":
        for job in todo:
            outcomes[job.name] = _run_here(job, log_dir)
    elif todo:
        outcomes.update(_run_submitit(todo, log_dir, executor, options, poll_seconds))
    return [outcomes[job.name] for job in jobs]


def _run_here(job: Job, log_dir: Path) -> Outcome:
    try:
        job.fn(*job.args)
    except Exception as exc:  # noqa: BLE001 - reported by name, the other jobs go on
        log = log_dir / (job.name.replace("/", "_") + ".err")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc())
        return Outcome(
            job.name, job.folder, "failed", log, _one_line(f"{type(exc).__name__}: {exc}")
        )
    return Outcome(job.name, job.folder, "done")


def _executor(kind: str, log_dir: Path, options: ExecutorOptions):
    try:
        import submitit
    except ImportError as exc:
        raise ExecutorError(
            f'executor {kind!r} needs submitit: pip install -e ".[cluster]" '
            "(or choose --executor none)"
        ) from exc
    try:
        ex = submitit.AutoExecutor(folder=log_dir, cluster=kind)
    except RuntimeError as exc:  # e.g. 'Could not detect "srun"' off a Slurm cluster
        raise ExecutorError(f"executor {kind!r} cannot start here: {exc}") from exc
    params: dict[str, Any] = {"timeout_min": options.timeout_min}
    if options.gpus_per_node:
        params["gpus_per_node"] = options.gpus_per_node
    if kind == "slurm":
        if options.partition:
            params["slurm_partition"] = options.partition
        if options.cpus_per_task:
            params["cpus_per_task"] = options.cpus_per_task
        if options.mem_gb:
            params["mem_gb"] = options.mem_gb
    ex.update_parameters(**params)
    return ex


def _run_submitit(
    todo: Sequence[Job], log_dir: Path, kind: str, options: ExecutorOptions, poll_seconds: float
) -> dict[str, Outcome]:
    ex = _executor(kind, log_dir, options)
    limit = options.max_parallel or (1 if kind == "local" else len(todo))
    pending = list(todo)
    running: list[tuple[Job, Any]] = []
    out: dict[str, Outcome] = {}
    while pending or running:
        while pending and len(running) < limit:
            job = pending.pop(0)
            ex.update_parameters(name=job.name.replace("/", "_"))
            try:
                running.append((job, ex.submit(_quietly, job.fn, *job.args)))
            except Exception as exc:  # noqa: BLE001 - e.g. sbatch missing or refusing the job
                out[job.name] = Outcome(
                    job.name,
                    job.folder,
                    "failed",
                    None,
                    _one_line(f"submission failed: {type(exc).__name__}: {exc}"),
                )
        still = []
        for job, handle in running:
            if handle.done():
                out[job.name] = _outcome(job, handle)
            else:
                still.append((job, handle))
        running = still
        if running:
            time.sleep(poll_seconds)
    return out


def _outcome(job: Job, handle) -> Outcome:
    exc = handle.exception()
    if exc is None:
        return Outcome(job.name, job.folder, "done", Path(handle.paths.stderr))
    return Outcome(job.name, job.folder, "failed", Path(handle.paths.stderr), _job_error(str(exc)))


def _job_error(message: str) -> str:
    """The exception line of a submitit failure's trace, or the first line of its message."""
    parts = message.split("-" * 22 + "\n")
    if len(parts) >= 3:  # "failed during processing with trace:\n----\n<trace>\n----\n..."
        lines = [ln for ln in parts[1].splitlines() if ln.strip()]
        if lines:
            return _one_line(lines[-1])
    return _one_line(message)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
