"""Training by eq. 4 with back-propagation (paper 3.5), resumable and deterministic on CPU.

Choices the paper leaves open (written here once):
- Epochs and visits (``StageConfig.epoch_unit``): an epoch of the "paper" unit visits every
  training image 32 times (the paper's epoch over its 32x augmented set), one of the "pass"
  unit once. Each visit draws a fresh random 112x112 crop of the 128x128 box and a mirror with
  probability 0.5 (the paper stores 16 crops x 2 mirrors per image; the distribution of crops
  is the same). Every history row counts the stage's image visits so far (``visits``).
- Random streams are derived from (seed, epoch) (``batches.epoch_plan``): a resumed run draws
  exactly what an uninterrupted one would, at an epoch's end or in its middle (the torch
  stream of the dropout masks is saved in a mid-epoch checkpoint).
- Batches are made on the training device (``batches.DevicePool``): crops, mirrors, joint
  targets and eq. 2 maps by tensor operations; the epoch's plan is copied to the device once.
  Losses are summed on the device and read back once per ``readback_every`` steps (and at the
  end of an epoch), so a GPU step never waits for the host; a non-finite loss is found at the
  readback, with the step where it first appeared.
- The learning rate is set per step (``learning_rate``): warm-up, then step or cosine decay
  over the stage's steps.
- "Training error" per epoch is the running mean over that epoch's batches (train mode,
  dropout on); held-out errors are measured in eval mode on the test crops of ``test_sets``
  ("test_*" keys) and, when ``data.holdout_validation``, on the validation split too ("val_*").
  Regression error: eq. 1 summed over the 8 joints, mean over examples, in crop-normalised
  units (the per-image regression cost of eq. 4; Table 3's magnitudes, e.g. test 0.131, fit
  this sum and not a per-joint mean); detection error: mean over examples, parts and windows
  of eq. 3 (an untrained 0.5 output gives ln 2 = 0.693, Table 3's value for lambda_d = 0).
  Each evaluation also records the share of conv maps never active on a fixed sample of 512
  training crops (``diagnostics.dead_map_shares``), and the last epoch, on the validation
  split, eq. 1 of the mean of 16 dropout-on passes beside eval mode's (``*_mc16_*``).
- Checkpoints are written at the end of every epoch, every ``checkpoint_minutes`` of wall time
  inside a long epoch, and when a time budget runs out; a mid-epoch checkpoint holds the epoch's
  progress and resumes where it stopped. A killed or failed run keeps the last good one.
- Data parallel (``torchrun --nproc_per_node N -m hmlpe train ...``; ``distributed``): every
  rank draws the same epoch plan and makes only its shard of each global batch; the global
  batch size and learning rate are the config's whatever the number of ranks. DDP averages
  the ranks' gradients; each rank scales its shard's mean loss by
  ``world_size * shard / batch``, so the average is the gradient of the global batch's mean
  loss, as one process computes it (uneven last batches included). Rank 0 alone evaluates the
  held-out errors, writes config, checkpoint and history, and broadcasts each epoch's row.
  Dropout masks are drawn per rank (rank 0 with the single-process seed), so only a
  dropout-free network trains to the same weights as one process (within float tolerance).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from hmlpe.config import TrainConfig, check_ranges
from hmlpe.data.pipeline import (
    HeldOutSet,
    TrainSet,
    load_test_set,
    load_train_set,
    load_validation_set,
)
from hmlpe.data.source import DataSource
from hmlpe.data.splits import VALIDATION_DATASETS
from hmlpe.engine import distributed
from hmlpe.engine.batches import DevicePool, epoch_plan
from hmlpe.engine.checkpoint import (
    CheckpointError,
    architecture,
    build_model,
    check_same_config,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from hmlpe.engine.device import DeviceSpec, autocast, select_device
from hmlpe.engine.diagnostics import HeldOutEvaluator, dead_map_shares, probe_crops
from hmlpe.engine.guard import RunLock, check_output_folder, clear_temporaries
from hmlpe.engine.layout import CHECKPOINT_NAME, HISTORY_CSV_NAME, HISTORY_NAME
from hmlpe.engine.records import write_run_record
from hmlpe.errors import (  # noqa: F401  (NonFiniteLossError re-exported)
    ConfigError,
    NonFiniteLossError,
    RunFolderError,
    UsageError,
)
from hmlpe.network import losses
from hmlpe.network.model import HMLPENet, HMLPEOutput, PoseNet
from hmlpe.progress import progress_bar, progress_set_to
from hmlpe.provenance import atomic_write_text, git_commit, now_utc

if TYPE_CHECKING:
    from hmlpe.network.heatmap import HeatmapOutput

READBACK_EVERY = 25  # steps between loss readbacks (one host sync each)
CHECKPOINT_MINUTES = 10.0  # wall minutes between mid-epoch checkpoints of a long epoch


@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    history: list[dict[str, Any]]
    seconds: float
    finished: bool = True  # False: stopped by a time budget or step limit, resumable


def steps_per_epoch(cfg: TrainConfig, n_images: int) -> int:
    return math.ceil(cfg.stage.passes_per_epoch * n_images / cfg.optim.batch_size)


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """The rate of 0-based ``step`` of a stage of ``total_steps``: base rate x stage scale,
    a linear warm-up over the first ``optim.warmup`` fraction of the steps, then step decay
    (x lr_decay at each fraction in ``lr_decay_at``) or a half cosine to 0 (``optim.schedule``)."""
    o = cfg.optim
    rate = o.lr * cfg.stage.lr_scale
    warm = o.warmup * total_steps
    if step < warm:
        return rate * (step + 1) / warm
    if o.schedule == "step":
        passed = sum(1 for frac in o.lr_decay_at if step >= frac * total_steps)
        return rate * o.lr_decay**passed
    if o.schedule == "cosine":
        span = max(total_steps - warm, 1.0)
        return rate * 0.5 * (1.0 + math.cos(math.pi * min(step - warm, span) / span))
    raise ConfigError(f"optim.schedule={o.schedule}: expected one of step, cosine")


def epoch_start_rates(cfg: TrainConfig, n_images: int) -> list[float]:
    """The learning rate at the first step of each epoch of the stage (for tables)."""
    per_epoch = steps_per_epoch(cfg, n_images)
    total = per_epoch * cfg.stage.epochs
    return [learning_rate(cfg, e * per_epoch, total) for e in range(cfg.stage.epochs)]


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """SGD (momentum, weight decay: [14]) or AdamW; fused kernels on a GPU where torch has them."""
    o = cfg.optim
    on_cuda = next(model.parameters()).device.type == "cuda"
    cls: Callable[..., torch.optim.Optimizer]
    kwargs: dict[str, Any]
    if o.name == "sgd":
        cls, kwargs = (
            torch.optim.SGD,
            {"lr": o.lr, "momentum": o.momentum, "weight_decay": o.weight_decay},
        )
    elif o.name == "adam":
        cls, kwargs = (
            torch.optim.AdamW,
            {"lr": o.lr, "betas": (o.momentum, 0.999), "weight_decay": o.weight_decay},
        )
    else:
        raise ConfigError(f"optim.name={o.name}: expected one of sgd, adam")
    if on_cuda:
        try:
            return cls(model.parameters(), fused=True, **kwargs)
        except (TypeError, RuntimeError):  # an older torch without the fused kernel
            pass
    return cls(model.parameters(), **kwargs)


def _seed_epoch(seed: int, epoch: int) -> None:
    """The torch (dropout) and Python streams of one epoch."""
    torch.manual_seed(seed * 100_003 + epoch)
    random.seed(seed * 100_003 + epoch)


class _TrainingForward(torch.nn.Module):
    """What DDP wraps: the model's forward with the output of a head whose task weight is 0
    detached, so that DDP (``find_unused_parameters``) expects no gradient for that head, as
    ``losses.total_loss`` gives it none in one process."""

    def __init__(self, model: HMLPENet, detach_joints: bool, detach_logits: bool):
        super().__init__()
        self.model = model
        self.detach_joints = detach_joints
        self.detach_logits = detach_logits

    def forward(self, x: torch.Tensor) -> HMLPEOutput:
        out = self.model(x)
        return HMLPEOutput(
            out.joints.detach() if self.detach_joints else out.joints,
            out.part_logits.detach() if self.detach_logits else out.part_logits,
        )


def _data_parallel(
    model: PoseNet, cfg: TrainConfig, spec: DeviceSpec, ctx: distributed.Context
) -> torch.nn.Module:
    """The module a training step calls: the model itself in one process, else DDP around it."""
    if not ctx.enabled:
        return model
    if cfg.network == "heatmap":  # one output, every parameter trained
        return torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[ctx.local_rank] if spec.device.type == "cuda" else None
        )
    assert isinstance(model, HMLPENet)  # cfg.network is "hmlpe"
    unused_r, unused_d = cfg.loss.lambda_r == 0, cfg.loss.lambda_d == 0
    return torch.nn.parallel.DistributedDataParallel(
        _TrainingForward(model, unused_r, unused_d),
        device_ids=[ctx.local_rank] if spec.device.type == "cuda" else None,
        find_unused_parameters=unused_r or unused_d,
    )


def _shard_loss(
    out: HMLPEOutput | HeatmapOutput,
    j: torch.Tensor,
    p: torch.Tensor,
    cfg: TrainConfig,
    ctx: distributed.Context,
    batch: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A data-parallel step's loss to back-propagate on this rank, and the global batch's mean
    (total, regression, detection) losses, the same on every rank (one small all-reduce).

    DDP averages gradients over the ranks: the shard's mean loss times
    ``world_size * shard / batch`` makes that average the gradient of the whole batch's mean.
    An empty shard (a last batch shorter than the world) back-propagates zero, so that its rank
    still joins the gradient all-reduce."""
    n = len(j)
    if n:
        total, reg_mean, det_mean = losses.training_loss(out, j, p, cfg)
        stats = torch.stack([total.detach(), reg_mean, det_mean]) * n
        scaled = total * (ctx.world_size * n / batch)
    else:
        stats = torch.zeros(3, device=j.device)
        zero = sum(t.sum() for t in losses.trained_outputs(out)) * 0.0
        assert isinstance(zero, torch.Tensor)  # a task has a weight > 0 (check_ranges)
        scaled = zero
    distributed.all_reduce_sum(stats, ctx)
    return scaled, stats / batch


