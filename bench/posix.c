/* posix.c - posix-mq, posix-shm and posix-shm1: the POSIX mechanisms, measured.
 *
 * posix-mq: a POSIX message queue (mq_open, mq_send, mq_receive).  Like msgq it
 * keeps message boundaries and copies each message into the kernel and out; every
 * message is checked, length and bytes.
 *
 * posix-shm: a ring of slots in a POSIX shared memory object (shm_open, mmap),
 * with two unnamed process-shared semaphores inside it (sem_init(.., 1, ..)):
 *
 *      writer                                                         reader
 *   fills slots in place --->  [filled][freed][batch lengths][slot 0]...[slot N-1]
 *   every BATCH messages:  sem_post(filled)  -->  sem_wait(filled): check the batch
 *   sem_wait(freed) when no slot is free  <--  sem_post(freed): the batch's slots back
 *
 * The semaphores count batches, not messages: the writer posts "filled" once per
 * 64 messages, or for fewer when it would have to wait for a free slot or has no
 * more to send (so the reader is never kept waiting for a batch that cannot fill).
 * A post that wakes nobody costs no system call (glibc's semaphores are futexes),
 * so a busy ring moves 64 messages per hand-over.  posix-shm1 is the same ring
 * with one post per message: the difference between the two is the cost of
 * synchronising, since both copy nothing.
 *
 * As for shm, the writer is a fork()ed child: it inherits the mapping (and the
 * queue descriptors), so each name is unlinked as soon as it exists and both
 * processes hold the object -- the kernel frees it when both are gone, even after
 * kill -9.  A name that is nevertheless there (a kill -9 in between) is judged
 * by leftover.c's verdict.  Nothing in the segment is trusted: the reader keeps
 * the geometry itself and checks each batch length and each slot header.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    BATCH = 64,                 /* messages per post of posix-shm */
    MAX_SLOTS = 256,            /* the ring's slots: as for shm (shmbench.c) */
    RING_BYTES = 2 * 1024 * 1024,
    NBATCHES = 2 * MAX_SLOTS,   /* batch lengths in flight: at most a slot each, + end */
    LINE = 64,
};

/* ---- the names ---- */

static char mq_name[2][NAME_MAX], shm_name[NAME_MAX];
static bool mq_named[2], shm_named;     /* created, not unlinked yet */
static mqd_t queues[2] = { (mqd_t)-1, (mqd_t)-1 };
static void *mapping;
static size_t mapped;

static void posix_names_make(void)
{
    posix_name(mq_name[0], sizeof mq_name[0], "bench-mq");
    posix_name(mq_name[1], sizeof mq_name[1], "bench-mq-back");
    posix_name(shm_name, sizeof shm_name, "bench-shm");
}

const char *posix_names(bool mq, bool shm)
{
    static char line[3 * NAME_MAX + 16];
    posix_names_make();
    snprintf(line, sizeof line, "%s%s%s%s%s", mq ? mq_name[0] : "", mq ? ", " : "",
             mq ? mq_name[1] : "", mq && shm ? ", " : "", shm ? shm_name : "");
    return line;
}

/* ---- posix-mq ---- */

static long mq_limit(const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", what);
    return proc_long(path, what[3] == 's' ? 8192 : 10);     /* msgsize_max, msg_max */
}

bool posix_supports(enum mech m, size_t size, const char **why)
{
    static char reason[64];
    long most = mq_limit("msgsize_max");
    if (m == M_PMQ && (long)size > most) {
        snprintf(reason, sizeof reason, "above msgsize_max (%ld B)", most);
        *why = reason;
        return false;
    }
    return true;
}

/* A new queue for SIZE-byte messages, as deep as msg_max allows, unlinked at once. */
static mqd_t open_queue(int which, size_t size)
{
    struct mq_attr attr = { .mq_maxmsg = mq_limit("msg_max"), .mq_msgsize = (long)size };
    mqd_t q = mq_open(mq_name[which], O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == (mqd_t)-1 && errno == EEXIST)
        die_msg("posix-mq: %s appeared during the run (another bench/ipcbench with %s?)",
                mq_name[which], ipc_dir());
    if (q == (mqd_t)-1)
        die("posix-mq: mq_open %s (%ld messages of %zu bytes: see /proc/sys/fs/mqueue and "
            "ulimit -q)", mq_name[which], attr.mq_maxmsg, size);
    mq_named[which] = true;
    queues[which] = q;
    if (mq_unlink(mq_name[which]) == -1)
        die("posix-mq: mq_unlink %s", mq_name[which]);
    mq_named[which] = false;
    return q;
}

