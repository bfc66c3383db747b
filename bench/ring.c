/* bench/ring.c - see ring.h for the protocol. */
#include "ring.h"
#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Both processes use these fields at once through their own mapping: the atomic
 * operations must not hide a lock inside one process. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "the ring needs lock-free atomics in shared memory");

#define RING_MAGIC   0x474e4952u          /* "RING" in memory on little-endian */
#define RING_VERSION 1u
#define TOKEN_FILLED 'F'
#define TOKEN_END    'E'
#define TOKEN_CREDIT 'C'
#define LINE         64                   /* a cache line: slots start on one */

/* Written once by the creator; to anyone else, untrusted input. */
struct ring_geometry {
    uint32_t magic, version;
    uint32_t header_size;                 /* offset of slot 0 */
    uint32_t slots;
    uint64_t slot_size;                   /* payload bytes per slot */
    uint64_t stride;                      /* slot header + payload, rounded up */
};

struct ring_header {
    struct ring_geometry g;
    atomic_uint writer;                   /* pid of the writer holding the ring */
    atomic_uint flags;                    /* what that writer announced */
    unsigned char pad[LINE - sizeof(struct ring_geometry) - 2 * sizeof(atomic_uint)];
};

struct ring_slot {
    atomic_ullong seq;                    /* number of the message held, 0 while written */
    atomic_ullong len;
    unsigned char pad[LINE - 2 * sizeof(atomic_ullong)];
    /* then slot_size bytes of payload */
};

_Static_assert(sizeof(struct ring_header) == LINE, "one cache line of header");
_Static_assert(sizeof(struct ring_slot) == LINE, "one cache line per slot header");

static size_t stride_for(size_t slot_size)
{
    return (sizeof(struct ring_slot) + slot_size + LINE - 1) / LINE * LINE;
}

size_t ring_size(unsigned slots, size_t slot_size)
{
    if (slots < 1 || slots > RING_MAX_SLOTS || slot_size < 1 || slot_size > RING_MAX_SLOT_SIZE)
        return 0;
    size_t stride = stride_for(slot_size);
    if (stride > (SIZE_MAX - sizeof(struct ring_header)) / slots)
        return 0;                          /* would not fit a size_t (32-bit) */
    return sizeof(struct ring_header) + slots * stride;
}

static void ring_init(struct ring *r)
{
    memset(r, 0, sizeof *r);
    r->shmid = -1;
    r->filled_fd = r->free_fd = -1;
}

static struct ring_slot *slot_at(const struct ring *r, uint64_t n)
{
    size_t index = (size_t)(n % r->slots);
    return (struct ring_slot *)((char *)r->hdr + sizeof(struct ring_header) + index * r->stride);
}

static unsigned char *payload(struct ring_slot *s)
{
    return (unsigned char *)(s + 1);
}

static int fail(struct ring *r, int err, const char *why)
{
    r->problem = why;
    errno = err;
    return -1;
}

/* ---- the segment ---- */

/* shmat: the kernel picks the address (NULL), read and write (flags 0). */
static void *attach(int id)
{
    void *base = shmat(id, NULL, 0);
    if (base == (void *)-1) {
        traced(-1, "shmat(%d, NULL, 0)", id);
        return NULL;
    }
    trace("shmat(%d, NULL, 0) = %p", id, base);
    return base;
}

