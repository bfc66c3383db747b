/* shm/shm.h - what shm/reader and shm/writer agree on: the segment's layout
 * and the two FIFOs that synchronise it.
 *
 *      writer                      segment                        reader
 *   fills slot i  ------>  [header][slot 0][slot 1]...[slot S-1]  <--- reads slot i
 *        |                                                           |
 *        +--- "filled" FIFO: one byte 'F' per filled slot, 'E' at the end -->+
 *        +<-- "free" FIFO:   one byte 'C' (a credit) per free slot -----------+
 *
 * A pipe's blocking read() is a counting semaphore: the bytes in the pipe are
 * the count, read() of one byte takes one (P) and sleeps while there is none,
 * write() of one byte adds one (V).  The reader puts SLOTS credits in the "free"
 * FIFO (every slot is free); the writer takes one before it fills a slot and
 * writes 'F' after; the reader reads 'F' before it reads a slot and writes a
 * credit after.  Message N (0, 1, ...) is in slot N % SLOTS.
 */
#ifndef IPC_DEMOS_SHM_H
#define IPC_DEMOS_SHM_H

#include "../common/common.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/shm.h>

/* Both processes use a slot's numbers at once (-u): no lock may hide inside. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "atomics in shared memory must be lock-free");

enum {
    SHM_MAGIC = 0x52696e67,       /* "Ring": a segment made by shm/reader */
    SHM_MAX_SLOTS = 1024,         /* SLOTS credits fit in a FIFO at once */
    SHM_MAX_SLOT_SIZE = 64 << 20,
    SHM_UNSYNC = 1,               /* header flags the writer sets: -u */
    GEN_MAX_LEN = 80, GEN_MAX_COUNT = 10000000,    /* -n: a message, COUNT */
};
#define FILLED_FIFO "shm-filled"  /* in $IPC_DEMO_DIR */
#define FREE_FIFO   "shm-free"

/* Written by the reader, then by the writer (flags, -n COUNT + 1 or 0) before
 * it opens the FIFOs; to each the other's part is untrusted input. */
struct shm_header {
    uint32_t magic, slots;
    uint64_t slot_size;           /* the longest message */
    atomic_uint flags, generated;
};

/* Each slot: the message's number (1 for the first; 0 while the writer is
 * filling it) and its length, then SLOT_SIZE bytes of text. */
struct shm_slot {
    atomic_ullong seq, len;
    unsigned char text[];
};

static inline size_t slot_stride(size_t slot_size)
{
    return (sizeof(struct shm_slot) + slot_size + 7) / 8 * 8;
}

static inline size_t segment_size(unsigned slots, size_t slot_size)
{
    return sizeof(struct shm_header) + slots * slot_stride(slot_size);
}

static inline struct shm_slot *slot_of(struct shm_header *h, unsigned slots, size_t slot_size,
                                       uint64_t n)
{
    return (struct shm_slot *)((char *)(h + 1) + (n % slots) * slot_stride(slot_size));
}

/* ---- shm/check.c: -n's messages, what the reader counts, every way out ---- */

size_t gen_message(char *buf, uint64_t seq, uint64_t total);   /* BUF: GEN_MAX_LEN bytes */
struct tally {
    unsigned slots;
    uint64_t received, intact, duplicated, reordered, corrupted, bad_headers;
    uint64_t generated, highest;  /* -n COUNT + 1, as the writer says (0: not -n); the newest */
    uint64_t last[SHM_MAX_SLOTS]; /* the number last read from each slot */
};
/* Message SEQ from slot INDEX, read WHOLE or not: counted, and with -n checked
 * byte for byte.  False when it is not intact. */
bool tally_take(struct tally *t, unsigned index, uint64_t seq, const unsigned char *text,
                size_t len, bool whole);
/* Says the counts; true when all arrived intact (-u races: when no header lied). */
bool tally_report(const struct tally *t, bool unsync);
/* Stop signals set stop_signal and interrupt a call, SIGPIPE is EPIPE, CLEANUP runs at exit. */
void stop_cleanly(void (*cleanup)(void));

#endif
