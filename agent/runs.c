//  The agent's runs and the processes it supervises: zygotes are spawned, killed and
//  reaped here, and unit processes that outlive their zygote are reaped and reported.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/strs.h"
#include "agent_private.h"
#include "zygote.h"

mp_agent_run_t *mp_agentd_find_run (mp_agentd_t *self, uint64_t id)
{
    for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
         run = (mp_agent_run_t *) zlistx_next (self->runs))
        if (run->id == id)
            return run;
    return NULL;
}

mp_agent_proc_t *mp_agentd_find_proc (mp_agentd_t *self, pid_t pid)
{
    for (mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs); proc;
         proc = (mp_agent_proc_t *) zlistx_next (self->procs))
        if (proc->pid == pid)
            return proc;
    return NULL;
}

void mp_agentd_forget_proc (mp_agentd_t *self, pid_t pid)
{
    mp_agent_proc_t *proc = mp_agentd_find_proc (self, pid);
    if (proc)
        zlistx_delete (self->procs, zlistx_cursor (self->procs));
}

//  Kills the run's unit processes (those that announced themselves).
static void s_kill_units (mp_agentd_t *self, mp_agent_run_t *run)
{
    for (mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs); proc;
         proc = (mp_agent_proc_t *) zlistx_next (self->procs))
        if (proc->run == run->id)
            kill (proc->pid, SIGKILL);
}

//  Kills a run's whole process group: its zygote and every unit process.
void mp_agentd_kill_run (mp_agentd_t *self, mp_agent_run_t *run)
{
    run->ended = 1;
    if (run->zygote > 0)
        killpg (run->zygote, SIGKILL);
    s_kill_units (self, run);
}

//  The run's zygote was reaped: when it left as told, whatever is left of its process
//  group goes too.
static void s_zygote_reaped (mp_agent_run_t *run)
{
    if (run->ended)
        killpg (run->zygote, SIGKILL);
    run->zygote = 0;
}

void mp_agentd_wait_zygotes (mp_agentd_t *self, uint64_t until_ms)
{
    for (;;) {
        int waiting = 0;
        for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
             run = (mp_agent_run_t *) zlistx_next (self->runs)) {
            if (!run->ended || run->zygote <= 0)
                continue;
            if (waitpid (run->zygote, NULL, WNOHANG) == run->zygote)
                s_zygote_reaped (run);
            else
                waiting = 1;
        }
        if (!waiting || mp_clock_mono_ms () >= until_ms)
            return;
        usleep (10000);
    }
}

void mp_agentd_drop_run_if_idle (mp_agentd_t *self, mp_agent_run_t *run)
{
    if (!run->ended || run->zygote > 0)
        return;
    for (mp_agent_proc_t *proc = (mp_agent_proc_t *) zlistx_first (self->procs); proc;
         proc = (mp_agent_proc_t *) zlistx_next (self->procs))
        if (proc->run == run->id)
            return;
    mp_agentd_remove_run_files (run);
    void *handle = zlistx_find (self->runs, run);
    if (handle)
        zlistx_delete (self->runs, handle);
}

