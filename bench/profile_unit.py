"""Where a unit's time goes: one `pytest --mp --np 1` run of trivial tests, cut up.

Runs N empty tests under `--mp --np 1 --mp-trace`, with a conftest.py whose hook
wrappers stamp (time.time(): one clock for every process of the host), in each unit
process, the start and end of pytest_runtest_logstart, of each
pytest_runtest_logreport and of pytest_runtest_logfinish: the plugin's own
implementations, which send the five REPORTs of a test, run inside them. The trace
gives each phase's CallInfo start and stop. From logfinish's end in one unit process
to logstart in the next lie: the connection closed, exit, the zygote's pidfd and
UNIT_EXIT, the coordinator's next UNIT through the agent, the zygote handing it to a
spare over a pipe, the spare's UNIT_STARTED.

Prints the median of each step over the units (the first left out: it pays the
run's start). Which reports are waited for depends on the plugin's version (see
plugin/pytest_mp/worker.py: _send).
Usage: python bench/profile_unit.py [--tests N] [--python PATH]
Nothing asserts on time; this is for reading.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = """\
import pytest


@pytest.mark.parametrize("i", range({n}))
def test_trivial(i):
    pass
"""


#  Stamps around the plugin's own hook implementations in unit processes (the front
#  end replays the same hooks: PYTEST_MP_WORKER tells them apart).
CONFTEST = """\
import json
import os
import resource
import time

import pytest

OUT = {out!r}
CONFIG = []


def pytest_configure(config):
    CONFIG.append(config)


def _stamp(nodeid, what, start, stop=None):
    if os.environ.get("PYTEST_MP_WORKER"):
        with open(OUT, "a") as f:
            f.write(json.dumps([nodeid, what, start, stop or time.time()]) + "\\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_logstart(nodeid, location):
    start = time.time()
    zygote = CONFIG[0].pluginmanager.get_plugin("mp_zygote") if CONFIG else None
    started_at = getattr(zygote, "started_at", 0)
    if started_at:  # when the spare read its unit from the zygote's pipe
        _stamp(nodeid, "started", started_at, started_at)
    yield
    _stamp(nodeid, "logstart", start)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_logreport(report):
    start = time.time()
    yield
    _stamp(report.nodeid, report.when, start)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_logfinish(nodeid, location):
    start = time.time()
    yield
    _stamp(nodeid, "logfinish", start)
    # A forked process's counts start at zero: its faults since fork().
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _stamp(nodeid, "faults", usage.ru_minflt, usage.ru_minflt)
    _stamp(nodeid, "cpu", usage.ru_utime, usage.ru_utime + usage.ru_stime)
"""


def profile(trace, stamps):
    events = trace["traceEvents"]
    tests = []
    phases = {}
    for e in events:
        if e.get("ph") != "X":
            continue
        where = (e["pid"], e["tid"])
        if e["cat"] == "test":
            tests.append((where, e["ts"], e["ts"] + e["dur"], e["args"]["nodeid"]))
        elif e["cat"] == "phase":
            phases[e["args"]["nodeid"], e["name"]] = (e["ts"], e["ts"] + e["dur"])
    steps = {}

    def add(name, value):
        steps.setdefault(name, []).append(value * 1e3)  # ms

    def us(x):
        return x / 1e6 + origin  # trace microseconds -> epoch seconds

    origin = trace["otherData"]["origin_epoch_seconds"]
    runs = sorted(tests, key=lambda t: t[1])
    for i, (_, start, stop, nodeid) in enumerate(runs):
        mine = stamps.get(nodeid, {})
        setup = phases.get((nodeid, "setup"))
        call = phases.get((nodeid, "call"))
        teardown = phases.get((nodeid, "teardown"))
        if i == 0 or not (setup and call and teardown) or len(mine) < 6:
            continue  # the first unit pays the run's start
        previous = stamps.get(runs[i - 1][3], {})
        if "logfinish" not in previous:
            continue
        # (what, from, to) in epoch seconds
        for name, a, b in (
            ("exit, UNIT_EXIT, next UNIT, spare reads it from its pipe",
             previous["logfinish"][1], mine["started"][0]),
            ("spare: unit read -> logstart (UNIT_STARTED posted)",
             mine["started"][0], mine["logstart"][0]),
            ("logstart report", *mine["logstart"]),
            ("logstart -> setup phase begins", mine["logstart"][1], us(setup[0])),
            ("setup phase", us(setup[0]), us(setup[1])),
            ("setup report built (makereport)", us(setup[1]), mine["setup"][0]),
            ("setup report", *mine["setup"]),
            ("setup report -> call phase begins", mine["setup"][1], us(call[0])),
            ("call phase", us(call[0]), us(call[1])),
            ("call report built", us(call[1]), mine["call"][0]),
            ("call report", *mine["call"]),
            ("call report -> teardown phase begins", mine["call"][1], us(teardown[0])),
            ("teardown phase", us(teardown[0]), us(teardown[1])),
            ("teardown report built", us(teardown[1]), mine["teardown"][0]),
            ("teardown report", *mine["teardown"]),
            ("teardown report -> logfinish done", mine["teardown"][1], mine["logfinish"][1]),
            ("one unit: previous logfinish -> this logfinish",
             previous["logfinish"][1], mine["logfinish"][1]),
        ):
            add(name, b - a)
        if "faults" in mine:
            steps.setdefault("unit process: minor page faults, fork to logfinish (count)",
                             []).append(mine["faults"][0])
            steps.setdefault("unit process: CPU user+sys, fork to logfinish", []).append(
                mine["cpu"][1] * 1e3)
    return {name: (statistics.median(v), len(v)) for name, v in steps.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--reuse", action="store_true",
                        help="run with --mp-reuse: one process runs unit after unit")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pytest-mp-profile-") as base:
        suite = Path(base)
        (suite / "pytest.ini").write_text("[pytest]\n")
        (suite / "test_trivial.py").write_text(SUITE.format(n=args.tests))
        stamps_path = suite / "stamps.jsonl"
        (suite / "conftest.py").write_text(CONFTEST.format(out=str(stamps_path)))
        trace_path = suite / "trace.json"
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTEST_ADDOPTS", None)
        proc = subprocess.run(
            [args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--mp",
             "--np", "1", "--mp-trace", str(trace_path)] + (["--mp-reuse"] if args.reuse else []),
            cwd=suite, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not trace_path.exists():
            sys.exit("profile run failed (exit %d)\n%s\n%s" % (
                proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        stamps = {}
        for line in stamps_path.read_text().splitlines():
            nodeid, what, start, stop = json.loads(line)
            stamps.setdefault(nodeid, {})[what] = (start, stop)
        steps = profile(json.loads(trace_path.read_text()), stamps)
    width = max(len(name) for name in steps)
    print("%d trivial tests, --mp --np 1%s: medians over %d units\n" % (
        args.tests, " --mp-reuse" if args.reuse else "", max(n for _, n in steps.values())))
    for name, (value, _) in steps.items():
        if name.endswith("(count)"):
            print("  %-*s %7.0f" % (width, name, value))
        else:
            print("  %-*s %7.2f ms" % (width, name, value))


if __name__ == "__main__":
    main()
