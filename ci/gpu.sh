#!/usr/bin/env bash
# The GPU check of issue 14, one script for a machine that has PyTorch (with CUDA) but no venv,
# no internet and no datasets: the data pack travels with the working tree instead.
#
#   bash ci/gpu.sh [--device cuda] [--profile paper] [--budget-min 8] [--pack runs/hmlpe-pack.zip]
#                  [--out DIR] [--run-dir DIR] [--no-compile]
#
# 1. what the machine has (python, torch, CUDA, the GPU's name) -> OUT/machine.json
# 2. hmlpe bench on the device, batch 256: old and device data paths, fp32 eager against the
#    engine (bf16 autocast, channels_last), the trainer step eager and compiled, the fraction of
#    the GPU's bf16 peak -> OUT/bench.json
# 3. the profile's pre-training from the pack, stopped after --budget-min minutes of training
#    with a mid-epoch checkpoint (run it again with the same --run-dir to continue) -> RUN_DIR
# 4. Tables 1 and 2 of the network it has (hmlpe evaluate, buffy and flic)
# 5. the small files (configs, histories, metrics, predictions; no weights) -> OUT/results/
#
# Make the pack first, where the data is:  python -m hmlpe data pack runs/hmlpe-pack.zip
# On a CPU (tests/test_gpu_script.py): --device cpu --profile smoke --budget-min 0.05.
# PYTHON (default python3) is the interpreter; HMLPE_PROGRESS=0 unless set.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=cuda PROFILE=paper BUDGET=8 PACK=runs/hmlpe-pack.zip OUT=${OUT:-runs/gpu_out}
RUN_DIR="" COMPILE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --budget-min) BUDGET="$2"; shift 2 ;;
    --pack) PACK="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --run-dir) RUN_DIR="$2"; shift 2 ;;
    --no-compile) COMPILE=0; shift ;;
    *) echo "ci/gpu.sh: unknown option $1 (see the header)" >&2; exit 2 ;;
  esac
done
PY="${PYTHON:-python3}"
RUN_DIR="${RUN_DIR:-runs/gpu_$PROFILE}"
export HMLPE_PROGRESS="${HMLPE_PROGRESS:-0}" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
[[ -f "$PACK" ]] || { echo "ci/gpu.sh: no data pack at $PACK (make it with: python -m hmlpe data pack $PACK)" >&2; exit 2; }
mkdir -p "$OUT/results"
t0=$SECONDS
log() { echo "=== [gpu.sh $((SECONDS - t0)) s] $*"; }

log "machine"
"$PY" - "$OUT/machine.json" "$DEVICE" <<'PY'
import json, platform, sys
missing = []
for mod in ("numpy", "torch", "PIL"):
    try:
        __import__(mod)
    except ImportError:
        missing.append(mod)
if missing:
    sys.exit(f"ci/gpu.sh: this python lacks {', '.join(missing)}; hmlpe needs them")
import torch
info = {"python": platform.python_version(), "torch": torch.__version__,
        "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "host_cpu": platform.processor() or platform.machine()}
if sys.argv[2].startswith("cuda") and not info["cuda_available"]:
    sys.exit(f"ci/gpu.sh: --device {sys.argv[2]} but torch {torch.__version__} sees no GPU")
json.dump(info, open(sys.argv[1], "w"), indent=1)
print(json.dumps(info))
PY

log "bench"
bench_args=(--device "$DEVICE" --batch-size 256 --steps 10 --no-allocator --out "$OUT/bench.json")
[[ "$COMPILE" == 1 && "$DEVICE" == cuda* ]] && bench_args+=(--compile)
[[ "$DEVICE" == cpu* ]] && bench_args=(--device "$DEVICE" --batch-size 16 --steps 1 --no-allocator --out "$OUT/bench.json")
"$PY" -m hmlpe bench "${bench_args[@]}"

log "pre-training ($PROFILE, at most $BUDGET min of training)"
resume=(); [[ -f "$RUN_DIR/pretrain/last.pt" ]] && resume=(--resume)
"$PY" -m hmlpe train --profile "$PROFILE" --device "$DEVICE" --data-pack "$PACK" \
  --out "$RUN_DIR/pretrain" --time-budget-min "$BUDGET" "${resume[@]}"

for ds in buffy flic; do
  log "evaluate $ds"
  "$PY" -m hmlpe evaluate --checkpoint "$RUN_DIR/pretrain/last.pt" --dataset "$ds" \
    --device "$DEVICE" --data-pack "$PACK" --out "$RUN_DIR/eval_pretrain_$ds"
done

log "small results -> $OUT/results"
for d in pretrain eval_pretrain_buffy eval_pretrain_flic; do
  mkdir -p "$OUT/results/$d"
  for f in config.json history.jsonl history.csv metrics.json predictions.csv; do
    [[ -f "$RUN_DIR/$d/$f" ]] && cp "$RUN_DIR/$d/$f" "$OUT/results/$d/"
  done
done
cp "$OUT/machine.json" "$OUT/bench.json" "$OUT/results/"
log "done"
