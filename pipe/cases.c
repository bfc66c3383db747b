/* pipe/cases - the four situations of an anonymous pipe, each made to happen and
 * measured rather than claimed.
 *
 * The lesson (管道的4种情况):
 *   empty    read() on an empty pipe waits until a writer writes;
 *   full     write() on a full pipe waits until the reader makes room;
 *   eof      once every write end is closed, read() drains what is left, then 0;
 *   sigpipe  write() with no reader left kills the writer with SIGPIPE, or,
 *            SIGPIPE ignored, fails with EPIPE.
 *
 * What to observe: every wait between the two processes is a blocking call on a
 * pipe, never a sleep; -d only paces the side that keeps the other one waiting,
 * and that wait is what gets measured.  O_NONBLOCK (fcntl) turns "wait" into
 * EAGAIN, which is how the reader proves a pipe empty and the writer finds a
 * pipe's capacity.  Before it: pipe/demo; after it: pipe/atomic.
 *
 * Usage: pipe/cases [-s BYTES] [-d MS] [-v] empty|full|eof|sigpipe|all
 */
#define _GNU_SOURCE          /* F_SETPIPE_SZ, F_GETPIPE_SZ: Linux-only fcntl()s */
#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    "  -v        trace every system call on the pipes (and fork, waitpid) on stderr;\n"
    "            sigpipe: the write() that SIGPIPE kills has no line (the writer dies\n"
    "            before that call returns to it)\n"
    "  -h        show this help\n"
    "Exit status: 0 when every case behaved as the lesson says, 1 otherwise.\n";

static long delay = 200, resize;

/* No signal handler is installed, so no call here returns EINTR. */

static int parse_options(int argc, char *argv[]);
static long or_fail(long rc, const char *what);
static void become(const char *role);
static int64_t now_ns(void);
static const char *ms(char text[static 32], int64_t ns, int decimals);
static void say_end(const char *who, pid_t pid, int status);
static bool exited_0(int status);
static bool verdict(const char *name, bool ok, const char *lesson);

/* ---- empty: read() waits for data ---- */

struct note {
    char text[24];
    int64_t sent_ns;         /* when the writer called write() */
};

static bool check_note(const struct note *note, ssize_t n, int64_t t0, int64_t t1);

/* The child: wait for the reader's go-ahead, let it wait DELAY ms, then write
 * one note stamped with the time of the write(). */
static noreturn void empty_writer(int data[2], int go[2])
{
    become("writer");
    or_fail(traced(close(data[0]), "close(%d)", data[0]), "close");
    or_fail(traced(close(go[1]), "close(%d)", go[1]), "close");
    /* The synchronisation: a blocking read() on a second pipe, answered when
     * the reader is about to call read().  Not a sleep. */
    char c;
    if (or_fail(read_full(go[0], &c, 1), "read the reader's go-ahead") == 0)
        die_child("the reader is gone before saying go");
    or_fail(traced(close(go[0]), "close(%d)", go[0]), "close");
    say("the reader is waiting; I write in %ld ms (-d)", delay);
    delay_ms(delay);         /* pacing: the time the reader will be seen blocked */
    struct note note = { "hello", now_ns() };
    or_fail(write_all(data[1], &note, sizeof note), "write to the pipe");
    say("wrote a %zu-byte note stamped with the time of this write()", sizeof note);
    or_fail(traced(close(data[1]), "close(%d)", data[1]), "close");
    _exit(0);
}

