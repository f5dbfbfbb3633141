"""The cross-process fixtures' objects: the message board, the lock and trails.

In a unit process they talk to the coordinator's sync service of the run; without
--mp they are plain in-process objects with the same behaviour."""

import contextlib
import pickle
import threading

from .wire import WireError

TRAIL_STATES = ("start", "finish")
LOCK_NAME = "mp_lock"


def _key(key):
    # Equal str/bytes/int/tuple keys pickle to equal bytes with a fixed protocol.
    return pickle.dumps(key, protocol=4)


class MessageBoard:
    """A dict proxy whose values (any picklable object) live on the coordinator."""

    def __init__(self, client, run):
        self._client = client
        self._run = run

    def _request(self, name, *fields):
        return self._client.request(name, self._run, *fields)

    def __getitem__(self, key):
        found, value = self._request("BOARD_GET", _key(key))
        if not found:
            raise KeyError(key)
        return pickle.loads(value)

    def get(self, key, default=None):
        found, value = self._request("BOARD_GET", _key(key))
        return pickle.loads(value) if found else default

    def __setitem__(self, key, value):
        self._request("BOARD_SET", _key(key), pickle.dumps(value))

    def __delitem__(self, key):
        (found,) = self._request("BOARD_DEL", _key(key))
        if not found:
            raise KeyError(key)

    def __contains__(self, key):
        found, _ = self._request("BOARD_GET", _key(key))
        return bool(found)

    def pop(self, key, *default):
        if len(default) > 1:
            raise TypeError("pop expected at most 2 arguments, got %d" % (1 + len(default)))
        found, value = self._request("BOARD_POP", _key(key))
        if found:
            return pickle.loads(value)
        if default:
            return default[0]
        raise KeyError(key)

    def setdefault(self, key, default=None):
        _, value = self._request("BOARD_SETDEFAULT", _key(key), pickle.dumps(default))
        return pickle.loads(value)

    def update(self, other=(), **kwargs):
        pairs = other.items() if hasattr(other, "items") else other
        for key, value in list(pairs) + list(kwargs.items()):
            self[key] = value

    def _items(self):
        keys, values = self._request("BOARD_ITEMS")
        return [(pickle.loads(k), pickle.loads(v)) for k, v in zip(keys, values)]

    def items(self):
        return self._items()

    def keys(self):
        return [k for k, _ in self._items()]

    def values(self):
        return [v for _, v in self._items()]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        keys, _ = self._request("BOARD_ITEMS")
        return len(keys)

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
        self._client.request("LOCK_ACQUIRE", self._run, self._name)
        return True

    def release(self):
        try:
            self._client.request("LOCK_RELEASE", self._run, self._name)
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
            (first_or_last,) = client.request("TRAIL", run, name, state)
        except WireError as error:
            raise ValueError(str(error)) from None
        return bool(first_or_last)

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
