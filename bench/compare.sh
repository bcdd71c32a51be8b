#!/usr/bin/env bash
# TorchSharp (./edu bench train) vs PyTorch (bench/pytorch_models.py) train-step benchmark, one model per
# process, run one after the other (never concurrently). Per model and shape, side by side in one run:
#   TorchSharp channels-last (the CPU policy), channels-first (LibTorch's default, blocked oneDNN kernels),
#   both again with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2, what an AVX2-only CPU runs),
#   and Debian's PyTorch eager, contiguous and channels_last.
# Writes JSON lines to bench/results/<stamp>.jsonl and prints one table row per model and shape.
#   bench/compare.sh                 # 2-D 128² and 256², batch 4, 2 threads
#   SIZES="128" MODELS="unet edu" bench/compare.sh
#   WITH_3D=1 bench/compare.sh       # also 3-D 64³, batch 2
#   CONFIGS="cl cf pt" bench/compare.sh   # a subset of: cl cf cl-avx2 cf-avx2 pt pt-cl
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py=/usr/bin/python3
models=${MODELS:-"unet attention-unet unet-mde attention-unet-mde unetpp edu edu-dense edu-lean"}
sizes=${SIZES-"128 256"}   # SIZES="" with WITH_3D=1 runs only the 3-D set
configs=${CONFIGS:-"cl cf cl-avx2 cf-avx2 pt pt-cl"}
threads=${THREADS:-2}; steps=${STEPS:-5}; warmup=${WARMUP:-2}
mkdir -p "$root/bench/results"
out="$root/bench/results/$(date +%Y%m%d-%H%M%S).jsonl"
"$py" "$root/bench/pytorch_models.py" --check >&2
"$root/edu" models >/dev/null   # build once, outside the timings
echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $("$root/edu" doctor --json | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["cpu"]["onednnIsa"], "numerics:", d["numerics"]["configuration"])')" | tee -a "$out" >&2

one() { # config dims batch size model → one JSON line
  local common=(--model "$5" --dims "$2" --batch "$3" --size "$4" --threads "$threads" --steps "$steps" --warmup "$warmup")
  case "$1" in
    cl)      "$root/edu" bench train "${common[@]}" --memory-format channels-last --json | tail -1 ;;
    cf)      "$root/edu" bench train "${common[@]}" --memory-format channels-first --json | tail -1 ;;
    cl-avx2) ONEDNN_MAX_CPU_ISA=AVX2 "$root/edu" bench train "${common[@]}" --memory-format channels-last --json | tail -1 ;;
    cf-avx2) ONEDNN_MAX_CPU_ISA=AVX2 "$root/edu" bench train "${common[@]}" --memory-format channels-first --json | tail -1 ;;
    pt)      "$py" "$root/bench/pytorch_models.py" "${common[@]}" | tail -1 ;;
    pt-cl)   "$py" "$root/bench/pytorch_models.py" "${common[@]}" --channels-last | tail -1 ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}

row() { # dims batch size model
  local lines=() c j
  for c in $configs; do
    j=$(one "$c" "$@")
    echo "{\"config\":\"$c\",${j#\{}" >> "$out"
    lines+=("{\"config\":\"$c\",${j#\{}")
  done
  "$py" - "${lines[@]}" <<'PY'
import json, sys
rows = {r["config"]: r for r in map(json.loads, sys.argv[1:])}
first = next(iter(rows.values()))
cells = "  ".join(f"{c} {r['median_ms']:8.1f}" for c, r in rows.items())
ratios = []
if "cl" in rows and "cf" in rows: ratios.append(f"cl/cf {rows['cl']['median_ms'] / rows['cf']['median_ms']:.2f}")
if "cl" in rows and "pt" in rows: ratios.append(f"cl/pt {rows['cl']['median_ms'] / rows['pt']['median_ms']:.2f}")
if "cl-avx2" in rows and "cf-avx2" in rows: ratios.append(f"avx2 cl/cf {rows['cl-avx2']['median_ms'] / rows['cf-avx2']['median_ms']:.2f}")
print(f"{first['model']:20s} {first['dims']}D {first['size']:4d} b{first['batch']}  {cells} ms  |  {'  '.join(ratios)}", flush=True)
PY
}
for s in $sizes; do for m in $models; do row 2 4 "$s" "$m"; done; done
if [ "${WITH_3D:-0}" = 1 ]; then for m in $models; do row 3 2 64 "$m"; done; fi
echo "results: $out" >&2
