/* msgq/client - sends requests to msgq/server and reads only its own replies.
 *
 * The lesson: many clients share one queue, and the message type sorts it out.
 * A request goes in with type 1, the one the server reads; then the client
 * asks msgrcv() for type getpid() only, and so gets its own replies and never
 * another client's, however many wait in the queue.  One request at a time:
 * each client has at most one message in the queue, so clients can never fill
 * it between them faster than the server empties it.
 */
#include "../common/common.h"
#include "msgq.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: msgq/client [-q] [-d MS] [-v] [MESSAGE...]\n"
    "Send each MESSAGE, or each line of stdin, to msgq/server and print its reply.\n"
    "A message carries at most 1024 bytes; a longer one is refused, not sent.\n"
    "  -q     then ask the server to shut down (with no MESSAGE: only that)\n"
    "  -d MS  pause MS milliseconds before sending each message\n"
    "  -v     trace every message-queue call on stderr\n"
    "  -h     show this help\n";

static long delay;
static int msqid;
static struct msgq_record server;
static uint64_t run;              /* our start time: tells our replies from stale ones */
static uint32_t seq;              /* requests sent so far */
static unsigned count;            /* messages handled so far, sent or refused */
static int status;                /* 1 once a message was refused */
static struct msgq_msg msg;       /* one buffer: one request in flight at a time */

/* ---- the server may die: a queue has no end of file ---- */

/* A client waiting in msgrcv() is told nothing if the server is killed: the
 * queue stays, empty, forever.  So the tick (msgq.h) interrupts the wait and
 * the client looks whether the server is still there. */
static void check_server(void)
{
    if (!msgq_server_alive(&server))
        die_msg("msgq/server %ld is gone without answering (killed?); its queue %d is "
                "left over: the next msgq/server removes it", (long)server.pid, msqid);
}

/* ---- one message ---- */

static void send_msg(size_t len)
{
    for (;;) {
        /* Blocks while the queue is full (msg_qbytes): the server makes room. */
        if (traced(msgsnd(msqid, &msg, MSGQ_HEADER + len, 0), "msgsnd(%d, type %ld, %zu)",
                   msqid, msg.mtype, MSGQ_HEADER + len) == 0)
            return;
        if (errno == EINTR) {
            check_server();
            continue;
        }
        if (errno == EIDRM || errno == EINVAL)
            die_msg("the queue was removed: msgq/server stopped");
        die("msgsnd");
    }
}

/* Wait for the answer to request SEQ and return its text length, or -1 when
 * the queue was removed and GONE_OK says that is what we expect. */
static ssize_t receive(bool gone_ok)
{
    for (;;) {
        ssize_t n = msgrcv(msqid, &msg, MSGQ_RECV_SIZE, getpid(), MSG_NOERROR);
        if (n != -1 || errno != EINTR)    /* the tick's EINTRs would flood -v */
            traced(n, "msgrcv(%d, type %ld)", msqid, (long)getpid());
        if (n == -1) {
            if (errno == EINTR) {
                check_server();
                continue;
            }
            if ((errno == EIDRM || errno == EINVAL) && gone_ok)
                return -1;
            if (errno == EIDRM || errno == EINVAL)
                die_msg("the queue was removed while waiting for a reply: msgq/server stopped");
            die("msgrcv");
        }
        /* Our type, but anyone of ours may have written it: check it. */
        if ((size_t)n < MSGQ_HEADER || (size_t)n > MSGQ_HEADER + MSGQ_TEXT_MAX) {
            warn_msg("ignored a malformed reply of %zd bytes", n);
            continue;
        }
        if (msg.run != run || msg.seq != seq) {
            warn_msg("ignored a stale reply, left for an earlier process with pid %ld",
                     (long)getpid());
            continue;
        }
        return n - (ssize_t)MSGQ_HEADER;
    }
}

