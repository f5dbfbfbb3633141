"""From collected items to a plan: each test's group and strategy, checked, then
units (what one process runs) in plan order."""

import pytest

STRATEGIES = ("free", "serial", "isolated_free", "isolated_serial")
STRATEGY_NUMBER = {name: number for number, name in enumerate(STRATEGIES)}
UNGROUPED = ""


def _mark_values(mark):
    """(group, strategy or None) of one mp_group mark, positional or keyword."""
    args, kwargs = mark.args, mark.kwargs
    group = args[0] if args else kwargs.get("group")
    strategy = args[1] if len(args) > 1 else kwargs.get("strategy")
    return group, strategy


def group_strategies(items):
    """Map item nodeid -> group and group -> strategy for every collected item.

    The original's rule, in collection order: a test that names no strategy takes
    its group's strategy so far, or fixes the group as free when it is the group's
    first; a test naming a strategy other than the group's fixed one is an error.
    Raises pytest.UsageError naming every offending test.
    """
    problems = []
    membership = {}
    named = {}  # group -> (strategy, nodeid that named it)
    for item in items:
        marks = list(item.iter_markers(name="mp_group"))
        if not marks:
            membership[item.nodeid] = UNGROUPED
            continue
        if len(marks) > 1:
            problems.append(
                "Detected too many mp_group values for %s (%s: %d mp_group marks: %s; a test "
                "belongs to one group)" % (item.name, item.nodeid, len(marks),
                                           ", ".join(repr(_mark_values(m)) for m in marks))
            )
            continue
        group, strategy = _mark_values(marks[0])
        if not isinstance(group, str) or not group:
            problems.append("%s: mp_group needs a group name, got %r" % (item.nodeid, group))
            continue
        membership[item.nodeid] = group
        if strategy is None:
            named.setdefault(group, ("free", item.nodeid))
            continue
        if strategy not in STRATEGIES:
            problems.append(
                "Unknown strategy %s (%s: mp_group %r; expected one of %s)"
                % (strategy, item.nodeid, group, ", ".join(STRATEGIES))
            )
            continue
        if group in named and named[group][0] != strategy:
            problems.append(
                "%s already has specified strategy %s. (%s names %r; %s named %r first)"
                % (group, named[group][0], item.nodeid, strategy, named[group][1],
                   named[group][0])
            )
            continue
        named.setdefault(group, (strategy, item.nodeid))
    if problems:
        raise pytest.UsageError("pytest-mp: " + "\n".join(problems))
    strategies = {group: strategy for group, (strategy, _) in named.items()}
    return membership, strategies


def requirements(item):
    """The labels an agent needs to run item, from its mp_requires marks:
    mp_requires("gpu", dut="alpha") -> ["gpu", "dut=alpha"]."""
    needs = []
    for mark in item.iter_markers("mp_requires"):
        for label in list(mark.args) + ["%s=%s" % kv for kv in sorted(mark.kwargs.items())]:
            label = str(label)
            if not label or label.startswith("=") or any(c in label for c in ", \t\n"):
                raise pytest.UsageError(
                    "pytest-mp: %s: mp_requires label %r: want KEY or KEY=VALUE, with no "
                    "commas or spaces" % (item.nodeid, label))
            if label not in needs:
                needs.append(label)
    return needs


class Unit:
    __slots__ = ("id", "group", "strategy", "nodeids", "requires")

    def __init__(self, unit_id, group, strategy, nodeids, requires=()):
        self.id = unit_id
        self.group = group
        self.strategy = strategy
        self.nodeids = nodeids
        self.requires = list(requires)


# --mp-reuse: consecutive free tests share a unit, up to this many, so that a reused
# process runs them one after another without a round trip to the coordinator each.
MAX_CHUNK = 8
# Units a slot should get at least, so that chunks still spread over every slot.
UNITS_PER_SLOT = 4
# Tests known (from earlier runs) to take this long or more run alone; a chunk of known
# tests stops growing at this much.
CHUNK_BUDGET_S = 0.25


def strategy_of(nodeid, membership, strategies):
    """A test's strategy: its group's, "free" for an ungrouped test."""
    group = membership.get(nodeid, UNGROUPED)
    return strategies.get(group, "free") if group != UNGROUPED else "free"


def chunk_size(nfree, slots):
    """How many free tests one unit may hold, for nfree free tests over slots slots."""
    return max(1, min(MAX_CHUNK, nfree // (UNITS_PER_SLOT * max(1, slots))))


def build_units(items, membership, strategies, chunk=1, durations=None):
    """Units in plan order: serial and isolated_serial give one unit per group holding
    its tests in collection order; isolated_free one unit per test; free (and
    ungrouped) one per test, or with chunk > 1 (--mp-reuse) up to chunk consecutive
    tests of the same group and requirements each, cut where the durations of earlier
    runs (nodeid -> seconds) add up to CHUNK_BUDGET_S."""
    durations = durations or {}
    units = []
    by_group = {}
    # A group's tests all run where any of them may: their requirements add up.
    group_needs = {}
    for item in items:
        group = membership.get(item.nodeid, UNGROUPED)
        if group != UNGROUPED:
            needs = group_needs.setdefault(group, [])
            needs.extend(n for n in requirements(item) if n not in needs)
    open_chunk, spent = None, 0.0
    for item in items:
        group = membership.get(item.nodeid, UNGROUPED)
        strategy = strategy_of(item.nodeid, membership, strategies)
        if strategy in ("serial", "isolated_serial"):
            unit = by_group.get(group)
            if unit is None:
                unit = by_group[group] = Unit(len(units) + 1, group, strategy, [],
                                              group_needs.get(group, ()))
                units.append(unit)
            unit.nodeids.append(item.nodeid)
            open_chunk = None  # chunks hold consecutive tests only
            continue
        needs = group_needs[group] if group != UNGROUPED else requirements(item)
        took = durations.get(item.nodeid, 0.0)
        if (strategy == "free" and open_chunk is not None and open_chunk.group == group
                and open_chunk.requires == list(needs) and len(open_chunk.nodeids) < chunk
                and spent + took < CHUNK_BUDGET_S):
            open_chunk.nodeids.append(item.nodeid)
            spent += took
            continue
        unit = Unit(len(units) + 1, group, strategy, [item.nodeid], needs)
        units.append(unit)
        chunkable = strategy == "free" and chunk > 1 and took < CHUNK_BUDGET_S
        open_chunk, spent = (unit, took) if chunkable else (None, 0.0)
    return units
