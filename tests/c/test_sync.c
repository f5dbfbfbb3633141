//  The sync service: board, FIFO locks, trails and owner_gone.
#include "common/error.h"
#include "coordinator/sync.h"
#include "tests/c/testing.h"

//  Grants seen by the callback, as "lock owner token" lines.
static char s_grants[4096];
static size_t s_ngrants;

static void
s_on_grant (void *arg, const char *lock, const char *owner, uint64_t token)
{
    ASSERT_TRUE (arg == (void *) s_grants);
    size_t len = strlen (s_grants);
    snprintf (s_grants + len, sizeof s_grants - len, "%s %s %llu;", lock, owner,
              (unsigned long long) token);
    s_ngrants++;
}

//  mp_sync_lock_acquire as a tri-state, for tables of expectations: 1 granted now,
//  0 queued, or the error code.
static int
s_acquire (mp_sync_t *sync, const char *name, const char *owner, uint64_t token, char *err,
           size_t errlen)
{
    int granted = -99;
    int rc = mp_sync_lock_acquire (sync, name, owner, token, &granted, err, errlen);
    if (rc != MP_OK)
        return rc;
    ASSERT_TRUE (granted == 0 || granted == 1);
    return granted;
}

//  mp_sync_trail likewise: 1 first start or last finish, 0 otherwise, or the error code.
static int
s_trail_rc (mp_sync_t *sync, const char *name, const char *state, const char *owner,
            char *err, size_t errlen)
{
    int first_or_last = -99;
    int rc = mp_sync_trail (sync, name, state, owner, &first_or_last, err, errlen);
    if (rc != MP_OK)
        return rc;
    ASSERT_TRUE (first_or_last == 0 || first_or_last == 1);
    return first_or_last;
}

static void
s_grants_reset (void)
{
    s_grants[0] = '\0';
    s_ngrants = 0;
}

static mp_sync_t *
s_new (void)
{
    s_grants_reset ();
    mp_sync_t *sync = mp_sync_new (s_on_grant, s_grants);
    ASSERT_NOT_NULL (sync);
    return sync;
}

//  The board's entry at index as "key=value" (keys and values are text here).
static const char *
s_at (mp_sync_t *sync, size_t index)
{
    static char buf[256];
    const void *k, *v;
    size_t kl, vl;
    mp_sync_board_at (sync, index, &k, &kl, &v, &vl);
    snprintf (buf, sizeof buf, "%.*s=%.*s", (int) kl, (const char *) k, (int) vl,
              (const char *) v);
    return buf;
}

static int
s_set (mp_sync_t *sync, const char *key, const char *val)
{
    return mp_sync_board_set (sync, key, strlen (key), val, strlen (val));
}

//  The value under key as a string, or "(absent)".
static const char *
s_get (mp_sync_t *sync, const char *key)
{
    static char buf[256];
    const void *v;
    size_t vl;
    if (!mp_sync_board_get (sync, key, strlen (key), &v, &vl))
        return "(absent)";
    snprintf (buf, sizeof buf, "%.*s", (int) vl, (const char *) v);
    return buf;
}

