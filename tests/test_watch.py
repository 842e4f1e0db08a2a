"""Training progress for the book runner (hmlpe.companion.watch), on hand-made run folders."""

import io
import json

from hmlpe.companion.watch import (
    RunWatcher,
    StageProgress,
    measured_rate,
    new_epoch_lines,
    stage_progress,
    training_cost_note,
)


def _stage(folder, epochs_total, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps({"config": {"stage": {"epochs": epochs_total}}, "device": "cpu (test)"})
    )
    with open(folder / "history.jsonl", "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def _row(epoch, seconds=30.0, rate=100.0):
    return {
        "epoch": epoch,
        "visits": 3000 * epoch,
        "train_seconds": seconds,
        "images_per_second": rate,
        "train_regression": 0.2 / epoch,
    }


def test_stage_line_gives_epochs_visits_rate_and_time_left():
    p = StageProgress("pretrain", 4, 10, _row(4), 30.0)
    assert p.line() == (
        "pretrain epoch 4/10, 12,000 visits, 100 img/s, train eq. 1 0.050, "
        "about 3 min left in this stage"
    )
    assert StageProgress("pretrain", 10, 10, _row(10), 30.0).minutes_left() == 0


def test_progress_reads_stages_two_levels_down_and_skips_a_half_written_row(tmp_path):
    _stage(tmp_path / "pretrain", 10, [_row(1), _row(2)])
    _stage(tmp_path / "sweep" / "ratio_1", 6, [_row(1)])
    with open(tmp_path / "sweep" / "ratio_1" / "history.jsonl", "a") as f:
        f.write('{"epoch": 2, "vis')  # a row being written
    progress = stage_progress(tmp_path)
    assert {k: (v.epochs_done, v.epochs_total) for k, v in progress.items()} == {
        "pretrain": (2, 10),
        "sweep/ratio_1": (1, 6),
    }


def test_only_stages_with_new_epochs_get_a_line(tmp_path):
    _stage(tmp_path / "pretrain", 10, [_row(1)])
    before = stage_progress(tmp_path)
    _stage(tmp_path / "pretrain", 10, [_row(2)])
    _stage(tmp_path / "finetune_buffy", 3, [])
    lines = new_epoch_lines(before, stage_progress(tmp_path))
    assert len(lines) == 1 and lines[0].startswith("pretrain epoch 2/10")


def test_watcher_prints_epochs_made_while_open_not_those_before(tmp_path):
    _stage(tmp_path / "pretrain", 10, [_row(1)])
    out = io.StringIO()
    with RunWatcher(tmp_path, prefix="[book] 05: ", interval=60, stream=out):
        _stage(tmp_path / "pretrain", 10, [_row(2), _row(3)])
    assert out.getvalue().splitlines() == [
        "[book] 05: " + StageProgress("pretrain", 3, 10, _row(3), 30.0).line()
    ]


def test_measured_rate_weights_rows_by_their_seconds(tmp_path):
    _stage(
        tmp_path / "a", 2, [_row(1, seconds=10.0, rate=100.0), _row(2, seconds=30.0, rate=200.0)]
    )
    rate, device = measured_rate(tmp_path)
    assert rate == (10 * 100 + 30 * 200) / 40 and device == "cpu (test)"
    assert measured_rate(tmp_path / "none") is None


def test_cost_note_counts_the_chosen_training_chapters_and_offers_the_results(tmp_path):
    visits = {"pretrain": 1000, "finetune_buffy": 100, "finetune_flic": 200, "sweep": 5000}
    assert training_cost_note("cpu", ["02_data"], tmp_path, visits) is None
    note = training_cost_note("cpu", ["05_training"], tmp_path, visits)
    assert "05_training trains the cpu profile" in note and "1,300 image visits" in note
    assert "no committed run" in note
    _stage(tmp_path / "cpu" / "seed_0" / "pretrain", 1, [_row(1, seconds=10.0, rate=10.0)])
    note = training_cost_note("cpu", ["05_training", "08_multitask"], tmp_path, visits)
    assert "6,300 image visits" in note and "10 img/s (cpu (test)), about 10 min" in note
    assert "--from-results" in note and "seed_0" in note
    note = training_cost_note("cpu", ["05_training"], tmp_path, visits, (13.0, "cpu (here)"))
    assert "this machine trains 13 img/s (cpu (here);" in note and "about 2 min" in note