static void ask(const char *text, size_t len)
{
    count++;
    if (len > MSGQ_TEXT_MAX) {
        warn_msg("message %u is %zu bytes, more than the %d a message carries: not sent",
                 count, len, MSGQ_TEXT_MAX);
        status = 1;
        return;
    }
    delay_ms(delay);
    msg.mtype = MSGQ_TO_SERVER;
    msg.kind = MSGQ_REQUEST;
    msg.pid = (int32_t)getpid();
    msg.run = run;
    msg.seq = ++seq;
    memcpy(msg.text, text, len);
    char shown[4 * MSGQ_TEXT_MAX + 1];
    escape_text(shown, sizeof shown, text, len);
    send_msg(len);
    say("sent: %s", shown);

    ssize_t got = receive(false);
    if (msg.kind == MSGQ_REFUSED) {
        warn_msg("msgq/server refused message %u", count);
        status = 1;
        return;
    }
    if (msg.kind != MSGQ_REPLY)
        die_msg("unexpected reply of kind %ld to message %u", (long)msg.kind, count);
    escape_text(shown, sizeof shown, msg.text, (size_t)got);
    say("reply: %s", shown);
}

static void ask_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    if (dropped > 0)              /* too long anyway: ask() refuses it */
        len += dropped;
    ask(line, len);
}

static void ask_stdin(void)
{
    struct lines lines = { .used = 0 };
    char buf[4096];
    bool prompt = isatty(STDIN_FILENO);
    for (;;) {
        if (prompt && write_all(STDOUT_FILENO, "Please enter# ", 14) == -1)
            die("write");
        prompt = false;
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;             /* the watchdog's tick */
        if (n == -1)
            die("read stdin");
        if (n == 0)
            break;
        unsigned before = count;
        lines_feed(&lines, buf, (size_t)n, ask_line, NULL);
        prompt = isatty(STDIN_FILENO) && count != before;
    }
    lines_end(&lines, ask_line, NULL);
}

static void shut_down_server(void)
{
    msg.mtype = MSGQ_TO_SERVER;
    msg.kind = MSGQ_SHUTDOWN;
    msg.pid = (int32_t)getpid();
    msg.run = run;
    msg.seq = ++seq;
    send_msg(0);
    say("asked the server to shut down");
    /* The server answers, then removes the queue: we may find either. */
    if (receive(true) >= 0 && msg.kind != MSGQ_BYE)
        die_msg("unexpected reply of kind %ld to the shutdown request", (long)msg.kind);
    say("the server is shutting down and removes the queue");
}

int main(int argc, char *argv[])
{
    prog_init("msgq/client", "client", usage);
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

    /* Find the queue, never create it: no IPC_CREAT. */
    key_t key = ipc_key(KEY_MSGQ);
    msqid = (int)traced(msgget(key, 0), "msgget(0x%08x, 0)", (unsigned)key);
    if (msqid == -1 && errno == ENOENT)
        die_msg("no message queue with key 0x%08x: %s (start msgq/server first)",
                (unsigned)key, strerror(errno));
    if (msqid == -1)
        die("msgget key 0x%08x", (unsigned)key);
    if (!msgq_record_read(&server) || server.msqid != msqid) {
        char path[PATH_MAX];
        die_msg("queue %d (key 0x%08x) has no server on record in %s (start msgq/server "
                "first)", msqid, (unsigned)key, msgq_record_path(path, sizeof path));
    }
    if (!msgq_server_alive(&server))
        die_msg("msgq/server %ld is gone (killed?); its queue %d is left over (start "
                "msgq/server first: it removes a stale queue)", (long)server.pid, msqid);

    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) == -1)
        die("clock_gettime");
    run = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    msgq_start_tick();
    say("queue %d of msgq/server %ld: my requests go in as type %d, my replies come "
        "back as type %ld", msqid, (long)server.pid, MSGQ_TO_SERVER, (long)getpid());

    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            ask(argv[i], strlen(argv[i]));
    } else if (!quit) {
        ask_stdin();
    }
    if (quit)
        shut_down_server();
    return status;
}
