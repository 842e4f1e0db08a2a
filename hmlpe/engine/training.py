"""Training by eq. 4 with back-propagation (paper 3.5), resumable and deterministic on CPU.

Choices the paper leaves open (written here once):
- Augmentation: each epoch visits every training image once, with a fresh random 112x112
  crop of its 128x128 box and a mirror with probability 0.5 (the paper draws a fixed set of
  16 crops x 2 mirrors per image; over 32 epochs both see the same amount of variation).
- Random streams are derived from (seed, epoch): a resumed run draws exactly what an
  uninterrupted one would, so 2 epochs == 1 epoch + resume + 1 epoch.
- "Training error" per epoch is the running mean over that epoch's batches (train mode,
  dropout on); "test error" is measured in eval mode on the test crops of ``test_sets``.
  Regression error: eq. 1 summed over the 8 joints, mean over examples, in crop-normalised
  units (the per-image regression cost of eq. 4; Table 3's magnitudes, e.g. test 0.131, fit
  this sum and not a per-joint mean); detection error: mean over examples, parts and windows
  of eq. 3 (an untrained 0.5 output gives ln 2 = 0.693, Table 3's value for lambda_d = 0).
- Checkpoints are written at the end of every epoch only, so the last checkpoint always
  holds a finished epoch (a killed or failed run keeps the last good one).
- Data parallel (``torchrun --nproc_per_node N -m hmlpe train ...``; ``distributed``): every
  rank draws the same (seed, epoch) streams, so the same permutation and the augmentation's
  random values of each whole global batch, and crops only its shard of that batch; the
  global batch size and learning rate are the config's whatever the number of ranks. DDP
  averages the ranks' gradients; each rank scales its shard's mean loss by
  ``world_size * shard / batch``, so the average is the gradient of the global batch's mean
  loss, as one process computes it (uneven last batches included). Rank 0 alone evaluates the
  test errors, writes config, checkpoint and history, and broadcasts each epoch's row. Dropout
  masks are drawn per rank (rank 0 with the single-process seed), so only a dropout-free
  network trains to the same weights as one process (within float tolerance; tested).
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hmlpe.config import TrainConfig
from hmlpe.data import augment, labels
from hmlpe.data.pipeline import HeldOutSet, TrainSet, load_test_set, load_train_set
from hmlpe.engine import distributed
from hmlpe.engine.checkpoint import (CheckpointError, build_model, check_same_config, load_checkpoint,
                                    load_model, save_checkpoint)
from hmlpe.engine.device import DeviceSpec, autocast, select_device
from hmlpe.engine.layout import CHECKPOINT_NAME, CONFIG_NAME, HISTORY_CSV_NAME, HISTORY_NAME
from hmlpe.network import losses
from hmlpe.network.model import HMLPENet, HMLPEOutput, to_input
from hmlpe.progress import progress_bar
from hmlpe.provenance import atomic_write_json, atomic_write_text, git_commit, now_utc



class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; training stopped, the last good checkpoint is kept.
    ``epoch`` (1-based) and ``step`` (1-based, within the epoch) say where."""

    def __init__(self, message: str, *, epoch: int, step: int):
        super().__init__(message)
        self.epoch = epoch
        self.step = step


@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    history: list[dict[str, Any]]
    seconds: float


def learning_rate(cfg: TrainConfig, epoch: int) -> float:
    """Step schedule: base rate x stage scale, times lr_decay for each milestone (a fraction
    of the stage's epochs) that has passed when ``epoch`` (1-based) starts."""
    o = cfg.optim
    passed = sum(1 for frac in o.lr_decay_at if epoch - 1 >= frac * cfg.stage.epochs)
    return o.lr * cfg.stage.lr_scale * (o.lr_decay ** passed)


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    o = cfg.optim
    if o.name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=o.lr, momentum=o.momentum,
                               weight_decay=o.weight_decay)
    if o.name == "adam":
        return torch.optim.AdamW(model.parameters(), lr=o.lr, betas=(o.momentum, 0.999),
                                 weight_decay=o.weight_decay)
    raise ValueError(f"unknown optimiser {o.name!r} in optim.name; choose sgd or adam")


def _seed_everything(seed: int, epoch: int) -> np.random.Generator:
    torch.manual_seed(seed * 100_003 + epoch)
    random.seed(seed * 100_003 + epoch)
    return np.random.default_rng([seed, epoch])


