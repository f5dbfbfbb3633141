//  The agent: registers with the coordinator, starts a zygote per run, relays
//  units down and reports up, reaps every process it started (it is their
//  subreaper) and says how each ended.
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../common/log.h"
#include "../proto/wire.h"
#include "zygote.h"

#define MP_COORD_SILENCE_MS 8000 //  no word from the coordinator this long: it is gone
#define MP_HELLO_RETRY_MS 50 //  first retry; doubles up to 8 s

typedef struct {
    uint64_t id;
    pid_t zygote; //  0 once reaped
    int ended;    //  RUN_END received (or the coordinator was lost)
    char log_path[600];
} mp_agent_run_t;

typedef struct {
    pid_t pid;
    uint64_t run, unit;
} mp_agent_proc_t;

struct mp_agentd_t {
    mp_agent_config_t config;
    zloop_t *loop;
    zsock_t *coord;
    zsock_t *local;
    char rundir[256];
    char local_endpoint[300];
    int sigfd;
    sigset_t orig_mask;
    int registered;
    uint64_t heartbeat_ms;
    uint64_t last_heard_ms;
    uint64_t last_hello_ms;
    uint64_t last_beat_ms;
    uint64_t hello_backoff_ms;
    zlistx_t *runs;   //  of mp_agent_run_t
    zlistx_t *procs;  //  of mp_agent_proc_t: unit processes by pid
    uint64_t dropped;
};

static void s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static int s_send_coord (mp_agentd_t *self, mp_msg_t **msg_p)
{
    char err[256];
    int rc = -1;
    if (*msg_p) {
        mp_msg_set_from (*msg_p, self->config.name);
        rc = mp_wire_send (self->coord, NULL, *msg_p, &self->config.key, err, sizeof err);
        if (rc != 0)
            mp_debug ("cannot send %s: %s", mp_msg_name (mp_msg_type (*msg_p)), err);
    }
    mp_msg_destroy (msg_p);
    return rc;
}

static void s_send_hello (mp_agentd_t *self)
{
    mp_msg_t *hello = mp_msg_new (MP_MSG_HELLO);
    if (hello
        && (mp_msg_add_str (hello, self->config.name) != 0
            || mp_msg_add_u64 (hello, self->config.slots) != 0
            || mp_msg_add_str (hello, self->config.hostname) != 0))
        mp_msg_destroy (&hello);
    self->last_hello_ms = mp_clock_mono_ms ();
    s_send_coord (self, &hello);
}

static mp_agent_run_t *s_find_run (mp_agentd_t *self, uint64_t id)
{
    for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
         run = (mp_agent_run_t *) zlistx_next (self->runs))
        if (run->id == id)
            return run;
    return NULL;
}

static mp_agent_proc_t *s_find_proc (mp_agentd_t *self, pid_t pid)
{
    for (mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs); proc;
         proc = (mp_agent_proc_t *) zlistx_next (self->procs))
        if (proc->pid == pid)
            return proc;
    return NULL;
}

static void s_forget_proc (mp_agentd_t *self, pid_t pid)
{
    mp_agent_proc_t *proc = s_find_proc (self, pid);
    if (proc)
        zlistx_delete (self->procs, zlistx_cursor (self->procs));
}

//  Kills a run's whole process group: its zygote and every unit process.
static void s_kill_run (mp_agentd_t *self, mp_agent_run_t *run)
{
    (void) self;
    run->ended = 1;
    if (run->zygote > 0)
        killpg (run->zygote, SIGKILL);
    for (mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs); proc;
         proc = (mp_agent_proc_t *) zlistx_next (self->procs))
        if (proc->run == run->id)
            kill (proc->pid, SIGKILL);
}

