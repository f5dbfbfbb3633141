"""Checks of the deployment files in deploy/ and docs/deploy.md.

- systemd: `systemd-analyze verify` and `security --offline` on copies of the units
  whose ExecStart names the built daemons; then the units' command lines, expanded as
  systemd would from the example environment files, run a suite (shared key and CURVE).
- YAML: every file parses; Compose has a coordinator and three agents wired to it with
  a key from a secret; Kubernetes has the right kinds, a Service selecting the
  coordinator and a Job running the front end against it; the CI files run mp-coord,
  mp-agent and pytest --mp with matching agent counts.
- Options: every daemon option used anywhere in these files is in the daemon's --help
  (`--label` of mp-agent and `--gen-key` of mp-coord are allowed while pending), every
  --mp-* option is the plugin's.
- Dockerfile: Debian base, only apt-get installs of the packages deploy/setup.sh
  installs (plus an explicit runtime extra), the build CI runs (`make setup`).

Run by `make test-deploy` (MP_BIN_DIR names the daemons' directory, default build/).
Docker is not needed: no image is built.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(os.environ.get("MP_BIN_DIR") or ROOT / "build")
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
DAEMONS = ("mp-coord", "mp-agent")
#  Options being added by others: accepted while the daemon's --help lacks them.
PENDING = {"mp-agent": {"--label"}, "mp-coord": {"--gen-key"}}
#  Packages the image installs beyond deploy/setup.sh's list, and why.
IMAGE_EXTRAS = {"tini": "init process: reaps orphans, forwards signals"}

UNITS = ["systemd/mp-coord.service", "systemd/mp-agent@.service"]
REQUIRED = UNITS + [
    "systemd/coord.env.example", "systemd/agent.env.example",
    "systemd/pytest-mp.sysusers.conf",
    "container/Dockerfile", "container/entrypoint.sh", "container/project.Dockerfile",
    "compose/compose.yaml",
    "kubernetes/kustomization.yaml", "kubernetes/coordinator.yaml",
    "kubernetes/agents.yaml", "kubernetes/frontend-job.yaml", "kubernetes/secret.yaml",
    "ci/github-actions.yml", "ci/gitlab-ci.yml",
]
DEPLOY_DIRS = ["systemd", "container", "compose", "kubernetes", "ci"]


def deploy_files():
    files = [p for d in DEPLOY_DIRS for p in sorted((DEPLOY / d).rglob("*")) if p.is_file()]
    return files + [ROOT / "docs" / "deploy.md"]


def yaml_files():
    return [p for p in deploy_files() if p.suffix in (".yaml", ".yml")]


@pytest.fixture(scope="session")
def yaml():
    try:
        import yaml as module
    except ImportError:
        pytest.skip("python3-yaml is not installed (deploy/setup.sh installs it)")
    return module


def load_yaml(yaml, name):
    with open(DEPLOY / name) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def binary(name):
    path = BIN / name
    if not os.access(path, os.X_OK):
        pytest.fail("%s is missing: build first (make setup), or set MP_BIN_DIR" % path)
    return path


def test_every_file_is_there():
    missing = [name for name in REQUIRED if not (DEPLOY / name).is_file()]
    assert not missing, "missing deploy files: %s" % missing
    assert (ROOT / "docs" / "deploy.md").is_file()
    assert os.access(DEPLOY / "container" / "entrypoint.sh", os.X_OK)


# --- options ----------------------------------------------------------------------------

def help_options(daemon):
    out = subprocess.run([str(binary(daemon)), "--help"], capture_output=True, text=True,
                         timeout=10)
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "usage" in text, text
    options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", text)) | {"--help", "-h"}
    return options


def plugin_options():
    source = (ROOT / "plugin" / "pytest_mp" / "plugin.py").read_text()
    return set(re.findall(r"[\"'](--[a-z][\w-]*)[\"']", source))


OPTION = re.compile(r"(?<![\w$-])(--[a-zA-Z][\w-]*|-[a-zA-Z](?=[\s\"',\]]|$))")
DAEMON_WORD = re.compile(r"(?<![\w.@/-])(?:[\w./${}-]*/)?(mp-coord|mp-agent)(?![\w@.(:-])")
#  Where a command line ends, or another command begins.
CUT = re.compile(r"\s(?:&&|\|\|?|;|&|\d?>>?)(?:\s|$)|[;`\]]|\s#|(?<![\w/.-])(?:pytest|python3?)\b"
                 r"|(?<![\w.@/-])(?:[\w./${}-]*/)?mp-(?:coord|agent)(?![\w@.(:-])")


def logical_lines(text):
    return re.sub(r"\\\n", " ", text).splitlines()


def options_in_text(text):
    """(daemon, option) for every option following a daemon's name on a command line."""
    found = set()
    for line in logical_lines(text):
        for match in DAEMON_WORD.finditer(line):
            rest = line[match.end():]
            cut = CUT.search(rest)
            rest = rest[:cut.start()] if cut else rest
            for option in OPTION.findall(rest):
                found.add((match.group(1), option.split("=", 1)[0]))
    return found


