#!/usr/bin/env python3
"""Compares `mlflux correct` with IsoCor on IsoCor's own example data (Guides/NaturalAbundance.md).

    python3 -m venv /tmp/isocor-venv && /tmp/isocor-venv/bin/pip install isocor==2.2.4
    /tmp/isocor-venv/bin/python scripts/compare-isocor.py [MLFLUX_BINARY]

Reads isocor/data/Data_example.tsv (raw areas; metabolites with and without the TMS
derivative) from the installed IsoCor, runs IsoCor's low-resolution correction (no -r) and
`mlflux correct` with the same formulas (metabolite + derivative, N = the metabolite's
carbons) in three modes: -n (tracer natural abundance), -n -p 0.01,0.99, and neither; prints
the largest absolute differences of corrected fractions, residuum and mean enrichment.
All-zero MIDs (IsoCor: NaN) are left out. Writes only to a temporary folder.
"""
import collections, csv, json, os, re, subprocess, sys, tempfile
import isocor

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/mlflux"
data = os.path.join(os.path.dirname(isocor.__file__), "data")
tmp = tempfile.mkdtemp(prefix="mlflux-isocor-")

def table(name):
    return list(csv.DictReader(open(os.path.join(data, name)), delimiter="\t"))

def parse(formula):
    return collections.Counter({e: int(n or 1) for e, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula)})

def hill(c):
    return "".join(e + (str(c[e]) if c[e] != 1 else "") for e in ["C", "H", "N", "O", "P", "S", "Si"] if c[e])

metabolites = {r["name"]: r["formula"] for r in table("Metabolites.dat")}
derivatives = {r["name"]: r["formula"] for r in table("Derivatives.dat")}
groups = collections.OrderedDict()
for r in table("Data_example.tsv"):
    m, d = r["metabolite"].strip(), (r["derivative"] or "").strip()
    groups.setdefault((r["sample"], m, d), []).append(float(r["area"]))
fragments = {}
long_csv = os.path.join(tmp, "example_long.csv")
with open(long_csv, "w") as out:
    out.write("experiment,metabolite,isotopologue,fraction\n")
    for (sample, m, d), areas in groups.items():
        name = m.replace("/", "_") + ("_" + d if d else "")
        formula = parse(metabolites[m])
        n = formula["C"]
        if d:
            formula = formula + parse(derivatives[d])
        fragments[name] = f"{name}={hill(formula)}:{n}"
        if sum(areas) > 0:
            for k, a in enumerate(areas):
                out.write(f"{sample},{name},M+{k},{a}\n")
fragment_args = [a for f in fragments.values() for a in ("--fragment", f)]

def isocor_results(flags):
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "isocorcli"),
                          os.path.join(data, "Data_example.tsv"), "-M", os.path.join(data, "Metabolites.dat"),
                          "-D", os.path.join(data, "Derivatives.dat"), "-I", os.path.join(data, "Isotopes.dat"),
                          "-t", "13C"] + flags, capture_output=True, text=True, cwd=tmp, check=True)
    text = out.stdout
    rows = text[text.index("sample\tmetabolite"):].splitlines()
    res = {}
    for r in csv.DictReader(rows, delimiter="\t"):
        if r.get("metabolite") is None:
            continue
        name = r["metabolite"].strip().replace("/", "_") + ("_" + r["derivative"].strip() if r["derivative"].strip() else "")
        res.setdefault((r["sample"], name), []).append(
            tuple(float(r[c] or "nan") for c in ["isotopologue_fraction", "residuum", "mean_enrichment"]))
    return res

def mlflux_results(flags):
    out = subprocess.run([binary, "correct", long_csv, "--normalize", "--format", "json"] + fragment_args + flags,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["mids"]

for label, iso_flags, our_flags in [("-n", ["-n"], []),
                                    ("-n -p 0.01,0.99", ["-n", "-p", "0.01,0.99"], ["--purity", "0.99"]),
                                    ("(neither)", [], ["--no-tracer-natural-abundance"])]:
    ref, ours = isocor_results(iso_flags), mlflux_results(our_flags)
    df = dr = de = 0.0
    count = 0
    for m in ours:
        r = ref[(m["experiment"], m["metabolite"])]
        for k, (f, res, e) in enumerate(r):
            df = max(df, abs(f - m["corrected"][k]))
            dr = max(dr, abs(res - m["residuum"][k]))
            count += 1
        de = max(de, abs(r[0][2] - m["meanEnrichment"]))
    print(f"IsoCor {isocor.__version__} {label}: {len(ours)} MIDs, {count} entries; "
          f"max |Δ fraction| {df:.2e}, max |Δ residuum| {dr:.2e}, max |Δ mean enrichment| {de:.2e}")