static void
test_board_basics (void)
{
    mp_sync_t *sync = s_new ();
    ASSERT_EQ (mp_sync_board_size (sync), 0);
    ASSERT_STREQ (s_get (sync, "a"), "(absent)");
    ASSERT_EQ (mp_sync_board_del (sync, "a", 1), 0);
    ASSERT_EQ (s_set (sync, "a", "1"), 0);
    ASSERT_EQ (s_set (sync, "b", "2"), 0);
    ASSERT_EQ (s_set (sync, "c", "3"), 0);
    ASSERT_EQ (mp_sync_board_size (sync), 3);
    ASSERT_STREQ (s_at (sync, 0), "a=1");
    ASSERT_STREQ (s_at (sync, 1), "b=2");
    ASSERT_STREQ (s_at (sync, 2), "c=3");
    //  overwrite keeps the place and the size
    ASSERT_EQ (s_set (sync, "b", "twenty"), 0);
    ASSERT_EQ (mp_sync_board_size (sync), 3);
    ASSERT_STREQ (s_at (sync, 1), "b=twenty");
    ASSERT_STREQ (s_get (sync, "b"), "twenty");
    //  delete, then re-add: goes to the end, as in a dict
    ASSERT_EQ (mp_sync_board_del (sync, "b", 1), 1);
    ASSERT_EQ (mp_sync_board_del (sync, "b", 1), 0);
    ASSERT_EQ (mp_sync_board_size (sync), 2);
    ASSERT_STREQ (s_at (sync, 0), "a=1");
    ASSERT_STREQ (s_at (sync, 1), "c=3");
    ASSERT_STREQ (s_get (sync, "b"), "(absent)");
    ASSERT_EQ (s_set (sync, "b", "again"), 0);
    ASSERT_STREQ (s_at (sync, 2), "b=again");
    //  binary keys: embedded NULs, prefixes and the empty key are all distinct
    ASSERT_EQ (mp_sync_board_set (sync, "x\0y", 3, "\0\1", 2), 0);
    ASSERT_EQ (mp_sync_board_set (sync, "x", 1, "short", 5), 0);
    ASSERT_EQ (mp_sync_board_set (sync, "", 0, "", 0), 0);
    ASSERT_EQ (mp_sync_board_size (sync), 6);
    const void *v;
    size_t vl;
    ASSERT_EQ (mp_sync_board_get (sync, "x\0y", 3, &v, &vl), 1);
    ASSERT_EQ (vl, 2);
    ASSERT_TRUE (memcmp (v, "\0\1", 2) == 0);
    ASSERT_EQ (mp_sync_board_get (sync, "x\0z", 3, &v, &vl), 0);
    ASSERT_EQ (mp_sync_board_get (sync, "", 0, &v, &vl), 1);
    ASSERT_EQ (vl, 0);
    ASSERT_EQ (mp_sync_board_del (sync, "", 0), 1);
    ASSERT_EQ (mp_sync_board_get (sync, "", 0, &v, &vl), 0);
    ASSERT_STREQ (s_get (sync, "x"), "short");
    mp_sync_destroy (&sync);
    ASSERT_NULL (sync);
    mp_sync_destroy (&sync);
}

static void
test_board_many_keys (void)
{
    enum { N = 10000 };
    mp_sync_t *sync = s_new ();
    char key[32], val[32], want[80];
    for (int i = 0; i < N; i++) {
        snprintf (key, sizeof key, "k%d", i);
        snprintf (val, sizeof val, "v%d", i);
        ASSERT_EQ (s_set (sync, key, val), 0);
    }
    ASSERT_EQ (mp_sync_board_size (sync), N);
    //  delete all but every third key: triggers compactions along the way
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0)
            continue;
        snprintf (key, sizeof key, "k%d", i);
        ASSERT_EQ (mp_sync_board_del (sync, key, strlen (key)), 1);
    }
    size_t live = (N + 2) / 3;
    ASSERT_EQ (mp_sync_board_size (sync), live);
    for (size_t j = 0; j < live; j++) {
        snprintf (want, sizeof want, "k%zu=v%zu", 3 * j, 3 * j);
        ASSERT_STREQ (s_at (sync, j), want);
    }
    for (int i = 0; i < N; i++) {
        snprintf (key, sizeof key, "k%d", i);
        snprintf (val, sizeof val, "v%d", i);
        ASSERT_STREQ (s_get (sync, key), i % 3 == 0 ? val : "(absent)");
    }
    //  overwrite survivors, re-add the deleted ones: they go to the end
    for (int i = 0; i < N; i++) {
        snprintf (key, sizeof key, "k%d", i);
        snprintf (val, sizeof val, "w%d", i);
        ASSERT_EQ (s_set (sync, key, val), 0);
    }
    ASSERT_EQ (mp_sync_board_size (sync), N);
    ASSERT_STREQ (s_at (sync, 0), "k0=w0");
    ASSERT_STREQ (s_at (sync, live - 1), "k9999=w9999");
    ASSERT_STREQ (s_at (sync, live), "k1=w1");
    ASSERT_STREQ (s_at (sync, live + 1), "k2=w2");
    ASSERT_STREQ (s_at (sync, N - 1), "k9998=w9998");
    //  delete everything, from the back, then start over
    for (int i = N - 1; i >= 0; i--) {
        snprintf (key, sizeof key, "k%d", i);
        ASSERT_EQ (mp_sync_board_del (sync, key, strlen (key)), 1);
        ASSERT_EQ (mp_sync_board_size (sync), (size_t) i);
    }
    ASSERT_STREQ (s_get (sync, "k0"), "(absent)");
    ASSERT_EQ (s_set (sync, "k5", "five"), 0);
    ASSERT_EQ (mp_sync_board_size (sync), 1);
    ASSERT_STREQ (s_at (sync, 0), "k5=five");
    mp_sync_destroy (&sync);
}

