//  Peer names: who a message says it is from. The agent's local peers name
//  themselves by role and id, and their connection's routing id is that name:
//    z<run>   the zygote of a run
//    u<pid>   a unit process
//  Anything else on an agent's connection is the agent itself, whose name may not
//  look like either. A unit process that opened its line (LINE_OPEN) sends its sync
//  requests straight to the coordinator on a connection of its own, named
//    l<24 hex digits>   random, drawn by the process, bound to it by LINE_OPEN The coordinator names a local peer of an agent across the run's
//  sync service (lock holders, trail starters) as "<agent key>/<peer name>".
#ifndef MP_PEER_H
#define MP_PEER_H

#include <stddef.h>
#include <stdint.h>

#define MP_PEER_NAME_MAX 32   //  "z" or "u" and a uint64, with room to spare
#define MP_PEER_OWNER_MAX 160 //  "<agent key>/<peer name>"

typedef struct {
    unsigned role; //  MP_ROLE_ZYGOTE or MP_ROLE_UNIT
    uint64_t id;   //  the run (zygote) or the pid (unit process)
} mp_peer_t;

//  Writes the name of a zygote or unit process into name (MP_PEER_NAME_MAX bytes).
void mp_peer_zygote_name (uint64_t run, char *name);
void mp_peer_unit_name (uint64_t pid, char *name);
//  Parses a local peer's name. MP_OK, or MP_EINVAL when it is not one (an agent's
//  name, or a malformed one: no sign, no leading zeros, no overflow, nothing after).
int mp_peer_parse (const char *name, mp_peer_t *peer);
//  Writes a fresh line name, drawn at random, into name (MP_PEER_NAME_MAX bytes).
//  MP_OK, or MP_EIO when no randomness is to be had.
int mp_peer_line_name (char *name);
//  1 when name is spelt as a line name (whether or not any line has it).
int mp_peer_is_line (const char *name);
//  Writes "<agent key>/<peer name>" into owner (MP_PEER_OWNER_MAX bytes).
void mp_peer_owner (const char *agent_key, const char *peer_name, char *owner);

#endif
