#!/usr/bin/env python3
"""mfapy's Example 2 (E. coli, Okahashi et al. 2017: 24 GC-MS fragments, 113 MDV entries,
σ 0.01, four measured fluxes) fitted by MLFlux (`mlflux predict --predictor mfa` on the bundle
Plugins/ecoli-okahashi) and by mfapy itself, interleaved, one core each, K starts each.

Each tool draws its own random starts (MLFlux: one start per run, seeds 1..K, from its flux
polytope; mfapy: `generate_initial_states`, then its `deep` method from each start: SLSQP and
LN_SBPLX alternated `--repeat` times (default 6; mfapy's Example_2_1_Ecoli.py runs 15 rounds of
the two after a global CRS2 search). The model is the same: mfapy's files with its
`correction='yes'` natural 13C on glucose and the unlabeled amino acids, and — to match MLFlux,
which gives every unlabeled carbon natural abundance — also on SubsCO2 (mfapy's example sets
'no' there; `--co2-as-published` keeps it, to show what that changes).

mfapy is not on PyPI: its source (mirror of github.com/fumiomatsuda/mfapy at a10433a) goes on
PYTHONPATH, its requirements (numpy scipy joblib nlopt) into a venv.

usage: OMP_NUM_THREADS=1 PYTHONPATH=MFAPY_SOURCE /tmp/mfapy-venv/bin/python bench/ecoli-okahashi/compare_mfapy.py \
           .build/release/mlflux MFAPY_SAMPLE_DIR [K] [--repeat R] [--mids FILE] [--co2-as-published] [--out FILE]
       python3 bench/ecoli-okahashi/compare_mfapy.py --table FILE [MLFLUX.json]   (flux table of a results file)
"""
import json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUNDLE = os.path.join(ROOT, "Plugins/ecoli-okahashi")
ONE_CORE = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def mfapy_model(sample, co2_natural, sigma=0.01):
    import mfapy
    cwd = os.getcwd()
    os.chdir(sample)
    try:
        reactions, reversible, metabolites, fragments = mfapy.mfapyio.load_metabolic_model(
            "Example_2_Ecoli_model.txt", format="text", mode="normal")
        model = mfapy.metabolicmodel.MetabolicModel(reactions, reversible, metabolites, fragments, mode="normal")
        model.set_configuration(callbacklevel=0)
        model.set_configuration(iteration_max=10000)
        model.set_configuration(ncpus=1)
        model.set_constraints_from_state_dict(model.load_states("Example_2_Ecoli_status.csv", format="csv"))
        model.update()
        cs = model.generate_carbon_source_templete()
        cs.set_each_isotopomer("SubsGlc", {"#000000": 0.02, "#100000": 0.7, "#111111": 0.28}, correction="yes")
        cs.set_each_isotopomer("SubsCO2", {"#0": 1.0, "#1": 0.0}, correction="yes" if co2_natural else "no")
        for aa, n in (("Ala", 3), ("Asp", 4), ("Thr", 4), ("Glu", 5), ("Phe", 9), ("Tyr", 9),
                      ("Ile", 6), ("Leu", 6), ("Val", 5)):
            cs.set_each_isotopomer("Subs" + aa, {"#" + "0" * n: 1.0}, correction="yes")
        mdv = model.load_mdv_data("Example_2_Ecoli_mdv.txt")
        mdv.set_std(sigma, method="absolute")
        model.set_experiment("ex1", mdv, cs)
        model.carbon_source_ex1 = cs           # for generate_mdv (check_equivalence.py)
    finally:
        os.chdir(cwd)
    return model


def mlflux_fit(binary, seed, mids):
    t = time.perf_counter()
    r = subprocess.run([binary, "predict", "--model", "ecoli-okahashi", "--predictor", "mfa", mids, "--measured-fluxes", os.path.join(BUNDLE, "rates.csv"),
                        "--starts", "1", "--seed", str(seed), "--threads", "1", "--format", "json"],
                       capture_output=True, text=True, env=ONE_CORE, cwd=ROOT)
    wall = time.perf_counter() - t
    if r.returncode:
        sys.exit(r.stderr)
    return json.loads(r.stdout), wall


