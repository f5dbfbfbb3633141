"""What the agent supervises and what it refuses: processes do not outlive it or the
coordinator, workers cannot speak for others, and a unit whose test a host did not
collect reports each of its tests once, in order."""

import os
import socket
import signal
import subprocess
import sys
import time

from conftest import RECORD_ENV, alive, parent_of, read_records


def test_killing_the_agent_stops_its_workers_and_the_front_end_says_so(suite, tmp_path):
    suite.write("test_hang.py", """
        import os
        import time
        import pytest

        @pytest.mark.parametrize("i", range(2))
        def test_hang(i, e2e_record):
            e2e_record("family", zygote=os.getppid())
            time.sleep(60)
    """)
    records = tmp_path / "records.jsonl"
    env = dict(os.environ, **{RECORD_ENV: str(records)})
    env.pop("PYTEST_ADDOPTS", None)
    front = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--np", "2"],
        cwd=suite.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len([r for r in read_records(records) if r["kind"] == "family"]) < 2:
            assert time.monotonic() < deadline and front.poll() is None, "tests never started"
            time.sleep(0.1)
        family = [r for r in read_records(records) if r["kind"] == "family"]
        units = [r["pid"] for r in family]
        zygote = family[0]["zygote"]
        agent = parent_of(zygote)
        os.kill(agent, signal.SIGKILL)
        out, _ = front.communicate(timeout=60)
    finally:
        if front.poll() is None:
            os.killpg(front.pid, signal.SIGKILL)
            front.wait()
    assert front.returncode == 2, out
    assert "mp-agent exited" in out, out
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in units + [zygote]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in units + [zygote] if alive(pid)], "workers outlived the agent"


def test_a_worker_cannot_speak_for_the_agent_or_name_other_pids(suite):
    victim = subprocess.Popen(["sleep", "120"], start_new_session=True)
    try:
        suite.write("test_hostile.py", """
            import time
            from pytest_mp import plugin

            import pytest
            from pytest_mp.wire import WireError

            def test_pretends(e2e_record):
                client = plugin._worker["client"]
                run = plugin._worker["run"]
                client.send("HELLO", name="local", slots=4096, host="evil", labels=[])
                # Announced already: a second announcement, for another pid, is refused.
                client.send("UNIT_STARTED", run=run, unit=1, pid=%d)
                client.send("ZYGOTE_EXIT", run=run, status=9)
                # Another run's board is out of reach: the request is dropped unanswered.
                with pytest.raises(WireError):
                    client.request("BOARD_SET", run=run + 1, key=b"k", value=b"v",
                                   timeout=1000)
                time.sleep(0.5)

            def test_after():
                time.sleep(0.2)
        """ % victim.pid)
        result = suite.run(np=2, junit=True)
        assert result.returncode == 0, result.log
        assert result.summary_count("passed") == 2, result.log
        assert len(result.junit) == 2, result.log
        assert victim.poll() is None, "the agent killed a pid a worker named"
    finally:
        victim.kill()
        victim.wait()


def test_a_host_that_did_not_collect_a_planned_test_is_left_out_naming_it(suite):
    suite.conftest("""
        def pytest_collection_modifyitems(config, items):
            # Only the worker misses a test, as a host with another checkout would.
            if config.pluginmanager.has_plugin("mp_zygote"):
                items[:] = [i for i in items if not i.nodeid.endswith("test_b")]
    """)
    suite.write("test_group.py", """
        import pytest

        @pytest.mark.mp_group("G", "serial")
        def test_a():
            pass

        @pytest.mark.mp_group("G")
        def test_b():
            pass
    """)
    result = suite.run(np=2, junit=True)
    # Its only agent is left out: no test starts, and the run fails saying why.
    assert result.returncode == 2, result.log
    assert result.started == []
    assert "agent local (host %s) is left out of the run" % socket.gethostname() in \
        result.output, result.log
    assert "tests not collected here: test_group.py::test_b" in result.output, result.log
    assert "no agent is left for the run" in result.output, result.log


