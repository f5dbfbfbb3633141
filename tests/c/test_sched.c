//  The unit queue: order and the isolation barrier.
#include "common/error.h"
#include "coordinator/sched.h"
#include "tests/c/testing.h"

#define FREE MP_STRATEGY_FREE
#define SERIAL MP_STRATEGY_SERIAL
#define ISO_FREE MP_STRATEGY_ISOLATED_FREE
#define ISO_SERIAL MP_STRATEGY_ISOLATED_SERIAL

//  The unit that starts now, or -1 when none may.
static long long
s_next (mp_sched_t *sched, size_t busy)
{
    uint64_t unit = 999999;
    int rc = mp_sched_next (sched, busy, &unit);
    if (rc == 0) {
        ASSERT_EQ (unit, 999999); //  untouched when nothing starts
        return -1;
    }
    ASSERT_EQ (rc, 1);
    return (long long) unit;
}

static void
test_strategy_names (void)
{
    int strategy = -99;
    ASSERT_EQ (mp_strategy_parse ("free", &strategy), MP_OK);
    ASSERT_EQ (strategy, FREE);
    ASSERT_EQ (mp_strategy_parse ("serial", &strategy), MP_OK);
    ASSERT_EQ (strategy, SERIAL);
    ASSERT_EQ (mp_strategy_parse ("isolated_free", &strategy), MP_OK);
    ASSERT_EQ (strategy, ISO_FREE);
    ASSERT_EQ (mp_strategy_parse ("isolated_serial", &strategy), MP_OK);
    ASSERT_EQ (strategy, ISO_SERIAL);
    //  unknown names fail and leave the out-parameter alone
    ASSERT_EQ (mp_strategy_parse ("Free", &strategy), MP_EINVAL);
    ASSERT_EQ (mp_strategy_parse ("", &strategy), MP_EINVAL);
    ASSERT_EQ (mp_strategy_parse (NULL, &strategy), MP_EINVAL);
    ASSERT_EQ (strategy, ISO_SERIAL);
    ASSERT_STREQ (mp_strategy_name (ISO_SERIAL), "isolated_serial");
    ASSERT_STREQ (mp_strategy_name (FREE), "free");
    ASSERT_NULL (mp_strategy_name (4));
    ASSERT_NULL (mp_strategy_name (-1));
}

static void
test_add_errors (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_NOT_NULL (s);
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), MP_EINVAL); //  duplicate id
    ASSERT_EQ (mp_sched_add (s, 2, "g", 4, 1), MP_EINVAL);  //  bad strategy
    ASSERT_EQ (mp_sched_add (s, 3, "g", -1, 1), MP_EINVAL);
    ASSERT_EQ (mp_sched_add (s, 4, "iso", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 5, "iso", FREE, 1), MP_EINVAL); //  group is isolated
    ASSERT_EQ (mp_sched_add (s, 6, "iso", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_queued (s), 3);
    mp_sched_seal (s);
    ASSERT_EQ (mp_sched_add (s, 7, "", FREE, 1), MP_ESTATE); //  sealed
    ASSERT_EQ (mp_sched_queued (s), 3);
    ASSERT_EQ (mp_sched_finish (s, 1), MP_ESTATE);          //  queued, not running
    ASSERT_EQ (mp_sched_requeue (s, 1), MP_ESTATE);
    ASSERT_EQ (mp_sched_finish (s, 42), MP_ENOENT);         //  unknown
    mp_sched_destroy (&s);
    ASSERT_NULL (s);
    mp_sched_destroy (&s);
}

static void
test_empty (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_TRUE (mp_sched_done (s));
    ASSERT_EQ (s_next (s, 0), -1);
    ASSERT_EQ (mp_sched_cancel (s), 0);
    mp_sched_destroy (&s);
}

