//  What a daemon does with sequenced input: peer names parsed from the network, and
//  the replay window (mp_replay_check) fed sessions and sequence numbers in any order.
//
//  Input: one byte choosing the part, then
//    0: a peer name (NUL-terminated here): mp_peer_parse must accept exactly the names
//       the formatters write, and give back what they were made of;
//    1: records of (session byte, sequence byte, clock step byte): every message the
//       window accepts must have a number above every number it accepted before in
//       that session, and it must refuse every number not above them.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../../proto/peer.h"
#include "../../proto/replay.h"
#include "fuzzing.h"

static void s_peer_names (const uint8_t *data, size_t size)
{
    char name[64];
    size_t len = size < sizeof name - 1 ? size : sizeof name - 1;
    memcpy (name, data, len);
    name[len] = '\0';
    mp_peer_t peer;
    if (mp_peer_parse (name, &peer) != MP_OK)
        return;
    char again[MP_PEER_NAME_MAX];
    if (peer.role == MP_ROLE_ZYGOTE)
        mp_peer_zygote_name (peer.id, again);
    else
        mp_peer_unit_name (peer.id, again);
    FZ_CHECK (strcmp (again, name) == 0, "%s parsed and written again is %s", name, again);
}

static void s_window (const uint8_t *data, size_t size)
{
    const uint64_t forget_ms = 1000;
    mp_replay_t *replay = mp_replay_new (forget_ms);
    FZ_CHECK (replay != NULL, "no memory");
    uint64_t highest[256] = { 0 }, seen[256] = { 0 };
    int accepted[256] = { 0 }; //  some number of the session was accepted
    uint64_t now = 1;
    mp_msg_t *msg = mp_msg_new (MP_MSG_HEARTBEAT);
    for (size_t at = 0; at + 3 <= size; at += 3) {
        uint64_t session = data[at], seq = data[at + 1];
        now += data[at + 2] * 10u;
        mp_msg_set_sequence (msg, session, seq);
        int rc = mp_replay_check (replay, msg, now, NULL, 0);
        //  A session silent longer than forget_ms may have been forgotten: then
        //  anything may start it afresh.
        int known = accepted[session] && now - seen[session] <= forget_ms;
        if (session == 0)
            FZ_CHECK (rc == MP_OK, "unsequenced refused");
        else if (rc == MP_OK) {
            FZ_CHECK (!known || seq > highest[session], "accepted %llu after %llu",
                      (unsigned long long) seq, (unsigned long long) highest[session]);
            highest[session] = seq;
            seen[session] = now;
            accepted[session] = 1;
        }
        else
            FZ_CHECK (rc == MP_EREPLAY && accepted[session] && seq <= highest[session],
                      "refused %llu (rc %d) with highest %llu", (unsigned long long) seq, rc,
                      (unsigned long long) highest[session]);
        mp_replay_expire (replay, now);
    }
    mp_msg_destroy (&msg);
    mp_replay_destroy (&replay);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        s_window (data + 1, size - 1);
    else
        s_peer_names (data + 1, size - 1);
    return 0;
}
