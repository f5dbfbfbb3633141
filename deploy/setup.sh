#!/usr/bin/env bash
# make setup: Debian packages when missing, the CMake build, and .venv holding the
# plugin, pytest, mp-coord and mp-agent. Idempotent; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev libssl-dev
          python3 python3-pytest python3-pytest-xdist python3-venv iproute2 valgrind python3-yaml)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "setup: missing Debian packages; run:" >&2
        echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

build=${BUILD_DIR:-build}
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

# Debian's interpreter, so that Debian's pytest is in the venv (the first python3 on
# PATH may be another one without it).
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD/plugin" > "$site/pytest_mp.pth"
dist="$site/pytest_mp-0.1.0.dist-info"
mkdir -p "$dist"
printf 'Metadata-Version: 2.1\nName: pytest-mp\nVersion: 0.1.0\n' > "$dist/METADATA"
printf '[pytest11]\nmp = pytest_mp.plugin\n' > "$dist/entry_points.txt"
: > "$dist/RECORD"
cat > .venv/bin/pytest.new <<PY
#!$PWD/.venv/bin/python
import sys
from pytest import console_main
sys.exit(console_main())
PY
chmod 755 .venv/bin/pytest.new
mv .venv/bin/pytest.new .venv/bin/pytest
install -m 755 "$build/mp-coord" "$build/mp-agent" .venv/bin/
install -m 644 "$build/libmpclient.so" .venv/lib/
