/* msgq/client - sends requests to msgq/server and reads only its own replies.
 *
 * The lesson: many clients share one queue, and the message type sorts it out.
 * A request goes in with type 1, the one the server reads; then the client
 * asks msgrcv() for type getpid() only, and so gets its own replies, never
 * another client's.  One request at a time: one message of ours in the queue.
 *
 * Observe: several clients at once against `msgq/server -d 1000`; -v.
 * Partner: msgq/server (start it first: the client never creates the queue).
 *
 * Usage: msgq/client [-q] [-d MS] [-v] [MESSAGE...]
 */
#include "msgq.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: msgq/client [-q] [-d MS] [-v] [MESSAGE...]\n"
    "Send each MESSAGE, or each line of stdin, to msgq/server and print its reply.\n"
    "A message carries at most 1024 bytes: a longer MESSAGE is a usage error; a\n"
    "longer line of stdin is refused, not sent, and the exit status is 1.\n"
    "  -q     then ask the server to shut down (with no MESSAGE: only that)\n"
    "  -d MS  pause MS milliseconds before sending each message\n"
    "  -v     trace every message-queue call on stderr; left out: the msgrcv()\n"
    "         and msgsnd() calls the 200 ms timer interrupts (EINTR)\n"
    "  -h     show this help\n";

static long delay;
static int msqid;
static struct owner server;       /* the server's creator record */
static uint64_t run;              /* our start time: tells our replies from stale ones */
static uint32_t seq;              /* requests sent so far */
static unsigned count;            /* messages handled so far, sent or refused */
static int status;                /* 1 once a message was refused */
static struct msgq_msg msg;       /* one buffer: one request in flight at a time */

static bool options(int argc, char *argv[]);
static void check_server(void), ask_stdin(void);
static void ask(const char *text, size_t len), shut_down_server(void);

int main(int argc, char *argv[])
{
    prog_init("msgq/client", "client", usage);
    bool quit = options(argc, argv);
    const char *keyfile = ipc_keyfile();
    key_t key = (key_t)traced(ftok(keyfile, KEY_MSGQ), "ftok(\"%s\", '%c')", keyfile, KEY_MSGQ);
    if (key == -1)
        die("ftok %s", keyfile);
    /* Find the queue, never create it: no IPC_CREAT. */
    msqid = (int)traced(msgget(key, 0), "msgget(0x%08x, 0)", (unsigned)key);
    if (msqid == -1 && errno == ENOENT)
        die_msg("no message queue with key 0x%08x: %s (start msgq/server first)",
                (unsigned)key, strerror(errno));
    if (msqid == -1)
        die("msgget key 0x%08x", (unsigned)key);
    /* The server that made it, from its creator record. */
    if (owner_read(MSGQ_OWNER, &server) != 1 || server.id != msqid)
        die_msg("queue %d (key 0x%08x) has no msgq/server on record in %s/%s (start "
                "msgq/server first)", msqid, (unsigned)key, ipc_dir(), MSGQ_OWNER);
    check_server();
    run = process_start_time(getpid());
    tick_start();
    say("queue %d of msgq/server %ld: my requests go in as type %d, my replies come "
        "back as type %ld", msqid, (long)server.pid, MSGQ_TO_SERVER, (long)getpid());

    for (int i = optind; i < argc; i++)
        ask(argv[i], strlen(argv[i]));
    if (optind == argc && !quit)
        ask_stdin();
    if (quit)
        shut_down_server();
    return status;
}

/* Put a request of KIND with LEN bytes of TEXT into the queue, type 1. */
static void send_request(enum msgq_kind kind, const char *text, size_t len)
{
    msg = (struct msgq_msg){ .mtype = MSGQ_TO_SERVER, .kind = kind,
                             .pid = (int32_t)getpid(), .run = run, .seq = ++seq };
    memcpy(msg.text, text, len);
    int rc;
    /* Blocks while the queue is full (msg_qbytes): the server makes room. */
    while ((rc = msgsnd(msqid, &msg, MSGQ_HEADER + len, 0)) == -1 && errno == EINTR) {
        if (!by_tick(rc))         /* -h: -v leaves out the tick's EINTRs */
            traced(rc, "msgsnd(%d, type %ld, %zu, 0)", msqid, msg.mtype, MSGQ_HEADER + len);
        check_server();           /* the tick: is the server still there? */
    }
    traced(rc, "msgsnd(%d, type %ld, %zu, 0)", msqid, msg.mtype, MSGQ_HEADER + len);
    if (rc == -1 && (errno == EIDRM || errno == EINVAL))
        die_msg("the queue was removed: msgq/server stopped");
    if (rc == -1)
        die("msgsnd");
}

