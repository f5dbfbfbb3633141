//  Minimal assertions for the C unit tests: print both values and where, then abort.
#ifndef MP_TESTING_H
#define MP_TESTING_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MP_FAIL_AT(...)                                                                  \
    do {                                                                                 \
        fprintf (stderr, "%s:%d: ", __FILE__, __LINE__);                                 \
        fprintf (stderr, __VA_ARGS__);                                                   \
        fprintf (stderr, "\n");                                                          \
        abort ();                                                                        \
    } while (0)

#define ASSERT_TRUE(c)                                                                   \
    do {                                                                                 \
        if (!(c))                                                                        \
            MP_FAIL_AT ("expected true: %s", #c);                                        \
    } while (0)

#define ASSERT_EQ(a, b)                                                                  \
    do {                                                                                 \
        long long a_ = (long long) (a), b_ = (long long) (b);                            \
        if (a_ != b_)                                                                    \
            MP_FAIL_AT ("%s == %s: %lld != %lld", #a, #b, a_, b_);                       \
    } while (0)

#define ASSERT_STREQ(a, b)                                                               \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (!a_ || !b_ || strcmp (a_, b_) != 0)                                          \
            MP_FAIL_AT ("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",       \
                        b_ ? b_ : "(null)");                                             \
    } while (0)

#define ASSERT_NULL(p) ASSERT_TRUE ((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE ((p) != NULL)

#define RUN_TEST(fn)                                                                     \
    do {                                                                                 \
        fprintf (stderr, "  %s\n", #fn);                                                 \
        fn ();                                                                           \
    } while (0)

#define RUN_TEST_ARG(fn, arg)                                                            \
    do {                                                                                 \
        fprintf (stderr, "  %s\n", #fn);                                                 \
        fn (arg);                                                                        \
    } while (0)

#endif
