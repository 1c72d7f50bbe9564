#!/usr/bin/env python3
"""Build the CCM fit benchmark problem (issue 13) for 13CFLUX v3 (x3cflux) and MLFlux.

Writes, next to this script:
  ccm_3tracers.fml  the CCM network of Networks/ccm.fml with three tracer configurations,
                    each with a 13CFLUX measurement section (51 MIDs; the 5 measured fluxes in the
                    first) whose data are simulated exactly (no noise) by x3cflux at the truth
  ccm_3tracers_noisy.fml  the same with sigma-scaled Gaussian noise added (seeded; noise.json)
  measurements.json the data of both files as JSON (for MLFlux, which ignores FluxML measurement sections)
  truth.json        the true flux state, MLFlux flux JSON {"REACTION": {"net": x, "xch": y}}
  truth_free.json   the same state as x3cflux's 47 free parameters (names and values)
  starts.json       10 random feasible starts (uniform polytope samples, hopsy, seeded),
                    as x3cflux free-parameter vectors and as MLFlux flux JSON

Run:  OMP_NUM_THREADS=1 python make_problem.py   (with x3cflux installed, see README.md)
"""

import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SOURCE_FML = os.path.join(ROOT, "Networks", "ccm.fml")

TRUTH_SEED = 20261201  # hopsy seed for the true state
STARTS_SEED = 13  # hopsy seed for the 10 starts
THINNING = 2000
NOISE_SEED = 2026  # numpy default_rng seed of the noisy variant

# The three experiments (inputs as in ccm.fml's configurations GLC_111111+GLN_00000,
# GLC_110000+GLN_00000 and GLC_000000+GLN_11111); every other input pool is unlabeled.
EXPERIMENTS = {
    "U13C6_GLC": {"GLC_IN": "111111"},  # = ccm.fml / bundle "GLC_111111+GLN_00000"
    "1,2-13C2_GLC": {"GLC_IN": "110000"},  # = "GLC_110000+GLN_00000"
    "U13C5_GLN": {"Gln_IN": "11111"},  # = "GLC_000000+GLN_11111"
}
BUNDLE_NAMES = {
    "U13C6_GLC": "GLC_111111+GLN_00000",
    "1,2-13C2_GLC": "GLC_110000+GLN_00000",
    "U13C5_GLN": "GLC_000000+GLN_11111",
}
INPUT_ATOMS = {"GLC_IN": 6, "Gln_IN": 5, "Glu_IN": 5, "CO2_IN": 1, "AC_IN": 2, "OAA_IN": 4}

# Measured fragments: full-carbon MIDs (M+0..M+n) of ten of the bundle's 30 measured pools;
# 4+4+4+4+6+7+6+6+5+5 = 51 MIDs per experiment, 153 over the three.
FRAGMENTS = [
    ("LAC", 3), ("Ala", 3), ("PGA", 3), ("PEP", 3), ("R5P", 5),
    ("CitICit", 6), ("OGA", 5), ("Glu", 5), ("MAL", 4), ("Succ", 4),
]
MID_SIGMA = 0.01

# Five measured net fluxes (glucose uptake IN_GLC = 1 is the normalisation, a constraint).
# sigma = 5 % of the true value, at least 0.005.
MEASURED_FLUXES = ["IN_Gln", "EX_LAC", "EX_OGA_Glu", "EX_OAA", "EX_AC_cyt"]
# The fluxes are one state shared by the three parallel experiments: they are measured once, in the
# first configuration only (else 13CFLUX would count each flux residual three times).
FLUX_EXPERIMENT = "U13C6_GLC"


def flux_sigma(v):
    return max(0.05 * abs(v), 0.005)


def add_noise(data, exp_names, seed):
    """data plus sigma-scaled Gaussian noise. 13CFLUX rejects negative data: a draw that would make an
    entry negative is redrawn (truncated Gaussian; affects only entries within a few sigma of 0)."""
    rng = np.random.default_rng(seed)
    noisy = {}
    for name in exp_names:
        noisy[name] = {}
        for group, vals in data[name].items():
            if group.startswith("ms_"):
                out = []
                for v in vals:
                    while True:
                        w = v + MID_SIGMA * rng.standard_normal()
                        if w >= 0:
                            break
                    out.append(float(w))
                noisy[name][group] = out
            else:
                v, sd = vals
                noisy[name][group] = (float(v + sd * rng.standard_normal()), sd)
    return noisy


