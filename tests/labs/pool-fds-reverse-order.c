/* tests/labs/pool-fds-reverse-order.c: a guess labs/pool-fds' grader must
 * refuse.  It shuts the workers down last first, which does not hang (the last
 * worker's pipe has no inherited copy, and each exit releases the copies of
 * the earlier ones), but every worker but the first still holds write ends it
 * has no use for.  (labs/pool-fds/starter.c with its shutdown loop reversed.)
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WORKERS = 4 };

struct worker {
    pid_t pid;
    int wfd;        /* the write end of its pipe: the pool's side */
};

static int worker_main(const char *index)
{
    uint32_t task;
    ssize_t n;

    printf("[worker%s %d] ready\n", index, (int)getpid());
    fflush(stdout);
    while ((n = read(0, &task, sizeof task)) == (ssize_t)sizeof task) {
        printf("[worker%s %d] task %u\n", index, (int)getpid(), (unsigned)task);
        fflush(stdout);
    }
    if (n != 0) {
        perror("worker: read");
        return 1;
    }
    printf("[worker%s %d] read() returned 0: end of file, exiting\n", index, (int)getpid());
    return 0;
}

static void start_worker(struct worker *w, int index)
{
    int fds[2];
    if (pipe(fds) == -1) {
        perror("pipe");
        exit(1);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", index);
        close(fds[1]);          /* its own pipe's write end: the pool's */
        dup2(fds[0], 0);        /* the read end becomes its stdin */
        close(fds[0]);
        execl("/proc/self/exe", "starter", "worker", arg, (char *)NULL);
        perror("execl");
        _exit(127);
    }
    close(fds[0]);
    w->pid = pid;
    w->wfd = fds[1];
}

int main(int argc, char *argv[])
{
    if (argc == 3 && strcmp(argv[1], "worker") == 0)
        return worker_main(argv[2]);

    struct worker workers[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        start_worker(&workers[i], i);

    char line[64];
    int next = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        uint32_t task = (uint32_t)strtoul(line, NULL, 10);
        if (write(workers[next].wfd, &task, sizeof task) != (ssize_t)sizeof task) {
            perror("write");
            return 1;
        }
        next = (next + 1) % WORKERS;
    }

    for (int i = WORKERS - 1; i >= 0; i--) {   /* last first: no hang */
        close(workers[i].wfd);
        printf("[pool %d] closed worker%d's pipe: waiting for it\n", (int)getpid(), i);
        fflush(stdout);
        int status;
        waitpid(workers[i].pid, &status, 0);
        printf("[pool %d] worker%d exited with status %d\n", (int)getpid(), i,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return 0;
}
