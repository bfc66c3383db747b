/* tests/socket-fds - a sender socket/pass recv should not trust: connects to
 * PATH and sends, in one sendmsg(), the text LABEL (plus a newline) and the fds
 * of every FILE in one SCM_RIGHTS message; with no FILE, no control message at
 * all.  A FILE may also be
 *   unsealed-memfd      a memfd holding "x", sealable but not sealed
 *   write-sealed-memfd  the same with F_SEAL_WRITE only (it can still shrink)
 * Then it reads until the receiver closes the connection and prints what came
 * back ("reply: ..."), so that the fds stay open on our side meanwhile.
 *
 * Usage: tests/socket-fds PATH LABEL [FILE...]      (at most 16 FILEs)
 */
#define _GNU_SOURCE                    /* memfd_create, F_ADD_SEALS */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { MAX_FDS = 16 };

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static int open_one(const char *file)
{
    if (strcmp(file, "unsealed-memfd") != 0 && strcmp(file, "write-sealed-memfd") != 0) {
        int fd = open(file, O_RDONLY);
        if (fd == -1)
            fail(file);
        return fd;
    }
    int fd = memfd_create("attack", MFD_ALLOW_SEALING);
    if (fd == -1 || write(fd, "x", 1) != 1)
        fail("memfd");
    if (strcmp(file, "write-sealed-memfd") == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1)
        fail("F_ADD_SEALS");
    return fd;
}

int main(int argc, char *argv[])
{
    if (argc < 3 || argc - 3 > MAX_FDS) {
        fprintf(stderr, "usage: tests/socket-fds PATH LABEL [FILE...]\n");
        return 2;
    }
    int nfds = argc - 3, fds[MAX_FDS];
    for (int i = 0; i < nfds; i++)
        fds[i] = open_one(argv[3 + i]);

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    if (sock == -1 || connect(sock, (struct sockaddr *)&addr, sizeof addr) == -1)
        fail("connect");

    char label[256];
    int len = snprintf(label, sizeof label, "%s\n", argv[2]);
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = { .iov_base = label, .iov_len = (size_t)len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    }
    if (sendmsg(sock, &msg, 0) != len)
        fail("sendmsg");
    printf("sent %d fd%s\n", nfds, nfds == 1 ? "" : "s");
    fflush(stdout);

    char buf[256];
    ssize_t n;
    while ((n = read(sock, buf, sizeof buf)) > 0)
        printf("reply: %.*s", (int)n, buf);
    if (n == -1)
        fail("read");
    printf("the receiver closed the connection\n");
    return 0;
}
