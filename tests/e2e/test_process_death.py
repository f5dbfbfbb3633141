"""A unit process that dies fails its test, naming the cause, and nothing else."""

import re

#  Signals by number: the signal name in a failure must come from pytest-mp, not from
#  a source line quoted in a traceback.
DYING_SUITE = """
    import os
    import time
    import pytest

    def test_ok_a():
        time.sleep(0.2)

    def test_ok_b():
        time.sleep(0.2)

    def test_sigkill():
        os.kill(os.getpid(), 9)

    def test_exit_code():
        os._exit(3)

    @pytest.mark.mp_group("Doomed", "serial")
    def test_serial_first():
        pass

    @pytest.mark.mp_group("Doomed")
    def test_serial_dies():
        os._exit(7)

    @pytest.mark.mp_group("Doomed")
    def test_serial_never_runs():
        pass

    def test_dies_holding_lock(mp_lock, mp_message_board):
        mp_lock.acquire()
        mp_message_board["holder_dying"] = True
        os.kill(os.getpid(), 9)

    def test_lock_usable_after_holder_died(mp_lock, mp_message_board):
        deadline = time.monotonic() + 30
        while not mp_message_board.get("holder_dying"):
            assert time.monotonic() < deadline, "the lock holder never ran"
            time.sleep(0.05)
        with mp_lock:
            pass
"""


def exit_code_named(text, code):
    return re.search(r"exit(ed)?\s*(with)?\s*(code|status)?\s*:?\s*%d\b" % code, text)


def test_dead_processes_fail_their_tests_and_the_run_goes_on(suite):
    suite.write("test_dying.py", DYING_SUITE)
    result = suite.run("-v", np=4, junit=True, timeout=90)
    assert result.returncode == 1, result.log
    cases = result.junit
    assert sorted(n for n, c in cases.items() if c.outcome == "failed") == [
        "test_dies_holding_lock", "test_exit_code", "test_serial_dies", "test_sigkill"], cases
    assert sorted(n for n, c in cases.items() if c.outcome == "passed") == [
        "test_lock_usable_after_holder_died", "test_ok_a", "test_ok_b",
        "test_serial_first"], cases
    #  The rest of the serial unit is reported, as not run.
    assert cases["test_serial_never_runs"].outcome == "skipped", cases
    assert "test_serial_never_runs" not in result.started, result.log
    assert re.search(r"SIGKILL|signal 9\b", cases["test_sigkill"].text), cases["test_sigkill"]
    assert re.search(r"SIGKILL|signal 9\b", cases["test_dies_holding_lock"].text), cases
    assert exit_code_named(cases["test_exit_code"].text, 3), cases["test_exit_code"]
    assert exit_code_named(cases["test_serial_dies"].text, 7), cases["test_serial_dies"]
    assert result.summary_count("failed") == 4, result.log
    assert result.summary_count("passed") == 4, result.log
    assert result.summary_count("skipped") == 1, result.log