static void s_drop_run_if_idle (mp_agentd_t *self, mp_agent_run_t *run)
{
    if (!run->ended || run->zygote > 0)
        return;
    for (mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs); proc;
         proc = (mp_agent_proc_t *) zlistx_next (self->procs))
        if (proc->run == run->id)
            return;
    unlink (run->log_path);
    void *handle = zlistx_find (self->runs, run);
    if (handle)
        zlistx_delete (self->runs, handle);
}

//  Stops a run's processes and forgets them: their ends are no longer news.
static void s_discard_run (mp_agentd_t *self, mp_agent_run_t *run)
{
    s_kill_run (self, run);
    mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs);
    while (proc) {
        void *handle = zlistx_cursor (self->procs);
        int mine = proc->run == run->id;
        proc = (mp_agent_proc_t *) zlistx_next (self->procs);
        if (mine)
            zlistx_delete (self->procs, handle);
    }
    void *handle = zlistx_find (self->runs, run);
    if (handle)
        zlistx_delete (self->runs, handle);
}

static void s_on_run_start (mp_agentd_t *self, mp_msg_t *msg)
{
    uint64_t id = mp_msg_u64 (msg, 0);
    mp_agent_run_t *old = s_find_run (self, id);
    if (old) {
        //  The coordinator starts it again (it forgot us meanwhile): start afresh.
        mp_warn ("run %" PRIu64 " started again: replacing its worker", id);
        s_discard_run (self, old);
    }
    mp_agent_run_t *run = (mp_agent_run_t *) calloc (1, sizeof *run);
    size_t nargs = mp_msg_count (msg, 2), nextra = mp_msg_count (msg, 3);
    const char **args = (const char **) calloc (nargs + 1, sizeof (char *));
    char **env = (char **) calloc (nextra + 4, sizeof (char *));
    if (!run || !args || !env)
        goto done;
    run->id = id;
    snprintf (run->log_path, sizeof run->log_path, "%s/run-%" PRIu64 ".log", self->rundir, id);
    for (size_t i = 0; i < nargs; i++)
        args[i] = mp_msg_str_at (msg, 2, i);
    size_t nenv = 0;
    env[nenv++] = zsys_sprintf ("MP_WORKER_ENDPOINT=%s", self->local_endpoint);
    env[nenv++] = zsys_sprintf ("MP_WORKER_RUN=%" PRIu64, id);
    env[nenv++] = zsys_sprintf ("MP_WORKER_KEY_FILE=%s", self->config.key_file);
    for (size_t i = 0; i < nextra; i++)
        env[nenv++] = strdup (mp_msg_str_at (msg, 3, i));
    mp_zygote_spec_t spec = { self->config.python, self->config.workdir, run->log_path,
                              args, nargs, (const char *const *) env, nenv, &self->orig_mask };
    char err[256];
    pid_t pid = mp_zygote_spawn (&spec, err, sizeof err);
    for (size_t i = 0; i < nenv; i++)
        zstr_free (&env[i]);
    if (pid < 0) {
        mp_error ("run %" PRIu64 ": %s", id, err);
        mp_msg_t *exit_msg = mp_msg_new (MP_MSG_ZYGOTE_EXIT);
        if (exit_msg && (mp_msg_add_u64 (exit_msg, id) != 0 || mp_msg_add_i64 (exit_msg, 127)))
            mp_msg_destroy (&exit_msg);
        s_send_coord (self, &exit_msg);
        goto done;
    }
    run->zygote = pid;
    mp_info ("run %" PRIu64 ": started pytest worker %d in %s", id, (int) pid,
             self->config.workdir);
    if (zlistx_add_end (self->runs, run))
        run = NULL;
    else
        killpg (pid, SIGKILL);
done:
    free (run);
    free (args);
    free (env);
}