//  Stops a run's processes and forgets them: their ends are no longer news.
void mp_agentd_discard_run (mp_agentd_t *self, mp_agent_run_t *run)
{
    mp_agentd_kill_run (self, run);
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

#define MP_ZYGOTE_GRACE_MS 5000 //  for an ended run's zygote to finish its session
#define MP_ORPHAN_ZYGOTE_WAIT_MS 1000 //  for a zygote whose unit process was reparented to us

void mp_agentd_end_run (mp_agentd_t *self, mp_agent_run_t *run)
{
    if (run->ended)
        return;
    run->ended = 1;
    //  Its units are over (or cancelled): none may go on.
    s_kill_units (self, run);
    if (run->zygote > 0) {
        char name[MP_PEER_NAME_MAX], err[256];
        mp_peer_zygote_name (run->id, name);
        mp_msg_t *end = MP_PACK (run_end, .run = run->id);
        zframe_t *route = zframe_new (name, strlen (name));
        if (end)
            mp_sender_stamp (&self->sender, end);
        if (!end || !route || mp_msg_set_from (end, self->config.name) != 0
            || mp_msg_set_to (end, name) != 0
            || mp_wire_send (self->local, route, end, &self->config.key, err, sizeof err) != 0)
            //  It cannot be told: it goes at the end of its grace all the same.
            mp_debug ("run %" PRIu64 ": cannot tell the zygote to leave", run->id);
        zframe_destroy (&route);
        mp_msg_destroy (&end);
        run->kill_at_ms = mp_clock_mono_ms () + MP_ZYGOTE_GRACE_MS;
    }
    mp_agentd_drop_run_if_idle (self, run);
}

void mp_agentd_remove_run_files (mp_agent_run_t *run)
{
    unlink (run->log_path);
    if (*run->checkout_path)
        unlink (run->checkout_path);
}

//  Writes the front end's test files and planned test ids, one per line after the
//  number of files, for the zygote to compare with its own checkout; for a run not
//  planned yet, "early" alone (the zygote waits for the file to change). Whole or not
//  at all: written aside, then renamed. MP_OK or MP_EIO.
static int s_write_checkout (const char *path, const mp_strs_t *files,
                             const mp_strs_t *tests, int early)
{
    char aside[sizeof ((mp_agent_run_t *) 0)->checkout_path + 8];
    snprintf (aside, sizeof aside, "%s.new", path);
    FILE *f = fopen (aside, "w");
    if (!f)
        return MP_EIO;
    if (early)
        fprintf (f, "early\n");
    else {
        fprintf (f, "%zu\n", files->count);
        for (size_t i = 0; i < files->count; i++)
            fprintf (f, "%s\n", files->items[i]);
        for (size_t i = 0; i < tests->count; i++)
            fprintf (f, "%s\n", tests->items[i]);
    }
    if (fclose (f) != 0 || rename (aside, path) != 0) {
        unlink (aside);
        return MP_EIO;
    }
    return MP_OK;
}

void mp_agentd_plan_run (mp_agentd_t *self, mp_msg_t *msg)
{
    mp_run_plan_msg_t plan;
    mp_run_plan_msg_view (msg, &plan);
    mp_agent_run_t *run = mp_agentd_find_run (self, plan.run);
    if (!run || run->ended)
        return;
    if (s_write_checkout (run->checkout_path, &plan.files, &plan.tests, 0) != MP_OK)
        mp_warn ("run %" PRIu64 ": cannot write %s: its zygote waits in vain", run->id,
                 run->checkout_path);
}

void mp_agentd_enforce_grace (mp_agentd_t *self, uint64_t now)
{
    for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
         run = (mp_agent_run_t *) zlistx_next (self->runs))
        if (run->ended && run->zygote > 0 && run->kill_at_ms && run->kill_at_ms <= now) {
            mp_warn ("run %" PRIu64 ": zygote %d did not leave in time: killing it", run->id,
                     (int) run->zygote);
            run->kill_at_ms = 0;
            killpg (run->zygote, SIGKILL);
        }
}

