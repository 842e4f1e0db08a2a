"""What training measures besides its loss, on the training device: held-out errors of eq. 1
and eq. 3 (test and validation sets), the share of dead conv maps, and the dropout check.

* ``HeldOutEvaluator``: the held-out crops, targets and eq. 2 maps put on the device once; each
  evaluation is a few forward passes and one readback per set.
* ``dead_map_shares``: the share of each conv layer's maps whose ReLU output is 0 at every
  position of every image of a fixed sample of training crops ("never active"; a dead map
  passes no gradient to its filter, so it stays dead).
* ``HeldOutEvaluator.dropout_check``: eq. 1 of the mean of 16 dropout-on predictions. Dropout's
  weight-scaling rule (eval mode, paper 3.5's "multiplied by 0.5") equals the mean over masks
  only for a layer followed by linear units; ReLU and tanh layers follow the dropped one here,
  so the two can differ, and a recipe whose eval-mode error is far above the mean's shifts its
  outputs at test time (reading notes).
"""

from __future__ import annotations

import numpy as np
import torch

from hmlpe.config import TrainConfig
from hmlpe.data import labels
from hmlpe.data.pipeline import HeldOutSet, TrainSet
from hmlpe.engine.device import DeviceSpec, autocast
from hmlpe.network import losses
from hmlpe.network.model import HMLPENet, PoseNet, to_input

PROBE_CROPS = 512  # training crops of the dead-map count
DROPOUT_PASSES = 16


class HeldOutEvaluator:
    """Eq. 1 and eq. 3 errors of a model on held-out sets named ``<part>_<dataset>``
    (``{"test_buffy": set, "val_flic": set, ...}``); keys of the result:
    ``<part>_regression_<dataset>``, ``<part>_detection_<dataset>`` per set, and per part the
    mean over all its examples, ``<part>_regression`` and ``<part>_detection`` (Figure 5's
    pooled test errors)."""

    def __init__(
        self, sets: dict[str, HeldOutSet], cfg: TrainConfig, spec: DeviceSpec, batch_size: int = 256
    ):
        self.cfg, self.spec, self.batch_size = cfg, spec, batch_size
        self.sets: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        for name, held in sets.items():
            keep = self.kept(held, cfg)
            joints = held.joints[keep]
            maps = labels.labels_from_joints(joints, cfg.labels)
            dev = spec.device
            self.sets[name] = (
                torch.from_numpy(np.ascontiguousarray(held.images[keep])).to(dev),
                torch.as_tensor(joints / cfg.crop.input_size, dtype=torch.float32).to(dev),
                torch.as_tensor(maps, dtype=torch.float32).to(dev),
            )

    @staticmethod
    def kept(held: HeldOutSet, cfg: TrainConfig) -> np.ndarray:
        keep = np.flatnonzero(held.usable)
        return keep if cfg.max_test_examples is None else keep[: cfg.max_test_examples]

    @classmethod
    def usable_count(cls, held: HeldOutSet, cfg: TrainConfig) -> int:
        return len(cls.kept(held, cfg))

    def _batches(self, name: str):
        images, joints, maps = self.sets[name]
        for start in range(0, len(images), self.batch_size):
            sl = slice(start, start + self.batch_size)
            x = to_input(images[sl], channels_last=self.spec.channels_last)
            yield x, joints[sl], maps[sl]

    @torch.no_grad()
    def errors(self, model: PoseNet) -> dict[str, float]:
        model.eval()
        sums = {}
        for name in self.sets:
            acc = torch.zeros(2, dtype=torch.float64, device=self.spec.device)
            for x, j, p in self._batches(name):
                with autocast(self.spec):
                    out = model(x)
                detection = (
                    losses.detection_loss(out.part_logits.float(), p, "mean").sum()
                    if out.part_logits is not None
                    else torch.full((), float("nan"), device=j.device)  # a heatmap network
                )
                acc += torch.stack(
                    [losses.regression_loss(out.joints.float(), j).sum(), detection]
                ).double()
            sums[name] = (acc.tolist(), len(self.sets[name][0]))
        return _with_pooled(sums, ("regression", "detection"))

    @torch.no_grad()
    def dropout_check(
        self, model: HMLPENet, prefix: str = "val_", passes: int = DROPOUT_PASSES
    ) -> dict[str, float]:
        """``<part>_regression_mc16_<dataset>``: eq. 1 of the mean joints of ``passes`` forward
        passes with dropout on, for the sets whose name starts with ``prefix``, and pooled,
        ``<part>_regression_mc16``; eval mode's value is ``errors``' ``<part>_regression_<dataset>``."""
        names = [n for n in self.sets if n.startswith(prefix)]
        if not names:
            return {}
        was_training = model.training
        model.train()  # dropout only: the network has no batch statistics
        sums = {}
        try:
            for name in names:
                acc = torch.zeros(1, dtype=torch.float64, device=self.spec.device)
                for x, j, _ in self._batches(name):
                    mean = torch.zeros_like(j)
                    for _ in range(passes):
                        with autocast(self.spec):
                            mean += model(x).joints.float()
                    acc += losses.regression_loss(mean / passes, j).sum().double()
                sums[name] = (acc.tolist(), len(self.sets[name][0]))
        finally:
            model.train(was_training)
        return _with_pooled(sums, (f"regression_mc{passes}",))


