"""The front end: plans the collected items, submits the plan to a coordinator (an
embedded one by default), and replays every report through pytest's own hooks so
that the terminal, --junitxml, -x and other plugins behave as in a plain run."""

import builtins
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings

import pytest

from . import checkout as mpcheckout
from . import durations as mpdurations
from . import junit_relay, payload, wire
from . import plan as mpplan
from . import ready_zygote
from .early import EarlyStart
from .plugin import _worker as worker_state
from .plugin import key_file_given
from .plugin import reuse as reuse_wanted
from .trace import TraceRecorder
from .wire import Client, WireError, generate_key

POLL_WAIT_MS = 1000
# Below this many events a batch is followed by a pause before the next poll.
POLL_BATCH = 32
POLL_PAUSE_S = 0.01
# Slots assumed for the size of --mp-reuse chunks when agents join from elsewhere.
REMOTE_SLOTS_GUESS = 16
REQUEST_TIMEOUT_MS = 15000
# A coordinator that answers no poll for this long is gone: less than its agents'
# heartbeat expiry (10 s), so the front end is never the last to notice.
COORD_SILENCE_MS = 8000


def _find_binary(name):
    for directory in (os.environ.get("MP_BIN_DIR", ""), os.path.dirname(sys.executable)):
        path = os.path.join(directory, name) if directory else ""
        if path and os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if not found:
        raise pytest.UsageError("pytest-mp: cannot find %s; run `make setup`" % name)
    return found


