//  mp-agent: runs on each test host, connects to the coordinator, forks units from a zygote.
#include <fcntl.h>
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

#ifndef MP_VERSION
#define MP_VERSION "unknown"
#endif
//  The interpreter the agent was installed with (set by the build), else python3.
#ifndef MP_DEFAULT_PYTHON
#define MP_DEFAULT_PYTHON "python3"
#endif
#define MP_MAX_LABELS 64
#define MP_MAX_LABEL 128

//  A label is KEY or KEY=VALUE: a non-empty key, no commas or spaces, bounded.
static int s_label_ok (const char *label)
{
    size_t len = strlen (label);
    return len > 0 && len <= MP_MAX_LABEL && label[0] != '=' && !strpbrk (label, ", \t\n");
}

//  0 when python has pytest and the plugin; else prints why and returns 1. They are
//  found, not imported: an import of pytest costs a run's start half a second on a
//  slow host, and the zygote imports them anyway.
static int s_check_python (const char *python)
{
    char *cmd = zsys_sprintf (
        "'%s' -c 'import sys, importlib.util as u; m = [n for n in (\"pytest\", "
        "\"pytest_mp\") if u.find_spec(n) is None]; sys.exit(\"No module named \" + "
        "\" or \".join(m) if m else 0)' 2>&1",
        python);
    FILE *out = cmd && !strchr (python, '\'') ? popen (cmd, "r") : NULL;
    zstr_free (&cmd);
    char said[2048] = "";
    size_t got = out ? fread (said, 1, sizeof said - 1, out) : 0;
    said[got] = '\0';
    int status = out ? pclose (out) : -1;
    if (status == 0)
        return 0;
    char *last = strrchr (said, '\n');
    while (last && last > said && last[1] == '\0') {
        *last = '\0';
        last = strrchr (said, '\n');
    }
    fprintf (stderr, "mp-agent: %s cannot import pytest and pytest_mp (%s): give the Python "
             "that has them with --python\n", python,
             out ? (last ? last + 1 : said) : "cannot run it");
    return 1;
}

static void s_usage (FILE *out)
{
    fprintf (out,
             "usage: mp-agent --connect ENDPOINT [--np N] [--key-file F] [--workdir DIR]\n"
             "                [--python PATH] [--name NAME] [--label KEY[=VALUE]]... [-v]\n"
             "                [--curve-cert KEYPAIR --coord-cert COORD_PUBLIC_KEY]\n"
             "                [--relay-sync]\n"
             "       mp-agent --help | --version\n"
             "\n"
             "The agent of pytest-mp: runs on each test host, takes tests from the\n"
             "coordinator and runs them in pytest processes forked from a zygote.\n"
             "\n"
             "  -c, --connect ENDPOINT  the coordinator's endpoint (tcp://HOST:PORT, ipc://PATH)\n"
             "  -n, --np N              run up to N tests at once, 1..4096 (default: the\n"
             "                          number of CPUs online)\n"
             "  -k, --key-file F        the shared key the coordinator has (16 to 256 bytes,\n"
             "                          mode 0600); MP_KEY_FILE may stand for it\n"
             "  -w, --workdir DIR       run pytest in DIR, a checkout of the suite the same as\n"
             "                          the user's (default: the current directory)\n"
             "  -p, --python PATH       the Python with pytest and pytest-mp to run tests with\n"
             "                          (default: " MP_DEFAULT_PYTHON "); checked at start\n"
             "  -N, --name NAME         this agent's name in reports (default: HOSTNAME-PID)\n"
             "  -l, --label KEY[=VALUE] what this host offers, for tests marked\n"
             "                          mp_requires(KEY) or mp_requires(KEY=VALUE); repeatable\n"
             "  -C, --curve-cert KEYPAIR  encrypt with CURVE, with this host's key pair (a\n"
             "                          FILE_secret that mp-coord --gen-cert wrote)\n"
             "  -S, --coord-cert COORD_PUBLIC_KEY  the coordinator's public key file; given\n"
             "                          together with --curve-cert\n"
             "  -R, --relay-sync        tests' board, lock and trail requests go through this\n"
             "                          agent; by default a unit process sends them straight\n"
             "                          to the coordinator's ENDPOINT on a line of its own\n"
             "      --zygote-ready PID:FD  for pytest --mp, which starts its own agent: PID, a\n"
             "                          child of this agent, is a zygote waiting on socket FD\n"
             "                          for its run (the first run collected early)\n"
             "  -v, --verbose           log debug messages too\n"
             "  -h, --help              print this help and exit\n"
             "      --version           print the version and exit\n");
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
        { "version", no_argument, NULL, 'V' },       { "label", required_argument, NULL, 'l' },
        { "relay-sync", no_argument, NULL, 'R' },
        { "zygote-ready", required_argument, NULL, 'Z' },
        { NULL, 0, NULL, 0 }
    };
    mp_agent_config_t config = { .python = MP_DEFAULT_PYTHON, .ready_fd = -1 };
    const char *labels[MP_MAX_LABELS];
    const char *key_file = getenv ("MP_KEY_FILE"), *workdir = ".", *name = NULL;
    const char *curve_cert = NULL, *coord_cert = NULL;
    long slots = sysconf (_SC_NPROCESSORS_ONLN);
    int verbose = 0, opt;
    while ((opt = getopt_long (argc, argv, "c:n:k:w:p:N:vhC:S:l:R", options, NULL)) != -1) {
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
        case 'l':
            if (!s_label_ok (optarg) || config.nlabels == MP_MAX_LABELS) {
                fprintf (stderr, "mp-agent: --label %s: want KEY or KEY=VALUE (no commas or "
                         "spaces, %d bytes at most, %d labels at most)\n", optarg,
                         MP_MAX_LABEL, MP_MAX_LABELS);
                return 2;
            }
            labels[config.nlabels++] = optarg;
            break;
        case 'C':
            curve_cert = optarg;
            break;
        case 'S':
            coord_cert = optarg;
            break;
        case 'R':
            config.relay_sync = 1;
            break;
        case 'Z': {
            long pid = 0, fd = -1;
            char tail;
            //  The socket stays ours alone: not inherited by the processes we start.
            if (sscanf (optarg, "%ld:%ld%c", &pid, &fd, &tail) != 2 || pid <= 1 || fd < 3
                || fcntl ((int) fd, F_SETFD, FD_CLOEXEC) != 0) {
                fprintf (stderr, "mp-agent: --zygote-ready wants PID:FD of a child, not %s\n",
                         optarg);
                return 2;
            }
            config.ready_zygote = (pid_t) pid;
            config.ready_fd = (int) fd;
            break;
        }
        case 'v':
            verbose = 1;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        case 'V':
            printf ("mp-agent %s\n", MP_VERSION);
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
    config.labels = labels;
    //  A front end that made a zygote ready for us runs that very Python, pytest_mp
    //  imported: no need to start another to check (it would delay the first test).
    if (!config.ready_zygote && s_check_python (config.python) != 0)
        return 2;
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
