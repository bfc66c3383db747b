/* posix-shm/writer - puts messages into the shared memory object of
 * posix-shm/reader.
 *
 * The lesson: the writer opens the object by its name (shm_open without
 * O_CREAT), learns its size from fstat() -- it is a file -- and maps it with
 * mmap(MAP_SHARED).  Before it fills a slot it takes "free" (sem_wait), after
 * it posts "filled" (sem_post): else it would overwrite messages not read yet.
 * At the end it takes every slot back: the reader has read everything.  It
 * created nothing, so it removes nothing; munmap() lets go of its mapping.
 * Observe: -v; -d 1000 beside ls -l /dev/shm.  Partner: posix-shm/reader.
 * Usage: posix-shm/writer [-n COUNT] [-d MS] [-v] [MESSAGE...]
 */
#include "../common/common.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: posix-shm/writer [-n COUNT] [-d MS] [-v] [MESSAGE...]\n"
    "Writes each MESSAGE, or each line of standard input, or COUNT generated\n"
    "messages into the shared memory object of a running posix-shm/reader.\n"
    "  -n COUNT  send COUNT generated messages the reader checks byte for byte\n"
    "  -d MS     pause MS milliseconds before each message (default 0)\n"
    "  -v        trace every system call on stderr, and the sem_* calls, which\n"
    "            are not system calls (only a futex() when one has to sleep)\n"
    "  -h        show this help\n";

static char name[NAME_MAX];
static struct ring *ring;
static size_t size;
static unsigned slots;            /* checked, then kept: never read back */
static struct owner reader;       /* the reader's record: pid and start time */
static long count = -1, delay;
static uint64_t sent, skipped;

static void options(int argc, char *argv[]);
static void check_object(const struct stat *st), claim(void), send_stdin(void);
static void send_message(const char *text, size_t len);
static void fill(uint64_t seq, const char *text, size_t len), take_free(void);
static noreturn void stopped_or_gone(void);

int main(int argc, char *argv[])
{
    prog_init("posix-shm/writer", "writer", usage);
    options(argc, argv);
    posix_name(name, sizeof name, "ring");
    catch_stop_signals();
    ring_catch_sigpipe();
    /* The reader made it: open it by its name, without O_CREAT. */
    int fd = (int)traced(shm_open(name, O_RDWR, 0), "shm_open(\"%s\", O_RDWR, 0)", name);
    if (fd == -1 && errno == ENOENT)
        die_msg("no shared memory object %s (start posix-shm/reader first)", name);
    struct stat st;               /* a file: fstat() says how big the reader made it */
    if (fd == -1 || traced(fstat(fd, &st), "fstat(%d)", fd) == -1)
        die("shm_open %s", name);
    check_object(&st);
    size = (size_t)st.st_size;
    ring = traced_ptr(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                      "mmap(NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)", size, fd);
    if (ring == MAP_FAILED)
        die("mmap %s", name);
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close");
    claim();
    say("opened %s (%zu bytes: %u slot%s) and mapped it at %p; the reader is pid %ld",
        name, size, slots, slots == 1 ? "" : "s", (void *)ring, (long)reader.pid);
    char text[RING_MESSAGE_MAX];
    for (long i = 1; i <= count; i++)
        send_message(text, ring_message(text, (uint64_t)i, (uint64_t)count));
    for (int i = optind; count < 0 && i < argc; i++)
        send_message(argv[i], strlen(argv[i]));
    if (count < 0 && optind == argc)
        send_stdin();

    fill(0, "", 0);               /* the end: sequence number 0 */
    /* Every slot back (SLOTS "free"s): the reader has read them all, the end too. */
    for (unsigned i = 0; i < slots; i++)
        take_free();
    if (traced(munmap(ring, size), "munmap(%p, %zu)", (void *)ring, size) == -1)
        die("munmap");
    say("the reader took all %llu messages; unmapped the object", (unsigned long long)sent);
    return skipped > 0 ? 1 : 0;
}

/* P(free), with a deadline: a reader killed by SIGKILL never posts again. */
static void take_free(void)
{
    for (;;) {
        struct timespec until = deadline_in(RING_WAIT_MS);
        if (traced(sem_timedwait(&ring->free, &until), "sem_timedwait(&ring->free, +%d ms)",
                   RING_WAIT_MS) == 0)
            return;
        if (!stop_signal && errno == ETIMEDOUT && !owner_running(&reader) &&
            traced(sem_trywait(&ring->free), "sem_trywait(&ring->free)") == 0)
            return;               /* freed before it went (while we were stopped) */
        if (stop_signal || (errno != EINTR && !owner_running(&reader)))
            stopped_or_gone();
        if (errno != ETIMEDOUT && errno != EINTR)
            die("sem_timedwait");
    }
}

/* Fill the next slot with message SEQ, then V(filled). */
static void fill(uint64_t seq, const char *text, size_t len)
{
    take_free();
    struct ring_slot *s = &ring->slot[sent % slots];
    memcpy(s->data, text, len);
    s->len = len;
    s->seq = seq;
    /* sem_post() orders our stores too: once the reader's sem_wait() returns,
     * it sees the whole slot. */
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
        return;                   /* -n: no line per message */
    char shown[4 * 200 + 1];
    escape_text(shown, sizeof shown, text, len > 200 ? 200 : len);
    say("wrote message %llu into slot %llu: %s%s", (unsigned long long)sent,
            (unsigned long long)((sent - 1) % slots), shown, len > 200 ? "..." : "");
}

/* ---- what makes it robust (not the lesson) ---- */

/* Each line a message, without its newline. */
static void send_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    if (whole_line(len, dropped))
        send_message(line, len);
    else
        skipped++;
}

static void send_stdin(void)
{
    if (stdin_lines(send_line, NULL) == 0)
        return;
    if (stop_signal)
        stopped_or_gone();
    die("read standard input");
}

/* The object must be the one of a reader on record, still running (its
 * record names the object's inode), big enough for a header. */
static void check_object(const struct stat *st)
{
    if (owner_read(RING_RECORD, &reader) != 1 || reader.id != (long)st->st_ino ||
        !owner_running(&reader))
        die_msg("%s is not the object of a running posix-shm/reader: a leftover of a killed "
                "one? (run posix-shm/reader again: it removes it)", name);
    if ((size_t)st->st_size < sizeof(struct ring))
        die_msg("%s has %lld bytes, too few for a ring: is the reader still starting?", name,
                (long long)st->st_size);
}

/* Nothing in the header is trusted; then the writer's place in it: one
 * writer at a time, and the reader knows whom to watch. */
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

static noreturn void stopped_or_gone(void)
{
    if (stop_signal)              /* SIGPIPE too: standard output gone */
        die_msg("caught %s after %llu messages: stopping", signal_name(stop_signal),
                (unsigned long long)sent);
    die_msg("the reader (pid %ld) is gone after %llu messages", (long)reader.pid,
            (unsigned long long)sent);
}

static void options(int argc, char *argv[])
{
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":n:d:vh")) != -1) {
        switch (c) {
        case 'n': count = parse_number("-n", optarg, 0, 999999999); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (count >= 0 && optind < argc)
        usage_error("-n generates the messages: no MESSAGE operands with it");
}
