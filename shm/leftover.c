/* shm/leftover.c - what a killed shm/reader leaves behind, and --cleanup.
 *
 * kill -9 cannot be caught: the segment stays in the kernel (ipcs -m) and the
 * FIFOs in $IPC_DEMO_DIR.  The kernel records who created a segment (shm_cpid)
 * and how many processes have it attached (shm_nattch), so the next reader can
 * tell a leftover from a segment in use: it removes it only when it is provably
 * stale (require_stale: ours, mode 0600, its creator gone, nobody attached),
 * and otherwise refuses with the exact command.  --cleanup does the same, and
 * also removes a segment that a writer of a dead reader still has attached
 * (IPC_RMID does not pull it from under anyone: it goes once they detach).
 * A segment whose creator still runs is never removed, nor its FIFOs.
 */
#include "shm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

bool remove_stale_segment(key_t key, size_t size, bool cleanup)
{
    /* The notes' trap: asking for an existing segment with more bytes than it
     * has fails with EINVAL.  Shown, then the segment is looked at as it is. */
    bool trap = size > 0 && traced(shmget(key, size, 0), "shmget(0x%08x, %zu, 0)",
                                   (unsigned)key, size) == -1 && errno == EINVAL;
    struct shmid_ds ds;
    int id = (int)traced(shmget(key, 0, 0), "shmget(0x%08x, 0, 0)", (unsigned)key);
    if (id == -1 && errno == ENOENT)
        return false;             /* none, or gone meanwhile */
    if (id == -1 || traced(shmctl(id, IPC_STAT, &ds), "shmctl(%d, IPC_STAT)", id) == -1)
        die("segment of key 0x%08x (see ipcs -m; remove it with ipcrm -M 0x%08x)",
            (unsigned)key, (unsigned)key);
    if (trap)
        say("the segment there has %zu bytes, fewer than the %zu this run needs: "
            "shmget(key, %zu, 0) fails with EINVAL (a size mismatch)", (size_t)ds.shm_segsz,
            size, size);
    static char what[96], remove[32];
    snprintf(what, sizeof what, "segment %d (key 0x%08x, %zu bytes)", id, (unsigned)key,
             (size_t)ds.shm_segsz);
    snprintf(remove, sizeof remove, "ipcrm -m %d", id);
    uid_t me = geteuid();
    struct leftover l = {
        .what = what, .remove = remove, .users = ds.shm_nattch, .creator = ds.shm_cpid,
        .creator_running = process_running(ds.shm_cpid),
        .ours = ds.shm_perm.uid == me && ds.shm_perm.cuid == me &&
                (ds.shm_perm.mode & 0777) == 0600,
    };
    if (cleanup && l.ours && !l.creator_running && l.users > 0)
        say("%s: its creator, pid %ld, is gone, %lu process(es) still attached: removing it "
            "all the same; it goes once they detach", what, (long)l.creator, l.users);
    else
        require_stale(&l);        /* exits 1 unless provably stale */
    if (traced(shmctl(id, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM)
        die("shmctl %d IPC_RMID", id);
    return true;
}

static bool clean_fifo(const char *name)
{
    char path[PATH_MAX];
    struct stat seen;             /* lstat: a symbolic link is judged, not followed */
    ipc_path(path, sizeof path, name);
    if (traced(lstat(path, &seen), "lstat(\"%s\")", path) == -1) {
        if (errno == ENOENT)
            return false;
        die("lstat %s", path);
    }
    require_our_fifo(path, &seen);
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1)
        die("unlink %s", path);
    say("removed the FIFO %s", path);
    return true;
}

int cleanup_leftovers(key_t key)
{
    bool segment = remove_stale_segment(key, 0, true);
    bool filled = clean_fifo(FILLED_FIFO), freed = clean_fifo(FREE_FIFO);
    if (!segment && !filled && !freed)
        say("nothing to clean up: no segment with key 0x%08x, no FIFO in %s", (unsigned)key,
            ipc_dir());
    return 0;
}
