"""Four test hosts made as Linux network namespaces, each with its own mp-agent and
its own checkout, one mp-coord reached over TCP: an agent whose checkout differs is
left out with a message naming it and the run passes on the others; slots are
exclusive on every host; each test knows where it runs."""

import os
import shutil
import textwrap

import pytest
from conftest import SUITE_CONFTEST, overlaps, read_records
from netns import Lab, netns_hosts

TAG = os.getpid() % 10000
BRIDGE = "mplb%d" % TAG
HOSTS = tuple("mpl%d-%d" % (n, TAG) for n in range(1, 5))
COORD_IP = "10.78.0.1"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="multi-host tests make network namespaces: they need root and iproute2",
)

SUITE = {
    "conftest.py": SUITE_CONFTEST + textwrap.dedent("""

        @pytest.fixture(autouse=True)
        def _where(e2e_record, mp_worker):
            e2e_record("where", netns=os.readlink("/proc/self/ns/net"), worker=mp_worker.worker,
                       agent=mp_worker.agent, slot=mp_worker.slot,
                       count=mp_worker.worker_count)
    """),
    "pytest.ini": "[pytest]\n",
    "test_lab.py": textwrap.dedent("""
        import time

        import pytest

        @pytest.mark.parametrize("i", range(16))
        def test_free(i):
            time.sleep(0.3)
    """),
}


@pytest.fixture(scope="module")
def hosts():
    with netns_hosts(HOSTS, BRIDGE, COORD_IP) as made:
        yield made


def checkout(path, changed=False):
    path.mkdir()
    for name, text in SUITE.items():
        if changed and name == "test_lab.py":
            text = text.replace("range(16)", "range(15)")
        (path / name).write_text(text)
    return path


def test_a_host_with_another_checkout_is_left_out_and_the_run_passes(tmp_path, hosts):
    # The first three hosts and the user share a checkout; the fourth has an edit.
    same = checkout(tmp_path / "same")
    other = checkout(tmp_path / "other", changed=True)
    workdirs = {host: same for host in hosts[:3]}
    workdirs[hosts[3]] = other
    lab = Lab(tmp_path, hosts, COORD_IP, workdirs, np=2)
    try:
        import subprocess
        import sys

        env = dict(os.environ, MP_E2E_RECORD_FILE=str(tmp_path / "front.jsonl"))
        env.pop("PYTEST_ADDOPTS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--mp-coord",
             lab.endpoint, "--mp-key-file=%s" % lab.key, "--mp-min-agents", "4", "-rA"],
            cwd=same, env=env, capture_output=True, text=True, timeout=120)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out + lab.log("coord")
        assert "16 passed" in out, out
        # One message names the agent, its host and what differs.
        line = [l for l in out.splitlines() if hosts[3] in l]
        assert line and "left out of the run" in line[0] and "test_lab.py" in line[0], out
        print(line[0])
        records = read_records(lab.records)
    finally:
        lab.stop()
    where = {r["nodeid"]: r for r in records if r["kind"] == "where"}
    tests = {r["nodeid"]: r for r in records if r["kind"] == "test"}
    assert len(where) == 16
    agents = {r["agent"] for r in where.values()}
    assert hosts[3] not in agents and len(agents) >= 2, agents
    for nodeid, record in where.items():
        # The identity variables: agent:slot, the host's name, the run's slot count.
        assert record["worker"] == "%s:%d" % (record["agent"], record["slot"])
        assert record["slot"] in (0, 1) and record["count"] == 8
        record.update(start=tests[nodeid]["start"], end=tests[nodeid]["end"])
    # Slots are exclusive on every host while tests run.
    for a in where.values():
        for b in where.values():
            if a is not b and a["agent"] == b["agent"] and overlaps(a, b):
                assert a["slot"] != b["slot"], (a, b)
    # Each agent ran in its own namespace.
    by_agent = {}
    for record in where.values():
        by_agent.setdefault(record["agent"], set()).add(record["netns"])
    assert all(len(spaces) == 1 for spaces in by_agent.values())
    assert len(set().union(*by_agent.values())) == len(by_agent)


