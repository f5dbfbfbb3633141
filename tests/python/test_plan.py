"""The plan: group strategies from marks, their errors, and units in plan order."""

import pytest

from pytest_mp.plan import build_units, group_strategies


class FakeItem:
    def __init__(self, nodeid, *marks):
        self.nodeid = nodeid
        self.name = nodeid.split("::")[-1]
        self._marks = list(marks)

    def iter_markers(self, name):
        return iter(m for m in self._marks if m.name == name)


def mark(*args, **kwargs):
    return pytest.mark.mp_group(*args, **kwargs).mark


def test_strategy_named_first_is_inherited_by_later_tests():
    items = [FakeItem("t::a", mark(group="G", strategy="serial")), FakeItem("t::b", mark("G"))]
    membership, strategies = group_strategies(items)
    assert membership == {"t::a": "G", "t::b": "G"}
    assert strategies == {"G": "serial"}
    units = build_units(items, membership, strategies)
    assert [(u.group, u.strategy, u.nodeids) for u in units] == [("G", "serial", ["t::a", "t::b"])]


def test_units_per_strategy_keep_collection_order():
    items = [
        FakeItem("t::free1"),
        FakeItem("t::s1", mark("S", "serial")),
        FakeItem("t::if1", mark("IF", "isolated_free")),
        FakeItem("t::free2", mark("F")),
        FakeItem("t::is1", mark("IS", "isolated_serial")),
        FakeItem("t::s2", mark("S")),
        FakeItem("t::if2", mark("IF")),
        FakeItem("t::is2", mark("IS")),
    ]
    units = build_units(items, *group_strategies(items))
    assert [(u.id, u.strategy, u.nodeids) for u in units] == [
        (1, "free", ["t::free1"]),
        (2, "serial", ["t::s1", "t::s2"]),
        (3, "isolated_free", ["t::if1"]),
        (4, "free", ["t::free2"]),
        (5, "isolated_serial", ["t::is1", "t::is2"]),
        (6, "isolated_free", ["t::if2"]),
    ]


def test_a_group_given_two_strategies_names_both_tests():
    items = [FakeItem("t::a", mark("G", "serial")), FakeItem("t::b", mark("G", "free"))]
    with pytest.raises(pytest.UsageError) as info:
        group_strategies(items)
    text = str(info.value)
    # The original's words, to the letter, then which tests.
    assert "G already has specified strategy serial." in text
    assert "t::a" in text and "t::b" in text and "'free'" in text


def test_a_test_naming_no_strategy_fixes_its_group_as_free_when_it_comes_first():
    # The original's order: a later test naming serial conflicts with that.
    items = [FakeItem("t::a", mark("G")), FakeItem("t::b", mark("G", "serial"))]
    with pytest.raises(pytest.UsageError) as info:
        group_strategies(items)
    assert "G already has specified strategy free." in str(info.value)
    # Named first, the later unnamed tests take the group's strategy.
    items = [FakeItem("t::a", mark("G", "serial")), FakeItem("t::b", mark("G"))]
    assert group_strategies(items) == ({"t::a": "G", "t::b": "G"}, {"G": "serial"})


def test_unknown_strategy_and_two_marks_are_errors_naming_test_and_values():
    items = [
        FakeItem("t::a", mark("G", "sideways")),
        FakeItem("t::b", mark("H"), mark("J")),
    ]
    with pytest.raises(pytest.UsageError) as info:
        group_strategies(items)
    text = str(info.value)
    assert "Unknown strategy sideways" in text and "t::a" in text
    assert "Detected too many mp_group values for b" in text
    assert "t::b" in text and "2 mp_group marks" in text


def test_same_strategy_named_twice_is_fine():
    items = [FakeItem("t::a", mark("G", "isolated_free")), FakeItem("t::b", mark("G", "isolated_free"))]
    units = build_units(items, *group_strategies(items))
    assert [u.nodeids for u in units] == [["t::a"], ["t::b"]]


def _requires(*labels):
    return pytest.mark.mp_requires(*labels).mark


def test_reuse_chunks_hold_consecutive_free_tests_of_one_group_and_requirements():
    items = [
        FakeItem("t::u1"), FakeItem("t::u2"), FakeItem("t::u3"), FakeItem("t::u4"),
        FakeItem("t::f1", mark("F")), FakeItem("t::f2", mark("F")),
        FakeItem("t::s1", mark("S", "serial")),
        FakeItem("t::f3", mark("F")),
        FakeItem("t::if1", mark("IF", "isolated_free")), FakeItem("t::if2", mark("IF")),
        FakeItem("t::g1", _requires("gpu")), FakeItem("t::g2", _requires("gpu")),
        FakeItem("t::u6"),
    ]
    units = build_units(items, *group_strategies(items), chunk=3)
    assert [(u.strategy, u.group, u.nodeids) for u in units] == [
        ("free", "", ["t::u1", "t::u2", "t::u3"]),  # at most three
        ("free", "", ["t::u4"]),
        ("free", "F", ["t::f1", "t::f2"]),  # another group: another unit
        ("serial", "S", ["t::s1"]),
        ("free", "F", ["t::f3"]),  # consecutive tests only
        ("isolated_free", "IF", ["t::if1"]),  # isolated tests stay alone
        ("isolated_free", "IF", ["t::if2"]),
        ("free", "", ["t::g1", "t::g2"]),  # their own requirements
        ("free", "", ["t::u6"]),
    ]
    assert units[7].requires == ["gpu"] and units[8].requires == []
    # Without chunks (no --mp-reuse), one unit per free test.
    assert len(build_units(items, *group_strategies(items))) == 13


def test_reuse_chunks_are_cut_by_earlier_durations():
    items = [FakeItem("t::%d" % i) for i in range(8)]
    known = {"t::0": 0.1, "t::1": 0.1, "t::2": 0.1, "t::3": 5.0, "t::4": 0.01}
    units = build_units(items, *group_strategies(items), chunk=8, durations=known)
    # 0.1 + 0.1 reach no budget of 0.25 s, a third would; a long test runs alone;
    # unknown ones count as nothing.
    assert [u.nodeids for u in units] == [
        ["t::0", "t::1"], ["t::2"], ["t::3"], ["t::4", "t::5", "t::6", "t::7"]]


def test_chunk_size_spreads_tests_over_every_slot():
    from pytest_mp.plan import MAX_CHUNK, UNITS_PER_SLOT, chunk_size

    assert chunk_size(10, 2) == 1  # too few to share
    assert chunk_size(UNITS_PER_SLOT * 2 * 3, 2) == 3
    assert chunk_size(100000, 2) == MAX_CHUNK
    assert chunk_size(100, 0) == min(MAX_CHUNK, 100 // UNITS_PER_SLOT)
