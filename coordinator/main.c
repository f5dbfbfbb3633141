//  mp-coord: the coordinator daemon.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/log.h"
#include "coord.h"

static void s_usage (FILE *out)
{
    fprintf (out,
             "usage: mp-coord --listen ENDPOINT [--listen ENDPOINT ...] [--key-file F]\n"
             "                [--insecure] [--heartbeat-ms MS] [--expiry-ms MS] [-v]\n"
             "MP_KEY_FILE may stand for --key-file.\n");
}

//  Loopback and ipc endpoints are reachable only from this host.
static int s_is_local (const char *endpoint)
{
    return strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0
           || strncmp (endpoint, "tcp://127.", 10) == 0
           || strncmp (endpoint, "tcp://localhost:", 16) == 0
           || strncmp (endpoint, "tcp://[::1]:", 12) == 0;
}

int main (int argc, char **argv)
{
    static const struct option options[] = {
        { "listen", required_argument, NULL, 'l' },
        { "key-file", required_argument, NULL, 'k' },
        { "insecure", no_argument, NULL, 'i' },
        { "heartbeat-ms", required_argument, NULL, 'b' },
        { "expiry-ms", required_argument, NULL, 'e' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *listen[16];
    size_t nlisten = 0;
    const char *key_file = getenv ("MP_KEY_FILE");
    int insecure = 0, verbose = 0;
    mp_coord_config_t config = { .heartbeat_ms = 1000, .expiry_ms = 10000 };
    int opt;
    while ((opt = getopt_long (argc, argv, "l:k:vh", options, NULL)) != -1) {
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
        if (config.key.len == 0 && !insecure && !s_is_local (listen[i])) {
            fprintf (stderr,
                     "mp-coord: refusing to listen on %s without a key: give --key-file, "
                     "or --insecure to accept anyone who can reach it\n",
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
