/* labs/shm-race, a solution: two semaphores in the segment itself (unnamed
 * POSIX semaphores, shared between processes) make the two take turns.
 * "empty" counts the free slots (1 at first), "full" the messages waiting
 * (0).  The writer waits for empty before it writes and posts full after; the
 * reader waits for full before it copies and posts empty after.  Nothing is
 * overwritten before it is read, nothing read twice or half-written, and no
 * one spins: a process with nothing to do sleeps in sem_wait().
 *
 *     cc -Wall -Wextra -pthread -o solution solution.c && ./solution 2000 | wc -l
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

struct slot {
    sem_t empty;        /* 1: the slot may be written */
    sem_t full;         /* 1: the slot holds a message (or the end) */
    int done;           /* the writer has no more messages */
    char text[32];
};

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void wait_sem(sem_t *sem)
{
    while (sem_wait(sem) == -1) {
        if (errno != EINTR)
            fail("sem_wait");
    }
}

static void post_sem(sem_t *sem)
{
    if (sem_post(sem) == -1)
        fail("sem_post");
}

static void reader(struct slot *slot)
{
    char copy[sizeof slot->text];
    for (;;) {
        wait_sem(&slot->full);
        if (slot->done)
            break;
        memcpy(copy, slot->text, sizeof copy);
        post_sem(&slot->empty);
        copy[sizeof copy - 1] = '\0';   /* never trust shared memory */
        if (printf("%s\n", copy) < 0)
            fail("reader: printf");
    }
    if (fflush(stdout) == EOF)
        fail("reader: stdout");
    exit(0);
}

static int parse_count(const char *text)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || n < 0 || n > 100000000) {
        fprintf(stderr, "shm-race: COUNT must be a number from 0 to 100000000, not '%s'\n", text);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char *argv[])
{
    int count = argc > 1 ? parse_count(argv[1]) : 2000;

    /* Only the parent and its child use the segment: IPC_PRIVATE, and
     * removed at once (it lives until both have detached). */
    int shmid = shmget(IPC_PRIVATE, sizeof(struct slot), IPC_CREAT | 0600);
    if (shmid == -1)
        fail("shmget");
    struct slot *slot = shmat(shmid, NULL, 0);
    /* Marked for removal before anything can fail: nothing is left behind. */
    if (shmctl(shmid, IPC_RMID, NULL) == -1)
        fail("shmctl IPC_RMID");
    if (slot == (void *)-1)
        fail("shmat");
    memset(slot, 0, sizeof *slot);
    if (sem_init(&slot->empty, 1, 1) == -1 || sem_init(&slot->full, 1, 0) == -1)
        fail("sem_init");

    if (fflush(stdout) == EOF)
        fail("stdout");
    pid_t pid = fork();
    if (pid == -1)
        fail("fork");
    if (pid == 0)
        reader(slot);

    for (int i = 1; i <= count; i++) {
        wait_sem(&slot->empty);         /* the reader has taken the last one */
        snprintf(slot->text, sizeof slot->text, "message %d", i);
        post_sem(&slot->full);          /* there is a new one */
    }
    wait_sem(&slot->empty);
    slot->done = 1;
    post_sem(&slot->full);

    int status;
    while (waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR)
            fail("waitpid");
    }
    if (sem_destroy(&slot->empty) == -1 || sem_destroy(&slot->full) == -1)
        fail("sem_destroy");
    if (shmdt(slot) == -1)
        fail("shmdt");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "writer: the reader failed\n");
        return 1;
    }
    fprintf(stderr, "writer: sent %d messages\n", count);
    return 0;
}
