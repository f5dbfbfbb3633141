"""Bad mp_group marks stop the run before any test starts, with a usage error."""

import pytest

USAGE_ERROR = 4


def assert_refused(result, *names):
    assert result.returncode == USAGE_ERROR, result.log
    assert result.started == [], "tests started despite the error: %r\n%s" % (
        result.started, result.log)
    for name in names:
        assert name in result.output, "%r not named in the error\n%s" % (name, result.log)


def test_unknown_strategy_is_a_usage_error(suite):
    suite.write("test_unknown.py", """
        import pytest

        def test_fine():
            pass

        @pytest.mark.mp_group("Grp", "bogus_strategy")
        def test_bad_strategy():
            pass
    """)
    assert_refused(suite.run(np=2), "test_bad_strategy", "bogus_strategy")


def test_two_strategies_for_one_group_is_a_usage_error(suite):
    suite.write("test_conflict.py", """
        import pytest

        @pytest.mark.mp_group("Clash", "serial")
        def test_clash_first():
            pass

        @pytest.mark.mp_group("Clash")
        def test_clash_unnamed():
            pass

        @pytest.mark.mp_group("Clash", "isolated_free")
        def test_clash_second():
            pass
    """)
    result = suite.run(np=2)
    assert_refused(result, "already has specified strategy", "Clash",
                   "test_clash_first", "test_clash_second",
                   "serial", "isolated_free")


@pytest.mark.parametrize("where", ["function", "class and method"])
def test_two_group_marks_on_one_test_is_a_usage_error(suite, where):
    if where == "function":
        suite.write("test_twice.py", """
            import pytest

            def test_fine():
                pass

            @pytest.mark.mp_group("GroupAlpha")
            @pytest.mark.mp_group("GroupBeta")
            def test_two_marks():
                pass
        """)
    else:
        suite.write("test_twice.py", """
            import pytest

            def test_fine():
                pass

            @pytest.mark.mp_group("GroupAlpha")
            class TestMarked:
                @pytest.mark.mp_group("GroupBeta")
                def test_two_marks(self):
                    pass
        """)
    assert_refused(suite.run(np=2), "test_two_marks", "GroupAlpha", "GroupBeta")


@pytest.mark.parametrize("args, named", [
    (["--mp-coord="], "--mp-coord"),
    (["--mp-coord", "somewhere:7700"], "--mp-coord"),
    (["--mp-listen", "0.0.0.0:7700"], "--mp-listen"),
    (["--mp-timeout", "-1"], "--mp-timeout"),
    (["--mp-min-agents", "-5"], "--mp-min-agents"),
    (["--mp-wait", "-2"], "--mp-wait"),
    (["--mp-key-file", "/nonexistent/key"], "--mp-key-file"),
])
def test_an_invalid_option_value_is_a_usage_error_naming_the_option(suite, args, named):
    suite.write("test_one.py", "def test_one():\n    pass\n")
    result = suite.run_plain("--mp", *args)
    assert_refused(result, named)
    assert "INTERNALERROR" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("content, mode, why", [
    (b"short", 0o600, "has 5 bytes"),
    (b"k" * 32, 0o644, "chmod 600"),
])
def test_a_bad_key_file_is_one_line_and_interrupted(suite, tmp_path, content, mode, why):
    key = tmp_path / "key"
    key.write_bytes(content)
    key.chmod(mode)
    suite.write("test_one.py", "def test_one():\n    pass\n")
    result = suite.run_plain("--mp", "--mp-coord", "ipc://%s/none.ipc" % tmp_path,
                             "--mp-key-file", str(key))
    assert result.returncode == 2, result.log
    assert why in result.output and "INTERNALERROR" not in result.output, result.log
    assert result.started == []


def test_an_agent_whose_python_lacks_the_plugin_says_so_at_start(tmp_path):
    import os
    import subprocess
    import sys

    bin_dir = os.environ.get("MP_BIN_DIR") or os.path.dirname(sys.executable)
    # A Python without pytest_mp: a bare venv of its own.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")],
                   check=True)
    bare = str(tmp_path / "bare" / "bin" / "python")
    proc = subprocess.run([os.path.join(bin_dir, "mp-agent"), "--connect",
                           "ipc://%s/none.ipc" % tmp_path, "--python", bare],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc
    line = proc.stderr.strip().splitlines()[-1]
    assert bare in line and "cannot import pytest and pytest_mp" in line and "--python" in line
