#!/usr/bin/env bash
# Per-label Dice for the multi-label modalities of a bench/converge-all.sh result: every model's final package scored
# with `edu evaluate` on its run's validation split (the same cases the training validated on, whole volumes).
#   bench/converge-labels.sh OUT      env: EDU (default ./edu), MODALITIES (default "ct mr")
# Writes OUT/seed-S/MODALITY/labels.json ({model: per-label Dice}); bench/converge-table.py prints them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
edu="${EDU:-$root/edu}"
out="${1:?usage: bench/converge-labels.sh OUT}"
for dir in "$out"/seed-*; do
  for m in ${MODALITIES:-ct mr}; do
    summary="$dir/$m/converge.json"
    [ -e "$summary" ] || continue
    [ -e "$dir/$m/labels.json" ] && continue
    echo "== $(basename "$dir") $m" >&2
    /usr/bin/python3 - "$edu" "$out/data-$m" "$summary" "$dir/$m/labels.json" <<'PY'
import json, subprocess, sys
edu, dataset, summary, target = sys.argv[1:]
labels = {}
for row in json.load(open(summary)):
    report = json.loads(subprocess.run([edu, "evaluate", "--model", row["run"], "--dataset", dataset, "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    labels[row["model"]] = report["per_label_dice"]
    print(f"  {row['model']}: " + ", ".join(f"{k} {v:.3f}" for k, v in labels[row["model"]].items()), file=sys.stderr)
json.dump(labels, open(target, "w"), indent=1)
PY
  done
done
