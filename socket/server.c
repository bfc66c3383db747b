/* socket/server - a Unix domain socket: many clients at once, both directions
 * on each connection, and the kernel saying who each client is.
 *
 * The lesson: socket() makes an endpoint and bind() gives it a name: a socket
 * file in $IPC_DEMO_DIR (type s in ls -l; no data ever goes into it), or with
 * -a a name in Linux's abstract namespace (no file at all).  listen() makes it
 * a listening socket; each accept() returns a new fd, one private connection
 * to one client, carrying data both ways: we read a line and write the reply
 * on the same fd.  getsockopt(SO_PEERCRED) says who connected (pid, uid, gid),
 * as the kernel recorded it: a FIFO cannot tell who writes into it.  One
 * process serves every client: ppoll() says which fds are ready.
 *
 * Observe: -f, -v, ls -l "$IPC_DEMO_DIR" while it runs.  Partner: socket/client.
 * Usage: socket/server [-a] [-p PATH] [-d MS] [-f] [-v]
 */
#define _GNU_SOURCE                    /* accept4, ppoll, struct ucred (SO_PEERCRED) */
#include "sockfile.h"

#include <ctype.h>
#include <poll.h>

static const char usage[] =
    "usage: socket/server [-a] [-p PATH] [-d MS] [-f] [-v]\n"
    "Listen on a Unix domain socket; answer each line of each client upper-cased.\n"
    "  -p PATH  the socket file (default $IPC_DEMO_DIR/socket)\n"
    "  -a       bind to a name in the abstract namespace instead (-p NAME, default\n"
    "           one made from $IPC_DEMO_DIR): no file, nothing to remove\n"
    "  -d MS    pause MS milliseconds before each reply (default 0)\n"
    "  -f       print the open file descriptors after listen(), accept(), close()\n"
    "  -v       trace every system call on the sockets and the socket file on\n"
    "           stderr (not the -d pauses)\n"
    "  -h       show this help\n"
    "Serves up to 64 clients at once until SIGINT, SIGTERM or SIGHUP: then it\n"
    "removes the socket file, closes every connection and exits 0.  A line longer\n"
    "than 4095 bytes gets a note.  A socket file left by a killed server is\n"
    "replaced; anything else at PATH is left as it is.\n";

enum { MAX_CLIENTS = 64, BACKLOG = 16, READ_SIZE = 4096 };

struct client {
    int fd;                            /* -1: a free slot */
    long number;                       /* client 1, 2, ... in order of arrival */
    struct lines in;                   /* what it sent, cut at newlines */
    /* The replies to one read() of READ_SIZE bytes, a held line included. */
    char out[LINE_LIMIT + READ_SIZE + 256];
    size_t out_len, out_done;
    bool finished;                     /* it sent end of file: close once replied */
};

static struct client clients[MAX_CLIENTS];
static int listen_fd = -1;
static struct address addr;
static bool show_fds;
static long delay, arrived;

static void bind_name(void), serve(void), cleanup(void), accept_client(void);
static nfds_t watch(struct pollfd *pfd, struct client **who);
static void read_client(struct client *c), send_replies(struct client *c);
static void close_client(struct client *c, const char *call), close_fd(int *fd);
static void reply(const char *line, size_t len, size_t dropped, void *arg);
static void describe(char *buf, size_t size, const struct pollfd *pfd, nfds_t n);

