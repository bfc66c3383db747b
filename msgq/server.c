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
 *
 * Usage: msgq/server [-d MS] [-v] [--cleanup]
 */
#define _GNU_SOURCE               /* msgctl(IPC_INFO) and struct msginfo */
#include "../common/common.h"
#include "msgq.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
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

static bool options(int argc, char *argv[]);
static int create_queue(key_t key);
static void show_queue(void);
static void serve(void);
static bool handle(struct msgq_msg *req, size_t n);
static void reply(enum msgq_kind kind, const struct msgq_msg *req, size_t len);
static void remove_queue(void);

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
    stop_cleanly(remove_queue);
    say("key 0x%08x, from the file %s and the project id '%c'", (unsigned)key, keyfile,
        KEY_MSGQ);
    msqid = create_queue(key);
    owner_write(MSGQ_OWNER, msqid);
    show_queue();
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

/* IPC_EXCL: a leftover, or someone else's queue with our key, is an error we
 * look at (msgq/leftover.c), never a queue we silently share. */
static int create_queue(key_t key)
{
    refuse_foreign_record();
    for (int tries = 0;; tries++) {
        int id = (int)traced(msgget(key, IPC_CREAT | IPC_EXCL | 0600),
                             "msgget(0x%08x, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
        if (id != -1)
            return id;
        if (errno != EEXIST || tries == 2)
            die("msgget key 0x%08x", (unsigned)key);
        remove_leftover(key);
    }
}

/* What the kernel says about the new queue, and its limit per message. */
static void show_queue(void)
{
    struct msqid_ds ds;
    struct msginfo info;          /* IPC_INFO fills it, passed as a msqid_ds */
    if (traced(msgctl(msqid, IPC_STAT, &ds), "msgctl(%d, IPC_STAT)", msqid) == -1 ||
        traced(msgctl(0, IPC_INFO, (struct msqid_ds *)&info), "msgctl(0, IPC_INFO)") == -1)
        die("msgctl %d", msqid);
    say("created message queue msqid %d (mode 0%o); my pid and start time are on record "
        "in %s/%s", msqid, (unsigned)(ds.msg_perm.mode & 0777), ipc_dir(), MSGQ_OWNER);
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
        int flags = MSG_NOERROR | (replies_kept() ? IPC_NOWAIT : 0);
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
bool send_reply(const struct msgq_msg *m, size_t size, bool wait)
{
    /* A client that is gone -- a zombie too: it runs no code -- would never
     * take its reply out: it would sit in the queue for good, taking room. */
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
    if (!well_formed(req, n))     /* msgq/check.c: anyone of ours may write here */
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

/* The reply to REQ, with the client's pid as its type: sent now, or kept
 * aside while the queue is full (msgq/replies.c). */
static void reply(enum msgq_kind kind, const struct msgq_msg *req, size_t len)
{
    static struct msgq_msg m;
    m = (struct msgq_msg){ .mtype = req->pid, .kind = kind, .pid = req->pid,
                           .run = req->run, .seq = req->seq };
    memcpy(m.text, req->text, len);
    keep_reply(&m, MSGQ_HEADER + len);
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

static bool options(int argc, char *argv[])
{
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
    return clean;
}
