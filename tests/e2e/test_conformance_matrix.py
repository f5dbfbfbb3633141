"""A differential conformance matrix: generated suites run plainly and under --mp
(np=2, and a subset with two remote agents in network namespaces), and everything the
user sees compared, with plain pytest as the oracle.

Compared per case: the exit code; the per-test -v lines (sorted) or, without -v, the
progress characters of each file (as multisets); the other lines of the run region;
the set of section headers; the short test summary lines (sorted); the final summary
line; the body of every section (FAILURES, ERRORS, PASSES, ...: its subsections as a
sorted multiset; warnings summary: its blocks, sorted); --durations: that the section
is there and lists the slowest calls (ids, not times); stderr; the whole junit xml
(testsuite counts and properties, every testcase with its attributes and children);
with the cache plugin on, the cache files (lastfailed, stepwise, nodeids). With --co
the whole output is compared line by line.

Normalised away, and only: timings, pids, object addresses, temporary paths (the suite
directory, whose copies differ in the cache sequences, and each run's junit file), the
percentage progress
markers, the order tests finish in (by sorting), and the documented additions of
pytest-mp (README, "What you see"): a `[agent:slot]` worker tag before the outcome
word of -v lines, a `pytest-mp` terminal section, a `pytest-mp` report section in a
failure's body ("ran on agent A (host H), slot S, pid P") and an `mp_worker` junit
property.
"""

import difflib
import itertools
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from conftest import RUN_TIMEOUT, Suite
from conftest import run_pytest as conftest_run_pytest

try:  # the network-namespace hosts and lab of the multi-host tests, reused as they are
    from netns import Lab, netns_hosts
    REMOTE_IMPORT_ERROR = None
except Exception as error:  # pragma: no cover - only when that module is broken
    Lab = netns_hosts = None
    REMOTE_IMPORT_ERROR = "cannot import the netns helpers of the multi-host tests: %r" % (
        error,)

#  Names and a subnet of our own: test_multihost.py may run at the same time.
_TAG = os.getpid() % 10000
REMOTE_BRIDGE = "mpcm%d" % _TAG
REMOTE_HOSTS = ("mpc1-%d" % _TAG, "mpc2-%d" % _TAG)
REMOTE_COORD_IP = "10.79.0.1"

# ---------------------------------------------------------------------------------
# The suites

MAIN_INI = """
    markers =
        slow: a slow test (selected with -m slow)
        smoke: a smoke test
"""

