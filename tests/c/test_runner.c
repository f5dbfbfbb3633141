//  The test runner itself: this binary runs itself again on a table of demonstration
//  tests (that fail, hang, crash) and checks the exit status and what it printed.
#include "testing.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  Set in the re-run: it then runs the demonstrations instead of the tests.
#define DEMO_ENV "MP_TEST_RUNNER_DEMO"

static const char *s_self;

// -------------------------------------------------------------------------------------
//  Demonstrations, run only under DEMO_ENV.

static void demo_pass (void)
{
    ASSERT_EQ (1 + 1, 2);
}

static void demo_pass_too (void)
{
    ASSERT_STREQ ("a", "a");
}

static void demo_fail (void)
{
    ASSERT_EQ (1 + 1, 3);
}

static void demo_exit_3 (void)
{
    exit (3);
}

static void demo_signal (void)
{
    raise (SIGTERM);
}

//  Hangs, and so does a process it started: the timeout must kill both, or the
//  grandchild keeps the output pipe open and the test reading it never sees its end.
static void demo_hang (void)
{
    pid_t pid = fork ();
    ASSERT_TRUE (pid >= 0);
    while (1)
        pause ();
}

static const mp_test_t demos[] = {
    MP_TEST (demo_pass),   MP_TEST (demo_pass_too), MP_TEST (demo_fail),
    MP_TEST (demo_exit_3), MP_TEST (demo_signal),   MP_TEST (demo_hang),
    { NULL, NULL },
};

// -------------------------------------------------------------------------------------
//  Running the demonstrations.

typedef struct {
    int status;     //  the exit status, or -1 if killed
    char out[8192]; //  stdout and stderr together
    double seconds;
} s_result_t;

