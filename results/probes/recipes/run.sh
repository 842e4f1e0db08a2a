#!/usr/bin/env bash
# Issue 15's recipe probes: pre-training only, on the pool without the validation split
# (data.holdout_validation=true), every recipe for the same image visits (30 passes of the
# held-out pool), seed 0, bf16 autocast on CPU (the engine's default there). Choices are read
# from the validation errors (val_regression*, dead_maps_*, val_regression_mc16*) in each
# history.jsonl; the test errors are logged but not used to choose.
#
#   bash results/probes/recipes/run.sh RUNS_DIR [RECIPE ...]
#
# Runs one recipe after another (never two trainings at once on 2 cores); a finished recipe
# is skipped, an unfinished one resumed.
set -euo pipefail
RUNS="${1:?runs folder}"; shift
PY="${PY:-.venv/bin/python}"
COMMON=(--profile cpu --epochs 30 --seed 0 --set data.holdout_validation=true --set eval_every=3)
declare -A RECIPES=(
  [base]=""
  [kaiming_warm]="--set model.init=kaiming --set optim.warmup=0.05"
  [k14_sgd]="--set model.init=krizhevsky --set optim.name=sgd --set optim.lr=0.01 --set optim.batch_size=128"
  [kaiming_warm_cos]="--set model.init=kaiming --set optim.warmup=0.05 --set optim.schedule=cosine"
  [kaiming_warm_bs256]="--set model.init=kaiming --set optim.warmup=0.05 --set optim.batch_size=256 --set optim.lr=0.002"
  [base_bs256]="--set optim.batch_size=256 --set optim.lr=0.002"
  [kaiming_trunk]="--set model.init=kaiming_trunk"
  [kaiming_trunk_warm]="--set model.init=kaiming_trunk --set optim.warmup=0.05"
  [kaiming_trunk_warm_cos]="--set model.init=kaiming_trunk --set optim.warmup=0.05 --set optim.schedule=cosine"
  [kaiming_trunk_warm_bs256]="--set model.init=kaiming_trunk --set optim.warmup=0.05 --set optim.batch_size=256 --set optim.lr=0.002"
  [base_pack]="--data-pack ${PACK:-runs/hmlpe-pack.zip}"
)
ORDER=("${@:-base kaiming_warm k14_sgd kaiming_warm_cos kaiming_warm_bs256 base_bs256}")
for name in ${ORDER[@]}; do
  out="$RUNS/$name"
  if [[ -f "$out/history.jsonl" ]] && "$PY" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/history.jsonl")]
sys.exit(0 if rows and rows[-1]["epoch"] == 30 else 1)
PY
  then echo "[probe] $name: done"; continue; fi
  resume=(); [[ -f "$out/last.pt" ]] && resume=(--resume)
  echo "[probe] $name: $(date -u +%FT%TZ)"
  # shellcheck disable=SC2086
  "$PY" -m hmlpe train "${COMMON[@]}" ${RECIPES[$name]} --out "$out" "${resume[@]}"
done
