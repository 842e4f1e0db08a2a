"""Command line: ``python -m hmlpe COMMAND ...`` (also installed as ``hmlpe``).

Commands: data verify|fetch, train, reproduce, sweep, seeds, evaluate, predict, bench, export,
results, book. Errors the user can fix (bad input, missing data, incompatible checkpoint) print
one clear line and exit with status 2; they never leave half-written files behind. ``sweep`` and
``seeds`` exit 1 when a job failed, with one line per failed job. ``train`` also runs under
``torchrun`` (data parallel, ``hmlpe.engine.distributed``); no other command does.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hmlpe.errors import UsageError

_NON_FINITE = {
    "nan": float("nan"),
    "inf": float("inf"),
    "+inf": float("inf"),
    "-inf": float("-inf"),
    "infinity": float("inf"),
    "-infinity": float("-inf"),
}


def _parse_value(text: str) -> Any:
    """A ``--set`` value: JSON, else nan / inf as floats (so a range check can name them),
    else the bare string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return _NON_FINITE.get(text.strip().lower(), text)


def positive_int(text: str) -> int:
    """argparse type: an int >= 1 (a count of steps, epochs, ranks or images)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {value}")
    return value


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs (dotted keys, JSON values) -> dict; a malformed item raises."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects key=value (e.g. loss.lambda_d=0.5), got {item!r}")
        out[key.strip()] = _parse_value(value)
    return out


def markdown_table(frame) -> str:
    """A DataFrame as a GitHub markdown table, floats with 2 decimals (no extra dependency)."""

    def cell(v):
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


DATA_ROOT_HELP = (
    "dataset folder (default: $HMLPE_DATA, then the first folder of data/data_roots.txt)"
)
DATA_PACK_HELP = (
    "read every crop from this data pack (hmlpe data pack) instead of the data root "
    "(default: $HMLPE_DATA_PACK, else none)"
)
PROGRESS_HELP = "progress bars (default: on when stderr is a terminal and $HMLPE_PROGRESS != 0)"
PROFILE_HELP = "the profile (default: cpu)"


def _add_overrides(p: argparse.ArgumentParser, help: str) -> None:
    """``--set KEY=VALUE`` (repeatable) into ``args.overrides``, read by ``parse_overrides``."""
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def _add_data(p: argparse.ArgumentParser) -> None:
    """Where the datasets are (``DataSource.resolve``, once per command: ``_source``)."""
    p.add_argument("--data-root", type=Path, help=DATA_ROOT_HELP)
    p.add_argument("--data-pack", type=Path, help=DATA_PACK_HELP)


def _add_progress(p: argparse.ArgumentParser) -> None:
    """The process's one progress setting (``hmlpe.progress.set_progress``, in ``main``)."""
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help=PROGRESS_HELP
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    _add_data(p)
    p.add_argument("--device", default=None, help="auto (default), cpu, cpu-fp32 or cuda")
    _add_progress(p)


def _add_jobs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "jobs (hmlpe.engine.jobs; local and slurm need the extra 'cluster': submitit)"
    )
    g.add_argument(
        "--executor",
        choices=("none", "local", "slurm"),
        default="none",
        help="none: one job after another in this process (default); local: "
        "submitit subprocesses on this machine; slurm: submitit to Slurm",
    )
    g.add_argument(
        "--max-parallel",
        type=positive_int,
        help="jobs running at once (default: 1 local, all on Slurm)",
    )
    g.add_argument(
        "--timeout-min",
        type=positive_int,
        default=24 * 60,
        help="time limit of each submitted job, minutes (default: 1440)",
    )
    g.add_argument("--partition", help="Slurm partition")
    g.add_argument("--gpus-per-node", type=int, default=0, help="GPUs of each submitted job")
    g.add_argument("--cpus-per-task", type=positive_int, help="CPUs of each Slurm job")
    g.add_argument("--mem-gb", type=float, help="memory of each Slurm job, GB")


