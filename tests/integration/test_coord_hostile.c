//  mp-coord under hostile input: frames it cannot verify or parse are dropped without
//  an answer, and it keeps serving; it refuses a non-loopback address without a key.
#include <czmq.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/error.h"
#include "../../common/log.h"
#include "../../proto/wire.h"
#include "../c/testing.h"

static const char *s_coord;
static char s_dir[] = "/tmp/mp-hostile-XXXXXX";

static pid_t s_spawn (char *const argv[], int quiet)
{
    pid_t pid = fork ();
    if (pid == 0) {
        if (quiet) {
            FILE *null = freopen ("/dev/null", "w", stderr);
            (void) null;
        }
        execv (s_coord, argv);
        _exit (127);
    }
    ASSERT_TRUE (pid > 0);
    return pid;
}

//  Sends raw frames; each is (data, size).
static void s_send_raw (zsock_t *sock, const void *const *frames, const size_t *sizes,
                        size_t n)
{
    zmsg_t *msg = zmsg_new ();
    for (size_t i = 0; i < n; i++)
        zmsg_addmem (msg, frames[i], sizes[i]);
    ASSERT_EQ (zmsg_send (&msg, sock), 0);
}

//  Sends a header and body signed with key.
static void s_send_signed (zsock_t *sock, const mp_key_t *key, const void *header,
                           size_t hlen, const void *body, size_t blen)
{
    uint8_t mac[MP_MAC_LEN];
    ASSERT_EQ (mp_hmac (key, header, hlen, body, blen, mac), 0);
    const void *frames[] = { header, body, mac };
    size_t sizes[] = { hlen, blen, MP_MAC_LEN };
    s_send_raw (sock, frames, sizes, 3);
}

static int s_readable (zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    return which != NULL;
}

static void s_garbage_is_dropped_and_service_goes_on (const char *dir)
{
    char key_path[512], endpoint[600];
    snprintf (key_path, sizeof key_path, "%s/key", dir);
    snprintf (endpoint, sizeof endpoint, "ipc://%s/coord.ipc", dir);
    char err[256];
    ASSERT_EQ (mp_key_generate_file (key_path, err, sizeof err), 0);
    mp_key_t key, wrong = { .len = 20 };
    ASSERT_EQ (mp_key_load (&key, key_path, err, sizeof err), 0);
    memset (wrong.bytes, 'w', wrong.len);

    char *argv[] = { "mp-coord", "--listen", endpoint, "--key-file", key_path, NULL };
    pid_t pid = s_spawn (argv, 1);
    zsock_t *sock = zsock_new_dealer (endpoint);
    ASSERT_NOT_NULL (sock);

    //  A valid header for an AGENTS request, to sign wrongly or pair with bad bodies.
    mp_msg_t *agents = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_set_from (agents, "hostile");
    mp_msg_set_reqid (agents, 7);
    mp_frames_t good;
    ASSERT_EQ (mp_codec_encode (agents, &key, &good, err, sizeof err), 0);

    const char *one = "hello";
    s_send_raw (sock, (const void *[]) { one }, (size_t[]) { 5 }, 1);
    s_send_raw (sock, (const void *[]) { one, one, one, one, one },
                (size_t[]) { 5, 5, 5, 5, 5 }, 5);
    //  Right shape, wrong key.
    s_send_signed (sock, &wrong, good.header, good.header_len, good.body, good.body_len);
    //  Right key, bodies that lie: 4G-element array, a map, trailing bytes, a string.
    const char *bodies[] = { "\xdd\xff\xff\xff\xff", "\x81\x01\x02", "\x90\x00", "\xa3" "abc" };
    const size_t lens[] = { 5, 3, 2, 4 };
    for (size_t i = 0; i < 4; i++)
        s_send_signed (sock, &key, good.header, good.header_len, bodies[i], lens[i]);
    //  Right key, a header announcing 4G strings.
    s_send_signed (sock, &key, "\x96\x01\x20\x07\xdb\xff\xff\xff\xff", 9, good.body,
                   good.body_len);
    ASSERT_TRUE (!s_readable (sock, 300)); //  nothing is answered

    //  The daemon is alive and answers a valid request.
    ASSERT_EQ (waitpid (pid, NULL, WNOHANG), 0);
    s_send_signed (sock, &key, good.header, good.header_len, good.body, good.body_len);
    ASSERT_TRUE (s_readable (sock, 5000));
    zmsg_t *reply = zmsg_recv (sock);
    mp_msg_t *msg = NULL;
    ASSERT_EQ (mp_wire_decode (reply, &key, &mp_limits_default, &msg, err, sizeof err), MP_OK);
    ASSERT_NOT_NULL (msg);
    ASSERT_EQ (mp_msg_type (msg), MP_MSG_OK);
    ASSERT_EQ (mp_msg_reqid (msg), 7);
    ASSERT_EQ (mp_msg_u64 (msg, 0), 0); //  no agents
    mp_msg_destroy (&msg);
    zmsg_destroy (&reply);

    mp_frames_clear (&good);
    mp_msg_destroy (&agents);
    zsock_destroy (&sock);
    kill (pid, SIGTERM);
    int status;
    ASSERT_EQ (waitpid (pid, &status, 0), pid);
    ASSERT_TRUE (WIFEXITED (status));
    ASSERT_EQ (WEXITSTATUS (status), 0);
    unlink (key_path);
}

