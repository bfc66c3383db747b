/* pipe/atomic - PIPE_BUF: when several processes write into one pipe, is each
 * write() kept whole?
 *
 * WRITERS children share one pipe and each writes RECORDS records of SIZE bytes,
 * one write() per record.  The parent reads the stream back SIZE bytes at a time
 * and checks that each piece is exactly one record: a header naming its writer
 * and sequence number, then bytes that only that record has.
 *
 * POSIX promises that a write() of at most PIPE_BUF bytes to a pipe is atomic:
 * its bytes are never interleaved with another writer's.  A larger write() may be
 * copied in pieces as the reader makes room, and another writer's piece can land
 * in between: the record is torn.
 */
#include "../common/common.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
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
    "  -v          trace every system call on stderr\n"
    "  -h          show this help\n"
    "At most 268435456 bytes in all (WRITERS x RECORDS x SIZE).\n"
    "Up to PIPE_BUF bytes a write() is atomic, so torn must be 0; above, tearing is\n"
    "allowed and is reported, not an error.\n"
    "Exit status: 0 when every byte arrived and, for SIZE <= PIPE_BUF, no record was\n"
    "torn; 1 otherwise.\n";

enum { HEADER = 8 };         /* uint32_t writer, uint32_t sequence */

static long writers = 4, records = 1000, size;

/* The bytes after the header depend on (writer, sequence) and on the position,
 * so a piece of another record does not pass for this one. */
static void fill_body(unsigned char *rec, uint32_t w, uint32_t seq)
{
    uint64_t x = (w + 1) * 0x9E3779B97F4A7C15u ^ (seq + 1) * 0xC2B2AE3D27D4EB4Fu;
    for (long i = HEADER; i < size; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        rec[i] = (unsigned char)(x >> 56);
    }
}

static bool body_matches(const unsigned char *rec, uint32_t w, uint32_t seq)
{
    uint64_t x = (w + 1) * 0x9E3779B97F4A7C15u ^ (seq + 1) * 0xC2B2AE3D27D4EB4Fu;
    for (long i = HEADER; i < size; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        if (rec[i] != (unsigned char)(x >> 56))
            return false;
    }
    return true;
}

static void writer(int wfd, uint32_t w)
{
    unsigned char *rec = malloc((size_t)size);
    if (rec == NULL)
        die_child("malloc");
    for (uint32_t seq = 0; seq < (uint32_t)records; seq++) {
        memcpy(rec, &w, 4);
        memcpy(rec + 4, &seq, 4);
        fill_body(rec, w, seq);
        /* One write() per record.  write_all() loops only if the kernel returns a
         * partial count, which a blocking pipe does not do without a signal. */
        if (traced(write_all(wfd, rec, (size_t)size), "write(%d, %ld)", wfd, size) == -1)
            die_child("write to the pipe (is the reader gone?)");
    }
    free(rec);
    say("wrote %ld records of %ld bytes", records, size);
    if (traced(close(wfd), "close(%d)", wfd) == -1)
        die_child("close");
    _exit(0);
}

struct tally {
    long read, whole, torn, out_of_order;
    unsigned long long bytes;
    size_t trailing;         /* bytes after the last whole SIZE at end of file */
};

/* Read SIZE bytes at a time until end of file; judge each piece. */
static void read_records(int rfd, struct tally *t)
{
    unsigned char *rec = malloc((size_t)size);
    uint32_t *next = calloc((size_t)writers, sizeof *next);
    if (rec == NULL || next == NULL)
        die("malloc");
    for (;;) {
        ssize_t n = read_full(rfd, rec, (size_t)size);
        if (n == -1)
            die("read from the pipe");
        t->bytes += (unsigned long long)n;
        if (n < size) {
            t->trailing = (size_t)n;
            break;
        }
        t->read++;
        /* Never trust the stream: range-check the header before using it. */
        uint32_t w, seq;
        memcpy(&w, rec, 4);
        memcpy(&seq, rec + 4, 4);
        if (w >= (uint32_t)writers || seq >= (uint32_t)records || !body_matches(rec, w, seq)) {
            t->torn++;
            continue;
        }
        t->whole++;
        if (seq < next[w])   /* one writer's records come in the order it wrote them */
            t->out_of_order++;
        else
            next[w] = seq + 1;
    }
    trace("read(%d, %ld) = 0", rfd, size);
    free(rec);
    free(next);
}

