"""Longest first: a run starts the tests that took longest in earlier runs (pytest's
cache) first, so that a long test found last in file order does not end the run
alone."""

SUITE = """
    import time
    import pytest

    @pytest.mark.parametrize("i", range(4))
    def test_short(i):
        time.sleep(0.05)

    @pytest.mark.mp_group("S", "serial")
    def test_serial_a():
        time.sleep(0.3)

    @pytest.mark.mp_group("S")
    def test_serial_b():
        time.sleep(0.3)

    def test_long():
        time.sleep(1.0)
"""


def test_the_longest_tests_of_the_last_run_start_first(suite):
    suite.write("test_mixed.py", SUITE)
    first = suite.run(np=1, cache=True)
    assert first.returncode == 0, first.log
    #  Nothing known yet: the serial group (the larger unit) first, then file order.
    assert first.started[:3] == ["test_serial_a", "test_serial_b", "test_short[0]"], \
        first.started
    second = suite.run(np=1, cache=True)
    assert second.returncode == 0, second.log
    #  Known now: the 1 s test, then the 0.6 s group, then the short ones.
    assert second.started[:3] == ["test_long", "test_serial_a", "test_serial_b"], \
        second.started


def test_without_the_cache_the_plan_order_stays(suite):
    suite.write("test_mixed.py", SUITE)
    for _ in range(2):
        result = suite.run(np=1)
        assert result.returncode == 0, result.log
        assert result.started[-1] == "test_long", result.started