static void
test_board_churn (void)
{
    //  interleaved adds and deletes, checked against a plain array model
    enum { KEYS = 500, STEPS = 20000 };
    mp_sync_t *sync = s_new ();
    int model[KEYS];   //  insertion sequence number, or -1 when absent
    int value[KEYS];   //  step of the last set
    int seq = 0;
    for (int i = 0; i < KEYS; i++)
        model[i] = -1;
    unsigned rnd = 12345;
    char key[32], val[32];
    for (int step = 0; step < STEPS; step++) {
        rnd = rnd * 1103515245 + 12345;
        int k = (int) ((rnd >> 8) % KEYS);
        snprintf (key, sizeof key, "key-%d", k);
        if ((rnd >> 20) % 3) {
            snprintf (val, sizeof val, "%d", step);
            ASSERT_EQ (s_set (sync, key, val), 0);
            value[k] = step;
            if (model[k] < 0)
                model[k] = seq++;
        }
        else {
            ASSERT_EQ (mp_sync_board_del (sync, key, strlen (key)), model[k] >= 0);
            model[k] = -1;
        }
    }
    //  board order must be the model's order by sequence number
    size_t size = mp_sync_board_size (sync), n = 0;
    int last = -1;
    for (size_t i = 0; i < size; i++) {
        const void *kp;
        size_t kl;
        mp_sync_board_at (sync, i, &kp, &kl, NULL, NULL);
        char text[32];  //  board keys are bytes, not C strings
        ASSERT_TRUE (kl > 4 && kl < sizeof text);
        memcpy (text, kp, kl);
        text[kl] = '\0';
        int k = atoi (text + 4);
        ASSERT_TRUE (model[k] > last);
        last = model[k];
        n++;
    }
    size_t present = 0;
    for (int i = 0; i < KEYS; i++) {
        present += model[i] >= 0;
        snprintf (key, sizeof key, "key-%d", i);
        snprintf (val, sizeof val, "%d", model[i] >= 0 ? value[i] : -1);
        ASSERT_STREQ (s_get (sync, key), model[i] >= 0 ? val : "(absent)");
    }
    ASSERT_EQ (n, present);
    mp_sync_destroy (&sync);
}

