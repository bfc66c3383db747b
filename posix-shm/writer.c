/* posix-shm/writer - puts messages into the shared memory object of
 * posix-shm/reader.
 *
 * The lesson: the writer opens the object by the same name (shm_open without
 * O_CREAT), learns its size from fstat() -- it is a file -- and maps it with
 * mmap(MAP_SHARED): the reader's bytes, in our address space.  Before filling a
 * slot it takes "free" (sem_wait: a slot the reader has finished with), after
 * filling it it posts "filled" (sem_post): without them it would overwrite
 * messages the reader has not read yet.  When it is done it takes every slot
 * back: then the reader has read everything.  It created nothing, so it
 * removes nothing: munmap() lets go of its mapping.
 *
 * Observe: -v, -d 1000 beside ls -l /dev/shm.  Partner: posix-shm/reader.
 *
 * Usage: posix-shm/writer [-n COUNT] [-d MS] [-v] [-f] [MESSAGE...]
 */
#include "../common/common.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: posix-shm/writer [-n COUNT] [-d MS] [-v] [-f] [MESSAGE...]\n"
    "Writes messages into the shared memory object of a running posix-shm/reader:\n"
    "each MESSAGE, or each line of standard input, or COUNT generated messages.\n"
    "  -n COUNT  send COUNT generated messages the reader checks byte for byte\n"
    "  -d MS     pause MS milliseconds before each message (default 0)\n"
    "  -v        trace every call on stderr: the system calls, and the sem_*\n"
    "            calls too, which are library calls (a futex system call only\n"
    "            when a process has to sleep or be woken)\n"
    "  -f        print the open fds and the object's mapping after mmap()\n"
    "  -h        show this help\n";

static char name[NAME_MAX];
static struct ring *ring;         /* the mapping; NULL when there is none */
static size_t size;
static unsigned slots;            /* checked, then kept: never read back */
static struct owner reader;       /* the reader's record: pid and start time */
static long count = -1, delay;
static uint64_t sent, skipped;
static bool show_fds;

static void options(int argc, char *argv[]);
static void check_object(const struct stat *st);
static void claim(void);
static void send_message(const char *text, size_t len);
static void send_stdin(void);
static void finish(void);
static void stop_cleanly(void);
static noreturn void stopped_or_gone(void);

int main(int argc, char *argv[])
{
    prog_init("posix-shm/writer", "writer", usage);
    options(argc, argv);
    posix_name(name, sizeof name, "ring");
    stop_cleanly();
    /* The reader made it: open it by its name, without O_CREAT. */
    int fd = (int)traced(shm_open(name, O_RDWR, 0), "shm_open(\"%s\", O_RDWR, 0)", name);
    if (fd == -1 && errno == ENOENT)
        die_msg("no shared memory object %s (start posix-shm/reader first)", name);
    if (fd == -1)
        die("shm_open %s", name);
    /* It is a file: fstat() says how big the reader made it. */
    struct stat st;
    if (traced(fstat(fd, &st), "fstat(%d)", fd) == -1)
        die("fstat %s", name);
    check_object(&st);
    size = (size_t)st.st_size;
    ring = traced_ptr(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                      "mmap(NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)", size, fd);
    if (ring == MAP_FAILED) {
        ring = NULL;
        die("mmap %s", name);
    }
    if (show_fds) {
        ring_print_mapping(name, "after mmap():");
        print_fds(0, "after mmap():");
    }
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close");
    claim();
    say("opened %s (%zu bytes: %u slot%s) and mapped it at %p; the reader is pid %ld",
        name, size, slots, slots == 1 ? "" : "s", (void *)ring, (long)reader.pid);
    if (count >= 0)
        for (long i = 1; i <= count; i++) {
            char text[RING_MESSAGE_MAX];
            send_message(text, ring_message(text, (uint64_t)i, (uint64_t)count));
        }
    else if (optind < argc)
        for (int i = optind; i < argc; i++)
            send_message(argv[i], strlen(argv[i]));
    else
        send_stdin();
    finish();
    return skipped > 0 ? 1 : 0;
}

static bool reader_gone(void);

/* P(free): a slot the reader has finished with.  With a deadline, so that a
 * reader killed by SIGKILL (it would never post again) is noticed. */
static void take_free(void)
{
    for (;;) {
        struct timespec until = ring_deadline();
        if (traced(sem_timedwait(&ring->free, &until), "sem_timedwait(&ring->free, +%d ms)",
                   RING_WAIT_MS) == 0)
            return;
        if (stop_signal || (errno == ETIMEDOUT && reader_gone()))
            stopped_or_gone();
        if (errno != ETIMEDOUT && errno != EINTR)
            die("sem_timedwait");
    }
}

