/* labs/lost-update: WORKERS processes (default 4) each add 1 to one shared
 * counter ADDS times (default 20000).  The counter should end at
 * WORKERS x ADDS.
 *
 *     cc -Wall -Wextra -o starter starter.c && ./starter 4 20000
 *
 * counter++ is three steps: load the counter, add 1, store it back.  Here the
 * worker does a little work (stretch) between the load and the store: that
 * widens the window between them, so that what happens in it happens on
 * every run.  Without it the same thing happens, only more rarely.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

/* A little work between the load and the store: it widens the window in
 * which another worker can load the same value.  (Not a sleep: a process
 * never gives the CPU away here of its own accord.) */
static void stretch(void)
{
    for (volatile int i = 0; i < 5000; i++)
        ;
}

static void worker(volatile long *counter, long adds, int gate)
{
    char c;
    read(gate, &c, 1);  /* returns 0 when the parent closes the gate: go */
    for (long k = 0; k < adds; k++) {
        long value = *counter;  /* load */
        stretch();
        *counter = value + 1;   /* add, store */
    }
    _exit(0);
}

int main(int argc, char *argv[])
{
    int workers = argc > 1 ? atoi(argv[1]) : 4;
    long adds = argc > 2 ? atol(argv[2]) : 20000;

    int shmid = shmget(IPC_PRIVATE, sizeof(long), IPC_CREAT | 0600);
    if (shmid == -1) {
        perror("shmget");
        return 1;
    }
    volatile long *counter = shmat(shmid, NULL, 0);
    if (counter == (void *)-1) {
        perror("shmat");
        return 1;
    }
    shmctl(shmid, IPC_RMID, NULL);     /* gone once every process detached */
    *counter = 0;

    /* The gate: every worker waits for end of file on it, so that they all
     * start together once the parent closes its write end. */
    int gate[2];
    if (pipe(gate) == -1) {
        perror("pipe");
        return 1;
    }
    fflush(stdout);
    for (int i = 0; i < workers; i++) {
        pid_t pid = fork();
        if (pid == -1) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(gate[1]);
            worker(counter, adds, gate[0]);
        }
    }
    close(gate[0]);
    close(gate[1]);     /* go */
    for (int i = 0; i < workers; i++)
        wait(NULL);

    printf("[parent %d] %d workers x %ld additions: expected %ld, counter is %ld\n",
           (int)getpid(), workers, adds, workers * adds, *counter);
    shmdt((void *)counter);
    return 0;
}
