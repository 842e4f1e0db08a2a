"""Configuration: one dataclass per concern. Every choice the paper leaves open is written here
(or in the docstring of the function that implements it), with the paper's own values marked.

Training profiles (named combinations of these) live in ``hmlpe.engine.profiles``.
"""

from __future__ import annotations

import functools
import json
import math
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from hmlpe.errors import ConfigError, UnknownNameError  # noqa: F401  (ConfigError re-exported)


@dataclass(frozen=True)
class LabelConfig:
    """Sliding-window part indicator maps, eq. 2 and section 4.2."""

    crop: int = 112  # paper: network input 112x112
    window: int = 30  # paper: 30x30 windows
    grid: int = 8  # paper: 64 windows = 8 x 8
    beta: float = 0.3  # paper: beta = 0.3
    # "uniform" (default, reproduction's choice): stride (crop - window) / (grid - 1) so the
    # 8 x 8 windows tile the crop exactly. "itheano": the first author's public code, stride 12,
    # last row/column overhanging the crop (protocol facts).
    layout: str = "uniform"


@dataclass(frozen=True)
class CropConfig:
    """Training and test crops (paper 4.1, 4.3, 4.4; box factors from protocol facts)."""

    train_size: int = 128  # paper: training box resized to 128x128
    input_size: int = 112  # paper: random 112x112 crops; test boxes resized to 112
    # Reproduction's choice: how the training box is drawn (boxes.train_box_for).
    # "test_rule": the example's own test rule applied to a window derived from the ground
    # truth (FLIC: its torso box; Buffy and LSP: the Buffy ground-truth upper-body window),
    # enlarged by train_size / input_size, so training crops frame people as test crops do.
    # "margin": the tight box around the joints plus train_margin x its larger side on every
    # side (the first rule; its people were ~1.5x larger than in the test crops).
    train_box: str = "test_rule"
    train_margin: float = 0.15
    buffy_width_scale: float = 1.7  # paper 4.3 s_width
    buffy_height_scale: float = 4.2  # paper 4.3 s_height (in half-window heights, protocol facts)
    flic_width_scale: float = 3.5  # paper 4.4 s_width
    flic_height_scale: float = 4.5  # paper 4.4 s_height
    # Reproduction's choice (boxes.torso_window): the upper-body detector's window modelled
    # from the torso stick and the shoulders for the "test_rule" training boxes of Buffy and
    # LSP; medians over the 267 matched detections of the Buffy test frames
    # (boxes.calibrate_torso_window; tests/test_boxes.py checks them against the data).
    window_width_per_size: float = 0.73
    window_top_per_size: float = 0.37
    window_aspect: float = 0.90


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation (augment.random_affine_crops). The paper's is a random 112
    crop of the 128 box and a mirror (4.1); rotation and scale jitter are the reproduction's
    additions, off by default and named by the profiles that use them."""

    mirror_prob: float = 0.5  # paper: every crop also mirrored (probability 1/2 per draw)
    rotation_deg: float = 0.0  # uniform in [-rotation_deg, +rotation_deg] about the crop centre
    scale_jitter: float = 0.0  # scale log-uniform in [1 / (1 + s), 1 + s]


@dataclass(frozen=True)
class DataConfig:
    """Which data the training pool holds and how test frames are associated. Where the files
    lie is not part of the experiment: an entry point resolves it (``hmlpe.data.source``)."""

    # Pre-training pool (paper 4.1: the training sets of all datasets; only these are here).
    pool: tuple[str, ...] = ("buffy", "lsp", "flic")
    # Buffy test association (protocol facts): "paper" (267 frames) or "buffy" (IoU > 0.5, 263).
    buffy_association: str = "paper"
    max_train_examples: int | None = None  # cap per dataset (smoke profile); None: all
    # Reproduction's choice (hmlpe.data.splits): True holds the validation split out of every
    # training set and logs held-out errors on it as well (probes, the compute curve; every
    # choice is made on it); False trains on the paper's training sets whole (reported runs).
    holdout_validation: bool = False


@dataclass(frozen=True)
class ModelConfig:
    """The network of Figure 3. The text fixes: 112x112x3 input, 3 conv + max-pool (shared),
    32 conv1 maps, ReLU, two sub-networks of 3 FC layers, dropout 0.5 on the first FC layer of
    each, tanh regression output, logistic detection output. Everything else is the
    reproduction's choice."""

    input_size: int = 112
    conv_channels: tuple[int, int, int] = (32, 32, 64)  # conv1 = 32 (Fig. 6a); others ours
    # "small filter": ours. conv2 was 5x5 first; 3x3 trains ~1.25-1.3x faster on the 2-core
    # CPU (fp32 channels_last, batch 128: ~120 against ~100 img/s best-of) with conv3's receptive
    # field 20 px instead of 24 (pool3: 24 px).
    conv_kernels: tuple[int, int, int] = (5, 3, 3)
    conv_strides: tuple[int, int, int] = (1, 1, 1)
    pool_kernel: int = 2
    pool_stride: int = 2
    fc_widths: tuple[int, int] = (512, 256)  # both sub-networks: ours
    dropout: float = 0.5  # paper 3.5
    n_joints: int = 8
    n_parts: int = 7
    grid: int = 8
    # Weight initialisation (hmlpe.network.init; the paper gives none, it refers to [14]):
    # "torch": PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and biases;
    # "krizhevsky": [14]'s N(0, 0.01) weights, biases 1 in conv2, conv3 and the hidden FC
    # layers, 0 elsewhere; "kaiming": He-normal weights for the ReLU layers, N(0, 0.001) output
    # layers, zero biases; "kaiming_trunk": He-normal convolutions, the heads as "torch".
    init: str = "torch"


