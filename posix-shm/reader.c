/* posix-shm/reader - creates a POSIX shared memory object and prints what
 * posix-shm/writer puts in it.
 *
 * The lesson: shm_open() creates a shared memory object by NAME -- a file in
 * /dev/shm, a tmpfs: memory with a file's name and permissions.  It starts
 * empty; ftruncate() gives it its size, and mmap(MAP_SHARED) maps it into this
 * process, after which reading a message is reading memory.  The ring is
 * synchronised by two semaphores that live in the object itself, made by
 * sem_init(..., pshared 1, ...): "filled" counts the slots to read, "free"
 * the slots the writer may fill.  sem_wait() and sem_post() make no system call
 * unless someone has to sleep or be woken.  The object outlives its processes
 * (ls -l /dev/shm), so the reader, which created it, removes its name with
 * shm_unlink() on every exit it can catch.
 *
 * Observe: ls -l /dev/shm while it waits; -v (the sem_* lines are library
 * calls, shown though they are not system calls); -f.  Partner:
 * posix-shm/writer.  What a killed reader leaves: posix-shm/leftover.c.
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
    "Creates a POSIX shared memory object (shm_open), waits for posix-shm/writer\n"
    "and prints its messages; removes the object (shm_unlink) on the way out.\n"
    "  -S SLOTS   slots in the ring (default 8; 1 is the lock-step version)\n"
    "  -v         trace every call on stderr: the system calls, and the sem_*\n"
    "             calls too, which are library calls (a futex system call only\n"
    "             when a process has to sleep or be woken)\n"
    "  -f         print the open fds and the object's mapping at the key moments\n"
    "  --cleanup  remove an object (and record) a killed reader left, then exit\n"
    "  -h         show this help\n";

enum { SHOW_MAX = 1000 };         /* bytes of a message shown on one line */

static char name[NAME_MAX];       /* "/ipc-demos-DEV-INO-ring" */
static unsigned slots = 8;        /* our own copy: never read back from the object */
static size_t size;
static struct ring *ring;         /* the mapping; NULL when there is none */
static bool created, show_fds;
static uint64_t received, intact, corrupted, count, writer_pid;

static bool options(int argc, char *argv[]);
static int create_object(void);
static void init_semaphores(void);
static void receive_all(void);
static int finish(void);
static void remove_object(void);
static void stop_cleanly(void);
static void show_maps(const char *when);

int main(int argc, char *argv[])
{
    prog_init("posix-shm/reader", "reader", usage);
    bool clean = options(argc, argv);
    posix_name(name, sizeof name, "ring");
    if (clean)
        return cleanup_leftover(name);
    stop_cleanly();
    int fd = create_object();
    size = ring_size(slots);
    /* A new object holds 0 bytes: ftruncate() gives it its size (zeroed). */
    if (traced(ftruncate(fd, (off_t)size), "ftruncate(%d, %zu)", fd, size) == -1)
        die("ftruncate %s", name);
    /* MAP_SHARED: our stores go to the object, where the writer sees them
     * (MAP_PRIVATE would give us a copy of our own at the first store). */
    ring = traced_ptr(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                      "mmap(NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)", size, fd);
    if (ring == MAP_FAILED) {
        ring = NULL;
        die("mmap %s", name);
    }
    show_maps("after mmap():");
    /* The mapping keeps the object open: the fd is no longer needed. */
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close");
    say("gave it %zu bytes (ftruncate) and mapped them at %p (mmap, MAP_SHARED); "
        "fd %d closed, the mapping stays", size, (void *)ring, fd);
    show_maps("after close():");
    init_semaphores();
    say("waiting for posix-shm/writer: sem_wait on \"filled\"");
    receive_all();
    return finish();
}

static int create_object(void)
{
    for (int tries = 0;; tries++) {
        /* O_EXCL: a leftover is found (EEXIST) and judged, never silently
         * shared.  0600: the file's permissions are the object's. */
        int fd = (int)traced(shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600),
                             "shm_open(\"%s\", O_CREAT|O_EXCL|O_RDWR, 0600)", name);
        if (fd != -1) {
            created = true;
            struct stat st;
            if (traced(fstat(fd, &st), "fstat(%d)", fd) == -1)
                die("fstat %s", name);
            owner_write(RING_RECORD, (long)st.st_ino);
            say("created the shared memory object %s: the file /dev/shm%s, mode 0600, "
                "fd %d; my pid is on record in %s/%s", name, name, fd, ipc_dir(), RING_RECORD);
            return fd;
        }
        if (errno != EEXIST || tries == 2)
            die("shm_open %s", name);
        remove_leftover(name);
    }
}