def network_part():
    """Network and constraints of ccm.fml, adapted so that 13CFLUX accepts them.

    - uptakes IN_* and effluxes EX_* get bidirectional="false" (MLFlux treats them as one-way
      anyway; 13CFLUX would otherwise give each a free exchange flux);
    - the equalities hk=1 and EX_PYR_Ala=0.02 are dropped: they are implied by IN_GLC=1 and
      PYR_Ala=0.02 through the GLC and Ala balances, and 13CFLUX rejects the redundant set
      ("Pre-selection of unknowns is invalid"). The feasible flux space is unchanged;
    - the pool attribute symm="180" of Succ and Fum is dropped: 13CFLUX v3 ignores it (its MIDs at the
      truth equal MLFlux's without symmetry to ~1e-15, and differ from MLFlux's with symmetry by up to
      2.9e-2), and 13CFLUX's <variant> scrambling did not symmetrise the pools in x3cflux 3.1.2 (it
      applies one variant only). The benchmark network therefore has non-symmetric Succ and Fum, for
      both tools; MLFlux must read this file's network, not the ccm bundle's.
    """
    src = open(SOURCE_FML).read()
    head = src[: src.index("  <configuration ")]
    head = re.sub(r'<reaction id="((?:IN|EX)_[A-Za-z0-9_]+)">', r'<reaction id="\1" bidirectional="false">', head)
    for redundant in ("        hk=1;\n", "        EX_PYR_Ala=0.02;\n"):
        assert redundant in head
        head = head.replace(redundant, "")
    assert head.count(' symm="180"') == 2
    head = head.replace(' symm="180"', "")
    head = head.replace(
        "<!-- Mammalian central carbon metabolism (13C)",
        "<!-- bench/ccm-fit/ccm_3tracers.fml, written by make_problem.py: CCM fit benchmark of issue 13"
        " (three tracer experiments, measurement data simulated at truth.json).\n     From Networks/ccm.fml:"
        " Mammalian central carbon metabolism (13C)",
    )
    return head


def configuration(name, free_values, data):
    """One FluxML configuration. data: None (placeholders) or {group id: list of values}."""
    lines = [f'  <configuration name="{name}" stationary="true">']
    lines.append(f"    <!-- bundle experiment {BUNDLE_NAMES[name]} -->")
    for pool, atoms in INPUT_ATOMS.items():
        cfg = EXPERIMENTS[name].get(pool, "0" * atoms)
        lines.append(f'    <input pool="{pool}" type="isotopomer"><label cfg="{cfg}">1</label></input>')
    lines += ["    <measurement>", "      <model>", "        <labelingmeasurement>"]
    for pool, n in FRAGMENTS:
        weights = ",".join(str(i) for i in range(n + 1))
        lines.append(f'          <group id="ms_{pool}" scale="one"><textual>{pool}[1-{n}]#M{weights}</textual></group>')
    lines.append("        </labelingmeasurement>")
    fluxes = MEASURED_FLUXES if name == FLUX_EXPERIMENT else []
    if fluxes:
        lines.append("        <fluxmeasurement>")
        for r in fluxes:
            lines.append(f'          <netflux id="fm_{r}"><textual>{r}</textual></netflux>')
        lines.append("        </fluxmeasurement>")
    lines += ["      </model>", "      <data>"]
    for pool, n in FRAGMENTS:
        vals = data[f"ms_{pool}"] if data else [1.0 / (n + 1)] * (n + 1)
        for w, v in enumerate(vals):
            lines.append(f'        <datum id="ms_{pool}" stddev="{MID_SIGMA}" weight="{w}">{v!r}</datum>')
    for r in fluxes:
        v, s = (data[f"fm_{r}"] if data else (1.0, 1.0))
        lines.append(f'        <datum id="fm_{r}" stddev="{s!r}">{v!r}</datum>')
    lines += ["      </data>", "    </measurement>"]
    lines += ['    <simulation method="auto" type="full">', "      <variables>"]
    for pname, v in free_values:
        flux, kind = pname.rsplit(".", 1)
        kind = {"n": "net", "x": "xch"}[kind]
        lines.append(f'        <fluxvalue flux="{flux}" type="{kind}">{v!r}</fluxvalue>')
    lines += ["      </variables>", "    </simulation>", "  </configuration>"]
    return "\n".join(lines) + "\n"


