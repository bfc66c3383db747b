/* tests/labs/shm-race-sleep.c: a guess labs/shm-race's grader must refuse.
 * The writer sleeps a little after each message, hoping that the reader keeps
 * up; it often does on an idle machine, but nothing makes the writer wait for
 * the reader.  (labs/shm-race/starter.c plus one nanosleep().)
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct slot {
    volatile int seq;   /* the number of the message in text; 0: none yet */
    volatile int done;  /* the writer has written its last message */
    char text[32];
};

static void reader(struct slot *slot)
{
    int last = 0;
    char copy[sizeof slot->text];
    for (;;) {
        while (slot->seq == last && !slot->done)
            ;           /* wait for a new message */
        if (slot->seq == last)
            break;      /* done, and nothing new */
        last = slot->seq;
        memcpy(copy, slot->text, sizeof copy);
        copy[sizeof copy - 1] = '\0';
        printf("%s\n", copy);
    }
    exit(0);
}

int main(int argc, char *argv[])
{
    int count = argc > 1 ? atoi(argv[1]) : 2000;

    /* Only the parent and its child use the segment: IPC_PRIVATE, and
     * removed at once (it lives until both have detached). */
    int shmid = shmget(IPC_PRIVATE, sizeof(struct slot), IPC_CREAT | 0600);
    if (shmid == -1) {
        perror("shmget");
        return 1;
    }
    struct slot *slot = shmat(shmid, NULL, 0);
    if (slot == (void *)-1) {
        perror("shmat");
        return 1;
    }
    shmctl(shmid, IPC_RMID, NULL);
    memset(slot, 0, sizeof *slot);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        reader(slot);

    for (int i = 1; i <= count; i++) {
        snprintf(slot->text, sizeof slot->text, "message %d", i);
        slot->seq = i;
        nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
    }
    slot->done = 1;

    waitpid(pid, NULL, 0);
    shmdt(slot);
    fprintf(stderr, "writer: sent %d messages\n", count);
    return 0;
}