int ring_create(struct ring *r, key_t key, unsigned slots, size_t slot_size)
{
    ring_init(r);
    size_t size = ring_size(slots, slot_size);
    if (size == 0)
        return fail(r, EINVAL, "slot count or slot size out of range");
    int id = (int)traced(shmget(key, size, IPC_CREAT | IPC_EXCL | 0600),
                         "shmget(0x%08lx, %zu, IPC_CREAT|IPC_EXCL|0600)",
                         (unsigned long)key, size);
    if (id == -1)
        return -1;
    void *base = attach(id);
    if (base == NULL) {
        int saved = errno;
        (void)shmctl(id, IPC_RMID, NULL);
        errno = saved;
        return -1;
    }
    r->shmid = id;
    r->hdr = base;
    r->size = size;
    r->slots = slots;
    r->slot_size = slot_size;
    r->stride = stride_for(slot_size);
    /* A new segment is all zeroes: every slot header says "nothing yet". */
    struct ring_geometry g = {
        .magic = RING_MAGIC, .version = RING_VERSION,
        .header_size = sizeof(struct ring_header), .slots = slots,
        .slot_size = slot_size, .stride = r->stride,
    };
    memcpy(&r->hdr->g, &g, sizeof g);
    atomic_store(&r->hdr->writer, 0);
    atomic_store(&r->hdr->flags, 0);
    return 0;
}

int ring_lookup(key_t key, struct shmid_ds *ds)
{
    int id = (int)traced(shmget(key, 0, 0), "shmget(0x%08lx, 0, 0)", (unsigned long)key);
    if (id == -1)
        return -1;
    if (traced(shmctl(id, IPC_STAT, ds), "shmctl(%d, IPC_STAT)", id) == -1)
        return -1;
    return id;
}

/* The header is read once, into a local copy, and only the copy is checked and
 * used: a writer's later change to the shared header cannot undo the checks. */
static int validate(struct ring *r, size_t segment_size)
{
    struct ring_geometry g;
    memcpy(&g, &r->hdr->g, sizeof g);
    if (g.magic != RING_MAGIC)
        return fail(r, EPROTO, "no ring header (wrong magic number): not a segment made by shm/reader");
    if (g.version != RING_VERSION)
        return fail(r, EPROTO, "ring header of another version");
    if (g.header_size != sizeof(struct ring_header))
        return fail(r, EPROTO, "ring header of an unexpected size");
    if (g.slots < 1 || g.slots > RING_MAX_SLOTS)
        return fail(r, EPROTO, "slot count out of range");
    if (g.slot_size < 1 || g.slot_size > RING_MAX_SLOT_SIZE)
        return fail(r, EPROTO, "slot size out of range");
    if (g.stride != stride_for((size_t)g.slot_size))
        return fail(r, EPROTO, "slot stride does not match the slot size");
    size_t need = ring_size(g.slots, (size_t)g.slot_size);
    if (need == 0 || need > segment_size)
        return fail(r, EPROTO, "the header describes more slots than the segment holds");
    r->slots = g.slots;
    r->slot_size = (size_t)g.slot_size;
    r->stride = (size_t)g.stride;
    return 0;
}

int ring_attach(struct ring *r, key_t key)
{
    ring_init(r);
    struct shmid_ds ds;
    int id = ring_lookup(key, &ds);
    if (id == -1)
        return -1;
    r->shmid = id;
    r->size = ds.shm_segsz;                /* the kernel's size, not the header's claim */
    if (r->size < sizeof(struct ring_header))
        return fail(r, EPROTO, "the segment is smaller than a ring header: not made by shm/reader");
    void *base = attach(id);
    if (base == NULL)
        return -1;
    r->hdr = base;
    if (validate(r, r->size) == -1) {
        int saved = errno;
        (void)ring_detach(r);
        errno = saved;
        return -1;
    }
    return 0;
}

int ring_detach(struct ring *r)
{
    if (r->hdr == NULL)
        return 0;
    int rc = (int)traced(shmdt(r->hdr), "shmdt(%p)", (void *)r->hdr);
    r->hdr = NULL;
    return rc;
}

