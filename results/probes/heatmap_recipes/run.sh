#!/usr/bin/env bash
# Issue 17's recipe probe for the heatmap network (the "Since 2014" reference): pre-training
# only, on the pool without the validation split (data.holdout_validation=true), every recipe
# for the same image visits (14 passes of the held-out pool, a quarter of the heatmap
# profile's 56), seed 0, bf16 autocast on CPU. The learning rate is read from the validation
# error (val_regression, eq. 1 of the decoded joints) at the last epoch of each history.jsonl;
# the test errors are logged but not used to choose. Every recipe sets its rate explicitly, so
# the probe does not change meaning when the profile takes the chosen one.
#
#   bash results/probes/heatmap_recipes/run.sh RUNS_DIR [RECIPE ...]
#
# One recipe after another (never two trainings at once on 2 cores); a finished recipe is
# skipped, an unfinished one resumed.
set -euo pipefail
RUNS="${1:?runs folder}"; shift
PY="${PY:-.venv/bin/python}"
EPOCHS=14
COMMON=(--profile heatmap --epochs $EPOCHS --seed 0 --set data.holdout_validation=true --set eval_every=2)
declare -A RECIPES=(
  [lr1e-3]="--set optim.lr=0.001"
  [lr3e-3]="--set optim.lr=0.003"
  [lr1e-2]="--set optim.lr=0.01"
  [lr3e-2]="--set optim.lr=0.03"
)
ORDER=("${@:-lr1e-3 lr3e-3 lr1e-2 lr3e-2}")
for name in ${ORDER[@]}; do
  out="$RUNS/$name"
  if [[ -f "$out/history.jsonl" ]] && "$PY" - "$out" "$EPOCHS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/history.jsonl")]
sys.exit(0 if rows and rows[-1]["epoch"] == int(sys.argv[2]) else 1)
PY
  then echo "[probe] $name: done"; continue; fi
  resume=(); [[ -f "$out/last.pt" ]] && resume=(--resume)
  echo "[probe] $name: $(date -u +%FT%TZ)"
  # shellcheck disable=SC2086
  "$PY" -m hmlpe train "${COMMON[@]}" ${RECIPES[$name]} --out "$out" "${resume[@]}" --no-progress
done
