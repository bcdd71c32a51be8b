#!/usr/bin/env bash
# Float32 CPU inference, side by side in one run, one model per process, never concurrently:
#   TorchSharp and ONNX Runtime (`edu bench onnx`: same net and weights, alternating step by step) and Debian's PyTorch
#   eager (bench/pytorch_models.py --infer), contiguous and channels_last.
# Writes JSON lines to bench/results/onnx-<stamp>.jsonl and prints one table row per model and shape.
#   bench/onnx.sh                           # every net, 2-D 256² batch 4 and 3-D 64³ batch 1, 2 threads
#   MODELS="unet edu-dense" SHAPES="2:4:128" bench/onnx.sh     # SHAPES: dims:batch:size ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py=/usr/bin/python3
models=${MODELS:-"unet attention-unet unet-mde attention-unet-mde unetpp edu edu-dense edu-lean"}
shapes=${SHAPES:-"2:4:256 3:1:64"}
threads=${THREADS:-2}; steps=${STEPS:-5}; warmup=${WARMUP:-2}
mkdir -p "$root/bench/results"
out="$root/bench/results/onnx-$(date +%Y%m%d-%H%M%S).jsonl"
"$root/edu" models >/dev/null   # build once, outside the timings
echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $threads threads" | tee -a "$out" >&2
printf '| model | shape | TorchSharp ms | ONNX Runtime ms | PyTorch ms | PyTorch channels_last ms | max abs logit diff |\n|---|---|---|---|---|---|---|\n'
for shape in $shapes; do
  IFS=: read -r dims batch size <<<"$shape"
  for model in $models; do
    common=(--model "$model" --dims "$dims" --batch "$batch" --size "$size" --threads "$threads" --steps "$steps" --warmup "$warmup")
    ours=$("$root/edu" bench onnx "${common[@]}" --json | tail -1)
    pt=$("$py" "$root/bench/pytorch_models.py" "${common[@]}" --infer | tail -1)
    ptcl=$("$py" "$root/bench/pytorch_models.py" "${common[@]}" --infer --channels-last | tail -1)
    printf '%s\n%s\n%s\n' "$ours" "$pt" "$ptcl" >>"$out"
    "$py" - "$ours" "$pt" "$ptcl" "$dims" "$batch" "$size" <<'PY'
import json, sys
ours, pt, ptcl = (json.loads(a) for a in sys.argv[1:4])
dims, batch, size = sys.argv[4:7]
t = {x["backend"]: x["median_ms"] for x in ours["timings"]}
shape = f"{dims}-D {size}{'²' if dims == '2' else '³'} ×{batch}"
print(f"| {ours['model']} | {shape} | {t['torch']} | {t['onnxruntime']} | {pt['median_ms']} | {ptcl['median_ms']} | {ours['max_abs_diff']:.1e} |")
PY
  done
done
echo "results: $out" >&2