static void
test_free_units_start_while_busy (void)
{
    mp_sched_t *s = mp_sched_new ();
    for (uint64_t u = 1; u <= 3; u++)
        ASSERT_EQ (mp_sched_add (s, u, "", FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 7), 1);
    ASSERT_EQ (s_next (s, 8), 2);
    ASSERT_EQ (s_next (s, 9), 3);
    ASSERT_EQ (s_next (s, 0), -1);
    ASSERT_EQ (mp_sched_running (s), 3);
    ASSERT_EQ (mp_sched_queued (s), 0);
    ASSERT_TRUE (!mp_sched_done (s));
    ASSERT_EQ (mp_sched_finish (s, 2), 0);
    ASSERT_EQ (mp_sched_finish (s, 2), MP_ESTATE);  //  not running any more
    ASSERT_EQ (mp_sched_finish (s, 1), 0);
    ASSERT_EQ (mp_sched_finish (s, 3), 0);
    ASSERT_TRUE (mp_sched_done (s));
    mp_sched_destroy (&s);
}

static void
test_big_serial_group_first (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "a", SERIAL, 3), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 4, "b", SERIAL, 5), 0);
    ASSERT_EQ (mp_sched_add (s, 5, "c", SERIAL, 3), 0);
    ASSERT_EQ (mp_sched_add (s, 6, "d", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 7, "e", SERIAL, 1), 0);
    mp_sched_seal (s);
    long long want[] = {4, 2, 5, 1, 3, 6, 7};
    for (size_t i = 0; i < 7; i++)
        ASSERT_EQ (s_next (s, i), want[i]);
    ASSERT_EQ (s_next (s, 0), -1);
    mp_sched_destroy (&s);
}

static void
test_longest_expected_first (void)
{
    //  Known durations order the free units, longest first, before the test count;
    //  isolated groups stay first, in plan order, whatever their weight.
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "g", SERIAL, 3), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 4, "iso", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 5, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_weigh (s, 1, 100), MP_OK);
    ASSERT_EQ (mp_sched_weigh (s, 2, 200), MP_OK);
    ASSERT_EQ (mp_sched_weigh (s, 3, 5000), MP_OK);
    ASSERT_EQ (mp_sched_weigh (s, 4, 1), MP_OK);
    ASSERT_EQ (mp_sched_weigh (s, 5, 100), MP_OK);
    ASSERT_EQ (mp_sched_weigh (s, 42, 1), MP_ENOENT);
    mp_sched_seal (s);
    ASSERT_EQ (mp_sched_weigh (s, 1, 1), MP_ESTATE);
    ASSERT_EQ (s_next (s, 0), 4);
    ASSERT_EQ (mp_sched_finish (s, 4), MP_OK);
    uint64_t order[] = {3, 2, 1, 5};
    for (size_t i = 0; i < 4; i++)
        ASSERT_EQ (s_next (s, 0), order[i]);
    mp_sched_destroy (&s);
}

static void
test_plan_order_stable (void)
{
    //  ids deliberately out of numeric order: plan order is add order
    mp_sched_t *s = mp_sched_new ();
    uint64_t ids[] = {50, 10, 30, 20, 40, 0, 60, 5};
    for (size_t i = 0; i < 8; i++)
        ASSERT_EQ (mp_sched_add (s, ids[i], "", FREE, 1), 0);
    mp_sched_seal (s);
    for (size_t i = 0; i < 8; i++)
        ASSERT_EQ (s_next (s, 3), ids[i]);
    mp_sched_destroy (&s);

    //  many equal units: stability over a sort that actually recurses
    s = mp_sched_new ();
    for (uint64_t u = 0; u < 10000; u++)
        ASSERT_EQ (mp_sched_add (s, 20000 - u, "", FREE, u % 3 == 0 ? 2 : 1), 0);
    mp_sched_seal (s);
    //  the ntests == 2 ones (u % 3 == 0) first, each class in plan order
    for (uint64_t u = 0; u < 10000; u += 3)
        ASSERT_EQ (s_next (s, 1), 20000 - u);
    for (uint64_t u = 0; u < 10000; u++)
        if (u % 3)
            ASSERT_EQ (s_next (s, 1), 20000 - u);
    ASSERT_EQ (s_next (s, 0), -1);
    ASSERT_EQ (mp_sched_running (s), 10000);
    mp_sched_destroy (&s);
}

