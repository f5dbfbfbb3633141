"""--mp-timeout kills a test's process and fails it; --mp-min-agents/--mp-wait give up
with a clear error when agents do not come."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(os.environ.get("MP_BIN_DIR") or Path(sys.executable).parent)


def test_a_test_past_the_timeout_is_killed_and_fails_its_serial_group_goes_on_skipped(suite):
    suite.write("test_slow.py", """
        import time
        import pytest

        def test_hangs():
            time.sleep(60)

        def test_quick():
            pass

        @pytest.mark.mp_group("Ser", "serial")
        def test_ser_hangs():
            time.sleep(60)

        @pytest.mark.mp_group("Ser")
        def test_ser_after():
            pass
    """)
    result = suite.run("--mp-timeout", "1", np=2, junit=True, timeout=60)
    assert result.returncode == 1, result.log
    junit = result.junit
    for name in ("test_hangs", "test_ser_hangs"):
        assert junit[name].outcome == "failed", junit[name]
        assert "timed out after the --mp-timeout of 1 s" in junit[name].text, junit[name]
    assert junit["test_quick"].outcome == "passed"
    assert junit["test_ser_after"].outcome == "skipped"
    assert "test_ser_after" not in result.started
    #  Killed at the limit, not at the end of their sleep.
    hung = [r for r in result.of_kind("start") if "hangs" in r["nodeid"]]
    assert len(hung) == 2 and not [r for r in result.of_kind("test") if "hangs" in r["nodeid"]]


def test_too_few_agents_within_the_wait_is_a_clear_error(suite, tmp_path):
    suite.write("test_one.py", "def test_one():\n    pass\n")
    endpoint = "ipc://%s/coord.ipc" % tmp_path
    coord = subprocess.Popen([str(BIN / "mp-coord"), "--listen", endpoint],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = suite.run_plain("--mp", "--mp-coord", endpoint, "--mp-min-agents", "2",
                                 "--mp-wait", "1", timeout=60)
    finally:
        coord.terminate()
        coord.wait(10)
    assert result.returncode == 2, result.log
    assert "0 of 2 agents joined %s within 1 s" % endpoint in result.output, result.log
    assert result.of_kind("start") == []
