#!/usr/bin/env bash
# make setup: Debian packages when missing, the CMake build, and .venv holding the
# plugin, pytest, mp-coord and mp-agent. Idempotent; quick when nothing changed.
# The plugin is an editable pip install (plugin/ is what .venv runs), the daemons and
# libmpclient.so a `cmake --install` of the build into .venv: the same two ways
# pytest-mp installs anywhere else (see pyproject.toml, setup.py, CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev libssl-dev
          python3 python3-pytest python3-pytest-xdist python3-venv iproute2 valgrind python3-yaml
          python3-wheel)
. deploy/debian-packages.sh
ensure_debian_packages setup "${packages[@]}"

build=${BUILD_DIR:-build}
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMP_DEFAULT_PYTHON="$PWD/.venv/bin/python" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

# Debian's interpreter, so that Debian's pytest is in the venv (the first python3 on
# PATH may be another one without it).
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# What earlier setups wrote by hand instead of the pip install below.
if [ -f "$site/pytest_mp.pth" ]; then
    rm -rf "$site/pytest_mp.pth" "$site"/pytest_mp-*.dist-info
fi
# The plugin, with its metadata (entry point pytest11, version from VERSION): pip again
# only when what the install depends on changed. It builds the C parts in $build too.
stamp=.venv/.pytest-mp-install
want="$(cat VERSION pyproject.toml setup.py | sha256sum | cut -d' ' -f1) $PWD/$build"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! compgen -G "$site/__editable__.pytest_mp-*.pth" >/dev/null; then
    rm -f "$stamp"
    MP_CMAKE_BUILD_DIR="$PWD/$build" .venv/bin/python -m pip install -q --no-build-isolation \
        --no-index --no-deps --disable-pip-version-check -e . >/dev/null
    echo "$want" > "$stamp"
fi
# Debian's pytest has no console script in the venv: this one runs it with .venv's python.
if [ ! -x .venv/bin/pytest ] || ! grep -q "^#!$PWD/.venv/bin/python\$" .venv/bin/pytest; then
    cat > .venv/bin/pytest.new <<PY
#!$PWD/.venv/bin/python
import sys
from pytest import console_main
sys.exit(console_main())
PY
    chmod 755 .venv/bin/pytest.new
    mv .venv/bin/pytest.new .venv/bin/pytest
fi
# The daemons and the library of this build, every time (it may be newer than the pip
# install): .venv/bin/mp-coord, .venv/bin/mp-agent, .venv/lib/libmpclient.so.
cmake --install "$build" --prefix .venv --component runtime >/dev/null