def make_batch(train: TrainSet, idx: np.ndarray, rng: np.random.Generator, cfg: TrainConfig,
               shard: slice | None = None):
    """Random crops, mirrors, normalised joint targets and part indicator maps of one batch.
    With ``shard``, only that part of the batch, cropped with its share of the random values
    drawn for the whole batch (a data-parallel rank's share: ``rng`` advances as for the whole
    batch, and the shards' union is exactly the whole batch)."""
    aug = cfg.augment
    height, width = train.images.shape[1:3]
    draw = augment.draw_augmentation(
        len(idx), height, width, rng, out=cfg.crop.input_size, mirror_prob=aug.mirror_prob,
        rotation_deg=aug.rotation_deg, scale_jitter=aug.scale_jitter)
    if shard is not None:
        idx, draw = idx[shard], draw[shard]
    images, joints = augment.apply_augmentation(train.images[idx], train.joints[idx], draw,
                                                out=cfg.crop.input_size)
    part_maps = labels.labels_from_joints(joints, cfg.labels)
    return images, joints / cfg.crop.input_size, part_maps


def _to_device(spec: DeviceSpec, images, joints, part_maps):
    x = to_input(images, channels_last=spec.channels_last).to(spec.device, non_blocking=True)
    j = torch.as_tensor(joints, dtype=torch.float32).to(spec.device, non_blocking=True)
    p = torch.as_tensor(part_maps, dtype=torch.float32).to(spec.device, non_blocking=True)
    return x, j, p


@torch.no_grad()
def heldout_errors(model: HMLPENet, test: HeldOutSet, cfg: TrainConfig, spec: DeviceSpec,
                   batch_size: int = 256) -> dict[str, float]:
    """Mean eq. 1 and eq. 3 errors of ``model`` on the usable test crops of one test set."""
    model.eval()
    keep = np.flatnonzero(test.usable)
    if cfg.max_test_examples is not None:
        keep = keep[: cfg.max_test_examples]
    reg_sum = det_sum = 0.0
    for start in range(0, len(keep), batch_size):
        idx = keep[start:start + batch_size]
        joints = test.joints[idx]
        part_maps = labels.labels_from_joints(joints, cfg.labels)
        x, j, p = _to_device(spec, test.images[idx], joints / cfg.crop.input_size, part_maps)
        with autocast(spec):
            out = model(x)
        reg_sum += losses.regression_loss(out.joints.float(), j).sum().item()
        det_sum += losses.detection_loss(out.part_logits.float(), p, "mean").sum().item()
    n = max(len(keep), 1)
    return {"regression": reg_sum / n,
            "detection": det_sum / n,
            "examples": len(keep)}


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
        return HMLPEOutput(out.joints.detach() if self.detach_joints else out.joints,
                           out.part_logits.detach() if self.detach_logits else out.part_logits)


def _data_parallel(model: HMLPENet, cfg: TrainConfig, spec: DeviceSpec,
                   ctx: distributed.Context) -> torch.nn.Module:
    """The module a training step calls: the model itself in one process, else DDP around it."""
    if not ctx.enabled:
        return model
    unused_r, unused_d = cfg.loss.lambda_r == 0, cfg.loss.lambda_d == 0
    return torch.nn.parallel.DistributedDataParallel(
        _TrainingForward(model, unused_r, unused_d),
        device_ids=[ctx.local_rank] if spec.device.type == "cuda" else None,
        find_unused_parameters=unused_r or unused_d)


