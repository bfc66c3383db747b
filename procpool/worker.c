/* procpool/worker - one worker of the process pool.
 *
 * The lesson: a worker does nothing until a task code arrives.  It sits in a
 * blocking read() on its stdin, the read end of its own pipe, and procpool/pool
 * wakes exactly this worker by writing 4 bytes into exactly this pipe.  Once no
 * process holds a write end of the pipe, read() returns 0 (end of file): the
 * work is over.  Watch it with -v.  Its partner is procpool/pool, but it reads
 * codes from anything: printf '\001\000\000\000' | procpool/worker runs task 1
 * on a little-endian machine (x86, ARM).
 * Usage: procpool/worker [-i INDEX] [-r FD] [-v] [-f]
 */
#include "../common/common.h"
#include "protocol.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static const char usage[] =
    "usage: procpool/worker [-i INDEX] [-r FD] [-v] [-f]\n"
    "Reads task codes on stdin (4 bytes each, a uint32_t in native byte order) and runs them:\n"
    "  0 download           fetch the text of `seq 1000`; checksum as `sum -s`\n"
    "  1 print-log          log how many tasks this worker has run\n"
    "  2 push-video-stream  push 24 frames of 1 KiB; checksum as `sum -s`\n"
    "  -i INDEX  its index in the pool: it calls itself workerINDEX\n"
    "  -r FD     write a result record for each task to FD (the pool passes a pipe)\n"
    "  -v        trace every system call on stdin and FD on stderr\n"
    "  -f        print its open fds when it starts\n"
    "  -h        show this help\n";

static int results_fd = -1;     /* -r */
static bool show_fds;           /* -f */
static unsigned long ran;       /* tasks run */

static uint32_t run_task(uint32_t code);
static void send_result(uint32_t code, uint32_t value);

/* The 4 bytes of one code: the count read (fewer than 4 only when end of file
 * came first), or -1.  A pipe is a byte stream: the bytes of one write() may
 * come in pieces (from `dd bs=1` they do), so read() until all 4 are in. */
static ssize_t read_code(uint32_t *code)
{
    unsigned char *p = (unsigned char *)code;
    size_t got = 0;
    while (got < sizeof *code) {
        ssize_t n = traced(read(STDIN_FILENO, p + got, sizeof *code - got), "read(0, %zu)",
                           sizeof *code - got);
        if (n <= 0)
            return n == 0 ? (ssize_t)got : -1;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int main(int argc, char *argv[])
{
    prog_init("procpool/worker", "worker", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":i:r:vfh")) != -1) {
        switch (c) {
        case 'i': set_role("worker%ld", parse_number("-i", optarg, 0, 9999)); break;
        case 'r': results_fd = (int)parse_number("-r", optarg, 0, 1 << 20); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    /* A pool that is gone must be reported, not a silent death by SIGPIPE:
     * ignored, a write to the results pipe fails with EPIPE instead.  (No
     * signal is caught, so no call here returns EINTR.) */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    if (show_fds)
        print_fds(NULL);

    say("ready: waiting for task codes on stdin");
    unsigned long bad = 0;
    uint32_t code;
    ssize_t n;
    while ((n = read_code(&code)) == sizeof code) {
        /* Never trust what comes out of a pipe: only codes in the table run. */
        if (code >= TASK_COUNT) {
            say("unknown task code %lu: skipped", (unsigned long)code);
            bad++;
            continue;
        }
        send_result(code, run_task(code));
    }
    if (n == -1)
        die("read from stdin");
    if (n > 0) {
        say("truncated task code: %zd of %zu bytes, then end of file", n, sizeof code);
        bad++;
    }
    say("read() returned 0: end of file on stdin; ran %lu task%s, exiting", ran,
        ran == 1 ? "" : "s");
    if (bad > 0)
        say("%lu bad task code%s received", bad, bad == 1 ? "" : "s");
    return bad > 0 ? 1 : 0;
}

/* ---- what makes it robust (not the lesson) ---- */

/* Stand-ins for real work, whose results the shell can check: the text of
 * `seq 1000`, and 24 frames, frame f being 1023 x ('a' + f) then '\n':
 *     seq 1000 | sum -s
 *     for c in {a..x}; do printf '%01023d\n' 0 | tr 0 $c; done | sum -s
 * Their checksum is that of `sum -s`: the byte sum, folded to 16 bits. */
static uint32_t run_task(uint32_t code)
{
    ran++;
    if (code == TASK_PRINT_LOG) {
        say("running task 1: print-log: tasks run so far: %lu", ran);
        return (uint32_t)ran;
    }
    unsigned long long bytes = 0, sum = 0;
    char line[16];
    for (int i = 1; code == TASK_DOWNLOAD && i <= 1000; i++)
        for (int k = 0, len = snprintf(line, sizeof line, "%d\n", i); k < len; k++, bytes++)
            sum += (unsigned char)line[k];
    for (int f = 0; code == TASK_PUSH_VIDEO && f < 24; f++, bytes += 1024)
        sum += 1023ULL * (unsigned)('a' + f) + '\n';
    uint32_t r = (uint32_t)((sum & 0xffff) + ((sum & 0xffffffff) >> 16));
    uint32_t value = (r & 0xffff) + (r >> 16);
    say("running task %lu: %s: %s %llu bytes, sum %lu", (unsigned long)code, task_name(code),
        code == TASK_DOWNLOAD ? "fetched" : "pushed", bytes, (unsigned long)value);
    return value;
}

/* One write(2) of 8 bytes, fewer than PIPE_BUF: the pipe takes all of it or
 * none, so the pool never reads half a record. */
static void send_result(uint32_t code, uint32_t value)
{
    struct result r = { .code = code, .value = value };
    if (results_fd == -1)
        return;
    ssize_t n = traced(write(results_fd, &r, sizeof r), "write(%d, %zu)", results_fd, sizeof r);
    if (n == -1 && errno == EPIPE)
        die("write to the results pipe (is the pool gone?)");
    if (n != (ssize_t)sizeof r)
        die("write to the results pipe");
}
