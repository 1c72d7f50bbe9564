#!/usr/bin/env python3
"""Baseline of issue 13: 13CFLUX v3 (x3cflux) loss and analytic gradient under scipy's SLSQP.

Fits ccm_3tracers.fml (three parallel tracer experiments, 153 MIDs with sigma 0.01, 5 measured fluxes,
exact data simulated at truth.json) from the 10 seeded random feasible starts of starts.json, one core.

Run (see README.md):
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c 0 \
      python bench/ccm-fit/x3cflux_slsqp.py [--out bench/ccm-fit/results_x3cflux_slsqp.json]
"""

import argparse
import json
import os
import platform
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
from scipy import optimize, stats  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = ["U13C6_GLC", "1,2-13C2_GLC", "U13C5_GLN"]
# "identifiable": in the row space of the sigma-scaled measurement Jacobian at the truth (structurally
# identifiable) and with linearised standard deviation <= SD_IDENT (flux units: glucose uptake = 1).
SD_IDENT = 0.1
CONSTRAINT_TOL = 1e-9
IDENT_DEF = ("structurally identifiable (row space of the sigma-scaled Jacobian at the truth, rank tol 1e-8) "
             f"and linearised sd <= {SD_IDENT} (sd from (J^T J)^+ at the truth)")


def affine_map(ps, n):
    """full = M @ free + c (the parameter space is affine in the free parameters)."""
    c = np.asarray(ps.compute_parameters(np.zeros((n, 1)))).ravel()
    M = np.empty((len(c), n))
    for j in range(n):
        e = np.zeros((n, 1))
        e[j] = 1.0
        M[:, j] = np.asarray(ps.compute_parameters(e)).ravel() - c
    return M, c


def measurement_sds(sim):
    """sigma of every measurement, in the order of the Jacobian rows (labeling groups, then fluxes)."""
    lab, flux = sim.measurement_standard_deviations
    return np.concatenate([np.asarray(g, float).ravel() for g in lab] + [np.asarray(flux, float).ravel()])


