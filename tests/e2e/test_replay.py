"""Traffic captured by a recording proxy and played again, byte for byte, on a new TCP
connection changes nothing: no phantom agent, no board write, no lock. Loopback only."""

import os
import socket
import subprocess
import sys
import threading
import time

from pytest_mp.wire import Client

from conftest import free_port

BIN = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)


class RecordingProxy:
    """Forwards one connection from listen_port to target_port, both ways, and keeps
    every byte the client sent."""

    def __init__(self, listen_port, target_port):
        self.recorded = bytearray()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", listen_port))
        self.server.listen(1)
        self.target_port = target_port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        client, _ = self.server.accept()
        deadline = time.monotonic() + 10
        while True:
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source, sink, record):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if record:
                    self.recorded += data
                sink.sendall(data)
        except OSError:
            pass


def replay(recorded, port):
    """Plays a captured ZMTP stream again on a new connection, as an attacker would:
    the greeting and READY first, the messages once the server has greeted back."""
    ready_end = 64 + 2 + recorded[65]  # the greeting, then READY as a short command
    thief = socket.create_connection(("127.0.0.1", port))
    thief.settimeout(5)
    thief.sendall(bytes(recorded[:ready_end]))
    greeted = b""
    while len(greeted) < 66 or len(greeted) < 66 + greeted[65]:
        data = thief.recv(4096)
        assert data, "the coordinator closed the connection during the handshake"
        greeted += data
    thief.sendall(bytes(recorded[ready_end:]))
    return thief


def test_replayed_traffic_adds_no_agent_and_writes_nothing(suite, tmp_path):
    key = tmp_path / "key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    coord_port, proxy_port = free_port(), free_port()
    endpoint = "tcp://127.0.0.1:%d" % coord_port
    log = open(tmp_path / "daemons.log", "w")
    coord = subprocess.Popen([os.path.join(BIN, "mp-coord"), "--listen", endpoint,
                              "--key-file", str(key)], stdout=log, stderr=log)
    proxy = RecordingProxy(proxy_port, coord_port)
    agent = subprocess.Popen(
        [os.path.join(BIN, "mp-agent"), "--connect", "tcp://127.0.0.1:%d" % proxy_port,
         "--np", "2", "--key-file", str(key), "--workdir", str(suite.path),
         "--python", sys.executable, "--name", "a1"], stdout=log, stderr=log)
    try:
        suite.write("test_board.py", """
            def test_write(mp_message_board, mp_lock):
                with mp_lock:
                    mp_message_board["k"] = "first"
        """)
        result = suite.run_plain("--mp", "--mp-coord", endpoint, "--mp-key-file=%s" % key,
                                 "--mp-wait", "20")
        assert result.returncode == 0, result.log
        # The capture holds the agent's HELLO and heartbeats, and, relayed, the unit
        # process's UNIT_STARTED, LOCK_ACQUIRE, BOARD_SET, LOCK_RELEASE and reports.
        thief = replay(proxy.recorded, coord_port)
        time.sleep(1.5)
        client = Client(endpoint, str(key), "probe")
        try:
            assert client.request("AGENTS", timeout=5000).value == 1  # no phantom agent
        finally:
            client.close()
        thief.close()
        log.flush()
        text = (tmp_path / "daemons.log").read_text()
        assert "HELLO number" in text and "replayed or reordered" in text, text
        assert text.count(") joined") == 1, text
        # The coordinator serves on: a new run goes through.
        result = suite.run_plain("--mp", "--mp-coord", endpoint, "--mp-key-file=%s" % key)
        assert result.returncode == 0, result.log
    finally:
        for proc in (agent, coord):
            proc.terminate()
            proc.wait(10)
        log.close()