def build_parser() -> argparse.ArgumentParser:
    from hmlpe.data.datasets.records import DATASETS
    from hmlpe.engine.profiles import ALL_PROFILES  # configs only: torch is not loaded

    profiles = tuple(ALL_PROFILES)
    parser = argparse.ArgumentParser(prog="python -m hmlpe", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="verify or fetch the datasets")
    dsub = data.add_subparsers(dest="data_command", required=True)
    verify_cmd = dsub.add_parser("verify", help="check a data root against data/registry.json")
    verify_cmd.add_argument("--data-root", type=Path, help=DATA_ROOT_HELP)
    verify_cmd.add_argument(
        "--full", action="store_true", help="check every file's SHA-256 (slower)"
    )
    _add_progress(verify_cmd)
    pack_cmd = dsub.add_parser(
        "pack",
        help="write every crop training and evaluation read into one "
        "zip file (hmlpe.data.pack), for a machine without the data",
    )
    pack_cmd.add_argument("out", type=Path, help="the pack's file (e.g. runs/hmlpe-pack.zip)")
    pack_cmd.add_argument("--data-root", type=Path, help=DATA_ROOT_HELP)
    pack_cmd.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    _add_progress(pack_cmd)
    fetch_cmd = dsub.add_parser("fetch", help="download the datasets from their official URLs")
    fetch_cmd.add_argument(
        "--dest", default="data/raw", help="folder to download into (default: data/raw)"
    )
    fetch_cmd.add_argument(
        "--dataset",
        action="append",
        choices=DATASETS,
        help="only this dataset (repeatable; default: all)",
    )
    fetch_cmd.add_argument("--base-url", help="mirror to fetch from instead of the official URLs")
    _add_progress(fetch_cmd)

    train_cmd = sub.add_parser("train", help="train one stage of a profile")
    train_cmd.add_argument("--profile", default="cpu", choices=profiles, help=PROFILE_HELP)
    train_cmd.add_argument(
        "--stage",
        choices=("pretrain", "finetune"),
        default="pretrain",
        help="pretrain on the pool (default) or finetune on --dataset",
    )
    train_cmd.add_argument("--dataset", choices=("buffy", "flic"), help="fine-tuning dataset")
    train_cmd.add_argument("--init", type=Path, help="checkpoint to start from (fine-tuning)")
    train_cmd.add_argument("--out", type=Path, required=True, help="run folder")
    train_cmd.add_argument("--resume", action="store_true", help="continue the run in --out")
    train_cmd.add_argument("--epochs", type=int, help="epochs of the stage (its schedule)")
    train_cmd.add_argument(
        "--stop-after-epochs",
        type=positive_int,
        help="stop after this many epochs now; continue later with --resume",
    )
    train_cmd.add_argument(
        "--time-budget-min",
        type=float,
        help="stop (with a mid-epoch checkpoint) after about this many minutes of "
        "training; continue later with --resume",
    )
    train_cmd.add_argument(
        "--compile",
        action="store_true",
        help="train through torch.compile (hmlpe bench --compile measures whether "
        "it helps on this device)",
    )
    train_cmd.add_argument("--seed", type=int, help="random seed (default: the profile's, 0)")
    _add_overrides(train_cmd, "config override, e.g. --set loss.lambda_d=0.5 (repeatable)")
    _add_common(train_cmd)

    reproduce_cmd = sub.add_parser(
        "reproduce", help="the whole protocol: pre-train, fine-tune, evaluate, Table 3 sweep"
    )
    reproduce_cmd.add_argument("--profile", default="cpu", choices=profiles, help=PROFILE_HELP)
    reproduce_cmd.add_argument(
        "--out", type=Path, required=True, help="run folder of the whole protocol"
    )
    reproduce_cmd.add_argument("--no-sweep", action="store_true", help="skip Table 3's sweep")
    reproduce_cmd.add_argument(
        "--seed", type=int, help="random seed of every stage (default: the profile's, 0)"
    )
    _add_overrides(
        reproduce_cmd, "config override of every stage, dotted key, JSON value (repeatable)"
    )
    _add_common(reproduce_cmd)

    curve_cmd = sub.add_parser(
        "curve",
        help="PCP against compute: the whole protocol at several "
        "pre-training budgets in image visits (no Table 3 sweep)",
    )
    curve_cmd.add_argument("--profile", default="cpu", choices=profiles, help=PROFILE_HELP)
    curve_cmd.add_argument(
        "--visits",
        type=int,
        nargs="+",
        required=True,
        metavar="N",
        help="pre-training budgets in image visits, e.g. 40000 80000 160000",
    )
    curve_cmd.add_argument(
        "--out", type=Path, required=True, help="root folder: one visits_<N>/ per budget"
    )
    curve_cmd.add_argument(
        "--seed", type=int, help="random seed of every budget (default: the profile's, 0)"
    )
    _add_overrides(curve_cmd, "config override of every stage (repeatable)")
    _add_common(curve_cmd)

    sweep_cmd = sub.add_parser(
        "sweep",
        help="Table 3's sweep, one job per ratio (sequential by default, "
        "or submitted with submitit)",
    )
    sweep_cmd.add_argument("--profile", default="cpu", choices=profiles, help=PROFILE_HELP)
    sweep_cmd.add_argument(
        "--out", type=Path, required=True, help="run folder: jobs train into its sweep/"
    )
    sweep_cmd.add_argument(
        "--ratios",
        type=float,
        nargs="+",
        metavar="R",
        help="lambda_R/lambda_P ratios (default: the profile's; inf allowed)",
    )
    sweep_cmd.add_argument("--seed", type=int, help="random seed (default: the profile's, 0)")
    _add_overrides(sweep_cmd, "config override of every run, dotted key, JSON value (repeatable)")
    _add_jobs(sweep_cmd)
    _add_common(sweep_cmd)

    seeds_cmd = sub.add_parser(
        "seeds", help="the protocol once per seed (seed_<n> folders), one job per seed"
    )
    seeds_cmd.add_argument("--profile", default="cpu", choices=profiles, help=PROFILE_HELP)
    seeds_cmd.add_argument(
        "--seeds", type=int, nargs="+", required=True, metavar="N", help="the seeds to run"
    )
    seeds_cmd.add_argument(
        "--root", type=Path, required=True, help="folder of the seed_<n> run folders"
    )
    _add_overrides(seeds_cmd, "config override of every stage, dotted key, JSON value (repeatable)")
    _add_jobs(seeds_cmd)
    _add_common(seeds_cmd)

    evaluate_cmd = sub.add_parser("evaluate", help="Table 1 (buffy) or Table 2 + Figure 4 (flic)")
    evaluate_cmd.add_argument(
        "--checkpoint", type=Path, required=True, help="a fine-tuned network (last.pt)"
    )
    evaluate_cmd.add_argument(
        "--dataset",
        required=True,
        choices=("buffy", "flic"),
        help="buffy (Table 1) or flic (Table 2, Figure 4)",
    )
    evaluate_cmd.add_argument(
        "--out", type=Path, required=True, help="folder for metrics.json and predictions.csv"
    )
    evaluate_cmd.add_argument(
        "--association",
        choices=("paper", "buffy"),
        help="Buffy detection association rule (default: the checkpoint's config)",
    )
    evaluate_cmd.add_argument(
        "--mirror-average",
        action="store_true",
        help="average each crop's prediction with its mirror's (not in the paper)",
    )
    _add_common(evaluate_cmd)

    predict_cmd = sub.add_parser(
        "predict",
        help="8 joints for one image and a person box",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  python -m hmlpe predict photo.jpg --box 120 40 380 520 "
        "--checkpoint runs/cpu/finetune_buffy/last.pt --out photo_pose\n"
        "  writes photo_pose.json (joints in image pixels) and "
        "photo_pose.png (the skeleton drawn on the image)",
    )
    predict_cmd.add_argument(
        "image",
        type=Path,
        help="an image file (JPEG, PNG, ...; grey and CMYK are converted to RGB)",
    )
    predict_cmd.add_argument(
        "--box",
        type=float,
        nargs=4,
        required=True,
        metavar=("X1", "Y1", "X2", "Y2"),
        help="the person's box in image pixels (0-based, x2 > x1, y2 > y1), framed as "
        "the test boxes are: an upper body with room for the arms (Data chapter)",
    )
    predict_cmd.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="a run folder's last.pt, e.g. runs/cpu/finetune_buffy/last.pt",
    )
    predict_cmd.add_argument(
        "--out",
        type=Path,
        help="output prefix of the .json and .png (default: <image name>_hmlpe in .)",
    )
    predict_cmd.add_argument("--device", default=None, help="auto (default), cpu, cpu-fp32 or cuda")

    bench_cmd = sub.add_parser(
        "bench",
        help="training/inference images/s: fp32 eager vs the engine's path "
        "(or, with --ranks, 1 process vs data-parallel gloo ranks)",
    )
    bench_cmd.add_argument(
        "--out",
        type=Path,
        help="JSON of the results (default: runs/bench.json, with --ranks runs/bench_ranks.json)",
    )
    bench_cmd.add_argument(
        "--ranks",
        type=positive_int,
        nargs="+",
        metavar="N",
        help="compare training images/s of these numbers of data-parallel ranks "
        "(e.g. 1 2) at the same global batch, instead",
    )
    bench_cmd.add_argument(
        "--batch-size", type=positive_int, default=128, help="minibatch (default 128)"
    )
    bench_cmd.add_argument(
        "--steps", type=positive_int, default=6, help="timed steps per variant (default 6)"
    )
    bench_cmd.add_argument("--device", default="auto", help="auto (default), cpu, cpu-fp32 or cuda")
    bench_cmd.add_argument(
        "--compile",
        action="store_true",
        help="also time the training step under torch.compile (minutes to compile)",
    )
    bench_cmd.add_argument(
        "--no-allocator",
        action="store_true",
        help="skip the glibc allocator comparison (child processes, CPU only)",
    )

    export_cmd = sub.add_parser(
        "export", help="copy a run's small results (no weights) into a committed folder"
    )
    export_cmd.add_argument("--run-dir", type=Path, required=True, help="the trained run folder")
    export_cmd.add_argument("--out", type=Path, required=True, help="new folder under results/")
    export_cmd.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="FOLDER",
        help="skip this top-level folder of the run (repeatable), e.g. sweep",
    )

    results_cmd = sub.add_parser(
        "results", help="Tables 1 and 2 over seeds of committed results, beside the paper"
    )
    results_cmd.add_argument(
        "root",
        type=Path,
        nargs="?",
        default=Path("results/cpu"),
        help="folder of seed_<n> result folders (default: results/cpu)",
    )
    results_cmd.add_argument(
        "--mirror-average",
        action="store_true",
        help="the evaluations with test-time mirror averaging (not in the paper)",
    )
    results_cmd.add_argument(
        "--format", choices=("markdown", "csv"), default="markdown", help="output format"
    )

    book_cmd = sub.add_parser(
        "book", help="execute every chapter with papermill, then build the HTML"
    )
    book_cmd.add_argument(
        "--profile",
        default=None,
        choices=profiles,
        help="the profile (default: paper on a GPU, else cpu)",
    )
    book_cmd.add_argument("--run-dir", type=Path, help="run folder (default: runs/<profile>)")
    book_cmd.add_argument(
        "--chapter", action="append", dest="chapters", help="only this chapter (repeatable)"
    )
    book_cmd.add_argument("--no-build", action="store_true", help="execute only, skip jupyter-book")
    book_cmd.add_argument(
        "--build-only", action="store_true", help="only build the HTML from the executed notebooks"
    )
    book_cmd.add_argument(
        "--list",
        action="store_true",
        help="print the chapters' notebook paths in ToC order and exit",
    )
    book_cmd.add_argument(
        "--from-results",
        type=Path,
        metavar="DIR",
        help="build from exported results (e.g. results/cpu/seed_0: no weights, "
        "nothing trained), copied afresh to runs/from_<DIR's name>",
    )
    book_cmd.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra papermill parameter of every chapter run (VALUE parsed as JSON "
        "when it can be; repeatable)",
    )
    _add_data(book_cmd)
    for name, command in sub.choices.items():
        command.set_defaults(func=_COMMANDS[name])
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        command.epilog = "example:\n  " + _EXAMPLES[name]
    return parser


