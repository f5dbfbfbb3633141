"""Test hosts made as Linux network namespaces on this machine (root only), and a lab
of one mp-coord here with one mp-agent in each of them."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(os.environ.get("MP_BIN_DIR") or Path(sys.executable).parent)
PORT = 17700


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def netns_hosts(hosts, bridge, coord_ip):
    """A bridge in this namespace with coord_ip/24, and a namespace per host wired to
    it by a veth pair (addresses .11, .12, ... of the same /24): yields the hosts."""
    made = []
    prefix = coord_ip.rsplit(".", 1)[0]
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", coord_ip + "/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for n, host in enumerate(hosts, start=11):
            ip("netns", "add", host)
            made.append(host)
            outside, inside = "v%s" % host[2:], "eth0"
            ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", host)
            ip("link", "set", outside, "master", bridge, "up")
            ip("-n", host, "addr", "add", "%s.%d/24" % (prefix, n), "dev", inside)
            ip("-n", host, "link", "set", inside, "up")
            ip("-n", host, "link", "set", "lo", "up")
        yield tuple(hosts)
    finally:
        for host in made:
            subprocess.run(["ip", "netns", "del", host], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)


class Lab:
    """mp-coord here on coord_ip, one mp-agent in each host namespace, each with its
    own work dir (workdirs: host -> path) and extra agent arguments (extra: host ->
    list)."""

    def __init__(self, tmp_path, hosts, coord_ip, workdirs, np, extra=None):
        self.key = tmp_path / "key"
        self.key.write_text("k" * 40 + "\n")
        self.key.chmod(0o600)
        self.endpoint = "tcp://%s:%d" % (coord_ip, PORT)
        self.logs = tmp_path
        #  Workers get their environment from their agent, not from the front end.
        self.records = tmp_path / "lab-records.jsonl"
        self.procs = []
        self._start("coord", [str(BIN / "mp-coord"), "--listen", self.endpoint,
                              "--key-file", str(self.key)])
        for host in hosts:
            self._start(host, ["ip", "netns", "exec", host, str(BIN / "mp-agent"),
                               "--connect", self.endpoint, "--np", str(np),
                               "--key-file", str(self.key), "--workdir", str(workdirs[host]),
                               "--python", sys.executable, "--name", host,
                               *(extra or {}).get(host, [])])
        deadline = time.monotonic() + 20
        while self.log("coord").count("joined") < len(hosts):
            assert time.monotonic() < deadline, "agents did not join:\n" + self.log("coord")
            time.sleep(0.1)

    def _start(self, name, argv):
        env = dict(os.environ, MP_E2E_RECORD_FILE=str(self.records))
        with open(self.logs / (name + ".log"), "wb") as log:
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=log, env=env))

    def log(self, name):
        return (self.logs / (name + ".log")).read_text(errors="replace")

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
