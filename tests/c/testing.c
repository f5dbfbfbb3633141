//  The C unit tests' runner: each test in a forked child with a time limit, reported by
//  name; see testing.h for how it is used.
#include "testing.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MP_TEST_DEFAULT_TIMEOUT 30.0

//  The running child's pid (also its process group), for the signal handler to kill.
static volatile sig_atomic_t s_child;

void mp_test_fail (const char *file, int line, const char *fmt, ...)
{
    //  What the test printed so far would be lost in the abort.
    fflush (stdout);
    fprintf (stderr, "%s:%d: ", file, line);
    va_list args;
    va_start (args, fmt);
    vfprintf (stderr, fmt, args);
    va_end (args);
    fprintf (stderr, "\n");
    abort ();
}

static double s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const mp_test_t *s_find (const mp_test_t *tests, const char *name)
{
    for (const mp_test_t *test = tests; test->name; test++)
        if (strcmp (test->name, name) == 0)
            return test;
    return NULL;
}

static double s_timeout (void)
{
    const char *text = getenv ("MP_TEST_TIMEOUT");
    if (!text || !*text)
        return MP_TEST_DEFAULT_TIMEOUT;
    char *end;
    double seconds = strtod (text, &end);
    if (*end || !(seconds > 0)) {
        fprintf (stderr, "MP_TEST_TIMEOUT=%s is not a number of seconds; using %g\n", text,
                 MP_TEST_DEFAULT_TIMEOUT);
        return MP_TEST_DEFAULT_TIMEOUT;
    }
    return seconds;
}

//  Interrupted runs (Ctrl-C reaches only the runner, the child being in a group of its
//  own; ctest's timeout sends SIGTERM or SIGKILL) must not leave the test running.
static void s_on_signal (int sig)
{
    pid_t child = (pid_t) s_child;
    if (child > 0)
        kill (-child, SIGKILL);
    signal (sig, SIG_DFL);
    raise (sig);
}

static void s_handle_signals (void (*handler) (int))
{
    signal (SIGINT, handler);
    signal (SIGTERM, handler);
    signal (SIGHUP, handler);
}

//  In the child: a process group of its own, so that a timeout kills whatever it
//  started too, then the test; exit() rather than _exit() so that LeakSanitizer runs.
static _Noreturn void s_child_run (const mp_test_t *test, pid_t runner)
{
    setpgid (0, 0);
    s_handle_signals (SIG_DFL);
#ifdef __linux__
    //  If the runner is killed outright its handler cannot kill us; this does.
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != runner)
        _exit (1);
#else
    (void) runner;
#endif
    test->fn ();
    exit (0);
}

