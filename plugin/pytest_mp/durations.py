"""Longest first: how long each test took in earlier runs, kept in pytest's cache,
gives every unit an expected duration, by which the coordinator starts the longest
first (tests not seen before count at the mean of those that were)."""

CACHE_KEY = "pytest-mp/durations"
# Entries kept at most: tests renamed or removed long ago fall out, oldest first.
MAX_ENTRIES = 100000


def load(config):
    """nodeid -> seconds, from the cache; empty without one (-p no:cacheprovider)."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return {}
    stored = cache.get(CACHE_KEY, {})
    if not isinstance(stored, dict):
        return {}
    return {k: float(v) for k, v in stored.items()
            if isinstance(k, str) and isinstance(v, (int, float)) and v >= 0}


def weights(units, known):
    """unit id -> expected milliseconds (at least 1), or 0 for every unit when no test
    of the plan ran before (the coordinator then keeps its own order)."""
    seen = [known[n] for unit in units for n in unit.nodeids if n in known]
    if not seen:
        return {unit.id: 0 for unit in units}
    mean = sum(seen) / len(seen)
    return {unit.id: max(1, round(1000 * sum(known.get(n, mean) for n in unit.nodeids)))
            for unit in units}


def save(config, measured):
    """Adds this run's durations (nodeid -> seconds) to the cache."""
    cache = getattr(config, "cache", None)
    if cache is None or not measured:
        return
    merged = load(config)
    for nodeid in measured:
        merged.pop(nodeid, None)  # re-inserted last: the newest are kept
    merged.update(measured)
    if len(merged) > MAX_ENTRIES:
        merged = dict(list(merged.items())[-MAX_ENTRIES:])
    cache.set(CACHE_KEY, merged)