@dataclass(frozen=True)
class HeatmapConfig:
    """The "Since 2014" reference network (issue 17; not the paper's): a small
    SimpleBaseline-style heatmap network, a residual encoder with BatchNorm and a deconvolution
    head, predicting one heatmap per joint (``hmlpe.network.heatmap``, targets and decoding in
    ``hmlpe.data.heatmaps``), trained when ``TrainConfig.network`` is "heatmap" (the
    ``heatmap`` profile). Every value is this reproduction's choice, sized for 2 CPU cores:
    widths 24-192 cost 0.27 GFLOPs per image (HMLPE's network: 0.17) and trained at ~236 img/s
    against HMLPE's ~318 in one side-by-side measurement (bf16 autocast, batch 32, AVX512-BF16
    EPYC, 2 threads); widths 32-256 cost 0.44 GFLOPs and ran at ~185 img/s."""

    input_size: int = 112
    stem_channels: int = 24  # 3x3, stride 2: 112 -> 56
    stage_channels: tuple[int, ...] = (24, 48, 96, 192)  # strides 1, 2, 2, 2: 56, 28, 14, 7
    deconv_channels: int = 64  # 4x4 transposed convs, stride 2
    deconv_layers: int = 2  # 7 -> 14 -> 28: heatmap stride 4
    n_joints: int = 8
    sigma: float = 1.5  # target Gaussian, in heatmap cells


@dataclass(frozen=True)
class LossConfig:
    """Eq. 4: Phi = lambda_r * sum E_r + lambda_d * sum E_d. lambda_d = 0 is regression only,
    lambda_r = 0 detection only (Table 3's end columns).

    The defaults are lambda_R / lambda_P = 0.1 (``profiles.ratio_to_lambdas(0.1)``), the
    reproduction's choice on weak evidence: with eq. 3 as a per-window mean, a probe
    pre-training on the pool at ratio 0.1 (cpu schedule, seed 0) had a lower test regression
    error than ratio 1 at every evaluated epoch up to 12 (epoch 12: Buffy 0.122 against 0.136,
    FLIC 0.080 against 0.086) and ratio 0.02 was worse (epoch 8: Buffy 0.146, FLIC 0.093); but
    the same run repeated with lambdas differing in the 7th digit gave 0.136 / 0.084 at epoch
    12 and, at epoch 24, 0.117 / 0.063 against ratio 1's 0.109 / 0.062: one run's differences
    of this size are noise. Table 3's sweep (chapter 8) compares the ratios at one length. The
    paper's best column is 1 in its own normalisation of the two costs, which it does not
    give (results/probes holds the histories).
    """

    lambda_r: float = 1 / 11
    lambda_d: float = 10 / 11
    # Reproduction's choice (hmlpe.network.losses module doc): eq. 3 per image as the "mean" over the
    # 7 x 64 windows (the scale of Table 3's P errors) or the "sum" (448 times larger).
    detection_reduction: str = "mean"


