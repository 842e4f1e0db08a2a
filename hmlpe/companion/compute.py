"""Compute in image visits: what each profile trains, beside the paper's Table 3 epoch 100
(100 paper epochs x 32 visits x 8427 images = 26,966,400 visits, ``config.PAPER_TABLE3_VISITS``).
Chapter 5 and the verdict page print it."""

from __future__ import annotations

import pandas as pd

from hmlpe.config import PAPER_TABLE3_VISITS, TrainConfig
from hmlpe.data.source import DataSource
from hmlpe.engine.layout import FINETUNE_DATASETS
from hmlpe.engine.profiles import PROFILES, Profile


def stage_images(cfg: TrainConfig, source: DataSource) -> int:
    """Training images of a stage's config in ``source`` (reads the dataset records, not the
    images)."""
    from hmlpe.data.pipeline import training_set_records

    return len(training_set_records(cfg, source)[0])


def stage_configs(profile: Profile) -> dict[str, TrainConfig]:
    """The TrainConfig of every stage ``profile``'s protocol trains: pretrain, then
    finetune_<dataset> for each dataset it fine-tunes on (none for the heatmap profile)."""
    stages = {"pretrain": profile.stage_config("pretrain")}
    for ds in FINETUNE_DATASETS:
        if ds in profile.finetune_epochs:
            stages[f"finetune_{ds}"] = profile.stage_config("finetune", ds)
    return stages


def profile_visits(profile: Profile, source: DataSource) -> dict[str, int]:
    """Image visits of each stage of ``profile``'s protocol on the training sets of
    ``source``: pretrain, finetune_<dataset>, and the Table 3 sweep (all ratios together); 0
    for a stage the profile does not train (the heatmap profile: no fine-tuning, no sweep)."""
    trained = {
        name: cfg.stage.visits(stage_images(cfg, source))
        for name, cfg in stage_configs(profile).items()
    }
    out = {"pretrain": trained["pretrain"]}
    out.update({f"finetune_{ds}": trained.get(f"finetune_{ds}", 0) for ds in FINETUNE_DATASETS})
    out["sweep"] = 0
    if profile.sweep.ratios:
        sweep = profile.sweep_config(1.0)
        out["sweep"] = len(profile.sweep.ratios) * sweep.stage.visits(stage_images(sweep, source))
    return out


def stage_table(profile: Profile, source: DataSource) -> pd.DataFrame:
    """One row per training stage of ``profile``'s protocol (pretrain, finetune_<dataset>) on
    the training sets of ``source``:
    its training set, epochs and their unit, images, visits and their share of the paper's
    27.0M, the learning rate at the start of each epoch, what it starts from and the loss
    weights. Chapter 5 prints it."""
    from hmlpe.companion.runinfo import schedule_text
    from hmlpe.engine.training import epoch_start_rates

    rows = {}
    for name, cfg in stage_configs(profile).items():
        images = stage_images(cfg, source)
        visits = cfg.stage.visits(images)
        passes = cfg.stage.passes_per_epoch
        rows[name] = {
            "training set": cfg.stage.dataset,
            "epochs": cfg.stage.epochs,
            "epoch unit": f"{cfg.stage.epoch_unit} ({passes} visit{'s' if passes > 1 else ''} "
            "per image)",
            "training images": images,
            "image visits": f"{visits:,}",
            "share of the paper's 27M": f"{visits / PAPER_TABLE3_VISITS:.2%}",
            "learning rate by epoch": schedule_text(epoch_start_rates(cfg, images)),
            "starts from": "random weights (seeded)" if name == "pretrain" else "pretrain",
            "lambda_r": cfg.loss.lambda_r,
            "lambda_d": cfg.loss.lambda_d,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("stage")


def profiles_compute_table(
    source: DataSource, profiles: dict[str, Profile] | None = None
) -> pd.DataFrame:
    """One row per profile: epoch unit, pre-training epochs and visits (on the training sets
    of ``source``), their share of the paper's 27M, the fine-tuning and sweep visits."""
    rows = {}
    for name, p in (profiles or PROFILES).items():
        v = profile_visits(p, source)
        rows[name] = {
            "network": p.base.network,
            "epoch unit": p.epoch_unit,
            "pre-training epochs": p.pretrain_epochs,
            "pre-training visits": v["pretrain"],
            "share of the paper's 27.0M": v["pretrain"] / PAPER_TABLE3_VISITS,
            "fine-tuning visits (Buffy / FLIC)": f"{v['finetune_buffy']:,} / {v['finetune_flic']:,}",
            "Table 3 sweep visits": v["sweep"],
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("profile")


def style_compute_table(table: pd.DataFrame, uuid: str = "compute"):
    return table.style.set_uuid(uuid).format(
        {
            "pre-training visits": "{:,}",
            "share of the paper's 27.0M": "{:.2%}",
            "Table 3 sweep visits": "{:,}",
        }
    )
