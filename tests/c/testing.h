//  The C unit tests' runner and assertions.
//
//  A test file lists its tests by name and hands them to the runner:
//
//      static const mp_test_t tests[] = {
//          MP_TEST (test_one),
//          MP_TEST (test_two),
//          { NULL, NULL },
//      };
//      MP_TEST_MAIN (tests)
//
//  or, when it needs set-up first, its own main() that ends in mp_test_main ().
//  Each test runs in a forked child, in a process group of its own, so one that fails,
//  crashes, leaks or hangs is reported by name and the others still run.
//
//      ./test_x [--list] [NAME...]    only the named tests (exact names), in that order
//      MP_TEST_TIMEOUT=SECONDS        a test's time limit (default 30; fractions allowed)
//      MP_TEST_NOFORK=1               run in this process, no time limit (for gdb)
//
//  Exit status: 0 if every test passed, 1 if any failed, 2 for a usage error.
//  Set-up done in main() before mp_test_main () is inherited by every child; it must not
//  start threads (a zmq context, say), since a forked child has none of its parent's.
#ifndef MP_TESTING_H
#define MP_TESTING_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn) (void);
} mp_test_t;

#define MP_TEST(fn) { #fn, fn }

#define MP_TEST_MAIN(tests)                                                              \
    int main (int argc, char **argv)                                                     \
    {                                                                                    \
        return mp_test_main (tests, argc, argv);                                         \
    }

//  Runs the tests of a table ended by { NULL, NULL }, as argv asks; returns the exit
//  status for main().
int mp_test_main (const mp_test_t *tests, int argc, char **argv);

//  Prints "file:line: message" on stderr and aborts: the runner reports the test as
//  failed, and under gdb (MP_TEST_NOFORK=1) it stops right here.
_Noreturn void mp_test_fail (const char *file, int line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#define MP_FAIL_AT(...) mp_test_fail (__FILE__, __LINE__, __VA_ARGS__)

#define ASSERT_TRUE(c)                                                                   \
    do {                                                                                 \
        if (!(c))                                                                        \
            MP_FAIL_AT ("expected true: %s", #c);                                        \
    } while (0)

//  Integer comparisons, through long long so both values can be printed.
#define MP_ASSERT_CMP(a, op, b)                                                          \
    do {                                                                                 \
        long long a_ = (long long) (a), b_ = (long long) (b);                            \
        if (!(a_ op b_))                                                                 \
            MP_FAIL_AT ("%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_);                  \
    } while (0)

#define ASSERT_EQ(a, b)                                                                  \
    do {                                                                                 \
        long long a_ = (long long) (a), b_ = (long long) (b);                            \
        if (a_ != b_)                                                                    \
            MP_FAIL_AT ("%s == %s: %lld != %lld", #a, #b, a_, b_);                       \
    } while (0)

#define ASSERT_NE(a, b) MP_ASSERT_CMP (a, !=, b)
#define ASSERT_LT(a, b) MP_ASSERT_CMP (a, <, b)
#define ASSERT_LE(a, b) MP_ASSERT_CMP (a, <=, b)
#define ASSERT_GT(a, b) MP_ASSERT_CMP (a, >, b)
#define ASSERT_GE(a, b) MP_ASSERT_CMP (a, >=, b)

#define ASSERT_STREQ(a, b)                                                               \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (!a_ || !b_ || strcmp (a_, b_) != 0)                                          \
            MP_FAIL_AT ("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",       \
                        b_ ? b_ : "(null)");                                             \
    } while (0)

//  For outputs: the haystack is printed whole when the needle is missing.
#define ASSERT_STRSTR(hay, needle)                                                       \
    do {                                                                                 \
        const char *h_ = (hay), *n_ = (needle);                                          \
        if (!h_ || !n_ || !strstr (h_, n_))                                              \
            MP_FAIL_AT ("%s contains %s: \"%s\" not in \"%s\"", #hay, #needle,           \
                        n_ ? n_ : "(null)", h_ ? h_ : "(null)");                         \
    } while (0)

#define ASSERT_NULL(p) ASSERT_TRUE ((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE ((p) != NULL)

#endif
