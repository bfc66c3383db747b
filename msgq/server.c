/* msgq/server - answers requests on a System V message queue.
 *
 * The lesson: a message queue keeps message boundaries (one msgsnd(), one
 * whole message for one msgrcv()), and every message carries a type the reader
 * can select on.  Requests come in with type 1; the server answers each with
 * the client's pid as the type, so every client picks exactly its own replies
 * out of the one shared queue.  The queue lives in the kernel, not in a
 * process: it outlives its creator until someone removes it (msgctl IPC_RMID),
 * so the server removes it on every exit it can catch and, at start, checks
 * for one left behind by a server that was killed.
 */
#include "../common/common.h"
#include "msgq.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

static const char usage[] =
    "usage: msgq/server [-d MS] [-v] [--cleanup]\n"
    "Create a message queue and answer each client's request with its text\n"
    "upper-cased, until a client sends a shutdown request (msgq/client -q) or\n"
    "SIGINT/SIGTERM/SIGHUP.  The queue is removed on the way out.\n"
    "  -d MS      pause MS milliseconds before taking each request out of the\n"
    "             queue, to watch requests wait in it (ipcs -q)\n"
    "  -v         trace every message-queue call on stderr\n"
    "  --cleanup  remove a queue (and its record) left by a killed server, then exit\n"
    "  -h         show this help\n";

static long delay;
static int msqid = -1;
static long served;

/* atexit(): whatever way we leave -- the end, die(), a stop signal -- the queue
 * goes, and with it our record. */
static void remove_queue(void)
{
    if (msqid == -1)
        return;
    int id = msqid;
    msqid = -1;
    if (traced(msgctl(id, IPC_RMID, NULL), "msgctl(%d, IPC_RMID)", id) == 0)
        say("removed the queue (msgctl IPC_RMID): msqid %d is gone", id);
    else if (errno != EINVAL && errno != EIDRM)
        warn_sys("msgctl %d IPC_RMID", id);
    struct msgq_record rec;
    if (msgq_record_read(&rec) && rec.pid == getpid())
        msgq_record_remove();
}

static noreturn void queue_gone(void)
{
    msqid = -1;                   /* nothing left to remove */
    struct msgq_record rec;
    if (msgq_record_read(&rec) && rec.pid == getpid())
        msgq_record_remove();
    die_msg("the queue was removed behind our back (ipcrm?)");
}

/* ---- finding or removing a leftover ---- */

static bool is_ours(const struct msqid_ds *ds)
{
    return ds->msg_perm.uid == geteuid() && ds->msg_perm.cuid == geteuid() &&
           (ds->msg_perm.mode & 0777) == 0600;
}

static void stat_queue(int id, struct msqid_ds *ds)
{
    if (traced(msgctl(id, IPC_STAT, ds), "msgctl(%d, IPC_STAT)", id) == -1)
        die("msgctl %d IPC_STAT", id);
}

/* The queue ID already has our key.  Remove it if it is provably stale (ours,
 * and our record names it and a server that is gone); otherwise refuse. */
static void remove_if_stale(int id, key_t key)
{
    struct msqid_ds ds;
    struct msgq_record rec;
    stat_queue(id, &ds);
    bool recorded = msgq_record_read(&rec) && rec.msqid == id;
    if (is_ours(&ds) && recorded && !msgq_server_alive(&rec)) {
        say("found queue %d left by msgq/server %ld, which is gone (killed?), "
            "%lu message%s left in it: removing it", id, (long)rec.pid,
            (unsigned long)ds.msg_qnum, ds.msg_qnum == 1 ? "" : "s");
        if (traced(msgctl(id, IPC_RMID, NULL), "msgctl(%d, IPC_RMID)", id) == -1 &&
            errno != EINVAL && errno != EIDRM)
            die("msgctl %d IPC_RMID", id);
        msgq_record_remove();
        return;
    }
    if (is_ours(&ds) && recorded)
        die_msg("another server (pid %ld) is already serving queue %d (key 0x%08x); "
                "stop it first: kill %ld", (long)rec.pid, id, (unsigned)key, (long)rec.pid);
    char why[PATH_MAX + 64];
    if (!is_ours(&ds)) {
        snprintf(why, sizeof why, "owner uid %ld, mode 0%o: not ours",
                 (long)ds.msg_perm.uid, (unsigned)(ds.msg_perm.mode & 0777));
    } else {
        char path[PATH_MAX];
        snprintf(why, sizeof why, "no record of its server in %s",
                 msgq_record_path(path, sizeof path));
    }
    die_msg("a queue with key 0x%08x already exists (msqid %d) and is not provably "
            "stale (%s); if no msgq/server is running, remove it with: ipcrm -q %d",
            (unsigned)key, id, why, id);
}

