"""--mp-reuse: free and ungrouped tests run one after another in reused unit processes,
with every fixture torn down between them; groups keep a fresh process each, and a
crash costs only the test that was running."""

import collections
import re

MIXED_SUITE = """
    import time
    import pytest

    @pytest.mark.parametrize("i", range(12))
    def test_ungrouped(i):
        time.sleep(0.02)

    @pytest.mark.mp_group("F", "free")
    @pytest.mark.parametrize("i", range(6))
    def test_free(i):
        time.sleep(0.02)

    @pytest.mark.mp_group("S", "serial")
    @pytest.mark.parametrize("i", range(3))
    def test_serial(i):
        pass

    @pytest.mark.mp_group("I", "isolated_free")
    @pytest.mark.parametrize("i", range(2))
    def test_isolated_free(i):
        pass

    @pytest.mark.mp_group("J", "isolated_serial")
    @pytest.mark.parametrize("i", range(2))
    def test_isolated_serial(i):
        pass
"""


def _tests_by_pid(result):
    by_pid = collections.defaultdict(set)
    for name, record in result.tests.items():
        by_pid[record["pid"]].add(name)
    return by_pid


def test_free_and_ungrouped_tests_share_processes_and_groups_do_not(suite):
    suite.write("test_mixed.py", MIXED_SUITE)
    result = suite.run("--mp-reuse", np=2, junit=True)
    assert result.returncode == 0, result.log
    assert result.summary_count("passed") == 25, result.log
    by_pid = _tests_by_pid(result)
    shared = [r for n, r in result.tests.items() if n.startswith(("test_ungrouped", "test_free"))]
    assert len(shared) == 18
    #  Two slots: the 18 free tests ran in a few processes, not one each.
    assert len(result.pids(shared)) <= 6, sorted(by_pid.values())
    assert max(len(by_pid[pid]) for pid in result.pids(shared)) >= 3, sorted(by_pid.values())
    #  A serial group runs in one process of its own; an isolated_serial group too;
    #  an isolated_free test has a process to itself.
    for prefix, size in (("test_serial", 3), ("test_isolated_serial", 2)):
        pids = result.pids(result.select(prefix))
        assert len(pids) == 1, (prefix, result.log)
        assert len(by_pid[pids.pop()]) == size, sorted(by_pid.values())
    for record in result.select("test_isolated_free"):
        assert len(by_pid[record["pid"]]) == 1, sorted(by_pid.values())


def test_without_the_option_every_test_has_a_fresh_process(suite):
    suite.write("test_mixed.py", MIXED_SUITE)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    free = [r for n, r in result.tests.items() if n.startswith(("test_ungrouped", "test_free"))]
    assert len(result.pids(free)) == len(free) == 18, result.log


def test_the_ini_option_turns_it_on(suite):
    suite.ini("mp_reuse = true\n")
    suite.write("test_some.py", """
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_it(i):
            pass
    """)
    result = suite.run(np=1)
    assert result.returncode == 0, result.log
    assert len(result.pids(result.select("test_it"))) < 8, result.log


def test_every_fixture_is_torn_down_between_reused_tests_and_module_state_carries_over(suite):
    suite.conftest("""
        @pytest.fixture(scope="session")
        def session_thing():
            e2e_write("session_up")
            yield
            e2e_write("session_down")

        @pytest.fixture(scope="module")
        def module_thing():
            e2e_write("module_up")
            yield
            e2e_write("module_down")
    """)
    suite.write("test_scopes.py", """
        import pytest

        RAN_HERE = []

        @pytest.mark.parametrize("i", range(6))
        def test_scoped(i, session_thing, module_thing, e2e_record):
            RAN_HERE.append(i)
            e2e_record("module_state", ran_before=len(RAN_HERE) - 1)
    """)
    result = suite.run("--mp-reuse", np=1)
    assert result.returncode == 0, result.log
    tests = result.select("test_scoped")
    assert len(tests) == 6 and len(result.pids(tests)) < 6, result.log
    for pid in result.pids(tests):
        events = sorted((r for r in result.records if r["pid"] == pid
                         and r["kind"] in ("session_up", "session_down", "module_up",
                                           "module_down", "start", "test")),
                        key=lambda r: r["time"])
        ran = sum(1 for e in events if e["kind"] == "test")
        #  Each test sets up both fixtures and tears them down before the next starts.
        kinds = [e["kind"] for e in events]
        assert kinds.count("session_up") == kinds.count("session_down") == ran, kinds
        assert kinds.count("module_up") == kinds.count("module_down") == ran, kinds
        depth = 0
        for kind in kinds:
            if kind == "session_up":
                assert depth == 0, kinds
                depth = 1
            elif kind == "session_down":
                depth = 0
    #  Module-level state is the process's: a reused process saw its earlier tests.
    states = result.of_kind("module_state")
    assert max(s["ran_before"] for s in states) >= 1, states


