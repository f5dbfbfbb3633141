"""CURVE on TCP: the coordinator lets in only keys from its two allow-lists, and a key
decides the role: an agent's key can run tests, a client's key can submit them, and
neither can act as the other. Loopback only."""

import os
import subprocess
import sys
import time

import pytest

from conftest import free_port

BIN = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)


class CurveLab:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        for name in ("coord", "agent", "client", "stranger"):
            subprocess.run([os.path.join(BIN, "mp-coord"), "--gen-cert",
                            str(tmp_path / (name + ".cert"))], check=True, capture_output=True)
        for role in ("agents", "clients"):
            (tmp_path / role).mkdir()
        (tmp_path / "agents" / "agent.cert").write_bytes((tmp_path / "agent.cert").read_bytes())
        (tmp_path / "clients" / "client.cert").write_bytes(
            (tmp_path / "client.cert").read_bytes())
        self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        self.log = open(tmp_path / "daemons.log", "w")
        self.procs = [subprocess.Popen(
            [os.path.join(BIN, "mp-coord"), "--listen", self.endpoint,
             "--curve-cert", str(tmp_path / "coord.cert_secret"),
             "--agent-keys", str(tmp_path / "agents"),
             "--client-keys", str(tmp_path / "clients")],
            stdout=self.log, stderr=self.log)]

    def agent(self, workdir, cert, name):
        self.procs.append(subprocess.Popen(
            [os.path.join(BIN, "mp-agent"), "--connect", self.endpoint, "--np", "2",
             "--workdir", str(workdir), "--python", sys.executable, "--name", name,
             "--curve-cert", str(self.tmp / (cert + ".cert_secret")),
             "--coord-cert", str(self.tmp / "coord.cert")],
            stdout=self.log, stderr=self.log))

    def front(self, suite, cert, *args):
        return suite.run_plain("--mp", "--mp-coord", self.endpoint,
                               "--mp-curve-cert", str(self.tmp / (cert + ".cert_secret")),
                               "--mp-coord-cert", str(self.tmp / "coord.cert"), *args,
                               timeout=60)

    def log_text(self):
        self.log.flush()
        return (self.tmp / "daemons.log").read_text()

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
            proc.wait(10)
        self.log.close()


@pytest.fixture
def lab(tmp_path):
    lab = CurveLab(tmp_path)
    yield lab
    lab.stop()


def test_allowed_keys_run_a_suite(suite, lab):
    suite.write("test_one.py", "def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    lab.agent(suite.path, "agent", "a1")
    result = lab.front(suite, "client", "--mp-wait", "20")
    assert result.returncode == 0 and result.summary_count("passed") == 2, result.log
    assert "joined from 127.0.0.1" in lab.log_text()


def test_a_client_key_cannot_act_as_an_agent_nor_an_agent_key_as_a_client(suite, lab):
    suite.write("test_one.py", "def test_one():\n    pass\n")
    lab.agent(suite.path, "client", "impostor")  # a client's key, trying to be an agent
    time.sleep(3)
    assert ") joined" not in lab.log_text(), lab.log_text()
    assert "may not act as agent" in lab.log_text(), lab.log_text()
    # An agent's key cannot submit a run.
    result = lab.front(suite, "agent", "--mp-wait", "1")
    assert result.returncode == 2, result.log
    assert result.started == []


def test_a_key_in_no_allow_list_gets_no_connection(suite, lab):
    suite.write("test_one.py", "def test_one():\n    pass\n")
    lab.agent(suite.path, "stranger", "stranger")
    time.sleep(3)
    text = lab.log_text()
    assert ") joined" not in text and "is in no allow-list" in text, text