void mp_agentd_start_run (mp_agentd_t *self, mp_msg_t *msg)
{
    mp_run_start_msg_t start;
    mp_run_start_msg_view (msg, &start);
    uint64_t id = start.run;
    mp_agent_run_t *old = mp_agentd_find_run (self, id);
    if (old) {
        //  The coordinator starts it again (it forgot us meanwhile): start afresh.
        mp_warn ("run %" PRIu64 " started again: replacing its zygote", id);
        mp_agentd_discard_run (self, old);
    }
    mp_agent_run_t *run = (mp_agent_run_t *) calloc (1, sizeof *run);
    char **env = (char **) calloc (start.env.count + 12, sizeof (char *));
    if (!run || !env)
        goto done;
    run->id = id;
    snprintf (run->log_path, sizeof run->log_path, "%s/run-%" PRIu64 ".log", self->rundir, id);
    snprintf (run->checkout_path, sizeof run->checkout_path, "%s/run-%" PRIu64 ".checkout",
              self->rundir, id);
    if (s_write_checkout (run->checkout_path, &start.files, &start.tests, start.early != 0)
        != MP_OK)
        mp_warn ("run %" PRIu64 ": cannot write %s: its checkout goes unchecked", id,
                 run->checkout_path);
    size_t nenv = 0;
    env[nenv++] = zsys_sprintf ("MP_WORKER_ENDPOINT=%s", self->local_endpoint);
    env[nenv++] = zsys_sprintf ("MP_WORKER_RUN=%" PRIu64, id);
    env[nenv++] = zsys_sprintf ("MP_WORKER_KEY_FILE=%s", self->config.key_file);
    env[nenv++] = zsys_sprintf ("MP_WORKER_CHECKOUT=%s", run->checkout_path);
    if (!self->config.relay_sync) {
        //  Where a unit process opens its line (LINE_OPEN): the coordinator as this
        //  agent reaches it, and the coordinator's CURVE key ("" without CURVE).
        env[nenv++] = zsys_sprintf ("MP_WORKER_COORD=%s", self->config.connect);
        env[nenv++] = zsys_sprintf ("MP_WORKER_COORD_KEY=%s", self->config.coord_public);
    }
    //  Kept by every process the run starts that does not scrub its environment:
    //  how the agent tells a stray daemon's run (mp_agentd_kill_strays).
    env[nenv++] = zsys_sprintf ("PYTEST_MP_RUN_ID=%" PRIu64, id);
    env[nenv++] = zsys_sprintf ("%s=%d", MP_AGENT_PID_ENV, (int) getpid ());
    //  Where its tests run; each unit process adds its slot (PYTEST_MP_SLOT, _WORKER).
    env[nenv++] = zsys_sprintf ("PYTEST_MP_AGENT=%s", self->config.name);
    env[nenv++] = zsys_sprintf ("PYTEST_MP_HOST=%s", self->config.hostname);
    char labels[64 * 130]; //  as many as mp-agent takes (64 of 128 bytes)
    env[nenv++] = zsys_sprintf ("PYTEST_MP_LABELS=%s",
                                mp_strs_join (self->config.labels, self->config.nlabels, ",",
                                              labels, sizeof labels));
    for (size_t i = 0; i < start.env.count; i++)
        env[nenv++] = strdup (start.env.items[i]);
    mp_zygote_spec_t spec = { self->config.python, self->config.workdir, run->log_path,
                              start.args.items, start.args.count, (const char *const *) env,
                              nenv, &self->orig_mask };
    char err[256];
    pid_t pid = self->config.ready_zygote;
    int rc = MP_EIO;
    if (pid > 0 && start.early) {
        //  Once: the front end that started us made it ready for its own run.
        rc = mp_zygote_hand_over (&spec, pid, self->config.ready_fd, err, sizeof err);
        mp_agentd_forget_ready_zygote (self);
        if (rc != MP_OK)
            mp_warn ("run %" PRIu64 ": %s: starting one", id, err);
    }
    if (rc != MP_OK)
        rc = mp_zygote_spawn (&spec, &pid, err, sizeof err);
    for (size_t i = 0; i < nenv; i++)
        zstr_free (&env[i]);
    if (rc != MP_OK) {
        mp_error ("run %" PRIu64 ": %s", id, err);
        mp_msg_t *exit_msg = MP_PACK (zygote_exit, .run = id, .status = 127);
        mp_agentd_send_coord (self, &exit_msg);
        goto done;
    }
    run->zygote = pid;
    mp_info ("run %" PRIu64 ": started zygote %d in %s", id, (int) pid, self->config.workdir);
    if (zlistx_add_end (self->runs, run))
        run = NULL;
    else
        killpg (pid, SIGKILL);
done:
    free (run);
    free (env);
}

//  A unit process is reparented to us only once its zygote is exiting, so the
//  zygote is waitable at once or within moments.
static void s_reap_zygote_first (mp_agentd_t *self, uint64_t run_id)
{
    mp_agent_run_t *run = mp_agentd_find_run (self, run_id);
    if (!run || run->zygote <= 0)
        return;
    pid_t zygote = run->zygote;
    uint64_t until_ms = mp_clock_mono_ms () + MP_ORPHAN_ZYGOTE_WAIT_MS;
    int wstatus;
    for (;;) {
        pid_t got = waitpid (zygote, &wstatus, WNOHANG);
        if (got == zygote) {
            mp_agentd_reaped (self, zygote, wstatus);
            return;
        }
        if (got < 0 || mp_clock_mono_ms () >= until_ms)
            return;
        usleep (1000);
    }
}

void mp_agentd_forget_ready_zygote (mp_agentd_t *self)
{
    if (self->config.ready_fd >= 0)
        close (self->config.ready_fd);
    self->config.ready_zygote = 0;
    self->config.ready_fd = -1;
}

