"""companion/compute: visits per profile and the stage table, by hand on the real record counts."""

from hmlpe.companion.compute import profile_visits, profiles_compute_table
from hmlpe.config import PAPER_TABLE3_VISITS
from hmlpe.engine.profiles import get_profile


def test_paper_and_cpu_visits(data_source):
    paper = profile_visits(get_profile("paper"), data_source)
    cpu = profile_visits(get_profile("cpu"), data_source)
    assert paper["pretrain"] == 100 * 32 * 5059  # 16,188,800
    assert cpu["pretrain"] == 56 * 5059  # profiles.CPU_PRETRAIN_PASSES
    assert paper["finetune_buffy"] == 100 * 32 * 472
    assert paper["sweep"] == len(get_profile("paper").sweep.ratios) * 100 * 32 * 5059
    table = profiles_compute_table(data_source)
    assert table.loc["paper", "share of the paper's 27.0M"] == 16_188_800 / PAPER_TABLE3_VISITS
    assert PAPER_TABLE3_VISITS == 100 * 32 * 8427


def test_stage_table_rows_by_hand(data_source):
    from hmlpe.companion.compute import stage_table

    cpu = stage_table(get_profile("cpu"), data_source)
    assert list(cpu.index) == ["pretrain", "finetune_buffy", "finetune_flic"]
    assert cpu.loc["pretrain", "image visits"] == f"{56 * 5059:,}"
    assert cpu.loc["finetune_buffy", "training images"] == 472
    assert cpu.loc["finetune_buffy", "image visits"] == f"{30 * 472:,}"
    assert cpu.loc["pretrain", "starts from"].startswith("random")
    assert cpu.loc["finetune_flic", "starts from"] == "pretrain"
    # the heatmap reference is not fine-tuned: one stage only
    assert list(stage_table(get_profile("heatmap"), data_source).index) == ["pretrain"]
