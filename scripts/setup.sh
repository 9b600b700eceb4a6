#!/usr/bin/env bash
# Installs every Debian package the project builds, tests or runs with.
# Idempotent and quiet: a no-op (one dpkg query) when everything is present.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ ccache pkg-config lld
  libboost1.81-dev nlohmann-json3-dev libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libglpk-dev libpugixml-dev
  prometheus-cpp-dev libzookeeper-mt-dev libpq-dev libyaml-cpp-dev libhowardhinnant-date-dev
  # real components the data plane and the tests run
  clickhouse-server clickhouse-client nginx-full zookeeper openssl curl procps iproute2
  postgresql util-linux
  # the IANA time zone database maintenance windows are read in
  tzdata
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
  # A policy-rc.d the machine already has is left as it is.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node modules of the tests that run on Node, each pinned by its lock file:
# the OpenAPI conformance test and the CloudFormation schema check (ajv), the
# independent SigV4 check (AWS's own JavaScript signer), and the Kubernetes
# schema check (kubernetes-models). Reinstalled only when missing or older
# than the lock.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for node_dir in tests/openapi tests/aws/signer tests/kube-models; do
  stamp="$root/$node_dir/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$root/$node_dir/package-lock.json" -nt "$stamp" ]]; then
    if command -v npm >/dev/null; then
      echo "setup: installing the node modules of $node_dir"
      npm ci --prefix "$root/$node_dir" --no-audit --no-fund --loglevel=error >/dev/null
      touch "$stamp"
    else
      echo "setup: npm not found; $node_dir (a test run on Node.js) needs Node.js and npm" >&2
    fi
  fi
done