void mp_agentd_reaped (mp_agentd_t *self, pid_t pid, int wstatus)
{
    int64_t status = mp_zygote_status (wstatus);
    if (pid == self->config.ready_zygote) {
        //  The ready zygote left before its run came: runs get zygotes of their own.
        mp_agentd_forget_ready_zygote (self);
        return;
    }
    for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
         run = (mp_agent_run_t *) zlistx_next (self->runs)) {
        if (run->zygote != pid)
            continue;
        int early = !run->ended;
        s_zygote_reaped (run);
        if (early) {
            mp_warn ("run %" PRIu64 ": zygote %d ended early (status %" PRId64 ")",
                     run->id, (int) pid, status);
            mp_zygote_log_tail (run->log_path, 4000);
            mp_msg_t *msg = MP_PACK (zygote_exit, .run = run->id, .status = status);
            mp_agentd_send_coord (self, &msg);
        }
        mp_agentd_drop_run_if_idle (self, run);
        return;
    }
    mp_agent_proc_t *proc = mp_agentd_find_proc (self, pid);
    if (!proc)
        return;
    //  An orphan unit process (its zygote died first): we say how it ended, but only
    //  after the zygote's own end. Both are waitable at once and waitpid() returns
    //  them in any order; a unit's SIGKILL reported first would read as the test's
    //  crash, not as the loss of the host it ran on.
    s_reap_zygote_first (self, proc->run);
    proc = mp_agentd_find_proc (self, pid);
    if (!proc)
        return;
    mp_msg_t *msg = MP_PACK (unit_exit, .run = proc->run, .unit = proc->unit,
                             .pid = (uint64_t) pid, .status = status);
    mp_agentd_send_coord (self, &msg);
    uint64_t run_id = proc->run;
    mp_agentd_forget_proc (self, pid);
    mp_agent_run_t *run = mp_agentd_find_run (self, run_id);
    if (run)
        mp_agentd_drop_run_if_idle (self, run);
}

int mp_agentd_parent_of (pid_t pid, pid_t *parent)
{
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return MP_EIO;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    //  "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    char *end = strrchr (buf, ')');
    int ppid;
    if (!end || sscanf (end + 1, " %*c %d", &ppid) != 1)
        return MP_EIO;
    *parent = (pid_t) ppid;
    return MP_OK;
}

//  What a process's environment says of the run that started it: the run id and
//  the pid of its agent (0 for what it does not say).
static void s_tags_of (pid_t pid, uint64_t *run, pid_t *agent)
{
    *run = 0;
    *agent = 0;
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/environ", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    static const char run_tag[] = "PYTEST_MP_RUN_ID=", agent_tag[] = MP_AGENT_PID_ENV "=";
    char entry[256];
    size_t len = 0;
    int c;
    //  NUL-separated entries; only the tags' are read in full.
    while ((c = fgetc (f)) != EOF) {
        if (c != '\0') {
            if (len + 1 < sizeof entry)
                entry[len++] = (char) c;
            continue;
        }
        entry[len] = '\0';
        if (strncmp (entry, run_tag, sizeof run_tag - 1) == 0)
            *run = strtoull (entry + sizeof run_tag - 1, NULL, 10);
        else if (strncmp (entry, agent_tag, sizeof agent_tag - 1) == 0)
            *agent = (pid_t) strtol (entry + sizeof agent_tag - 1, NULL, 10);
        len = 0;
    }
    fclose (f);
}

//  1 when a process with this pid is alive. A reused pid errs on the safe side: the
//  stray is left, never a live agent's process killed.
static int s_alive (pid_t pid)
{
    return kill (pid, 0) == 0 || errno == EPERM;
}

void mp_agentd_kill_strays (mp_agentd_t *self)
{
    DIR *proc = opendir ("/proc");
    if (!proc)
        return;
    pid_t me = getpid ();
    struct dirent *entry;
    while ((entry = readdir (proc))) {
        char *end;
        long pid = strtol (entry->d_name, &end, 10);
        if (*end || pid <= 0 || (pid_t) pid == me)
            continue;
        uint64_t id;
        pid_t agent;
        s_tags_of ((pid_t) pid, &id, &agent);
        if (!id || !agent)
            continue;
        if (agent == me) {
            mp_agent_run_t *run = mp_agentd_find_run (self, id);
            //  A live run's processes, and an ended run's zygote in its grace, stay.
            if (run && (!run->ended || (pid_t) pid == run->zygote))
                continue;
        }
        else if (s_alive (agent))
            continue; //  another agent's: it looks after its own
        //  Ours and over, or of an agent that is gone (killed, so it could not clean
        //  up): nobody else would stop it.
        mp_warn ("killing process %ld left by run %" PRIu64, pid, id);
        kill ((pid_t) pid, SIGKILL);
    }
    closedir (proc);
}