MAIN_SUITE = {
    "mp_helper_top.py": """
        import warnings

        class HelperWarning(UserWarning):
            \"\"\"A category of a helper module the test module imports at its top.\"\"\"

        def warn_top():
            warnings.warn(HelperWarning("helper category warned"))
    """,
    "mp_helper_lazy.py": """
        import warnings

        class LazyWarning(Warning):
            \"\"\"A category of a helper module imported only inside a test.\"\"\"

        def warn_lazy():
            warnings.warn(LazyWarning("lazy helper category warned"))
    """,
    "mathx.py": '''
        def add(a, b):
            """
            >>> add(1, 2)
            3
            """
            return a + b

        def sub(a, b):
            """
            >>> sub(3, 1)
            1
            """
            return a - b
    ''',
    "test_outcomes.py": """
        import sys
        import pytest

        @pytest.fixture
        def fail_setup():
            raise RuntimeError("setup broke")

        @pytest.fixture
        def pytest_fail_setup():
            pytest.fail("pytest.fail in setup")

        @pytest.fixture
        def fail_teardown():
            yield
            raise RuntimeError("teardown broke")

        @pytest.fixture
        def skip_setup():
            pytest.skip("skipped in a fixture")

        @pytest.fixture
        def skip_teardown():
            yield
            pytest.skip("skipped in teardown")

        @pytest.fixture
        def xfail_setup():
            pytest.xfail("xfailed in a fixture")

        def test_pass():
            pass

        def test_fail_call():
            values = [1, 2, 3]
            assert values == [1, 2, 4], "lists differ"

        def test_error_setup(fail_setup):
            pass

        def test_pytest_fail_setup(pytest_fail_setup):
            pass

        def test_error_teardown(fail_teardown):
            pass

        def test_fail_call_and_teardown(fail_teardown):
            assert 0, "call failed too"

        def test_skip_setup(skip_setup):
            pass

        def test_skip_teardown(skip_teardown):
            pass

        def test_xfail_setup(xfail_setup):
            pass

        def test_skip_imperative():
            pytest.skip("imperative reason")

        @pytest.mark.skip(reason="marked reason")
        def test_skip_marked():
            pass

        @pytest.mark.skip
        def test_skip_no_reason():
            pass

        @pytest.mark.skipif("sys.platform != 'none'", reason="skipif reason")
        def test_skipif():
            pass

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert 0

        @pytest.mark.xfail(strict=True, reason="strict known bug")
        def test_xfail_strict():
            assert 0

        @pytest.mark.xfail(reason="fixed meanwhile")
        def test_xpass():
            pass

        @pytest.mark.xfail(strict=True, reason="strict and fixed")
        def test_xpass_strict():
            pass

        @pytest.mark.xfail(raises=KeyError, reason="wrong exception")
        def test_xfail_wrong_raises():
            raise ValueError("not a KeyError")

        @pytest.mark.xfail(run=False, reason="never run")
        def test_xfail_not_run():
            sys.exit(3)

        def test_xfail_imperative():
            pytest.xfail("imperative xfail")

        def test_exception_chain():
            try:
                {}["key"]
            except KeyError as error:
                raise ValueError("chained") from error
    """,
    "test_module_skip.py": """
        import pytest

        pytest.skip("the whole module is skipped", allow_module_level=True)

        def test_never():
            pass
    """,
    "test_capture.py": """
        import logging
        import sys
        import pytest

        log = logging.getLogger("suite.capture")

        @pytest.fixture
        def noisy():
            print("stdout in setup")
            sys.stderr.write("stderr in setup\\n")
            log.warning("log in setup")
            yield
            print("stdout in teardown")
            sys.stderr.write("stderr in teardown\\n")
            log.warning("log in teardown")

        def test_output_fail(noisy):
            print("stdout in call \\u00fcn\\u00efc\\u00f6d\\u00e9")
            sys.stderr.write("stderr in call\\n")
            log.warning("log in call")
            log.info("below the level: not captured")
            assert False, "failed with output"

        def test_output_pass(noisy):
            print("stdout of a passing test")
            log.error("error log of a passing test")

        @pytest.fixture
        def noisy_broken_teardown():
            yield
            print("stdout before a teardown error")
            log.warning("log before a teardown error")
            raise RuntimeError("noisy teardown")

        def test_output_teardown_error(noisy_broken_teardown):
            print("stdout in the call of a teardown error")
    """,
    "test_props.py": """
        def test_record_property(record_property):
            record_property("answer", 42)
            record_property("text", "a<b & c")

        def test_record_xml_attribute(record_xml_attribute):
            record_xml_attribute("owner", "team-a")

        def test_user_properties(request):
            request.node.user_properties.append(("custom", "value"))

        def test_property_then_fail(record_property):
            record_property("before", "the failure")
            assert 0, "failed after recording"

        def test_suite_property(record_testsuite_property):
            record_testsuite_property("build", "1234")
    """,
    "test_params.py": """
        import pytest

        ODD = ["a b", "\\u00fcn\\u00ef", "[br]", "sl/ash", "co::lon", "dot.dash-x"]

        @pytest.mark.parametrize("value", ODD, ids=ODD)
        def test_ids(value):
            assert value != "[br]", "brackets fail"

        @pytest.mark.parametrize("a,b", [
            (1, 2),
            pytest.param(3, 4, id="explicit id"),
            pytest.param(6, 5, marks=pytest.mark.xfail(reason="param xfail")),
            pytest.param(7, 8, marks=pytest.mark.skip(reason="param skip")),
        ])
        def test_pairs(a, b):
            assert a < b
    """,
    "test_classes.py": """
        import unittest
        import pytest

        class TestOuter:
            def test_a(self):
                pass

            def test_b_fails(self):
                assert 1 == 0

            @pytest.mark.smoke
            def test_smoke(self):
                pass

            class TestInner:
                def test_c(self):
                    pass

                def test_d_skips(self):
                    pytest.skip("inner skip")

                def test_e_fails(self):
                    assert "inner" == "outer"

        class MyCase(unittest.TestCase):
            def test_ok(self):
                pass

            def test_fail(self):
                self.assertEqual(1, 2)

            @unittest.skip("unittest skip")
            def test_skip(self):
                pass

            @unittest.expectedFailure
            def test_expected_failure(self):
                self.assertEqual(1, 2)
    """,
    "test_slow.py": """
        import time
        import pytest

        @pytest.mark.slow
        @pytest.mark.parametrize("delay", [0.15, 0.2, 0.25, 0.3])
        def test_sleep(delay):
            time.sleep(delay)

        @pytest.mark.smoke
        def test_fast():
            pass
    """,
    "test_warnings.py": """
        import warnings
        import pytest
        import mp_helper_top

        class ModuleWarning(UserWarning):
            \"\"\"A category of this test module.\"\"\"

        def test_module_category():
            warnings.warn(ModuleWarning("module category warned"))

        def test_helper_top_category():
            mp_helper_top.warn_top()

        def test_helper_lazy_category():
            import mp_helper_lazy
            mp_helper_lazy.warn_lazy()

        def test_deprecation():
            warnings.warn("old api", DeprecationWarning)

        @pytest.fixture
        def warns_in_setup():
            warnings.warn(ModuleWarning("warned in setup"))
            yield

        def test_warn_in_setup(warns_in_setup):
            pass

        @pytest.mark.parametrize("n", [1, 2])
        def test_same_warning_twice(n):
            warnings.warn(ModuleWarning("the same warning"))
    """,
}

