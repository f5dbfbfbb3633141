"""The coordinator's loss mid-run: the front end notices within the agents' heartbeat
expiry, every planned test that did not report is an error naming the loss (in the
terminal and in junit), and the exit code is pytest's "interrupted"."""

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from conftest import RECORD_ENV, read_records

BIN = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)


def test_every_unreported_test_is_an_error_naming_the_lost_coordinator(suite, tmp_path):
    endpoint = "ipc://%s/coord.ipc" % tmp_path
    records = tmp_path / "records.jsonl"
    logs = open(tmp_path / "daemons.log", "w")
    coord = subprocess.Popen([os.path.join(BIN, "mp-coord"), "--listen", endpoint],
                             stdout=logs, stderr=logs)
    agent = subprocess.Popen(
        [os.path.join(BIN, "mp-agent"), "--connect", endpoint, "--np", "2",
         "--workdir", str(suite.path), "--python", sys.executable],
        stdout=logs, stderr=logs, env=dict(os.environ, **{RECORD_ENV: str(records)}))
    suite.write("test_many.py", """
        import time
        import pytest

        def test_quick_1():
            pass

        def test_quick_2():
            pass

        @pytest.mark.parametrize("i", range(8))
        def test_slow(i):
            time.sleep(60)
    """)
    junit = tmp_path / "junit.xml"
    try:
        front = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--mp-coord",
             endpoint, "--junitxml", str(junit), "-v"],
            cwd=suite.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, **{RECORD_ENV: str(records)}))
        deadline = time.monotonic() + 60
        while len([r for r in read_records(records) if r["kind"] == "start"
                   and "test_slow" in r["nodeid"]]) < 2:
            assert time.monotonic() < deadline and front.poll() is None, "tests never started"
            time.sleep(0.1)
        coord.kill()
        coord.wait()
        lost = time.monotonic()
        out, _ = front.communicate(timeout=60)
        noticed = time.monotonic() - lost
    finally:
        for proc in (agent, coord):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        logs.close()
    assert front.returncode == 2, out
    assert "INTERNALERROR" not in out, out
    # Within the agents' heartbeat expiry (10 s), with room for a loaded machine.
    assert noticed < 15, (noticed, out)
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert len(cases) == 10, sorted(cases)
    for name in ("test_quick_1", "test_quick_2"):
        # Passed: nothing but the properties saying where it ran.
        assert [c.tag for c in cases[name]] == ["properties"], ET.tostring(cases[name])
    for i in range(8):
        case = cases["test_slow[%d]" % i]
        # Running ones fail in their call, the others err at setup: none passed.
        outcomes = [child for child in case if child.tag in ("failure", "error")]
        assert outcomes, ET.tostring(case)
        assert "no result from the coordinator at %s" % endpoint in (
            outcomes[0].get("message", "") + (outcomes[0].text or "")), ET.tostring(case)
    assert "no result from the coordinator" in out, out
