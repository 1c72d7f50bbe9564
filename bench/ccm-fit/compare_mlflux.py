#!/usr/bin/env python3
"""Issue 13's CCM comparison in one run, interleaved: 13CFLUX v3 + SLSQP (x3cflux_slsqp.py, in
the x3cflux venv) and MLFlux's constrained Levenberg–Marquardt (`mlflux fit`), from the same ten
starts (starts.json), on the exact and the noisy problem, one core each.

usage: python3 bench/ccm-fit/compare_mlflux.py MLFLUX_BINARY X3CFLUX_PYTHON [--out FILE]
"""
import json, os, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
IDENTIFIABLE = ["ldh.n", "EX_LAC.n", "EX_OAA.n", "IN_AC.n", "acitl.n", "OGA_Glu.n", "EX_AC_cyt.n", "pdh.x"]
ONE_CORE = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def mlflux(binary, fml):
    t = time.perf_counter()
    r = subprocess.run(["taskset", "-c", "0", binary, "fit", os.path.join(HERE, fml), "--starts-from",
                        os.path.join(HERE, "starts.json"), "--threads", "1", "--format", "json"],
                       capture_output=True, text=True, env=ONE_CORE)
    wall = time.perf_counter() - t
    if r.returncode:
        sys.exit(r.stderr)
    d = json.loads(r.stdout)
    chi = d["fit"]["chiSquared"]
    truth = json.load(open(os.path.join(HERE, "truth.json")))
    exact = "noisy" not in fml
    dev = []
    for name in IDENTIFIABLE:
        reaction, kind = name[:-2], name[-1]
        fitted = d["fluxes"][reaction]["net" if kind == "n" else "xch"]
        dev.append(abs(fitted - truth[reaction]["net" if kind == "n" else "xch"]))
    ok = [s for s in d["fit"]["starts"] if (s["vssr"] < 1 if exact else chi["lower"] <= s["vssr"] <= chi["upper"])]
    return {"successes_of_10": len(ok), "seconds_per_success": sum(s["seconds"] for s in d["fit"]["starts"]) / max(len(ok), 1),
            "process_wall_seconds": wall, "best_vssr": chi["vssr"], "chi2_range": [chi["lower"], chi["upper"]],
            "dof": chi["degreesOfFreedom"], "max_abs_dev_identifiable": max(dev),
            "vssr_per_start": [s["vssr"] for s in d["fit"]["starts"]], "seconds_per_start": [s["seconds"] for s in d["fit"]["starts"]]}


def x3cflux(python, fml):
    out = tempfile.mktemp(suffix=".json")
    subprocess.run(["taskset", "-c", "0", python, os.path.join(HERE, "x3cflux_slsqp.py"), "--fml", fml, "--out", out],
                   check=True, env=ONE_CORE, stdout=subprocess.DEVNULL)
    s = json.load(open(out))["summary"]
    os.remove(out)
    return {k: s[k] for k in ["successes_of_10", "success_criterion", "seconds_per_success", "cpu_seconds_per_success",
                              "max_abs_dev_identifiable_successful"]}


def main():
    binary, python = sys.argv[1], sys.argv[2]
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else os.path.join(HERE, "results_compare.json")
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "loadavg": open("/proc/loadavg").read().split()[:3]}
    for fml in ["ccm_3tracers.fml", "ccm_3tracers_noisy.fml"]:
        results[fml] = {"13CFLUX v3 + SLSQP": x3cflux(python, fml), "MLFlux fit": mlflux(binary, fml)}
        print(fml, json.dumps(results[fml], indent=1), flush=True)
    json.dump(results, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
