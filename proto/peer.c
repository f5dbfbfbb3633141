//  Peer names of zygotes and unit processes, and sync owners.
#include "peer.h"

#include <inttypes.h>
#include <stdio.h>

#include "../common/error.h"
#include "catalogue.h"

void mp_peer_zygote_name (uint64_t run, char *name)
{
    snprintf (name, MP_PEER_NAME_MAX, "z%" PRIu64, run);
}

void mp_peer_unit_name (uint64_t pid, char *name)
{
    snprintf (name, MP_PEER_NAME_MAX, "u%" PRIu64, pid);
}

int mp_peer_parse (const char *name, mp_peer_t *peer)
{
    if (!name || (name[0] != 'z' && name[0] != 'u'))
        return MP_EINVAL;
    const char *digit = name + 1;
    //  One spelling per id: the one the formatters write.
    if (*digit < '0' || *digit > '9' || (digit[0] == '0' && digit[1]))
        return MP_EINVAL;
    uint64_t id = 0;
    for (; *digit; digit++) {
        uint64_t d = (uint64_t) (*digit - '0');
        if (*digit < '0' || *digit > '9' || id > (UINT64_MAX - d) / 10)
            return MP_EINVAL;
        id = id * 10 + d;
    }
    peer->role = name[0] == 'z' ? MP_ROLE_ZYGOTE : MP_ROLE_UNIT;
    peer->id = id;
    return MP_OK;
}

void mp_peer_owner (const char *agent_key, const char *peer_name, char *owner)
{
    snprintf (owner, MP_PEER_OWNER_MAX, "%s/%s", agent_key, peer_name);
}
