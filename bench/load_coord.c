//  load_coord: one real mp-coord against many simulated agents and front ends.
//
//  Starts the mp-coord binary it is given on a private ipc endpoint, registers
//  --agents agents of --slots slots each, and has --fronts front ends each submit a
//  run of --units one-test units (mostly free, with serial, isolated_free and
//  isolated_serial groups among them). Every simulated agent answers for its zygote
//  and unit processes as the real ones do: UNIT_STARTED, logstart, logreport and
//  logfinish REPORTs, UNIT_EXIT. A unit is held for one turn of the loop before it
//  ends, so that units overlap and the barrier checks below mean something.
//
//  It checks, and exits 1 when any check fails:
//  - every planned unit is handed out exactly once, and every run ends with all of
//    its reports and "done" at its front end;
//  - isolation barriers: no unit arrives while a unit of another group is held and
//    either is isolated; no two units of one serial or isolated_serial group overlap.
//  It prints (key=value, one per line, for bench_run.py):
//  - dispatch-and-result cycles a second (a unit handed out, started, its three
//    reports answered, its end taken);
//  - board operations a second (BOARD_SET and BOARD_GET from one held unit per slot,
//    at most a window in flight per agent);
//  - both again per second of the coordinator's own CPU time: its capacity, apart
//    from the share of the cores this tool and ZeroMQ's threads take;
//  - the coordinator's resident memory per connected agent and per queued unit.
//
//  Usage: load_coord MP_COORD_BINARY [--agents N] [--slots N] [--fronts N]
//                    [--units N] [--board-ops N]
#include <czmq.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "common/error.h"
#include "coordinator/sched.h"
#include "proto/msg.h"
#include "proto/peer.h"
#include "proto/sender.h"
#include "proto/wire.h"

#define KEY_TEXT "load_coord's key, shared with the mp-coord it starts"
static const mp_key_t s_key = { .bytes = KEY_TEXT, .len = sizeof KEY_TEXT - 1 };

#define BOARD_WINDOW 128 //  board requests in flight per agent connection
#define BEAT_MS 500

typedef struct {
    zsock_t *sock;
    char name[32];
    mp_sender_t sender;
    uint64_t reqid;
    uint64_t last_beat_ms;
} peer_t;

//  A unit an agent holds: handed out, not yet ended.
typedef struct {
    size_t agent;
    uint64_t run, unit, pid, round;
    int announced; //  its UNIT_STARTED was sent
} held_t;

typedef struct {
    uint64_t run;
    uint64_t units;   //  planned
    uint64_t events;  //  seen at its front end
    int done;
    uint64_t *handed; //  per unit id (1..units): how often it was handed out
} front_run_t;

static struct {
    size_t nagents, slots, nfronts, units, board_ops;
    peer_t *agents, *fronts;
    front_run_t *runs;
    held_t *held;
    size_t nheld, held_max;
    uint64_t next_pid, round, failures;
    uint64_t *answered; //  per agent: requests answered (OK or VALUE)
    uint64_t board_run; //  all free: outside the plan's mix
    char endpoint[256];
} S;

static void s_fail (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "load_coord: ");
    vfprintf (stderr, fmt, args);
    fprintf (stderr, "\n");
    va_end (args);
    S.failures++;
}

static void s_die (const char *what)
{
    fprintf (stderr, "load_coord: %s\n", what);
    exit (2);
}

//  The plan's mix, the same functions for planning and for checking, as the front
//  end plans (plan.py): per 200 units, an isolated_free group of 5 one-test units, an
//  isolated_serial group and a serial group of one unit each, with 3 and 5 tests;
//  the rest free, one test each.
static int s_strategy_of (uint64_t run, uint64_t unit)
{
    if (run == S.board_run)
        return MP_STRATEGY_FREE;
    uint64_t i = (unit - 1) % 200;
    if (i < 5)
        return MP_STRATEGY_ISOLATED_FREE;
    if (i == 5)
        return MP_STRATEGY_ISOLATED_SERIAL;
    if (i == 6)
        return MP_STRATEGY_SERIAL;
    return MP_STRATEGY_FREE;
}

