/* leftover.c - the objects a run names, what a killed run leaves, --cleanup.
 *
 * A run names, in $IPC_DEMO_DIR, up to seven FIFOs (bench-fifo, bench-ping,
 * bench-pong; bench-filled, bench-free, bench-back-filled, bench-back-free),
 * for a moment a socket file (bench-socket: unlinked as soon as the writer has
 * connected), a message queue and, for a moment, a segment with the key of
 * ftok($IPC_DEMO_DIR/key, 'b'), and for a moment two POSIX message queues and
 * a POSIX shared memory object named by posix_name() (see posix.c).  It removes
 * them on every exit it can catch.  After a kill -9 the next run (or
 * --cleanup) removes one only when it is provably stale, the one verdict of
 * common/objects.h (require_stale):
 *   - ours: our uid owns (and created) it, mode 0600; a FIFO path holding
 *     anything else is left as it is (require_our_fifo); the same for the
 *     socket file, which must be a socket;
 *   - its creator: the record bench.owner (pid, start time, queue id), written
 *     before the first object is made and removed after the last is gone; the
 *     segment's creator the kernel keeps (shm_cpid).  An object of ours that
 *     no record names is refused, never guessed;
 *   - its users: only the run's own children open these objects, and they
 *     die with it (PR_SET_PDEATHSIG): once the creator is gone, nobody; a
 *     segment counts its attachments itself; a socket file is asked: a
 *     connect() nobody accepts is refused (ECONNREFUSED).
 * While the recorded run is alive, a second run with the same directory is
 * refused: it would share its FIFOs and queue.
 */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char RECORD[] = "bench.owner";
static const char *const fifo_names[] = {
    "bench-fifo", "bench-ping", "bench-pong",
    "bench-filled", "bench-free", "bench-back-filled", "bench-back-free",
};
enum { NFIFOS = sizeof fifo_names / sizeof fifo_names[0] };

static struct owner before;     /* the record a killed run left */
static bool before_known, recorded;
static char made[NFIFOS][PATH_MAX];  /* the FIFOs this run created */
static size_t nmade;

key_t bench_key(void)
{
    key_t key = ftok(ipc_keyfile(), KEY_BENCH);
    if (key == -1)
        die("ftok %s", ipc_keyfile());
    return key;
}

/* ---- the record ---- */

/* Read the record: refuse a foreign file and a live run; keep a dead one's. */
static void read_record(void)
{
    char path[PATH_MAX];
    int r = owner_read(RECORD, &before);
    if (r == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                ipc_path(path, sizeof path, RECORD));
    before_known = r == 1;
    if (before_known && before.pid != getpid() && owner_running(&before))
        die_msg("bench/ipcbench pid %ld is running with %s (see %s): stop it first (kill %ld), "
                "or set IPC_DEMO_DIR to another directory", (long)before.pid, ipc_dir(),
                ipc_path(path, sizeof path, RECORD), (long)before.pid);
}

/* Return only when L, made by the recorded run (the queue: with ID), is stale. */
static void judge(struct leftover *l, bool with_id, long id)
{
    bool named = before_known && (!with_id || before.id == id);
    l->creator = named ? before.pid : 0;
    l->creator_running = false;             /* read_record() refused a live one */
    if (l->ours && !named) {
        char path[PATH_MAX];
        die_msg("%s was made by no run on record in %s: nothing proves it stale, so it is "
                "not touched.\nIf no bench/ipcbench is running, remove it with: %s", l->what,
                ipc_path(path, sizeof path, RECORD), l->remove);
    }
    require_stale(l);
}

/* ---- FIFOs ---- */

/* A FIFO path holding something: a FIFO of ours (0600) that is stale is
 * removed; anything else is refused when this run needs the path (USED), and
 * otherwise left alone.  True when something was removed. */