def _shard_loss(out: HMLPEOutput, j: torch.Tensor, p: torch.Tensor, cfg: TrainConfig,
                ctx: distributed.Context, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A data-parallel step's loss to back-propagate on this rank, and the global batch's mean
    (total, regression, detection) losses, the same on every rank (one small all-reduce).

    DDP averages gradients over the ranks: the shard's mean loss times
    ``world_size * shard / batch`` makes that average the gradient of the whole batch's mean.
    An empty shard (a last batch shorter than the world) back-propagates zero, so that its rank
    still joins the gradient all-reduce."""
    n = len(j)
    if n:
        total, reg_mean, det_mean = losses.total_loss(
            (out.joints.float(), out.part_logits.float()), (j, p), cfg.loss)
        stats = torch.stack([total.detach(), reg_mean, det_mean]) * n
        scaled = total * (ctx.world_size * n / batch)
    else:
        stats = torch.zeros(3, device=j.device)
        scaled = sum(t.sum() for t in out if t.requires_grad) * 0.0
    distributed.all_reduce_sum(stats, ctx)
    return scaled, stats / batch


def _seed_rank(seed: int, epoch: int, ctx: distributed.Context) -> None:
    """Ranks other than 0 draw their dropout masks from their own torch stream (rank 0 keeps
    the single-process one): equal streams would give equal masks to every rank's i-th example."""
    if ctx.enabled and not ctx.is_main:
        torch.manual_seed(int(np.random.SeedSequence([seed, epoch, ctx.rank]).generate_state(1)[0]))


def train(cfg: TrainConfig, run_dir: Path, *, resume: bool = False, init_from: Path | None = None,
          train_set: TrainSet | None = None, test_sets: dict[str, HeldOutSet] | None = None,
          progress: bool | None = None, stop_after_epochs: int | None = None) -> TrainResult:
    """Train one stage of ``cfg`` into ``run_dir`` (checkpoint, history, config).

    resume: continue from run_dir/last.pt (its config must match ``cfg``).
    init_from: start from the weights of another run's checkpoint (fine-tuning, paper 4.2).
    stop_after_epochs: finish this call after that many epochs (the run stays resumable:
    time-boxed sessions run part of a schedule now and ``resume`` later).

    Started by torchrun with several ranks, every rank calls this and they train one run
    data-parallel (module docstring); a checkpoint resumes with any number of ranks.
    """
    with distributed.session(cfg.device) as ctx:
        return _train(cfg, Path(run_dir), ctx, resume=resume, init_from=init_from,
                      train_set=train_set, test_sets=test_sets, progress=progress,
                      stop_after_epochs=stop_after_epochs)


def _train(cfg: TrainConfig, run_dir: Path, ctx: distributed.Context, *, resume: bool,
           init_from: Path | None, train_set: TrainSet | None,
           test_sets: dict[str, HeldOutSet] | None, progress: bool | None,
           stop_after_epochs: int | None) -> TrainResult:
    ckpt_path = run_dir / CHECKPOINT_NAME
    if ckpt_path.exists() and not resume:
        raise FileExistsError(f"run folder {run_dir} already holds a checkpoint; pass resume "
                              "(--resume) to continue it, or choose another output folder")
    if resume and init_from is not None:
        raise ValueError("resume and init_from are exclusive: a resumed run has its own weights")
    spec = select_device(cfg.device)
    t0 = time.perf_counter()
    if not ctx.is_main:
        progress = False
    with distributed.main_first(ctx):   # rank 0 fills the crop cache, the others read it
        if train_set is None:
            train_set = load_train_set(cfg, progress=progress)
        if test_sets is None:   # the test errors are rank 0's alone
            test_sets = ({name: load_test_set(name, cfg, progress=progress)
                          for name in cfg.test_sets} if ctx.is_main else {})
    if len(train_set.images) == 0:
        raise ValueError(f"training set {cfg.stage.dataset!r} is empty")

    torch.manual_seed(cfg.seed)
    model = build_model(cfg, spec)
    optimizer = build_optimizer(cfg, model)
    history: list[dict[str, Any]] = []
    start_epoch = 1
    if resume:
        state = load_checkpoint(ckpt_path)
        check_same_config(state, cfg, ckpt_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = list(state.get("history", []))
        start_epoch = int(state["epoch"]) + 1
    elif init_from is not None:
        _, init_cfg, _, state = load_model(Path(init_from), "cpu")
        if asdict(init_cfg.model) != asdict(cfg.model):
            raise CheckpointError(f"checkpoint {init_from} has another architecture "
                                  f"({init_cfg.model}) than this run ({cfg.model})")
        model.load_state_dict(state["model"])
    net = _data_parallel(model, cfg, spec, ctx)
    device = spec.description + (f"; {ctx.describe()}" if ctx.enabled else "")
    commit = git_commit()  # the code does not change during a run: ask git once
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run_dir / CONFIG_NAME, {"config": asdict(cfg), "device": device,
                                                  "init_from": str(init_from) if init_from else None,
                                                  "git_commit": commit, "created": now_utc()})

    n = len(train_set.images)
    bs = cfg.optim.batch_size
    steps_per_epoch = math.ceil(n / bs)
    last_epoch = cfg.stage.epochs
    if stop_after_epochs is not None:
        last_epoch = min(last_epoch, start_epoch - 1 + stop_after_epochs)
    for epoch in range(start_epoch, last_epoch + 1):
        rng = _seed_everything(cfg.seed, epoch)
        _seed_rank(cfg.seed, epoch, ctx)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, epoch)
        net.train()
        order = rng.permutation(n)
        sums = {"loss": 0.0, "regression": 0.0, "detection": 0.0}
        seen = 0
        epoch_t0 = time.perf_counter()
        bar = progress_bar(total=steps_per_epoch, desc=f"{cfg.stage.dataset} epoch {epoch}/{cfg.stage.epochs}",
                           enabled=progress)
        for step in range(steps_per_epoch):
            idx = order[step * bs:(step + 1) * bs]
            part = distributed.shard(len(idx), ctx) if ctx.enabled else None
            x, j, p = _to_device(spec, *make_batch(train_set, idx, rng, cfg, part))
            if len(x) == 0:   # an empty shard: a dummy image keeps this rank in the all-reduce
                x = x.new_zeros((1, *x.shape[1:]))
            with autocast(spec):
                out = net(x)
            # Losses in fp32 whatever the autocast dtype of the forward pass.
            if ctx.enabled:
                backward_loss, (total, reg_mean, det_mean) = _shard_loss(out, j, p, cfg, ctx, len(idx))
            else:
                total, reg_mean, det_mean = losses.total_loss(
                    (out.joints.float(), out.part_logits.float()), (j, p), cfg.loss)
                backward_loss = total
            if not torch.isfinite(total):   # the global batch's loss: every rank stops alike
                bar.close()
                raise NonFiniteLossError(
                    f"non-finite loss ({total.item()}) at epoch {epoch}, step {step + 1}; "
                    f"stopped, the last good checkpoint is {ckpt_path if ckpt_path.exists() else 'none (first epoch)'}",
                    epoch=epoch, step=step + 1)
            optimizer.zero_grad(set_to_none=True)
            backward_loss.backward()
            if cfg.optim.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            optimizer.step()
            b = len(idx)
            seen += b
            sums["loss"] += total.item() * b
            sums["regression"] += reg_mean.item() * b
            sums["detection"] += det_mean.item() * b
            bar.update(1)
            bar.set_postfix(loss=f"{sums['loss'] / seen:.3f}")
        bar.close()
        train_seconds = time.perf_counter() - epoch_t0
        row: dict[str, Any] = {
            "epoch": epoch, "lr": learning_rate(cfg, epoch),
            "train_loss": sums["loss"] / seen,
            "train_regression": sums["regression"] / seen,
            "train_detection": sums["detection"] / seen,
            "train_seconds": round(train_seconds, 3),
            "images_per_second": round(seen / train_seconds, 1),
        }
        if ctx.is_main and cfg.eval_every and (epoch % cfg.eval_every == 0 or epoch == cfg.stage.epochs):
            total_n = reg = det = 0.0
            for name, test in test_sets.items():
                errs = heldout_errors(model, test, cfg, spec)
                row[f"test_regression_{name}"] = errs["regression"]
                row[f"test_detection_{name}"] = errs["detection"]
                total_n += errs["examples"]
                reg += errs["regression"] * errs["examples"]
                det += errs["detection"] * errs["examples"]
            if total_n:
                # Figure 5's test errors: the average over the Buffy and FLIC test crops.
                row["test_regression"] = reg / total_n
                row["test_detection"] = det / total_n
        history.append(row)
        state = {
            "config": asdict(cfg), "epoch": epoch, "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": rng.bit_generator.state,
                    "python": random.getstate()},
            "history": history, "git_commit": commit, "created": now_utc(),
            "device": device,
            "init_from": str(init_from) if init_from else None,
            "data": {"train_examples": n, "train_fingerprint": train_set.fingerprint},
        }
        if ctx.is_main:
            save_checkpoint(ckpt_path, state)
            write_history(run_dir, history)
        if ctx.enabled:   # rank 0's row (test errors); no rank goes on before the checkpoint is written
            history[-1] = distributed.broadcast(row, ctx)
    return TrainResult(run_dir, ckpt_path, history, time.perf_counter() - t0)


def write_history(run_dir: Path, history: list[dict[str, Any]]) -> None:
    """history.jsonl (one JSON object per epoch) and history.csv, each rewritten atomically."""
    import json

    import pandas as pd
    atomic_write_text(run_dir / HISTORY_NAME, "".join(json.dumps(r) + "\n" for r in history))
    atomic_write_text(run_dir / HISTORY_CSV_NAME, pd.DataFrame(history).to_csv(index=False))
