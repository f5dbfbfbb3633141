//  The agent's runs and the processes it supervises: zygotes are spawned, killed and
//  reaped here, and unit processes that outlive their zygote are reaped and reported.
#include <sys/wait.h>
#include <unistd.h>

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

//  Kills a run's whole process group: its zygote and every unit process.
void mp_agentd_kill_run (mp_agentd_t *self, mp_agent_run_t *run)
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

void mp_agentd_drop_run_if_idle (mp_agentd_t *self, mp_agent_run_t *run)
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

void mp_agentd_start_run (mp_agentd_t *self, mp_msg_t *msg)
{
    uint64_t id = mp_msg_u64 (msg, 0);
    mp_agent_run_t *old = mp_agentd_find_run (self, id);
    if (old) {
        //  The coordinator starts it again (it forgot us meanwhile): start afresh.
        mp_warn ("run %" PRIu64 " started again: replacing its zygote", id);
        mp_agentd_discard_run (self, old);
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
        mp_agentd_send_coord (self, &exit_msg);
        goto done;
    }
    run->zygote = pid;
    mp_info ("run %" PRIu64 ": started zygote %d in %s", id, (int) pid,
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

void mp_agentd_reaped (mp_agentd_t *self, pid_t pid, int wstatus)
{
    int64_t status = mp_zygote_status (wstatus);
    for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
         run = (mp_agent_run_t *) zlistx_next (self->runs)) {
        if (run->zygote != pid)
            continue;
        run->zygote = 0;
        if (!run->ended) {
            mp_warn ("run %" PRIu64 ": zygote %d ended early (status %" PRId64 ")",
                     run->id, (int) pid, status);
            mp_zygote_log_tail (run->log_path, 4000);
            mp_msg_t *msg = mp_msg_new (MP_MSG_ZYGOTE_EXIT);
            if (msg && (mp_msg_add_u64 (msg, run->id) != 0 || mp_msg_add_i64 (msg, status)))
                mp_msg_destroy (&msg);
            mp_agentd_send_coord (self, &msg);
        }
        mp_agentd_drop_run_if_idle (self, run);
        return;
    }
    mp_agent_proc_t *proc = mp_agentd_find_proc (self, pid);
    if (!proc)
        return;
    //  An orphan unit process (its zygote died first): we say how it ended.
    mp_msg_t *msg = mp_msg_new (MP_MSG_UNIT_EXIT);
    if (msg
        && (mp_msg_add_u64 (msg, proc->run) != 0 || mp_msg_add_u64 (msg, proc->unit) != 0
            || mp_msg_add_u64 (msg, (uint64_t) pid) != 0 || mp_msg_add_i64 (msg, status)))
        mp_msg_destroy (&msg);
    mp_agentd_send_coord (self, &msg);
    uint64_t run_id = proc->run;
    mp_agentd_forget_proc (self, pid);
    mp_agent_run_t *run = mp_agentd_find_run (self, run_id);
    if (run)
        mp_agentd_drop_run_if_idle (self, run);
}
