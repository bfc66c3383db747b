/* pipe/cases - the four situations of an anonymous pipe, each made to happen and
 * measured rather than claimed.
 *
 *   empty    read() on an empty pipe waits until a writer writes;
 *   full     write() on a full pipe waits until the reader makes room;
 *   eof      once every write end is closed, read() drains what is left, then 0;
 *   sigpipe  write() with no reader left kills the writer with SIGPIPE, or,
 *            SIGPIPE ignored, fails with EPIPE.
 *
 * Every wait between the two processes is a blocking call on a pipe, never a
 * sleep: -d only paces the side that makes the other one wait, and that wait is
 * what gets measured.
 */
#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>

/* say() with floating point (%.1f ms), which say() itself does not format. */
static void sayf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void sayf(const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    say("%s", text);
}

static const char usage[] =
    "usage: pipe/cases [-s BYTES] [-d MS] [-v] CASE\n"
    "Make one of the four situations of a pipe happen, and measure it.  CASE is:\n"
    "  empty    the reader's read() blocks until the writer writes\n"
    "  full     non-blocking writes fill the pipe until EAGAIN (its capacity), then a\n"
    "           blocking write() waits until the reader drains\n"
    "  eof      the writer writes and exits; the reader drains the data, then read()\n"
    "           returns 0, but only once the reader has closed its own write end too\n"
    "  sigpipe  the reader closes its end; the writer's next write() kills it with\n"
    "           SIGPIPE, then, with SIGPIPE ignored, write() fails with EPIPE\n"
    "  all      the four, one after the other\n"
    "  -s BYTES  full: first resize the pipe with F_SETPIPE_SZ (Linux-only), 1 to\n"
    "            16777216; the kernel rounds up to a power-of-two number of pages;\n"
    "            above /proc/sys/fs/pipe-max-size it needs CAP_SYS_RESOURCE\n"
    "  -d MS     how long the writer (empty) or the reader (full) waits before acting,\n"
    "            so you can watch the other side blocked (default 200)\n"
    "  -v        trace every system call on stderr\n"
    "  -h        show this help\n"
    "Exit status: 0 when every case behaved as the lesson says, 1 otherwise.\n";

static long delay = 200, resize;
static bool in_child;       /* after fork(): errors end with _exit(), never exit() */

/* ---- small helpers ---- */

static noreturn void fail(const char *what)
{
    if (in_child)
        die_child("%s", what);
    die("%s", what);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        fail("clock_gettime");
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

static void make_pipe(int fds[2])
{
    if (pipe(fds) == -1)
        fail("pipe");
    trace("pipe([%d, %d]) = 0", fds[0], fds[1]);
}

static void close_fd(int fd)
{
    if (traced(close(fd), "close(%d)", fd) == -1)
        fail("close");
}

/* Fork; in the child, take ROLE and remember that we are a child. */
static pid_t fork_as(const char *role)
{
    pid_t pid = fork();
    if (pid == -1)
        fail("fork");
    if (pid == 0) {
        in_child = true;
        set_role("%s", role);
        return 0;
    }
    trace("fork() = %ld", (long)pid);
    return pid;
}

static void set_nonblocking(int fd, bool on)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1)
        fail("fcntl F_GETFL");
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (traced(fcntl(fd, F_SETFL, flags), "fcntl(%d, F_SETFL, %sO_NONBLOCK)", fd,
               on ? "" : "~") == -1)
        fail("fcntl F_SETFL");
}

/* Reap PID; say how it ended and return the raw status. */
static int reap(pid_t pid, const char *who)
{
    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            fail("waitpid");
    trace("waitpid(%ld) = %ld", (long)pid, (long)pid);
    if (WIFSIGNALED(status))
        say("%s %ld was killed by signal %d (%s)", who, (long)pid, WTERMSIG(status),
            signal_name(WTERMSIG(status)));
    else
        say("%s %ld exited with status %d", who, (long)pid, WEXITSTATUS(status));
    return status;
}

