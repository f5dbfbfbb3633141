#!/usr/bin/env bash
# make fuzz / make fuzz-slice: builds the libFuzzer targets with clang (MP_FUZZ=ON, in
# their own build directory) and runs each for FUZZ_SECONDS on a scratch copy of its
# seed corpus, so the committed corpus never grows by itself. Prints each target's
# executions, speed, coverage and any crash file; fails when one crashed.
#
#   FUZZ_BUILD    build directory (build-fuzz)
#   FUZZ_SECONDS  per target (300)
#   FUZZ_TARGETS  space-separated names (every tests/fuzz/fuzz_*.c)
#
# A crash reproducer worth keeping goes into tests/fuzz/corpus/<target>/ by hand, so
# that the <target>_replay ctest replays it in every build.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-300}
targets=${FUZZ_TARGETS:-$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)}

# clang, and the libFuzzer runtime: Debian ships it in libclang-rt-N-dev, which clang
# only recommends.
can_link() {
    local dir
    dir=$(mktemp -d) || return 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }' \
        > "$dir/t.c"
    clang -fsanitize=fuzzer,address,undefined "$dir/t.c" -o "$dir/t" >/dev/null 2>&1
    local rc=$?
    rm -rf "$dir"
    return $rc
}
install_packages() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "fuzz: missing Debian packages; run:" >&2
        echo "  sudo apt-get install -y --no-install-recommends $*" >&2
        exit 1
    fi
    echo "fuzz: installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends "$@" || exit 1
}
if ! command -v clang >/dev/null 2>&1; then
    install_packages clang
fi
if ! can_link; then
    install_packages "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
    can_link || { echo "fuzz: clang cannot link -fsanitize=fuzzer programs" >&2; exit 1; }
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang cmake -S . -B "$build" -DMP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
fi
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets >/dev/null || exit 1

failed=0
summary=()
for t in $targets; do
    work=$build/fuzz-runs/$t
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -r "tests/fuzz/corpus/$t/." "$work/corpus/"
    seeds=$(find "$work/corpus" -type f | wc -l)
    echo "fuzz: $t for ${seconds}s on $seeds seeds (log: $work/log)"
    "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" \
        >"$work/log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
    grown=$(find "$work/corpus" -type f | wc -l)
    line="$t: ${execs:-?} execs, ${speed:-?} exec/s, cov ${cov:-?} ft ${ft:-?}, corpus $seeds -> $grown"
    crashes=$(find "$work/artifacts" -type f | sort)
    if [ "$rc" -ne 0 ] || [ -n "$crashes" ]; then
        failed=1
        line="$line, FAILED (exit $rc)"
        grep -E -A30 '^==[0-9]+==ERROR|fuzz check failed|runtime error|SUMMARY' "$work/log" | head -n 60
        for c in $crashes; do
            line="$line
    crash file: $c"
        done
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $failed