def merge(cfg: Any, overrides: dict[str, Any]) -> Any:
    """A copy of ``cfg`` with ``overrides`` applied; keys may be dotted ("loss.lambda_d").

    Unknown keys raise ``KeyError`` naming the key, so a typo never passes silently. Values are
    checked against the field's annotation (``ConfigError`` naming key, value and expected
    type): an int is accepted for a float (and stored as a float), a list for a tuple, None
    for an optional field; a bool is not a number and a string is not a number.
    """
    return _merge(cfg, overrides, "")


def _merge(cfg: Any, overrides: dict[str, Any], prefix: str) -> Any:
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[key] = value
    names = {f.name: f for f in fields(cfg)}
    for key in list(flat) + list(nested):
        if key not in names:
            raise UnknownNameError(
                f"unknown config key {key!r} for {type(cfg).__name__}; "
                f"known: {', '.join(sorted(names))}"
            )
    cls: type = type(cfg)
    hints = _field_types(cls)
    changes: dict[str, Any] = {}
    for key, value in flat.items():
        current = getattr(cfg, key)
        if is_dataclass(current) and isinstance(value, dict):
            changes[key] = _merge(current, value, f"{prefix}{key}.")
        else:
            changes[key] = _checked(value, hints[key], f"{prefix}{key}")
    for key, sub in nested.items():
        current = getattr(cfg, key)
        if not is_dataclass(current):
            raise UnknownNameError(f"config key {key!r} of {type(cfg).__name__} has no sub-keys")
        changes[key] = _merge(current, sub, f"{prefix}{key}.")
    return replace(cfg, **changes)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """The resolved annotations of a config dataclass (this module postpones them)."""
    return typing.get_type_hints(cls)


class _Mismatch(Exception):
    pass


def _conform(value: Any, hint: Any) -> Any:
    """``value`` as a value of type ``hint`` (int -> float, list -> tuple), else _Mismatch."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is not type(None):
                try:
                    return _conform(value, arg)
                except _Mismatch:
                    pass
        raise _Mismatch
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_conform(v, args[0]) for v in value)
        if len(value) != len(args):
            raise _Mismatch
        return tuple(_conform(v, a) for v, a in zip(value, args))
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Mismatch
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Mismatch
        return value
    if isinstance(hint, type) and isinstance(value, hint):  # str, bool, a config dataclass
        return value
    raise _Mismatch


def _describe(hint: Any, plural: bool = False) -> str:
    """'a float', 'an int or null', 'a list of 3 ints', ... (``plural``: 'floats', ...)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a, plural) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0], True)}"
        if len(set(args)) == 1:
            return f"a list of {len(args)} {_describe(args[0], True)}"
        return f"a list [{', '.join(_describe(a) for a in args)}]"
    names = {
        float: ("a float", "floats"),
        int: ("an int", "ints"),
        str: ("a string", "strings"),
        bool: ("a bool (true or false)", "bools"),
        type(None): ("null", "nulls"),
    }
    if hint in names:
        return names[hint][plural]
    name = getattr(hint, "__name__", str(hint))
    return f"{name}s" if plural else f"a mapping of {name} fields"


