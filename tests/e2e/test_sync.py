"""mp_trail, mp_lock and mp_message_board across the processes of one run."""

TRAIL_FIXTURE = """
    @pytest.fixture(scope="session")
    def shared_resource(mp_trail):
        with mp_trail("T", "start") as first:
            e2e_write("trail", op="start", value=bool(first), time=time.monotonic())
        yield
        with mp_trail("T", "finish") as last:
            e2e_write("trail", op="finish", value=bool(last), time=time.monotonic())
"""


def trail_cycles(events):
    """Replays the trail's start/finish events in time order against the original's
    rule (start is True iff the consumer count was 0, finish is True iff it drops to
    0) and returns the cycles as (true start time, true finish time) pairs."""
    count = 0
    cycles = []
    opened = None
    for e in sorted(events, key=lambda e: e["time"]):
        if e["op"] == "start":
            assert e["value"] == (count == 0), "start at count %d gave %r" % (count, e)
            count += 1
            if e["value"]:
                assert opened is None, "second True start before a True finish: %r" % e
                opened = e["time"]
        else:
            assert count > 0, "finish with no consumer: %r" % e
            count -= 1
            assert e["value"] == (count == 0), "finish to count %d gave %r" % (count, e)
            if e["value"]:
                assert opened is not None, "True finish with no True start: %r" % e
                cycles.append((opened, e["time"]))
                opened = None
    assert count == 0 and opened is None, "trail left open: %r" % (events,)
    return cycles


def test_trail_gives_one_true_start_and_one_true_finish_per_cycle(suite):
    suite.conftest(TRAIL_FIXTURE)
    suite.write("test_trail.py", """
        import time
        import pytest

        @pytest.mark.parametrize("i", range(10))
        def test_consumer(i, shared_resource):
            time.sleep(0.3)
    """)
    result = suite.run(np=4)
    assert result.returncode == 0, result.log
    tests = list(result.tests.values())
    assert len(tests) == 10, result.log
    events = result.of_kind("trail")
    starts = [e for e in events if e["op"] == "start"]
    finishes = [e for e in events if e["op"] == "finish"]
    #  Every consumer's own session started and finished the trail once.
    assert sorted(e["pid"] for e in starts) == sorted(r["pid"] for r in tests), events
    assert sorted(e["pid"] for e in finishes) == sorted(r["pid"] for r in tests), events
    cycles = trail_cycles(events)
    assert cycles, events
    for t in tests:
        assert any(s < t["start"] and t["end"] < f for s, f in cycles), (
            "%s ran outside every [true start, true finish] window %r: %r" % (
                t["nodeid"], cycles, t))


def test_lock_serialises_read_modify_write_across_processes(suite):
    suite.write("test_lock.py", """
        import time
        import pytest

        def bump(board):
            value = board.get("counter", 0)
            time.sleep(0)
            board["counter"] = value + 1
            return value + 1

        @pytest.mark.parametrize("i", range(8))
        def test_increment(i, mp_lock, mp_message_board, e2e_record):
            seen = []
            for _ in range(50):
                if i % 2:
                    with mp_lock:
                        seen.append(bump(mp_message_board))
                else:
                    mp_lock.acquire()
                    try:
                        seen.append(bump(mp_message_board))
                    finally:
                        mp_lock.release()
            e2e_record("counter", values=seen)
    """)
    result = suite.run(np=4)
    assert result.returncode == 0, result.log
    counters = result.of_kind("counter")
    assert len(counters) == 8 and len(result.pids(counters)) == 8, result.log
    written = sorted(v for c in counters for v in c["values"])
    #  No increment lost and none duplicated: the counter went 1, 2, ..., 400.
    assert written == list(range(1, 401)), written


BOARD_VALUES = """
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __eq__(self, other):
            return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


    @pytest.fixture
    def payload():
        return {
            "tuple": (1, "two", 3.0),
            "nested": {"list": [1, [2, 3]], "bytes": b"\\x00\\xff", "none": None},
            "set": frozenset({"a", "b"}),
            "point": Point(3, 4),
        }
"""


