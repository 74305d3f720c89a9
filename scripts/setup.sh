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
  node-llhttp zlib1g-dev
  chromium
  python3-socketio python3-engineio python3-redis python3-jwt redis-server
  python3-django python3-django-channels python3-channels-redis openssl
)
for flag in "$@"; do
  case "$flag" in
    # the load generator `npm run bench` drives
    --bench) PACKAGES+=(wrk) ;;
    # what scripts/build-python.sh needs to build CPython with the modules FastAPI, uvicorn and
    # asyncio import (ssl, zlib, ctypes, ...) and to fetch Debian's source package
    --python-build) PACKAGES+=(libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev
      libexpat1-dev libreadline-dev uuid-dev dpkg-dev) ;;
    *) echo "node-asgi setup: unknown option '$flag' (--bench, --python-build)" >&2; exit 2 ;;
  esac
done

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
