"""A zygote forked from the front end, for the embedded agent (pytest --mp --np N).

A zygote the agent starts itself is a new interpreter that imports pytest, reads the
configuration and collects: on a small machine that is most of the time to the first
test, and CPU taken from the front end's own collection. The front end has done the
first two already. So it starts its agent from a fork of itself, which first forks
again: that grandchild, a child of mp-agent once the fork execs it, waits on a socket
(mp-agent --zygote-ready PID:FD) for the run the agent gets, and then becomes its
zygote in place: the run's environment, the run's log as its output, the zygote's
plugin instead of the front end's. pytest then goes on collecting in it as in a
zygote the agent had started."""

import ctypes
import faulthandler
import os
import signal
import socket
import subprocess
import time


class BecomeZygote(BaseException):
    """Raised in the forked zygote only, out of the front end's start-up code, up to
    the hook that turns it into the zygote (not an error: no handler of Exception
    may catch it)."""

    def __init__(self, sock):
        super().__init__("a ready zygote")
        self.sock = sock


def _die_with_parent(sig):
    ctypes.CDLL(None).prctl(1, sig)  # PR_SET_PDEATHSIG


class ForkedProcess:
    """What the front end needs of subprocess.Popen, for a child it forked itself."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def terminate(self):
        self._signal(signal.SIGTERM)

    def kill(self):
        self._signal(signal.SIGKILL)

    def _signal(self, sig):
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


def start_agent(argv, log_path):
    """Starts mp-agent (argv) with a ready zygote. Returns its ForkedProcess here; in
    the zygote, raises BecomeZygote."""
    agent_end, zygote_end = socket.socketpair()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    front = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            # As subprocess would: a session of its own (Ctrl-C reaches the front end
            # alone), its log as output, and no life beyond the front end's.
            os.setsid()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            _die_with_parent(signal.SIGTERM)
            if os.getppid() != front:
                os._exit(1)
            agent = os.getpid()
            zygote = os.fork()
            if zygote == 0:
                agent_end.close()
                _die_with_parent(signal.SIGKILL)  # with the agent, as its own zygotes
                if os.getppid() != agent:
                    os._exit(1)
                os.setpgid(0, 0)
                os.close(log)
                raise BecomeZygote(zygote_end)
            zygote_end.close()
            fd = agent_end.detach()
            os.set_inheritable(fd, True)
            os.execv(argv[0], list(argv) + ["--zygote-ready", "%d:%d" % (zygote, fd)])
        except BecomeZygote:
            raise
        except BaseException:
            pass
        os._exit(127)
    agent_end.close()
    zygote_end.close()
    os.close(log)
    return ForkedProcess(pid)


def become(config, sock, worker_state):
    """In the forked zygote: waits for the run (mp_zygote_hand_over: NUL-ended
    KEY=VALUE entries, then end of stream), then takes it up. Exits when none comes."""
    # What the zygote will need, imported while it waits rather than after.
    from . import identity, junit_relay, worker  # noqa: F401

    data = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data.append(chunk)
    sock.close()
    entries = b"".join(data).split(b"\0")[:-1]
    if not entries:
        os._exit(0)  # the agent left, or started the run's zygote itself
    env = dict(e.decode("utf-8", "surrogateescape").split("=", 1) for e in entries)
    log = env.pop("MP_WORKER_LOG")
    os.environ.update(env)
    # From here on the run's log is this process's output, and pytest's capture
    # (suspended during this hook) is afresh on it, not on the front end's files.
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.stop_global_capturing()
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(null)
    if faulthandler.is_enabled():
        # pytest's faulthandler writes to a copy of the stderr it found: the front
        # end's terminal, here. A zygote's (and its unit processes') go to its log.
        faulthandler.enable(file=os.dup(2))
    if capman is not None:
        capman.start_global_capturing()
        capman.suspend_global_capture()
    # What plugin.pytest_configure and the zygote's own start would have set up.
    manager = config.pluginmanager
    manager.unregister(name="mp_frontend")
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is not None:  # the front end alone writes --junitxml
        del config.stash[xml_key]
        manager.unregister(xml)
    pdb = manager.get_plugin("pdbinvoke")
    if pdb is not None:
        manager.unregister(pdb)
    from .identity import XdistNames
    from .worker import Zygote

    manager.register(Zygote(config, worker_state), "mp_zygote")
    manager.register(XdistNames(), "mp_xdist_names")
