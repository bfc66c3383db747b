/* fifo/server - the reading end of a named pipe, waiting at a path for clients.
 *
 * The lesson: mkfifo() puts a name in the file system; the data never goes to
 * disk.  Two unrelated processes meet by opening that name: open() for reading
 * blocks until somebody opens it for writing (the rendezvous).  From then on it is
 * a pipe like any other: a byte stream with no message boundaries (we frame it by
 * newlines), and read() returns 0 once every writer has closed.  With -k the server
 * holds a write end itself, so that 0 never comes and it outlives its clients.
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
    "usage: fifo/server [-p PATH] [-k] [-v] [-d MS]\n"
    "Create a FIFO at PATH, wait for clients and print every line they send.\n"
    "  -p PATH  the FIFO (default $IPC_DEMO_DIR/fifo)\n"
    "  -k       keep serving clients, one after another or at once, until\n"
    "           SIGINT or SIGTERM (without -k: quit when the client quits)\n"
    "  -d MS    pause MS milliseconds after each line (default 0): the FIFO\n"
    "           fills up and the clients' write() waits\n"
    "  -v       trace every system call on stderr\n"
    "  -h       show this help\n"
    "Bytes that are not printable ASCII are shown as \\xHH, a backslash as \\\\.\n"
    "At most 4095 characters of a line are shown; a note says how many bytes\n"
    "were not.  SIGINT, SIGTERM or SIGHUP remove the FIFO and exit 0.\n";

static long delay;
static bool keep;

/* What the signal handler needs, set before it can need it. */
static char path[PATH_MAX];
static char prefix[48];                          /* "[server PID] " */
static volatile sig_atomic_t fifo_ours;          /* PATH is our FIFO: remove it */
static dev_t fifo_dev;
static ino_t fifo_ino;
static volatile sig_atomic_t read_fd = -1, dummy_fd = -1;

/* Is PATH still the FIFO we made or reused?  (lstat: async-signal-safe.) */
static bool still_ours(void)
{
    struct stat st;
    return lstat(path, &st) == 0 && st.st_dev == fifo_dev && st.st_ino == fifo_ino;
}

static size_t append(char *buf, size_t used, size_t size, const char *text)
{
    size_t n = strlen(text);
    if (n > size - used)
        n = size - used;
    memcpy(buf + used, text, n);
    return used + n;
}

/* SIGINT, SIGTERM, SIGHUP (and SIGPIPE, when our stdout is gone) can arrive at
 * any moment -- also after the main code has checked a flag and before it enters
 * a blocking open() or read(), where that flag would come too late and the server
 * would wait forever.  So the handler does the cleanup itself, with
 * async-signal-safe calls only (close, lstat, unlink, write, _exit). */
static void on_signal(int signo)
{
    static char line[PATH_MAX + 128];
    bool removed = false;
    if (dummy_fd != -1)
        (void)close(dummy_fd);
    if (read_fd != -1)
        (void)close(read_fd);
    if (fifo_ours && still_ours())
        removed = unlink(path) == 0;
    size_t size = sizeof line - 1, n = 0;
    n = append(line, n, size, signo == SIGPIPE ? "fifo/server: got " : prefix);
    n = append(line, n, size, signo == SIGPIPE ? "SIGPIPE (standard output is closed)"
                                               : signal_name(signo));
    n = append(line, n, size, removed ? ": removed " : ": exiting");
    if (removed) {
        n = append(line, n, size, path);
        n = append(line, n, size, " and exiting");
    }
    line[n++] = '\n';
    (void)write(signo == SIGPIPE ? STDERR_FILENO : STDOUT_FILENO, line, n);
    _exit(signo == SIGPIPE ? 1 : 0);
}

static void block_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    if (sigprocmask(how, &set, NULL) == -1)
        die("sigprocmask");
}

/* Remove the FIFO's name, if it is still ours.  Signals wait meanwhile, so
 * that the handler does not do it a second time. */
static void remove_fifo(void)
{
    block_signals(SIG_BLOCK);
    if (fifo_ours) {
        fifo_ours = 0;
        if (!still_ours())
            say("%s is no longer our FIFO: left as it is", path);
        else if (traced(unlink(path), "unlink(%s)", path) == 0)
            say("removed %s", path);
        else
            warn_sys("unlink %s", path);
    }
    block_signals(SIG_UNBLOCK);
}