# The 47 free parameters 13CFLUX is given (13 net, 34 exchange); values from Plugins/ccm/fluxes.json
# only for the placeholder file used to set up sampling.
FREE_NET = ["IN_CO2", "EX_CO2", "pgi", "pfk", "pyk", "ldh", "me", "pc", "EX_OAA", "IN_AC", "IN_Gln", "IN_Glu", "OGA_Gln"]


def write_fml(path, free_values, data_by_exp):
    with open(path, "w") as f:
        f.write(network_part())
        for name in EXPERIMENTS:
            f.write(configuration(name, free_values, data_by_exp[name] if data_by_exp else None))
        f.write("</fluxml>\n")


def full_state(ps, free):
    """MLFlux flux JSON from an x3cflux free-parameter vector."""
    full = np.asarray(ps.compute_parameters(np.asarray(free, float).reshape(-1, 1))).ravel()
    names = ps.parameter_names
    val = dict(zip(names, full))
    xfree = set(ps.exchange_flux_classification.names[i] for i in ps.exchange_flux_classification.free)
    state = {}
    for n in ps.net_flux_classification.names:
        entry = {"net": float(val[n + ".n"])}
        if n in xfree:
            entry["xch"] = float(val[n + ".x"])
        state[n] = entry
    # IN_OAA (fixed to 0 in ccm.fml) is removed from the model by 13CFLUX; MLFlux keeps it.
    state["IN_OAA"] = {"net": 0.0}
    return state


