"""pytest --mp-groups: lists the groups, their strategies and test counts, and the
ungrouped tests; with -v their test ids; then ends as --co does, running nothing."""

import re

USAGE_ERROR = 4

GROUPS_SUITE = """
    import pytest

    @pytest.mark.mp_group("Db", "serial")
    def test_db_a():
        pass

    @pytest.mark.mp_group("Db")
    def test_db_b():
        pass

    def test_plain_a():
        pass

    @pytest.mark.mp_group("Net", "isolated_free")
    @pytest.mark.parametrize("i", range(3))
    def test_net(i):
        pass

    @pytest.mark.mp_group(group="Solo", strategy="isolated_serial")
    def test_solo():
        pass

    class TestShared:
        pytestmark = pytest.mark.mp_group("Cls")

        def test_one(self):
            pass

        def test_two(self):
            pass

    def test_plain_b():
        assert False, "never run: --mp-groups runs nothing"
"""

#  The listing's lines, in the order of each group's first test; ungrouped last.
EXPECTED = [
    "mp_group Db: serial, 2 tests",
    "mp_group Net: isolated_free, 3 tests",
    "mp_group Solo: isolated_serial, 1 test",
    "mp_group Cls: free, 2 tests",
    "ungrouped: free, 2 tests",
]


def listing(result):
    return [line for line in result.stdout.splitlines()
            if line.startswith(("mp_group ", "ungrouped: ", "    "))]


def assert_listed_and_nothing_run(result, expected):
    assert result.returncode == 0, result.log
    assert listing(result) == expected, result.log
    assert result.started == [] and result.sessions == [], "tests ran\n" + result.log
    assert re.search(r"\b10 tests collected\b", result.stdout), result.log
    assert "passed" not in result.stdout and "failed" not in result.stdout, result.log


def test_groups_counts_and_strategies_without_mp(suite):
    suite.write("test_groups.py", GROUPS_SUITE)
    assert_listed_and_nothing_run(suite.run_plain("--mp-groups"), EXPECTED)


def test_groups_quiet_lists_the_same(suite):
    suite.write("test_groups.py", GROUPS_SUITE)
    assert_listed_and_nothing_run(suite.run_plain("--mp-groups", "-q"), EXPECTED)


def test_groups_with_mp_lists_and_starts_nothing(suite):
    suite.write("test_groups.py", GROUPS_SUITE)
    assert_listed_and_nothing_run(suite.run("--mp-groups", np=2), EXPECTED)


def test_groups_verbose_lists_test_ids(suite):
    suite.write("test_groups.py", GROUPS_SUITE)
    ids = {
        "Db": ["test_db_a", "test_db_b"],
        "Net": ["test_net[0]", "test_net[1]", "test_net[2]"],
        "Solo": ["test_solo"],
        "Cls": ["TestShared::test_one", "TestShared::test_two"],
        "": ["test_plain_a", "test_plain_b"],
    }
    expected = []
    for line, group in zip(EXPECTED, ["Db", "Net", "Solo", "Cls", ""]):
        expected.append(line)
        expected += ["    test_groups.py::" + name for name in ids[group]]
    assert_listed_and_nothing_run(suite.run_plain("--mp-groups", "-v"), expected)


def test_groups_count_selected_tests_but_keep_strategies(suite):
    suite.write("test_groups.py", GROUPS_SUITE)
    #  test_db_a, which names Db's strategy, is deselected: Db stays serial, as
    #  under --mp; groups with no selected test are not listed.
    result = suite.run_plain("--mp-groups", "-k", "db_b or net or plain_a")
    assert result.returncode == 0, result.log
    assert listing(result) == ["mp_group Db: serial, 1 test",
                               "mp_group Net: isolated_free, 3 tests",
                               "ungrouped: free, 1 test"], result.log
    assert result.started == [], result.log
    assert "5/10 tests collected (5 deselected)" in result.stdout, result.log


def test_groups_conflicting_strategies_is_the_usage_error_of_mp(suite):
    suite.write("test_conflict.py", """
        import pytest

        @pytest.mark.mp_group("Clash", "serial")
        def test_clash_first():
            pass

        @pytest.mark.mp_group("Clash", "free")
        def test_clash_second():
            pass
    """)
    listed = suite.run_plain("--mp-groups")
    under_mp = suite.run(np=2)
    for result in (listed, under_mp):
        assert result.returncode == USAGE_ERROR, result.log
        assert result.started == [], result.log
    error = [line for line in listed.stderr.splitlines() if line.startswith("ERROR:")]
    assert error and "Clash already has specified strategy serial" in error[0], listed.log
    assert error == [line for line in under_mp.stderr.splitlines()
                     if line.startswith("ERROR:")], (listed.log, under_mp.log)
    assert listing(listed) == [], listed.log


def test_groups_ungrouped_only(suite):
    suite.write("test_plain.py", """
        def test_one():
            pass
    """)
    result = suite.run_plain("--mp-groups")
    assert result.returncode == 0, result.log
    assert listing(result) == ["ungrouped: free, 1 test"], result.log
    assert result.started == [], result.log


def test_groups_no_tests_exits_like_co(suite):
    suite.write("test_empty.py", "")
    result = suite.run_plain("--mp-groups")
    plain = suite.run_plain("--co")
    assert result.returncode == plain.returncode == 5, (result.log, plain.log)
    assert listing(result) == [], result.log


def test_groups_help_is_in_the_pytest_mp_group(suite):
    result = suite.run_plain("--help")
    assert result.returncode == 0, result.log
    section = result.stdout.split("pytest-mp:", 1)[1]
    assert re.search(r"--mp-groups\s+list every mp_group", section), result.log
