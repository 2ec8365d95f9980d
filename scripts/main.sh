#!/usr/bin/env bash
# The main job on real data (MovieLens-100K by default): the popularity and Markov
# floors, SASRec, and SASRec trained on IADSR-denoised histories (the whole method:
# MiniLM item text + SASRec states, aligned, denoised, retrained), each evaluated by
# full-ranking leave-one-out, then one results table. Extra arguments go to the two
# SASRec runs (e.g. --device cuda or --max-epochs 5); the floors take none.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
dataset="${IADSR_DATASET:-ml-100k}"
out="results/$dataset"
mkdir -p "$out"
for model in pop markov; do
  echo "==> $model on $dataset"
  iadsr-sk run --dataset "$dataset" --model "$model" --seed 0 --out "$out/$model.json"
done
echo "==> sasrec on $dataset"
iadsr-sk run --dataset "$dataset" --model sasrec --seed 0 --out "$out/sasrec.json" "$@"
echo "==> sasrec + IADSR denoising on $dataset"
iadsr-sk run --dataset "$dataset" --model sasrec --denoiser iadsr --seed 0 \
  --embedding-cache .iadsr_cache --out "$out/sasrec-iadsr.json" "$@"
echo
echo "==> results ($dataset, test split; JSON in $out/)"
iadsr-sk report "$out"/pop.json "$out"/markov.json "$out"/sasrec.json "$out"/sasrec-iadsr.json
