"""The pytest plugin: options, ini options, the mp_group marker and the fixtures,
and the switch between front end (--mp), worker (started by an agent) and plain."""

import argparse
import os

import pytest

from . import plan as mpplan
from . import sync as mpsync
from .identity import mp_worker  # noqa: F401 (a fixture)

WORKER_ENV = "MP_WORKER_RUN"

# The sync objects of this process: set by the worker in each unit process, or
# local ones when running without --mp.
_worker = {"client": None, "run": 0, "sync": None}
_local = mpsync.LocalSync()


def pytest_addoption(parser):
    group = parser.getgroup("pytest-mp")
    group.addoption("--mp", "--multiprocessing", action="store_true", dest="use_mp",
                    default=None, help="distribute tests over processes and hosts")
    group.addoption("--np", "--num-processes", type=_processes, dest="num_processes",
                    help="processes (slots) of the local agent: a number or "
                    "'auto' (the CPU count, the default); 0 turns pytest-mp off, or with "
                    "--mp-listen runs no local agent")
    group.addoption("--mp-coord", metavar="ENDPOINT",
                    help="use the coordinator at ENDPOINT (tcp://HOST:PORT) instead of "
                    "starting one")
    group.addoption("--mp-listen", metavar="ENDPOINT", action="append", default=[],
                    help="let the embedded coordinator also listen on ENDPOINT so that "
                    "remote agents may join")
    group.addoption("--mp-key-file", metavar="FILE",
                    help="shared key signing every message (default: $MP_KEY_FILE)")
    group.addoption("--mp-curve-cert", metavar="FILE",
                    help="with --mp-coord: connect over CURVE with this key pair (a file "
                    "`mp-coord --gen-cert` wrote, the one ending in _secret)")
    group.addoption("--mp-coord-cert", metavar="FILE",
                    help="with --mp-curve-cert: the coordinator's public key file")
    group.addoption("--mp-min-agents", type=int, default=1, metavar="K",
                    help="start once K agents have joined the coordinator (default 1)")
    group.addoption("--mp-wait", type=float, default=60.0, metavar="SEC",
                    help="give up when fewer than --mp-min-agents joined within SEC "
                    "seconds (default 60)")
    group.addoption("--mp-timeout", type=float, default=0.0, metavar="SEC",
                    help="per test: a test running longer has its process killed and "
                    "fails as timed out (default: no limit)")
    group.addoption("--mp-groups", action="store_true", dest="mp_groups", default=False,
                    help="list every mp_group with its strategy and test count (with -v "
                    "also its tests), and the ungrouped tests; run nothing (like --co)")
    group.addoption("--mp-trace", metavar="FILE",
                    help="write a Chrome trace (for ui.perfetto.dev or chrome://tracing) of "
                    "the run to FILE: a track per agent slot, a slice per test")
    group.addoption("--mp-reuse", action="store_true", dest="mp_reuse", default=None,
                    help="run free and ungrouped tests one after another in reused unit "
                    "processes (every fixture is torn down between tests; module state "
                    "carries over): much faster on suites of many short tests")
    parser.addini("mp", "run tests with pytest-mp (like --mp)", type="bool", default=False)
    parser.addini("mp_reuse", "like --mp-reuse", type="bool", default=False)
    parser.addini("num_processes", "processes for pytest-mp: 'auto' (or 'cpu_count') or "
                  "a number",
                  default="cpu_count")


def use_mp(config):
    option = config.getoption("use_mp")
    return bool(option if option is not None else config.getini("mp"))


def reuse(config):
    """Whether free and ungrouped tests may share a unit process (--mp-reuse)."""
    option = config.getoption("mp_reuse")
    return bool(option if option is not None else config.getini("mp_reuse"))


AUTO_PROCESSES = ("auto", "cpu_count")


def _processes(text):
    """--np's value: a number, or 'auto' (kept as is until the CPUs are counted)."""
    if text.strip().lower() in AUTO_PROCESSES:
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number or 'auto'" % text) from None