COLLECT_ERROR_SUITE = {
    "test_ok.py": """
        def test_ok():
            pass

        def test_fails():
            assert 0, "a failure next to collection errors"
    """,
    "test_import_error.py": """
        import no_such_module_here

        def test_unreached():
            pass
    """,
    "test_syntax_error.py": """
        def test_broken(:
            pass
    """,
}

CACHE_SUITE = {
    "test_c1.py": """
        def test_a():
            pass

        def test_b_fails():
            assert 0

        def test_c():
            pass
    """,
    "test_c2.py": """
        import pytest

        @pytest.mark.parametrize("i", range(4))
        def test_d(i):
            assert i != 2

        def test_e():
            pass
    """,
}

# ---------------------------------------------------------------------------------
# Running

MP_LOCAL = ("--mp", "--np", "2")
_RUNS = itertools.count(1)  # numbers the records and junit files of runs


def run_pytest(cwd, base, args, *, mp=(), cache=False, junit=False, timeout=RUN_TIMEOUT):
    """`python -m pytest` in cwd (conftest's run_pytest), its records and junit file
    numbered under base. Returns conftest's RunResult."""
    base.mkdir(parents=True, exist_ok=True)
    n = next(_RUNS)
    junit_path = base / ("junit-%d.xml" % n) if junit else None
    return conftest_run_pytest(cwd, [*mp, *args], base / ("records-%d.jsonl" % n), junit_path,
                               cache=cache, timeout=timeout, columns=120)


# ---------------------------------------------------------------------------------
# Normalising and parsing

REPORT_SECTION = re.compile(r"^-{3,} (.+?) -{3,}$")
SECTION = re.compile(r"^(=+) (.*?) ?(=+)$")
SUBSECTION = re.compile(r"^_{3,} (.*) _{3,}$")
PROGRESS = re.compile(r"\s+\[\s*\d+%\]$")
VERBOSE = re.compile(r"^(?P<id>\S.*?) (?:\[\S+:\d+\] )?"
                     r"(?P<word>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?P<rest>\b.*)$")