static uint64_t s_tests_of (uint64_t run, uint64_t unit)
{
    int strategy = s_strategy_of (run, unit);
    return strategy == MP_STRATEGY_ISOLATED_SERIAL ? 3 : strategy == MP_STRATEGY_SERIAL ? 5 : 1;
}

static void s_test_name (uint64_t run, uint64_t unit, uint64_t i, char *name, size_t size)
{
    snprintf (name, size, "load/test_r%" PRIu64 ".py::test_%" PRIu64 "_%" PRIu64, run, unit, i);
}

static void s_group_of (uint64_t run, uint64_t unit, char *group, size_t size)
{
    int strategy = s_strategy_of (run, unit);
    if (strategy == MP_STRATEGY_FREE)
        snprintf (group, size, "%s", "");
    else  //  one group of each kind per 200 units
        snprintf (group, size, "g%d_%" PRIu64, strategy, (unit - 1) / 200);
}

static void s_peer_init (peer_t *peer, const char *name)
{
    snprintf (peer->name, sizeof peer->name, "%s", name);
    peer->sock = zsock_new (ZMQ_DEALER);
    if (!peer->sock)
        s_die ("cannot make a socket");
    zsock_set_identity (peer->sock, name);
    zsock_set_linger (peer->sock, 0);
    zsock_set_sndhwm (peer->sock, 0);
    zsock_set_rcvhwm (peer->sock, 0);
    if (zsock_connect (peer->sock, "%s", S.endpoint) != 0 || mp_sender_init (&peer->sender) != MP_OK)
        s_die ("cannot connect");
}

static void s_send (peer_t *peer, const char *from, mp_msg_t *msg)
{
    if (!msg)
        s_die ("cannot pack a message");
    mp_msg_set_reqid (msg, ++peer->reqid);
    if (mp_msg_set_from (msg, from ? from : peer->name) != 0)
        s_die ("cannot name a sender");
    mp_sender_stamp (&peer->sender, msg);
    char err[256] = "";
    zmsg_t *zmsg = NULL;
    if (mp_wire_encode (msg, &s_key, &zmsg, err, sizeof err) != MP_OK)
        s_die (err);
    mp_msg_destroy (&msg);
    if (zmsg_send (&zmsg, peer->sock) != 0)
        s_die ("cannot send");
}

//  The next message on peer, or NULL when none waits.
static mp_msg_t *s_recv (peer_t *peer)
{
    zmsg_t *zmsg = NULL;
    if (zsock_events (peer->sock) & ZMQ_POLLIN)
        zmsg = zmsg_recv (peer->sock);
    if (!zmsg)
        return NULL;
    mp_msg_t *msg = NULL;
    char err[256] = "";
    if (mp_wire_decode (zmsg, &s_key, &mp_limits_default, &msg, err, sizeof err) != MP_OK)
        s_die (err);
    zmsg_destroy (&zmsg);
    return msg;
}

//  Waits (up to 10 s) for the next message on peer that is not a heartbeat.
static mp_msg_t *s_wait (peer_t *peer)
{
    uint64_t deadline = mp_clock_mono_ms () + 10000;
    while (mp_clock_mono_ms () < deadline) {
        zmq_pollitem_t item = { zsock_resolve (peer->sock), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 100);
        mp_msg_t *msg = s_recv (peer);
        if (msg && mp_msg_type (msg) == MP_MSG_HEARTBEAT)
            mp_msg_destroy (&msg);
        if (msg)
            return msg;
    }
    s_die ("the coordinator did not answer within 10 s");
    return NULL;
}

static void s_expect_ok (peer_t *peer, const char *what)
{
    mp_msg_t *msg = s_wait (peer);
    if (mp_msg_type (msg) != MP_MSG_OK) {
        mp_error_msg_t error;
        if (mp_error_msg_view (msg, &error) == MP_OK)
            fprintf (stderr, "load_coord: %s refused: %s\n", what, error.reason);
        s_die ("a request was refused");
    }
    mp_msg_destroy (&msg);
}