def _kind(value: Any, plural: bool = False) -> str:
    """'a string', 'a list of 2 ints', 'a list [an int, a string]', ..."""
    if isinstance(value, (list, tuple)):
        if plural:
            return "lists"
        kinds = [_kind(v) for v in value]
        if len(set(kinds)) > 1:
            return f"a list [{', '.join(kinds)}]"
        return f"a list of {len(value)} {_kind(value[0], True)}" if value else "an empty list"
    table = {
        bool: ("a bool", "bools"),
        int: ("an int", "ints"),
        float: ("a float", "floats"),
        str: ("a string", "strings"),
        type(None): ("null", "nulls"),
        dict: ("a mapping", "mappings"),
    }
    name = type(value).__name__
    return table.get(type(value), (f"a {name}", f"{name}s"))[plural]


def _show(value: Any) -> str:
    """The value as the user typed it: JSON, except a string that is not JSON stays bare."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _checked(value: Any, hint: Any, key: str) -> Any:
    try:
        return _conform(value, hint)
    except _Mismatch:
        raise ConfigError(
            f"{key}={_show(value)}: expected {_describe(hint)}, got {_kind(value)}"
        ) from None


@dataclass(frozen=True)
class OptimConfig:
    """Back-propagation with SGD, momentum and weight decay, as the paper's reference [14]
    (Krizhevsky et al. 2012) trains; the learning rate and its schedule are the
    reproduction's choice (the paper gives none)."""

    # "sgd": SGD with momentum and weight decay, as [14]; "adam": Adam (decoupled weight
    # decay, AdamW) with betas (momentum, 0.999), an alternative the reproduction measured.
    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9  # [14]
    weight_decay: float = 5e-4  # [14]
    # Schedule over the stage's steps (training.learning_rate): "step" multiplies the rate by
    # lr_decay at each fraction of the stage in lr_decay_at; "cosine" decays it from lr to 0
    # along a half cosine. Both start with a linear warm-up over the first ``warmup`` fraction
    # of the stage's steps (0: none).
    schedule: str = "step"
    lr_decay: float = 0.1
    lr_decay_at: tuple[float, ...] = (0.75,)
    warmup: float = 0.0
    batch_size: int = 128
    grad_clip: float | None = None  # None: no clipping (the paper mentions none)


# Image visits per training image in one epoch of each unit (StageConfig.epoch_unit).
# "paper": the paper's epoch, a pass over its augmented training set, "augmented by a factor of
# 32" (4.1: 16 random 112 crops x mirror per image; the first author's scripts confirm it,
# see the protocol facts); "pass": one visit per image.
EPOCH_UNITS: dict[str, int] = {"pass": 1, "paper": 32}
# The paper's pool (4.1: 8427 images) and its Table 3 epoch 100, in image visits.
PAPER_POOL_IMAGES = 8427
PAPER_EPOCH_VISITS = PAPER_POOL_IMAGES * EPOCH_UNITS["paper"]  # 269,664
PAPER_TABLE3_VISITS = 100 * PAPER_EPOCH_VISITS  # 26,966,400


