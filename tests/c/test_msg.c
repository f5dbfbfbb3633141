//  The in-memory message: catalogue, builders, readers, dup, misuse.
#include "../../common/error.h"
#include "../../proto/events.h"
#include "../../proto/msg.h"
#include "../../proto/peer.h"
#include "testing.h"

static void test_catalogue (void)
{
    ASSERT_NULL (mp_msg_schema (0));
    ASSERT_NULL (mp_msg_schema (-1));
    ASSERT_NULL (mp_msg_schema (MP_MSG_TYPE_MAX));
    ASSERT_NULL (mp_msg_name (MP_MSG_TYPE_MAX));
    ASSERT_STREQ (mp_msg_schema (MP_MSG_UNIT), "uusSu");
    ASSERT_STREQ (mp_msg_name (MP_MSG_UNIT), "UNIT");
    ASSERT_STREQ (mp_msg_schema (MP_MSG_HEARTBEAT), "");
    for (int type = 1; type < MP_MSG_TYPE_MAX; type++) {
        ASSERT_NOT_NULL (mp_msg_schema (type));
        ASSERT_NOT_NULL (mp_msg_name (type));
    }
    ASSERT_NULL (mp_msg_new (0));
    ASSERT_NULL (mp_msg_new (MP_MSG_TYPE_MAX));
}

static void test_header (void)
{
    mp_msg_t *msg = mp_msg_new (MP_MSG_HEARTBEAT);
    ASSERT_NOT_NULL (msg);
    ASSERT_EQ (mp_msg_type (msg), MP_MSG_HEARTBEAT);
    ASSERT_TRUE (mp_msg_complete (msg));
    ASSERT_STREQ (mp_msg_from (msg), "");
    ASSERT_STREQ (mp_msg_to (msg), "");
    ASSERT_EQ (mp_msg_reqid (msg), 0);
    ASSERT_EQ (mp_msg_ts (msg), 0);
    mp_msg_set_reqid (msg, 42);
    mp_msg_set_ts (msg, 1234567);
    ASSERT_EQ (mp_msg_set_from (msg, "agent-1"), 0);
    ASSERT_EQ (mp_msg_set_from (msg, "agent-2"), 0); //  replaces without leaking
    ASSERT_EQ (mp_msg_set_to (msg, "coord"), 0);
    ASSERT_EQ (mp_msg_reqid (msg), 42);
    ASSERT_EQ (mp_msg_ts (msg), 1234567);
    ASSERT_STREQ (mp_msg_from (msg), "agent-2");
    ASSERT_STREQ (mp_msg_to (msg), "coord");
    ASSERT_EQ (mp_msg_set_to (msg, NULL), 0);
    ASSERT_STREQ (mp_msg_to (msg), "");
    ASSERT_EQ (mp_msg_add_u64 (msg, 1), MP_EINVAL); //  no fields at all
    ASSERT_EQ (mp_msg_add_list (msg), MP_EINVAL);
    mp_msg_destroy (&msg);
    ASSERT_NULL (msg);
    mp_msg_destroy (&msg); //  safe twice
    mp_msg_destroy (NULL);
}