static bool fifo_leftover(const char *name, bool used)
{
    char path[PATH_MAX], what[PATH_MAX + 8], remove[PATH_MAX + 8];
    struct stat st;
    ipc_path(path, sizeof path, name);
    if (lstat(path, &st) == -1) {
        if (errno != ENOENT)
            die("lstat %s", path);
        return false;
    }
    bool ours = S_ISFIFO(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 07777) == 0600;
    if (!ours && !used)
        return false;
    require_our_fifo(path, &st);            /* anything else: left as it is, exit 1 */
    snprintf(what, sizeof what, "FIFO %s", path);
    snprintf(remove, sizeof remove, "rm %s", path);
    struct leftover l = { .what = what, .ours = true, .users = 0, .remove = remove };
    judge(&l, false, 0);
    if (unlink(path) == -1 && errno != ENOENT)
        die("unlink %s", path);
    return true;
}

void fifo_create(const char *path)
{
    if (mkfifo(path, 0600) == -1) {
        if (errno == EEXIST)
            die_msg("%s appeared while this run started (another bench/ipcbench with %s?)",
                    path, ipc_dir());
        die("mkfifo %s", path);
    }
    snprintf(made[nmade++], sizeof made[0], "%s", path);    /* ours to remove */
}

static int sweep_fifos(const bool used[M_MECHS])
{
    int removed = 0;
    for (size_t i = 0; i < NFIFOS; i++) {
        bool shm_path = i >= 3;
        bool use = used == NULL || (shm_path ? used[M_SHM] || used[M_SHM1] : used[M_FIFO]);
        removed += fifo_leftover(fifo_names[i], use);
    }
    return removed;
}

/* ---- the socket file ---- */

/* Does anybody accept on PATH?  A connect() to a socket file nobody listens on
 * is refused (ECONNREFUSED): the file is all that is left of a killed run.
 * Non-blocking, so that a listener with a full queue cannot make us wait. */
static unsigned long socket_users(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path)
        die_msg("%s is too long for a socket address (set a shorter IPC_DEMO_DIR)", path);
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        die("socket");
    int rc = connect(fd, (const struct sockaddr *)&a, sizeof a);
    int err = errno;
    if (close(fd) == -1)
        die("close");
    if (rc == -1 && err != EAGAIN && err != ECONNREFUSED) {
        errno = err;
        die("connect %s", path);
    }
    return rc == 0 || err == EAGAIN;
}

/* The socket file's path holding something: a socket of ours (0600) that
 * nobody accepts on and that the recorded run made is removed; anything else
 * is refused when this run needs the path (USED), and otherwise left alone. */
static bool socket_leftover(bool used)
{
    char path[PATH_MAX], what[PATH_MAX + 16], remove[PATH_MAX + 8];
    struct stat st;
    ipc_path(path, sizeof path, "bench-socket");
    if (lstat(path, &st) == -1) {       /* lstat: a symbolic link is judged, not followed */
        if (errno != ENOENT)
            die("lstat %s", path);
        return false;
    }
    bool ours = S_ISSOCK(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 07777) == 0600;
    if (!ours && !used)
        return false;
    if (!S_ISSOCK(st.st_mode))
        die_msg("%s is %s, not a socket: left as it is (remove it, or set IPC_DEMO_DIR)", path,
                S_ISLNK(st.st_mode) ? "a symbolic link (never followed)"
                : S_ISREG(st.st_mode) ? "a regular file" : S_ISDIR(st.st_mode) ? "a directory"
                : "a special file");
    snprintf(what, sizeof what, "socket file %s", path);
    snprintf(remove, sizeof remove, "rm %s", path);
    struct leftover l = { .what = what, .ours = ours, .remove = remove };
    if (ours)
        l.users = socket_users(path);   /* never another user's: not ours to poke */
    judge(&l, false, 0);
    if (unlink(path) == -1 && errno != ENOENT)
        die("unlink %s", path);
    return true;
}

/* ---- System V objects ---- */