# One example per command, shown at the end of its --help.
_EXAMPLES = {
    "data": "python -m hmlpe data verify --data-root ../shared/data",
    "train": "python -m hmlpe train --profile cpu --stage pretrain --out runs/cpu/pretrain",
    "reproduce": "python -m hmlpe reproduce --profile cpu --seed 0 --out runs/cpu_seed0",
    "curve": "python -m hmlpe curve --profile cpu --visits 40428 134760 --out runs/curve",
    "sweep": "python -m hmlpe sweep --profile cpu --ratios 0 1 inf --out runs/cpu_seed0",
    "seeds": "python -m hmlpe seeds --profile cpu --seeds 0 1 2 --root runs/cpu_seeds",
    "evaluate": "python -m hmlpe evaluate --checkpoint runs/cpu/finetune_buffy/last.pt "
    "--dataset buffy --out runs/cpu/eval_buffy",
    "predict": "python -m hmlpe predict photo.jpg --box 50 160 900 404 "
    "--checkpoint runs/cpu/finetune_buffy/last.pt --out runs/photo",
    "bench": "python -m hmlpe bench --device cpu-fp32 --batch-size 32",
    "export": "python -m hmlpe export --run-dir runs/cpu_seed0 --out results/cpu/seed_0 "
    "--exclude sweep",
    "results": "python -m hmlpe results results/cpu --mirror-average",
    "book": "python -m hmlpe book --profile smoke --run-dir runs/smoke",
}


