"""pytest --mp-groups: after collection, list every mp_group with its strategy and
test count (the ungrouped tests on a line of their own; with -v each test id under
its group), then end as --co does: exit 0, nothing run. The groups and strategies
are plan.py's, so a contradiction is the same usage error as under --mp."""

import pytest

from . import plan as mpplan


def _tests(count):
    return "%d test%s" % (count, "" if count == 1 else "s")


def listing(items, membership, strategies, verbose=0):
    """The lines of the listing: groups in the order of their first selected test,
    then the ungrouped tests. Only selected items (after -k/-m) are counted; the
    strategies come from every collected test, as under --mp."""
    groups = {}
    for item in items:
        groups.setdefault(membership.get(item.nodeid, mpplan.UNGROUPED), []).append(item.nodeid)
    lines = []
    for group, nodeids in groups.items():
        if group == mpplan.UNGROUPED:
            continue
        lines.append("mp_group %s: %s, %s" % (group, strategies.get(group, "free"),
                                              _tests(len(nodeids))))
        if verbose > 0:
            lines.extend("    " + nodeid for nodeid in nodeids)
    ungrouped = groups.get(mpplan.UNGROUPED)
    if ungrouped:
        lines.append("ungrouped: free, %s" % _tests(len(ungrouped)))
        if verbose > 0:
            lines.extend("    " + nodeid for nodeid in ungrouped)
    return lines


class GroupLister:
    """Registered by plugin.py when --mp-groups is given."""

    def __init__(self, config):
        self.config = config
        self.membership = {}
        self.strategies = {}
        self.planned = False  # the groups held together (else a usage error is on its way)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        # Before -k/-m deselect some, as the front end does: the same strategies.
        self.membership, self.strategies = mpplan.group_strategies(items)
        self.planned = True

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        if not self.planned:
            # Collection ended early (pytest calls this hook however it ends): there is
            # nothing to list, and the error is reported as under --mp.
            return
        lines = listing(session.items, self.membership, self.strategies,
                        self.config.option.verbose)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            if lines:
                reporter.write_line("")
            for line in lines:
                reporter.write_line(line)
        # From here on the session is a --co one: pytest's runtestloop (and the front
        # end's) run nothing, the exit status and the summary line are --co's.
        self.config.option.collectonly = True