//  The coordinator's resident memory in kB, from /proc.
static long s_rss_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen (path, "r");
    ASSERT_NOT_NULL (f);
    long kb = -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose (f);
    return kb;
}

//  A signed AGENTS request on a new connection is answered OK.
static void s_assert_serves (const char *endpoint, const mp_key_t *key)
{
    zsock_t *sock = zsock_new_dealer (endpoint);
    ASSERT_NOT_NULL (sock);
    mp_msg_t *agents = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_set_from (agents, "probe");
    mp_msg_set_reqid (agents, 9);
    char err[256];
    ASSERT_EQ (mp_wire_send (sock, NULL, agents, key, err, sizeof err), MP_OK);
    ASSERT_TRUE (s_readable (sock, 5000));
    zmsg_t *reply = zmsg_recv (sock);
    mp_msg_t *msg = NULL;
    ASSERT_EQ (mp_wire_decode (reply, key, &mp_limits_default, &msg, err, sizeof err), MP_OK);
    ASSERT_EQ (mp_msg_type (msg), MP_MSG_OK);
    mp_msg_destroy (&msg);
    zmsg_destroy (&reply);
    mp_msg_destroy (&agents);
    zsock_destroy (&sock);
}

//  A coordinator with a fresh key on an ipc endpoint in s_dir, its stderr in log.
static pid_t s_start_keyed (mp_key_t *key, char *endpoint, size_t size, const char *log)
{
    char key_path[512], err[256];
    snprintf (key_path, sizeof key_path, "%s/key", s_dir);
    snprintf (endpoint, size, "ipc://%s/coord.ipc", s_dir);
    ASSERT_EQ (mp_key_generate_file (key_path, err, sizeof err), 0);
    ASSERT_EQ (mp_key_load (key, key_path, err, sizeof err), 0);
    pid_t pid = fork ();
    if (pid == 0) {
        FILE *out = freopen (log, "w", stderr);
        (void) out;
        execl (s_coord, "mp-coord", "--listen", endpoint, "--key-file", key_path,
               (char *) NULL);
        _exit (127);
    }
    ASSERT_TRUE (pid > 0);
    s_assert_serves (endpoint, key); //  up
    return pid;
}

//  Stops a coordinator s_start_keyed started, and removes its key.
static void s_stop (pid_t pid)
{
    kill (pid, SIGTERM);
    int status;
    ASSERT_EQ (waitpid (pid, &status, 0), pid);
    ASSERT_TRUE (WIFEXITED (status));
    char key_path[512];
    snprintf (key_path, sizeof key_path, "%s/key", s_dir);
    unlink (key_path);
}

static void test_an_oversize_frame_is_refused_before_it_is_buffered (void)
{
    zsys_init ();
    mp_key_t key;
    char endpoint[600], log[600];
    snprintf (log, sizeof log, "%s/coord.log", s_dir);
    pid_t pid = s_start_keyed (&key, endpoint, sizeof endpoint, log);
    long before = s_rss_kb (pid);

    //  100 MB in one frame, from a peer that proved nothing.
    size_t big = 100u << 20;
    char *data = (char *) calloc (1, big);
    ASSERT_NOT_NULL (data);
    zsock_t *sock = zsock_new_dealer (endpoint);
    zsock_set_sndtimeo (sock, 5000);
    s_send_raw (sock, (const void *[]) { data }, (size_t[]) { big }, 1);
    zclock_sleep (1500);
    long after = s_rss_kb (pid);
    ASSERT_TRUE (after - before < 30 * 1024); //  not buffered: under 30 MB more
    ASSERT_EQ (waitpid (pid, NULL, WNOHANG), 0);
    s_assert_serves (endpoint, &key);

    zsock_destroy (&sock);
    free (data);
    s_stop (pid);
    unlink (log);
}