def test_board_carries_picklable_values_and_starts_empty_each_run(suite):
    suite.conftest(BOARD_VALUES)
    suite.write("test_board.py", """
        import time

        def test_write(mp_message_board, payload, e2e_record):
            e2e_record("before_write", keys=sorted(map(repr, mp_message_board.keys())))
            assert "payload" not in mp_message_board
            mp_message_board["payload"] = payload

        def test_read(mp_message_board, payload, e2e_record):
            deadline = time.monotonic() + 30
            while "payload" not in mp_message_board:
                assert time.monotonic() < deadline, "the payload never appeared"
                time.sleep(0.05)
            got = mp_message_board["payload"]
            e2e_record("read", point_type=type(got["point"]).__name__, equal=(got == payload))
            assert got == payload
    """)
    for _ in range(2):
        result = suite.run(np=2)
        assert result.returncode == 0, result.log
        assert result.summary_count("passed") == 2, result.log
        (before,) = result.of_kind("before_write")
        assert before["keys"] == [], "board not empty at the start of the run: %r" % before
        (read,) = result.of_kind("read")
        assert read["point_type"] == "Point" and read["equal"] is True, read
        assert read["pid"] != before["pid"], "writer and reader shared a process"


def test_board_behaves_as_a_dict(suite):
    suite.write("test_board_api.py", """
        import pytest

        def test_dict_api(mp_message_board):
            b = mp_message_board
            assert len(b) == 0
            b["a"] = 1
            b.update({"b": [2], "c": (3,)})
            assert len(b) == 3
            assert "a" in b and "zz" not in b
            assert b["b"] == [2]
            assert sorted(b.keys()) == ["a", "b", "c"]
            assert sorted(map(repr, b.values())) == ["(3,)", "1", "[2]"]
            assert dict(b.items()) == {"a": 1, "b": [2], "c": (3,)}
            assert b.get("zz") is None and b.get("zz", 5) == 5
            assert b.setdefault("a", 9) == 1
            assert b.setdefault("e", 9) == 9 and b["e"] == 9
            assert b.pop("e") == 9 and "e" not in b
            assert b.pop("e", "gone") == "gone"
            del b["a"]
            assert "a" not in b and len(b) == 2
            with pytest.raises(KeyError):
                b["a"]
    """)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    assert result.summary_count("passed") == 1, result.log


def test_lock_is_not_reentrant_and_says_so(suite):
    # The original's mp_lock is a multiprocessing.Lock: acquiring it again in the
    # holder blocks for ever, releasing it unheld raises. Here both raise at once,
    # RuntimeError as threading's locks do, and the lock goes on working.
    suite.write("test_lock_api.py", """
        import pytest

        def test_lock_api(mp_lock):
            with pytest.raises(RuntimeError, match="not held"):
                mp_lock.release()
            mp_lock.acquire()
            with pytest.raises(RuntimeError, match="already held"):
                mp_lock.acquire()
            mp_lock.release()
            with mp_lock:
                pass
    """)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    assert result.summary_count("passed") == 1, result.log


def test_starts_left_unfinished_by_processes_that_ended_normally_stay_counted(suite):
    # The original's rule: only the very first start of the run is the first, although
    # every test starts the trail in a process of its own and none finishes it.
    suite.write("test_starts.py", """
        import pytest

        @pytest.mark.parametrize("i", range(20))
        def test_start(i, mp_trail, e2e_record):
            with mp_trail("once", "start") as first:
                e2e_record("first", value=bool(first))
    """)
    result = suite.run(np=4)
    assert result.returncode == 0, result.log
    firsts = [r["value"] for r in result.of_kind("first")]
    assert len(firsts) == 20 and firsts.count(True) == 1, firsts
    assert len(result.pids(result.of_kind("first"))) == 20


def test_a_process_that_dies_gives_back_its_trail_start(suite):
    suite.write("test_dies.py", """
        import os

        import pytest

        @pytest.mark.mp_group("G", "serial")
        def test_dies(mp_trail, e2e_record):
            with mp_trail("res", "start") as first:
                e2e_record("first", value=bool(first))
            os._exit(3)

        @pytest.mark.mp_group("After", "serial")
        def test_after(mp_trail, e2e_record, mp_message_board):
            with mp_trail("res", "start") as first:
                e2e_record("first", value=bool(first))
    """)
    # One process at a time: the second unit starts after the first one died.
    result = suite.run(np=1)
    firsts = {r["nodeid"].split("::")[-1]: r["value"] for r in result.of_kind("first")}
    assert firsts == {"test_dies": True, "test_after": True}, result.log