static void
test_isolated_free_barrier (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "iso", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "iso", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 4, "iso", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 5, "", FREE, 1), 0);
    mp_sched_seal (s);
    //  the isolated group comes first and waits for every slot to drain;
    //  nothing behind it starts meanwhile
    ASSERT_EQ (s_next (s, 1), -1);
    ASSERT_EQ (s_next (s, 3), -1);
    ASSERT_TRUE (!mp_sched_barrier (s));
    //  from busy == 0, all three start at once (4 slots free)
    ASSERT_EQ (s_next (s, 0), 2);
    ASSERT_TRUE (mp_sched_barrier (s));
    ASSERT_EQ (s_next (s, 1), 3);
    ASSERT_EQ (s_next (s, 2), 4);
    ASSERT_EQ (s_next (s, 3), -1);  //  a 4th slot is free, but the barrier holds
    ASSERT_EQ (mp_sched_finish (s, 2), 0);
    ASSERT_EQ (s_next (s, 2), -1);
    ASSERT_EQ (mp_sched_finish (s, 4), 0);
    ASSERT_EQ (s_next (s, 1), -1);
    ASSERT_EQ (mp_sched_finish (s, 3), 0);
    //  group over: free units start again, even while other runs are busy
    ASSERT_EQ (s_next (s, 5), 1);
    ASSERT_EQ (s_next (s, 6), 5);
    mp_sched_destroy (&s);
}

static void
test_isolated_free_more_units_than_slots (void)
{
    //  while active, the group's units start whatever busy says: the caller
    //  only asks when it has a free slot, and only the group can be running
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 9, "", FREE, 1), 0);
    for (uint64_t u = 1; u <= 4; u++)
        ASSERT_EQ (mp_sched_add (s, u, "iso", ISO_FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 0), 1);
    ASSERT_EQ (s_next (s, 1), 2);
    //  two slots only: wait for one to end
    ASSERT_EQ (mp_sched_finish (s, 1), 0);
    ASSERT_EQ (mp_sched_finish (s, 2), 0);
    //  nothing of the group runs, but two are queued: the barrier stays up, so
    //  no drain is needed (busy here would be the caller's own bookkeeping lag)
    ASSERT_TRUE (mp_sched_barrier (s));
    ASSERT_EQ (s_next (s, 1), 3);
    ASSERT_EQ (s_next (s, 1), 4);
    ASSERT_EQ (s_next (s, 2), -1);
    ASSERT_EQ (mp_sched_finish (s, 3), 0);
    ASSERT_TRUE (mp_sched_barrier (s));
    ASSERT_EQ (mp_sched_finish (s, 4), 0);
    ASSERT_TRUE (!mp_sched_barrier (s));
    ASSERT_EQ (s_next (s, 3), 9);
    mp_sched_destroy (&s);
}

static void
test_isolated_serial_waits_for_drain (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "db", ISO_SERIAL, 4), 0);
    ASSERT_EQ (mp_sched_add (s, 4, "", FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (mp_sched_queued (s), 4);
    ASSERT_EQ (s_next (s, 2), -1);  //  head is isolated: the queue drains
    ASSERT_EQ (s_next (s, 1), -1);
    ASSERT_EQ (s_next (s, 0), 3);
    ASSERT_EQ (s_next (s, 1), -1);  //  nothing else while it runs
    ASSERT_EQ (s_next (s, 1), -1);
    ASSERT_EQ (mp_sched_finish (s, 3), 0);
    ASSERT_EQ (s_next (s, 1), 1);
    ASSERT_EQ (s_next (s, 2), 2);
    ASSERT_EQ (s_next (s, 3), 4);
    mp_sched_destroy (&s);
}

static void
test_second_isolated_group_waits (void)
{
    //  two isolated groups, in plan order, each behind its own barrier
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "a", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "b", ISO_SERIAL, 2), 0);
    ASSERT_EQ (mp_sched_add (s, 4, "a", ISO_FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 0), 2);
    ASSERT_EQ (s_next (s, 1), 4);  //  group a kept together, before b
    ASSERT_EQ (s_next (s, 2), -1);
    ASSERT_EQ (mp_sched_finish (s, 2), 0);
    ASSERT_EQ (s_next (s, 1), -1);  //  a still runs: b may not start
    ASSERT_EQ (mp_sched_finish (s, 4), 0);
    ASSERT_EQ (s_next (s, 1), -1);  //  a is over, but a slot elsewhere is busy
    ASSERT_EQ (s_next (s, 0), 3);
    ASSERT_EQ (s_next (s, 1), -1);
    ASSERT_EQ (mp_sched_finish (s, 3), 0);
    ASSERT_EQ (s_next (s, 1), 1);
    ASSERT_TRUE (!mp_sched_done (s));
    ASSERT_EQ (mp_sched_finish (s, 1), 0);
    ASSERT_TRUE (mp_sched_done (s));
    mp_sched_destroy (&s);
}

