/* posix-shm/reader - creates a POSIX shared memory object and prints what
 * posix-shm/writer puts in it.
 *
 * The lesson: shm_open() creates a shared memory object by NAME: a file in
 * /dev/shm (a tmpfs), memory with a file's name and permissions.  It starts
 * empty; ftruncate() sizes it, mmap(MAP_SHARED) maps it, and from then on a
 * message is read from memory.  The ring's two semaphores live in the object
 * itself (sem_init with pshared 1); sem_wait() and sem_post() make no system
 * call unless a process has to sleep or be woken.  The object outlives its
 * processes, so the reader, its creator, shm_unlink()s it on every exit it
 * can catch.
 *
 * Observe: ls -l /dev/shm while it waits; -v; -f.  Partner: posix-shm/writer.
 * What a killed reader leaves: posix-shm/leftover.c.
 *
 * Usage: posix-shm/reader [-S SLOTS] [-v] [-f] [--cleanup]
 */
#include "../common/common.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: posix-shm/reader [-S SLOTS] [-v] [-f] [--cleanup]\n"
    "Creates a shared memory object and prints what posix-shm/writer puts in it.\n"
    "  -S SLOTS   slots in the ring (default 8; 1 is the lock-step version)\n"
    "  -v         trace every system call on stderr, and the sem_* calls, which\n"
    "             are not system calls (only a futex() when one has to sleep)\n"
    "  -f         print the open fds and the object's mapping at the key moments\n"
    "  --cleanup  remove an object (and record) a killed reader left, then exit\n"
    "  -h         show this help\n";

enum { SHOW_MAX = 1000 };         /* bytes of a message shown on one line */

static char name[NAME_MAX];       /* "/ipc-demos-DEV-INO-ring" */
static unsigned slots = 8;        /* our own copy: never read back from the object */
static size_t size;
static struct ring *ring;         /* the mapping; NULL when there is none */
static bool created, show_fds;
static struct stat st;            /* the object's: the reader's record names its inode */
static uint64_t received, intact, corrupted, count;

static bool options(int argc, char *argv[]);
static int create_object(void);
static void receive_all(void), remove_object(void);

int main(int argc, char *argv[])
{
    prog_init("posix-shm/reader", "reader", usage);
    bool clean = options(argc, argv);
    posix_name(name, sizeof name, "ring");
    if (clean)
        return cleanup_leftover(name);
    int fd = create_object();
    size = ring_size(slots);
    /* A new object holds 0 bytes: ftruncate() sizes it, zero-filled. */
    if (traced(ftruncate(fd, (off_t)size), "ftruncate(%d, %zu)", fd, size) == -1)
        die("ftruncate %s", name);
    /* MAP_SHARED: our stores go to the object, where the writer sees them
     * (MAP_PRIVATE would give us a copy of our own at the first store). */
    ring = traced_ptr(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                      "mmap(NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)", size, fd);
    if (ring == MAP_FAILED)
        die("mmap %s", name);
    if (show_fds)
        ring_show_maps(name, "after mmap():");
    /* The mapping keeps the object: the fd is no longer needed. */
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close");
    say("sized it (%zu bytes), mapped it at %p, closed fd %d: the mapping stays", size,
        (void *)ring, fd);
    if (show_fds)
        ring_show_maps(name, "after close():");
    /* pshared 1: the semaphores are in memory several processes map, and work
     * across them (0: between the threads of one process only). */
    if (traced(sem_init(&ring->filled, 1, 0), "sem_init(&ring->filled, 1, 0)") == -1 ||
        traced(sem_init(&ring->free, 1, slots), "sem_init(&ring->free, 1, %u)", slots) == -1)
        die("sem_init");
    ring->slots = slots;
    atomic_store(&ring->magic, RING_MAGIC);      /* last: now a writer may use it */
    say("two semaphores in the object: \"filled\" = 0, nothing to read; \"free\" = %u, "
        "every slot of %d bytes", slots, RING_SLOT_SIZE);
    owner_write(RING_RECORD, (long)st.st_ino);    /* last: a writer looks for it */
    say("waiting for posix-shm/writer (sem_wait on \"filled\"); my pid is on record in "
        "%s/%s", ipc_dir(), RING_RECORD);
    receive_all();
    say("received %llu messages", (unsigned long long)received);
    uint64_t lost = count > intact ? count - intact : 0;
    if (ring->generated != 0)
        say("checked: %llu intact, %llu lost, %llu corrupted", (unsigned long long)intact,
            (unsigned long long)lost, (unsigned long long)corrupted);
    remove_object();
    if (lost > 0 || corrupted > 0)
        die_msg("the writer's messages did not all arrive intact");
    return 0;
}

