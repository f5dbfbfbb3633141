"""The wire, reached through the project's C client library (libmpclient.so) with
ctypes. The message catalogue (proto/catalogue.h) is read from the library when it
is loaded: messages are built with their fields by name and read back as named
tuples, one class per message type. Event kinds and peer names come from it too.

The library is loaded on first use, so that a plain pytest run never needs it:
CATALOGUE, NUMBERS, MESSAGES, ROLES and EVENT_KINDS load it when first read."""

import collections
import ctypes
import os
import sys

_lib = None
PEER_NAME_MAX = 32  # MP_PEER_NAME_MAX: the buffer the peer-name functions fill

# Set by _load_catalogue, and looked up through __getattr__ until then:
#   CATALOGUE        message name -> MessageSpec
#   NUMBERS          message number -> name
#   MESSAGES         message name -> its namedtuple class
#   ROLES            role bit -> name ("front end", ...)
#   EVENT_KINDS      event kind names, in the library's order
#   EVENT_REPORTERS  event kind name -> role bit of who reports it
_LAZY = ("CATALOGUE", "NUMBERS", "MESSAGES", "ROLES", "EVENT_KINDS", "EVENT_REPORTERS", "ERRORS")

MessageSpec = collections.namedtuple(
    "MessageSpec", "number name schema fields docs senders scope doc tuple"
)


class WireError(Exception):
    """A request failed: no answer, a refused message, or an ERROR reply. code is the
    mp_err_t (common/error.h, by name in ERRORS) of the failure or of the ERROR reply,
    None when not known; refused is True for an ERROR reply."""

    def __init__(self, message, code=None, refused=False):
        super().__init__(message)
        self.code = code
        self.refused = refused


class _Peer(ctypes.Structure):
    _fields_ = [("role", ctypes.c_uint), ("id", ctypes.c_uint64)]


