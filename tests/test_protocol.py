"""engine/protocol: the branch of a profile without fine-tuning (the "Since 2014" reference's),
on the smoke profile's few examples of the real data: its pre-trained network is evaluated on
both test sets, no Figures 6 and 7 are exported for a network that is not HMLPE's, and a
second call reuses everything. (The fine-tuning branch runs in the smoke book; refusing
exported folders is in test_layout.py.)"""

from __future__ import annotations

from dataclasses import replace

from hmlpe.config import merge
from hmlpe.engine.layout import CHECKPOINT_NAME, FEATURES_NAME, METRICS_NAME
from hmlpe.engine.profiles import SweepConfig, get_profile
from hmlpe.engine.protocol import run_protocol
from hmlpe.engine.records import read_evaluation_record, read_run_record


def test_without_fine_tuning_the_pretrained_network_is_evaluated(data_source, tmp_path):
    smoke = get_profile("smoke")
    prof = replace(
        smoke,
        name="heatmap_smoke",
        base=merge(smoke.base, {"network": "heatmap"}),
        finetune_epochs={},
        sweep=SweepConfig(ratios=()),
    )
    run = tmp_path / "run"
    folders = run_protocol(prof, run, source=data_source)
    evals = {
        "eval_buffy",
        "eval_buffy_mirror",
        "eval_buffy_buffyrule",
        "eval_flic",
        "eval_flic_mirror",
    }
    assert set(folders) == {"pretrain"} | evals
    assert not (run / "pretrain" / FEATURES_NAME).exists()  # Figures 6, 7 are HMLPE's only
    pretrained = run / "pretrain" / CHECKPOINT_NAME
    for name in evals:
        record = read_evaluation_record(folders[name])
        assert record.checkpoint is not None and record.checkpoint.endswith(
            "pretrain/" + CHECKPOINT_NAME
        )
        assert record.mirror_average == name.endswith("_mirror")
        assert record.data_root == str(data_source.root)  # the source every step read
    assert read_evaluation_record(folders["eval_buffy"]).n("whole_set") == 276
    assert read_evaluation_record(folders["eval_flic"]).n(None) == 1016
    written = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    assert read_run_record(run / "pretrain").data_root == str(data_source.root)
    again = run_protocol(prof, run, source=data_source)  # finished: reused, nothing rewritten
    assert again == folders
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()} == written
    assert pretrained.is_file() and (folders["eval_flic"] / METRICS_NAME).is_file()
