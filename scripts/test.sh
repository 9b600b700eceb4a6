#!/usr/bin/env bash
# Runs every test (unit and integration) with its own HOME and temp dir, so
# nothing touches the user's state. Ends with CTest's summary line.
set -euo pipefail
build_dir=${1:-build}
scratch=$(mktemp -d /tmp/byoc-tests-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/tmp"
export HOME="$scratch/home" TMPDIR="$scratch/tmp" XDG_CONFIG_HOME="$scratch/home/.config" XDG_DATA_HOME="$scratch/home/.local/share"
unset BYOC_SERVER BYOC_TOKEN BYOC_CA_FILE BYOC_JOIN_TOKEN
cd "$build_dir"
ctest --output-on-failure --timeout 600 -j 2 "${@:2}"
