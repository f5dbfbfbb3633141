"""Fixtures of the example suite: shared resources set up once for a whole run,
however many processes the tests are spread over."""

import pathlib
import shutil
import tempfile
import uuid

import pytest


@pytest.fixture(scope="session")
def shared_workspace(mp_trail, mp_message_board):
    """A temporary directory holding a fake database, shared by every process.

    The first process to reach the trail creates it and puts its path on the board;
    the others read the path. The last process to leave removes it."""
    with mp_trail("shared_workspace", "start") as first:
        if first:
            path = pathlib.Path(tempfile.mkdtemp(prefix="pytest-mp-demo-"))
            (path / "database.txt").write_text("schema v1")
            mp_message_board["shared_workspace"] = str(path)
        else:
            path = pathlib.Path(mp_message_board["shared_workspace"])
    yield path
    with mp_trail("shared_workspace", "finish") as last:
        if last:
            shutil.rmtree(path)
            del mp_message_board["shared_workspace"]


@pytest.fixture(scope="session")
def api_token(mp_lock, mp_message_board):
    """Created once per run, with no teardown: the first caller makes the token under
    the lock, everyone else reuses it."""
    with mp_lock:
        if "api_token" not in mp_message_board:
            mp_message_board["api_token"] = uuid.uuid4().hex
        return mp_message_board["api_token"]


@pytest.fixture
def service_outage(mp_lock, mp_message_board):
    """Takes the (pretend) service down for the duration of a test."""
    with mp_lock:
        mp_message_board["outages"] = mp_message_board.get("outages", 0) + 1
    yield
    with mp_lock:
        mp_message_board["outages"] -= 1


@pytest.fixture
def service_up(mp_message_board):
    """Fails the test if the service is down while it runs."""
    assert mp_message_board.get("outages", 0) == 0, "service down during the test"
    yield
    assert mp_message_board.get("outages", 0) == 0, "service went down during the test"
