"""The worker side. An agent starts `pytest <the front end's args>` with MP_WORKER_*
in its environment: this process (the zygote) collects once, then forks one process
per unit; each unit process runs its tests with a correct nextitem chain (so fixtures
of every scope are set up and torn down inside it) and reports every phase."""

import atexit
import codecs
import ctypes
import gc
import json
import os
import signal
import sys
import time
import traceback

import pytest

from . import checkout as mpcheckout
from . import junit_relay, payload, wire
from . import sync as mpsync
from .plugin import reuse as reuse_wanted
from .wire import Client

REPORT_TIMEOUT_MS = 300000
# Unit processes forked ahead, waiting for their units.
SPARES = 2
# What a unit process writes uncaptured (-s) travels in pieces of at most this much.
OUTPUT_CHUNK = 16384


def _strategy(item):
    """The strategy of item's group ('free' for ungrouped tests), as marked by the
    plugin at collection."""
    info = item.get_closest_marker("mp_group_info")
    return info.kwargs.get("strategy", "free") if info is not None else "free"


def _read_only_cache_set(key, value):
    pass


def _write_all(fd, data):
    """Writes all of data (a large unit's assignment may take several writes)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _wait_status(status):
    """The wire's process status: exit code, or -signal."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1


class Zygote:
    def __init__(self, config, state):
        self.config = config
        self.state = state
        # Taken out of the environment so that a pytest the tests start is not a worker.
        self.endpoint = os.environ.pop("MP_WORKER_ENDPOINT", "")
        self.run = int(os.environ.pop("MP_WORKER_RUN"))
        self.key_file = os.environ.pop("MP_WORKER_KEY_FILE", "")
        self.checkout = os.environ.pop("MP_WORKER_CHECKOUT", "")
        # Where unit processes open their lines ("": through the agent only).
        self.coord = os.environ.pop("MP_WORKER_COORD", "")
        self.coord_key = os.environ.pop("MP_WORKER_COORD_KEY", "")
        self.unit = 0
        self.agent = os.environ.get("PYTEST_MP_AGENT", "")
        self.host = os.environ.get("PYTEST_MP_HOST", "")
        self.worker = ""  # "agent:slot", in a unit process
        self.forked_at = self.started_at = 0.0
        # Under -s a unit process's stdout and stderr go to a pipe its zygote reads
        # and forwards (OUTPUT), so that it reaches the user's terminal live.
        self.forward_output = config.getoption("capture", "fd") == "no"
        self.outputs = {}  # in the zygote: pipe fd -> [pid, decoder, worker, unit]
        self.spares = []  # in the zygote: (pid, assignment pipe) of each spare
        # --mp-reuse: a process that ran a free or ungrouped test may run another. It
        # tells its zygote so through `done` (one pipe for all; a line each, atomic);
        # the zygote keeps it in `idle` and its assignment pipe open in `pipes`.
        self.reuse = reuse_wanted(config)
        self.reusable = set()  # nodeids a reused process may run
        self.idle = []  # in the zygote: (pid, assignment pipe), oldest first
        self.pipes = {}  # in the zygote: pid -> assignment pipe of each spare or idle one
        self.last_unit = {}  # in the zygote: pid -> the unit an idle process last ran
        self.done_read = self.done_write = -1
        self.zygote_pid = os.getpid()
        self.reporting = False
        self.deselected = []
        self.collect_errors = []
        # Once its run has ended, nothing is left for this process but Python's own
        # teardown of every object, which in a fork of the front end writes to, and so
        # copies, most of its pages (tens of ms that every run's end waits for). Its
        # atexit work (pytest's tmp_path cleanup, registered later) still runs first.
        self.run_ended = False
        atexit.register(self._leave_at_once)
        # The front end alone writes results and talks to the user; what tests give
        # the junit writer is recorded in unit processes and carried to it.
        self.junit = bool(config.option.xmlpath)
        self.junit_recorder = None
        config.option.xmlpath = None
        config.option.usepdb = False

    def _leave_at_once(self):
        if self.run_ended and os.getpid() == self.zygote_pid:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    def pytest_deselected(self, items):
        self.deselected.extend(items)

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append("%s:\n%s" % (report.nodeid, report.longrepr))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        cache = getattr(self.config, "cache", None)
        if cache is not None:
            # pytest's cache (lastfailed, stepwise, nodeids) is the front end's to
            # write: a zygote's session runs no test, and may end after the front end's.
            cache.set = _read_only_cache_set
        items = {}
        for item in list(session.items) + self.deselected:
            items.setdefault(item.nodeid, item)
        error = ""
        # As in a plain run, --continue-on-collection-errors runs what did collect; the
        # front end reports the errors from its own collection.
        if session.testsfailed and not self.config.option.continue_on_collection_errors:
            # Whole, up to what one message may hold.
            error = "%d error(s) collecting the tests on this host:\n%s" % (
                session.testsfailed, "\n".join(self.collect_errors)[-60000:])
        client = Client(self.endpoint, self.key_file, wire.zygote_name(self.run))
        if not error and self.checkout:
            error = self._compare_checkout(client, items)
            if error is None:
                client.close()  # the run ended before it was planned
                return True
        children = {}  # pidfd -> (pid, unit); unit 0 for a spare
        if not error:
            factory = getattr(self.config, "_tmp_path_factory", None)
            if factory is not None:
                # One base temp dir for the run, made before forking: unit processes make
                # their tmp_path dirs inside it instead of each a numbered base of its own.
                factory.getbasetemp()
            # Objects of the collected session stay out of the collector's way, so that
            # forked unit processes do not copy the pages it would touch.
            gc.freeze()
            if self.reuse:
                self.reusable = {nodeid for nodeid, item in items.items()
                                 if _strategy(item) == "free"}
                self.done_read, self.done_write = os.pipe()
                os.set_blocking(self.done_read, False)
            # The first spare sets itself up while ZYGOTE_READY brings the first UNIT.
            self.spares = [self._fork_spare(client, items, children)]
        client.send("ZYGOTE_READY", run=self.run, collected=len(items), error=error)
        if not error:
            self._serve(client, items, children)
        client.close()
        # Back to pytest, whose session-finish hooks run before this process exits.
        return True

    def _compare_checkout(self, client, items):
        """'' when this host has the front end's test files and collected every
        planned test; else what differs. An early run (started before the front end
        collected) has them once it is planned (the agent rewrites the file, RUN_PLAN);
        None when it ended first."""
        while True:
            try:
                with open(self.checkout, encoding="utf-8") as f:
                    lines = f.read().split("\n")[:-1]
            except (OSError, UnicodeDecodeError) as error:
                return "cannot read the front end's checkout from %s: %s" % (self.checkout,
                                                                            error)
            if lines[:1] != ["early"]:
                break
            # Not planned yet: the agent rewrites the file (whole) once it is.
            if self._run_ended(client, 20):
                return None
        nfiles = int(lines[0]) if lines and lines[0].isdigit() else 0
        files, tests = lines[1:1 + nfiles], lines[1 + nfiles:]
        problems = mpcheckout.differences(self.config.rootpath, files, tests, items)
        if not problems:
            return ""
        return "its checkout in %s differs from the front end's: %s" % (
            self.config.rootpath, "; ".join(problems))

    def _run_ended(self, client, timeout_ms):
        """Whether this run's RUN_END came within timeout_ms."""
        return client.wait((), timeout_ms) == 1 and self._receive(client)[2]

    def _receive(self, client):
        """The message waiting: (kind, msg, whether it is this run's RUN_END)."""
        got = client.recv(0)
        kind, msg = got if got else (None, None)
        return kind, msg, kind == "RUN_END" and msg.run == self.run

    def _serve(self, client, items, children):
        """Forks a unit process per UNIT until the agent relays the run's RUN_END.
        children: pidfd -> (pid, unit) of each process forked (unit 0 for a spare)."""
        spares = self.spares  # (pid, pipe to send it its unit), oldest first
        while True:
            fds = list(children) + list(self.outputs)
            if self.done_read >= 0:
                fds.append(self.done_read)
            short = len(spares) < SPARES
            ready = client.wait(fds, 0 if short else 1000)
            if ready == 0 and short:
                # Spares are forked and connected ahead of time, while other units run:
                # a unit, or several arriving together, start without waiting for fork
                # and set-up. One at a time, when nothing else waits: a UNIT that came
                # meanwhile goes to a spare first (_assign forks one if none is left).
                spares.append(self._fork_spare(client, items, children))
            elif ready == 1:
                kind, msg, run_ended = self._receive(client)
                if run_ended:
                    self.run_ended = True
                    # Spares and idle processes read nothing more and exit 0; units
                    # still running (a cancelled run's) die with this process (their
                    # PDEATHSIG).
                    for pipe in self.pipes.values():
                        os.close(pipe)
                    return
                if kind == "UNIT":
                    self._assign(client, items, children, msg)
            elif ready >= 2 and fds[ready - 2] == self.done_read:
                self._take_done(children)
            elif ready >= 2 and fds[ready - 2] in self.outputs:
                self._forward_output(client, fds[ready - 2])
            elif ready >= 2:
                fd = fds[ready - 2]
                pid, unit = children.pop(fd)
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                for out_fd in [f for f, out in self.outputs.items() if out[0] == pid]:
                    # What it wrote last goes before the news of its end.
                    self._forward_output(client, out_fd, final=True)
                # An idle reused process's UNIT_DONE may have died with it: its last
                # unit's end is told again (the coordinator takes the first).
                unit = unit or self.last_unit.pop(pid, 0)
                if unit:
                    client.send("UNIT_EXIT", run=self.run, unit=unit, pid=pid,
                                status=_wait_status(status))
                for waiting in [s for s in spares + self.idle if s[0] == pid]:
                    (spares if waiting in spares else self.idle).remove(waiting)
                pipe = self.pipes.pop(pid, None)
                if pipe is not None:
                    os.close(pipe)

    def _assign(self, client, items, children, msg):
        """Hands a UNIT to an idle reused process when it may go to one, else to the
        oldest spare; a process that died waiting is passed over (its end is reaped
        as a spare's)."""
        keep = self.reuse and all(t in self.reusable for t in msg.tests)
        if keep:
            # Processes that went idle while the UNIT waited (the connection is
            # looked at first): a unit that could reuse one must not fork instead.
            self._take_done(children)
        line = (json.dumps([msg.unit, msg.tests, msg.slot, keep]) + "\n").encode()
        while True:
            if keep and self.idle:
                pid, pipe = self.idle.pop(0)
            else:
                if not self.spares:
                    self.spares.append(self._fork_spare(client, items, children))
                pid, pipe = self.spares.pop(0)
            try:
                _write_all(pipe, line)
                break
            except OSError:
                os.close(self.pipes.pop(pid))
        if not keep:
            # Its only unit: the end of file it reads next lets it go.
            os.close(self.pipes.pop(pid))
        self.last_unit.pop(pid, None)
        for fd, (child, _) in children.items():
            if child == pid:
                children[fd] = (pid, msg.unit)
        for out in self.outputs.values():
            if out[0] == pid:
                out[2:] = ["%s:%d" % (self.agent, msg.slot), msg.unit]
        # The unit process announces itself (UNIT_STARTED): only it may.

    def _take_done(self, children):
        """Reused processes that ended their units (and told the coordinator,
        UNIT_DONE): idle until their next."""
        try:
            data = os.read(self.done_read, 65536)
        except BlockingIOError:
            return
        for line in data.decode().split("\n"):
            if not line:
                continue
            pid, unit = (int(x) for x in line.split())
            for fd, (child, current) in children.items():
                if child == pid and current == unit and pid in self.pipes:
                    children[fd] = (pid, 0)
                    self.last_unit[pid] = unit
                    self.idle.append((pid, self.pipes[pid]))

    def _fork_spare(self, client, items, children):
        """Forks a spare, watched in children (pidfd -> (pid, 0)); returns (pid, pipe)."""
        sys.stdout.flush()
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        out_read, out_write = os.pipe() if self.forward_output else (-1, -1)
        pid = os.fork()
        if pid:
            os.close(read_end)
            self.pipes[pid] = write_end
            children[os.pidfd_open(pid)] = (pid, 0)
            if out_read >= 0:
                os.close(out_write)
                os.set_blocking(out_read, False)
                decoder = codecs.getincrementaldecoder("utf-8")("replace")
                self.outputs[out_read] = [pid, decoder, "", 0]
            return pid, write_end
        code = 70
        try:
            self.forked_at = time.time()
            os.close(write_end)
            for pipe in self.pipes.values():
                # Other processes' assignment pipes: each must see its end of file
                # when the zygote closes its end, so no copy may stay open here.
                os.close(pipe)
            self.pipes, self.spares, self.idle = {}, [], []
            for fd in self.outputs:
                os.close(fd)
            self.outputs = {}
            if self.done_read >= 0:
                os.close(self.done_read)
            if out_read >= 0:
                os.close(out_read)
                os.dup2(out_write, 1)
                os.dup2(out_write, 2)
                os.close(out_write)
            client.forget()  # the zygote's connection is not ours to close
            code = self._run_spare(read_end, items)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)

    def _forward_output(self, client, fd, final=False):
        """Sends what a unit process wrote (all that is there, when final) to the
        front end; at its end of file, or when final, the pipe is closed."""
        pid, decoder, worker, unit = self.outputs[fd]
        ended = False
        while True:
            try:
                data = os.read(fd, OUTPUT_CHUNK)
            except BlockingIOError:
                data = None
            ended = data == b""
            text = decoder.decode(data or b"", final=ended or (final and not data))
            if text and unit:
                client.send("OUTPUT", run=self.run, unit=unit,
                            data=payload.dumps({"worker": worker, "text": text}))
            if not final or not data:
                break
        if ended or final:
            os.close(fd)
            del self.outputs[fd]

    def _run_spare(self, pipe, items):
        # A unit process does not outlive its zygote (whose agent reaps it, then).
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != self.zygote_pid:
            return 70
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if self.forward_output and reporter is not None:
            # Its stdout now reaches the user: the front end alone reports progress.
            self.config.pluginmanager.unregister(reporter)
        capman = self.config.pluginmanager.getplugin("capturemanager")
        if capman is not None:
            # Captured output must go to files of this process, not the zygote's.
            capman.stop_global_capturing()
            capman.start_global_capturing()
            capman.suspend_global_capture()
        client = Client(self.endpoint, self.key_file, wire.unit_name(os.getpid()))
        self.state["client"] = client
        self.state["run"] = self.run
        self.state["sync"] = mpsync.Channel(client, self.run, self.key_file, self.coord,
                                            self.coord_key)
        with os.fdopen(pipe) as assignment:
            while True:
                text = assignment.readline()
                if not text:
                    break  # the zygote let it go
                unit, nodeids, slot, keep = json.loads(text)
                self._run_unit(client, items, unit, nodeids, slot, keep)
                if keep:
                    # Its next unit may come here: the zygote hears first, so that the
                    # unit the freed slot gets is not given to a spare.
                    os.write(self.done_write, b"%d %d\n" % (os.getpid(), unit))
                # Ended as by an exit with status 0, but without waiting for one: the
                # slot's next unit is on its way while this process leaves (or waits
                # for it, reused). On this connection, after every report (and ahead
                # of a reused process's next UNIT_STARTED).
                client.send("UNIT_DONE", run=self.run, unit=unit, pid=os.getpid())
                if not keep:
                    break
                self.forked_at = 0.0  # a reused process is not forked again
        self.state["sync"].close()
        self.state["client"] = self.state["sync"] = None
        client.close()
        return 0

    def _run_unit(self, client, items, unit, nodeids, slot, keep=False):
        """Runs one unit's tests in plan order, reporting every phase. Those of a unit
        a reused process runs (keep: free tests, several under --mp-reuse) share
        nothing but module-level state: every fixture is torn down after each."""
        self.unit = unit
        self.started_at = time.time()
        # Where its tests run: a slot no other test on this agent holds meanwhile.
        self.worker = "%s:%d" % (self.agent, slot)
        os.environ["PYTEST_MP_SLOT"] = str(slot)
        os.environ["PYTEST_MP_WORKER"] = self.worker
        self.state["sync"].unit = unit
        # Before any REPORT, on the same connection (so it arrives first): the agent
        # learns the pid it must reap and may kill, the coordinator whose unit it runs.
        client.send("UNIT_STARTED", run=self.run, unit=self.unit, pid=os.getpid())
        if self.junit and self.junit_recorder is None:
            self.junit_recorder = junit_relay.install(self.config,
                                                      self.config.getini("junit_family"))
        self.reporting = True
        # In plan order: the coordinator follows the unit's progress test by test.
        present = [n for n in nodeids if n in items]
        following = dict(zip(present, present[1:]))
        for nodeid in nodeids:
            item = items.get(nodeid)
            if item is None:
                self._report_missing(nodeid)
                continue
            nextitem = items[following[nodeid]] if nodeid in following and not keep else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        self.reporting = False

    def _report_missing(self, nodeid):
        
        location = (nodeid.split("::")[0], None, nodeid)
        report = pytest.TestReport(
            nodeid, location, {}, "failed",
            "pytest-mp: the worker on this host did not collect %s" % nodeid, "setup",
        )
        self.pytest_runtest_logstart(nodeid, location)
        self.pytest_runtest_logreport(report)
        self.pytest_runtest_logfinish(nodeid, location)

    def _send(self, kind, nodeid, data, wait=True):
        # A report waited for is stored on the coordinator before the test goes on: a
        # process that dies the next moment loses nothing it reported. One not waited
        # for is followed at once by one that is (on the same connection, so in order):
        # a test's start by its setup report, its teardown report by its end.
        fields = dict(run=self.run, unit=self.unit, kind=kind, test=nodeid,
                      data=payload.dumps(data))
        if wait:
            self.state["client"].request("REPORT", timeout=REPORT_TIMEOUT_MS, **fields)
        else:
            self.state["client"].send("REPORT", **fields)

    def pytest_runtest_logstart(self, nodeid, location):
        if self.reporting:
            self._send("logstart", nodeid, {
                "location": location, "worker": self.worker, "host": self.host,
                "pid": os.getpid(), "time": time.time(),
                "forked_at": self.forked_at, "started_at": self.started_at,
            }, wait=False)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if self.reporting:
            report = outcome.get_result()
            # Extra attributes travel with pytest's serialisation of the report.
            report.mp_start, report.mp_stop = call.start, call.stop

    def pytest_runtest_logreport(self, report):
        if self.reporting:
            report.mp_worker, report.mp_host, report.mp_pid = (
                self.worker, self.host, os.getpid())
            if self.junit_recorder is not None and report.when == "teardown":
                report.mp_xml_attrs, report.mp_suite_props = self.junit_recorder.take(
                    report.nodeid)
            data = self.config.hook.pytest_report_to_serializable(
                config=self.config, report=report
            )
            self._send("logreport", report.nodeid, data, wait=report.when != "teardown")

    def pytest_runtest_logfinish(self, nodeid, location):
        if self.reporting:
            self._send("logfinish", nodeid, {"location": location})

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        if self.reporting:
            self._send("warning", nodeid, {
                "message": str(warning_message.message),
                "category": warning_message.category.__name__,
                "module": warning_message.category.__module__,
                "qualname": getattr(warning_message.category, "__qualname__",
                                    warning_message.category.__name__),
                # [module, qualname] of each class of its MRO, the category first: the
                # front end builds a stand-in of the nearest class it has when it
                # cannot import the category itself.
                "mro": [[getattr(c, "__module__", ""), getattr(c, "__qualname__", c.__name__)]
                        for c in warning_message.category.__mro__],
                "filename": warning_message.filename,
                "lineno": warning_message.lineno,
                "when": when,
            })
