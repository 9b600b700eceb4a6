#!/usr/bin/env bash
# Installs every Debian package the project builds, tests or runs with.
# Idempotent and quiet: a no-op (one dpkg query) when everything is present.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ ccache pkg-config lld
  libboost1.81-dev nlohmann-json3-dev libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libglpk-dev
  prometheus-cpp-dev
  # real components the data plane and the tests run
  clickhouse-server clickhouse-client nginx-full zookeeper openssl curl procps iproute2
  # benchmarks
  wrk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The packages start their own system services on install; we never use those.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
