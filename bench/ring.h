/* bench/ring.h - a ring of slots in System V shared memory, synchronised through
 * two FIFOs.  The benchmark's own copy, tuned for speed (shm/ has the lesson's ring).
 *
 * The segment: a header (geometry, written once by the creator), then SLOTS
 * slots, each a small slot header (sequence number, length) followed by
 * SLOT_SIZE bytes of payload.  Slots are used in ring order 0, 1, ..., SLOTS-1, 0, ...
 *
 *      writer                      segment                        reader
 *   fills slot i  ------>  [hdr][slot 0][slot 1]...[slot S-1]  <--- reads slot i
 *        |                                                           |
 *        +--- "filled" FIFO: one byte per filled slot, then 'E' ---->+
 *        +<-- "free" FIFO:   one byte (a credit) per slot given back -+
 *
 * A pipe's blocking read() is a counting semaphore: the bytes in the pipe are
 * the count, read() takes from it and sleeps while it is zero.  The reader sets
 * the initial value: its first ring_receive() sends SLOTS credits, so the
 * writer's first ring_claim() waits for it.  The writer fills a slot only while
 * it holds a credit; the reader reads a slot only after its "filled" byte arrived.  So the writer never overwrites a
 * slot the reader has not finished, and the reader never reads a slot the writer
 * has not finished: nothing lost, duplicated, reordered or torn.  Several tokens
 * are moved per read() when several are waiting, and the reader gives credits
 * back in batches of SLOTS/4: on a busy ring the writer makes one write(2) per
 * message and a fraction of a read(2), the reader a fraction of each.
 *
 * Nothing in the segment or on the FIFOs is trusted: the writer validates the
 * geometry against the kernel's size of the segment, the reader validates each
 * slot header (length within the slot, the expected sequence number) and each
 * token byte.  The reader keeps its own copy of the geometry and never reads it
 * back from shared memory.
 *
 * No printing, no policy: functions return -1 (or NULL) with errno set, and for
 * EPROTO/EBADMSG a short reason in r->problem.  EINTR is returned only when a
 * stop signal was caught (common.h's stop_signal); other EINTRs are retried.
 * With -v (common.h's verbose) every system call is traced on stderr.
 * The caller must ignore SIGPIPE: a vanished peer is reported as EPIPE.
 *
 * The writer side:                        The reader side (creates everything):
 *   ring_attach(&r, key)                    ring_create(&r, key, slots, slot_size)
 *                                           mkfifo filled and free, 0600
 *   ring_open_writer(&r, filled, free, fl)  ring_open_reader(&r, filled, free)
 *   loop: p = ring_claim(&r);               loop: ring_receive(&r, &m) == RING_MSG
 *         write up to r.slot_size at p;           use m.data[0 .. m.len)
 *         ring_publish(&r, len);                  ring_release(&r);
 *   ring_finish(&r)                         (RING_END: the writer finished)
 *   ring_close(&r); ring_detach(&r)         ring_close(&r); ring_detach(&r);
 *                                           ring_remove(&r); unlink the FIFOs
 */
#ifndef IPC_DEMOS_SHM_RING_H
#define IPC_DEMOS_SHM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>

enum {
    RING_MAX_SLOTS = 1024,
    RING_TOKEN_BATCH = 256,      /* tokens taken per read() at most */
};
#define RING_MAX_SLOT_SIZE ((size_t)1 << 30)

/* Flags the writer passes to ring_open_writer; the reader finds them in r->flags. */
enum {
    RING_UNSYNC = 1u << 0,       /* the writer ignores credits once handed the ring
                                    (the race, on purpose); the reader sends no more */
    RING_APP_FLAGS = 0xffu << 8, /* bits the ring only carries, for the application */
};

struct ring_header;              /* the segment's layout is private to ring.c */

struct ring {
    int shmid;                   /* -1 when none */
    struct ring_header *hdr;     /* where the segment is attached, NULL when not */
    size_t size;                 /* bytes of the segment */
    unsigned slots;              /* the geometry: validated, kept locally */
    size_t slot_size;            /* payload bytes per slot */
    size_t stride;               /* bytes from one slot to the next */
    unsigned flags;              /* RING_UNSYNC and the application's bits */
    int filled_fd, free_fd;      /* the two FIFOs, -1 when closed */
    uint64_t seq;                /* writer: messages published; reader: received */
    const char *problem;         /* why the last EPROTO or EBADMSG happened */
    /* private bookkeeping */
    unsigned credits;            /* writer: slots it may fill without waiting */
    bool claimed;                /* writer: the next slot is claimed */
    bool started;                /* writer: the reader has handed over the ring */
    unsigned held;               /* reader: slots received, not yet released */
    unsigned owed;               /* reader: credits due, not yet sent */
    unsigned granted;            /* reader: credits sent, not yet used by a token */
    bool ended;                  /* the end token was sent / received */
    unsigned tok_pos, tok_len;
    unsigned char tokens[RING_TOKEN_BATCH];
};

