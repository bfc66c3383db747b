/* msgq/server - answers requests on a System V message queue.
 *
 * The lesson: a message queue keeps message boundaries (one msgsnd(), one
 * whole message for one msgrcv()), and every message carries a type the reader
 * can select on.  Requests come in with type 1; the server answers each with
 * the client's pid as the type, so every client picks exactly its own replies
 * out of the one shared queue.  The queue lives in the kernel, not in a
 * process: it outlives its creator until someone removes it (msgctl IPC_RMID).
 *
 * Observe: `ipcs -q` while the server pauses (-d 1000) and clients wait; -v.
 * Partner: msgq/client.  What a killed server leaves: msgq/leftover.c.
 * Usage: msgq/server [-d MS] [-v] [--cleanup]
 */
#define _GNU_SOURCE               /* msgctl(IPC_INFO) and struct msginfo */
#include "msgq.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static const char usage[] =
    "usage: msgq/server [-d MS] [-v] [--cleanup]\n"
    "Create a message queue and answer each request with its text upper-cased,\n"
    "until msgq/client -q, SIGINT/SIGTERM/SIGHUP, or standard output goes away\n"
    "(| head: exit 1).  The queue is removed on the way out.\n"
    "  -d MS      pause MS milliseconds before taking each request out of the\n"
    "             queue, to watch requests wait in it (ipcs -q)\n"
    "  -v         trace every message-queue call on stderr; left out: the msgrcv()\n"
    "             and msgsnd() calls the 200 ms timer interrupts (EINTR)\n"
    "  --cleanup  remove a queue (and record) a killed server left, then exit\n"
    "  -h         show this help\n";

static long delay;
static int msqid = -1;
static long served;
static int kept_count;              /* replies waiting for room in the queue */

static bool options(int argc, char *argv[]);
static void create_queue(key_t key);
static void serve(void), remove_queue(void), stop_cleanly(void);
static bool handle(struct msgq_msg *req, size_t n);
static void reply(enum msgq_kind kind, struct msgq_msg *req, size_t len);
static bool stdout_gone(void), well_formed(const struct msgq_msg *m, size_t n);
static noreturn void queue_failed(const char *call);
static void keep_reply(const struct msgq_msg *m, size_t size);  /* and send what fits */
static void send_kept(bool wait);   /* oldest first; WAIT: block for the first */

int main(int argc, char *argv[])
{
    prog_init("msgq/server", "server", usage);
    bool clean = options(argc, argv);
    /* The key names the queue for whoever knows the file and the project id. */
    const char *keyfile = ipc_keyfile();
    key_t key = (key_t)traced(ftok(keyfile, KEY_MSGQ), "ftok(\"%s\", '%c')", keyfile, KEY_MSGQ);
    if (key == -1)
        die("ftok %s", keyfile);
    if (clean)
        return cleanup(key);
    stop_cleanly();
    say("key 0x%08x, from the file %s and the project id '%c'", (unsigned)key, keyfile,
        KEY_MSGQ);
    create_queue(key);
    say("waiting for requests (type %d); each reply goes back with the client's pid as "
        "its type", MSGQ_TO_SERVER);
    serve();
    if (stop_signal)
        say("caught %s: stopping", signal_name(stop_signal));
    say("served %ld request%s", served, served == 1 ? "" : "s");
    if (!stdout_gone())
        return 0;                 /* remove_queue() runs at exit */
    warn_msg("standard output is gone (a closed pipe?): stopped, the queue is removed");
    return 1;
}

/* IPC_EXCL: a leftover with our key is looked at, never silently shared.
 * Then what the kernel says about the new queue, and its limit per message. */