def main():
    binary, sample = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else 3
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 6
    mids = sys.argv[sys.argv.index("--mids") + 1] if "--mids" in sys.argv else os.path.join(BUNDLE, "mids.csv")
    sigma = float(open(mids).read().splitlines()[1].split(",")[-1])     # one σ for every entry
    model = mfapy_model(sample, co2_natural="--co2-as-published" not in sys.argv, sigma=sigma)
    model.set_configuration(number_of_repeat=repeat)
    results = {"k": k, "mfapy_repeat": repeat, "mids": os.path.relpath(mids, ROOT), "sigma": sigma, "co2": "as published (pure 12C)" if "--co2-as-published" in sys.argv else "natural 13C",
               "mlflux": [], "mfapy": []}
    t = time.perf_counter()
    state, starts = model.generate_initial_states(10 * k, k, method="normal")
    starts = starts if isinstance(starts, list) else [starts]
    start_seconds = time.perf_counter() - t
    for i in range(k):
        d, wall = mlflux_fit(binary, i + 1, mids)
        chi = d["fit"]["chiSquared"] if "fit" in d else d["predictions"][0]["fit"]["chiSquared"]
        results["mlflux"].append({"seed": i + 1, "vssr": chi["vssr"], "seconds": wall, "output": d})
        t = time.perf_counter()
        state, rss, best = model.fitting_flux(method="deep", flux=starts[i])
        wall = time.perf_counter() - t + start_seconds / k
        rss = model.calc_rss(best)
        pvalue, thres = model.goodness_of_fit(best, alpha=0.05)
        fluxes = {rid: best["reaction"][rid]["value"] for rid in best["reaction"]}
        results["mfapy"].append({"rss": rss, "seconds": wall, "pvalue": pvalue, "rss_threshold_95": thres,
                                 "measurements": model.get_number_of_independent_measurements(),
                                 "degrees_of_freedom_fluxes": model.get_degree_of_freedom(), "fluxes": fluxes})
        print(f"start {i + 1}: mlflux VSSR {results['mlflux'][-1]['vssr']:.4g} in {results['mlflux'][-1]['seconds']:.1f} s; "
              f"mfapy RSS {rss:.4g} in {wall:.1f} s", flush=True)
    if out:
        json.dump(results, open(out, "w"), indent=1)


def table(results, mlflux_json=None):
    """Markdown table: each MLFlux reaction's net flux (± SE) at MLFlux's best fit (or the
    `predict --format json` output `mlflux_json`) beside mfapy's best (net = forward − reverse
    for pairs), and the dilution shares."""
    import re
    ml = {"output": json.load(open(mlflux_json))} if mlflux_json else min(results["mlflux"], key=lambda r: r["vssr"])
    mf = min(results["mfapy"], key=lambda r: r["rss"])
    out = ml["output"]
    fit = out.get("fit") or out["predictions"][0]["fit"]
    fluxes = out.get("fluxes") or out["predictions"][0]["fluxes"]
    text = open(os.path.join(BUNDLE, "network.fml")).read()
    pairs = {n: (f, r) for n, f, r in re.findall(
        r'<reaction id="([^"]+)">\s*<!-- mfapy (r\d+) \(forward\) and (r\d+) \(reverse\) -->', text)}
    v = mf["fluxes"]
    lines = ["| reaction | MLFlux net ± SE | mfapy net | MLFlux xch | mfapy xch |", "|---|---|---|---|---|"]
    for name, d in fluxes.items():
        if name in pairs:
            f, r = pairs[name]
            mnet, mxch = v[f] - v[r], min(v[f], v[r])
        elif name in v:
            mnet, mxch = v[name], None
        else:
            continue
        if d.get("netSE", 1) == 0:
            continue        # fixed in MLFlux (drains, the amino-acid pools' 0.1 flux)
        xch = f"{d['xch']:.3g}" if d.get("xch") is not None else ""
        lines.append(f"| {name} | {d['net']:.4g} ± {d['netSE']:.2g} | {mnet:.4g} | {xch} | "
                     f"{'' if mxch is None else f'{mxch:.3g}'} |")
    share = {"Ala": ("r58", "r95"), "Asp": ("r59", "r96"), "Thr": ("r60", "r97"), "Glu": ("r61", "r98"),
             "Phe": ("r62", "r99"), "Tyr": ("r63", "r100"), "Ile": ("r64", "r101"), "Val": ("r66", "r103")}
    lines += ["", "| diluted pool | MLFlux f ± SE | mfapy f = pseudo/(pseudo + Subs) |", "|---|---|---|"]
    for d in fit.get("dilution", []):
        a, b = share[d["pool"]]
        lines.append(f"| {d['pool']} | {d['value']:.4f} ± {d['se']:.2g} | {v[a] / (v[a] + v[b]):.4f} |")
    return "\n".join(lines)


