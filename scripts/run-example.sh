#!/usr/bin/env bash
# Installs the system libraries MLFlux links against (Debian/Ubuntu) when they are
# missing, then predicts the toy model's fluxes, ΔG and standard errors from its
# example MIDs (Plugins/toy/example_mids.csv, simulated from Plugins/toy/fluxes.json).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libxml2-dev libopenblas-dev liblapacke-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    $sudo apt-get install -y "${missing[@]}"
fi

swift run -c release mlflux predict --model toy Plugins/toy/example_mids.csv "$@"
