/* socket/client - talks to socket/server: each line goes out, its reply comes
 * back on the same connection.
 *
 * The lesson: connect() reaches the server by its address (the socket file's
 * path, or with -a an abstract name) and turns our socket() into one end of a
 * private, two-way connection: write() sends a line and read() on the same fd
 * gets the reply.  A byte stream, like a pipe: a reply may come in pieces.
 * Nobody else writes into our connection: a line of any length goes out
 * whole, no PIPE_BUF limit.  shutdown(SHUT_WR) ends one direction only: the
 * server reads end of file, and what it still owes us comes back.  With no
 * server, connect() fails at once (ENOENT, or ECONNREFUSED), never a hang.
 *
 * Partner: socket/server.
 * Usage: socket/client [-a] [-p PATH] [-d MS] [-f] [-v] [MESSAGE...]
 */
#include "sockfile.h"


static const char usage[] =
    "usage: socket/client [-a] [-p PATH] [-d MS] [-f] [-v] [MESSAGE...]\n"
    "Send each MESSAGE, or else each line of stdin, to socket/server; print the reply.\n"
    "  -p PATH  the server's socket file (default $IPC_DEMO_DIR/socket)\n"
    "  -a       connect to a name in the abstract namespace (-p NAME, default\n"
    "           the one socket/server -a makes from $IPC_DEMO_DIR)\n"
    "  -d MS    pause MS milliseconds before each line (default 0)\n"
    "  -f       print the open file descriptors after connect()\n"
    "  -v       trace every system call on the socket and standard input on stderr\n"
    "  -h       show this help\n"
    "A MESSAGE may be of any length (the server answers one over 4095 bytes with a\n"
    "note); a longer line of stdin is not sent (exit 1).  Unprintable bytes: \\xHH.\n";

static struct address addr;
static int sock = -1;
static long delay, sent, replies, refused;
static struct lines from_server;

static void connect_server(void), send_input(void), finish(void), close_socket(void);
static void converse(const char *text, size_t len);

int main(int argc, char *argv[])
{
    prog_init("socket/client", "client", usage);
    const char *path_arg = NULL;
    bool abstract = false, show_fds = false;
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
    address_init(&addr, path_arg, abstract, "socket");

    /* A write to a connection the server has closed raises SIGPIPE, which
     * would kill us without a word; ignored, write() fails with EPIPE. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    if (atexit(close_socket) != 0)
        die_msg("atexit failed");

    sock = (int)traced(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
                       "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)");
    if (sock == -1)
        die("socket");
    connect_server();
    if (show_fds)
        print_fds("after connect():");
    for (int i = optind; i < argc; i++)
        converse(argv[i], strlen(argv[i]));
    if (optind == argc)
        send_input();
    finish();
    return refused > 0 ? 1 : 0;
}

static void connect_server(void)
{
    if (traced(connect(sock, (const struct sockaddr *)&addr.sun, addr.len), "connect(%d, \"%s\")",
               sock, addr.shown) == 0) {
        say("connected to %s (fd %d)", addr.shown, sock);
        return;
    }
    int err = errno;
    const char *hint = err == ENOENT ? "start socket/server first"
        : err != ECONNREFUSED ? NULL
        : addr.abstract ? "nobody is bound to that abstract name: start socket/server -a first"
        : "a socket file nobody accepts on: its server was killed; start socket/server, "
          "which replaces it";
    if (hint == NULL)
        die("connect %s", addr.shown);
    die_msg("connect %s: %s (%s)", addr.shown, strerror(err), hint);
}

static void print_reply(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    char shown[LINE_LIMIT];
    size_t taken = escape_text(shown, sizeof shown, line, len);
    replies++;
    say("reply: %s%s", shown, taken < len + dropped ? "..." : "");
}

/* One line out, then read() until its reply is in: it may come in pieces. */
static void converse(const char *text, size_t len)
{
    char buf[LINE_LIMIT];
    delay_ms(delay);
    if (len < sizeof buf) {            /* the line and its newline in one write() */
        memcpy(buf, text, len);
        buf[len] = '\n';
        if (write_all(sock, buf, len + 1) == -1)
            die("write %s", addr.shown);
    } else if (write_all(sock, text, len) == -1 || write_all(sock, "\n", 1) == -1) {
        die("write %s", addr.shown);
    }
    sent++;
    size_t taken = escape_text(buf, sizeof buf, text, len);
    say("sent: %s%s", buf, taken < len ? "..." : "");
    while (replies < sent) {
        char in[4096];
        ssize_t n = traced(read(sock, in, sizeof in), "read(%d, %zu)", sock, sizeof in);
        if (n == -1)
            die("read %s", addr.shown);
        if (n == 0)
            die_msg("%s: the server closed the connection before it replied to line %ld",
                    addr.shown, sent);
        lines_feed(&from_server, in, (size_t)n, print_reply, NULL);
    }
}

static void send_input_line(const char *line, size_t len, size_t dropped, void *arg)
{
    long *lineno = arg;
    ++*lineno;
    if (dropped == 0) {
        converse(line, len);
        return;
    }
    warn_msg("line %ld of standard input is longer than %d bytes: not sent", *lineno,
             LINE_LIMIT - 1);
    refused++;
}

static void send_input(void)
{
    long lineno = 0;
    if (stdin_lines(send_input_line, &lineno) == -1)
        die("read standard input");
}

/* Our direction ends; the server's end of file on its read() tells it so,
 * and it closes its side once every reply is out: our read() returns 0. */
static void finish(void)
{
    if (traced(shutdown(sock, SHUT_WR), "shutdown(%d, SHUT_WR)", sock) == -1)
        die("shutdown %s", addr.shown);
    char in[4096];
    ssize_t n;
    while ((n = traced(read(sock, in, sizeof in), "read(%d, %zu)", sock, sizeof in)) > 0)
        lines_feed(&from_server, in, (size_t)n, print_reply, NULL);
    if (n == -1)
        die("read %s", addr.shown);
    lines_end(&from_server, print_reply, NULL);
    close_socket();
    say("sent end of file (shutdown), and the server closed its side: %ld line%s sent, "
        "%ld repl%s", sent, sent == 1 ? "" : "s", replies, replies == 1 ? "y" : "ies");
}

/* ---- what makes it robust (not the lesson) ---- */

static void close_socket(void)     /* atexit too: no fd left open, whatever the exit */
{
    if (sock != -1 && traced(close(sock), "close(%d)", sock) == -1)
        warn_sys("close");
    sock = -1;
}
