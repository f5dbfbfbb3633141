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
