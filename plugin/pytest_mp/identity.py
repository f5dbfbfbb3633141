"""Where a test runs, as the test itself sees it: the PYTEST_MP_* variables an agent
and a unit process set, the `mp_worker` fixture, and pytest-xdist's `worker_id` and
`testrun_uid` fixtures answered with ours in unit processes."""

import collections
import os
import socket

import pytest

Worker = collections.namedtuple(
    "Worker", "worker agent host slot run_id worker_count testrun_uid labels")
Worker.__doc__ = """Where a test runs. worker is "agent:slot" ("master" outside a unit
process); slot is 0 to np-1 on its agent, held by no other test running there
meanwhile; labels are the agent's --label values (KEY: VALUE, or KEY: True)."""


def parse_labels(text):
    """{"gpu": True, "dut": "alpha"} from "gpu,dut=alpha"."""
    labels = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        labels[key] = value if sep else True
    return labels


def current():
    """This process's Worker, from its environment."""
    env = os.environ
    if not env.get("PYTEST_MP_WORKER"):
        return Worker("master", "", socket.gethostname(), 0, "", 1, "", {})
    return Worker(
        worker=env["PYTEST_MP_WORKER"], agent=env.get("PYTEST_MP_AGENT", ""),
        host=env.get("PYTEST_MP_HOST", ""), slot=int(env.get("PYTEST_MP_SLOT", "0")),
        run_id=env.get("PYTEST_MP_RUN_ID", ""),
        worker_count=int(env.get("PYTEST_MP_WORKER_COUNT", "1")),
        testrun_uid=env.get("PYTEST_MP_TESTRUN_UID", ""),
        labels=parse_labels(env.get("PYTEST_MP_LABELS", "")),
    )


@pytest.fixture(scope="session")
def mp_worker():
    """Where this test runs: a Worker."""
    return current()


class XdistNames:
    """Registered in unit processes after pytest-xdist's plugin, so that these
    fixtures, defined later, are the ones tests get: suites written for xdist's
    per-worker resources run unchanged."""

    @pytest.fixture(scope="session")
    def worker_id(self):
        return current().worker

    @pytest.fixture(scope="session")
    def testrun_uid(self):
        return current().testrun_uid
