/* tests/posix-mq-tool - what tests/posix-mq.bats does to POSIX queues from
 * outside the lesson programs (no test aid lives in them), without needing
 * /dev/mqueue mounted:
 *
 *   posix-mq-tool exists NAME           exit 0 and "MSGS MODE" if NAME is a queue,
 *                                       1 if there is none (ENOENT), 2 otherwise
 *   posix-mq-tool create NAME MODE      a queue of MODE (octal), default attributes
 *   posix-mq-tool send NAME PRIO TEXT   TEXT as it is: a message of any shape
 *   posix-mq-tool request NAME PRIO KIND PID SEQ TEXT
 *                                       a message laid out as posix-mq/pmq.h says
 *   posix-mq-tool unlink NAME
 */
#include "../posix-mq/pmq.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int fail(const char *what, const char *name)
{
    fprintf(stderr, "posix-mq-tool: %s %s: %s\n", what, name, strerror(errno));
    return 2;
}

int main(int argc, char *argv[])
{
    if (argc < 3)
        return fprintf(stderr, "usage: posix-mq-tool exists|create|send|request|unlink NAME ...\n"), 2;
    const char *cmd = argv[1], *name = argv[2];
    if (strcmp(cmd, "exists") == 0) {
        mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK);
        if (q == (mqd_t)-1)
            return errno == ENOENT ? 1 : fail("mq_open", name);
        struct mq_attr a;
        struct stat st;
        if (mq_getattr(q, &a) == -1 || fstat(q, &st) == -1)
            return fail("mq_getattr", name);
        printf("%ld %04o\n", a.mq_curmsgs, (unsigned)(st.st_mode & 07777));
        return mq_close(q) == -1 ? fail("mq_close", name) : 0;
    }
    if (strcmp(cmd, "unlink") == 0)
        return mq_unlink(name) == -1 ? fail("mq_unlink", name) : 0;
    if (strcmp(cmd, "create") == 0 && argc == 4) {
        mqd_t q = mq_open(name, O_RDONLY | O_CREAT | O_EXCL, (mode_t)strtol(argv[3], NULL, 8), NULL);
        if (q == (mqd_t)-1)
            return fail("mq_open", name);
        return mq_close(q) == -1 ? fail("mq_close", name) : 0;
    }
    struct pmq_msg m = { .kind = 0 };
    const char *body;
    size_t len;
    if (strcmp(cmd, "send") == 0 && argc == 5) {
        body = argv[4];
        len = strlen(body);
    } else if (strcmp(cmd, "request") == 0 && argc == 8 && strlen(argv[7]) <= PMQ_TEXT_MAX) {
        m.kind = (uint32_t)strtoul(argv[4], NULL, 10);
        m.pid = (int32_t)strtol(argv[5], NULL, 10);
        m.seq = (uint32_t)strtoul(argv[6], NULL, 10);
        memcpy(m.text, argv[7], strlen(argv[7]));
        body = (const char *)&m;
        len = PMQ_HEADER + strlen(argv[7]);
    } else {
        return fprintf(stderr, "posix-mq-tool: bad arguments\n"), 2;
    }
    mqd_t q = mq_open(name, O_WRONLY | O_NONBLOCK);
    if (q == (mqd_t)-1)
        return fail("mq_open", name);
    if (mq_send(q, body, len, (unsigned)strtoul(argv[3], NULL, 10)) == -1)
        return fail("mq_send", name);
    return mq_close(q) == -1 ? fail("mq_close", name) : 0;
}
