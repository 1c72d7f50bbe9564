#!/usr/bin/env python3
"""Coverage and accuracy of `mlflux evaluate --noise` per flux, noise level and sampling.
usage: scripts/noise_coverage.py BINARY MODEL LABEL DATA_UNIFORM DATA_LOGU [LIMIT|-] [EXTRA EVALUATE OPTIONS...]
Runs `mlflux evaluate --noise S --mask-seed 7 --format json` at S = 0.002, 0.005, 0.01, 0.02 on both
datasets, writes LABEL.json (one row per flux, sampling and noise level) and prints the coverage tables."""
import json, subprocess, sys
binary, model, label, uni, logu = sys.argv[1:6]
limit = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] != "-" else None
extra = sys.argv[7:]
rows = []
for sampling, data in [("uniform", uni), ("log-uniform", logu)]:
    for noise in ["0.002", "0.005", "0.01", "0.02"]:
        cmd = [binary, "evaluate", "--model", model, "--data", data, "--noise", noise, "--mask-seed", "7", "--format", "json"]
        if limit: cmd += ["--limit", limit]
        cmd += extra
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        for q in r["quantities"]:
            if q["kind"] == "free" or q["count"] == 0: continue
            if all(e == 0 for e in q["errorQuantiles"]): continue
            med_abs = None
            rows.append(dict(label=label, sampling=sampling, noise=float(noise), kind=q["kind"], name=q["name"],
                             coverage=q["coverage68"], within=q["withinTolerance"], q25=q["errorQuantiles"][1],
                             q75=q["errorQuantiles"][3], rel=q.get("relativeErrorQuantiles")))
json.dump(rows, open(f"{label}.json", "w"), indent=1)
for sampling in ["uniform", "log-uniform"]:
    names = sorted({(r["kind"], r["name"]) for r in rows if r["sampling"] == sampling}, key=lambda k: ("net xch dG".split().index(k[0]), k[1]))
    print(f"\n{label}  {sampling}: 1σ coverage % (within 5 % / ΔG within 1 kJ/mol %) at σ = 0.002 0.005 0.01 0.02")
    for kind, name in names:
        cells = []
        for noise in [0.002, 0.005, 0.01, 0.02]:
            r = next(r for r in rows if r["sampling"] == sampling and r["noise"] == noise and r["kind"] == kind and r["name"] == name)
            cells.append(f"{100*r['coverage']:5.1f} ({100*r['within']:5.1f})")
        print(f"  {kind:4s} {name:10s} " + "  ".join(cells))
