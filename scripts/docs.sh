#!/usr/bin/env bash
# Build the documentation into docs/_build/html; any Sphinx warning fails the build.
# The gallery examples run during the build (offline, CPU, seconds each; the first one
# embeds the MovieLens titles once and caches them in examples/.iadsr_cache).
# Extra arguments go to sphinx (e.g. -E to rebuild every page).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
# the docs extra, installed once per version of pyproject.toml
stamp="$VENV/.iadsr-docs-installed"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing the documentation tools (the docs extra)"
  python -m pip install --quiet -e "$ROOT[docs]"
  echo "$want" > "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=agg
echo "==> sphinx"
python -m sphinx -W --keep-going -b html "$@" docs docs/_build/html
echo "==> docs/_build/html/index.html"
