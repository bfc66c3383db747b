/* shm/reader - creates a System V shared memory segment and prints what
 * shm/writer puts in it.
 *
 * The lesson: ftok() turns a file and a project id into a key that both
 * programs compute; shmget() turns the key into a segment (its id: the shmid);
 * shmat() maps the segment into this address space, and from then on reading a
 * message is reading memory: no read(2), no copy through the kernel.  But
 * shared memory synchronises nothing: two FIFOs (shm.h) tell the reader when a
 * slot is filled and the writer when a slot is free again.  The segment
 * outlives its processes, so the reader, which made it, removes it (shmctl
 * IPC_RMID) with the FIFOs on every exit it can catch.
 *
 * Observe: ipcs -m while it waits (nattch 1) and while a writer runs (2); -v;
 * -f (a segment is a mapping, not a file descriptor).  Partner: shm/writer.
 * What a killed reader leaves behind: the end of this file.
 *
 * Usage: shm/reader [-s SIZE] [-S SLOTS] [-v] [-f] [--cleanup]
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: shm/reader [-s SIZE] [-S SLOTS] [-v] [-f] [--cleanup]\n"
    "Create a shared memory segment, wait for shm/writer and print its messages.\n"
    "  -s SIZE    bytes per slot, the longest message (default 4096)\n"
    "  -S SLOTS   slots in the ring (default 8; 1 is the lock-step version)\n"
    "  -v         trace every system call on the segment and the FIFOs, on stderr\n"
    "  -f         print the open fds and the segment's mapping at the key moments\n"
    "  --cleanup  remove a segment and FIFOs a killed reader left, then exit\n"
    "  -h         show this help\n";

static unsigned slots = 8;
static size_t slot_size = 4096;
static bool show_fds;
static key_t key;
static int shmid = -1, filled_fd = -1, free_fd = -1;
static struct shm_header *seg;    /* where the segment is attached; NULL: not */
static char filled_path[PATH_MAX], free_path[PATH_MAX];
static struct stat filled_seen, free_seen;
static bool filled_made, free_made;
static struct tally tally;
static unsigned char *copy;       /* -u: a slot's text, copied out */

static bool options(int argc, char *argv[]), remove_stale_segment(size_t size, bool cleanup);
static int create_segment(void), cleanup_leftovers(void);
static void print_facts(const char *when), print_mapping(const char *when);
static noreturn void stopped_or_failed(const char *call);

/* mkfifo() makes a name, nothing more.  One already there, a killed reader's, is
 * reused only if lstat() (never stat(): it follows symlinks) finds a FIFO of ours, 0600. */
static void make_fifo(const char *path, struct stat *seen, bool *made)
{
    bool fresh = traced(mkfifo(path, 0600), "mkfifo(\"%s\", 0600)", path) == 0;
    if (!fresh && errno != EEXIST)
        die("mkfifo %s", path);
    if (traced(lstat(path, seen), "lstat(\"%s\")", path) == -1)
        die("lstat %s", path);
    require_our_fifo(path, seen);
    if (!fresh)
        say("reusing the FIFO %s left by an earlier run (ours, mode 0600)", path);
    *made = true;                 /* ours to remove, from now on */
}

/* The rendezvous: open() of a FIFO for reading waits until somebody opens it
 * for writing -- the writer.  It then opens "free" for reading: ours waits for
 * that.  (O_NOFOLLOW: a symlink put there is refused.) */
static void open_fifos(void)
{
    say("waiting for shm/writer: my open() of %s returns once it opens it", filled_path);
    int fd = (int)traced(open(filled_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW),
                         "open(\"%s\", O_RDONLY|O_CLOEXEC|O_NOFOLLOW)", filled_path);
    if (fd == -1)
        stopped_or_failed("open");
    require_same_file(fd, filled_path, &filled_seen);   /* (it closes fd if not) */
    filled_fd = fd;
    fd = (int)traced(open(free_path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW),
                     "open(\"%s\", O_WRONLY|O_CLOEXEC|O_NOFOLLOW)", free_path);
    if (fd == -1)
        stopped_or_failed("open");
    require_same_file(fd, free_path, &free_seen);
    free_fd = fd;
    say("the writer is here: \"filled\" FIFO fd %d, \"free\" FIFO fd %d", filled_fd, free_fd);
}

/* Message N is in slot N % SLOTS, in my own memory: no read(2) copies it.
 * Its header is not trusted: a length past the slot is never followed. */
