/* posix-mq/client - sends requests to posix-mq/server, gets the replies in a
 * queue of its own.
 *
 * The lesson: a POSIX message has no type to pick out one's own replies by,
 * so each client creates a queue of its own, NAME.PID (O_CREAT | O_EXCL), the
 * server finds it from the pid in the request, and the client removes it
 * (mq_unlink) on every way out.  A request has a priority (-P): the highest
 * comes out first.  A queue has no end of file, so every wait is bounded:
 * after a second the client looks whether its server still runs.
 *
 * Observe: clients with -P 1 and -P 9 against posix-mq/server -d 2000; -v.
 * Partner: posix-mq/server (start it first: the client never creates its queue).
 *
 * Usage: posix-mq/client [-N NAME] [-P PRIO] [-q] [-d MS] [-v] [--small-buffer] [MESSAGE...]
 */
#include "pmq.h"

static const char usage[] =
    "usage: posix-mq/client [-N NAME] [-P PRIO] [-q] [-d MS] [-v] [--small-buffer] [MESSAGE...]\n"
    "Send each MESSAGE, or each line of stdin, to posix-mq/server and print its reply,\n"
    "which comes back in a queue of the client's own, removed on the way out.\n"
    "A message carries at most 1024 bytes: a longer MESSAGE is a usage error; a\n"
    "longer line of stdin is refused, not sent, and the exit status is 1.\n"
    "  -N NAME         the server's queue (as its -N; default from $IPC_DEMO_DIR)\n"
    "  -P PRIO         the priority of every request, 0 (default) to 32767\n"
    "  -q              then ask the server to shut down (with no MESSAGE: only that)\n"
    "  -d MS           pause MS milliseconds before sending each message\n"
    "  -v              trace every queue call on stderr\n"
    "  --small-buffer  receive into 64 bytes, less than mq_msgsize: EMSGSIZE, shown\n"
    "  -h              show this help\n";

static struct pmq_options opt;
static struct pmq_names names, mine;      /* the server's queue, and ours */
static mqd_t to_server = (mqd_t)-1, replies = (mqd_t)-1;
static struct owner server;       /* the server's creator record */
static uint32_t seq;              /* requests sent so far */
static int status;                /* 1 once a line of stdin was refused */
static struct pmq_msg msg;        /* one request in flight at a time */

static void check_server(void), remove_reply_queue(void), ask_stdin(void);
static void ask(const char *text, size_t len), send_request(enum pmq_kind, const char *, size_t);
static size_t receive(enum pmq_kind kind);

int main(int argc, char *argv[])
{
    prog_init("posix-mq/client", "client", usage);
    opt = parse_args(argc, argv, PMQ_CLIENT, &names);
    catch_stop_signals();         /* a stop signal ends a wait: we clean up and exit */
    exit_cleanly(remove_reply_queue);
    /* Find the server's queue, never create it: no O_CREAT. */
    to_server = (mqd_t)traced(mq_open(names.queue, O_WRONLY), "mq_open(\"%s\", O_WRONLY)",
                              names.queue);
    if (to_server == (mqd_t)-1 && errno == ENOENT)
        die_msg("no message queue %s: %s (start posix-mq/server first)", names.queue,
                strerror(errno));
    if (to_server == (mqd_t)-1)
        die("mq_open %s", names.queue);
    /* The server that made it, by its creator record: the record's id is its inode. */
    struct stat st = stat_queue(to_server, names.queue);
    if (owner_read(names.record, &server) != 1 || (unsigned long)server.id != st.st_ino)
        die_msg("queue %s has no posix-mq/server on record in %s/%s (start posix-mq/server "
                "first)", names.queue, ipc_dir(), names.record);
    check_server();
    /* Ours alone: O_EXCL, mode 0600, room for the one reply we wait for. */
    struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = PMQ_MSGSIZE };
    reply_names(&mine, names.queue, getpid());    /* EEXIST: a killed client had our pid */
    do
        replies = (mqd_t)traced(mq_open(mine.queue, O_RDONLY | O_CREAT | O_EXCL, 0600, &attr),
                                "mq_open(\"%s\", O_RDONLY|O_CREAT|O_EXCL, 0600, {mq_maxmsg=1, "
                                "mq_msgsize=%ld})", mine.queue, attr.mq_msgsize);
    while (replies == (mqd_t)-1 && open_again(&mine, 1));
    created(replies, &mine);
    say("queue %s of posix-mq/server %ld: my requests go in with priority %ld, my replies "
        "come back in my own queue %s", names.queue, (long)server.pid, opt.prio, mine.queue);

    for (int i = optind; i < argc; i++)
        ask(argv[i], strlen(argv[i]));
    if (optind == argc && !opt.quit)
        ask_stdin();
    if (opt.quit) {
        send_request(PMQ_SHUTDOWN, "", 0);
        say("asked the server to shut down");
        receive(PMQ_BYE);
        say("the server is shutting down and removes the queue");
    }
    return status;
}