/* atexit: every exit() once the FIFO may be ours -- the normal end and errors.
 * The name goes before the fds: a client arriving now gets "no such file",
 * not a server that is about to close. */
static void cleanup(void)
{
    remove_fifo();
    block_signals(SIG_BLOCK);     /* from here on the handler has nothing to do */
    if (dummy_fd != -1 && traced(close(dummy_fd), "close(%d)", (int)dummy_fd) == -1)
        warn_sys("close");
    if (read_fd != -1 && traced(close(read_fd), "close(%d)", (int)read_fd) == -1)
        warn_sys("close");
    dummy_fd = read_fd = -1;
}

/* mkfifo(), or reuse a FIFO of ours that a killed run left behind; refuse
 * anything else.  Signals wait meanwhile, so that "created" and "ours to
 * remove" are one step for the handler.  SEEN gets what lstat() saw. */
static void make_fifo(struct stat *seen)
{
    block_signals(SIG_BLOCK);
    int made = fifo_make(path);
    if (made == -1 && errno != EEXIST)
        die("mkfifo %s", path);
    trace(made == 0 ? "mkfifo(%s, 0600) = 0" : "mkfifo(%s, 0600) = -1 (File exists)", path);
    /* lstat, never stat: a symlink at PATH is judged, not followed. */
    if (traced(lstat(path, seen), "lstat(%s)", path) == -1)
        die("lstat %s", path);
    require_our_fifo(path, seen);
    fifo_dev = seen->st_dev;
    fifo_ino = seen->st_ino;
    fifo_ours = 1;
    block_signals(SIG_UNBLOCK);
    if (made == 0)
        say("created the FIFO %s (mode 0600): a name in the file system, no data on disk",
            path);
    else
        say("reusing the FIFO %s (mode %04o): left over by an earlier run that was killed",
            path, (unsigned)(seen->st_mode & 07777));
}

static void print_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    char shown[LINE_LIMIT];
    size_t taken = escape_fitting(shown, sizeof shown, line, len);
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
    for (;;) {
        ssize_t n = traced(read(fd, buf, sizeof buf), "read(%d, %zu)", fd, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("read %s", path);
        if (n == 0)
            break;
        lines_feed(&lines, buf, (size_t)n, print_line, NULL);
    }
    if (lines_end(&lines, print_line, NULL))
        say("(that last line had no newline: it ended at end of file)");
}

int main(int argc, char *argv[])
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
    snprintf(prefix, sizeof prefix, "[server %ld] ", (long)getpid());
    on_stop_signals(on_signal);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    if (sigaction(SIGPIPE, &sa, NULL) == -1)
        die("sigaction");
    if (atexit(cleanup) != 0)
        die_msg("atexit failed");

    struct stat seen;
    make_fifo(&seen);

    /* The rendezvous: open() for reading does not return until some process
     * opens the same FIFO for writing. */
    say("waiting for a client on %s", path);
    int fd = open_same_fifo(path, O_RDONLY, "O_RDONLY", &seen);
    if (fd == -1)
        die("open %s", path);
    read_fd = fd;
    say("a client opened the FIFO: open() returned fd %d", fd);

    if (keep) {
        /* The dummy-writer trick.  read() returns 0 when the last writer closes;
         * as long as we hold a write end ourselves, there always is one.  It
         * cannot block: we are already a reader. */
        int w = open_same_fifo(path, O_WRONLY | O_NONBLOCK, "O_WRONLY|O_NONBLOCK", &seen);
        if (w == -1)
            die("open %s for writing", path);
        dummy_fd = w;
        say("opened it for writing too (fd %d), never to write: read() will not return 0, "
            "the server stays for the next clients", w);
    }

    serve(fd);
    if (keep) {
        say("read() returned 0 although we hold a write end: quitting");
        return 0;                 /* cleanup() removes the FIFO and closes the fds */
    }
    say("read() returned 0: the client quit (every writer closed), so the server quits too");
    /* A client may have opened the FIFO after that last read() and before its
     * name goes: its open() found us reading.  Remove the name -- nobody new can
     * come now -- and read once more: 0 at once if there is no such latecomer,
     * its lines otherwise. */
    remove_fifo();
    serve(fd);
    return 0;                     /* cleanup() closes the fd */
}