static bool case_empty(void)
{
    set_role("reader");
    say("=== empty: I read from an empty pipe; my child writes %ld ms later", delay);
    int data[2] = { -1, -1 }, go[2] = { -1, -1 };
    int rc = pipe(data);
    or_fail(traced(rc, "pipe([%d, %d])", data[0], data[1]), "pipe");
    rc = pipe(go);
    or_fail(traced(rc, "pipe([%d, %d])", go[0], go[1]), "pipe");
    pid_t writer = fork();
    if (writer == 0)
        empty_writer(data, go);
    or_fail(traced(writer, "fork()"), "fork");
    or_fail(traced(close(data[1]), "close(%d)", data[1]), "close");
    or_fail(traced(close(go[0]), "close(%d)", go[0]), "close");

    /* A fact first: nothing is in the pipe (the writer waits for our word).  A
     * fresh pipe end has no other status flag to keep: O_NONBLOCK alone. */
    or_fail(traced(fcntl(data[0], F_SETFL, O_NONBLOCK), "fcntl(%d, F_SETFL, O_NONBLOCK)",
                   data[0]), "fcntl");
    struct note note;
    ssize_t n = traced(read(data[0], &note, sizeof note), "read(%d, %zu)", data[0], sizeof note);
    bool was_empty = n == -1 && errno == EAGAIN;
    say(was_empty ? "the pipe is empty: a non-blocking read() fails with EAGAIN"
                  : "a non-blocking read() on the fresh pipe did not fail with EAGAIN");
    or_fail(traced(fcntl(data[0], F_SETFL, 0), "fcntl(%d, F_SETFL, 0)", data[0]), "fcntl");

    or_fail(write_all(go[1], "!", 1), "write the go-ahead");
    or_fail(traced(close(go[1]), "close(%d)", go[1]), "close");
    say("calling read() on the empty pipe: it blocks until the writer writes");
    int64_t t0 = now_ns();
    n = traced(read(data[0], &note, sizeof note), "read(%d, %zu)", data[0], sizeof note);
    int64_t t1 = now_ns();
    or_fail(n, "read from the pipe");
    or_fail(traced(close(data[0]), "close(%d)", data[0]), "close");
    bool intact = check_note(&note, n, t0, t1);

    int status;
    or_fail(traced(waitpid(writer, &status, 0), "waitpid(%ld)", (long)writer), "waitpid");
    say_end("writer", writer, status);
    return verdict("empty", was_empty && intact && exited_0(status),
                   "read() on an empty pipe waits until a writer writes");
}

/* ---- full: write() waits for room ---- */

enum { CHUNK = 4096 };       /* PIPE_BUF on Linux: a non-blocking write is all or EAGAIN */

static void fill_pattern(unsigned char *buf, size_t len, uint64_t from);
static uint64_t count_wrong(const unsigned char *buf, size_t len, uint64_t from);

/* Non-blocking writes of SIZE bytes until EAGAIN; returns the bytes written. */
static uint64_t fill(int wfd, size_t size, uint64_t offset, long *writes)
{
    unsigned char buf[CHUNK];
    uint64_t done = 0;
    for (*writes = 0;; (*writes)++) {
        fill_pattern(buf, size, offset + done);
        ssize_t n = traced(write(wfd, buf, size), "write(%d, %zu)", wfd, size);
        if (n == -1 && errno == EAGAIN)
            return done;     /* the kernel's "no room" */
        done += (uint64_t)or_fail(n, "write to the pipe");
    }
}

/* Measure, do not trust: write until the kernel says "no room" (EAGAIN).
 * Whole chunks first, then single bytes in case a partial page is left. */
static uint64_t measure_capacity(int wfd)
{
    int kernel_says = (int)or_fail(traced(fcntl(wfd, F_GETPIPE_SZ), "fcntl(%d, F_GETPIPE_SZ)",
                                          wfd), "fcntl F_GETPIPE_SZ");
    or_fail(traced(fcntl(wfd, F_SETFL, O_NONBLOCK), "fcntl(%d, F_SETFL, O_NONBLOCK)", wfd),
            "fcntl");
    long chunks, singles;
    uint64_t capacity = fill(wfd, CHUNK, 0, &chunks);
    capacity += fill(wfd, 1, capacity, &singles);
    say("pipe capacity: %llu bytes (%ld non-blocking writes of %d bytes and %ld of 1 byte, "
        "then EAGAIN)", (unsigned long long)capacity, chunks, CHUNK, singles);
    say("F_GETPIPE_SZ (Linux-only) says %d bytes: %s", kernel_says,
        (uint64_t)kernel_says == capacity ? "the same" : "not what we measured");
    or_fail(traced(fcntl(wfd, F_SETFL, 0), "fcntl(%d, F_SETFL, 0)", wfd), "fcntl");
    return capacity;
}