def main():
    import x3cflux as x

    x.logging.level = 2
    example = json.load(open(os.path.join(ROOT, "Plugins", "ccm", "fluxes.json")))
    placeholder_free = [(f"{r}.n", example[r]["net"]) for r in FREE_NET]
    placeholder_free += [(f"{r}.x", v["xch"]) for r, v in example.items() if "xch" in v]
    tmp = os.path.join(HERE, ".placeholder.fml")
    write_fml(tmp, placeholder_free, None)
    sim = x.create_simulator_from_fml(tmp, list(EXPERIMENTS))
    ps = sim.parameter_space
    names = list(ps.free_parameter_names)
    assert ps.num_free_parameters == 47, ps.num_free_parameters

    # truth: one uniform sample of the feasible polytope (its own seed), checked strictly inside
    truth = x.run_uniform_sampling(sim, 1, random_seed=TRUTH_SEED, thinning=THINNING)[:, 0]
    A, b = ps.inequality_system.matrix, ps.inequality_system.bound
    assert ps.contains(truth.reshape(-1, 1)) and np.all(A @ truth < b), "truth not strictly feasible"
    starts = x.run_uniform_sampling(sim, 10, random_seed=STARTS_SEED, thinning=THINNING)
    for k in range(10):
        assert ps.contains(starts[:, k].reshape(-1, 1))

    # exact data at the truth
    mids, fluxes = sim.compute_measurements(truth.reshape(-1, 1))
    mnames, fnames = sim.measurement_names
    exp_of_group = sim.measurement_multi_indices[0]
    exp_names = list(EXPERIMENTS)
    data = {name: {} for name in exp_names}
    for i, group in enumerate(mnames):
        data[exp_names[exp_of_group[i]]][group] = [float(v) for v in np.asarray(mids[i]).ravel()]
    for name in exp_names:
        assert sum(len(v) for v in data[name].values()) == 51
    tstate = full_state(ps, truth)
    for r in MEASURED_FLUXES:
        v = tstate[r]["net"]
        data[FLUX_EXPERIMENT][f"fm_{r}"] = (v, flux_sigma(v))
    free_truth = list(zip(names, [float(v) for v in truth]))
    write_fml(os.path.join(HERE, "ccm_3tracers.fml"), free_truth, data)
    # noisy variant: the same data plus sigma-scaled Gaussian noise (seeded), same sigmas. The fit of
    # the noisy data from the truth (SLSQP) gives the minimal SSR; a seed whose minimal SSR falls outside
    # the chi2 95 % range (dof = measurements - free parameters) makes the acceptance test fail even at
    # the global optimum, so seeds NOISE_SEED, NOISE_SEED + 1, ... are tried in order and the first whose
    # minimum lies inside the range is kept (the rejected ones are recorded in noise.json).
    from scipy import optimize, stats

    noisy_path = os.path.join(HERE, "ccm_3tracers_noisy.fml")
    A_, b_ = np.asarray(A), np.asarray(b).ravel()
    tried = []
    for seed in range(NOISE_SEED, NOISE_SEED + 20):
        noisy = add_noise(data, exp_names, seed)
        write_fml(noisy_path, free_truth, noisy)
        simn = x.create_simulator_from_fml(noisy_path, exp_names)
        n_meas = sum(len(v) for e in exp_names for v in data[e].values() if isinstance(v, list)) + len(MEASURED_FLUXES)
        dof = n_meas - len(names)
        lo, hi = stats.chi2.ppf([0.025, 0.975], dof)
        simn.parameter_space.constraint_violation_tolerance = 1e-9

        def loss(t, simn=simn):
            try:
                return simn.compute_loss(t.reshape(-1, 1))
            except ValueError:  # outside the inequality system (SLSQP line search): SLSQP backtracks
                return 1e12

        def grad(t, simn=simn):
            try:
                return np.asarray(simn.compute_loss_gradient(t.reshape(-1, 1))).ravel()
            except ValueError:
                return np.zeros(len(t))

        res = optimize.minimize(
            loss, truth, jac=grad,
            method="SLSQP", constraints=[{"type": "ineq", "fun": lambda t: b_ - A_ @ t, "jac": lambda t: -A_}],
            options={"maxiter": 1000, "ftol": 1e-9})
        ssr_truth = float(simn.compute_loss(truth.reshape(-1, 1)))
        tried.append({"seed": seed, "ssr_at_truth": ssr_truth, "min_ssr_from_truth": float(res.fun),
                      "chi2_95_range": [float(lo), float(hi)], "dof": dof})
        print(f"noise seed {seed}: SSR at truth {ssr_truth:.2f}, minimum from truth {res.fun:.2f}, "
              f"range [{lo:.1f}, {hi:.1f}]")
        if lo <= res.fun <= hi:
            break
    else:
        raise RuntimeError("no noise seed with the minimum inside the chi2 range")
    json.dump({"kept_seed": seed, "tried": tried,
               "rule": "first seed from NOISE_SEED on whose SLSQP fit from the truth lies in the chi2 95 % range"},
              open(os.path.join(HERE, "noise.json"), "w"), indent=1)
    os.remove(tmp)

    # check: the final file reproduces its data at the truth (SSR ~ 0) and has 153 + 5 entries
    sim2 = x.create_simulator_from_fml(os.path.join(HERE, "ccm_3tracers.fml"), list(EXPERIMENTS))
    assert list(sim2.parameter_space.free_parameter_names) == names
    ssr = sim2.compute_loss(truth.reshape(-1, 1))
    print(f"SSR at truth: {ssr:.3e}")

    json.dump(tstate, open(os.path.join(HERE, "truth.json"), "w"), indent=1)
    json.dump({"names": names, "values": [float(v) for v in truth]}, open(os.path.join(HERE, "truth_free.json"), "w"), indent=1)
    json.dump(
        {
            "seed": STARTS_SEED,
            "sampler": f"x3cflux.run_uniform_sampling (hopsy, rounded polytope, thinning {THINNING})",
            "names": names,
            "free": [[float(v) for v in starts[:, k]] for k in range(10)],
            "fluxes": [full_state(ps, starts[:, k]) for k in range(10)],
        },
        open(os.path.join(HERE, "starts.json"), "w"),
        indent=1,
    )
    def as_json(d):
        return {
            "experiments": {
                name: {
                    "bundle_experiment": BUNDLE_NAMES[name],
                    "tracer": " ".join(f"{pool}={cfg}" for pool, cfg in EXPERIMENTS[name].items()),
                    "mids": {g[3:]: d[name][g] for g, _ in sorted(d[name].items()) if g.startswith("ms_")},
                }
                for name in exp_names
            },
            "fluxes": {r: {"value": d[FLUX_EXPERIMENT][f"fm_{r}"][0], "sd": d[FLUX_EXPERIMENT][f"fm_{r}"][1]}
                       for r in MEASURED_FLUXES},
        }

    json.dump(
        {
            "note": "the data of ccm_3tracers.fml (exact) and ccm_3tracers_noisy.fml (noisy); MIDs are full-carbon "
                    "M+0..M+n of the pool, sd 0.01 each; fluxes are net fluxes; all other input pools unlabeled",
            "mid_sd": MID_SIGMA,
            "exact": as_json(data),
            "noisy": as_json(noisy),
        },
        open(os.path.join(HERE, "measurements.json"), "w"),
        indent=1,
    )
    print("wrote ccm_3tracers.fml, ccm_3tracers_noisy.fml, measurements.json, truth.json, truth_free.json, starts.json")


if __name__ == "__main__":
    sys.exit(main())
