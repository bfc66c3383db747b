/* tests/bench-mq plant|exists|unlink NAME [MODE] - a POSIX message queue seen
 * from outside bench/ipcbench, in the caller's IPC namespace: plant one (MODE in
 * octal, default 600), as a run killed with -9 would leave it or a program that
 * is not ours; tell whether one exists (exit 0) or not (exit 1); remove one. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char *argv[])
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: tests/bench-mq plant|exists|unlink NAME [MODE]\n");
        return 2;
    }
    const char *name = argv[2];
    if (strcmp(argv[1], "plant") == 0) {
        mode_t mode = argc == 4 ? (mode_t)strtol(argv[3], NULL, 8) : 0600;
        umask(0);
        mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, mode, NULL);
        if (q == (mqd_t)-1) {
            perror("mq_open");
            return 1;
        }
        return mq_close(q) == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "exists") == 0) {
        mqd_t q = mq_open(name, O_RDONLY);
        if (q == (mqd_t)-1)
            return errno == ENOENT ? 1 : 2;
        mq_close(q);
        return 0;
    }
    if (strcmp(argv[1], "unlink") == 0)
        return mq_unlink(name) == 0 ? 0 : 1;
    fprintf(stderr, "usage: tests/bench-mq plant|exists|unlink NAME [MODE]\n");
    return 2;
}
