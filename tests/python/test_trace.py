"""The Chrome trace written for --mp-trace: shape, tracks, nesting, ranges, busy lines."""

import json

import pytest

from pytest_mp.trace import TraceRecorder, split_worker

T0 = 1_700_000_000.0  # epoch seconds: the recorder must make times relative


def phases(start, stop):
    """setup / call / teardown splitting [start, stop] in three."""
    third = (stop - start) / 3
    return [("setup", start, start + third, "passed"),
            ("call", start + third, start + 2 * third, "passed"),
            ("teardown", start + 2 * third, stop, "passed")]


@pytest.fixture
def recorder():
    """Two agents x two slots, forks, an isolated and a free group, instants."""
    rec = TraceRecorder()
    rec.unit_process("rig1:1", 4001, T0 + 0.0, T0 + 0.1)
    rec.test("rig1:1", "t.py::a", T0 + 0.1, T0 + 1.0, "passed", phases(T0 + 0.1, T0 + 1.0))
    rec.test("rig1:2", "t.py::b", T0 + 0.2, T0 + 1.5, "failed", phases(T0 + 0.2, T0 + 1.5))
    rec.test("rig2:1", "t.py::c", T0 + 2.0, T0 + 3.0, "passed", phases(T0 + 2.0, T0 + 3.0))
    rec.test("rig2:2", "t.py::d", T0 + 2.5, T0 + 4.0, "skipped", [])
    rec.test_group("t.py::c", "db", "isolated_serial")
    rec.test_group("t.py::d", "db", "isolated_serial")
    rec.test_group("t.py::a", "web", "free")
    rec.instant("retry t.py::b", T0 + 1.6, {"nodeid": "t.py::b"})
    rec.instant("host lost rig3", T0 + 1.8)
    return rec


@pytest.fixture
def trace(recorder, tmp_path):
    path = tmp_path / "trace.json"
    recorder.write(path)
    return json.loads(path.read_text())


def by_ph(trace, ph):
    return [e for e in trace["traceEvents"] if e["ph"] == ph]


def track_names(trace):
    """(process name, thread name) of every (pid, tid)."""
    procs = {e["pid"]: e["args"]["name"] for e in by_ph(trace, "M")
             if e["name"] == "process_name"}
    return {(e["pid"], e["tid"]): (procs[e["pid"]], e["args"]["name"])
            for e in by_ph(trace, "M") if e["name"] == "thread_name"}


def test_json_shape_and_required_keys(trace):
    assert trace["displayTimeUnit"] == "ms"
    events = trace["traceEvents"]
    assert events
    for event in events:
        assert {"ph", "ts", "pid", "tid", "name"} <= event.keys(), event
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        if event["ph"] == "X":
            assert event["dur"] >= 0
        if event["ph"] in "be":
            assert {"cat", "id"} <= event.keys()
    timed = [e["ts"] for e in events if e["ph"] != "M"]
    assert timed == sorted(timed)
    assert min(timed) == 0  # relative to the earliest time seen, in microseconds
    assert max(timed) == pytest.approx(4.0e6)


def test_one_named_track_per_agent_slot(trace):
    names = track_names(trace)
    assert sorted(names.values()) == [("rig1", "slot 1"), ("rig1", "slot 2"),
                                      ("rig2", "slot 1"), ("rig2", "slot 2")]
    tests = {e["name"]: names[e["pid"], e["tid"]] for e in by_ph(trace, "X")
             if e["cat"] == "test"}
    assert tests == {"t.py::a": ("rig1", "slot 1"), "t.py::b": ("rig1", "slot 2"),
                     "t.py::c": ("rig2", "slot 1"), "t.py::d": ("rig2", "slot 2")}
    pids = {e["pid"] for e in by_ph(trace, "M")}
    assert pids <= set(range(1, 10))  # small integers, never the real OS pid 4001


def test_test_slice_args(trace):
    tests = {e["name"]: e for e in by_ph(trace, "X") if e["cat"] == "test"}
    assert tests["t.py::b"]["args"] == {"outcome": "failed", "nodeid": "t.py::b"}
    assert tests["t.py::d"]["dur"] == pytest.approx(1.5e6)
    fork = next(e for e in by_ph(trace, "X") if e["name"] == "fork")
    assert fork["args"]["pid"] == 4001