//  A message from the coordinator: for a local worker (relayed verbatim) or for us.
static int s_on_coord (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    zmsg_t *zmsg = zmsg_recv (reader);
    if (!zmsg)
        return zsys_interrupted ? -1 : 0;
    char err[256];
    int code = 0;
    mp_msg_t *msg = mp_wire_decode (zmsg, &self->config.key, &mp_limits_default, &code, err,
                                    sizeof err);
    if (!msg) {
        self->dropped++;
        mp_warn ("dropped message from the coordinator: %s", err);
        zmsg_destroy (&zmsg);
        return 0;
    }
    self->last_heard_ms = mp_clock_mono_ms ();
    const char *to = mp_msg_to (msg);
    if (*to && !streq (to, self->config.name)) {
        //  For a worker: its routing id is its name.
        if (zmsg_pushstr (zmsg, to) != 0 || zmsg_send (&zmsg, self->local) != 0)
            mp_warn ("cannot relay %s to %s: %s", mp_msg_name (mp_msg_type (msg)), to,
                     zmq_strerror (zmq_errno ()));
    }
    else {
        switch (mp_msg_type (msg)) {
        case MP_MSG_WELCOME:
            self->registered = 1;
            self->hello_backoff_ms = MP_HELLO_RETRY_MS;
            self->heartbeat_ms = mp_msg_u64 (msg, 0) ? mp_msg_u64 (msg, 0) : 1000;
            mp_info ("registered with %s: %zu slots", self->config.connect,
                     self->config.slots);
            break;
        case MP_MSG_ERROR:
            if (mp_msg_i64 (msg, 0) == MP_ENOENT && self->registered) {
                mp_warn ("the coordinator forgot us: registering again");
                self->registered = 0;
                for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
                     run = (mp_agent_run_t *) zlistx_next (self->runs))
                    s_kill_run (self, run);
                s_send_hello (self);
            }
            else
                mp_warn ("coordinator: %s", mp_msg_str (msg, 1));
            break;
        case MP_MSG_RUN_START:
            s_on_run_start (self, msg);
            break;
        case MP_MSG_KILL: {
            //  Only a unit process of ours, of that run and unit: never any pid it names.
            pid_t pid = (pid_t) mp_msg_u64 (msg, 2);
            mp_agent_proc_t *proc = s_find_proc (self, pid);
            if (proc && proc->run == mp_msg_u64 (msg, 0) && proc->unit == mp_msg_u64 (msg, 1))
                kill (pid, SIGKILL);
            else
                mp_warn ("refused to kill pid %d: not a unit process of ours", (int) pid);
            break;
        }
        case MP_MSG_RUN_END: {
            mp_agent_run_t *run = s_find_run (self, mp_msg_u64 (msg, 0));
            if (run) {
                s_kill_run (self, run);
                s_drop_run_if_idle (self, run);
            }
            break;
        }
        default:
            break;
        }
    }
    mp_msg_destroy (&msg);
    zmsg_destroy (&zmsg);
    return 0;
}

//  The parent pid of a process, from /proc; -1 when unknown.
static pid_t s_parent_of (pid_t pid)
{
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    //  "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    char *end = strrchr (buf, ')');
    int ppid;
    if (!end || sscanf (end + 1, " %*c %d", &ppid) != 1)
        return -1;
    return (pid_t) ppid;
}

