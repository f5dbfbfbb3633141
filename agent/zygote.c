#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/error.h"
#include "../common/log.h"

extern char **environ;

int mp_zygote_spawn (const mp_zygote_spec_t *spec, pid_t *pid_p, char *err, size_t errlen)
{
    //  Everything the child needs is built before fork: it only calls async-safe code.
    size_t nbase = 0;
    while (environ[nbase])
        nbase++;
    char **argv = (char **) calloc (spec->nargs + 4, sizeof (char *));
    char **envp = (char **) calloc (nbase + spec->nenv + 1, sizeof (char *));
    if (!argv || !envp) {
        free (argv);
        free (envp);
        mp_set_error (err, errlen, "out of memory");
        return MP_ENOMEM;
    }
    argv[0] = (char *) spec->python;
    argv[1] = (char *) "-m";
    argv[2] = (char *) "pytest";
    for (size_t i = 0; i < spec->nargs; i++)
        argv[3 + i] = (char *) spec->args[i];
    size_t n = 0;
    for (size_t i = 0; i < nbase; i++)
        if (strncmp (environ[i], "MP_WORKER_", 10) != 0)
            envp[n++] = environ[i];
    for (size_t i = 0; i < spec->nenv; i++)
        envp[n++] = (char *) spec->env[i];

    int log = open (spec->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log == -1 || null == -1) {
        mp_set_error (err, errlen, "cannot open %s: %s", spec->log_path, strerror (errno));
        if (log != -1)
            close (log);
        if (null != -1)
            close (null);
        free (argv);
        free (envp);
        return MP_EIO;
    }
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0) {
        //  The zygote does not outlive the agent: nobody else would stop it.
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        setpgid (0, 0);
        sigprocmask (SIG_SETMASK, spec->sigmask, NULL);
        if (dup2 (null, 0) == -1 || dup2 (log, 1) == -1 || dup2 (log, 2) == -1
            || chdir (spec->workdir) != 0)
            _exit (127);
        execve (spec->python, argv, envp);
        execvpe (spec->python, argv, envp);
        dprintf (2, "mp-agent: cannot run %s: %s\n", spec->python, strerror (errno));
        _exit (127);
    }
    int saved = errno;
    close (log);
    close (null);
    free (argv);
    free (envp);
    if (pid == -1) {
        mp_set_error (err, errlen, "fork failed: %s", strerror (saved));
        return MP_EIO;
    }
    //  Also from the parent, so killpg works even before the child ran setpgid.
    setpgid (pid, pid);
    *pid_p = pid;
    return MP_OK;
}

static int s_send_entry (int fd, const char *prefix, const char *text)
{
    const char *parts[] = { prefix, text };
    for (size_t i = 0; i < 2; i++) {
        size_t len = strlen (parts[i]) + (i == 1); //  the NUL after the entry
        for (size_t sent = 0; sent < len;) {
            ssize_t n = send (fd, parts[i] + sent, len - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            sent += (size_t) n;
        }
    }
    return 0;
}

int mp_zygote_hand_over (const mp_zygote_spec_t *spec, pid_t pid, int fd, char *err,
                         size_t errlen)
{
    int wstatus;
    pid_t state = waitpid (pid, &wstatus, WNOHANG);
    int rc = MP_OK;
    if (state != 0) {
        mp_set_error (err, errlen, "the ready zygote %d is %s", (int) pid,
                      state > 0 ? "gone" : "not a child of this agent");
        rc = MP_EIO;
    }
    for (size_t i = 0; rc == MP_OK && i <= spec->nenv; i++)
        if ((i == 0 ? s_send_entry (fd, "MP_WORKER_LOG=", spec->log_path)
                    : s_send_entry (fd, "", spec->env[i - 1]))
            != 0) {
            mp_set_error (err, errlen, "cannot hand the run to zygote %d: %s", (int) pid,
                          strerror (errno));
            rc = MP_EIO;
        }
    if (rc == MP_OK)
        setpgid (pid, pid); //  it makes its own group too; either may come first
    return rc;
}

int64_t mp_zygote_status (int wstatus)
{
    if (WIFSIGNALED (wstatus))
        return -(int64_t) WTERMSIG (wstatus);
    if (WIFEXITED (wstatus))
        return WEXITSTATUS (wstatus);
    return -1;
}

void mp_zygote_log_tail (const char *log_path, size_t max)
{
    FILE *f = fopen (log_path, "r");
    if (!f)
        return;
    char *buf = (char *) malloc (max + 1);
    if (buf) {
        if (fseek (f, 0, SEEK_END) == 0) {
            long size = ftell (f);
            long from = size > (long) max ? size - (long) max : 0;
            if (fseek (f, from, SEEK_SET) == 0) {
                size_t got = fread (buf, 1, max, f);
                buf[got] = '\0';
                mp_warn ("last output of %s:\n%s", log_path, buf);
            }
        }
        free (buf);
    }
    fclose (f);
}
