/* posix-shm/ring.h - the shared memory object posix-shm/reader creates and
 * posix-shm/writer fills: its layout, the same in both programs.
 *
 *   /dev/shm/ipc-demos-DEV-INO-ring, mapped MAP_SHARED by both programs
 *   +---------------------------------------------------------------+
 *   | header   magic, slots, who writes (pid and start time), -n     |
 *   | sem_t filled   slots filled, not read yet        starts at 0   |
 *   | sem_t free     slots the writer may fill         starts at SLOTS|
 *   +---------------------------------------------------------------+
 *   | slot 0   seq, len | data: RING_SLOT_SIZE bytes                 |
 *   | slot 1   seq, len | data                                       |
 *   | ...      (used in order 0, 1, ..., SLOTS-1, 0, 1, ...)          |
 *   +---------------------------------------------------------------+
 *
 * The writer takes "free" (sem_wait), fills the next slot, posts "filled"
 * (sem_post); the reader takes "filled", reads the slot, posts "free".  The
 * message with sequence number N is in slot (N-1) % SLOTS; a slot with
 * sequence number 0 is the end: the writer is done.
 *
 * Nothing here is trusted by the other side: the writer checks the header
 * against the object's size, the reader keeps its own copy of the geometry and
 * checks each slot header (a length within the slot, the sequence number it
 * expects next).
 */
#ifndef IPC_DEMOS_POSIX_SHM_RING_H
#define IPC_DEMOS_POSIX_SHM_RING_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
    RING_SLOT_SIZE = 4096,        /* the longest message: a line of stdin fits */
    RING_MAX_SLOTS = 1024,
    RING_WAIT_MS = 200,           /* how long a wait lasts before we look at the peer */
};
#define RING_MAGIC 0x50534852u    /* "PSHR"; written last by the reader */
#define RING_RECORD "posix-shm.owner"     /* the reader's creator record */

struct ring_slot {
    uint64_t seq;                 /* 1, 2, 3... ; 0: the end */
    uint64_t len;                 /* bytes of data used */
    unsigned char data[RING_SLOT_SIZE];
};

struct ring {
    _Atomic uint32_t magic;       /* RING_MAGIC once everything below is ready */
    uint32_t slots;
    _Atomic int32_t writer;       /* the writer's pid: 0 until one claims the ring */
    uint32_t pad;
    uint64_t writer_start;        /* and its start time (a reused pid has another) */
    uint64_t generated;           /* -n COUNT: COUNT + 1; 0: the writer's own messages */
    sem_t filled;
    sem_t free;
    struct ring_slot slot[];      /* SLOTS of them */
};

static inline size_t ring_size(unsigned slots)
{
    return sizeof(struct ring) + (size_t)slots * sizeof(struct ring_slot);
}

/* ---- what makes them robust (not the lesson): posix-shm/check.c ---- */

#include <stdbool.h>

/* -n COUNT: message N of COUNT, a text both sides can make, so that the reader
 * checks every byte.  Returns its length (at most RING_MESSAGE_MAX bytes). */
enum { RING_MESSAGE_MAX = 120 };
size_t ring_message(char *buf, uint64_t n, uint64_t count);
/* DATA, LEN bytes, is exactly message N of COUNT. */
bool ring_message_ok(const unsigned char *data, size_t len, uint64_t n, uint64_t count);
/* A deadline RING_WAIT_MS from now, for sem_timedwait(). */
struct timespec ring_deadline(void);
/* SIGPIPE, like a stop signal, only sets stop_signal: standard output gone. */
void ring_catch_sigpipe(void);
/* -f: the lines of /proc/self/maps that map NAME, after WHEN. */
void ring_print_mapping(const char *name, const char *when);

/* posix-shm/leftover.c, the reader's: the object NAME is there already.
 * remove_leftover returns once a provably stale one is gone (or it went away
 * meanwhile); otherwise says why not and exits 1.  cleanup_leftover is
 * --cleanup: the same verdict. */
void remove_leftover(const char *name);
int cleanup_leftover(const char *name);

#endif