//  What a local worker may send: its zygote speaks for its run's units, a unit
//  process reports and uses the sync service. Returns NULL when allowed, else why not.
static const char *s_refuse_local (mp_agentd_t *self, const mp_msg_t *msg)
{
    const char *from = mp_msg_from (msg);
    int type = mp_msg_type (msg);
    if (from[0] == 'z') {
        char *end;
        uint64_t id = strtoull (from + 1, &end, 10);
        mp_agent_run_t *run = s_find_run (self, id);
        if (*end || !run || run->ended || run->zygote <= 0)
            return "not the zygote of a live run";
        if (type != MP_MSG_ZYGOTE_READY && type != MP_MSG_UNIT_STARTED
            && type != MP_MSG_UNIT_EXIT)
            return "a type a zygote may not send";
        if (mp_msg_u64 (msg, 0) != id)
            return "about another run";
        if (type == MP_MSG_UNIT_STARTED) {
            //  A unit may already have ended and been reaped (then /proc has no
            //  entry and it will not be recorded); a live pid must be the zygote's child.
            pid_t pid = (pid_t) mp_msg_u64 (msg, 2);
            pid_t parent = s_parent_of (pid);
            if ((uint64_t) pid != mp_msg_u64 (msg, 2) || pid <= 0 || s_find_proc (self, pid)
                || (parent != -1 && parent != run->zygote))
                return "a pid that is not a new child of the zygote";
        }
        return NULL;
    }
    if (from[0] == 'u') {
        switch (type) {
        case MP_MSG_REPORT:
        case MP_MSG_BOARD_GET:
        case MP_MSG_BOARD_SET:
        case MP_MSG_BOARD_DEL:
        case MP_MSG_BOARD_POP:
        case MP_MSG_BOARD_SETDEFAULT:
        case MP_MSG_BOARD_ITEMS:
        case MP_MSG_LOCK_ACQUIRE:
        case MP_MSG_LOCK_RELEASE:
        case MP_MSG_TRAIL:
            return NULL;
        default:
            return "a type a unit process may not send";
        }
    }
    return "an unknown kind of worker";
}

//  A message from a local worker: checked, noted, then relayed verbatim.
static int s_on_local (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    zmsg_t *zmsg = zmsg_recv (reader);
    if (!zmsg)
        return zsys_interrupted ? -1 : 0;
    zframe_t *route = zmsg_pop (zmsg);
    char err[256] = "no routing id";
    int code = 0;
    mp_msg_t *msg = route ? mp_wire_decode (zmsg, &self->config.key, &mp_limits_default,
                                            &code, err, sizeof err)
                          : NULL;
    //  The sender named in the message must be its connection, byte for byte.
    const char *refusal = !msg ? err
                          : !route || !zframe_streq (route, mp_msg_from (msg))
                              ? "sender does not match its connection"
                              : s_refuse_local (self, msg);
    if (refusal) {
        self->dropped++;
        mp_warn ("dropped %s from local worker %s: %s",
                 msg ? mp_msg_name (mp_msg_type (msg)) : "a message",
                 msg ? mp_msg_from (msg) : "?", refusal);
    }
    else {
        int type = mp_msg_type (msg);
        if (type == MP_MSG_UNIT_STARTED && s_parent_of ((pid_t) mp_msg_u64 (msg, 2)) != -1) {
            mp_agent_proc_t *proc = (mp_agent_proc_t *) calloc (1, sizeof *proc);
            if (proc) {
                proc->pid = (pid_t) mp_msg_u64 (msg, 2);
                proc->run = mp_msg_u64 (msg, 0);
                proc->unit = mp_msg_u64 (msg, 1);
                if (!zlistx_add_end (self->procs, proc))
                    free (proc);
            }
        }
        else if (type == MP_MSG_UNIT_EXIT)
            s_forget_proc (self, (pid_t) mp_msg_u64 (msg, 2));
        if (zmsg_send (&zmsg, self->coord) != 0)
            mp_warn ("cannot relay %s to the coordinator", mp_msg_name (type));
    }
    mp_msg_destroy (&msg);
    zframe_destroy (&route);
    zmsg_destroy (&zmsg);
    return 0;
}

