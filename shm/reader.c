/* shm/reader - creates a System V shared memory segment and prints what
 * shm/writer puts in it.
 *
 * The lesson: ftok() turns a path and a project id into a key both programs can
 * compute; shmget() turns the key into a segment (its id: the shmid); shmat()
 * maps the segment into this process's address space, after which reading a
 * message is reading memory -- no read(2), no copy through the kernel.  But
 * shared memory has no access control of its own: the two FIFOs of the ring
 * (shm/ring.h) tell the reader when a slot is filled and the writer when a slot
 * is free again.  The segment outlives its processes (ipcs -m shows it), so the
 * reader, which created it, removes it on every exit it can catch.
 */
#include "../common/common.h"
#include "gen.h"
#include "ring.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: shm/reader [-s SIZE] [-S SLOTS] [-v] [-f] [--cleanup]\n"
    "Creates a shared memory segment, waits for shm/writer and prints its messages.\n"
    "  -s SIZE    bytes per slot, the longest message (default 4096)\n"
    "  -S SLOTS   slots in the ring (default 8; 1 is the lock-step version)\n"
    "  -v         trace every system call on stderr\n"
    "  -f         print the open fds and the segment's mapping at the key moments\n"
    "  --cleanup  remove a leftover segment and FIFOs of ours, then exit\n"
    "  -h         show this help\n";

enum { SHOW_MAX = 1000 };        /* bytes of a message shown on one line */

static struct ring ring = { .shmid = -1, .filled_fd = -1, .free_fd = -1 };
static key_t key;
static char filled_path[PATH_MAX], free_path[PATH_MAX];
static bool created, fifos_made, show_fds;

/* ---- cleanup: what we created goes, on every exit we can catch ---- */

static void cleanup(void)
{
    (void)ring_close(&ring);
    (void)ring_detach(&ring);
    if (created && ring_remove(&ring) == -1 && errno != EINVAL && errno != EIDRM)
        warn_sys("shmctl(%d, IPC_RMID)", ring.shmid);
    created = false;
    if (fifos_made) {
        if (unlink(filled_path) == -1 && errno != ENOENT)
            warn_sys("unlink %s", filled_path);
        if (unlink(free_path) == -1 && errno != ENOENT)
            warn_sys("unlink %s", free_path);
        fifos_made = false;
    }
}

/* ---- what the kernel knows about the segment ---- */

static void print_facts(int shmid, const char *when)
{
    struct shmid_ds ds;
    if (traced(shmctl(shmid, IPC_STAT, &ds), "shmctl(%d, IPC_STAT)", shmid) == -1)
        die("shmctl(%d, IPC_STAT)", shmid);
    pid_t me = getpid();
    say("shmid_ds %s: key 0x%08lx, shmid %d, size %zu bytes, mode %03o, shm_nattch %lu, "
        "creator pid %ld%s, last attach/detach by pid %ld%s",
        when, (unsigned long)key, shmid, (size_t)ds.shm_segsz,
        (unsigned)ds.shm_perm.mode & 0777, (unsigned long)ds.shm_nattch,
        (long)ds.shm_cpid, ds.shm_cpid == me ? " (me)" : "",
        (long)ds.shm_lpid, ds.shm_lpid == me ? " (me)" : "");
}

/* -f: a segment is not a file descriptor; it shows up as a mapping instead. */
static void print_mapping(const char *when)
{
    char name[32], line[512];
    snprintf(name, sizeof name, "/SYSV%08lx", (unsigned long)key);
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) {
        warn_sys("fopen /proc/self/maps");
        return;
    }
    bool found = false;
    while (fgets(line, sizeof line, maps) != NULL) {
        if (strstr(line, name) == NULL)
            continue;
        line[strcspn(line, "\n")] = '\0';
        say("%s mapping: %s", when, line);
        found = true;
    }
    fclose(maps);
    if (!found)
        say("%s mapping: none for %s", when, name);
}

/* ---- a segment already there ---- */

/* Someone already has a segment for our key.  If it is provably stale (ours,
 * nobody attached, creator gone: a reader killed by SIGKILL) remove it and go
 * on; otherwise refuse and print the exact command. */
