#!/usr/bin/env bash
# Mixed precision on the CPU (docs/benchmarks.md, "Mixed precision on the CPU"): fp32 against bf16, side by side in one
# run. Step time and peak RSS with `edu bench train` (one process per model and precision, the two precisions
# interleaved and their order swapped each round, so machine load hits both alike), then the final Dice after the same
# epochs: `edu quickstart` (all its epochs: no time budget) and a 2-D U-Net on the slices of the synthetic CT (3-D nets
# do not train in bf16 on the CPU: see the docs). Writes into OUT (default bench/results/precision-<stamp>/).
#   bench/precision.sh
#   MODELS="unet edu-dense" ROUNDS=3 SEED=1 bench/precision.sh /tmp/prec
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
edu="$root/edu"
out=${1:-"$root/bench/results/precision-$(date +%Y%m%d-%H%M%S)"}
models=${MODELS:-"unet attention-unet unet-mde edu edu-dense"}
rounds=${ROUNDS:-2}; seed=${SEED:-0}; steps=${STEPS:-5}; warmup=${WARMUP:-2}
mkdir -p "$out"
log() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*" | tee -a "$out/progress.log" >&2; }
"$edu" doctor > "$out/doctor.txt" 2>&1 || true   # builds edu once and records the CPU

for ((round = 1; round <= rounds; round++)); do
  order="fp32 bf16"; ((round % 2 == 0)) && order="bf16 fp32"
  for model in $models; do
    for p in $order; do
      log "bench train $model 2-D 128² batch 4 $p (round $round)"
      "$edu" bench train --model "$model" --size 128 --batch 4 --steps "$steps" --warmup "$warmup" --precision "$p" --json \
        2>>"$out/stderr.log" | tail -1 >> "$out/train.jsonl"
    done
  done
done

"$edu" synth --modality ct --count 16 --size 64 --seed 1 --out "$out/ct" > /dev/null
for p in fp32 bf16; do
  log "quickstart $p (seed $seed, 30 epochs)"
  /usr/bin/time -v "$edu" quickstart --out "$out/qs-$p" --precision "$p" --time-budget 100000 --seed "$seed" \
    > "$out/qs-$p.out" 2> "$out/qs-$p.time"
  log "CT slices, unet base 8 depth 3, 20 epochs, $p"
  /usr/bin/time -v "$edu" train --dataset "$out/ct" --slices --model unet --base 8 --depth 3 --epochs 20 --steps 5 --batch 8 \
    --lr 0.003 --seed "$seed" --precision "$p" --out "$out/ct-$p" --json > "$out/ct-$p.out" 2> "$out/ct-$p.time"
  "$edu" evaluate --model "$out/ct-$p" --dataset "$out/ct" --json > "$out/ct-$p.eval.json" 2>>"$out/stderr.log"
done

python3 - "$out" <<'PY'
import json, re, statistics, sys
out = sys.argv[1]
rows = {}
for line in open(f"{out}/train.jsonl"):
    r = json.loads(line)
    rows.setdefault(r["model"], {}).setdefault(r["precision"], []).append(r)
print("| model | fp32 ms | bf16 ms | bf16/fp32 | peak RSS MiB fp32 / bf16 |")
print("|---|---|---|---|---|")
for model, by in rows.items():
    f = statistics.median(r["median_ms"] for r in by["fp32"]); b = statistics.median(r["median_ms"] for r in by["bf16"])
    rf = max(r["peak_rss_mb"] for r in by["fp32"]); rb = max(r["peak_rss_mb"] for r in by["bf16"])
    print(f"| {model} | {f:.0f} | {b:.0f} | {b / f:.2f} | {rf:.0f} / {rb:.0f} |")
def rss(path):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1)) // 1024
for p in ("fp32", "bf16"):
    q = json.loads(open(f"{out}/qs-{p}.out").read().strip().splitlines()[-1])
    e = json.load(open(f"{out}/ct-{p}.eval.json"))
    print(f"{p}: quickstart Dice {q['dice']} IoU {q['iou']} in {q['seconds']} s, peak RSS {rss(f'{out}/qs-{p}.time')} MiB; "
          f"CT slices Dice {e['dice']:.4f} {json.dumps(e.get('per_label_dice'))}, peak RSS {rss(f'{out}/ct-{p}.time')} MiB")
PY