static void
test_ungrouped_never_isolated (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", ISO_SERIAL, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "", FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 4), 1);
    ASSERT_EQ (s_next (s, 5), 2);
    mp_sched_destroy (&s);
}

static void
test_requeue_free (void)
{
    mp_sched_t *s = mp_sched_new ();
    for (uint64_t u = 1; u <= 3; u++)
        ASSERT_EQ (mp_sched_add (s, u, "", FREE, 1), 0);
    ASSERT_EQ (s_next (s, 0), 1);  //  next seals on its own
    ASSERT_EQ (s_next (s, 1), 2);
    ASSERT_EQ (mp_sched_requeue (s, 1), 0);
    ASSERT_EQ (mp_sched_requeue (s, 1), MP_ESTATE);  //  queued now, not running
    ASSERT_EQ (mp_sched_running (s), 1);
    ASSERT_EQ (mp_sched_queued (s), 2);
    ASSERT_EQ (mp_sched_requeue (s, 2), 0);
    //  last requeued is at the very front
    ASSERT_EQ (s_next (s, 0), 2);
    ASSERT_EQ (s_next (s, 1), 1);
    ASSERT_EQ (s_next (s, 2), 3);
    //  requeue everything, repeatedly: qhead walks back to the array's start
    for (int round = 0; round < 3; round++) {
        ASSERT_EQ (mp_sched_requeue (s, 3), 0);
        ASSERT_EQ (mp_sched_requeue (s, 1), 0);
        ASSERT_EQ (mp_sched_requeue (s, 2), 0);
        ASSERT_EQ (s_next (s, 0), 2);
        ASSERT_EQ (s_next (s, 0), 1);
        ASSERT_EQ (s_next (s, 0), 3);
    }
    for (uint64_t u = 1; u <= 3; u++)
        ASSERT_EQ (mp_sched_finish (s, u), 0);
    ASSERT_TRUE (mp_sched_done (s));
    mp_sched_destroy (&s);
}

static void
test_requeue_isolated (void)
{
    mp_sched_t *s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "g", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "g", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "", FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 0), 1);
    ASSERT_EQ (s_next (s, 1), 2);
    //  2 still runs: the barrier stays up and 1 goes again at once
    ASSERT_EQ (mp_sched_requeue (s, 1), 0);
    ASSERT_EQ (s_next (s, 1), 1);
    //  none of the group runs any more: it must wait for a drain again, and
    //  the free unit behind it stays put
    ASSERT_EQ (mp_sched_requeue (s, 1), 0);
    ASSERT_EQ (mp_sched_requeue (s, 2), 0);
    ASSERT_EQ (s_next (s, 1), -1);
    ASSERT_EQ (s_next (s, 0), 2);
    ASSERT_EQ (s_next (s, 1), 1);
    ASSERT_EQ (s_next (s, 2), -1);
    ASSERT_EQ (mp_sched_finish (s, 1), 0);
    ASSERT_EQ (mp_sched_finish (s, 2), 0);
    ASSERT_EQ (s_next (s, 2), 3);
    mp_sched_destroy (&s);

    //  a free unit requeued in front of a waiting isolated group starts at once
    s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "g", ISO_SERIAL, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 0), 2);
    ASSERT_EQ (mp_sched_finish (s, 2), 0);
    ASSERT_EQ (s_next (s, 0), 1);
    ASSERT_EQ (mp_sched_requeue (s, 1), 0);
    ASSERT_EQ (s_next (s, 3), 1);
    mp_sched_destroy (&s);
}