def identifiability(sim, ps, truth, M, rank_tol=1e-8, in_range_tol=1e-6):
    """Structurally identifiable full parameters at the truth (row space of the sigma-scaled Jacobian)
    and their standard deviations from the linearised covariance (J^T J)^+."""
    J = np.asarray(sim.compute_jacobian(truth.reshape(-1, 1)))
    sd = measurement_sds(sim)
    Js = J / sd[:, None]
    U, s, Vt = np.linalg.svd(Js, full_matrices=True)
    rank = int(np.sum(s > rank_tol * s[0]))
    null = Vt[rank:].T  # free-parameter directions the data do not see
    cov = Vt[:rank].T @ np.diag(1.0 / s[:rank] ** 2) @ Vt[:rank]
    ident, sds = [], []
    for k in range(M.shape[0]):
        m = M[k]
        norm = np.linalg.norm(m)
        if norm == 0:
            ident.append(False)  # constant parameter (fixed by a constraint)
            sds.append(0.0)
            continue
        ident.append(bool(np.linalg.norm(null.T @ m) <= in_range_tol * norm))
        sds.append(float(np.sqrt(max(m @ cov @ m, 0.0))))
    return rank, J.shape, np.array(ident), np.array(sds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "results_x3cflux_slsqp.json"))
    ap.add_argument("--fml", default="ccm_3tracers.fml", help="problem file in this folder")
    ap.add_argument("--maxiter", type=int, default=1000)
    ap.add_argument("--ftol", type=float, default=1e-6)
    args = ap.parse_args()

    import x3cflux as x

    x.logging.level = 2
    fml = os.path.join(HERE, args.fml)
    exact = "noisy" not in args.fml
    sim = x.create_simulator_from_fml(fml, EXPERIMENTS)
    ps = sim.parameter_space
    names = list(ps.free_parameter_names)
    n = ps.num_free_parameters
    A = np.asarray(ps.inequality_system.matrix)
    b = np.asarray(ps.inequality_system.bound).ravel()
    starts = json.load(open(os.path.join(HERE, "starts.json")))
    assert starts["names"] == names
    tf = json.load(open(os.path.join(HERE, "truth_free.json")))
    assert tf["names"] == names
    truth = np.array(tf["values"])

    n_meas = len(measurement_sds(sim))
    dof = n_meas - n
    chi2_lo, chi2_hi = stats.chi2.ppf([0.025, 0.975], dof)

    M, c = affine_map(ps, n)
    pnames = list(ps.parameter_names)
    full_truth = M @ truth + c
    rank, jshape, struct, sds = identifiability(sim, ps, truth, M)
    ident = struct & (sds <= SD_IDENT)
    ident_names = [pnames[k] for k in range(len(pnames)) if ident[k]]

    # 13CFLUX refuses to evaluate outside the inequality system (ValueError "Free model parameters violate
    # inequality constraints"); SLSQP is not a feasible-point method and its line search does step
    # outside. A tolerance of 1e-9 absorbs round-off at the boundary; a loss evaluation further outside
    # returns 1e12 (SLSQP backtracks), a gradient evaluation there returns zeros. Both are counted.
    ps.constraint_violation_tolerance = CONSTRAINT_TOL
    counters = {"loss": 0, "grad": 0, "loss_fail": 0, "grad_fail": 0}
    load_before = open("/proc/loadavg").read().split()[:3]

    def fun(theta):
        counters["loss"] += 1
        try:
            v = sim.compute_loss(theta.reshape(-1, 1))
        except ValueError:
            counters["loss_fail"] += 1
            return 1e12
        return v if np.isfinite(v) else 1e12

    def jac(theta):
        counters["grad"] += 1
        try:
            g = np.asarray(sim.compute_loss_gradient(theta.reshape(-1, 1))).ravel()
        except ValueError:
            counters["grad_fail"] += 1
            return np.zeros(n)
        return g if np.all(np.isfinite(g)) else np.zeros(n)

    cons = [{"type": "ineq", "fun": lambda t: b - A @ t, "jac": lambda t: -A}]

    # reference minimum: SLSQP from the truth (not counted, not timed)
    ref = optimize.minimize(fun, truth, jac=jac, method="SLSQP", constraints=cons,
                            options={"maxiter": args.maxiter, "ftol": 1e-9})
    ssr_ref = float(ref.fun)
    dof_eff = n_meas - rank
    chi2_eff = stats.chi2.ppf([0.025, 0.975], dof_eff)
    print(f"reference minimum (SLSQP from the truth): SSR {ssr_ref:.4g}; chi2 95 % range, dof {dof}: "
          f"[{chi2_lo:.1f}, {chi2_hi:.1f}]; with dof = measurements - Jacobian rank = {dof_eff}: "
          f"[{chi2_eff[0]:.1f}, {chi2_eff[1]:.1f}]", flush=True)

    runs = []
    for k, x0 in enumerate(starts["free"]):
        x0 = np.array(x0)
        for key in counters:
            counters[key] = 0
        ssr0 = sim.compute_loss(x0.reshape(-1, 1))
        t0, c0 = time.perf_counter(), time.process_time()
        res = optimize.minimize(fun, x0, jac=jac, method="SLSQP", constraints=cons,
                                options={"maxiter": args.maxiter, "ftol": args.ftol})
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        theta = res.x
        ssr = float(sim.compute_loss(theta.reshape(-1, 1)))
        full = M @ theta + c
        dev = np.abs(full - full_truth)
        viol = float(np.max(A @ theta - b))
        run = {
            "start": k,
            "ssr_start": float(ssr0),
            "ssr": ssr,
            "success": bool(ssr < 1.0) if exact else bool(chi2_lo <= ssr <= chi2_hi),
            "in_chi2_range": bool(chi2_lo <= ssr <= chi2_hi),
            "reached_reference_minimum": bool(ssr <= ssr_ref + 1.0),
            "iterations": int(res.nit),
            "loss_evaluations": counters["loss"],
            "gradient_evaluations": counters["grad"],
            "infeasible_loss_evaluations": counters["loss_fail"],
            "infeasible_gradient_evaluations": counters["grad_fail"],
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "slsqp_status": int(res.status),
            "slsqp_message": str(res.message),
            "max_constraint_violation": viol,
            "max_abs_dev_identifiable": float(dev[ident].max()),
            "max_abs_dev_sd_le_1": float(dev[struct & (sds <= 1.0)].max()),
            "max_dev_over_sd": float((dev[struct] / sds[struct]).max()),
            "max_abs_dev_all": float(dev.max()),
            "free": dict(zip(names, map(float, theta))),
            "net": {p[:-2]: float(v) for p, v in zip(pnames, full) if p.endswith(".n")},
            "xch": {p[:-2]: float(v) for p, v in zip(pnames, full) if p.endswith(".x") and p[:-2] + ".x" in set(pnames)},
        }
        runs.append(run)
        print(f"start {k}: SSR {ssr0:.3e} -> {ssr:.4g}  it {res.nit}  {wall:.2f} s  "
              f"max|dev| identifiable {run['max_abs_dev_identifiable']:.2e}  ({res.message})", flush=True)

    succ = [r for r in runs if r["success"]]
    total_wall = sum(r["wall_seconds"] for r in runs)
    summary = {
        "successes_of_10": len(succ),
        "success_criterion": "SSR < 1 (exact data, no noise)" if exact
        else f"SSR in the chi2 95 % range [{chi2_lo:.1f}, {chi2_hi:.1f}] (dof {dof})",
        "in_chi2_95_range_of_10": sum(r["in_chi2_range"] for r in runs),
        "reached_reference_minimum_of_10": sum(r["reached_reference_minimum"] for r in runs),
        "reference_minimum_ssr": ssr_ref,
        "seconds_per_success": (total_wall / len(succ)) if succ else None,
        "total_wall_seconds": total_wall,
        "cpu_seconds_per_success": (sum(r["cpu_seconds"] for r in runs) / len(succ)) if succ else None,
        "max_abs_dev_identifiable_sd_le_1_successful": max((r["max_abs_dev_sd_le_1"] for r in succ), default=None),
        "max_dev_over_sd_structurally_identifiable_successful": max((r["max_dev_over_sd"] for r in succ), default=None),
        "mean_seconds_per_successful_run": (sum(r["wall_seconds"] for r in succ) / len(succ)) if succ else None,
        "max_abs_dev_identifiable_successful": max((r["max_abs_dev_identifiable"] for r in succ), default=None),
        "median_ssr": float(np.median([r["ssr"] for r in runs])),
    }
    # per identifiable parameter: worst deviation over successful starts
    per_param = {}
    for k in np.where(struct)[0]:
        p = pnames[k]
        devs = [abs((r["net"] if p.endswith(".n") else r["xch"])[p[:-2]] - full_truth[k]) for r in succ]
        per_param[p] = {"truth": float(full_truth[k]), "sd": float(sds[k]), "identifiable": bool(ident[k]),
                        "max_abs_dev": max(devs) if devs else None}
    out = {
        "tool": f"13CFLUX v3 (x3cflux {x.__version__}) compute_loss/compute_loss_gradient + scipy "
                f"{__import__('scipy').__version__} SLSQP",
        "problem": {
            "fml": args.fml,
            "experiments": EXPERIMENTS,
            "measurements": n_meas,
            "free_parameters": n,
            "dof": dof,
            "chi2_95_range": [float(chi2_lo), float(chi2_hi)],
            "dof_measurements_minus_jacobian_rank": int(dof_eff),
            "chi2_95_range_rank_dof": [float(chi2_eff[0]), float(chi2_eff[1])],
            "data": "exact (simulated at truth.json, no noise)" if exact
            else "simulated at truth.json plus sigma-scaled Gaussian noise (make_problem.py NOISE_SEED)",
            "ssr_at_truth": float(sim.compute_loss(truth.reshape(-1, 1))),
            "identifiable_definition": IDENT_DEF,
            "jacobian_rank_at_truth": rank,
            "identifiable_parameters": ident_names,
        },
        "settings": {"maxiter": args.maxiter, "ftol": args.ftol, "threads": 1,
                     "constraint_violation_tolerance": CONSTRAINT_TOL,
                     "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
                     "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                     "loadavg_before": load_before, "loadavg_after": open("/proc/loadavg").read().split()[:3]},
        "summary": summary,
        "structurally_identifiable": per_param,
        "runs": runs,
    }
    json.dump(out, open(args.out, "w"), indent=1)
    print(json.dumps(summary, indent=1))
    print(f"jacobian rank at truth {rank} of {n}; {int(struct.sum())} structurally identifiable parameters "
          f"(net + xch), {len(ident_names)} with sd <= {SD_IDENT}: {' '.join(ident_names)}")


if __name__ == "__main__":
    sys.exit(main())