/* The child: after DELAY ms, drain the pipe to end of file, checking every byte. */
static noreturn void full_reader(int fds[2], uint64_t expected)
{
    become("reader");
    or_fail(traced(close(fds[1]), "close(%d)", fds[1]), "close");
    say("I will start draining in %ld ms (-d)", delay);
    delay_ms(delay);         /* pacing: the time the writer will be seen blocked */
    static unsigned char buf[65536];
    uint64_t got = 0, wrong = 0;
    int64_t t0 = now_ns();
    ssize_t n;
    while ((n = traced(read(fds[0], buf, sizeof buf), "read(%d, %zu)", fds[0], sizeof buf)) > 0) {
        wrong += count_wrong(buf, (size_t)n, got);
        got += (uint64_t)n;
    }
    or_fail(n, "read from the pipe");
    char took[32];
    say("drained %llu bytes in %s ms (%llu wrong), then read() returned 0",
        (unsigned long long)got, ms(took, now_ns() - t0, 1), (unsigned long long)wrong);
    or_fail(traced(close(fds[0]), "close(%d)", fds[0]), "close");
    _exit(got == expected && wrong == 0 ? 0 : 1);
}

/* -s: ask for another size (F_SETPIPE_SZ, Linux-only); false if refused. */
static bool resize_pipe(int wfd)
{
    int got = (int)traced(fcntl(wfd, F_SETPIPE_SZ, (int)resize), "fcntl(%d, F_SETPIPE_SZ, %ld)",
                          wfd, resize);
    if (got == -1 && errno == EPERM)
        warn_sys("F_SETPIPE_SZ %ld: above /proc/sys/fs/pipe-max-size, only a process with "
                 "CAP_SYS_RESOURCE may", resize);
    else if (got == -1)
        warn_sys("F_SETPIPE_SZ %ld", resize);
    else
        say("asked for %ld bytes with F_SETPIPE_SZ (Linux-only): the kernel made it %d",
            resize, got);
    return got != -1;
}

static bool case_full(void)
{
    set_role("writer");
    say("=== full: I fill the pipe; my child starts draining it %ld ms later", delay);
    int fds[2] = { -1, -1 };
    int rc = pipe(fds);
    or_fail(traced(rc, "pipe([%d, %d])", fds[0], fds[1]), "pipe");
    if (resize > 0 && !resize_pipe(fds[1])) {
        or_fail(traced(close(fds[0]), "close(%d)", fds[0]), "close");
        or_fail(traced(close(fds[1]), "close(%d)", fds[1]), "close");
        say("full: could not resize the pipe, nothing shown");
        return false;
    }
    uint64_t capacity = measure_capacity(fds[1]);

    pid_t reader = fork();
    if (reader == 0)
        full_reader(fds, capacity + CHUNK);
    or_fail(traced(reader, "fork()"), "fork");
    or_fail(traced(close(fds[0]), "close(%d)", fds[0]), "close");

    unsigned char block[CHUNK];
    fill_pattern(block, sizeof block, capacity);
    say("the pipe is full: a blocking write() of %d more bytes waits for the reader", CHUNK);
    int64_t t0 = now_ns();
    ssize_t n = write_all(fds[1], block, sizeof block);
    int64_t t1 = now_ns();
    char took[32];
    if (n == -1)
        warn_sys("write to the pipe");
    else
        say("write() returned %zd after blocking %s ms: the reader made room", n,
            ms(took, t1 - t0, 1));
    or_fail(traced(close(fds[1]), "close(%d)", fds[1]), "close");

    int status;
    or_fail(traced(waitpid(reader, &status, 0), "waitpid(%ld)", (long)reader), "waitpid");
    say_end("reader", reader, status);
    return verdict("full", n == CHUNK && capacity > 0 && exited_0(status),
                   "write() on a full pipe waits until the reader makes room");
}

