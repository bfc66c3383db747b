/* shmbench.c - shm and shm1: the ring of shm/ (shm/ring.h), measured.
 * Placeholder until the ring is merged. */
#include "bench.h"

void shm_prepare(void)
{
}

bool shm_supports(size_t size, const char **why)
{
    (void)size;
    *why = "not built yet";
    return false;
}

void shm_transfer(bool one_slot, size_t size, long warm, long count, struct timing *t)
{
    (void)one_slot, (void)size, (void)warm, (void)count, (void)t;
    die_msg("shm: not built yet");
}

void shm_roundtrip(size_t size, long warm, long count, struct latency *l)
{
    (void)size, (void)warm, (void)count, (void)l;
    die_msg("shm: not built yet");
}

void shm_cleanup(void)
{
}

int shm_leftovers(void)
{
    return 0;
}