static bool exited_0(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool verdict(const char *name, bool ok, const char *lesson)
{
    if (ok)
        say("%s: as the lesson says: %s", name, lesson);
    else
        say("%s: NOT as the lesson says (%s)", name, lesson);
    return ok;
}

/* ---- empty: read() waits for data ---- */

struct note {
    char text[24];
    int64_t sent_ns;         /* when the writer called write() */
};

static void empty_writer(int wfd, int ready)
{
    /* The synchronisation: a blocking read() on a second pipe, answered when
     * the reader is about to call read().  Not a sleep. */
    char c;
    ssize_t n = traced(read_full(ready, &c, 1), "read(%d, 1)", ready);
    if (n == -1)
        fail("read the reader's go-ahead");
    if (n == 0) {
        say("the reader is gone before saying go");
        _exit(1);
    }
    close_fd(ready);
    say("the reader is waiting; I write in %ld ms (-d)", delay);
    delay_ms(delay);         /* pacing: the time the reader will be seen blocked */
    struct note note = { "hello", now_ns() };
    if (traced(write_all(wfd, &note, sizeof note), "write(%d, %zu)", wfd, sizeof note) == -1)
        fail("write to the pipe");
    say("wrote a %zu-byte note stamped with the time of this write()", sizeof note);
    close_fd(wfd);
    _exit(0);
}

static bool case_empty(void)
{
    set_role("reader");
    say("=== empty: I read from an empty pipe; my child writes %ld ms later", delay);
    int data[2], ready[2];
    make_pipe(data);
    make_pipe(ready);
    pid_t writer = fork_as("writer");
    if (writer == 0) {
        close_fd(data[0]);
        close_fd(ready[1]);
        empty_writer(data[1], ready[0]);
    }
    close_fd(data[1]);
    close_fd(ready[0]);

    /* A fact first: nothing is in the pipe (the writer waits for our word). */
    set_nonblocking(data[0], true);
    struct note note;
    ssize_t n = traced(read(data[0], &note, sizeof note), "read(%d, %zu)", data[0], sizeof note);
    bool was_empty = n == -1 && errno == EAGAIN;
    if (was_empty)
        say("the pipe is empty: a non-blocking read() fails with EAGAIN");
    else
        say("a non-blocking read() on the fresh pipe returned %zd", n);
    set_nonblocking(data[0], false);

    if (traced(write_all(ready[1], "!", 1), "write(%d, 1)", ready[1]) == -1)
        fail("write the go-ahead");
    close_fd(ready[1]);
    say("calling read() on the empty pipe: it blocks until the writer writes");
    int64_t t0 = now_ns();
    do
        n = traced(read(data[0], &note, sizeof note), "read(%d, %zu)", data[0], sizeof note);
    while (n == -1 && errno == EINTR);
    int64_t t1 = now_ns();
    if (n == -1)
        fail("read from the pipe");
    close_fd(data[0]);

    /* The data is not trusted: check its size and its text before using it. */
    bool intact = n == (ssize_t)sizeof note && memcmp(note.text, "hello", 6) == 0;
    if (!intact) {
        say("read() returned %zd bytes, not the writer's %zu-byte note", n, sizeof note);
    } else {
        sayf("read() returned %zd bytes after blocking %.1f ms: \"%s\"", n, ms(t1 - t0),
            note.text);
        if (note.sent_ns >= t0)
            sayf("the writer wrote %.1f ms after read() was called; read() returned %.3f ms "
                "after the write", ms(note.sent_ns - t0), ms(t1 - note.sent_ns));
        else
            sayf("the data was written %.1f ms before read() was called (this reader was "
                "slow to get there), so read() found it and did not have to wait",
                ms(t0 - note.sent_ns));
    }
    int status = reap(writer, "writer");
    return verdict("empty", was_empty && intact && t1 >= note.sent_ns && exited_0(status),
                   "read() on an empty pipe waits until a writer writes");
}

/* ---- full: write() waits for room ---- */

enum { CHUNK = 4096 };       /* a page, and PIPE_BUF on Linux */

/* Byte I of the stream; the reader checks every byte. */
static unsigned char pattern(uint64_t i)
{
    return (unsigned char)(i % 251);
}

static void fill_pattern(unsigned char *buf, size_t len, uint64_t from)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern(from + i);
}