def test_when_the_coordinator_dies_workers_stop_the_front_end_fails_and_agents_rejoin(
        suite, tmp_path):
    bin_dir = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)
    endpoint = "ipc://%s/coord.ipc" % tmp_path
    logs = {name: open(tmp_path / (name + ".log"), "w") for name in ("coord", "coord2", "agent")}

    def coordinator(log):
        return subprocess.Popen([os.path.join(bin_dir, "mp-coord"), "--listen", endpoint],
                                stdout=log, stderr=log)

    def joined(name):
        return (tmp_path / (name + ".log")).read_text().count("joined")

    records = tmp_path / "records.jsonl"
    coord = coordinator(logs["coord"])
    agent = subprocess.Popen(
        [os.path.join(bin_dir, "mp-agent"), "--connect", endpoint, "--np", "2",
         "--workdir", str(suite.path), "--python", sys.executable],
        stdout=logs["agent"], stderr=logs["agent"],
        env=dict(os.environ, **{RECORD_ENV: str(records)}))
    coord2 = None
    try:
        suite.write("test_hang.py", """
            import time

            def test_hang(e2e_record):
                e2e_record("unit")
                time.sleep(120)
        """)
        front = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp",
             "--mp-coord", endpoint], cwd=suite.path, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not [r for r in read_records(records) if r["kind"] == "unit"]:
            assert time.monotonic() < deadline and front.poll() is None, "the test never started"
            time.sleep(0.1)
        unit = [r for r in read_records(records) if r["kind"] == "unit"][0]["pid"]
        coord.kill()
        coord.wait()
        out, _ = front.communicate(timeout=60)
        assert front.returncode == 2, out
        assert "no reply" in out and endpoint in out, out
        deadline = time.monotonic() + 20
        while alive(unit) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(unit), "the agent left its worker running without a coordinator"
        #  A new coordinator on the same endpoint: the agent registers again and serves.
        coord2 = coordinator(logs["coord2"])
        deadline = time.monotonic() + 30
        while not joined("coord2"):
            assert time.monotonic() < deadline, "the agent did not rejoin"
            time.sleep(0.1)
        suite.write("test_hang.py", "def test_quick():\n    pass\n")
        result = suite.run_plain("--mp", "--mp-coord", endpoint)
        assert result.returncode == 0 and result.summary_count("passed") == 1, result.log
    finally:
        for proc in (agent, coord, coord2):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        for log in logs.values():
            log.close()


def test_a_collection_error_only_on_the_worker_host_stops_the_run_and_is_shown(suite):
    suite.conftest("""
        def pytest_collect_file(file_path, parent):
            if file_path.name == "test_y.py" and parent.config.pluginmanager.has_plugin(
                    "mp_zygote"):
                raise ImportError("module only broken on the worker host")
    """)
    suite.write("test_y.py", "def test_y():\n    pass\n")
    result = suite.run(np=2)
    assert result.returncode == 2, result.log
    assert "module only broken on the worker host" in result.output, result.log
    assert result.of_kind("start") == []


def test_the_zygote_finishes_its_session_normally_when_the_run_ends(suite):
    suite.conftest("""
        import os

        def pytest_sessionfinish(session, exitstatus):
            if session.config.pluginmanager.has_plugin("mp_zygote"):
                e2e_write("zygote_finish", status=int(exitstatus))
    """)
    suite.write("test_few.py", """
        def test_a():
            pass

        def test_b():
            pass
    """)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    finishes = result.of_kind("zygote_finish")
    # One zygote, whose session-finish hooks ran: it left its loop on RUN_END.
    assert len(finishes) == 1, result.log
    assert finishes[0]["status"] == 0, result.log


def _rundir_of(pid):
    """The private directory an agent holds (the one whose owner.lock it has open)."""
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            target = os.readlink(os.path.join(fd_dir, fd))
            if target.endswith("/owner.lock"):
                return os.path.dirname(target)
    except OSError:
        pass
    return None


def test_a_killed_agents_directory_is_removed_by_the_next_agent_not_a_live_ones(tmp_path):
    bin_dir = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)
    log = open(tmp_path / "agents.log", "w")

    def agent():
        # No coordinator: an agent makes its directory at start and waits for one.
        proc = subprocess.Popen(
            [os.path.join(bin_dir, "mp-agent"), "--connect", "ipc://%s/none.ipc" % tmp_path,
             "--workdir", str(tmp_path), "--python", sys.executable],
            stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while _rundir_of(proc.pid) is None:
            assert proc.poll() is None and time.monotonic() < deadline, "no directory"
            time.sleep(0.05)
        return proc, _rundir_of(proc.pid)

    killed, killed_dir = agent()
    killed.kill()
    killed.wait()
    assert os.path.isdir(killed_dir), "SIGKILL leaves it"
    second, second_dir = agent()
    third, third_dir = None, None
    try:
        deadline = time.monotonic() + 10
        while os.path.isdir(killed_dir):
            assert time.monotonic() < deadline, "the killed agent's directory stayed"
            time.sleep(0.05)
        third, third_dir = agent()
        time.sleep(1)
        assert os.path.isdir(second_dir), "a live agent's directory was removed"
    finally:
        for proc in (second, third):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    assert not os.path.isdir(second_dir) and not os.path.isdir(third_dir)
