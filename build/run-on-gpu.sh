#!/usr/bin/env bash
# The prepared GPU run of the EDU bundle (build/gpu-bundle.sh; docs/gpu.md). Needs python3 with torch (or --torch-lib), no .NET,
# no network. Checks offline that TorchSharp's native glue (prebuilt/libLibTorchSharp.so, built for LibTorch 2.10, or the
# one --libtorchsharp names) binds every symbol against the machine's torch (libtorchsharp-check.py), then runs: doctor (once
# with LD_BIND_NOW=1), CPU-vs-device parity, bench train for every net, segmentation latency (512² image, 300-slice CT) and a
# short worker run. One JSON report plus logs in --out.
#
#   ./run-on-gpu.sh [--device cuda|cpu] [--torch-dir DIR | --torch-lib DIR] [--libtorchsharp FILE] [--out DIR] [--time-limit S] [--models a,b] [--quick]
#     --device        where the nets run (default cuda); cpu is the self-test
#     --torch-dir     a torch package folder with lib/ (default: python3 -c 'import torch')
#     --torch-lib     a folder of LibTorch libraries
#     --libtorchsharp a libLibTorchSharp.so built for this torch (TorchSharp 0.107.0's glue; default prebuilt/, for LibTorch 2.10)
#     --out           report folder (default ./gpu-report-YYYYmmdd-HHMMSS)
#     --time-limit    seconds for everything (default 600); each step also has its own limit
#     --models        nets for bench train (default all eight)
#     --quick         small sizes (the CPU self-test: --torch-lib DIR --device cpu --quick)
# Exit codes: 0 every step passed; 1 a step failed (see report.json "failed"); 2 bad usage or nothing to run with.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
self="$here/$(basename "${BASH_SOURCE[0]}")"

if [ "${1:-}" = "__bench" ]; then
  # internal: one bench train run with peak device memory polled from nvidia-smi; prints the result JSON with "pmu_mb" added
  shift; res="$1"; shift
  "$here/edu/edu" bench train "$@" --json > "$res.raw" &
  pid=$!; peak=""
  source_note="nvidia-smi used_memory of the process (CUDA context + caching allocator), polled every 0.2 s"
  if [ "$EDU_RUN_DEVICE" != cpu ] && command -v nvidia-smi > /dev/null; then
    gpu_peak=""
    while kill -0 "$pid" 2> /dev/null; do
      v="$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2> /dev/null | awk -F', *' -v p="$pid" '$1==p {print $2}')"
      if [ -n "$v" ] && { [ -z "$peak" ] || [ "$v" -gt "$peak" ]; }; then peak="$v"; fi
      # in a container nvidia-smi may show host PIDs or none: the GPU's used memory (this run is alone on it) is the fallback
      g="$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2> /dev/null | head -n 1 | tr -d ' ')"
      if [ -n "$g" ] && { [ -z "$gpu_peak" ] || [ "$g" -gt "$gpu_peak" ]; }; then gpu_peak="$g"; fi
      sleep 0.2
    done
    if [ -z "$peak" ] && [ -n "$gpu_peak" ]; then
      peak="$gpu_peak"; source_note="nvidia-smi memory.used of the whole GPU (the process was not listed), polled every 0.2 s"
    fi
  fi
  wait "$pid"; rc=$?
  [ "$rc" = 0 ] || exit "$rc"
  python3 - "$res.raw" "$res" "${peak:-null}" "$source_note" <<'PY'
import json, sys
r = json.loads([l for l in open(sys.argv[1]).read().splitlines() if l.startswith("{")][-1])
r["pmu_mb"] = None if sys.argv[3] == "null" else float(sys.argv[3])
r["pmu_source"] = sys.argv[4] if r["pmu_mb"] is not None else "none (cpu, or no nvidia-smi: see peak_rss_mb)"
json.dump(r, open(sys.argv[2], "w"))
PY
  exit $?
fi

device=cuda torch_dir="" torch_lib="" out="" limit=600 quick=0 given_lts=""
models="unet,attention-unet,unet-mde,attention-unet-mde,unetpp,edu,edu-dense,edu-lean"
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "error: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --device) need "$@"; device="$2"; shift 2 ;;
    --torch-dir) need "$@"; torch_dir="$2"; shift 2 ;;
    --torch-lib) need "$@"; torch_lib="$2"; shift 2 ;;
    --out) need "$@"; out="$2"; shift 2 ;;
    --time-limit) need "$@"; limit="$2"; shift 2 ;;
    --models) need "$@"; models="$2"; shift 2 ;;
    --libtorchsharp) need "$@"; given_lts="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$device" in cpu|cuda|cuda:[0-9]*) ;; *) echo "error: --device '$device': use cuda, cuda:N or cpu" >&2; exit 2 ;; esac