static void
test_lock_fifo (void)
{
    mp_sync_t *sync = s_new ();
    char err[128] = "";
    ASSERT_EQ (s_acquire (sync, "mp_lock", "a", 1, err, sizeof err), 1);
    ASSERT_EQ (s_acquire (sync, "mp_lock", "b", 2, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "mp_lock", "c", 3, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "mp_lock", "d", 4, err, sizeof err), 0);
    ASSERT_EQ (s_ngrants, 0);
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "mp_lock", "a"));
    ASSERT_TRUE (!mp_sync_lock_held_by (sync, "mp_lock", "b"));
    //  non-reentrant, and one wait per owner
    ASSERT_EQ (s_acquire (sync, "mp_lock", "a", 5, err, sizeof err), MP_ESTATE);
    ASSERT_STREQ (err, "lock mp_lock is already held by a");
    ASSERT_EQ (s_acquire (sync, "mp_lock", "c", 6, err, sizeof err), MP_ESTATE);
    ASSERT_STREQ (err, "c already waits for lock mp_lock");
    //  only the holder releases
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "c", err, sizeof err), MP_ESTATE);
    ASSERT_STREQ (err, "lock mp_lock is not held by c");
    ASSERT_EQ (mp_sync_lock_release (sync, "other", "a", err, sizeof err), MP_ESTATE);
    ASSERT_STREQ (err, "lock other is not held by a");
    ASSERT_EQ (s_ngrants, 0);
    //  each release grants the next waiter, in arrival order, before returning
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "a", err, sizeof err), 0);
    ASSERT_STREQ (s_grants, "mp_lock b 2;");
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "mp_lock", "b"));
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "b", err, sizeof err), 0);
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "c", err, sizeof err), 0);
    ASSERT_STREQ (s_grants, "mp_lock b 2;mp_lock c 3;mp_lock d 4;");
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "d", err, sizeof err), 0);
    ASSERT_EQ (s_ngrants, 3);
    ASSERT_TRUE (!mp_sync_lock_held_by (sync, "mp_lock", "d"));
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "d", err, sizeof err), MP_ESTATE);
    //  a free lock is granted at once again; a NULL reason buffer is fine
    ASSERT_EQ (s_acquire (sync, "mp_lock", "a", 7, NULL, 0), 1);
    ASSERT_EQ (s_acquire (sync, "mp_lock", "a", 7, NULL, 0), MP_ESTATE);
    //  locks are independent by name
    ASSERT_EQ (s_acquire (sync, "other", "a", 8, err, sizeof err), 1);
    ASSERT_EQ (s_acquire (sync, "other", "b", 9, err, sizeof err), 0);
    ASSERT_EQ (mp_sync_lock_release (sync, "mp_lock", "a", err, sizeof err), 0);
    ASSERT_EQ (s_ngrants, 3);
    ASSERT_EQ (mp_sync_lock_release (sync, "other", "a", err, sizeof err), 0);
    ASSERT_STREQ (s_grants, "mp_lock b 2;mp_lock c 3;mp_lock d 4;other b 9;");
    mp_sync_destroy (&sync);  //  b still holds "other": destroy frees it
}

static void
test_lock_owner_gone (void)
{
    mp_sync_t *sync = s_new ();
    char err[128];
    const char *a = "a1b2c3/u1", *b = "a1b2c3/u2", *c = "d4e5f6/u3", *d = "d4e5f6/u4";
    ASSERT_EQ (s_acquire (sync, "L", a, 1, err, sizeof err), 1);
    ASSERT_EQ (s_acquire (sync, "L", b, 2, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "L", c, 3, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "M", d, 4, err, sizeof err), 1);
    ASSERT_EQ (s_acquire (sync, "M", a, 5, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "M", c, 6, err, sizeof err), 0);
    //  a dies: L goes to b, a's wait on M is dropped
    mp_sync_owner_gone (sync, a, 1);
    ASSERT_STREQ (s_grants, "L a1b2c3/u2 2;");
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "L", b));
    ASSERT_EQ (mp_sync_lock_release (sync, "M", d, err, sizeof err), 0);
    ASSERT_STREQ (s_grants, "L a1b2c3/u2 2;M d4e5f6/u3 6;");
    //  c dies holding M and waiting on L: M is freed without a grant, L's queue
    //  loses c, so b's release grants nobody
    mp_sync_owner_gone (sync, c, 1);
    ASSERT_EQ (s_ngrants, 2);
    ASSERT_TRUE (!mp_sync_lock_held_by (sync, "M", c));
    ASSERT_EQ (s_acquire (sync, "M", d, 7, err, sizeof err), 1);
    ASSERT_EQ (mp_sync_lock_release (sync, "L", b, err, sizeof err), 0);
    ASSERT_EQ (s_ngrants, 2);
    //  an unknown owner is a no-op; a dead owner can come back as a new one
    mp_sync_owner_gone (sync, "nobody", 1);
    ASSERT_EQ (s_acquire (sync, "L", a, 8, err, sizeof err), 1);
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "M", d));
    //  the holder of many locks with waiters on each: all granted in one go
    ASSERT_EQ (s_acquire (sync, "N", a, 9, err, sizeof err), 1);
    ASSERT_EQ (s_acquire (sync, "L", b, 10, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "N", d, 11, err, sizeof err), 0);
    ASSERT_EQ (s_acquire (sync, "N", b, 12, err, sizeof err), 0);
    s_grants_reset ();
    mp_sync_owner_gone (sync, a, 1);
    ASSERT_EQ (s_ngrants, 2);
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "L", b));
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "N", d));
    ASSERT_TRUE (strstr (s_grants, "L a1b2c3/u2 10;") != NULL);
    ASSERT_TRUE (strstr (s_grants, "N d4e5f6/u4 11;") != NULL);
    mp_sync_owner_gone (sync, d, 1);  //  N passes to b, M is freed
    ASSERT_EQ (s_ngrants, 3);
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "N", b));
    ASSERT_TRUE (!mp_sync_lock_held_by (sync, "M", d));
    mp_sync_destroy (&sync);
}

