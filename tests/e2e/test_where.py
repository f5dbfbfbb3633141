"""Where each test ran, as the user sees it: the unit process's environment
(PYTEST_MP_SLOT and friends), the -v lines, junit, a failure's report, the live
output of -s and the --mp-trace file all agree with what the tests recorded."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from conftest import RECORD_ENV, overlaps

WHERE_SUITE = """
    import os
    import time

    import pytest

    @pytest.mark.parametrize("i", range(8))
    def test_where(i, e2e_record):
        e2e_record("where", slot=os.environ["PYTEST_MP_SLOT"],
                   worker=os.environ["PYTEST_MP_WORKER"], agent=os.environ["PYTEST_MP_AGENT"],
                   host=os.environ["PYTEST_MP_HOST"])
        time.sleep(0.2)
        assert i != 5, "five fails"
"""


def where_by_test(result):
    where = {r["nodeid"]: r for r in result.of_kind("where")}
    tests = {r["nodeid"]: r for r in result.of_kind("test")}
    for nodeid, record in where.items():
        record.update(start=tests[nodeid]["start"], end=tests[nodeid]["end"])
    return where


def test_each_test_knows_its_slot_and_no_two_at_once_share_one(suite):
    suite.write("test_where.py", WHERE_SUITE)
    result = suite.run("-v", np=3, junit=True)
    assert result.returncode == 1, result.log
    where = where_by_test(result)
    assert len(where) == 8, result.log
    for record in where.values():
        assert record["agent"] == "local" and record["host"] == socket.gethostname()
        assert record["worker"] == "local:%s" % record["slot"]
        assert int(record["slot"]) in range(3)
    for a in where.values():
        for b in where.values():
            if a is not b and overlaps(a, b):
                assert a["slot"] != b["slot"], (a, b)
    # The -v line, the junit property and a failure's report name the same slot.
    for nodeid, record in where.items():
        line = [line for line in result.stdout.splitlines() if line.startswith(nodeid + " ")]
        assert line and "[%s] " % record["worker"] in line[0], (nodeid, line)
    cases = {case.get("name"): case for case in ET.parse(result._junit_path).iter("testcase")}
    for nodeid, record in where.items():
        props = {p.get("name"): p.get("value")
                 for p in cases[nodeid.split("::")[-1]].iter("property")}
        assert props.get("mp_worker") == record["worker"], (nodeid, props)
    failed = where["test_where.py::test_where[5]"]
    assert ("ran on agent local (host %s), slot %s, pid %d"
            % (failed["host"], failed["slot"], failed["pid"])) in result.stdout, result.stdout


def test_uncaptured_output_reaches_the_terminal_while_the_test_runs(suite, tmp_path):
    done = tmp_path / "done"
    suite.write("test_live.py", """
        import os
        import sys
        import time

        def test_talks():
            print("first words", flush=True)
            print("to stderr", file=sys.stderr, flush=True)
            time.sleep(4)
            open(%r, "w").close()
            print("last words")
    """ % str(done))
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env[RECORD_ENV] = str(tmp_path / "records.jsonl")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp", "--np", "1", "-s"],
        cwd=suite.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("[local:0] first words"):
                # Shown while the test still runs: it has not reached its end yet.
                assert not done.exists(), lines
                break
        else:
            raise AssertionError(lines)
        rest = proc.stdout.read()  # what readline() buffered is read here too
        proc.wait(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    output = lines + rest.splitlines()
    assert "[local:0] first words" in output, output
    assert "[local:0] to stderr" in output, output
    assert "[local:0] last words" in output, output
    assert proc.returncode == 0, output
    assert done.exists()


def test_without_s_output_stays_captured_in_the_reports(suite):
    suite.write("test_quiet.py", """
        def test_talks():
            print("captured words")
    """)
    result = suite.run("-rA", np=1)
    assert result.returncode == 0, result.log
    assert "captured words" in result.stdout  # the PASSES section of -rA
    assert not re.search(r"^\[local:\d+\] captured words", result.stdout, re.M), result.stdout


def test_trace_has_a_track_per_slot_and_a_slice_per_test(suite, tmp_path):
    suite.write("test_where.py", WHERE_SUITE)
    trace_path = tmp_path / "trace.json"
    result = suite.run("--mp-trace=%s" % trace_path, np=2)
    assert result.returncode == 1, result.log
    events = json.loads(trace_path.read_text())["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    agents = {e["pid"]: e["args"]["name"] for e in events
              if e["ph"] == "M" and e["name"] == "process_name"}
    where = where_by_test(result)
    tests = {e["name"]: e for e in events if e["ph"] == "X" and e.get("cat") == "test"}
    assert set(tests) == set(where), (sorted(tests), sorted(where))
    for nodeid, record in where.items():
        slice_ = tests[nodeid]
        assert agents[slice_["pid"]] == "local"
        assert names[(slice_["pid"], slice_["tid"])] == "slot %s" % record["slot"]
        assert slice_["args"]["outcome"] == ("failed" if nodeid.endswith("[5]") else "passed")
        phases = [e for e in events if e.get("cat") == "phase"
                  and e["args"].get("nodeid") == nodeid]
        assert sorted(p["name"] for p in phases) == ["call", "setup", "teardown"]
        for phase in phases:
            assert slice_["ts"] <= phase["ts"]
            assert phase["ts"] + phase["dur"] <= slice_["ts"] + slice_["dur"]
    busy = re.findall(r"^local: (\d+) tests, busy (\d+)%$", result.stdout, re.M)
    assert busy and int(busy[0][0]) == 8, result.stdout


def test_a_test_knows_where_it_runs_through_fixtures_and_xdist_names(suite):
    suite.write("test_ident.py", """
        import os

        import pytest

        @pytest.mark.parametrize("i", range(4))
        def test_ident(i, mp_worker, worker_id, testrun_uid, e2e_record):
            e2e_record("ident", worker=mp_worker.worker, slot=mp_worker.slot,
                       count=mp_worker.worker_count, uid=mp_worker.testrun_uid,
                       run=mp_worker.run_id, worker_id=worker_id, testrun_uid=testrun_uid,
                       env_slot=os.environ.get("PYTEST_MP_SLOT"))
    """)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    idents = result.of_kind("ident")
    assert len(idents) == 4
    for ident in idents:
        assert ident["worker_id"] == ident["worker"] == "local:%d" % ident["slot"]
        assert str(ident["slot"]) == ident["env_slot"]
        assert ident["count"] == 2
        assert ident["testrun_uid"] == ident["uid"] and len(ident["uid"]) == 32
    # One run: one uid and one run id for every process of it.
    assert len({i["uid"] for i in idents}) == 1 and len({i["run"] for i in idents}) == 1
    # Without --mp: the one process is the master, as pytest-xdist says too.
    plain = suite.run_plain()
    assert plain.returncode == 0, plain.log
    for ident in plain.of_kind("ident"):
        assert ident["worker"] == ident["worker_id"] == "master" and ident["env_slot"] is None
