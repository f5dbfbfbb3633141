"""The floor of a test in a fresh process: fork, pytest's protocol, exit, nothing else.

Collects a suite once, in this process, with pytest.main and a plugin whose
pytest_runtestloop forks, for each item, a child that runs
`item.config.hook.pytest_runtest_protocol(item=item, nextitem=None)` (every fixture
set up and torn down in it, reports to this process's own terminal reporter, as in a
pytest-mp unit process) and leaves with os._exit(0); the parent waits for each child
before forking the next. Then, as many times again, a child that only exits. No
daemons, no sockets, no reports sent anywhere: what pytest-mp adds per test is what
its `--np 1` run costs above this.

As the zygote does, the collected objects are frozen out of the garbage collector's
way (gc.freeze) before the first fork.

Usage: python bench/fork_floor.py SUITE_DIR OUT_JSON [pytest args...]
Writes {"tests": n, "protocol_s": seconds per test, "fork_exit_s": seconds per fork}
to OUT_JSON; the loops are timed inside this process (no start-up, no collection).
"""

import gc
import json
import os
import sys
import time

import pytest


class ForkFloor:
    def __init__(self):
        self.result = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        items = list(session.items)
        gc.freeze()
        sys.stdout.flush()
        sys.stderr.flush()
        failed = 0
        start = time.perf_counter()
        for item in items:
            pid = os.fork()
            if pid == 0:
                code = 70
                try:
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=None)
                    code = 0
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            failed += status != 0
        protocol = time.perf_counter() - start
        start = time.perf_counter()
        for _ in items:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        fork_exit = time.perf_counter() - start
        n = max(1, len(items))
        self.result = {"tests": len(items), "failed_children": failed,
                       "protocol_s": protocol / n, "fork_exit_s": fork_exit / n}
        return True


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: fork_floor.py SUITE_DIR OUT_JSON [pytest args...]")
    suite, out, extra = argv[0], argv[1], argv[2:]
    floor = ForkFloor()
    code = pytest.main([suite, *extra], plugins=[floor])
    if floor.result is None or floor.result["failed_children"]:
        sys.exit("fork_floor: pytest exited %s, result %r" % (int(code), floor.result))
    with open(out, "w", encoding="utf-8") as f:
        json.dump(floor.result, f)
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
