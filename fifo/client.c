/* fifo/client - the writing end: finds fifo/server by the FIFO's path and sends lines.
 *
 * The lesson: a process that is no relative of the server reaches it by a name in
 * the file system.  open() for writing would block until a reader exists; we open
 * with O_NONBLOCK, so that a FIFO nobody reads (its server was killed) fails at
 * once with ENXIO instead of hanging.  Each line goes out in one write() of at
 * most PIPE_BUF bytes, which the kernel never interleaves with other writers' data:
 * that is why many clients can share one FIFO and the server still gets whole
 * lines.  close() is the client leaving: once the last writer has closed, the
 * server's read() returns 0.
 *
 * Observe: fifo/client -v hello shows open(), one write() per line, close().
 * The partner: fifo/server.
 * Usage: fifo/client [-p PATH] [-d MS] [-v] [MESSAGE...]
 */
#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The longest line, without its newline: the line and its newline must fit in
 * PIPE_BUF, the most that one write() puts into a FIFO without interleaving. */
enum { MAX_LINE = PIPE_BUF - 1 };
_Static_assert(MAX_LINE <= LINE_LIMIT - 1, "fifo/server's line framer holds any line we send");

static const char usage[] =
    "usage: fifo/client [-p PATH] [-d MS] [-v] [MESSAGE...]\n"
    "Send each MESSAGE, or else each line of standard input, to fifo/server.\n"
    "  -p PATH  the server's FIFO (default $IPC_DEMO_DIR/fifo)\n"
    "  -d MS    pause MS milliseconds before each line (default 0)\n"
    "  -v       trace each system call on the FIFO and on standard input, on stderr\n"
    "  -h       show this help\n"
    "Each line goes out in one write() of at most PIPE_BUF (4096) bytes with its\n"
    "newline, so a line holds at most 4095 bytes: a longer MESSAGE is a usage\n"
    "error, a longer input line is refused (not sent) and the exit status is 1.\n";

static char path[PATH_MAX];
static long delay, sent, refused;
static int fifo_fd = -1;

static int options(int argc, char *argv[]);
static void send_input(void);
static noreturn void no_server(const char *call);
static void close_at_exit(void);

/* One write() for the whole line: at most PIPE_BUF bytes, so it is atomic --
 * all of it lands in the FIFO at once, or the call waits for room. */
static void send_line(const char *text, size_t len)
{
    char buf[PIPE_BUF];
    memcpy(buf, text, len);       /* len <= MAX_LINE: checked by the callers */
    buf[len] = '\n';
    delay_ms(delay);
    ssize_t n;
    do
        n = traced(write(fifo_fd, buf, len + 1), "write(%d, %zu)", fifo_fd, len + 1);
    while (n == -1 && errno == EINTR);
    if (n == -1 && errno == EPIPE)
        die_msg("write %s: %s (the server quit)", path, strerror(errno));
    if (n == -1)
        die("write %s", path);
    if ((size_t)n != len + 1)
        die_msg("write %s: %zd of %zu bytes written at once", path, n, len + 1);
    sent++;
    char shown[LINE_LIMIT];
    size_t taken = escape_text(shown, sizeof shown, text, len);
    say("sent: %s%s", shown, taken < len ? "..." : "");
}

int main(int argc, char *argv[])
{
    int first = options(argc, argv);
    /* A write() to a FIFO nobody reads raises SIGPIPE, which would kill us
     * without a word.  Ignored, write() fails with EPIPE and we can say so. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    if (atexit(close_at_exit) != 0)
        die_msg("atexit failed");

    struct stat seen;             /* lstat: a symlink at PATH is judged, never followed */
    if (traced(lstat(path, &seen), "lstat(\"%s\")", path) == -1)
        no_server("");
    require_our_fifo(path, &seen);
    /* Without O_NONBLOCK, open() would wait for a reader -- forever, if the
     * server is dead.  With it, no reader means ENXIO at once. */
    int fd = (int)traced(open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW),
                         "open(\"%s\", O_WRONLY|O_NONBLOCK|O_NOFOLLOW)", path);
    if (fd == -1)
        no_server("open ");
    require_same_file(fd, path, &seen);
    fifo_fd = fd;
    /* Connected.  From now on a full FIFO should make write() wait for the
     * server, not fail with EAGAIN: F_SETFL 0 clears O_NONBLOCK (it sets only
     * such status flags, and we want none). */
    if (traced(fcntl(fd, F_SETFL, 0), "fcntl(%d, F_SETFL, 0)", fd) == -1)
        die("fcntl %s", path);
    say("connected to %s (fd %d): a server has it open for reading", path, fd);

    for (int i = first; i < argc; i++)
        send_line(argv[i], strlen(argv[i]));
    if (first == argc)
        send_input();
    fifo_fd = -1;
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close %s", path);
    char note[48] = "";
    if (refused)
        snprintf(note, sizeof note, ", %ld refused", refused);
    say("closed the FIFO: %ld line%s sent%s", sent, sent == 1 ? "" : "s", note);
    return refused ? 1 : 0;
}

/* ---- what makes it robust (not the lesson) ---- */

static int options(int argc, char *argv[])
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
    return optind;
}

/* A line longer than MAX_LINE would take two write()s, and another client's
 * line could land between them: it is refused, never split. */
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
    long lineno = 0;
    if (stdin_lines(send_input_line, &lineno) == -1)
        die("read standard input");
}

/* No server: say what to do.  ENOENT: no FIFO; ENXIO: a FIFO that nobody has
 * open for reading, left by a server killed with kill -9. */
static noreturn void no_server(const char *call)
{
    int err = errno;
    if (err != ENOENT && err != ENXIO)
        die("%s%s", call, path);
    die_msg("%s%s: %s (%s)", call, path, strerror(err), err == ENOENT ? "start fifo/server first"
            : "nobody reads this FIFO: its server is gone; start fifo/server");
}

static void close_at_exit(void)  /* atexit: an error exit leaves no fd open either */
{
    if (fifo_fd != -1 && traced(close(fifo_fd), "close(%d)", fifo_fd) == -1)
        warn_sys("close");
    fifo_fd = -1;
}