int main(int argc, char *argv[])
{
    prog_init("socket/server", "server", usage);
    const char *path_arg = NULL;
    bool abstract = false;
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":p:ad:fvh")) != -1) {
        switch (c) {
        case 'p': path_arg = optarg; break;
        case 'a': abstract = true; break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'f': show_fds = true; break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    address_init(&addr, path_arg, abstract, "socket");

    block_stop_signals();
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    if (atexit(cleanup) != 0)
        die_msg("atexit failed");

    listen_fd = (int)traced(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
                            "socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC)");
    if (listen_fd == -1)
        die("socket");
    bind_name();
    /* From here on a connect() to the name succeeds at once: up to BACKLOG
     * connections wait in the queue until accept() takes them. */
    if (traced(listen(listen_fd, BACKLOG), "listen(%d, %d)", listen_fd, BACKLOG) == -1)
        die("listen %s", addr.shown);
    say("listening on %s (fd %d): clients connect() to it", addr.shown, listen_fd);
    if (show_fds)
        print_fds("after listen():");
    serve();
    say("got %s: stopping", signal_name(stop_signal));
    return 0;                          /* cleanup() removes the file, closes every fd */
}

/* bind() creates the socket file with mode 0777 minus the umask, hence a
 * umask of 0177 for 0600.  A file already at the path, even one nobody
 * listens on, makes bind() fail with EADDRINUSE: clear_stale_socket() first. */
static void bind_name(void)
{
    clear_stale_socket(&addr);
    mode_t old = umask(0177);
    trace("umask(0177) = 0%o", (unsigned)old);
    int rc = (int)traced(bind(listen_fd, (const struct sockaddr *)&addr.sun, addr.len),
                         "bind(%d, \"%s\")", listen_fd, addr.shown);
    int err = errno;
    umask(old);
    trace("umask(0%o) = 0177", (unsigned)old);
    if (rc == -1 && err == EADDRINUSE)
        die_msg("bind %s: %s (%s)", addr.shown, strerror(err), addr.abstract
                ? "another server is bound to that name: stop it, or choose another with -p"
                : "something was put at that path meanwhile: run again");
    if (rc == -1) {
        errno = err;
        die("bind %s", addr.shown);
    }
    if (addr.abstract) {
        say("bound to %s: a name in the abstract namespace, no file anywhere", addr.shown);
        return;
    }
    say("bound to %s: bind() created the socket file (mode %04o)", addr.shown,
        sockfile_bound(&addr));
}

/* What ppoll() waits for: the listening fd first (-1, left out, while all the
 * slots are taken: new clients wait in the listen() queue), then each client's
 * connection, for POLLIN, or POLLOUT while we owe it replies.  Returns how
 * many clients; WHO[I] is the client of PFD[I] (NULL: listen_fd). */
static nfds_t watch(struct pollfd *pfd, struct client **who)
{
    nfds_t n = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd == -1)
            continue;
        who[++n] = &clients[i];
        pfd[n] = (struct pollfd){ .fd = clients[i].fd,
                                  .events = clients[i].out_len > 0 ? POLLOUT : POLLIN };
    }
    pfd[0] = (struct pollfd){ .fd = n < MAX_CLIENTS ? listen_fd : -1, .events = POLLIN };
    who[0] = NULL;
    return n;
}

/* One ppoll() for every fd, then whatever is ready.  A client we owe replies
 * is watched for POLLOUT only, and nothing more read from it until it has read
 * them: a client that never reads costs one buffer, not the others' time. */
static void serve(void)
{
    struct pollfd pfd[1 + MAX_CLIENTS];
    struct client *who[1 + MAX_CLIENTS];
    char shown[1024];
    while (!stop_signal) {
        nfds_t n = watch(pfd, who);
        if (verbose)
            describe(shown, sizeof shown, pfd, n + 1);
        /* The stop signals are unblocked only while ppoll() waits: one that
         * came after the check of stop_signal ends this wait at once. */
        int ready = (int)traced(ppoll(pfd, n + 1, NULL, &stops_unblocked), "ppoll([%s], %lu)",
                                shown, (unsigned long)n + 1);
        if (ready == -1 && errno != EINTR)
            die("ppoll");
        for (nfds_t i = 0; ready > 0 && i <= n; i++) {
            if (pfd[i].revents == 0)
                continue;
            if (who[i] == NULL)
                accept_client();
            else if (pfd[i].events == POLLOUT)
                send_replies(who[i]);
            else
                read_client(who[i]);
        }
    }
}

/* accept() takes the first connection from the queue and returns a new fd
 * for it; the listening fd stays, for the next client. */
static void accept_client(void)
{
    int fd = (int)traced(accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC),
                         "accept(%d, SOCK_NONBLOCK|SOCK_CLOEXEC)", listen_fd);
    if (fd == -1 && (errno == EAGAIN || errno == ECONNABORTED))
        return;                        /* it went away before we took it */
    if (fd == -1)
        die("accept %s", addr.shown);
    struct client *c = clients;
    while (c->fd != -1)                /* there is a free slot: ppoll() saw to it */
        c++;
    *c = (struct client){ .fd = fd, .number = ++arrived };
    /* Who is calling?  The kernel recorded the client's pid, uid and gid when
     * it called connect(): the client does not say it, so it cannot lie. */
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (traced(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len),
               "getsockopt(%d, SOL_SOCKET, SO_PEERCRED)", fd) == -1)
        die("getsockopt SO_PEERCRED");
    say("client %ld connected (fd %d): pid %ld, uid %ld, gid %ld", c->number, fd,
        (long)cred.pid, (long)cred.uid, (long)cred.gid);
    if (show_fds)
        print_fds("after accept():");
}