/* The reply to request seq: the length of its text; -1: the queue is gone. */
static ssize_t receive(void)
{
    for (;;) {
        /* Type getpid(): the oldest message of that type, whatever else waits. */
        ssize_t n = msgrcv(msqid, &msg, MSGQ_RECV_SIZE, getpid(), MSG_NOERROR);
        if (!by_tick(n))          /* -h: -v leaves out the tick's EINTRs */
            traced(n, "msgrcv(%d, type %ld, MSG_NOERROR)", msqid, (long)getpid());
        if (n == -1 && errno == EINTR)
            check_server();       /* a queue has no end of file: look */
        else if (n == -1 && (errno == EIDRM || errno == EINVAL))
            return -1;
        else if (n == -1)
            die("msgrcv");
        /* Our type, but anyone of ours may have written it: check it. */
        else if ((size_t)n < MSGQ_HEADER || (size_t)n > MSGQ_HEADER + MSGQ_TEXT_MAX)
            warn_msg("ignored a malformed reply of %zd bytes", n);
        else if (msg.run != run || msg.seq != seq)
            warn_msg("ignored a stale reply, left for an earlier process with pid %ld",
                     (long)getpid());
        else
            return n - (ssize_t)MSGQ_HEADER;
    }
}

static void ask(const char *text, size_t len)
{
    char shown[4 * MSGQ_TEXT_MAX + 1];
    count++;
    if (len > MSGQ_TEXT_MAX) {    /* a line of stdin: MESSAGEs were checked */
        warn_msg("message %u is %zu bytes, more than the %d a message carries: not sent",
                 count, len, MSGQ_TEXT_MAX);
        status = 1;
        return;
    }
    delay_ms(delay);
    send_request(MSGQ_REQUEST, text, len);
    escape_text(shown, sizeof shown, text, len);
    say("sent: %s", shown);
    ssize_t got = receive();
    if (got == -1)
        die_msg("the queue was removed while waiting for a reply: msgq/server stopped");
    if (msg.kind == MSGQ_REFUSED) {
        warn_msg("msgq/server refused message %u", count);
        status = 1;
    } else if (msg.kind == MSGQ_REPLY) {
        escape_text(shown, sizeof shown, msg.text, (size_t)got);
        say("reply: %s", shown);
    } else {
        die_msg("unexpected reply of kind %ld to message %u", (long)msg.kind, count);
    }
}

static void shut_down_server(void)
{
    send_request(MSGQ_SHUTDOWN, "", 0);
    say("asked the server to shut down");
    /* The server answers, then removes the queue: we may find either. */
    if (receive() >= 0 && msg.kind != MSGQ_BYE)
        die_msg("unexpected reply of kind %ld to the shutdown request", (long)msg.kind);
    say("the server is shutting down and removes the queue");
}

/* Nothing tells a waiting client that its server was killed: the tick
 * interrupts the wait, and here we look.  A server that stops as it should
 * removes its queue first: a queue still there means it was killed. */
static void check_server(void)
{
    if (owner_running(&server))
        return;
    struct msqid_ds ds;
    if (traced(msgctl(msqid, IPC_STAT, &ds), "msgctl(%d, IPC_STAT)", msqid) == -1) {
        if (errno == EIDRM || errno == EINVAL)
            die_msg("the queue was removed: msgq/server stopped");
        die("msgctl %d IPC_STAT", msqid);
    }
    die_msg("msgq/server %ld is gone (killed?): its queue %d is left over, with %lu "
            "message%s; the next msgq/server removes it", (long)server.pid, msqid,
            (unsigned long)ds.msg_qnum, ds.msg_qnum == 1 ? "" : "s");
}

/* ---- what makes it robust (not the lesson) ---- */

static bool options(int argc, char *argv[])
{
    bool quit = false;
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":qd:vh")) != -1) {
        switch (c) {
        case 'q': quit = true; break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    /* A MESSAGE that can never be sent is a usage error, found before any. */
    for (int i = optind; i < argc; i++)
        if (strlen(argv[i]) > MSGQ_TEXT_MAX)
            usage_error("MESSAGE %d is %zu bytes long: a message carries at most %d",
                        i - optind + 1, strlen(argv[i]), MSGQ_TEXT_MAX);
    return quit;
}

static void ask_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    ask(line, len + dropped);     /* too long if anything was dropped: refused */
}

/* Each line of stdin is a message (the tick restarts read(): SA_RESTART). */
static void ask_stdin(void)
{
    if (stdin_lines(ask_line, NULL) == -1)
        die("read stdin");
}