static void close_queue(int which)
{
    if (queues[which] != (mqd_t)-1 && mq_close(queues[which]) == -1)
        die("posix-mq: mq_close");
    queues[which] = (mqd_t)-1;
}

static void mq_put(mqd_t q, const void *buf, size_t size, bool child)
{
    while (mq_send(q, buf, size, 0) == -1) {
        if (errno != EINTR || child) {
            if (child)
                die_child("posix-mq: mq_send");
            die("posix-mq: mq_send");
        }
        after_eintr("posix-mq");
    }
}

/* Receive one message: exactly SIZE bytes, or the run fails. */
static void mq_get(mqd_t q, void *buf, size_t size, bool child)
{
    for (;;) {
        ssize_t n = mq_receive(q, buf, size, NULL);
        if (n == (ssize_t)size)
            return;
        if (n >= 0) {
            if (child) {
                warn_msg("posix-mq: a message of %zd bytes, expected %zu", n, size);
                _exit(1);
            }
            die_msg("posix-mq: a message of %zd bytes, expected %zu", n, size);
        }
        if (errno != EINTR || child) {
            if (child)
                die_child("posix-mq: mq_receive");
            die("posix-mq: mq_receive");
        }
        after_eintr("posix-mq");
    }
}

void pmq_transfer(size_t size, long warm, long count, struct timing *t)
{
    const char *mech = "posix-mq";
    long total = warm + count;
    mqd_t q = open_queue(0, size);
    unsigned char *buf = buffer(size);
    pid_t child = fork_child("writer", ROLE_WRITER);
    if (child == 0) {
        bool corrupt = corrupt_for(mech);
        for (long seq = 0; seq < total; seq++) {
            payload_fill(buf, size, (uint64_t)seq);
            if (corrupt && seq == total - 1)
                buf[size - 1] ^= 1;
            mq_put(q, buf, size, true);
        }
        free(buf);
        if (mq_close(q) == -1)
            die_child("%s: mq_close", mech);
        _exit(0);
    }
    double t0 = now();
    for (long seq = 0; seq < total; seq++) {
        mq_get(q, buf, size, false);
        if (!payload_check(buf, 0, size, (uint64_t)seq))
            payload_mismatch(mech, size, buf, 0, size, (uint64_t)seq);
        if (seq + 1 == warm)
            t0 = now();
    }
    t->seconds = now() - t0;
    t->messages = count;
    free(buf);
    reap_or_die(child, "writer", mech);
    close_queue(0);
}

void pmq_roundtrip(size_t size, long warm, long count, struct latency *l)
{
    const char *mech = "posix-mq";
    long total = warm + count;
    mqd_t there = open_queue(0, size), back = open_queue(1, size);
    unsigned char *buf = buffer(size);
    pid_t child = fork_child("echo", ROLE_WRITER);
    if (child == 0) {
        bool corrupt = corrupt_for(mech);
        for (long seq = 0; seq < total; seq++) {
            mq_get(there, buf, size, true);
            if (!payload_check(buf, 0, size, (uint64_t)seq)) {
                warn_msg("%s: request %ld is corrupted", mech, seq);
                _exit(1);
            }
            payload_fill(buf, size, (uint64_t)seq | ANSWER);
            if (corrupt && seq == total - 1)
                buf[size - 1] ^= 1;
            mq_put(back, buf, size, true);
        }
        free(buf);
        if (mq_close(there) == -1 || mq_close(back) == -1)
            die_child("%s: mq_close", mech);
        _exit(0);
    }
    double *rtt = malloc((size_t)count * sizeof *rtt);
    if (rtt == NULL)
        die("malloc");
    for (long seq = 0; seq < total; seq++) {
        double t0 = now();
        payload_fill(buf, size, (uint64_t)seq);
        mq_put(there, buf, size, false);
        mq_get(back, buf, size, false);
        if (!payload_check(buf, 0, size, (uint64_t)seq | ANSWER))
            payload_mismatch(mech, size, buf, 0, size, (uint64_t)seq | ANSWER);
        if (seq >= warm)
            rtt[seq - warm] = now() - t0;
    }
    free(buf);
    reap_or_die(child, "echo child", mech);
    close_queue(0);
    close_queue(1);
    latency_summary(rtt, count, l);
    free(rtt);
}

/* ---- posix-shm: the ring ---- */

