//  Starting a run's zygote: `PYTHON -m pytest ARGS...` in the work dir, in a process
//  group of its own, output to a log file, told where to find the agent by env.
#ifndef MP_ZYGOTE_H
#define MP_ZYGOTE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    const char *python;    //  interpreter to run
    const char *workdir;   //  cwd of the zygote
    const char *log_path;  //  stdout and stderr go here
    const char *const *args;
    size_t nargs;
    const char *const *env; //  extra "K=V" entries, added to the agent's environment
    size_t nenv;
    const sigset_t *sigmask; //  the mask the child should run with
} mp_zygote_spec_t;

//  Forks and execs. MP_OK with the pid (also the process group id) in *pid, or with a
//  reason in err: MP_ENOMEM, or MP_EIO when the log file cannot be opened or fork fails.
int mp_zygote_spawn (const mp_zygote_spec_t *spec, pid_t *pid, char *err, size_t errlen);

//  Hands a run to a zygote made ready by the front end (mp-agent --zygote-ready), in
//  place of a spawn: the log path (as MP_WORKER_LOG=PATH) and spec's env entries,
//  each NUL-ended, on the socket it waits on (the caller closes fd: the end of the
//  stream). It must be a live child of ours. MP_OK, or MP_EIO with why in err.
int mp_zygote_hand_over (const mp_zygote_spec_t *spec, pid_t pid, int fd, char *err,
                         size_t errlen);

//  Status from waitpid as the wire carries it: exit code, or -signal (a value, not an
//  error: -1 also stands for a status that is neither).
int64_t mp_zygote_status (int wstatus);

//  Appends the last bytes (at most max) of a log file to the agent's log.
void mp_zygote_log_tail (const char *log_path, size_t max);

#endif