//  Runs one test in a child and reports it; returns 1 if it passed.
static int s_run_forked (const mp_test_t *test, double timeout)
{
    //  Else the child inherits buffered output and prints it a second time.
    fflush (stdout);
    fflush (stderr);
    double start = s_now ();
    pid_t runner = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        printf ("FAIL %s: fork: %s\n", test->name, strerror (errno));
        return 0;
    }
    if (pid == 0)
        s_child_run (test, runner);
    //  Set on both sides so the group exists whichever of the two runs first.
    setpgid (pid, pid);
    s_child = pid;

    int status = 0, timed_out = 0;
    long nap_ns = 1000000;
    while (1) {
        pid_t done = waitpid (pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            printf ("FAIL %s: waitpid: %s\n", test->name, strerror (errno));
            s_child = 0;
            return 0;
        }
        if (s_now () - start > timeout) {
            timed_out = 1;
            kill (-pid, SIGKILL);
            kill (pid, SIGKILL);
            while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        //  Polling is simple and portable; a short first nap keeps quick tests quick.
        struct timespec nap = { 0, nap_ns };
        nanosleep (&nap, NULL);
        if (nap_ns < 20000000)
            nap_ns *= 2;
    }
    //  Whatever the test started and left behind would outlive the run and hold its
    //  sockets and files.
    kill (-pid, SIGKILL);
    s_child = 0;

    double ms = (s_now () - start) * 1000;
    if (timed_out)
        printf ("FAIL %s: timed out after %g s, killed\n", test->name, timeout);
    else if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        printf ("ok   %s (%.0f ms)\n", test->name, ms);
    else if (WIFEXITED (status))
        printf ("FAIL %s: exit status %d (%.0f ms)\n", test->name, WEXITSTATUS (status), ms);
    else if (WIFSIGNALED (status))
        printf ("FAIL %s: killed by signal %d (%s) (%.0f ms)\n", test->name,
                WTERMSIG (status), strsignal (WTERMSIG (status)), ms);
    else
        printf ("FAIL %s: wait status %#x\n", test->name, (unsigned) status);
    fflush (stdout);
    return !timed_out && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static void s_usage (const char *prog)
{
    fprintf (stderr,
             "usage: %s [--list] [NAME...]\n"
             "  runs the named tests (all by default), each in a child process\n"
             "  MP_TEST_TIMEOUT=SECONDS  time limit per test (default %g)\n"
             "  MP_TEST_NOFORK=1         run in this process, no time limit (for gdb)\n",
             prog, MP_TEST_DEFAULT_TIMEOUT);
}

int mp_test_main (const mp_test_t *tests, int argc, char **argv)
{
    const char *prog = argc > 0 ? argv[0] : "test";
    const char *slash = strrchr (prog, '/');
    const char *base = slash ? slash + 1 : prog;

    //  The tests to run, in the order asked for; all of them when none is named.
    size_t ntests = 0;
    while (tests[ntests].name)
        ntests++;
    const mp_test_t **chosen = calloc ((size_t) argc + ntests + 1, sizeof *chosen);
    if (!chosen) {
        fprintf (stderr, "%s: out of memory\n", base);
        return 2;
    }
    size_t nchosen = 0;
    int list = 0, unknown = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--list") == 0)
            list = 1;
        else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            s_usage (prog);
            free (chosen);
            return 0;
        }
        else if (argv[i][0] == '-') {
            fprintf (stderr, "%s: unknown option %s\n", base, argv[i]);
            s_usage (prog);
            free (chosen);
            return 2;
        }
        else if ((chosen[nchosen] = s_find (tests, argv[i])))
            nchosen++;
        else {
            fprintf (stderr, "%s: no test named %s\n", base, argv[i]);
            unknown = 1;
        }
    }
    if (unknown) {
        fprintf (stderr, "%s: tests are:", base);
        for (size_t i = 0; i < ntests; i++)
            fprintf (stderr, " %s", tests[i].name);
        fprintf (stderr, "\n");
        free (chosen);
        return 2;
    }
    if (nchosen == 0)
        for (size_t i = 0; i < ntests; i++)
            chosen[nchosen++] = &tests[i];
    if (list) {
        for (size_t i = 0; i < nchosen; i++)
            printf ("%s\n", chosen[i]->name);
        free (chosen);
        return 0;
    }

    const char *nofork = getenv ("MP_TEST_NOFORK");
    if (nofork && *nofork && strcmp (nofork, "0") != 0) {
        //  A failure aborts the whole run here: that is the point, under gdb.
        for (size_t i = 0; i < nchosen; i++) {
            chosen[i]->fn ();
            printf ("ok   %s\n", chosen[i]->name);
            fflush (stdout);
        }
        printf ("%s: %zu of %zu passed (in process)\n", base, nchosen, nchosen);
        free (chosen);
        return 0;
    }

    double timeout = s_timeout ();
    s_handle_signals (s_on_signal);
    size_t passed = 0;
    int *ok = calloc (nchosen, sizeof *ok);
    if (!ok) {
        fprintf (stderr, "%s: out of memory\n", base);
        free (chosen);
        return 2;
    }
    for (size_t i = 0; i < nchosen; i++) {
        ok[i] = s_run_forked (chosen[i], timeout);
        passed += (size_t) ok[i];
    }
    s_handle_signals (SIG_DFL);

    printf ("%s: %zu of %zu passed", base, passed, nchosen);
    if (passed < nchosen) {
        printf ("; failed:");
        for (size_t i = 0; i < nchosen; i++)
            if (!ok[i])
                printf (" %s", chosen[i]->name);
    }
    printf ("\n");
    fflush (stdout);
    free (ok);
    free (chosen);
    return passed == nchosen ? 0 : 1;
}