static void queue_leftover(int id, key_t key)
{
    char what[64], remove[32];
    struct msqid_ds ds;
    if (msgctl(id, IPC_STAT, &ds) == -1)
        die("msgctl %d IPC_STAT (see ipcs -q; ipcrm -q %d removes it)", id, id);
    snprintf(what, sizeof what, "message queue %d (key 0x%08lx)", id, (unsigned long)key);
    snprintf(remove, sizeof remove, "ipcrm -q %d", id);
    struct leftover l = {
        .what = what, .remove = remove, .users = 0,
        .ours = ds.msg_perm.uid == geteuid() && ds.msg_perm.cuid == geteuid() &&
                (ds.msg_perm.mode & 0777) == 0600,
    };
    judge(&l, true, id);
    if (msgctl(id, IPC_RMID, NULL) == -1 && errno != EINVAL && errno != EIDRM)
        die("msgctl %d IPC_RMID", id);
}

/* A segment keeps its creator and its attachments: no record needed. */
static void segment_leftover(int id, key_t key)
{
    char what[64], remove[32];
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == -1)
        die("shmctl %d IPC_STAT (see ipcs -m; ipcrm -m %d removes it)", id, id);
    snprintf(what, sizeof what, "shared memory segment %d (key 0x%08lx)", id,
             (unsigned long)key);
    snprintf(remove, sizeof remove, "ipcrm -m %d", id);
    struct leftover l = {
        .what = what, .remove = remove,
        .ours = ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() &&
                (ds.shm_perm.mode & 0777) == 0600,
        .creator = ds.shm_cpid, .creator_running = process_running(ds.shm_cpid),
        .users = (unsigned long)ds.shm_nattch,
    };
    require_stale(&l);
    if (shmctl(id, IPC_RMID, NULL) == -1 && errno != EINVAL && errno != EIDRM)
        die("shmctl %d IPC_RMID", id);
}

/* ---- POSIX objects (posix.c finds them) ---- */

void posix_leftover(const char *kind, const char *name, const struct stat *st,
                    const char *remove)
{
    char what[PATH_MAX];
    snprintf(what, sizeof what, "%s %s", kind, name);
    struct leftover l = {
        .what = what, .remove = remove, .users = 0,
        .ours = st->st_uid == geteuid() && (st->st_mode & 07777) == 0600,
    };
    judge(&l, false, 0);
}

/* ---- at exit, and --cleanup ---- */

void leftovers_remove(void)
{
    for (size_t i = 0; i < nmade; i++)
        if (unlink(made[i]) == -1 && errno != ENOENT)
            warn_sys("unlink %s", made[i]);
    nmade = 0;
    if (recorded)
        owner_remove(RECORD);           /* last: every object is gone */
    recorded = false;
}

static int sweep_sysv(void)
{
    int removed = 0;
    key_t key = bench_key();
    int id = msgget(key, 0);
    if (id == -1 && errno != ENOENT)
        die("msgget key 0x%08lx", (unsigned long)key);
    if (id != -1) {
        queue_leftover(id, key);
        removed++;
    }
    id = shmget(key, 0, 0);
    if (id == -1 && errno != ENOENT)
        die("shmget key 0x%08lx", (unsigned long)key);
    if (id != -1) {
        segment_leftover(id, key);
        removed++;
    }
    return removed;
}

/* Before a run: remove what a killed run left (refusing what is not provably
 * stale), then record this run. */
void run_claim(const bool used[M_MECHS])
{
    read_record();
    sweep_fifos(used);
    socket_leftover(used[M_UNIX]);
    sweep_sysv();
    posix_sweep();
    owner_write(RECORD, 0);
    recorded = true;
}

void run_record_queue(int msqid)
{
    owner_write(RECORD, msqid);
}

/* --cleanup: the same verdict, for every object a run may name. */
void remove_leftovers(void)
{
    read_record();
    int removed = sweep_fifos(NULL) + socket_leftover(true) + sweep_sysv() + posix_sweep();
    if (before_known) {
        char path[PATH_MAX];
        owner_remove(RECORD);
        say("removed the record of bench/ipcbench pid %ld, which is gone: %s", (long)before.pid,
            ipc_path(path, sizeof path, RECORD));
        removed++;
    }
    if (removed == 0)
        say("nothing to remove in %s", ipc_dir());
}
