/* fifo/server - the reading end of a named pipe, waiting at a path for clients.
 *
 * The lesson: mkfifo() puts a name in the file system; the data never goes to
 * disk.  Two unrelated processes meet by opening that name: open() for reading
 * blocks until somebody opens it for writing (the rendezvous).  From then on it
 * is a pipe like any other: read() gets a byte stream with no message boundaries
 * (we frame it by newlines) and returns 0 once every writer has closed.  Then
 * unlink() takes the name away and close() the read end: nothing is left.  With
 * -k the server holds a write end itself, so that 0 never comes and it stays for
 * the next clients.
 *
 * Observe: with -v the open() line appears only once a client has come.
 * The partner: fifo/client (or any process that writes to the path).
 * Usage: fifo/server [-p PATH] [-k] [-v] [-d MS]
 */
#define _DEFAULT_SOURCE           /* flock(): BSD, not POSIX */
#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: fifo/server [-p PATH] [-k] [-v] [-d MS]\n"
    "Create a FIFO at PATH, wait for clients and print every line they send.\n"
    "  -p PATH  the FIFO (default $IPC_DEMO_DIR/fifo)\n"
    "  -k       keep serving clients, one after another or at once, until\n"
    "           SIGINT, SIGTERM or SIGHUP (without -k: quit when the client quits)\n"
    "  -d MS    pause MS milliseconds after each line (default 0): the FIFO\n"
    "           fills up and the clients' write() waits\n"
    "  -v       trace each system call on the FIFO, on stderr\n"
    "  -h       show this help\n"
    "Bytes that are not printable ASCII are shown as \\xHH, a backslash as \\\\.\n"
    "At most 4095 characters of a line are shown; a note says how many bytes\n"
    "were not.  SIGINT, SIGTERM or SIGHUP remove the FIFO and exit 0.  A FIFO\n"
    "already at PATH is reused only if it is yours, mode 0600, and no other\n"
    "fifo/server holds it.\n";

static char path[PATH_MAX];
static long delay;
static bool keep;
static struct stat fifo_seen;     /* what lstat() saw at PATH: the FIFO we serve */
static bool fifo_ours;            /* PATH is still that FIFO's name, ours to remove */
static int lock_fd = -1, read_fd = -1, write_fd = -1;

static void options(int argc, char *argv[]);
static void prepare_cleanup(void);
static void claim_fifo(void);
static noreturn void stop(void);
static noreturn void stop_or_die(const char *call);

/* mkfifo() makes a name, nothing more.  A FIFO already there is a running
 * server's (claim_fifo refuses it) or a leftover of a run killed with kill -9:
 * reused only if it is ours with mode 0600, since whoever can open it can write
 * into it.  Anything else is refused and left as it is. */
static void make_fifo(void)
{
    int made = (int)traced(mkfifo(path, 0600), "mkfifo(\"%s\", 0600)", path);
    if (made == -1 && errno != EEXIST)
        die("mkfifo %s", path);
    /* lstat, never stat: a symbolic link at PATH is judged, never followed. */
    if (traced(lstat(path, &fifo_seen), "lstat(\"%s\")", path) == -1)
        die("lstat %s", path);
    require_our_fifo(path, &fifo_seen);
    claim_fifo();                 /* one server per FIFO: below */
    if (made == 0)
        say("created the FIFO %s (mode 0600): a name in the file system, no data on disk",
            path);
    else
        say("reusing the FIFO %s (mode 0600) that was there: no other server holds it",
            path);
}

static void print_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    char shown[LINE_LIMIT];
    size_t taken = escape_text(shown, sizeof shown, line, len);
    say("client says: %s", shown);
    if (taken < len + dropped)
        say("that line was too long: %zu of its %zu bytes are not shown",
            len + dropped - taken, len + dropped);
    delay_ms(delay);
}

/* Read whatever the kernel hands over -- half a line, several lines -- and let
 * the framer cut it at the newlines.  Returns at end of file. */
static void serve(int fd)
{
    struct lines lines = { .used = 0 };
    char buf[PIPE_BUF];
    while (!stop_signal) {
        ssize_t n = traced(read(fd, buf, sizeof buf), "read(%d, %zu)", fd, sizeof buf);
        if (n > 0) {
            lines_feed(&lines, buf, (size_t)n, print_line, NULL);
        } else if (n == 0) {
            if (lines_end(&lines, print_line, NULL))
                say("(that last line had no newline: it ended at end of file)");
            return;
        } else if (errno != EINTR) {
            die("read %s", path);
        }
    }
    stop();
}

/* unlink() takes the name away: nobody new can open the FIFO, while the pipe
 * lives on for the fds still open.  Only our FIFO's name: lstat() first, in
 * case PATH has been given to another file since.  True when removed. */
static bool remove_fifo(void)
{
    struct stat now;
    if (!fifo_ours)
        return false;
    fifo_ours = false;
    if (traced(lstat(path, &now), "lstat(\"%s\")", path) == -1 ||
        now.st_dev != fifo_seen.st_dev || now.st_ino != fifo_seen.st_ino) {
        say("%s is no longer our FIFO (removed or replaced): left as it is", path);
        return false;
    }
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1) {
        warn_sys("unlink %s", path);
        return false;
    }
    return true;
}

