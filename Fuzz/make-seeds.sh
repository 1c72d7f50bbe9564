#!/usr/bin/env bash
# Regenerates the seed corpora in Fuzz/corpus/<target>/ and the hand-made inputs of the
# known crashes in Fuzz/regressions/<target>/known-*. Text seeds are copies and small edits
# of shipped files; binary seeds come from the library's writers (`mlflux-fuzz
# --write-seeds`) and `mlflux dataset generate`. Needs a plain `swift build` first.
# Usage: Fuzz/make-seeds.sh [BUILD_DIR]   (default: .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/debug}"
export SWIFT_BACKTRACE=enable=no
C=Fuzz/corpus R=Fuzz/regressions
mkdir -p $C/{fluxml,mids,manifest,safetensors,npy,dataset} $R/{fluxml,mids,manifest,safetensors,npy,dataset}

# FluxML: the shipped networks.
cp Networks/*.fml $C/fluxml/
# Known crash: C + H of a pool overflows Int.
sed 's|<pool id="molB" atoms="3"/>|<pool id="molB" C="9223372036854775807" H="1"/>|' Networks/toy.fml \
    > $R/fluxml/known-pool-C-intmax-H-1.fml

# MID tables for the toy layout: the example, with a stddev column, M+k names, one MID only.
cp Plugins/toy/example_mids.csv $C/mids/example.csv
awk -F, 'NR==1{print $0",stddev"; next}{print $0",0.01"}' Plugins/toy/example_mids.csv > $C/mids/stddev.csv
awk -F, 'NR==1{print; next}{print $1","$2",M+"$3","$4}' Plugins/toy/example_mids.csv > $C/mids/mplus.csv
head -5 Plugins/toy/example_mids.csv > $C/mids/one-mid.csv
printf 'experiment,metabolite,isotopologue,fraction\nA_100,molE,M0,0.5\nA_100,molE,M1,0.6\nA_010,molC,0,\n' > $C/mids/unnormalized.csv

# Manifests: the toy bundle's, one with fragments and the network as a bundle file.
cp Plugins/toy/manifest.json $C/manifest/toy.json
cat > $C/manifest/fragments.json <<'EOF'
{"name":"frag","description":"d","network":"network.fml","experiments":["A_100","A_010"],
 "measured":["molB[1-2]","molD[1,3]","molF[2]","molE"],"freeFluxes":["v1.net","v3.net","v2.xch"],
 "exampleFluxes":"fluxes.json","files":{"ann":"ann.safetensors","x":"sub/x.npy"}}
EOF
# Known crash: an atom range of 10^14 entries.
sed 's|"molB",|"molB[1-99999999999999]",|' Plugins/toy/manifest.json > $R/manifest/known-measured-range-1e14.json

# Binary seeds and known crashes from the library's writers.
"$bin/mlflux-fuzz" --write-seeds Fuzz

# dataset.json of a 10-sample toy dataset; known crash: firstBlock = Int.max.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin/mlflux" dataset generate --model toy --samples 10 --seed 1 --out "$tmp/ds" > /dev/null
cp "$tmp/ds/dataset.json" $C/dataset/toy-10.json
sed -E 's|"firstBlock" : [0-9]+|"firstBlock" : 9223372036854775807|' "$tmp/ds/dataset.json" > $R/dataset/known-firstBlock-intmax.json
echo "seeds written under $C and $R"