static void
test_cancel (void)
{
    mp_sched_t *s = mp_sched_new ();
    for (uint64_t u = 1; u <= 4; u++)
        ASSERT_EQ (mp_sched_add (s, u, "", FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 0), 1);
    ASSERT_EQ (mp_sched_cancel (s), 3);
    ASSERT_EQ (mp_sched_cancel (s), 0);
    ASSERT_EQ (mp_sched_queued (s), 0);
    ASSERT_EQ (mp_sched_running (s), 1);
    ASSERT_TRUE (!mp_sched_done (s));
    ASSERT_EQ (s_next (s, 0), -1);
    ASSERT_EQ (mp_sched_finish (s, 2), MP_ESTATE);//  dropped, never ran
    ASSERT_EQ (mp_sched_finish (s, 1), 0);
    ASSERT_TRUE (mp_sched_done (s));
    ASSERT_EQ (s_next (s, 0), -1);
    mp_sched_destroy (&s);

    //  cancel during a barrier: it stays up until the running unit ends
    s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "g", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "g", ISO_FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 3, "", FREE, 1), 0);
    mp_sched_seal (s);
    ASSERT_EQ (s_next (s, 0), 1);
    ASSERT_EQ (mp_sched_cancel (s), 2);
    ASSERT_EQ (mp_sched_requeue (s, 1), 0);
    ASSERT_EQ (mp_sched_queued (s), 1);
    ASSERT_EQ (s_next (s, 1), -1);  //  barrier must be earned again
    ASSERT_EQ (s_next (s, 0), 1);
    ASSERT_EQ (mp_sched_finish (s, 1), 0);
    ASSERT_TRUE (mp_sched_done (s));
    mp_sched_destroy (&s);

    //  cancel before seal drops everything added
    s = mp_sched_new ();
    ASSERT_EQ (mp_sched_add (s, 1, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_add (s, 2, "", FREE, 1), 0);
    ASSERT_EQ (mp_sched_cancel (s), 2);
    ASSERT_TRUE (mp_sched_done (s));
    ASSERT_EQ (s_next (s, 0), -1);
    mp_sched_destroy (&s);
}

static void
test_many_groups (void)
{
    //  many groups exercise the group index as it grows
    mp_sched_t *s = mp_sched_new ();
    char name[32];
    for (uint64_t u = 0; u < 3000; u++) {
        snprintf (name, sizeof name, "g%llu", (unsigned long long) (u % 1000));
        int strategy = (u % 1000) % 100 == 7 ? ISO_FREE : FREE;
        ASSERT_EQ (mp_sched_add (s, u, name, strategy, 1), 0);
    }
    mp_sched_seal (s);
    //  isolated groups g7, g107, ... g907, each with units u, u+1000, u+2000
    for (uint64_t g = 7; g < 1000; g += 100) {
        ASSERT_EQ (s_next (s, 1), -1);
        ASSERT_EQ (s_next (s, 0), g);
        ASSERT_EQ (s_next (s, 1), g + 1000);
        ASSERT_EQ (s_next (s, 2), g + 2000);
        ASSERT_EQ (s_next (s, 3), -1);
        for (uint64_t k = 0; k < 3; k++)
            ASSERT_EQ (mp_sched_finish (s, g + 1000 * k), 0);
    }
    size_t started = 0;
    uint64_t prev = 0, unit;
    while (mp_sched_next (s, 5, &unit) == 1) {
        ASSERT_TRUE (started == 0 || unit > prev);
        ASSERT_TRUE (unit % 100 != 7);
        prev = unit;
        started++;
    }
    ASSERT_EQ (started, 3000 - 30);
    mp_sched_destroy (&s);
}

static const mp_test_t tests[] = {
    MP_TEST (test_strategy_names),
    MP_TEST (test_add_errors),
    MP_TEST (test_empty),
    MP_TEST (test_free_units_start_while_busy),
    MP_TEST (test_big_serial_group_first),
    MP_TEST (test_plan_order_stable),
    MP_TEST (test_longest_expected_first),
    MP_TEST (test_isolated_free_barrier),
    MP_TEST (test_isolated_free_more_units_than_slots),
    MP_TEST (test_isolated_serial_waits_for_drain),
    MP_TEST (test_second_isolated_group_waits),
    MP_TEST (test_ungrouped_never_isolated),
    MP_TEST (test_requeue_free),
    MP_TEST (test_requeue_isolated),
    MP_TEST (test_cancel),
    MP_TEST (test_many_groups),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
