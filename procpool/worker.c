/* procpool/worker - one worker of the process pool.
 *
 * The lesson: a worker does nothing until a task code arrives.  It sits in a
 * blocking read() on its stdin (the pool's pipe), and the pool wakes exactly this
 * worker by writing 4 bytes into exactly this pipe.  When the pool closes its
 * write end, read() returns 0 and the worker knows its work is over.
 *
 * Run alone it reads codes from anything:
 *     printf '\001\000\000\000' | procpool/worker
 * runs task 1 on a little-endian machine (x86, ARM): the code is a uint32_t in
 * the machine's own byte order, least significant byte first there.
 */
#include "../common/common.h"
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: procpool/worker [-i INDEX] [-r FD] [-v]\n"
    "Reads task codes on stdin (4 bytes each, a uint32_t in native byte order) and runs them:\n"
    "  0 download           fetch the text of `seq 1000` and check it with the POSIX cksum CRC\n"
    "  1 print-log          print a log line with this worker's task counters\n"
    "  2 push-video-stream  push 24 frames of 1 KiB and checksum the stream with cksum's CRC\n"
    "  -i INDEX  its index in the pool: it calls itself workerINDEX (procpool/pool sets it)\n"
    "  -r FD     write a result record for each task to FD (the pool passes its results pipe)\n"
    "  -v        trace every system call on stderr\n"
    "  -h        show this help\n"
    "Try: printf '\\001\\000\\000\\000' | procpool/worker  (task 1, little-endian machines)\n"
    "PROCPOOL_DIE_AFTER=K (or INDEX:K) makes every worker (or worker INDEX)\n"
    "kill itself with SIGKILL when a task arrives after it has run K (a test aid).\n";

static long worker_index = -1;   /* -i; -1: alone, not part of a pool */
static int results_fd = -1;      /* -r */
static unsigned long ran[TASK_COUNT], ran_total;

/* ---- the tasks: small, deterministic, and checkable from the shell ---- */

/* The CRC of POSIX cksum(1): polynomial 0x04C11DB7, most significant bit first,
 * then the length appended least significant byte first, then inverted. */
static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_add(uint32_t crc, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = (crc << 8) ^ crc_table[(crc >> 24) ^ p[i]];
    return crc;
}

static uint32_t crc_end(uint32_t crc, unsigned long long len)
{
    for (; len != 0; len >>= 8) {
        unsigned char b = (unsigned char)(len & 0xff);
        crc = crc_add(crc, &b, 1);
    }
    return ~crc;
}

/* Stands in for a download: the "file" is the text `seq 1000` prints, checked
 * with a CRC as a downloader checks what it fetched.  `seq 1000 | cksum` agrees. */
static uint32_t task_download(char *report, size_t size)
{
    char line[16];
    uint32_t crc = 0;
    unsigned long long bytes = 0;
    for (int i = 1; i <= 1000; i++) {
        int n = snprintf(line, sizeof line, "%d\n", i);
        crc = crc_add(crc, (const unsigned char *)line, (size_t)n);
        bytes += (unsigned long long)n;
    }
    uint32_t sum = crc_end(crc, bytes);
    snprintf(report, size, "fetched %llu bytes, cksum %lu", bytes, (unsigned long)sum);
    return sum;
}

/* A log line about this worker itself; its count is checkable against the
 * "running task" lines the worker printed before. */
static uint32_t task_print_log(char *report, size_t size)
{
    snprintf(report, size,
             "tasks run so far: %lu (%lu download, %lu print-log, %lu push-video-stream)",
             ran_total, ran[TASK_DOWNLOAD], ran[TASK_PRINT_LOG], ran[TASK_PUSH_VIDEO]);
    return (uint32_t)ran_total;
}

/* Stands in for a video stream: 24 frames, frame f being 1023 copies of the
 * letter 'a' + f and a newline.  The same bytes through cksum(1):
 *     for c in {a..x}; do printf '%01023d\n' 0 | tr 0 $c; done | cksum */
static uint32_t task_push_video(char *report, size_t size)
{
    unsigned char frame[1024];
    uint32_t crc = 0;
    for (int f = 0; f < 24; f++) {
        memset(frame, 'a' + f, sizeof frame - 1);
        frame[sizeof frame - 1] = '\n';
        crc = crc_add(crc, frame, sizeof frame);
    }
    uint32_t sum = crc_end(crc, 24ULL * sizeof frame);
    snprintf(report, size, "pushed 24 frames, %zu bytes, cksum %lu", 24 * sizeof frame,
             (unsigned long)sum);
    return sum;
}

