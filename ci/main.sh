#!/usr/bin/env bash
# Set up .venv, check the datasets, reproduce the paper and build the book:
# the cpu profile on a CPU (one seed and Table 3's sweep; wall times in the README), the paper
# profile on a GPU. Pass a profile to choose: bash ci/main.sh smoke|quick|cpu|paper
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
.venv/bin/python -m hmlpe data verify
profile=${1:-}
if [ -n "$profile" ]; then
  .venv/bin/python -m hmlpe book --profile "$profile"
else
  .venv/bin/python -m hmlpe book
fi
echo "The book: _build/html/index.html"
