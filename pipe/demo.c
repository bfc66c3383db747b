/* pipe/demo - a parent and its child talking through an anonymous pipe.
 *
 * The lesson: pipe() gives one process two fds onto one kernel buffer.  fork()
 * copies the fd table, so afterwards both processes hold both ends.  Each closes
 * the end it does not use, and data flows one way, child to parent.  read()
 * returns 0 (end of file) only once every write end is closed: that is why the
 * parent must close its own copy of the write end.
 *
 * What to observe: -f shows the same pipe:[inode] behind fds of both processes,
 * and each side's table after its close(); -v shows that the parent's read()s
 * need not match the child's write()s (a byte stream).  Before it: intro/isolation
 * (why a global variable cannot do this); after it: pipe/cases.
 *
 * Usage: pipe/demo [-n COUNT] [-d MS] [-v] [-f]
 */
#include "../common/common.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "usage: pipe/demo [-n COUNT] [-d MS] [-v] [-f]\n"
    "A child writes COUNT messages into a pipe; its parent reads and prints them.\n"
    "  -n COUNT  how many messages (default 5)\n"
    "  -d MS     pause MS milliseconds between steps (default 0)\n"
    "  -v        trace every system call on the pipe (and fork, waitpid) on stderr\n"
    "  -f        print the open fds after pipe(), after fork() and after close()\n"
    "  -h        show this help\n";

static long count = 5, delay;
static bool show_fds;

static void parse_options(int argc, char *argv[]);
static void print_line(const char *line, size_t len, size_t dropped, void *arg);
static int child_status(pid_t child, int status);

/* The child: close the read end, write COUNT messages, close the write end. */
static noreturn void child_writes(int fds[2])
{
    set_role("child");
    if (show_fds)
        print_fds("after fork():");
    /* The child only writes: its copy of the read end would be one more
     * reader keeping the pipe alive after the parent is gone. */
    if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
        die_child("close");
    say("closed fd %d, the read end: I only write", fds[0]);
    if (show_fds)
        print_fds("after close():");

    /* Without this, a write after the parent is gone would kill us silently
     * with SIGPIPE; ignored, write() fails with EPIPE and we can say so. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_child("signal SIGPIPE");
    for (long i = 1; i <= count; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "message %ld of %ld\n", i, count);
        delay_ms(delay);
        /* One write(2) per message: the parent may still read two at once, or
         * half of one -- a pipe is a byte stream, not a queue of messages. */
        if (write_all(fds[1], msg, (size_t)len) == -1)
            die_child("write to the pipe (is the parent gone?)");
        say("sent: %.*s", len - 1, msg);
    }
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die_child("close");
    say("done: closed the write end; exiting");
    _exit(0);
}

/* The parent: read until end of file, cutting the stream into lines. */
static void parent_reads(int rfd)
{
    struct lines lines = { .used = 0 };
    char buf[4096];
    ssize_t n;
    while ((n = traced(read(rfd, buf, sizeof buf), "read(%d, %zu)", rfd, sizeof buf)) > 0)
        lines_feed(&lines, buf, (size_t)n, print_line, NULL);
    if (n == -1)
        die("read from the pipe");
    lines_end(&lines, print_line, NULL);
    say("read() returned 0: end of file, every write end is closed");
}

int main(int argc, char *argv[])
{
    parse_options(argc, argv);

    int fds[2] = { -1, -1 };
    int rc = pipe(fds);
    if (traced(rc, "pipe([%d, %d])", fds[0], fds[1]) == -1)
        die("pipe");
    say("pipe() gave fd %d (read end) and fd %d (write end)", fds[0], fds[1]);
    if (show_fds)
        print_fds("after pipe():");
    delay_ms(delay);

    pid_t child = fork();
    if (child == 0)
        child_writes(fds);
    if (traced(child, "fork()") == -1)
        die("fork");
    say("forked child %ld: both processes now hold both ends", (long)child);
    if (show_fds)
        print_fds("after fork():");
    delay_ms(delay);

    /* The parent only reads.  If it kept the write end open, read() would never
     * return 0: the parent itself would still count as a writer. */
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die("close");
    say("closed fd %d, the write end: I only read", fds[1]);
    if (show_fds)
        print_fds("after close():");

    parent_reads(fds[0]);
    if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
        die("close");

    int status;
    if (traced(waitpid(child, &status, 0), "waitpid(%ld)", (long)child) == -1)
        die("waitpid");
    return child_status(child, status);
}

/* ---- what makes it robust (not the lesson) ---- */

static void parse_options(int argc, char *argv[])
{
    prog_init("pipe/demo", "parent", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":n:d:vfh")) != -1) {
        switch (c) {
        case 'n': count = parse_number("-n", optarg, 0, 1000000); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
}

static void print_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)len, (void)dropped, (void)arg;
    say("received: %s", line);
}

/* Say how the child ended; 0 if it exited with status 0, else 1. */
static int child_status(pid_t child, int status)
{
    if (WIFEXITED(status)) {
        say("child %ld exited with status %d", (long)child, WEXITSTATUS(status));
        return WEXITSTATUS(status) == 0 ? 0 : 1;
    }
    say("child %ld was killed by signal %d (%s)", (long)child, WTERMSIG(status),
        signal_name(WTERMSIG(status)));
    return 1;
}