@dataclass(frozen=True)
class StageConfig:
    """One training stage: what it trains on and for how long (paper 4.2: pre-train on the
    pooled training set, then fine-tune on Buffy or FLIC).

    An epoch visits every training image ``EPOCH_UNITS[epoch_unit]`` times: "pass" once (one
    permutation), "paper" 32 times (32 permutations one after the other, each visit with a
    fresh random crop and mirror), the paper's epoch over its 32x augmented set. A stage's
    image visits are ``epochs x EPOCH_UNITS[epoch_unit] x`` its training images."""

    dataset: str = "pool"  # "pool", "buffy", "flic" (training split)
    epochs: int = 10
    lr_scale: float = 1.0  # fine-tuning may use a smaller rate (our choice)
    epoch_unit: str = "pass"

    @property
    def passes_per_epoch(self) -> int:
        try:
            return EPOCH_UNITS[self.epoch_unit]
        except KeyError:
            raise ConfigError(
                f"stage.epoch_unit={self.epoch_unit}: expected one of {', '.join(EPOCH_UNITS)}"
            ) from None

    def visits(self, images: int) -> int:
        """Image visits of the whole stage on a training set of ``images`` images."""
        return self.epochs * self.passes_per_epoch * images


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run depends on; written into every checkpoint."""

    profile: str = "cpu"
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cpu-fp32", "cuda"
    data: DataConfig = field(default_factory=DataConfig)
    crop: CropConfig = field(default_factory=CropConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    # Which network trains: "hmlpe" (the paper's, ``model``) or "heatmap" (the "Since 2014"
    # reference, ``heatmap``; trained by the mean squared error of its heatmaps, ``loss`` and
    # ``labels`` unused but for the logged errors).
    network: str = "hmlpe"
    model: ModelConfig = field(default_factory=ModelConfig)
    heatmap: HeatmapConfig = field(default_factory=HeatmapConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    stage: StageConfig = field(default_factory=StageConfig)
    eval_every: int = 1  # epochs between test-error evaluations (Table 3, Figure 5)
    test_sets: tuple[str, ...] = ("buffy", "flic")  # test errors logged per epoch
    max_test_examples: int | None = None  # cap per test set for per-epoch errors (smoke)


NETWORKS = ("hmlpe", "heatmap")  # TrainConfig.network (CHOICES["network"])

# Fields that configs written by earlier versions may hold and that no longer exist; they are
# dropped when such a config is read back (any other unknown key raises).
REMOVED_FIELDS = {
    # never used: training draws a fresh random crop and mirror per visit (augment module)
    "crop.crops_per_image",
    # where the datasets lie, not what a run computes: now the entry point's DataSource
    # (hmlpe.data.source); run records name it apart (records.RunRecord.data_root)
    "data.data_root",
}


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) config dataclass from ``dataclasses.asdict`` output; unknown keys
    raise, except the :data:`REMOVED_FIELDS` of earlier versions, which are dropped."""
    flat = {k: v for k, v in _flatten(data).items() if k not in REMOVED_FIELDS}
    return merge(cls(), flat)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# --------------------------------------------------------------------------- ranges