def argv_lists(node):
    """Every command line of a parsed YAML document: command/args, entrypoint/command."""
    if isinstance(node, dict):
        parts = []
        for keys in (("entrypoint", "command"), ("command", "args")):
            if any(isinstance(node.get(k), list) for k in keys):
                parts = [str(x) for k in keys if isinstance(node.get(k), list)
                         for x in node[k]]
                yield parts
                break
        for value in node.values():
            yield from argv_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from argv_lists(value)


def options_in_argv(argv):
    found = set()
    for i, word in enumerate(argv):
        name = os.path.basename(word)
        if name in DAEMONS:
            for arg in argv[i + 1:]:
                if os.path.basename(arg) in DAEMONS:
                    break
                if OPTION.fullmatch(arg.split("=", 1)[0]):
                    found.add((name, arg.split("=", 1)[0]))
    return found


def options_in_env_file(text, daemon):
    """Options in an environment file's values (and commented-out alternatives)."""
    found = set()
    for line in text.splitlines():
        m = re.match(r"\s*#?\s*(?:Environment=)?\"?(MP_\w+)=(.*)$", line)
        if m:
            found |= {(daemon, o.split("=", 1)[0]) for o in OPTION.findall(m.group(2))}
    return found


def used_options(yaml=None):
    """{path: {(daemon, option)}} over every deploy file."""
    result = {}
    for path in deploy_files():
        text = path.read_text()
        found = options_in_text(text)
        if path.name.endswith(".env.example") or path.suffix == ".service":
            daemon = "mp-coord" if "coord" in path.name else "mp-agent"
            found |= options_in_env_file(text, daemon)
        if yaml is not None and path.suffix in (".yaml", ".yml"):
            for doc in yaml.safe_load_all(text):
                for argv in argv_lists(doc):
                    found |= options_in_argv(argv)
        result[path] = found
    return result


def test_option_scanner_sees_what_it_should():
    """The scanner below must not pass by seeing nothing."""
    sample = ('ExecStart=/usr/bin/mp-agent --connect ${X} --np 4 \\\n    --bogus-opt 1 $Y\n'
              'mp-coord --listen tcp://x:1 --key-file=k > log 2>&1 &\n'
              'x=mp-coord.service pytest-mp-coord --nope\n'
              '"$MP_PYTHON" -m pytest --mp --mp-coord tcp://h:1\n')
    assert options_in_text(sample) == {
        ("mp-agent", "--connect"), ("mp-agent", "--np"), ("mp-agent", "--bogus-opt"),
        ("mp-coord", "--listen"), ("mp-coord", "--key-file")}
    assert options_in_argv(["tini", "--", "mp-agent", "--np", "2", "-v", "x"]) == {
        ("mp-agent", "--np"), ("mp-agent", "-v")}


def test_every_daemon_option_used_exists(yaml):
    known = {d: help_options(d) for d in DAEMONS}
    used = used_options(yaml)
    bad = []
    for path, pairs in used.items():
        for daemon, option in sorted(pairs):
            if option in known[daemon]:
                continue
            if option in PENDING[daemon]:
                continue  # being added; allowed while --help lacks it
            bad.append("%s: %s %s" % (path.relative_to(ROOT), daemon, option))
    assert not bad, "options not in the daemons' --help:\n" + "\n".join(bad)
    # The scan found the files' command lines at all.
    everything = set().union(*used.values())
    for pair in [("mp-coord", "--listen"), ("mp-coord", "--key-file"),
                 ("mp-coord", "--curve-cert"), ("mp-coord", "--agent-keys"),
                 ("mp-coord", "--client-keys"), ("mp-agent", "--connect"),
                 ("mp-agent", "--np"), ("mp-agent", "--key-file"), ("mp-agent", "--workdir"),
                 ("mp-agent", "--name"), ("mp-agent", "--python"),
                 ("mp-agent", "--curve-cert"), ("mp-agent", "--coord-cert"),
                 ("mp-agent", "--label")]:
        assert pair in everything, "no file uses %s %s: is the scanner broken?" % pair
    for name in UNITS + ["systemd/coord.env.example", "systemd/agent.env.example",
                         "compose/compose.yaml", "kubernetes/coordinator.yaml",
                         "kubernetes/agents.yaml", "ci/github-actions.yml",
                         "ci/gitlab-ci.yml"]:
        assert used[DEPLOY / name], "no daemon option found in %s" % name
    assert used[ROOT / "docs" / "deploy.md"]


