//  Messages from local peers (zygotes, unit processes): who may send what, then relayed.
#include "agent_private.h"

//  What a local peer may send: the catalogue decides, once the peer is bound to what
//  it is. A zygote names itself by its run, which must be live; a unit process is
//  bound to its run and unit by its announcement, which the agent checks against
//  /proc: the pid must be its own, a new child of that run's zygote. MP_OK when
//  allowed, else MP_EAUTH with why not in err.
static int s_check_local (mp_agentd_t *self, mp_msg_t *msg, char *err, size_t errlen)
{
    const char *refusal = NULL;
    mp_peer_t peer;
    if (mp_peer_parse (mp_msg_from (msg), &peer) != MP_OK) {
        refusal = "not a zygote or a unit process";
        goto refuse;
    }
    mp_principal_t who = { .role = peer.role, .run_bound = 1 };
    if (peer.role == MP_ROLE_ZYGOTE) {
        mp_agent_run_t *run = mp_agentd_find_run (self, peer.id);
        if (!run || run->ended || run->zygote <= 0) {
            refusal = "not the zygote of a live run";
            goto refuse;
        }
        who.run = run->id;
    }
    else {
        mp_agent_proc_t *proc = mp_agentd_find_proc (self, (pid_t) peer.id);
        if (proc) {
            who.run = proc->run;
            who.unit_bound = 1;
            who.unit = proc->unit;
            if (mp_msg_type (msg) == MP_MSG_UNIT_STARTED) {
                refusal = "a unit process announces itself once";
                goto refuse;
            }
        }
        else if (mp_msg_type (msg) == MP_MSG_UNIT_STARTED) {
            mp_unit_started_msg_t started;
            mp_unit_started_msg_view (msg, &started);
            mp_agent_run_t *run = mp_agentd_find_run (self, started.run);
            pid_t parent;
            if (started.pid != peer.id || (pid_t) started.pid <= 0 || !run || run->ended
                || run->zygote <= 0 || mp_agentd_parent_of ((pid_t) started.pid, &parent) != MP_OK
                || parent != run->zygote) {
                refusal = "not a new child of the zygote of a live run";
                goto refuse;
            }
            who.run = run->id;
        }
        else {
            refusal = "a unit process that has not announced itself";
            goto refuse;
        }
    }
    return mp_msg_authorise (msg, &who, err, errlen);
refuse:
    mp_set_error (err, errlen, "%s", refusal);
    return MP_EAUTH;
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
    mp_msg_t *msg = NULL;
    int rc = route ? mp_wire_receive (zmsg, &self->config.key, self->replay, &msg, err,
                                      sizeof err)
                   : MP_EPROTO;
    //  The sender named in the message must be its connection, byte for byte.
    if (rc == MP_OK && !zframe_streq (route, mp_msg_from (msg))) {
        mp_set_error (err, sizeof err, "sender does not match its connection");
        rc = MP_EAUTH;
    }
    if (rc == MP_OK)
        rc = s_check_local (self, msg, err, sizeof err);
    if (rc != MP_OK) {
        self->dropped++;
        mp_warn_limited ("dropped %s from local peer %s: %s",
                 msg ? mp_msg_name (mp_msg_type (msg)) : "a message",
                 msg ? mp_msg_from (msg) : "?", err);
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
        else if (type == MP_MSG_UNIT_DONE) {
            //  Its unit is over: a reused process announces its next one afresh, any
            //  other exits.
            mp_unit_done_msg_t done;
            mp_unit_done_msg_view (msg, &done);
            mp_peer_t peer;
            if (mp_peer_parse (mp_msg_from (msg), &peer) == MP_OK && done.pid == peer.id)
                mp_agentd_forget_proc (self, (pid_t) done.pid);
        }
        if (zmsg_send (&zmsg, self->coord) != 0)
            mp_warn ("cannot relay %s to the coordinator", mp_msg_name (type));
    }
    mp_msg_destroy (&msg);
    zframe_destroy (&route);
    zmsg_destroy (&zmsg);
    return 0;
}
