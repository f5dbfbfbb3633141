"""pytest-mp installed the ways it installs, each then running a small suite with
`pytest --mp --np 2` from a directory outside the tree:

  - `pip install --no-build-isolation --no-index .` into a fresh venv (Debian's python3
    with its system site packages, for Debian's pytest);
  - `cmake --install` of the `make setup` build into a prefix, the daemons then found
    through MP_BIN_DIR=prefix/bin, the client library in prefix/lib;
  - the Debian package of `make deb`, installed with dpkg -i, run with /usr/bin/python3,
    then removed (root only).

Each run checks the counts (junit and the summary line) and, from inside a test, which
mp-agent ran it and which libmpclient.so its process loaded. Also: VERSION is what
`--version`, `pytest_mp.__version__`, the package metadata and the Debian package say;
`mp-coord --gen-key` writes a 0600 key the daemons accept; every option in the
daemons' --help is described there and in their man pages.

Run by `make test-install` (part of `make test`).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()
BUILD = REPO / os.environ.get("BUILD", "build")
DEBIAN_PYTHON = "/usr/bin/python3"
SUMMARY = re.compile(r"=+ (.*) in [\d.]+s")

SUITE = '''\
import json
import os

import pytest


@pytest.mark.parametrize("i", range(4))
def test_passes(i):
    assert i < 4


def test_fails():
    assert 1 == 2, "this one fails on purpose"


@pytest.mark.skip(reason="skipped on purpose")
def test_skipped():
    pass


def _ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.mp_group("where", "serial")
def test_where():
    """Records which mp-agent runs this test and which libmpclient.so is loaded."""
    import pytest_mp

    agent, pid = None, os.getpid()
    while pid > 1 and agent is None:
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError:
            exe = ""
        if os.path.basename(exe) == "mp-agent":
            agent = exe
        pid = _ppid(pid)
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "libmpclient" in line}
    with open(os.environ["MP_INSTALL_RECORD"], "w") as f:
        json.dump({"agent": agent, "libs": sorted(libs), "plugin": pytest_mp.__file__,
                   "version": pytest_mp.__version__}, f)
'''


def clean_env(**extra):
    """The environment of a user's shell: nothing pointing into this tree."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MP_", "PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env.update(extra)
    return env


def run(cmd, timeout=600, **kwargs):
    kwargs.setdefault("env", clean_env())
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def check(cmd, **kwargs):
    result = run(cmd, **kwargs)
    assert result.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        " ".join(map(str, cmd)), result.returncode, result.stdout[-3000:],
        result.stderr[-3000:])
    return result


