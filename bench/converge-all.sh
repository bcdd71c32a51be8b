#!/usr/bin/env bash
# Convergence on synthetic data for every modality plugin: the docs/benchmarks.md table.
# Same data, split, seed and settings for every model. The 2-D pipelines are the plugins' with the resize
# target cut from 512 to the data's 64 px (two CPU cores); CT and MR keep theirs and train 2-D nets on slices.
#   bench/converge-all.sh [OUT]      env: EDU (default ./edu), MODALITIES, EPOCHS, SEEDS (default "0 1 2"),
#                                    MODELS (comma-separated; default: edu bench converge's own list)
# Results: OUT/seed-S/MODALITY/converge.json and .png; bench/converge-table.py OUT prints the table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
edu="${EDU:-$root/edu}"
out="${1:-$root/bench/results/converge-$(date +%Y%m%d-%H%M)}"
modalities="${MODALITIES:-xray microscopy dermoscopy endoscopy fundus ct mr}"
epochs="${EPOCHS:-30}"
seeds="${SEEDS:-0 1 2}"
models=()
[ -n "${MODELS:-}" ] && models=(--models "$MODELS")
mkdir -p "$out"
for seed in $seeds; do
  for m in $modalities; do
    [ -e "$out/seed-$seed/$m/converge.json" ] && continue   # done on an earlier call: resumable
    rm -rf "$out/seed-$seed/$m"
    [ -e "$out/data-$m/dataset.json" ] || "$edu" synth --modality "$m" --count 40 --size 64 --seed 1 --out "$out/data-$m" >/dev/null
    case "$m" in
      xray) extra=(--preprocessing "percentile(low=0.5, high=99.5); resize(size=64x64, pad=0)") ;;
      dermoscopy|endoscopy|fundus) extra=(--preprocessing "scale(factor=0.00392156862745098, offset=0); resize(size=64x64, pad=0)") ;;
      ct|mr) extra=(--slices) ;;
      *) extra=() ;;
    esac
    echo "== seed $seed $m ($(date -u +%H:%M))"
    # a net that fails is recorded; bench converge runs the others and writes converge-partial.json (no converge.json, so a rerun redoes the modality)
    "$edu" bench converge --dataset "$out/data-$m" --out "$out/seed-$seed/$m" --epochs "$epochs" --steps 5 --batch 8 \
      --base 8 --depth 3 --lr 0.003 --target 0.9 --seed "$seed" "${models[@]}" "${extra[@]}" \
      || echo "seed $seed $m: bench converge failed (exit $?), see the log above" | tee -a "$out/failures.txt"
  done
done
