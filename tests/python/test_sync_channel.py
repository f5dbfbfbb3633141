"""Where a unit process's sync requests go (sync.Channel): the first of each unit
relayed right after LINE_OPEN, the rest on the line; a line that refuses a request
unhandled (EAUTH) or cannot send it (ESTATE, not connected) sends that request and
the rest of the unit's relayed, and a refusal of the request itself is the test's."""

import pytest

from pytest_mp import sync, wire
from pytest_mp.wire import WireError


class Recorder:
    def __init__(self, name, log, fail=None):
        self.name, self.log, self.fail = name, log, fail

    def send(self, type_name, **fields):
        self.log.append((self.name, "send", type_name, fields.get("unit")))

    def request(self, type_name, **fields):
        self.log.append((self.name, "request", type_name))
        if self.fail:
            raise self.fail
        return type_name

    def close(self):
        pass


@pytest.fixture
def made(monkeypatch):
    """The lines Channel makes, by the failure each is to give (set before use)."""
    lines = {"fail": None, "made": 0}

    def line(endpoint, key_file, name, public, secret, server):
        lines["made"] += 1
        assert name.startswith("l") and endpoint == "ipc:///coord"
        assert (len(public) == 40) == bool(server)
        return Recorder("line", lines["log"], lines["fail"])

    monkeypatch.setattr(sync.Client, "line", staticmethod(line))
    return lines


def _channel(log, coord="ipc:///coord", key=""):
    channel = sync.Channel(Recorder("relay", log), 7, "", coord, key)
    channel.unit = 1
    return channel


def test_first_request_of_each_unit_opens_the_line_then_goes_straight(made):
    log = made["log"] = []
    channel = _channel(log)
    assert channel.request("BOARD_SET") == "BOARD_SET"
    channel.request("BOARD_GET")
    channel.unit = 2  # a reused process's next unit opens its line again
    channel.request("LOCK_ACQUIRE")
    channel.request("LOCK_RELEASE")
    assert log == [
        ("relay", "send", "LINE_OPEN", 1), ("relay", "request", "BOARD_SET"),
        ("line", "request", "BOARD_GET"),
        ("relay", "send", "LINE_OPEN", 2), ("relay", "request", "LOCK_ACQUIRE"),
        ("line", "request", "LOCK_RELEASE"),
    ]
    assert made["made"] == 1  # one connection for the process


def test_over_curve_the_line_has_a_key_pair_of_its_own(made):
    log = made["log"] = []
    public, _ = wire.curve_keypair()
    channel = _channel(log, key=public)
    channel.request("BOARD_SET")
    channel.request("BOARD_GET")
    assert made["made"] == 1 and log[-1] == ("line", "request", "BOARD_GET")


@pytest.mark.parametrize("failure", [
    WireError("refused", wire.ERRORS["EAUTH"], refused=True),
    WireError("not sent", wire.ERRORS["ESTATE"]),
])
def test_a_line_that_did_nothing_sends_the_rest_of_the_unit_relayed(made, failure):
    log = made["log"] = []
    made["fail"] = failure
    channel = _channel(log)
    channel.request("BOARD_SET")
    assert channel.request("BOARD_GET") == "BOARD_GET"
    channel.request("BOARD_DEL")
    assert log[1:] == [
        ("relay", "request", "BOARD_SET"), ("line", "request", "BOARD_GET"),
        ("relay", "request", "BOARD_GET"), ("relay", "request", "BOARD_DEL"),
    ]


@pytest.mark.parametrize("failure", [
    WireError("LOCK_RELEASE refused: not held", wire.ERRORS["ESTATE"], refused=True),
    WireError("no reply", wire.ERRORS["ETIMEDOUT"]),
])
def test_other_failures_on_the_line_are_the_tests(made, failure):
    log = made["log"] = []
    made["fail"] = failure
    channel = _channel(log)
    channel.request("BOARD_SET")
    with pytest.raises(WireError) as raised:
        channel.request("LOCK_RELEASE")
    assert raised.value is failure and log[-1] == ("line", "request", "LOCK_RELEASE")


def test_without_a_coordinator_address_everything_is_relayed(made):
    log = made["log"] = []
    channel = _channel(log, coord="")
    channel.request("BOARD_SET")
    channel.request("BOARD_GET")
    assert log == [("relay", "request", "BOARD_SET"), ("relay", "request", "BOARD_GET")]
    assert made["made"] == 0
