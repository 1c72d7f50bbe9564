#!/usr/bin/env python3
"""The published E. coli model's own data (Networks/published/ecoli_model_level_1.fml: 14 MS
groups, 65 entries, σ 0.01, measured glucose uptake) fitted by MLFlux (`mlflux fit`, constrained
Levenberg–Marquardt) and by 13CFLUX v3 (x3cflux, IPOPT) from the same starts, interleaved,
one core each.

Starts: K points of 13CFLUX's free-parameter polytope (halfway between its Chebyshev centre and
the LP vertex of a random objective, seed 1), inside the bounds table
Networks/published/ecoli_model_level_1-bounds.csv (exchange fluxes ≤ 1e5, GAS2 ≤ 1e5), passed to
MLFlux as flux states (`--starts-from`). x3cflux's parser refuses the file's one-line XML header,
so it reads a copy with the header split (content unchanged).

usage: X3CFLUX_PYTHON -  run with the x3cflux venv's python:
  OMP_NUM_THREADS=1 /work/venv-x3c/bin/python bench/ecoli-fit/compare_x3cflux.py .build/release/mlflux [K] [--out FILE]
"""
import json, os, subprocess, sys, tempfile, time
import numpy as np
from scipy.optimize import linprog
import x3cflux

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FML = os.path.join(ROOT, "Networks/published/ecoli_model_level_1.fml")
BOUNDS = os.path.join(ROOT, "Networks/published/ecoli_model_level_1-bounds.csv")
ONE_CORE = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def main():
    binary = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else 3
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    text = open(FML).read().replace('standalone="no"?><fluxml', 'standalone="no"?>\n<fluxml', 1)
    text = text.replace(' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.13cflux.net/fluxml http://www.13cflux.net/fluxml"', "", 1)
    tmp = tempfile.mkdtemp()
    x3c_file = os.path.join(tmp, "ecoli.fml")
    open(x3c_file, "w").write(text)
    sim = x3cflux.create_simulator_from_fml(x3c_file)
    ps = sim.parameter_space
    A, b = np.array(ps.inequality_system.matrix), np.array(ps.inequality_system.bound)
    names = list(ps.free_parameter_names)
    bounds = {}
    for line in open(BOUNDS).read().splitlines()[1:]:
        r, kind, lo, hi = line.split(",")
        bounds[r + (".x" if kind == "xch" else ".n")] = (float(lo), float(hi))
    box = [bounds.get(n, (None, None)) for n in names]
    n = len(names)
    centre = linprog(np.r_[np.zeros(n), -1], A_ub=np.c_[A, np.linalg.norm(A, axis=1)], b_ub=b, bounds=box + [(0, 1e4)]).x[:n]
    rng = np.random.default_rng(1)
    starts = [0.5 * centre + 0.5 * linprog(rng.normal(size=n), A_ub=A, b_ub=b, bounds=box).x for _ in range(k)]
    states = []
    for x in starts:
        full = dict(zip(ps.parameter_names, np.array(ps.compute_parameters(x))))
        st = {}
        for key, v in full.items():
            r, t = key.rsplit(".", 1)
            st.setdefault(r, {})["net" if t == "n" else "xch"] = float(v)
        states.append(st)
    results = {"mlflux": [], "x3cflux": []}
    for i, (x, st) in enumerate(zip(starts, states)):
        path = os.path.join(tmp, f"start{i}.json")
        json.dump([st], open(path, "w"))
        t = time.perf_counter()
        r = subprocess.run([binary, "fit", FML, "--constraints", BOUNDS, "--starts-from", path, "--threads", "1",
                            "--max-iterations", "500", "--format", "json"], capture_output=True, text=True, env=ONE_CORE)
        wall = time.perf_counter() - t
        if r.returncode:
            sys.exit(r.stderr)
        d = json.loads(r.stdout)
        results["mlflux"].append({"vssr": d["fit"]["chiSquared"]["vssr"], "seconds": wall,
                                  "chi2": d["fit"]["chiSquared"], "fluxes": d["fluxes"]})
        t = time.perf_counter()
        xs, ssr = x3cflux.run_optimization(sim, x)
        wall = time.perf_counter() - t
        full = dict(zip(ps.parameter_names, np.array(ps.compute_parameters(xs))))
        results["x3cflux"].append({"ssr": float(ssr), "seconds": wall, "fluxes": {k2: float(v) for k2, v in full.items()}})
        print(f"start {i}: mlflux VSSR {results['mlflux'][-1]['vssr']:.4g} in {results['mlflux'][-1]['seconds']:.1f} s; "
              f"x3cflux SSR {ssr:.4g} in {wall:.1f} s", flush=True)
    if out:
        json.dump(results, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