static int
s_trail (mp_sync_t *sync, const char *name, const char *state, const char *owner)
{
    char err[128];
    return s_trail_rc (sync, name, state, owner, err, sizeof err);
}

static void
test_trail_truth_table (void)
{
    mp_sync_t *sync = s_new ();
    char err[128] = "";
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 0);
    ASSERT_EQ (s_trail (sync, "db", "start", "a"), 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    ASSERT_EQ (s_trail (sync, "db", "start", "b"), 0);
    ASSERT_EQ (s_trail (sync, "db", "start", "a"), 0);  //  an owner may consume twice
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 3);
    ASSERT_EQ (s_trail (sync, "db", "finish", "a"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "b"), 0);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    ASSERT_EQ (s_trail (sync, "db", "finish", "a"), 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 0);
    ASSERT_EQ (s_trail_rc (sync, "db", "finish", "a", err, sizeof err), MP_EINVAL);
    ASSERT_STREQ (err, "trail db: finish without a matching start");
    ASSERT_EQ (s_trail_rc (sync, "new", "finish", "a", err, sizeof err), MP_EINVAL);
    ASSERT_STREQ (err, "trail new: finish without a matching start");
    ASSERT_EQ (s_trail_rc (sync, "db", "begin", "a", err, sizeof err), MP_EINVAL);
    ASSERT_STREQ (err, "trail db: unknown state 'begin' (expected 'start' or 'finish')");
    ASSERT_EQ (s_trail_rc (sync, "db", "", "a", err, sizeof err), MP_EINVAL);
    ASSERT_STREQ (err, "trail db: unknown state '' (expected 'start' or 'finish')");
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 0);
    //  a fresh cycle starts over; trails are independent
    ASSERT_EQ (s_trail (sync, "db", "start", "b"), 1);
    ASSERT_EQ (s_trail (sync, "cache", "start", "b"), 1);
    ASSERT_EQ (s_trail (sync, "cache", "finish", "b"), 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    mp_sync_destroy (&sync);
}

static void
test_trail_ten_owners (void)
{
    mp_sync_t *sync = s_new ();
    char owner[32];
    for (int i = 0; i < 10; i++) {
        snprintf (owner, sizeof owner, "agent/u%d", i);
        ASSERT_EQ (s_trail (sync, "t", "start", owner), i == 0);
    }
    ASSERT_EQ (mp_sync_trail_count (sync, "t"), 10);
    //  finishes in another order than the starts: only the last one is 1
    for (int i = 0; i < 10; i++) {
        snprintf (owner, sizeof owner, "agent/u%d", (i * 7) % 10);
        ASSERT_EQ (s_trail (sync, "t", "finish", owner), i == 9);
    }
    ASSERT_EQ (s_trail (sync, "t", "finish", "agent/u0"), MP_EINVAL);
    mp_sync_destroy (&sync);
}

