/* shmbench.c - shm and shm1: the ring of shm/ (shm/ring.h), measured.
 *
 * The same protocol as shm/reader and shm/writer: a System V segment of slots,
 * the writer fills a slot in place and announces it with one byte on the
 * "filled" FIFO, the reader checks it in place and gives the slot back with a
 * credit byte on the "free" FIFO.  No copy through the kernel: the writer's
 * stores are the reader's loads.  shm1 is the same ring with one slot, the
 * notes' lock-step version.
 *
 * Two differences from the demo, both because here the writer is our own
 * fork()ed child.  The child inherits the attachment instead of looking the key
 * up, so the segment is marked for removal (IPC_RMID) as soon as it exists: the
 * kernel frees it when the last of the two processes detaches or dies -- even
 * after a kill -9 nothing is left.  And the parent holds both FIFOs open for
 * reading and writing while the two sides open them, so neither open() can
 * block on a child that died first (O_RDWR on a FIFO: Linux-only).
 */
#include "bench.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The slots of "shm": as many as fit in RING_BYTES, at most SHM_SLOTS, at least 2.
 * On one CPU the writer fills every free slot before the reader runs, and the
 * reader empties them all before the writer runs again: each round of the ring
 * costs two context switches, so more slots means fewer switches per message
 * (and the reader gives credits back SLOTS/4 at a time: fewer writes too).  The
 * byte cap keeps the ring within the caches.  See docs/bench.md. */
enum { SHM_SLOTS = 256, RING_BYTES = 2 * 1024 * 1024 };

static char filled[2][PATH_MAX], freed[2][PATH_MAX];   /* [0] there, [1] back */
static bool prepared;
static struct ring live[2];          /* attached rings, detached by shm_cleanup */

static unsigned slots_for(bool one_slot, size_t size)
{
    if (one_slot)
        return 1;
    size_t n = RING_BYTES / size;
    return n < 2 ? 2 : n > SHM_SLOTS ? SHM_SLOTS : (unsigned)n;
}

unsigned shm_slots(size_t size)
{
    return slots_for(false, size);
}

void shm_prepare(void)
{
    static const char *const names[2][2] = {
        { "bench-filled", "bench-free" }, { "bench-back-filled", "bench-back-free" },
    };
    for (int i = 0; i < 2; i++) {
        ipc_path(filled[i], sizeof filled[i], names[i][0]);
        ipc_path(freed[i], sizeof freed[i], names[i][1]);
    }
    for (int i = 0; i < 2; i++) {
        fifo_create(filled[i]);         /* removed by bench_cleanup() */
        fifo_create(freed[i]);
    }
    prepared = true;
    for (int i = 0; i < 2; i++)
        live[i] = (struct ring){ .shmid = -1, .filled_fd = -1, .free_fd = -1 };
}

bool shm_supports(size_t size, const char **why)
{
    static char reason[64];
    long shmmax = proc_long("/proc/sys/kernel/shmmax", LONG_MAX);
    size_t need = ring_size(slots_for(false, size), size);
    if (need == 0 || need > (unsigned long)shmmax) {
        snprintf(reason, sizeof reason, "above shmmax (%ld B)", shmmax);
        *why = reason;
        return false;
    }
    return true;
}

void shm_cleanup(void)
{
    if (!prepared)
        return;
    for (int i = 0; i < 2; i++) {
        ring_close(&live[i]);
        ring_detach(&live[i]);
        ring_remove(&live[i]);          /* only if not marked for removal yet */
    }
    prepared = false;
}

/* A new ring on KEY_BENCH, marked for removal at once (see the top).  A segment
 * a killed run left with our key run_claim() removed: one there now is another's. */
static void make_ring(struct ring *r, unsigned slots, size_t size)
{
    key_t key = bench_key();
    if (ring_create(r, key, slots, size) == -1) {
        if (errno == EINVAL)
            die("shm: a segment of %zu slots of %zu bytes (the system's shmmax or shmall?)",
                (size_t)slots, size);
        if (errno == EEXIST)
            die_msg("shm: a segment with key 0x%08lx appeared during the run (another "
                    "bench/ipcbench with %s?)", (unsigned long)key, ipc_dir());
        die("shm: shmget key 0x%08lx", (unsigned long)key);
    }
    if (ring_remove(r) == -1)
        die("shm: shmctl IPC_RMID");
}

/* Open both ends of a FIFO ourselves for the time the two sides need to open
 * theirs (see the top); closed once the child said it is ready. */
static int hold_fifo(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd == -1)
        die("open %s", path);
    return fd;
}