static void create_queue(key_t key)
{
    refuse_foreign_record();
    for (int tries = 0;; tries++) {
        msqid = (int)traced(msgget(key, IPC_CREAT | IPC_EXCL | 0600),
                            "msgget(0x%08x, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
        if (msqid != -1)
            break;
        if (errno != EEXIST || tries == 2)
            die("msgget key 0x%08x", (unsigned)key);
        remove_leftover(key);
    }
    int id = msqid;
    owner_write(MSGQ_OWNER, id);
    struct msqid_ds ds;
    struct msginfo info;          /* IPC_INFO fills it, passed as a msqid_ds */
    if (traced(msgctl(id, IPC_STAT, &ds), "msgctl(%d, IPC_STAT)", id) == -1 ||
        traced(msgctl(0, IPC_INFO, (struct msqid_ds *)&info), "msgctl(0, IPC_INFO)") == -1)
        die("msgctl %d", id);
    say("created message queue msqid %d (mode 0%o); my pid and start time are on record "
        "in %s/%s", id, (unsigned)(ds.msg_perm.mode & 0777), ipc_dir(), MSGQ_OWNER);
    say("limits: msg_qbytes %lu bytes in the queue, msgmax %d bytes per message; a request "
        "carries at most %d bytes of text", (unsigned long)ds.msg_qbytes, info.msgmax,
        MSGQ_TEXT_MAX);
}

/* Take the requests out, oldest first, and answer each, until a shutdown
 * request, a stop signal, or stdout gone. */
static void serve(void)
{
    static struct msgq_msg req;
    bool more = true;
    while (more && !stop_signal && !stdout_gone()) {
        send_kept(false);
        delay_ms(delay);
        if (stop_signal)
            break;                /* during the pause: take no more requests */
        /* While replies wait for room, never block on an empty queue: wait for
         * room instead (ENOMSG, below). */
        int flags = MSG_NOERROR | (kept_count > 0 ? IPC_NOWAIT : 0);
        ssize_t n = msgrcv(msqid, &req, MSGQ_RECV_SIZE, MSGQ_TO_SERVER, flags);
        if (!by_tick(n))          /* -h: -v leaves out the tick's EINTRs */
            traced(n, "msgrcv(%d, type %d, %s)", msqid, MSGQ_TO_SERVER,
                   flags & IPC_NOWAIT ? "MSG_NOERROR|IPC_NOWAIT" : "MSG_NOERROR");
        if (n >= 0)
            more = handle(&req, (size_t)n);       /* false: a shutdown request */
        else if (errno == ENOMSG)
            send_kept(true);
        else if (errno != EINTR)
            queue_failed("msgrcv");
    }
}

/* Hand one reply to the kernel: true once it is in the queue, or dropped
 * because its client is gone; false while the queue is full. */
static bool send_reply(const struct msgq_msg *m, size_t size, bool wait)
{
    /* A client that is gone -- a zombie too -- would never take its reply out. */
    if (!process_running((pid_t)m->mtype)) {
        say("client %ld is gone: reply dropped", m->mtype);
        return true;
    }
    int rc = msgsnd(msqid, m, size, wait ? 0 : IPC_NOWAIT);
    if (!by_tick(rc))             /* -h: -v leaves out the tick's EINTRs */
        traced(rc, "msgsnd(%d, type %ld, %zu, %s)", msqid, m->mtype, size,
               wait ? "0" : "IPC_NOWAIT");
    if (rc == -1 && errno != EAGAIN && errno != EINTR)
        queue_failed("msgsnd");
    return rc == 0;
}

/* One message of N bytes (after mtype).  False: stop serving. */
static bool handle(struct msgq_msg *req, size_t n)
{
    if (!well_formed(req, n))     /* anyone of ours may write into the queue */
        return true;
    size_t len = n - MSGQ_HEADER;
    if (req->kind == MSGQ_SHUTDOWN) {
        say("shutdown requested by client %ld", (long)req->pid);
        reply(MSGQ_BYE, req, 0);
        return false;
    }
    if (len > MSGQ_TEXT_MAX) {    /* cut by MSG_NOERROR to MSGQ_TEXT_MAX + 1 */
        say("request from client %ld refused: longer than %d bytes", (long)req->pid,
            MSGQ_TEXT_MAX);
        reply(MSGQ_REFUSED, req, 0);
        return true;
    }
    char shown[4 * MSGQ_TEXT_MAX + 1];
    escape_text(shown, sizeof shown, req->text, len);
    say("request from client %ld: %s", (long)req->pid, shown);
    for (size_t i = 0; i < len; i++)
        if (req->text[i] >= 'a' && req->text[i] <= 'z')
            req->text[i] = (char)(req->text[i] - 'a' + 'A');
    reply(MSGQ_REPLY, req, len);
    served++;
    return true;
}

/* The reply to REQ, in place: the client's pid as its type, and its run and
 * seq as they came.  Sent now, or kept aside while the queue is full. */
static void reply(enum msgq_kind kind, struct msgq_msg *req, size_t len)
{
    req->mtype = req->pid;
    req->kind = kind;
    keep_reply(req, MSGQ_HEADER + len);
}

/* atexit(): whatever way we leave -- the end, die(), a stop signal, stdout
 * gone -- the queue goes, and with it our record. */
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
    owner_remove(MSGQ_OWNER);
}