/* One read() of what the client sent: half a line, or several lines (a byte
 * stream keeps no boundaries); the framer cuts it at the newlines. */
static void read_client(struct client *c)
{
    char buf[READ_SIZE];
    ssize_t n = traced(read(c->fd, buf, sizeof buf), "read(%d, %zu)", c->fd, sizeof buf);
    if (n == -1 && errno != EAGAIN)    /* ECONNRESET: it closed with our replies unread */
        close_client(c, "read");
    if (n == -1)
        return;
    if (n > 0)
        lines_feed(&c->in, buf, (size_t)n, reply, c);
    else {
        /* End of file, in one direction only: the client will send nothing
         * more, but our replies can still go the other way. */
        lines_end(&c->in, reply, c);
        c->finished = true;
    }
    send_replies(c);
}

/* Each whole line: its reply, upper-cased, goes into the client's buffer. */
static void reply(const char *line, size_t len, size_t dropped, void *arg)
{
    struct client *c = arg;
    char shown[LINE_LIMIT];
    char *out = c->out + c->out_len;
    size_t room = sizeof c->out - c->out_len;
    pause_ms(delay);
    if (dropped > 0) {
        say("client %ld sent a line of %zu bytes: longer than %d, answered with a note",
            c->number, len + dropped, LINE_LIMIT - 1);
        c->out_len += (size_t)snprintf(out, room, "(your line of %zu bytes is longer than %d:"
                                       " not echoed)\n", len + dropped, LINE_LIMIT - 1);
        return;
    }
    size_t taken = escape_text(shown, sizeof shown, line, len);
    say("client %ld says: %s%s", c->number, shown, taken < len ? "..." : "");
    for (size_t i = 0; i < len; i++)
        out[i] = (char)toupper((unsigned char)line[i]);
    out[len] = '\n';
    c->out_len += len + 1;
}

/* write() may take only part of the replies (the client's socket buffer is
 * full: it is not reading): the rest waits for POLLOUT. */
static void send_replies(struct client *c)
{
    while (c->out_done < c->out_len) {
        size_t left = c->out_len - c->out_done;
        ssize_t n = traced(write(c->fd, c->out + c->out_done, left), "write(%d, %zu)", c->fd, left);
        if (n == -1 && errno != EAGAIN)    /* EPIPE (SIGPIPE is ignored), ECONNRESET */
            close_client(c, "write");
        if (n == -1)
            return;
        c->out_done += (size_t)n;
    }
    c->out_len = c->out_done = 0;
    if (c->finished)
        close_client(c, NULL);
}

/* The client finished (CALL NULL), or vanished: CALL failed. */
static void close_client(struct client *c, const char *call)
{
    int err = errno, fd = c->fd;
    close_fd(&c->fd);
    if (call == NULL)
        say("client %ld finished (read() returned 0, every reply written): closed fd %d",
            c->number, fd);
    else
        say("client %ld vanished (%s: %s): closed fd %d", c->number, call, strerror(err), fd);
    if (show_fds)
        print_fds("after close():");
}

/* ---- what makes it robust (not the lesson) ---- */

/* "{3, POLLIN}, {4, POLLOUT}": the -v picture of what ppoll() waits for. */
static void describe(char *buf, size_t size, const struct pollfd *pfd, nfds_t n)
{
    size_t len = 0;
    for (nfds_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s{%d, %s}", i > 0 ? ", " : "",
                                pfd[i].fd, pfd[i].events == POLLOUT ? "POLLOUT" : "POLLIN");
}

static void close_fd(int *fd)
{
    if (*fd != -1 && traced(close(*fd), "close(%d)", *fd) == -1)
        warn_sys("close");
    *fd = -1;
}

/* atexit, a stop signal's exit included (they are blocked here).  The name
 * goes first: a client arriving now finds no server, not one about to close. */
static void cleanup(void)
{
    sockfile_remove(&addr);
    bool named = listen_fd != -1 && addr.abstract;
    close_fd(&listen_fd);
    if (named)
        say("closed the listening socket: the name %s went with it", addr.shown);
    long open = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        open += clients[i].fd != -1;
        close_fd(&clients[i].fd);
    }
    if (open > 0)
        say("closed %ld connection%s still open", open, open == 1 ? "" : "s");
}
