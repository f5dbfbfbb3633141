#!/usr/bin/env python3
"""A seeded chaos test of pytest-mp across three hosts, with exactly-once invariants.

How to run (as root, after `make setup`):

    make chaos                                   # 200 runs, at most 60 minutes
    make chaos CHAOS_RUNS=3 CHAOS_MINUTES=4      # a short bounded slice
    .venv/bin/python tests/chaos/chaos.py --runs 3 --seed 1234   # replay a seed

What it does: builds a lab once (a bridge, three network namespaces each with an
mp-agent --np 2, and mp-coord in this namespace on a keyed TCP endpoint on the
bridge), generates a suite of N tests (free, a serial group, an isolated_free
group, mp_lock / mp_trail users, one test leaving a `setsid sleep 300` behind),
then runs the suite again and again through `pytest --mp --mp-coord ...` while a
driver thread injects 1-3 faults per run, drawn from random.Random("<seed>:<run>") (so
no two seeds share a run's faults):
SIGKILL an agent (restarted later), SIGKILL a zygote, SIGKILL a unit process,
SIGSTOP an agent for a while, take a host's veth down for a while, restart the
coordinator. Every other run passes --mp-reuse. Every test appends JSON lines
("start", then "end" when its body finished) to a record file named by
MP_CHAOS_RECORDS, which reaches the tests through the agents' environment.

After every run it checks:
  exactly-once   every collected test is in the junit file exactly once
  no-forged-pass a test junit calls passed has an "end" record of this run
  leftovers      no process the run started (zygote, unit process, anything a
                 test started) is alive a few seconds after the run ended
  coord-rss      the coordinator's VmRSS stays under a bound and does not grow
                 beyond a margin over its first measurement
  exit-code      the front end exits 0, 1 or 2 (never 3 or other), in time
  agents         all agents are back on the coordinator before the next run
Faults are expected to make tests fail or err; only the invariants count.
Exit status: 0 when no run violated an invariant, 1 otherwise.

Environment: MP_BIN_DIR (daemons; default: the directory of the python below),
MP_CHAOS_PYTHON (default: <repo>/.venv/bin/python), and CHAOS_RUNS,
CHAOS_MINUTES, CHAOS_SEED, CHAOS_TESTS as defaults for the flags.
"""

import argparse
import atexit
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PID_TAG = os.getpid() % 10000
BRIDGE = "mpcbr%d" % PID_TAG
NETNS = ["mpchaos%d-%d" % (i, PID_TAG) for i in (1, 2, 3)]
AGENT_NAMES = ["host1", "host2", "host3"]
SUBNET = "10.77.%d" % (100 + PID_TAG % 150)
COORD_IP = SUBNET + ".1"
PORT = 20000 + PID_TAG % 20000
LAB_ID = "chaos-%d-%d" % (os.getpid(), int(time.time()))

RUN_TIMEOUT = 120          # seconds a front end may take
LEFTOVER_GRACE = 8.0       # seconds after a run for its processes to be gone
REJOIN_TIMEOUT = 30.0      # seconds for every agent to be back on the coordinator
RSS_BOUND_KB = 200 * 1024  # the coordinator's VmRSS bound
RSS_GROWTH_KB = 64 * 1024  # allowed growth over its first measurement
FAULT_WINDOW = (0.5, 6.0)  # seconds after a run's start when faults may happen
FAULT_KINDS = ("kill-agent", "kill-zygote", "kill-unit", "stop-agent", "link-down",
               "restart-coord")


def log(text):
    """One line of progress on stdout."""
    print(text, flush=True)


# ---------------------------------------------------------------- processes


def proc_table():
    """pid -> (ppid, pgid, argv) for every process visible in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except (OSError, IndexError):
            continue
        table[int(entry)] = (int(fields[1]), int(fields[2]), argv)
    return table


def has_lab_marker(pid):
    """True when the process's environment carries this lab's MP_CHAOS_LAB."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return ("MP_CHAOS_LAB=" + LAB_ID).encode() in f.read().split(b"\0")
    except OSError:
        return False


def is_pytest(argv):
    """True for a `python -m pytest ...` command line."""
    return "pytest" in argv[1:3] and "-m" in argv[1:3]


def zygotes_of(table, agent_pid):
    """Zygotes of an agent: its pytest children that lead their process group."""
    return [pid for pid, (ppid, pgid, argv) in table.items()
            if ppid == agent_pid and pgid == pid and is_pytest(argv)]


def units_of(table, zygote_pid):
    """Unit processes (and the spare) of a zygote: its children."""
    return [pid for pid, (ppid, _, _) in table.items() if ppid == zygote_pid]


