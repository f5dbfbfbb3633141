"""Two test hosts made as Linux network namespaces, each with its own mp-agent, one
mp-coord reached over TCP with a key: the tests spread over both hosts, and an
isolated group still has every slot of every host to itself."""

import os
import shutil

import pytest
from conftest import read_records
from netns import Lab, netns_hosts

BRIDGE = "mpbr%d" % (os.getpid() % 10000)
HOSTS = ("mph1-%d" % (os.getpid() % 10000), "mph2-%d" % (os.getpid() % 10000))
COORD_IP = "10.77.0.1"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="multi-host tests make network namespaces: they need root and iproute2",
)


@pytest.fixture(scope="module")
def hosts():
    with netns_hosts(HOSTS, BRIDGE, COORD_IP) as made:
        yield made


@pytest.fixture
def lab(tmp_path, hosts, suite):
    lab = Lab(tmp_path, hosts, COORD_IP, {host: suite.path for host in hosts}, np=2)
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
