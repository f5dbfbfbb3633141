"""The cross-process fixtures' objects: the message board, the lock and trails.

In a unit process they talk to the coordinator's sync service of the run; without
--mp they are plain in-process objects with the same behaviour."""

import contextlib
import pickle
import threading

from . import wire
from .wire import Client, WireError

TRAIL_STATES = ("start", "finish")
LOCK_NAME = "mp_lock"


def _key(key):
    # Equal str/bytes/int/tuple keys pickle to equal bytes with a fixed protocol.
    return pickle.dumps(key, protocol=4)


class Channel:
    """Where a unit process's sync requests go: through its agent (the relay), or
    straight to the coordinator on a line of its own.

    The first request of each unit goes relayed, right after LINE_OPEN (relayed too,
    so the agent vouches for this process): when its answer comes, the coordinator has
    opened the line, and the unit's later requests take it. A line refused (EAUTH,
    before anything was done) or not connected in time (ESTATE, nothing sent) sends
    that request and the rest of the unit's relayed."""

    def __init__(self, relay, run, key_file, coord="", coord_key=""):
        self.relay = relay
        self.unit = 0  # the unit running now: set at each start
        self._run = run
        self._key_file = key_file
        self._coord = coord  # empty: lines are off (mp-agent --relay-sync)
        self._coord_key = coord_key
        self._name = None
        self._keys = ("", "")
        self._line = None
        self._open_for = 0  # the unit whose line is open
        self._tried_for = 0  # the unit whose line was asked for

    def request(self, type_name, /, **fields):
        if self._line is not None and self._open_for == self.unit:
            try:
                return self._line.request(type_name, **fields)
            except WireError as error:
                # Refused before anything was done, or never sent: go relayed.
                unsent = (error.code == wire.ERRORS["EAUTH"] if error.refused
                          else error.code == wire.ERRORS["ESTATE"])
                if not unsent:
                    raise
                self._open_for = 0
        elif self._coord and self._tried_for != self.unit:
            self._tried_for = self.unit
            return self._open(type_name, fields)
        return self.relay.request(type_name, **fields)

    def _open(self, type_name, fields):
        if self._name is None:
            self._name = wire.line_name()
            if self._coord_key:
                self._keys = wire.curve_keypair()
        self.relay.send("LINE_OPEN", run=self._run, unit=self.unit, line=self._name,
                        key=self._keys[0])
        try:
            return self.relay.request(type_name, **fields)
        finally:
            # Answered (even refused), the line is open. Connected only now: over
            # CURVE the coordinator takes the key from here on.
            if self._line is None:
                self._line = Client.line(self._coord, self._key_file, self._name,
                                         self._keys[0], self._keys[1], self._coord_key)
            self._open_for = self.unit

    def close(self):
        if self._line is not None:
            self._line.close()
            self._line = None


class MessageBoard:
    """A dict proxy whose values (any picklable object) live on the coordinator."""

    def __init__(self, client, run):
        self._client = client
        self._run = run

    def _request(self, name, **fields):
        return self._client.request(name, run=self._run, **fields)

    def __getitem__(self, key):
        reply = self._request("BOARD_GET", key=_key(key))
        if not reply.found:
            raise KeyError(key)
        return pickle.loads(reply.value)

    def get(self, key, default=None):
        reply = self._request("BOARD_GET", key=_key(key))
        return pickle.loads(reply.value) if reply.found else default

    def __setitem__(self, key, value):
        self._request("BOARD_SET", key=_key(key), value=pickle.dumps(value))

    def __delitem__(self, key):
        if not self._request("BOARD_DEL", key=_key(key)).value:
            raise KeyError(key)

    def __contains__(self, key):
        return bool(self._request("BOARD_GET", key=_key(key)).found)

    def pop(self, key, *default):
        if len(default) > 1:
            raise TypeError("pop expected at most 2 arguments, got %d" % (1 + len(default)))
        reply = self._request("BOARD_POP", key=_key(key))
        if reply.found:
            return pickle.loads(reply.value)
        if default:
            return default[0]
        raise KeyError(key)

    def setdefault(self, key, default=None):
        reply = self._request("BOARD_SETDEFAULT", key=_key(key), value=pickle.dumps(default))
        return pickle.loads(reply.value)

    def update(self, other=(), **kwargs):
        pairs = other.items() if hasattr(other, "items") else other
        for key, value in list(pairs) + list(kwargs.items()):
            self[key] = value

    def _items(self):
        items = self._request("BOARD_ITEMS")
        return [(pickle.loads(k), pickle.loads(v)) for k, v in zip(items.keys, items.values)]

    def items(self):
        return self._items()

    def keys(self):
        return [k for k, _ in self._items()]

    def values(self):
        return [v for _, v in self._items()]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._request("BOARD_ITEMS").keys)

    def copy(self):
        return dict(self._items())

    def __repr__(self):
        return "<mp_message_board %r>" % dict(self._items())


class Lock:
    """A non-reentrant lock shared by every process of the run, FIFO among waiters."""

    def __init__(self, client, run, name=LOCK_NAME):
        self._client = client
        self._run = run
        self._name = name

    def acquire(self, blocking=True, timeout=-1):
        if not blocking or timeout != -1:
            raise NotImplementedError("mp_lock waits until it is granted")
        try:
            self._client.request("LOCK_ACQUIRE", run=self._run, name=self._name)
        except WireError as error:
            # Refused: this process holds it already (it is not reentrant).
            raise RuntimeError(str(error)) from None
        return True

    def release(self):
        try:
            self._client.request("LOCK_RELEASE", run=self._run, name=self._name)
        except WireError as error:
            raise RuntimeError(str(error)) from None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _check_state(state):
    if state not in TRAIL_STATES:
        raise ValueError("mp_trail state must be 'start' or 'finish', not %r" % (state,))


def make_trail(lock, step):
    """The mp_trail fixture's value: trail(name, state='start') is a context manager
    holding the lock for its body and yielding the step's answer."""

    @contextlib.contextmanager
    def trail(name, state="start"):
        _check_state(state)
        with lock:
            yield step(name, state)

    return trail


def remote_step(client, run):
    def step(name, state):
        try:
            reply = client.request("TRAIL", run=run, name=name, state=state)
        except WireError as error:
            raise ValueError(str(error)) from None
        return bool(reply.value)  # 1 for the first start or the last finish

    return step


class LocalSync:
    """Without --mp: the same objects inside this one process."""

    def __init__(self):
        self.board = {}
        self.lock = threading.Lock()
        self._counts = {}

    def step(self, name, state):
        count = self._counts.get(name, 0)
        if state == "start":
            self._counts[name] = count + 1
            return count == 0
        if count == 0:
            raise ValueError("trail %s: finish without a matching start" % name)
        self._counts[name] = count - 1
        return count == 1