static void take_slot(uint64_t n, bool unsync)
{
    struct shm_slot *s = slot_of(seg, slots, slot_size, n);
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    uint64_t len = atomic_load_explicit(&s->len, memory_order_relaxed);
    if (len > slot_size || (!unsync && seq != n + 1)) {
        tally.received++;
        tally.bad_headers++;
        warn_msg("message %llu: invalid slot header (sequence %llu, length %llu): %s",
                 (unsigned long long)n + 1, (unsigned long long)seq, (unsigned long long)len,
                 len > slot_size ? "the slot header claims more bytes than a slot holds"
                                 : "the slot holds another message than the one announced");
        return;
    }
    const unsigned char *text = s->text;
    bool whole = true;
    if (unsync) {
        /* The writer may be rewriting the slot right now (-u): copy the text,
         * then look whether the slot's number changed meanwhile. */
        memcpy(copy, s->text, len);
        atomic_thread_fence(memory_order_acquire);
        whole = atomic_load_explicit(&s->seq, memory_order_relaxed) == seq;
        text = copy;
    }
    char shown[4 * 200 + 1];
    size_t taken = escape_text(shown, sizeof shown, (const char *)text, len);
    say("shared memory says: %s%s", shown, taken < len ? "..." : "");
    if (!tally_take(&tally, (unsigned)(n % slots), seq, text, len, whole) && !unsync)
        warn_msg("message %llu failed its check", (unsigned long long)n + 1);
}

/* The semaphore's initial value: SLOTS credits, every slot free (the writer
 * waits for them: it has written nothing yet).  Then each 'F' on "filled" is a
 * slot to read, in order, and to give back as a credit; 'E' is the end (end of
 * file before it: the writer died).  True when all arrived intact (shm/check.c). */
static bool receive(void)
{
    bool unsync = atomic_load(&seg->flags) & SHM_UNSYNC;   /* set before its open() */
    char credits[SHM_MAX_SLOTS], token;
    memset(credits, 'C', slots);
    /* At most PIPE_BUF bytes into an empty pipe: one write, whole. */
    if (traced(write(free_fd, credits, slots), "write(%d, \"C\" x %u, %u)", free_fd, slots,
               slots) == -1)
        stopped_or_failed("write");
    say("handed the writer %u credit%s on the \"free\" FIFO, one per free slot", slots,
        slots == 1 ? "" : "s");
    tally.generated = atomic_load(&seg->generated);
    if (unsync)
        say("the writer runs unsynchronised (-u): it will not wait for free slots, "
            "so it can overwrite a message before I read it");
    for (uint64_t n = 0;; n++) {
        /* P(): a stop signal ends the wait, also one that came between reads. */
        ssize_t got = stop_signal ? -1 : read_full(filled_fd, &token, 1);
        if (got != 1)
            stopped_or_failed(got == 0 ? NULL : "read");
        if (token == 'E')
            return tally_report(&tally, unsync);
        if (token != 'F')
            die_msg("the writer broke the protocol: byte 0x%02x on %s", (unsigned char)token,
                    filled_path);
        take_slot(n, unsync);
        /* V(): the slot is free again (the racing writer takes no credits). */
        if (!unsync && traced(write(free_fd, "C", 1), "write(%d, \"C\", 1)", free_fd) == -1)
            stopped_or_failed("write");
    }
}

/* Close the FIFOs (the writer waits for that to end), then detach: the
 * mapping goes, the segment stays. */
static void let_go(void)
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

/* unlink() takes a FIFO's name away (the pipe lives on while fds are open):
 * only if PATH still names the FIFO we made, as lstat() tells. */
static void unlink_fifo(const char *path, const struct stat *seen)
{
    struct stat now;
    if (traced(lstat(path, &now), "lstat(\"%s\")", path) == -1 ||
        now.st_dev != seen->st_dev || now.st_ino != seen->st_ino)
        say("%s is no longer our FIFO (removed or replaced): left as it is", path);
    else if (traced(unlink(path), "unlink(\"%s\")", path) == -1)
        warn_sys("unlink %s", path);
}

/* IPC_RMID: the segment goes once nobody is attached (at the normal end, at
 * once; on a stop or an error, when the writer detaches too); then the FIFOs.
 * Also at exit (atexit): every way out lets go of all and removes it, once. */
static void remove_all(void)
{
    let_go();
    if (shmid != -1 && traced(shmctl(shmid, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)",
                              shmid) == -1 && errno != EINVAL && errno != EIDRM)
        warn_sys("shmctl %d IPC_RMID", shmid);
    shmid = -1;
    if (filled_made)
        unlink_fifo(filled_path, &filled_seen);
    if (free_made)
        unlink_fifo(free_path, &free_seen);
    filled_made = free_made = false;
}