def vm_rss_kb(pid):
    """VmRSS of a process in kB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def signal_pid(pid, sig):
    """Send a signal, ignoring a process that is already gone."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def ip(*args, check=True):
    """Run `ip ARGS`, raising on failure when check."""
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


# ---------------------------------------------------------------- the lab


class Lab:
    """A bridge, three namespaces with an mp-agent each, and mp-coord here."""

    def __init__(self, workdir, suite_dir, python, bin_dir):
        self.dir = workdir
        self.suite_dir = suite_dir
        self.python = python
        self.bin = bin_dir
        self.key = workdir / "key"
        self.records = workdir / "records.jsonl"
        self.endpoint = "tcp://%s:%d" % (COORD_IP, PORT)
        self.coord = None
        self.coord_generation = 0
        self.agents = {}          # index -> Popen
        self.agent_starts = collections.Counter()
        self.netns_made = []
        self.bridge_made = False
        self.closing = False
        self.lock = threading.Lock()

    def veth(self, index):
        """The root-namespace end of host index's veth pair."""
        return "vc%d-%d" % (index + 1, PID_TAG)

    def up(self):
        """Make the network, write the key, start the coordinator and the agents."""
        self.key.write_text("c" * 48 + "\n")
        self.key.chmod(0o600)
        ip("link", "add", BRIDGE, "type", "bridge")
        self.bridge_made = True
        ip("addr", "add", COORD_IP + "/24", "dev", BRIDGE)
        ip("link", "set", BRIDGE, "up")
        for index, ns in enumerate(NETNS):
            ip("netns", "add", ns)
            self.netns_made.append(ns)
            ip("link", "add", self.veth(index), "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("link", "set", self.veth(index), "master", BRIDGE, "up")
            ip("-n", ns, "addr", "add", "%s.%d/24" % (SUBNET, 11 + index), "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
        self.start_coord()
        for index in range(len(NETNS)):
            self.start_agent(index)
        if not self.wait_agents(20):
            raise RuntimeError("agents did not join:\n" + self.coord_log()[-3000:])

    def daemon_env(self, index=None):
        """Environment of a daemon; agents carry the records path and lab marker."""
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        for name in ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "MP_KEY_FILE"):
            env.pop(name, None)
        if index is not None:
            env.update(MP_CHAOS_RECORDS=str(self.records), MP_CHAOS_LAB=LAB_ID,
                       MP_CHAOS_HOST=AGENT_NAMES[index])
        return env

    def start_coord(self):
        """Start (or restart) mp-coord on the lab endpoint, logging to coord-<gen>.log."""
        with self.lock:
            if self.closing:
                return
            self.coord_generation += 1
            path = self.dir / ("coord-%d.log" % self.coord_generation)
            with open(path, "wb") as out:
                self.coord = subprocess.Popen(
                    [str(self.bin / "mp-coord"), "--listen", self.endpoint,
                     "--key-file", str(self.key)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=self.daemon_env())

    def kill_coord(self):
        """SIGKILL the coordinator and reap it."""
        with self.lock:
            coord = self.coord
        if coord is not None:
            coord.kill()
            coord.wait()

    def start_agent(self, index):
        """Start (or restart) the agent of host index inside its namespace."""
        with self.lock:
            if self.closing:
                return
            self.agent_starts[index] += 1
            path = self.dir / ("agent%d-%d.log" % (index + 1, self.agent_starts[index]))
            argv = ["ip", "netns", "exec", NETNS[index], str(self.bin / "mp-agent"),
                    "--connect", self.endpoint, "--np", "2", "--key-file", str(self.key),
                    "--workdir", str(self.suite_dir), "--python", str(self.python),
                    "--name", AGENT_NAMES[index]]
            with open(path, "wb") as out:
                #  `ip netns exec` execs the agent: this pid is the agent's.
                self.agents[index] = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                    env=self.daemon_env(index))

    def agent_pid(self, index):
        """The pid of host index's current agent."""
        with self.lock:
            return self.agents[index].pid

    def reap_agent(self, index):
        """Wait for host index's killed agent."""
        with self.lock:
            proc = self.agents[index]
        proc.wait()

    def coord_log(self):
        """The current coordinator's log."""
        path = self.dir / ("coord-%d.log" % self.coord_generation)
        return path.read_text(errors="replace") if path.exists() else ""

    def agent_log(self, index):
        """The log of host index's current agent."""
        path = self.dir / ("agent%d-%d.log" % (index + 1, self.agent_starts[index]))
        return path.read_text(errors="replace") if path.exists() else ""

    def agent_registered(self, index):
        """True when the agent's last word on its link is 'registered with'."""
        registered = False
        for line in self.agent_log(index).splitlines():
            if "registered with" in line:
                registered = True
            elif "no word from the coordinator" in line or "forgot us" in line:
                registered = False
        return registered

    def joined_agents(self):
        """Names of the agents registered with the current coordinator: the coordinator
        logged their joining and each agent's own log says it is registered (the
        coordinator's 'lost' of an agent's previous incarnation may follow a join)."""
        joins = [line for line in self.coord_log().splitlines() if ") joined" in line]
        return {name for index, name in enumerate(AGENT_NAMES)
                if any("agent %s (" % name in line for line in joins)
                and self.agent_registered(index)}

    def wait_agents(self, timeout):
        """True once every agent has joined the current coordinator."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.joined_agents()) == len(AGENT_NAMES):
                return True
            time.sleep(0.2)
        return False

    def daemon_pids(self):
        """Pids of the current agents and coordinator."""
        with self.lock:
            pids = {p.pid for p in self.agents.values()}
            if self.coord is not None:
                pids.add(self.coord.pid)
        return pids

    def down(self):
        """Stop everything this lab started and remove its network; idempotent."""
        with self.lock:
            self.closing = True
            procs = list(self.agents.values()) + ([self.coord] if self.coord else [])
        for proc in procs:
            signal_pid(proc.pid, signal.SIGCONT)
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        kill_marked(set())
        for ns in self.netns_made:
            ip("netns", "del", ns, check=False)
        self.netns_made = []
        if self.bridge_made:
            ip("link", "del", BRIDGE, check=False)
            self.bridge_made = False


def marked_processes(exclude):
    """Pids (not in exclude) of processes carrying this lab's marker."""
    return [pid for pid in proc_table() if pid not in exclude and has_lab_marker(pid)]


def kill_marked(exclude):
    """SIGKILL every marked process not in exclude; returns how many."""
    pids = marked_processes(exclude)
    for pid in pids:
        signal_pid(pid, signal.SIGKILL)
    return len(pids)


# ---------------------------------------------------------------- the suite

CONFTEST = '''\
"""Records every test's runs: a "start" line before its setup and an "end" line when
its body finished (before its report leaves), each one O_APPEND write."""
import json
import os
import time

import pytest

RECORDS = os.environ.get("MP_CHAOS_RECORDS")


def pytest_addoption(parser):
    parser.addoption("--chaos-run", type=int, default=0, help="the chaos run number")


def _write(record):
    if not RECORDS:
        return
    line = (json.dumps(record, sort_keys=True) + "\\n").encode()
    fd = os.open(RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _attempt(run, nodeid):
    """1 + how many times this test already started in this run."""
    count = 1
    try:
        with open(RECORDS) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("kind") == "start" and r.get("run") == run and r.get("nodeid") == nodeid:
                    count += 1
    except (OSError, TypeError):
        pass
    return count


def _base(item):
    run = item.config.getoption("chaos_run")
    return dict(nodeid=item.nodeid, pid=os.getpid(), run=run,
                host=os.environ.get("MP_CHAOS_HOST", "?"),
                netns=os.readlink("/proc/self/ns/net"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    base = _base(item)
    item._chaos_start = time.time()
    item._chaos_attempt = _attempt(base["run"], item.nodeid)
    _write(dict(base, kind="start", start=item._chaos_start, attempt=item._chaos_attempt))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and RECORDS:
        _write(dict(_base(item), kind="end", start=getattr(item, "_chaos_start", None),
                    end=time.time(), attempt=getattr(item, "_chaos_attempt", None),
                    outcome=report.outcome))


@pytest.fixture(scope="session")
def shared_setup(mp_trail):
    """Session setup done once across every process of the run."""
    with mp_trail("chaos-db", "start") as first:
        if first:
            time.sleep(0.05)
    yield
    with mp_trail("chaos-db", "finish") as last:
        if last:
            time.sleep(0.05)
'''

FREE_TESTS = '''\
import time

import pytest

SLEEPS = {sleeps!r}


@pytest.mark.parametrize("i", range(len(SLEEPS)))
def test_free(i):
    time.sleep(SLEEPS[i])


@pytest.mark.parametrize("i", range({locks}))
def test_locked_counter(i, mp_lock, mp_message_board):
    with mp_lock:
        mp_message_board["count"] = mp_message_board.get("count", 0) + 1
    time.sleep({lock_sleep})
'''

SERIAL_TESTS = '''\
import time

import pytest

SLEEPS = {sleeps!r}


@pytest.mark.mp_group("ChaosSerial", "serial")
class TestSerial:
{methods}
'''

ISOLATED_TESTS = '''\
import time

import pytest

SLEEPS = {sleeps!r}


@pytest.mark.mp_group("ChaosIso", "isolated_free")
@pytest.mark.parametrize("i", range(len(SLEEPS)))
def test_isolated(i):
    time.sleep(SLEEPS[i])
'''

LEFTOVER_TEST = '''\
import subprocess


def test_starts_a_background_sleep():
    """Leaves `sleep 300` in a session of its own: the run's end must not leave it."""
    subprocess.Popen(["sleep", "300"], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

SERIAL_COUNT, ISOLATED_COUNT, LOCK_COUNT = 5, 3, 2


def sleeps(rng, count):
    """count sleep times between 0.05 and 0.5 s."""
    return [round(rng.uniform(0.05, 0.5), 3) for _ in range(count)]


def write_suite(path, tests, seed):
    """Write the generated suite of `tests` tests into path."""
    rng = random.Random(seed)
    free = tests - SERIAL_COUNT - ISOLATED_COUNT - LOCK_COUNT - 1
    if free < 1:
        raise SystemExit("--tests must be at least %d" % (tests - free + 1))
    path.mkdir(parents=True)
    (path / "pytest.ini").write_text("[pytest]\n")
    (path / "conftest.py").write_text(CONFTEST)
    (path / "test_free.py").write_text(FREE_TESTS.format(
        sleeps=sleeps(rng, free), locks=LOCK_COUNT, lock_sleep=sleeps(rng, 1)[0]))
    methods = "\n".join(
        "    def test_step_%d(self, shared_setup):\n        time.sleep(SLEEPS[%d])\n" % (i, i)
        for i in range(SERIAL_COUNT))
    (path / "test_serial.py").write_text(SERIAL_TESTS.format(
        sleeps=sleeps(rng, SERIAL_COUNT), methods=methods))
    (path / "test_isolated.py").write_text(ISOLATED_TESTS.format(
        sleeps=sleeps(rng, ISOLATED_COUNT)))
    (path / "test_background.py").write_text(LEFTOVER_TEST)


def collect(python, suite_dir):
    """The suite's node ids, from a plain `pytest --collect-only -q`."""
    out = subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider",
                          "--collect-only", "-q"], cwd=suite_dir, capture_output=True,
                         text=True, env=frontend_env(), timeout=120)
    ids = [line.strip() for line in out.stdout.splitlines() if "::" in line]
    if out.returncode != 0 or not ids:
        raise RuntimeError("collection failed:\n" + out.stdout + out.stderr)
    return ids


def junit_key(nodeid):
    """(classname, name) that pytest's junitxml gives a node id."""
    parts = nodeid.split("::")
    module = parts[0][:-3] if parts[0].endswith(".py") else parts[0]
    classname = ".".join([module.replace("/", ".")] + parts[1:-1])
    return classname, parts[-1]


# ---------------------------------------------------------------- faults


class Fault:
    """One planned fault: when (seconds into the run), what, and its random draws."""

    def __init__(self, at, kind, host, pick, hold):
        self.at, self.kind, self.host, self.pick, self.hold = at, kind, host, pick, hold

    def __repr__(self):
        return "%s@%.2fs" % (self.kind, self.at)


def plan_faults(rng):
    """1-3 faults at random moments of the run, in time order."""
    faults = []
    for _ in range(rng.randint(1, 3)):
        faults.append(Fault(at=round(rng.uniform(*FAULT_WINDOW), 2),
                            kind=rng.choice(FAULT_KINDS), host=rng.randrange(len(NETNS)),
                            pick=rng.random(), hold=round(rng.uniform(0.5, 4.0), 2)))
    return sorted(faults, key=lambda f: f.at)


class Driver(threading.Thread):
    """Injects a run's planned faults while its front end runs, and undoes them."""

    def __init__(self, lab, faults, seed, run):
        super().__init__(daemon=True)
        self.lab, self.faults, self.seed, self.run_no = lab, faults, seed, run
        self.ended = threading.Event()
        self.log = []
        self.injected = collections.Counter()
        self.t0 = time.monotonic()

    def note(self, text):
        """Log a fault event with its time into the run and the seed."""
        line = "t=+%6.2fs seed=%d run=%d: %s" % (time.monotonic() - self.t0, self.seed,
                                                  self.run_no, text)
        self.log.append(line)
        log("    " + line)

    def run(self):
        """Wait for each fault's moment, inject it unless the run has ended."""
        for fault in self.faults:
            wait = self.t0 + fault.at - time.monotonic()
            if self.ended.wait(max(0.0, wait)):
                self.note("not injected, the run had ended: %r" % fault)
                continue
            try:
                getattr(self, "do_" + fault.kind.replace("-", "_"))(fault)
            except Exception as error:  # a harness bug must not hang the run
                self.note("fault %r raised %r" % (fault, error))

    def hosts_from(self, fault):
        """Host indexes to try, starting with the fault's own."""
        n = len(NETNS)
        return [(fault.host + k) % n for k in range(n)]

    def do_kill_agent(self, fault):
        """SIGKILL an agent, restart it 0.5-3 s later."""
        index = fault.host
        pid = self.lab.agent_pid(index)
        signal_pid(pid, signal.SIGKILL)
        self.lab.reap_agent(index)
        self.injected[fault.kind] += 1
        delay = 0.5 + (fault.hold - 0.5) * 2.5 / 3.5
        self.note("SIGKILL agent %s (pid %d); restart in %.2fs" % (AGENT_NAMES[index], pid, delay))
        time.sleep(delay)
        self.lab.start_agent(index)
        self.note("restarted agent %s as pid %d" % (AGENT_NAMES[index], self.lab.agent_pid(index)))

    def find_target(self, fault, candidates):
        """(host index, pid) of a process to kill, waiting up to 3 s for one to exist:
        candidates(table, agent_pid) lists a host's; the fault's host is tried first."""
        deadline = time.monotonic() + 3.0
        while not self.ended.is_set():
            table = proc_table()
            for index in self.hosts_from(fault):
                pids = sorted(candidates(table, self.lab.agent_pid(index)))
                if pids:
                    return index, pids[int(fault.pick * len(pids))]
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        return None, None

    def do_kill_zygote(self, fault):
        """SIGKILL a zygote (an agent's `python -m pytest` child)."""
        index, pid = self.find_target(fault, zygotes_of)
        if pid is None:
            self.note("kill-zygote: no zygote found, nothing done")
            return
        signal_pid(pid, signal.SIGKILL)
        self.injected[fault.kind] += 1
        self.note("SIGKILL zygote pid %d on %s" % (pid, AGENT_NAMES[index]))

    def running_units(self, table, agent_pid):
        """An agent's unit processes in a test now (else all its zygotes' children)."""
        units = [pid for z in zygotes_of(table, agent_pid) for pid in units_of(table, z)]
        busy = open_test_pids(self.lab.records, self.run_no)
        return [pid for pid in units if pid in busy] or units

    def do_kill_unit(self, fault):
        """SIGKILL a unit process (a child of a zygote), one in a test if any."""
        index, pid = self.find_target(fault, self.running_units)
        if pid is None:
            self.note("kill-unit: no unit process found, nothing done")
            return
        signal_pid(pid, signal.SIGKILL)
        self.injected[fault.kind] += 1
        self.note("SIGKILL unit process pid %d on %s" % (pid, AGENT_NAMES[index]))

    def do_stop_agent(self, fault):
        """SIGSTOP an agent for 1-4 s, then SIGCONT."""
        index, hold = fault.host, 1.0 + (fault.hold - 0.5) * 3.0 / 3.5
        pid = self.lab.agent_pid(index)
        signal_pid(pid, signal.SIGSTOP)
        self.injected[fault.kind] += 1
        self.note("SIGSTOP agent %s (pid %d) for %.2fs" % (AGENT_NAMES[index], pid, hold))
        time.sleep(hold)
        signal_pid(pid, signal.SIGCONT)
        self.note("SIGCONT agent %s" % AGENT_NAMES[index])

    def do_link_down(self, fault):
        """Take a host's veth down for 1-4 s, then up."""
        index, hold = fault.host, 1.0 + (fault.hold - 0.5) * 3.0 / 3.5
        ip("link", "set", self.lab.veth(index), "down")
        self.injected[fault.kind] += 1
        self.note("link %s of %s down for %.2fs" % (self.lab.veth(index), AGENT_NAMES[index], hold))
        time.sleep(hold)
        ip("link", "set", self.lab.veth(index), "up")
        self.note("link %s up" % self.lab.veth(index))

    def do_restart_coord(self, fault):
        """SIGKILL the coordinator and start it again on the same endpoint."""
        pid = self.lab.coord.pid
        self.lab.kill_coord()
        self.injected[fault.kind] += 1
        delay = round(fault.pick, 2)
        self.note("SIGKILL coordinator (pid %d); start again in %.2fs" % (pid, delay))
        time.sleep(delay)
        self.lab.start_coord()
        self.note("coordinator restarted as pid %d" % self.lab.coord.pid)


# ---------------------------------------------------------------- one run


def frontend_env():
    """The front end's environment: no records path, no lab marker."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for name in ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "MP_CHAOS_RECORDS", "MP_CHAOS_LAB",
                 "MP_CHAOS_HOST"):
        env.pop(name, None)
    return env


class RunResult:
    """What one run left: exit code, duration, output, junit path, fault log."""

    def __init__(self, run, returncode, seconds, output, junit, started, driver):
        self.run, self.returncode, self.seconds = run, returncode, seconds
        self.output, self.junit, self.started, self.driver = output, junit, started, driver


def run_once(lab, run, seed, timeout):
    """One front end run with its fault driver; returns a RunResult."""
    junit = lab.dir / ("junit-%d.xml" % run)
    out_path = lab.dir / ("frontend-%d.log" % run)
    cmd = [str(lab.python), "-m", "pytest", "-p", "no:cacheprovider", "--mp",
           "--mp-coord", lab.endpoint, "--mp-key-file=%s" % lab.key, "--mp-min-agents", "1",
           "--junitxml=%s" % junit, "-q", "--chaos-run", str(run)]
    if run % 2:
        # Every other run reuses unit processes: kills then hit processes between
        # tests and processes that ran others before.
        cmd.append("--mp-reuse")
    #  The `=` forms matter: pytest takes a separate value naming an existing file
    #  (the key) for a path argument, and the rootdir (so every node id) would change.
    driver = Driver(lab, plan_faults(random.Random("%d:%d" % (seed, run))), seed, run)
    log("  run %d%s: faults planned %r" % (run, " (--mp-reuse)" if run % 2 else "",
                                           driver.faults))
    started = time.time()
    with open(out_path, "w") as out:
        front = subprocess.Popen(cmd, cwd=lab.suite_dir, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, env=frontend_env(),
                                 start_new_session=True)
        driver.t0 = time.monotonic()
        driver.start()
        try:
            returncode = front.wait(timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            try:
                os.killpg(front.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            front.wait()
    seconds = time.time() - started
    driver.ended.set()
    driver.join()
    return RunResult(run, returncode, seconds, out_path.read_text(errors="replace"), junit,
                     started, driver)


# ---------------------------------------------------------------- checks


def read_records(path, run):
    """This run's records from the record file."""
    records = []
    if not path.exists():
        return records
    with open(path) as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("run") == run:
                records.append(record)
    return records


def junit_cases(path):
    """[(classname, name, outcome, message)] from a junit file."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error"}.get(child.tag, "skipped")
                message = (child.get("message") or "")[:200]
                break
        cases.append((case.get("classname"), case.get("name"), outcome, message))
    return cases


def open_test_pids(path, run):
    """Pids that started a test of this run and have not ended it."""
    open_tests = set()
    for record in read_records(path, run):
        key = (record.get("pid"), record.get("nodeid"))
        if record.get("kind") == "start":
            open_tests.add(key)
        elif record.get("kind") == "end":
            open_tests.discard(key)
    return {pid for pid, _ in open_tests}


def check_exit(result):
    """The front end exited 0, 1 or 2 within its time bound."""
    if result.returncode is None:
        return ["exit-code: the front end did not end within %d s (killed)" % RUN_TIMEOUT]
    if result.returncode not in (0, 1, 2):
        return ["exit-code: the front end exited %d (allowed: 0, 1, 2)" % result.returncode]
    return []


def check_junit(result, planned, records):
    """Every planned test in junit exactly once; no pass without an end record."""
    if not result.junit.exists():
        return ["exactly-once: no junit file was written"]
    try:
        cases = junit_cases(result.junit)
    except ET.ParseError as error:
        return ["exactly-once: junit file unreadable: %s" % error]
    wanted = {junit_key(nodeid): nodeid for nodeid in planned}
    counts = collections.Counter((c, n) for c, n, _, _ in cases)
    problems = []
    missing = [nodeid for key, nodeid in wanted.items() if counts[key] == 0]
    if missing:
        problems.append("exactly-once: %d planned tests missing from junit: %s" % (
            len(missing), ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")))
    for key, nodeid in wanted.items():
        if counts[key] > 1:
            problems.append("exactly-once: %s appears %d times in junit" % (nodeid, counts[key]))
    for key in counts:
        if key not in wanted:
            problems.append("exactly-once: junit has an unplanned case %s::%s" % key)
    ended = {r["nodeid"] for r in records if r.get("kind") == "end"
             and r.get("outcome") == "passed" and r.get("end", 0) >= result.started}
    for classname, name, outcome, _ in cases:
        nodeid = wanted.get((classname, name))
        if outcome == "passed" and nodeid is not None and nodeid not in ended:
            problems.append("no-forged-pass: %s passed in junit but no run of it completed" % nodeid)
    return problems


def check_leftovers(lab):
    """Nothing the run started is alive after a grace period; kills what is."""
    deadline = time.monotonic() + LEFTOVER_GRACE
    while True:
        left = marked_processes(lab.daemon_pids())
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    problems = []
    table = proc_table()
    for pid in sorted(left):
        ppid, _, argv = table.get(pid, (0, 0, ["?"]))
        kind = "zygote/unit" if is_pytest(argv) else "test-started child"
        problems.append("leftovers: %s pid %d (ppid %d) alive %.0fs after the run: %s"
                        % (kind, pid, ppid, LEFTOVER_GRACE, " ".join(argv)[:120]))
    kill_marked(lab.daemon_pids())
    return problems


class RssWatch:
    """The coordinator's VmRSS: under a bound, and not growing past a margin."""

    def __init__(self):
        self.baseline = {}    # coordinator generation -> VmRSS in kB after its first run
        self.samples = []
        self.last_generation = None

    def check(self, lab):
        """Sample the current coordinator's VmRSS and judge it. A coordinator
        (re)started during the run just sampled may not have served a run yet (under
        ASan its footprint grows several-fold on first use): its baseline is taken at
        the next sample, once it has."""
        rss = vm_rss_kb(lab.coord.pid)
        if rss is None:
            return ["coord-rss: the coordinator (pid %d) is gone" % lab.coord.pid]
        self.samples.append(rss)
        generation, fresh = lab.coord_generation, lab.coord_generation != self.last_generation
        self.last_generation = generation
        problems = []
        if rss > RSS_BOUND_KB:
            problems.append("coord-rss: VmRSS %d kB over the bound %d kB" % (rss, RSS_BOUND_KB))
        if fresh and generation not in self.baseline:
            return problems
        base = self.baseline.setdefault(generation, rss)
        if rss - base > RSS_GROWTH_KB:
            problems.append("coord-rss: VmRSS grew from %d kB to %d kB" % (base, rss))
        return problems


def outcome_summary(result):
    """'passed=.. failed=..' from the junit file, for the progress line."""
    try:
        counts = collections.Counter(o for _, _, o, _ in junit_cases(result.junit))
    except (OSError, ET.ParseError):
        return "no junit"
    return " ".join("%s=%d" % kv for kv in sorted(counts.items()))


def failure_reasons(result):
    """How many failed or erred tests gave each reason (first 90 characters)."""
    try:
        cases = junit_cases(result.junit)
    except (OSError, ET.ParseError):
        return collections.Counter()
    return collections.Counter(m.splitlines()[0][:90] if m else "(no message)"
                               for _, _, o, m in cases if o in ("failed", "error"))


def report(result, seed, problems, records):
    """Print a violation report for one run."""
    log("=" * 78)
    log("VIOLATION seed=%d run=%d (replay: --seed %d --runs %d)" % (
        seed, result.run, seed, result.run + 1))
    log("front end: exit %s after %.1fs" % (result.returncode, result.seconds))
    log("faults:")
    for line in result.driver.log or ["(none)"]:
        log("  " + line)
    log("violations:")
    for problem in problems:
        log("  " + problem)
    again = collections.Counter(r["nodeid"] for r in records if r.get("kind") == "end")
    twice = sorted(n for n, c in again.items() if c > 1)
    if twice:
        log("note: completed more than once (retries): %s" % ", ".join(twice))
    log("front end output (tail):")
    for line in result.output.splitlines()[-25:]:
        log("  | " + line)
    log("=" * 78)


# ---------------------------------------------------------------- main


def parse_args():
    """Flags, with CHAOS_* environment variables as defaults."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=int(env("CHAOS_RUNS", "10")))
    parser.add_argument("--seed", type=int, default=int(env("CHAOS_SEED") or
                                                        random.SystemRandom().randrange(10**6)))
    parser.add_argument("--minutes", type=float, default=float(env("CHAOS_MINUTES", "0")),
                        help="overall bound: a run starts only if the longest run so "
                             "far still fits (0: none)")
    parser.add_argument("--tests", type=int, default=int(env("CHAOS_TESTS", "40")))
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    return parser.parse_args()


def locate():
    """(python, bin dir) for the front end, workers and daemons."""
    python = Path(os.environ.get("MP_CHAOS_PYTHON") or REPO / ".venv" / "bin" / "python")
    if not python.exists():
        python = Path(sys.executable)
    bin_dir = Path(os.environ.get("MP_BIN_DIR") or python.parent)
    return python, bin_dir


def preflight(bin_dir):
    """Exit with a message when the harness cannot run here."""
    if os.geteuid() != 0:
        raise SystemExit("chaos.py makes network namespaces: run it as root")
    if shutil.which("ip") is None:
        raise SystemExit("chaos.py needs iproute2 (`ip`)")
    for name in ("mp-coord", "mp-agent"):
        if not (bin_dir / name).exists():
            raise SystemExit("no %s in %s (run `make setup` or set MP_BIN_DIR)" % (name, bin_dir))


def on_sigterm(signum, frame):
    """Treat SIGTERM as Ctrl-C: tear down, summarise, exit 1."""
    raise KeyboardInterrupt


def one_run(lab, run, seed, planned, rss, stats):
    """Run, check and report one run; returns its violations."""
    result = run_once(lab, run, seed, RUN_TIMEOUT)
    stats["injected"].update(result.driver.injected)
    records = read_records(lab.records, run)
    problems = check_exit(result)
    problems += check_junit(result, planned, records)
    problems += check_leftovers(lab)
    problems += rss.check(lab)
    if not lab.wait_agents(REJOIN_TIMEOUT):
        problems.append("agents: only %s back on the coordinator %d s after the run"
                        % (sorted(lab.joined_agents()), REJOIN_TIMEOUT))
    log("  run %d: exit %s in %.1fs, %s, coord rss %s kB, %d violation(s)" % (
        run, result.returncode, result.seconds, outcome_summary(result),
        rss.samples[-1] if rss.samples else "?", len(problems)))
    for reason, count in sorted(failure_reasons(result).items()):
        log("    %d not passed: %s" % (count, reason))
    if problems:
        report(result, seed, problems, records)
    return problems


def summarise(args, runs_done, stats, workdir):
    """Print the final summary; returns the exit status."""
    log("")
    log("SUMMARY seed=%d runs=%d/%d tests=%d" % (args.seed, runs_done, args.runs, args.tests))
    log("faults injected: %s" % (", ".join("%s=%d" % kv for kv in
                                           sorted(stats["injected"].items())) or "none"))
    log("runs violating each invariant: %s" % (", ".join("%s=%d" % kv for kv in
                                              sorted(stats["violations"].items())) or "none"))
    if stats["violating_runs"]:
        log("violating runs: %s" % ", ".join(map(str, stats["violating_runs"])))
    log("replay: %s %s --seed %d --runs %d" % (sys.executable, __file__, args.seed, args.runs))
    if workdir is not None:
        log("logs kept in %s" % workdir)
    return 1 if stats["violating_runs"] else 0


def main():
    """Build the lab, run the suite under faults, check, summarise, tear down."""
    args = parse_args()
    python, bin_dir = locate()
    preflight(bin_dir)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started ignoring it
    workdir = Path(tempfile.mkdtemp(prefix="mp-chaos-"))
    suite_dir = workdir / "suite"
    lab = Lab(workdir, suite_dir, python, bin_dir)
    atexit.register(lab.down)
    stats = {"injected": collections.Counter(), "violations": collections.Counter(),
             "violating_runs": []}
    deadline = time.monotonic() + args.minutes * 60 if args.minutes > 0 else None
    runs_done, longest = 0, 0.0
    try:
        log("chaos: seed=%d runs=%d tests=%d lab=%s endpoint=tcp://%s:%d work=%s" % (
            args.seed, args.runs, args.tests, LAB_ID, COORD_IP, PORT, workdir))
        write_suite(suite_dir, args.tests, args.seed)
        planned = collect(python, suite_dir)
        log("collected %d tests" % len(planned))
        lab.up()
        rss = RssWatch()
        for run in range(args.runs):
            began = time.monotonic()
            if deadline is not None and runs_done and began + longest >= deadline:
                log("time bound of %g minutes: no room for another run" % args.minutes)
                break
            problems = one_run(lab, run, args.seed, planned, rss, stats)
            runs_done += 1
            longest = max(longest, time.monotonic() - began)
            if problems:
                stats["violating_runs"].append(run)
                stats["violations"].update(set(p.split(":", 1)[0] for p in problems))
    except KeyboardInterrupt:
        log("interrupted")
        stats["violating_runs"].append("interrupted")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        lab.down()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    keep = args.keep or bool(stats["violating_runs"])
    status = summarise(args, runs_done, stats, workdir if keep else None)
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
