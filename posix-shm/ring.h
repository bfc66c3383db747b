/* posix-shm/ring.h - the shared memory object posix-shm/reader creates and
 * posix-shm/writer fills: its layout, the same in both programs.
 *
 *   /dev/shm/ipc-demos-DEV-INO-ring, mapped MAP_SHARED by both programs
 *   +-----------------------------------------------------------------+
 *   | header    magic, slots, the writer's pid and start time, -n COUNT |
 *   | sem_t filled   slots filled, not read yet          starts at 0    |
 *   | sem_t free     slots the writer may fill           starts at SLOTS|
 *   +-----------------------------------------------------------------+
 *   | slot 0    seq, len | data: RING_SLOT_SIZE bytes                   |
 *   | slot 1    seq, len | data      (used in order 0, 1, ..., 0, 1...)  |
 *   +-----------------------------------------------------------------+
 *
 * The writer takes "free" (sem_wait), fills the next slot, posts "filled"
 * (sem_post); the reader takes "filled", reads the slot, posts "free".
 * Message N is in slot (N-1) % SLOTS; sequence number 0 is the end.  Nothing
 * here is trusted: the writer checks the header against the object's size,
 * the reader each slot header (the length, the sequence number expected next).
 */
#ifndef IPC_DEMOS_POSIX_SHM_RING_H
#define IPC_DEMOS_POSIX_SHM_RING_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RING_SLOT_SIZE = 4096,        /* the longest message: a line of stdin fits */
    RING_MAX_SLOTS = 1024,
    RING_WAIT_MS = 200,           /* a wait's deadline: then look at the peer */
    RING_MESSAGE_MAX = 120,       /* a message of -n */
};
#define RING_MAGIC 0x50534852u    /* "PSHR", stored last by the reader */
#define RING_RECORD "posix-shm.owner"     /* the reader's creator record */

struct ring_slot {
    uint64_t seq;                 /* 1, 2, 3... ; 0: the end */
    uint64_t len;                 /* bytes of data used */
    unsigned char data[RING_SLOT_SIZE];
};

struct ring {
    _Atomic uint32_t magic;
    uint32_t slots;
    _Atomic int32_t writer;       /* the writer's pid: 0 until one claims the ring */
    uint64_t writer_start;        /* and its start time: a reused pid has another */
    uint64_t generated;           /* -n COUNT: COUNT + 1; 0: the writer's own text */
    sem_t filled;
    sem_t free;
    struct ring_slot slot[];
};

static inline size_t ring_size(unsigned slots)
{
    return sizeof(struct ring) + (size_t)slots * sizeof(struct ring_slot);
}

/* ---- what makes them robust (not the lesson) ---- */

/* posix-shm/check.c: message N of COUNT for -n (its length), and its check;
 * SIGPIPE sets stop_signal like a stop signal; -f: the lines of /proc/self/maps that map NAME, and the fds. */
size_t ring_message(char *buf, uint64_t n, uint64_t count);
bool ring_message_ok(const unsigned char *data, size_t len, uint64_t n, uint64_t count);
/* PID runs, and started at START (0: not known yet); a reused pid has another. */
bool ring_running(int32_t pid, uint64_t start);
void ring_catch_sigpipe(void);
void ring_show_maps(const char *name, const char *when);

/* posix-shm/leftover.c, the reader's: remove the object NAME, a leftover,
 * when it is provably stale (true, having said so); false when it is not
 * there; otherwise exit 1 saying why.  cleanup_leftover(): --cleanup. */
bool remove_leftover(const char *name);
int cleanup_leftover(const char *name);

#endif