/* Non-blocking writes of SIZE bytes until EAGAIN; returns the bytes written. */
static uint64_t fill(int wfd, size_t size, uint64_t offset, long *writes)
{
    unsigned char buf[CHUNK];
    uint64_t done = 0;
    *writes = 0;
    for (;;) {
        fill_pattern(buf, size, offset + done);
        ssize_t n = traced(write(wfd, buf, size), "write(%d, %zu)", wfd, size);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && errno == EAGAIN)
            return done;
        if (n == -1)
            fail("write to the pipe");
        done += (uint64_t)n;
        (*writes)++;
    }
}

static void full_reader(int rfd, uint64_t expected)
{
    say("I will start draining in %ld ms (-d)", delay);
    delay_ms(delay);         /* pacing: the time the writer will be seen blocked */
    static unsigned char buf[65536];
    uint64_t got = 0, bad = 0;
    int64_t t0 = now_ns();
    for (;;) {
        ssize_t n = read(rfd, buf, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("read from the pipe");
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(got + (uint64_t)i))
                bad++;
        got += (uint64_t)n;
    }
    trace("read(%d, %zu) = 0", rfd, sizeof buf);
    sayf("drained %llu bytes in %.1f ms (%llu wrong), then read() returned 0",
        (unsigned long long)got, ms(now_ns() - t0), (unsigned long long)bad);
    close_fd(rfd);
    _exit(got == expected && bad == 0 ? 0 : 1);
}

/* Linux-only: F_SETPIPE_SZ and F_GETPIPE_SZ (fcntl.h declares them with _GNU_SOURCE). */
#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif

static bool case_full(void)
{
    set_role("writer");
    say("=== full: I fill the pipe; my child starts draining it %ld ms later", delay);
    int fds[2];
    make_pipe(fds);
    if (resize > 0) {
        int got = (int)traced(fcntl(fds[1], F_SETPIPE_SZ, (int)resize),
                              "fcntl(%d, F_SETPIPE_SZ, %ld)", fds[1], resize);
        if (got == -1) {
            if (errno == EPERM)
                warn_sys("F_SETPIPE_SZ %ld: above /proc/sys/fs/pipe-max-size, only a process "
                         "with CAP_SYS_RESOURCE may", resize);
            else
                warn_sys("F_SETPIPE_SZ %ld", resize);
            close_fd(fds[0]);
            close_fd(fds[1]);
            say("full: could not resize the pipe, nothing shown");
            return false;
        }
        say("asked for %ld bytes with F_SETPIPE_SZ (Linux-only): the kernel made it %d",
            resize, got);
    }
    int kernel_says = (int)traced(fcntl(fds[1], F_GETPIPE_SZ), "fcntl(%d, F_GETPIPE_SZ)", fds[1]);
    if (kernel_says == -1)
        fail("fcntl F_GETPIPE_SZ");

    /* Measure, do not trust: write until the kernel says "no room" (EAGAIN).
     * Whole chunks first, then single bytes in case a partial page is left. */
    set_nonblocking(fds[1], true);
    long chunks, singles;
    uint64_t capacity = fill(fds[1], CHUNK, 0, &chunks);
    capacity += fill(fds[1], 1, capacity, &singles);
    say("pipe capacity: %llu bytes (%ld non-blocking writes of %d bytes and %ld of 1 byte, "
        "then EAGAIN)", (unsigned long long)capacity, chunks, CHUNK, singles);
    say("F_GETPIPE_SZ (Linux-only) says %d bytes: %s", kernel_says,
        (uint64_t)kernel_says == capacity ? "the same" : "not what we measured");

    pid_t reader = fork_as("reader");
    if (reader == 0) {
        close_fd(fds[1]);
        full_reader(fds[0], capacity + CHUNK);
    }
    close_fd(fds[0]);

    set_nonblocking(fds[1], false);
    unsigned char block[CHUNK];
    fill_pattern(block, sizeof block, capacity);
    say("the pipe is full: a blocking write() of %d more bytes waits for the reader", CHUNK);
    int64_t t0 = now_ns();
    ssize_t n = traced(write_all(fds[1], block, sizeof block), "write(%d, %zu)", fds[1],
                       sizeof block);
    int64_t t1 = now_ns();
    if (n == -1)
        warn_sys("write to the pipe");
    else
        sayf("write() returned %zd after blocking %.1f ms: the reader made room", n, ms(t1 - t0));
    close_fd(fds[1]);
    int status = reap(reader, "reader");
    return verdict("full", n == CHUNK && capacity > 0 && exited_0(status),
                   "write() on a full pipe waits until the reader makes room");
}