/* Reap every writer; true if all exited with status 0. */
static bool reap_all(const pid_t *pids)
{
    long clean = 0;
    for (long i = 0; i < writers; i++) {
        int status;
        while (waitpid(pids[i], &status, 0) == -1)
            if (errno != EINTR)
                die("waitpid");
        trace("waitpid(%ld) = %ld", (long)pids[i], (long)pids[i]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            clean++;
        else if (WIFSIGNALED(status))
            say("writer%ld (pid %ld) was killed by signal %d (%s)", i, (long)pids[i],
                WTERMSIG(status), signal_name(WTERMSIG(status)));
        else
            say("writer%ld (pid %ld) exited with status %d", i, (long)pids[i],
                WEXITSTATUS(status));
    }
    say("%ld of %ld writers exited with status 0", clean, writers);
    return clean == writers;
}

int main(int argc, char *argv[])
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

    int fds[2];
    if (pipe(fds) == -1)
        die("pipe");
    trace("pipe([%d, %d]) = 0", fds[0], fds[1]);
    long pipe_buf = fpathconf(fds[0], _PC_PIPE_BUF);
    if (pipe_buf == -1)
        pipe_buf = PIPE_BUF;
    if (size == 0)
        size = pipe_buf;
    if ((unsigned long long)writers * (unsigned long long)records * (unsigned long long)size
        > 268435456ull) {
        close(fds[0]);
        close(fds[1]);
        usage_error("%ld writers x %ld records x %ld bytes is more than 268435456 bytes",
                    writers, records, size);
    }
    bool atomic = size <= pipe_buf;
    say("PIPE_BUF is %ld bytes", pipe_buf);
    say("%ld writers x %ld records of %ld bytes, one write() per record: %s", writers,
        records, size, atomic ? "at most PIPE_BUF, so each write() is atomic"
                              : "more than PIPE_BUF, so a write() may be split");

    /* The writers report a vanished reader (EPIPE) instead of dying silently. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    pid_t pids[64];
    long expected = writers * records;
    for (long i = 0; i < writers; i++) {
        pids[i] = fork();
        if (pids[i] == -1) {
            warn_sys("fork");    /* go on with the writers we have: read, reap, report */
            writers = i;
            break;
        }
        if (pids[i] == 0) {
            set_role("writer%ld", i);
            if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
                die_child("close");
            writer(fds[1], (uint32_t)i);
        }
        trace("fork() = %ld", (long)pids[i]);
    }
    /* Our own write end would keep read() from ever returning 0. */
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die("close");

    struct tally t = { 0 };
    read_records(fds[0], &t);
    if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
        die("close");
    bool writers_ok = reap_all(pids);

    say("records: %ld expected, %ld read (%llu bytes), %ld whole", expected, t.read, t.bytes,
        t.whole);
    say("torn: %ld", t.torn);
    if (t.trailing > 0)
        say("%zu bytes at the end did not make a whole record", t.trailing);
    if (t.out_of_order > 0)
        say("%ld records came out of their writer's order", t.out_of_order);

    bool all_bytes = t.read == expected && t.trailing == 0;
    if (atomic) {
        if (t.torn == 0 && t.out_of_order == 0 && t.whole == expected)
            say("every write() of at most PIPE_BUF bytes went into the pipe whole, never "
                "interleaved with another writer's: the atomicity POSIX promises");
        else
            say("records of at most PIPE_BUF bytes were torn or lost: that breaks the "
                "atomicity POSIX promises");
        return all_bytes && writers_ok && t.torn == 0 && t.out_of_order == 0 &&
                       t.whole == expected ? 0 : 1;
    }
    if (t.torn > 0)
        say("%ld reads of %ld bytes held pieces of more than one record: a write() larger "
            "than PIPE_BUF may be copied in pieces as the reader makes room, and another "
            "writer's piece can land in between.  Allowed, not a bug: keep records at most "
            "PIPE_BUF bytes, or give each writer its own pipe", t.torn, size);
    else
        say("no record was torn this time, but above PIPE_BUF nothing guarantees it (on "
            "Linux, sizes that are not a whole number of pages, like -s 4097, tear more often)");
    return all_bytes && writers_ok ? 0 : 1;
}
