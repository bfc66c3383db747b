/* labs/leftovers: a System V shared-memory "board" that other programs find
 * by its key (ftok(".", 'L')).  This program creates the segment, keeps in
 * it the count, sum and last of the numbers it reads on stdin (one a line),
 * and removes the segment at the end of its input (Ctrl-D).
 *
 *     cc -Wall -Wextra -o starter starter.c && ./starter
 *     ipcs -m                  # in another terminal, while it runs
 *
 * Type a few numbers, then Ctrl-C instead of Ctrl-D, and look at ipcs -m.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

struct board {
    long count, sum, last;
};

int main(void)
{
    key_t key = ftok(".", 'L');
    if (key == -1) {
        perror("ftok");
        return 1;
    }
    int shmid = shmget(key, sizeof(struct board), IPC_CREAT | IPC_EXCL | 0600);
    if (shmid == -1) {
        perror("shmget");
        if (errno == EEXIST)
            fprintf(stderr, "a segment with key 0x%08x exists: ipcrm -M 0x%08x\n",
                    (unsigned)key, (unsigned)key);
        return 1;
    }
    struct board *board = shmat(shmid, NULL, 0);
    if (board == (void *)-1) {
        perror("shmat");
        return 1;
    }
    memset(board, 0, sizeof *board);
    printf("[board %d] segment %d (key 0x%08x) created: type numbers, one a line; Ctrl-D ends\n",
           (int)getpid(), shmid, (unsigned)key);
    fflush(stdout);

    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *end;
        errno = 0;
        long n = strtol(line, &end, 10);
        if (errno != 0 || end == line || (*end != '\n' && *end != '\0')) {
            fprintf(stderr, "board: not a number: %s", line);
            return 1;
        }
        board->count++;
        board->sum += n;
        board->last = n;
        printf("[board %d] %ld stored: count %ld, sum %ld\n", (int)getpid(), n, board->count,
               board->sum);
        fflush(stdout);
    }

    shmdt(board);
    shmctl(shmid, IPC_RMID, NULL);
    printf("[board %d] end of input: segment %d removed\n", (int)getpid(), shmid);
    return 0;
}