# Dotted key -> (test, what it expects). A key missing here has no range beyond its type;
# None passes for optional fields. check_ranges applies them to a whole TrainConfig.
RANGES: dict[str, tuple[typing.Callable[[Any], bool], str]] = {
    "seed": (lambda v: v >= 0, "an int >= 0"),
    "eval_every": (lambda v: v >= 1, "an int >= 1"),
    "max_test_examples": (lambda v: v >= 1, "an int >= 1 or null"),
    "data.max_train_examples": (lambda v: v >= 1, "an int >= 1 or null"),
    "stage.epochs": (lambda v: v >= 1, "an int >= 1"),
    "stage.lr_scale": (lambda v: math.isfinite(v) and v > 0, "a finite float > 0"),
    "optim.batch_size": (lambda v: v >= 1, "an int >= 1"),
    "optim.lr": (lambda v: math.isfinite(v) and v > 0, "a finite float > 0"),
    "optim.momentum": (lambda v: math.isfinite(v) and 0 <= v < 1, "a float in [0, 1)"),
    "optim.weight_decay": (lambda v: math.isfinite(v) and v >= 0, "a finite float >= 0"),
    "optim.lr_decay": (lambda v: math.isfinite(v) and 0 < v <= 1, "a float in (0, 1]"),
    "optim.lr_decay_at": (
        lambda v: all(math.isfinite(x) and 0 < x < 1 for x in v),
        "a list of floats in (0, 1)",
    ),
    "optim.warmup": (lambda v: math.isfinite(v) and 0 <= v < 1, "a float in [0, 1)"),
    "optim.grad_clip": (lambda v: math.isfinite(v) and v > 0, "a finite float > 0 or null"),
    "model.dropout": (lambda v: math.isfinite(v) and 0 <= v < 1, "a probability in [0, 1)"),
    "augment.mirror_prob": (lambda v: math.isfinite(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "augment.rotation_deg": (lambda v: math.isfinite(v) and 0 <= v <= 180, "a float in [0, 180]"),
    "augment.scale_jitter": (lambda v: math.isfinite(v) and v >= 0, "a finite float >= 0"),
    "loss.lambda_r": (lambda v: math.isfinite(v) and v >= 0, "a finite float >= 0"),
    "loss.lambda_d": (lambda v: math.isfinite(v) and v >= 0, "a finite float >= 0"),
    "labels.beta": (lambda v: math.isfinite(v) and 0 < v <= 1, "a float in (0, 1]"),
    "labels.window": (lambda v: v >= 1, "an int >= 1"),
    "labels.grid": (lambda v: v >= 1, "an int >= 1"),
    "heatmap.sigma": (lambda v: math.isfinite(v) and v > 0, "a finite float > 0"),
    "heatmap.deconv_layers": (lambda v: v >= 0, "an int >= 0"),
}


# Dotted key -> the values a string field may take (a tuple field: each of its items). The
# modules that act on a field read its choices from here (e.g. ``network.init.INITS``), so a
# value check_ranges lets through is one they know.
CHOICES: dict[str, tuple[str, ...]] = {
    "network": NETWORKS,
    "data.pool": ("buffy", "lsp", "flic"),
    "data.buffy_association": ("paper", "buffy"),
    "test_sets": ("buffy", "flic"),
    "crop.train_box": ("test_rule", "margin"),
    "labels.layout": ("uniform", "itheano"),
    "model.init": ("torch", "krizhevsky", "kaiming", "kaiming_trunk"),
    "loss.detection_reduction": ("mean", "sum"),
    "optim.name": ("sgd", "adam"),
    "optim.schedule": ("step", "cosine"),
    "stage.dataset": ("pool", "buffy", "lsp", "flic"),
    "stage.epoch_unit": tuple(EPOCH_UNITS),
}


def _field(cfg: Any, key: str) -> Any:
    value = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


def check_ranges(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` unchanged if every value of :data:`RANGES` is in range and every value of
    :data:`CHOICES` one of its choices, else ``ConfigError`` naming the first key out of
    range, its value and what it expects (checked before any work)."""
    for key, (test, expected) in RANGES.items():
        value = _field(cfg, key)
        if value is not None and not test(value):
            raise ConfigError(f"{key}={_show(value)}: expected {expected}")
    for key, choices in CHOICES.items():
        value = _field(cfg, key)
        for item in value if isinstance(value, tuple) else (value,):
            if item not in choices:
                raise ConfigError(
                    f"{key}={_show(list(value) if isinstance(value, tuple) else value)}: "
                    f"expected {'items among' if isinstance(value, tuple) else 'one of'} "
                    f"{', '.join(choices)}"
                )
    if not cfg.data.pool:
        raise ConfigError("data.pool=[]: the pre-training pool needs at least one dataset")
    if cfg.network == "heatmap" and cfg.heatmap.input_size != cfg.crop.input_size:
        raise ConfigError(
            f"heatmap.input_size={cfg.heatmap.input_size} and crop.input_size="
            f"{cfg.crop.input_size} must be equal (the network's input is the crop)"
        )
    # sizes that must agree: the network's input is the crop, and the labels tile that crop
    if not cfg.crop.input_size == cfg.model.input_size == cfg.labels.crop:
        raise ConfigError(
            f"crop.input_size={cfg.crop.input_size}, model.input_size="
            f"{cfg.model.input_size} and labels.crop={cfg.labels.crop} must be equal "
            "(the network's input is the crop the labels tile); set all three"
        )
    if cfg.crop.train_size < cfg.crop.input_size:
        raise ConfigError(
            f"crop.train_size={cfg.crop.train_size} is smaller than crop.input_size="
            f"{cfg.crop.input_size}: training crops are cut from it"
        )
    if cfg.loss.lambda_r == 0 and cfg.loss.lambda_d == 0:
        raise ConfigError(
            "loss.lambda_r=0 and loss.lambda_d=0: at least one task must have a weight > 0"
        )
    return cfg