def _die_with_parent():
    # Embedded daemons must not outlive this pytest, however it ends.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Daemons:
    """mp-coord and one mp-agent started as children on a private endpoint."""

    def __init__(self, np, invocation_dir, listen, key_file="", ready=False):
        """ready: the agent gets a zygote forked from this process for the first run
        (ready_zygote), which raises BecomeZygote out of here in that zygote."""
        self.dir = tempfile.mkdtemp(prefix="pytest-mp-")
        # Remote agents joining through --mp-listen sign with the user's key; a private
        # coordinator gets a fresh one.
        self.key_file = os.path.abspath(key_file) if key_file else os.path.join(self.dir, "key")
        if not key_file:
            generate_key(self.key_file)
        self.endpoint = "ipc://%s/coord.ipc" % self.dir
        self.procs = []
        coord = [_find_binary("mp-coord"), "--listen", self.endpoint, "--key-file", self.key_file]
        for extra in listen:
            coord += ["--listen", extra]
        self._start("coord", coord)
        if np == 0:
            return  # --np 0 with --mp-listen: remote agents only
        agent = [
            _find_binary("mp-agent"), "--connect", self.endpoint, "--np", str(np),
            "--key-file", self.key_file, "--workdir", invocation_dir,
            "--python", sys.executable, "--name", "local",
        ]
        if ready:
            self.procs.append(("agent", ready_zygote.start_agent(
                agent, os.path.join(self.dir, "agent.log"))))
        else:
            self._start("agent", agent)

    def _start(self, name, argv):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        try:
            self.procs.append((name, subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                # Out of the terminal's process group: Ctrl-C reaches the front end
                # alone, which cancels the run and then stops the daemons itself.
                start_new_session=True, preexec_fn=_die_with_parent,
            )))
        finally:
            log.close()

    def check(self):
        """Raises when a daemon ended early, with the end of its log."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError("mp-%s exited with status %s:\n%s"
                                   % (name, proc.returncode, self.log_tail(name)))

    def log_tail(self, name, size=3000):
        try:
            with open(os.path.join(self.dir, name + ".log"), "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - size))
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        self.terminate()
        self.join()

    def terminate(self):
        """Tells the daemons to stop; join() waits for them. In between the front end
        writes its summary while the zygote finishes its session."""
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()

    def join(self):
        deadline = time.monotonic() + 8  # the agent gives zygotes 4 s to finish
        for _, proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def check_handlers(cls):
    """Raises unless cls has one event_<kind> method per event kind of the library,
    and no other: a kind added to proto/events.h needs its replay here."""
    handlers = {name[len("event_"):] for name in dir(cls) if name.startswith("event_")}
    missing = [kind for kind in wire.EVENT_KINDS if kind not in handlers]
    extra = sorted(handlers - set(wire.EVENT_KINDS))
    if missing or extra:
        raise TypeError("%s: %s" % (cls.__name__, "; ".join(
            ["no handler event_%s for event kind %r" % (kind, kind) for kind in missing]
            + ["handler event_%s for no event kind" % kind for kind in extra])))


# (module, qualname) -> the Warning class of the front end, or None when it has none.
_warning_classes = {}
# (module, qualname, base) -> a stand-in category.
_stand_ins = {}


def _warning_class(module_name, qualname):
    """The Warning subclass module_name.qualname of this process, imported when it is
    not yet (guarded: nothing it raises or warns gets out), or None."""
    key = (module_name, qualname)
    if key in _warning_classes:
        return _warning_classes[key]
    found = None
    module = sys.modules.get(module_name) if module_name else None
    if module is None and module_name and module_name != "__main__":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(module_name)
        except (Exception, SystemExit):
            module = None
    if module is not None and "<locals>" not in qualname.split("."):
        found = module
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if not (isinstance(found, type) and issubclass(found, Warning)):
            found = None
    _warning_classes[key] = found
    return found


def warning_category(data):
    """The category of a warning a worker recorded: the same class when this process
    has it or can import it, else a stand-in with the same __name__, __qualname__ and
    __module__, subclassing the nearest class of its MRO this process has (a builtin
    one at least, such as DeprecationWarning; Warning when the worker did not say)."""
    name = data.get("category") or "UserWarning"
    module_name = data.get("module") or ""
    qualname = data.get("qualname") or name
    category = _warning_class(module_name, qualname)
    if category is not None:
        return category
    base = Warning
    for entry in data.get("mro") or []:
        if len(entry) != 2 or (entry[0], entry[1]) == (module_name, qualname):
            continue
        if entry[0] == "builtins":
            found = getattr(builtins, entry[1], None)
            found = found if isinstance(found, type) and issubclass(found, Warning) else None
        else:
            found = _warning_class(entry[0], entry[1])
        if found is not None:
            base = found
            break
    key = (module_name, qualname, base)
    if key not in _stand_ins:
        _stand_ins[key] = type(name, (base,), {"__module__": module_name,
                                                "__qualname__": qualname})
    return _stand_ins[key]


def warning_instance(category, text):
    """A category instance whose str() is text, however the category's __init__ and
    __str__ are written; a UserWarning when none can be made."""
    try:
        instance = category(text)
        if str(instance) == text:
            return instance
    except Exception:
        pass
    try:
        plain = type(category.__name__, (category,), {
            "__module__": category.__module__, "__qualname__": category.__qualname__,
            "__new__": Warning.__new__, "__init__": Warning.__init__,
            "__str__": Warning.__str__})
        instance = plain(text)
        if str(instance) == text:
            return instance
    except Exception:
        pass
    return UserWarning(text)


class FrontEnd:
    def __init__(self, config, np):
        try:
            check_handlers(type(self))
        except WireError as error:
            raise pytest.UsageError("pytest-mp: %s" % error) from None
        self.config = config
        self.np = np
        self.daemons = None  # the embedded coordinator and agent
        self.daemons_error = None  # why they could not start, raised when the run starts
        self.early = None  # EarlyStart: the run, submitted while this process collects
        self.known = {}  # nodeid -> seconds it took in earlier runs (pytest's cache)
        self.durations = {}  # nodeid -> seconds its phases took, this run
        self.membership = {}
        self.strategies = {}
        self.units = {}
        self.items = {}
        self.pending = {}  # nodeid -> replay calls waiting for its logfinish
        self.finished = set()  # nodeids whose logfinish was replayed
        self.retries = {}  # nodeid -> why each earlier attempt was lost
        self.notices = []  # what the coordinator said about the run
        self.errors = []
        self.done = False  # the run's last event has been replayed
        self.session = None  # while the run is replayed
        self.started = {}  # nodeid -> its logstart payload: where and when it began
        self.unit_pids = set()  # unit processes seen, for their fork slices
        self.output = {}  # worker -> uncaptured output (-s) waiting for its line's end
        self.trace = TraceRecorder()
        self.junit_nodes = {}  # id() of the junit writer's entry -> its nodeid
        # Replay in collection order (when the run may stop early): tests whose end is
        # known, waiting for those before them.
        self.in_order = False
        self.order, self.next_in_order, self.ready = [], 0, set()
        self.tagging = None  # the worker of the report being replayed, for -v lines

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session):
        # The embedded daemons start while this process collects, so that the agent
        # has joined by the time the plan is ready.
        config = self.config
        if (config.option.collectonly or config.getoption("mp_groups")
                or config.getoption("mp_coord")):
            return
        try:
            self.daemons = daemons = Daemons(self.np, str(config.invocation_params.dir),
                                             config.getoption("mp_listen"),
                                             key_file_given(config),
                                             ready=not config.getoption("mp_listen"))
        except ready_zygote.BecomeZygote as ready:
            # This is the forked zygote: once its run comes, it collects as the run's.
            ready_zygote.become(config, ready.sock, worker_state)
            return
        except (pytest.UsageError, WireError, OSError) as error:
            self.daemons_error = error
            return
        if config.getoption("mp_listen"):
            return  # remote agents may join: the run waits for the plan, to be checked
        # The local agent's zygote collects while this process does.
        self.early = EarlyStart(
            lambda: self._connect(daemons.endpoint, daemons.key_file),
            lambda client: self._wait_for_agents(client, daemons),
            lambda client: self._submit(client, early=True))

    def pytest_unconfigure(self, config):
        if self.early is not None:
            self.early.cancel()  # started, never planned
            self.early = None
        if self.daemons is not None:
            self.daemons.stop()  # a no-op but the wait when the run already stopped them
            self.daemons = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        # As in the original: strategies come from the selected tests, in order.
        self.membership, self.strategies = mpplan.group_strategies(items)
        for item in items:
            mpplan.requirements(item)  # a malformed mp_requires is a usage error now
        for nodeid, group in self.membership.items():
            self.trace.test_group(nodeid, group, self.strategies.get(group, "free"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(
                "%d error%s during collection"
                % (session.testsfailed, "s" if session.testsfailed != 1 else "")
            )
        if session.config.option.collectonly or not session.items:
            return True
        self.session = session
        option = self.config.option
        self.in_order = bool(getattr(option, "maxfail", 0) or getattr(option, "stepwise", False))
        chunk = 1
        if reuse_wanted(self.config) and not self.in_order:
            # Not when the run may stop early: a chunk would go on past the stop.
            nfree = sum(1 for item in session.items if mpplan.strategy_of(
                item.nodeid, self.membership, self.strategies) == "free")
            chunk = mpplan.chunk_size(nfree, self.np or REMOTE_SLOTS_GUESS)
        self.known = mpdurations.load(self.config)  # earlier runs' durations
        units = mpplan.build_units(session.items, self.membership, self.strategies, chunk,
                                   self.known)
        self.units = {unit.id: unit for unit in units}
        self.items = {item.nodeid: item for item in session.items}
        self.order = list(self.items)
        coord = self.config.getoption("mp_coord")
        daemons = self.daemons
        run = None
        try:
            try:
                if coord:
                    client = self._connect(coord, key_file_given(self.config))
                elif self.early is not None:
                    early, self.early = self.early, None
                    client, run = early.take()
                else:
                    if daemons is None:
                        raise self.daemons_error
                    client = self._connect(daemons.endpoint, daemons.key_file)
            except (WireError, OSError, RuntimeError) as error:
                raise session.Interrupted("pytest-mp: %s" % error) from None
            self._run(session, client, units, daemons, run)
        finally:
            if daemons is not None:
                if self.errors:
                    # What the worker printed is in the agent's log, gone after stop().
                    self.errors.append("the local agent's log ends with:\n"
                                       + daemons.log_tail("agent"))
                daemons.terminate()  # waited for at unconfigure
        if self.errors:
            raise session.Interrupted("pytest-mp: " + "\n".join(self.errors))
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
        return True

    def _wait_for_agents(self, client, daemons):
        wanted = self.config.getoption("mp_min_agents")
        deadline = time.monotonic() + self.config.getoption("mp_wait")
        while True:
            agents = client.request("AGENTS", timeout=REQUEST_TIMEOUT_MS).value
            if agents >= wanted:
                return
            if daemons is not None:
                daemons.check()
            if time.monotonic() > deadline:
                raise RuntimeError("%d of %d agents joined %s within %g s" % (
                    agents, wanted, client.endpoint, self.config.getoption("mp_wait")))
            time.sleep(0.01)  # on the path to the first test: the agent joins in ms

    def _connect(self, endpoint, key_file):
        # Unique among every front end of a shared coordinator: its routing id.
        name = "fe-%s-%d-%s" % (socket.gethostname(), os.getpid(), os.urandom(4).hex())
        return Client(endpoint, key_file, name, self.config.getoption("mp_curve_cert"),
                      self.config.getoption("mp_coord_cert"))

    def _test_files(self, session):
        """'path digest' of each file the collected tests come from, for agents to
        compare with their checkouts."""
        root = self.config.rootpath
        return mpcheckout.fingerprints(root, mpcheckout.test_files(session.items, root))

    def _submit(self, client, early=False, session=None, units=()):
        """The run's id. An early run (before collection) names no files and no unit
        count: its plan is what comes by PLAN_END."""
        files = [] if early else self._test_files(session)
        return client.request(
            "SUBMIT", cwd=str(self.config.invocation_params.dir),
            args=list(self.config.invocation_params.args), units=len(units),
            timeout_ms=int(self.config.getoption("mp_timeout") * 1000),
            files=files, wait_ms=int(self.config.getoption("mp_wait") * 1000),
            early=int(early), timeout=REQUEST_TIMEOUT_MS,
        ).value

    def _run(self, session, client, units, daemons, run=None):
        files = []  # an early run's: its zygotes compare them once it is planned
        try:
            if run is None:
                self._wait_for_agents(client, daemons)
                run = self._submit(client, session=session, units=units)
            else:
                files = self._test_files(session)
            weights = mpdurations.weights(units, self.known)
            # Each unit is a request, but not a round trip each: the coordinator takes
            # them in order and the answers are waited for together.
            client.request_all("PLAN_UNIT", (
                dict(run=run, unit=unit.id, group=unit.group,
                     strategy=mpplan.STRATEGY_NUMBER[unit.strategy], tests=unit.nodeids,
                     requires=unit.requires, weight_ms=weights[unit.id])
                for unit in units), timeout=REQUEST_TIMEOUT_MS)
            client.request("PLAN_END", run=run, files=files, timeout=REQUEST_TIMEOUT_MS)
            self._follow(session, client, run, daemons)
        except (WireError, RuntimeError) as error:
            if run is not None and isinstance(error, WireError):
                # The run was on: every planned test that did not report says why.
                self._fail_unreported("pytest-mp: no result from the coordinator at %s: %s"
                                      % (client.endpoint, error))
            detail = ""
            if daemons is not None and isinstance(error, WireError):
                try:
                    daemons.check()
                except RuntimeError as died:
                    detail = "\n" + str(died)
            if "no reply" in str(error):
                # Wrong keys get no answer at all: the coordinator drops what it cannot verify.
                detail += " (is mp-coord running there, with the same key?)"
            raise session.Interrupted("pytest-mp: %s%s" % (error, detail)) from None
        except KeyboardInterrupt:
            if run is not None:
                try:
                    client.request("CANCEL", run=run, timeout=2000)
                except WireError:
                    pass
            raise
        finally:
            client.close()

    def _follow(self, session, client, run, daemons):
        seq = 0
        cancelled = False
        while True:
            events = client.request(
                "POLL", run=run, after=seq, wait_ms=POLL_WAIT_MS,
                timeout=POLL_WAIT_MS + COORD_SILENCE_MS,
            )
            for kind, nodeid, unit_id, data in zip(
                events.kinds, events.tests, events.units, events.data
            ):
                seq += 1
                self._on_event(kind, nodeid, unit_id, data)
                if self.done:
                    # Acknowledges every event, so the coordinator can let the run go.
                    try:
                        client.request("POLL", run=run, after=seq, wait_ms=0,
                                       timeout=REQUEST_TIMEOUT_MS)
                    except WireError:
                        pass
                    return
            if len(events.kinds) < POLL_BATCH:
                # A long poll is answered at the first new event: with a fast stream
                # that is a request per event, taking CPU from the tests themselves
                # (which never wait for this process). A short pause lets a batch
                # gather.
                time.sleep(POLL_PAUSE_S)
            if daemons is not None:
                daemons.check()
            stop = session.shouldfail or session.shouldstop or self.errors
            if stop and not cancelled:
                client.request("CANCEL", run=run, timeout=REQUEST_TIMEOUT_MS)
                cancelled = True

    # Replay ---------------------------------------------------------------------

    def _on_event(self, kind, nodeid, unit_id, data):
        # A kind this library does not know (a newer coordinator's) is ignored.
        handler = getattr(self, "event_" + kind, None)
        if handler is not None:
            handler(nodeid, unit_id, data)

    def event_logstart(self, nodeid, unit_id, data):
        started = payload.loads(data)
        self.started[nodeid] = started
        self.pending[nodeid] = [("logstart", started["location"])]
        pid = started.get("pid")
        if pid and pid not in self.unit_pids and started.get("forked_at"):
            self.unit_pids.add(pid)
            self.trace.unit_process(started.get("worker", "?:0"), pid,
                                    started["forked_at"], started.get("started_at") or
                                    started["time"])

    def event_logreport(self, nodeid, unit_id, data):
        report = self.config.hook.pytest_report_from_serializable(
            config=self.config, data=payload.loads(data)
        )
        self.pending.setdefault(nodeid, []).append(("logreport", report))

    def event_logfinish(self, nodeid, unit_id, data):
        self._flush(nodeid)

    def event_output(self, nodeid, unit_id, data):
        # Shown as it comes, each line marked with where it was written.
        out = payload.loads(data)
        worker = out.get("worker", "")
        lines = (self.output.pop(worker, "") + out.get("text", "")).split("\n")
        if lines[-1]:
            self.output[worker] = lines[-1]
        for line in lines[:-1]:
            self._write_output(worker, line)

    def _write_output(self, worker, line):
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        text = "[%s] %s" % (worker, line)
        if reporter is not None:
            reporter.write_line(text)
        else:
            sys.stdout.write(text + "\n")

    def event_warning(self, nodeid, unit_id, data):
        self._replay_warning(nodeid, payload.loads(data))

    def event_crash(self, nodeid, unit_id, data):
        self._replay_crash(nodeid, unit_id, data.decode("utf-8", "replace"))

    def event_error(self, nodeid, unit_id, data):
        self.errors.append(data.decode("utf-8", "replace"))

    def event_retry(self, nodeid, unit_id, data):
        # The attempt's host was lost: what it reported of this test is void, and the
        # test runs again elsewhere.
        self.pending.pop(nodeid, None)
        why = data.decode("utf-8", "replace")
        self.retries.setdefault(nodeid, []).append(why)
        self.trace.instant("retry " + nodeid, time.time(), {"why": why})

    def event_notice(self, nodeid, unit_id, data):
        notice = data.decode("utf-8", "replace")
        self.notices.append(notice)
        self.trace.instant(notice, time.time())

    def event_done(self, nodeid, unit_id, data):
        self._drain(everything=True)
        for worker in list(self.output):
            self._write_output(worker, self.output.pop(worker))
        self.done = True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_report_teststatus(self, report, config):
        outcome = yield
        if self.tagging and config.option.verbose > 0:
            # -v lines name where the test ran, as pytest-xdist's do: "[rig1:3] PASSED".
            category, letter, word = outcome.get_result()
            if isinstance(word, tuple):
                word = ("[%s] %s" % (self.tagging, word[0]), word[1])
            elif word:
                word = "[%s] %s" % (self.tagging, word)
            outcome.force_result((category, letter, word))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        """Reports arrived as tests finished; the summaries (FAILURES, PASSES, the short
        test summary) and the junit file list them in collection order, as a plain
        run does. Runs before the terminal reporter and the junit writer finish."""
        mpdurations.save(self.config, self.durations)
        position = {nodeid: i for i, nodeid in enumerate(self.items)}
        last = len(position)

        def where(nodeid):
            return position.get(nodeid, last)

        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        for reports in getattr(reporter, "stats", {}).values():
            reports.sort(key=lambda report: where(getattr(report, "nodeid", None)))
        ordered = getattr(junit_relay.writer(self.config), "node_reporters_ordered", None)
        if isinstance(ordered, list):
            ordered.sort(key=lambda node: where(self.junit_nodes.get(id(node))))

    def pytest_terminal_summary(self, terminalreporter):
        lines = self.trace.busy_lines()
        if not (lines or self.retries or self.notices or self.config.getoption("mp_trace")):
            return
        terminalreporter.section("pytest-mp")
        for line in lines:
            terminalreporter.write_line(line)
        for nodeid, whys in self.retries.items():
            for why in whys:
                terminalreporter.write_line("retried %s: %s" % (nodeid, why))
        for notice in self.notices:
            terminalreporter.write_line(notice)
        path = self.config.getoption("mp_trace")
        if path:
            try:
                self.trace.write(path)
                terminalreporter.write_line("trace written to %s" % path)
            except OSError as error:
                terminalreporter.write_line("cannot write the trace to %s: %s"
                                            % (path, error.strerror), red=True)

    def _flush(self, nodeid):
        """nodeid's end is known: its events are replayed now, as tests finish; or,
        when the run may stop early (-x, --maxfail, --sw), once every test before it
        in collection order was, so that exactly the tests a plain run reports before
        it stops are reported."""
        if not self.in_order:
            self._replay(nodeid)
            return
        self.ready.add(nodeid)
        self._drain(everything=False)

    def _drain(self, everything):
        """Replays ready tests in collection order, up to the first not ready (past
        every one when everything is set: the run is over)."""
        while self.next_in_order < len(self.order):
            nodeid = self.order[self.next_in_order]
            if nodeid in self.ready:
                self.ready.discard(nodeid)
                self._replay(nodeid)
            elif not everything:
                return
            self.next_in_order += 1
        for nodeid in sorted(self.ready):  # tests outside the plan: none, normally
            self.ready.discard(nodeid)
            self._replay(nodeid)

    def _replay(self, nodeid):
        hook = self.config.hook
        calls = self.pending.pop(nodeid, [])
        session = self.session
        if session is not None and (session.shouldfail or session.shouldstop):
            # -x / --maxfail was reached: as in a plain run, nothing after it is
            # reported (tests still running elsewhere finish unseen).
            return
        location = self._location(nodeid)
        if not calls or calls[0][0] != "logstart":
            calls.insert(0, ("logstart", location))
        reports = [value for what, value in calls if what == "logreport"]
        xml = junit_relay.writer(self.config)
        if xml is not None:
            # The junit writer's entry for this test (made now, or by the first report):
            # which test it is, for putting the entries in collection order at the end.
            self.junit_nodes[id(xml.node_reporter(nodeid))] = nodeid
        for what, value in calls:
            if what == "logstart":
                location = value
                hook.pytest_runtest_logstart(nodeid=nodeid, location=value)
            else:
                self._mark_where(nodeid, value)
                if xml is not None and hasattr(value, "mp_xml_attrs"):
                    junit_relay.apply(xml, nodeid, value.mp_xml_attrs,
                                      [tuple(p) for p in value.mp_suite_props])
                self.tagging = getattr(value, "mp_worker", None)
                try:
                    hook.pytest_runtest_logreport(report=value)
                finally:
                    self.tagging = None
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        self.finished.add(nodeid)
        if reports:
            self.durations[nodeid] = sum(getattr(r, "duration", 0) or 0 for r in reports)
        self._trace_test(nodeid, reports)

    def _mark_where(self, nodeid, report):
        """Where the test ran, on its replayed report: a junit property, and a
        section of a failure's report."""
        worker = getattr(report, "mp_worker", None)
        if worker:
            report.user_properties.append(("mp_worker", worker))
            if report.failed:
                report.sections.append(("pytest-mp", "ran on agent %s (host %s), slot %s, "
                                        "pid %s" % (*worker.rsplit(":", 1)[:1],
                                                    report.mp_host, worker.rsplit(":", 1)[-1],
                                                    report.mp_pid)))
        if nodeid in self.retries:
            # junit carries it as a property of the final attempt.
            report.user_properties.append(("mp_retry", "; ".join(self.retries[nodeid])))

    def _trace_test(self, nodeid, reports):
        started = self.started.get(nodeid)
        if not started or not started.get("worker"):
            return  # never ran on a worker (failed by the front end)
        phases = [(r.when, r.mp_start, r.mp_stop, r.outcome) for r in reports
                  if hasattr(r, "mp_start")]
        stop = max([phase[2] for phase in phases] or [started["time"]])
        outcome = "passed"
        for r in reports:
            if hasattr(r, "wasxfail"):
                outcome = "xfailed" if r.skipped else "xpassed"
            elif r.failed:
                outcome = "failed" if r.when == "call" else "error"
            elif r.skipped:
                outcome = "skipped"
            if outcome != "passed":
                break
        self.trace.test(started["worker"], nodeid, started["time"], stop, outcome, phases)

    def _location(self, nodeid):
        item = self.items.get(nodeid)
        return item.location if item is not None else (nodeid.split("::")[0], None, nodeid)

    def _keywords(self, nodeid):
        item = self.items.get(nodeid)
        return {k: 1 for k in item.keywords} if item is not None else {}

    def _fail(self, nodeid, message):
        """nodeid fails now with message, in the phase after its last report, as
        pytest would have reported it: a test that never started shows as an error at
        setup; after a setup that did not pass comes its teardown, never a call. A
        test whose teardown was reported ran to its end (only its logfinish was lost):
        it is replayed as it was."""
        reports = [v for what, v in self.pending.get(nodeid, []) if what == "logreport"]
        whens = [report.when for report in reports]
        if "teardown" not in whens:
            if "call" in whens or ("setup" in whens and not reports[-1].passed):
                when = "teardown"
            else:
                when = "call" if "setup" in whens else "setup"
            self.pending.setdefault(nodeid, []).append(("logreport", pytest.TestReport(
                nodeid, self._location(nodeid), self._keywords(nodeid), "failed", message,
                when,
            )))
        self._flush(nodeid)

    def _fail_unreported(self, message):
        """Every planned test whose end was not reported fails with message."""
        for nodeid in self.items:
            if nodeid not in self.finished and nodeid not in self.ready:
                self._fail(nodeid, message)
        self._drain(everything=True)

    def _replay_crash(self, nodeid, unit_id, why):
        """The unit's process ended inside nodeid: that test fails, naming how, and
        the tests after it in its unit are reported as not run; but those of a free
        unit (several under --mp-reuse) run anyway, the coordinator sends them again."""
        self._fail(nodeid, "pytest-mp: the process running this test %s" % why)
        unit = self.units.get(unit_id)
        if unit is None or nodeid not in unit.nodeids or unit.strategy == "free":
            return
        for later in unit.nodeids[unit.nodeids.index(nodeid) + 1:]:
            location = self._location(later)
            reason = "not run: the process of %s group %r %s during %s" % (
                unit.strategy, unit.group, why, nodeid)
            self.pending[later] = [("logreport", pytest.TestReport(
                later, location, self._keywords(later), "skipped",
                (location[0], (location[1] or 0) + 1, "Skipped: " + reason), "setup",
            ))]
            self._flush(later)

    def _replay_warning(self, nodeid, data):
        category = warning_category(data)
        message = warnings.WarningMessage(
            warning_instance(category, data["message"]), category, data.get("filename", ""),
            data.get("lineno", 0)
        )
        self.config.hook.pytest_warning_recorded.call_historic(kwargs=dict(
            warning_message=message, when=data.get("when", "runtest"), nodeid=nodeid,
            location=None,
        ))