def _find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.environ.get("MP_CLIENT_LIB", ""),
        os.path.join(sys.prefix, "lib", "libmpclient.so"),
        os.path.join(here, "libmpclient.so"),
    ]
    # `cmake --install --prefix P` puts it in P/lib, beside the P/bin of the daemons.
    import shutil

    for bin_dir in (os.environ.get("MP_BIN_DIR", ""),
                    os.path.dirname(shutil.which("mp-coord") or "")):
        if bin_dir:
            candidates.append(os.path.join(os.path.dirname(os.path.abspath(bin_dir)), "lib",
                                           "libmpclient.so"))
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
    path = _find_library()
    so = ctypes.CDLL(path)
    P, S, U, I, Z = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_size_t
    signatures = {
        "mp_msg_schema": (S, [I]),
        "mp_msg_name": (S, [I]),
        "mp_msg_field_name": (S, [I, Z]),
        "mp_msg_field_doc": (S, [I, Z]),
        "mp_msg_senders": (ctypes.c_uint, [I]),
        "mp_msg_scope": (I, [I]),
        "mp_msg_doc": (S, [I]),
        "mp_role_name": (S, [ctypes.c_uint]),
        "mp_event_name": (S, [I]),
        "mp_event_reporter": (ctypes.c_uint, [I]),
        "mp_peer_zygote_name": (None, [U, ctypes.c_char_p]),
        "mp_peer_unit_name": (None, [U, ctypes.c_char_p]),
        "mp_peer_parse": (I, [S, ctypes.POINTER(_Peer)]),
        "mp_peer_line_name": (I, [ctypes.c_char_p]),
        "mp_err_name": (S, [I]),
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
        "mpc_new_curve": (P, [S, S, S, S, S, ctypes.c_char_p, Z]),
        "mpc_destroy": (None, [ctypes.POINTER(P)]),
        "mpc_forget": (None, [ctypes.POINTER(P)]),
        "mpc_send": (U, [P, P]),
        "mpc_recv": (P, [P, I]),
        "mpc_request": (P, [P, P, I]),
        "mpc_request_all": (I, [P, ctypes.POINTER(P), Z, Z, I]),
        "mpc_wait": (I, [P, ctypes.POINTER(I), I, I]),
        "mpc_error": (S, [P]),
        "mpc_errno": (I, [P]),
        "mpc_curve_keypair": (I, [ctypes.c_char_p, ctypes.c_char_p]),
        "mpc_new_line": (P, [S, S, S, S, S, S, ctypes.c_char_p, Z]),
        "mpc_key_generate": (I, [S, ctypes.c_char_p, Z]),
    }
    missing = [name for name in signatures if not hasattr(so, name)]
    if missing:
        # A library older than the catalogue (or built without part of proto/):
        # nothing here may guess what it would have said.
        raise WireError("%s does not export %s; rebuild it and run `make setup`"
                        % (path, ", ".join(missing)))
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(so, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _load_catalogue(so)
    _lib = so
    return so


def _text(raw):
    return raw.decode() if raw is not None else None


def _load_catalogue(so):
    global CATALOGUE, NUMBERS, MESSAGES, ROLES, EVENT_KINDS, EVENT_REPORTERS, ERRORS
    catalogue, numbers = {}, {}
    for number in range(1, 256):
        name = _text(so.mp_msg_name(number))
        if not name:
            continue
        fields, docs = [], []
        while True:
            field = _text(so.mp_msg_field_name(number, len(fields)))
            if field is None:
                break
            fields.append(field)
            docs.append(_text(so.mp_msg_field_doc(number, len(docs))))
        schema = _text(so.mp_msg_schema(number))
        if len(schema) != len(fields) or "timeout" in fields:
            # request() takes its timeout among the fields' keywords.
            raise WireError("catalogue entry %s: fields %s, schema %r" % (name, fields, schema))
        catalogue[name] = MessageSpec(
            number, name, schema, tuple(fields), tuple(docs), so.mp_msg_senders(number),
            so.mp_msg_scope(number), _text(so.mp_msg_doc(number)),
            collections.namedtuple(name, fields),
        )
        numbers[number] = name
    roles, bit = {}, 1
    while _text(so.mp_role_name(bit)):
        roles[bit] = _text(so.mp_role_name(bit))
        bit <<= 1
    kinds, reporters = [], {}
    while _text(so.mp_event_name(len(kinds) + 1)):
        kind = len(kinds) + 1
        kinds.append(_text(so.mp_event_name(kind)))
        reporters[kinds[-1]] = so.mp_event_reporter(kind)
    errors, code = {}, 0
    while _text(so.mp_err_name(code)):
        errors[_text(so.mp_err_name(code))] = code
        code -= 1
    CATALOGUE, NUMBERS, ROLES, ERRORS = catalogue, numbers, roles, errors
    MESSAGES = {name: entry.tuple for name, entry in catalogue.items()}
    EVENT_KINDS, EVENT_REPORTERS = tuple(kinds), reporters


def __getattr__(name):
    # The catalogue's module globals, filled when the library is first loaded.
    if name in _LAZY:
        lib()
        return globals()[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def zygote_name(run):
    """The routing id of a run's zygote."""
    name = ctypes.create_string_buffer(PEER_NAME_MAX)
    lib().mp_peer_zygote_name(int(run), name)
    return name.value.decode()


def unit_name(pid):
    """The routing id of a unit process."""
    name = ctypes.create_string_buffer(PEER_NAME_MAX)
    lib().mp_peer_unit_name(int(pid), name)
    return name.value.decode()


def line_name():
    """A fresh, random name for a unit process's line."""
    name = ctypes.create_string_buffer(PEER_NAME_MAX)
    if lib().mp_peer_line_name(name) != 0:
        raise WireError("no randomness for a line name")
    return name.value.decode()


def curve_keypair():
    """(public, secret) CURVE keys, Z85 text."""
    public, secret = ctypes.create_string_buffer(41), ctypes.create_string_buffer(41)
    if lib().mpc_curve_keypair(public, secret) != 0:
        raise WireError("cannot draw a CURVE key pair")
    return public.value.decode(), secret.value.decode()


def parse_peer(name):
    """(role bit, run or pid) of a local peer's name; None when it names no such peer."""
    peer = _Peer()
    if lib().mp_peer_parse(name.encode(), ctypes.byref(peer)) != 0:
        return None
    return peer.role, peer.id


def generate_key(path):
    err = ctypes.create_string_buffer(512)
    if lib().mpc_key_generate(path.encode(), err, len(err)) != 0:
        raise WireError(err.value.decode())


def _encode(text):
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)


def spec(type_name):
    """The catalogue entry of a message type; ValueError when there is none."""
    lib()
    try:
        return CATALOGUE[type_name]
    except KeyError:
        raise ValueError("no message type %r in the catalogue" % (type_name,)) from None


def build(type_name, fields):
    """A new C message (free it with lib().mpc_msg_free) from a dict of fields by
    name; ValueError naming a field that is missing or not the type's."""
    so = lib()
    entry = spec(type_name)
    unknown = sorted(set(fields) - set(entry.fields))
    if unknown:
        raise ValueError("%s has no field %s (its fields: %s)"
                         % (type_name, ", ".join(unknown), ", ".join(entry.fields) or "none"))
    missing = [f for f in entry.fields if f not in fields]
    if missing:
        raise ValueError("%s lacks field %s" % (type_name, ", ".join(missing)))
    msg = so.mp_msg_new(entry.number)
    ok = True
    for kind, field in zip(entry.schema, entry.fields):
        value = fields[field]
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


def read(msg):
    """(type name, named tuple of its fields) of a C message, which is then freed."""
    so = lib()
    try:
        entry = CATALOGUE[NUMBERS[so.mp_msg_type(msg)]]
        size = ctypes.c_size_t()
        values = []
        for i, kind in enumerate(entry.schema):
            if kind == "u":
                values.append(so.mp_msg_u64(msg, i))
            elif kind == "i":
                values.append(so.mp_msg_i64(msg, i))
            elif kind == "s":
                values.append(so.mp_msg_str(msg, i).decode("utf-8", "surrogateescape"))
            elif kind == "b":
                ptr = so.mp_msg_bin(msg, i, ctypes.byref(size))
                values.append(ctypes.string_at(ptr, size.value) if size.value else b"")
            else:
                count = so.mp_msg_count(msg, i)
                if kind == "S":
                    values.append(
                        [so.mp_msg_str_at(msg, i, j).decode("utf-8", "surrogateescape")
                         for j in range(count)]
                    )
                elif kind == "B":
                    items = []
                    for j in range(count):
                        ptr = so.mp_msg_bin_at(msg, i, j, ctypes.byref(size))
                        items.append(ctypes.string_at(ptr, size.value) if size.value else b"")
                    values.append(items)
                else:
                    values.append([so.mp_msg_u64_at(msg, i, j) for j in range(count)])
        return entry.name, entry.tuple(*values)
    finally:
        so.mpc_msg_free(msg)


class Client:
    """One signed connection to an agent or a coordinator."""

    def __init__(self, endpoint, key_file, name, curve_cert=None, coord_cert=None,
                 _line_keys=None):
        """curve_cert (this client's key pair) and coord_cert (the coordinator's public
        key) turn on CURVE; both are files as `mp-coord --gen-cert` writes them."""
        so = lib()
        err = ctypes.create_string_buffer(512)
        if _line_keys is None:
            self._handle = so.mpc_new_curve(
                endpoint.encode(), (key_file or "").encode(), name.encode(),
                (curve_cert or "").encode(), (coord_cert or "").encode(), err, len(err)
            )
        else:
            public, secret, server = _line_keys
            self._handle = so.mpc_new_line(
                endpoint.encode(), (key_file or "").encode(), name.encode(),
                public.encode(), secret.encode(), server.encode(), err, len(err)
            )
        if not self._handle:
            raise WireError(err.value.decode())
        self.endpoint = endpoint
        self.name = name

    @classmethod
    def line(cls, endpoint, key_file, name, public="", secret="", server=""):
        """A unit process's line to the coordinator (mpc_new_line): CURVE with the
        key pair public/secret when server, the coordinator's key (Z85), is given."""
        return cls(endpoint, key_file, name, _line_keys=(public, secret, server))

    def _error(self):
        return lib().mpc_error(self._handle).decode()

    def send(self, type_name, /, **fields):
        """Posts a message, fields by name, without waiting for an answer."""
        so = lib()
        msg = build(type_name, fields)
        try:
            if so.mpc_send(self._handle, msg) == 0:
                raise WireError(self._error())
        finally:
            so.mpc_msg_free(msg)

    def request(self, type_name, /, timeout=-1, **fields):
        """Sends a request, fields by name, and returns the reply as a named tuple;
        raises WireError on an ERROR reply or when no reply comes within timeout ms
        (-1: forever)."""
        so = lib()
        msg = build(type_name, fields)
        try:
            reply = so.mpc_request(self._handle, msg, int(timeout))
        finally:
            so.mpc_msg_free(msg)
        if not reply:
            raise WireError("%s to %s: %s" % (type_name, self.endpoint, self._error()),
                            so.mpc_errno(self._handle))
        name, values = read(reply)
        if name == "ERROR":
            raise WireError("%s refused: %s" % (type_name, values.reason), values.code,
                            refused=True)
        return values

    def request_all(self, type_name, many, window=256, timeout=-1):
        """Sends a request of type_name for each dict of fields in many, at most window
        unanswered at a time, and waits until every one is answered (mpc_request_all):
        about one round trip for all. Raises WireError at the first refused, or when an
        answer takes longer than timeout ms."""
        so = lib()
        msgs = []
        try:
            for fields in many:
                msgs.append(build(type_name, fields))
            if not msgs:
                return
            array = (ctypes.c_void_p * len(msgs))(*msgs)
            rc = so.mpc_request_all(self._handle, array, len(msgs), window, int(timeout))
        finally:
            for msg in msgs:
                so.mpc_msg_free(msg)
        if rc != 0:
            raise WireError("%s to %s: %s" % (type_name, self.endpoint, self._error()), rc)

    def recv(self, timeout=-1):
        """(type name, named tuple) of the next message, or None on timeout."""
        msg = lib().mpc_recv(self._handle, int(timeout))
        if not msg:
            return None
        return read(msg)

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