case "$limit" in ''|*[!0-9]*) echo "error: --time-limit '$limit': give whole seconds" >&2; exit 2 ;; esac
command -v python3 > /dev/null || { echo "error: python3 is missing: it finds torch and writes the report" >&2; exit 2; }
start=$(date +%s); deadline=$((start + limit))
out="${out:-$PWD/gpu-report-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out/logs" "$out/results" "$out/work" || { echo "error: --out $out cannot be created" >&2; exit 2; }
out="$(cd "$out" && pwd)"
steps="$out/steps.tsv"; : > "$steps"
note() { printf '%s\n' "$*" | tee -a "$out/logs/run.log" >&2; }

# --- torch ---
if [ -n "$torch_lib" ]; then
  [ -d "$torch_lib" ] || { echo "error: --torch-lib $torch_lib is not a folder" >&2; exit 2; }
  lib="$(cd "$torch_lib" && pwd)"
elif [ -n "$torch_dir" ]; then
  [ -d "$torch_dir/lib" ] || { echo "error: --torch-dir $torch_dir has no lib/ folder" >&2; exit 2; }
  torch_dir="$(cd "$torch_dir" && pwd)"; lib="$torch_dir/lib"
else
  torch_dir="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2> "$out/logs/python-torch.log")" \
    || { echo "error: python3 cannot import torch (see $out/logs/python-torch.log); give --torch-dir or --torch-lib" >&2; exit 2; }
  lib="$torch_dir/lib"
fi
if [ -n "$given_lts" ]; then
  [ -f "$given_lts" ] || { echo "error: --libtorchsharp $given_lts is not a file" >&2; exit 2; }
  given_lts="$(cd "$(dirname "$given_lts")" && pwd)/$(basename "$given_lts")"
fi
for f in libtorch.so libc10.so libtorch_cpu.so; do
  [ -e "$lib/$f" ] || { echo "error: $lib has no $f: not a LibTorch library folder" >&2; exit 2; }
done
python3 -c 'import torch, json; print(json.dumps({"version": torch.__version__, "cuda": torch.version.cuda}))' > "$out/results/python-torch.json" 2> /dev/null \
  || echo '{"version": null, "cuda": null}' > "$out/results/python-torch.json"
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export EDU_CACHE_DIR="$out/work/cache" EDU_RUN_DEVICE="$device" DOTNET_NOLOGO=1
edu="$here/edu/edu"; worker="$here/edu-worker/edu-worker"

# run_step NAME LIMIT COMMAND...: runs under its own timeout (cut to what the total limit leaves), logs to logs/NAME.log
run_step() {
  local name="$1" max="$2"; shift 2
  local left=$((deadline - $(date +%s) - 10)) t0 rc status
  if [ -n "${skip_reason:-}" ]; then printf '%s\tskipped\t\t0\t%s\n' "$name" "$skip_reason" >> "$steps"; note "step $name: skipped ($skip_reason)"; return 1; fi
  if [ "$left" -lt 5 ]; then printf '%s\tskipped\t\t0\ttotal time limit reached\n' "$name" >> "$steps"; note "step $name: skipped (time limit)"; return 1; fi
  [ "$max" -gt "$left" ] && max="$left"
  t0=$(date +%s)
  timeout -k 5 "$max" "$@" > "$out/logs/$name.log" 2>&1; rc=$?
  case "$rc" in 0) status=pass ;; 124|137) status=timeout ;; *) status=fail ;; esac
  printf '%s\t%s\t%s\t%s\tlimit %ss\n' "$name" "$status" "$rc" "$(($(date +%s) - t0))" "$max" >> "$steps"
  note "step $name: $status (exit $rc, $(($(date +%s) - t0)) s)"
  [ "$rc" = 0 ]
}
# the result of a step: the last line of its log that is a JSON object (stderr shares the log; a warning may follow the result)
json_result() { grep '^{' "$1" 2> /dev/null | tail -n 1 > "$2"; }

