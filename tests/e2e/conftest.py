"""Shared helpers for the end-to-end tests.

Each e2e test writes a small test suite into its tmp_path (the `suite` fixture),
runs it with `python -m pytest --mp ...` in a subprocess, and then asserts on what
the suite's own tests recorded about themselves: which process ran them and when.
Records are JSON lines appended to a file named by MP_E2E_RECORD_FILE; every line is
one O_APPEND write, so concurrent unit processes never interleave their lines.

Kinds of record written by the generated conftest:
  session  a session-scoped autouse fixture was set up       {pid, time}
  start    a test began (written before the test body runs)  {nodeid, pid, start}
  test     a test ended, whatever its outcome                {nodeid, pid, start, end}
  ...      anything a suite writes itself with e2e_record(kind, **fields) or
           e2e_write(kind, **fields)
Times are time.monotonic(): CLOCK_MONOTONIC is one clock for every process on the
host, so intervals from different processes can be compared.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

RECORD_ENV = "MP_E2E_RECORD_FILE"
RUN_TIMEOUT = 120

#  The conftest.py of every generated suite; a test may append its own fixtures.
SUITE_CONFTEST = '''\
import json
import os
import time

import pytest


def e2e_write(kind, **fields):
    """Append one record as one JSON line with a single O_APPEND write."""
    path = os.environ.get("MP_E2E_RECORD_FILE")
    if not path:
        return
    record = dict(fields, kind=kind)
    record.setdefault("pid", os.getpid())
    record.setdefault("time", time.monotonic())
    line = (json.dumps(record, sort_keys=True) + "\\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@pytest.fixture(scope="session", autouse=True)
def _e2e_session():
    e2e_write("session")
    yield


@pytest.fixture(autouse=True)
def _e2e_test(request):
    nodeid = request.node.nodeid
    start = time.monotonic()
    e2e_write("start", nodeid=nodeid, start=start)
    yield
    e2e_write("test", nodeid=nodeid, start=start, end=time.monotonic())


@pytest.fixture
def e2e_record(request):
    """e2e_record(kind, **fields): a record tagged with the current test's nodeid."""
    def record(kind, **fields):
        e2e_write(kind, nodeid=request.node.nodeid, **fields)
    return record