static void test_a_flood_of_garbage_costs_a_few_log_lines_and_blocks_its_sender (void)
{
    zsys_init ();
    mp_key_t key;
    char endpoint[600], log[600];
    snprintf (log, sizeof log, "%s/flood.log", s_dir);
    pid_t pid = s_start_keyed (&key, endpoint, sizeof endpoint, log);

    //  50 connections, 30 garbage messages each: 1,500 drops.
    zsock_t *socks[50];
    for (size_t i = 0; i < 50; i++) {
        socks[i] = zsock_new_dealer (endpoint);
        ASSERT_NOT_NULL (socks[i]);
        for (int j = 0; j < 30; j++)
            s_send_raw (socks[i], (const void *[]) { "junk" }, (size_t[]) { 4 }, 1);
    }
    zclock_sleep (1000);
    //  A sender past its share is not even verified: its valid request goes unanswered.
    mp_msg_t *agents = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_set_from (agents, "flooder");
    mp_msg_set_reqid (agents, 3);
    char err[256];
    ASSERT_EQ (mp_wire_send (socks[0], NULL, agents, &key, err, sizeof err), MP_OK);
    ASSERT_TRUE (!s_readable (socks[0], 500));
    mp_msg_destroy (&agents);
    //  Others are served.
    s_assert_serves (endpoint, &key);
    s_stop (pid);
    for (size_t i = 0; i < 50; i++)
        zsock_destroy (&socks[i]);

    //  A handful of lines, not one per message; each names an address.
    FILE *f = fopen (log, "r");
    ASSERT_NOT_NULL (f);
    char line[2048];
    int warnings = 0;
    while (fgets (line, sizeof line, f)) {
        if (strstr (line, "WARN:"))
            warnings++;
        if (strstr (line, "dropped message") && !strstr (line, " (id "))
            MP_FAIL_AT ("a drop not naming the connection: %s", line);
    }
    fclose (f);
    ASSERT_TRUE (warnings <= 3 * MP_LOG_BURST);
    unlink (log);
}

static void test_refuses_open_address_without_key (void)
{
    char *argv[] = { "mp-coord", "--listen", "tcp://0.0.0.0:0", NULL };
    pid_t pid = s_spawn (argv, 1);
    int status;
    ASSERT_EQ (waitpid (pid, &status, 0), pid);
    ASSERT_TRUE (WIFEXITED (status));
    ASSERT_EQ (WEXITSTATUS (status), 2);
}

static void test_garbage_is_dropped_and_service_goes_on (void)
{
    zsys_init ();
    s_garbage_is_dropped_and_service_goes_on (s_dir);
}

static const mp_test_t tests[] = {
    MP_TEST (test_garbage_is_dropped_and_service_goes_on),
    MP_TEST (test_refuses_open_address_without_key),
    MP_TEST (test_an_oversize_frame_is_refused_before_it_is_buffered),
    MP_TEST (test_a_flood_of_garbage_costs_a_few_log_lines_and_blocks_its_sender),
    { NULL, NULL },
};

//  The mp-coord path is ours; any further arguments are the runner's.
int main (int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf (stderr, "usage: %s PATH-TO-mp-coord [--list] [NAME...]\n", argv[0]);
        return 2;
    }
    s_coord = argv[1];
    //  zsys_init () is left to the test: the zmq context's threads would not survive the
    //  fork into it.
    ASSERT_NOT_NULL (mkdtemp (s_dir));
    argv[1] = argv[0];
    int rc = mp_test_main (tests, argc - 1, argv + 1);
    char socket_path[600];
    snprintf (socket_path, sizeof socket_path, "%s/coord.ipc", s_dir);
    unlink (socket_path);
    rmdir (s_dir);
    return rc;
}