def test_every_front_end_option_exists():
    known = plugin_options()
    assert "--mp-coord" in known and "--mp-key-file" in known, known
    bad = []
    for path in deploy_files():
        for option in set(re.findall(r"(?<![\w-])(--mp-[a-z][\w-]*)", path.read_text())):
            if option not in known:
                bad.append("%s: %s" % (path.relative_to(ROOT), option))
    assert not bad, "front-end options the plugin does not have:\n" + "\n".join(bad)


# --- systemd ----------------------------------------------------------------------------

def unit_copies(tmp_path):
    """The units with ExecStart pointing at the built daemons (verify wants them)."""
    copies = {}
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        for daemon in DAEMONS:
            text = text.replace("/usr/bin/%s " % daemon, "%s " % binary(daemon))
        path = tmp_path / Path(name).name
        path.write_text(text)
        copies[name] = path
    return copies


def systemd_analyze():
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is not installed (make test-deploy installs systemd "
                    "when run as root)")
    return tool


def verify(tool, unit_path):
    """systemd-analyze verify of a unit file (a template through an instance); returns
    its complaints about that file."""
    target = unit_path
    if unit_path.name.endswith("@.service"):
        target = unit_path.with_name(unit_path.name.replace("@.", "@test."))
    out = subprocess.run([tool, "verify", "--man=no", str(target)], capture_output=True,
                         text=True, timeout=60, cwd=unit_path.parent)
    lines = (out.stdout + out.stderr).splitlines()
    stem = unit_path.name.split("@")[0].split(".")[0]
    complaints = [l for l in lines if str(unit_path.parent) in l or stem in l]
    if out.returncode != 0:
        complaints.append("exit status %d: %s" % (out.returncode, out.stderr.strip()))
    return complaints


def test_systemd_analyze_notices_a_broken_unit(tmp_path):
    tool = systemd_analyze()
    bad = tmp_path / "broken.service"
    bad.write_text("[Service]\nExecStart=%s\nKillMode=bogus\nNoSuchKey=1\n" % binary("mp-coord"))
    complaints = verify(tool, bad)
    assert any("NoSuchKey" in c for c in complaints) and any("bogus" in c for c in complaints), \
        "systemd-analyze verify did not flag a broken unit here: %s" % complaints


@pytest.mark.parametrize("name", UNITS)
def test_unit_verifies(tmp_path, name):
    tool = systemd_analyze()
    path = unit_copies(tmp_path)[name]
    complaints = verify(tool, path)
    assert not complaints, "systemd-analyze verify %s:\n%s" % (name, "\n".join(complaints))


@pytest.mark.parametrize("name,limit", [(UNITS[0], 4.0), (UNITS[1], 6.0)])
def test_unit_exposure(tmp_path, name, limit):
    tool = systemd_analyze()
    path = unit_copies(tmp_path)[name]
    target = path.with_name(path.name.replace("@.", "@test."))
    out = subprocess.run([tool, "security", "--offline=true", "--no-pager", str(target)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout + out.stderr)
    if not m:
        pytest.skip("this systemd-analyze cannot rate units offline: %s" % out.stderr.strip())
    assert float(m.group(1)) <= limit, out.stdout


def unit_settings(text):
    """(key, value) pairs of a unit, continuation lines joined, comments dropped."""
    pairs = []
    for line in logical_lines(text):
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            pairs.append((key.strip(), value.strip()))
    return pairs


def test_unit_settings():
    for name in UNITS:
        settings = unit_settings((DEPLOY / name).read_text())
        keys = {k for k, _ in settings}
        values = dict(settings)
        for key in ("User", "NoNewPrivileges", "ProtectSystem", "PrivateTmp", "Restart",
                    "EnvironmentFile", "ExecStart", "ReadWritePaths" if "agent" in name
                    else "ProtectHome"):
            assert key in keys, "%s lacks %s=" % (name, key)
        assert values["User"] not in ("root", "0", "nobody")
        assert values["NoNewPrivileges"] == "yes" and values["PrivateTmp"] == "yes"
        assert values["ProtectSystem"] == "strict"
        assert values["Restart"] == "on-failure"
    coord = dict(unit_settings((DEPLOY / UNITS[0]).read_text()))
    agent = unit_settings((DEPLOY / UNITS[1]).read_text())
    agent_values = dict(agent)
    assert coord["EnvironmentFile"].lstrip("-") == "/etc/pytest-mp/coord.env"
    assert agent_values["EnvironmentFile"].lstrip("-") == "/etc/pytest-mp/agent-%i.env"
    assert agent_values["KillMode"] == "mixed"
    #  The work dir is writable: the default one is listed, and is the state directory.
    rw = [v for k, v in agent if k == "ReadWritePaths"]
    default_workdir = [v for k, v in agent if k == "Environment" and v.startswith("MP_WORKDIR=")]
    assert default_workdir and default_workdir[0].split("=", 1)[1] in rw, (rw, default_workdir)
    #  Labels pass through word-split ($MP_LABELS, not ${MP_LABELS}).
    assert re.search(r"(?<![{\w])\$MP_LABELS\b", agent_values["ExecStart"])


# --- the units' command lines, run ------------------------------------------------------

def read_env_file(text):
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def expand_exec_start(unit_text, env_text, instance, overrides):
    """ExecStart's argv as systemd builds it: Environment= lines, then the
    EnvironmentFile's (which win); ${VAR} stays one word, a lone $VAR splits at
    whitespace into zero or more words; %i and %H specifiers."""
    specifiers = {"%i": instance, "%H": socket.gethostname(), "%%": "%"}

    def spec(value):
        return re.sub(r"%[iH%]", lambda m: specifiers[m.group(0)], value)

    env = {}
    exec_start = None
    for key, value in unit_settings(unit_text):
        if key == "Environment":
            for assignment in shlex.split(value):
                k, v = assignment.split("=", 1)
                env[k] = spec(v)
        elif key == "ExecStart":
            exec_start = spec(value)
    env.update(read_env_file(env_text))
    env.update(overrides)
    argv = []
    for word in shlex.split(exec_start):
        lone = re.fullmatch(r"\$(\w+)", word)
        if lone:
            argv.extend(env.get(lone.group(1), "").split())
        else:
            argv.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word))
    return argv, env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uncomment(text, prefix):
    """The example env file with the commented-out line starting with prefix active."""
    lines = text.splitlines()
    idx = [i for i, l in enumerate(lines) if l.startswith("#" + prefix)]
    assert idx, "no commented %s line in the example" % prefix
    lines[idx[0]] = lines[idx[0]][1:]
    return "\n".join(lines) + "\n"


