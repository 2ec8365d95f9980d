#!/usr/bin/env bash
# The test suite: lint, format check, then pytest (slow tests are opt-in: --runslow).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> pytest"
python -m pytest -q "$@"
