//  Peer names of zygotes and unit processes, and sync owners.
#include "peer.h"

#include <inttypes.h>
#include <openssl/rand.h>
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

#define MP_LINE_TOKEN 12 //  random bytes in a line name

int mp_peer_line_name (char *name)
{
    unsigned char token[MP_LINE_TOKEN];
    if (RAND_bytes (token, sizeof token) != 1)
        return MP_EIO;
    name[0] = 'l';
    for (size_t i = 0; i < sizeof token; i++)
        snprintf (name + 1 + 2 * i, 3, "%02x", token[i]);
    return MP_OK;
}

int mp_peer_is_line (const char *name)
{
    if (!name || name[0] != 'l')
        return 0;
    for (size_t i = 1; i <= 2 * MP_LINE_TOKEN; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return 0;
    return name[1 + 2 * MP_LINE_TOKEN] == '\0';
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