static long s_rss_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen (path, "r");
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (sscanf (line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose (f);
    return kb;
}

//  CPU seconds (user and system) the process has used.
static double s_cpu_s (pid_t pid)
{
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    size_t n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose (f);
    buf[n] = '\0';
    //  "pid (comm) state ..." then fields 4 to 13, then utime and stime.
    char *end = strrchr (buf, ')');
    unsigned long utime = 0, stime = 0;
    if (!end || sscanf (end + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                        &utime, &stime) != 2)
        return 0;
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

static void s_beat (uint64_t now)
{
    for (size_t a = 0; a < S.nagents; a++)
        if (now - S.agents[a].last_beat_ms >= BEAT_MS) {
            s_send (&S.agents[a], NULL, mp_msg_new (MP_MSG_HEARTBEAT));
            S.agents[a].last_beat_ms = now;
        }
}

static front_run_t *s_run (uint64_t run)
{
    for (size_t f = 0; f < S.nfronts; f++)
        if (S.runs[f].run == run)
            return &S.runs[f];
    return NULL;
}

//  The barrier checks, as a unit of run arrives while others are held.
static void s_check_barriers (uint64_t run, uint64_t unit)
{
    char group[64], other[64];
    s_group_of (run, unit, group, sizeof group);
    int isolated = s_strategy_of (run, unit) >= MP_STRATEGY_ISOLATED_FREE;
    for (size_t i = 0; i < S.nheld; i++) {
        held_t *h = &S.held[i];
        int h_strategy = s_strategy_of (h->run, h->unit);
        s_group_of (h->run, h->unit, other, sizeof other);
        int same_group = h->run == run && *group && streq (group, other);
        if ((isolated || h_strategy >= MP_STRATEGY_ISOLATED_FREE) && !same_group)
            s_fail ("run %" PRIu64 " unit %" PRIu64 " (group '%s') arrived while run %" PRIu64
                    " unit %" PRIu64 " (group '%s') was held: an isolation barrier broken",
                    run, unit, group, h->run, h->unit, other);
    }
}

static void s_take_unit (size_t a, mp_msg_t *msg)
{
    mp_unit_msg_t unit;
    if (mp_unit_msg_view (msg, &unit) != MP_OK)
        s_die ("a UNIT it cannot read");
    front_run_t *run = s_run (unit.run);
    if (!run || unit.unit < 1 || unit.unit > run->units) {
        s_fail ("a UNIT of no planned run or unit: run %" PRIu64 " unit %" PRIu64, unit.run,
                unit.unit);
        return;
    }
    if (++run->handed[unit.unit] > 1)
        s_fail ("run %" PRIu64 " unit %" PRIu64 " handed out %" PRIu64 " times", unit.run,
                unit.unit, run->handed[unit.unit]);
    s_check_barriers (unit.run, unit.unit);
    if (S.nheld == S.held_max) {
        S.held_max = S.held_max ? 2 * S.held_max : 1024;
        S.held = (held_t *) realloc (S.held, S.held_max * sizeof *S.held);
        if (!S.held)
            s_die ("out of memory");
    }
    S.held[S.nheld++] = (held_t) { .agent = a, .run = unit.run, .unit = unit.unit,
                                   .pid = ++S.next_pid, .round = S.round };
}

//  A held unit runs its tests and ends, as its unit process and zygote would say.
static void s_end_unit (const held_t *h)
{
    peer_t *agent = &S.agents[h->agent];
    char unit_name[MP_PEER_NAME_MAX], zygote[MP_PEER_NAME_MAX], test[96];
    mp_peer_unit_name (h->pid, unit_name);
    mp_peer_zygote_name (h->run, zygote);
    if (!h->announced)
        s_send (agent, unit_name,
                MP_PACK (unit_started, .run = h->run, .unit = h->unit, .pid = h->pid));
    const char *kinds[] = { "logstart", "logreport", "logfinish" };
    for (uint64_t t = 0; t < s_tests_of (h->run, h->unit); t++) {
        s_test_name (h->run, h->unit, t, test, sizeof test);
        for (size_t k = 0; k < 3; k++)
            s_send (agent, unit_name, MP_PACK (report, .run = h->run, .unit = h->unit,
                                               .kind = kinds[k], .test = test,
                                               .data = { kinds[k], strlen (kinds[k]) }));
    }
    s_send (agent, zygote, MP_PACK (unit_exit, .run = h->run, .unit = h->unit, .pid = h->pid,
                                     .status = 0));
}

//  What arrives on an agent's connection.
static void s_on_agent (size_t a, mp_msg_t *msg, int ready)
{
    switch (mp_msg_type (msg)) {
    case MP_MSG_RUN_START: {
        mp_run_start_msg_t start;
        if (mp_run_start_msg_view (msg, &start) != MP_OK)
            s_die ("a RUN_START it cannot read");
        if (ready) {
            char zygote[MP_PEER_NAME_MAX];
            mp_peer_zygote_name (start.run, zygote);
            s_send (&S.agents[a], zygote,
                    MP_PACK (zygote_ready, .run = start.run, .collected = 1, .error = ""));
        }
        break;
    }
    case MP_MSG_UNIT:
        s_take_unit (a, msg);
        break;
    case MP_MSG_OK:
    case MP_MSG_VALUE:
        S.answered[a]++;
        break;
    case MP_MSG_ERROR: {
        mp_error_msg_t error;
        mp_error_msg_view (msg, &error);
        s_fail ("agent %zu was refused: %s", a, error.reason);
        break;
    }
    default:
        break;
    }
}

static void s_on_front (size_t f, mp_msg_t *msg)
{
    front_run_t *run = &S.runs[f];
    mp_events_msg_t batch;
    if (mp_msg_type (msg) == MP_MSG_EVENTS && mp_events_msg_view (msg, &batch) == MP_OK) {
        for (size_t i = 0; i < batch.kinds.count; i++)
            if (streq (batch.kinds.items[i], "done"))
                run->done = 1;
        run->events += batch.kinds.count;
        if (!run->done)
            s_send (&S.fronts[f], NULL, MP_PACK (poll, .run = run->run, .after = run->events,
                                                 .wait_ms = 1000));
    }
    else if (mp_msg_type (msg) != MP_MSG_HEARTBEAT)
        s_fail ("front end %zu got %s", f, mp_msg_name (mp_msg_type (msg)));
}

//  Receives on every connection for up to timeout_ms; agents answer RUN_START when
//  ready_runs.
static void s_pump (zmq_pollitem_t *items, int timeout_ms, int ready_runs)
{
    size_t n = S.nagents + S.nfronts;
    zmq_poll (items, (int) n, timeout_ms);
    for (size_t i = 0; i < n; i++) {
        if (!(items[i].revents & ZMQ_POLLIN))
            continue;
        peer_t *peer = i < S.nagents ? &S.agents[i] : &S.fronts[i - S.nagents];
        mp_msg_t *msg;
        while ((msg = s_recv (peer))) {
            if (i < S.nagents)
                s_on_agent (i, msg, ready_runs);
            else
                s_on_front (i - S.nagents, msg);
            mp_msg_destroy (&msg);
        }
    }
    s_beat (mp_clock_mono_ms ());
}

static int s_all_done (void)
{
    for (size_t f = 0; f < S.nfronts; f++)
        if (!S.runs[f].done)
            return 0;
    return 1;
}

//  Every held unit of an earlier round ends.
static void s_end_held (void)
{
    size_t kept = 0;
    for (size_t i = 0; i < S.nheld; i++) {
        if (S.held[i].round < S.round)
            s_end_unit (&S.held[i]);
        else
            S.held[kept++] = S.held[i];
    }
    S.nheld = kept;
    S.round++;
}

//  A run of units planned by front (the plan's mix, or all free when board): its id.
static uint64_t s_submit (peer_t *front, uint64_t units, int board)
{
    const char *args[] = { "-q" };
    s_send (front, NULL, MP_PACK (submit, .cwd = "/tmp", .args = { args, 1 }, .units = units));
    mp_msg_t *reply = s_wait (front);
    mp_ok_msg_t ok;
    if (mp_ok_msg_view (reply, &ok) != MP_OK)
        s_die ("SUBMIT was refused");
    mp_msg_destroy (&reply);
    uint64_t run = ok.value;
    if (board)
        S.board_run = run;
    //  Sent a window at a time (one connection keeps them in order), so that no
    //  answer meets a full queue.
    for (uint64_t from = 1; from <= units; from += 500) {
        uint64_t to = from + 500 <= units + 1 ? from + 500 : units + 1;
        for (uint64_t u = from; u < to; u++) {
            char group[64], names[5][96];
            const char *tests[5];
            s_group_of (run, u, group, sizeof group);
            uint64_t ntests = s_tests_of (run, u);
            for (uint64_t t = 0; t < ntests; t++) {
                s_test_name (run, u, t, names[t], sizeof names[t]);
                tests[t] = names[t];
            }
            s_send (front, NULL, MP_PACK (plan_unit, .run = run, .unit = u, .group = group,
                                          .strategy = (uint64_t) s_strategy_of (run, u),
                                          .tests = { tests, ntests }));
        }
        for (uint64_t u = from; u < to; u++)
            s_expect_ok (front, "PLAN_UNIT");
    }
    s_send (front, NULL, MP_PACK (plan_end, .run = run));
    s_expect_ok (front, "PLAN_END");
    return run;
}

//  One held unit per slot sends board operations, BOARD_WINDOW at most in flight per
//  agent connection: how many a second were answered.
static double s_board_phase (zmq_pollitem_t *items)
{
    size_t saved_fronts = S.nfronts;
    S.nfronts = 1;
    front_run_t *board = &S.runs[0];
    *board = (front_run_t) { .units = S.nagents * S.slots };
    board->handed = (uint64_t *) calloc (board->units + 1, sizeof (uint64_t));
    if (!board->handed)
        s_die ("out of memory");
    board->run = s_submit (&S.fronts[0], board->units, 1);
    for (size_t a = 0; a < S.nagents; a++)
        s_send (&S.agents[a], NULL, mp_msg_new (MP_MSG_HEARTBEAT));
    //  Every slot takes its unit, held until the operations are done.
    uint64_t deadline = mp_clock_mono_ms () + 30000;
    while (S.nheld < board->units && mp_clock_mono_ms () < deadline)
        s_pump (items, 10, 1);
    if (S.nheld < board->units)
        s_die ("the board run's units did not all arrive");
    for (size_t i = 0; i < S.nheld; i++) {
        held_t *h = &S.held[i];
        char name[MP_PEER_NAME_MAX];
        mp_peer_unit_name (h->pid, name);
        s_send (&S.agents[h->agent], name,
                MP_PACK (unit_started, .run = h->run, .unit = h->unit, .pid = h->pid));
        h->announced = 1;
    }
    uint64_t *sent = (uint64_t *) calloc (S.nagents, sizeof (uint64_t));
    uint64_t *before = (uint64_t *) calloc (S.nagents, sizeof (uint64_t));
    if (!sent || !before)
        s_die ("out of memory");
    memcpy (before, S.answered, S.nagents * sizeof (uint64_t));
    uint64_t per_agent = S.board_ops / S.nagents, total = per_agent * S.nagents;
    uint64_t start = mp_clock_mono_ms ();
    for (;;) {
        uint64_t answered = 0;
        for (size_t a = 0; a < S.nagents; a++)
            answered += S.answered[a] - before[a];
        if (answered >= total)
            break;
        //  Per agent, its held units take turns.
        for (size_t i = 0; i < S.nheld; i++) {
            held_t *h = &S.held[i];
            size_t a = h->agent;
            if (sent[a] >= per_agent || sent[a] - (S.answered[a] - before[a]) >= BOARD_WINDOW)
                continue;
            char name[MP_PEER_NAME_MAX], key[32];
            mp_peer_unit_name (h->pid, name);
            snprintf (key, sizeof key, "k%" PRIu64, sent[a] % 64);
            if (sent[a] % 2 == 0)
                s_send (&S.agents[a], name,
                        MP_PACK (board_set, .run = h->run, .key = { key, strlen (key) },
                                 .value = { "v", 1 }));
            else
                s_send (&S.agents[a], name,
                        MP_PACK (board_get, .run = h->run, .key = { key, strlen (key) }));
            sent[a]++;
        }
        s_pump (items, 5, 1);
        if (mp_clock_mono_ms () - start > 120000)
            s_die ("the board operations did not end within 120 s");
    }
    double seconds = (double) (mp_clock_mono_ms () - start) / 1000.0;
    free (sent);
    free (before);
    s_send (&S.fronts[0], NULL, MP_PACK (poll, .run = board->run, .after = 0, .wait_ms = 1000));
    S.round++;
    s_end_held ();
    while (!board->done)
        s_pump (items, 10, 1);
    free (board->handed);
    S.nfronts = saved_fronts;
    return (double) total / (seconds > 0 ? seconds : 0.001);
}

int main (int argc, char **argv)
{
    if (argc < 2)
        s_die ("usage: load_coord MP_COORD_BINARY [--agents N] [--slots N] [--fronts N] "
               "[--units N] [--board-ops N]");
    S.nagents = 200, S.slots = 8, S.nfronts = 4, S.units = 10000, S.board_ops = 200000;
    for (int i = 2; i + 1 < argc; i += 2) {
        size_t value = (size_t) strtoull (argv[i + 1], NULL, 10);
        if (streq (argv[i], "--agents")) S.nagents = value;
        else if (streq (argv[i], "--slots")) S.slots = value;
        else if (streq (argv[i], "--fronts")) S.nfronts = value;
        else if (streq (argv[i], "--units")) S.units = value;
        else if (streq (argv[i], "--board-ops")) S.board_ops = value;
        else s_die ("unknown option");
    }
    if (!S.nagents || !S.slots || !S.nfronts || !S.units)
        s_die ("every count must be at least 1");
    zsys_init ();
    zsys_set_max_sockets (4096);
    char dir[] = "/tmp/load_coord.XXXXXX";
    if (!mkdtemp (dir))
        s_die ("cannot make a directory");
    char key_path[300];
    snprintf (key_path, sizeof key_path, "%s/key", dir);
    snprintf (S.endpoint, sizeof S.endpoint, "ipc://%s/coord.ipc", dir);
    FILE *kf = fopen (key_path, "w");
    if (!kf)
        s_die ("cannot write the key file");
    fputs (KEY_TEXT, kf);
    fclose (kf);
    chmod (key_path, 0600);
    pid_t coord = fork ();
    if (coord == 0) {
        execl (argv[1], argv[1], "--listen", S.endpoint, "--key-file", key_path,
               "--heartbeat-ms", "1000", "--expiry-ms", "60000", (char *) NULL);
        _exit (127);
    }
    usleep (300000);
    long rss_start = s_rss_kb (coord);

    S.agents = (peer_t *) calloc (S.nagents, sizeof *S.agents);
    S.answered = (uint64_t *) calloc (S.nagents, sizeof (uint64_t));
    S.fronts = (peer_t *) calloc (S.nfronts, sizeof *S.fronts);
    S.runs = (front_run_t *) calloc (S.nfronts, sizeof *S.runs);
    size_t n = S.nagents + S.nfronts;
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc (n, sizeof *items);
    if (!S.agents || !S.answered || !S.fronts || !S.runs || !items)
        s_die ("out of memory");
    for (size_t a = 0; a < S.nagents; a++) {
        char name[32];
        snprintf (name, sizeof name, "load-agent-%zu", a);
        s_peer_init (&S.agents[a], name);
        s_send (&S.agents[a], NULL, MP_PACK (hello, .name = name, .slots = S.slots, .host = name));
    }
    for (size_t a = 0; a < S.nagents; a++) {
        mp_msg_t *welcome = s_wait (&S.agents[a]);
        if (mp_msg_type (welcome) != MP_MSG_WELCOME)
            s_die ("HELLO was not answered WELCOME");
        mp_msg_destroy (&welcome);
        S.agents[a].last_beat_ms = mp_clock_mono_ms ();
        items[a] = (zmq_pollitem_t) { zsock_resolve (S.agents[a].sock), 0, ZMQ_POLLIN, 0 };
    }
    long rss_agents = s_rss_kb (coord);
    for (size_t f = 0; f < S.nfronts; f++) {
        char name[32];
        snprintf (name, sizeof name, "load-front-%zu", f);
        s_peer_init (&S.fronts[f], name);
        items[S.nagents + f] = (zmq_pollitem_t) { zsock_resolve (S.fronts[f].sock), 0, ZMQ_POLLIN, 0 };
    }

    //  The plans are queued while no zygote is ready: their memory is measured then.
    for (size_t f = 0; f < S.nfronts; f++) {
        S.runs[f].units = S.units;
        S.runs[f].handed = (uint64_t *) calloc (S.units + 1, sizeof (uint64_t));
        if (!S.runs[f].handed)
            s_die ("out of memory");
        S.runs[f].run = s_submit (&S.fronts[f], S.units, 0);
    }
    s_pump (items, 100, 0);
    long rss_queued = s_rss_kb (coord);

    uint64_t start = mp_clock_mono_ms ();
    double cpu_start = s_cpu_s (coord);
    for (size_t f = 0; f < S.nfronts; f++) {
        char zygote[MP_PEER_NAME_MAX];
        mp_peer_zygote_name (S.runs[f].run, zygote);
        for (size_t a = 0; a < S.nagents; a++)
            s_send (&S.agents[a], zygote,
                    MP_PACK (zygote_ready, .run = S.runs[f].run, .collected = 1, .error = ""));
        s_send (&S.fronts[f], NULL, MP_PACK (poll, .run = S.runs[f].run, .after = 0, .wait_ms = 1000));
    }
    while (!s_all_done ()) {
        s_pump (items, 10, 1);
        s_end_held ();
        if (mp_clock_mono_ms () - start > 600000)
            s_die ("the runs did not end within 600 s");
    }
    double cycle_seconds = (double) (mp_clock_mono_ms () - start) / 1000.0;
    double cycle_cpu = s_cpu_s (coord) - cpu_start;
    uint64_t cycles = 0;
    for (size_t f = 0; f < S.nfronts; f++) {
        front_run_t *run = &S.runs[f];
        uint64_t tests = 0;
        for (uint64_t u = 1; u <= run->units; u++) {
            cycles += run->handed[u];
            tests += s_tests_of (run->run, u);
            if (run->handed[u] != 1)
                s_fail ("run %" PRIu64 " unit %" PRIu64 " handed out %" PRIu64 " times",
                        run->run, u, run->handed[u]);
        }
        //  Three reports a test and "done".
        if (run->events != 3 * tests + 1)
            s_fail ("run %" PRIu64 ": %" PRIu64 " events at its front end, not %" PRIu64,
                    run->run, run->events, 3 * tests + 1);
        free (run->handed);
    }
    double board_cpu = s_cpu_s (coord);
    double board_rate = S.board_ops ? s_board_phase (items) : 0;
    board_cpu = s_cpu_s (coord) - board_cpu;

    printf ("agents=%zu\nslots=%zu\nfronts=%zu\nunits=%" PRIu64 "\n", S.nagents, S.slots,
            S.nfronts, cycles);
    printf ("cycles_per_s=%.0f\n", (double) cycles / cycle_seconds);
    printf ("board_ops_per_s=%.0f\n", board_rate);
    //  What the coordinator itself spent: its capacity, whatever share of the cores
    //  this tool takes (the board phase's CPU includes its run's dispatch and ends).
    printf ("cycles_per_coord_cpu_s=%.0f\n", cycle_cpu > 0 ? (double) cycles / cycle_cpu : 0);
    printf ("board_ops_per_coord_cpu_s=%.0f\n",
            board_cpu > 0 ? (double) (S.board_ops / S.nagents * S.nagents) / board_cpu : 0);
    printf ("rss_kb_per_agent=%.2f\n", (double) (rss_agents - rss_start) / (double) S.nagents);
    printf ("rss_kb_per_queued_unit=%.3f\n",
            (double) (rss_queued - rss_agents) / (double) (S.nfronts * S.units));
    printf ("rss_kb_start=%ld\nrss_kb_agents=%ld\nrss_kb_queued=%ld\n", rss_start, rss_agents,
            rss_queued);

    //  It leaves cleanly (under ASan, with no leak).
    kill (coord, SIGTERM);
    int status = 0;
    waitpid (coord, &status, 0);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        s_fail ("mp-coord ended with status %d", status);
    for (size_t a = 0; a < S.nagents; a++)
        zsock_destroy (&S.agents[a].sock);
    for (size_t f = 0; f < S.nfronts; f++)
        zsock_destroy (&S.fronts[f].sock);
    free (S.agents);
    free (S.answered);
    free (S.fronts);
    free (S.runs);
    free (S.held);
    free (items);
    unlink (key_path);
    char ipc[300];
    snprintf (ipc, sizeof ipc, "%s/coord.ipc", dir);
    unlink (ipc);
    rmdir (dir);
    printf ("failures=%" PRIu64 "\n", S.failures);
    return S.failures ? 1 : 0;
}