static void test_build_and_read (void)
{
    //  REPORT: run, unit, kind, test id, data
    mp_msg_t *msg = mp_msg_new (MP_MSG_REPORT);
    ASSERT_EQ (mp_msg_add_str (msg, "x"), MP_EINVAL); //  wants 'u' first
    ASSERT_EQ (mp_msg_add_u64 (msg, 7), 0);
    ASSERT_EQ (mp_msg_add_i64 (msg, 8), MP_EINVAL);
    ASSERT_EQ (mp_msg_add_u64 (msg, UINT64_MAX), 0);
    ASSERT_EQ (mp_msg_add_str (msg, NULL), MP_EINVAL);
    ASSERT_EQ (mp_msg_add_str (msg, "call"), 0);
    ASSERT_EQ (mp_msg_push_str (msg, "no list"), MP_EINVAL);
    ASSERT_EQ (mp_msg_add_str (msg, "t.py::test_a"), 0);
    ASSERT_TRUE (!mp_msg_complete (msg));
    ASSERT_EQ (mp_msg_nfields (msg), 4);
    uint8_t data[5] = { 0, 1, 2, 0, 255 };
    ASSERT_EQ (mp_msg_add_bin (msg, data, sizeof data), 0);
    ASSERT_TRUE (mp_msg_complete (msg));
    ASSERT_EQ (mp_msg_add_u64 (msg, 1), MP_EINVAL); //  body complete
    ASSERT_EQ (mp_msg_add_bin (msg, data, 1), MP_EINVAL);

    ASSERT_EQ (mp_msg_u64 (msg, 0), 7);
    ASSERT_TRUE (mp_msg_u64 (msg, 1) == UINT64_MAX);
    ASSERT_STREQ (mp_msg_str (msg, 2), "call");
    ASSERT_STREQ (mp_msg_str (msg, 3), "t.py::test_a");
    size_t len = 99;
    const uint8_t *got = mp_msg_bin (msg, 4, &len);
    ASSERT_EQ (len, 5);
    ASSERT_TRUE (memcmp (got, data, 5) == 0);

    //  Wrong index or type: 0 / NULL, never a crash.
    ASSERT_EQ (mp_msg_u64 (msg, 2), 0);
    ASSERT_EQ (mp_msg_u64 (msg, 99), 0);
    ASSERT_EQ (mp_msg_i64 (msg, 0), 0);
    ASSERT_NULL (mp_msg_str (msg, 0));
    ASSERT_NULL (mp_msg_str (msg, 5));
    len = 99;
    ASSERT_NULL (mp_msg_bin (msg, 2, &len));
    ASSERT_EQ (len, 0);
    ASSERT_NULL (mp_msg_bin (msg, 2, NULL));
    ASSERT_EQ (mp_msg_count (msg, 0), 0);
    ASSERT_EQ (mp_msg_count (msg, 100), 0);
    ASSERT_NULL (mp_msg_str_at (msg, 2, 0));
    ASSERT_NULL (mp_msg_bin_at (msg, 4, 0, &len));
    ASSERT_EQ (mp_msg_u64_at (msg, 0, 0), 0);
    mp_msg_destroy (&msg);

    //  NULL messages are safe too.
    ASSERT_EQ (mp_msg_type (NULL), 0);
    ASSERT_EQ (mp_msg_u64 (NULL, 0), 0);
    ASSERT_NULL (mp_msg_str (NULL, 0));
    ASSERT_NULL (mp_msg_str_at (NULL, 0, 0));
    ASSERT_EQ (mp_msg_nfields (NULL), 0);
    ASSERT_EQ (mp_msg_complete (NULL), 0);
    ASSERT_EQ (mp_msg_add_u64 (NULL, 1), MP_EINVAL);
    ASSERT_EQ (mp_msg_push_u64 (NULL, 1), MP_EINVAL);
    ASSERT_NULL (mp_msg_dup (NULL));
}

