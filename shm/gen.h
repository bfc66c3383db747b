/* shm/gen.h - the messages shm/writer -n generates and shm/reader checks.
 *
 * Message SEQ of TOTAL reads "message SEQ of TOTAL FILLER sum CHECKSUM": the filler
 * (0 to 22 letters) depends on SEQ, so lengths vary, and CHECKSUM is the 32-bit
 * FNV-1a hash of everything before " sum ".  The reader rebuilds the message it
 * expects from the numbers it parsed and compares every byte: a torn, truncated
 * or altered message fails.
 */
#ifndef IPC_DEMOS_SHM_GEN_H
#define IPC_DEMOS_SHM_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    GEN_MAX_LEN = 80,            /* the longest generated message, in bytes */
    GEN_MAX_COUNT = 10000000,    /* the most messages one run generates */
    SHM_GENERATED = 1u << 8,     /* ring flag: the writer sends generated messages */
};

/* Write message SEQ of TOTAL into BUF (at least GEN_MAX_LEN bytes, no NUL needed);
 * returns its length. */
size_t gen_message(char *buf, uint64_t seq, uint64_t total);

/* True when DATA[0..LEN) is exactly a generated message; *SEQ and *TOTAL get its
 * numbers. */
bool gen_check(const unsigned char *data, size_t len, uint64_t *seq, uint64_t *total);

#endif
