#!/usr/bin/env python3
"""Convert mfapy's Example 2 (E. coli, Okahashi et al. 2017) into MLFlux bundle inputs.

Reads the three files of mfapy's `sample/` folder (model, status, MDV table) and writes, into
an output folder:

  network.fml      FluxML network (one tracer configuration `ex1`),
  constraints.csv  flux bounds (reaction,kind,lower,upper) from mfapy's status file,
  mids.csv         the measured MDVs in MLFlux's MID table (experiment,metabolite,isotopologue,fraction,stddev),
  rates.csv        the measured fluxes (reaction,value,stddev),
  fragments.json   the manifest's `measured` list and `fragments` object (aliases, atoms, formula, dilution).

How mfapy's model is expressed (see Plugins/ecoli-okahashi/README.md for the reasons):

- Two one-way reactions whose atom maps are exact reverses (mfapy's `//Reversible_reactions`
  and the unlisted pairs such as r6/r7) become one bidirectional reaction (net = first − second,
  exchange = the smaller of the two); a listed pair keeps its mfapy name (PGI, FBA, ...), an
  unlisted one is named `rA_rB`. Every other reaction is one-way (`bidirectional="false"`).
- `excreted` metabolites and `Biomass` are dropped: reactions into them are effluxes.
- mfapy's `pseudo` reactions (the G-index: amino-acid pool = f * network precursor +
  (1 - f) * unlabeled `Subs*` amino acid, outside the mass balances) become: a one-way synthesis
  reaction with a small fixed flux (SYNTH) into the amino-acid pool, drained by an efflux, with
  SYNTH times the stoichiometry subtracted from the precursor's fixed biomass drain (so every
  mass balance is mfapy's), and `"dilution": true` on the pool's fragments (one share f per pool,
  fitted). The `Subs*` amino-acid inputs and their reactions are dropped. A pseudo pool without
  measured fragments (Leu) is dropped with its reactions.
- Fragment formulas: mfapy's MDV table is already corrected for the derivative's atoms (each MDV
  has n + 1 entries summing to 1), and mfapy adds natural 13C only through its carbon sources
  (`correction='yes'`). The fragment formula is therefore the traced carbons alone (`C2` for
  Ala_2:3), which in MLFlux gives every unlabeled traced carbon natural abundance and adds no
  other atom.

Usage:
  convert-mfapy.py MFAPY_SAMPLE_DIR OUT_DIR
      writes the files above into OUT_DIR (which must not exist; nothing is overwritten);
  convert-mfapy.py MFAPY_SAMPLE_DIR BUNDLE_DIR --mlflux BINARY
      also makes the bundle: `mlflux bundle new` on the network, bounds and fragments (free
      fluxes and the example state chosen by MLFlux), then the manifest gets the aliases,
      formulas, dilution flags and `absoluteFluxes`, and the MID and rate tables are copied in.
"""
import csv
import json
import os
import re
import sys

SYNTH = 0.1          # fixed flux through each amino-acid pool (labeling only; any positive value)


def read_model(path):
    sections = {}
    current = None
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if line.startswith("//"):
                current = line[2:].strip()
                sections[current] = []
            elif line.startswith("#") or not line.strip() or current is None:
                continue
            else:
                sections[current].append(line.split("\t"))
    return sections