/* ---- eof: drain, then 0 ---- */

static const char *const eof_lines[] = { "one\n", "two\n", "three\n" };
enum { EOF_LINES = 3, EOF_BYTES = 14 };

/* The child: three lines, three write()s, then close and exit. */
static noreturn void eof_writer(int fds[2])
{
    become("writer");
    or_fail(traced(close(fds[0]), "close(%d)", fds[0]), "close");
    for (int i = 0; i < EOF_LINES; i++)
        or_fail(write_all(fds[1], eof_lines[i], strlen(eof_lines[i])), "write to the pipe");
    or_fail(traced(close(fds[1]), "close(%d)", fds[1]), "close");
    say("wrote %d lines with %d write()s, closed the write end; exiting", EOF_LINES, EOF_LINES);
    _exit(0);
}

/* Non-blocking reads until read() does not return data; returns that last
 * result (-1 with errno EAGAIN: empty, but a writer could still write). */
static ssize_t drain(int rfd, char *got, size_t size, size_t *len)
{
    ssize_t n = 0;
    while (*len < size &&
           (n = traced(read(rfd, got + *len, size - *len), "read(%d, %zu)", rfd, size - *len)) > 0) {
        char text[4 * 64 + 1];
        escape_text(text, sizeof text, got + *len, (size_t)n);
        say("read() returned %zd bytes: \"%s\"", n, text);
        *len += (size_t)n;
    }
    return *len == size ? 1 : n;   /* full: more than the writer wrote, the check says so */
}

static bool case_eof(void)
{
    set_role("reader");
    say("=== eof: my child writes %d lines and exits; I drain the pipe, then read() "
        "returns 0", EOF_LINES);
    int fds[2] = { -1, -1 };
    int rc = pipe(fds);
    or_fail(traced(rc, "pipe([%d, %d])", fds[0], fds[1]), "pipe");
    pid_t writer = fork();
    if (writer == 0)
        eof_writer(fds);
    or_fail(traced(writer, "fork()"), "fork");
    /* On purpose, keep our copy of the write end for now: it shows why a reader
     * must close it.  Waiting for the writer to exit is the synchronisation:
     * everything it wrote is in the pipe by then. */
    int status;
    or_fail(traced(waitpid(writer, &status, 0), "waitpid(%ld)", (long)writer), "waitpid");
    say_end("writer", writer, status);
    say("the writer is gone; what it wrote is still in the pipe");

    char got[64];
    size_t len = 0;
    or_fail(traced(fcntl(fds[0], F_SETFL, O_NONBLOCK), "fcntl(%d, F_SETFL, O_NONBLOCK)", fds[0]),
            "fcntl");
    ssize_t n = drain(fds[0], got, sizeof got, &len);
    bool eagain = n == -1 && errno == EAGAIN;
    if (n == -1 && !eagain)
        or_fail(-1, "read from the pipe");
    say(eagain ? "drained: now read() fails with EAGAIN, not 0: a write end is still open "
                 "(my own copy), so more data could come"
               : "read() did not fail with EAGAIN while I still hold a write end");

    or_fail(traced(close(fds[1]), "close(%d)", fds[1]), "close");
    say("closed my copy of the write end: no writer is left");
    n = traced(read(fds[0], got, sizeof got), "read(%d, %zu)", fds[0], sizeof got);
    say(n == 0 ? "read() returned 0 at once: end of file"
               : "read() did not return 0 after the last writer closed");
    or_fail(traced(close(fds[0]), "close(%d)", fds[0]), "close");

    bool intact = len == EOF_BYTES && memcmp(got, "one\ntwo\nthree\n", EOF_BYTES) == 0;
    say("received %zu bytes, %s what the writer wrote", len, intact ? "exactly" : "NOT");
    return verdict("eof", intact && eagain && n == 0 && exited_0(status),
                   "read() drains the data, then returns 0 once every write end is closed");
}

