"""Compute in image visits: what each profile trains, beside the paper's Table 3 epoch 100
(100 paper epochs x 32 visits x 8427 images = 26,966,400 visits, ``config.PAPER_TABLE3_VISITS``).
Chapter 5 and the verdict page print it."""

from __future__ import annotations

import pandas as pd

from hmlpe.config import PAPER_TABLE3_VISITS, TrainConfig
from hmlpe.engine.layout import FINETUNE_DATASETS
from hmlpe.engine.profiles import PROFILES, Profile


def stage_images(cfg: TrainConfig) -> int:
    """Training images of a stage's config (reads the dataset records, not the images)."""
    from hmlpe.data.pipeline import training_set_records

    return len(training_set_records(cfg)[0])


def profile_visits(profile: Profile) -> dict[str, int]:
    """Image visits of each stage of ``profile``'s protocol: pretrain, finetune_<dataset>, and
    the Table 3 sweep (all ratios together); 0 for a stage the profile does not train (the
    heatmap profile: no fine-tuning, no sweep)."""
    pre = profile.stage_config("pretrain")
    out = {"pretrain": pre.stage.visits(stage_images(pre))}
    for ds in FINETUNE_DATASETS:
        if ds in profile.finetune_epochs:
            cfg = profile.stage_config("finetune", ds)
            out[f"finetune_{ds}"] = cfg.stage.visits(stage_images(cfg))
        else:
            out[f"finetune_{ds}"] = 0
    out["sweep"] = 0
    if profile.sweep.ratios:
        sweep = profile.sweep_config(1.0)
        out["sweep"] = len(profile.sweep.ratios) * sweep.stage.visits(stage_images(sweep))
    return out


def profiles_compute_table(profiles: dict[str, Profile] | None = None) -> pd.DataFrame:
    """One row per profile: epoch unit, pre-training epochs and visits, their share of the
    paper's 27M, the fine-tuning and sweep visits."""
    rows = {}
    for name, p in (profiles or PROFILES).items():
        v = profile_visits(p)
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
