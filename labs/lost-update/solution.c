/* labs/lost-update, a solution: a System V semaphore, value 1, is the lock
 * around the critical section (load, add, store).  P (semop -1) before it: a
 * worker that finds the value 0 sleeps until the holder's V (semop +1).  Only
 * one worker at a time is between the load and the store, so no update is
 * lost, however the workers are scheduled.  SEM_UNDO gives the semaphore
 * back if a worker dies holding it.  The parent removes the semaphore set on
 * every way out.
 *
 *     cc -Wall -Wextra -o solution solution.c && ./solution 4 20000
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

union semun {               /* the caller defines it (POSIX) */
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int semid = -1;

/* Report WHAT, remove the semaphore set (the parent only), exit 1. */
static void fail(const char *what, int in_child)
{
    perror(what);
    if (in_child)
        _exit(1);
    if (semid != -1)
        semctl(semid, 0, IPC_RMID);
    exit(1);
}

static void sem_change(int delta)
{
    struct sembuf op = { .sem_num = 0, .sem_op = (short)delta, .sem_flg = SEM_UNDO };
    while (semop(semid, &op, 1) == -1) {
        if (errno != EINTR)
            fail(delta < 0 ? "semop P" : "semop V", 1);
    }
}

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
    ssize_t n;
    while ((n = read(gate, &c, 1)) == -1 && errno == EINTR)
        continue;       /* returns 0 when the parent closes the gate: go */
    if (n != 0)
        fail("gate", 1);
    for (long k = 0; k < adds; k++) {
        sem_change(-1);             /* P: enter the critical section */
        long value = *counter;      /* load */
        stretch();
        *counter = value + 1;       /* add, store */
        sem_change(+1);             /* V: leave it */
    }
    _exit(0);
}

static long parse(const char *text, long max)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || n < 1 || n > max) {
        fprintf(stderr, "lost-update: '%s' is not a number from 1 to %ld\n", text, max);
        exit(2);
    }
    return n;
}

int main(int argc, char *argv[])
{
    int workers = argc > 1 ? (int)parse(argv[1], 64) : 4;
    long adds = argc > 2 ? parse(argv[2], 100000000) : 20000;

    int shmid = shmget(IPC_PRIVATE, sizeof(long), IPC_CREAT | 0600);
    if (shmid == -1)
        fail("shmget", 0);
    volatile long *counter = shmat(shmid, NULL, 0);
    /* Marked for removal first: gone once every process detached, or at once
     * if the shmat() failed and the program exits. */
    if (shmctl(shmid, IPC_RMID, NULL) == -1)
        fail("shmctl IPC_RMID", 0);
    if (counter == (void *)-1)
        fail("shmat", 0);
    *counter = 0;

    semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (semid == -1)
        fail("semget", 0);
    union semun arg = { .val = 1 };             /* 1: the lock is free */
    if (semctl(semid, 0, SETVAL, arg) == -1)
        fail("semctl SETVAL", 0);

    int gate[2];
    if (pipe(gate) == -1)
        fail("pipe", 0);
    if (fflush(stdout) == EOF)
        fail("stdout", 0);
    for (int i = 0; i < workers; i++) {
        pid_t pid = fork();
        if (pid == -1)
            fail("fork", 0);    /* the workers forked so far end at the gate's EOF */
        if (pid == 0) {
            if (close(gate[1]) == -1)
                fail("close", 1);
            worker(counter, adds, gate[0]);
        }
    }
    if (close(gate[0]) == -1 || close(gate[1]) == -1)   /* go */
        fail("close", 0);

    int failed = 0, status;
    for (int i = 0; i < workers; i++) {
        while (wait(&status) == -1) {
            if (errno != EINTR)
                fail("wait", 0);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    }
    printf("[parent %d] %d workers x %ld additions: expected %ld, counter is %ld\n",
           (int)getpid(), workers, adds, workers * adds, *counter);
    if (fflush(stdout) == EOF)
        failed = 1;
    if (semctl(semid, 0, IPC_RMID) == -1) {
        semid = -1;
        fail("semctl IPC_RMID", 0);
    }
    if (shmdt((void *)counter) == -1)
        fail("shmdt", 0);
    return failed;
}
