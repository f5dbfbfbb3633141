"""Suites written for the original pytest-mp run unchanged: its mark forms, option
spellings and ini options."""

import os

import pytest

GROUP_FORMS = """
    import time
    import pytest

    @pytest.mark.mp_group(group="Kw", strategy="serial")
    def test_kw_a():
        time.sleep(0.1)

    @pytest.mark.mp_group(group="Kw")
    def test_kw_b():
        time.sleep(0.1)

    @pytest.mark.mp_group("Cls", "serial")
    class TestCls:
        def test_cls_a(self):
            time.sleep(0.1)

        def test_cls_b(self):
            time.sleep(0.1)

    @pytest.mark.mp_group("Late", "serial")
    def test_late_a():
        time.sleep(0.1)

    @pytest.mark.mp_group("Late")
    def test_late_b():
        time.sleep(0.1)

    @pytest.mark.mp_group("Late")
    def test_late_c():
        time.sleep(0.1)

    @pytest.mark.parametrize("i", range(2))
    def test_free(i):
        time.sleep(0.1)
"""


def test_keyword_class_and_inherited_group_forms(suite):
    suite.write("test_forms.py", GROUP_FORMS)
    result = suite.run(np=4)
    assert result.returncode == 0, result.log
    assert result.summary_count("passed") == 9, result.log
    groups = {prefix: result.select(prefix) for prefix in ("test_kw_", "test_cls_", "test_late_")}
    assert [len(g) for g in groups.values()] == [2, 2, 3], result.log
    for prefix, group in groups.items():
        #  serial (named by keywords, on the class, or by the group's first test): one process.
        assert len(result.pids(group)) == 1, "%s* did not share a process: %r" % (prefix, group)
    group_pids = [result.pids(g) for g in groups.values()]
    free_pids = result.pids(result.select("test_free"))
    assert len(set.union(*group_pids)) == 3, "two groups shared a process"
    assert len(free_pids) == 2 and not free_pids & set.union(*group_pids)


SETTINGS_SUITE = """
    import time
    import pytest

    @pytest.mark.parametrize("i", range(4))
    def test_settings(i, mp_use_mp, mp_num_processes, e2e_record):
        e2e_record("settings", use_mp=bool(mp_use_mp), num_processes=str(mp_num_processes))
        time.sleep(0.3)
"""


def assert_ran_under_mp_with_two_processes(result):
    assert result.returncode == 0, result.log
    tests = list(result.tests.values())
    assert len(tests) == 4, result.log
    assert len(result.pids(tests)) == 4, "tests shared a process: %r" % tests
    assert result.max_concurrency(tests) <= 2, "more than 2 tests at once: %r" % tests
    for s in result.of_kind("settings"):
        assert s["use_mp"] is True and s["num_processes"] == "2", s


def test_long_option_spellings(suite):
    suite.write("test_settings.py", SETTINGS_SUITE)
    result = suite.run_plain("--multiprocessing", "--num-processes", "2")
    assert_ran_under_mp_with_two_processes(result)


def test_ini_options_turn_mp_on_without_flags(suite):
    suite.write("test_settings.py", SETTINGS_SUITE)
    plain = suite.run_plain()
    assert plain.returncode == 0, plain.log
    assert len(plain.pids(plain.tests.values())) == 1, "plain pytest used several processes"
    assert {s["use_mp"] for s in plain.of_kind("settings")} == {False}, plain.records
    suite.ini("""
        mp = true
        num_processes = 2
    """)
    assert_ran_under_mp_with_two_processes(suite.run_plain())


def test_tmp_path_dirs_of_one_run_share_one_base_and_stay_apart(suite):
    suite.write("test_tmp.py", """
        import os
        import time
        import pytest

        @pytest.mark.parametrize("i", range(6))
        def test_tmp(i, tmp_path, e2e_record):
            (tmp_path / "mine").write_text(str(i))
            time.sleep(0.2)
            assert (tmp_path / "mine").read_text() == str(i)
            e2e_record("tmp", path=str(tmp_path))
    """)
    result = suite.run(np=3)
    assert result.returncode == 0, result.log
    paths = [r["path"] for r in result.of_kind("tmp")]
    assert len(set(paths)) == 6, paths
    #  Like a plain run: one numbered base dir (pytest-N) for the whole run.
    assert len({os.path.dirname(p) for p in paths}) == 1, paths


GROUP_INFO_SUITE = """
    import pytest

    @pytest.mark.mp_group('One', strategy='serial')
    def test_one(request):
        assert request.node.get_closest_marker('mp_group_info').kwargs == {
            'group': 'One', 'strategy': 'serial'}

    @pytest.mark.mp_group(group='One')
    def test_two(request):
        # Inherited from the test that names it.
        assert request.node.get_closest_marker('mp_group_info').kwargs == {
            'group': 'One', 'strategy': 'serial'}

    def test_four(request):
        assert request.node.get_closest_marker('mp_group_info').kwargs == {
            'group': 'ungrouped', 'strategy': 'free'}
"""


@pytest.mark.parametrize("args", [[], ["--mp", "--np", "2"]], ids=["plain", "mp"])
def test_every_test_carries_the_original_mp_group_info_marker(suite, args):
    suite.write("test_info.py", GROUP_INFO_SUITE)
    result = suite.run_plain(*args)
    assert result.returncode == 0 and result.summary_count("passed") == 3, result.log


@pytest.mark.parametrize("args, use_mp, processes", [
    ([], False, 0),
    (["--np", "3"], False, 0),
    (["--mp", "--np", "0"], True, 0),
    (["--mp", "--np", "2"], True, 2),
])
def test_fixtures_and_np_zero_as_in_the_original(suite, args, use_mp, processes):
    suite.write("test_fixtures.py", """
        from pytest_mp import plugin

        def test_values(mp_use_mp, mp_num_processes):
            assert (mp_use_mp, mp_num_processes) == (%r, %r)
            # --np 0 turns pytest-mp off: then no unit process of a run runs this.
            assert bool(plugin._worker["run"]) == %r
    """ % (use_mp, processes, processes > 0))
    result = suite.run_plain(*args)
    assert result.returncode == 0 and result.summary_count("passed") == 1, result.log


def test_help_lists_the_options_under_the_original_group_title(suite):
    result = suite.run_plain("--help")
    lines = result.stdout.splitlines()
    assert "pytest-mp:" in lines, result.stdout
    assert any(line.strip().startswith("--np=NUM_PROCESSES, --num-processes=NUM_PROCESSES")
               for line in lines), result.stdout
