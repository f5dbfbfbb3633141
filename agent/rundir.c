//  The agent's private directory under /tmp (its local endpoint, each run's log and
//  checkout), and the sweep of those that agents killed before they could remove
//  theirs.
//
//  An agent holds an flock on RUNDIR/owner.lock for its life; the kernel drops it
//  however the agent ends. A directory of ours (our uid, a real directory) whose lock
//  can be taken is an abandoned one. A directory without the lock file is left alone:
//  it may belong to a live agent of an older version.
#include "agent_private.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#define MP_RUNDIR_BASE "/tmp"
#define MP_RUNDIR_PREFIX "mp-agent-"
#define MP_RUNDIR_LOCK "owner.lock"

int mp_agentd_rundir_make (mp_agentd_t *self, char *err, size_t errlen)
{
    snprintf (self->rundir, sizeof self->rundir, "%s/%sXXXXXX", MP_RUNDIR_BASE,
              MP_RUNDIR_PREFIX);
    if (!mkdtemp (self->rundir)) {
        self->rundir[0] = '\0';
        mp_set_error (err, errlen, "cannot make a private directory: %s", strerror (errno));
        return MP_EIO;
    }
    //  Locked under another name, then renamed: a sweeping agent never finds the lock
    //  file free in the moment between its creation and its lock.
    char path[320], taken[330];
    snprintf (path, sizeof path, "%s/%s", self->rundir, MP_RUNDIR_LOCK);
    snprintf (taken, sizeof taken, "%s.new", path);
    self->rundir_lock = open (taken, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (self->rundir_lock == -1 || flock (self->rundir_lock, LOCK_EX | LOCK_NB) != 0
        || rename (taken, path) != 0) {
        mp_set_error (err, errlen, "cannot lock %s: %s", path, strerror (errno));
        return MP_EIO;
    }
    return MP_OK;
}

void mp_agentd_rundir_remove (mp_agentd_t *self)
{
    if (!self->rundir[0])
        return;
    char path[320];
    snprintf (path, sizeof path, "%s/agent.ipc", self->rundir);
    unlink (path);
    snprintf (path, sizeof path, "%s/%s", self->rundir, MP_RUNDIR_LOCK);
    unlink (path);
    if (self->rundir_lock != -1)
        close (self->rundir_lock);
    self->rundir_lock = -1;
    rmdir (self->rundir);
}

//  Removes an abandoned directory: its files (not directories), then itself.
static void s_remove_abandoned (int base, const char *name)
{
    int dir = openat (base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir == -1)
        return;
    int lock = openat (dir, MP_RUNDIR_LOCK, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    //  Taken: its agent is gone (ours is held as long as we live).
    if (lock == -1 || flock (lock, LOCK_EX | LOCK_NB) != 0) {
        if (lock != -1)
            close (lock);
        close (dir);
        return;
    }
    DIR *entries = fdopendir (dup (dir));
    struct dirent *entry;
    while (entries && (entry = readdir (entries)))
        if (entry->d_name[0] != '.' && strcmp (entry->d_name, MP_RUNDIR_LOCK) != 0)
            unlinkat (dir, entry->d_name, 0);
    if (entries)
        closedir (entries);
    unlinkat (dir, MP_RUNDIR_LOCK, 0);
    close (lock);
    close (dir);
    if (unlinkat (base, name, AT_REMOVEDIR) == 0)
        mp_info ("removed %s/%s, left by an agent that was killed", MP_RUNDIR_BASE, name);
}

void mp_agentd_rundir_sweep (mp_agentd_t *self)
{
    int base = open (MP_RUNDIR_BASE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base == -1)
        return;
    DIR *entries = fdopendir (dup (base));
    const char *mine = strrchr (self->rundir, '/');
    struct dirent *entry;
    while (entries && (entry = readdir (entries))) {
        struct stat st;
        if (strncmp (entry->d_name, MP_RUNDIR_PREFIX, strlen (MP_RUNDIR_PREFIX)) != 0
            || (mine && strcmp (entry->d_name, mine + 1) == 0)
            || fstatat (base, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISDIR (st.st_mode) || st.st_uid != geteuid ())
            continue;
        s_remove_abandoned (base, entry->d_name);
    }
    if (entries)
        closedir (entries);
    close (base);
}
