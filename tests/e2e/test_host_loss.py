"""Host loss is not the test's fault: a test running on a host that is lost (its agent
killed or leaving, its zygote dead) runs again once elsewhere and the report says so;
a zygote's death takes only its agent out of the run; nothing a test started outlives
its run, even a daemon, even when its agent is killed."""

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from conftest import RECORD_ENV, alive, parent_of, read_records

BIN = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)


def wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Lab:
    """mp-coord and named mp-agents on one machine, on a private ipc endpoint."""

    def __init__(self, tmp_path, workdir, names, np=2):
        self.endpoint = "ipc://%s/coord.ipc" % tmp_path
        self.records = tmp_path / "records.jsonl"
        self.tmp = tmp_path
        self.workdir = workdir
        self.np = np
        self.agents = {}
        self.log = open(tmp_path / "daemons.log", "w")
        self.coord = subprocess.Popen([os.path.join(BIN, "mp-coord"), "--listen", self.endpoint],
                                      stdout=self.log, stderr=self.log)
        for name in names:
            self.start_agent(name)

    def start_agent(self, name):
        self.agents[name] = subprocess.Popen(
            [os.path.join(BIN, "mp-agent"), "--connect", self.endpoint, "--np", str(self.np),
             "--workdir", str(self.workdir), "--python", sys.executable, "--name", name],
            stdout=self.log, stderr=self.log,
            env=dict(os.environ, **{RECORD_ENV: str(self.records)}))

    def agent_of(self, zygote):
        """The name of the agent whose zygote this is."""
        agent = parent_of(zygote)
        return next(n for n, p in self.agents.items() if p.pid == agent)

    def front(self, *args):
        junit = self.tmp / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--mp-coord",
               self.endpoint, "--mp-min-agents", str(len(self.agents)),
               "--junitxml", str(junit), *args]
        return subprocess.Popen(cmd, cwd=self.workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                env=dict(os.environ, **{RECORD_ENV: str(self.records)})), junit

    def starts(self, name_part):
        return [r for r in read_records(self.records)
                if r["kind"] == "start" and name_part in r["nodeid"]]

    def stop(self):
        for proc in [*self.agents.values(), self.coord]:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.log.close()


@pytest.fixture
def lab_factory(tmp_path, suite):
    labs = []

    def make(names, np=2):
        lab = Lab(tmp_path, suite.path, names, np)
        labs.append(lab)
        return lab
    yield make
    for lab in labs:
        lab.stop()


SUITE = """
    import os
    import time

    def test_slow(e2e_record):
        e2e_record("where", zygote=os.getppid())
        time.sleep(3)

    def test_quick_1():
        pass

    def test_quick_2():
        pass
"""


def junit_cases(path):
    return {c.get("name"): c for c in ET.parse(path).getroot().iter("testcase")}


def properties(case):
    return {p.get("name"): p.get("value") for p in case.iter("property")}


@pytest.mark.parametrize("how", ["kill", "term"])
def test_a_test_on_a_lost_host_runs_again_elsewhere_and_the_report_says_so(
        suite, lab_factory, how):
    suite.write("test_loss.py", SUITE)
    lab = lab_factory(["a1", "a2"])
    front, junit = lab.front("-rA")
    wait_for(lambda: [r for r in read_records(lab.records) if r["kind"] == "where"],
             "test_slow never started")
    where = [r for r in read_records(lab.records) if r["kind"] == "where"]
    first = lab.agent_of(where[0]["zygote"])
    lost_at = time.monotonic()
    lab.agents[first].send_signal(signal.SIGKILL if how == "kill" else signal.SIGTERM)
    # A leaving agent's test runs elsewhere at once; a killed one's after the expiry.
    wait_for(lambda: len(lab.starts("test_slow")) == 2, "test_slow never ran again")
    rerun_after = time.monotonic() - lost_at
    # Asked while the test runs again (3 s): its zygote leaves as soon as the run ends.
    wait_for(lambda: len([r for r in read_records(lab.records) if r["kind"] == "where"]) == 2,
             "test_slow ran again without saying where")
    where = [r for r in read_records(lab.records) if r["kind"] == "where"]
    assert lab.agent_of(where[1]["zygote"]) != first
    out, _ = front.communicate(timeout=120)
    assert front.returncode == 0, out
    cases = junit_cases(junit)
    assert sorted(cases) == ["test_quick_1", "test_quick_2", "test_slow"]
    slow = cases["test_slow"]
    assert slow.find("failure") is None and slow.find("error") is None, ET.tostring(slow)
    retry = properties(slow)["mp_retry"]
    assert "agent %s" % first in retry and "running it again elsewhere" in retry, retry
    assert ("it left (SIGTERM)" if how == "term" else "heartbeats stopped") in retry, retry
    assert "retried test_loss.py::test_slow: agent %s" % first in out, out
    if how == "term":
        assert rerun_after < 5, rerun_after


def test_a_zygote_death_takes_only_its_agent_out_of_the_run(suite, lab_factory):
    suite.write("test_loss.py", SUITE)
    lab = lab_factory(["a1", "a2"])
    front, junit = lab.front()
    wait_for(lambda: [r for r in read_records(lab.records) if r["kind"] == "where"],
             "test_slow never started")
    zygote = [r for r in read_records(lab.records) if r["kind"] == "where"][0]["zygote"]
    first = lab.agent_of(zygote)
    os.kill(zygote, signal.SIGKILL)
    out, _ = front.communicate(timeout=120)
    assert front.returncode == 0, out
    cases = junit_cases(junit)
    assert sorted(cases) == ["test_quick_1", "test_quick_2", "test_slow"]
    assert "its zygote" in properties(cases["test_slow"])["mp_retry"]
    assert "agent %s: its zygote" % first in out, out
    assert lab.agents[first].poll() is None, "the agent itself goes on"


DAEMON_SUITE = """
    import os
    import subprocess
    import sys

    def test_starts_a_daemon(e2e_record):
        # A double fork into a session of its own: out of the unit's process group.
        pid = os.fork()
        if pid == 0:
            os.setsid()
            daemon = subprocess.Popen(["sleep", "300"])
            e2e_record("daemon", daemon=daemon.pid)
            os._exit(0)
        os.waitpid(pid, 0)
"""


def test_a_daemon_a_test_starts_does_not_outlive_its_run(suite):
    suite.write("test_daemon.py", DAEMON_SUITE)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    daemon = result.of_kind("daemon")[0]["daemon"]
    wait_for(lambda: not alive(daemon), "the daemon outlived its run", timeout=10)


def test_a_daemon_left_by_a_killed_agent_is_stopped_by_the_next_agent(suite, lab_factory):
    suite.write("test_daemon.py", DAEMON_SUITE + """
    def test_hold():
        import time
        time.sleep(60)
    """)
    lab = lab_factory(["a1"])
    front, _ = lab.front()
    wait_for(lambda: [r for r in read_records(lab.records) if r["kind"] == "daemon"],
             "the daemon never started")
    daemon = [r for r in read_records(lab.records) if r["kind"] == "daemon"][0]["daemon"]
    lab.agents["a1"].kill()
    lab.agents["a1"].wait()
    # Its agent could not clean up; the daemon is nobody's child now. (Any live agent
    # on this machine stops it: one of another test's, slow to exit, may be first.)
    lab.start_agent("a1")
    wait_for(lambda: not alive(daemon), "the new agent left the stray daemon", timeout=10)
    os.killpg(front.pid, signal.SIGKILL)
    front.wait()
