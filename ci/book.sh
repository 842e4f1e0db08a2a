#!/usr/bin/env bash
# Execute, check and build the book for one profile, then look at it in a browser.
#
#   bash ci/book.sh [PROFILE]        (default: smoke)
#   bash ci/book.sh results [DIR]    the book from committed results (default results/cpu/seed_0):
#                                    nothing is trained, no weights are needed, no nbval
#
# Steps (each timed):
#   1. vendor the browser JavaScript (require.js, ipywidgets embedder, MathJax) if missing
#   2. execute every chapter of _toc.yml with papermill (`python -m hmlpe book`), timings in
#      runs/PROFILE/book_timings.json
#   3. nbval: re-execute the notebooks and compare with the stored outputs
#      (ci/nbval_sanitize.cfg masks what legitimately varies); HMLPE_BOOK_NBVAL=0 skips it
#   4. jupyter-book build . -W --all  (warnings are errors)
#   5. headless Chromium opens every chapter page (tests/book/test_browser.py): full-page
#      screenshots at laptop and phone width in _build/screenshots/, layout, console and
#      network checks, the label explorer driven
# Assumes .venv has the project with its book and test extras (the setup script makes it).
set -euo pipefail

PROFILE="${1:-smoke}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
RUN_DIR="${HMLPE_BOOK_RUN_DIR:-$ROOT/runs/$PROFILE}"
if [[ "$PROFILE" == "results" ]]; then
  RESULTS="${2:-results/cpu/seed_0}"
  export HMLPE_BOOK_NBVAL=0   # stored outputs are the smoke run's; this build only executes
fi
[[ -x "$PY" ]] || { echo "ci/book.sh: $PY missing: create the venv first" >&2; exit 1; }

declare -a STEP_NAMES=() STEP_SECS=()
step() {  # step NAME CMD...: run and time one step
  local name="$1"; shift
  echo "=== [book.sh] $name"
  local t0=$SECONDS
  "$@"
  STEP_NAMES+=("$name"); STEP_SECS+=("$((SECONDS - t0))")
  echo "=== [book.sh] $name: $((SECONDS - t0)) s"
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium missing: installing it with apt-get"
    local SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
  fi
  chromium --version
}

run_nbval() {
  if [[ "${HMLPE_BOOK_NBVAL:-1}" == "0" ]]; then echo "skipped (HMLPE_BOOK_NBVAL=0)"; return; fi
  mapfile -t NOTEBOOKS < <("$PY" -m hmlpe book --list)
  "$PY" -m pytest -p no:cacheprovider --nbval "${NOTEBOOKS[@]}" \
    --nbval-sanitize-with ci/nbval_sanitize.cfg
}

step "chromium" ensure_chromium
step "vendor JavaScript" bash ci/vendor_widgets.sh
if [[ "$PROFILE" == "results" ]]; then
  step "execute chapters (from $RESULTS)" "$PY" -m hmlpe book --from-results "$RESULTS" --no-build
else
  step "execute chapters ($PROFILE)" "$PY" -m hmlpe book --profile "$PROFILE" --run-dir "$RUN_DIR" --no-build
fi
step "nbval" run_nbval
step "build HTML" "$PY" -m hmlpe book --build-only
step "browser check" "$PY" -m pytest -p no:cacheprovider tests/book -m browser --book-html=_build/html

echo "=== [book.sh] done (profile $PROFILE):"
for i in "${!STEP_NAMES[@]}"; do printf '  %-32s %5d s\n' "${STEP_NAMES[$i]}" "${STEP_SECS[$i]}"; done
echo "  book: _build/html/index.html   screenshots: _build/screenshots/   timings: $RUN_DIR/book_timings.json"
