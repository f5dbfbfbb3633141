#!/usr/bin/env bash
# Runs end-to-end tests with mp-coord and mp-agent under valgrind, then the hostile-input
# test of mp-coord and (as root) a short slice of the chaos test; any error or leak that
# valgrind reports from either daemon fails.  Usage: valgrind_daemons.sh BUILD_DIR TESTS...
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "$1" && pwd)
shift
wrappers="$build/valgrind-bin"
rm -rf "$wrappers"
mkdir -p "$wrappers/logs"
for daemon in mp-coord mp-agent; do
    cat > "$wrappers/$daemon" <<SH
#!/bin/sh
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \\
    --log-file=$wrappers/logs/$daemon.%p.log $build/$daemon "\$@"
SH
    chmod +x "$wrappers/$daemon"
done
MP_BIN_DIR="$wrappers" .venv/bin/pytest -p no:cacheprovider -q "$@"
"$build/test_coord_hostile" "$wrappers/mp-coord"
if [ "$(id -u)" -eq 0 ]; then
    MP_BIN_DIR="$wrappers" .venv/bin/python tests/chaos/chaos.py --runs 2 --minutes 3 --seed 7
else
    echo "valgrind: chaos slice skipped: it makes network namespaces, which needs root"
fi
reports=$(cat "$wrappers"/logs/*.log 2>/dev/null || true)
if [ -n "$reports" ]; then
    echo "$reports"
    echo "valgrind reported on the daemons" >&2
    exit 1
fi
echo "valgrind: $(ls "$wrappers"/logs | wc -l) daemon runs, no reports"