# --- LibTorchSharp: TorchSharp 0.107.0's prebuilt glue (LibTorch 2.10), or the one --libtorchsharp names ---
lts_source=prebuilt lts_reason="TorchSharp 0.107.0's NuGet build, compiled against LibTorch 2.10"
so="$here/prebuilt/libLibTorchSharp.so"
if [ -n "$given_lts" ]; then lts_source=given lts_reason="--libtorchsharp $given_lts"; so="$given_lts"; fi
note "LibTorchSharp: $lts_reason"
for app in edu edu-worker; do cp --remove-destination "$so" "$here/$app/libLibTorchSharp.so"; done

# --- does it bind against this torch? every undefined symbol against what torch/lib (and its dependencies) define ---
binds=1
run_step symbols 120 python3 "$here/libtorchsharp-check.py" --lib "$so" --torch-lib "$lib" --list "$out/results/missing-symbols.txt" || binds=0

# --- sizes ---
if [ "$quick" = 1 ]; then
  par=(--size 32 --batch 2 --steps 2 --base 4 --threads 2); b2=(--size 32 --batch 2 --base 4); b3=(--size 32 --batch 1 --base 4); bsteps=(--steps 2 --warmup 1)
  img=64 ct_xy=64 ct_z=20 ct_patch=32 base=(--base 4 --depth 2) n_img=3
else
  par=(--size 128 --batch 4 --steps 5); b2=(--size 256 --batch 16); b3=(--size 96 --batch 2); bsteps=(--steps 10 --warmup 3)
  img=512 ct_xy=512 ct_z=300 ct_patch=64 base=() n_img=6
fi

# --- doctor, once with LD_BIND_NOW=1: a missing symbol fails at start ---
run_step doctor 90 env LD_BIND_NOW=1 "$edu" doctor --json
json_result "$out/logs/doctor.log" "$out/results/doctor.json"
python3 - "$out/results/doctor.json" "$device" >> "$out/logs/doctor.log" 2>&1 <<'PY' || sed -i 's/^doctor\tpass\t/doctor\tfail\t/' "$steps"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["torch"]["loaded"], "LibTorch did not load: %s" % d["torch"]["error"]
assert sys.argv[2] == "cpu" or d["devices"]["cuda"]["available"], "no CUDA device seen by LibTorch"
PY
# doctor exits 1 for a missing GDCM (DICOM), which this run does not need: the step passes when LibTorch (and CUDA) load.
grep -q $'^doctor\tfail\t1\t' "$steps" && python3 -c "
import json,sys; d=json.load(open('$out/results/doctor.json')); sys.exit(0 if d['torch']['loaded'] and all(p['component']=='GDCM' for p in d['problems']) and ('$device'=='cpu' or d['devices']['cuda']['available']) else 1)" 2> /dev/null \
  && sed -i 's/^doctor\tfail\t1\t\([0-9]*\)\t.*/doctor\tpass\t1\t\1\tonly GDCM missing (not needed here)/' "$steps"

# Glue that does not bind cannot run a net: doctor above recorded how loading fails; the rest is skipped, not timed out.
[ "$binds" = 1 ] || skip_reason="LibTorchSharp does not bind against $lib (see logs/symbols.log)"

# --- parity: the same seeded steps on the CPU and on the device ---
run_step parity 180 "$edu" bench parity --devices "cpu,$device" --model unet --seed 0 "${par[@]}" --json
json_result "$out/logs/parity.log" "$out/results/parity.json"