CRASH_SUITE = """
    import os

    def test_a():
        pass

    def test_b():
        pass

    def test_crash():
        os._exit(5)

    def test_c():
        pass

    def test_d():
        pass
"""


def test_a_crash_in_a_reused_process_costs_only_its_test(suite):
    suite.write("test_crash.py", CRASH_SUITE)
    result = suite.run("--mp-reuse", "-p", "no:randomly", np=1, junit=True)
    assert result.returncode == 1, result.log
    cases = result.junit
    assert {n: c.outcome for n, c in cases.items()} == {
        "test_a": "passed", "test_b": "passed", "test_crash": "failed",
        "test_c": "passed", "test_d": "passed"}, cases
    assert re.search(r"exited with code 5\b", cases["test_crash"].text), cases["test_crash"]
    tests = result.tests
    #  One slot, in plan order: a and b shared the process that crashed; c and d ran in
    #  a new one.
    assert tests["test_a"]["pid"] == tests["test_b"]["pid"], result.log
    assert tests["test_c"]["pid"] == tests["test_d"]["pid"], result.log
    assert tests["test_c"]["pid"] != tests["test_a"]["pid"], result.log


def test_a_lock_left_held_by_a_reused_test_passes_on(suite):
    suite.write("test_lock.py", """
        def test_takes_and_keeps(mp_lock):
            mp_lock.acquire()

        def test_takes_again(mp_lock):
            with mp_lock:
                pass
    """)
    result = suite.run("--mp-reuse", "--mp-timeout", "30", np=1)
    assert result.returncode == 0, result.log
    tests = result.tests
    assert tests["test_takes_and_keeps"]["pid"] == tests["test_takes_again"]["pid"], result.log


def _chunked_suite(n, body):
    """n tests test_00 ... with body[i] (default: pass) as test i's code."""
    lines = ["import os", ""]
    for i in range(n):
        args, code = body.get(i, ("", "pass"))
        lines += ["def test_%02d(%s):" % (i, args), "    " + code, ""]
    return "\n".join(lines)


def test_many_free_tests_share_units_and_a_crash_still_costs_only_its_test(suite):
    #  40 free tests on one slot: units of 8 consecutive tests each. Test 2 leaves the
    #  lock held, 3 (same unit) takes it again; 10 crashes its process mid-unit.
    suite.write("test_chunks.py", _chunked_suite(40, {
        2: ("mp_lock", "mp_lock.acquire()"),
        3: ("mp_lock", "mp_lock.acquire(); mp_lock.release()"),
        10: ("", "os._exit(7)"),
    }))
    result = suite.run("--mp-reuse", "--mp-timeout", "30", "-p", "no:randomly", np=1,
                       junit=True)
    assert result.returncode == 1, result.log
    outcomes = {n: c.outcome for n, c in result.junit.items()}
    assert outcomes.pop("test_10") == "failed", result.log
    assert set(outcomes.values()) == {"passed"} and len(outcomes) == 39, outcomes
    assert re.search(r"exited with code 7\b", result.junit["test_10"].text)
    pid = {name: record["pid"] for name, record in result.tests.items()}
    #  A unit's tests share its process: the first eight, one process.
    assert len({pid["test_%02d" % i] for i in range(8)}) == 1, pid
    #  The crash took its process: the rest of its unit ran in another.
    assert pid["test_08"] == pid["test_09"], pid
    assert len({pid["test_%02d" % i] for i in range(11, 16)}) == 1, pid
    assert pid["test_11"] != pid["test_09"], pid
    #  Fewer processes than tests.
    assert len(set(pid.values())) <= 10, pid