def test_phases_nest_inside_their_test_and_fork_precedes(trace):
    slices = by_ph(trace, "X")
    tests = {e["name"]: e for e in slices if e["cat"] == "test"}
    phase_slices = [e for e in slices if e["cat"] == "phase"]
    assert len(phase_slices) == 9
    for child in phase_slices:
        parent = tests[child["args"]["nodeid"]]
        assert (child["pid"], child["tid"]) == (parent["pid"], parent["tid"])
        assert parent["ts"] <= child["ts"]
        assert child["ts"] + child["dur"] <= parent["ts"] + parent["dur"]
    fork = next(e for e in slices if e["name"] == "fork")
    first = tests["t.py::a"]
    assert (fork["pid"], fork["tid"]) == (first["pid"], first["tid"])
    assert fork["ts"] + fork["dur"] <= first["ts"] and fork["dur"] == pytest.approx(1e5)


def test_children_outside_their_parent_are_clamped(tmp_path):
    rec = TraceRecorder()
    rec.unit_process("h:0", 9, T0, T0 + 1.2)  # says it started after the test began
    rec.test("h:0", "x", T0 + 1.0, T0 + 2.0, "error",
             [("setup", T0 + 0.9, T0 + 1.5, "passed"), ("teardown", T0 + 1.9, T0 + 2.3, "error")])
    slices = rec.events()[0]
    test, = [e for e in slices if e.get("cat") == "test"]
    end = test["ts"] + test["dur"]
    for child in (e for e in slices if e.get("cat") == "phase"):
        assert test["ts"] <= child["ts"] and child["ts"] + child["dur"] <= end
    fork, = [e for e in slices if e.get("cat") == "fork"]
    assert fork["ts"] + fork["dur"] <= test["ts"]


def test_isolation_range_covers_its_group_only(trace):
    isolation = [e for e in trace["traceEvents"] if e.get("cat") == "isolation"]
    assert sorted(e["ph"] for e in isolation) == ["b", "e"]
    begin, end = sorted(isolation, key=lambda e: e["ph"])
    assert begin["name"] == end["name"] == "db" and begin["id"] == end["id"]
    tests = {e["name"]: e for e in by_ph(trace, "X") if e["cat"] == "test"}
    assert begin["ts"] == tests["t.py::c"]["ts"]
    assert end["ts"] == tests["t.py::d"]["ts"] + tests["t.py::d"]["dur"]
    procs = {e["pid"]: e["args"]["name"] for e in by_ph(trace, "M")
             if e["name"] == "process_name"}
    assert procs[begin["pid"]] == procs[end["pid"]] == "isolation"
    on_isolation = [e for e in trace["traceEvents"]
                    if e["pid"] == begin["pid"] and e["ph"] != "M"]
    assert on_isolation == [begin, end]


def test_no_isolation_track_without_isolated_groups(tmp_path):
    rec = TraceRecorder()
    rec.test("h:0", "x", T0, T0 + 1, "passed", [])
    rec.test_group("x", "g", "serial")
    events = rec.events()[0]
    assert not [e for e in events if e.get("cat") == "isolation"]
    assert "isolation" not in [e["args"]["name"] for e in events if e["ph"] == "M"]


def test_instants_are_global_with_given_names(trace):
    instants = by_ph(trace, "i")
    assert [e["name"] for e in instants] == ["retry t.py::b", "host lost rig3"]
    assert all(e["s"] == "g" for e in instants)
    assert instants[0]["ts"] == pytest.approx(1.6e6)
    assert instants[0]["args"] == {"nodeid": "t.py::b"}


def test_output_is_deterministic(recorder, tmp_path):
    recorder.write(tmp_path / "one.json")
    recorder.write(tmp_path / "two.json")
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()


def test_busy_lines_hand_made_example():
    rec = TraceRecorder()
    rec.test("a:1", "t1", 100.0, 105.0, "passed", [])   # 5 s
    rec.test("a:2", "t2", 100.0, 110.0, "passed", [])   # 10 s; wall time 10 s, 2 slots
    rec.test("b:1", "t3", 102.0, 104.0, "passed", [])
    rec.test("b:1", "t4", 104.0, 106.0, "failed", [])   # 4 s of one slot's 10 s
    assert rec.busy_lines() == ["a: 2 tests, busy 75%", "b: 2 tests, busy 40%"]


def test_busy_counts_slots_seen_by_forks_and_instants_widen_wall_time():
    rec = TraceRecorder()
    rec.unit_process("a:2", 1, 0.0, 0.0)  # slot 2 seen, never ran a test
    rec.test("a:1", "t1", 0.0, 5.0, "passed", [])
    rec.instant("notice", 10.0)
    assert rec.busy_lines() == ["a: 1 tests, busy 25%"]
    assert TraceRecorder().busy_lines() == []


def test_split_worker():
    assert split_worker("rig1:3") == ("rig1", 3)
    assert split_worker("10.0.0.1:7:12") == ("10.0.0.1:7", 12)