def _with_pooled(
    sums: dict[str, tuple[list[float], int]], keys: tuple[str, ...]
) -> dict[str, float]:
    out: dict[str, float] = {}
    pooled: dict[str, list] = {}
    for name, (values, n) in sums.items():
        prefix, _, dataset = name.partition("_")
        tot = pooled.setdefault(prefix, [np.zeros(len(keys)), 0])
        tot[0] += np.asarray(values)
        tot[1] += n
        for key, v in zip(keys, values):
            out[f"{prefix}_{key}_{dataset}"] = v / max(n, 1)
    for prefix, (values, n) in pooled.items():
        if n:
            for key, v in zip(keys, values):
                out[f"{prefix}_{key}"] = float(v) / n
    return out


def probe_crops(
    train: TrainSet, cfg: TrainConfig, spec: DeviceSpec, count: int = PROBE_CROPS
) -> torch.Tensor:
    """A fixed sample (the same for every seed and run of a training set) of ``count`` centre
    ``input_size`` crops of the training crops, uint8 on the device."""
    n = len(train.images)
    idx = np.sort(np.random.default_rng(12345).permutation(n)[: min(count, n)])
    big, small = train.images.shape[1], cfg.crop.input_size
    o = (big - small) // 2
    crops = np.ascontiguousarray(train.images[idx, o : o + small, o : o + small])
    return torch.from_numpy(crops).to(spec.device)


@torch.no_grad()
def dead_map_shares(
    model: HMLPENet, crops: torch.Tensor, spec: DeviceSpec, batch_size: int = 128
) -> dict[str, float]:
    """Share of the maps of conv1, conv2 and conv3 that are 0 (after their ReLU) at every
    position of every crop in ``crops`` (uint8 (N, H, W, 3))."""
    was_training = model.training
    model.eval()
    points = ("conv1", "conv2", "conv3")
    peak: dict[str, torch.Tensor] = {}
    try:
        for start in range(0, len(crops), batch_size):
            x = to_input(crops[start : start + batch_size], channels_last=spec.channels_last)
            with autocast(spec):
                maps = model.feature_maps(x, points)
            for k, m in maps.items():
                top = m.float().amax(dim=(0, 2, 3))
                peak[k] = top if k not in peak else torch.maximum(peak[k], top)
    finally:
        model.train(was_training)
    return {k: float((v <= 0).double().mean()) for k, v in peak.items()}


def dead_map_counts(shares: dict[str, float], model: HMLPENet) -> dict[str, int]:
    """The shares of ``dead_map_shares`` as numbers of maps."""
    channels = dict(zip(("conv1", "conv2", "conv3"), model.cfg.conv_channels))
    return {k: int(round(v * channels[k])) for k, v in shares.items()}
