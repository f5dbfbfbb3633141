"""The wire, reached through the project's C client library (libmpclient.so) with
ctypes: build messages by type name, send them signed, read replies as lists."""

import ctypes
import os
import sys

_lib = None
TYPES = {}  # message name -> number
SCHEMAS = {}  # message number -> schema string


class WireError(Exception):
    """A request failed: no answer, a refused message, or an ERROR reply."""


def _find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.environ.get("MP_CLIENT_LIB", ""),
        os.path.join(sys.prefix, "lib", "libmpclient.so"),
        os.path.join(here, "libmpclient.so"),
    ]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    raise WireError(
        "cannot find libmpclient.so (looked in %s); run `make setup`"
        % ", ".join(p for p in candidates if p)
    )


def lib():
    global _lib
    if _lib is not None:
        return _lib
    so = ctypes.CDLL(_find_library())
    P, S, U, I, Z = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_size_t
    signatures = {
        "mp_msg_schema": (S, [I]),
        "mp_msg_name": (S, [I]),
        "mp_msg_new": (P, [I]),
        "mpc_msg_free": (None, [P]),
        "mp_msg_type": (I, [P]),
        "mp_msg_reqid": (U, [P]),
        "mp_msg_add_u64": (I, [P, U]),
        "mp_msg_add_i64": (I, [P, ctypes.c_int64]),
        "mp_msg_add_str": (I, [P, S]),
        "mp_msg_add_bin": (I, [P, S, Z]),
        "mp_msg_add_list": (I, [P]),
        "mp_msg_push_str": (I, [P, S]),
        "mp_msg_push_bin": (I, [P, S, Z]),
        "mp_msg_push_u64": (I, [P, U]),
        "mp_msg_u64": (U, [P, Z]),
        "mp_msg_i64": (ctypes.c_int64, [P, Z]),
        "mp_msg_str": (S, [P, Z]),
        "mp_msg_bin": (P, [P, Z, ctypes.POINTER(Z)]),
        "mp_msg_count": (Z, [P, Z]),
        "mp_msg_str_at": (S, [P, Z, Z]),
        "mp_msg_bin_at": (P, [P, Z, Z, ctypes.POINTER(Z)]),
        "mp_msg_u64_at": (U, [P, Z, Z]),
        "mpc_new": (P, [S, S, S, ctypes.c_char_p, Z]),
        "mpc_destroy": (None, [ctypes.POINTER(P)]),
        "mpc_forget": (None, [ctypes.POINTER(P)]),
        "mpc_send": (U, [P, P]),
        "mpc_recv": (P, [P, I]),
        "mpc_request": (P, [P, P, I]),
        "mpc_wait": (I, [P, ctypes.POINTER(I), I, I]),
        "mpc_error": (S, [P]),
        "mpc_key_generate": (I, [S, ctypes.c_char_p, Z]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(so, name)
        fn.restype = restype
        fn.argtypes = argtypes
    for number in range(1, 256):
        name = so.mp_msg_name(number)
        if name:
            TYPES[name.decode()] = number
            SCHEMAS[number] = so.mp_msg_schema(number).decode()
    _lib = so
    return so


def generate_key(path):
    err = ctypes.create_string_buffer(512)
    if lib().mpc_key_generate(path.encode(), err, len(err)) != 0:
        raise WireError(err.value.decode())


def _encode(text):
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)


def _build(type_name, fields):
    so = lib()
    number = TYPES[type_name]
    schema = SCHEMAS[number]
    if len(fields) != len(schema):
        raise ValueError("%s takes %d fields, not %d" % (type_name, len(schema), len(fields)))
    msg = so.mp_msg_new(number)
    ok = True
    for kind, value in zip(schema, fields):
        if kind == "u":
            ok = so.mp_msg_add_u64(msg, int(value)) == 0
        elif kind == "i":
            ok = so.mp_msg_add_i64(msg, int(value)) == 0
        elif kind == "s":
            ok = so.mp_msg_add_str(msg, _encode(value)) == 0
        elif kind == "b":
            data = _encode(value)
            ok = so.mp_msg_add_bin(msg, data, len(data)) == 0
        else:
            ok = so.mp_msg_add_list(msg) == 0
            for element in value:
                if not ok:
                    break
                if kind == "S":
                    ok = so.mp_msg_push_str(msg, _encode(element)) == 0
                elif kind == "B":
                    data = _encode(element)
                    ok = so.mp_msg_push_bin(msg, data, len(data)) == 0
                else:
                    ok = so.mp_msg_push_u64(msg, int(element)) == 0
        if not ok:
            break
    if not ok:
        so.mpc_msg_free(msg)
        raise WireError("cannot build %s (out of memory or bad field)" % type_name)
    return msg


def _read(msg):
    """(type name, [fields]) of a message, which is then freed."""
    so = lib()
    try:
        number = so.mp_msg_type(msg)
        schema = SCHEMAS[number]
        size = ctypes.c_size_t()
        fields = []
        for i, kind in enumerate(schema):
            if kind == "u":
                fields.append(so.mp_msg_u64(msg, i))
            elif kind == "i":
                fields.append(so.mp_msg_i64(msg, i))
            elif kind == "s":
                fields.append(so.mp_msg_str(msg, i).decode("utf-8", "surrogateescape"))
            elif kind == "b":
                ptr = so.mp_msg_bin(msg, i, ctypes.byref(size))
                fields.append(ctypes.string_at(ptr, size.value) if size.value else b"")
            else:
                count = so.mp_msg_count(msg, i)
                if kind == "S":
                    fields.append(
                        [so.mp_msg_str_at(msg, i, j).decode("utf-8", "surrogateescape")
                         for j in range(count)]
                    )
                elif kind == "B":
                    items = []
                    for j in range(count):
                        ptr = so.mp_msg_bin_at(msg, i, j, ctypes.byref(size))
                        items.append(ctypes.string_at(ptr, size.value) if size.value else b"")
                    fields.append(items)
                else:
                    fields.append([so.mp_msg_u64_at(msg, i, j) for j in range(count)])
        name = so.mp_msg_name(number).decode()
        return name, fields
    finally:
        so.mpc_msg_free(msg)


class Client:
    """One signed connection to an agent or a coordinator."""

    def __init__(self, endpoint, key_file, name):
        so = lib()
        err = ctypes.create_string_buffer(512)
        self._handle = so.mpc_new(
            endpoint.encode(), (key_file or "").encode(), name.encode(), err, len(err)
        )
        if not self._handle:
            raise WireError(err.value.decode())
        self.endpoint = endpoint
        self.name = name

    def _error(self):
        return lib().mpc_error(self._handle).decode()

    def send(self, type_name, *fields):
        so = lib()
        msg = _build(type_name, fields)
        try:
            if so.mpc_send(self._handle, msg) == 0:
                raise WireError(self._error())
        finally:
            so.mpc_msg_free(msg)

    def request(self, type_name, *fields, timeout=-1):
        """Sends a request and returns the reply's fields; raises WireError on an
        ERROR reply or when no reply comes within timeout ms (-1: forever)."""
        so = lib()
        msg = _build(type_name, fields)
        try:
            reply = so.mpc_request(self._handle, msg, int(timeout))
        finally:
            so.mpc_msg_free(msg)
        if not reply:
            raise WireError("%s to %s: %s" % (type_name, self.endpoint, self._error()))
        name, values = _read(reply)
        if name == "ERROR":
            raise WireError("%s refused: %s" % (type_name, values[1]))
        return values

    def recv(self, timeout=-1):
        """(type name, fields) of the next message, or None on timeout."""
        msg = lib().mpc_recv(self._handle, int(timeout))
        if not msg:
            return None
        return _read(msg)

    def wait(self, fds=(), timeout=-1):
        """0 on timeout, 1 when a message waits, 2 + i when fds[i] is readable."""
        array = (ctypes.c_int * max(1, len(fds)))(*fds)
        rc = lib().mpc_wait(self._handle, array, len(fds), int(timeout))
        if rc < 0:
            raise WireError(self._error())
        return rc

    def close(self):
        if self._handle:
            handle = ctypes.c_void_p(self._handle)
            lib().mpc_destroy(ctypes.byref(handle))
            self._handle = None

    def forget(self):
        """Drops the connection without closing it: for a child after fork()."""
        if self._handle:
            handle = ctypes.c_void_p(self._handle)
            lib().mpc_forget(ctypes.byref(handle))
            self._handle = None
