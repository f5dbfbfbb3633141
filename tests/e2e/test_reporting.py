"""pytest's own reporting of a --mp run: -v lines, summary, junit xml, -k, -m, -x."""

import re

REPORT_SUITE = """
    import pytest

    def test_pass_a():
        pass

    def test_pass_b():
        pass

    @pytest.mark.mp_group("Ser", "serial")
    def test_pass_serial():
        pass

    def test_fail():
        assert 1 == 2, "deliberate failure"

    @pytest.mark.slow
    def test_slow():
        pass
"""


def make_report_suite(suite):
    suite.write("test_report.py", REPORT_SUITE)
    suite.ini("""
        markers =
            slow: a test deselected with -m "not slow"
    """)


def test_verbose_lines_summary_and_junit(suite):
    make_report_suite(suite)
    result = suite.run("-v", np=2, junit=True)
    assert result.returncode == 1, result.log
    for name in ("test_pass_a", "test_pass_b", "test_pass_serial", "test_slow"):
        # Each -v line names where the test ran.
        assert re.search(r"test_report\.py::%s \[local:\d\] PASSED" % name, result.stdout), \
            result.log
    assert re.search(r"test_report\.py::test_fail \[local:\d\] FAILED", result.stdout), \
        result.log
    assert "deliberate failure" in result.stdout, result.log
    assert result.summary_count("failed") == 1 and result.summary_count("passed") == 4, result.log
    cases = result.junit
    assert sorted(cases) == ["test_fail", "test_pass_a", "test_pass_b", "test_pass_serial",
                             "test_slow"], cases
    assert [c.name for c in cases.values() if c.outcome == "failed"] == ["test_fail"], cases
    assert "deliberate failure" in cases["test_fail"].text
    assert all(c.outcome == "passed" for n, c in cases.items() if n != "test_fail"), cases


def test_keyword_selection_deselects(suite):
    make_report_suite(suite)
    result = suite.run("-k", "pass_a", np=2)
    assert result.returncode == 0, result.log
    assert result.started == ["test_pass_a"], result.log
    assert result.summary_count("passed") == 1, result.log
    assert result.summary_count("deselected") == 4, result.log


def test_marker_selection_deselects(suite):
    make_report_suite(suite)
    result = suite.run("-m", "not slow", np=2)
    assert result.returncode == 1, result.log
    assert sorted(result.started) == ["test_fail", "test_pass_a", "test_pass_b",
                                      "test_pass_serial"], result.log
    assert result.summary_count("deselected") == 1, result.log


def test_exitfirst_stops_the_run_early(suite):
    suite.write("test_many.py", """
        import time
        import pytest

        def test_00_fails():
            assert False

        @pytest.mark.parametrize("i", range(1, 20))
        def test_sleep(i):
            time.sleep(0.3)
    """)
    result = suite.run("-x", np=2)
    assert result.returncode == 1, result.log
    assert result.summary_count("failed") == 1, result.log
    assert len(result.started) < 20, "-x did not stop the run: %r" % (result.started,)