int main(int argc, char *argv[])
{
    prog_init("shm/reader", "reader", usage);
    bool clean = options(argc, argv);
    /* The key: the same file and project id give the writer the same number. */
    const char *keyfile = ipc_keyfile();
    key = (key_t)traced(ftok(keyfile, KEY_SHM), "ftok(\"%s\", '%c')", keyfile, KEY_SHM);
    if (key == -1)
        die("ftok %s", keyfile);
    if (clean)
        return cleanup_leftovers();
    stop_cleanly(remove_all);     /* shm/check.c */
    say("key 0x%08x, from the file %s and the project id '%c'", (unsigned)key, keyfile, KEY_SHM);
    shmid = create_segment();
    /* shmat(): map it where the kernel likes (NULL), to read and write (0). */
    void *at = traced_ptr(shmat(shmid, NULL, 0), "shmat(%d, NULL, 0)", shmid);
    if (at == (void *)-1)
        die("shmat %d", shmid);
    seg = at;
    seg->magic = SHM_MAGIC;       /* a new segment is all zeroes */
    seg->slots = slots;
    seg->slot_size = slot_size;
    say("attached it at %p: %u slot%s of %zu bytes are now part of my address space",
        (void *)seg, slots, slots == 1 ? "" : "s", slot_size);
    print_facts("at start");
    print_mapping("after shmat():");
    make_fifo(filled_path, &filled_seen, &filled_made);
    make_fifo(free_path, &free_seen, &free_made);
    open_fifos();
    print_facts("with the writer attached");
    if (show_fds)
        print_fds("after open():");
    bool intact = receive();
    let_go();
    say("detached the segment (shmdt)");
    print_mapping("after shmdt():");
    print_facts("after shmdt()");
    int id = shmid;
    remove_all();
    say("removed the segment shmid %d (shmctl IPC_RMID) and the two FIFOs", id);
    if (!intact)
        die_msg("the writer's messages did not all arrive intact");
    return 0;
}

/* IPC_CREAT|IPC_EXCL: a segment already there for our key, a leftover or another
 * reader's, is an error to look at (at the end), never one we silently share. */
static int create_segment(void)
{
    size_t size = segment_size(slots, slot_size);
    for (int tries = 0;; tries++) {
        int id = (int)traced(shmget(key, size, IPC_CREAT | IPC_EXCL | 0600),
                             "shmget(0x%08x, %zu, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key,
                             size);
        if (id != -1) {
            say("created the segment shmid %d: %zu bytes, mode 0600", id, size);
            return id;
        }
        if (errno == EINVAL || errno == ENOMEM || errno == ENOSPC)
            die("shmget: a segment of %zu bytes is beyond what this system allows (see "
                "ipcs -l): use a smaller -s or -S", size);
        if (errno != EEXIST || tries == 2)
            die("shmget key 0x%08x", (unsigned)key);
        remove_stale_segment(size, false);
    }
}

/* What the kernel knows about the segment: struct shmid_ds. */
static void print_facts(const char *when)
{
    struct shmid_ds ds;
    if (traced(shmctl(shmid, IPC_STAT, &ds), "shmctl(%d, IPC_STAT)", shmid) == -1)
        die("shmctl %d IPC_STAT", shmid);
    pid_t me = getpid();
    say("shmid_ds %s: shmid %d, size %zu bytes, mode %03o, shm_nattch %lu, creator pid %ld%s, "
        "last attach/detach by pid %ld%s", when, shmid, (size_t)ds.shm_segsz,
        (unsigned)ds.shm_perm.mode & 0777, (unsigned long)ds.shm_nattch, (long)ds.shm_cpid,
        ds.shm_cpid == me ? " (me)" : "", (long)ds.shm_lpid, ds.shm_lpid == me ? " (me)" : "");
}

/* ---- what makes it robust (not the lesson) ---- */

static bool options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "cleanup", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    bool clean = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:S:vfh", longopts, NULL)) != -1) {
        switch (c) {
        case 's': slot_size = (size_t)parse_number("-s", optarg, 1, SHM_MAX_SLOT_SIZE); break;
        case 'S': slots = (unsigned)parse_number("-S", optarg, 1, SHM_MAX_SLOTS); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'C': clean = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    ipc_path(filled_path, sizeof filled_path, FILLED_FIFO);
    ipc_path(free_path, sizeof free_path, FREE_FIFO);
    tally.slots = slots;
    if ((copy = malloc(slot_size)) == NULL)
        die("malloc");
    return clean;
}

/* -f: a segment is not a file descriptor: it shows up as a mapping, named
 * /SYSV and the key, in /proc/self/maps. */