int ring_remove(struct ring *r)
{
    if (r->shmid == -1)
        return 0;
    int rc = (int)traced(shmctl(r->shmid, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)", r->shmid);
    if (rc == 0)
        r->shmid = -1;
    return rc;
}

/* ---- the FIFOs ---- */

/* A stop signal caught just before a blocking call would not interrupt it: look
 * at the flag first. */
static bool stopping(void)
{
    if (stop_signal)
        errno = EINTR;
    return stop_signal != 0;
}

/* O_NOFOLLOW: a symlink planted at the path is refused, not followed; and what
 * opened must be a FIFO, not a file someone put there. */
static int open_fifo(struct ring *r, const char *path, int flags, const char *how)
{
    for (;;) {
        if (stopping())
            return -1;
        int fd = (int)traced(open(path, flags | O_CLOEXEC | O_NOFOLLOW), "open(\"%s\", %s)",
                             path, how);
        if (fd == -1 && errno == EINTR && !stop_signal)
            continue;
        if (fd == -1)
            return -1;
        struct stat st;
        if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
            (void)close(fd);
            return fail(r, EINVAL, "the path is not a FIFO");
        }
        return fd;
    }
}

int ring_open_reader(struct ring *r, const char *filled, const char *free_path)
{
    /* The open rendezvous: a FIFO opened for reading waits for a writer. */
    r->filled_fd = open_fifo(r, filled, O_RDONLY, "O_RDONLY");
    if (r->filled_fd == -1)
        return -1;
    r->free_fd = open_fifo(r, free_path, O_WRONLY, "O_WRONLY");
    if (r->free_fd == -1)
        return -1;
    /* The writer published its flags before it opened the first FIFO. */
    r->flags = atomic_load(&r->hdr->flags);
    /* The semaphore's initial value: every slot is free.  These credits go out
     * with the first ring_receive(), so the writer fills nothing before then. */
    r->owed = r->slots;
    r->granted = 0;
    return 0;
}

/* One writer at a time: the first to swap its pid into the header holds the ring.
 * A holder that died without connecting is replaced. */
static int claim_ring(struct ring *r)
{
    unsigned mine = (unsigned)getpid();
    unsigned holder = 0;
    while (!atomic_compare_exchange_strong(&r->hdr->writer, &holder, mine)) {
        if (process_running((pid_t)holder))
            return fail(r, EBUSY, "another writer holds the ring");
    }
    return 0;
}

