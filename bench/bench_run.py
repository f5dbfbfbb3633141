"""Times pytest-mp against its baselines, every case interleaved in one invocation.

Writes the suites into a temporary directory and runs each case `--reps` times, the
cases of one repetition one after another (so that a slow spell of a shared machine
is shared out rather than landing on one case), then prints one table of medians,
each figure with its ratio against its baseline and the target it is read against:

  io       200 tests sleeping 50 ms: `pytest --mp --np 8` against `pytest -n 8`
           (pytest-xdist), plain pytest and the floor, 200 * 0.05 / 8 s plus the
           median of a `--collect-only` run of the same suite.
  fork     200 empty tests at `--mp --np 1` and `--np 2`: the cost of a test in a
           fresh process (whole run minus collect-only, over 200) against the
           fork + pytest protocol + exit floor of bench/fork_floor.py, and the
           throughput of two slots over one; 500 empty tests at `--mp --np 2`,
           with and without --mp-reuse, against `pytest -n 2`; the io suite under
           --mp-reuse too.
  first    the time from a command's start to its one test's start, plain pytest
           against `--mp --np 2`.
  longest  short tests then long ones, at 4 processes: xdist against --mp-reuse
           without and with the durations of the run before (pytest's cache),
           against the longest-processing-time schedule.
  scale    bench/load_coord.c against one mp-coord: 200 simulated agents of 8 slots
           and 4 front ends of 10,000 units each (free, serial and isolated
           groups), then 200,000 board operations; dispatch-and-result cycles and
           board operations a second, the coordinator's memory per agent and per
           queued unit. The tool checks exactly-once dispatch and the isolation
           barriers, and shares the machine's cores with the coordinator.
  sync     one test timing 500 board sets, 500 board gets and 500 lock cycles with
           time.perf_counter inside it, against a bare ZeroMQ DEALER/ROUTER round
           trip timed in the same repetition by bench/zmq_floor.py.

With `--baseline-python PATH` (the interpreter of another checkout, whose pytest has
an older pytest-mp) every --mp case is also run with it, next to the same case with
`--python`, and the table adds new/baseline ratios: an A/B test of a change.

Usage: python bench/bench_run.py [--reps N] [--quick] [--np N] [--json PATH]
                                 [--python PATH] [--baseline-python PATH]
Nothing here asserts on time; the figures are for reading (see bench/README.md).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN_TIMEOUT = 900

FULL = {"reps": 3, "io_tests": 200, "io_sleep": 0.05, "trivial_tests": 200,
        "many_tests": 500, "sync_ops": 500, "load_units": 10000, "load_board_ops": 200000}
# The longest-first workload (same in --quick): short tests, then long ones, in file
# order, at LT_NP processes.
LT = {"short": 30, "short_s": 0.1, "long": 5, "long_s": 2.0}
LT_NP = 4
# --quick: one repetition, smaller trivial suites; the same cases and the same table.
QUICK = {"reps": 1, "io_tests": 200, "io_sleep": 0.05, "trivial_tests": 50,
         "many_tests": 100, "sync_ops": 500, "load_units": 2000, "load_board_ops": 50000}

# Targets: (figure, comparison, bound, what it means).
TARGETS = {
    "io_mp_over_xdist": ("<=", 0.5, "2x faster than xdist"),
    "io_mp_over_floor": ("<=", 1.3, "within 1.3x of the floor"),
    "fork_mp_over_floor": ("<=", 1.3, ""),
    "fork_scaling": (">=", 1.8, ""),
    "sync_over_zmq": ("<=", 1.5, ""),
    "many_reuse_over_xdist": ("<=", 1 / 1.5, "1.5x faster than xdist"),
    "first_gap": ("<=", 0.3, "within 0.3 s of plain pytest"),
    "lt_over_lpt": ("<=", 1.1, "within 1.1x of the LPT schedule"),
    "lt_over_xdist": ("<=", 1.0, "faster than xdist"),
    "scale_cycles": (">=", 20000, "unit cycles a second, 200 agents"),
    "scale_board": (">=", 50000, "board operations a second"),
}
# The load tool, from the build that `make setup` makes.
LOAD_COORD = Path(os.environ.get("MP_BUILD_DIR", HERE.parent / "build")) / "load_coord"

IO_SUITE = """\
import time
import pytest