/* A received message: DATA points into the slot (valid until ring_release), LEN
 * bytes, SEQ the slot header's sequence number (1 for the first message). */
struct ring_msg {
    const unsigned char *data;
    size_t len;
    uint64_t seq;
};

/* ---- the segment ---- */

/* Bytes a segment of SLOTS slots of SLOT_SIZE bytes needs; 0 when either is out
 * of range (1..RING_MAX_SLOTS, 1..RING_MAX_SLOT_SIZE). */
size_t ring_size(unsigned slots, size_t slot_size);

/* Creator: shmget(KEY, ring_size(), IPC_CREAT | IPC_EXCL | 0600), shmat, write the
 * header.  errno EEXIST: a segment exists for KEY (see ring_lookup); EINVAL: the
 * size is outside the system's limits (or SLOTS/SLOT_SIZE out of range). */
int ring_create(struct ring *r, key_t key, unsigned slots, size_t slot_size);

/* The other side: find KEY's segment, attach it, validate its header against the
 * kernel's size of the segment and copy the geometry.  errno ENOENT: no segment
 * for KEY; EPROTO: not a valid ring (r->problem says why; nothing stays attached). */
int ring_attach(struct ring *r, key_t key);

int ring_detach(struct ring *r);             /* shmdt; nothing when not attached */
int ring_remove(struct ring *r);             /* shmctl(IPC_RMID) on r->shmid */

/* The segment that exists for KEY: returns its shmid and fills *DS (IPC_STAT), or
 * -1 with errno ENOENT when there is none. */
int ring_lookup(key_t key, struct shmid_ds *ds);

/* ---- the FIFOs ---- */

/* Reader: open FILLED for reading (blocks until a writer opens it), then FREE
 * for writing; then reads the writer's flags into r->flags.  The writer is
 * attached and waiting for its first credits, which the first ring_receive()
 * sends: until then, the reader can look at the segment undisturbed. */
int ring_open_reader(struct ring *r, const char *filled, const char *free_path);

/* Writer: claim the ring (errno EBUSY when another writer holds it), publish
 * FLAGS, open FILLED for writing (errno ENXIO at once when no reader has it
 * open), then FREE for reading.  It starts with no credit: the first
 * ring_claim() waits for the reader's first ring_receive(). */
int ring_open_writer(struct ring *r, const char *filled, const char *free_path,
                     unsigned flags);

int ring_close(struct ring *r);              /* close whichever FIFOs are open */

/* ---- messages ---- */

/* Writer: wait for a free slot (a credit; none needed with RING_UNSYNC) and return
 * its payload area, r->slot_size bytes, to fill in place.  NULL on error: errno
 * EPIPE when the reader is gone.  Claiming again before publishing returns the
 * same slot. */
void *ring_claim(struct ring *r);

/* Writer: the claimed slot now holds LEN bytes (LEN <= r->slot_size, else EINVAL):
 * stamp its header and announce it on the "filled" FIFO (errno EPIPE: the reader
 * is gone). */
int ring_publish(struct ring *r, size_t len);

/* Test aid: publish the claimed slot with a forged header (any SEQ, any LEN), as a
 * broken or hostile writer would; the reader must reject it. */
int ring_publish_forged(struct ring *r, uint64_t seq, uint64_t len);

/* Writer: send the end token, then wait until the reader has closed its side,
 * having given back every slot.  errno EPIPE when the reader went away first.
 * It does not touch the segment: the writer may ring_detach() before it. */
int ring_finish(struct ring *r);

enum { RING_END = 0, RING_MSG = 1, RING_BAD = 2 };

/* Reader: wait for the next filled slot.  Returns RING_MSG with *M filled in;
 * RING_END when the writer sent its end token; RING_BAD when the slot header is
 * invalid (r->problem says why; M->seq and M->len hold what it claimed, M->data is
 * NULL) -- the slot must still be released; or -1: errno EPIPE when the writer
 * closed without its end token (it died), EPROTO on a token that breaks the
 * protocol.  Without RING_UNSYNC a sequence number other than the expected one
 * is RING_BAD; with it, M->seq is reported as found (0: being rewritten). */
int ring_receive(struct ring *r, struct ring_msg *m);

/* Reader: give the oldest received slot back to the writer. */
int ring_release(struct ring *r);

/* Reader, with RING_UNSYNC: true while M's slot still holds the message that
 * ring_receive found (call it after copying M->data: false means it was torn). */
bool ring_unchanged(const struct ring *r, const struct ring_msg *m);

#endif