def _seed_rank(seed: int, epoch: int, ctx: distributed.Context) -> None:
    """Ranks other than 0 draw their dropout masks from their own torch stream (rank 0 keeps
    the single-process one): equal streams would give equal masks to every rank's i-th example."""
    if ctx.enabled and not ctx.is_main:
        torch.manual_seed(int(np.random.SeedSequence([seed, epoch, ctx.rank]).generate_state(1)[0]))


@dataclass
class _EpochProgress:
    """An epoch's running sums, the state a mid-epoch checkpoint saves."""

    epoch: int
    step: int = 0  # steps done in this epoch
    seen: int = 0  # visits done in this epoch
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # loss, reg, det x batch
    seconds: float = 0.0  # training seconds spent in this epoch so far

    def state(self) -> dict[str, Any]:
        rng: dict[str, torch.Tensor | list[torch.Tensor]] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "epoch": self.epoch,
            "step": self.step,
            "seen": self.seen,
            "sums": list(self.sums),
            "seconds": self.seconds,
            "rng": rng,
        }

    @classmethod
    def restore(cls, saved: dict[str, Any]) -> _EpochProgress:
        torch.set_rng_state(saved["rng"]["torch"])
        if "cuda" in saved["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(saved["rng"]["cuda"])
        return cls(
            int(saved["epoch"]),
            int(saved["step"]),
            int(saved["seen"]),
            [float(v) for v in saved["sums"]],
            float(saved["seconds"]),
        )


class _StopNow(Exception):
    """Internal: the time budget or step limit was reached inside an epoch."""


def train(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    init_from: Path | None = None,
    source: DataSource | None = None,
    train_set: TrainSet | None = None,
    test_sets: dict[str, HeldOutSet] | None = None,
    validation_sets: dict[str, HeldOutSet] | None = None,
    stop_after_epochs: int | None = None,
    time_budget_s: float | None = None,
    stop_after_steps: int | None = None,
    compile_model: bool = False,
    readback_every: int = READBACK_EVERY,
    checkpoint_minutes: float | None = CHECKPOINT_MINUTES,
) -> TrainResult:
    """Train one stage of ``cfg`` into ``run_dir`` (checkpoint, history, config).

    resume: continue from run_dir/last.pt (its config must match ``cfg``), at an epoch's end
    or inside an epoch.
    init_from: start from the weights of another run's checkpoint (fine-tuning, paper 4.2).
    stop_after_epochs: finish this call after that many epochs; time_budget_s: after the first
    loss readback past that many seconds (a mid-epoch checkpoint); stop_after_steps: after that
    many steps (tests). The run stays resumable (``TrainResult.finished`` is False).
    compile_model: train through ``torch.compile`` (measure it with ``hmlpe bench`` first).
    source: where the datasets are read (``hmlpe.data.source``; None: ``DataSource.resolve()``,
    the defaults, when a set must be loaded); the run record names it.
    train_set / test_sets / validation_sets: sets to use instead of loading them.

    Started by torchrun with several ranks, every rank calls this and they train one run
    data-parallel (module docstring); a checkpoint resumes with any number of ranks.
    """
    if readback_every < 1:
        raise ValueError(f"readback_every must be >= 1, got {readback_every}")
    # every value in range, the options consistent, the folder writable: before any work
    if resume and init_from is not None:
        raise UsageError(
            "--resume and --init (resume, init_from) are exclusive: a resumed run has its own "
            "weights"
        )
    check_ranges(cfg)
    check_output_folder(run_dir)
    if (Path(run_dir) / CHECKPOINT_NAME).exists() and not resume:
        raise RunFolderError(
            f"run folder {run_dir} already holds a checkpoint; pass resume (--resume) to "
            "continue it, or choose another output folder"
        )
    with distributed.session(cfg.device) as ctx:
        # one writer per run folder (rank 0 writes for all ranks); rank 0's progress bars only
        with RunLock(run_dir, "training") if ctx.is_main else progress_set_to(False):
            if ctx.is_main:
                clear_temporaries(run_dir)  # a killed write's leftovers: ours, as we hold the lock
            return _Stage(cfg, Path(run_dir), ctx, source).run(
                resume=resume,
                init_from=init_from,
                train_set=train_set,
                test_sets=test_sets,
                validation_sets=validation_sets,
                stop_after_epochs=stop_after_epochs,
                time_budget_s=time_budget_s,
                stop_after_steps=stop_after_steps,
                compile_model=compile_model,
                readback_every=readback_every,
                checkpoint_minutes=checkpoint_minutes,
            )


class _Stage:
    """One training stage: loading (``_load``), model and state (``_start``), the epoch loop
    (``_train_epoch``), held-out evaluation (``_evaluate``) and writing (``_save``)."""

    def __init__(
        self, cfg: TrainConfig, run_dir: Path, ctx: distributed.Context, source: DataSource | None
    ):
        self.cfg, self.run_dir, self.ctx = cfg, run_dir, ctx
        self._source = source
        self.ckpt_path = run_dir / CHECKPOINT_NAME
        self.spec = select_device(cfg.device)
        self.commit = git_commit()  # the code does not change during a run: ask git once
        self.device = self.spec.description + (f"; {ctx.describe()}" if ctx.enabled else "")

    # -- setup -------------------------------------------------------------------------
    @property
    def source(self) -> DataSource:
        """The data source, resolved by default only when a set must be loaded."""
        if self._source is None:
            self._source = DataSource.resolve()
        return self._source

    def _load(self, train_set, test_sets, validation_sets) -> None:
        cfg, ctx = self.cfg, self.ctx
        with distributed.main_first(ctx):  # rank 0 fills the crop cache, the others read it
            if train_set is None:
                train_set = load_train_set(cfg, self.source)
            if ctx.is_main:  # the held-out errors are rank 0's alone
                if test_sets is None:
                    test_sets = {
                        name: load_test_set(name, cfg, self.source) for name in cfg.test_sets
                    }
                if validation_sets is None:
                    validation_sets = (
                        {
                            name: load_validation_set(name, cfg, self.source)
                            for name in _validation_names(cfg)
                        }
                        if cfg.data.holdout_validation
                        else {}
                    )
            else:
                test_sets, validation_sets = {}, {}
        if len(train_set.images) == 0:
            raise ConfigError(
                f"stage.dataset={cfg.stage.dataset}: its training set is empty "
                f"(data.pool={list(cfg.data.pool)}, data.max_train_examples="
                f"{cfg.data.max_train_examples})"
            )
        self.train_set = train_set
        self.n = len(train_set.images)
        self.pool = DevicePool(
            train_set.images,
            train_set.joints,
            self.spec.device,
            out=cfg.crop.input_size,
            labels=cfg.labels,
            channels_last=self.spec.channels_last,
        )
        sets = {f"test_{k}": v for k, v in test_sets.items()}
        sets.update({f"val_{k}": v for k, v in validation_sets.items()})
        self.heldout = HeldOutEvaluator(sets, cfg, self.spec) if ctx.is_main else None
        self.probe = probe_crops(train_set, cfg, self.spec) if ctx.is_main else None

    def _start(self, resume: bool, init_from: Path | None, compile_model: bool) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg, self.spec)
        self.optimizer = build_optimizer(cfg, self.model)
        self.history: list[dict[str, Any]] = []
        self.start_epoch, self.partial = 1, None
        if resume:
            state = load_checkpoint(self.ckpt_path)
            check_same_config(state, cfg, self.ckpt_path)
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.history = list(state.get("history", []))
            self.start_epoch = int(state["epoch"]) + 1
            self.partial = state.get("partial")
        elif init_from is not None:
            _, init_cfg, _, state = load_model(Path(init_from), "cpu")
            if architecture(init_cfg) != architecture(cfg):
                raise CheckpointError(
                    f"checkpoint {init_from} has another architecture "
                    f"({architecture(init_cfg)}) than this run ({architecture(cfg)})"
                )
            self.model.load_state_dict(state["model"])
        self.init_from = init_from
        self.net = _data_parallel(self.model, cfg, self.spec, self.ctx)
        self.forward = torch.compile(self.net) if compile_model else self.net
        if self.ctx.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_run_record(
                self.run_dir,
                cfg,
                device=self.device,
                init_from=str(init_from) if init_from else None,
                git_commit=self.commit,
                created=now_utc(),
                train_examples=self.n,
                passes_per_epoch=cfg.stage.passes_per_epoch,
                visits_per_epoch=cfg.stage.passes_per_epoch * self.n,
                visits_total=cfg.stage.visits(self.n),
                compiled=compile_model,
                train_fingerprint=self.train_set.fingerprint,
                **(self._source.provenance() if self._source is not None else {}),
            )

    # -- the loop ------------------------------------------------------------------------
    def run(
        self,
        *,
        resume,
        init_from,
        train_set,
        test_sets,
        validation_sets,
        stop_after_epochs,
        time_budget_s,
        stop_after_steps,
        compile_model,
        readback_every,
        checkpoint_minutes,
    ) -> TrainResult:
        t0 = time.perf_counter()
        _ = self.cfg.stage.passes_per_epoch  # an unknown epoch unit fails before any work
        self._load(train_set, test_sets, validation_sets)
        self._start(resume, init_from, compile_model)
        self.readback_every = readback_every
        self.spe = steps_per_epoch(self.cfg, self.n)
        self.total_steps = self.spe * self.cfg.stage.epochs
        self.deadline = None if time_budget_s is None else t0 + time_budget_s
        self.steps_left = stop_after_steps
        self.checkpoint_s = None if checkpoint_minutes is None else 60.0 * checkpoint_minutes
        last_epoch = self.cfg.stage.epochs
        if stop_after_epochs is not None:
            last_epoch = min(last_epoch, self.start_epoch - 1 + stop_after_epochs)
        finished = True
        for epoch in range(self.start_epoch, last_epoch + 1):
            progress = (
                _EpochProgress.restore(self.partial)
                if self.partial and int(self.partial["epoch"]) == epoch
                else None
            )
            self.partial = None
            try:
                self._train_epoch(epoch, progress)
            except _StopNow:
                finished = False
                break
        if finished and last_epoch < self.cfg.stage.epochs:
            finished = False
        return TrainResult(
            self.run_dir, self.ckpt_path, self.history, time.perf_counter() - t0, finished
        )

    def _train_epoch(self, epoch: int, progress: _EpochProgress | None) -> None:
        cfg, ctx, pool = self.cfg, self.ctx, self.pool
        if progress is None:
            _seed_epoch(cfg.seed, epoch)
            _seed_rank(cfg.seed, epoch, ctx)
            progress = _EpochProgress(epoch)
        elif ctx.enabled and not ctx.is_main:  # rank 0's saved stream restored: draw apart again
            torch.manual_seed(
                int(
                    np.random.SeedSequence(
                        [cfg.seed, epoch, ctx.rank, progress.step]
                    ).generate_state(1)[0]
                )
            )
        plan = epoch_plan(
            self.n,
            cfg.stage.passes_per_epoch,
            cfg.seed,
            epoch,
            pool.height,
            pool.width,
            cfg.crop.input_size,
            cfg.augment,
        )
        pool.set_plan(plan)
        bs = cfg.optim.batch_size
        self.net.train()
        sums = torch.tensor(progress.sums, dtype=torch.float64, device=self.spec.device)
        totals = torch.zeros(self.readback_every, dtype=torch.float32, device=self.spec.device)
        pending = 0  # steps since the last readback
        bar = progress_bar(
            total=self.spe,
            initial=progress.step,
            desc=f"{cfg.stage.dataset} epoch {epoch}/{cfg.stage.epochs}",
        )
        t_start = time.perf_counter()
        last_ckpt = t_start
        try:
            for step in range(progress.step, self.spe):
                start, stop = step * bs, min((step + 1) * bs, len(plan))
                lr = learning_rate(cfg, (epoch - 1) * self.spe + step, self.total_steps)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                stats = self._step(start, stop)
                sums += stats.double() * (stop - start)
                totals[pending] = stats[0]
                pending += 1
                progress.step, progress.seen = step + 1, progress.seen + (stop - start)
                bar.update(1)
                if self.steps_left is not None:
                    self.steps_left -= 1
                done = progress.step == self.spe
                if pending < self.readback_every and not done and self.steps_left != 0:
                    continue
                self._readback(totals, pending, epoch, progress.step)
                progress.sums = sums.tolist()
                pending = 0
                bar.set_postfix(loss=f"{progress.sums[0] / progress.seen:.3f}")
                if done:
                    break
                now = time.perf_counter()
                out_of_time = (
                    self.deadline is not None and now >= self.deadline
                ) or self.steps_left == 0
                if out_of_time or (
                    self.checkpoint_s is not None and now - last_ckpt >= self.checkpoint_s
                ):
                    progress.seconds += now - t_start
                    t_start = last_ckpt = now
                    self._save(epoch - 1, progress)
                    if out_of_time:
                        raise _StopNow
        finally:
            bar.close()
        progress.seconds += time.perf_counter() - t_start
        self._end_epoch(epoch, progress, lr)

    def _step(self, start: int, stop: int) -> torch.Tensor:
        """One optimisation step on plan visits ``start:stop``; the batch's (total, regression,
        detection) mean losses as a device tensor (no host sync)."""
        cfg, ctx = self.cfg, self.ctx
        if ctx.enabled:
            part = distributed.shard(stop - start, ctx)
            x, j, p = self.pool.batch(start + part.start, start + part.stop)
            if len(x) == 0:  # an empty shard: a dummy image keeps this rank in the all-reduce
                x = x.new_zeros((1, *x.shape[1:]))
        else:
            x, j, p = self.pool.batch(start, stop)
        with autocast(self.spec):
            out = self.forward(x)
        # Losses in fp32 whatever the autocast dtype of the forward pass.
        if ctx.enabled:
            loss, stats = _shard_loss(out, j, p, cfg, ctx, stop - start)
        else:
            terms = losses.training_loss(out, j, p, cfg)
            loss, stats = (
                terms.total,
                torch.stack([terms.total.detach(), terms.regression, terms.detection]),
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.optim.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.optim.grad_clip)
        self.optimizer.step()
        return stats

    def _readback(self, totals: torch.Tensor, pending: int, epoch: int, step_done: int) -> None:
        """One host sync: raise NonFiniteLossError at the first non-finite loss of the last
        ``pending`` steps (the global batch's loss: every rank stops alike)."""
        values = totals[:pending].tolist()
        bad = [k for k, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            step = step_done - pending + bad[0] + 1
            where = self.ckpt_path if self.ckpt_path.exists() else "none (first epoch)"
            raise NonFiniteLossError(
                f"non-finite loss ({values[bad[0]]}) at epoch {epoch}, step {step}; stopped, "
                f"the last good checkpoint is {where}",
                epoch=epoch,
                step=step,
            )

    def _end_epoch(self, epoch: int, progress: _EpochProgress, lr: float) -> None:
        cfg, ctx = self.cfg, self.ctx
        seen = progress.seen
        row: dict[str, Any] = {
            "epoch": epoch,
            "lr": lr,
            "visits": epoch * cfg.stage.passes_per_epoch * self.n,
            "train_loss": progress.sums[0] / seen,
            "train_regression": progress.sums[1] / seen,
            "train_detection": progress.sums[2] / seen,
            "train_seconds": round(progress.seconds, 3),
            "images_per_second": round(seen / max(progress.seconds, 1e-9), 1),
        }
        if (
            ctx.is_main
            and cfg.eval_every
            and (epoch % cfg.eval_every == 0 or epoch == cfg.stage.epochs)
        ):
            row.update(self._evaluate(final=epoch == cfg.stage.epochs))
        self.history.append(row)
        self._save(epoch, None)
        if (
            ctx.enabled
        ):  # rank 0's row (held-out errors); no rank goes on before the checkpoint is written
            self.history[-1] = distributed.broadcast(row, ctx)

    def _evaluate(self, final: bool) -> dict[str, Any]:
        """Held-out errors (test and validation), the dead-map shares and, at the stage's end,
        the dropout check on the validation split (both HMLPE's network only: the heatmap
        network has no conv1-conv3 and no dropout)."""
        assert self.heldout is not None  # rank 0's alone, and only rank 0 evaluates
        row = self.heldout.errors(self.model)
        if self.cfg.network != "hmlpe":
            return row
        model = self.model
        assert isinstance(model, HMLPENet) and self.probe is not None
        row.update(
            {f"dead_maps_{k}": v for k, v in dead_map_shares(model, self.probe, self.spec).items()}
        )
        if final:
            row.update(self.heldout.dropout_check(model, prefix="val_"))
        return row

    def _save(self, epochs_done: int, progress: _EpochProgress | None) -> None:
        """The checkpoint (after ``epochs_done`` whole epochs, plus ``progress`` inside the next
        one) and the history; rank 0 only."""
        if not self.ctx.is_main:
            return
        cfg = self.cfg
        state = {
            "config": asdict(cfg),
            "epoch": epochs_done,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "partial": None if progress is None else progress.state(),
            "history": self.history,
            "git_commit": self.commit,
            "created": now_utc(),
            "device": self.device,
            "init_from": str(self.init_from) if self.init_from else None,
            "data": {
                "train_examples": self.n,
                "train_fingerprint": self.train_set.fingerprint,
                "visits_done": (
                    epochs_done * cfg.stage.passes_per_epoch * self.n
                    + (progress.seen if progress else 0)
                ),
            },
        }
        save_checkpoint(self.ckpt_path, state)
        write_history(self.run_dir, self.history)


def _validation_names(cfg: TrainConfig) -> tuple[str, ...]:
    """The validation sets of a stage: the pool's datasets for pre-training, else the stage's."""
    if cfg.stage.dataset == "pool":
        return tuple(d for d in VALIDATION_DATASETS if d in cfg.data.pool)
    return (cfg.stage.dataset,)


def heldout_errors(
    model: HMLPENet, test: HeldOutSet, cfg: TrainConfig, spec: DeviceSpec, batch_size: int = 256
) -> dict[str, float]:
    """Mean eq. 1 and eq. 3 errors of ``model`` on the usable crops of one held-out set."""
    errs = HeldOutEvaluator({"set_x": test}, cfg, spec, batch_size).errors(model)
    return {
        "regression": errs["set_regression"],
        "detection": errs["set_detection"],
        "examples": HeldOutEvaluator.usable_count(test, cfg),
    }


def write_history(run_dir: Path, history: list[dict[str, Any]]) -> None:
    """history.jsonl (one JSON object per epoch) and history.csv, each rewritten atomically."""
    import json

    import pandas as pd

    atomic_write_text(run_dir / HISTORY_NAME, "".join(json.dumps(r) + "\n" for r in history))
    atomic_write_text(run_dir / HISTORY_CSV_NAME, pd.DataFrame(history).to_csv(index=False))