CHARS = re.compile(r"^(?:(?P<file>\S+) )?(?P<chars>[.FEsxX]+)$")
#  test_slow.py's two slowest sleepers (0.25 and 0.3 s); other calls take ~0.
SLOWEST = {"test_slow.py::test_sleep[0.25]", "test_slow.py::test_sleep[0.3]"}
DURATION = re.compile(r"^(?P<time>\d+\.\d+)s (?P<when>\w+)\s+(?P<id>.+)$")


def normalise_text(text, roots):
    """Timings, pids, addresses and temporary paths out of text."""
    for root in roots:
        for form in {str(root), os.path.realpath(str(root))}:
            text = text.replace(form, "<SUITE>")
    text = re.sub(r"/tmp/pytest-mp-[^/\s]+", "<MPTMP>", text)
    text = re.sub(r"/tmp/pytest-of-[^/\s]+/pytest-\d+", "<TMP>", text)
    text = re.sub(r" in \d+(\.\d+)?s( \(\d+:\d\d:\d\d\))?", " in <T>", text)
    # Each run writes a junit file of its own.
    # The junit path differs per run, and the separator's width with it; the line
    # itself is left out (the file is compared whole), since which terminal-summary
    # hook prints first decides the section it falls in.
    text = re.sub(r"(?m)^-* ?generated xml file: \S+ ?-*\n?", "", text)
    text = re.sub(r"\bpid[ =]\d+", "pid <N>", text)
    text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x<ADDR>", text)
    return text


def normalised_lines(text, roots):
    return [PROGRESS.sub("", line.rstrip()) for line in normalise_text(text, roots).splitlines()]


def drop_where_sections(lines):
    """Without the `pytest-mp` report sections of a failure's body."""
    kept, dropping = [], False
    for line in lines:
        m = REPORT_SECTION.match(line)
        if m or SUBSECTION.match(line):
            dropping = bool(m) and m.group(1) == "pytest-mp"
        if not dropping:
            kept.append(line)
    return kept


def without_mp_section(lines):
    """Lines without a `pytest-mp` terminal section (its header and body); the final
    summary line stays, framed or not (-q)."""
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    kept, dropping = [], False
    for line in lines[:-1]:
        m = SECTION.match(line)
        if m:
            dropping = m.group(2) == "pytest-mp"
        if not dropping:
            kept.append(line)
    return kept + lines[-1:]


def split_subsections(lines):
    """A section body -> (text before the first subsection, sorted subsections)."""
    lines = drop_where_sections(lines)
    head, subs, current = [], [], None
    for line in lines:
        m = SUBSECTION.match(line)
        if m:
            current = [m.group(1)]
            subs.append(current)
        elif current is not None:
            current.append(line)
        else:
            head.append(line)
    if not subs:
        return sorted(line for line in head if line), []
    return head, sorted("\n".join(sub).rstrip() for sub in subs)


def warning_blocks(lines):
    blocks, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(sorted(current)))
            current = []
    return sorted(blocks)


