/* shm/writer - puts messages into the shared memory segment of shm/reader.
 *
 * The lesson: the writer finds the segment by the same key (ftok() on the same
 * file, with the same project id), asks for it as it is (shmget(key, 0, 0): the
 * reader made it), maps it (shmat) and writes each message straight into a
 * slot: the reader sees those bytes in its own address space, no system call
 * carries them.  Before it fills a slot it takes a credit from the "free" FIFO,
 * after it writes 'F' on the "filled" FIFO (shm.h): without the credit it would
 * overwrite messages the reader has not read yet.  -u does exactly that.
 *
 * Observe: -v; ipcs -m during -d 1000 (nattch 2); -u -n 20000 and what the
 * reader counts.  Partner: shm/reader, started first.
 *
 * Usage: shm/writer [-n COUNT] [-d MS] [-v] [-u] [MESSAGE...]
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: shm/writer [-n COUNT] [-d MS] [-v] [-u] [MESSAGE...]\n"
    "Write messages into the segment of a running shm/reader: each MESSAGE, or\n"
    "each line of standard input, or COUNT generated messages.  One that does not\n"
    "fit a slot (or a line longer than 4095 bytes) is skipped, and the exit status is 1.\n"
    "  -n COUNT  send COUNT generated messages the reader can verify\n"
    "  -d MS     pause MS milliseconds before each message (default 0)\n"
    "  -u        unsynchronised: do not wait for free slots (the race, on purpose)\n"
    "  -v        trace every system call on the segment and the FIFOs, on stderr\n"
    "  -h        show this help\n";

static long count = -1, delay;
static bool unsync;
static int shmid = -1, filled_fd = -1, free_fd = -1;
static struct shm_header *seg;
static unsigned slots;            /* the header's geometry, checked and kept here */
static size_t slot_size;
static uint64_t sent, skipped;

static void options(int argc, char *argv[]), check_segment(void), cleanup(void);
static void require_fifo(int fd, const char *path), send_all(int argc, char *argv[]);
static noreturn void stopped_or_failed(const char *call);

/* O_NONBLOCK: with no reader, open() fails at once (ENXIO) instead of waiting
 * for one that may never come -- a reader killed by kill -9.  The reader waits
 * in its open() of "filled"; then ours of "free" waits for its second one. */
static void open_fifos(void)
{
    char filled[PATH_MAX], free_path[PATH_MAX];
    ipc_path(filled, sizeof filled, FILLED_FIFO);
    ipc_path(free_path, sizeof free_path, FREE_FIFO);
    filled_fd = (int)traced(open(filled, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW),
                            "open(\"%s\", O_WRONLY|O_NONBLOCK|O_CLOEXEC|O_NOFOLLOW)", filled);
    if (filled_fd == -1 && errno == ENXIO)
        die_msg("%s: no reader has it open: the segment is a leftover of a killed "
                "shm/reader (run shm/reader again, it replaces it)", filled);
    if (filled_fd == -1)
        die("open %s (start shm/reader first)", filled);
    require_fifo(filled_fd, filled);
    /* Blocking from now on: a full FIFO makes write() wait, not fail. */
    if (traced(fcntl(filled_fd, F_SETFL, 0), "fcntl(%d, F_SETFL, 0)", filled_fd) == -1)
        die("fcntl %s", filled);
    free_fd = (int)traced(open(free_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW),
                          "open(\"%s\", O_RDONLY|O_CLOEXEC|O_NOFOLLOW)", free_path);
    if (free_fd == -1)
        stopped_or_failed("open");
    require_fifo(free_fd, free_path);
    say("connected: \"filled\" FIFO fd %d, \"free\" FIFO fd %d", filled_fd, free_fd);
}

/* V(): one byte on "filled": one more slot for the reader (or 'E': the end).
 * It can wait only when -u filled the FIFO: a stop signal ends that (EINTR). */
static void send_token(char token)
{
    if (stop_signal || traced(write(filled_fd, &token, 1), "write(%d, \"%c\", 1)", filled_fd,
                              token) == -1)
        stopped_or_failed("write");
}