static void test_lists (void)
{
    //  EVENTS: first seq, kinds, test ids, units, data
    mp_msg_t *msg = mp_msg_new (MP_MSG_EVENTS);
    ASSERT_EQ (mp_msg_add_list (msg), MP_EINVAL); //  field 0 is 'u'
    ASSERT_EQ (mp_msg_add_u64 (msg, 100), 0);
    ASSERT_EQ (mp_msg_push_str (msg, "x"), MP_EINVAL); //  last field is not a list
    ASSERT_EQ (mp_msg_add_list (msg), 0);
    for (int i = 0; i < 1000; i++) {
        char text[32];
        snprintf (text, sizeof text, "kind-%d", i);
        ASSERT_EQ (mp_msg_push_str (msg, text), 0);
    }
    ASSERT_EQ (mp_msg_push_bin (msg, "x", 1), MP_EINVAL); //  a list of strings
    ASSERT_EQ (mp_msg_push_u64 (msg, 1), MP_EINVAL);
    ASSERT_EQ (mp_msg_add_list (msg), 0); //  empty list of test ids
    ASSERT_EQ (mp_msg_add_list (msg), 0);
    ASSERT_EQ (mp_msg_push_u64 (msg, 0), 0);
    ASSERT_EQ (mp_msg_push_u64 (msg, UINT64_MAX), 0);
    ASSERT_EQ (mp_msg_push_str (msg, "x"), MP_EINVAL);
    ASSERT_EQ (mp_msg_add_list (msg), 0);
    ASSERT_EQ (mp_msg_push_bin (msg, "", 0), 0);
    ASSERT_EQ (mp_msg_push_bin (msg, "a\0b", 3), 0);
    ASSERT_EQ (mp_msg_push_bin (msg, NULL, 0), 0);
    ASSERT_EQ (mp_msg_push_bin (msg, NULL, 3), MP_EINVAL);
    ASSERT_TRUE (mp_msg_complete (msg));
    ASSERT_EQ (mp_msg_add_list (msg), MP_EINVAL);

    ASSERT_EQ (mp_msg_count (msg, 1), 1000);
    ASSERT_STREQ (mp_msg_str_at (msg, 1, 0), "kind-0");
    ASSERT_STREQ (mp_msg_str_at (msg, 1, 999), "kind-999");
    ASSERT_NULL (mp_msg_str_at (msg, 1, 1000));
    ASSERT_EQ (mp_msg_count (msg, 2), 0);
    ASSERT_NULL (mp_msg_str_at (msg, 2, 0));
    ASSERT_EQ (mp_msg_count (msg, 3), 2);
    ASSERT_TRUE (mp_msg_u64_at (msg, 3, 1) == UINT64_MAX);
    ASSERT_EQ (mp_msg_u64_at (msg, 3, 2), 0);
    ASSERT_EQ (mp_msg_count (msg, 4), 3);
    size_t len = 9;
    ASSERT_NOT_NULL (mp_msg_bin_at (msg, 4, 0, &len));
    ASSERT_EQ (len, 0);
    const char *b = mp_msg_bin_at (msg, 4, 1, &len);
    ASSERT_EQ (len, 3);
    ASSERT_TRUE (memcmp (b, "a\0b", 3) == 0);
    ASSERT_NULL (mp_msg_bin_at (msg, 4, 3, &len));
    ASSERT_EQ (len, 0);
    ASSERT_NULL (mp_msg_bin_at (msg, 3, 0, NULL));

    mp_msg_t *copy = mp_msg_dup (msg);
    mp_msg_destroy (&msg);
    ASSERT_NOT_NULL (copy);
    ASSERT_EQ (mp_msg_type (copy), MP_MSG_EVENTS);
    ASSERT_TRUE (mp_msg_complete (copy));
    ASSERT_EQ (mp_msg_u64 (copy, 0), 100);
    ASSERT_EQ (mp_msg_count (copy, 1), 1000);
    ASSERT_STREQ (mp_msg_str_at (copy, 1, 500), "kind-500");
    ASSERT_TRUE (mp_msg_u64_at (copy, 3, 1) == UINT64_MAX);
    b = mp_msg_bin_at (copy, 4, 1, &len);
    ASSERT_EQ (len, 3);
    ASSERT_TRUE (memcmp (b, "a\0b", 3) == 0);
    mp_msg_destroy (&copy);
}

