/* labs/eof: the child sends LINES lines through a pipe (default 5); the parent
 * copies them to stdout, reads until end of file (read() returns 0), then reaps the child.
 *
 *     cc -Wall -Wextra -o starter starter.c && ./starter 3
 *
 * Expected: the three lines, "read() returned 0: end of file after 3 lines",
 * "child ... exited with status 0", and the prompt back.
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

int main(int argc, char *argv[])
{
    int lines = argc > 1 ? atoi(argv[1]) : 5;
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
        close(fds[0]);
        child(fds[1], lines);
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
        fwrite(buf, 1, (size_t)n, stdout);     /* what came, as it came */
        fflush(stdout);
    }
    printf("[parent %d] read() returned 0: end of file after %d lines\n", (int)getpid(), newlines);
    close(fds[0]);

    int status;
    if (waitpid(pid, &status, 0) == -1) {
        perror("waitpid");
        return 1;
    }
    printf("[parent %d] child %d exited with status %d\n", (int)getpid(), (int)pid,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
