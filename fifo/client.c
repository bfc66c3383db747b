/* fifo/client - the writing end: finds fifo/server by the FIFO's path and sends lines.
 *
 * The lesson: a process that is no relative of the server reaches it by a name in
 * the file system.  open() for writing would block until a reader exists; we open
 * with O_NONBLOCK first, so that a FIFO nobody reads (its server was killed) fails
 * at once with ENXIO instead of hanging.  Each line goes out in one write() of at
 * most PIPE_BUF bytes, which the kernel never interleaves with other writers' data:
 * that is why many clients can share one FIFO and the server still gets whole lines.
 */
#include "../common/common.h"
#include "fifo_path.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: fifo/client [-p PATH] [-d MS] [-v] [MESSAGE...]\n"
    "Send each MESSAGE, or else each line of standard input, to fifo/server.\n"
    "  -p PATH  the server's FIFO (default $IPC_DEMO_DIR/fifo)\n"
    "  -d MS    pause MS milliseconds before each line (default 0)\n"
    "  -v       trace every system call on stderr\n"
    "  -h       show this help\n"
    "Each line goes out in one write() of at most PIPE_BUF (4096) bytes with its\n"
    "newline, so a line holds at most 4095 bytes: a longer MESSAGE is a usage\n"
    "error, a longer input line is refused (not sent) and the exit status is 1.\n";

static long delay;
static char path[PATH_MAX];
static int fifo_fd = -1;
static long sent, refused;

static void close_fifo(void)      /* atexit: no fd left open, whatever the exit */
{
    if (fifo_fd != -1 && traced(close(fifo_fd), "close(%d)", fifo_fd) == -1)
        warn_sys("close");
    fifo_fd = -1;
}

static noreturn void no_server(int err, const char *what)
{
    die_msg("%s%s: %s (%s)", what, path, strerror(err),
            err == ENOENT ? "start fifo/server first"
                          : "nobody reads this FIFO: its server is gone; start fifo/server");
}

static int connect_fifo(void)
{
    struct stat seen;
    if (traced(lstat(path, &seen), "lstat(%s)", path) == -1) {
        if (errno == ENOENT)
            no_server(errno, "");
        die("lstat %s", path);
    }
    require_our_fifo(path, &seen);
    /* Without O_NONBLOCK, open() would wait for a reader -- forever, if the
     * server is dead.  With it, no reader means ENXIO at once. */
    int fd = open_same_fifo(path, O_WRONLY | O_NONBLOCK, "O_WRONLY|O_NONBLOCK", &seen);
    if (fd == -1 && (errno == ENXIO || errno == ENOENT))
        no_server(errno, "open ");
    if (fd == -1)
        die("open %s", path);
    fifo_fd = fd;
    /* Connected: from now on a full FIFO should make write() wait for the
     * server, not fail with EAGAIN. */
    int flags = (int)traced(fcntl(fd, F_GETFL), "fcntl(%d, F_GETFL)", fd);
    if (flags == -1 ||
        traced(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), "fcntl(%d, F_SETFL, ~O_NONBLOCK)", fd) == -1)
        die("fcntl %s", path);
    say("connected to %s (fd %d): a server is reading it", path, fd);
    return fd;
}

static void send_line(const char *text, size_t len)
{
    char buf[PIPE_BUF];
    memcpy(buf, text, len);       /* len <= MAX_LINE, checked by the callers */
    buf[len] = '\n';
    delay_ms(delay);
    /* One write() for the whole line: at most PIPE_BUF bytes, so it is atomic. */
    if (traced(write_all(fifo_fd, buf, len + 1), "write(%d, %zu)", fifo_fd, len + 1) == -1) {
        if (errno == EPIPE)
            die_msg("write %s: %s (the server quit)", path, strerror(errno));
        die("write %s", path);
    }
    sent++;
    char shown[LINE_LIMIT];
    size_t taken = escape_fitting(shown, sizeof shown, text, len);
    say("sent: %s%s", shown, taken < len ? "..." : "");
}

static void send_input_line(const char *line, size_t len, size_t dropped, void *arg)
{
    long *lineno = arg;
    ++*lineno;
    if (len + dropped > MAX_LINE) {
        warn_msg("line %ld of standard input is %zu bytes long: not sent (at most %d: "
                 "a longer line would take more than one write(), which other "
                 "clients' lines could tear apart)", *lineno, len + dropped, MAX_LINE);
        refused++;
        return;
    }
    send_line(line, len);
}

static void send_input(void)
{
    bool tty = isatty(STDIN_FILENO);
    struct lines lines = { .used = 0 };
    long lineno = 0;
    char buf[4096];
    for (;;) {
        if (tty)
            (void)write_all(STDOUT_FILENO, "Please enter# ", 14);
        ssize_t n = traced(read(STDIN_FILENO, buf, sizeof buf), "read(0, %zu)", sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("read standard input");
        if (n == 0)
            break;
        lines_feed(&lines, buf, (size_t)n, send_input_line, &lineno);
    }
    if (tty)
        (void)write_all(STDOUT_FILENO, "\n", 1);
    lines_end(&lines, send_input_line, &lineno);  /* a last line without newline */
}

int main(int argc, char *argv[])
{
    prog_init("fifo/client", "client", usage);
    const char *path_arg = NULL;
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":p:d:vh")) != -1) {
        switch (c) {
        case 'p': path_arg = optarg; break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (path_arg != NULL && (path_arg[0] == '\0' || strlen(path_arg) >= sizeof path))
        usage_error("-p: '%s' is not a usable path", path_arg);
    for (int i = optind; i < argc; i++)
        if (strlen(argv[i]) > MAX_LINE)
            usage_error("MESSAGE %d is %zu bytes long: at most %d fit in one atomic write() "
                        "with the newline (PIPE_BUF is %d)", i - optind + 1, strlen(argv[i]),
                        MAX_LINE, PIPE_BUF);

    if (path_arg != NULL)
        snprintf(path, sizeof path, "%s", path_arg);
    else
        ipc_path(path, sizeof path, "fifo");
    /* A write to a FIFO nobody reads raises SIGPIPE, which would kill us without
     * a word.  Ignored, write() fails with EPIPE and we can say what happened. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    if (atexit(close_fifo) != 0)
        die_msg("atexit failed");

    connect_fifo();
    if (optind < argc)
        for (int i = optind; i < argc; i++)
            send_line(argv[i], strlen(argv[i]));
    else
        send_input();
    close_fifo();
    if (refused)
        say("closed the FIFO: %ld line%s sent, %ld refused", sent, sent == 1 ? "" : "s", refused);
    else
        say("closed the FIFO: %ld line%s sent", sent, sent == 1 ? "" : "s");
    return refused ? 1 : 0;
}
