/* msgq/leftover.c - what a killed msgq/server leaves behind, and --cleanup.
 *
 * kill -9 leaves the queue in the kernel, with what was in it.  The next
 * server (or --cleanup) removes it only when it is provably stale, the one
 * verdict of objects.h (require_stale): ours (our uid owns and created it,
 * 0600); its creator gone (a queue records none: msgq.owner, the server's
 * record, does; a queue of ours no record names is refused, never guessed);
 * nobody using it (the kernel counts no waiters, but a msgq/client waits only
 * while its server runs: it looks every 200 ms).  Removal: msgctl(IPC_RMID),
 * the same as `ipcrm -q ID`. */
#include "msgq.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

static char record[PATH_MAX];

void refuse_foreign_record(void)
{
    struct owner o;
    if (owner_read(MSGQ_OWNER, &o) == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                ipc_path(record, sizeof record, MSGQ_OWNER));
}

/* The queue with KEY, removed once provably stale; false when there is none. */
bool remove_leftover(key_t key)
{
    int id = (int)traced(msgget(key, 0), "msgget(0x%08x, 0)", (unsigned)key);
    if (id == -1 && errno != ENOENT)
        die("msgget key 0x%08x (see ipcs -q; remove it with ipcrm -Q 0x%08x)",
            (unsigned)key, (unsigned)key);
    if (id == -1)
        return false;
    char what[64], remove[32];
    snprintf(what, sizeof what, "message queue %d (key 0x%08x)", id, (unsigned)key);
    snprintf(remove, sizeof remove, "ipcrm -q %d", id);
    struct msqid_ds ds;
    if (traced(msgctl(id, IPC_STAT, &ds), "msgctl(%d, IPC_STAT)", id) == -1)
        die("msgctl %d IPC_STAT", id);
    struct owner o;
    bool named = owner_read(MSGQ_OWNER, &o) == 1 && o.id == id;
    struct leftover l = {
        .what = what, .remove = remove, .users = 0,   /* not provable: see above */
        .ours = ds.msg_perm.uid == geteuid() && ds.msg_perm.cuid == geteuid() &&
                (ds.msg_perm.mode & 0777) == 0600,
        .creator = named ? o.pid : 0,
        .creator_running = named && owner_running(&o),
    };
    if (l.ours && !named)
        die_msg("%s has no msgq/server on record in %s: nothing proves it stale, so it "
                "is not touched.\nIf no msgq/server is running, remove it with: %s", what,
                ipc_path(record, sizeof record, MSGQ_OWNER), remove);
    require_stale(&l);
    if (traced(msgctl(id, IPC_RMID, NULL), "msgctl(%d, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM)
        die("msgctl %d IPC_RMID", id);
    say("removed message queue %d, %lu message%s left in it", id,
        (unsigned long)ds.msg_qnum, ds.msg_qnum == 1 ? "" : "s");
    return true;
}

int cleanup(key_t key)
{
    refuse_foreign_record();
    bool removed = remove_leftover(key);
    struct owner o;               /* the record of a server that is gone */
    if (owner_read(MSGQ_OWNER, &o) == 1 && !owner_running(&o)) {
        owner_remove(MSGQ_OWNER);
        say("removed the record of msgq/server %ld, which is gone: %s/%s", (long)o.pid,
            ipc_dir(), MSGQ_OWNER);
    } else if (!removed) {
        say("nothing to clean up: no queue with key 0x%08x, no record of a server that is "
            "gone", (unsigned)key);
    }
    return 0;
}
