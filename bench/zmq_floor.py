"""The floor of a sync request: bare ZeroMQ DEALER -> ROUTER round trips over ipc://.

Talks to Debian's libzmq5 (libzmq.so.5) through ctypes, as the plugin talks to its
own client library, so that the figure includes what a call from Python costs but no
message building, signing or relaying. Two paths are timed, each with its own echo
process (a ROUTER that sends every message back, frame for frame):

  direct   a DEALER in this process -> the echo's ROUTER: one hop, the target's floor;
  relayed  a DEALER -> a relay process (zmq_proxy between a ROUTER and a DEALER) ->
           the echo: two hops, the shape of a unit process's request, which goes
           unit -> mp-agent -> mp-coord and back (for reading, not for a target).

Usage: python bench/zmq_floor.py [--n N] [--size BYTES]
Prints one JSON object: microseconds per round trip for each path.
"""

import argparse
import ctypes
import json
import os
import signal
import sys
import tempfile
import time

ZMQ_DEALER, ZMQ_ROUTER = 5, 6
ZMQ_SNDMORE = 2
ZMQ_RCVMORE = 13
ZMQ_LINGER = 17
FRAME_MAX = 65536
WARM_UP = 50

P, I, Z = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t


def load():
    so = ctypes.CDLL("libzmq.so.5", use_errno=True)
    for name, restype, argtypes in (
        ("zmq_ctx_new", P, []),
        ("zmq_ctx_term", I, [P]),
        ("zmq_socket", P, [P, I]),
        ("zmq_close", I, [P]),
        ("zmq_bind", I, [P, ctypes.c_char_p]),
        ("zmq_connect", I, [P, ctypes.c_char_p]),
        ("zmq_send", I, [P, ctypes.c_void_p, Z, I]),
        ("zmq_recv", I, [P, ctypes.c_void_p, Z, I]),
        ("zmq_setsockopt", I, [P, I, ctypes.c_void_p, Z]),
        ("zmq_getsockopt", I, [P, I, ctypes.c_void_p, ctypes.POINTER(Z)]),
        ("zmq_proxy", I, [P, P, P]),
        ("zmq_strerror", ctypes.c_char_p, [I]),
    ):
        fn = getattr(so, name)
        fn.restype, fn.argtypes = restype, argtypes
    return so


def check(so, rc, what):
    if rc is None or rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, so.zmq_strerror(err).decode()))
    return rc


def socket(so, ctx, kind, bind=None, connect=None):
    sock = so.zmq_socket(ctx, kind)
    if not sock:
        check(so, -1, "zmq_socket")
    zero = ctypes.c_int(0)
    so.zmq_setsockopt(sock, ZMQ_LINGER, ctypes.byref(zero), ctypes.sizeof(zero))
    if bind:
        check(so, so.zmq_bind(sock, bind.encode()), "zmq_bind " + bind)
    if connect:
        check(so, so.zmq_connect(sock, connect.encode()), "zmq_connect " + connect)
    return sock


def serve_echo(endpoint):
    """In a child process: a ROUTER at endpoint sending back every message as it came."""
    so = load()
    ctx = so.zmq_ctx_new()
    sock = socket(so, ctx, ZMQ_ROUTER, bind=endpoint)
    buf = ctypes.create_string_buffer(FRAME_MAX)
    more = ctypes.c_int(0)
    size = Z(ctypes.sizeof(more))
    frames = []
    while True:
        n = so.zmq_recv(sock, buf, FRAME_MAX, 0)
        if n < 0:
            continue  # interrupted
        frames.append(buf.raw[:n])
        so.zmq_getsockopt(sock, ZMQ_RCVMORE, ctypes.byref(more), ctypes.byref(size))
        if more.value:
            continue
        for i, frame in enumerate(frames):
            so.zmq_send(sock, frame, len(frame), ZMQ_SNDMORE if i < len(frames) - 1 else 0)
        frames = []


def serve_relay(front, back):
    """In a child process: a ROUTER at front relayed to a DEALER connected to back."""
    so = load()
    ctx = so.zmq_ctx_new()
    frontend = socket(so, ctx, ZMQ_ROUTER, bind=front)
    backend = socket(so, ctx, ZMQ_DEALER, connect=back)
    so.zmq_proxy(frontend, backend, None)


def spawn(target, *args):
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            target(*args)
        except BaseException as error:  # noqa: BLE001 - reported, then the child exits
            print("zmq_floor child: %r" % (error,), file=sys.stderr)
        finally:
            os._exit(code)
    return pid


def round_trips(so, sock, n, payload):
    buf = ctypes.create_string_buffer(FRAME_MAX)
    for _ in range(WARM_UP):
        check(so, so.zmq_send(sock, payload, len(payload), 0), "zmq_send")
        check(so, so.zmq_recv(sock, buf, FRAME_MAX, 0), "zmq_recv")
    start = time.perf_counter()
    for _ in range(n):
        so.zmq_send(sock, payload, len(payload), 0)
        got = so.zmq_recv(sock, buf, FRAME_MAX, 0)
        if got != len(payload):
            check(so, -1 if got < 0 else 0, "echo of %d bytes came back as %d" % (
                len(payload), got))
    return (time.perf_counter() - start) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="round trips per path")
    parser.add_argument("--size", type=int, default=128, help="bytes per message")
    args = parser.parse_args(argv)
    so = load()  # before forking: children load their own contexts
    payload = b"x" * args.size
    with tempfile.TemporaryDirectory(prefix="pytest-mp-zmq-") as tmp:
        echo_direct = "ipc://%s/echo-direct" % tmp
        echo_relayed = "ipc://%s/echo-relayed" % tmp
        relay = "ipc://%s/relay" % tmp
        children = [spawn(serve_echo, echo_direct), spawn(serve_echo, echo_relayed),
                    spawn(serve_relay, relay, echo_relayed)]
        ctx = so.zmq_ctx_new()
        try:
            direct = socket(so, ctx, ZMQ_DEALER, connect=echo_direct)
            relayed = socket(so, ctx, ZMQ_DEALER, connect=relay)
            result = {
                "n": args.n, "size": args.size,
                "direct_s": round_trips(so, direct, args.n, payload),
                "relayed_s": round_trips(so, relayed, args.n, payload),
            }
            so.zmq_close(direct)
            so.zmq_close(relayed)
        finally:
            for pid in children:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        so.zmq_ctx_term(ctx)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
