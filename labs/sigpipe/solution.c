/* labs/sigpipe, a solution: the writer ignores SIGPIPE, so that a write() to a
 * pipe with no reader left fails with EPIPE instead of killing the process
 * without a word; it then says what happened and exits 1.
 *
 *     cc -Wall -Wextra -o solution solution.c && ./solution | head -n 3
 *     echo "${PIPESTATUS[0]}"
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <signal.h>
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

static int parse_lines(const char *text)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || n < 0 || n > 100000000) {
        fprintf(stderr, "writer: LINES must be a number from 0 to 100000000, not '%s'\n", text);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char *argv[])
{
    int lines = argc > 1 ? parse_lines(argv[1]) : 20000;
    char line[32];
    int written = 0;

    /* The fix, first half: no death by SIGPIPE; write() returns -1 EPIPE. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGPIPE, &sa, NULL) == -1) {
        perror("writer: sigaction");
        return 1;
    }

    for (int i = 1; i <= lines; i++) {
        int len = snprintf(line, sizeof line, "line %d\n", i);
        /* The second half: a failed write is reported, and the writing stops. */
        if (write_all(1, line, (size_t)len) == -1) {
            int err = errno;
            fprintf(stderr, "writer: write to stdout after %d lines: %s%s\n", written,
                    strerror(err), err == EPIPE ? " (the reader has gone)" : "");
            return 1;
        }
        written++;
    }
    fprintf(stderr, "writer: wrote %d lines\n", written);
    return 0;
}