def _train_config(args):
    from hmlpe.config import merge
    from hmlpe.engine.profiles import build_profile

    overrides = parse_overrides(args.overrides)
    # stage.* belongs to the stage the profile builds: applied after it, or it would be lost
    stage_overrides = {k: v for k, v in overrides.items() if k.startswith("stage.")}
    overrides = {k: v for k, v in overrides.items() if k not in stage_overrides}
    prof = build_profile(args.profile, overrides, seed=args.seed, device=args.device)
    cfg = prof.stage_config(args.stage, args.dataset if args.stage == "finetune" else None)
    if stage_overrides:
        cfg = merge(cfg, stage_overrides)
    if args.epochs is not None:
        cfg = merge(cfg, {"stage.epochs": args.epochs})
    return cfg


def _profile(args):
    from hmlpe.engine.profiles import build_profile

    return build_profile(
        args.profile,
        parse_overrides(args.overrides),
        seed=getattr(args, "seed", None),
        device=args.device,
    )


def _source(args: argparse.Namespace):
    """The command's data source, resolved once from --data-root and --data-pack (and their
    defaults) and handed to everything that reads data (``hmlpe.data.source``)."""
    from hmlpe.data.source import DataSource

    return DataSource.resolve(args.data_root, args.data_pack)


def _run_jobs(args, jobs, root: Path) -> int:
    from hmlpe.engine.jobs import ExecutorOptions, run_jobs

    options = ExecutorOptions(
        timeout_min=args.timeout_min,
        partition=args.partition,
        gpus_per_node=args.gpus_per_node,
        cpus_per_task=args.cpus_per_task,
        mem_gb=args.mem_gb,
        max_parallel=args.max_parallel,
    )
    outcomes = run_jobs(jobs, root, args.executor, options=options)
    print(
        json.dumps(
            {
                o.name: {
                    "status": o.status,
                    "folder": str(o.folder),
                    "log": str(o.log) if o.log else None,
                }
                for o in outcomes
            },
            indent=2,
        )
    )
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        print(f"error: {o.line()}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_data(args: argparse.Namespace) -> int:
    from hmlpe.data.datasets import registry

    if args.data_command in ("verify", "pack"):
        from hmlpe.paths import resolve_data_root

        root = resolve_data_root(args.data_root)  # the datasets' files, never a pack
    if args.data_command == "verify":
        report = registry.verify(root, full=args.full)
        print(report.format())
        return 0 if report.ok else 1
    if args.data_command == "pack":
        from hmlpe.data.pack import write_pack

        manifest = write_pack(args.out, root, quality=args.quality)
        size = args.out.stat().st_size / 2**20
        print(
            f"wrote {args.out} ({size:.1f} MiB): {json.dumps(manifest['counts'])}; JPEG "
            f"quality {manifest['jpeg_quality']}, mean abs error "
            f"{json.dumps(manifest['jpeg_mean_abs_error'])} grey levels"
        )
        return 0
    from hmlpe.data.datasets import fetch

    fetch.fetch_all(Path(args.dest), datasets=args.dataset, base_url=args.base_url)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.stage == "finetune" and not args.dataset:
        raise UsageError("--stage finetune needs --dataset buffy or flic")
    if args.stage == "pretrain" and args.dataset:
        raise UsageError(
            f"--dataset {args.dataset} is for --stage finetune; pre-training "
            "trains on the pool (--set data.pool=[...] to change it)"
        )
    cfg = _train_config(args)
    if args.time_budget_min is not None and not args.time_budget_min > 0:
        raise UsageError(f"--time-budget-min must be > 0, got {args.time_budget_min}")
    # every value and the output folder checked before torch loads (seconds): a typo
    # fails at once; train() checks them again for callers of the library
    from hmlpe.config import check_ranges
    from hmlpe.engine.guard import check_output_folder

    check_ranges(cfg)
    check_output_folder(args.out)
    source = _source(args)
    from hmlpe.engine.training import train

    result = train(
        cfg,
        args.out,
        resume=args.resume,
        init_from=args.init,
        source=source,
        stop_after_epochs=args.stop_after_epochs,
        compile_model=args.compile,
        time_budget_s=None if args.time_budget_min is None else 60.0 * args.time_budget_min,
    )
    from hmlpe.engine.distributed import is_main

    if is_main():  # under torchrun: rank 0 alone reports
        last = result.history[-1] if result.history else {}
        print(
            json.dumps(
                {
                    "checkpoint": str(result.checkpoint),
                    "finished": result.finished,
                    "seconds": round(result.seconds, 1),
                    "last_epoch": last,
                },
                indent=2,
            )
        )
        if not result.finished:
            print(
                f"stopped before the stage's end; continue with the same command and "
                f"--resume (checkpoint {result.checkpoint})",
                file=sys.stderr,
            )
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from hmlpe.engine.protocol import run_protocol, run_sweep

    prof, source = _profile(args), _source(args)
    folders = run_protocol(prof, args.out, source=source)
    if not args.no_sweep:
        run_sweep(prof, args.out, source=source)
    print(json.dumps({k: str(v) for k, v in folders.items()}, indent=2))
    return 0


def _cmd_curve(args: argparse.Namespace) -> int:
    from hmlpe.engine.curve import run_curve

    folders = run_curve(_profile(args), args.visits, args.out, source=_source(args))
    print(json.dumps({str(k): str(v) for k, v in folders.items()}, indent=2))
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from hmlpe.engine.jobs import sweep_jobs

    jobs = sweep_jobs(_profile(args), args.out, _source(args), args.ratios)
    return _run_jobs(args, jobs, args.out)


def _cmd_seeds(args: argparse.Namespace) -> int:
    from hmlpe.engine.jobs import seed_jobs

    return _run_jobs(
        args, seed_jobs(_profile(args), args.root, args.seeds, _source(args)), args.root
    )


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from hmlpe.engine.guard import check_output_folder

    check_output_folder(args.out)  # before torch loads; evaluate() checks it again
    from hmlpe.engine.evaluation import evaluate

    record = evaluate(
        args.checkpoint,
        args.dataset,
        args.out,
        source=_source(args),
        device=args.device or "auto",
        association=args.association,
        mirror_average=args.mirror_average,
    )
    print(json.dumps(record.table_json(), indent=2))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from hmlpe.engine.predict import predict_image

    out = predict_image(
        args.image, args.box, args.checkpoint, out_prefix=args.out, device=args.device or "auto"
    )
    print(json.dumps(out, indent=2))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.ranks:
        from hmlpe.engine.bench import print_ranks_table, run_ranks_bench

        result = run_ranks_bench(
            ranks=tuple(args.ranks),
            batch_size=args.batch_size,
            steps=args.steps,
            device=args.device,
            out=args.out or Path("runs/bench_ranks.json"),
        )
        print_ranks_table(result)
        return 0
    from hmlpe.engine.bench import print_table, run_bench

    result = run_bench(
        batch_size=args.batch_size,
        steps=args.steps,
        device=args.device,
        out=args.out or Path("runs/bench.json"),
        compile_model=args.compile,
        allocator=not args.no_allocator,
    )
    print_table(result)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from hmlpe.companion.export import export_results

    manifest = export_results(args.run_dir, args.out, tuple(args.exclude))
    print(f"exported {len(manifest.files)} files to {args.out}")
    return 0


def _cmd_results(args: argparse.Namespace) -> int:
    from hmlpe.companion.seeds import reproduction_table

    table = reproduction_table(args.root, mirror=args.mirror_average)
    if args.format == "csv":
        print(table.to_csv(index=False, float_format="%.2f"), end="")
    else:
        print(markdown_table(table))
    return 0


def _cmd_book(args: argparse.Namespace) -> int:
    from hmlpe.companion import book

    if args.list:
        for entry in book.select_chapters(book.toc_chapters(), args.chapters):
            print(f"{entry}.ipynb")
        return 0
    if args.build_only:
        book.build_html()
        return 0
    book.select_chapters(book.toc_chapters(), args.chapters)  # before any copy or write
    if args.from_results:
        run_dir = book.copy_results(args.from_results, args.run_dir)
        profile = args.profile or book.results_profile(run_dir)
    else:
        from hmlpe.engine.device import select_device

        profile = args.profile or (
            "paper" if select_device("auto").device.type == "cuda" else "cpu"
        )
        run_dir = args.run_dir or Path("runs") / profile
    book.run_book(
        profile,
        run_dir.resolve(),
        chapters=args.chapters,
        build=not args.no_build,
        extra_parameters=parse_overrides(args.param),
        source=_source(args),
    )
    return 0


_COMMANDS = {
    "data": _cmd_data,
    "train": _cmd_train,
    "reproduce": _cmd_reproduce,
    "curve": _cmd_curve,
    "sweep": _cmd_sweep,
    "seeds": _cmd_seeds,
    "evaluate": _cmd_evaluate,
    "predict": _cmd_predict,
    "bench": _cmd_bench,
    "export": _cmd_export,
    "results": _cmd_results,
    "book": _cmd_book,
}


def run(args: argparse.Namespace) -> int:
    """Run the parsed command (each subparser sets ``func``, one ``_cmd_<name>`` above)."""
    cmd = args.command
    if cmd != "train":
        import os

        # engine.distributed.launched()'s rule, read here without importing torch
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise UsageError(
                f"only `hmlpe train` runs under torchrun (data parallel); run "
                f"`hmlpe {cmd}` as one plain process"
            )
    return args.func(args)


# Errors a user can act on, reported as one line with exit status 2: the project's own and
# nothing else (hmlpe.errors, a light module, so reporting loads nothing). Every other
# exception, a ValueError or an OSError included, is a bug or an unchecked input and keeps its
# traceback; HMLPE_DEBUG=1 shows the traceback of the project's own errors too.
def _user_errors() -> tuple[type[BaseException], ...]:
    from hmlpe.errors import HMLPEError

    return (HMLPEError,)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hmlpe.progress import set_progress

    set_progress(getattr(args, "progress", None))  # the one setting every bar below reads
    try:
        return run(args)
    except KeyboardInterrupt:
        # every file is written whole or not at all (temporary file + rename); a training run
        # keeps its last checkpoint (end of an epoch or every 10 minutes inside one)
        where = getattr(args, "out", None) or getattr(args, "root", None)
        hint = (
            f"; continue with the same command and --resume (run folder {where})"
            if args.command == "train"
            else "; the same command continues from what was finished"
            if args.command in ("reproduce", "curve", "sweep", "seeds", "book")
            else ""
        )
        print(f"interrupted: nothing half-written{hint}", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        import os

        if os.environ.get("HMLPE_DEBUG") == "1":
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