def read_status(path):
    rows = {}
    with open(path, encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            if not row or row[0] not in ("reaction", "reversible", "metabolite"):
                continue
            rows[(row[0], row[1])] = {"type": row[2], "value": float(row[3]), "std": float(row[4]),
                                      "lb": float(row[5]), "ub": float(row[6])}
    return rows


def parse_side(formula, atoms):
    """`A + B + B` and `ABC + DEF + GHI` -> [(pool, letters)]."""
    pools = [p.strip() for p in formula.split("+")]
    maps = [a.strip() for a in atoms.split("+")] if atoms and atoms != "nd" else [""] * len(pools)
    if len(pools) != len(maps):
        raise SystemExit(f"atom map {atoms!r} does not fit {formula!r}")
    return list(zip(pools, maps))


def reaction_entry(row):
    rid, formula, atoms = row[0], row[2], row[3]
    if formula == "nd":
        formula = re.sub(r"\{[0-9.]+\}", "", row[1])
    left, right = formula.split("-->")
    if atoms == "nd":
        amap_left, amap_right = None, None
    else:
        amap_left, amap_right = atoms.split("-->")
    if amap_left is None:
        # No atom map (effluxes, drains): the substrates' atoms leave the network.
        names = [p.strip() for p in left.split("+")]
        subs = [(p, "") for p in names]
        prods = parse_side(right, "nd")
        return {"id": rid, "substrates": subs, "products": prods, "mapless": True}
    subs = parse_side(left, amap_left)
    prods = parse_side(right, amap_right)
    return {"id": rid, "substrates": subs, "products": prods}


def transfers(r):
    """Set of (substrate pool, position, product pool, position) of a reaction's atom map."""
    where = {}
    for pool, letters in r["substrates"]:
        for i, ch in enumerate(letters):
            where[ch] = (pool, i)
    out = set()
    for pool, letters in r["products"]:
        for j, ch in enumerate(letters):
            out.add(where[ch] + (pool, j))
    return out


def lost_letters(r):
    """Substrate atoms a pseudo reaction drops (the carboxyl that shikimate or valine synthesis
    releases as CO2): mfapy lets them vanish, MLFlux needs every atom to go somewhere, so they
    go to `CO2lost`, a pool used by nothing else and drained by an efflux."""
    if r.get("mapless"):
        return []
    kept_letters = "".join(letters for _, letters in r["products"])
    return [ch for _, letters in r["substrates"] for ch in letters if ch not in kept_letters]


def main():
    args = sys.argv[1:]
    if len(args) == 4 and args[2] == "--mlflux":
        make_bundle(args[0], args[1], args[3])
        return
    if len(args) != 2:
        raise SystemExit(__doc__)
    convert(args[0], args[1])


def make_bundle(src, bundle, binary):
    import shutil
    import subprocess
    import tempfile
    if os.path.exists(bundle):
        raise SystemExit(f"{bundle}: exists; refusing to overwrite")
    work = os.path.join(tempfile.mkdtemp(), "converted")
    convert(src, work)
    spec = json.load(open(os.path.join(work, "fragments.json")))
    specs = sorted({d["atoms"] for d in spec["fragments"].values()})
    cmd = [binary, "bundle", "new", "ecoli-okahashi", "--network", os.path.join(work, "network.fml"),
           "--constraints", os.path.join(work, "constraints.csv"), "--states", "0", "--out", bundle]
    for m in specs:
        cmd += ["--measured", m]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(bundle, "manifest.json")
    manifest = json.load(open(path))
    manifest["description"] = ("E. coli (isopropanol producer) central carbon metabolism with GC-MS data of "
                               "24 TBDMS amino-acid fragments, 70 % [1-13C] + 28 % [U-13C] glucose "
                               "(Okahashi et al. 2017, via mfapy Example 2); least squares (mfa) only")
    manifest["measured"] = spec["measured"]
    manifest["fragments"] = spec["fragments"]
    manifest["absoluteFluxes"] = True
    manifest["files"] = {"mids": "mids.csv", "mids.sd0.005": "mids-sd0.005.csv", "rates": "rates.csv",
                         "readme": "README.md", "report": "reports/fit.md"}
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    for name in ("mids.csv", "rates.csv"):
        shutil.copy(os.path.join(work, name), os.path.join(bundle, name))
    # The same fractions with σ 0.005 (see README.md: σ 0.01 is too large for the two-sided χ² test).
    with open(os.path.join(work, "mids.csv")) as f, open(os.path.join(bundle, "mids-sd0.005.csv"), "w") as o:
        for i, line in enumerate(f):
            o.write(line if i == 0 else line.rsplit(",", 1)[0] + ",0.005\n")


def convert(src, out):
    if os.path.exists(out):
        raise SystemExit(f"{out}: exists; refusing to overwrite")
    model = read_model(os.path.join(src, "Example_2_Ecoli_model.txt"))
    status = read_status(os.path.join(src, "Example_2_Ecoli_status.csv"))

    metabolites = {}
    for row in model["Metabolites"]:
        metabolites[row[0]] = {"carbons": int(row[1]), "symmetry": row[2] == "symmetry",
                               "source": row[3] == "carbonsource", "excreted": row[4] == "excreted"}
    reactions = [reaction_entry(r) for r in model["Reactions"]]
    by_id = {r["id"]: r for r in reactions}
    listed_pairs = {(row[1], row[2]): row[0] for row in model["Reversible_reactions"]}

    # Fragments: alias, pool, atoms (1-based), formula of the traced carbons.
    fragments = []
    for row in model["Target_fragments"]:
        name, kind, spec, use = row[0], row[1], row[2], row[3]
        if use != "use" or kind != "gcms":
            continue
        pool, positions = spec.split("_")
        atoms = [int(x) for x in positions.split(":")]
        alias = re.sub(r"\[M-(\d+)\]", r"_M\1", name)
        alias = re.sub(r"\[f(\d+)\]", r"_f\1", alias)
        fragments.append({"name": name, "alias": alias, "pool": pool, "atoms": atoms})
    measured_pools = {f["pool"] for f in fragments}

    # Pseudo reactions: amino-acid pools diluted outside the mass balances.
    pseudo = [r for r in reactions if status[("reaction", r["id"])]["type"] == "pseudo"]
    diluted = {}
    for r in pseudo:
        (pool, _), = r["products"]
        diluted[pool] = r
    dropped_pools = {p for p in diluted if p not in measured_pools}
    # Subs* inputs of the diluted pools, their reactions, and the pools' mfapy drains.
    dilution_sources = {r["id"] for r in reactions
                        if len(r["substrates"]) == 1 and r["substrates"][0][0].startswith("Subs")
                        and r["products"] and r["products"][0][0] in diluted}
    aa_drains = {r["id"]: r["substrates"][0][0] for r in reactions
                 if len(r["substrates"]) == 1 and r["substrates"][0][0] in diluted
                 and all(metabolites[p]["excreted"] for p, _ in r["products"])}

    # Biomass drain of each precursor, reduced by what the amino-acid pools take.
    biomass_drain = {r["substrates"][0][0]: r["id"] for r in reactions
                     if [p for p, _ in r["products"]] == ["Biomass"]}
    drain_value = {rid: status[("reaction", rid)]["value"] for rid in biomass_drain.values()}
    for pool, r in diluted.items():
        if pool in dropped_pools:
            continue
        for sub, _ in r["substrates"]:
            drain_value[biomass_drain[sub]] -= SYNTH

    # Reverse pairs.
    kept = [r for r in reactions if r["id"] not in dilution_sources
            and not (r in pseudo and r["products"][0][0] in dropped_pools)
            and not (r["id"] in aa_drains and aa_drains[r["id"]] in dropped_pools)]
    pair_of = {}
    for a in kept:
        for b in kept:
            if a is b or a["id"] in pair_of or b["id"] in pair_of:
                continue
            if a.get("mapless") or b.get("mapless"):
                continue
            if sorted(p for p, _ in a["substrates"]) != sorted(p for p, _ in b["products"]):
                continue
            if sorted(p for p, _ in a["products"]) != sorted(p for p, _ in b["substrates"]):
                continue
            if {(t[2], t[3], t[0], t[1]) for t in transfers(b)} == transfers(a):
                first, second = (a, b) if int(a["id"][1:]) < int(b["id"][1:]) else (b, a)
                name = listed_pairs.get((first["id"], second["id"]), f"{first['id']}_{second['id']}")
                pair_of[first["id"]] = (name, first, second)
                pair_of[second["id"]] = None

    pools = {}
    for m, info in metabolites.items():
        if info["excreted"] or m == "Biomass" or m in dropped_pools:
            continue
        if info["source"] and m != "SubsGlc" and m != "SubsCO2":
            continue
        pools[m] = info

    lines = []
    w = lines.append
    w('<?xml version="1.0" encoding="utf-8"?>')
    w("<!-- E. coli central carbon metabolism of an isopropanol-producing strain, converted by")
    w("     scripts/convert-mfapy.py from mfapy (https://github.com/fumiomatsuda/mfapy, commit a10433a,")
    w("     MIT licence, (c) Fumio Matsuda) sample/Example_2_Ecoli_model.txt and _status.csv, derived from")
    w("     Okahashi et al., Biotechnol. Bioeng. 114, 2782-2793 (2017). See the bundle's README.md. -->")
    w('<fluxml xmlns="http://www.13cflux.net/fluxml">')
    w("  <info>\n    <name>ecoli-okahashi</name>\n    <version>1.0</version>\n  </info>")
    w("  <reactionnetwork>\n    <metabolitepools>")
    for m, info in pools.items():
        symm = ' symm="180"' if info["symmetry"] else ""
        w(f'      <pool id="{m}" atoms="{info["carbons"]}"{symm}/>')
    if any(lost_letters(r) for r in kept if r in pseudo):
        w('      <pool id="CO2lost" atoms="1"/>')
    w("    </metabolitepools>")

    net_constraints, bounds = [], []
    ids = []

    def participants(r, tag, side):
        letters_left = iter("abcdefghijklmnopqrstuvwxyz")
        for pool, letters in side:
            if pool not in pools:
                continue
            if r.get("mapless"):
                letters = "".join(next(letters_left) for _ in range(pools[pool]["carbons"]))
            w(f'      <{tag} cfg="{letters}" id="{pool}"/>')

    for r in kept:
        rid = r["id"]
        if rid in pair_of and pair_of[rid] is None:
            continue
        st = status[("reaction", rid)]
        if rid in pair_of:
            name, first, second = pair_of[rid]
            w(f'    <reaction id="{name}">')
            w(f"      <!-- mfapy {first['id']} (forward) and {second['id']} (reverse) -->")
            participants(first, "reduct", first["substrates"])
            participants(first, "rproduct", first["products"])
            w("    </reaction>")
            if ("reversible", name) in status:
                rv = status[("reversible", name)]
                bounds.append((name, "net", rv["lb"], rv["ub"]))
            else:
                s2 = status[("reaction", second["id"])]
                bounds.append((name, "net", -s2["ub"], st["ub"]))
            bounds.append((name, "xch", 0, min(st["ub"], status[("reaction", second["id"])]["ub"])))
            ids.append(name)
            continue
        w(f'    <reaction id="{rid}" bidirectional="false">')
        participants(r, "reduct", r["substrates"])
        participants(r, "rproduct", r["products"])
        for ch in lost_letters(r):
            w(f'      <rproduct cfg="{ch}" id="CO2lost"/>')
        w("    </reaction>")
        ids.append(rid)
        if r in pseudo:
            net_constraints.append(f"{rid}={SYNTH}")
            continue
        if rid in aa_drains:
            continue            # the pool's efflux: SYNTH by its mass balance
        if st["type"] == "fixed":
            value = drain_value.get(rid, st["value"])
            net_constraints.append(f"{rid}={value:.12g}")
        elif rid not in aa_drains:
            # mfapy's lower bound 1e-4 would contradict its own fixed 1e-6 drains (r51 feeds only
            # Formate, whose efflux r52 is fixed at 1e-6): one-way fluxes are bounded below by 0.
            bounds.append((rid, "net", 0, st["ub"]))
    if any(lost_letters(r) for r in kept if r in pseudo):
        w('    <reaction id="CO2lost_out" bidirectional="false">')
        w('      <reduct cfg="a" id="CO2lost"/>')
        w("    </reaction>")
    w("  </reactionnetwork>")
    w("  <constraints>\n    <net>\n      <textual>")
    for c in net_constraints:
        w(f"        {c};")
    w("      </textual>\n    </net>\n  </constraints>")
    w('  <configuration name="ex1" stationary="true">')
    w("    <!-- 70 % [1-13C], 28 % [U-13C] and 2 % unlabeled glucose (mfapy Example_2_1_Ecoli.py) -->")
    w('    <input pool="SubsGlc" type="isotopomer">')
    for cfg, x in (("000000", 0.02), ("100000", 0.7), ("111111", 0.28)):
        w(f'      <label cfg="{cfg}">{x}</label>')
    w("    </input>\n  </configuration>\n</fluxml>")

    os.makedirs(out)
    with open(os.path.join(out, "network.fml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "constraints.csv"), "w") as f:
        f.write("reaction,kind,lower,upper\n")
        for rid, kind, lo, hi in bounds:
            f.write(f"{rid},{kind},{lo!r},{hi!r}\n")
    with open(os.path.join(out, "rates.csv"), "w") as f:
        f.write("reaction,value,stddev\n")
        for r in reactions:
            st = status[("reaction", r["id"])]
            if st["type"] == "fitting":
                f.write(f"{r['id']},{st['value']!r},{st['std']!r}\n")

    # MDVs.
    alias = {fr["name"]: fr["alias"] for fr in fragments}
    with open(os.path.join(src, "Example_2_Ecoli_mdv.txt"), encoding="utf-8-sig") as f, \
            open(os.path.join(out, "mids.csv"), "w") as o:
        o.write("experiment,metabolite,isotopologue,fraction,stddev\n")
        rows = [line.rstrip("\r\n").split("\t") for line in f if line.strip()]
        for row in rows[1:]:
            name, k, select, value, std = row[:5]
            if select.strip() != "1" or name not in alias:
                continue
            o.write(f"ex1,{alias[name]},{int(k)},{value},{std}\n")

    measured, definitions = [], {}
    for fr in fragments:
        atoms = fr["atoms"]
        span = f"{atoms[0]}-{atoms[-1]}" if atoms == list(range(atoms[0], atoms[-1] + 1)) and len(atoms) > 1 \
            else ",".join(map(str, atoms))
        d = {"atoms": f"{fr['pool']}[{span}]", "formula": f"C{len(atoms)}"}
        if fr["pool"] in diluted:
            d["dilution"] = True
        measured.append(fr["alias"])
        definitions[fr["alias"]] = d
    with open(os.path.join(out, "fragments.json"), "w") as f:
        json.dump({"measured": measured, "fragments": definitions}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