'''


def overlaps(a, b):
    """True when the [start, end] intervals of two test records overlap in time."""
    return a["start"] < b["end"] and b["start"] < a["end"]


def max_concurrency(records):
    """The largest number of the given test intervals that are open at one instant."""
    events = sorted([(r["start"], 1) for r in records] + [(r["end"], -1) for r in records],
                    key=lambda e: (e[0], e[1]))
    open_now = best = 0
    for _, delta in events:
        open_now += delta
        best = max(best, open_now)
    return best


def test_name(nodeid):
    """'test_x.py::TestC::test_y[1]' -> 'test_y[1]'."""
    return nodeid.rsplit("::", 1)[-1]


class JunitCase:
    def __init__(self, element):
        self.name = element.get("name")
        self.outcome = "passed"
        self.text = ""
        for child in element:
            if child.tag in ("failure", "error", "skipped"):
                self.outcome = {"failure": "failed", "error": "error"}.get(child.tag, "skipped")
                self.text = "%s\n%s" % (child.get("message") or "", child.text or "")

    def __repr__(self):
        return "JunitCase(%r, %r, %r)" % (self.name, self.outcome, self.text[:300])


class RunResult:
    """What one run of a generated suite left behind."""

    def __init__(self, cmd, returncode, stdout, stderr, records, junit_path):
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.output = stdout + stderr
        self.records = records
        self._junit_path = junit_path

    def __repr__(self):
        return "<run %s -> %s>" % (" ".join(self.cmd), self.returncode)

    @property
    def log(self):
        """The command and its output, as an assertion message (a str, so that pytest
        shows it whole)."""
        return "%r\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            self, self.stdout[-6000:], self.stderr[-4000:])

    #  Interval helpers, reachable from the tests through any result.
    overlaps = staticmethod(overlaps)
    max_concurrency = staticmethod(max_concurrency)

    def of_kind(self, kind):
        return [r for r in self.records if r["kind"] == kind]

    @property
    def sessions(self):
        return self.of_kind("session")

    @property
    def started(self):
        """Names of the tests that began, in the order of their start records."""
        return [test_name(r["nodeid"]) for r in sorted(self.of_kind("start"),
                                                       key=lambda r: r["start"])]

    @property
    def tests(self):
        """name -> the 'test' record (interval and pid) of every test that ended."""
        found = {}
        for r in self.of_kind("test"):
            name = test_name(r["nodeid"])
            assert name not in found, "test %s recorded twice\n%s" % (name, self.log)
            found[name] = r
        return found

    def select(self, prefix):
        """The 'test' records whose test name starts with prefix, by start time."""
        return sorted((r for n, r in self.tests.items() if n.startswith(prefix)),
                      key=lambda r: r["start"])

    def pids(self, records):
        return {r["pid"] for r in records}

    def summary_count(self, word):
        """N from pytest's summary line '... N <word> ...', 0 when absent."""
        found = re.findall(r"(\d+) %s\b" % word, self.output)
        return int(found[-1]) if found else 0

    @property
    def junit(self):
        """name -> JunitCase, from the run's --junitxml file."""
        assert self._junit_path is not None, "run was not asked for a junit file"
        assert self._junit_path.exists(), "no junit xml written\n" + self.log
        root = ET.parse(self._junit_path).getroot()
        cases = [JunitCase(e) for e in root.iter("testcase")]
        return {c.name: c for c in cases}


class Suite:
    """A generated test suite in a directory of its own, and ways to run it."""

    def __init__(self, base):
        self.path = base / "suite"
        self.path.mkdir()
        self._base = base
        self._runs = 0
        self.conftest()
        self.ini()

    def write(self, name, source):
        (self.path / name).write_text(textwrap.dedent(source))

    def conftest(self, extra=""):
        """The recording conftest, followed by extra (suite-specific fixtures)."""
        self.write("conftest.py", SUITE_CONFTEST + "\n\n" + textwrap.dedent(extra))

    def ini(self, body=""):
        """pytest.ini: always present so that the suite directory is the rootdir."""
        self.write("pytest.ini", "[pytest]\n" + textwrap.dedent(body))

    def run(self, *args, np=4, junit=False, timeout=RUN_TIMEOUT, cache=False):
        """Run the suite under `pytest --mp --np <np>` plus args."""
        return self.run_plain("--mp", "--np", str(np), *args, junit=junit, timeout=timeout,
                              cache=cache)

    def run_plain(self, *args, junit=False, timeout=RUN_TIMEOUT, cache=False):
        """Run `python -m pytest <args>` in the suite directory; pytest's cache is off
        unless cache."""
        self._runs += 1
        records = self._base / ("records-%d.jsonl" % self._runs)
        junit_path = self._base / ("junit-%d.xml" % self._runs) if junit else None
        #  Wide enough that -v lines, which under --mp also name the worker, keep their
        #  skip reasons whole, as plain pytest's do.
        return run_pytest(self.path, args, records, junit_path, cache=cache, timeout=timeout,
                          columns=200)


def run_pytest(cwd, args, records, junit_path=None, *, cache=False, timeout=RUN_TIMEOUT,
               columns=200):
    """`python -m pytest <args>` in cwd, its tests recording to records, with pytest's
    cache off unless cache; a RunResult."""
    cmd = [sys.executable, "-m", "pytest", *([] if cache else ["-p", "no:cacheprovider"]),
           *args]
    if junit_path is not None:
        cmd.append("--junitxml=%s" % junit_path)
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    env[RECORD_ENV] = str(records)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["COLUMNS"] = str(columns)
    #  A session of its own, so that on a hang the whole tree we started (front end,
    #  coordinator, agent, workers) can be killed by its process group id.
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail("run did not end within %s s: %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                    % (timeout, " ".join(cmd), stdout[-6000:], stderr[-4000:]))
    finally:
        #  Whatever the front end left behind in its group (it should be nothing).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return RunResult(cmd, proc.returncode, stdout, stderr, read_records(records), junit_path)


def read_records(path):
    if not path.exists():
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def suite(tmp_path):
    return Suite(tmp_path)


def alive(pid):
    """1 when the process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().split(")")[-1].split()[1])


def free_port():
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
