#!/usr/bin/env python3
"""Is the bundle mfapy's model? mfapy's fitted flux distributions (from compare_mfapy.py --out)
are put into MLFlux flux states (pairs: net = forward − reverse, exchange = the smaller one;
amino-acid pools: share f = pseudo/(pseudo + Subs*) of mfapy's fluxes), simulated by
`mlflux simulate --model ecoli-okahashi` (MIDs as measured, natural 13C included, undiluted),
mixed with the unlabeled natural MID by the shares f, and scored against the data: the VSSR must
equal mfapy's own RSS at the same fluxes.

usage: python3 bench/ecoli-okahashi/check_equivalence.py .build/release/mlflux RESULTS.json
"""
import csv, json, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUNDLE = os.path.join(ROOT, "Plugins/ecoli-okahashi")


def network_reactions():
    text = open(os.path.join(BUNDLE, "network.fml")).read()
    found = re.findall(r'<reaction id="([^"]+)">\s*<!-- mfapy (r\d+) \(forward\) and (r\d+) \(reverse\) -->', text)
    pairs = {name: (f, r) for name, f, r in found}
    one_way = re.findall(r'<reaction id="([^"]+)" bidirectional="false">', text)
    return pairs, one_way


def state_of(mfapy_fluxes, pairs, one_way):
    v = mfapy_fluxes
    state = {}
    for name, (f, r) in pairs.items():
        state[name] = {"net": v[f] - v[r], "xch": min(v[f], v[r])}
    text = open(os.path.join(BUNDLE, "network.fml")).read()
    fixed = dict(re.findall(r"^\s*(\w+)=([0-9.eE+-]+);", text, re.M))
    for rid in one_way:
        if rid in fixed:
            state[rid] = {"net": float(fixed[rid])}
        elif rid in v:
            state[rid] = {"net": v[rid]}
    return state


def shares(v):
    pools = {"Ala": ("r58", "r95"), "Asp": ("r59", "r96"), "Thr": ("r60", "r97"), "Glu": ("r61", "r98"),
             "Phe": ("r62", "r99"), "Tyr": ("r63", "r100"), "Ile": ("r64", "r101"), "Val": ("r66", "r103")}
    return {p: v[a] / (v[a] + v[b]) for p, (a, b) in pools.items()}


def main():
    binary, results = sys.argv[1], json.load(open(sys.argv[2]))
    pairs, one_way = network_reactions()
    manifest = json.load(open(os.path.join(BUNDLE, "manifest.json")))
    frag_pool = {k: d["atoms"].split("[")[0] for k, d in manifest["fragments"].items() if d.get("dilution")}
    data = list(csv.DictReader(open(os.path.join(ROOT, results.get("mids", "Plugins/ecoli-okahashi/mids.csv")))))
    rates = list(csv.DictReader(open(os.path.join(BUNDLE, "rates.csv"))))
    for i, run in enumerate(results["mfapy"]):
        v = run["fluxes"]
        state = state_of(v, pairs, one_way)
        # Dependent one-way fluxes not in mfapy (CO2lost_out, amino-acid effluxes) follow from the balances.
        for rid in one_way:
            state.setdefault(rid, {"net": 0.1 if re.fullmatch(r"r(8[6-9]|9[0-4])", rid) else 0.4})
        path = os.path.join(tempfile.mkdtemp(), "state.json")
        json.dump(state, open(path, "w"))
        r = subprocess.run([binary, "simulate", "--model", "ecoli-okahashi", "--fluxes", path, "--format", "json"],
                           capture_output=True, text=True, cwd=ROOT)
        if r.returncode:
            sys.exit(r.stderr)
        sim = json.loads(r.stdout)
        f = shares(v)
        vssr = 0.0
        for row in data:
            mid = sim_mid(sim, row["metabolite"])
            k = int(row["isotopologue"])
            y = mid[k]
            pool = frag_pool.get(row["metabolite"])
            if pool:
                n = len(mid) - 1
                natural = [binom(n, j) * 0.0107 ** j * 0.9893 ** (n - j) for j in range(n + 1)]
                y = f[pool] * y + (1 - f[pool]) * natural[k]
            vssr += ((y - float(row["fraction"])) / float(row["stddev"])) ** 2
        for row in rates:
            vssr += ((v[row["reaction"]] - float(row["value"])) / float(row["stddev"])) ** 2
        print(f"start {i + 1}: mfapy RSS {run['rss']:.6g}; MLFlux VSSR at mfapy's fluxes and shares {vssr:.6g}")


def binom(n, k):
    from math import comb
    return comb(n, k)


def sim_mid(sim, name):
    if name not in sim:
        raise SystemExit(f"no simulated MID of {name} in mlflux simulate's JSON")
    return sim[name]


if __name__ == "__main__":
    main()
