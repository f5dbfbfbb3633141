"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): valid
encodings of every message type of the catalogue, in each target's input layout (see
the top of each fuzz_<target>.c), plus a few truncated, oversized and mutated ones.

  fuzz_decode       valid-<TYPE>-0/1 (the hand-written seeds there are kept)
  fuzz_header       header frames
  fuzz_body         type byte + body frame
  fuzz_scan         two spec bytes + msgpack frame
  fuzz_client_recv  flag byte + length-prefixed frames
  fuzz_wire         flag byte + length-prefixed frames
  fuzz_sequence     0 + a peer name, or 1 + (session, number, clock step) records

The corpora of the other targets are rewritten whole. Run after changing the catalogue
(the catalogue is read from the client library, as the plugin reads it):
    .venv/bin/python tests/fuzz/make_seeds.py
(MP_CLIENT_LIB=build/libmpclient.so to use a fresh build rather than the installed one).
"""

import ctypes
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))
from pytest_mp import wire  # noqa: E402

CORPORA = Path(__file__).resolve().parent / "corpus"


def pack(value):
    """The msgpack forms the wire uses: uint, int, str, bin, array (the shortest form
    for small values, the widest otherwise, as the seeds want both)."""
    if isinstance(value, bool):
        raise TypeError("no booleans on the wire")
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if 0 <= value:
            return b"\xcf" + struct.pack(">Q", value)
        if value >= -32:
            return struct.pack(">b", value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, str):
        data = value.encode()
        if len(data) < 32:
            return bytes([0xA0 | len(data)]) + data
        return b"\xdb" + struct.pack(">I", len(data)) + data
    if isinstance(value, bytes):
        return b"\xc6" + struct.pack(">I", len(value)) + value
    if len(value) < 16:
        head = bytes([0x90 | len(value)])
    else:
        head = b"\xdd" + struct.pack(">I", len(value))
    return head + b"".join(pack(v) for v in value)


def sample(kind, variant):
    """A value of a field type: variant 0 empty or small, 1 typical, 2 over the fuzz
    targets' tight limits (16-byte strings, 4-element lists)."""
    long_str = "tests/test_long.py::TestClass::test_name[param]"
    return {
        "u": [7, 2**40, 2**64 - 1][variant],
        "i": [-9, 3, -(2**63)][variant],
        "s": ["", "tests/test_x.py::test_y[1]", long_str][variant],
        "b": [b"", b"\x00\x80payload", bytes(range(40))][variant],
        "S": [[], ["a", "tests/test_b.py::TestC::test_d"], ["s%d" % i for i in range(5)]][variant],
        "B": [[], [b"\x00", b"value"], [b"x" * i for i in range(5)]][variant],
        "U": [[], [1, 2**33], list(range(5))][variant],
    }[kind]


def wrong(kind):
    """A value of another type than kind."""
    return {"u": -1, "i": "x", "s": 0, "b": "x", "S": 0, "B": 0, "U": "x"}[kind]


class _Frames(ctypes.Structure):
    _fields_ = [("header", ctypes.POINTER(ctypes.c_uint8)), ("header_len", ctypes.c_size_t),
                ("body", ctypes.POINTER(ctypes.c_uint8)), ("body_len", ctypes.c_size_t),
                ("mac", ctypes.c_uint8 * 32)]


class _Key(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint8 * 256), ("len", ctypes.c_size_t)]


def header(number, reqid=1, frm="fe1", to="z1", ts=1):
    """The header frame the C codec writes (so the seeds follow the header's layout)."""
    so = wire.lib()
    P, U = ctypes.c_void_p, ctypes.c_uint64
    for name, restype, argtypes in (
            ("mp_msg_set_reqid", None, [P, U]), ("mp_msg_set_ts", None, [P, U]),
            ("mp_msg_set_from", ctypes.c_int, [P, ctypes.c_char_p]),
            ("mp_msg_set_to", ctypes.c_int, [P, ctypes.c_char_p]),
            ("mp_codec_encode", ctypes.c_int,
             [P, ctypes.POINTER(_Key), ctypes.POINTER(_Frames), ctypes.c_char_p, ctypes.c_size_t]),
            ("mp_frames_clear", None, [ctypes.POINTER(_Frames)])):
        getattr(so, name).restype, getattr(so, name).argtypes = restype, argtypes
    name = wire.NUMBERS[number]
    entry = wire.CATALOGUE[name]
    msg = wire.build(name, {f: sample(k, 1) for k, f in zip(entry.schema, entry.fields)})
    so.mp_msg_set_reqid(msg, reqid)
    so.mp_msg_set_ts(msg, ts)
    so.mp_msg_set_from(msg, frm.encode())
    so.mp_msg_set_to(msg, to.encode())
    frames, err = _Frames(), ctypes.create_string_buffer(256)
    if so.mp_codec_encode(msg, ctypes.byref(_Key()), ctypes.byref(frames), err, len(err)) != 0:
        raise RuntimeError(err.value.decode())
    data = ctypes.string_at(frames.header, frames.header_len)
    so.mp_frames_clear(ctypes.byref(frames))
    so.mpc_msg_free(msg)
    return data