/* The ring call that failed, as a message: errno, and the ring's reason. */
static noreturn void ring_failed(const struct ring *r, const char *mech, const char *what,
                                 bool child)
{
    if (!child)
        check_stop();               /* a Ctrl-C killed the child too: say why */
    if (errno == EPROTO || errno == EBADMSG || (errno == EPIPE && r->problem != NULL)) {
        if (child) {
            warn_sys("%s: %s (%s)", mech, what, r->problem);
            _exit(1);
        }
        die_msg("%s: %s: %s", mech, what, r->problem);
    }
    if (child)
        die_child("%s: %s", mech, what);
    die("%s: %s", mech, what);
}

/* The ready byte: the child has opened its FIFOs; end of file: it died first. */
static void wait_ready(int fd, const char *mech, pid_t child)
{
    char b;
    ssize_t n;
    while ((n = read(fd, &b, 1)) == -1 && errno == EINTR)
        after_eintr(mech);
    if (n == -1)
        die("read");
    if (n == 0) {
        int status;
        reap(child, "writer", &status);
        die_msg("%s: the child failed before it started (status %d)", mech, status);
    }
    if (close(fd) == -1)
        die("close");
}

static void say_ready(int fd)
{
    if (write_all(fd, "r", 1) == -1 || close(fd) == -1)
        die_child("write the ready byte");
}

/* Send: claim a slot, fill it in place, publish it. */
static void ring_send(struct ring *r, const char *mech, size_t size, uint64_t seq,
                      bool corrupt, bool child)
{
    unsigned char *p = ring_claim(r);
    if (p == NULL)
        ring_failed(r, mech, "waiting for a free slot", child);
    payload_fill(p, size, seq);
    if (corrupt)
        p[size - 1] ^= 1;
    if (ring_publish(r, size) == -1)
        ring_failed(r, mech, "announcing a filled slot", child);
}

/* Receive message SEQ, check every byte in place, give the slot back.  Returns
 * false (in a child) instead of dying when the check fails. */
static bool ring_take(struct ring *r, const char *mech, size_t size, uint64_t seq, bool child)
{
    struct ring_msg m;
    int got = ring_receive(r, &m);
    if (got == -1)
        ring_failed(r, mech, "waiting for a filled slot", child);
    if (got == RING_END)
        die_msg("%s: the writer ended after %llu messages", mech, (unsigned long long)seq);
    if (got == RING_BAD || m.len != size) {
        if (child) {
            warn_sys("%s: a bad slot: %s", mech, got == RING_BAD ? r->problem : "wrong length");
            _exit(1);
        }
        die_msg("%s: message %llu: %s", mech, (unsigned long long)seq,
                got == RING_BAD ? r->problem : "wrong length");
    }
    bool ok = payload_check(m.data, 0, size, seq);
    if (!ok && !child)
        payload_mismatch(mech, size, m.data, 0, size, seq);
    if (ring_release(r) == -1)
        ring_failed(r, mech, "giving a slot back", child);
    return ok;
}

static void expect_end(struct ring *r, const char *mech)
{
    struct ring_msg m;
    int got = ring_receive(r, &m);
    if (got == -1)
        ring_failed(r, mech, "waiting for the end token", false);
    if (got != RING_END)
        die_msg("%s: more messages arrived than were sent", mech);
}

void shm_transfer(bool one_slot, size_t size, long warm, long count, struct timing *t)
{
    const char *mech = one_slot ? "shm1" : "shm";
    struct ring *r = &live[0];
    unsigned slots = slots_for(one_slot, size);
    /* The warm-up goes round the ring twice: every page of every slot has been
     * touched by both processes before the clock starts. */
    if (warm < 2 * (long)slots)
        warm = 2 * (long)slots;
    long total = warm + count;
    make_ring(r, slots, size);
    int hold[2] = { hold_fifo(filled[0]), hold_fifo(freed[0]) };
    int ready[2];
    if (pipe(ready) == -1)
        die("pipe");

    pid_t child = fork_child("writer", ROLE_WRITER);
    if (child == 0) {
        if (close(ready[0]) == -1 || close(hold[0]) == -1 || close(hold[1]) == -1)
            die_child("close");
        /* Our copy of the creator's struct ring is a fresh writer: all credits. */
        if (ring_open_writer(r, filled[0], freed[0], 0) == -1)
            ring_failed(r, mech, "opening the FIFOs", true);
        say_ready(ready[1]);
        bool corrupt = corrupt_for(mech);
        for (long seq = 0; seq < total; seq++)
            ring_send(r, mech, size, (uint64_t)seq, corrupt && seq == total - 1, true);
        if (ring_finish(r) == -1)
            ring_failed(r, mech, "finishing", true);
        ring_close(r);
        ring_detach(r);
        _exit(0);
    }

    if (close(ready[1]) == -1)
        die("close");
    if (ring_open_reader(r, filled[0], freed[0]) == -1)
        ring_failed(r, mech, "opening the FIFOs", false);
    wait_ready(ready[0], mech, child);
    if (close(hold[0]) == -1 || close(hold[1]) == -1)
        die("close");
    double t0 = now();
    for (long seq = 0; seq < total; seq++) {
        ring_take(r, mech, size, (uint64_t)seq, false);
        if (seq + 1 == warm)
            t0 = now();
    }
    t->seconds = now() - t0;
    t->messages = count;
    expect_end(r, mech);
    if (ring_close(r) == -1 || ring_detach(r) == -1)
        die("%s: close the ring", mech);
    reap_or_die(child, "writer", mech);
}

