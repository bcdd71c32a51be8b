#!/usr/bin/env bash
# TorchSharp (./edu bench train) vs PyTorch (bench/pytorch_models.py) train-step benchmark, one model per
# process, run one after the other (never concurrently). Writes JSON lines to bench/results/<stamp>.jsonl.
#   bench/compare.sh                 # 2-D 128² and 256², batch 4, 2 threads
#   SIZES="128" MODELS="unet edu" bench/compare.sh
#   WITH_3D=1 bench/compare.sh       # also 3-D 64³, batch 2
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py=/usr/bin/python3
models=${MODELS:-"unet attention-unet unet-mde attention-unet-mde unetpp edu"}
sizes=${SIZES-"128 256"}   # SIZES="" with WITH_3D=1 runs only the 3-D set
threads=${THREADS:-2}; steps=${STEPS:-5}; warmup=${WARMUP:-2}
mkdir -p "$root/bench/results"
out="$root/bench/results/$(date +%Y%m%d-%H%M%S).jsonl"
"$py" "$root/bench/pytorch_models.py" --check >&2
"$root/edu" models >/dev/null   # build once, outside the timings
run() { # dims batch size model
  local ts pt
  ts=$("$root/edu" bench train --model "$4" --dims "$1" --batch "$2" --size "$3" --threads "$threads" --steps "$steps" --warmup "$warmup" --json | tail -1)
  pt=$("$py" "$root/bench/pytorch_models.py" --model "$4" --dims "$1" --batch "$2" --size "$3" --threads "$threads" --steps "$steps" --warmup "$warmup" | tail -1)
  echo "{\"framework\":\"torchsharp\",${ts#\{}" >> "$out"
  echo "{\"framework\":\"pytorch\",${pt#\{}" >> "$out"
  "$py" - "$ts" "$pt" <<'PY'
import json, sys
t, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{t['model']:20s} {t['dims']}D {t['size']:4d} b{t['batch']}  TorchSharp {t['median_ms']:9.1f} ms {t['peak_rss_mb']:7.0f} MiB | "
      f"PyTorch {p['median_ms']:9.1f} ms {p['peak_rss_mb']:7.0f} MiB | time ratio {t['median_ms']/p['median_ms']:.2f}")
PY
}
for s in $sizes; do for m in $models; do run 2 4 "$s" "$m"; done; done
if [ "${WITH_3D:-0}" = 1 ]; then for m in $models; do run 3 2 64 "$m"; done; fi
echo "results: $out" >&2