struct ring_head {
    _Alignas(LINE) sem_t filled;        /* batches published, not yet taken */
    _Alignas(LINE) sem_t freed;         /* batches given back, not yet reused */
    _Alignas(LINE) uint32_t batch_len[NBATCHES];   /* 0: the end */
};

struct slot_head {
    uint64_t seq, len;                  /* message number + 1, bytes */
    unsigned char pad[LINE - 16];
};

/* One process's view of a ring: the geometry is its own, never read back. */
struct pring {
    struct ring_head *h;
    unsigned char *slots;
    unsigned nslots, batch;
    size_t size, stride;
    /* writer */
    uint64_t head;                      /* messages written */
    unsigned free, in_batch;            /* slots it may fill; filled, not posted */
    unsigned pending[NBATCHES];         /* lengths of the posted batches, oldest first */
    uint64_t posted, returned;          /* batches posted; given back */
    /* reader */
    uint64_t taken, batches;            /* messages checked; batches received */
    unsigned left;                      /* messages of the current batch to check */
};

/* As many slots as fit in RING_BYTES, 2 to MAX_SLOTS: posix-shm1 has the same
 * ring, only its posts differ. */
static unsigned slots_for(size_t size)
{
    size_t n = RING_BYTES / size;
    return n < 2 ? 2 : n > MAX_SLOTS ? MAX_SLOTS : (unsigned)n;
}

static size_t stride_for(size_t size)
{
    return sizeof(struct slot_head) + (size + LINE - 1) / LINE * LINE;
}

static size_t ring_bytes(unsigned nslots, size_t size)
{
    return sizeof(struct ring_head) + nslots * stride_for(size);
}

/* Set up a ring at BASE (zeroed: every slot header says "nothing yet"). */
static void pring_init(struct pring *r, void *base, unsigned nslots, size_t size,
                       unsigned batch)
{
    *r = (struct pring){ .h = base, .nslots = nslots, .batch = batch, .size = size,
                         .stride = stride_for(size), .free = nslots };
    r->slots = (unsigned char *)base + sizeof(struct ring_head);
    if (sem_init(&r->h->filled, 1, 0) == -1 || sem_init(&r->h->freed, 1, 0) == -1)
        die("posix-shm: sem_init");
}

static void pring_destroy(struct pring *r)
{
    if (sem_destroy(&r->h->filled) == -1 || sem_destroy(&r->h->freed) == -1)
        die("posix-shm: sem_destroy");
}

static struct slot_head *slot(const struct pring *r, uint64_t n)
{
    return (struct slot_head *)(r->slots + (size_t)(n % r->nslots) * r->stride);
}

/* sem_wait, through the tick (see transfer.c): a child that died is noticed. */
static void wait_sem(sem_t *s, const char *mech, bool child)
{
    while (sem_wait(s) == -1) {
        if (errno != EINTR || child) {
            if (child)
                die_child("%s: sem_wait", mech);
            die("%s: sem_wait", mech);
        }
        after_eintr(mech);
    }
}

static void post_sem(sem_t *s, const char *mech, bool child)
{
    if (sem_post(s) == -1) {
        if (child)
            die_child("%s: sem_post", mech);
        die("%s: sem_post", mech);
    }
}

/* Writer: publish the messages written since the last post as one batch. */
static void pring_flush(struct pring *r, const char *mech, bool child)
{
    if (r->in_batch == 0)
        return;
    r->h->batch_len[r->posted % NBATCHES] = r->in_batch;
    r->pending[r->posted % NBATCHES] = r->in_batch;
    r->posted++;
    r->in_batch = 0;
    post_sem(&r->h->filled, mech, child);   /* V(filled): makes the stores visible */
}

/* Writer: message SEQ into the next slot, waiting for a free one if need be. */
static void pring_send(struct pring *r, const char *mech, uint64_t seq, bool corrupt,
                       bool child)
{
    while (r->free == 0) {
        pring_flush(r, mech, child);        /* never wait on a batch held back */
        wait_sem(&r->h->freed, mech, child);    /* P(freed): the oldest batch is back */
        r->free += r->pending[r->returned++ % NBATCHES];
    }
    struct slot_head *s = slot(r, r->head);
    unsigned char *p = (unsigned char *)(s + 1);
    payload_fill(p, r->size, seq);
    if (corrupt)
        p[r->size - 1] ^= 1;
    s->seq = ++r->head;
    s->len = r->size;
    r->free--;
    if (++r->in_batch == r->batch)
        pring_flush(r, mech, child);
}