class Procs:
    def __init__(self, log):
        self.log = log
        self.procs = []

    def start(self, argv, env):
        proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=self.log,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.mark.parametrize("mode", ["key", "curve"])
def test_units_command_lines_run_a_suite(tmp_path, mode):
    """The example env files, with the units' ExecStart expanded as systemd does and
    /etc/pytest-mp moved to a temporary directory, start daemons that run a suite."""
    if not os.access(VENV_PYTHON, os.X_OK):
        pytest.fail("%s is missing: run make setup" % VENV_PYTHON)
    etc = tmp_path / "etc"
    etc.mkdir()
    port = free_port()
    suite = tmp_path / "project"
    suite.mkdir()
    (suite / "test_smoke.py").write_text(
        "import os\n\ndef test_one():\n    assert os.environ['PYTEST_MP_AGENT'] == 'rig1'\n\n"
        "def test_two():\n    pass\n")
    coord_env = (DEPLOY / "systemd/coord.env.example").read_text()
    agent_env = (DEPLOY / "systemd/agent.env.example").read_text()
    if mode == "key":
        key = etc / "key"
        key.write_text(os.urandom(32).hex() + "\n")
        key.chmod(0o600)
        front_auth = ["--mp-key-file=%s" % key]
    else:
        coord_env = uncomment(coord_env, "MP_AUTH=--curve-cert")
        agent_env = uncomment(agent_env, "MP_AUTH=--curve-cert")
        for name in ("coord", "rig1", "alice"):
            subprocess.run([str(binary("mp-coord")), "--gen-cert", str(etc / (name + ".cert"))],
                           check=True, capture_output=True, timeout=10)
        (etc / "agents").mkdir()
        (etc / "clients").mkdir()
        shutil.copy(etc / "rig1.cert", etc / "agents" / "rig1.cert")
        shutil.copy(etc / "alice.cert", etc / "clients" / "alice.cert")
        front_auth = ["--mp-curve-cert=%s" % (etc / "alice.cert_secret"),
                      "--mp-coord-cert=%s" % (etc / "coord.cert")]
    coord_env = coord_env.replace("/etc/pytest-mp/", "%s/" % etc)
    agent_env = agent_env.replace("/etc/pytest-mp/", "%s/" % etc)
    coord_env = coord_env.replace("tcp://0.0.0.0:7700", "tcp://127.0.0.1:%d" % port)
    coord_argv, coord_vars = expand_exec_start((DEPLOY / UNITS[0]).read_text(), coord_env,
                                               "", {})
    agent_argv, agent_vars = expand_exec_start(
        (DEPLOY / UNITS[1]).read_text(), agent_env, "main",
        {"MP_CONNECT": "tcp://127.0.0.1:%d" % port, "MP_WORKDIR": str(suite),
         "MP_PYTHON": str(VENV_PYTHON), "MP_NAME": "rig1", "MP_NP": "2"})
    assert coord_argv[0] == "/usr/bin/mp-coord" and agent_argv[0] == "/usr/bin/mp-agent"
    coord_argv[0], agent_argv[0] = str(binary("mp-coord")), str(binary("mp-agent"))
    assert "--label" not in agent_argv, "MP_LABELS must be empty by default"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MP_", "PYTEST_"))}
    log = open(tmp_path / "daemons.log", "w")
    procs = Procs(log)
    try:
        coord = procs.start(coord_argv, dict(base, **coord_vars))
        agent = procs.start(agent_argv, dict(base, **agent_vars))
        time.sleep(0.5)
        if coord.poll() is not None or agent.poll() is not None:
            log.flush()
            pytest.fail("a daemon exited at once:\n%s\n%s\n%s" % (
                coord_argv, agent_argv, (tmp_path / "daemons.log").read_text()))
        front = subprocess.run(
            [str(VENV_PYTHON), "-m", "pytest", "--mp", "--mp-coord",
             "tcp://127.0.0.1:%d" % port, *front_auth, "--mp-wait", "30",
             "-p", "no:cacheprovider", "-q"],
            cwd=suite, env=base, capture_output=True, text=True, timeout=120)
        log.flush()
        daemons = (tmp_path / "daemons.log").read_text()
        assert front.returncode == 0 and "2 passed" in front.stdout, (
            "argv %s\n%s\nfront end:\n%s%s\ndaemons:\n%s"
            % (coord_argv, agent_argv, front.stdout, front.stderr, daemons))
        # Stopping as systemd's KillMode=mixed does: SIGTERM to the agent alone.
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(15) == 0, daemons
        coord.send_signal(signal.SIGTERM)
        assert coord.wait(15) == 0
    finally:
        procs.stop()
        log.close()