static int create_queue(key_t key)
{
    for (int attempt = 0;; attempt++) {
        /* IPC_EXCL: a leftover, or a clash with someone else's key, is an
         * error we can look at, never a queue we silently share. */
        int id = (int)traced(msgget(key, IPC_CREAT | IPC_EXCL | 0600),
                             "msgget(0x%08x, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
        if (id != -1)
            return id;
        if (errno != EEXIST || attempt > 0)
            die("msgget key 0x%08x", (unsigned)key);
        id = (int)traced(msgget(key, 0), "msgget(0x%08x, 0)", (unsigned)key);
        if (id == -1)
            die("a queue with key 0x%08x exists but cannot be opened "
                "(see ipcs -q; remove it with ipcrm -Q 0x%08x)", (unsigned)key, (unsigned)key);
        remove_if_stale(id, key);
    }
}

/* --cleanup: remove what a killed server left -- never a live server's queue. */
static void cleanup(key_t key)
{
    struct msgq_record rec;
    bool have_record = msgq_record_read(&rec);
    bool found = false;
    int id = (int)traced(msgget(key, 0), "msgget(0x%08x, 0)", (unsigned)key);
    if (id == -1 && errno != ENOENT)
        die("msgget key 0x%08x", (unsigned)key);
    if (have_record && msgq_server_alive(&rec))
        die_msg("a server (pid %ld) is running on queue %d: stop it instead: kill %ld",
                (long)rec.pid, rec.msqid, (long)rec.pid);
    if (id != -1) {
        struct msqid_ds ds;
        stat_queue(id, &ds);
        if (ds.msg_perm.uid != geteuid())
            die_msg("queue %d (key 0x%08x) belongs to uid %ld: not removed", id,
                    (unsigned)key, (long)ds.msg_perm.uid);
        if (traced(msgctl(id, IPC_RMID, NULL), "msgctl(%d, IPC_RMID)", id) == -1)
            die("msgctl %d IPC_RMID", id);
        say("removed message queue %d (key 0x%08x), %lu message%s left in it", id,
            (unsigned)key, (unsigned long)ds.msg_qnum, ds.msg_qnum == 1 ? "" : "s");
        found = true;
    }
    if (have_record) {
        char path[PATH_MAX];
        msgq_record_remove();
        say("removed the record of server %ld: %s", (long)rec.pid,
            msgq_record_path(path, sizeof path));
        found = true;
    }
    if (!found)
        say("nothing to clean up: no queue with key 0x%08x, no record", (unsigned)key);
}

/* ---- replies ---- */

/* Replies wait here while the queue is full.  Blocking in msgsnd() instead
 * could deadlock: the queue full of requests from clients that each wait for
 * their reply, and the server -- the only one who takes requests out --
 * waiting for room.  So the server keeps the reply, takes the next request out
 * (which makes room) and tries again.  Each client has one request in flight,
 * so this holds as long as fewer than PENDING_MAX clients wait at once. */
enum { PENDING_MAX = 64 };
static struct msgq_msg pending[PENDING_MAX];
static size_t pending_size[PENDING_MAX];
static int pending_first, pending_count;
static bool said_full;

/* Send the waiting replies in order; with WAIT, block until the first fits. */
static void send_pending(bool wait)
{
    while (pending_count > 0) {
        struct msgq_msg *m = &pending[pending_first];
        size_t size = pending_size[pending_first];
        int flags = wait ? 0 : IPC_NOWAIT;
        if (traced(msgsnd(msqid, m, size, flags), "msgsnd(%d, type %ld, %zu%s)", msqid,
                   m->mtype, size, wait ? "" : ", IPC_NOWAIT") == -1) {
            if (errno == EAGAIN || errno == EINTR)
                return;           /* still full, or a signal: try again later */
            if (errno == EIDRM || errno == EINVAL)
                queue_gone();
            die("msgsnd reply to client %ld", m->mtype);
        }
        pending_first = (pending_first + 1) % PENDING_MAX;
        pending_count--;
        wait = false;
    }
    said_full = false;
}

static void reply(enum msgq_kind kind, const struct msgq_msg *req, size_t len)
{
    /* A client that is gone would never take its reply: it would sit in the
     * queue for good, taking room. */
    if (kill(req->pid, 0) == -1 && errno == ESRCH) {
        say("client %ld is gone: reply dropped", (long)req->pid);
        return;
    }
    if (pending_count == PENDING_MAX) {
        say("%d replies wait for room in the queue: waiting for it", PENDING_MAX);
        send_pending(true);
        if (pending_count == PENDING_MAX)
            return;               /* a stop signal: we are quitting anyway */
    }
    int slot = (pending_first + pending_count) % PENDING_MAX;
    struct msgq_msg *m = &pending[slot];
    m->mtype = req->pid;          /* the type the client waits for */
    m->kind = kind;
    m->pid = req->pid;
    m->run = req->run;
    m->seq = req->seq;
    memcpy(m->text, req->text, len);
    pending_size[slot] = MSGQ_HEADER + len;
    pending_count++;
    send_pending(false);
    if (pending_count > 0 && !said_full) {
        say("the queue is full: the reply to client %ld waits until there is room",
            (long)req->pid);
        said_full = true;
    }
}

/* ---- requests ---- */

static void upper_case(char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] >= 'a' && text[i] <= 'z')
            text[i] = (char)(text[i] - 'a' + 'A');
}