/* ---- what makes it robust (not the lesson) ---- */

/* Requests and replies share one queue: blocking in msgsnd() could deadlock,
 * the queue full of requests whose clients wait for replies, and the server,
 * the only one who takes requests out, waiting for room.  So a reply that does
 * not fit (IPC_NOWAIT: EAGAIN) waits here while the server takes the next
 * request out, and tries again.  Past KEPT_MAX, the server waits for room. */
enum { KEPT_MAX = 64 };
static struct kept { struct msgq_msg m; size_t size; } kept[KEPT_MAX];
static int kept_first;

static void send_kept(bool wait)
{
    static bool said_full;
    while (kept_count > 0 && send_reply(&kept[kept_first].m, kept[kept_first].size, wait)) {
        kept_first = (kept_first + 1) % KEPT_MAX;
        kept_count--;
        wait = false;
    }
    if (kept_count > 0 && !said_full)
        say("the queue is full: the reply to client %ld waits until there is room",
            kept[kept_first].m.mtype);
    said_full = kept_count > 0;
}

static void keep_reply(const struct msgq_msg *m, size_t size)
{
    while (kept_count == KEPT_MAX && !stop_signal)
        send_kept(true);
    if (kept_count == KEPT_MAX)
        return;                   /* a stop signal: we are quitting anyway */
    kept[(kept_first + kept_count++) % KEPT_MAX] = (struct kept){ *m, size };
    send_kept(false);
}

/* Every way the server stops removes its queue: the end, die() and a failing
 * call through atexit(); a stop signal sets stop_signal and interrupts the
 * wait (or the next tick does); SIGPIPE is ignored and the loop's look at
 * stdout stops the server.  Only kill -9 leaves it: msgq/leftover.c. */
static void stop_cleanly(void)
{
    catch_stop_signals();
    tick_start();
    exit_cleanly(remove_queue);
}

/* A pipe nobody reads any more (| head) polls POLLERR; a hung-up terminal POLLHUP. */
static bool stdout_gone(void)
{
    struct pollfd out = { .fd = STDOUT_FILENO, .events = POLLOUT };
    return poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)) != 0;
}

static void queue_failed(const char *call)
{
    if (errno == EIDRM || errno == EINVAL)
        die_msg("%s: the queue was removed behind our back (ipcrm?)", call);
    die("%s", call);
}

/* A message shorter than our header, claiming a pid no reply could be typed
 * with (1 or less), or of a kind we do not know: said and skipped. */
static bool well_formed(const struct msgq_msg *m, size_t n)
{
    if (n < MSGQ_HEADER)
        say("ignored a malformed message: %zu bytes, shorter than the %zu-byte header",
            n, (size_t)MSGQ_HEADER);
    else if (m->pid <= 1)
        say("ignored a message claiming to come from pid %ld", (long)m->pid);
    else if (m->kind != MSGQ_REQUEST && m->kind != MSGQ_SHUTDOWN)
        say("ignored a message of unknown kind %ld from client %ld", (long)m->kind,
            (long)m->pid);
    else
        return true;
    return false;
}

static bool options(int argc, char *argv[])
{
    static const struct option longopts[] = {       /* getopt_long: GNU, --cleanup */
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
    return clean;
}
