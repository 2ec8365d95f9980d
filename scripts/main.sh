#!/usr/bin/env bash
# The main job: every model on MovieLens-100K (real data, full-ranking leave-one-out),
# with progress output and a results table. Extra arguments go to each `iadsr-sk run`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
dataset="${IADSR_DATASET:-ml-100k}"
out="results/$dataset"
mkdir -p "$out"
for model in pop markov sasrec; do
  echo "==> $model on $dataset"
  iadsr-sk run --dataset "$dataset" --model "$model" --seed 0 --out "$out/$model.json" "$@"
done
echo
echo "==> results ($dataset, test split; JSON in $out/)"
iadsr-sk report "$out"/pop.json "$out"/markov.json "$out"/sasrec.json
