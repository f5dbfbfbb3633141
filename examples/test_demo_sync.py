"""The synchronisation fixtures: message board, lock and trails."""

import os
import time

import pytest


@pytest.mark.parametrize("n", range(4))
def test_token_is_shared(n, api_token, mp_message_board):
    #  Every process got the same token, created once.
    assert api_token == mp_message_board["api_token"]
    time.sleep(0.2)


@pytest.mark.parametrize("n", range(4))
def test_lock_guards_a_counter(n, mp_lock, mp_message_board):
    for _ in range(10):
        with mp_lock:
            before = mp_message_board.get("visits", 0)
            time.sleep(0.001)
            mp_message_board["visits"] = before + 1
            #  Nobody else wrote while we held the lock.
            assert mp_message_board["visits"] == before + 1


def test_board_holds_any_picklable_value(mp_message_board):
    value = {"pid": os.getpid(), "point": (3, 4), "tags": frozenset({"demo"})}
    mp_message_board["example_value"] = value
    assert mp_message_board["example_value"] == value
    assert mp_message_board.pop("example_value") == value


@pytest.mark.parametrize("n", range(3))
def test_workspace_is_shared(n, shared_workspace):
    #  Each process leaves a file in the one workspace created for the run.
    (shared_workspace / ("visited-by-%d" % os.getpid())).write_text("hello")
    time.sleep(0.2)
    assert shared_workspace.is_dir()
