"""With the embedded daemons, the run starts before the front end has collected: the
local agent's zygote collects at the same time, so a suite's collection is paid once
in the time to the first test, not twice."""

SLOW_MODULE = """
    import os
    import time

    from conftest import e2e_write

    # Who imports this: the front end, or a zygote (the agent named it in its
    # environment).
    ROLE = "zygote" if os.environ.get("PYTEST_MP_AGENT") else "front"
    e2e_write("import_start", role=ROLE)
    time.sleep(1.5)  # an expensive import, as real suites have
    e2e_write("import_end", role=ROLE)

    def test_one():
        pass

    def test_two():
        pass
"""


def _imports(result, kind):
    return {r["role"]: r["time"] for r in result.of_kind(kind)}


def test_the_zygote_collects_while_the_front_end_does(suite):
    suite.write("test_slow.py", SLOW_MODULE)
    result = suite.run(np=2)
    assert result.returncode == 0, result.log
    assert result.summary_count("passed") == 2, result.log
    start, end = _imports(result, "import_start"), _imports(result, "import_end")
    assert set(start) == set(end) == {"front", "zygote"}, result.records
    #  The zygote began importing the test module before the front end was done with it.
    assert start["zygote"] < end["front"], (start, end)


def test_nothing_to_run_exits_as_a_plain_run_does(suite):
    suite.write("test_slow.py", SLOW_MODULE)
    result = suite.run("-k", "no_such_test", np=2, timeout=60)
    assert result.returncode == 5, result.log  # pytest's "no tests ran"
    assert "INTERNALERROR" not in result.stdout + result.stderr, result.log
    #  The zygote the early run started was told to leave: none is left to run tests.
    assert not result.of_kind("start"), result.records


def test_a_collection_error_is_reported_as_in_a_plain_run(suite):
    suite.write("test_slow.py", SLOW_MODULE)
    suite.write("test_broken.py", "import no_such_module_anywhere\n")
    result = suite.run(np=2, timeout=60)
    plain = suite.run_plain()
    assert result.returncode == plain.returncode == 2, result.log
    assert "no_such_module_anywhere" in result.stdout, result.log


def test_the_embedded_agent_s_zygote_is_a_fork_of_the_front_end(suite):
    # pytest_configure runs in every pytest that starts: once in the front end, and
    # once more in a zygote the agent starts as a new Python. The embedded agent's
    # zygote is forked from the front end, configured already: it runs it no more.
    suite.conftest("""
        def pytest_configure(config):
            e2e_write("configure")
    """)
    suite.write("test_where.py", """
        import os

        def test_where(e2e_record):
            zygote = os.getppid()
            with open("/proc/%d/stat" % zygote) as f:
                agent = int(f.read().split(")")[-1].split()[1])
            e2e_record("where", zygote=zygote, agent=agent,
                       named=int(os.environ["PYTEST_MP_AGENT_PID"]))
    """)
    result = suite.run(np=2)
    assert result.returncode == 0 and result.summary_count("passed") == 1, result.log
    (where,) = result.of_kind("where")
    # The unit process's zygote is the agent's child, as any zygote.
    assert where["agent"] == where["named"], where
    configures = result.of_kind("configure")
    assert len(configures) == 1 and configures[0]["pid"] != where["zygote"], result.records
