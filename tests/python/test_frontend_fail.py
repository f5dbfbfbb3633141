"""The front end's replay of a test whose end it will never hear of: one report per
phase, in pytest's order, whatever arrived before."""

import pytest

from pytest_mp.frontend import FrontEnd


class Hook:
    def __init__(self):
        self.calls = []

    def pytest_runtest_logstart(self, nodeid, location):
        self.calls.append(("start", nodeid))

    def pytest_runtest_logreport(self, report):
        self.calls.append((report.when, report.outcome))

    def pytest_runtest_logfinish(self, nodeid, location):
        self.calls.append(("finish", nodeid))


class PluginManager:
    def getplugin(self, name):
        return None  # no junit writer, no terminal


class Config:
    def __init__(self):
        self.hook = Hook()
        self.pluginmanager = PluginManager()


def front_end():
    return FrontEnd(Config(), 1)


def report(when, outcome):
    longrepr = ("t.py", 1, "Skipped: x") if outcome == "skipped" else None
    return ("logreport", pytest.TestReport("t.py::t", ("t.py", 0, "t"), {}, outcome, longrepr,
                                           when))


def replayed(pending):
    front = front_end()
    front.pending["t.py::t"] = [("logstart", ("t.py", 0, "t"))] + pending
    front._fail("t.py::t", "pytest-mp: lost")
    return [c for c in front.config.hook.calls if c[0] not in ("start", "finish")]


def test_a_test_whose_teardown_arrived_is_replayed_as_it_was():
    phases = [report("setup", "passed"), report("call", "passed"), report("teardown", "passed")]
    assert replayed(phases) == [("setup", "passed"), ("call", "passed"),
                                ("teardown", "passed")]


def test_after_a_setup_that_did_not_pass_comes_a_teardown_not_a_call():
    assert replayed([report("setup", "skipped")]) == [("setup", "skipped"),
                                                      ("teardown", "failed")]
    assert replayed([report("setup", "failed")]) == [("setup", "failed"),
                                                     ("teardown", "failed")]


def test_each_phase_fails_in_turn():
    assert replayed([]) == [("setup", "failed")]
    assert replayed([report("setup", "passed")]) == [("setup", "passed"), ("call", "failed")]
    assert replayed([report("setup", "passed"), report("call", "failed")]) == [
        ("setup", "passed"), ("call", "failed"), ("teardown", "failed")]
