//  mp-coord: the coordinator daemon.
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/error.h"
#include "../common/key.h"
#include "../common/log.h"
#include "coord.h"
#include "status_cmd.h"

#ifndef MP_VERSION
#define MP_VERSION "unknown"
#endif

static void s_usage (FILE *out)
{
    fprintf (out,
             "usage: mp-coord --listen ENDPOINT [--listen ENDPOINT ...] [--key-file F]\n"
             "                [--curve-cert F --agent-keys DIR --client-keys DIR]\n"
             "                [--insecure] [--heartbeat-ms MS] [--expiry-ms MS] [-v]\n"
             "       mp-coord --gen-cert FILE\n"
             "       mp-coord --gen-key FILE\n"
             "       mp-coord status --connect ENDPOINT [--json] ...  (see status --help)\n"
             "       mp-coord --help | --version\n"
             "\n"
             "The coordinator of pytest-mp: agents and pytest front ends connect to it.\n"
             "\n"
             "  -l, --listen ENDPOINT  bind ENDPOINT (tcp://HOST:PORT or ipc://PATH); up to 16\n"
             "  -k, --key-file F       sign and check every message with the shared key in F\n"
             "                         (16 to 256 bytes, mode 0600); MP_KEY_FILE may stand for it\n"
             "  -C, --curve-cert F     encrypt with CURVE, with the key pair F (a FILE_secret\n"
             "                         that --gen-cert wrote); needs --agent-keys, --client-keys\n"
             "  -A, --agent-keys DIR   public keys of the agents allowed in (read again on change)\n"
             "  -K, --client-keys DIR  public keys of the clients (users) allowed in\n"
             "      --insecure         allow a non-loopback endpoint with neither key nor CURVE\n"
             "      --heartbeat-ms MS  agents send a heartbeat this often (default 1000)\n"
             "      --expiry-ms MS     an agent silent this long is lost, its tests run again\n"
             "                         elsewhere (default 10000; more than --heartbeat-ms)\n"
             "  -v, --verbose          log debug messages too\n"
             "  -G, --gen-cert FILE    write a new CURVE key pair: FILE, the public key, and\n"
             "                         FILE_secret, the pair (mode 0600); then exit\n"
             "      --gen-key FILE     write a new random shared key (64 hex digits) to FILE with\n"
             "                         mode 0600, for --key-file; refuses an existing FILE\n"
             "  -h, --help             print this help and exit\n"
             "      --version          print the version and exit\n");
}

//  Loopback and ipc endpoints are reachable only from this host.
static int s_is_local (const char *endpoint)
{
    return strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0
           || strncmp (endpoint, "tcp://127.", 10) == 0
           || strncmp (endpoint, "tcp://localhost:", 16) == 0
           || strncmp (endpoint, "tcp://[::1]:", 12) == 0;
}

//  A fresh CURVE key pair: FILE holds the public key, for the allow-lists and for
//  peers to know this one by; FILE_secret the pair, for its owner alone.
static int s_gen_cert (const char *path)
{
    zcert_t *cert = zcert_new ();
    char secret[1024];
    snprintf (secret, sizeof secret, "%s_secret", path);
    mode_t old = umask (077);
    int rc = cert ? zcert_save (cert, path) : -1;
    umask (old);
    zcert_destroy (&cert);
    if (rc != 0 || chmod (path, 0644) != 0) {
        fprintf (stderr, "mp-coord: cannot write %s and %s\n", path, secret);
        return 1;
    }
    printf ("wrote %s (public key) and %s (key pair, keep it private)\n", path, secret);
    return 0;
}

//  A fresh shared key for --key-file, in the format mp_key_generate_file writes. The
//  file is created here, exclusively, so that an existing key is never replaced.
static int s_gen_key (const char *path)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        fprintf (stderr, "mp-coord: cannot create %s: %s%s\n", path, strerror (errno),
                 errno == EEXIST ? " (not overwriting an existing key)" : "");
        return 1;
    }
    close (fd);
    char err[512];
    if (mp_key_generate_file (path, err, sizeof err) != MP_OK) {
        unlink (path);
        fprintf (stderr, "mp-coord: %s\n", err);
        return 1;
    }
    printf ("wrote %s (shared key, mode 0600: copy it to every host, keep it private)\n", path);
    return 0;
}

int main (int argc, char **argv)
{
    static const struct option options[] = {
        { "listen", required_argument, NULL, 'l' },
        { "key-file", required_argument, NULL, 'k' },
        { "insecure", no_argument, NULL, 'i' },
        { "heartbeat-ms", required_argument, NULL, 'b' },
        { "expiry-ms", required_argument, NULL, 'e' },
        { "curve-cert", required_argument, NULL, 'C' },
        { "agent-keys", required_argument, NULL, 'A' },
        { "client-keys", required_argument, NULL, 'K' },
        { "gen-cert", required_argument, NULL, 'G' },
        { "gen-key", required_argument, NULL, 'g' },
        { "version", no_argument, NULL, 'V' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    if (argc > 1 && strcmp (argv[1], "status") == 0)
        return mp_status_main (argc - 1, argv + 1);
    const char *listen[16];
    size_t nlisten = 0;
    const char *key_file = getenv ("MP_KEY_FILE");
    int insecure = 0, verbose = 0;
    mp_coord_config_t config = { .heartbeat_ms = 1000, .expiry_ms = 10000 };
    int opt;
    while ((opt = getopt_long (argc, argv, "l:k:vhC:A:K:G:", options, NULL)) != -1) {
        switch (opt) {
        case 'l':
            if (nlisten == sizeof listen / sizeof *listen) {
                fprintf (stderr, "mp-coord: at most 16 --listen endpoints\n");
                return 2;
            }
            listen[nlisten++] = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'i':
            insecure = 1;
            break;
        case 'b':
            config.heartbeat_ms = strtoull (optarg, NULL, 10);
            break;
        case 'e':
            config.expiry_ms = strtoull (optarg, NULL, 10);
            break;
        case 'C':
            config.curve_cert = optarg;
            break;
        case 'A':
            config.agent_keys = optarg;
            break;
        case 'K':
            config.client_keys = optarg;
            break;
        case 'G':
            return s_gen_cert (optarg);
        case 'g':
            return s_gen_key (optarg);
        case 'V':
            printf ("mp-coord %s\n", MP_VERSION);
            return 0;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (nlisten == 0 || optind != argc || config.heartbeat_ms == 0
        || config.expiry_ms <= config.heartbeat_ms) {
        s_usage (stderr);
        return 2;
    }
    mp_log_init ("mp-coord", verbose ? MP_LOG_DEBUG : MP_LOG_INFO);
    char err[512];
    if (mp_key_load (&config.key, key_file, err, sizeof err) != MP_OK) {
        fprintf (stderr, "mp-coord: %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < nlisten; i++) {
        if (config.key.len == 0 && !config.curve_cert && !insecure && !s_is_local (listen[i])) {
            fprintf (stderr,
                     "mp-coord: refusing to listen on %s without a key: give --curve-cert "
                     "(with --agent-keys and --client-keys) or --key-file, or --insecure to "
                     "accept anyone who can reach it\n",
                     listen[i]);
            return 2;
        }
    }
    config.listen = listen;
    config.nlisten = nlisten;
    mp_coord_t *coord = mp_coord_new (&config, err, sizeof err);
    if (!coord) {
        fprintf (stderr, "mp-coord: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < nlisten; i++)
        mp_info ("listening on %s", listen[i]);
    int rc = mp_coord_run (coord);
    mp_coord_destroy (&coord);
    return rc == MP_OK ? 0 : 1;
}