static void pring_end(struct pring *r, const char *mech, bool child)
{
    pring_flush(r, mech, child);
    r->h->batch_len[r->posted++ % NBATCHES] = 0;
    post_sem(&r->h->filled, mech, child);
}

/* Reader: the next batch's length, 0 for the end; checked, never trusted. */
static unsigned next_batch(struct pring *r, const char *mech, bool child)
{
    wait_sem(&r->h->filled, mech, child);
    uint32_t n = r->h->batch_len[r->batches++ % NBATCHES];
    if (n > r->batch || n > r->nslots) {
        if (child) {
            warn_msg("%s: a batch of %lu messages on a ring of %u", mech, (unsigned long)n,
                     r->nslots);
            _exit(1);
        }
        die_msg("%s: a batch of %lu messages on a ring of %u", mech, (unsigned long)n,
                r->nslots);
    }
    return n;
}

/* Reader: check message SEQ in place; give the batch back after its last.  False
 * (in a child) when a byte is wrong. */
static bool pring_take(struct pring *r, const char *mech, uint64_t seq, bool child)
{
    if (r->left == 0 && (r->left = next_batch(r, mech, child)) == 0) {
        if (child) {
            warn_msg("%s: the end token before message %llu", mech, (unsigned long long)seq);
            _exit(1);
        }
        die_msg("%s: the writer ended after %llu messages", mech, (unsigned long long)seq);
    }
    const struct slot_head *s = slot(r, r->taken);
    uint64_t got = s->seq, len = s->len;
    if (got != r->taken + 1 || len != r->size) {
        if (child) {
            warn_msg("%s: message %llu: a bad slot header", mech, (unsigned long long)seq);
            _exit(1);
        }
        die_msg("%s: message %llu: the slot holds message %llu of %llu bytes", mech,
                (unsigned long long)seq, (unsigned long long)got - 1, (unsigned long long)len);
    }
    const unsigned char *p = (const unsigned char *)(s + 1);
    bool ok = payload_check(p, 0, r->size, seq);
    if (!ok && !child)
        payload_mismatch(mech, r->size, p, 0, r->size, seq);
    r->taken++;
    if (--r->left == 0)
        post_sem(&r->h->freed, mech, child);    /* V(freed): the batch's slots */
    return ok;
}

static void pring_expect_end(struct pring *r, const char *mech)
{
    if (r->left != 0 || next_batch(r, mech, false) != 0)
        die_msg("%s: more messages arrived than were sent", mech);
}

/* ---- posix-shm: the segment ---- */

/* A new shared memory object of SIZE bytes, mapped, its name unlinked at once. */
static void *map_segment(size_t size)
{
    int fd = shm_open(shm_name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd == -1 && errno == EEXIST)
        die_msg("posix-shm: %s appeared during the run (another bench/ipcbench with %s?)",
                shm_name, ipc_dir());
    if (fd == -1)
        die("posix-shm: shm_open %s", shm_name);
    shm_named = true;
    if (ftruncate(fd, (off_t)size) == -1)
        die("posix-shm: ftruncate %s to %zu bytes", shm_name, size);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("posix-shm: mmap %zu bytes", size);
    mapping = p;
    mapped = size;
    if (close(fd) == -1)
        die("posix-shm: close");
    if (shm_unlink(shm_name) == -1)
        die("posix-shm: shm_unlink %s", shm_name);
    shm_named = false;
    return p;
}

static void unmap_segment(void)
{
    if (mapping != NULL && munmap(mapping, mapped) == -1)
        die("posix-shm: munmap");
    mapping = NULL;
}

void pshm_transfer(bool batched, size_t size, long warm, long count, struct timing *t)
{
    const char *mech = batched ? "posix-shm" : "posix-shm1";
    unsigned nslots = slots_for(size);
    /* The warm-up goes round the ring twice, as for shm. */
    if (warm < 2 * (long)nslots)
        warm = 2 * (long)nslots;
    long total = warm + count;
    struct pring r;
    pring_init(&r, map_segment(ring_bytes(nslots, size)), nslots, size, batched ? BATCH : 1);
    pid_t child = fork_child("writer", ROLE_WRITER);
    if (child == 0) {
        bool corrupt = corrupt_for(mech);
        for (long seq = 0; seq < total; seq++)
            pring_send(&r, mech, (uint64_t)seq, corrupt && seq == total - 1, true);
        pring_end(&r, mech, true);
        _exit(0);
    }
    double t0 = now();
    for (long seq = 0; seq < total; seq++) {
        pring_take(&r, mech, (uint64_t)seq, false);
        if (seq + 1 == warm)
            t0 = now();
    }
    t->seconds = now() - t0;
    t->messages = count;
    pring_expect_end(&r, mech);
    reap_or_die(child, "writer", mech);
    pring_destroy(&r);
    unmap_segment();
}

