/* pipe/atomic - PIPE_BUF: when several processes write into one pipe, is each
 * write() kept whole?
 *
 * The lesson (原子写入): POSIX promises that a write() of at most PIPE_BUF bytes
 * to a pipe is atomic: its bytes are never interleaved with another writer's.
 * A larger write() may be copied in pieces as the reader makes room, and another
 * writer's piece can land in between: the record is torn.  PIPE_BUF is a
 * constant, 4096 on Linux whatever the page size.
 *
 * What to observe: WRITERS children share one pipe and each writes RECORDS
 * records of SIZE bytes, one write() per record.  The parent reads the stream
 * back SIZE bytes at a time and checks that each piece is exactly one record: a
 * header naming its writer and sequence number, then bytes that only that
 * record has.  torn: 0 up to PIPE_BUF; above it, count the torn ones.  Before
 * it: pipe/cases; after it: pipe/pipeline.
 *
 * Usage: pipe/atomic [-w WRITERS] [-s SIZE] [-n RECORDS] [-v]
 */
#include "../common/common.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "usage: pipe/atomic [-w WRITERS] [-s SIZE] [-n RECORDS] [-v]\n"
    "WRITERS processes each write RECORDS records of SIZE bytes into one pipe, one\n"
    "write() per record; the reader counts the records that arrived torn.\n"
    "  -w WRITERS  writer processes (default 4, 1 to 64)\n"
    "  -s SIZE     bytes per record (default PIPE_BUF, 4096 on Linux; 16 to 1048576)\n"
    "  -n RECORDS  records per writer (default 1000, 1 to 100000)\n"
    "  -v          trace every system call on the pipe (and fork, waitpid) on stderr\n"
    "  -h          show this help\n"
    "At most 268435456 bytes in all (WRITERS x RECORDS x SIZE).\n"
    "Up to PIPE_BUF bytes a write() is atomic, so torn must be 0; above, tearing is\n"
    "allowed and is reported, not an error.\n"
    "Exit status: 0 when every byte arrived and, for SIZE <= PIPE_BUF, no record was\n"
    "torn; 1 otherwise.\n";

enum { HEADER = 8 };         /* uint32_t writer, uint32_t sequence */

static long writers = 4, records = 1000, size = PIPE_BUF;

struct tally {
    long read, whole, torn, out_of_order;
    unsigned long long bytes;
    size_t trailing;         /* bytes after the last whole SIZE at end of file */
};

static void parse_options(int argc, char *argv[]);
static void make_record(unsigned char *rec, uint32_t w, uint32_t seq);
static void judge(const unsigned char *rec, uint32_t *next, struct tally *t);
static bool writer_ended(long i, pid_t pid, int status);
static int report(const struct tally *t, bool writers_ok);

/* Writer W: RECORDS records, one write() each, then close and exit. */
static noreturn void writer(int fds[2], uint32_t w)
{
    set_role("writer%u", w);
    if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
        die_child("close");
    unsigned char *rec = malloc((size_t)size);
    if (rec == NULL)
        die_child("malloc");
    for (uint32_t seq = 0; seq < (uint32_t)records; seq++) {
        make_record(rec, w, seq);
        /* One write() per record.  write_all() loops only if the kernel returns a
         * partial count, which a blocking pipe does not do without a signal. */
        if (write_all(fds[1], rec, (size_t)size) == -1)
            die_child("write to the pipe (is the reader gone?)");
    }
    free(rec);
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die_child("close");
    say("wrote %ld records of %ld bytes", records, size);
    _exit(0);
}

/* Fork the writers; returns how many started (a failed fork() stops there:
 * read, reap and report what the others did). */
static long start_writers(int fds[2], pid_t *pids)
{
    for (long i = 0; i < writers; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            writer(fds, (uint32_t)i);
        if (traced(pids[i], "fork()") == -1) {
            warn_sys("fork");
            return i;
        }
    }
    return writers;
}

/* Read SIZE bytes at a time until end of file; judge each piece. */
static void read_records(int rfd, struct tally *t)
{
    unsigned char *rec = malloc((size_t)size);
    uint32_t *next = calloc((size_t)writers, sizeof *next);
    if (rec == NULL || next == NULL)
        die("malloc");
    ssize_t n;
    while ((n = read_full(rfd, rec, (size_t)size)) == size) {
        t->bytes += (unsigned long long)n;
        judge(rec, next, t);
    }
    if (n == -1)
        die("read from the pipe");
    t->bytes += (unsigned long long)n;
    t->trailing = (size_t)n;
    free(rec);
    free(next);
}

/* Reap every writer; true if all exited with status 0. */
static bool reap_all(const pid_t *pids, long started)
{
    long clean = 0;
    for (long i = 0; i < started; i++) {
        int status;
        if (traced(waitpid(pids[i], &status, 0), "waitpid(%ld)", (long)pids[i]) == -1)
            die("waitpid");
        clean += writer_ended(i, pids[i], status);
    }
    say("%ld of %ld writers exited with status 0", clean, writers);
    return clean == writers;
}