def num_processes(config):
    """Processes of the local agent; 0 when pytest-mp is off, as in the original
    (where --np 0 also turns it off)."""
    if not use_mp(config):
        return 0
    value = config.getoption("num_processes")
    if value is None:
        raw = str(config.getini("num_processes")).strip()
        try:
            value = _processes(raw) if raw else "auto"
        except argparse.ArgumentTypeError:
            raise pytest.UsageError(
                "num_processes must be 'auto', 'cpu_count' or a number, not %r" % raw
            ) from None
    if value == "auto":
        value = os.cpu_count() or 1
    if value < 0:
        raise pytest.UsageError("--np must be 0 (pytest-mp off) or more, not %d" % value)
    return value


ENDPOINT_SCHEMES = ("tcp://", "ipc://", "inproc://")


def xdist_given(config):
    """The pytest-xdist options that distribute, as given (empty when xdist is not
    installed or distributes nothing): after xdist's pytest_cmdline_main, -n N is also
    --dist load and N --tx, and -d is --dist load."""
    option = config.option
    numprocesses = getattr(option, "numprocesses", None)
    if numprocesses:
        return "-n %s" % numprocesses
    given = []
    if getattr(option, "distload", False):
        given.append("-d")
    elif getattr(option, "dist", "no") not in (None, "no"):
        given.append("--dist %s" % option.dist)
    given += ["--tx %s" % tx for tx in getattr(option, "tx", None) or []]
    return " ".join(given)


def check_options(config):
    """Rejects, naming the option, values that cannot work: a usage error (exit 4)
    before anything starts, rather than a hang or a traceback later."""
    xdist = xdist_given(config)
    if xdist:
        raise pytest.UsageError(
            "pytest-mp: --mp and -n (pytest-xdist) cannot be used together, both "
            "distribute the tests: got --mp with %s; use one of them" % xdist)
    if config.getoption("mp_coord") and config.getoption("num_processes") is not None:
        raise pytest.UsageError("--np is for the local agent, which --mp-coord does not "
                                "start: the coordinator's agents have their own slots")
    if config.getoption("mp_listen") and config.getoption("mp_coord"):
        raise pytest.UsageError("--mp-listen is for the coordinator pytest starts, and "
                                "--mp-coord names one that runs elsewhere: give one of them")
    if config.getoption("mp_listen") and not key_file_given(config):
        raise pytest.UsageError("--mp-listen needs the key remote agents use: give "
                                "--mp-key-file=FILE or MP_KEY_FILE (make one with "
                                "`mp-coord --gen-key FILE`)")
    endpoints = [("--mp-coord", config.getoption("mp_coord"))]
    endpoints += [("--mp-listen", value) for value in config.getoption("mp_listen")]
    for option, value in endpoints:
        if value is not None and (not value.startswith(ENDPOINT_SCHEMES)
                                  or value.split("://", 1)[1] == ""):
            raise pytest.UsageError(
                "%s: %r is not an endpoint (tcp://HOST:PORT or ipc://PATH)" % (option, value))
    if config.getoption("mp_timeout") < 0:
        raise pytest.UsageError("--mp-timeout must be 0 (no limit) or more seconds, not %g"
                                % config.getoption("mp_timeout"))
    if config.getoption("mp_min_agents") < 1:
        raise pytest.UsageError("--mp-min-agents must be at least 1, not %d"
                                % config.getoption("mp_min_agents"))
    if config.getoption("mp_wait") < 0:
        raise pytest.UsageError("--mp-wait must be 0 or more seconds, not %g"
                                % config.getoption("mp_wait"))
    curve = [config.getoption("mp_curve_cert"), config.getoption("mp_coord_cert")]
    if any(curve) and not all(curve):
        raise pytest.UsageError("--mp-curve-cert and --mp-coord-cert go together")
    if any(curve) and not config.getoption("mp_coord"):
        raise pytest.UsageError("--mp-curve-cert is for a coordinator given with --mp-coord")
    for option, path in zip(("--mp-curve-cert", "--mp-coord-cert"), curve):
        if path and not os.access(path, os.R_OK):
            raise pytest.UsageError("%s: cannot read %s" % (option, path))
    key_file = config.getoption("mp_key_file")
    source = "--mp-key-file"
    if not key_file and os.environ.get("MP_KEY_FILE"):
        key_file, source = os.environ["MP_KEY_FILE"], "MP_KEY_FILE"
    if key_file:
        try:
            with open(key_file, "rb"):
                pass
        except OSError as error:
            raise pytest.UsageError("%s: cannot read %s: %s"
                                    % (source, key_file, error.strerror)) from None


