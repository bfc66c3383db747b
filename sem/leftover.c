/* sem/leftover.c - the semaphore set a killed run of sem/race or sem/holder-dies
 * leaves behind (sem/named.c: the named semaphore), removed only when provably
 * stale: ours (our uid owns and created it, 0600); its creator gone (a set
 * records none: the run that made it keeps a creator record, and one no record
 * names is refused); nobody using it (none waiting in semop(), the last one that
 * operated on it gone).  Removal: semctl(IPC_RMID), as `ipcrm -s ID` does. */
#include "leftover.h"

static char what[PATH_MAX], removal[PATH_MAX + 8];

/* Return only when L, which RECORD should name as ID, is provably stale. */
void judge_leftover(struct leftover *l, const char *record, long id)
{
    char path[PATH_MAX];
    struct owner o;
    int r = owner_read(record, &o);
    if (r == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                ipc_path(path, sizeof path, record));
    bool named = r == 1 && o.id == id;
    l->creator = named ? o.pid : 0;
    l->creator_running = named && owner_running(&o);
    if (l->ours && !named)
        die_msg("%s is named by no run on record in %s: nothing proves it stale, so it is "
                "not touched.\nIf no sem/ program is running, remove it with: %s", l->what,
                ipc_path(path, sizeof path, record), l->remove);
    require_stale(l);
}

/* The record of a run that is gone; false when there is none. */
bool drop_record(const char *record)
{
    struct owner o;
    if (owner_read(record, &o) != 1 || owner_running(&o))
        return false;
    owner_remove(record);
    return true;
}

/* ---- a semaphore set ---- */

static unsigned long set_users(int id, int nsems)
{
    unsigned long users = 0;
    for (int i = 0; i < nsems; i++) {
        int waiting = (int)traced(semctl(id, i, GETNCNT), "semctl(%d, %d, GETNCNT)", id, i);
        int zero = (int)traced(semctl(id, i, GETZCNT), "semctl(%d, %d, GETZCNT)", id, i);
        int last = (int)traced(semctl(id, i, GETPID), "semctl(%d, %d, GETPID)", id, i);
        if (waiting == -1 || zero == -1 || last == -1)
            die("semctl %d", id);
        users += (unsigned long)(waiting + zero) + (last > 0 && process_running(last));
    }
    return users;
}

bool set_leftover(key_t key, const char *record)
{
    int id = (int)traced(semget(key, 0, 0), "semget(0x%08x, 0, 0)", (unsigned)key);
    if (id == -1 && errno != ENOENT)
        die("semget key 0x%08x (see ipcs -s; ipcrm -S 0x%08x removes it)", (unsigned)key,
            (unsigned)key);
    if (id == -1)
        return drop_record(record);
    struct semid_ds ds;
    union semun arg = { .buf = &ds };
    if (traced(semctl(id, 0, IPC_STAT, arg), "semctl(%d, 0, IPC_STAT)", id) == -1)
        die("semctl %d IPC_STAT (see ipcs -s; ipcrm -s %d removes it)", id, id);
    snprintf(what, sizeof what, "semaphore set %d (key 0x%08x)", id, (unsigned)key);
    snprintf(removal, sizeof removal, "ipcrm -s %d", id);
    struct leftover l = {
        .what = what,
        .ours = ds.sem_perm.uid == geteuid() && ds.sem_perm.cuid == geteuid() &&
                (ds.sem_perm.mode & 0777) == 0600,
        .remove = removal,
    };
    if (l.ours)
        l.users = set_users(id, (int)ds.sem_nsems);
    judge_leftover(&l, record, id);
    if (traced(semctl(id, 0, IPC_RMID), "semctl(%d, 0, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM)
        die("semctl %d IPC_RMID", id);
    drop_record(record);
    return true;
}
