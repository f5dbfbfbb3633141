//  mp-agent: runs on each test host, connects to the coordinator, forks units from a zygote.
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "../common/curve_cert.h"
#include "../common/error.h"
#include "../common/log.h"
#include "agent.h"

static void s_usage (FILE *out)
{
    fprintf (out, "usage: mp-agent --connect ENDPOINT --np N [--key-file F] [--workdir DIR]\n"
                  "                [--python PATH] [--name NAME] [-v]\n"
                  "                [--curve-cert KEYPAIR --coord-cert COORD_PUBLIC_KEY]\n"
                  "MP_KEY_FILE may stand for --key-file.\n");
}

int main (int argc, char **argv)
{
    static const struct option options[] = {
        { "connect", required_argument, NULL, 'c' }, { "np", required_argument, NULL, 'n' },
        { "key-file", required_argument, NULL, 'k' }, { "workdir", required_argument, NULL, 'w' },
        { "python", required_argument, NULL, 'p' },  { "name", required_argument, NULL, 'N' },
        { "curve-cert", required_argument, NULL, 'C' },
        { "coord-cert", required_argument, NULL, 'S' },
        { "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    mp_agent_config_t config = { .python = "python3" };
    const char *key_file = getenv ("MP_KEY_FILE"), *workdir = ".", *name = NULL;
    const char *curve_cert = NULL, *coord_cert = NULL;
    long slots = sysconf (_SC_NPROCESSORS_ONLN);
    int verbose = 0, opt;
    while ((opt = getopt_long (argc, argv, "c:n:k:w:p:N:vhC:S:", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'c':
            config.connect = optarg;
            break;
        case 'n':
            slots = strtol (optarg, &end, 10);
            if (*end || slots < 1 || slots > 4096) {
                fprintf (stderr, "mp-agent: --np must be 1..4096, not %s\n", optarg);
                return 2;
            }
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'w':
            workdir = optarg;
            break;
        case 'p':
            config.python = optarg;
            break;
        case 'N':
            name = optarg;
            break;
        case 'C':
            curve_cert = optarg;
            break;
        case 'S':
            coord_cert = optarg;
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
    if (!config.connect || optind != argc || !curve_cert != !coord_cert) {
        s_usage (stderr);
        return 2;
    }
    if (curve_cert) {
        char err[512];
        if (mp_curve_cert_read (curve_cert, config.curve_public, config.curve_secret, err,
                                sizeof err)
                != MP_OK
            || mp_curve_cert_read (coord_cert, config.coord_public, NULL, err, sizeof err)
                   != MP_OK) {
            fprintf (stderr, "mp-agent: %s\n", err);
            return 2;
        }
    }
    mp_log_init ("mp-agent", verbose ? MP_LOG_DEBUG : MP_LOG_INFO);
    zsys_handler_set (NULL); //  signals are read from a signalfd instead
    char err[512], abs_workdir[PATH_MAX], abs_key[PATH_MAX] = "", hostname[256] = "";
    if (!realpath (workdir, abs_workdir)) {
        fprintf (stderr, "mp-agent: no such work dir %s\n", workdir);
        return 2;
    }
    if (key_file && *key_file && !realpath (key_file, abs_key)) {
        fprintf (stderr, "mp-agent: no such key file %s\n", key_file);
        return 2;
    }
    if (mp_key_load (&config.key, abs_key, err, sizeof err) != MP_OK) {
        fprintf (stderr, "mp-agent: %s\n", err);
        return 2;
    }
    gethostname (hostname, sizeof hostname - 1);
    char default_name[300];
    snprintf (default_name, sizeof default_name, "%s-%d", hostname, (int) getpid ());
    config.slots = (size_t) slots;
    config.key_file = abs_key;
    config.workdir = abs_workdir;
    config.name = name ? name : default_name;
    config.hostname = hostname;
    mp_agentd_t *agent = mp_agentd_new (&config, err, sizeof err);
    if (!agent) {
        fprintf (stderr, "mp-agent: %s\n", err);
        return 1;
    }
    int rc = mp_agentd_run (agent);
    mp_agentd_destroy (&agent);
    return rc == MP_OK ? 0 : 1;
}
