#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