static int create_object(void)
{
    catch_stop_signals();
    ring_catch_sigpipe();
    if (atexit(remove_object) != 0)       /* every exit: die(), a signal, the end */
        die_msg("atexit failed");
    for (int tries = 0;; tries++) {
        /* O_EXCL: a leftover is found (EEXIST) and judged, never silently
         * shared.  0600: the file's permissions are the object's. */
        int fd = (int)traced(shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600),
                             "shm_open(\"%s\", O_CREAT|O_EXCL|O_RDWR, 0600)", name);
        if (fd == -1 && (errno != EEXIST || tries == 2))
            die("shm_open %s", name);
        if (fd == -1) {
            (void)remove_leftover(name);
            continue;
        }
        created = true;
        if (traced(fstat(fd, &st), "fstat(%d)", fd) == -1)
            die("fstat %s", name);
        say("created the shared memory object %s: the file /dev/shm%s, mode 0600, fd %d",
            name, name, fd);
        return fd;
    }
}

/* P(filled).  sem_timedwait() is sem_wait() with a deadline: above 0 it takes
 * one at once; at 0 it sleeps (futex) until a sem_post() or the deadline, then
 * we look whether the writer (pid, start time in the header) still runs. */
static bool take_filled(void)
{
    while (!stop_signal) {
        struct timespec until = deadline_in(RING_WAIT_MS);
        if (traced(sem_timedwait(&ring->filled, &until), "sem_timedwait(&ring->filled, +%d ms)",
                   RING_WAIT_MS) == 0)
            return true;
        int32_t writer = atomic_load(&ring->writer);
        if (errno == ETIMEDOUT && writer > 0 && !ring_running(writer, ring->writer_start))
            /* Gone: no more posts; what it posted before (while we were stopped) stays. */
            return traced(sem_trywait(&ring->filled), "sem_trywait(&ring->filled)") == 0;
        if (errno != ETIMEDOUT && errno != EINTR)
            die("sem_timedwait");
    }
    return false;
}

static void check(const unsigned char *data, uint64_t seq, uint64_t len);

static void receive_all(void)
{
    while (take_filled()) {
        struct ring_slot *s = &ring->slot[received % slots];
        uint64_t seq = s->seq, len = s->len;     /* read once: not trusted */
        if (seq != 0 || len != 0) {
            received++;
            check(s->data, seq, len);
        }
        /* V(free): the slot is the writer's again. */
        if (traced(sem_post(&ring->free), "sem_post(&ring->free)") == -1)
            die("sem_post");
        if (seq == 0 && len == 0)
            return;                               /* the end: the writer is done */
    }
    if (stop_signal == SIGPIPE)
        die_msg("standard output is gone (a closed pipe?) after %llu messages: removing %s",
                (unsigned long long)received, name);
    if (stop_signal) {            /* remove_object() runs at exit */
        say("caught %s after %llu messages: removing %s", signal_name(stop_signal),
            (unsigned long long)received, name);
        exit(0);
    }
    die_msg("the writer (pid %ld) is gone after %llu messages: removing %s",
            (long)atomic_load(&ring->writer), (unsigned long long)received, name);
}

static void remove_object(void)
{
    if (ring != NULL && ring != MAP_FAILED) {
        void *at = ring;
        ring = NULL;
        if (traced(munmap(at, size), "munmap(%p, %zu)", at, size) == -1)
            warn_sys("munmap");
        if (show_fds)
            ring_show_maps(name, "after munmap():");
    }
    if (!created)
        return;
    created = false;
    /* The name goes now; the memory goes once nobody maps it any more. */
    if (traced(shm_unlink(name), "shm_unlink(\"%s\")", name) == 0)
        say("removed %s (shm_unlink): /dev/shm%s is gone", name, name);
    else if (errno != ENOENT)
        warn_sys("shm_unlink %s", name);
    owner_remove(RING_RECORD);
}

/* ---- what makes it robust (not the lesson) ---- */

/* Every message is checked: its slot header (a length within the slot, the
 * sequence number expected next: a lost, repeated or reordered message breaks
 * it) and, with -n, every byte. */
static void check(const unsigned char *data, uint64_t seq, uint64_t len)
{
    if (len > RING_SLOT_SIZE || seq != received) {
        corrupted++;
        errno = EBADMSG;
        warn_sys("message %llu: invalid slot header (sequence %llu, length %llu): %s",
                 (unsigned long long)received, (unsigned long long)seq,
                 (unsigned long long)len, len > RING_SLOT_SIZE ?
                 "the slot header claims more bytes than a slot holds" :
                 "the slot holds another message than the next");
        return;
    }
    char text[4 * SHOW_MAX + 1];
    escape_text(text, sizeof text, (const char *)data, len > SHOW_MAX ? SHOW_MAX : len);
    say("shared memory says: %s%s", text, len > SHOW_MAX ? "..." : "");
    if (count == 0 && ring->generated != 0)
        count = ring->generated - 1;              /* -n COUNT: the writer said so */
    if (count != 0 && !ring_message_ok(data, len, seq, count)) {
        corrupted++;
        errno = EBADMSG;
        warn_sys("message %llu failed its check", (unsigned long long)seq);
        return;
    }
    intact++;
}

static bool options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "cleanup", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    bool clean = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":S:vfh", longopts, NULL)) != -1) {
        switch (c) {
        case 'S': slots = (unsigned)parse_number("-S", optarg, 1, RING_MAX_SLOTS); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'C': clean = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    return clean;
}
