"""The paper's protocol as resumable steps: pre-train on the pool, fine-tune on Buffy and FLIC
(paper 4.2), evaluate (Tables 1, 2, Figure 4), and Table 3's sweep of task weights.

Every step writes into its own folder of one run folder (``layout.RunLayout``); a step whose
checkpoint already holds all its epochs is skipped, an unfinished one is resumed.
"""

from __future__ import annotations

from pathlib import Path

from hmlpe.config import TrainConfig
from hmlpe.data.source import DataSource
from hmlpe.engine.checkpoint import check_same_config, load_checkpoint
from hmlpe.engine.evaluation import ensure_evaluation
from hmlpe.engine.features import ensure_features
from hmlpe.engine.guard import RunFolderError, check_output_folder
from hmlpe.engine.layout import CHECKPOINT_NAME, FEATURES_NAME, FINETUNE_DATASETS, RunLayout
from hmlpe.engine.profiles import Profile, configure, get_profile  # noqa: F401  (configure re-exported)
from hmlpe.engine.training import TrainResult, train

# Earlier name of the error for a protected run folder (hmlpe.engine.guard).
ExportedRunError = RunFolderError


def run_stage(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    init_from: Path | None = None,
    source: DataSource | None = None,
    **kwargs,
) -> TrainResult | Path:
    """Train one stage unless its checkpoint is complete; resume it when unfinished.
    Returns the TrainResult, or the checkpoint path when the stage was already done."""
    ckpt = Path(run_dir) / CHECKPOINT_NAME
    if ckpt.exists():
        state = load_checkpoint(ckpt)
        if int(state["epoch"]) >= cfg.stage.epochs:
            # A finished run is reused only for the same config (checkpoint.LOCATION_FIELDS aside).
            check_same_config(state, cfg, ckpt)
            return ckpt
        return train(cfg, run_dir, resume=True, source=source, **kwargs)
    return train(cfg, run_dir, init_from=init_from, source=source, **kwargs)


def checkpoint_of(result: TrainResult | Path) -> Path:
    return result if isinstance(result, Path) else result.checkpoint


def run_protocol(
    profile: Profile | str,
    run_dir: Path,
    *,
    source: DataSource | None = None,
    evaluate_after: bool = True,
) -> dict[str, Path]:
    """Pre-train, export Figures 6 and 7 of the pre-trained network (``features.npz``),
    fine-tune on Buffy and FLIC, evaluate both: plain, mirror-averaged, and Buffy under the
    Buffy package's association rule too (an evaluation newer than its checkpoint is reused).
    A profile without fine-tuning (``finetune_epochs`` empty: the heatmap profile) evaluates
    its pre-trained network on both test sets instead; Figures 6 and 7 are HMLPE's network's
    only. Returns the step folders by name. A folder of exported results is refused.
    ``source``: where every step reads the datasets (None: ``DataSource.resolve()``, once)."""
    prof = get_profile(profile) if isinstance(profile, str) else profile
    layout = RunLayout(check_output_folder(run_dir))
    source = source if source is not None else DataSource.resolve()
    folders = {"pretrain": layout.pretrain}
    pre = checkpoint_of(run_stage(prof.stage_config("pretrain"), layout.pretrain, source=source))
    if prof.base.network == "hmlpe":
        ensure_features(pre, layout.pretrain / FEATURES_NAME, source)
    if not prof.finetune_epochs:
        if evaluate_after:
            for ds in FINETUNE_DATASETS:
                folders.update(
                    evaluate_stage(pre, ds, layout, source=source, device=prof.base.device)
                )
        return folders
    for ds in FINETUNE_DATASETS:
        folders[f"finetune_{ds}"] = layout.finetune(ds)
        ck = checkpoint_of(
            run_stage(
                prof.stage_config("finetune", ds),
                layout.finetune(ds),
                init_from=pre,
                source=source,
            )
        )
        if evaluate_after:
            folders.update(evaluate_stage(ck, ds, layout, source=source, device=prof.base.device))
    return folders


def evaluate_stage(
    checkpoint: Path,
    dataset: str,
    layout: RunLayout,
    *,
    source: DataSource | None = None,
    device: str = "auto",
) -> dict[str, Path]:
    """Evaluate a fine-tuned (or, without fine-tuning, the pre-trained) checkpoint on a test set, plain (Tables 1, 2) and with test-time
    mirror averaging (not in the paper, reported apart); reuses evaluations newer than it."""
    out = {}
    for mirror in (False, True):
        folder = layout.evaluation(dataset, mirror=mirror)
        ensure_evaluation(
            checkpoint, dataset, folder, source=source, device=device, mirror_average=mirror
        )
        out[folder.name] = folder
    if dataset == "buffy":  # Table 1 under the Buffy package's rule too (chapter 6)
        folder = layout.evaluation(dataset, association="buffy")
        ensure_evaluation(
            checkpoint, dataset, folder, source=source, device=device, association="buffy"
        )
        out[folder.name] = folder
    return out


def run_sweep(
    profile: Profile | str,
    run_dir: Path,
    *,
    ratios: tuple[float, ...] | None = None,
    source: DataSource | None = None,
) -> dict[float, Path]:
    """Table 3 / Figure 5: one run per lambda_R/lambda_P ratio, all else equal (``source`` as
    :func:`run_protocol`'s)."""
    prof = get_profile(profile) if isinstance(profile, str) else profile
    layout = RunLayout(check_output_folder(run_dir))
    source = source if source is not None else DataSource.resolve()
    out: dict[float, Path] = {}
    for ratio in ratios if ratios is not None else prof.sweep.ratios:
        run_stage(prof.sweep_config(ratio), layout.sweep(ratio), source=source)
        out[ratio] = layout.sweep(ratio)
    return out
