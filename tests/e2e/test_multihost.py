"""Two test hosts made as Linux network namespaces, each with its own mp-agent, one
mp-coord reached over TCP with a key: the tests spread over both hosts, and an
isolated group still has every slot of every host to itself."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import read_records

BIN = Path(os.environ.get("MP_BIN_DIR") or Path(sys.executable).parent)
BRIDGE = "mpbr%d" % (os.getpid() % 10000)
HOSTS = ("mph1-%d" % (os.getpid() % 10000), "mph2-%d" % (os.getpid() % 10000))
COORD_IP = "10.77.0.1"
PORT = 17700

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="multi-host tests make network namespaces: they need root and iproute2",
)


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def hosts():
    """A bridge in this namespace and two namespaces wired to it by veth pairs."""
    made = []
    try:
        ip("link", "add", BRIDGE, "type", "bridge")
        ip("addr", "add", COORD_IP + "/24", "dev", BRIDGE)
        ip("link", "set", BRIDGE, "up")
        for n, host in enumerate(HOSTS, start=11):
            ip("netns", "add", host)
            made.append(host)
            outside, inside = "v%s" % host[2:], "eth0"
            ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", host)
            ip("link", "set", outside, "master", BRIDGE, "up")
            ip("-n", host, "addr", "add", "10.77.0.%d/24" % n, "dev", inside)
            ip("-n", host, "link", "set", inside, "up")
            ip("-n", host, "link", "set", "lo", "up")
        yield HOSTS
    finally:
        for host in made:
            subprocess.run(["ip", "netns", "del", host], capture_output=True)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


class Lab:
    """mp-coord here, one mp-agent in each host namespace."""

    def __init__(self, tmp_path, hosts, workdir, np):
        self.key = tmp_path / "key"
        self.key.write_text("k" * 40 + "\n")
        self.key.chmod(0o600)
        self.endpoint = "tcp://%s:%d" % (COORD_IP, PORT)
        self.logs = tmp_path
        #  Workers get their environment from their agent, not from the front end.
        self.records = tmp_path / "lab-records.jsonl"
        self.procs = []
        self._start("coord", [str(BIN / "mp-coord"), "--listen", self.endpoint,
                              "--key-file", str(self.key)])
        for host in hosts:
            self._start(host, ["ip", "netns", "exec", host, str(BIN / "mp-agent"),
                               "--connect", self.endpoint, "--np", str(np),
                               "--key-file", str(self.key), "--workdir", str(workdir),
                               "--python", sys.executable, "--name", host])
        deadline = time.monotonic() + 20
        while self.log("coord").count("joined") < len(hosts):
            assert time.monotonic() < deadline, "agents did not join:\n" + self.log("coord")
            time.sleep(0.1)

    def _start(self, name, argv):
        env = dict(os.environ, MP_E2E_RECORD_FILE=str(self.records))
        with open(self.logs / (name + ".log"), "wb") as log:
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=log, env=env))

    def log(self, name):
        return (self.logs / (name + ".log")).read_text(errors="replace")

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def lab(tmp_path, hosts, suite):
    lab = Lab(tmp_path, hosts, suite.path, np=2)
    yield lab
    lab.stop()


def test_tests_spread_over_hosts_and_isolation_is_global(suite, lab):
    suite.conftest("""
        @pytest.fixture(autouse=True)
        def _where(e2e_record):
            e2e_record("where", netns=os.readlink("/proc/self/ns/net"))
    """)
    suite.write("test_lab.py", """
        import time
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_free(i):
            time.sleep(0.4)

        @pytest.mark.mp_group("Iso", "isolated_free")
        @pytest.mark.parametrize("i", range(3))
        def test_iso(i):
            time.sleep(0.4)

        @pytest.mark.mp_group("Ser", "serial")
        @pytest.mark.parametrize("i", range(3))
        def test_ser(i, mp_message_board):
            mp_message_board.setdefault("ser", []).append(i)
            time.sleep(0.1)
    """)
    result = suite.run_plain("--mp", "--mp-coord", lab.endpoint,
                             "--mp-key-file", str(lab.key), "-v")
    assert result.returncode == 0, result.log + lab.log("coord")
    assert result.summary_count("passed") == 14, result.log
    result.records = read_records(lab.records)
    here = os.readlink("/proc/self/ns/net")
    spaces = {r["netns"] for r in result.of_kind("where")}
    assert here not in spaces, "a test ran outside the host namespaces"
    assert len(spaces) == 2, "tests did not use both hosts: %r" % spaces
    tests = result.tests
    iso = [r for n, r in tests.items() if n.startswith("test_iso")]
    others = [r for n, r in tests.items() if not n.startswith("test_iso")]
    for a in iso:
        for b in others:
            assert not result.overlaps(a, b), "isolated %r overlapped %r" % (a, b)
    serial = [r for n, r in tests.items() if n.startswith("test_ser")]
    assert len(result.pids(serial)) == 1


def test_a_wrong_key_is_refused_and_the_coordinator_keeps_serving(suite, lab, tmp_path):
    suite.write("test_one.py", "def test_one():\n    pass\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("w" * 40)
    wrong.chmod(0o600)
    refused = suite.run_plain("--mp", "--mp-coord", lab.endpoint, "--mp-key-file", str(wrong),
                              timeout=60)
    assert refused.returncode == 2, refused.log
    assert "no reply" in refused.output and lab.endpoint in refused.output, refused.log
    assert "dropped message" in lab.log("coord")
    served = suite.run_plain("--mp", "--mp-coord", lab.endpoint, "--mp-key-file", str(lab.key))
    assert served.returncode == 0 and served.summary_count("passed") == 1, served.log