int main(int argc, char *argv[])
{
    options(argc, argv);
    prepare_cleanup();            /* below: the stop signals, SIGPIPE, atexit */
    make_fifo();

    say("waiting for a client on %s", path);
    /* The rendezvous: open() for reading returns only once some process has
     * opened the FIFO for writing.  (O_NOFOLLOW: a symlink put in its place is
     * refused; require_same_file: it is still the FIFO lstat() saw.) */
    int fd = (int)traced(open(path, O_RDONLY | O_NOFOLLOW), "open(\"%s\", O_RDONLY|O_NOFOLLOW)",
                         path);
    if (fd == -1)
        stop_or_die("open");
    require_same_file(fd, path, &fifo_seen);
    read_fd = fd;                 /* for cleanup(), should we exit early */
    say("a client opened the FIFO: open() returned fd %d", fd);

    if (keep) {
        /* The dummy writer.  read() returns 0 when the last writer closes; as
         * long as we hold a write end ourselves, there always is one.  This
         * open() does not wait: there is a reader, us. */
        int w = (int)traced(open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW),
                            "open(\"%s\", O_WRONLY|O_NONBLOCK|O_NOFOLLOW)", path);
        if (w == -1)
            die("open %s for writing", path);
        require_same_file(w, path, &fifo_seen);
        write_fd = w;
        say("opened it for writing too (fd %d), never to write: read() will not return 0, "
            "the server stays for the next clients", w);
    }

    serve(fd);                    /* with -k, only a signal ends it */
    say("read() returned 0: the client quit (every writer closed), so the server quits too");
    /* A client may have opened the FIFO after that read() and before its name
     * goes: its open() found us reading.  Once the name is gone nobody new can
     * come, and one more read() serves such a latecomer, or returns 0 at once. */
    if (remove_fifo())
        say("removed %s", path);
    serve(fd);
    read_fd = -1;
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close %s", path);
    return 0;                     /* cleanup() closes the lock's fd */
}

/* ---- what makes it robust (not the lesson) ---- */

static void options(int argc, char *argv[])
{
    prog_init("fifo/server", "server", usage);
    const char *path_arg = NULL;
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":p:kd:vh")) != -1) {
        switch (c) {
        case 'p': path_arg = optarg; break;
        case 'k': keep = true; break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if (path_arg != NULL && (path_arg[0] == '\0' || strlen(path_arg) >= sizeof path))
        usage_error("-p: '%s' is not a usable path", path_arg);
    if (path_arg != NULL)
        snprintf(path, sizeof path, "%s", path_arg);
    else
        ipc_path(path, sizeof path, "fifo");
}

/* One server per FIFO: a second one would get each line the first did not
 * read first.  A server blocked in its rendezvous open() holds no fd, and an
 * open() for writing to probe would wake it as if a client had come.  So each
 * server first opens the FIFO for reading with O_NONBLOCK (that waits for
 * nobody) and flock()s it: a second server finds it locked; a killed one's lock
 * goes with it.  And from here on there is a reader: a client that comes
 * before our rendezvous open() is not told ENXIO. */
static void claim_fifo(void)
{
    int fd = (int)traced(open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW),
                         "open(\"%s\", O_RDONLY|O_NONBLOCK|O_NOFOLLOW)", path);
    if (fd == -1)
        die("open %s", path);
    require_same_file(fd, path, &fifo_seen);
    lock_fd = fd;
    if (traced(flock(fd, LOCK_EX | LOCK_NB), "flock(%d, LOCK_EX|LOCK_NB)", fd) == -1) {
        if (errno != EWOULDBLOCK)
            die("flock %s", path);
        die_msg("%s is in use: another fifo/server serves it (fuser -v %s shows its pid).  "
                "Stop that one first, or give this one another path with -p", path, path);
    }
    fifo_ours = true;
    if (stop_signal)              /* caught meanwhile: the FIFO is ours to remove now */
        stop();
}

/* A stop signal (or SIGPIPE: our standard output is gone) only sets stop_signal
 * (common.h; delay_ms() heeds it too): the call it interrupts returns EINTR to
 * the code that made it, which shows it (-v) and ends the program in order.
 * One landing after the code last looked at stop_signal and before it blocked
 * in open() or read() interrupts nothing: the alarm interrupts that call. */
static void on_signal(int signo)
{
    if (signo != SIGALRM) {
        stop_signal = signo;
        alarm(1);
    }
}

/* atexit: every exit() -- an error, a stop, the normal end.  The name goes
 * before the fds: a client arriving now finds no FIFO, not a server about to
 * close it. */
static void cleanup(void)
{
    int *fds[] = { &write_fd, &read_fd, &lock_fd };
    remove_fifo();
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] != -1 && traced(close(*fds[i]), "close(%d)", *fds[i]) == -1)
            warn_sys("close");
        *fds[i] = -1;
    }
}

static void prepare_cleanup(void)
{
    struct sigaction sa = { .sa_handler = on_signal };    /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1 || sigaction(SIGPIPE, &sa, NULL) == -1)
        die("sigaction");
    on_stop_signals(on_signal);   /* SIGALRM first: their handler sets the alarm */
    if (atexit(cleanup) != 0)
        die_msg("atexit failed");
}

/* A stop signal came: remove the FIFO, say so, exit 0 (1 for SIGPIPE). */
static noreturn void stop(void)
{
    char done[PATH_MAX + 16] = "";
    if (remove_fifo())
        snprintf(done, sizeof done, "removed %s and ", path);
    if (stop_signal == SIGPIPE) {
        warn_msg("got SIGPIPE (standard output is closed): %sexiting", done);
        exit(1);
    }
    say("%s: %sexiting", signal_name(stop_signal), done);
    exit(0);
}

/* CALL failed: interrupted by a stop signal, or an error. */
static noreturn void stop_or_die(const char *call)
{
    if (errno == EINTR && stop_signal)
        stop();
    die("%s %s", call, path);
}
