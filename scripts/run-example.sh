#!/usr/bin/env bash
# Installs the system libraries MLFlux links against (Debian/Ubuntu) when they are
# missing, then simulates the toy model's example flux state.
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

swift run -c release mlflux simulate --model toy --fluxes Plugins/toy/fluxes.json "$@"
