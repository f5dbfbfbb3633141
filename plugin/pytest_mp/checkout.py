"""Is an agent's checkout the front end's? The front end fingerprints the files its
tests come from (the test modules and the conftest.py files above them); each zygote
compares them and the planned test ids with what it has, and says what differs."""

import hashlib
import os

# At most this many differing files or ids are named; the rest are counted.
SHOWN = 5


def test_files(items, rootpath):
    """Sorted paths, relative to rootpath, of the files the items come from and of
    every conftest.py between rootpath and them."""
    root = os.path.abspath(str(rootpath))
    files = set()
    for item in items:
        path = os.path.abspath(str(getattr(item, "path", "") or item.fspath))
        if not path.startswith(root + os.sep):
            continue
        files.add(os.path.relpath(path, root))
        directory = os.path.dirname(path)
        while directory.startswith(root):
            conftest = os.path.join(directory, "conftest.py")
            if os.path.isfile(conftest):
                files.add(os.path.relpath(conftest, root))
            if directory == root:
                break
            directory = os.path.dirname(directory)
    return sorted(files)


def _digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:
        return None


def fingerprints(rootpath, relpaths):
    """["relpath digest", ...] of the files that exist."""
    root = str(rootpath)
    prints = []
    for rel in relpaths:
        digest = _digest(os.path.join(root, rel))
        if digest:
            prints.append("%s %s" % (rel, digest))
    return prints


def _named(what, names):
    shown = ", ".join(names[:SHOWN])
    more = " and %d more" % (len(names) - SHOWN) if len(names) > SHOWN else ""
    return "%s: %s%s" % (what, shown, more)


def differences(rootpath, theirs, planned, collected):
    """What differs between the front end's files (theirs: fingerprints) and planned
    test ids, and this host's files under rootpath and collected ids: a list of
    phrases, empty when nothing does."""
    missing, changed = [], []
    for entry in theirs:
        rel, _, digest = entry.rpartition(" ")
        mine = _digest(os.path.join(str(rootpath), rel))
        if mine is None:
            missing.append(rel)
        elif mine != digest:
            changed.append(rel)
    problems = []
    if missing:
        problems.append(_named("files missing here", missing))
    if changed:
        problems.append(_named("files that differ", changed))
    collected = set(collected)
    absent = [nodeid for nodeid in planned if nodeid not in collected]
    if absent:
        problems.append(_named("tests not collected here", absent))
    return problems