/* ---- sigpipe: writing with no reader left ---- */

/* The child: one line while the reader is there, then, once it has closed its
 * end, one more. */
static noreturn void sigpipe_writer(int data[2], int go[2], bool ignore)
{
    become("writer");
    or_fail(traced(close(data[0]), "close(%d)", data[0]), "close");
    or_fail(traced(close(go[1]), "close(%d)", go[1]), "close");
    /* Set the disposition explicitly: SIG_IGN is inherited across fork() and
     * exec(), so whoever started us may have left SIGPIPE ignored. */
    if (signal(SIGPIPE, ignore ? SIG_IGN : SIG_DFL) == SIG_ERR)
        die_child("signal SIGPIPE");
    say("SIGPIPE is %s", ignore ? "ignored" : "at its default action: terminate");
    or_fail(write_all(data[1], "hello\n", 6), "write to the pipe");
    char c;
    if (or_fail(read_full(go[0], &c, 1), "wait for the reader to close") != 0)
        die_child("the reader said something instead of closing");
    say("the reader has closed its end; writing again");
    or_fail(traced(close(go[0]), "close(%d)", go[0]), "close");
    ssize_t n = traced(write(data[1], "again\n", 6), "write(%d, 6)", data[1]);
    if (n == -1 && errno == EPIPE) {
        say("write() failed with EPIPE (%s): no reader, but I am alive to handle it",
            strerror(errno));
        or_fail(traced(close(data[1]), "close(%d)", data[1]), "close");
        _exit(0);
    }
    say("write() returned %zd with no reader left", n);
    _exit(1);
}

/* One round: the writer's raw wait status. */
static int sigpipe_round(bool ignore)
{
    int data[2] = { -1, -1 }, go[2] = { -1, -1 };
    int rc = pipe(data);
    or_fail(traced(rc, "pipe([%d, %d])", data[0], data[1]), "pipe");
    rc = pipe(go);
    or_fail(traced(rc, "pipe([%d, %d])", go[0], go[1]), "pipe");
    pid_t writer = fork();
    if (writer == 0)
        sigpipe_writer(data, go, ignore);
    or_fail(traced(writer, "fork()"), "fork");
    or_fail(traced(close(data[1]), "close(%d)", data[1]), "close");
    or_fail(traced(close(go[0]), "close(%d)", go[0]), "close");

    char buf[6];
    bool hello = read_full(data[0], buf, sizeof buf) == 6 && memcmp(buf, "hello\n", 6) == 0;
    say(hello ? "read \"hello\": the pipe works while both ends are open"
              : "did not receive the writer's hello");
    or_fail(traced(close(data[0]), "close(%d)", data[0]), "close");
    say("closed the read end: no reader is left");
    /* The writer must write only after that close: it waits on a second pipe,
     * whose read() returns 0 (end of file) as soon as we close our end of it. */
    or_fail(traced(close(go[1]), "close(%d)", go[1]), "close");

    int status;
    or_fail(traced(waitpid(writer, &status, 0), "waitpid(%ld)", (long)writer), "waitpid");
    say_end("writer", writer, status);
    return status;
}

