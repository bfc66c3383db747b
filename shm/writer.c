/* shm/writer - puts messages into the shared memory segment of shm/reader.
 *
 * The lesson: the writer finds the segment by the same key (ftok on the same
 * file, same project id), attaches it, and writes each message straight into a
 * slot of the segment: the reader sees those bytes in its own address space.
 * Before reusing a slot it waits for a credit on the "free" FIFO, and after
 * filling one it announces it on the "filled" FIFO: without that, it would
 * overwrite messages the reader has not read yet.  -u shows exactly that.
 */
#include "../common/common.h"
#include "gen.h"
#include "ring.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: shm/writer [-n COUNT] [-d MS] [-v] [-u] [MESSAGE...]\n"
    "Writes messages into the segment of a running shm/reader: each MESSAGE, or\n"
    "each line of standard input, or COUNT generated messages.\n"
    "  -n COUNT  send COUNT generated messages the reader can verify\n"
    "            (sequence number and checksum)\n"
    "  -d MS     pause MS milliseconds before each message (default 0)\n"
    "  -v        trace every system call on stderr\n"
    "  -u        unsynchronised: do not wait for free slots (the race, on purpose)\n"
    "  -h        show this help\n";

static struct ring ring = { .shmid = -1, .filled_fd = -1, .free_fd = -1 };
static long delay;
static uint64_t sent, skipped;
static bool quiet;               /* -n: one summary line instead of one per message */
static uint64_t forge_length_at, forge_seq_at;

/* Test aids (for tests/shm.bats): SHM_TEST_BAD_LENGTH=N publishes message N with
 * a slot header claiming more bytes than a slot holds, SHM_TEST_BAD_SEQ=N with a
 * wrong sequence number -- what a broken or hostile writer could do. */
static uint64_t test_aid(const char *name)
{
    const char *v = getenv(name);
    return v != NULL ? strtoull(v, NULL, 10) : 0;
}

/* The writer creates nothing; it only lets go of what it holds. */
static void cleanup(void)
{
    (void)ring_close(&ring);
    (void)ring_detach(&ring);
}

static noreturn void stopped_or_failed(void)
{
    if (errno == EINTR)
        die_msg("caught %s after %llu messages: stopping", signal_name(stop_signal),
                (unsigned long long)sent);
    const char *why = ring.problem != NULL ? ring.problem : strerror(errno);
    if (errno == EPIPE)
        die_msg("the reader is gone (%s) after %llu messages", why, (unsigned long long)sent);
    if (errno == EPROTO)
        die_msg("the reader broke the protocol: %s", why);
    die("send");
}

/* A stop signal interrupts a blocked read() or write(); between them, look. */
static void stop_if_asked(void)
{
    if (stop_signal) {
        errno = EINTR;
        stopped_or_failed();
    }
}

static void send_message(const char *text, size_t len)
{
    if (len > ring.slot_size) {
        skipped++;
        errno = EMSGSIZE;
        warn_sys("message of %zu bytes does not fit a slot of %zu bytes, skipped "
                 "(start shm/reader with -s %zu)", len, ring.slot_size, len);
        return;
    }
    stop_if_asked();
    delay_ms(delay);
    stop_if_asked();
    /* P(): wait for a free slot; then the copy into shared memory is the send. */
    unsigned char *slot = ring_claim(&ring);
    if (slot == NULL)
        stopped_or_failed();
    memcpy(slot, text, len);
    uint64_t n = ring.seq + 1;
    int rc;
    if (n == forge_length_at)
        rc = ring_publish_forged(&ring, n, (uint64_t)ring.slot_size + 1000000);
    else if (n == forge_seq_at)
        rc = ring_publish_forged(&ring, n + 1000, len);
    else
        rc = ring_publish(&ring, len);
    if (rc == -1)
        stopped_or_failed();
    sent++;
    if (!quiet) {
        char shown[4 * 200 + 1];
        escape_text(shown, sizeof shown, text, len > 200 ? 200 : len);
        say("wrote message %llu into slot %llu: %s%s", (unsigned long long)n,
            (unsigned long long)((n - 1) % ring.slots), shown, len > 200 ? "..." : "");
    }
}

static void send_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    if (dropped > 0) {
        skipped++;
        errno = EMSGSIZE;
        warn_sys("a line of %zu bytes is longer than %d, skipped", len + dropped,
                 LINE_LIMIT - 1);
        return;
    }
    send_message(line, len);
}

static void send_stdin(void)
{
    if (isatty(STDIN_FILENO))
        say("type one message per line; Ctrl-D ends");
    struct lines lines = { .used = 0 };
    char buf[4096];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1 && errno == EINTR && !stop_signal)
            continue;
        if (n == -1 && errno == EINTR)
            stopped_or_failed();
        if (n == -1)
            die("read standard input");
        if (n == 0)
            break;
        lines_feed(&lines, buf, (size_t)n, send_line, NULL);
    }
    lines_end(&lines, send_line, NULL);
}