static void test_dup (void)
{
    mp_msg_t *msg = mp_msg_new (MP_MSG_UNIT_EXIT);
    mp_msg_set_reqid (msg, 5);
    mp_msg_set_ts (msg, 77);
    mp_msg_set_from (msg, "z");
    ASSERT_EQ (mp_msg_add_u64 (msg, 1), 0);
    ASSERT_EQ (mp_msg_add_u64 (msg, 2), 0);
    //  A partial message copies as partial.
    mp_msg_t *copy = mp_msg_dup (msg);
    ASSERT_EQ (mp_msg_nfields (copy), 2);
    ASSERT_EQ (mp_msg_add_u64 (copy, 3), 0);
    ASSERT_EQ (mp_msg_add_i64 (copy, -9), 0);
    ASSERT_TRUE (mp_msg_complete (copy));
    ASSERT_EQ (mp_msg_i64 (copy, 3), -9);
    ASSERT_EQ (mp_msg_reqid (copy), 5);
    ASSERT_EQ (mp_msg_ts (copy), 77);
    ASSERT_STREQ (mp_msg_from (copy), "z");
    ASSERT_STREQ (mp_msg_to (copy), "");
    ASSERT_EQ (mp_msg_nfields (msg), 2);
    mp_msg_destroy (&msg);
    mp_msg_destroy (&copy);
}

//  Exactly the board, lock and trail requests are for the sync service.
static void test_sync_requests (void)
{
    size_t count = 0;
    for (int type = 0; type <= MP_MSG_TYPE_MAX; type++) {
        const char *name = mp_msg_name (type);
        int expected = name
                       && (strncmp (name, "BOARD_", 6) == 0 || strncmp (name, "LOCK_", 5) == 0
                           || strcmp (name, "TRAIL") == 0);
        ASSERT_EQ (mp_msg_is_sync_request (type), expected);
        count += (size_t) expected;
    }
    ASSERT_EQ (count, 9);
}

//  The catalogue's scope contract, which the authorisation reads by position.
static void test_scoped_messages_name_run_then_unit (void)
{
    for (int type = 1; type < MP_MSG_TYPE_MAX; type++) {
        const mp_msg_spec_t *spec = mp_msg_spec (type);
        if (!spec)
            continue;
        ASSERT_EQ (strlen (spec->schema), spec->nfields);
        ASSERT_TRUE (spec->senders != 0);
        if (spec->scope != MP_SCOPE_NONE) {
            ASSERT_STREQ (spec->fields[0], "run");
            ASSERT_EQ (spec->schema[0], 'u');
        }
        if (spec->scope == MP_SCOPE_UNIT) {
            ASSERT_STREQ (spec->fields[1], "unit");
            ASSERT_EQ (spec->schema[1], 'u');
        }
    }
}

static void test_pack_and_view_by_name (void)
{
    const char *tests[] = { "a.py::t1", "a.py::t2" };
    mp_msg_t *msg = MP_PACK (unit, .run = 7, .unit = 3, .group = "G", .tests = { tests, 2 });
    ASSERT_NOT_NULL (msg);
    ASSERT_TRUE (mp_msg_complete (msg));
    mp_unit_msg_t unit;
    ASSERT_EQ (mp_unit_msg_view (msg, &unit), MP_OK);
    ASSERT_EQ (unit.run, 7);
    ASSERT_EQ (unit.unit, 3);
    ASSERT_STREQ (unit.group, "G");
    ASSERT_EQ (unit.tests.count, 2);
    ASSERT_STREQ (unit.tests.items[1], "a.py::t2");
    //  UNIT is the coordinator's and touches no run of a sender's: it names none.
    ASSERT_EQ (mp_msg_run (msg), 0);
    //  A view of another type is refused.
    mp_kill_msg_t kill;
    ASSERT_EQ (mp_kill_msg_view (msg, &kill), MP_EINVAL);
    mp_msg_destroy (&msg);

    mp_bytes_t data[] = { { "x", 1 }, { "", 0 } };
    const char *kinds[] = { "logstart", "done" }, *ids[] = { "t", "" };
    uint64_t units[] = { 1, 0 };
    msg = MP_PACK (events, .first = 5, .kinds = { kinds, 2 }, .tests = { ids, 2 },
                   .units = { units, 2 }, .data = { data, 2 });
    mp_events_msg_t events;
    ASSERT_EQ (mp_events_msg_view (msg, &events), MP_OK);
    ASSERT_EQ (events.first, 5);
    ASSERT_STREQ (events.kinds.items[1], "done");
    ASSERT_EQ (events.units.items[0], 1);
    ASSERT_EQ (events.data.items[0].len, 1);
    ASSERT_EQ (memcmp (events.data.items[0].data, "x", 1), 0);
    size_t len;
    ASSERT_NULL (mp_msg_bytes_named (msg, "key", &len));
    mp_msg_destroy (&msg);

    msg = MP_PACK (board_set, .run = 1, .key = { "k", 1 }, .value = { "vv", 2 });
    ASSERT_EQ (memcmp (mp_msg_bytes_named (msg, "value", &len), "vv", 2), 0);
    ASSERT_EQ (len, 2);
    ASSERT_NULL (mp_msg_str_named (msg, "name"));
    mp_msg_destroy (&msg);
}