static void print_mapping(const char *when)
{
    char name[32];
    if (!show_fds)
        return;
    snprintf(name, sizeof name, "/SYSV%08x", (unsigned)key);
    if (!print_maps(name, when))
        say("%s mapping: none for %s", when, name);
    if (seg != NULL)
        print_fds(when);
}

/* CALL failed (NULL: end of file on "filled" before the end token): a stop
 * signal (exit 0), the writer gone, or an error; cleaned up first in all. */
static noreturn void stopped_or_failed(const char *call)
{
    int err = errno;
    bool waiting = free_fd == -1;     /* (remove_all() closes it) */
    unsigned long long got = tally.received;
    remove_all();
    if (stop_signal && waiting)
        say("caught %s while waiting: removed the segment and the FIFOs",
            signal_name(stop_signal));
    else if (stop_signal)
        say("caught %s after %llu messages: removed the segment and the FIFOs",
            signal_name(stop_signal), got);
    if (stop_signal)
        exit(0);
    if (call == NULL || err == EPIPE)
        die_msg("the writer vanished mid-stream after %llu messages (%s %s): removed the "
                "segment and the FIFOs", got, call == NULL ? "end of file, no end token, on"
                : "it closed", call == NULL ? filled_path : free_path);
    errno = err;
    die("%s", call);
}

/* ---- what a killed reader leaves behind, and --cleanup ---- */

/* kill -9 cannot be caught: the segment stays in the kernel (ipcs -m), the
 * FIFOs in $IPC_DEMO_DIR.  The kernel keeps who created a segment (shm_cpid)
 * and how many have it attached (shm_nattch): enough for require_stale() to
 * tell a leftover from a segment in use, which is refused with the exact
 * command.  --cleanup also removes one a dead reader's writer still has
 * attached: IPC_RMID pulls it from under nobody, it goes once they detach.
 * False: there was none. */
static bool remove_stale_segment(size_t size, bool cleanup)
{
    /* The notes' trap: asking for an existing segment with more bytes than it
     * has fails with EINVAL.  Shown, then the segment is looked at as it is. */
    bool trap = size > 0 && traced(shmget(key, size, 0), "shmget(0x%08x, %zu, 0)",
                                   (unsigned)key, size) == -1 && errno == EINVAL;
    struct shmid_ds ds;
    int id = (int)traced(shmget(key, 0, 0), "shmget(0x%08x, 0, 0)", (unsigned)key);
    if (id == -1 && errno == ENOENT)
        return false;             /* none, or gone meanwhile */
    if (id == -1 || traced(shmctl(id, IPC_STAT, &ds), "shmctl(%d, IPC_STAT)", id) == -1)
        die("segment of key 0x%08x (see ipcs -m; remove it with ipcrm -M 0x%08x)",
            (unsigned)key, (unsigned)key);
    if (trap)
        say("the segment there has %zu bytes, fewer than the %zu this run needs: "
            "shmget(key, %zu, 0) fails with EINVAL (a size mismatch)", (size_t)ds.shm_segsz,
            size, size);
    char what[96], remove[32];
    snprintf(what, sizeof what, "segment %d (key 0x%08x, %zu bytes)", id, (unsigned)key,
             (size_t)ds.shm_segsz);
    snprintf(remove, sizeof remove, "ipcrm -m %d", id);
    struct leftover l = {
        .what = what, .remove = remove, .users = ds.shm_nattch, .creator = ds.shm_cpid,
        .creator_running = process_running(ds.shm_cpid),
        .ours = ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() &&
                (ds.shm_perm.mode & 0777) == 0600,
    };
    if (cleanup && l.ours && !l.creator_running && l.users > 0)
        say("%s: its creator, pid %ld, is gone, %lu process(es) still attached: removing it "
            "all the same; it goes once they detach", what, (long)l.creator, l.users);
    else
        require_stale(&l);        /* exits 1 unless provably stale */
    if (traced(shmctl(id, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM)
        die("shmctl %d IPC_RMID", id);
    return true;
}

static bool clean_fifo(const char *path)
{
    struct stat seen;             /* lstat: a symbolic link is judged, not followed */
    if (traced(lstat(path, &seen), "lstat(\"%s\")", path) == -1) {
        if (errno == ENOENT)
            return false;
        die("lstat %s", path);
    }
    require_our_fifo(path, &seen);
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1)
        die("unlink %s", path);
    say("removed the FIFO %s", path);
    return true;
}

static int cleanup_leftovers(void)
{
    bool segment = remove_stale_segment(0, true);
    bool filled = clean_fifo(filled_path), freed = clean_fifo(free_path);
    if (!segment && !filled && !freed)
        say("nothing to clean up: no segment with key 0x%08x, no FIFO in %s", (unsigned)key,
            ipc_dir());
    return 0;
}
