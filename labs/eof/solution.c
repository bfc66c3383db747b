/* labs/eof, a solution: the parent closes its copy of the write end before it
 * reads.  read() returns 0 only once no process holds a write end of the pipe
 * any more; after fork() there are two, the child's and the parent's own.
 *
 *     cc -Wall -Wextra -o solution solution.c && ./solution 3
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void child(int wfd, int lines)
{
    char line[64];
    for (int i = 1; i <= lines; i++) {
        int len = snprintf(line, sizeof line, "line %d from the child\n", i);
        if (write(wfd, line, (size_t)len) != len) {
            perror("child: write");
            _exit(1);
        }
    }
    _exit(0);       /* the kernel closes the child's fds, wfd too */
}

static int parse_lines(const char *text)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || n < 0 || n > 1000000) {
        fprintf(stderr, "eof: LINES must be a number from 0 to 1000000, not '%s'\n", text);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char *argv[])
{
    int lines = argc > 1 ? parse_lines(argv[1]) : 5;
    int fds[2];     /* fds[0]: the read end, fds[1]: the write end */

    if (pipe(fds) == -1) {
        perror("pipe");
        return 1;
    }
    fflush(stdout); /* nothing buffered is copied into the child */
    pid_t pid = fork();
    if (pid == -1) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        if (close(fds[0]) == -1) {
            perror("child: close");
            _exit(1);
        }
        child(fds[1], lines);
    }

    /* The fix: the parent writes nothing, so it must not hold a write end.
     * While it did, read() could not return 0: a writer (itself) was left. */
    if (close(fds[1]) == -1) {
        perror("close");
        return 1;
    }

    /* The parent reads what the child sends, until end of file. */
    char buf[256];
    int newlines = 0;
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) != 0) {
        if (n == -1) {
            if (errno == EINTR)
                continue;
            perror("read");
            return 1;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n')
                newlines++;
        }
        /* what came, as it came */
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) == EOF) {
            perror("stdout");
            return 1;
        }
    }
    printf("[parent %d] read() returned 0: end of file after %d lines\n", (int)getpid(), newlines);
    if (close(fds[0]) == -1) {
        perror("close");
        return 1;
    }

    int status;
    while (waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) {
            perror("waitpid");
            return 1;
        }
    }
    printf("[parent %d] child %d exited with status %d\n", (int)getpid(), (int)pid,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (fflush(stdout) == EOF) {
        perror("stdout");
        return 1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