def unpack_array(data):
    """The elements of a msgpack array of uints and strs (a header), each as its bytes."""
    if data[0] & 0xF0 != 0x90:
        raise ValueError("not a fixarray")
    items, at = [], 1
    for _ in range(data[0] & 0x0F):
        tag = data[at]
        if tag < 0x80:
            size = 1
        elif 0xCC <= tag <= 0xCF:
            size = 1 + (1 << (tag - 0xCC))
        elif tag & 0xE0 == 0xA0:
            size = 1 + (tag & 0x1F)
        elif tag == 0xD9:
            size = 2 + data[at + 1]
        else:
            raise ValueError("unexpected tag 0x%02x" % tag)
        items.append(data[at:at + size])
        at += size
    return items


def repack(items):
    return bytes([0x90 | len(items)]) + b"".join(items)


def mutate(data, index, raw):
    """data (an array) with element index replaced by the bytes raw."""
    items = unpack_array(data)
    items[index] = raw
    return repack(items)


def body(schema, variant):
    return pack([sample(kind, variant) for kind in schema])


def write(target, files):
    directory = CORPORA / target
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)


def rewrite(target, files):
    directory = CORPORA / target
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    write(target, files)


def decode_seeds(types):
    files = {}
    for name, number, schema in types:
        for variant in (0, 1):
            head = header(number, variant + 1, "fe1", "z1" if variant else "")
            data = body(schema, variant)
            files["valid-%s-%d" % (name, variant)] = (
                struct.pack(">HI", len(head), len(data)) + head + data + bytes(32))
    return files


def header_seeds(types):
    files = {"valid-%s" % name: header(number) for name, number, _ in types}
    ok = types[0][1]
    good = header(ok)
    items = unpack_array(good)
    version = items[0][0]
    files.update({
        "reqid-0": header(ok, reqid=0),
        "reqid-max": header(ok, reqid=2**64 - 1),
        "long-names": header(ok, frm="f" * 40, to="t" * 17),
        "empty-names": header(ok, frm="", to=""),
        "ts-max": header(ok, ts=2**64 - 1),
        "ts-0": mutate(good, 5, b"\x00"),
        "over-64-bytes": header(ok, frm="x" * 31, to="y" * 31),
        "array16": b"\xdc\x00" + bytes([len(items)]) + b"".join(items),
        "array32": b"\xdd\x00\x00\x00" + bytes([len(items)]) + b"".join(items),
        "type-uint8": mutate(good, 1, b"\xcc" + bytes([ok])),
        "type-int8": mutate(good, 1, b"\xd0" + bytes([ok])),
        "version-next": mutate(good, 0, pack(version + 1)),
        "version-negative": mutate(good, 0, pack(-1)),
        "type-0": mutate(good, 1, pack(0)),
        "type-unknown": mutate(good, 1, pack(200)),
        "type-huge": mutate(good, 1, pack(2**40)),
        "field-short": repack(items[:-1]),
        "field-more": repack(items + [b"\x01"]),
        "nul-in-from": mutate(good, 3, pack("a\x00b")),
        "str8-from": mutate(good, 3, b"\xd9\x03abc"),
        "bytes-for-from": mutate(good, 3, pack(b"a")),
        "list-for-to": mutate(good, 4, pack(["b"])),
        "negative-reqid": mutate(good, 2, pack(-5)),
        "nil-last": mutate(good, len(items) - 1, b"\xc0"),
        "float-last": mutate(good, len(items) - 1, b"\xcb" + struct.pack(">d", 1.0)),
        "map-last": mutate(good, len(items) - 1, b"\x80"),
        "truncated": good[:-3],
        "trailing": good + b"\x00",
        "empty": b"",
    })
    return files