/* ---- eof: drain, then 0 ---- */

static const char eof_lines[][8] = { "one\n", "two\n", "three\n" };
enum { EOF_LINES = 3 };

static void eof_writer(int wfd)
{
    for (int i = 0; i < EOF_LINES; i++) {
        size_t len = strlen(eof_lines[i]);
        if (traced(write_all(wfd, eof_lines[i], len), "write(%d, %zu)", wfd, len) == -1)
            fail("write to the pipe");
    }
    say("wrote %d lines with %d write()s; closing the write end and exiting", EOF_LINES,
        EOF_LINES);
    close_fd(wfd);
    _exit(0);
}

static bool case_eof(void)
{
    set_role("reader");
    say("=== eof: my child writes %d lines and exits; I drain the pipe, then read() "
        "returns 0", EOF_LINES);
    int fds[2];
    make_pipe(fds);
    pid_t writer = fork_as("writer");
    if (writer == 0) {
        close_fd(fds[0]);
        eof_writer(fds[1]);
    }
    /* On purpose, keep our copy of the write end for now: it shows why a reader
     * must close it.  Waiting for the writer to exit is the synchronisation:
     * everything it wrote is in the pipe by then. */
    int status = reap(writer, "writer");
    say("the writer is gone; what it wrote is still in the pipe");

    char want[64] = "", got[64];
    for (int i = 0; i < EOF_LINES; i++)
        strcat(want, eof_lines[i]);
    size_t len = 0;
    ssize_t n;
    set_nonblocking(fds[0], true);
    for (;;) {
        n = traced(read(fds[0], got + len, sizeof got - len), "read(%d, %zu)", fds[0],
                   sizeof got - len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        char text[4 * sizeof got + 1];
        escape_text(text, sizeof text, got + len, (size_t)n);
        say("read() returned %zd bytes: \"%s\"", n, text);
        len += (size_t)n;
        if (len == sizeof got)
            break;           /* more than the writer wrote: the check below says so */
    }
    bool eagain = n == -1 && errno == EAGAIN;
    if (n == -1 && !eagain)
        fail("read from the pipe");
    if (eagain)
        say("drained: now read() fails with EAGAIN, not 0: a write end is still open (my "
            "own copy), so more data could come");
    else
        say("read() returned %zd while I still hold a write end", n);

    close_fd(fds[1]);
    say("closed my copy of the write end: no writer is left");
    set_nonblocking(fds[0], false);
    n = traced(read(fds[0], got + len, sizeof got - len), "read(%d, %zu)", fds[0],
               sizeof got - len);
    if (n == 0)
        say("read() returned 0 at once: end of file");
    else
        say("read() returned %zd after the last writer closed", n);
    close_fd(fds[0]);
    bool intact = len == strlen(want) && memcmp(got, want, len) == 0;
    say("received %zu bytes, %s what the writer wrote", len, intact ? "exactly" : "NOT");
    return verdict("eof", intact && eagain && n == 0 && exited_0(status),
                   "read() drains the data, then returns 0 once every write end is closed");
}

/* ---- sigpipe: writing with no reader left ---- */

static void sigpipe_writer(int wfd, int go, bool ignore)
{
    /* Set the disposition explicitly: SIG_IGN is inherited across fork() and
     * exec(), so whoever started us may have left SIGPIPE ignored. */
    if (signal(SIGPIPE, ignore ? SIG_IGN : SIG_DFL) == SIG_ERR)
        fail("signal SIGPIPE");
    say("SIGPIPE is %s", ignore ? "ignored" : "at its default action: terminate");
    if (traced(write_all(wfd, "hello\n", 6), "write(%d, 6)", wfd) == -1)
        fail("write to the pipe");
    char c;
    ssize_t n = traced(read_full(go, &c, 1), "read(%d, 1)", go);
    if (n != 0)
        fail("wait for the reader to close");
    say("the reader has closed its end; writing again");
    close_fd(go);
    do
        n = traced(write(wfd, "again\n", 6), "write(%d, 6)", wfd);
    while (n == -1 && errno == EINTR);
    if (n == -1 && errno == EPIPE) {
        say("write() failed with EPIPE (%s): no reader, but I am alive to handle it",
            strerror(errno));
        close_fd(wfd);
        _exit(0);
    }
    say("write() returned %zd with no reader left", n);
    _exit(1);
}

static int sigpipe_round(bool ignore)
{
    int data[2], go[2];
    make_pipe(data);
    make_pipe(go);
    pid_t writer = fork_as("writer");
    if (writer == 0) {
        close_fd(data[0]);
        close_fd(go[1]);
        sigpipe_writer(data[1], go[0], ignore);
    }
    close_fd(data[1]);
    close_fd(go[0]);
    char buf[6];
    if (traced(read_full(data[0], buf, sizeof buf), "read(%d, %zu)", data[0], sizeof buf)
        != (ssize_t)sizeof buf || memcmp(buf, "hello\n", 6) != 0)
        say("did not receive the writer's hello");
    else
        say("read \"hello\": the pipe works while both ends are open");
    close_fd(data[0]);
    say("closed the read end: no reader is left");
    /* The writer must write only after that close: it waits on a second pipe,
     * whose read() returns 0 (end of file) as soon as we close our end of it. */
    close_fd(go[1]);
    return reap(writer, "writer");
}

static bool case_sigpipe(void)
{
    set_role("reader");
    say("=== sigpipe: I close the read end, then my child writes");
    int killed = sigpipe_round(false);
    bool ok1 = WIFSIGNALED(killed) && WTERMSIG(killed) == SIGPIPE;
    say("again, with SIGPIPE ignored in the writer");
    int lived = sigpipe_round(true);
    bool ok2 = exited_0(lived);
    return verdict("sigpipe", ok1 && ok2,
                   "a write() with no reader kills the writer with SIGPIPE, or fails with "
                   "EPIPE when SIGPIPE is ignored");
}

/* ---- main ---- */

static const struct {
    const char *name;
    bool (*run)(void);
} cases[] = {
    { "empty", case_empty },
    { "full", case_full },
    { "eof", case_eof },
    { "sigpipe", case_sigpipe },
};
enum { NCASES = sizeof cases / sizeof cases[0] };

int main(int argc, char *argv[])
{
    prog_init("pipe/cases", "parent", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":s:d:vh")) != -1) {
        switch (c) {
        case 's': resize = parse_number("-s", optarg, 1, 16777216); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind == argc)
        usage_error("which case? empty, full, eof, sigpipe or all");
    const char *which = argv[optind++];
    if (optind < argc)
        extra_operand(argv[optind]);
    int chosen = -1;
    for (int i = 0; i < NCASES; i++)
        if (strcmp(which, cases[i].name) == 0)
            chosen = i;
    if (chosen == -1 && strcmp(which, "all") != 0)
        usage_error("unknown case '%s' (empty, full, eof, sigpipe or all)", which);

    /* This process writes to pipes whose reader may be gone: be told with EPIPE,
     * not killed.  The sigpipe case sets its writer's disposition explicitly. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    int passed = 0, ran = 0;
    for (int i = 0; i < NCASES; i++) {
        if (chosen != -1 && i != chosen)
            continue;
        ran++;
        passed += cases[i].run();
    }
    set_role("parent");
    if (ran > 1)
        say("%d of %d cases behaved as the lesson says", passed, ran);
    return passed == ran ? 0 : 1;
}
