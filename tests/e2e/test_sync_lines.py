"""A unit process's line: its board, lock and trail requests go straight to the
coordinator, not through its agent. Shown by what a user can see: with its agent
stopped (SIGSTOP), a test's sync requests still complete; with `mp-agent
--relay-sync` they wait for the agent. Embedded (shared key, ipc://) and over CURVE
(tcp on loopback)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import free_port
from test_curve import BIN, CurveLab

#  The test stops its own agent, asks the board and the lock, and notes the agent's
#  state once answered: "T" (still stopped) when the answers did not need it. A timer
#  wakes the agent after RESUME_S whatever happens, so a relayed request cannot hang.
#  What it saw goes to OUT (an agent started apart does not pass the e2e record file on).
SUITE = """\
import json
import os
import signal
import threading

RESUME_S = {resume}
OUT = {out!r}


def test_sync_with_the_agent_stopped(mp_message_board, mp_lock, mp_trail):
    agent = int(os.environ["PYTEST_MP_AGENT_PID"])
    mp_message_board["opened"] = 1  # the unit's first request, relayed: opens the line
    os.kill(agent, signal.SIGSTOP)
    resume = threading.Timer(RESUME_S, os.kill, (agent, signal.SIGCONT))
    resume.start()
    try:
        for i in range(20):
            mp_message_board["k"] = i
        values = [mp_message_board["k"], mp_message_board.get("opened")]
        with mp_lock:
            pass
        with mp_trail("T") as first:
            pass
        with open("/proc/%d/stat" % agent) as f:
            state = f.read().split(")")[-1].split()[0]
    finally:
        os.kill(agent, signal.SIGCONT)
        resume.cancel()
    with open(OUT, "w") as f:
        json.dump(dict(state=state, values=values, first=bool(first)), f)
"""


def _write(suite, resume):
    out = suite.path.parent / "sync.json"
    suite.write("test_s.py", SUITE.format(resume=resume, out=str(out)))
    return out


def _check(result, out, stopped):
    assert result.returncode == 0 and result.summary_count("passed") == 1, result.log
    record = json.loads(out.read_text())
    assert record["values"] == [19, 1] and record["first"] is True, record
    assert (record["state"] == "T") == stopped, record


def test_embedded_sync_needs_no_agent(suite):
    out = _write(suite, 30)
    _check(suite.run(np=1), out, stopped=True)


def test_sync_over_curve_needs_no_agent(suite, tmp_path):
    lab = CurveLab(tmp_path)
    try:
        out = _write(suite, 30)
        lab.agent(suite.path, "agent", "a1")
        _check(lab.front(suite, "client", "--mp-wait", "20"), out, stopped=True)
        # The line's key was taken while its unit ran and no other key was refused.
        assert "in no allow-list" not in lab.log_text()
    finally:
        lab.stop()


def test_relay_sync_sends_sync_through_the_agent(suite, tmp_path):
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    endpoint = "tcp://127.0.0.1:%d" % free_port()
    log = open(tmp_path / "daemons.log", "w")
    procs = [subprocess.Popen([os.path.join(BIN, "mp-coord"), "--listen", endpoint,
                               "--key-file", str(key)], stdout=log, stderr=log)]
    procs.append(subprocess.Popen(
        [os.path.join(BIN, "mp-agent"), "--connect", endpoint, "--np", "1",
         "--key-file", str(key), "--workdir", str(suite.path), "--python", sys.executable,
         "--relay-sync"], stdout=log, stderr=log))
    try:
        out = _write(suite, 2)
        result = suite.run_plain("--mp", "--mp-coord", endpoint, "--mp-key-file", str(key),
                                 "--mp-wait", "20", timeout=60)
        _check(result, out, stopped=False)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(10)
        log.close()