static void s_on_reaped (mp_agentd_t *self, pid_t pid, int wstatus)
{
    int64_t status = mp_zygote_status (wstatus);
    for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
         run = (mp_agent_run_t *) zlistx_next (self->runs)) {
        if (run->zygote != pid)
            continue;
        run->zygote = 0;
        if (!run->ended) {
            mp_warn ("run %" PRIu64 ": pytest worker %d ended early (status %" PRId64 ")",
                     run->id, (int) pid, status);
            mp_zygote_log_tail (run->log_path, 4000);
            mp_msg_t *msg = mp_msg_new (MP_MSG_ZYGOTE_EXIT);
            if (msg && (mp_msg_add_u64 (msg, run->id) != 0 || mp_msg_add_i64 (msg, status)))
                mp_msg_destroy (&msg);
            s_send_coord (self, &msg);
        }
        s_drop_run_if_idle (self, run);
        return;
    }
    mp_agent_proc_t *proc = s_find_proc (self, pid);
    if (!proc)
        return;
    //  An orphan unit process (its zygote died first): we say how it ended.
    mp_msg_t *msg = mp_msg_new (MP_MSG_UNIT_EXIT);
    if (msg
        && (mp_msg_add_u64 (msg, proc->run) != 0 || mp_msg_add_u64 (msg, proc->unit) != 0
            || mp_msg_add_u64 (msg, (uint64_t) pid) != 0 || mp_msg_add_i64 (msg, status)))
        mp_msg_destroy (&msg);
    s_send_coord (self, &msg);
    uint64_t run_id = proc->run;
    s_forget_proc (self, pid);
    mp_agent_run_t *run = s_find_run (self, run_id);
    if (run)
        s_drop_run_if_idle (self, run);
}

static int s_on_signal (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    struct signalfd_siginfo info;
    int stop = 0;
    while (read (self->sigfd, &info, sizeof info) == (ssize_t) sizeof info)
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT)
            stop = 1;
    int wstatus;
    pid_t pid;
    while ((pid = waitpid (-1, &wstatus, WNOHANG)) > 0)
        s_on_reaped (self, pid, wstatus);
    return stop ? -1 : 0;
}

//  A new connection to the coordinator. Sends fail at once rather than queue while
//  it is down: hellos are retried, and nothing stale arrives after a reconnect.
static zsock_t *s_connect_coord (const char *endpoint, char *err, size_t errlen)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    zsock_set_immediate (sock, 1);
    zsock_set_sndtimeo (sock, 0);
    zsock_set_linger (sock, 0);
    if (zsock_connect (sock, "%s", endpoint) == -1) {
        mp_set_error (err, errlen, "cannot connect to %s: %s", endpoint,
                      zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

static int s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    uint64_t now = mp_clock_mono_ms ();
    if (!self->registered) {
        if (now - self->last_hello_ms >= self->hello_backoff_ms) {
            s_send_hello (self);
            if (self->hello_backoff_ms < 8000)
                self->hello_backoff_ms *= 2;
        }
        return 0;
    }
    if (now - self->last_heard_ms > MP_COORD_SILENCE_MS) {
        //  The coordinator is gone: stop our workers and start over on a new socket.
        mp_warn ("no word from the coordinator for %d ms: stopping workers, reconnecting",
                 MP_COORD_SILENCE_MS);
        for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
             run = (mp_agent_run_t *) zlistx_next (self->runs))
            s_kill_run (self, run);
        self->registered = 0;
        zloop_reader_end (self->loop, self->coord);
        zsock_destroy (&self->coord);
        char err[256];
        self->coord = s_connect_coord (self->config.connect, err, sizeof err);
        if (!self->coord || zloop_reader (self->loop, self->coord, s_on_coord, self) != 0) {
            mp_error ("cannot reconnect: %s", self->coord ? "reactor refused" : err);
            return -1;
        }
        self->hello_backoff_ms = MP_HELLO_RETRY_MS;
        self->last_hello_ms = now;
        return 0;
    }
    if (now - self->last_beat_ms >= self->heartbeat_ms) {
        mp_msg_t *beat = mp_msg_new (MP_MSG_HEARTBEAT);
        s_send_coord (self, &beat);
        self->last_beat_ms = now;
    }
    return 0;
}