static bool case_sigpipe(void)
{
    set_role("reader");
    say("=== sigpipe: I close the read end, then my child writes");
    int killed = sigpipe_round(false);
    say("again, with SIGPIPE ignored in the writer");
    int lived = sigpipe_round(true);
    return verdict("sigpipe",
                   WIFSIGNALED(killed) && WTERMSIG(killed) == SIGPIPE && exited_0(lived),
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
    int chosen = parse_options(argc, argv);     /* -1: all */

    /* This process writes to pipes whose reader may be gone: be told with EPIPE,
     * not killed.  The sigpipe case sets its writer's disposition explicitly. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    int passed = 0, ran = 0;
    for (int i = 0; i < NCASES; i++) {
        if (chosen == -1 || i == chosen) {
            ran++;
            passed += cases[i].run();
        }
    }
    set_role("parent");
    if (ran > 1)
        say("%d of %d cases behaved as the lesson says", passed, ran);
    return passed == ran ? 0 : 1;
}

/* ---- what makes it robust (not the lesson) ---- */

/* The options; returns the index of the chosen case, or -1 for all. */
static int parse_options(int argc, char *argv[])
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
    for (int i = 0; i < NCASES; i++)
        if (strcmp(which, cases[i].name) == 0)
            return i;
    if (strcmp(which, "all") != 0)
        usage_error("unknown case '%s' (empty, full, eof, sigpipe or all)", which);
    return -1;
}

static bool in_child;       /* after fork(): errors end with _exit(), never exit() */

/* RC, what a call returned; -1 ends the process, saying WHAT failed. */
static long or_fail(long rc, const char *what)
{
    if (rc == -1 && in_child)
        die_child("%s", what);
    if (rc == -1)
        die("%s", what);
    return rc;
}

/* In a child just forked: take ROLE, and end with _exit() from now on. */
static void become(const char *role)
{
    in_child = true;
    set_role("%s", role);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    or_fail(clock_gettime(CLOCK_MONOTONIC, &ts), "clock_gettime");
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* NS nanoseconds as milliseconds with DECIMALS decimals, in TEXT: say() does
 * not format floating point. */
static const char *ms(char text[static 32], int64_t ns, int decimals)
{
    snprintf(text, 32, "%.*f", decimals, (double)ns / 1e6);
    return text;
}

static void say_end(const char *who, pid_t pid, int status)
{
    if (WIFSIGNALED(status))
        say("%s %ld was killed by signal %d (%s)", who, (long)pid, WTERMSIG(status),
            signal_name(WTERMSIG(status)));
    else
        say("%s %ld exited with status %d", who, (long)pid, WEXITSTATUS(status));
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

/* empty: the note is not trusted: its size and text are checked before use.
 * Then say how long read() blocked and how soon it returned after the write. */
static bool check_note(const struct note *note, ssize_t n, int64_t t0, int64_t t1)
{
    if (n != (ssize_t)sizeof *note || memcmp(note->text, "hello", 6) != 0) {
        say("read() returned %zd bytes, not the writer's %zu-byte note", n, sizeof *note);
        return false;
    }
    char a[32], b[32];
    say("read() returned %zd bytes after blocking %s ms: \"%s\"", n, ms(a, t1 - t0, 1),
        note->text);
    if (note->sent_ns >= t0)
        say("the writer wrote %s ms after read() was called; read() returned %s ms after "
            "the write", ms(a, note->sent_ns - t0, 1), ms(b, t1 - note->sent_ns, 3));
    else                     /* the go-ahead went out before t0: a slow reader */
        say("the data was written %s ms before read() was called (this reader was slow to "
            "get there), so read() found it and did not have to wait",
            ms(a, t0 - note->sent_ns, 1));
    return t1 >= note->sent_ns;
}

/* full: byte I of the stream is I % 251, so the reader can check every byte. */
static void fill_pattern(unsigned char *buf, size_t len, uint64_t from)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)((from + i) % 251);
}

static uint64_t count_wrong(const unsigned char *buf, size_t len, uint64_t from)
{
    uint64_t wrong = 0;
    for (size_t i = 0; i < len; i++)
        wrong += buf[i] != (unsigned char)((from + i) % 251);
    return wrong;
}