static void init_semaphores(void)
{
    /* pshared 1: the semaphore is in memory several processes map, and works
     * across them (0: between the threads of one process only). */
    if (traced(sem_init(&ring->filled, 1, 0), "sem_init(&ring->filled, 1, 0)") == -1 ||
        traced(sem_init(&ring->free, 1, slots), "sem_init(&ring->free, 1, %u)", slots) == -1)
        die("sem_init");
    ring->slots = slots;
    atomic_store(&ring->magic, RING_MAGIC);      /* last: now a writer may use it */
    say("two semaphores in the object: \"filled\" = 0 (nothing to read), \"free\" = %u "
        "(%u slot%s of %d bytes, all free)", slots, slots, slots == 1 ? "" : "s",
        RING_SLOT_SIZE);
}

static bool writer_gone(void);

/* P(filled).  sem_timedwait() is sem_wait() with a deadline: while the value
 * is above 0 it takes one at once, in user space; at 0 it sleeps (futex) until
 * a sem_post() or the deadline.  Then we look whether the writer still runs:
 * one killed by SIGKILL would never post again. */
static bool take_filled(void)
{
    while (!stop_signal) {
        struct timespec until = ring_deadline();
        if (traced(sem_timedwait(&ring->filled, &until), "sem_timedwait(&ring->filled, +%d ms)",
                   RING_WAIT_MS) == 0)
            return true;
        if (errno == ETIMEDOUT && writer_gone())
            return false;
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
    if (stop_signal) {
        say("caught %s after %llu messages: removing %s", signal_name(stop_signal),
            (unsigned long long)received, name);
        exit(0);                                  /* remove_object() runs at exit */
    }
    die_msg("the writer (pid %llu) is gone after %llu messages: removing %s",
            (unsigned long long)writer_pid, (unsigned long long)received, name);
}

static int finish(void)
{
    say("received %llu messages", (unsigned long long)received);
    uint64_t lost = count > intact ? count - intact : 0;
    if (count > 0 || ring->generated != 0)
        say("checked: %llu intact, %llu lost, %llu corrupted", (unsigned long long)intact,
            (unsigned long long)lost, (unsigned long long)corrupted);
    remove_object();
    if (lost > 0 || corrupted > 0)
        die_msg("the writer's messages did not all arrive intact");
    return 0;
}

/* atexit() too: the end, die(), a stop signal, the writer gone. */
static void remove_object(void)
{
    if (ring != NULL) {
        void *at = ring;
        ring = NULL;
        if (traced(munmap(at, size), "munmap(%p, %zu)", at, size) == -1)
            warn_sys("munmap");
        show_maps("after munmap():");
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
    if (len > SHOW_MAX)
        say("shared memory says: %s... (%llu bytes in all)", text, (unsigned long long)len);
    else
        say("shared memory says: %s", text);
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

/* The writer's pid and start time are in the header (it put them there): a
 * pid that no longer runs that program is gone.  No writer yet: wait on. */
static bool writer_gone(void)
{
    int32_t pid = atomic_load(&ring->writer);
    if (pid <= 0)
        return false;
    unsigned long long start = process_start_time(pid), recorded = ring->writer_start;
    writer_pid = (uint64_t)pid;
    return start == 0 || (recorded != 0 && recorded != start);
}

static void stop_cleanly(void)
{
    catch_stop_signals();
    ring_catch_sigpipe();
    if (atexit(remove_object) != 0)
        die_msg("atexit failed");
}

static void show_maps(const char *when)
{
    if (!show_fds)
        return;
    ring_print_mapping(name, when);
    print_fds(0, when);
}

static bool options(int argc, char *argv[])
{
    /* getopt_long is a GNU extension (glibc, musl, the BSDs): for --cleanup. */
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