mp_agentd_t *mp_agentd_new (const mp_agent_config_t *config, char *err, size_t errlen)
{
    mp_agentd_t *self = (mp_agentd_t *) calloc (1, sizeof *self);
    if (!self) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->sigfd = -1;
    self->heartbeat_ms = 1000;
    self->hello_backoff_ms = MP_HELLO_RETRY_MS;
    //  Orphaned unit processes come to us, so that we can say how they ended.
    if (prctl (PR_SET_CHILD_SUBREAPER, 1) != 0) {
        mp_set_error (err, errlen, "cannot become a subreaper: %s", strerror (errno));
        goto fail;
    }
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGCHLD);
    sigaddset (&mask, SIGTERM);
    sigaddset (&mask, SIGINT);
    if (sigprocmask (SIG_BLOCK, &mask, &self->orig_mask) != 0
        || (self->sigfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
        mp_set_error (err, errlen, "cannot watch signals: %s", strerror (errno));
        goto fail;
    }
    snprintf (self->rundir, sizeof self->rundir, "/tmp/mp-agent-XXXXXX");
    if (!mkdtemp (self->rundir)) {
        self->rundir[0] = '\0';
        mp_set_error (err, errlen, "cannot make a private directory: %s", strerror (errno));
        goto fail;
    }
    snprintf (self->local_endpoint, sizeof self->local_endpoint, "ipc://%s/agent.ipc",
              self->rundir);
    self->runs = zlistx_new ();
    self->procs = zlistx_new ();
    self->loop = zloop_new ();
    self->local = zsock_new (ZMQ_ROUTER);
    if (!self->runs || !self->procs || !self->loop || !self->local) {
        mp_set_error (err, errlen, "out of memory");
        goto fail;
    }
    zlistx_set_destructor (self->runs, s_free_item);
    zlistx_set_destructor (self->procs, s_free_item);
    zsock_set_router_mandatory (self->local, 1);
    zsock_set_sndtimeo (self->local, 1000);
    zsock_set_linger (self->local, 0);
    if (zsock_bind (self->local, "%s", self->local_endpoint) == -1) {
        mp_set_error (err, errlen, "cannot bind %s: %s", self->local_endpoint,
                      zmq_strerror (zmq_errno ()));
        goto fail;
    }
    self->coord = s_connect_coord (config->connect, err, errlen);
    if (!self->coord)
        goto fail;
    return self;
fail:
    mp_agentd_destroy (&self);
    return NULL;
}

void mp_agentd_destroy (mp_agentd_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_agentd_t *self = *self_p;
    if (self->runs) {
        for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
             run = (mp_agent_run_t *) zlistx_next (self->runs)) {
            s_kill_run (self, run);
            unlink (run->log_path);
        }
    }
    //  Reap what we killed so nothing is left behind as a zombie of ours.
    while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
    zloop_destroy (&self->loop);
    zsock_destroy (&self->coord);
    zsock_destroy (&self->local);
    zlistx_destroy (&self->runs);
    zlistx_destroy (&self->procs);
    if (self->rundir[0]) {
        char sock[320];
        snprintf (sock, sizeof sock, "%s/agent.ipc", self->rundir);
        unlink (sock);
        rmdir (self->rundir);
    }
    if (self->sigfd != -1)
        close (self->sigfd);
    free (self);
    *self_p = NULL;
}

int mp_agentd_run (mp_agentd_t *self)
{
    zmq_pollitem_t sigitem = { NULL, self->sigfd, ZMQ_POLLIN, 0 };
    if (zloop_reader (self->loop, self->coord, s_on_coord, self) != 0
        || zloop_reader (self->loop, self->local, s_on_local, self) != 0
        || zloop_poller (self->loop, &sigitem, s_on_signal, self) != 0
        || zloop_timer (self->loop, 50, 0, s_on_tick, self) == -1) {
        mp_error ("cannot set up the reactor");
        return -1;
    }
    s_send_hello (self);
    zloop_start (self->loop);
    mp_info ("stopping");
    return 0;
}