class Parsed:
    """The comparable parts of one run's stdout."""

    def __init__(self, stdout, roots):
        lines = normalised_lines(stdout, roots)
        while lines and not lines[-1].strip():
            lines.pop()
        self.final = lines[-1] if lines else ""
        m = SECTION.match(self.final)
        if m:
            self.final = m.group(2)
        body = lines[:-1]
        run = []
        sections = []  # (title, lines)
        current = run
        for line in body:
            m = SECTION.match(line)
            if m:
                current = []
                sections.append((m.group(2), current))
                if m.group(2) == "test session starts":
                    current = run  # the run region continues under this header
            else:
                current.append(line)
        sections = [(t, ls) for t, ls in sections if t != "pytest-mp"]
        self.headers = sorted(t for t, _ in sections)
        self.tests, self.other = [], []
        self.progress = {}
        file = ""
        for line in run:
            v = VERBOSE.match(line)
            c = CHARS.match(line)
            if v and ("::" in v.group("id") or v.group("id").endswith(".py")):
                self.tests.append("%s %s%s" % (v.group("id"), v.group("word"), v.group("rest")))
            elif c:
                file = c.group("file") or file
                self.progress[file] = self.progress.get(file, "") + c.group("chars")
            elif line.strip():
                self.other.append(line)
        self.tests.sort()
        self.other.sort()
        self.progress = {f: "".join(sorted(chars)) for f, chars in self.progress.items()}
        self.summary = []
        self.durations = None
        self.bodies = {}
        for title, section in sections:
            if title == "short test summary info":
                self.summary = sorted(line for line in section if line.strip())
            elif "durations" in title:
                # Which calls are slow (the suite's two slowest sleepers), not their
                # times, nor which phases near the cut made the list: a unit process's
                # first setup may be slower than a plain run's.
                # On a loaded machine other calls may pass the cut too: what must hold
                # is that the slowest sleepers are listed.
                calls = {d.group("id") for d in map(DURATION.match, section)
                         if d and d.group("when") == "call"}
                self.durations = sorted(calls & SLOWEST)
            elif title == "warnings summary":
                self.bodies[title] = warning_blocks(section)
            else:
                head, subs = split_subsections(section)
                self.bodies[title] = ["\n".join(head).strip()] + subs

    def parts(self):
        yield "final summary line", self.final
        yield "section headers", self.headers
        yield "-v lines (sorted)", self.tests
        yield "progress characters per file (sorted)", self.progress
        yield "other lines of the run region (sorted)", self.other
        yield "short test summary (sorted)", self.summary
        yield "durations: the slowest calls listed", self.durations
        for title in sorted(self.bodies):
            yield "section %r body" % title, self.bodies[title]


def junit_lines(path, roots):
    """The junit xml as sorted text, one block per testcase, timings dropped."""
    if path is None or not path.exists():
        return ["<no junit xml>"]

    def render(element, depth):
        attrs = " ".join("%s=%r" % (k, normalise_text(v, roots))
                         for k, v in sorted(element.attrib.items())
                         if k not in ("time", "timestamp", "hostname"))
        out = ["%s<%s %s>" % ("  " * depth, element.tag, attrs)]
        text = normalise_text(element.text or "", roots).strip()
        if text:
            out += ["%s| %s" % ("  " * depth, line) for line in text.splitlines()]
        for child in element:
            out += render(child, depth + 1)
        return out

    root = ET.parse(path).getroot()
    for parent in list(root.iter()):
        for properties in [c for c in parent if c.tag == "properties"]:
            for prop in list(properties):
                if prop.get("name") == "mp_worker":
                    properties.remove(prop)
            if not len(properties):
                parent.remove(properties)
    lines = []
    for testsuite in root.iter("testsuite"):
        head = [c for c in testsuite if c.tag != "testcase"]
        cases = sorted("\n".join(render(c, 1)) for c in testsuite if c.tag == "testcase")
        attrs = {k: v for k, v in testsuite.attrib.items()
                 if k not in ("time", "timestamp", "hostname")}
        lines.append("<testsuite %s>" % " ".join("%s=%r" % kv for kv in sorted(attrs.items())))
        for child in head:
            lines += render(child, 1)
        lines += cases
    return lines


def cache_files(path):
    """The cache entries a run left, as comparable values."""
    found = {}
    cache = path / ".pytest_cache" / "v" / "cache"
    for name in ("lastfailed", "stepwise", "nodeids"):
        entry = cache / name
        if entry.exists():
            value = json.loads(entry.read_text())
            found[name] = sorted(value) if isinstance(value, (list, dict)) else value
    return found


def shown(value):
    if isinstance(value, dict):
        return ["%s: %r" % kv for kv in sorted(value.items())]
    if isinstance(value, list):
        return [line for item in value for line in str(item).splitlines()] or ["<none>"]
    return str(value).splitlines() or ["<empty>"]


