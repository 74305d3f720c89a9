#!/usr/bin/env bash
# Installs the Debian packages node-asgi builds and tests against. Idempotent: does nothing when
# they are all present. Python and every Python package come from Debian (PyPI is not used).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  python3 python3-dev libpython3-dev pybind11-dev
  python3-fastapi python3-starlette python3-pydantic python3-multipart
  python3-uvloop python3-httptools python3-websockets python3-uvicorn python3-msgpack
  libgtest-dev libbenchmark-dev
)
# `--bench`: also the load generator `npm run bench` drives (wrk).
if [ "${1:-}" = "--bench" ]; then PACKAGES+=(wrk); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "node-asgi setup: all Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "node-asgi setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