/* Fill the next slot with LEN bytes as message SEQ (0: the end), then V(filled). */
static void fill(uint64_t seq, const char *text, size_t len)
{
    take_free();
    struct ring_slot *s = &ring->slot[sent % slots];
    memcpy(s->data, text, len);
    s->len = len;
    s->seq = seq;
    /* sem_post() also orders our stores: the reader, once its sem_wait()
     * returns, sees the whole slot. */
    if (traced(sem_post(&ring->filled), "sem_post(&ring->filled)") == -1)
        die("sem_post");
}

static void send_message(const char *text, size_t len)
{
    if (len > RING_SLOT_SIZE) {
        skipped++;
        errno = EMSGSIZE;
        warn_sys("a message of %zu bytes does not fit a slot of %d bytes, skipped", len,
                 RING_SLOT_SIZE);
        return;
    }
    delay_ms(delay);
    if (stop_signal)
        stopped_or_gone();
    fill(sent + 1, text, len);
    sent++;
    if (count >= 0)
        return;                   /* -n: one line at the end, not one per message */
    char shown[4 * 200 + 1];
    escape_text(shown, sizeof shown, text, len > 200 ? 200 : len);
    say("wrote message %llu into slot %llu: %s%s", (unsigned long long)sent,
        (unsigned long long)((sent - 1) % slots), shown, len > 200 ? "..." : "");
}

/* The end: a slot with sequence number 0.  Then every slot back: once we hold
 * all SLOTS "free" credits, the reader has read every slot, the end too. */
static void finish(void)
{
    fill(0, "", 0);
    for (unsigned i = 0; i < slots; i++)
        take_free();
    void *at = ring;
    ring = NULL;
    if (traced(munmap(at, size), "munmap(%p, %zu)", at, size) == -1)
        die("munmap");
    say("the reader took all %llu messages; unmapped the object", (unsigned long long)sent);
}

/* ---- what makes it robust (not the lesson) ---- */

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
    static struct lines lines;
    char buf[4096];
    ssize_t n;
    while ((n = traced(read(STDIN_FILENO, buf, sizeof buf), "read(0, %zu)", sizeof buf)) != 0) {
        if (n > 0)
            lines_feed(&lines, buf, (size_t)n, send_line, NULL);
        else if (stop_signal)
            stopped_or_gone();
        else if (errno != EINTR)
            die("read standard input");
    }
    lines_end(&lines, send_line, NULL);
}

/* Nothing in the object is trusted: it must be a ring of the reader on
 * record, whose size says the number of slots it claims. */
static void check_object(const struct stat *st)
{
    int r = owner_read(RING_RECORD, &reader);
    if (r != 1 || reader.id != (long)st->st_ino || !owner_running(&reader))
        die_msg("%s is not the object of a running posix-shm/reader: a leftover of a killed "
                "one? (run posix-shm/reader again: it removes it)", name);
    if ((size_t)st->st_size < sizeof(struct ring))
        die_msg("%s is too small for a ring (%lld bytes): is the reader still starting?", name,
                (long long)st->st_size);
}

/* The header, once mapped; then the writer's place in it. */
static void claim(void)
{
    slots = ring->slots;
    if (atomic_load(&ring->magic) != RING_MAGIC || slots < 1 || slots > RING_MAX_SLOTS ||
        ring_size(slots) != size)
        die_msg("%s is not a ring of posix-shm/reader (magic, slot count or size)", name);
    int32_t nobody = 0;
    if (!atomic_compare_exchange_strong(&ring->writer, &nobody, (int32_t)getpid()))
        die_msg("another posix-shm/writer (pid %ld) is already writing into %s",
                (long)nobody, name);
    ring->writer_start = process_start_time(getpid());
    ring->generated = count >= 0 ? (uint64_t)count + 1 : 0;
}

static bool reader_gone(void)
{
    return !owner_running(&reader);
}

static noreturn void stopped_or_gone(void)
{
    if (stop_signal == SIGPIPE)
        die_msg("standard output is gone (a closed pipe?) after %llu messages: stopping",
                (unsigned long long)sent);
    if (stop_signal)
        die_msg("caught %s after %llu messages: stopping", signal_name(stop_signal),
                (unsigned long long)sent);
    die_msg("the reader (pid %ld) is gone after %llu messages", (long)reader.pid,
            (unsigned long long)sent);
}

/* The writer created nothing: it only lets go of its mapping. */
static void let_go(void)
{
    if (ring != NULL && traced(munmap(ring, size), "munmap(%p, %zu)", (void *)ring, size) == -1)
        warn_sys("munmap");
    ring = NULL;
}

static void stop_cleanly(void)
{
    catch_stop_signals();
    ring_catch_sigpipe();
    if (atexit(let_go) != 0)
        die_msg("atexit failed");
}

static void options(int argc, char *argv[])
{
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":n:d:vfh")) != -1) {
        switch (c) {
        case 'n': count = parse_number("-n", optarg, 0, 999999999); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (count >= 0 && optind < argc)
        usage_error("-n generates the messages: no MESSAGE operands with it");
}
