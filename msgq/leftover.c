/* msgq/leftover.c - what a killed msgq/server leaves behind, and --cleanup.
 *
 * kill -9 cannot be caught: the queue stays in the kernel, with what was in
 * it.  The next server (or --cleanup) removes it only when it is provably
 * stale, the one verdict of objects.h (require_stale):
 *   - ours: our uid owns and created it, mode 0600;
 *   - its creator: a queue records none, so the server keeps a creator record
 *     (msgq.owner: pid, start time, msqid).  A queue of ours that no record
 *     names was not provably made by msgq/server: it is refused, never guessed;
 *   - its users: the kernel counts nobody who waits on a queue (msqid_ds has
 *     msg_lspid and msg_lrpid, the last sender and receiver, long gone or not),
 *     so no count is provable.  The record is the proof: a msgq/client waits
 *     only while its server runs (it looks every 200 ms), so users is 0.
 * Removal is msgctl(IPC_RMID), here, traced: the same as `ipcrm -q ID`.
 */
#include "msgq.h"

#include "../common/common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

static char record[PATH_MAX];

void refuse_foreign_record(void)
{
    struct owner o;
    if (owner_read(MSGQ_OWNER, &o) == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                ipc_path(record, sizeof record, MSGQ_OWNER));
}

/* Return only when queue ID (key KEY) is provably stale, having said so. */
static void judge(int id, key_t key, struct msqid_ds *ds)
{
    static char what[64], remove[32];
    snprintf(what, sizeof what, "message queue %d (key 0x%08x)", id, (unsigned)key);
    snprintf(remove, sizeof remove, "ipcrm -q %d", id);
    if (traced(msgctl(id, IPC_STAT, ds), "msgctl(%d, IPC_STAT)", id) == -1)
        die("msgctl %d IPC_STAT", id);
    struct owner o;
    bool named = owner_read(MSGQ_OWNER, &o) == 1 && o.id == id;
    struct leftover l = {
        .what = what,
        .ours = ds->msg_perm.uid == geteuid() && ds->msg_perm.cuid == geteuid() &&
                (ds->msg_perm.mode & 0777) == 0600,
        .creator = named ? o.pid : 0,
        .creator_running = named && owner_running(&o),
        .users = 0,               /* not provable: see above */
        .remove = remove,
    };
    if (l.ours && !named)
        die_msg("%s has no msgq/server on record in %s: nothing proves it stale, so it "
                "is not touched.\nIf no msgq/server is running, remove it with: %s", what,
                ipc_path(record, sizeof record, MSGQ_OWNER), remove);
    require_stale(&l);
}

static void remove_queue_id(int id, const struct msqid_ds *ds)
{
    if (traced(msgctl(id, IPC_RMID, NULL), "msgctl(%d, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM)
        die("msgctl %d IPC_RMID", id);
    say("removed message queue %d, %lu message%s left in it", id,
        (unsigned long)ds->msg_qnum, ds->msg_qnum == 1 ? "" : "s");
}

/* The queue with our key, or -1 when there is none. */
static int find_queue(key_t key)
{
    int id = (int)traced(msgget(key, 0), "msgget(0x%08x, 0)", (unsigned)key);
    if (id == -1 && errno != ENOENT)
        die("msgget key 0x%08x (see ipcs -q; remove it with ipcrm -Q 0x%08x)",
            (unsigned)key, (unsigned)key);
    return id;
}

void remove_leftover(key_t key)
{
    int id = find_queue(key);
    if (id == -1)
        return;                   /* gone meanwhile: try again */
    struct msqid_ds ds;
    judge(id, key, &ds);
    remove_queue_id(id, &ds);
}

/* The record of a server that is gone: owner_remove() takes it away. */
static bool remove_stale_record(void)
{
    struct owner o;
    if (owner_read(MSGQ_OWNER, &o) != 1 || owner_running(&o))
        return false;
    owner_remove(MSGQ_OWNER);
    say("removed the record of msgq/server %ld, which is gone: %s/%s", (long)o.pid,
        ipc_dir(), MSGQ_OWNER);
    return true;
}

int cleanup(key_t key)
{
    refuse_foreign_record();
    int id = find_queue(key);
    if (id != -1) {
        struct msqid_ds ds;
        judge(id, key, &ds);
        remove_queue_id(id, &ds);
    }
    if (!remove_stale_record() && id == -1)
        say("nothing to clean up: no queue with key 0x%08x, no record of a server that is "
            "gone", (unsigned)key);
    return 0;
}
