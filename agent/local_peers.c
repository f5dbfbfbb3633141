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

//  What a local worker may send: its zygote speaks for its run's units, a unit
//  process reports and uses the sync service. Returns NULL when allowed, else why not.
static const char *s_refuse_local (mp_agentd_t *self, const mp_msg_t *msg)
{
    const char *from = mp_msg_from (msg);
    int type = mp_msg_type (msg);
    if (from[0] == 'z') {
        char *end;
        uint64_t id = strtoull (from + 1, &end, 10);
        mp_agent_run_t *run = mp_agentd_find_run (self, id);
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
            if ((uint64_t) pid != mp_msg_u64 (msg, 2) || pid <= 0
                || mp_agentd_find_proc (self, pid) || (parent != -1 && parent != run->zygote))
                return "a pid that is not a new child of the zygote";
        }
        return NULL;
    }
    if (from[0] == 'u')
        return type == MP_MSG_REPORT || mp_msg_is_sync_request (type)
                   ? NULL
                   : "a type a unit process may not send";
    return "an unknown kind of worker";
}

//  A message from a local worker: checked, noted, then relayed verbatim.
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
            mp_agentd_forget_proc (self, (pid_t) mp_msg_u64 (msg, 2));
        if (zmsg_send (&zmsg, self->coord) != 0)
            mp_warn ("cannot relay %s to the coordinator", mp_msg_name (type));
    }
    mp_msg_destroy (&msg);
    zframe_destroy (&route);
    zmsg_destroy (&zmsg);
    return 0;
}
