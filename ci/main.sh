#!/usr/bin/env bash
# Set up .venv, check the datasets, reproduce the paper and build the book:
# the quick profile on a CPU (about 20-30 minutes on 2 cores), the paper profile on a GPU.
# Pass a profile to choose: bash ci/main.sh smoke|quick|paper
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
