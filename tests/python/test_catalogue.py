"""The Python side of the catalogue: named tuples and fields by name from the
client library, the front end's event handlers, the zygote's serve loop, and
docs/protocol.md generated from the same source."""

import json
import os
import pathlib

import pytest

from pytest_mp import frontend, protocol_doc, wire, worker

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_protocol_doc_is_generated_from_the_catalogue():
    text = (ROOT / "docs" / "protocol.md").read_text()
    assert text == protocol_doc.render(), (
        "docs/protocol.md differs from the catalogue; regenerate it with "
        "`.venv/bin/%s`" % protocol_doc.COMMAND
    )


def test_front_end_has_one_handler_per_event_kind():
    assert wire.EVENT_KINDS  # the library lists some
    frontend.check_handlers(frontend.FrontEnd)
    for kind in wire.EVENT_KINDS:
        assert callable(getattr(frontend.FrontEnd, "event_" + kind))


def test_a_missing_or_extra_handler_is_named():
    kind = wire.EVENT_KINDS[-1]
    partial = type("Partial", (), {
        "event_" + k: lambda self, nodeid, unit_id, data: None
        for k in wire.EVENT_KINDS if k != kind
    })
    with pytest.raises(TypeError, match="no handler event_%s" % kind):
        frontend.check_handlers(partial)

    class Extra(frontend.FrontEnd):
        def event_nonesuch(self, nodeid, unit_id, data):
            pass

    with pytest.raises(TypeError, match="event_nonesuch"):
        frontend.check_handlers(Extra)


def test_every_message_has_a_named_tuple_with_the_catalogue_fields():
    so = wire.lib()
    assert wire.CATALOGUE
    for name, spec in wire.CATALOGUE.items():
        fields = []
        while so.mp_msg_field_name(spec.number, len(fields)) is not None:
            fields.append(so.mp_msg_field_name(spec.number, len(fields)).decode())
        assert so.mp_msg_name(spec.number).decode() == name
        assert wire.MESSAGES[name].__name__ == name
        assert wire.MESSAGES[name]._fields == tuple(fields), name
        assert len(spec.schema) == len(fields), name


def test_a_missing_or_unknown_field_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="wait_ms"):
        wire.build("POLL", {"run": 1, "after": 0})
    with pytest.raises(ValueError, match="bogus"):
        wire.build("POLL", {"run": 1, "after": 0, "wait_ms": 0, "bogus": 1})
    with pytest.raises(ValueError, match="NO_SUCH"):
        wire.build("NO_SUCH", {})
    # Checked before anything is sent: no peer needs to be there.
    client = wire.Client("ipc:///nonexistent/pytest-mp-test.ipc", "", wire.unit_name(os.getpid()))
    try:
        with pytest.raises(ValueError, match="pid"):
            client.send("UNIT_STARTED", run=1, unit=2)
        with pytest.raises(ValueError, match="status"):
            client.request("UNIT_EXIT", run=1, unit=2, pid=3, timeout=0)
    finally:
        client.close()


@pytest.mark.parametrize("name, fields", [
    ("POLL", dict(run=7, after=3, wait_ms=1000)),
    ("ERROR", dict(code=-5, reason="refused: \u00e9")),
    ("UNIT_STARTED", dict(run=2**64 - 1, unit=4, pid=4242)),
    ("UNIT", dict(run=1, unit=2, group="G", tests=["t.py::a", "t.py::b"], slot=3)),
    ("REPORT", dict(run=1, unit=2, kind="logstart", test="t.py::a", data=b"\x00{}")),
    ("EVENTS", dict(first=1, kinds=["logstart", "done"], tests=["t.py::a", ""],
                    units=[2, 0], data=[b"{}", b""])),
    ("ITEMS", dict(keys=[], values=[])),
    ("HEARTBEAT", dict()),
])
def test_messages_round_trip_by_name(name, fields):
    got_name, got = wire.read(wire.build(name, fields))
    assert got_name == name
    assert isinstance(got, wire.MESSAGES[name])
    assert got._asdict() == fields


def test_peer_names_come_from_the_library():
    assert wire.parse_peer(wire.zygote_name(12)) == (wire.parse_peer(wire.zygote_name(1))[0], 12)
    assert wire.parse_peer(wire.unit_name(4242))[1] == 4242
    assert wire.parse_peer(wire.unit_name(1))[0] != wire.parse_peer(wire.zygote_name(1))[0]
    assert wire.parse_peer("agent-1") is None


class FakeClient:
    """What the zygote's serve loop needs of a client: messages waiting, posts sent.
    The first `quiet` looks that do not wait (timeout 0) find nothing."""

    def __init__(self, messages, quiet=0):
        self.messages = list(messages)
        self.sent = []
        self.quiet = quiet

    def wait(self, fds, timeout):
        if timeout == 0 and self.quiet > 0:
            self.quiet -= 1
            return 0
        assert self.messages, "the zygote went on after the messages ran out"
        return 1

    def recv(self, timeout):
        return self.messages.pop(0)

    def send(self, type_name, **fields):
        self.sent.append((type_name, fields))