//  Runs this binary on the demonstrations with args, nofork and timeout (if not NULL).
static void s_run (s_result_t *r, const char *timeout, const char *nofork,
                   const char *const args[])
{
    char *argv[16] = { (char *) s_self };
    size_t argc = 1;
    for (; args[argc - 1]; argc++) {
        ASSERT_TRUE (argc + 1 < sizeof argv / sizeof argv[0]);
        argv[argc] = (char *) args[argc - 1];
    }
    argv[argc] = NULL;

    int fds[2];
    ASSERT_EQ (pipe (fds), 0);
    struct timespec start, end;
    clock_gettime (CLOCK_MONOTONIC, &start);
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    ASSERT_TRUE (pid >= 0);
    if (pid == 0) {
        dup2 (fds[1], 1);
        dup2 (fds[1], 2);
        close (fds[0]);
        close (fds[1]);
        setenv (DEMO_ENV, "1", 1);
        if (timeout)
            setenv ("MP_TEST_TIMEOUT", timeout, 1);
        else
            unsetenv ("MP_TEST_TIMEOUT");
        if (nofork)
            setenv ("MP_TEST_NOFORK", nofork, 1);
        else
            unsetenv ("MP_TEST_NOFORK");
        execv (s_self, argv);
        _exit (127);
    }
    close (fds[1]);
    size_t len = 0;
    while (1) {
        char buf[1024];
        ssize_t n = read (fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        //  Keeps reading past a full buffer, so the writer never blocks.
        size_t keep = (size_t) n < sizeof r->out - 1 - len ? (size_t) n
                                                             : sizeof r->out - 1 - len;
        memcpy (r->out + len, buf, keep);
        len += keep;
    }
    r->out[len] = '\0';
    close (fds[0]);
    int status;
    ASSERT_EQ (waitpid (pid, &status, 0), pid);
    clock_gettime (CLOCK_MONOTONIC, &end);
    r->seconds = (double) (end.tv_sec - start.tv_sec)
               + (double) (end.tv_nsec - start.tv_nsec) / 1e9;
    r->status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

// -------------------------------------------------------------------------------------
//  The tests.

static void test_failure_does_not_stop_the_others (void)
{
    s_result_t r;
    const char *args[] = { "demo_pass", "demo_fail", "demo_pass_too", NULL };
    s_run (&r, NULL, NULL, args);
    ASSERT_EQ (r.status, 1);
    ASSERT_STRSTR (r.out, "ok   demo_pass (");
    ASSERT_STRSTR (r.out, "test_runner.c:");
    ASSERT_STRSTR (r.out, "1 + 1 == 3: 2 != 3");
    ASSERT_STRSTR (r.out, "FAIL demo_fail: killed by signal 6");
    ASSERT_STRSTR (r.out, "ok   demo_pass_too (");
    ASSERT_STRSTR (r.out, "test_runner: 2 of 3 passed; failed: demo_fail\n");
    //  In the order asked for: the failure comes between the two passes.
    ASSERT_TRUE (strstr (r.out, "FAIL demo_fail") < strstr (r.out, "ok   demo_pass_too"));
}

static void test_exit_status_and_signal (void)
{
    s_result_t r;
    const char *args[] = { "demo_exit_3", "demo_signal", NULL };
    s_run (&r, NULL, NULL, args);
    ASSERT_EQ (r.status, 1);
    ASSERT_STRSTR (r.out, "FAIL demo_exit_3: exit status 3");
    ASSERT_STRSTR (r.out, "FAIL demo_signal: killed by signal 15");
    ASSERT_STRSTR (r.out, "0 of 2 passed; failed: demo_exit_3 demo_signal\n");
}

static void test_timeout_kills_the_group (void)
{
    s_result_t r;
    const char *args[] = { "demo_hang", "demo_pass", NULL };
    s_run (&r, "0.5", NULL, args);
    ASSERT_EQ (r.status, 1);
    ASSERT_STRSTR (r.out, "FAIL demo_hang: timed out after 0.5 s, killed");
    ASSERT_STRSTR (r.out, "ok   demo_pass (");
    ASSERT_STRSTR (r.out, "1 of 2 passed; failed: demo_hang\n");
    ASSERT_LT (r.seconds, 10);
}

static void test_select_by_name (void)
{
    s_result_t r;
    const char *one[] = { "demo_pass_too", NULL };
    s_run (&r, NULL, NULL, one);
    ASSERT_EQ (r.status, 0);
    ASSERT_STRSTR (r.out, "ok   demo_pass_too (");
    ASSERT_NULL (strstr (r.out, "demo_fail"));
    ASSERT_STRSTR (r.out, "test_runner: 1 of 1 passed\n");

    //  Exact names only: a prefix is not a name.
    const char *unknown[] = { "demo_pass", "nope", "demo_pa", NULL };
    s_run (&r, NULL, NULL, unknown);
    ASSERT_EQ (r.status, 2);
    ASSERT_STRSTR (r.out, "no test named nope\n");
    ASSERT_STRSTR (r.out, "no test named demo_pa\n");
    ASSERT_NULL (strstr (r.out, "ok   demo_pass"));

    const char *option[] = { "--bogus", NULL };
    s_run (&r, NULL, NULL, option);
    ASSERT_EQ (r.status, 2);
}

static void test_list (void)
{
    s_result_t r;
    const char *args[] = { "--list", NULL };
    s_run (&r, NULL, NULL, args);
    ASSERT_EQ (r.status, 0);
    ASSERT_STREQ (r.out, "demo_pass\ndemo_pass_too\ndemo_fail\ndemo_exit_3\ndemo_signal\n"
                         "demo_hang\n");
}

static void test_nofork (void)
{
    s_result_t r;
    const char *args[] = { "demo_pass", "demo_pass_too", NULL };
    s_run (&r, NULL, "1", args);
    ASSERT_EQ (r.status, 0);
    ASSERT_STRSTR (r.out, "ok   demo_pass\nok   demo_pass_too\n");
    ASSERT_STRSTR (r.out, "2 of 2 passed (in process)");

    //  In process, the first failure ends the run.
    const char *failing[] = { "demo_fail", "demo_pass", NULL };
    s_run (&r, NULL, "1", failing);
    ASSERT_EQ (r.status, -1);
    ASSERT_STRSTR (r.out, "1 + 1 == 3: 2 != 3");
    ASSERT_NULL (strstr (r.out, "ok   demo_pass"));
}

static const mp_test_t tests[] = {
    MP_TEST (test_failure_does_not_stop_the_others),
    MP_TEST (test_exit_status_and_signal),
    MP_TEST (test_timeout_kills_the_group),
    MP_TEST (test_select_by_name),
    MP_TEST (test_list),
    MP_TEST (test_nofork),
    { NULL, NULL },
};

int main (int argc, char **argv)
{
    s_self = argv[0];
    if (getenv (DEMO_ENV))
        return mp_test_main (demos, argc, argv);
    //  The re-runs find this binary by the path it was started with.
    ASSERT_TRUE (strchr (s_self, '/') != NULL);
    return mp_test_main (tests, argc, argv);
}
