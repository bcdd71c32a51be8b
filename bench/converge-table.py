#!/usr/bin/env python3
"""Markdown tables from bench/converge-all.sh results: one table per modality, one row per model.

usage: bench/converge-table.py OUT [--steps 5]
Epochs to target per seed ("–" = not reached in the run), the median over seeds (not-reached counts as
beyond the last epoch), final validation Dice mean over seeds, ATS (median ms per step, median over seeds),
PMU (peak RSS, max over seeds), per-label Dice where bench/converge-labels.sh wrote labels.json, and training seconds to target derived as epochs x steps x ATS (wall-clock
seconds are not used: the runs shared the machine with other work).
"""
import glob, json, os, statistics, sys

out = sys.argv[1]
steps = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 5
seeds = sorted(glob.glob(os.path.join(out, "seed-*")), key=lambda p: int(p.rsplit("-", 1)[1]))
modalities = []
for s in seeds:
    for m in sorted(os.listdir(s)):
        if os.path.exists(os.path.join(s, m, "converge.json")) and m not in modalities:
            modalities.append(m)
order = ["xray", "microscopy", "dermoscopy", "endoscopy", "fundus", "ct", "mr"]
modalities.sort(key=lambda m: order.index(m) if m in order else 99)
summary = {}
final_by_model = {}
for m in modalities:
    rows = {}
    used = []
    for s in seeds:
        path = os.path.join(s, m, "converge.json")
        if not os.path.exists(path):
            continue
        used.append(s.rsplit("-", 1)[1])
        for r in json.load(open(path)):
            r = {k.lower() if k[0].isupper() else k.replace("_", ""): v for k, v in r.items()}  # older runs: PascalCase
            rows.setdefault(r["model"], []).append(r)
    epochs = max(len(open(os.path.join(r["run"], "log.jsonl")).readlines()) for rs in rows.values() for r in rs)
    print(f"\n#### {m} (seeds {', '.join(used)}; {epochs} epochs)\n")
    print("| model | parameters | epochs to target, per seed | median | train s to target | ATS ms | PMU MiB | final Dice (mean) |")
    print("|---|---|---|---|---|---|---|---|")
    medians = {}
    for model, rs in rows.items():
        e = [r["epochstotarget"] for r in rs]
        med = statistics.median([x if x is not None else epochs + 1 for x in e])
        medians[model] = med
        final_by_model.setdefault(model, []).append(statistics.mean(r["finaldice"] for r in rs))
        ats = statistics.median([r["atsms"] for r in rs])
        secs = "–" if med > epochs else f"{med * steps * ats / 1000:.1f}"
        print(f"| {model} | {rs[0]['parameters']:,} | {' / '.join('–' if x is None else str(x) for x in e)} | "
              f"{'not reached' if med > epochs else f'{med:g}'} | {secs} | {ats:.1f} | {max(r['pmumb'] for r in rs):.0f} | "
              f"{statistics.mean(r['finaldice'] for r in rs):.3f} |")
    labels = {}
    for s in seeds:  # per-label Dice from bench/converge-labels.sh, mean over seeds
        path = os.path.join(s, m, "labels.json")
        if os.path.exists(path):
            for model, per in json.load(open(path)).items():
                for label, dice in per.items():
                    labels.setdefault(model, {}).setdefault(label, []).append(dice)
    if labels:
        names = list(next(iter(labels.values())).keys())
        print(f"\nPer-label Dice of the final model on the validation cases (`edu evaluate`, whole volumes; mean over seeds):\n")
        print("| model | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for model, per in labels.items():
            print(f"| {model} | " + " | ".join(f"{statistics.mean(per[n]):.3f} ({len(per[n])})" if n in per else "–" for n in names) + " |")
    best = min(medians.values())
    summary[m] = [k for k, v in medians.items() if v == best and v <= epochs]
print("\nFastest to the target (median epochs):", "; ".join(f"{m}: {', '.join(v) or 'none reached'}" for m, v in summary.items()))
print("\nFinal validation Dice, mean over seeds and then over the modalities:",
      ", ".join(f"{k} {statistics.mean(v):.3f}" for k, v in sorted(final_by_model.items(), key=lambda kv: -statistics.mean(kv[1]))))
