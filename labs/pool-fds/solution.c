/* labs/pool-fds, a solution: each new worker closes the write ends of the
 * earlier workers' pipes, which it inherited through fork(), before execl().
 * Without that, worker1 held worker0's write end, worker2 held worker0's and
 * worker1's...: closing worker0's pipe in the pool left writers, worker0's
 * read() never returned 0, and the pool's waitpid() never came back.
 * (The other fix: mark the pool's write ends close-on-exec, as
 * solution-cloexec.c does.)
 *
 *     cc -Wall -Wextra -o solution solution.c && seq 8 | ./solution
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
    if (fflush(stdout) == EOF) {
        perror("worker: stdout");
        return 1;
    }
    while ((n = read(0, &task, sizeof task)) != 0) {
        if (n == -1 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof task) {   /* the pool writes 4 bytes at once */
            if (n == -1)
                perror("worker: read");
            else
                fprintf(stderr, "worker: a truncated task (%zd bytes)\n", n);
            return 1;
        }
        printf("[worker%s %d] task %u\n", index, (int)getpid(), (unsigned)task);
        if (fflush(stdout) == EOF) {
            perror("worker: stdout");
            return 1;
        }
    }
    printf("[worker%s %d] read() returned 0: end of file, exiting\n", index, (int)getpid());
    return fflush(stdout) == EOF ? 1 : 0;
}

static void child_fail(const char *what)
{
    perror(what);
    _exit(127);
}

/* Start worker INDEX; workers[0] to workers[INDEX - 1] are already running. */
static void start_worker(struct worker *workers, int index)
{
    int fds[2];
    if (pipe(fds) == -1) {
        perror("pipe");
        exit(1);
    }
    if (fflush(stdout) == EOF) {
        perror("stdout");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == -1) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", index);
        /* The fix: the earlier workers' write ends came with fork(). */
        for (int i = 0; i < index; i++) {
            if (close(workers[i].wfd) == -1)
                child_fail("close");
        }
        if (close(fds[1]) == -1 || dup2(fds[0], 0) == -1 || close(fds[0]) == -1)
            child_fail("close/dup2");
        execl("/proc/self/exe", "solution", "worker", arg, (char *)NULL);
        child_fail("execl");
    }
    if (close(fds[0]) == -1) {
        perror("close");
        exit(1);
    }
    workers[index].pid = pid;
    workers[index].wfd = fds[1];
}

static int parse_task(const char *line, uint32_t *task)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(line, &end, 10);
    if (errno != 0 || end == line || (*end != '\n' && *end != '\0') || n > UINT32_MAX)
        return -1;
    *task = (uint32_t)n;
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc == 3 && strcmp(argv[1], "worker") == 0)
        return worker_main(argv[2]);

    struct worker workers[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        start_worker(workers, i);

    char line[64];
    int next = 0, failed = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        uint32_t task;
        if (parse_task(line, &task) == -1) {
            fprintf(stderr, "pool: not a task number: %s", line);
            failed = 1;
            break;
        }
        ssize_t n;
        while ((n = write(workers[next].wfd, &task, sizeof task)) == -1 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof task) {
            perror("write");
            failed = 1;
            break;
        }
        next = (next + 1) % WORKERS;
    }
    if (ferror(stdin)) {
        perror("pool: stdin");
        failed = 1;
    }

    for (int i = 0; i < WORKERS; i++) {
        if (close(workers[i].wfd) == -1) {
            perror("close");
            failed = 1;
        }
        printf("[pool %d] closed worker%d's pipe: waiting for it\n", (int)getpid(), i);
        if (fflush(stdout) == EOF)
            failed = 1;
        int status;
        while (waitpid(workers[i].pid, &status, 0) == -1) {
            if (errno != EINTR) {
                perror("waitpid");
                return 1;
            }
        }
        printf("[pool %d] worker%d exited with status %d\n", (int)getpid(), i,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    }
    if (fflush(stdout) == EOF) {
        perror("stdout");
        failed = 1;
    }
    return failed;
}
