#!/usr/bin/env python3
"""Compare the MIDs in ccm_3tracers.fml (simulated by 13CFLUX v3 at truth.json) with MLFlux's.

Usage (from the repository root, after `swift build -c release`):
  python3 bench/ccm-fit/compare_simulators.py [.build/release/mlflux]
Runs `mlflux simulate --network bench/ccm-fit/ccm_3tracers.fml --fluxes truth.json --input ...` for the
three experiments. Needs only the Python standard library.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
NS = {"f": "http://www.13cflux.net/fluxml"}
TRACERS = {"U13C6_GLC": "GLC_IN=111111", "1,2-13C2_GLC": "GLC_IN=110000", "U13C5_GLN": "Gln_IN=11111"}


def fml_mids(path):
    """{configuration: {pool: [M0, M1, ...]}} from the data sections."""
    out = {}
    for cfg in ET.parse(path).getroot().findall("f:configuration", NS):
        mids = {}
        for d in cfg.findall("f:measurement/f:data/f:datum", NS):
            gid = d.get("id")
            if not gid.startswith("ms_"):
                continue
            mids.setdefault(gid[3:], {})[int(d.get("weight"))] = float(d.text)
        out[cfg.get("name")] = {p: [v[w] for w in sorted(v)] for p, v in mids.items()}
    return out


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/mlflux"
    fml = os.path.join(HERE, "ccm_3tracers.fml")
    x3c = fml_mids(fml)
    worst, n = 0.0, 0
    for cfg, pools in x3c.items():
        cmd = [binary, "simulate", "--network", fml, "--fluxes", os.path.join(HERE, "truth.json"),
               "--input", TRACERS[cfg], "--format", "json"]
        sim = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        for pool, mid in pools.items():
            other = sim[pool]
            assert len(other) == len(mid), (cfg, pool)
            d = max(abs(a - b) for a, b in zip(mid, other))
            n += len(mid)
            if d > worst:
                worst, where = d, (cfg, pool)
    print(f"{n} MID entries compared; max |13CFLUX - MLFlux| = {worst:.3e} at {where}")


if __name__ == "__main__":
    main()
