/* labs/fifo-hang: a FIFO client.  It opens the server's FIFO (the path
 * given) for writing and copies its stdin into it; the server reads the FIFO.
 *
 *     cc -Wall -Wextra -o starter starter.c
 *     mkfifo /tmp/lab.fifo
 *     cat /tmp/lab.fifo &                 # the "server": reads the FIFO
 *     echo hello | ./starter /tmp/lab.fifo
 *
 * Try it with no server: echo hello | ./starter /tmp/lab.fifo
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write all LEN bytes of BUF to FD: 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIFO\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];

    int fd = open(path, O_WRONLY);
    if (fd == -1) {
        fprintf(stderr, "client: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("[client %d] opened %s: sending stdin\n", (int)getpid(), path);
    fflush(stdout);

    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) != 0) {
        if (n == -1) {
            if (errno == EINTR)
                continue;
            perror("client: read stdin");
            return 1;
        }
        if (write_all(fd, buf, (size_t)n) == -1) {
            fprintf(stderr, "client: write %s: %s\n", path, strerror(errno));
            return 1;
        }
        total += (size_t)n;
    }
    close(fd);
    printf("[client %d] sent %zu bytes\n", (int)getpid(), total);
    return 0;
}