def diff(what, plain, mp, limit=60):
    lines = list(difflib.unified_diff(shown(plain), shown(mp), "plain", "mp", lineterm="", n=2))
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more diff lines)" % (len(lines) - limit)]
    return "--- %s differs:\n%s" % (what, "\n".join(lines))


def compare(plain, mp, roots, *, whole=False, label=""):
    """Every difference between a plain run and an mp run, as a list of messages."""
    problems = []
    if plain.returncode != mp.returncode:
        problems.append("--- exit code differs: plain %s, mp %s" % (plain.returncode,
                                                                    mp.returncode))
    if whole:
        p = without_mp_section(normalised_lines(plain.stdout, roots))
        m = without_mp_section(normalised_lines(mp.stdout, roots))
        if p != m:
            problems.append(diff("whole output", p, m))
    pp, mm = Parsed(plain.stdout, roots), Parsed(mp.stdout, roots)
    # The parser must have found the per-test lines of the oracle, or it compares nothing.
    ran = re.search(r"\d+ (passed|failed|skipped|xfailed|xpassed)", pp.final)
    assert whole or not ran or pp.tests or pp.progress, (
        "harness: no -v lines nor progress found in the plain output:\n" + plain.stdout)
    p_parts, m_parts = dict(pp.parts()), dict(mm.parts())
    for key in list(p_parts) + [k for k in m_parts if k not in p_parts]:
        a, b = p_parts.get(key, "<absent>"), m_parts.get(key, "<absent>")
        if a != b:
            problems.append(diff(key, a, b))
    p_err = sorted(normalised_lines(plain.stderr, roots))
    m_err = sorted(normalised_lines(mp.stderr, roots))
    if p_err != m_err:
        problems.append(diff("stderr", p_err, m_err))
    if plain._junit_path is not None:
        a, b = junit_lines(plain._junit_path, roots), junit_lines(mp._junit_path, roots)
        if a != b:
            problems.append(diff("junit xml", a, b, limit=80))
    if problems:
        problems.append("=== %splain: %s -> %s\n%s\n=== mp: %s -> %s\n%s" % (
            label, " ".join(plain.cmd[3:]), plain.returncode, truncate(plain.stdout + plain.stderr),
            " ".join(mp.cmd[3:]), mp.returncode, truncate(mp.stdout + mp.stderr)))
    return problems


def truncate(text, size=2500):
    return text if len(text) <= size else "...\n" + text[-size:]


def check(problems):
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# ---------------------------------------------------------------------------------
# The matrix

J1 = ("-o", "junit_family=xunit1")
J2 = ("-o", "junit_family=xunit2")
DOCT = ("--doctest-modules",)

#  id -> (flags, junit). The main ("everything") suite.
MAIN_CASES = {
    "default": ((), False),
    "-v": (("-v",), False),
    "-vv": (("-vv",), False),
    "-q": (("-q",), False),
    "-rA": (("-rA",), False),
    "-rs": (("-rs",), False),
    "-v-rA-doctest": (("-v", "-rA") + DOCT, False),
    "--tb=long": (("--tb=long", "-rA"), False),
    "--tb=short": (("--tb=short",), False),
    "--tb=line": (("--tb=line", "-v"), False),
    "--tb=native": (("--tb=native",), False),
    "--tb=no": (("--tb=no", "-rA"), False),
    "junit-xunit1": (J1, True),
    "junit-xunit2": (J2, True),
    "junit-xunit1-logging-all": (J1 + ("-o", "junit_logging=all") + DOCT, True),
    "junit-xunit2-logging-all": (J2 + ("-o", "junit_logging=all"), True),
    "-x": (("-x", "-v"), True),
    "--maxfail=2": (("--maxfail=2", "-v"), True),
    "-k": (("-k", "fail or ids", "-v"), False),
    "-m slow": (("-m", "slow", "-v"), False),
    "-m not slow": (("-m", "not slow and not smoke", "-rA"), False),
    "--deselect": (("--deselect", "test_params.py::test_ids[co::lon]",
                    "--deselect", "test_outcomes.py", "--deselect",
                    "test_classes.py::TestOuter::TestInner", "-v"), False),
    "nodeids": (("test_params.py::test_ids[a b]", "test_classes.py::TestOuter::TestInner",
                 "test_outcomes.py::test_fail_call_and_teardown", "test_props.py", "-v"), True),
    "--co": (("--co",), False),
    "--co-q-doctest": (("--co", "-q") + DOCT, False),
    "--durations=5": (("--durations=5",), False),
    "-W error": (("-W", "error", "-rA"), False),
    "-W error-junit": (("-W", "error"), True),
    "-W error::module-category": (("-W", "error::test_warnings.ModuleWarning", "-v"), False),
    "-W error::helper-category": (("-W", "error::mp_helper_top.HelperWarning", "-v"), False),
    "-W error::lazy-category": (("-W", "error::mp_helper_lazy.LazyWarning", "-v"), False),
}