int main(int argc, char *argv[])
{
    parse_options(argc, argv);
    say("PIPE_BUF is %d bytes", PIPE_BUF);
    say("%ld writers x %ld records of %ld bytes, one write() per record: %s", writers,
        records, size, size <= PIPE_BUF ? "at most PIPE_BUF, so each write() is atomic"
                                        : "more than PIPE_BUF, so a write() may be split");

    int fds[2] = { -1, -1 };
    int rc = pipe(fds);
    if (traced(rc, "pipe([%d, %d])", fds[0], fds[1]) == -1)
        die("pipe");
    /* The writers report a vanished reader (EPIPE) instead of dying silently. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    pid_t pids[64];
    long started = start_writers(fds, pids);
    /* Our own write end would keep read() from ever returning 0. */
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die("close");

    struct tally t = { 0 };
    read_records(fds[0], &t);
    if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
        die("close");
    bool writers_ok = reap_all(pids, started);
    return report(&t, writers_ok);
}

/* ---- what makes it robust (not the lesson) ---- */

static void parse_options(int argc, char *argv[])
{
    prog_init("pipe/atomic", "reader", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":w:s:n:vh")) != -1) {
        switch (c) {
        case 'w': writers = parse_number("-w", optarg, 1, 64); break;
        case 's': size = parse_number("-s", optarg, HEADER * 2, 1048576); break;
        case 'n': records = parse_number("-n", optarg, 1, 100000); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if ((unsigned long long)writers * (unsigned long long)records * (unsigned long long)size
        > 268435456ull)
        usage_error("%ld writers x %ld records x %ld bytes is more than 268435456 bytes",
                    writers, records, size);
}

/* The bytes after the header depend on (writer, sequence) and on the position,
 * so a piece of another record does not pass for this one. */
static uint64_t body_seed(uint32_t w, uint32_t seq)
{
    return (w + 1) * 0x9E3779B97F4A7C15u ^ (seq + 1) * 0xC2B2AE3D27D4EB4Fu;
}

static unsigned char body_byte(uint64_t *x)
{
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    return (unsigned char)(*x >> 56);
}

static void make_record(unsigned char *rec, uint32_t w, uint32_t seq)
{
    memcpy(rec, &w, 4);
    memcpy(rec + 4, &seq, 4);
    uint64_t x = body_seed(w, seq);
    for (long i = HEADER; i < size; i++)
        rec[i] = body_byte(&x);
}

static bool body_matches(const unsigned char *rec, uint32_t w, uint32_t seq)
{
    uint64_t x = body_seed(w, seq);
    for (long i = HEADER; i < size; i++)
        if (rec[i] != body_byte(&x))
            return false;
    return true;
}

/* One piece of SIZE bytes: a whole record, in its writer's order, or torn.
 * Never trust the stream: the header is range-checked before it is used. */
static void judge(const unsigned char *rec, uint32_t *next, struct tally *t)
{
    uint32_t w, seq;
    memcpy(&w, rec, 4);
    memcpy(&seq, rec + 4, 4);
    t->read++;
    if (w >= (uint32_t)writers || seq >= (uint32_t)records || !body_matches(rec, w, seq)) {
        t->torn++;
        return;
    }
    t->whole++;
    if (seq < next[w])       /* one writer's records come in the order it wrote them */
        t->out_of_order++;
    else
        next[w] = seq + 1;
}

static bool writer_ended(long i, pid_t pid, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    if (WIFSIGNALED(status))
        say("writer%ld (pid %ld) was killed by signal %d (%s)", i, (long)pid,
            WTERMSIG(status), signal_name(WTERMSIG(status)));
    else
        say("writer%ld (pid %ld) exited with status %d", i, (long)pid, WEXITSTATUS(status));
    return false;
}

/* What arrived, and what it means; the exit status. */
static int report(const struct tally *t, bool writers_ok)
{
    long expected = writers * records;
    say("records: %ld expected, %ld read (%llu bytes), %ld whole", expected, t->read, t->bytes,
        t->whole);
    say("torn: %ld", t->torn);
    if (t->trailing > 0)
        say("%zu bytes at the end did not make a whole record", t->trailing);
    if (t->out_of_order > 0)
        say("%ld records came out of their writer's order", t->out_of_order);
    bool all_bytes = t->read == expected && t->trailing == 0 && writers_ok;
    if (size > PIPE_BUF) {
        if (t->torn > 0)
            say("%ld reads of %ld bytes held pieces of more than one record: a write() larger "
                "than PIPE_BUF may be copied in pieces as the reader makes room, and another "
                "writer's piece can land in between.  Allowed, not a bug: keep records at most "
                "PIPE_BUF bytes, or give each writer its own pipe", t->torn, size);
        else
            say("no record was torn this time, but above PIPE_BUF nothing guarantees it (on "
                "Linux, sizes that are not a whole number of pages, like -s 4097, tear more "
                "often)");
        return all_bytes ? 0 : 1;
    }
    bool whole = t->torn == 0 && t->out_of_order == 0 && t->whole == expected;
    if (whole)
        say("every write() of at most PIPE_BUF bytes went into the pipe whole, never "
            "interleaved with another writer's: the atomicity POSIX promises");
    else
        say("records of at most PIPE_BUF bytes were torn or lost: that breaks the "
            "atomicity POSIX promises");
    return all_bytes && whole ? 0 : 1;
}
