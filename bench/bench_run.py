"""Times whole pytest runs with and without pytest-mp.

Generates two suites in temporary directories and runs each of them several times
as `python -m pytest`, timing every run from outside (time.perf_counter around
subprocess.run), then reports medians:

  sleep suite     40 tests sleeping 0.2 s: `--mp --np 4` against plain pytest and
                  against the ideal, 40 * 0.2 / 4 s plus the collection-only time.
  trivial suite   200 empty tests: `--mp --np 1` and plain pytest, each minus the
                  collection-only time, divided by 200: the cost per test.

Usage: python bench/bench_run.py [--reps N] [--np N] [--json PATH]
Nothing here asserts on time; the figures are for reading (see bench/README.md).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SLEEP_TESTS = 40
SLEEP_SECONDS = 0.2
TRIVIAL_TESTS = 200
RUN_TIMEOUT = 600

SLEEP_SUITE = """\
import time
import pytest


@pytest.mark.parametrize("i", range(%d))
def test_sleep(i):
    time.sleep(%r)
""" % (SLEEP_TESTS, SLEEP_SECONDS)

TRIVIAL_SUITE = """\
import pytest


@pytest.mark.parametrize("i", range(%d))
def test_trivial(i):
    pass
""" % TRIVIAL_TESTS


def make_suite(base, name, source):
    path = Path(base) / name
    path.mkdir()
    (path / "pytest.ini").write_text("[pytest]\n")
    (path / ("test_%s.py" % name)).write_text(source)
    return path


def time_run(python, suite, args):
    """Seconds one whole `python -m pytest <args>` run takes in the suite directory."""
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("bench run failed (exit %d): %s\n%s\n%s" % (
            proc.returncode, " ".join(cmd), proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed


def run_benchmarks(python, reps, np):
    with tempfile.TemporaryDirectory(prefix="pytest-mp-bench-") as base:
        sleep = make_suite(base, "sleep", SLEEP_SUITE)
        trivial = make_suite(base, "trivial", TRIVIAL_SUITE)
        cases = {
            "sleep_collect": (sleep, ["--collect-only"]),
            "sleep_plain": (sleep, []),
            "sleep_mp": (sleep, ["--mp", "--np", str(np)]),
            "trivial_collect": (trivial, ["--collect-only"]),
            "trivial_plain": (trivial, []),
            "trivial_mp": (trivial, ["--mp", "--np", "1"]),
        }
        times = {name: [] for name in cases}
        #  Repetitions interleave the cases, so that a slow spell of the machine is
        #  shared out rather than landing on one case.
        for rep in range(reps):
            print("repetition %d/%d" % (rep + 1, reps), file=sys.stderr, flush=True)
            for name, (suite, args) in cases.items():
                times[name].append(time_run(python, suite, args))
    return {name: {"args": cases[name][1], "times": t, "median": statistics.median(t)}
            for name, t in times.items()}


def summarise(results, np):
    med = {name: r["median"] for name, r in results.items()}
    ideal = SLEEP_TESTS * SLEEP_SECONDS / np + med["sleep_collect"]
    per_test_plain = (med["trivial_plain"] - med["trivial_collect"]) / TRIVIAL_TESTS
    per_test_mp = (med["trivial_mp"] - med["trivial_collect"]) / TRIVIAL_TESTS
    return {
        "ideal_sleep_mp": ideal,
        "sleep_mp_over_ideal": med["sleep_mp"] / ideal,
        "sleep_plain_over_mp": med["sleep_plain"] / med["sleep_mp"],
        "per_test_plain": per_test_plain,
        "per_test_mp": per_test_mp,
        "per_test_mp_over_plain": per_test_mp / per_test_plain if per_test_plain > 0 else None,
    }


def print_table(results, summary, np, reps):
    def row(label, seconds, note=""):
        print("  %-44s %9.3f s  %s" % (label, seconds, note))

    r = {name: x["median"] for name, x in results.items()}
    print("medians of %d runs each, whole `python -m pytest` runs\n" % reps)
    print("%d tests sleeping %.1f s" % (SLEEP_TESTS, SLEEP_SECONDS))
    row("plain pytest", r["sleep_plain"])
    row("pytest --mp --np %d" % np, r["sleep_mp"])
    row("ideal: %d*%.1f/%d + collection-only" % (SLEEP_TESTS, SLEEP_SECONDS, np),
        summary["ideal_sleep_mp"], "(collection-only %.3f s)" % r["sleep_collect"])
    print("  speed-up over plain: %.2fx    --mp over ideal: %.2fx\n" % (
        summary["sleep_plain_over_mp"], summary["sleep_mp_over_ideal"]))
    print("%d trivial tests (collection-only %.3f s subtracted)" % (
        TRIVIAL_TESTS, r["trivial_collect"]))
    row("plain pytest, whole run", r["trivial_plain"],
        "-> %.2f ms per test" % (summary["per_test_plain"] * 1e3))
    row("pytest --mp --np 1, whole run", r["trivial_mp"],
        "-> %.2f ms per test" % (summary["per_test_mp"] * 1e3))
    ratio = summary["per_test_mp_over_plain"]
    print("  per-test cost, --mp over plain: %s" % ("%.1fx" % ratio if ratio else "n/a"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="runs per case (default 5)")
    parser.add_argument("--np", type=int, default=4, help="processes for the sleep suite")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter whose pytest has the plugin (default: this one)")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.np < 1:
        parser.error("--reps and --np must be at least 1")

    results = run_benchmarks(args.python, args.reps, args.np)
    summary = summarise(results, args.np)
    print_table(results, summary, args.np, args.reps)
    if args.json:
        document = {"reps": args.reps, "np": args.np, "cpu_count": os.cpu_count(),
                    "sleep_tests": SLEEP_TESTS, "sleep_seconds": SLEEP_SECONDS,
                    "trivial_tests": TRIVIAL_TESTS, "runs": results, "summary": summary}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
