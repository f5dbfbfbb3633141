#!/usr/bin/env bash
# make deb: the Debian package pytest-mp_VERSION_ARCH.deb, built with dpkg-buildpackage
# from a copy of the tree (it writes to the parent directory), into $DEB_OUT
# (default build-deb/). debian/changelog is written from VERSION, the one version.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${DEB_OUT:-build-deb}")

needed=(dpkg-dev debhelper dh-python python3-all python3-setuptools cmake pkg-config
        libzmq3-dev libczmq-dev libmsgpack-dev libssl-dev)
. deploy/debian-packages.sh
ensure_debian_packages deb "${needed[@]}"

version=$(tr -d ' \t\r\n' < VERSION)
# Debian sorts a pre-release before its release only when marked with ~: 1.2rc1 -> 1.2~rc1.
deb_version=$(sed -E 's/^([0-9][0-9.]*[0-9])([a-z])/\1~\2/' <<<"$version")
# Reproducible: the date of the last commit when there is one.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/pytest-mp-$deb_version"
mkdir "$src"
tar -C . -cf - --exclude=./.git --exclude=./.venv --exclude=./build --exclude='./build-*' \
    --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache --exclude=./debian/changelog \
    . | tar -C "$src" -xf -
cat > "$src/debian/changelog" <<CHANGELOG
pytest-mp ($deb_version) unstable; urgency=medium

  * Version $version (VERSION).

 -- pytest-mp developers <pytest-mp@localhost>  $(date -R -u -d "@$epoch")
CHANGELOG

echo "deb: building pytest-mp $deb_version in $src"
options=$(echo "${DEB_BUILD_OPTIONS:-} nocheck parallel=$(nproc)" | xargs)
(cd "$src" && SOURCE_DATE_EPOCH=$epoch DEB_BUILD_OPTIONS="$options" \
    dpkg-buildpackage -b -us -uc > "$tmp/build.log" 2>&1) || {
    tail -50 "$tmp/build.log"; echo "deb: dpkg-buildpackage failed" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out"/pytest-mp_*.deb
cp "$tmp"/pytest-mp_*.deb "$out"/
cp "$tmp/build.log" "$out/build.log"
ls "$out"/pytest-mp_*.deb