static void send_generated(long count)
{
    for (long i = 1; i <= count; i++) {
        char text[GEN_MAX_LEN];
        size_t len = gen_message(text, (uint64_t)i, (uint64_t)count);
        send_message(text, len);
    }
    say("sent %ld generated messages", count);
}

static void attach_or_explain(key_t key)
{
    if (ring_attach(&ring, key) == 0)
        return;
    if (errno == ENOENT)
        die_msg("no shared memory segment for key 0x%08lx (start shm/reader first)",
                (unsigned long)key);
    if (errno == EPROTO)
        die_msg("the segment for key 0x%08lx (shmid %d) is not a ring: %s",
                (unsigned long)key, ring.shmid, ring.problem);
    die("attach the segment for key 0x%08lx", (unsigned long)key);
}

static void open_or_explain(const char *filled, const char *free_path, unsigned flags)
{
    if (ring_open_writer(&ring, filled, free_path, flags) == 0)
        return;
    if (errno == EBUSY)
        die_msg("another shm/writer is already writing into this segment");
    if (errno == ENXIO)
        die_msg("%s: no reader has it open: the segment is a leftover of a killed "
                "shm/reader (run shm/reader again, it replaces it)", filled);
    if (errno == ENOENT)
        die("%s (start shm/reader first)", filled);
    if (errno == EINTR)
        die_msg("caught %s while connecting", signal_name(stop_signal));
    if (errno == EINVAL)
        die_msg("%s: %s", filled, ring.problem);
    die("open the FIFOs");
}

int main(int argc, char *argv[])
{
    prog_init("shm/writer", "writer", usage);
    long count = -1;
    bool unsync = false;
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":n:d:vuh")) != -1) {
        switch (c) {
        case 'n': count = parse_number("-n", optarg, 0, GEN_MAX_COUNT); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'u': unsync = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (count >= 0 && optind < argc)
        usage_error("-n generates the messages: no MESSAGE operands with it");
    quiet = count >= 0;
    forge_length_at = test_aid("SHM_TEST_BAD_LENGTH");
    forge_seq_at = test_aid("SHM_TEST_BAD_SEQ");

    /* A reader that vanishes makes write() fail with EPIPE: we say so and exit 1
     * instead of dying silently of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    catch_stop_signals();
    atexit(cleanup);

    char keyfile[PATH_MAX], filled[PATH_MAX], free_path[PATH_MAX];
    key_t key = ipc_key(KEY_SHM);
    say("ftok(\"%s\", '%c') = key 0x%08lx", ipc_path(keyfile, sizeof keyfile, "key"),
        KEY_SHM, (unsigned long)key);
    attach_or_explain(key);
    say("shmget(key 0x%08lx, 0, 0) = shmid %d; shmat(%d) = %p: %u slot%s of %zu bytes",
        (unsigned long)key, ring.shmid, ring.shmid, (void *)ring.hdr, ring.slots,
        ring.slots == 1 ? "" : "s", ring.slot_size);
    if (count > 0 && ring.slot_size < GEN_MAX_LEN)
        die_msg("generated messages need up to %d bytes, the slots hold %zu "
                "(start shm/reader with -s %d)", GEN_MAX_LEN, ring.slot_size, GEN_MAX_LEN);

    unsigned flags = (unsync ? RING_UNSYNC : 0) | (count >= 0 ? SHM_GENERATED : 0);
    open_or_explain(ipc_path(filled, sizeof filled, "shm-filled"),
                    ipc_path(free_path, sizeof free_path, "shm-free"), flags);
    /* Claim the first slot now: this waits until the reader hands over the ring
     * (its first credits), so it has seen us attached before we write anything. */
    if (ring_claim(&ring) == NULL)
        stopped_or_failed();
    say("connected: the reader handed over the ring, %u free slot%s", ring.slots,
        ring.slots == 1 ? "" : "s");
    if (unsync)
        say("unsynchronised (-u): I will not wait for free slots, so I may overwrite "
            "messages the reader has not read yet");

    if (count >= 0)
        send_generated(count);
    else if (optind < argc)
        for (int i = optind; i < argc; i++)
            send_message(argv[i], strlen(argv[i]));
    else
        send_stdin();

    /* Every message is in the segment: detach first (so the reader sees
     * shm_nattch drop), then send the end token and wait for the reader to
     * give back every slot. */
    void *where = ring.hdr;
    if (ring_detach(&ring) == -1)
        die("shmdt");
    say("shmdt(%p): detached", where);
    if (ring_finish(&ring) == -1)
        stopped_or_failed();
    if (unsync)
        say("told the reader I am done; unsynchronised, I cannot tell which of my %llu "
            "messages it read whole", (unsigned long long)sent);
    else
        say("told the reader I am done; it took all %llu messages", (unsigned long long)sent);
    if (ring_close(&ring) == -1)
        die("close");
    if (skipped > 0)
        die_msg("%llu message(s) skipped", (unsigned long long)skipped);
    return 0;
}