# --- segmentation latency: 2-D images of img², and one CT of ct_xy² × ct_z slices ---
seg2d() {
  set -e; w="$out/work/seg2d"; rm -rf "$w"; mkdir -p "$w"
  "$edu" synth --modality xray --count 4 --test "$n_img" --size "$img" --out "$w/data"
  "$edu" train --dataset "$w/data" --out "$w/run" --model unet "${base[@]}" --epochs 1 --steps 2 --batch 2 --device "$device" --json
  "$edu" segment "$w"/data/imagesTs/* --model "$w/run" --out "$w/out" --device "$device" --json | tail -n 1 > "$out/results/segment_2d.json"
}
segct() {
  set -e; w="$out/work/segct"; rm -rf "$w"; mkdir -p "$w"
  "$edu" synth --modality ct --count 3 --test 1 --size 64 --out "$w/data"
  "$edu" train --dataset "$w/data" --out "$w/run" --model unet "${base[@]}" --patch "$ct_patch" --epochs 1 --steps 2 --batch 1 --device "$device" --json
  python3 - "$w/ct.nii" "$ct_xy" "$ct_z" <<'PY'
import struct, sys, array
path, n, nz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sx, sz = 0.7, 2.5
hdr = struct.pack("<i10s18sihcc8h3f4h8f3fhcc4f2i80s24s2h6f4f4f4f16s4s", 348, b"", b"", 0, 0, b"\0", b"\0",
    3, n, n, nz, 1, 1, 1, 1, 0, 0, 0, 0, 4, 16, 0, 1.0, sx, sx, sz, 1, 1, 1, 1, 352.0, 1.0, 0.0, 0, b"\0", b"\x02",
    0, 0, 0, 0, 0, 0, b"synthetic CT (run-on-gpu.sh)", b"", 0, 1, 0, 0, 0, 0, 0, 0,
    -sx, 0, 0, 0, 0, -sx, 0, 0, 0, 0, sz, 0, b"", b"n+1\0")
assert len(hdr) == 348
sl = array.array("h", [-1000]) * (n * n)
c = (n - 1) / 2
for y in range(n):
    for x in range(n):
        dx, dy = (x - c) / (0.45 * n), (y - c) / (0.35 * n)
        if dx * dx + dy * dy < 1:
            lung = min(((x - c + s * 0.2 * n) / (0.15 * n)) ** 2 + ((y - c) / (0.25 * n)) ** 2 for s in (-1, 1)) < 1
            sl[y * n + x] = -800 if lung else 40
data = sl.tobytes()
with open(path, "wb") as f:
    f.write(hdr + b"\0\0\0\0")
    for z in range(nz): f.write(data)
PY
  "$edu" segment "$w/ct.nii" --model "$w/run" --out "$w/out" --device "$device" --json | tail -n 1 > "$out/results/segment_ct.json"
}
export out edu worker device img ct_xy ct_z ct_patch n_img
run_step segment_2d 150 bash -o pipefail -c "$(declare -f seg2d); base=(${base[*]}); seg2d; [ -s \"\$out/results/segment_2d.json\" ]"
run_step segment_ct 240 bash -o pipefail -c "$(declare -f segct); base=(${base[*]}); segct; [ -s \"\$out/results/segment_ct.json\" ]"

# --- a short worker run on the device: remote train, then remote segment with the model it made ---
workerrun() {
  set -e; w="$out/work/worker"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:$port"
  "$worker" --urls "$url" --Worker:Device="$device" --Worker:ModelsPath="$w/models" --Worker:DataPath="$w/data" --Worker:MetricsUrl= > "$out/logs/worker-server.log" 2>&1 &
  wpid=$!; trap 'kill $wpid 2> /dev/null; wait $wpid 2> /dev/null' EXIT
  for i in $(seq 1 120); do "$edu" remote jobs --server "$url" --timeout 5 > /dev/null 2>&1 && break; kill -0 $wpid; sleep 0.5; done
  "$edu" synth --modality xray --count 4 --test 1 --size 64 --out "$w/ds"
  "$edu" remote train --server "$url" --dataset "$w/ds" --upload ds --model-name gpucheck --model-version 1 --model unet --epochs 1 --batch 2 --patch 64 --base 4 --set depth=2 --watch --json | tee "$out/results/worker_train.jsonl"
  "$edu" remote segment --server "$url" --model gpucheck --out "$w/seg" --json "$w"/ds/imagesTs/* | tail -n 1 > "$out/results/worker_segment.json"
  grep -i -m1 'device' "$out/logs/worker-server.log" || true
  kill -TERM $wpid; wait $wpid || true; trap - EXIT
}
run_step worker 180 bash -o pipefail -c "$(declare -f workerrun); workerrun; [ -s \"\$out/results/worker_segment.json\" ]"

# (last: the service checks above matter more than complete timings when the total limit runs out)
# --- bench train: ATS (median ms/step) and PMU (peak device memory) for every net, 2-D and 3-D ---
IFS=',' read -r -a nets <<< "$models"
for m in "${nets[@]}"; do
  run_step "bench_${m}_2d" 90 "$self" __bench "$out/results/bench_${m}_2d.json" --model "$m" --dims 2 "${b2[@]}" "${bsteps[@]}" --device "$device"
  run_step "bench_${m}_3d" 120 "$self" __bench "$out/results/bench_${m}_3d.json" --model "$m" --dims 3 "${b3[@]}" "${bsteps[@]}" --device "$device"
done

# --- the report ---
cpu_model="$(lscpu 2> /dev/null | sed -n 's/^Model name: *//p' | head -1)"
gpus="$(command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2> /dev/null || true)"
python3 - "$out" "$start" "$limit" "$device" "$quick" "$lib" "$lts_source" "$lts_reason" "$so" "$cpu_model" "$gpus" "$models" <<'PY'
import json, os, sys, time, statistics
out, start, limit, device, quick, lib, src, reason, so, cpu, gpus, models = sys.argv[1:13]
R = os.path.join(out, "results")
def load(name):
    try:
        with open(os.path.join(R, name)) as f: return json.loads(f.read().strip().splitlines()[-1])
    except Exception as e: return None
steps = []
for line in open(os.path.join(out, "steps.tsv")):
    n, st, rc, sec, detail = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
    steps.append({"name": n, "status": st, "exit_code": int(rc) if rc else None, "seconds": int(sec or 0), "detail": detail,
                  "log": "logs/%s.log" % n if os.path.exists(os.path.join(out, "logs", n + ".log")) else None})
def checker():
    # libtorchsharp-check.py's summary line ("undefined symbols: N, unresolved: M, ...") and its list (mangled names, then "--- demangled")
    log, listed = os.path.join(out, "logs", "symbols.log"), os.path.join(R, "missing-symbols.txt")
    counts = {}
    if os.path.exists(log):
        for line in open(log):
            if line.strip().startswith("undefined symbols:"):
                for part in line.strip().split(","):
                    k, _, v = part.partition(":")
                    if v.strip().isdigit(): counts[k.strip()] = int(v)
    names = []
    if os.path.exists(listed):
        for line in open(listed):
            if line.startswith("---"): break
            if line.strip(): names.append(line.strip())
    return counts.get("undefined symbols"), (counts.get("unresolved") if counts else None), names
undefined_count, missing_count, missing = checker()
doctor = load("doctor.json")
bench = []
for m in models.split(","):
    for d in ("2d", "3d"):
        r = load("bench_%s_%s.json" % (m, d))
        bench.append({"model": m, "dims": int(d[0]), "ok": r is not None,
                      **({k: r.get(k) for k in ("batch", "size", "device", "parameters", "median_ms", "min_ms", "max_ms", "pmu_mb", "pmu_source", "peak_rss_mb", "memory_format", "losses")} if r else {})})
        if r: bench[-1]["ats_ms"] = r["median_ms"]
def seg(name):
    r = load(name)
    if not r: return None
    cases = r.get("cases", [])
    pred = [c["seconds"]["predict"] for c in cases]
    warm = pred[1:] or pred
    return {"cases": len(cases), "size": cases[0].get("size") if cases else None,
            "predict_s_each": pred, "median_predict_ms_after_first": round(1000 * statistics.median(warm), 1) if warm else None,
            "read_s": [c["seconds"]["read"] for c in cases], "write_s": [c["seconds"]["write"] for c in cases],
            "windows": [c.get("windows") for c in cases]}
wt = []
if os.path.exists(os.path.join(R, "worker_train.jsonl")):
    for l in open(os.path.join(R, "worker_train.jsonl")):
        try: wt.append(json.loads(l))
        except ValueError: pass
report = {
    "schema": 1, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(start))), "duration_s": int(time.time()) - int(start),
    "time_limit_s": int(limit), "device": device, "quick": quick == "1",
    "host": {"cpu_model": cpu, "gpus": [g.strip() for g in gpus.splitlines() if g.strip()], "torch_lib": lib, "python_torch": load("python-torch.json")},
    "libtorchsharp": {"source": src, "origin": reason, "path": so,
                      "undefined_symbols": undefined_count, "missing_symbols": missing_count, "missing_examples": missing[:20]},
    "steps": steps, "failed": [s["name"] for s in steps if s["status"] != "pass"],
    "doctor": doctor and {"ok": doctor["ok"], "libtorch": doctor["torch"]["libTorch"], "loaded": doctor["torch"]["loaded"], "backend": doctor["torch"]["backend"],
                          "cuda": doctor["devices"]["cuda"], "numerics": (doctor.get("numerics") or {}).get("configuration"), "problems": doctor["problems"]},
    "parity": load("parity.json"), "bench_train": bench,
    "segmentation": {"image_2d": seg("segment_2d.json"), "ct": seg("segment_ct.json")},
    "worker": {"train_events": len(wt), "train_last": wt[-1] if wt else None, "segment": load("worker_segment.json")},
}
json.dump(report, open(os.path.join(out, "report.json"), "w"), indent=1)
print("report: %s/report.json; failed steps: %s" % (out, ", ".join(report["failed"]) or "none"))
sys.exit(1 if report["failed"] else 0)
PY