static void handle_existing(size_t size)
{
    /* The notes' trap: asking for an existing segment with a larger size than it
     * has fails with EINVAL.  Show it, then look at the segment as it is. */
    int sized = (int)traced(shmget(key, size, 0), "shmget(0x%08lx, %zu, 0)",
                            (unsigned long)key, size);
    bool too_small = sized == -1 && errno == EINVAL;
    struct shmid_ds ds;
    int id = ring_lookup(key, &ds);
    if (id == -1) {
        if (errno == ENOENT)
            return;                       /* it went away meanwhile: try again */
        die("shmget(0x%08lx) on the existing segment", (unsigned long)key);
    }
    if (too_small)
        say("the existing segment has %zu bytes, fewer than the %zu this run needs: "
            "shmget(key, %zu, 0) fails with EINVAL (a size mismatch)",
            (size_t)ds.shm_segsz, size, size);
    if (ring_stale(&ds)) {
        say("found a stale segment: shmid %d, key 0x%08lx, %zu bytes, shm_nattch 0, "
            "its creator (pid %ld) is gone: removing it",
            id, (unsigned long)key, (size_t)ds.shm_segsz, (long)ds.shm_cpid);
        if (traced(shmctl(id, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)", id) == -1 &&
            errno != EINVAL && errno != EIDRM)
            die("shmctl(%d, IPC_RMID)", id);
        return;
    }
    bool creator_alive = kill(ds.shm_cpid, 0) == 0 || errno == EPERM;
    char why[160];
    if (ds.shm_perm.uid != geteuid())
        snprintf(why, sizeof why, "it belongs to uid %ld", (long)ds.shm_perm.uid);
    else if (creator_alive)
        snprintf(why, sizeof why, "its creator, pid %ld, is still running: another shm/reader?",
                 (long)ds.shm_cpid);
    else
        snprintf(why, sizeof why, "%lu process(es) still attached",
                 (unsigned long)ds.shm_nattch);
    die_msg("a segment for key 0x%08lx already exists (shmid %d, %zu bytes, shm_nattch %lu); "
            "%s\nIf it is a leftover, remove it with: ipcrm -m %d   (or: shm/reader --cleanup)",
            (unsigned long)key, id, (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch,
            why, id);
}

static void explain_create_error(size_t size)
{
    if (errno == EINVAL) {
        char max[64] = "?";
        FILE *f = fopen("/proc/sys/kernel/shmmax", "r");
        if (f != NULL) {
            if (fgets(max, sizeof max, f) == NULL)
                snprintf(max, sizeof max, "?");
            max[strcspn(max, "\n")] = '\0';
            fclose(f);
        }
        die_msg("shmget: a segment of %zu bytes is outside this system's limits "
                "(EINVAL; kernel.shmmax is %s): use a smaller -s or -S", size, max);
    }
    if (errno == ENOMEM)
        die_msg("shmget: a segment of %zu bytes is more memory than the system will commit "
                "(ENOMEM): use a smaller -s or -S", size);
    if (errno == ENOSPC)
        die("shmget: the system's shared memory limits are reached (kernel.shmall, "
            "kernel.shmmni; see ipcs -l)");
    die("shmget(0x%08lx, %zu, IPC_CREAT|IPC_EXCL|0600)", (unsigned long)key, size);
}

static void create_segment(unsigned slots, size_t slot_size)
{
    size_t size = ring_size(slots, slot_size);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (ring_create(&ring, key, slots, slot_size) == 0) {
            created = true;
            say("shmget(key 0x%08lx, %zu bytes, IPC_CREAT|IPC_EXCL|0600) = shmid %d",
                (unsigned long)key, size, ring.shmid);
            say("shmat(%d) = %p: the segment is now part of my address space",
                ring.shmid, (void *)ring.hdr);
            return;
        }
        if (errno != EEXIST)
            explain_create_error(size);
        handle_existing(size);
    }
    die_msg("the segment for key 0x%08lx keeps coming back: is another shm/reader starting?",
            (unsigned long)key);
}

/* ---- --cleanup ---- */

static void remove_fifo(const char *path, bool *removed)
{
    struct stat st;
    if (lstat(path, &st) == -1) {
        if (errno != ENOENT)
            warn_sys("lstat %s", path);
        return;
    }
    if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
        warn_sys("%s is not a FIFO of ours: left alone", path);
        return;
    }
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1)
        die("unlink %s", path);
    say("removed FIFO %s", path);
    *removed = true;
}