def body_seeds(types):
    files = {}
    for index, (name, number, schema) in enumerate(types):
        tag = bytes([index])
        for variant in (0, 1, 2):
            files["valid-%s-%d" % (name, variant)] = tag + body(schema, variant)
        good = body(schema, 1)
        files["truncated-%s" % name] = tag + good[:-1]
        if schema:
            values = [sample(kind, 1) for kind in schema]
            values[-1] = wrong(schema[-1])
            files["wrong-type-%s" % name] = tag + pack(values)
        files["extra-field-%s" % name] = tag + pack(
            [sample(kind, 1) for kind in schema] + [0])
    index = {name: i for i, (name, _, _) in enumerate(types)}
    events = bytes([index["EVENTS"]])
    unit_exit = bytes([index["UNIT_EXIT"]])
    files.update({
        "int-too-big-UNIT_EXIT": unit_exit + pack([1, 2, 3, 2**63]),
        "nested-EVENTS": events + pack([1, [["a"]], [], [], []]),
        "nul-EVENTS": events + pack([1, ["a\x00"], [], [], []]),
        "huge-list-EVENTS": events + b"\x95\x01\xdd\xff\xff\xff\xff",
        "huge-bin-EVENTS": events + b"\x95\x01\x90\x90\x90\x91\xc6\xff\xff\xff\xff",
    })
    return files


def scan_seeds(types):
    def spec(count, depth=2, max_list=63, header_frame=False, named=True):
        return bytes([count | (0x10 if named else 0) | (0x20 if header_frame else 0),
                      (depth - 1) | (max_list << 2)])

    files = {}
    for name, number, schema in types:
        files["body-%s" % name] = spec(len(schema)) + body(schema, 1)
    for name, number, _ in types[:3]:
        head = header(number)
        files["header-%s" % name] = spec(len(unpack_array(head)), 1, 0, True, False) + head
    one = spec(1)
    files.update({
        "uint-widths": spec(5) + b"\x95\x7f\xcc\xff\xcd\xff\xff\xce" + bytes(4) + b"\xcf" + bytes(8),
        "int-widths": spec(5) + b"\x95\xe0\xd0\x80\xd1" + bytes(2) + b"\xd2" + bytes(4) + b"\xd3" + bytes(8),
        "str-widths": spec(4) + b"\x94\xa1a\xd9\x01a\xda\x00\x01a\xdb\x00\x00\x00\x01a",
        "bin-widths": spec(3) + b"\x93\xc4\x01a\xc5\x00\x01a\xc6\x00\x00\x00\x01a",
        "floats": spec(2) + b"\x92\xca" + bytes(4) + b"\xcb" + bytes(8),
        "nil-bools": spec(3) + b"\x93\xc0\xc2\xc3",
        "array16": spec(1) + b"\xdc\x00\x01\x00",
        "array32": spec(1) + b"\xdd\x00\x00\x00\x01\x00",
        "nested-ok": one + b"\x91\x92\x01\x02",
        "nested-deep": one + b"\x91\x91\x91\x00",
        "list-over-limit": spec(1, 2, 2) + b"\x91\x93\x01\x02\x03",
        "fixmap": one + b"\x91\x80",
        "map16": one + b"\x91\xde\x00\x00",
        "fixext": one + b"\x91\xd4\x01\x00",
        "ext8": one + b"\x91\xc7\x01\x01\x00",
        "invalid-c1": one + b"\x91\xc1",
        "truncated-str": one + b"\x91\xdb\x00\x00\x01\x00ab",
        "truncated-len": one + b"\x91\xda\x00",
        "truncated-array": spec(3) + b"\x93\x01",
        "huge-array": one + b"\x91\xdd\xff\xff\xff\xff",
        "huge-top": one + b"\xdd\xff\xff\xff\xff",
        "wrong-count": spec(2) + b"\x91\x01",
        "not-array": one + b"\x01",
        "trailing": one + b"\x91\x01\x01",
        "empty": one,
        "zero-count": spec(0) + b"\x90",
    })
    return files


def frames(flags, *parts):
    return bytes([flags]) + b"".join(struct.pack(">H", len(p)) + p for p in parts)


SIGN, REQUEST, FRESH = 1, 2, 4