static uint32_t run_task(uint32_t code)
{
    char report[256];
    uint32_t value = 0;
    ran[code]++;
    ran_total++;
    switch (code) {
    case TASK_DOWNLOAD: value = task_download(report, sizeof report); break;
    case TASK_PRINT_LOG: value = task_print_log(report, sizeof report); break;
    case TASK_PUSH_VIDEO: value = task_push_video(report, sizeof report); break;
    }
    say("running task %lu: %s: %s", (unsigned long)code, task_name(code), report);
    return value;
}

/* ---- the results channel ---- */

static void send_result(uint32_t kind, uint32_t code, uint32_t value)
{
    if (results_fd == -1)
        return;
    struct result r = {
        .kind = kind,
        .worker = (uint32_t)(worker_index < 0 ? 0 : worker_index),
        .pid = (uint32_t)getpid(),
        .seq = (uint32_t)ran_total,
        .code = code,
        .value = value,
    };
    /* One write(2) of fewer than PIPE_BUF bytes: atomic, never mixed with another
     * worker's record, never split. */
    ssize_t n = write_all(results_fd, &r, sizeof r);
    if (traced(n, "write(%d, %zu)", results_fd, sizeof r) == -1) {
        if (errno == EPIPE)
            die("write to the results pipe (is the pool gone?)");
        die("write to the results pipe");
    }
}

/* PROCPOOL_DIE_AFTER=K or INDEX:K, a test aid: -1 when it does not apply to us. */
static long die_after(void)
{
    const char *env = getenv("PROCPOOL_DIE_AFTER");
    if (env == NULL || *env == '\0')
        return -1;
    char *end;
    long who = -1, k = strtol(env, &end, 10);
    if (*end == ':') {
        who = k;
        k = strtol(end + 1, &end, 10);
    }
    if (*end != '\0' || k < 0)
        die_msg("PROCPOOL_DIE_AFTER='%s': expected K or INDEX:K", env);
    return (who == -1 || who == worker_index) ? k : -1;
}

int main(int argc, char *argv[])
{
    prog_init("procpool/worker", "worker", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":i:r:vh")) != -1) {
        switch (c) {
        case 'i': worker_index = parse_number("-i", optarg, 0, 9999); break;
        case 'r': results_fd = (int)parse_number("-r", optarg, 1, 1 << 20); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if (worker_index >= 0)
        set_role("worker%ld", worker_index);
    if (results_fd != -1) {
        int flags = fcntl(results_fd, F_GETFL);
        if (flags == -1)
            die("-r %d", results_fd);
        if ((flags & O_ACCMODE) == O_RDONLY)
            die_msg("-r %d: fd %d is not open for writing", results_fd, results_fd);
    }
    long fatal_task = die_after();

    /* A pool that is gone must be reported, not a silent death by SIGPIPE:
     * ignored, a write to the results pipe fails with EPIPE instead. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    catch_stop_signals();
    crc_init();

    say("ready: waiting for task codes on stdin");
    send_result(RESULT_READY, 0, 0);
    unsigned long bad = 0;
    for (;;) {
        uint32_t code;
        /* A pipe is a byte stream: read_full() gathers the 4 bytes even if they
         * arrive in pieces; fewer than 4 means end of file came first. */
        ssize_t n = read_full(STDIN_FILENO, &code, sizeof code);
        traced(n, "read(0, %zu)", sizeof code);
        if (n == -1 && stop_signal) {
            say("stopped by %s after %lu tasks", signal_name(stop_signal), ran_total);
            return 0;
        }
        if (n == -1)
            die("read from stdin");
        if (n == 0)
            break;
        if (n < (ssize_t)sizeof code) {
            say("truncated task code: %zd of %zu bytes, then end of file", n, sizeof code);
            bad++;
            continue;             /* the next read() returns 0 */
        }
        /* Never trust what comes out of a pipe: only codes in the table run. */
        if (code >= TASK_COUNT) {
            say("unknown task code %lu: skipped", (unsigned long)code);
            bad++;
            continue;
        }
        if (fatal_task >= 0 && (long)ran_total >= fatal_task) {
            say("test aid PROCPOOL_DIE_AFTER: killing myself with SIGKILL after %lu tasks",
                ran_total);
            raise(SIGKILL);
        }
        uint32_t value = run_task(code);
        send_result(RESULT_DONE, code, value);
    }
    const char *who = results_fd != -1 ? "the pool closed its write end"
                                       : "every writer closed the pipe";
    say("read() returned 0: end of file, %s; ran %lu task%s, exiting", who, ran_total,
        ran_total == 1 ? "" : "s");
    if (bad > 0) {
        say("%lu bad task code%s received", bad, bad == 1 ? "" : "s");
        return 1;
    }
    return 0;
}
