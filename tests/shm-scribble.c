/* tests/shm-scribble - attacks shm/reader's segment from outside, for
 * tests/shm.bats.
 *
 *   tests/shm-scribble SHMID SLOT len|seq VALUE
 *       attach segment SHMID (the reader's, as ipcs -m shows it) and write
 *       VALUE into the length or the sequence number of slot SLOT's header:
 *       what a broken or hostile writer could leave there.
 *   tests/shm-scribble plant KEYFILE
 *       create a segment of 4096 zero bytes, mode 0600, at ftok(KEYFILE, 's'):
 *       one of ours at the reader's key that is not a ring.
 * Exit 0 when done, 1 on failure, 2 on a usage error.
 */
#include "../shm/shm.h"
#include "../common/objects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

static int fail(const char *what)
{
    fprintf(stderr, "tests/shm-scribble: %s: %s\n", what, strerror(errno));
    return 1;
}

static int plant(const char *keyfile)
{
    key_t key = ftok(keyfile, KEY_SHM);
    if (key == -1)
        return fail("ftok");
    if (shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600) == -1)
        return fail("shmget");
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc == 3 && strcmp(argv[1], "plant") == 0)
        return plant(argv[2]);
    if (argc != 5 || (strcmp(argv[3], "len") != 0 && strcmp(argv[3], "seq") != 0)) {
        fprintf(stderr, "usage: tests/shm-scribble SHMID SLOT len|seq VALUE\n"
                        "       tests/shm-scribble plant KEYFILE\n");
        return 2;
    }
    int shmid = atoi(argv[1]);
    unsigned long slot = strtoul(argv[2], NULL, 10);
    unsigned long long value = strtoull(argv[4], NULL, 10);
    struct shmid_ds ds;
    if (shmctl(shmid, IPC_STAT, &ds) == -1)
        return fail("shmctl IPC_STAT");
    struct shm_header *h = shmat(shmid, NULL, 0);
    if (h == (void *)-1)
        return fail("shmat");
    if (ds.shm_segsz < sizeof *h || h->magic != SHM_MAGIC || slot >= h->slots ||
        segment_size(h->slots, h->slot_size) > ds.shm_segsz) {
        fprintf(stderr, "tests/shm-scribble: segment %d is not a ring with a slot %lu\n",
                shmid, slot);
        return 1;
    }
    struct shm_slot *s = slot_of(h, h->slots, h->slot_size, slot);
    atomic_store(strcmp(argv[3], "len") == 0 ? &s->len : &s->seq, value);
    if (shmdt(h) == -1)
        return fail("shmdt");
    return 0;
}