def from_mlflux(sample, mlflux_json, sigma, out):
    """mfapy's RSS at MLFlux's fit, then mfapy's SLSQP fit started there: does mfapy agree that
    it is a minimum? MLFlux's net/exchange become forward/reverse (forward = xch + max(net, 0),
    reverse = xch − min(net, 0)); a pool's share f becomes pseudo = 10·f, Subs = 10·(1 − f)."""
    import re
    model = mfapy_model(sample, co2_natural=True, sigma=sigma)
    state, flux = model.generate_initial_states(5, 1, method="normal")
    d = json.load(open(mlflux_json))
    text = open(os.path.join(BUNDLE, "network.fml")).read()
    pairs = {n: (f, r) for n, f, r in re.findall(
        r'<reaction id="([^"]+)">\s*<!-- mfapy (r\d+) \(forward\) and (r\d+) \(reverse\) -->', text)}
    v = flux["reaction"]
    for name, x in d["fluxes"].items():
        if name in pairs:
            f, r = pairs[name]
            v[f]["value"] = x["xch"] + max(x["net"], 0)
            v[r]["value"] = x["xch"] - min(x["net"], 0)
        elif name in v and not re.fullmatch(r"r(5[89]|6[0-6]|7[2-9]|8[0-9]|9[0-4])", name):
            v[name]["value"] = x["net"]
    share = {"Ala": ("r58", "r95"), "Asp": ("r59", "r96"), "Thr": ("r60", "r97"), "Glu": ("r61", "r98"),
             "Phe": ("r62", "r99"), "Tyr": ("r63", "r100"), "Ile": ("r64", "r101"), "Val": ("r66", "r103")}
    for e in d["fit"]["dilution"]:
        a, b = share[e["pool"]]
        v[a]["value"], v[b]["value"] = 10 * e["value"], 10 * (1 - e["value"])
    v["r65"]["value"], v["r102"]["value"] = 5.0, 5.0      # Leu: unmeasured, any split
    for name in model.reversible:
        f, r = model.reversible[name]["forward"], model.reversible[name]["reverse"]
        flux["reversible"][name]["value"] = v[f]["value"] - v[r]["value"]
    rss0 = model.calc_rss(flux)
    print(f"mfapy RSS at MLFlux's fit {rss0:.6g}", flush=True)
    t = time.perf_counter()
    try:
        state, rss, best = model.fitting_flux(method="SLSQP", flux=flux)
    except IndexError:       # mfapy returns no state when its optimizer fails from this start
        best = flux
    result = {"rss_at_mlflux_fit": rss0, "rss_after_deep": model.calc_rss(best), "seconds": time.perf_counter() - t,
              "fluxes": {k: x["value"] for k, x in best["reaction"].items()}}
    print(f"mfapy RSS at MLFlux's fit {rss0:.6g}; after mfapy's SLSQP fit from there {result['rss_after_deep']:.6g} "
          f"in {result['seconds']:.1f} s", flush=True)
    json.dump({"mfapy": [dict(result, rss=result["rss_after_deep"])], "mids": "Plugins/ecoli-okahashi/mids-sd0.005.csv"},
              open(out, "w"), indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "--from-mlflux":
        # --from-mlflux MFAPY_SAMPLE_DIR MLFLUX.json SIGMA OUT.json
        from_mlflux(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5])
        sys.exit(0)
    if sys.argv[1] == "--table":
        print(table(json.load(open(sys.argv[2])), sys.argv[3] if len(sys.argv) > 3 else None))
    else:
        main()