def run_front(tmp_path, lab, cwd, *args):
    import subprocess
    import sys

    env = dict(os.environ, MP_E2E_RECORD_FILE=str(tmp_path / "front.jsonl"))
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--mp-coord",
         lab.endpoint, "--mp-key-file=%s" % lab.key, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def test_required_labels_place_tests_and_groups_on_labelled_hosts(tmp_path, hosts):
    suite = checkout(tmp_path / "suite")
    (suite / "test_needs.py").write_text(textwrap.dedent("""
        import time

        import pytest

        @pytest.mark.mp_requires("gpu")
        @pytest.mark.parametrize("i", range(4))
        def test_gpu(i):
            time.sleep(0.2)

        @pytest.mark.mp_requires(dut="alpha")
        def test_alpha():
            pass

        @pytest.mark.mp_group("Bench", "serial")
        @pytest.mark.mp_requires("gpu")
        def test_bench_a():
            pass

        @pytest.mark.mp_group("Bench")
        def test_bench_b():
            pass

        @pytest.mark.mp_requires("tpu")
        def test_nowhere():
            pass
    """))
    extra = {hosts[0]: ["--label", "gpu"], hosts[1]: ["--label", "gpu=a100", "--label", "dut=alpha"]}
    lab = Lab(tmp_path, hosts, COORD_IP, {host: suite for host in hosts}, np=2, extra=extra)
    try:
        code, out = run_front(tmp_path, lab, suite, "--mp-min-agents", "4", "--mp-wait", "3",
                              "-rA")
        records = read_records(lab.records)
    finally:
        lab.stop()
    assert code == 1, out
    where = {r["nodeid"].split("::")[-1]: r["agent"] for r in records if r["kind"] == "where"}
    for i in range(4):
        assert where["test_gpu[%d]" % i] in hosts[:2], where
    assert where["test_alpha"] == hosts[1], where
    # A group goes where any of its tests may: test_bench_b has no mark of its own.
    assert where["test_bench_a"] in hosts[:2] and where["test_bench_b"] == where["test_bench_a"]
    # No agent has tpu: after --mp-wait the test fails, naming the label and the agents.
    assert "test_nowhere" not in where
    assert "ERROR test_needs.py::test_nowhere" in out, out
    assert "it requires tpu, which no agent present has after 3 s" in out, out
    assert "%s (gpu=a100, dut=alpha)" % hosts[1] in out and "%s (no labels)" % hosts[3] in out, out
    assert "23 passed, 1 error" in out, out


def test_status_lists_the_agents_and_the_running_run(tmp_path, hosts):
    import json
    import subprocess
    import sys
    import time

    from netns import BIN

    suite = checkout(tmp_path / "suite")
    (suite / "test_slow.py").write_text("import time\n\ndef test_slow():\n    time.sleep(4)\n")
    extra = {hosts[0]: ["--label", "gpu"]}
    lab = Lab(tmp_path, hosts, COORD_IP, {host: suite for host in hosts}, np=2, extra=extra)
    status = [str(BIN / "mp-coord"), "status", "--connect", lab.endpoint,
              "--key-file=%s" % lab.key]
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    front = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--mp-coord",
         lab.endpoint, "--mp-key-file=%s" % lab.key, "--mp-min-agents", "4",
         "test_slow.py"], cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            got = subprocess.run(status + ["--json"], capture_output=True, text=True, timeout=30)
            assert got.returncode == 0, got
            info = json.loads(got.stdout)
            runs = [r for r in info["runs"] if r["running"]]
            if runs or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        text = subprocess.run(status, capture_output=True, text=True, timeout=30).stdout
        out, _ = front.communicate(timeout=60)
    finally:
        front.kill()
        lab.stop()
    assert front.returncode == 0, out
    agents = {a["name"]: a for a in info["agents"]}
    assert set(agents) == set(hosts)
    assert agents[hosts[0]]["labels"] == ["gpu"] and all(a["slots"] == 2 for a in agents.values())
    assert all(a["address"].startswith("10.78.0.") for a in agents.values()), agents
    assert runs, info
    run = runs[0]
    assert run["tests_total"] == 1 and run["tests_done"] == 0
    assert run["front"].startswith("fe-") and run["cwd"] == str(suite)
    running = run["running"][0]
    assert running["test"] == "test_slow.py::test_slow" and running["agent"] in hosts
    assert sum(a["busy"] for a in agents.values()) == 1
    # The same for a person: one line per agent, the run and its running test.
    assert all(("  %s  host " % host) in text for host in hosts), text
    assert "test_slow.py::test_slow" in text and "0 of 1 tests done" in text, text


def test_remote_agents_join_a_pytest_that_listens_with_the_users_key(tmp_path, hosts):
    import subprocess
    import sys
    import time

    from netns import BIN, PORT

    suite = checkout(tmp_path / "suite")
    key = tmp_path / "key"
    subprocess.run([str(BIN / "mp-coord"), "--gen-key", str(key)], check=True,
                   capture_output=True)
    endpoint = "tcp://%s:%d" % (COORD_IP, PORT + 1)
    env = dict(os.environ, MP_E2E_RECORD_FILE=str(tmp_path / "records.jsonl"))
    env.pop("PYTEST_ADDOPTS", None)
    # --np 0: no agent of its own; the two remote ones run everything.
    front = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--np", "0",
         "--mp-listen", endpoint, "--mp-key-file=%s" % key, "--mp-min-agents", "2"],
        cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    agents = []
    try:
        time.sleep(0.5)
        for host in hosts[:2]:
            agents.append(subprocess.Popen(
                ["ip", "netns", "exec", host, str(BIN / "mp-agent"), "--connect", endpoint,
                 "--np", "2", "--key-file", str(key), "--workdir", str(suite),
                 "--python", sys.executable, "--name", host], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        out, _ = front.communicate(timeout=120)
    finally:
        front.kill()
        for agent in agents:
            agent.terminate()
            agent.wait(10)
    assert front.returncode == 0, out
    assert "16 passed" in out, out
    ran = {r["agent"] for r in read_records(tmp_path / "records.jsonl") if r["kind"] == "where"}
    assert ran and ran <= set(hosts[:2]), ran