def _zygote(run, reusable=()):
    zygote = worker.Zygote.__new__(worker.Zygote)  # no environment of a worker here
    zygote.run = run
    zygote.agent, zygote.outputs, zygote.spares = "a", {}, []
    zygote.reuse, zygote.reusable = bool(reusable), set(reusable)
    zygote.idle, zygote.pipes, zygote.last_unit = [], {}, {}
    zygote.done_read = zygote.done_write = -1
    if reusable:
        zygote.done_read, zygote.done_write = os.pipe()
        os.set_blocking(zygote.done_read, False)
    spares = []

    def fork_spare(client, items, children):
        read_end, write_end = os.pipe()
        spares.append(read_end)
        pid = 1000 + len(spares)
        zygote.pipes[pid] = write_end
        children[-pid] = (pid, 0)  # stands for its pidfd
        return pid, write_end

    zygote._fork_spare = fork_spare
    return zygote, spares


def test_zygote_leaves_on_its_runs_end_and_lets_its_spare_go():
    msg = wire.MESSAGES
    client = FakeClient([
        ("OK", msg["OK"](value=0)),  # not expected: ignored
        ("RUN_END", msg["RUN_END"](run=8)),  # another run's: ignored
        ("UNIT", msg["UNIT"](run=7, unit=3, group="", tests=["t.py::a"], slot=0)),
        ("RUN_END", msg["RUN_END"](run=7)),
    ], quiet=2)
    zygote, spares = _zygote(7)
    zygote._serve(client, {}, {})
    assert not client.messages
    # Two spares were forked while nothing came. The unit went to the first; the
    # second read nothing: it exits 0.
    assert len(spares) == 2
    with os.fdopen(spares[0]) as first, os.fdopen(spares[1]) as second:
        assert json.loads(first.read()) == [3, ["t.py::a"], 0, False]
        assert second.read() == ""
    # UNIT_STARTED is the unit process's to send, no longer the zygote's.
    assert client.sent == []


def test_zygote_hands_out_a_waiting_unit_before_forking_spares_ahead():
    msg = wire.MESSAGES
    client = FakeClient([
        ("UNIT", msg["UNIT"](run=7, unit=3, group="", tests=["t.py::a"], slot=0)),
        ("UNIT", msg["UNIT"](run=7, unit=4, group="", tests=["t.py::b"], slot=1)),
        ("RUN_END", msg["RUN_END"](run=7)),
    ], quiet=0)
    zygote, spares = _zygote(7)
    zygote.spares.append(zygote._fork_spare(client, {}, {}))  # forked before ZYGOTE_READY
    zygote._serve(client, {}, {})
    # The spare forked ahead took the first unit; the second needed a fork of its own,
    # made when it came, and nothing was forked ahead while units waited.
    assert len(spares) == 2
    with os.fdopen(spares[0]) as first, os.fdopen(spares[1]) as second:
        assert json.loads(first.read()) == [3, ["t.py::a"], 0, False]
        assert json.loads(second.read()) == [4, ["t.py::b"], 1, False]


def test_zygote_gives_free_units_to_an_idle_reused_process_and_groups_to_spares():
    msg = wire.MESSAGES
    zygote, spares = _zygote(7, reusable={"t.py::a", "t.py::b"})

    class Client(FakeClient):
        def recv(self, timeout):
            got = super().recv(timeout)
            if got[0] == "UNIT" and got[1].unit == 4:
                # The process that ran unit 3 went idle while unit 4 waited.
                os.write(zygote.done_write, b"1001 3\n")
            return got

    client = Client([
        ("UNIT", msg["UNIT"](run=7, unit=3, group="", tests=["t.py::a"], slot=0)),
        ("UNIT", msg["UNIT"](run=7, unit=4, group="", tests=["t.py::b"], slot=1)),
        ("UNIT", msg["UNIT"](run=7, unit=5, group="S", tests=["t.py::s1", "t.py::s2"],
                             slot=0)),
        ("RUN_END", msg["RUN_END"](run=7)),
    ])
    zygote._serve(client, {}, {})
    with os.fdopen(spares[0]) as first, os.fdopen(spares[1]) as second:
        # Units 3 and 4 in the first process, which stays for more; the serial unit
        # in a fresh spare, which is let go after it.
        assert [json.loads(line) for line in first] == [
            [3, ["t.py::a"], 0, True], [4, ["t.py::b"], 1, True]]
        assert [json.loads(line) for line in second] == [
            [5, ["t.py::s1", "t.py::s2"], 0, False]]
    assert client.sent == []
