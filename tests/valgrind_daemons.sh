#!/usr/bin/env bash
# Runs end-to-end tests with mp-coord and mp-agent under valgrind; any error or leak
# that valgrind reports from either daemon fails.  Usage: valgrind_daemons.sh BUILD_DIR TESTS...
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
reports=$(cat "$wrappers"/logs/*.log 2>/dev/null || true)
if [ -n "$reports" ]; then
    echo "$reports"
    echo "valgrind reported on the daemons" >&2
    exit 1
fi
echo "valgrind: $(ls "$wrappers"/logs | wc -l) daemon runs, no reports"
