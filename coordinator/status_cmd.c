//  `mp-coord status`: asks a running coordinator what is connected and running now
//  (STATUS) and prints its answer, as lines or, with --json, as JSON.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../client/client.h"
#include "status_cmd.h"

#define S_TIMEOUT_MS 10000

static void s_usage (FILE *out)
{
    fprintf (out,
             "usage: mp-coord status --connect ENDPOINT [--key-file F | --curve-cert KEYPAIR\n"
             "                       --coord-cert COORD_PUBLIC_KEY] [--json]\n"
             "\n"
             "Prints the coordinator's agents (name, host, address, slots, busy slots,\n"
             "labels, last heartbeat) and runs (who started them, tests done of total,\n"
             "what runs now and for how long).\n"
             "\n"
             "  -c, --connect ENDPOINT  the coordinator (tcp://HOST:PORT, ipc://PATH)\n"
             "  -k, --key-file F        its shared key; MP_KEY_FILE may stand for it\n"
             "  -C, --curve-cert KEYPAIR  a client key pair the coordinator allows\n"
             "  -S, --coord-cert COORD_PUBLIC_KEY  the coordinator's public key file\n"
             "  -j, --json              the same as JSON, for scripts\n"
             "  -h, --help              print this help and exit\n");
}

int mp_status_main (int argc, char **argv)
{
    static const struct option options[] = {
        { "connect", required_argument, NULL, 'c' }, { "key-file", required_argument, NULL, 'k' },
        { "curve-cert", required_argument, NULL, 'C' },
        { "coord-cert", required_argument, NULL, 'S' },
        { "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *endpoint = NULL, *key_file = getenv ("MP_KEY_FILE"), *cert = NULL,
               *coord_cert = NULL;
    int json = 0, opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "c:k:C:S:jh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            endpoint = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'C':
            cert = optarg;
            break;
        case 'S':
            coord_cert = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (!endpoint || optind != argc || !cert != !coord_cert) {
        s_usage (stderr);
        return 2;
    }
    char err[512], name[96];
    snprintf (name, sizeof name, "status-%d", (int) getpid ());
    mpc_t *client = mpc_new_curve (endpoint, key_file, name, cert, coord_cert, err,
                                   sizeof err);
    if (!client) {
        fprintf (stderr, "mp-coord status: %s\n", err);
        return 2;
    }
    mp_msg_t *ask = mp_msg_new (MP_MSG_STATUS);
    mp_msg_t *reply = ask ? mpc_request (client, ask, S_TIMEOUT_MS) : NULL;
    int rc = 1;
    if (reply && mp_msg_type (reply) == MP_MSG_STATUS_INFO) {
        mp_status_info_msg_t info;
        mp_status_info_msg_view (reply, &info);
        if (json)
            printf ("%.*s\n", (int) info.json.len, (const char *) info.json.data);
        else
            printf ("%.*s", (int) info.text.len, (const char *) info.text.data);
        rc = 0;
    }
    else if (reply && mp_msg_type (reply) == MP_MSG_ERROR) {
        mp_error_msg_t error;
        mp_error_msg_view (reply, &error);
        fprintf (stderr, "mp-coord status: %s refused: %s\n", endpoint, error.reason);
    }
    else
        fprintf (stderr, "mp-coord status: no answer from %s within %d s: %s (is mp-coord "
                 "running there, with the same key?)\n", endpoint, S_TIMEOUT_MS / 1000,
                 ask ? mpc_error (client) : "out of memory");
    mp_msg_destroy (&reply);
    mp_msg_destroy (&ask);
    mpc_destroy (&client);
    return rc;
}