/* A wait failed: a stop signal (now or just before it), or the second is up. */
static void waited(const char *call)
{
    if (stop_signal)
        die_msg("caught %s: stopped", signal_name(stop_signal));
    if (errno == ETIMEDOUT)
        check_server();
    else if (errno != EINTR)
        die("%s", call);
}

static void send_request(enum pmq_kind kind, const char *text, size_t len)
{
    msg = (struct pmq_msg){ .kind = kind, .pid = (int32_t)getpid(), .seq = ++seq };
    memcpy(msg.text, text, len);
    for (;;) {                    /* waits while the server's queue is full */
        struct timespec t = deadline_in(PMQ_WAIT_MS);
        if (traced(mq_timedsend(to_server, (const char *)&msg, PMQ_HEADER + len, opt.prio, &t),
                   "mq_timedsend(%d, %zu, %ld, 1 s)", to_server, PMQ_HEADER + len, opt.prio) == 0)
            return;
        waited("mq_timedsend");
    }
}

/* The length of the text of the reply of KIND to request SEQ. */
static size_t receive(enum pmq_kind kind)
{
    size_t size = opt.small_buffer ? 64 : sizeof msg;
    for (;;) {
        struct timespec t = deadline_in(PMQ_WAIT_MS);
        unsigned p;
        ssize_t n = mq_timedreceive(replies, (char *)&msg, size, &p, &t);
        traced(n, "mq_timedreceive(%d, %zu, 1 s)", replies, size);
        if (n == -1 && errno == EMSGSIZE)   /* the trap: the buffer, not the message */
            die_msg("mq_timedreceive into %zu bytes: %s: the buffer must hold the queue's "
                    "mq_msgsize, %ld bytes, however short the message waiting in it", size,
                    strerror(errno), PMQ_MSGSIZE);
        if (n == -1)
            waited("mq_timedreceive");
        else if ((size_t)n < PMQ_HEADER || msg.seq != seq || msg.kind != kind)
            warn_msg("ignored a malformed reply of %zd bytes", n);
        else
            return (size_t)n - PMQ_HEADER;
    }
}

static void ask(const char *text, size_t len)
{
    char shown[4 * PMQ_TEXT_MAX + 1];
    delay_ms(opt.delay);          /* cut short by a stop signal: */
    if (stop_signal)
        waited("nanosleep");
    send_request(PMQ_REQUEST, text, len);
    escape_text(shown, sizeof shown, text, len);
    say("sent: %s", shown);
    size_t got = receive(PMQ_REPLY);
    escape_text(shown, sizeof shown, msg.text, got);
    say("reply: %s", shown);
}

/* atexit(): our queue goes on every way out (kill -9: the server finds it). */
static void remove_reply_queue(void)
{
    if (to_server != (mqd_t)-1)
        (void)traced(mq_close(to_server), "mq_close(%d)", to_server);
    if (replies == (mqd_t)-1)
        return;
    (void)traced(mq_close(replies), "mq_close(%d)", replies);
    if (traced(mq_unlink(mine.queue), "mq_unlink(\"%s\")", mine.queue) == -1)
        warn_sys("mq_unlink %s", mine.queue);
    owner_remove(mine.record);
}

/* Nothing tells a client that its server was killed: it looks every second.
 * A server that stops as it should unlinks its queue: no name links it then
 * (Linux: the queue we hold open is a file). */
static void check_server(void)
{
    struct mq_attr a;
    if (owner_running(&server))
        return;
    if (stat_queue(to_server, names.queue).st_nlink == 0)
        die_msg("posix-mq/server %ld stopped: its queue %s was removed", (long)server.pid,
                names.queue);
    if (traced(mq_getattr(to_server, &a), "mq_getattr(%d)", to_server) == -1)
        die("mq_getattr %s", names.queue);
    die_msg("posix-mq/server %ld is gone (killed?): its queue %s is left over, with %ld "
            "message%s; the next posix-mq/server removes it", (long)server.pid, names.queue,
            a.mq_curmsgs, a.mq_curmsgs == 1 ? "" : "s");
}

/* ---- what makes it robust (not the lesson) ---- */

/* A line too long for a message (anything dropped is) is refused, not sent. */
static void ask_line(const char *line, size_t len, size_t dropped, void *arg)
{
    static unsigned count;        /* lines so far */
    (void)arg;
    count++;
    if (len + dropped <= PMQ_TEXT_MAX) {
        ask(line, len);
        return;
    }
    warn_msg("message %u is %zu bytes, more than the %d a message carries: not sent", count,
             len + dropped, PMQ_TEXT_MAX);
    status = 1;
}

static void ask_stdin(void)       /* each line of stdin is a message */
{
    if (stdin_lines(ask_line, NULL) == -1)
        waited("read stdin");     /* a stop signal */
}