def test_env_examples_name_every_variable_the_units_use():
    for unit, example in [(UNITS[0], "systemd/coord.env.example"),
                          (UNITS[1], "systemd/agent.env.example")]:
        text = (DEPLOY / unit).read_text()
        exec_start = dict(unit_settings(text))["ExecStart"]
        used = set(re.findall(r"\$\{?(\w+)\}?", exec_start))
        example_text = (DEPLOY / example).read_text()
        documented = set(re.findall(r"^#?(MP_\w+)=", example_text, re.M))
        assert used <= documented, "%s: %s not in %s" % (unit, used - documented, example)
        #  The active values parse as an environment file with nothing unexpected.
        assert set(read_env_file(example_text)) <= used | {"MP_KEY_FILE"}


# --- YAML -------------------------------------------------------------------------------

def test_every_yaml_file_parses(yaml):
    files = yaml_files()
    assert len(files) >= 8, files
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        assert docs, "%s is empty" % path
        assert all(isinstance(d, dict) for d in docs), path


def endpoint_host_port(endpoint):
    m = re.fullmatch(r"tcp://([^:/]+):(\d+)", endpoint)
    assert m, "not a tcp://HOST:PORT endpoint: %r" % endpoint
    return m.group(1), int(m.group(2))


def option_value(argv, option):
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def compose_argv(service):
    entry = service.get("entrypoint") or []
    command = service.get("command") or []
    if isinstance(entry, str):
        entry = shlex.split(entry)
    if isinstance(command, str):
        command = shlex.split(command)
    return [str(x) for x in entry + command]


def compose_volumes(service):
    """(source, target) of a service's volumes, short or long syntax."""
    result = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            result.append((v.get("source"), v["target"]))
            continue
        parts = v.rsplit(":", 2) if v.endswith((":ro", ":rw", ":z", ":Z")) else v.rsplit(":", 1)
        result.append((parts[0], parts[1]))
    return result


def test_compose_wires_a_coordinator_and_three_agents(yaml):
    (compose,) = load_yaml(yaml, "compose/compose.yaml")
    services = compose["services"]
    secrets = compose.get("secrets", {})
    roles = {}
    for name, service in services.items():
        argv = compose_argv(service)
        role = next((os.path.basename(a) for a in argv
                     if os.path.basename(a) in DAEMONS + ("pytest",)), None)
        roles.setdefault(role, []).append(name)
    assert len(roles.get("mp-coord", [])) == 1, roles
    assert len(roles.get("mp-agent", [])) == 3, roles
    (coord_name,) = roles["mp-coord"]
    coord_argv = compose_argv(services[coord_name])
    _, coord_port = endpoint_host_port(
        option_value(coord_argv, "--listen").replace("0.0.0.0", "any"))

    def secret_key(name, argv, option):
        path = option_value(argv, option)
        assert path and path.startswith("/run/secrets/"), (name, option, path)
        secret = path.rsplit("/", 1)[1]
        names = [s if isinstance(s, str) else s.get("target", s["source"])
                 for s in services[name].get("secrets", [])]
        assert secret in names, "%s reads %s but has no such secret" % (name, path)
        assert "file" in secrets.get(secret, {}), "secret %s is not file-based" % secret
        return secret

    key = secret_key(coord_name, coord_argv, "--key-file")
    workdirs, mounts = set(), set()
    for name in roles["mp-agent"]:
        argv = compose_argv(services[name])
        assert endpoint_host_port(option_value(argv, "--connect")) == (coord_name, coord_port)
        assert secret_key(name, argv, "--key-file") == key
        workdir = option_value(argv, "--workdir")
        workdirs.add(workdir)
        mounted = [src for src, dst in compose_volumes(services[name]) if dst == workdir]
        assert mounted, "%s does not mount its work dir %s" % (name, workdir)
        mounts.add(mounted[0])
    assert len(workdirs) == 1 and len(mounts) == 1, (workdirs, mounts)
    #  The front end: a profile, the same checkout, the coordinator, the key, 3 agents.
    fronts = roles.get("pytest", [])
    assert len(fronts) == 1, roles
    front = services[fronts[0]]
    assert front.get("profiles"), "the front end should only run on demand (a profile)"
    argv = compose_argv(front)
    assert "--mp" in argv
    assert endpoint_host_port(option_value(argv, "--mp-coord")) == (coord_name, coord_port)
    assert secret_key(fronts[0], argv, "--mp-key-file") == key
    assert option_value(argv, "--mp-min-agents") == "3"
    assert front.get("working_dir") in workdirs
    assert (next(iter(mounts)), front["working_dir"]) in compose_volumes(front), \
        "the front end does not see the agents' checkout"


