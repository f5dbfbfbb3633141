"""pytest-mp and pytest-xdist installed together: --mp with -n (or any option by which
xdist distributes) is a usage error; each alone runs as if the other were not there."""

import pytest

pytest.importorskip(
    "xdist", reason="pytest-xdist is not installed (Debian: apt-get install python3-pytest-xdist)")

USAGE_ERROR = 4

XDIST_SUITE = """
    import os
    import pytest

    def test_pass_a():
        pass

    @pytest.mark.mp_group("Ser", "serial")
    @pytest.mark.parametrize("i", range(3))
    def test_serial(i):
        pass

    def test_fail():
        assert 1 == 2, "deliberate failure"

    def test_skip():
        pytest.skip("deliberate skip")

    @pytest.mark.xfail(reason="deliberate xfail")
    def test_xfail():
        assert False

    def test_worker_id(worker_id, e2e_record):
        e2e_record("worker_id", worker_id=worker_id,
                   xdist_worker=os.environ.get("PYTEST_XDIST_WORKER", ""))
"""


def outcomes(result):
    return {name: (case.outcome, case.text.split("\n")[0]) for name, case in result.junit.items()}


@pytest.mark.parametrize("xdist_args", [
    ["-n", "2"], ["--numprocesses=2"], ["-n", "auto"], ["--dist", "load", "--tx", "popen"],
    ["-d", "--tx", "popen"], ["--tx", "2*popen", "--dist=each"],
])
def test_mp_with_xdist_is_a_usage_error(suite, xdist_args):
    suite.write("test_x.py", XDIST_SUITE)
    result = suite.run(*xdist_args, np=2)
    assert result.returncode == USAGE_ERROR, result.log
    assert result.started == [] and result.sessions == [], result.log
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.log
    assert "--mp" in errors[0] and "-n" in errors[0], result.log
    assert "INTERNALERROR" not in result.output, result.log


def test_mp_in_the_ini_with_n_is_a_usage_error(suite):
    suite.write("test_x.py", XDIST_SUITE)
    suite.ini("mp = true\n")
    result = suite.run_plain("-n", "2")
    assert result.returncode == USAGE_ERROR, result.log
    assert "--mp" in result.stderr and "-n" in result.stderr, result.log
    assert result.started == [], result.log


def test_xdist_alone_runs_as_plain(suite):
    suite.write("test_x.py", XDIST_SUITE)
    plain = suite.run_plain(junit=True)
    under_xdist = suite.run_plain("-n", "2", junit=True)
    assert under_xdist.returncode == plain.returncode == 1, (plain.log, under_xdist.log)
    assert outcomes(under_xdist) == outcomes(plain), (plain.log, under_xdist.log)
    #  Under xdist: its workers ran the tests (two of them, named gw0/gw1).
    ids = {r["worker_id"] for r in under_xdist.of_kind("worker_id")}
    assert ids <= {"gw0", "gw1"} and ids, under_xdist.log
    assert len(under_xdist.pids(under_xdist.sessions)) >= 1, under_xdist.log
    assert "gw0 [8] / gw1 [8]" in under_xdist.stdout, under_xdist.log
    for result in (plain, under_xdist):
        assert result.summary_count("passed") == 5, result.log
        assert result.summary_count("failed") == 1, result.log
        assert result.summary_count("skipped") == 1, result.log
        assert result.summary_count("xfailed") == 1, result.log


def test_mp_alone_runs_as_plain_with_xdist_installed(suite):
    suite.write("test_x.py", XDIST_SUITE)
    plain = suite.run_plain(junit=True)
    under_mp = suite.run(junit=True, np=2)
    assert under_mp.returncode == plain.returncode == 1, (plain.log, under_mp.log)
    assert outcomes(under_mp) == outcomes(plain), (plain.log, under_mp.log)
    assert "xdist" in under_mp.stdout, "xdist is not loaded\n" + under_mp.log
    assert "gw0" not in under_mp.output and "created:" not in under_mp.output, under_mp.log
    #  xdist stayed inactive in the workers of pytest-mp: nothing set
    #  PYTEST_XDIST_WORKER, and worker_id is "master" in a plain run and pytest-mp's
    #  "agent:slot" under it (suites using it for per-worker resources run unchanged).
    for result, worker in ((plain, "master"), (under_mp, "local:")):
        records = result.of_kind("worker_id")
        assert len(records) == 1 and records[0]["worker_id"].startswith(worker), result.log
        assert records[0]["xdist_worker"] == "", result.log
    for result in (plain, under_mp):
        assert result.summary_count("passed") == 5, result.log
        assert result.summary_count("failed") == 1, result.log
    #  The tests ran in pytest-mp's unit processes, not in the front end.
    assert len(under_mp.pids(under_mp.tests.values())) > 1, under_mp.log


def test_mp_with_n_0_is_not_distributing(suite):
    #  -n 0 means no xdist workers: nothing to conflict with.
    suite.write("test_x.py", XDIST_SUITE)
    result = suite.run("-n", "0", np=2)
    assert result.returncode == 1, result.log
    assert result.summary_count("passed") == 5, result.log
