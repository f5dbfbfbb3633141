"""docs/troubleshooting.md covers every message pytest-mp can show: each message
found in the source must appear in it.

A message is matched by a stable fragment: the longest run of 3 or more words of its
format string with no placeholder in it (a word has a letter or digit) ("--mp-wait must be 0 or more seconds, not"
for "--mp-wait must be 0 or more seconds, not %g"). A message with no such run
("mp-coord: %s", "retried %s: %s") must appear whole, each placeholder written as
one word ("retried NODEID: WHY"). Whitespace is compared collapsed, so the document
may wrap; a format with no letters outside its placeholders ("%s") is skipped.

The messages, from the source:
  plugin/pytest_mp/*.py  the first argument of pytest.UsageError(...) (required), and
                         of session.Interrupted, RuntimeError, WireError, ValueError,
                         NotImplementedError, the front end's _fail/_fail_unreported
                         and write_line; plan.py's problems.append(...) (the lines of
                         its usage error); strings assigned to `reason` or `error`
  coordinator/main.c, coordinator/status_cmd.c, agent/main.c, agent/zygote.c
                         fprintf (stderr, ...) and dprintf (2, ...) (required)
  coordinator/*.c, agent/*.c
                         mp_warn, mp_warn_limited and mp_error (the daemons' logs)
  coordinator/coord.c, coordinator/coord_units.c
                         the texts of run events: zsys_sprintf (...) and
                         snprintf (text|why|where|buf, ...)
  coordinator/*.c        mp_coord_reply_error (...) (what "TYPE refused: ..." says)
  common/key.c, common/curve_cert.c, coordinator/coord.c, coordinator/curve_auth.c,
  agent/agent.c          mp_set_error (...) (why a daemon or a client cannot start)
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "troubleshooting.md"
PLUGIN = ROOT / "plugin" / "pytest_mp"

# A printf/%-format conversion: flags, width, precision, C length, conversion.
CONVERSION = (r"%(?:\([^)]*\))?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
              r"(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfFgGcrsa]")
PIECES = re.compile(r"(%%|" + CONVERSION + r")")


# Fragments -----------------------------------------------------------------------


def _parts(fmt):
    """The literal text of a format between its placeholders ('%%' is text)."""
    parts, current = [], ""
    for i, piece in enumerate(PIECES.split(fmt.strip())):
        if i % 2 == 0:
            current += piece
        elif piece == "%%":
            current += "%"
        else:
            parts.append(current)
            current = ""
    parts.append(current)
    return parts


def _words(text):
    return " ".join(text.split())


def _is_word(token):
    return any(c.isalnum() for c in token)


def _run(part):
    """The part's text without leading or trailing tokens that are not words (a lone
    ':' or ')' next to a placeholder)."""
    tokens = part.split()
    while tokens and not _is_word(tokens[0]):
        tokens.pop(0)
    while tokens and not _is_word(tokens[-1]):
        tokens.pop()
    return " ".join(tokens)


def _pattern(parts):
    """A regex of the whole message, any placeholder standing for one word."""
    def literal(part):
        return "".join(r"\s+" if token.isspace() else re.escape(token)
                       for token in re.split(r"(\s+)", part) if token)
    return r"\S*".join(literal(part) for part in parts)


def expectation(fmt):
    """('text', fragment), ('pattern', regex), or None when there is nothing to find."""
    parts = _parts(fmt)
    if not any(c.isalpha() for part in parts for c in part):
        return None
    runs = [_run(part) for part in parts
            if sum(1 for token in part.split() if _is_word(token)) >= 3]
    if runs:
        return "text", max(runs, key=len)
    return "pattern", _pattern(parts)


def missing(messages):
    """The (where, format, fragment) of each message the document does not show."""
    doc = _words(DOC.read_text(encoding="utf-8"))
    absent = []
    for where, fmt in messages:
        expected = expectation(fmt)
        if expected is None:
            continue
        kind, value = expected
        found = value in doc if kind == "text" else re.search(value, doc) is not None
        if not found:
            absent.append((where, fmt, value))
    return absent


def check(messages):
    absent = missing(messages)
    if absent:
        lines = ["%d of %d messages are not in %s:" % (len(absent), len(messages),
                                                        DOC.relative_to(ROOT))]
        for where, fmt, value in absent:
            lines.append("  %s: %r\n      looked for: %s" % (where, fmt, value))
        pytest.fail("\n".join(lines), pytrace=False)


# Python ----------------------------------------------------------------------------


def format_of(node):
    """The format string of a message expression (placeholders as %s), or None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return format_of(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = format_of(node.left), format_of(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else "%s") + (right if right is not None else "%s")
    if isinstance(node, ast.JoinedStr):
        return "".join(value.value.replace("%", "%%") if isinstance(value, ast.Constant)
                       else "%s" for value in node.values)
    return None


def _call_name(call):
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


MESSAGE_CALLS = {"Interrupted", "RuntimeError", "WireError", "ValueError",
                 "NotImplementedError", "_fail", "_fail_unreported", "write_line"}


def python_messages(calls):
    """(file:line, format) of the first argument of every call named in calls in
    plugin/pytest_mp/*.py ('problems.append' for appends to a list named problems),
    and, when calls is not just UsageError, of strings assigned to reason/error."""
    found = []
    for path in sorted(PLUGIN.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            value = None
            if isinstance(node, ast.Call) and node.args:
                name = _call_name(node)
                if name == "append" and isinstance(node.func, ast.Attribute):
                    owner = node.func.value
                    name = "problems.append" if getattr(owner, "id", "") == "problems" else ""
                if name in calls:
                    value = node.args[0]
            elif (isinstance(node, ast.Assign) and "reason/error" in calls
                  and any(getattr(t, "id", "") in ("reason", "error") for t in node.targets)):
                value = node.value
            fmt = format_of(value) if value is not None else None
            if fmt is not None:
                found.append(("%s:%d" % (path.relative_to(ROOT), node.lineno), fmt))
    return found


# C ---------------------------------------------------------------------------------

C_LITERALS = r'((?:"(?:[^"\\\n]|\\.)*"|PRI[A-Za-z0-9]+|\s)+)'
C_ESCAPES = {"n": "\n", "t": "\t"}


def _c_string(blob):
    """The string a run of C literals (and PRI.. macros) makes."""
    text = ""
    for token in re.findall(r'"(?:[^"\\\n]|\\.)*"|PRI[A-Za-z0-9]+', blob):
        if token.startswith("PRI"):
            text += token[3]  # "%" PRIu64 -> "%u", "%" PRIx64 -> "%x"
        else:
            text += re.sub(r"\\(.)", lambda m: C_ESCAPES.get(m.group(1), m.group(1)),
                           token[1:-1])
    return text


def c_messages(paths, call):
    """(file:line, format) of the literal format at every match of the call regex."""
    found = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(call + C_LITERALS, source):
            if '"' not in match.group(1):
                continue
            line = source.count("\n", 0, match.start()) + 1
            found.append(("%s:%d" % (path.relative_to(ROOT), line), _c_string(match.group(1))))
    return found


def files(*patterns):
    paths = []
    for pattern in patterns:
        paths += sorted(ROOT.glob(pattern))
    return paths


STDERR = r"(?:\bfprintf\s*\(\s*stderr|\bdprintf\s*\(\s*2)\s*,\s*"
LOGS = r"\bmp_(?:warn|warn_limited|error)\s*\(\s*"
EVENTS = r"\b(?:zsys_sprintf\s*\(|snprintf\s*\(\s*(?:text|why|where|buf)\s*,[^,]+,)\s*"
REPLY_ERRORS = r"\bmp_coord_reply_error\s*\([^,]+,[^,]+,[^,]+,\s*"
SET_ERROR = r"\bmp_set_error\s*\([^,]+,[^,]+,\s*"


def usage_errors():
    return python_messages({"UsageError"})


def stderr_messages():
    return c_messages(files("coordinator/main.c", "coordinator/status_cmd.c", "agent/main.c",
                            "agent/zygote.c"), STDERR)


# Tests -----------------------------------------------------------------------------


def test_the_extraction_finds_the_messages():
    """Guards the tests below against passing on nothing found."""
    usage = [fmt for _, fmt in usage_errors()]
    assert len(usage) >= 15
    assert any("cannot be used together" in fmt for fmt in usage)
    assert expectation("--mp-wait must be 0 or more seconds, not %g") == (
        "text", "--mp-wait must be 0 or more seconds, not")
    stderr = [fmt for _, fmt in stderr_messages()]
    assert len(stderr) >= 10
    assert any(fmt.startswith("mp-coord: refusing to listen on %s without a key") and
               "accept anyone who can reach it" in fmt for fmt in stderr)
    assert any(fmt.startswith("mp-agent: --np must be 1..4096") for fmt in stderr)
    assert any(fmt.startswith("mp-coord status: no answer from") for fmt in stderr)
    assert expectation("mp-coord: %s\n")[0] == "pattern"
    assert expectation("%s") is None


def test_the_check_fails_on_a_message_the_document_lacks():
    absent = missing([("here", "pytest-mp: no such message %s is documented anywhere"),
                      ("there", "undocumented %s: %s")])
    assert [value for _, _, value in absent] == [
        "pytest-mp: no such message", _pattern(["undocumented ", ": ", ""])]


def test_every_usage_error_is_documented():
    check(usage_errors() + python_messages({"problems.append"}))


def test_every_daemon_stderr_message_is_documented():
    check(stderr_messages())


def test_every_front_end_message_is_documented():
    check(python_messages(MESSAGE_CALLS | {"reason/error"}))


def test_every_daemon_log_warning_and_error_is_documented():
    check(c_messages(files("coordinator/*.c", "agent/*.c"), LOGS))


def test_every_run_event_text_is_documented():
    check(c_messages(files("coordinator/coord.c", "coordinator/coord_units.c"), EVENTS))


def test_every_refusal_and_start_failure_reason_is_documented():
    check(c_messages(files("coordinator/*.c"), REPLY_ERRORS)
          + c_messages(files("common/key.c", "common/curve_cert.c", "coordinator/coord.c",
                             "coordinator/curve_auth.c", "agent/agent.c"), SET_ERROR))