static void send_message(const char *text, size_t len)
{
    if (len > slot_size) {
        skipped++;
        warn_msg("message of %zu bytes does not fit a slot of %zu bytes, skipped (start "
                 "shm/reader with -s %zu)", len, slot_size, len);
        return;
    }
    delay_ms(delay);
    /* P(): read() of one byte takes a credit, a free slot, and sleeps while there
     * is none.  -u takes only the first, the reader's hand-over, and then
     * overwrites whatever is there: the race. */
    if (!unsync || sent == 0) {
        char credit;
        ssize_t n = stop_signal ? -1 : read_full(free_fd, &credit, 1);
        if (n != 1)
            stopped_or_failed(n == 0 ? NULL : "read");
        if (credit != 'C')
            die_msg("the reader broke the protocol: byte 0x%02x on the \"free\" FIFO",
                    (unsigned char)credit);
    }
    struct shm_slot *s = slot_of(seg, slots, slot_size, sent);
    /* Number 0 while the text changes, so that a racing reader can tell. */
    atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memcpy(s->text, text, len);   /* the whole send: a copy into shared memory */
    atomic_store_explicit(&s->len, len, memory_order_relaxed);
    atomic_store_explicit(&s->seq, sent + 1, memory_order_release);
    send_token('F');
    sent++;
    if (count >= 0)
        return;                   /* -n: one summary line, not one per message */
    char shown[4 * 200 + 1];
    size_t taken = escape_text(shown, sizeof shown, text, len);
    say("wrote message %llu into slot %llu: %s%s", (unsigned long long)sent,
        (unsigned long long)((sent - 1) % slots), shown, taken < len ? "..." : "");
}

int main(int argc, char *argv[])
{
    options(argc, argv);
    stop_cleanly(cleanup);        /* shm/check.c */
    const char *keyfile = ipc_keyfile();
    key_t key = (key_t)traced(ftok(keyfile, KEY_SHM), "ftok(\"%s\", '%c')", keyfile, KEY_SHM);
    if (key == -1)
        die("ftok %s", keyfile);
    say("key 0x%08x, from the file %s and the project id '%c'", (unsigned)key, keyfile, KEY_SHM);
    /* Size 0, no flags: the segment as it is -- the reader made it. */
    shmid = (int)traced(shmget(key, 0, 0), "shmget(0x%08x, 0, 0)", (unsigned)key);
    if (shmid == -1 && errno == ENOENT)
        die_msg("no shared memory segment for key 0x%08x (start shm/reader first)",
                (unsigned)key);
    if (shmid == -1)
        die("shmget key 0x%08x", (unsigned)key);
    void *at = traced_ptr(shmat(shmid, NULL, 0), "shmat(%d, NULL, 0)", shmid);
    if (at == (void *)-1)
        die("shmat %d", shmid);
    seg = at;
    check_segment();              /* below: its header, its size, one writer */
    say("attached the segment shmid %d at %p: %u slot%s of %zu bytes", shmid, (void *)seg,
        slots, slots == 1 ? "" : "s", slot_size);
    atomic_store(&seg->flags, unsync ? SHM_UNSYNC : 0);
    atomic_store(&seg->generated, (unsigned)(count + 1));     /* -n COUNT + 1, or 0 */
    open_fifos();
    send_all(argc, argv);
    /* Detach first, so that the reader sees shm_nattch drop; then the end. */
    seg = NULL;
    if (traced(shmdt(at), "shmdt(%p)", at) == -1)
        die("shmdt");
    say("detached the segment (shmdt)");
    /* The end token, then every credit back: a read of more than the reader can
     * owe ends at end of file, once it has closed its side (-u kept its first). */
    char back[SHM_MAX_SLOTS + 1];
    send_token('E');
    ssize_t n = read_full(free_fd, back, sizeof back);
    if (n == -1)
        stopped_or_failed("read");
    if ((size_t)n + (unsync && sent > 0) != slots)
        die_msg("the reader is gone (it closed before giving back every slot) after %llu "
                "messages", (unsigned long long)sent);
    say(unsync ? "told the reader I am done; unsynchronised, I cannot know which of my %llu "
                 "messages it read whole" : "told the reader I am done; it took all %llu "
                 "messages", (unsigned long long)sent);
    if (skipped > 0)
        die_msg("%llu message(s) skipped", (unsigned long long)skipped);
    return 0;
}

/* ---- what makes it robust (not the lesson) ---- */