@pytest.mark.parametrize("i", range({n}))
def test_sleep(i):
    time.sleep({sleep!r})
"""

TRIVIAL_SUITE = """\
import pytest


@pytest.mark.parametrize("i", range({n}))
def test_trivial(i):
    pass
"""

LONGTAIL_SUITE = """\
import time
import pytest


@pytest.mark.parametrize("i", range({short}))
def test_short(i):
    time.sleep({short_s!r})


@pytest.mark.parametrize("i", range({long}))
def test_long(i):
    time.sleep({long_s!r})
"""

#  When the first test began, by the clock every process of the host shares.
FIRST_SUITE = """\
import json
import time

OUT = {out!r}


def test_first():
    with open(OUT, "w") as f:
        json.dump({{"first_at": time.time()}}, f)
"""

#  The timing is done inside the test, so that it holds only the requests: no
#  start-up, no daemons, no fork. The result goes to a file named by absolute path
#  (a unit process runs in the agent's work directory, with its environment).
SYNC_SUITE = """\
import json
import time

N = {n}
OUT = {out!r}


def test_sync(mp_message_board, mp_lock):
    board = mp_message_board
    value = "v" * 64
    keys = ["key%d" % i for i in range(10)]
    for key in keys:  # warm up: the connection, the keys, the lock
        board[key] = value
        board[key]
    mp_lock.acquire()
    mp_lock.release()
    start = time.perf_counter()
    for i in range(N):
        board[keys[i % 10]] = value
    set_done = time.perf_counter()
    for i in range(N):
        assert board[keys[i % 10]] == value
    get_done = time.perf_counter()
    for i in range(N):
        mp_lock.acquire()
        mp_lock.release()
    lock_done = time.perf_counter()
    with open(OUT, "w") as f:
        json.dump({{"ops": N,
                   "set_s": (set_done - start) / N,
                   "get_s": (get_done - set_done) / N,
                   "lock_s": (lock_done - get_done) / N}}, f)