static void
test_trail_owner_gone (void)
{
    mp_sync_t *sync = s_new ();
    //  the only consumer dies: a new start is the first again
    ASSERT_EQ (s_trail (sync, "db", "start", "a"), 1);
    mp_sync_owner_gone (sync, "a", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 0);
    ASSERT_EQ (s_trail (sync, "db", "start", "b"), 1);
    //  another consumer dies with two starts: only its own are taken back
    ASSERT_EQ (s_trail (sync, "db", "start", "c"), 0);
    ASSERT_EQ (s_trail (sync, "db", "start", "c"), 0);
    ASSERT_EQ (s_trail (sync, "other", "start", "c"), 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 3);
    mp_sync_owner_gone (sync, "c", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "other"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "b"), 1);
    //  finished consumptions are not taken back twice
    ASSERT_EQ (s_trail (sync, "db", "start", "a"), 1);
    ASSERT_EQ (s_trail (sync, "db", "start", "b"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "b"), 0);
    mp_sync_owner_gone (sync, "b", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    ASSERT_EQ (s_trail (sync, "db", "finish", "a"), 1);
    mp_sync_destroy (&sync);
}

static void
test_trail_kept_after_a_normal_end (void)
{
    mp_sync_t *sync = s_new ();
    //  a process that finished its unit leaves its starts counted: a later start is
    //  not the first (the original's rule); its locks are released all the same
    ASSERT_EQ (s_trail (sync, "db", "start", "a"), 1);
    mp_sync_owner_gone (sync, "a", 0);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    ASSERT_EQ (s_trail (sync, "db", "start", "b"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "c"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "d"), 1);
    mp_sync_destroy (&sync);
}

static void
test_trail_finish_from_other_owner (void)
{
    mp_sync_t *sync = s_new ();
    //  setup in one process, teardown in another: still counts
    ASSERT_EQ (s_trail (sync, "db", "start", "a"), 1);
    ASSERT_EQ (s_trail (sync, "db", "start", "b"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "x"), 0);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    //  a's record is untouched by x's finish; taking it back clamps at zero
    mp_sync_owner_gone (sync, "a", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 0);
    mp_sync_owner_gone (sync, "b", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 0);
    ASSERT_EQ (s_trail (sync, "db", "start", "c"), 1);
    ASSERT_EQ (s_trail (sync, "db", "start", "d"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "x"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "y"), 1);
    //  count back at 0 forgets stale records: c's death changes nothing later
    ASSERT_EQ (s_trail (sync, "db", "start", "e"), 1);
    mp_sync_owner_gone (sync, "c", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    //  e finishes once more than it started: its record is gone, so its death
    //  takes nothing from the others
    ASSERT_EQ (s_trail (sync, "db", "start", "f"), 0);
    ASSERT_EQ (s_trail (sync, "db", "start", "g"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "e"), 0);
    ASSERT_EQ (s_trail (sync, "db", "finish", "e"), 0);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    mp_sync_owner_gone (sync, "e", 1);
    ASSERT_EQ (mp_sync_trail_count (sync, "db"), 1);
    mp_sync_destroy (&sync);
}

static void
test_no_callback (void)
{
    mp_sync_t *sync = mp_sync_new (NULL, NULL);
    ASSERT_EQ (s_acquire (sync, "L", "a", 1, NULL, 0), 1);
    ASSERT_EQ (s_acquire (sync, "L", "b", 2, NULL, 0), 0);
    ASSERT_EQ (mp_sync_lock_release (sync, "L", "a", NULL, 0), 0);
    ASSERT_TRUE (mp_sync_lock_held_by (sync, "L", "b"));
    mp_sync_destroy (&sync);
}

static const mp_test_t tests[] = {
    MP_TEST (test_board_basics),
    MP_TEST (test_board_many_keys),
    MP_TEST (test_board_churn),
    MP_TEST (test_lock_fifo),
    MP_TEST (test_lock_owner_gone),
    MP_TEST (test_trail_truth_table),
    MP_TEST (test_trail_ten_owners),
    MP_TEST (test_trail_owner_gone),
    MP_TEST (test_trail_kept_after_a_normal_end),
    MP_TEST (test_trail_finish_from_other_owner),
    MP_TEST (test_no_callback),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