def client_seeds(types):
    files = {}
    numbers = {name: number for name, number, _ in types}
    index = {name: i for i, (name, _, _) in enumerate(types)}
    schemas = {name: schema for name, _, schema in types}
    for i, (name, number, schema) in enumerate(types):
        # A fresh header with reqid 0 that mpc_recv returns.
        files["recv-%s" % name] = frames(SIGN | FRESH, bytes([i, 0]), body(schema, 1))
    for name in ("OK", "ERROR", "EVENTS"):
        b = body(schemas[name], 1)
        for selector, what in enumerate(("zero", "same", "earlier", "later")):
            files["request-%s-%s" % (name, what)] = frames(
                SIGN | REQUEST | FRESH, bytes([index[name], selector]), b)
        files["request-%s-literal" % name] = frames(
            SIGN | REQUEST | FRESH, bytes([index[name], 9]) + struct.pack(">Q", 3), b)
    ok_head, ok_body = header(numbers["OK"]), body(schemas["OK"], 1)
    files.update({
        "stale-signed": frames(SIGN, ok_head, ok_body),
        "stale-request": frames(SIGN | REQUEST, ok_head, ok_body),
        "bad-mac": frames(0, ok_head, ok_body, bytes(32)),
        "short-mac": frames(0, ok_head, ok_body, bytes(5)),
        "two-frames": frames(0, ok_head, ok_body),
        "one-frame": frames(0, ok_head),
        "four-frames": frames(SIGN | FRESH, bytes([index["OK"], 0]), ok_body, b"", b"x"),
        "four-frames-request": frames(SIGN | REQUEST | FRESH, bytes([index["OK"], 1]),
                                      ok_body, b"", b"x"),
        "empty-frames": frames(SIGN, b"", b""),
        "no-frames": bytes([REQUEST]),
        "fresh-wrapping-type": frames(SIGN | FRESH, bytes([0xff, 0]), ok_body),
        "fresh-bad-body": frames(SIGN | FRESH, bytes([index["OK"], 0]), b"\x91\xc0"),
    })
    return files


def wire_seeds(types):
    files = {}
    for name, number, schema in types:
        files["valid-%s" % name] = frames(SIGN, header(number), body(schema, 1))
    by_name = {name: (number, schema) for name, number, schema in types}
    ok_head, ok_body = header(by_name["OK"][0]), body(by_name["OK"][1], 1)
    files.update({
        "tight-EVENTS": frames(SIGN, header(by_name["EVENTS"][0]), body(by_name["EVENTS"][1], 2)),
        "bad-mac": frames(0, ok_head, ok_body, bytes(32)),
        "short-mac": frames(0, ok_head, ok_body, bytes(5)),
        "two-frames": frames(0, ok_head, ok_body),
        "one-frame": frames(0, ok_head),
        "four-frames": frames(SIGN, ok_head, ok_body, b"", b"x"),
        "empty-frames": frames(SIGN, b"", b""),
        "no-frames": bytes([SIGN]),
        "bad-body": frames(SIGN, ok_head, b"\x91\xc0"),
        "ts-0": frames(SIGN, mutate(ok_head, 5, b"\x00"), ok_body),
    })
    return files


def sequence_seeds():
    files = {}
    for name in ("z1", "u4242", "z18446744073709551615", "u0", "z01", "u-1", "agent", "u"):
        files["peer-%s" % name] = b"\x00" + name.encode()
    files["window-in-order"] = b"\x01" + bytes([7, 1, 0, 7, 2, 0, 7, 3, 1])
    files["window-replay"] = b"\x01" + bytes([7, 5, 0, 7, 5, 0, 7, 4, 0, 9, 1, 0])
    files["window-forget"] = b"\x01" + bytes([7, 5, 0, 7, 1, 200, 7, 2, 0])
    files["window-unsequenced"] = b"\x01" + bytes([0, 1, 0, 0, 1, 0])
    return files


def main():
    catalogue = wire.CATALOGUE
    types = sorted(((name, spec.number, spec.schema) for name, spec in catalogue.items()),
                   key=lambda t: t[1])
    write("fuzz_decode", decode_seeds(types))
    rewrite("fuzz_header", header_seeds(types))
    rewrite("fuzz_body", body_seeds(types))
    rewrite("fuzz_scan", scan_seeds(types))
    rewrite("fuzz_client_recv", client_seeds(types))
    rewrite("fuzz_wire", wire_seeds(types))
    rewrite("fuzz_sequence", sequence_seeds())


if __name__ == "__main__":
    main()
