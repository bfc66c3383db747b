/* posix-shm/leftover.c - what a killed posix-shm/reader leaves behind, and
 * --cleanup.
 *
 * kill -9 cannot be caught: the object stays in /dev/shm (a tmpfs: it lives
 * until shm_unlink() or a reboot), and so does the reader's record.  The next
 * reader (or --cleanup) removes it only when it is provably stale, the one
 * verdict of objects.h (require_stale):
 *   - ours: a regular file of our uid in /dev/shm, mode 0600;
 *   - its creator: the reader's record (posix-shm.owner: pid, start time and
 *     the object's inode) names it, and that process is gone.  An object no
 *     record names was not provably made by a reader that is gone: refused;
 *   - its users: 0, provably once its reader is gone: a writer looks every
 *     200 ms whether its reader still runs, and lets go.
 * Removal is shm_unlink(), here, traced: the same as `rm /dev/shm/NAME`.
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

/* True, having said so, when NAME is there and provably stale; false when
 * it is not there (any more); otherwise exit 1, saying why. */
static bool judge(const char *name)
{
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm%s", name);
    ipc_path(record, sizeof record, RING_RECORD);
    if (traced(lstat(path, &st), "lstat(\"%s\")", path) == -1) {
        if (errno == ENOENT)
            return false;
        die("lstat %s", path);
    }
    snprintf(what, sizeof what, "shared memory object %s", name);
    snprintf(removal, sizeof removal, "rm %s", path);
    struct owner o;
    int r = owner_read(RING_RECORD, &o);
    if (r == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                record);
    bool named = r == 1 && o.id == (long)st.st_ino;
    struct leftover l = {
        .what = what,
        .ours = S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) == 0600,
        .creator = named ? o.pid : 0,
        .creator_running = named && owner_running(&o),
        .users = 0,               /* provably: see the top of this file */
        .remove = removal,
    };
    if (l.ours && !named)
        die_msg("%s is named by no posix-shm/reader on record in %s: nothing proves it "
                "stale, so it is not touched.\nIf no posix-shm/reader is running, remove it "
                "with: %s", what, record, removal);
    require_stale(&l);
    return true;
}

static void remove_it(const char *name)
{
    if (traced(shm_unlink(name), "shm_unlink(\"%s\")", name) == -1 && errno != ENOENT)
        die("shm_unlink %s", name);
    owner_remove(RING_RECORD);
}

void remove_leftover(const char *name)
{
    if (judge(name))
        remove_it(name);
}

int cleanup_leftover(const char *name)
{
    if (judge(name)) {
        remove_it(name);
        return 0;
    }
    struct owner o;
    if (owner_read(RING_RECORD, &o) == 1 && !owner_running(&o)) {
        owner_remove(RING_RECORD);
        say("removed the record of posix-shm/reader %ld, which is gone: %s", (long)o.pid,
            record);
        return 0;
    }
    say("nothing to clean up: no %s, no record of a reader that is gone", path);
    return 0;
}
