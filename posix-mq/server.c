/* posix-mq/server - answers requests on a POSIX message queue.
 *
 * The lesson: a POSIX queue is found by a name, "/something", and, on Linux,
 * it is a file descriptor: one poll() waits for a request on the queue and a
 * stop signal on a signalfd at once, with no timer.  mq_receive() takes the
 * oldest message of the highest priority first: with -d, requests queue up
 * and the most urgent is answered first.  The queue lives in the kernel until
 * mq_unlink() removes its name.
 *
 * Observe: -d 2000 and clients with -P 1, -P 9; cat /dev/mqueue/NAME; -v.
 * Partner: posix-mq/client.  What a killed run leaves: posix-mq/leftover.c.
 *
 * Usage: posix-mq/server [-N NAME] [-m MAXMSG] [-d MS] [-v] [--cleanup]
 */
#include "pmq.h"

#include <poll.h>
#include <sys/signalfd.h>         /* Linux-only */

static const char usage[] =
    "usage: posix-mq/server [-N NAME] [-m MAXMSG] [-d MS] [-v] [--cleanup]\n"
    "Create a POSIX message queue and answer each request with its text upper-cased,\n"
    "highest priority first, until posix-mq/client -q, SIGINT/SIGTERM/SIGHUP, or\n"
    "standard output goes away (| head: exit 1).  The queue is removed on the way out.\n"
    "  -N NAME    the queue's name: '/' and 1 to 198 letters, digits, '.', '_', '-'\n"
    "             (default /ipc-demos-DEV-INO-mq, from $IPC_DEMO_DIR's identity)\n"
    "  -m MAXMSG  mq_maxmsg, messages the queue holds (default 10); above msg_max\n"
    "             (/proc/sys/fs/mqueue) only with CAP_SYS_RESOURCE (else EINVAL)\n"
    "  -d MS      pause MS milliseconds before taking each request out: others queue up\n"
    "  -v         trace every queue, poll() and signalfd call on stderr\n"
    "  --cleanup  remove what a killed server or client left (queues, records), exit\n"
    "  -h         show this help\n";

static struct pmq_options opt;
static struct pmq_names names;
static mqd_t mqd = (mqd_t)-1;
static int sfd = -1;              /* the signalfd */
static long served;

static void serve(void), remove_queue(void);

/* Linux-only: the stop signals become data.  Blocked first, none is delivered
 * the usual way: it stays pending until the server reads it from the signalfd. */
static int stop_signals_fd(void)
{
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    if (traced(sigprocmask(SIG_BLOCK, &stops, NULL),
               "sigprocmask(SIG_BLOCK, [SIGINT SIGTERM SIGHUP])") == -1)
        die("sigprocmask");
    int fd = (int)traced(signalfd(-1, &stops, SFD_CLOEXEC),
                         "signalfd(-1, [SIGINT SIGTERM SIGHUP], SFD_CLOEXEC)");
    if (fd == -1)
        die("signalfd");
    return fd;
}

int main(int argc, char *argv[])
{
    prog_init("posix-mq/server", "server", usage);
    opt = parse_args(argc, argv, PMQ_SERVER, &names);
    if (opt.clean)
        return cleanup(&names);
    say("queue name %s, %s%s", names.queue, opt.given ? "given with -N" :
        "made from the device and inode of ", opt.given ? "" : ipc_dir());
    sfd = stop_signals_fd();
    exit_cleanly(remove_queue);
    /* O_EXCL: a queue already there is judged (leftover.c), never shared.  The
     * size is fixed here, once.  O_NONBLOCK: poll() says when a request is there. */
    struct mq_attr attr = { .mq_maxmsg = opt.maxmsg, .mq_msgsize = PMQ_MSGSIZE };
    do
        mqd = (mqd_t)traced(mq_open(names.queue, O_RDONLY | O_CREAT | O_EXCL | O_NONBLOCK, 0600,
                                    &attr), "mq_open(\"%s\", O_RDONLY|O_CREAT|O_EXCL|O_NONBLOCK, "
                            "0600, {mq_maxmsg=%ld, mq_msgsize=%ld})", names.queue,
                            attr.mq_maxmsg, attr.mq_msgsize);
    while (mqd == (mqd_t)-1 && open_again(&names, opt.maxmsg));
    struct stat st = created(mqd, &names);
    if (traced(mq_getattr(mqd, &attr), "mq_getattr(%d)", mqd) == -1)
        die("mq_getattr %s", names.queue);
    say("created message queue %s (mode 0%o, mq_maxmsg %ld, mq_msgsize %ld); my pid and start "
        "time are on record in %s/%s", names.queue, (unsigned)(st.st_mode & 0777),
        attr.mq_maxmsg, attr.mq_msgsize, ipc_dir(), names.record);
    say("limits in /proc/sys/fs/mqueue: msg_max %ld messages, msgsize_max %ld bytes, "
        "queues_max %ld queues; a request carries at most %d bytes of text",
        mq_limit("msg_max"), mq_limit("msgsize_max"), mq_limit("queues_max"), PMQ_TEXT_MAX);
    remove_orphans(names.queue);
    say("waiting for requests: one poll() on the queue (fd %d), the signalfd (fd %d) and "
        "standard output", mqd, sfd);
    serve();
    say("served %ld request%s", served, served == 1 ? "" : "s");
    return 0;                     /* remove_queue() runs at exit */
}