"""


class Case:
    """One command run once per repetition. kind: pytest (whole run timed from
    outside), floor (bench/fork_floor.py, result from its file), zmq
    (bench/zmq_floor.py, result on its stdout)."""

    def __init__(self, key, suite, args, kind="pytest", python=None, passed=None,
                 collected=None, result_file=None, base_of=None, cache=False):
        self.key, self.suite, self.args, self.kind = key, suite, args, kind
        self.cache = cache  # pytest's cache on (it is off in every other case)
        self.python = python
        self.passed, self.collected = passed, collected
        self.result_file = result_file
        self.base_of = base_of  # for a --baseline-python twin: the key of its case

    def command(self):
        if self.kind == "floor":
            return [self.python, str(HERE / "fork_floor.py"), ".", self.result_file,
                    "-q", "-p", "no:cacheprovider"]
        if self.kind == "zmq":
            return [self.python, str(HERE / "zmq_floor.py"), *self.args]
        if self.kind == "load":
            return [str(LOAD_COORD), str(Path(self.python).parent / "mp-coord"), *self.args]
        return [self.python, "-m", "pytest", "-q",
                *([] if self.cache else ["-p", "no:cacheprovider"]), *self.args]


def run_case(case):
    """{"seconds": wall time of the whole command, ...figures the command reported}."""
    if case.result_file:
        Path(case.result_file).unlink(missing_ok=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_XDIST_AUTO_NUM_WORKERS"):
        env.pop(name, None)
    cmd = case.command()
    wall_start = time.time()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=case.suite, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    elapsed = time.perf_counter() - start

    def fail(why):
        sys.exit("bench case %s %s: %s\n%s\n%s" % (
            case.key, why, " ".join(cmd), proc.stdout[-3000:], proc.stderr[-3000:]))

    if proc.returncode != 0:
        fail("failed (exit %d)" % proc.returncode)
    # A run that did not run what it should is no figure: check pytest's own count.
    if case.passed is not None:
        found = re.search(r"(\d+) passed", proc.stdout)
        if not found or int(found.group(1)) != case.passed:
            fail("did not pass %d tests" % case.passed)
    if case.collected is not None:
        found = re.search(r"(\d+) tests? collected", proc.stdout)
        if not found or int(found.group(1)) != case.collected:
            fail("did not collect %d tests" % case.collected)
    result = {"seconds": elapsed}
    if case.kind == "zmq":
        result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    elif case.kind == "load":
        result.update({k: float(v) for k, v in
                       (line.split("=", 1) for line in proc.stdout.split() if "=" in line)})
    elif case.result_file:
        try:
            result.update(json.loads(Path(case.result_file).read_text()))
            if "first_at" in result:
                result["first_s"] = result.pop("first_at") - wall_start
        except (OSError, ValueError) as error:
            fail("wrote no result to %s (%s)" % (case.result_file, error))
    return result


def make_suite(base, name, source):
    path = Path(base) / name
    path.mkdir()
    (path / "pytest.ini").write_text("[pytest]\n")
    (path / ("test_%s.py" % name)).write_text(source)
    return path


def build_cases(base, sizes, np, python, baseline):
    io = make_suite(base, "io", IO_SUITE.format(n=sizes["io_tests"], sleep=sizes["io_sleep"]))
    trivial = make_suite(base, "trivial", TRIVIAL_SUITE.format(n=sizes["trivial_tests"]))
    many = make_suite(base, "many", TRIVIAL_SUITE.format(n=sizes["many_tests"]))
    sync_out = str(Path(base) / "sync" / "result.json")
    sync = make_suite(base, "sync", SYNC_SUITE.format(n=sizes["sync_ops"], out=sync_out))
    first_out = str(Path(base) / "first" / "result.json")
    first = make_suite(base, "first", FIRST_SUITE.format(out=first_out))
    lt = make_suite(base, "longtail", LONGTAIL_SUITE.format(**LT))
    nlt = LT["short"] + LT["long"]
    lt_mp = ["--mp", "--np", str(LT_NP), "--mp-reuse"]
    nio, ntriv, nmany = sizes["io_tests"], sizes["trivial_tests"], sizes["many_tests"]
    cases = [
        Case("io_collect", io, ["--collect-only"], collected=nio),
        Case("io_plain", io, [], passed=nio),
        Case("io_xdist", io, ["-n", str(np)], passed=nio),
        Case("io_mp", io, ["--mp", "--np", str(np)], passed=nio),
        Case("io_reuse", io, ["--mp", "--np", str(np), "--mp-reuse"], passed=nio),
        Case("fork_collect", trivial, ["--collect-only"], collected=ntriv),
        Case("fork_plain", trivial, [], passed=ntriv),
        Case("fork_floor", trivial, [], kind="floor",
             result_file=str(Path(base) / "fork_floor.json")),
        Case("fork_mp1", trivial, ["--mp", "--np", "1"], passed=ntriv),
        Case("fork_mp2", trivial, ["--mp", "--np", "2"], passed=ntriv),
        Case("many_collect", many, ["--collect-only"], collected=nmany),
        Case("many_xdist", many, ["-n", "2"], passed=nmany),
        Case("many_mp", many, ["--mp", "--np", "2"], passed=nmany),
        Case("many_reuse", many, ["--mp", "--np", "2", "--mp-reuse"], passed=nmany),
        Case("first_plain", first, [], passed=1, result_file=first_out),
        Case("first_mp", first, ["--mp", "--np", "2"], passed=1, result_file=first_out),
        Case("lt_collect", lt, ["--collect-only"], collected=nlt),
        Case("lt_xdist", lt, ["-n", str(LT_NP)], passed=nlt),
        Case("lt_fileorder", lt, lt_mp, passed=nlt),
        # Runs with the cache: the first leaves the durations the second orders by.
        Case("lt_seed", lt, lt_mp, passed=nlt, cache=True),
        Case("lt_mp", lt, lt_mp, passed=nlt, cache=True),
        Case("sync_zmq", sync, ["--n", str(sizes["sync_ops"])], kind="zmq"),
        Case("sync_mp", sync, ["--mp", "--np", "1"], passed=1, result_file=sync_out),
        Case("scale", base, ["--agents", "200", "--slots", "8", "--fronts", "4",
                             "--units", str(sizes["load_units"]),
                             "--board-ops", str(sizes["load_board_ops"])], kind="load"),
    ]
    groups = []
    for case in cases:
        case.python = python
        group = [case]
        # --mp-reuse is new: a baseline checkout may not know it.
        if (baseline and case.kind == "pytest" and "--mp" in case.args
                and "--mp-reuse" not in case.args):
            group.append(Case(case.key + ":base", case.suite, case.args, python=baseline,
                              passed=case.passed, result_file=case.result_file,
                              base_of=case.key))
        groups.append(group)
    return groups


def run_benchmarks(groups, reps):
    results = {case.key: [] for group in groups for case in group}
    for rep in range(reps):
        print("repetition %d/%d" % (rep + 1, reps), file=sys.stderr, flush=True)
        for group in groups:
            # A case and its baseline twin run back to back, in turn first.
            for case in (group if rep % 2 == 0 else group[::-1]):
                result = run_case(case)
                results[case.key].append(result)
                print("  %-18s %8.3f s" % (case.key, result["seconds"]), file=sys.stderr,
                      flush=True)
    return results


def medians(results):
    """key -> {figure: median over the repetitions}."""
    out = {}
    for key, runs in results.items():
        figures = {}
        for name in runs[0]:
            if isinstance(runs[0][name], float):
                figures[name] = statistics.median(r[name] for r in runs)
        out[key] = figures
    return out


def figures(med, sizes, np, side=""):
    """The derived figures of one side: "" for --python, ":base" for the baseline
    (collect-only, xdist and the floors are measured once, with --python)."""
    def s(key):
        entry = med.get(key + side) if key.endswith(("_mp", "_mp1", "_mp2")) else med.get(key)
        return entry["seconds"] if entry else None

    f = {}
    nio, ntriv = sizes["io_tests"], sizes["trivial_tests"]
    if s("io_mp") is None:
        return f
    f["io_floor"] = nio * sizes["io_sleep"] / np + s("io_collect")
    f["io_mp"] = s("io_mp")
    f["io_mp_over_xdist"] = s("io_mp") / s("io_xdist")
    f["io_mp_over_floor"] = s("io_mp") / f["io_floor"]
    collect = s("fork_collect")
    f["fork_per_test_mp1"] = (s("fork_mp1") - collect) / ntriv
    f["fork_per_test_mp2"] = (s("fork_mp2") - collect) / ntriv
    f["fork_mp1"], f["fork_mp2"] = s("fork_mp1"), s("fork_mp2")
    f["fork_mp_over_floor"] = f["fork_per_test_mp1"] / med["fork_floor"]["protocol_s"]
    f["fork_scaling"] = (s("fork_mp1") - collect) / (s("fork_mp2") - collect)
    f["many_mp"] = s("many_mp")
    f["many_mp_over_xdist"] = s("many_mp") / s("many_xdist")
    # Measured with --python only.
    f["io_reuse"] = med["io_reuse"]["seconds"]
    f["io_reuse_over_xdist"] = f["io_reuse"] / s("io_xdist")
    f["io_reuse_over_floor"] = f["io_reuse"] / f["io_floor"]
    f["many_reuse"] = med["many_reuse"]["seconds"]
    f["many_reuse_over_xdist"] = f["many_reuse"] / s("many_xdist")
    f["first_plain"] = med["first_plain"]["first_s"]
    f["first_mp"] = med["first_mp" + side]["first_s"]
    f["first_gap"] = f["first_mp"] - f["first_plain"]
    f["lt_lpt"] = lpt_makespan([LT["long_s"]] * LT["long"] + [LT["short_s"]] * LT["short"],
                               LT_NP) + med["lt_collect"]["seconds"]
    f["lt_mp"] = med["lt_mp"]["seconds"]
    f["lt_fileorder"] = med["lt_fileorder"]["seconds"]
    f["lt_over_lpt"] = f["lt_mp"] / f["lt_lpt"]
    f["lt_over_xdist"] = f["lt_mp"] / med["lt_xdist"]["seconds"]
    sync = med["sync_mp" + side]
    rtt = med["sync_zmq"]["direct_s"]
    for op in ("set", "get", "lock"):
        f["sync_%s" % op] = sync["%s_s" % op]
    f["sync_set_over_zmq"] = sync["set_s"] / rtt
    f["sync_get_over_zmq"] = sync["get_s"] / rtt
    f["sync_lock_over_zmq"] = sync["lock_s"] / (2 * rtt)  # two requests a cycle
    load = med["scale"]
    f["scale_cycles"] = load["cycles_per_s"]
    f["scale_board"] = load["board_ops_per_s"]
    f["scale_cycles_cpu"] = load["cycles_per_coord_cpu_s"]
    f["scale_board_cpu"] = load["board_ops_per_coord_cpu_s"]
    f["scale_kb_per_agent"] = load["rss_kb_per_agent"]
    f["scale_kb_per_unit"] = load["rss_kb_per_queued_unit"]
    return f


def lpt_makespan(durations, slots):
    """The makespan of the longest-processing-time-first schedule of durations."""
    ends = [0.0] * slots
    for d in sorted(durations, reverse=True):
        ends[ends.index(min(ends))] += d
    return max(ends)


def verdict(name, value):
    op, bound, _ = TARGETS[name]
    met = value <= bound if op == "<=" else value >= bound
    if name.startswith("scale_"):
        return "%s %d/s" % (op, bound), ("met" if met else "NOT met")
    unit = " s" if name == "first_gap" else "x"
    return "%s %.2f%s" % (op, bound, unit), ("met" if met else "NOT met")


def table_rows(med, sizes, np, baseline):
    """(workload, case, median, ratio, target, verdict) rows."""
    new = figures(med, sizes, np)
    base = figures(med, sizes, np, ":base") if baseline else {}
    rows = []

    def sec(x):
        return "%.3f s" % x

    def ms(x):
        return "%.2f ms" % (x * 1e3)

    def us(x):
        return "%.0f us" % (x * 1e6)

    def row(workload, case, value, ratio="", target_of=None, ratio_value=None):
        target, met = verdict(target_of, ratio_value) if target_of else ("", "")
        rows.append((workload, case, value, ratio, target, met))

    def base_row(workload, what, name, fmt):
        # The same figure under --baseline-python, and new / baseline.
        if base:
            row(workload, "  %s, baseline" % what, fmt(base[name]),
                "%6.2fx new/base" % (new[name] / base[name]))

    nio, sleep = sizes["io_tests"], sizes["io_sleep"]
    w = "io %dx%dms np%d" % (nio, round(sleep * 1e3), np)
    row(w, "plain pytest", sec(med["io_plain"]["seconds"]))
    row(w, "pytest -n %d (xdist)" % np, sec(med["io_xdist"]["seconds"]))
    row(w, "floor %g + collect-only %.3f" % (nio * sleep / np, med["io_collect"]["seconds"]),
        sec(new["io_floor"]))
    row(w, "pytest --mp --np %d" % np, sec(new["io_mp"]),
        "%6.2fx xdist" % new["io_mp_over_xdist"], "io_mp_over_xdist", new["io_mp_over_xdist"])
    row(w, "", "", "%6.2fx floor" % new["io_mp_over_floor"], "io_mp_over_floor",
        new["io_mp_over_floor"])
    row(w, "", "", "%6.2fx plain" % (new["io_mp"] / med["io_plain"]["seconds"]))
    base_row(w, "--mp --np %d" % np, "io_mp", sec)
    row(w, "pytest --mp --np %d --mp-reuse" % np, sec(new["io_reuse"]),
        "%6.2fx xdist" % new["io_reuse_over_xdist"])
    row(w, "", "", "%6.2fx floor" % new["io_reuse_over_floor"])

    ntriv = sizes["trivial_tests"]
    w = "process %d trivial" % ntriv
    collect = med["fork_collect"]["seconds"]
    row(w, "collect-only (subtracted below)", sec(collect))
    row(w, "plain pytest, per test", ms((med["fork_plain"]["seconds"] - collect) / ntriv))
    row(w, "floor: fork+exit, per fork", ms(med["fork_floor"]["fork_exit_s"]))
    row(w, "floor: fork+protocol+exit, per test", ms(med["fork_floor"]["protocol_s"]))
    row(w, "--mp --np 1, whole run", sec(new["fork_mp1"]))
    base_row(w, "--mp --np 1, whole run", "fork_mp1", sec)
    row(w, "--mp --np 1, per test", ms(new["fork_per_test_mp1"]),
        "%6.2fx floor" % new["fork_mp_over_floor"], "fork_mp_over_floor",
        new["fork_mp_over_floor"])
    base_row(w, "--mp --np 1, per test", "fork_per_test_mp1", ms)
    row(w, "--mp --np 2, whole run", sec(new["fork_mp2"]))
    base_row(w, "--mp --np 2, whole run", "fork_mp2", sec)
    row(w, "--mp --np 2, per test", ms(new["fork_per_test_mp2"]),
        "%6.2fx np1 throughput" % new["fork_scaling"], "fork_scaling", new["fork_scaling"])
    base_row(w, "--mp --np 2, per test", "fork_per_test_mp2", ms)

    nmany = sizes["many_tests"]
    w = "process %d trivial" % nmany
    row(w, "pytest -n 2 (xdist)", sec(med["many_xdist"]["seconds"]))
    row(w, "pytest --mp --np 2", sec(new["many_mp"]),
        "%6.2fx xdist" % new["many_mp_over_xdist"])
    base_row(w, "--mp --np 2", "many_mp", sec)
    row(w, "pytest --mp --np 2 --mp-reuse", sec(new["many_reuse"]),
        "%6.2fx xdist" % new["many_reuse_over_xdist"], "many_reuse_over_xdist",
        new["many_reuse_over_xdist"])

    w = "first test"
    row(w, "plain pytest: start to first test", sec(new["first_plain"]))
    row(w, "--mp --np 2: start to first test", sec(new["first_mp"]),
        "%+.3f s plain" % new["first_gap"], "first_gap", new["first_gap"])
    base_row(w, "--mp --np 2: start to first test", "first_mp", sec)

    w = "longest first"
    row(w, "%d x %gs then %d x %gs, np %d" % (LT["short"], LT["short_s"], LT["long"],
                                                LT["long_s"], LT_NP), "")
    row(w, "LPT schedule + collect-only", sec(new["lt_lpt"]))
    row(w, "pytest -n %d (xdist)" % LT_NP, sec(med["lt_xdist"]["seconds"]))
    row(w, "--mp-reuse, no cache (file order)", sec(new["lt_fileorder"]))
    row(w, "--mp-reuse, cache of the run before", sec(new["lt_mp"]),
        "%6.2fx LPT" % new["lt_over_lpt"], "lt_over_lpt", new["lt_over_lpt"])
    row(w, "", "", "%6.2fx xdist" % new["lt_over_xdist"], "lt_over_xdist",
        new["lt_over_xdist"])

    w = "sync %d ops" % sizes["sync_ops"]
    zmq = med["sync_zmq"]
    row(w, "zmq DEALER/ROUTER round trip", us(zmq["direct_s"]))
    row(w, "zmq round trip via a relay (2 hops)", us(zmq["relayed_s"]),
        "%6.2fx 1 hop" % (zmq["relayed_s"] / zmq["direct_s"]))
    for op, what, per in (("set", "board set", "zmq"), ("get", "board get", "zmq"),
                          ("lock", "lock acquire+release", "2x zmq")):
        ratio = new["sync_%s_over_zmq" % op]
        row(w, what, us(new["sync_%s" % op]), "%6.2fx %s" % (ratio, per), "sync_over_zmq",
            ratio)
        base_row(w, what, "sync_%s" % op, us)

    w = "scale 200 agents x 8"
    row(w, "unit dispatch-and-result cycles", "%.0f/s" % new["scale_cycles"], "",
        "scale_cycles", new["scale_cycles"])
    row(w, "board operations", "%.0f/s" % new["scale_board"], "", "scale_board",
        new["scale_board"])
    row(w, "  per second of the coordinator's CPU", "%.0f/s" % new["scale_cycles_cpu"],
        "cycles")
    row(w, "", "%.0f/s" % new["scale_board_cpu"], "board operations")
    row(w, "coordinator memory per agent", "%.1f KiB" % new["scale_kb_per_agent"])
    row(w, "coordinator memory per queued unit", "%.2f KiB" % new["scale_kb_per_unit"])
    return rows


def print_table(rows, reps, quick):
    header = ("workload", "case", "median", "ratio", "target", "")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(6)]
    print("medians of %d repetition(s)%s, all cases interleaved in this invocation\n" % (
        reps, " (--quick)" if quick else ""))

    def line(cells):
        # Text columns to the left, figures to the right.
        out = [cells[i].rjust(widths[i]) if i == 2 else cells[i].ljust(widths[i])
               for i in range(5)] + [cells[5]]
        return "  ".join(out).rstrip()

    print(line(header))
    previous = None
    for r in rows:
        print(line((r[0] if r[0] != previous else "",) + r[1:]))
        previous = r[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, help="runs per case (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of about two minutes: one repetition, "
                             "%d and %d trivial tests" % (QUICK["trivial_tests"],
                                                          QUICK["many_tests"]))
    parser.add_argument("--np", type=int, default=8,
                        help="processes for the io workload (default 8)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter whose pytest has the plugin (default: this one)")
    parser.add_argument("--baseline-python", metavar="PATH",
                        help="also run every --mp case with this interpreter (another "
                             "checkout's .venv/bin/python) and show new/baseline ratios")
    parser.add_argument("--table-from", metavar="PATH",
                        help="print the table of an earlier --json and exit")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    reps = args.reps if args.reps is not None else sizes["reps"]
    if reps < 1 or args.np < 1:
        parser.error("--reps and --np must be at least 1")
    for python in (args.python, args.baseline_python):
        if python and not os.access(python, os.X_OK):
            parser.error("not an executable: %s" % python)

    if args.table_from:
        # Only the table again, from an earlier --json.
        doc = json.loads(Path(args.table_from).read_text())
        print_table([tuple(r) for r in doc["table"]], doc["reps"], doc["quick"])
        print(footer(doc))
        return

    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pytest-mp-bench-") as base:
        groups = build_cases(base, sizes, args.np, args.python, args.baseline_python)
        results = run_benchmarks(groups, reps)
    med = medians(results)
    doc = {
        "reps": reps, "quick": args.quick, "np": args.np, "sizes": sizes,
        "cpu_count": os.cpu_count(), "load_before": load_before,
        "load_after": os.getloadavg(), "seconds": time.perf_counter() - started,
        "python": args.python, "baseline_python": args.baseline_python,
        "runs": results, "medians": med,
    }
    # The raw figures first: a table that fails to print loses nothing.
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    rows = table_rows(med, sizes, args.np, args.baseline_python)
    doc["figures"] = figures(med, sizes, args.np)
    if args.baseline_python:
        doc["baseline_figures"] = figures(med, sizes, args.np, ":base")
    doc["table"] = [list(r) for r in rows]
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    print_table(rows, reps, args.quick)
    print(footer(doc))


def footer(doc):
    return ("\nnproc %d; load average (1, 5, 15 min) %s before, %s after; %.0f s in all"
            "\npython %s%s" % (
                doc["cpu_count"], " ".join("%.2f" % x for x in doc["load_before"]),
                " ".join("%.2f" % x for x in doc["load_after"]), doc["seconds"],
                doc["python"],
                "\nbaseline %s" % doc["baseline_python"] if doc["baseline_python"] else ""))

if __name__ == "__main__":
    main()
