/* tests/posix-shm-scribble NAME SLOT len|seq VALUE - open the shared memory
 * object NAME of posix-shm/reader by its name, as any process of ours may, and
 * overwrite the length or the sequence number in the header of slot SLOT: what
 * a broken or hostile writer could do.  The reader must report it, never
 * follow it. */
#include "../posix-shm/ring.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc != 5 || (strcmp(argv[3], "len") != 0 && strcmp(argv[3], "seq") != 0)) {
        fprintf(stderr, "usage: tests/posix-shm-scribble NAME SLOT len|seq VALUE\n");
        return 2;
    }
    int fd = shm_open(argv[1], O_RDWR, 0);
    struct stat st;
    if (fd == -1 || fstat(fd, &st) == -1) {
        perror(argv[1]);
        return 1;
    }
    struct ring *r = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned long slot = strtoul(argv[2], NULL, 10);
    if (r == MAP_FAILED || (size_t)st.st_size < ring_size((unsigned)slot + 1)) {
        fprintf(stderr, "%s: no slot %lu there\n", argv[1], slot);
        return 1;
    }
    uint64_t value = strtoull(argv[4], NULL, 10);
    if (argv[3][0] == 'l')
        r->slot[slot].len = value;
    else
        r->slot[slot].seq = value;
    return munmap(r, (size_t)st.st_size) == 0 && close(fd) == 0 ? 0 : 1;
}
