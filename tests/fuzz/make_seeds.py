"""Writes a valid seed for every message type of the catalogue into the fuzz_decode
corpus (valid-<TYPE>-0/1), in the target's input layout: 2-byte header length, 4-byte
body length, header, body, MAC (zeros: the target signs each input itself too).

Run after changing the catalogue: .venv/bin/python tests/fuzz/make_seeds.py
"""

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))
from pytest_mp import wire  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus" / "fuzz_decode"


def pack(value):
    """The few msgpack forms the wire uses: uint, int, str, bin, array."""
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
    return {
        "u": [7, 2**40][variant],
        "i": [-9, 3][variant],
        "s": ["", "tests/test_x.py::test_y[1]"][variant],
        "b": [b"", b"\x00\x80payload"][variant],
        "S": [[], ["a", "tests/test_b.py::TestC::test_d"]][variant],
        "B": [[], [b"\x00", b"value"]][variant],
        "U": [[], [1, 2**33]][variant],
    }[kind]


def main():
    wire.lib()
    for name, number in sorted(wire.TYPES.items()):
        schema = wire.SCHEMAS[number]
        for variant in (0, 1):
            header = pack([1, number, variant + 1, "fe1", "z1" if variant else "", 1])
            body = pack([sample(kind, variant) for kind in schema])
            data = struct.pack(">HI", len(header), len(body)) + header + body + bytes(32)
            (CORPUS / ("valid-%s-%d" % (name, variant))).write_bytes(data)


if __name__ == "__main__":
    main()