/* The echo child of shm_roundtrip(): each request on THERE answered on BACK. */
static _Noreturn void echo_child(struct ring *there, struct ring *back, size_t size,
                                 long total, int ready_fd)
{
    const char *mech = "shm";
    if (ring_open_reader(there, filled[0], freed[0]) == -1)
        ring_failed(there, mech, "opening the FIFOs", true);
    if (ring_open_writer(back, filled[1], freed[1], 0) == -1)
        ring_failed(back, mech, "opening the FIFOs", true);
    say_ready(ready_fd);
    bool corrupt = corrupt_for(mech);
    for (long seq = 0; seq < total; seq++) {
        if (!ring_take(there, mech, size, (uint64_t)seq, true)) {
            warn_sys("%s: request %ld is corrupted", mech, seq);
            _exit(1);
        }
        ring_send(back, mech, size, (uint64_t)seq | ANSWER, corrupt && seq == total - 1, true);
    }
    if (ring_finish(back) == -1)
        ring_failed(back, mech, "finishing", true);
    struct ring_msg m;
    if (ring_receive(there, &m) != RING_END)
        _exit(1);
    for (int i = 0; i < 2; i++) {
        ring_close(&live[i]);
        ring_detach(&live[i]);
    }
    _exit(0);
}

/* Round trips over two one-slot rings, one each way: the request's "filled"
 * byte wakes the echo child, the answer's wakes us. */
void shm_roundtrip(size_t size, long warm, long count, struct latency *l)
{
    const char *mech = "shm";
    long total = warm + count;
    struct ring *there = &live[0], *back = &live[1];
    make_ring(there, 1, size);
    make_ring(back, 1, size);
    int hold[4] = { hold_fifo(filled[0]), hold_fifo(freed[0]), hold_fifo(filled[1]),
                    hold_fifo(freed[1]) };
    int ready[2];
    if (pipe(ready) == -1)
        die("pipe");

    pid_t child = fork_child("echo", ROLE_WRITER);
    if (child == 0) {
        if (close(ready[0]) == -1)
            die_child("close");
        for (int i = 0; i < 4; i++)
            if (close(hold[i]) == -1)
                die_child("close");
        echo_child(there, back, size, total, ready[1]);
    }

    if (close(ready[1]) == -1)
        die("close");
    if (ring_open_writer(there, filled[0], freed[0], 0) == -1)
        ring_failed(there, mech, "opening the FIFOs", false);
    if (ring_open_reader(back, filled[1], freed[1]) == -1)
        ring_failed(back, mech, "opening the FIFOs", false);
    wait_ready(ready[0], mech, child);
    for (int i = 0; i < 4; i++)
        if (close(hold[i]) == -1)
            die("close");
    double *rtt = malloc((size_t)count * sizeof *rtt);
    if (rtt == NULL)
        die("malloc");
    for (long seq = 0; seq < total; seq++) {
        double t0 = now();
        ring_send(there, mech, size, (uint64_t)seq, false, false);
        ring_take(back, mech, size, (uint64_t)seq | ANSWER, false);
        if (seq >= warm)
            rtt[seq - warm] = now() - t0;
    }
    /* The child finished "back" first; now we finish "there", then both close. */
    expect_end(back, mech);
    if (ring_close(back) == -1)
        die("%s: close", mech);
    if (ring_finish(there) == -1)
        ring_failed(there, mech, "finishing", false);
    for (int i = 0; i < 2; i++)
        if (ring_close(&live[i]) == -1 || ring_detach(&live[i]) == -1)
            die("%s: close the ring", mech);
    reap_or_die(child, "echo child", mech);
    latency_summary(rtt, count, l);
    free(rtt);
}