unsigned pshm_slots(size_t size)
{
    return slots_for(size);
}

/* Round trips over two one-slot rings in one segment, one each way. */
void pshm_roundtrip(size_t size, long warm, long count, struct latency *l)
{
    const char *mech = "posix-shm";
    long total = warm + count;
    size_t one = ring_bytes(1, size);
    unsigned char *base = map_segment(2 * one);
    struct pring there, back;
    pring_init(&there, base, 1, size, 1);
    pring_init(&back, base + one, 1, size, 1);
    pid_t child = fork_child("echo", ROLE_WRITER);
    if (child == 0) {
        bool corrupt = corrupt_for(mech);
        for (long seq = 0; seq < total; seq++) {
            if (!pring_take(&there, mech, (uint64_t)seq, true)) {
                warn_msg("%s: request %ld is corrupted", mech, seq);
                _exit(1);
            }
            pring_send(&back, mech, (uint64_t)seq | ANSWER, corrupt && seq == total - 1, true);
        }
        _exit(0);
    }
    double *rtt = malloc((size_t)count * sizeof *rtt);
    if (rtt == NULL)
        die("malloc");
    for (long seq = 0; seq < total; seq++) {
        double t0 = now();
        pring_send(&there, mech, (uint64_t)seq, false, false);
        pring_take(&back, mech, (uint64_t)seq | ANSWER, false);
        if (seq >= warm)
            rtt[seq - warm] = now() - t0;
    }
    reap_or_die(child, "echo child", mech);
    pring_destroy(&there);
    pring_destroy(&back);
    unmap_segment();
    latency_summary(rtt, count, l);
    free(rtt);
}

/* ---- leftovers and cleanup ---- */

/* At exit: a name created and not unlinked yet (an error in between). */
void posix_cleanup(void)
{
    for (int i = 0; i < 2; i++) {
        if (mq_named[i] && mq_unlink(mq_name[i]) == -1 && errno != ENOENT)
            warn_sys("mq_unlink %s", mq_name[i]);
        mq_named[i] = false;
        if (queues[i] != (mqd_t)-1)
            (void)mq_close(queues[i]);     /* only going away: nothing to lose */
        queues[i] = (mqd_t)-1;
    }
    if (shm_named && shm_unlink(shm_name) == -1 && errno != ENOENT)
        warn_sys("shm_unlink %s", shm_name);
    shm_named = false;
    if (mapping != NULL)
        (void)munmap(mapping, mapped);
    mapping = NULL;
}

/* What a kill -9 between creating a name and unlinking it left: judged, removed. */
int posix_sweep(void)
{
    int removed = 0;
    char remove[PATH_MAX];
    struct stat st;
    posix_names_make();
    for (int i = 0; i < 2; i++) {
        mqd_t q = mq_open(mq_name[i], O_RDONLY);
        if (q == (mqd_t)-1) {
            if (errno != ENOENT)
                die("mq_open %s", mq_name[i]);
            continue;
        }
        bool seen = mq_stat(q, &st);
        if (mq_close(q) == -1 || !seen)
            die("fstat %s", mq_name[i]);
        snprintf(remove, sizeof remove, "rm /dev/mqueue%s (where mounted)", mq_name[i]);
        posix_leftover("POSIX message queue", mq_name[i], &st, remove);
        if (mq_unlink(mq_name[i]) == -1 && errno != ENOENT)
            die("mq_unlink %s", mq_name[i]);
        removed++;
    }
    int fd = shm_open(shm_name, O_RDONLY, 0);
    if (fd == -1 && errno != ENOENT)
        die("shm_open %s", shm_name);
    if (fd != -1) {
        if (fstat(fd, &st) == -1 || close(fd) == -1)
            die("fstat %s", shm_name);
        snprintf(remove, sizeof remove, "rm /dev/shm%s", shm_name);
        posix_leftover("POSIX shared memory object", shm_name, &st, remove);
        if (shm_unlink(shm_name) == -1 && errno != ENOENT)
            die("shm_unlink %s", shm_name);
        removed++;
    }
    return removed;
}
