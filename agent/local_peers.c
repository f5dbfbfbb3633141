//  Messages from local peers (zygotes, unit processes): who may send what, then relayed.
#include <stdio.h>

#include "agent_private.h"

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

//  What a local peer may send: the catalogue decides, once the peer is bound to what
//  it is. A zygote names itself by its run, which must be live; a unit process is
//  bound to its run and unit by its announcement, which the agent checks against
//  /proc: the pid must be its own, a new child of that run's zygote. Returns NULL when
//  allowed, else why not (written into err).
static const char *s_refuse_local (mp_agentd_t *self, mp_msg_t *msg, char *err,
                                   size_t errlen)
{
    mp_peer_t peer;
    if (mp_peer_parse (mp_msg_from (msg), &peer) != MP_OK)
        return "not a zygote or a unit process";
    mp_principal_t who = { .role = peer.role, .run_bound = 1 };
    if (peer.role == MP_ROLE_ZYGOTE) {
        mp_agent_run_t *run = mp_agentd_find_run (self, peer.id);
        if (!run || run->ended || run->zygote <= 0)
            return "not the zygote of a live run";
        who.run = run->id;
    }
    else {
        mp_agent_proc_t *proc = mp_agentd_find_proc (self, (pid_t) peer.id);
        if (proc) {
            who.run = proc->run;
            who.unit_bound = 1;
            who.unit = proc->unit;
            if (mp_msg_type (msg) == MP_MSG_UNIT_STARTED)
                return "a unit process announces itself once";
        }
        else if (mp_msg_type (msg) == MP_MSG_UNIT_STARTED) {
            mp_unit_started_msg_t started;
            mp_unit_started_msg_view (msg, &started);
            mp_agent_run_t *run = mp_agentd_find_run (self, started.run);
            if (started.pid != peer.id || (pid_t) started.pid <= 0 || !run || run->ended
                || run->zygote <= 0 || s_parent_of ((pid_t) started.pid) != run->zygote)
                return "not a new child of the zygote of a live run";
            who.run = run->id;
        }
        else
            return "a unit process that has not announced itself";
    }
    return mp_msg_authorise (msg, &who, err, errlen) == MP_OK ? NULL : err;
}

//  A message from a local peer: checked, noted, then relayed verbatim.
int mp_agentd_on_local (zloop_t *loop, zsock_t *reader, void *arg)
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
    char why[256];
    const char *refusal = !msg ? err
                          : !route || !zframe_streq (route, mp_msg_from (msg))
                              ? "sender does not match its connection"
                              : s_refuse_local (self, msg, why, sizeof why);
    if (refusal) {
        self->dropped++;
        mp_warn ("dropped %s from local peer %s: %s",
                 msg ? mp_msg_name (mp_msg_type (msg)) : "a message",
                 msg ? mp_msg_from (msg) : "?", refusal);
    }
    else {
        int type = mp_msg_type (msg);
        if (type == MP_MSG_UNIT_STARTED) {
            mp_unit_started_msg_t started;
            mp_unit_started_msg_view (msg, &started);
            mp_agent_proc_t *proc = (mp_agent_proc_t *) calloc (1, sizeof *proc);
            if (proc) {
                proc->pid = (pid_t) started.pid;
                proc->run = started.run;
                proc->unit = started.unit;
                if (!zlistx_add_end (self->procs, proc))
                    free (proc);
            }
        }
        else if (type == MP_MSG_UNIT_EXIT) {
            mp_unit_exit_msg_t ended;
            mp_unit_exit_msg_view (msg, &ended);
            mp_agentd_forget_proc (self, (pid_t) ended.pid);
        }
        if (zmsg_send (&zmsg, self->coord) != 0)
            mp_warn ("cannot relay %s to the coordinator", mp_msg_name (type));
    }
    mp_msg_destroy (&msg);
    zframe_destroy (&route);
    zmsg_destroy (&zmsg);
    return 0;
}