#  Run also against two agents in network namespaces.
REMOTE_CASES = ["default", "-v", "-rA", "-q", "--tb=short", "--tb=native", "junit-xunit1",
                "junit-xunit2-logging-all", "--durations=5", "-W error::lazy-category",
                "-v-rA-doctest"]

COLLECT_ERROR_CASES = {
    "default": ((), True),
    "-v-rA": (("-v", "-rA"), False),
    "--continue-on-collection-errors": (("--continue-on-collection-errors", "-v", "-rA"), True),
    "--continue-on-collection-errors-q": (("--continue-on-collection-errors", "-q"), False),
    "--co": (("--co",), False),
}

#  id -> the flags of each run in sequence, in one copy of the suite per side.
CACHE_SEQUENCES = {
    "--lf": [("-v",), ("--lf", "-v")],
    "--lf-rA": [("-q",), ("--lf", "-rA")],
    "--ff": [("-q",), ("--ff", "-v")],
    "--sw": [("--sw", "-v"), ("--sw", "-v")],
    "--sw-skip": [("--sw", "-q"), ("--sw-skip", "-v")],
    "cache-on-then-no:cacheprovider": [("-v",), ("-p", "no:cacheprovider", "--lf", "-v")],
}


class Side:
    """A suite directory of its own with plain results kept per flags."""

    def __init__(self, base, files, ini=""):
        base.mkdir(parents=True, exist_ok=True)
        self.suite = Suite(base)
        self.suite.ini(ini)
        for name, source in files.items():
            self.suite.write(name, source)
        self.path = self.suite.path
        self.base = base
        self.plain = {}

    def run(self, flags, junit, mp=(), cache=False):
        return run_pytest(self.path, self.base / "runs", flags, mp=mp, junit=junit, cache=cache)

    def run_plain(self, flags, junit):
        key = (tuple(flags), junit)
        if key not in self.plain:
            self.plain[key] = self.run(flags, junit)
        return self.plain[key]


@pytest.fixture(scope="module")
def main_suite(tmp_path_factory):
    return Side(tmp_path_factory.mktemp("main"), MAIN_SUITE, MAIN_INI)


@pytest.mark.parametrize("case", list(MAIN_CASES))
def test_main_suite(main_suite, case):
    flags, junit = MAIN_CASES[case]
    plain = main_suite.run_plain(flags, junit)
    mp = main_suite.run(flags, junit, mp=MP_LOCAL)
    check(compare(plain, mp, [main_suite.path], whole=("--co" in flags)))


#  Run also with --mp-reuse: tests sharing a process report exactly as in fresh ones.
REUSE_CASES = ["-rA", "-v", "junit-xunit2-logging-all", "-x", "-W error::lazy-category",
               "--durations=5"]