/* Into the client's own queue, NAME.PID, with the request's priority; false:
 * dropped. */
static bool reply(enum pmq_kind kind, struct pmq_msg *m, size_t len, unsigned prio)
{
    struct pmq_names to;
    reply_names(&to, names.queue, m->pid);
    if (!process_running(m->pid)) {   /* a zombie too: it runs no code */
        say("client %ld is gone: reply dropped", (long)m->pid);
        remove_orphan(names.queue, m->pid);
        return false;
    }
    /* O_NONBLOCK: a full reply queue fails (EAGAIN), never stops the server. */
    mqd_t q = (mqd_t)traced(mq_open(to.queue, O_WRONLY | O_NONBLOCK),
                            "mq_open(\"%s\", O_WRONLY|O_NONBLOCK)", to.queue);
    if (q == (mqd_t)-1) {
        warn_sys("mq_open %s: the reply to client %ld is dropped", to.queue, (long)m->pid);
        return false;
    }
    m->kind = kind;
    bool sent = traced(mq_send(q, (const char *)m, PMQ_HEADER + len, prio),
                       "mq_send(%d, %zu, %u)", q, PMQ_HEADER + len, prio) == 0;
    if (!sent)
        warn_sys("mq_send %s: the reply to client %ld is dropped", to.queue, (long)m->pid);
    (void)traced(mq_close(q), "mq_close(%d)", q);     /* sent or not: nothing is lost */
    return sent;
}

/* False: stop serving. */
static bool handle(struct pmq_msg *req, size_t n, unsigned prio)
{
    /* Anyone of ours may write here: what we cannot answer is skipped. */
    if (n < PMQ_HEADER || req->pid <= 1 || (req->kind != PMQ_REQUEST &&
                                            req->kind != PMQ_SHUTDOWN)) {
        say("ignored a malformed message of %zu bytes", n);
        return true;
    }
    size_t len = n - PMQ_HEADER;
    if (req->kind == PMQ_SHUTDOWN) {
        say("shutdown requested by client %ld", (long)req->pid);
        reply(PMQ_BYE, req, 0, prio);
        return false;
    }
    char shown[4 * PMQ_TEXT_MAX + 1];
    escape_text(shown, sizeof shown, req->text, len);
    say("request from client %ld, priority %u: %s", (long)req->pid, prio, shown);
    for (size_t i = 0; i < len; i++)
        if (req->text[i] >= 'a' && req->text[i] <= 'z')
            req->text[i] = (char)(req->text[i] - 'a' + 'A');
    served += reply(PMQ_REPLY, req, len, prio);     /* a dropped reply serves nobody */
    return true;
}

/* Until a shutdown request or a stop signal. */
static void serve(void)
{
    static struct pmq_msg req;
    unsigned prio;
    /* Linux-only: mqd_t is a descriptor.  Stdout is watched for nothing: poll()
     * reports POLLERR on a pipe's write end once nobody reads it (| head). */
    struct pollfd fds[3] = { { .fd = mqd, .events = POLLIN }, { .fd = sfd, .events = POLLIN },
                             { .fd = STDOUT_FILENO, .events = 0 } };
    for (;;) {
        int n = (int)traced(poll(fds, 3, -1), "poll([%d, %d, 1], 3, -1)", mqd, sfd);
        if (n == -1 && errno != EINTR)
            die("poll");
        if (n > 0 && (fds[1].revents & POLLIN))
            break;
        if (n > 0 && (fds[2].revents & (POLLERR | POLLHUP)))
            die_msg("standard output is gone (a closed pipe?): stopped, the queue is removed");
        if (n <= 0 || !(fds[0].revents & POLLIN))
            continue;
        /* -d: a pause watching the signalfd only, while more requests queue up;
         * a stop signal ends it, and the next poll() reads it. */
        if (opt.delay > 0 &&
            traced(poll(&fds[1], 1, (int)opt.delay), "poll([%d], 1, %ld)", sfd, opt.delay) == 1)
            continue;
        /* The buffer must hold mq_msgsize bytes, however short the message. */
        ssize_t got = mq_receive(mqd, (char *)&req, sizeof req, &prio);
        traced(got, "mq_receive(%d, %zu)", mqd, sizeof req);
        if (got == -1 && errno != EAGAIN)     /* EAGAIN: someone else of ours took it */
            die("mq_receive %s", names.queue);
        if (got != -1 && !handle(&req, (size_t)got, prio))
            return;
    }
    struct signalfd_siginfo si;   /* a stop signal, as data */
    if (traced(read(sfd, &si, sizeof si), "read(%d, %zu)", sfd, sizeof si) != sizeof si)
        die("read signalfd");
    say("caught %s: stopping", signal_name((int)si.ssi_signo));
}

/* atexit(): whatever way we leave, the name goes.  A queue unlinked while open
 * lives on until its last descriptor closes (a waiting client's): like a file. */
static void remove_queue(void)
{
    (void)traced(close(sfd), "close(%d)", sfd);
    if (mqd == (mqd_t)-1)
        return;
    (void)traced(mq_close(mqd), "mq_close(%d)", mqd);
    if (traced(mq_unlink(names.queue), "mq_unlink(\"%s\")", names.queue) == 0)
        say("removed the queue (mq_unlink): %s is gone", names.queue);
    else if (errno != ENOENT)
        warn_sys("mq_unlink %s", names.queue);
    owner_remove(names.record);
}