static void test_authorise_applies_senders_and_scope (void)
{
    mp_msg_t *report = MP_PACK (report, .run = 4, .unit = 2, .kind = "logstart", .test = "t",
                                .data = { "", 0 });
    char err[256];
    mp_principal_t unit = { .role = MP_ROLE_UNIT, .run_bound = 1, .run = 4,
                            .unit_bound = 1, .unit = 2 };
    ASSERT_EQ (mp_msg_authorise (report, &unit, err, sizeof err), MP_OK);
    ASSERT_EQ (mp_msg_run (report), 4);
    ASSERT_EQ (mp_msg_unit (report), 2);
    mp_principal_t other_unit = unit;
    other_unit.unit = 3;
    ASSERT_EQ (mp_msg_authorise (report, &other_unit, err, sizeof err), MP_EAUTH);
    mp_principal_t other_run = unit;
    other_run.run = 5;
    ASSERT_EQ (mp_msg_authorise (report, &other_run, err, sizeof err), MP_EAUTH);
    ASSERT_STRSTR (err, "run 4");
    mp_principal_t front = { .role = MP_ROLE_FRONT, .run_bound = 1, .run = 4 };
    ASSERT_EQ (mp_msg_authorise (report, &front, err, sizeof err), MP_EAUTH);
    ASSERT_STRSTR (err, "front end may not send REPORT");
    mp_msg_destroy (&report);
}

static void test_event_kinds_and_peer_names (void)
{
    ASSERT_EQ (mp_event_parse ("logfinish"), MP_EVENT_LOGFINISH);
    ASSERT_EQ (mp_event_parse ("nonsense"), MP_EVENT_NONE);
    ASSERT_EQ (mp_event_reporter (MP_EVENT_LOGSTART), MP_ROLE_UNIT);
    ASSERT_EQ (mp_event_reporter (MP_EVENT_DONE), MP_ROLE_COORD);
    char name[MP_PEER_NAME_MAX];
    mp_peer_t peer;
    mp_peer_unit_name (1234, name);
    ASSERT_STREQ (name, "u1234");
    ASSERT_EQ (mp_peer_parse (name, &peer), MP_OK);
    ASSERT_EQ (peer.role, MP_ROLE_UNIT);
    ASSERT_EQ (peer.id, 1234);
    mp_peer_zygote_name (18446744073709551615ULL, name);
    ASSERT_EQ (mp_peer_parse (name, &peer), MP_OK);
    ASSERT_EQ (peer.role, MP_ROLE_ZYGOTE);
    ASSERT_TRUE (peer.id == 18446744073709551615ULL);
    const char *bad[] = { "z", "u01", "u-1", "u12x", "z18446744073709551616", "agent", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ (mp_peer_parse (bad[i], &peer), MP_EINVAL);
}

static const mp_test_t tests[] = {
    MP_TEST (test_catalogue),
    MP_TEST (test_header),
    MP_TEST (test_build_and_read),
    MP_TEST (test_lists),
    MP_TEST (test_dup),
    MP_TEST (test_sync_requests),
    MP_TEST (test_scoped_messages_name_run_then_unit),
    MP_TEST (test_pack_and_view_by_name),
    MP_TEST (test_authorise_applies_senders_and_scope),
    MP_TEST (test_event_kinds_and_peer_names),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
