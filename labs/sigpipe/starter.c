/* labs/sigpipe: a writer.  It writes LINES numbered lines (default 20000) to
 * stdout, then says on stderr how many it wrote.
 *
 *     cc -Wall -Wextra -o starter starter.c && ./starter | head -n 3
 *     echo "${PIPESTATUS[0]}"
 *
 * Whoever reads its stdout may stop early: head -n 3 exits after three lines.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
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
    int lines = argc > 1 ? atoi(argv[1]) : 20000;
    char line[32];
    int written = 0;

    for (int i = 1; i <= lines; i++) {
        int len = snprintf(line, sizeof line, "line %d\n", i);
        write_all(1, line, (size_t)len);
        written++;
    }
    fprintf(stderr, "writer: wrote %d lines\n", written);
    return 0;
}