def key_file_given(config):
    """The user's shared key file: --mp-key-file, else $MP_KEY_FILE, else ""."""
    return config.getoption("mp_key_file") or os.environ.get("MP_KEY_FILE", "")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "mp_group(group, strategy='free'): run with pytest-mp in the named group; "
        "strategy is free, serial, isolated_free or isolated_serial",
    )
    config.addinivalue_line(
        "markers", "mp_requires(*keys, **key_values): with pytest-mp, run only on agents "
        "with these labels (mp-agent --label KEY or KEY=VALUE); for a group, the whole group",
    )
    config.addinivalue_line(
        "markers", "mp_group_info(group, strategy): added by pytest-mp to every test: its "
        "group ('ungrouped' for none) and strategy",
    )
    if os.environ.get(WORKER_ENV):
        from .worker import Zygote

        from .identity import XdistNames

        config.pluginmanager.register(Zygote(config, _worker), "mp_zygote")
        config.pluginmanager.register(XdistNames(), "mp_xdist_names")
    elif use_mp(config) and (num_processes(config) > 0 or config.getoption("mp_listen")):
        from .frontend import FrontEnd

        check_options(config)
        config.pluginmanager.register(FrontEnd(config, num_processes(config)), "mp_frontend")
    if config.getoption("mp_groups") and not config.pluginmanager.has_plugin("mp_zygote"):
        from .groups import GroupLister

        # It runs nothing, like --co, with which pytest-xdist starts no workers either.
        if getattr(config.option, "dist", None) is not None:
            config.option.dist, config.option.tx = "no", []
        config.pluginmanager.register(GroupLister(config), "mp_groups")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Every item carries mp_group_info(group=, strategy=), as in the original:
    'ungrouped'/'free' for tests without a group. Contradictory marks are reported
    by the front end; here they only leave the items unmarked."""
    try:
        membership, strategies = mpplan.group_strategies(items)
    except pytest.UsageError:
        return
    for item in items:
        group = membership.get(item.nodeid, mpplan.UNGROUPED)
        if group == mpplan.UNGROUPED:
            info = pytest.mark.mp_group_info.with_args(group="ungrouped", strategy="free")
        else:
            info = pytest.mark.mp_group_info.with_args(
                group=group, strategy=strategies.get(group, "free"))
        item.add_marker(info)


@pytest.fixture(scope="session")
def mp_use_mp(request):
    return use_mp(request.config)


@pytest.fixture(scope="session")
def mp_num_processes(request):
    return num_processes(request.config)


@pytest.fixture(scope="session")
def mp_message_board():
    if _worker["client"] is not None:
        return mpsync.MessageBoard(_worker["sync"], _worker["run"])
    return _local.board


@pytest.fixture(scope="session")
def mp_lock():
    if _worker["client"] is not None:
        return mpsync.Lock(_worker["sync"], _worker["run"])
    return _local.lock


@pytest.fixture(scope="session")
def mp_trail(mp_lock):
    if _worker["client"] is not None:
        return mpsync.make_trail(mp_lock, mpsync.remote_step(_worker["sync"], _worker["run"]))
    return mpsync.make_trail(mp_lock, _local.step)
