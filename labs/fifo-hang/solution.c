/* labs/fifo-hang, a solution: the client opens the FIFO with O_NONBLOCK.  A
 * blocking open(O_WRONLY) waits until some process opens the FIFO for
 * reading: with no server, forever.  A non-blocking one fails at once with
 * ENXIO instead, and the client says that the server is not running.  Once
 * open, the fd is made blocking again, so that a write() to a full FIFO
 * waits for the server to read instead of failing with EAGAIN.
 *
 *     cc -Wall -Wextra -o solution solution.c
 *     mkfifo /tmp/lab.fifo
 *     echo hello | ./solution /tmp/lab.fifo   # no server: a clear error, exit 1
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Open PATH, the server's FIFO, for writing without waiting; exit 1 with a
 * message that says why when there is no server, or no FIFO. */
static int open_fifo(const char *path)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK);
    if (fd == -1) {
        int err = errno;
        if (err == ENXIO)
            fprintf(stderr, "client: no server is reading %s: start the server first\n", path);
        else if (err == ENOENT)
            fprintf(stderr, "client: open %s: %s: is the server running?\n", path, strerror(err));
        else
            fprintf(stderr, "client: open %s: %s\n", path, strerror(err));
        exit(1);
    }
    struct stat st;
    if (fstat(fd, &st) == -1) {
        fprintf(stderr, "client: fstat %s: %s\n", path, strerror(errno));
        exit(1);
    }
    if (!S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "client: %s is not a FIFO\n", path);
        exit(1);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
        fprintf(stderr, "client: fcntl %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIFO\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];

    /* A server that quits while we write: EPIPE, said, not a silent death. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        perror("client: signal");
        return 1;
    }
    int fd = open_fifo(path);
    printf("[client %d] opened %s: sending stdin\n", (int)getpid(), path);
    if (fflush(stdout) == EOF) {
        perror("client: stdout");
        return 1;
    }

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
    if (close(fd) == -1) {
        fprintf(stderr, "client: close %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("[client %d] sent %zu bytes\n", (int)getpid(), total);
    return fflush(stdout) == EOF ? 1 : 0;
}