/* One message of N bytes (after mtype) from the queue: anyone who may write to
 * the queue wrote it, so check it before use.  False: stop serving. */
static bool handle(struct msgq_msg *req, size_t n)
{
    if (n < MSGQ_HEADER) {
        say("ignored a malformed message: %zu bytes, shorter than the %zu-byte header",
            n, (size_t)MSGQ_HEADER);
        return true;
    }
    if (req->pid <= 1) {          /* its reply would need type 1 or less */
        say("ignored a message claiming to come from pid %ld", (long)req->pid);
        return true;
    }
    size_t len = n - MSGQ_HEADER;
    if (req->kind == MSGQ_SHUTDOWN) {
        say("shutdown requested by client %ld", (long)req->pid);
        reply(MSGQ_BYE, req, 0);
        return false;
    }
    if (req->kind != MSGQ_REQUEST) {
        say("ignored a message of unknown kind %ld from client %ld", (long)req->kind,
            (long)req->pid);
        return true;
    }
    if (len > MSGQ_TEXT_MAX) {    /* truncated by MSG_NOERROR to MSGQ_TEXT_MAX + 1 */
        say("request from client %ld refused: longer than %d bytes", (long)req->pid,
            MSGQ_TEXT_MAX);
        reply(MSGQ_REFUSED, req, 0);
        return true;
    }
    char shown[4 * MSGQ_TEXT_MAX + 1];
    escape_text(shown, sizeof shown, req->text, len);
    say("request from client %ld: %s", (long)req->pid, shown);
    upper_case(req->text, len);
    reply(MSGQ_REPLY, req, len);
    served++;
    return true;
}

static void serve(void)
{
    static struct msgq_msg req;
    for (;;) {
        send_pending(false);
        delay_ms(delay);
        if (stop_signal)
            return;
        /* With replies waiting for room, do not block on an empty queue:
         * without a request to take out, wait for room instead. */
        int flags = MSG_NOERROR | (pending_count > 0 ? IPC_NOWAIT : 0);
        ssize_t n = msgrcv(msqid, &req, MSGQ_RECV_SIZE, MSGQ_TO_SERVER, flags);
        if (n != -1 || errno != EINTR)    /* the tick's EINTRs would flood -v */
            traced(n, "msgrcv(%d, type %d%s)", msqid, MSGQ_TO_SERVER,
                   pending_count > 0 ? ", IPC_NOWAIT" : "");
        if (n == -1) {
            if (errno == EINTR)
                continue;         /* a stop signal or the tick: seen at the top */
            if (errno == ENOMSG) {
                send_pending(true);
                continue;
            }
            if (errno == EIDRM || errno == EINVAL)
                queue_gone();
            die("msgrcv");
        }
        if (!handle(&req, (size_t)n))
            return;
    }
}

int main(int argc, char *argv[])
{
    prog_init("msgq/server", "server", usage);
    /* getopt_long is a GNU extension (glibc, musl, the BSDs): for --cleanup. */
    static const struct option longopts[] = {
        { "cleanup", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    bool clean = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":d:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'C': clean = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);

    char keyfile[PATH_MAX];
    key_t key = ipc_key(KEY_MSGQ);
    if (clean) {
        cleanup(key);
        return 0;
    }
    catch_stop_signals();
    msgq_start_tick();
    /* Output into a closed pipe (| head) must not kill us with the queue left. */
    signal(SIGPIPE, SIG_IGN);
    if (atexit(remove_queue) != 0)
        die_msg("atexit failed");
    say("key 0x%08x: ftok(\"%s\", 'q')", (unsigned)key,
        ipc_path(keyfile, sizeof keyfile, "key"));
    msqid = create_queue(key);
    msgq_record_write(msqid);

    struct msqid_ds ds;
    stat_queue(msqid, &ds);
    say("created message queue msqid %d (mode 0%o); pid and start time recorded in %s",
        msqid, (unsigned)(ds.msg_perm.mode & 0777), msgq_record_path(keyfile, sizeof keyfile));
    long msgmax = msgq_msgmax();
    char max[32] = "unknown";
    if (msgmax > 0)
        snprintf(max, sizeof max, "%ld", msgmax);
    say("limits: msg_qbytes %lu bytes in the queue, msgmax %s bytes per message; "
        "a request carries at most %d bytes of text", (unsigned long)ds.msg_qbytes,
        max, MSGQ_TEXT_MAX);
    say("waiting for requests (type %d); each reply goes back with the client's pid "
        "as its type", MSGQ_TO_SERVER);

    serve();
    if (stop_signal)
        say("caught %s: stopping", signal_name(stop_signal));
    say("served %ld request%s", served, served == 1 ? "" : "s");
    return 0;                     /* remove_queue() runs at exit */
}