int ring_open_writer(struct ring *r, const char *filled, const char *free_path,
                     unsigned flags)
{
    if (claim_ring(r) == -1)
        return -1;
    r->flags = flags;
    atomic_store(&r->hdr->flags, flags);
    /* O_NONBLOCK: with no reader, open() fails at once with ENXIO instead of
     * waiting for one that may never come (a reader killed by SIGKILL). */
    r->filled_fd = open_fifo(r, filled, O_WRONLY | O_NONBLOCK, "O_WRONLY|O_NONBLOCK");
    if (r->filled_fd == -1) {
        int saved = errno;
        atomic_store(&r->hdr->writer, 0);
        errno = saved;
        return -1;
    }
    int fl = fcntl(r->filled_fd, F_GETFL);
    if (fl == -1 || fcntl(r->filled_fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
        return -1;
    /* The reader is between its two open()s: this one waits for its second. */
    r->free_fd = open_fifo(r, free_path, O_RDONLY, "O_RDONLY");
    if (r->free_fd == -1)
        return -1;
    /* No credit yet: the first ring_claim() waits for the reader to hand over
     * the ring (its first ring_receive() sends SLOTS credits). */
    r->credits = 0;
    return 0;
}

int ring_close(struct ring *r)
{
    int rc = 0;
    if (r->filled_fd != -1 && traced(close(r->filled_fd), "close(%d)", r->filled_fd) == -1)
        rc = -1;
    if (r->free_fd != -1 && traced(close(r->free_fd), "close(%d)", r->free_fd) == -1)
        rc = -1;
    r->filled_fd = r->free_fd = -1;
    return rc;
}

/* ---- tokens ---- */

static int send_tokens(int fd, unsigned char token, unsigned count)
{
    unsigned char buf[RING_TOKEN_BATCH];
    while (count > 0) {
        unsigned n = count < sizeof buf ? count : (unsigned)sizeof buf;
        memset(buf, token, n);
        /* n <= PIPE_BUF: one write(2), all or nothing, never interleaved. */
        if (traced(write_all(fd, buf, n), "write(%d, \"%c\" x %u)", fd, token, n) == -1)
            return -1;
        count -= n;
    }
    return 0;
}

/* Read up to MAX tokens into r->tokens; 0 at end of file. */
static ssize_t take_tokens(struct ring *r, int fd, size_t max)
{
    if (max > sizeof r->tokens)
        max = sizeof r->tokens;
    for (;;) {
        if (stopping())
            return -1;
        ssize_t n = traced(read(fd, r->tokens, max), "read(%d, %zu)", fd, max);
        if (n != -1 || errno != EINTR || stop_signal)
            return n;
    }
}

/* ---- the writer ---- */

/* Sleep in read() until at least one credit is there; take all that are. */
static int take_credits(struct ring *r)
{
    ssize_t n = take_tokens(r, r->free_fd, r->slots);
    if (n == -1)
        return -1;
    if (n == 0)
        return fail(r, EPIPE, "the reader closed its side");
    for (ssize_t i = 0; i < n; i++)
        if (r->tokens[i] != TOKEN_CREDIT)
            return fail(r, EPROTO, "a byte that is not a credit on the free-slot FIFO");
    if ((size_t)n > r->slots - r->credits)
        return fail(r, EPROTO, "more credits than slots");
    r->credits += (unsigned)n;
    return 0;
}

void *ring_claim(struct ring *r)
{
    struct ring_slot *s = slot_at(r, r->seq);
    if (r->claimed)
        return payload(s);
    if (!(r->flags & RING_UNSYNC)) {
        /* P(): take a credit, sleeping in read() while there is none. */
        while (r->credits == 0)
            if (take_credits(r) == -1)
                return NULL;
        r->credits--;
    } else if (!r->started && take_credits(r) == -1) {
        return NULL;                       /* even racing, start when handed the ring */
    }
    r->started = true;
    /* Mark the slot "being written" before touching the payload, so that a reader
     * racing us (RING_UNSYNC) can tell a torn read. */
    atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    r->claimed = true;
    return payload(s);
}

static int announce(struct ring *r, uint64_t seq, uint64_t len)
{
    struct ring_slot *s = slot_at(r, r->seq);
    atomic_store_explicit(&s->len, len, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq, memory_order_release);
    r->seq++;
    r->claimed = false;
    /* V(): one byte says "one more slot is filled". */
    if (send_tokens(r->filled_fd, TOKEN_FILLED, 1) == -1)
        return errno == EPIPE ? fail(r, EPIPE, "the reader closed its FIFO") : -1;
    return 0;
}

int ring_publish(struct ring *r, size_t len)
{
    if (!r->claimed || len > r->slot_size)
        return fail(r, EINVAL, "publish without a claim, or a length larger than the slot");
    return announce(r, r->seq + 1, len);
}

int ring_publish_forged(struct ring *r, uint64_t seq, uint64_t len)
{
    if (!r->claimed)
        return fail(r, EINVAL, "publish without a claim");
    return announce(r, seq, len);
}

int ring_finish(struct ring *r)
{
    if (r->claimed) {                      /* claimed but never filled: hand it back */
        r->claimed = false;
        if (!(r->flags & RING_UNSYNC))
            r->credits++;
    }
    if (send_tokens(r->filled_fd, TOKEN_END, 1) == -1)
        return errno == EPIPE ? fail(r, EPIPE, "the reader closed its FIFO") : -1;
    r->ended = true;
    /* The reader gives back every slot and closes: end of file here.  Waiting for
     * it means a writer that exits 0 knows its messages were all taken. */
    for (;;) {
        ssize_t n = take_tokens(r, r->free_fd, sizeof r->tokens);
        if (n == -1)
            return -1;
        if (n == 0)
            break;
        r->credits += (unsigned)n;
    }
    if (!(r->flags & RING_UNSYNC) && r->credits != r->slots)
        return fail(r, EPIPE, "the reader closed before giving back every slot");
    return 0;
}

/* ---- the reader ---- */

/* Credits go back in batches: fewer write(2)s and fewer wake-ups of the writer,
 * yet it gets slots back before the ring runs dry. */
static unsigned credit_batch(const struct ring *r)
{
    return r->slots >= 4 ? r->slots / 4 : 1;
}

static int send_credits(struct ring *r)
{
    if (r->owed == 0)
        return 0;
    unsigned n = r->owed;
    r->owed = 0;
    r->granted += n;
    if (send_tokens(r->free_fd, TOKEN_CREDIT, n) == -1) {
        /* The writer closed its side: it is gone.  The next ring_receive() tells
         * whether it finished (end token) or died (end of file). */
        if (errno == EPIPE)
            return 0;
        return -1;
    }
    return 0;
}

int ring_receive(struct ring *r, struct ring_msg *m)
{
    m->data = NULL;
    m->len = 0;
    m->seq = 0;
    if (r->ended)
        return RING_END;
    if (r->tok_pos == r->tok_len) {
        /* About to sleep: first hand back every slot we are done with. */
        if (send_credits(r) == -1)
            return -1;
        ssize_t n = take_tokens(r, r->filled_fd, sizeof r->tokens);
        if (n == -1)
            return -1;
        if (n == 0)
            return fail(r, EPIPE, "the writer closed its FIFO without sending the end token");
        r->tok_pos = 0;
        r->tok_len = (unsigned)n;
    }
    unsigned char t = r->tokens[r->tok_pos++];
    if (t == TOKEN_END) {
        r->ended = true;
        if (r->tok_pos != r->tok_len)
            return fail(r, EPROTO, "bytes after the end token");
        if (send_credits(r) == -1)
            return -1;
        return RING_END;
    }
    if (t != TOKEN_FILLED)
        return fail(r, EPROTO, "a byte that is not a token on the filled-slot FIFO");
    bool sync = !(r->flags & RING_UNSYNC);
    if (sync) {
        if (r->granted == 0)
            return fail(r, EPROTO, "the writer filled more slots than it had credits");
        r->granted--;
    }

    struct ring_slot *s = slot_at(r, r->seq);
    m->seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    uint64_t len = atomic_load_explicit(&s->len, memory_order_relaxed);
    r->seq++;
    r->held++;
    m->len = len > SIZE_MAX ? SIZE_MAX : (size_t)len;
    if (len > r->slot_size) {
        r->problem = "the slot header claims more bytes than a slot holds";
        return RING_BAD;
    }
    if (sync && m->seq != r->seq) {
        r->problem = "the slot holds another message than the one announced";
        return RING_BAD;
    }
    m->data = payload(s);
    return RING_MSG;
}

int ring_release(struct ring *r)
{
    if (r->held == 0)
        return fail(r, EINVAL, "release without a received slot");
    r->held--;
    if (r->flags & RING_UNSYNC)
        return 0;                          /* the racing writer takes no credits */
    r->owed++;
    if (r->owed >= credit_batch(r))
        return send_credits(r);
    return 0;
}

bool ring_unchanged(const struct ring *r, const struct ring_msg *m)
{
    (void)r;
    if (m->data == NULL || m->seq == 0)
        return false;
    /* The seqlock reader's second look: the copy is good only if the slot's
     * number did not change while we copied. */
    atomic_thread_fence(memory_order_acquire);
    const struct ring_slot *s = (const struct ring_slot *)m->data - 1;
    return atomic_load_explicit(&s->seq, memory_order_relaxed) == m->seq;
}