@pytest.mark.parametrize("case", REUSE_CASES)
def test_main_suite_reusing_processes(main_suite, case):
    flags, junit = MAIN_CASES[case]
    plain = main_suite.run_plain(flags, junit)
    mp = main_suite.run(flags, junit, mp=MP_LOCAL + ("--mp-reuse",))
    check(compare(plain, mp, [main_suite.path]))


@pytest.mark.parametrize("case", list(COLLECT_ERROR_CASES))
def test_collection_errors(tmp_path, case):
    flags, junit = COLLECT_ERROR_CASES[case]
    side = Side(tmp_path, COLLECT_ERROR_SUITE)
    plain = side.run_plain(flags, junit)
    mp = side.run(flags, junit, mp=MP_LOCAL)
    check(compare(plain, mp, [side.path], whole=("--co" in flags)))


@pytest.mark.parametrize("case", list(CACHE_SEQUENCES))
def test_cache_sequence(tmp_path, case):
    """The same sequence of runs in two fresh copies of the suite, one plain and one
    under --mp, so that each side has its own cache: every step compared."""
    side = Side(tmp_path / "source", CACHE_SUITE)
    plain_dir, mp_dir = tmp_path / "plain", tmp_path / "mp"
    shutil.copytree(side.path, plain_dir)
    shutil.copytree(side.path, mp_dir)
    roots = [plain_dir, mp_dir]
    problems = []
    for step, flags in enumerate(CACHE_SEQUENCES[case], start=1):
        plain = run_pytest(plain_dir, tmp_path / "runs-plain", flags, cache=True)
        mp = run_pytest(mp_dir, tmp_path / "runs-mp", flags, mp=MP_LOCAL, cache=True)
        label = "step %d (%s): " % (step, " ".join(flags))
        found = compare(plain, mp, roots, label=label)
        a, b = cache_files(plain_dir), cache_files(mp_dir)
        if a != b:
            found.insert(0, diff("cache files after step %d" % step, a, b))
        problems += ["##### %s" % label + found[0]] + found[1:] if found else []
    check(problems)


# ---------------------------------------------------------------------------------
# Remote: the same cases with two agents in network namespaces

REMOTE_SKIP = None
if os.geteuid() != 0 or shutil.which("ip") is None:
    REMOTE_SKIP = "remote agents are made as network namespaces: they need root and iproute2"
elif REMOTE_IMPORT_ERROR:
    REMOTE_SKIP = REMOTE_IMPORT_ERROR


@pytest.fixture(scope="module")
def remote_lab(tmp_path_factory, main_suite):
    """mp-coord here, and two agents of one slot each (as many slots as the local
    cases' --np 2) in network namespaces, all working in the main suite's directory."""
    if REMOTE_SKIP:
        pytest.skip(REMOTE_SKIP)
    with netns_hosts(REMOTE_HOSTS, REMOTE_BRIDGE, REMOTE_COORD_IP) as made:
        lab = Lab(tmp_path_factory.mktemp("lab"), made, REMOTE_COORD_IP,
                  {host: main_suite.path for host in made}, np=1)
        try:
            yield lab
        finally:
            lab.stop()


@pytest.mark.skipif(REMOTE_SKIP is not None, reason=REMOTE_SKIP or "")
@pytest.mark.parametrize("case", REMOTE_CASES)
def test_main_suite_remote(main_suite, remote_lab, case):
    flags, junit = MAIN_CASES[case]
    plain = main_suite.run_plain(flags, junit)
    # "--opt=value": pytest finds the rootdir before it knows a plugin's options, and
    # takes the value of "--mp-key-file PATH" for a path to test (rootdir moves).
    mp = main_suite.run(flags, junit, mp=("--mp", "--mp-coord=%s" % remote_lab.endpoint,
                                          "--mp-key-file=%s" % remote_lab.key))
    problems = compare(plain, mp, [main_suite.path], whole=("--co" in flags))
    if problems:
        problems.append("--- coordinator log (end):\n" + remote_lab.log("coord")[-1500:])
    check(problems)
