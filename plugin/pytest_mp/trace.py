"""Chrome trace-event recorder for `--mp-trace FILE` (standard library only).

The front end feeds a TraceRecorder while the run goes on; write() produces the JSON
Object Format ({"traceEvents": [...], "displayTimeUnit": "ms"}) that Perfetto and
chrome://tracing open. Times fed in are epoch seconds (hosts share a clock); the file
holds microseconds relative to the earliest time seen.

Layout: one trace process per agent (named after it), one thread per slot ("slot N"),
so one track per agent slot; test slices with nested setup/call/teardown slices, fork
slices before a unit's first test; an "isolation" process holding one async range per
isolated group; global instant events (on a "run" process) for retries, host losses
and notices.
"""

import json

ISOLATED = ("isolated_free", "isolated_serial")


def split_worker(worker):
    """("rig1", 3) from "rig1:3"; the slot stays a string when it is not a number."""
    agent, _, slot = str(worker).rpartition(":")
    return agent, int(slot) if slot.isdigit() else slot


def _clamp(start, stop, low, high):
    """(start, stop) moved inside [low, high], with stop >= start."""
    start = min(max(start, low), high)
    return start, min(max(stop, start), high)


class TraceRecorder:
    """Collects what a run did and turns it into a trace and a busy summary."""

    def __init__(self):
        self.forks = []      # (agent, slot, real pid, forked_at, started_at)
        self.tests = []      # (agent, slot, nodeid, start, stop, outcome, phases)
        self.instants = []   # (name, at, args)
        self.strategies = {}  # group -> strategy
        self.membership = {}  # nodeid -> group

    def unit_process(self, worker, pid, forked_at, started_at):
        """A unit process on `worker` ("agent:slot") was forked at forked_at and began
        its first test at started_at: a 'fork' slice on that worker's track."""
        self.forks.append((*split_worker(worker), pid, forked_at, started_at))

    def test(self, worker, nodeid, start, stop, outcome, phases=()):
        """One test on `worker` from start to stop with its outcome ('passed',
        'failed', 'skipped', 'error', 'xfailed', ...); phases is a list of
        (when, start, stop, outcome) for setup/call/teardown, nested in the test."""
        self.tests.append((*split_worker(worker), nodeid, start, stop, outcome,
                           [tuple(phase) for phase in phases]))

    def group(self, name, strategy):
        """Declare group `name` with its strategy (free, serial, isolated_*)."""
        self.strategies[name] = strategy

    def test_group(self, nodeid, group, strategy):
        """Test `nodeid` belongs to `group`, whose strategy is `strategy`."""
        self.membership[nodeid] = group
        self.group(group, strategy)

    def instant(self, name, at, args=None):
        """A retry, a host loss, a notice: a global instant event at `at`."""
        self.instants.append((name, at, dict(args or {})))

    # -- derived views -------------------------------------------------------

    def _times(self):
        """Every time recorded, for the origin and the wall time."""
        times = [t for fork in self.forks for t in fork[3:5]]
        for test in self.tests:
            times += [test[3], test[4]] + [t for ph in test[6] for t in ph[1:3]]
        return times + [at for _, at, _ in self.instants]

    def _slots(self):
        """agent -> sorted slots seen on it (by tests or forks)."""
        slots = {}
        for agent, slot, *_ in self.forks + self.tests:
            slots.setdefault(agent, set()).add(slot)
        return {agent: sorted(found, key=lambda s: (isinstance(s, str), s))
                for agent, found in sorted(slots.items())}

    def isolation_ranges(self):
        """[(group, strategy, first start, last stop)] for isolated groups with tests."""
        spans = {}
        for _, _, nodeid, start, stop, _, _ in self.tests:
            group = self.membership.get(nodeid)
            if self.strategies.get(group) in ISOLATED:
                low, high = spans.get(group, (start, stop))
                spans[group] = (min(low, start), max(high, stop))
        return [(group, self.strategies[group], *span)
                for group, span in sorted(spans.items())]

    def events(self):
        """The trace events, metadata first, then sorted by ts (stable)."""
        times = self._times()
        origin = min(times) if times else 0.0

        def us(t):
            return round((t - origin) * 1e6)  # whole microseconds: exact nesting

        meta, timed, tracks, agents = [], [], {}, self._slots()
        for pid, (agent, slots) in enumerate(agents.items(), start=1):
            meta.append(_meta("process_name", pid, 0, agent))
            for tid, slot in enumerate(slots, start=1):
                tracks[agent, slot] = (pid, tid)
                meta.append(_meta("thread_name", pid, tid, f"slot {slot}"))
        iso_pid, run_pid = len(agents) + 1, len(agents) + 2
        ranges = self.isolation_ranges()
        if ranges:
            meta.append(_meta("process_name", iso_pid, 0, "isolation"))
        if self.instants:
            meta.append(_meta("process_name", run_pid, 0, "run"))

        def slice_(name, cat, where, start, stop, args):
            timed.append({"name": name, "cat": cat, "ph": "X", "ts": us(start),
                          "dur": us(stop) - us(start), "pid": where[0],
                          "tid": where[1], "args": args})

        for agent, slot, real_pid, forked_at, started_at in self.forks:
            # ends before the track's next test, so it never overlaps a test slice
            later = [t[3] for t in self.tests
                     if t[:2] == (agent, slot) and t[3] >= forked_at]
            stop = min([started_at] + later)
            slice_("fork", "fork", tracks[agent, slot], forked_at,
                   max(forked_at, stop), {"pid": real_pid})
        for agent, slot, nodeid, start, stop, outcome, phases in self.tests:
            stop = max(start, stop)
            slice_(nodeid, "test", tracks[agent, slot], start, stop,
                   {"outcome": outcome, "nodeid": nodeid})
            for when, p_start, p_stop, p_outcome in phases:
                p_start, p_stop = _clamp(p_start, p_stop, start, stop)
                slice_(when, "phase", tracks[agent, slot], p_start, p_stop,
                       {"outcome": p_outcome, "nodeid": nodeid})
        for number, (group, strategy, start, stop) in enumerate(ranges, start=1):
            for ph, at in (("b", start), ("e", stop)):
                timed.append({"name": group, "cat": "isolation", "ph": ph,
                              "id": number, "ts": us(at), "pid": iso_pid, "tid": 0,
                              "args": {"strategy": strategy} if ph == "b" else {}})
        for name, at, args in self.instants:
            timed.append({"name": name, "cat": "run", "ph": "i", "s": "g",
                          "ts": us(at), "pid": run_pid, "tid": 0, "args": args})
        timed.sort(key=lambda event: event["ts"])
        return meta + timed, origin  # origin: the epoch second ts 0 stands for

    def write(self, path):
        """Writes the trace JSON to `path`."""
        events, origin = self.events()
        trace = {"traceEvents": events, "displayTimeUnit": "ms",
                 "otherData": {"origin_epoch_seconds": origin}}
        with open(path, "w", encoding="utf-8") as out:
            json.dump(trace, out, indent=0, sort_keys=True)
            out.write("\n")

    def busy_lines(self):
        """One line per agent: '<agent>: N tests, busy P%', where busy is the time
        its slots spent in tests / (its slots seen x wall time of the run, from the
        first to the last event)."""
        times = self._times()
        wall = max(times) - min(times) if times else 0.0
        lines = []
        for agent, slots in self._slots().items():
            runs = [t for t in self.tests if t[0] == agent]
            busy = sum(max(0.0, t[4] - t[3]) for t in runs)
            capacity = len(slots) * wall
            percent = round(100 * busy / capacity) if capacity > 0 else 0
            lines.append(f"{agent}: {len(runs)} tests, busy {percent}%")
        return lines


def _meta(kind, pid, tid, name):
    """A metadata event naming a process or a thread."""
    return {"name": kind, "ph": "M", "ts": 0, "pid": pid, "tid": tid,
            "args": {"name": name}}
