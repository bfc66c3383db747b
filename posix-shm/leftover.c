/* posix-shm/leftover.c - what a killed posix-shm/reader leaves, and --cleanup.
 * kill -9 leaves the object in /dev/shm (until shm_unlink() or a reboot) and
 * the reader's record.  The next reader, or --cleanup, removes it only when it
 * is provably stale (objects.h's require_stale): ours (a regular file of our
 * uid, 0600); made by the reader the record names (pid, start time, and the
 * object's inode), which is gone; used by nobody -- provably, as a writer
 * looks every 200 ms whether its reader still runs.  An object no record
 * names is refused.  Removal is shm_unlink(): the same as `rm /dev/shm/NAME`.
 */
#include "ring.h"

#include "../common/common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[PATH_MAX], what[PATH_MAX + 32], removal[PATH_MAX + 8], record[PATH_MAX];

bool remove_leftover(const char *name)
{
    struct stat st;
    struct owner o;
    snprintf(path, sizeof path, "/dev/shm%s", name);
    ipc_path(record, sizeof record, RING_RECORD);
    if (traced(lstat(path, &st), "lstat(\"%s\")", path) == -1) {
        if (errno == ENOENT)
            return false;
        die("lstat %s", path);
    }
    int r = owner_read(RING_RECORD, &o);
    if (r == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                record);
    snprintf(what, sizeof what, "shared memory object %s", name);
    snprintf(removal, sizeof removal, "rm %s", path);
    bool named = r == 1 && o.id == (long)st.st_ino;
    struct leftover l = {
        .what = what, .remove = removal, .users = 0,
        .ours = S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) == 0600,
        .creator = named ? o.pid : 0, .creator_running = named && owner_running(&o),
    };
    if (l.ours && !named)
        die_msg("%s is named by no posix-shm/reader on record in %s: nothing proves it "
                "stale, so it is not touched.\nIf no posix-shm/reader is running, remove it "
                "with: %s", what, record, removal);
    require_stale(&l);
    if (traced(shm_unlink(name), "shm_unlink(\"%s\")", name) == -1 && errno != ENOENT)
        die("shm_unlink %s", name);
    owner_remove(RING_RECORD);
    return true;
}

int cleanup_leftover(const char *name)
{
    struct owner o;
    if (remove_leftover(name))
        return 0;
    if (owner_read(RING_RECORD, &o) == 1 && !owner_running(&o)) {
        owner_remove(RING_RECORD);
        say("removed the record of posix-shm/reader %ld, which is gone: %s", (long)o.pid,
            record);
    } else {
        say("nothing to clean up: no %s, no record of a reader that is gone", path);
    }
    return 0;
}
