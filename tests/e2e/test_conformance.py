"""The same suite plainly and under --mp, compared: per-test outcomes and messages in
junit, the -v lines, the short test summary, the final summary line and the exit code.
Only what must differ is normalised: timings and the order in which tests finish."""

import re
import xml.etree.ElementTree as ET

import pytest

OUTCOMES_SUITE = {
    "test_outcomes.py": """
        import pytest

        @pytest.fixture
        def skipping_fixture():
            pytest.skip("skipped in a fixture")

        def test_pass():
            pass

        def test_fail():
            assert 1 == 2, "deliberate"

        def test_skip_imperative():
            pytest.skip("imperative reason")

        @pytest.mark.skip(reason="marked reason")
        def test_skip_marked():
            pass

        @pytest.mark.skipif(True, reason="skipif reason")
        def test_skipif():
            pass

        def test_skip_in_fixture(skipping_fixture):
            pass

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert 0

        @pytest.mark.xfail(reason="fixed meanwhile")
        def test_xpass():
            pass

        @pytest.mark.xfail(reason="strict and fixed", strict=True)
        def test_xpass_strict():
            pass

        @pytest.fixture
        def broken_teardown():
            yield
            raise RuntimeError("teardown broke")

        def test_error_in_teardown(broken_teardown):
            pass

        @pytest.fixture
        def broken_setup():
            raise RuntimeError("setup broke")

        def test_error_in_setup(broken_setup):
            pass
    """,
    "test_module_skip.py": """
        import pytest

        pytest.skip("the whole module", allow_module_level=True)

        def test_never():
            pass
    """,
}

TEST_LINE = re.compile(r"::\S+ (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)")


def normalised(output):
    """(sorted per-test lines, sorted short-summary lines, final line)."""
    lines = [re.sub(r" in [0-9.]+s( \(\S+\))?", "", line.rstrip())
             for line in output.splitlines()]
    lines = [re.sub(r"\s+\[\s*\d+%\]$", "", line) for line in lines]
    # The documented addition: -v lines name the worker ("[local:0] PASSED").
    lines = [re.sub(r" \[[^\]\s]+:\d+\](?= (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR))", "",
                    line) for line in lines]
    tests = sorted(line for line in lines if TEST_LINE.search(line))
    summary, inside = [], False
    for line in lines:
        if "short test summary info" in line:
            inside = True
        elif line.startswith("=="):
            inside = False
        elif inside:
            summary.append(line)
    final = lines[-1] if lines else ""
    return tests, sorted(summary), final


def junit_cases(path):
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        results = [(c.tag, c.get("message"), c.get("type")) for c in case
                   if c.tag in ("failure", "error", "skipped")]
        cases[(case.get("classname"), case.get("name"))] = results
    return cases


@pytest.mark.parametrize("flags", [["-v"], ["-rA"], ["-rs"], ["-q", "-ra"], ["-vv", "-rA"]],
                         ids=" ".join)
def test_outcomes_match_plain_pytest(suite, flags):
    for name, source in OUTCOMES_SUITE.items():
        suite.write(name, source)
    plain = suite.run_plain(*flags, junit=True)
    mp = suite.run(*flags, np=2, junit=True)
    assert "INTERNALERROR" not in mp.output, mp.log
    assert mp.returncode == plain.returncode, (plain.log, mp.log)
    assert normalised(mp.stdout) == normalised(plain.stdout), (plain.stdout, mp.stdout)
    assert junit_cases(mp._junit_path) == junit_cases(plain._junit_path)


STOP_SUITE = {
    "test_stop.py": """
        import time
        import pytest

        # Slow enough that several fail at about the same moment on four processes.
        @pytest.mark.parametrize("i", range(12))
        def test_fails(i):
            time.sleep(0.3)
            assert i < 0
    """,
}


@pytest.mark.parametrize("flags", [["--maxfail=3"], ["-x"], ["--maxfail=2", "-rA"]],
                         ids=" ".join)
def test_stopping_early_reports_as_plain_pytest(suite, flags):
    for name, source in STOP_SUITE.items():
        suite.write(name, source)
    plain = suite.run_plain(*flags, junit=True)
    mp = suite.run(*flags, np=4, junit=True)
    assert mp.returncode == plain.returncode, (plain.log, mp.log)
    assert mp.summary_count("failed") == plain.summary_count("failed"), (plain.log, mp.log)
    assert len(junit_cases(mp._junit_path)) == len(junit_cases(plain._junit_path))
    stop = [line for line in plain.stdout.splitlines() if "stopping after" in line]
    assert stop and all(line in mp.stdout for line in stop), mp.stdout


def test_continue_on_collection_errors_runs_what_collected(suite):
    suite.write("test_broken.py", "import no_such_module_here\n")
    suite.write("test_fine.py", "".join("def test_%d():\n    pass\n\n" % i for i in range(5)))
    plain = suite.run_plain("--continue-on-collection-errors", junit=True)
    mp = suite.run("--continue-on-collection-errors", np=2, junit=True)
    assert mp.returncode == plain.returncode, (plain.log, mp.log)
    assert mp.summary_count("passed") == plain.summary_count("passed") == 5, mp.log
    assert mp.summary_count("error") == plain.summary_count("error") == 1, mp.log
    assert junit_cases(mp._junit_path) == junit_cases(plain._junit_path)


def test_summaries_and_junit_list_tests_in_collection_order(suite):
    # Later tests finish first; the reports still come in the order a plain run has.
    suite.write("test_order.py", """
        import time
        import pytest

        @pytest.mark.parametrize("delay", [0.9, 0.1, 0.5, 0.0])
        def test_f(delay):
            time.sleep(delay)
            assert 0

        @pytest.mark.parametrize("delay", [0.6, 0.0])
        def test_p(delay):
            time.sleep(delay)
    """)
    plain = suite.run_plain("-rA", junit=True)
    mp = suite.run("-rA", np=4, junit=True)

    def ordered(result):
        lines = [line for line in result.stdout.splitlines()
                 if line.startswith(("FAILED ", "PASSED ", "___"))]
        names = [case.get("name") for case in ET.parse(result._junit_path).iter("testcase")]
        return lines, names

    assert mp.returncode == plain.returncode == 1, mp.log
    assert ordered(mp) == ordered(plain), (plain.stdout, mp.stdout)


def test_stopping_early_reports_exactly_the_tests_a_plain_run_reports(suite):
    # The test after the failing one finishes first; as in a plain run it is not
    # reported, and neither is anything after it.
    suite.write("test_stop_order.py", """
        import time

        def test_a():
            time.sleep(0.8)

        def test_b():
            time.sleep(0.5)
            assert 0

        def test_c():
            pass

        def test_d():
            pass
    """)
    plain = suite.run_plain("-x", "-v", junit=True)
    mp = suite.run("-x", "-v", np=4, junit=True)
    assert mp.returncode == plain.returncode == 1, mp.log
    assert normalised(mp.stdout) == normalised(plain.stdout), (plain.stdout, mp.stdout)
    assert junit_cases(mp._junit_path) == junit_cases(plain._junit_path)