def k8s_objects(yaml):
    objects = []
    for name in ("coordinator.yaml", "agents.yaml", "frontend-job.yaml", "namespace.yaml",
                 "secret.yaml"):
        objects += load_yaml(yaml, "kubernetes/" + name)
    return objects


def pod_argv(container):
    return [str(x) for x in (container.get("command") or []) + (container.get("args") or [])]


def role_of(pod_spec):
    for container in pod_spec["containers"]:
        for word in pod_argv(container):
            if os.path.basename(word) in DAEMONS + ("pytest",):
                return os.path.basename(word), container
    return None, None


def test_kubernetes_objects(yaml):
    objects = k8s_objects(yaml)
    kinds = [o["kind"] for o in objects]
    for kind in ("Deployment", "Service", "Secret", "Job", "Namespace"):
        assert kind in kinds, kinds
    for o in objects:
        assert o.get("apiVersion") and o.get("metadata", {}).get("name"), o
    workloads = {}
    for o in objects:
        if o["kind"] in ("Deployment", "StatefulSet", "Job"):
            spec = o["spec"]["template"]["spec"]
            role, container = role_of(spec)
            assert role, "%s runs no daemon nor pytest" % o["metadata"]["name"]
            workloads[role] = (o, spec, container)
    assert set(workloads) == {"mp-coord", "mp-agent", "pytest"}, workloads.keys()
    coord, coord_spec, coord_container = workloads["mp-coord"]
    agents, agents_spec, agent_container = workloads["mp-agent"]
    job, job_spec, job_container = workloads["pytest"]
    assert coord["kind"] == "Deployment" and coord["spec"].get("replicas", 1) == 1
    assert agents["kind"] in ("Deployment", "StatefulSet") and agents["spec"]["replicas"] >= 2
    assert job["kind"] == "Job"
    #  Deployment selectors match their pods.
    for o in (coord, agents):
        labels = o["spec"]["template"]["metadata"]["labels"]
        assert o["spec"]["selector"]["matchLabels"].items() <= labels.items()
    #  The Service selects the coordinator's pods, and not the agents' nor the Job's.
    (service,) = [o for o in objects if o["kind"] == "Service"]
    selector = service["spec"]["selector"]
    assert selector.items() <= coord["spec"]["template"]["metadata"]["labels"].items()
    assert not selector.items() <= agents["spec"]["template"]["metadata"]["labels"].items()
    assert not selector.items() <= job["spec"]["template"]["metadata"].get("labels", {}).items()
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == 7700]
    container_ports = {p.get("name"): p["containerPort"] for p in coord_container["ports"]}
    target = port.get("targetPort", port["port"])
    assert container_ports.get(target, target) in container_ports.values()
    _, listen_port = endpoint_host_port(
        option_value(pod_argv(coord_container), "--listen").replace("0.0.0.0", "any"))
    assert listen_port == (container_ports[target] if target in container_ports else target)
    service_names = {service["metadata"]["name"],
                     "%s.%s" % (service["metadata"]["name"], service["metadata"]["namespace"]),
                     "%s.%s.svc.cluster.local" % (service["metadata"]["name"],
                                                  service["metadata"]["namespace"])}
    #  Agents connect to the Service; the Job runs the front end against it.
    host, p = endpoint_host_port(option_value(pod_argv(agent_container), "--connect"))
    assert host in service_names and p == 7700
    argv = pod_argv(job_container)
    assert argv[argv.index("pytest") + 1:argv.index("pytest") + 2] == ["--mp"], argv
    host, p = endpoint_host_port(option_value(argv, "--mp-coord"))
    assert host in service_names and p == 7700
    assert int(option_value(argv, "--mp-min-agents")) == agents["spec"]["replicas"]
    assert job_spec["restartPolicy"] in ("Never", "OnFailure")
    #  Every pod reads the key from the one Secret, and uses it.
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    for role, (o, spec, container) in workloads.items():
        names = [v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v]
        assert names == [secret["metadata"]["name"]], (role, names)
        key_option = "--mp-key-file" if role == "pytest" else "--key-file"
        assert option_value(pod_argv(container), key_option), (role, pod_argv(container))
    #  The placeholder key is refused by the daemons (16 bytes at least), so nothing
    #  runs with it.
    placeholder = (secret.get("stringData") or {}).get("key", "")
    assert len(placeholder.strip()) < 16
    #  Agents and the Job run the same image and work dir (the same checkout).
    assert agent_container["image"] == job_container["image"]
    assert option_value(pod_argv(agent_container), "--workdir") == job_container["workingDir"]