def run_suite(tmp_path, python, pre_args=(), **env):
    """The suite, in a directory of its own, under `python -m pytest --mp --np 2`;
    returns the record test_where wrote."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_install_suite.py").write_text(SUITE)
    record = tmp_path / "record.json"
    junit = tmp_path / "junit.xml"
    result = run([python, "-m", "pytest", "-p", "no:cacheprovider", *pre_args, "--mp",
                  "--np", "2", "-rA", "--junitxml", junit],
                 cwd=suite, timeout=180, env=clean_env(MP_INSTALL_RECORD=str(record), **env))
    output = result.stdout + result.stderr
    assert result.returncode == 1, "expected exit status 1 (one test fails):\n" + output
    summary = SUMMARY.findall(result.stdout)
    assert summary and summary[-1] == "1 failed, 5 passed, 1 skipped", output
    suites = ET.parse(junit).getroot()
    suites = suites.findall("testsuite") if suites.tag == "testsuites" else [suites]
    counts = [sum(int(s.get(k)) for s in suites) for k in ("tests", "failures", "errors",
                                                            "skipped")]
    assert counts == [7, 1, 0, 1], output
    return json.loads(record.read_text())


def assert_version(binary):
    name = os.path.basename(str(binary))
    assert check([binary, "--version"]).stdout == "%s %s\n" % (name, VERSION)


# -- the version, defined once ----------------------------------------------------------

def test_the_daemons_print_the_version_file():
    for name in ("mp-coord", "mp-agent"):
        assert_version(BUILD / name)


def test_the_package_version_is_the_version_file():
    import pytest_mp

    assert pytest_mp.__version__ == VERSION
    result = check([sys.executable, "-m", "pytest", "-VV", "-p", "no:cacheprovider"], cwd=REPO)
    assert "pytest-mp-%s at " % VERSION in result.stdout + result.stderr


def test_the_debian_changelog_is_written_from_the_version_file():
    script = (REPO / "deploy" / "build-deb.sh").read_text()
    assert "VERSION" in script and "debian/changelog" in script
    assert not (REPO / "debian" / "changelog").exists(), \
        "debian/changelog is generated by deploy/build-deb.sh from VERSION; do not commit one"


# -- daemon options ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mp-coord", "mp-agent"])
def test_every_option_is_described_in_help_and_man_page(name):
    source = (REPO / ("coordinator" if name == "mp-coord" else "agent") / "main.c").read_text()
    options = {"--" + o for o in re.findall(r'\{\s*"([a-z-]+)",\s*(?:no|required)_argument',
                                            source)}
    assert {"--help", "--version"} <= options
    text = check([BUILD / name, "--help"]).stdout
    described = {m for line in text.splitlines()
                 for m in re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", line)}
    assert described == options, "--help describes exactly the options getopt takes"
    man = (REPO / "man" / (name + ".1")).read_text().replace("\\-", "-")
    missing = sorted(o for o in options if o not in man)
    assert not missing, "%s(1) lacks %s" % (name, ", ".join(missing))
    # A subcommand's options too (mp-coord status).
    for sub in re.findall(r"^\s+%s ([a-z]+) " % name, text, re.M):
        sub_help = check([BUILD / name, sub, "--help"]).stdout
        sub_options = set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", sub_help, re.M))
        assert name + " " + sub in man
        missing = sorted(o for o in sub_options if o not in man)
        assert not missing, "%s(1) lacks %s %s" % (name, sub, ", ".join(missing))


def test_gen_key_writes_a_private_key_once(tmp_path):
    key = tmp_path / "key"
    check([BUILD / "mp-coord", "--gen-key", key])
    assert key.stat().st_mode & 0o777 == 0o600
    text = key.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", text)
    again = run([BUILD / "mp-coord", "--gen-key", key])
    assert again.returncode != 0 and "exist" in again.stderr
    assert key.read_text() == text
    other = tmp_path / "other"
    check([BUILD / "mp-coord", "--gen-key", other])
    assert other.read_text() != text


def test_a_generated_key_is_accepted_by_the_daemons(tmp_path):
    key = tmp_path / "key"
    check([BUILD / "mp-coord", "--gen-key", key])
    endpoint = "ipc://%s/coord.ipc" % tmp_path
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_k.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    logs = [open(tmp_path / name, "w") for name in ("coord.log", "agent.log")]
    procs = []
    try:
        procs.append(subprocess.Popen([BUILD / "mp-coord", "--listen", endpoint,
                                       "--key-file", key], stdout=logs[0], stderr=logs[0],
                                      env=clean_env()))
        procs.append(subprocess.Popen([BUILD / "mp-agent", "--connect", endpoint, "--np", "2",
                                       "--key-file", key, "--workdir", suite,
                                       "--python", sys.executable, "--name", "keyed"],
                                      stdout=logs[1], stderr=logs[1], env=clean_env()))
        time.sleep(0.5)
        assert [p.poll() for p in procs] == [None, None], \
            (tmp_path / "coord.log").read_text() + (tmp_path / "agent.log").read_text()
        result = run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp",
                      "--mp-coord", endpoint, "--mp-key-file=%s" % key, "--mp-wait", "20",
                      "-v"], cwd=suite, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 passed" in result.stdout and "[keyed:" in result.stdout
        # The mode matters: the same key readable by the group is refused at start.
        loose = tmp_path / "loose"
        loose.write_text(key.read_text())
        loose.chmod(0o640)
        refused = run([BUILD / "mp-coord", "--listen", "ipc://%s/other.ipc" % tmp_path,
                       "--key-file", loose], timeout=10)
        assert refused.returncode == 2 and "chmod 600" in refused.stderr
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


# -- pip --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory):
    venv = tmp_path_factory.mktemp("pip") / "venv"
    check([DEBIAN_PYTHON, "-m", "venv", "--system-site-packages", venv])
    check([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-build-isolation",
           "--no-index", "--disable-pip-version-check", REPO], cwd=REPO, timeout=900)
    return venv


def test_pip_install_into_a_fresh_venv_runs_a_suite(pip_venv, tmp_path):
    bin_dir = pip_venv / "bin"
    for name in ("mp-coord", "mp-agent"):
        assert os.access(bin_dir / name, os.X_OK)
        assert_version(bin_dir / name)
    python = bin_dir / "python"
    site = Path(check([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                     "['platlib'])"]).stdout.strip())
    package = site / "pytest_mp"
    assert (package / "libmpclient.so").is_file()
    out = check([python, "-m", "pytest", "-VV", "-p", "no:cacheprovider"], cwd=pip_venv)
    assert "pytest-mp-%s at %s" % (VERSION, package) in out.stdout + out.stderr
    record = run_suite(tmp_path, python)
    assert record["agent"] == str(bin_dir / "mp-agent")
    assert record["libs"] == [str(package / "libmpclient.so")]
    assert record["plugin"] == str(package / "__init__.py")
    assert record["version"] == VERSION


# -- cmake --install --------------------------------------------------------------------

def test_cmake_install_into_a_prefix_runs_a_suite(tmp_path):
    prefix = tmp_path / "prefix"
    check(["cmake", "--install", BUILD, "--prefix", prefix])
    installed = {str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file()}
    units = sorted(p.name for p in (REPO / "deploy" / "systemd").glob("*.service"))
    expected = {"bin/mp-coord", "bin/mp-agent", "lib/libmpclient.so",
                "share/man/man1/mp-coord.1", "share/man/man1/mp-agent.1"}
    expected |= {"lib/systemd/system/" + unit for unit in units}
    assert expected <= installed, sorted(installed)
    for name in ("mp-coord", "mp-agent"):
        assert_version(prefix / "bin" / name)
        page = check(["man", "-l", "-P", "cat", prefix / "share/man/man1" / (name + ".1")],
                     env=clean_env(MANWIDTH="80"))
        assert "version" in page.stdout
    # The plugin from the source tree, not installed: the daemons through MP_BIN_DIR and
    # the client library beside them.
    pre = []
    has_dist = run([DEBIAN_PYTHON, "-c", "import importlib.metadata as m; "
                                         "m.distribution('pytest-mp')"]).returncode == 0
    if not has_dist:
        pre = ["-p", "pytest_mp.plugin"]
    record = run_suite(tmp_path, DEBIAN_PYTHON, pre, MP_BIN_DIR=str(prefix / "bin"),
                       PYTHONPATH=str(REPO / "plugin"))
    assert record["agent"] == str(prefix / "bin" / "mp-agent")
    assert record["libs"] == [str(prefix / "lib" / "libmpclient.so")]


# -- the Debian package -----------------------------------------------------------------

def _dpkg_status(package):
    result = run(["dpkg-query", "-W", "-f", "${Status}", package])
    return result.stdout if result.returncode == 0 else ""


@pytest.fixture
def deb(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the Debian package test installs with dpkg -i: root only")
    if not shutil.which("dpkg-buildpackage") and not shutil.which("apt-get"):
        pytest.skip("no dpkg-buildpackage (nor apt-get to install it)")
    if "installed" in _dpkg_status("pytest-mp"):
        pytest.skip("pytest-mp is installed on this machine already: not replacing it")
    out = tmp_path_factory.mktemp("deb")
    check([REPO / "deploy" / "build-deb.sh"], cwd=REPO, timeout=900,
          env=clean_env(DEB_OUT=str(out)))
    debs = sorted(out.glob("pytest-mp_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def test_debian_package_installs_runs_and_removes(deb, tmp_path):
    deb_version = re.sub(r"^([0-9][0-9.]*[0-9])([a-z])", r"\1~\2", VERSION)
    assert check(["dpkg-deb", "-f", deb, "Version"]).stdout.strip() == deb_version
    try:
        check(["dpkg", "-i", deb], env=clean_env(DEBIAN_FRONTEND="noninteractive"))
        files = set(check(["dpkg", "-L", "pytest-mp"]).stdout.split())
        package = "/usr/lib/python3/dist-packages/pytest_mp"
        expected = {"/usr/bin/mp-coord", "/usr/bin/mp-agent",
                    "/usr/share/man/man1/mp-coord.1.gz", "/usr/share/man/man1/mp-agent.1.gz",
                    package + "/__init__.py", package + "/plugin.py",
                    package + "/libmpclient.so", package + "/VERSION"}
        expected |= {"/lib/systemd/system/" + p.name
                     for p in (REPO / "deploy" / "systemd").glob("*.service")}
        assert expected <= files, sorted(expected - files)
        assert any(re.match(r"/usr/lib/python3/dist-packages/pytest_mp-.*\.(egg|dist)-info$", f)
                   for f in files)
        changelog = check(["zcat", "/usr/share/doc/pytest-mp/changelog.gz"]).stdout
        assert changelog.startswith("pytest-mp (%s) " % deb_version)
        for name in ("mp-coord", "mp-agent"):
            assert_version("/usr/bin/" + name)
        out = check([DEBIAN_PYTHON, "-m", "pytest", "-VV", "-p", "no:cacheprovider"],
                    cwd=tmp_path)
        assert "pytest-mp-%s at %s/plugin.py" % (VERSION, package) in out.stdout + out.stderr
        record = run_suite(tmp_path, DEBIAN_PYTHON)
        assert record["agent"] == "/usr/bin/mp-agent"
        assert record["libs"] == [package + "/libmpclient.so"]
        assert record["plugin"] == package + "/__init__.py"
    finally:
        run(["dpkg", "-r", "pytest-mp"])
        run(["dpkg", "-P", "pytest-mp"])
    assert "installed" not in _dpkg_status("pytest-mp")
    assert not os.path.exists("/usr/bin/mp-coord")
    assert not os.path.exists("/usr/lib/python3/dist-packages/pytest_mp")
