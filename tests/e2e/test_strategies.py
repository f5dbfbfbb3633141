"""The four strategies, checked from the pids and time intervals the tests recorded."""


def assert_passed(result, count):
    assert result.returncode == 0, result.log
    assert result.summary_count("passed") == count, result.log
    assert len(result.tests) == count, result.log


def assert_file_order(records, names):
    assert [r["nodeid"].rsplit("::", 1)[-1] for r in records] == names


def test_free_tests_each_run_in_their_own_process_with_their_own_session(suite):
    suite.write("test_free.py", """
        import time
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_sleep(i):
            time.sleep(0.5)
    """)
    result = suite.run(np=4)
    assert_passed(result, 8)
    tests = list(result.tests.values())
    assert len(result.pids(tests)) == 8, "free tests shared a process: %r" % (tests,)
    #  One session setup per test, in that test's process.
    assert sorted(s["pid"] for s in result.sessions) == sorted(r["pid"] for r in tests)
    assert result.max_concurrency(tests) >= 2, "no two free tests overlapped: %r" % (tests,)
    assert result.max_concurrency(tests) <= 4, "more than --np 4 tests at once: %r" % (tests,)


def test_serial_group_runs_in_one_process_in_file_order_alone(suite):
    suite.write("test_serial.py", """
        import time
        import pytest

        def test_free_before():
            time.sleep(0.3)

        @pytest.mark.mp_group("Ser", "serial")
        def test_ser_a():
            time.sleep(0.1)

        @pytest.mark.mp_group("Ser", "serial")
        def test_ser_b():
            time.sleep(0.1)

        @pytest.mark.parametrize("i", range(3))
        def test_free_middle(i):
            time.sleep(0.3)

        @pytest.mark.mp_group("Ser", "serial")
        def test_ser_c():
            time.sleep(0.1)

        @pytest.mark.mp_group("Ser", "serial")
        class TestSer:
            def test_ser_d(self):
                time.sleep(0.1)

            def test_ser_e(self):
                time.sleep(0.1)
    """)
    result = suite.run(np=4)
    assert_passed(result, 9)
    group = result.select("test_ser_")
    others = result.select("test_free_")
    assert len(group) == 5 and len(others) == 4
    assert len(result.pids(group)) == 1, group
    (pid,) = result.pids(group)
    assert_file_order(group, ["test_ser_a", "test_ser_b", "test_ser_c", "test_ser_d",
                              "test_ser_e"])
    assert pid not in result.pids(others), "a free test ran in the serial group's process"
    assert [s["pid"] for s in result.sessions].count(pid) == 1, result.sessions


def assert_no_overlap_with_others(result, group, others):
    for g in group:
        for o in others:
            assert not result.overlaps(g, o), "%s ran during %s:\n%r\n%r" % (
                o["nodeid"], g["nodeid"], o, g)


def test_isolated_free_group_runs_alone_but_in_parallel_within(suite):
    suite.write("test_isolated_free.py", """
        import time
        import pytest

        @pytest.mark.parametrize("i", range(3))
        def test_free_before(i):
            time.sleep(0.3)

        @pytest.mark.mp_group("Iso", "isolated_free")
        @pytest.mark.parametrize("i", range(3))
        def test_iso(i):
            time.sleep(0.5)

        @pytest.mark.mp_group("Ser", "serial")
        @pytest.mark.parametrize("i", range(3))
        def test_ser(i):
            time.sleep(0.2)

        @pytest.mark.parametrize("i", range(3))
        def test_free_after(i):
            time.sleep(0.3)
    """)
    result = suite.run(np=4)
    assert_passed(result, 12)
    group = result.select("test_iso")
    others = [r for r in result.tests.values() if r not in group]
    assert len(group) == 3 and len(others) == 9
    assert_no_overlap_with_others(result, group, others)
    assert len(result.pids(group)) == 3, "isolated_free tests shared a process: %r" % group
    assert result.max_concurrency(group) >= 2, "isolated_free tests never overlapped: %r" % group
    assert len(result.pids(result.select("test_ser"))) == 1


def test_isolated_serial_group_runs_in_one_process_with_nothing_else(suite):
    suite.write("test_isolated_serial.py", """
        import time
        import pytest

        @pytest.mark.parametrize("i", range(3))
        def test_free_before(i):
            time.sleep(0.3)

        @pytest.mark.mp_group("Solo", "isolated_serial")
        def test_solo_a():
            time.sleep(0.2)

        @pytest.mark.mp_group("Ser", "serial")
        @pytest.mark.parametrize("i", range(2))
        def test_ser(i):
            time.sleep(0.2)

        @pytest.mark.mp_group("Solo", "isolated_serial")
        def test_solo_b():
            time.sleep(0.2)

        @pytest.mark.mp_group("Solo", "isolated_serial")
        def test_solo_c():
            time.sleep(0.2)

        @pytest.mark.parametrize("i", range(3))
        def test_free_after(i):
            time.sleep(0.3)
    """)
    result = suite.run(np=4)
    assert_passed(result, 11)
    group = result.select("test_solo_")
    others = [r for r in result.tests.values() if r not in group]
    assert len(group) == 3 and len(others) == 8
    assert len(result.pids(group)) == 1, group
    assert_file_order(group, ["test_solo_a", "test_solo_b", "test_solo_c"])
    assert not result.pids(group) & result.pids(others), "another test ran in the group's process"
    assert_no_overlap_with_others(result, group, others)
