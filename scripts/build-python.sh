#!/usr/bin/env bash
# Builds an optimised shared CPython for node-asgi to embed, from the same upstream source as
# Debian's python3 (Debian's source package), with the optimisations Debian's own
# libpython3.11.so lacks: `--enable-shared --enable-optimizations --with-lto`. Debian's library
# runs Python code 13–27% slower than its statically linked /usr/bin/python3; this one runs at
# the binary's speed (README § Performance). About 20 minutes on 2 cores.
#
#   bash scripts/build-python.sh [PREFIX]        (default /opt/node-asgi-python)
#   NODE_ASGI_PYTHON=PREFIX/bin/python3.X npm run build
#
# The new interpreter sees Debian's Python packages (FastAPI, uvloop, ...) through a .pth file
# naming /usr/lib/python3/dist-packages: they are built for the same Python version. Nothing
# outside PREFIX changes: the source comes through a private apt configuration in a temporary
# directory, not through /etc/apt.
set -euo pipefail

prefix="${1:-/opt/node-asgi-python}"
system_python=/usr/bin/python3
version="$("$system_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:?}")"
mirror="${NODE_ASGI_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
bash "$(dirname "$0")/setup.sh" --python-build

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src" "$work/parts"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $codename main" > "$work/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
# apt downloads as the unprivileged _apt user, who cannot write into a private mktemp directory
if [ "$(id -u)" -eq 0 ]; then apt_private+=(-o APT::Sandbox::User=root); fi
echo "build-python: fetching Debian's python$version source ($codename)"
apt-get "${apt_private[@]}" update -qq
(cd "$work/src" && apt-get "${apt_private[@]}" source --download-only -qq "python$version")
orig="$(ls "$work"/src/python"$version"_*.orig.tar.* | head -1)"
tar -xf "$orig" -C "$work/src"
srcdir="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'Python-*' | head -1)"
[ -n "$srcdir" ] || { echo "build-python: no Python-* directory in $orig" >&2; exit 1; }

echo "build-python: building $(basename "$srcdir") into $prefix (PGO + LTO; this takes a while)"
cd "$srcdir"
./configure --prefix="$prefix" --enable-shared --enable-optimizations --with-lto \
  LDFLAGS="-Wl,-rpath,$prefix/lib" > "$work/configure.log" 2>&1 ||
  { tail -30 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" > "$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
$SUDO make altinstall > "$work/install.log" 2>&1 || { tail -30 "$work/install.log" >&2; exit 1; }

python="$prefix/bin/python$version"
site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo /usr/lib/python3/dist-packages | $SUDO tee "$site/debian-dist-packages.pth" > /dev/null
"$python" -c 'import ssl, ctypes, zlib, sqlite3, asyncio' ||
  { echo "build-python: $python lacks a standard module (see above)" >&2; exit 1; }
echo "build-python: done. Build node-asgi on it with:"
echo "  NODE_ASGI_PYTHON=$python npm run build"
