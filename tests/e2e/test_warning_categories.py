"""Warnings recorded in workers are shown by the front end under their exact category:
the "warnings summary" of a --mp run is the one of a plain run, for categories of the
test module, of a helper module only the test imports, of a module the front end cannot
import (a stand-in then), of a class local to a test, and for builtin ones."""

import re

import pytest

WARNING_CONFTEST = """
    _config = []


    def pytest_configure(config):
        _config.append(config)


    def pytest_warning_recorded(warning_message, when, nodeid, location):
        category = warning_message.category
        e2e_write("warning", nodeid=nodeid, when=when,
                  frontend=_config[0].pluginmanager.has_plugin("mp_frontend"),
                  name=category.__name__, qualname=category.__qualname__,
                  module=category.__module__, mro=[c.__name__ for c in category.__mro__],
                  message=str(warning_message.message),
                  instance=isinstance(warning_message.message, category))
"""

HELPER = """
    import warnings


    class HelperWarning(DeprecationWarning):
        pass


    def emit():
        warnings.warn("from the helper", HelperWarning)
"""

#  Loaded by path under a name the front end cannot import: a stand-in is needed,
#  subclassing HelperWarning (which the front end can import).
HIDDEN = """
    import warnings

    import helper_warnings


    class HiddenWarning(helper_warnings.HelperWarning):
        pass


    def emit():
        warnings.warn("from a hidden module", HiddenWarning)
"""

TESTS = """
    import importlib.util
    import os
    import warnings

    import pytest


    class ModuleWarning(UserWarning):
        pass


    class Outer:
        class NestedWarning(RuntimeWarning):
            pass


    def test_module_category():
        warnings.warn("defined in the test module", ModuleWarning)


    def test_helper_category():
        import helper_warnings  # only here: the front end never imports it itself

        helper_warnings.emit()


    def test_builtin_category():
        warnings.warn("an old api", DeprecationWarning)


    def test_nested_category():
        warnings.warn("nested in a class", Outer.NestedWarning)


    def test_local_category():
        class LocalWarning(FutureWarning):
            def __init__(self, first, second):
                super().__init__(first + second)

        warnings.warn(LocalWarning("made in ", "the test"))


    def test_hidden_category():
        path = os.path.join(os.path.dirname(__file__), "hidden_dir", "hidden.py")
        spec = importlib.util.spec_from_file_location("mp_e2e_hidden_warnings", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.emit()


    @pytest.fixture
    def warns_in_setup():
        warnings.warn("in a fixture's setup", ModuleWarning)
        yield
        warnings.warn("in a fixture's teardown", Outer.NestedWarning)


    def test_setup_and_teardown(warns_in_setup):
        pass
"""


def make_suite(suite):
    suite.conftest(WARNING_CONFTEST)
    suite.write("helper_warnings.py", HELPER)
    (suite.path / "hidden_dir").mkdir()
    suite.write("hidden_dir/hidden.py", HIDDEN)
    suite.write("test_warns.py", TESTS)


def warnings_summary(result):
    """The "warnings summary" section: from its title to the docs line."""
    match = re.search(r"^=+ warnings summary =+$.*?^-- Docs: .*?$", result.stdout,
                      re.MULTILINE | re.DOTALL)
    assert match, "no warnings summary\n" + result.log
    return re.sub(r"\d+\.\d+s", "N.NNs", match.group(0))


def blocks(summary):
    """The summary's entries (location, message), in any order."""
    return sorted(summary.split("\n\n"))


def seen(result, frontend):
    return sorted((r["nodeid"], r["when"], r["name"], r["qualname"], r["module"],
                   tuple(r["mro"]), r["message"], r["instance"])
                  for r in result.of_kind("warning") if r["frontend"] == frontend)


def test_warnings_summary_is_the_plain_one(suite):
    make_suite(suite)
    plain = suite.run_plain()
    under_mp = suite.run(np=1)
    assert plain.returncode == under_mp.returncode == 0, (plain.log, under_mp.log)
    expected = warnings_summary(plain)
    for name in ("ModuleWarning", "HelperWarning", "DeprecationWarning", "NestedWarning",
                 "LocalWarning", "HiddenWarning"):
        assert "%s: " % name in expected, plain.log
    assert "UserWarning" not in expected, plain.log
    #  One process runs the units one after the other: the same order as plain.
    assert warnings_summary(under_mp) == expected, (plain.log, under_mp.log)
    assert under_mp.summary_count("warnings") == plain.summary_count("warnings") == 8


def test_warnings_summary_with_parallel_units(suite):
    make_suite(suite)
    plain = suite.run_plain()
    under_mp = suite.run(np=3)
    assert plain.returncode == under_mp.returncode == 0, (plain.log, under_mp.log)
    assert blocks(warnings_summary(under_mp)) == blocks(warnings_summary(plain)), \
        (plain.log, under_mp.log)


def test_front_end_categories_match_the_workers(suite):
    """What pytest_warning_recorded sees in the front end is what it sees in a plain
    run: name, qualname, module, the names of the MRO (a stand-in keeps its builtin
    and imported bases), and a message that is an instance of the category."""
    make_suite(suite)
    plain = suite.run_plain()
    under_mp = suite.run(np=2)
    assert plain.returncode == under_mp.returncode == 0, (plain.log, under_mp.log)
    expected = seen(plain, frontend=False)
    assert len(expected) == 8 and all(r[-1] for r in expected), plain.log
    assert seen(under_mp, frontend=True) == expected, (plain.log, under_mp.log)
    #  The workers saw the same, as in a plain run.
    assert seen(under_mp, frontend=False) == expected, under_mp.log


@pytest.mark.parametrize("filters", [["-W", "error::DeprecationWarning"],
                                     ["-p", "no:warnings"]])
def test_warning_options_behave_as_plain(suite, filters):
    make_suite(suite)
    plain = suite.run_plain(*filters)
    under_mp = suite.run(*filters, np=2)
    assert plain.returncode == under_mp.returncode, (plain.log, under_mp.log)
    for word in ("passed", "failed", "warnings"):
        assert plain.summary_count(word) == under_mp.summary_count(word), \
            (word, plain.log, under_mp.log)