static int do_cleanup(void)
{
    bool removed = false;
    struct shmid_ds ds;
    int id = ring_lookup(key, &ds);
    if (id == -1 && errno != ENOENT)
        die("shmget(0x%08lx, 0, 0)", (unsigned long)key);
    if (id != -1) {
        bool gone = kill(ds.shm_cpid, 0) == -1 && errno == ESRCH;
        if (traced(shmctl(id, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)", id) == -1)
            die("shmctl(%d, IPC_RMID)", id);
        say("removed segment shmid %d (key 0x%08lx, %zu bytes, shm_nattch %lu, creator pid %ld %s)",
            id, (unsigned long)key, (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch,
            (long)ds.shm_cpid, gone ? "gone" : "still running");
        if (ds.shm_nattch > 0)
            say("it disappears once the %lu attached process(es) detach",
                (unsigned long)ds.shm_nattch);
        removed = true;
    }
    remove_fifo(filled_path, &removed);
    remove_fifo(free_path, &removed);
    if (!removed)
        say("nothing to clean up for key 0x%08lx in %s", (unsigned long)key, ipc_dir());
    return 0;
}

/* ---- receiving ---- */

/* What the reader checks when the writer sends generated messages (-n) or runs
 * unsynchronised (-u).  Message numbers are the ring's sequence numbers: the
 * writer's Nth message is number N, and generated text carries N too. */
struct tally {
    uint64_t received;            /* slots read */
    uint64_t intact;              /* distinct messages read whole */
    uint64_t duplicated, reordered, corrupted;
    uint64_t total;               /* what generated messages say they number */
    uint64_t highest;
    unsigned char *seen;          /* bitmap by message number */
    size_t seen_bits;
};

static bool seen_before(struct tally *t, uint64_t n)
{
    if (n >= t->seen_bits) {
        size_t bits = t->seen_bits ? t->seen_bits : 4096;
        while (bits <= n)
            bits *= 2;
        unsigned char *p = realloc(t->seen, bits / 8);
        if (p == NULL)
            die("realloc");
        t->seen = p;
        memset(t->seen + t->seen_bits / 8, 0, (bits - t->seen_bits) / 8);
        t->seen_bits = bits;
    }
    bool was = t->seen[n / 8] & (1u << (n % 8));
    t->seen[n / 8] |= (unsigned char)(1u << (n % 8));
    return was;
}

static void show(const unsigned char *data, size_t len)
{
    char text[4 * SHOW_MAX + 1];
    escape_text(text, sizeof text, (const char *)data, len > SHOW_MAX ? SHOW_MAX : len);
    if (len > SHOW_MAX)
        say("shared memory says: %s... (%zu bytes in all)", text, len);
    else
        say("shared memory says: %s", text);
}

static void take(struct tally *t, const struct ring_msg *m, unsigned char *copy)
{
    bool unsync = ring.flags & RING_UNSYNC;
    const unsigned char *data = m->data;
    bool whole = true;
    if (unsync) {
        /* The writer may be rewriting this slot right now: copy it out, then ask
         * whether its number changed meanwhile (then the copy may be torn). */
        memcpy(copy, m->data, m->len);
        data = copy;
        whole = ring_unchanged(&ring, m);
    }
    show(data, m->len);
    if (ring.flags & SHM_GENERATED) {
        uint64_t seq, total;
        if (!gen_check(data, m->len, &seq, &total) || seq != m->seq ||
            (t->total != 0 && total != t->total)) {
            whole = false;
        } else {
            t->total = total;
        }
    }
    if (!whole || m->seq == 0) {
        t->corrupted++;
        if (!unsync) {
            errno = EBADMSG;
            warn_sys("message %llu failed its check", (unsigned long long)t->received);
        }
        return;
    }
    if (seen_before(t, m->seq)) {
        t->duplicated++;
        return;
    }
    if (m->seq < t->highest)
        t->reordered++;
    else
        t->highest = m->seq;
    t->intact++;
}

static int receive_all(struct tally *t)
{
    unsigned char *copy = malloc(ring.slot_size);
    if (copy == NULL)
        die("malloc");
    struct ring_msg m;
    int rc;
    while ((rc = ring_receive(&ring, &m)) == RING_MSG || rc == RING_BAD) {
        t->received++;
        if (rc == RING_BAD) {
            /* Never trusted: a length past the slot is not followed. */
            errno = EBADMSG;
            warn_sys("message %llu: invalid slot header (sequence %llu, length %zu): %s",
                     (unsigned long long)t->received, (unsigned long long)m.seq, m.len,
                     ring.problem);
            t->corrupted++;
        } else {
            take(t, &m, copy);
        }
        if (ring_release(&ring) == -1) {
            free(copy);
            return -1;
        }
    }
    free(copy);
    return rc;
}

/* ---- main ---- */

int main(int argc, char *argv[])
{
    prog_init("shm/reader", "reader", usage);
    long slot_size = 4096, slots = 8;
    bool cleanup_only = false;
    /* getopt_long is a GNU extension: it lets --cleanup be spelled out. */
    static const struct option longopts[] = {
        { "cleanup", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:S:vfh", longopts, NULL)) != -1) {
        switch (c) {
        case 's': slot_size = parse_number("-s", optarg, 1, 64L << 20); break;
        case 'S': slots = parse_number("-S", optarg, 1, RING_MAX_SLOTS); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'C': cleanup_only = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);

    /* A writer that vanishes makes our credit write() fail with EPIPE instead of
     * killing us before we can clean up. */
    signal(SIGPIPE, SIG_IGN);
    catch_stop_signals();
    ipc_path(filled_path, sizeof filled_path, "shm-filled");
    ipc_path(free_path, sizeof free_path, "shm-free");

    char keyfile[PATH_MAX];
    key = ipc_key(KEY_SHM);
    say("ftok(\"%s\", '%c') = key 0x%08lx", ipc_path(keyfile, sizeof keyfile, "key"),
        KEY_SHM, (unsigned long)key);
    if (cleanup_only)
        return do_cleanup();

    atexit(cleanup);
    create_segment((unsigned)slots, (size_t)slot_size);
    say("ring: %u slot%s of %zu bytes", ring.slots, ring.slots == 1 ? "" : "s", ring.slot_size);
    print_facts(ring.shmid, "at start");
    if (show_fds) {
        print_mapping("after shmat():");
        print_fds(0, "after shmat():");
    }

    int reused = ring_make_fifos(filled_path, free_path);
    if (reused == -1) {
        if (errno == EEXIST)
            die_msg("%s or %s exists and is not a FIFO of ours: not touched "
                    "(remove it, or set IPC_DEMO_DIR)", filled_path, free_path);
        die("mkfifo %s", filled_path);
    }
    fifos_made = true;
    if (reused > 0)
        say("reusing %d FIFO%s left by an earlier run", reused, reused == 1 ? "" : "s");
    say("waiting for shm/writer: open(\"%s\") blocks until it opens the other end",
        filled_path);

    if (ring_open_reader(&ring, filled_path, free_path) == -1) {
        if (errno == EINTR) {
            say("caught %s while waiting: removing the segment and the FIFOs",
                signal_name(stop_signal));
            return 0;
        }
        if (errno == EINVAL)
            die_msg("open the FIFOs: %s", ring.problem);
        die("open the FIFOs");
    }
    say("the writer is here: \"filled\" FIFO fd %d, \"free\" FIFO fd %d",
        ring.filled_fd, ring.free_fd);
    print_facts(ring.shmid, "with the writer attached");
    if (show_fds)
        print_fds(0, "after open():");
    if (ring.flags & RING_UNSYNC)
        say("the writer runs unsynchronised (-u): it will not wait for free slots, "
            "so it can overwrite a message before I read it");

    say("handing the writer %u credit%s, one per free slot, on the \"free\" FIFO",
        ring.slots, ring.slots == 1 ? "" : "s");
    struct tally t = { 0 };
    int rc = receive_all(&t);
    free(t.seen);
    if (rc == -1) {
        if (errno == EINTR) {
            say("caught %s after %llu messages: removing the segment and the FIFOs",
                signal_name(stop_signal), (unsigned long long)t.received);
            return 0;
        }
        if (errno == EPIPE)
            die_msg("the writer vanished mid-stream after %llu messages (%s): "
                    "removing the segment and the FIFOs", (unsigned long long)t.received,
                    ring.problem != NULL ? ring.problem : strerror(errno));
        if (errno == EPROTO)
            die_msg("the writer broke the protocol: %s", ring.problem);
        die("receive");
    }

    say("received %llu messages", (unsigned long long)t.received);
    bool checked = ring.flags & (SHM_GENERATED | RING_UNSYNC);
    uint64_t expected = t.total != 0 ? t.total : t.received;
    uint64_t lost = expected > t.intact ? expected - t.intact : 0;
    if (checked)
        say("checked: %llu intact, %llu lost, %llu duplicated, %llu reordered, %llu corrupted",
            (unsigned long long)t.intact, (unsigned long long)lost,
            (unsigned long long)t.duplicated, (unsigned long long)t.reordered,
            (unsigned long long)t.corrupted);
    bool clean = lost == 0 && t.duplicated == 0 && t.reordered == 0 && t.corrupted == 0;

    /* The end: close the FIFOs (the writer, waiting for that, can exit), detach,
     * and remove the segment now that nobody is attached. */
    if (ring_close(&ring) == -1)
        die("close");
    void *where = ring.hdr;
    if (ring_detach(&ring) == -1)
        die("shmdt");
    say("shmdt(%p): detached", where);
    if (show_fds)
        print_mapping("after shmdt():");
    print_facts(ring.shmid, "after shmdt()");
    if (ring_remove(&ring) == -1)
        die("shmctl(IPC_RMID)");
    created = false;
    say("shmctl(IPC_RMID): segment removed; FIFOs removed");
    cleanup();
    if (!clean && !(ring.flags & RING_UNSYNC)) {
        die_msg("the writer's messages did not all arrive intact");
    }
    return 0;
}