def test_kustomization(yaml):
    (kustomization,) = load_yaml(yaml, "kubernetes/kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (DEPLOY / "kubernetes" / resource).is_file(), resource
    objects = k8s_objects(yaml)
    names = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    generated = {g["name"] for g in kustomization.get("secretGenerator", [])}
    listed = "secret.yaml" in kustomization["resources"]
    assert listed != bool(generated & names), "the key Secret: secret.yaml or a generator"
    namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert namespaces == {kustomization["namespace"]}
    images = {c["image"] for o in objects if "template" in o.get("spec", {})
              for part in ("containers", "initContainers")
              for c in o["spec"]["template"]["spec"].get(part, [])}
    assert images <= {i["name"] for i in kustomization.get("images", [])}, images


def test_ci_files(yaml):
    for name in ("ci/github-actions.yml", "ci/gitlab-ci.yml"):
        text = (DEPLOY / name).read_text()
        assert re.search(r"(?<![\w-])mp-coord\s+--listen", text), name
        assert re.search(r"(?<![\w-])mp-agent\s+--connect", text), name
        assert re.search(r"(?<![\w-])pytest\s+--mp\s+--mp-coord", text), name
        assert re.search(r"--mp-min-agents\s+\"?\$MP_AGENTS", text), name
    (gh,) = load_yaml(yaml, "ci/github-actions.yml")
    jobs = gh["jobs"]
    agent_jobs = [j for j in jobs.values() if "mp-agent" in str(j.get("steps"))]
    coord_jobs = [j for j in jobs.values() if "mp-coord" in str(j.get("steps"))]
    assert len(agent_jobs) == 1 and len(coord_jobs) == 1
    (agent_job,) = agent_jobs
    assert "needs" not in agent_job and "needs" not in coord_jobs[0], \
        "the jobs must run at the same time"
    n = len(next(iter(agent_job["strategy"]["matrix"].values())))
    assert n == int(gh["env"]["MP_AGENTS"]) and n >= 2
    (gl,) = load_yaml(yaml, "ci/gitlab-ci.yml")
    jobs = {k: v for k, v in gl.items() if isinstance(v, dict) and "script" in v}
    agent_jobs = [j for j in jobs.values() if "mp-agent" in str(j["script"])]
    coord_jobs = [j for j in jobs.values() if "mp-coord" in str(j["script"])]
    assert len(agent_jobs) == 1 and len(coord_jobs) == 1
    assert agent_jobs[0]["parallel"] == int(gl["variables"]["MP_AGENTS"]) >= 2
    assert agent_jobs[0].get("stage") == coord_jobs[0].get("stage"), "same stage: concurrent"
    for job in (agent_jobs[0], coord_jobs[0]):
        assert job.get("needs") == [], "needs: [] lets them start at once"


def test_ci_scripts_are_valid_bash(yaml, tmp_path):
    """Every run:/script: block parses with bash -n (GitHub expressions replaced)."""
    blocks = []
    (gh,) = load_yaml(yaml, "ci/github-actions.yml")
    for job in gh["jobs"].values():
        blocks += [s["run"] for s in job["steps"] if "run" in s]
    (gl,) = load_yaml(yaml, "ci/gitlab-ci.yml")
    for job in gl.values():
        if isinstance(job, dict):
            for part in ("before_script", "script"):
                blocks.append("\n".join(job.get(part, [])))
    assert len(blocks) >= 6
    for block in blocks:
        script = re.sub(r"\$\{\{[^}]*\}\}", "1", block)
        out = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert out.returncode == 0, "%s\n%s" % (out.stderr, script)


def test_ci_run_key_derivation_gives_a_key_the_daemons_accept(yaml, tmp_path):
    """The per-run key the CI files derive loads in mp-coord (0600, 64 hex digits)."""
    (gl,) = load_yaml(yaml, "ci/gitlab-ci.yml")
    before = "\n".join(gl[".pytest-mp-run-key"]["before_script"])
    secret = tmp_path / "secret"
    secret.write_text(os.urandom(32).hex() + "\n")
    script = before + '\nstat -c %a "$MP_RUN_KEY"; cat "$MP_RUN_KEY"\n'
    env = dict(os.environ, PYTEST_MP_KEY=str(secret), CI_PIPELINE_ID="4242",
               MP_PYTHON="/usr/bin/python3" if os.path.exists("/usr/bin/python3")
               else shutil.which("python3"))
    out = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    mode, key = out.stdout.split()
    assert mode == "600" and re.fullmatch(r"[0-9a-f]{64}", key), out.stdout
    keyfile = tmp_path / "run.key"
    keyfile.write_text(key)
    keyfile.chmod(0o600)
    coord = subprocess.Popen([str(binary("mp-coord")), "--listen",
                              "tcp://127.0.0.1:%d" % free_port(), "--key-file", str(keyfile)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    alive = coord.poll() is None
    coord.send_signal(signal.SIGTERM)
    output = coord.communicate(timeout=10)[0]
    assert alive, output


# --- the container image ----------------------------------------------------------------

def setup_packages():
    text = (DEPLOY / "setup.sh").read_text()
    m = re.search(r"^packages=\(([^)]*)\)", text, re.M)
    assert m, "no packages=(...) in deploy/setup.sh"
    return set(m.group(1).split())


def dockerfile_instructions(path):
    instructions = []
    for line in logical_lines(path.read_text()):
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def test_dockerfile_uses_debian_packages_and_the_ci_build():
    instructions = dockerfile_instructions(DEPLOY / "container" / "Dockerfile")
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert froms and all(re.fullmatch(r"debian:bookworm(-slim)?", f) for f in froms), froms
    runs = [rest for word, rest in instructions if word == "RUN"]
    installed = set()
    for run in runs:
        for command in re.split(r"&&|;|\|\|", run):
            words = command.split()
            assert not any(w in ("pip", "pip3", "curl", "wget", "npm", "gem") or
                           w.endswith("/pip") for w in words), "not a Debian package: %s" % run
            if words[:2] == ["apt-get", "install"]:
                installed |= {w for w in words[2:] if not w.startswith("-")}
    expected = setup_packages()
    assert expected <= installed, "not installed in the image: %s" % (expected - installed)
    assert installed - expected <= set(IMAGE_EXTRAS), \
        "not in deploy/setup.sh's list: %s" % (installed - expected - set(IMAGE_EXTRAS))
    #  The build: what CI runs (.ci/run -> make test -> setup -> deploy/setup.sh).
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^setup:.*\n\t.*deploy/setup\.sh", makefile, re.M)
    assert re.search(r"^test:.*", makefile, re.M)
    assert any(re.search(r"(?<![\w-])make setup\b", run) for run in runs), runs
    #  The entry point runs either daemon or the front end.
    entry = [rest for word, rest in instructions if word == "ENTRYPOINT"]
    assert entry and "entrypoint" in entry[-1]


def test_dockerfile_packages_exist_in_debian():
    """Each apt package of the image is a Debian package (needs apt lists: skips
    without them)."""
    if not shutil.which("apt-cache"):
        pytest.skip("no apt-cache")
    names = setup_packages() | set(IMAGE_EXTRAS)
    out = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(names)],
                         capture_output=True, text=True, timeout=60)
    found = set(re.findall(r"^Package: (\S+)", out.stdout, re.M))
    if not found:
        pytest.skip("apt has no package lists here (apt-get update)")
    assert names <= found, "not Debian packages: %s" % (names - found)


@pytest.mark.parametrize("args,expected", [
    (["mp-coord", "--help"], ["mp-coord", "--help"]),
    (["coord", "--help"], ["mp-coord", "--help"]),
    (["agent", "--np", "2"], ["mp-agent", "--np", "2"]),
    (["--mp", "-v"], ["pytest", "--mp", "-v"]),
    (["pytest", "--mp"], ["pytest", "--mp"]),
    (["bash", "-c", "x"], ["bash", "-c", "x"]),
])
def test_entrypoint_dispatch(tmp_path, args, expected):
    """The image's entry point runs the daemon or the front end asked for."""
    for name in ("mp-coord", "mp-agent", "pytest", "bash"):
        stub = tmp_path / name
        stub.write_text('#!/bin/sh\necho "%s $*"\n' % name)
        stub.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]))
    out = subprocess.run(["sh", str(DEPLOY / "container" / "entrypoint.sh"), *args], env=env,
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.split() == expected, out


def test_entrypoint_help():
    out = subprocess.run(["sh", str(DEPLOY / "container" / "entrypoint.sh")],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "mp-coord" in out.stdout and "mp-agent" in out.stdout