static void options(int argc, char *argv[])
{
    prog_init("shm/writer", "writer", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":n:d:uvh")) != -1) {
        switch (c) {
        case 'n': count = parse_number("-n", optarg, 0, GEN_MAX_COUNT); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'u': unsync = true; break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (count >= 0 && optind < argc)
        usage_error("-n generates the messages: no MESSAGE operands with it");
}

/* Nothing in the segment is trusted: its header must describe a ring that fits
 * in the size the kernel gives.  And one writer at a time: attached are the
 * reader and I, nobody else. */
static void check_segment(void)
{
    struct shmid_ds ds;
    if (traced(shmctl(shmid, IPC_STAT, &ds), "shmctl(%d, IPC_STAT)", shmid) == -1)
        die("shmctl %d IPC_STAT", shmid);
    if (ds.shm_segsz < sizeof *seg || seg->magic != SHM_MAGIC)
        die_msg("the segment shmid %d is not a ring: no ring header (wrong magic number)",
                shmid);
    slots = seg->slots;           /* read once, then checked */
    slot_size = seg->slot_size;
    if (slots < 1 || slots > SHM_MAX_SLOTS || slot_size < 1 || slot_size > SHM_MAX_SLOT_SIZE ||
        segment_size(slots, slot_size) > ds.shm_segsz)
        die_msg("the segment shmid %d is not a ring: its header describes a ring that does "
                "not fit in it", shmid);
    if (ds.shm_nattch > 2)
        die_msg("another shm/writer is already writing into this segment (shm_nattch %lu)",
                (unsigned long)ds.shm_nattch);
    /* "message SEQ of COUNT " and 0 to 22 letters: SEQ no longer than COUNT. */
    size_t longest = 13 + 2 * (size_t)snprintf(NULL, 0, "%ld", count) + 22;
    if (count > 0 && slot_size < longest)
        die_msg("generated messages of -n %ld are at most %zu bytes long, the slots hold %zu "
                "(start shm/reader with -s %zu)", count, longest, slot_size, longest);
}

/* What opened at PATH must be a FIFO of ours, mode 0600, not a file put there. */
static void require_fifo(int fd, const char *path)
{
    struct stat st;
    if (traced(fstat(fd, &st), "fstat(%d)", fd) == -1)
        die("fstat %s", path);
    require_our_fifo(path, &st);
}

/* A line of standard input, without its newline. */
static void send_line(const char *line, size_t len, size_t dropped, void *arg)
{
    (void)arg;
    if (whole_line(len, dropped))
        send_message(line, len);
    else
        skipped++;
}

/* -n COUNT generated messages, or the MESSAGE operands, or each line of
 * standard input. */
static void send_all(int argc, char *argv[])
{
    char buf[GEN_MAX_LEN];
    for (long i = 1; i <= count; i++)
        send_message(buf, gen_message(buf, (uint64_t)i, (uint64_t)count));
    if (count >= 0)
        say("sent %ld generated messages", count);
    for (int i = optind; count < 0 && i < argc; i++)
        send_message(argv[i], strlen(argv[i]));
    if (count >= 0 || optind < argc)
        return;
    if (stdin_lines(send_line, NULL) == -1)   /* a stop signal's EINTR, or an error */
        stopped_or_failed("read standard input");
}

/* atexit: the writer made nothing; it lets go of what it holds. */
static void cleanup(void)
{
    int *fds[] = { &filled_fd, &free_fd };
    for (int i = 0; i < 2; *fds[i++] = -1)
        if (*fds[i] != -1 && traced(close(*fds[i]), "close(%d)", *fds[i]) == -1)
            warn_sys("close");
    void *at = seg;
    seg = NULL;
    if (at != NULL && traced(shmdt(at), "shmdt(%p)", at) == -1)
        warn_sys("shmdt");
}

/* CALL failed (NULL: end of file): a stop signal, the reader gone, an error. */
static noreturn void stopped_or_failed(const char *call)
{
    if (stop_signal)
        die_msg("caught %s after %llu messages: stopping", signal_name(stop_signal),
                (unsigned long long)sent);
    if (call == NULL || errno == EPIPE)
        die_msg("the reader is gone (it closed its FIFO) after %llu messages",
                (unsigned long long)sent);
    die("%s", call);
}
