/* socket/pass - hands an open file to an unrelated process: sendmsg() with
 * SCM_RIGHTS over a Unix domain socket.
 *
 * The lesson: an fd is a number in one process's table, meaningless in
 * another.  What sendmsg() passes in an SCM_RIGHTS control message is the
 * open file behind it, installed in the receiver's table under a number free
 * there.  Two numbers, one open file: for a file, one offset; for a pipe, a
 * read end in a process that never forked from the writer; for a memfd,
 * memory with no name anywhere, mapped only once its seals (F_GET_SEALS)
 * promise that nobody can write to it or shrink it.
 *
 * Start `socket/pass recv` first, then `socket/pass send ...` elsewhere.
 * Observe: -f on both sides, /proc/PID/fdinfo/FD (pos:) while -d pauses them.
 * Usage: socket/pass [-p PATH] [-d MS] [-f] [-v] recv | send file PATH | send pipe|memfd [TEXT]
 */
#define _GNU_SOURCE    /* accept4, pipe2, memfd_create, F_ADD_SEALS, MSG_CMSG_CLOEXEC, ucred */
#include "sockfile.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>

static const char usage[] =
    "usage: socket/pass [-p PATH] [-d MS] [-f] [-v] recv | send file PATH | "
    "send pipe|memfd [TEXT]\n"
    "Pass an open file descriptor to an unrelated process over a Unix socket.\n"
    "  recv              wait at PATH for one sender and use the fd it sends: read\n"
    "                    a file or a pipe, or map a memfd once its seals are checked\n"
    "  send file PATH    open PATH, read its first 16 bytes, send the fd\n"
    "  send pipe [TEXT]  make a pipe, write TEXT, send its read end, write more\n"
    "  send memfd [TEXT] fill a memfd with TEXT, seal it, send the fd\n"
    "  -p PATH  the receiver's socket file (default $IPC_DEMO_DIR/pass)\n"
    "  -d MS    pause MS milliseconds once the fd is sent / received\n"
    "  -f       print the open file descriptors once the fd is sent / received\n"
    "  -v       trace every system call on stderr (not the -d pauses, nor readlink)\n"
    "  -h       show this help\n"
    "The receiver uses one fd (more are closed unused), refuses a message cut short\n"
    "or an unsealed memfd (exit 1), and removes its socket file once it is not needed.\n";

enum { CHUNK = 16, MEMFD_MAX = 1 << 20 };
/* A control message's buffer, aligned for a cmsghdr: room for one fd. */
union control { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; };

static struct address addr;
static bool show_fds;
static long delay;
/* Every fd the lesson opens, closed by cleanup() on any exit. */
static int listen_fd = -1, conn_fd = -1, passed_fd = -1, pipe_write_fd = -1;

static bool operands(char **op, int ops);
static void receive(void), send_fd_of(const char *kind, const char *arg), cleanup(void);
static void wait_or_stop(int fd), use_fd(int their_fd);
static void use_file(int fd), use_pipe(int fd), use_memfd(int fd);
static void receive_fd(int *their_fd), close_said(int *fd, const char *said);
static int open_file(const char *path), fill_pipe(const char *text), fill_memfd(const char *text);
static void connect_receiver(void), send_fd(int fd, const char *kind), await_done(void);
static const char *seal_names(int seals, char *buf, size_t size);
static long long offset_of(int fd);

int main(int argc, char *argv[])
{
    prog_init("socket/pass", "pass", usage);
    const char *path_arg = NULL;
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":p:d:fvh")) != -1) {
        switch (c) {
        case 'p': path_arg = optarg; break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'f': show_fds = true; break;
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    char **op = argv + optind;
    int ops = argc - optind;
    bool recv = operands(op, ops);
    address_init(&addr, path_arg, false, "pass");

    set_role(recv ? "recv" : "send");
    /* The receiver owns a socket file: stop signals wait for its ppoll(). */
    if (recv)
        block_stop_signals();
    else if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)     /* EPIPE, said, instead */
        die("signal");
    if (atexit(cleanup) != 0)
        die_msg("atexit failed");
    if (recv)
        receive();
    else
        send_fd_of(op[1], ops > 2 ? op[2] : NULL);
    return 0;                          /* cleanup() closes whatever is still open */
}

/* ---- the receiver ---- */

static void listen_for_sender(void)
{
    listen_fd = (int)traced(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
                            "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)");
    if (listen_fd == -1)
        die("socket");
    clear_stale_socket(&addr);
    mode_t old = umask(0177);          /* the socket file: 0600 */
    trace("umask(0177) = 0%o", (unsigned)old);
    int rc = (int)traced(bind(listen_fd, (const struct sockaddr *)&addr.sun, addr.len),
                         "bind(%d, \"%s\")", listen_fd, addr.shown);
    int err = errno;
    umask(old);
    trace("umask(0%o) = 0177", (unsigned)old);
    errno = err;
    if (rc == -1)
        die("bind %s", addr.shown);
    sockfile_bound(&addr);
    if (traced(listen(listen_fd, 1), "listen(%d, 1)", listen_fd) == -1)
        die("listen %s", addr.shown);
    say("waiting for a sender on %s", addr.shown);
}

static void receive(void)
{
    listen_for_sender();
    wait_or_stop(listen_fd);
    conn_fd = (int)traced(accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC), "accept(%d, SOCK_CLOEXEC)",
                          listen_fd);
    if (conn_fd == -1)
        die("accept %s", addr.shown);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (traced(getsockopt(conn_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len),
               "getsockopt(%d, SOL_SOCKET, SO_PEERCRED)", conn_fd) == -1)
        die("getsockopt SO_PEERCRED");
    say("a sender connected (fd %d): pid %ld, uid %ld", conn_fd, (long)cred.pid, (long)cred.uid);
    /* The name was only for meeting: gone now, a kill -9 leaves nothing. */
    sockfile_remove(&addr);

    wait_or_stop(conn_fd);
    int their_fd;
    receive_fd(&their_fd);
    if (show_fds)
        print_fds("after recvmsg():");
    if (traced(close(listen_fd), "close(%d)", listen_fd) == -1)
        die("close");
    listen_fd = -1;
    pause_ms(delay);
    if (stop_signal)
        wait_or_stop(-1);
    use_fd(their_fd);
    /* Tell the sender we are done with its open file: it looks at its offset. */
    if (write_all(conn_fd, "done\n", 5) == -1)
        die("write %s", addr.shown);
}

/* recvmsg() returns the data (the sender's number for the fd, as text) and the
 * control message: the fds just installed in OUR table, numbered as is free
 * here.  What does not fit (CMSG_SPACE rounds up: two fit on 64-bit Linux) the
 * kernel closes, and says MSG_CTRUNC.  MSG_CMSG_CLOEXEC: close-on-exec at once. */
static void receive_fd(int *their_fd)
{
    char label[32];
    union control control;
    struct iovec iov = { .iov_base = label, .iov_len = sizeof label - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    ssize_t n = traced(recvmsg(conn_fd, &msg, MSG_CMSG_CLOEXEC), "recvmsg(%d, MSG_CMSG_CLOEXEC)",
                       conn_fd);
    if (n == -1)
        die("recvmsg");
    int fd = -1, used = 0, extra = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int got;
            memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof got);
            if (fd == -1 && !(msg.msg_flags & MSG_CTRUNC))
                fd = got;
            else if (traced(close(got), "close(%d)", got) == -1)
                die("close");
            else
                say("closed fd %d: one more fd than the one we take, never used", got), extra++;
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        die_msg("the control message was cut short (MSG_CTRUNC): the sender sent more fds "
                "than fit in our buffer, and the kernel dropped them; the %d that arrived "
                "are closed, none used", extra);
    if (fd == -1)
        die_msg(n == 0 ? "the sender closed the connection without sending anything"
                       : "the sender's message came with no fd");
    passed_fd = fd;                    /* closed by cleanup() if we refuse it now */
    label[n] = '\0';
    if (sscanf(label, "%d\n%n", their_fd, &used) != 1 || used != n)
        die_msg("the sender's message is not its number for the fd: refused");
}

/* What the fd is, the fd itself says (fstat; /proc names a memfd "/memfd:NAME
 * (deleted)"): the sender could lie.  Only a pipe, a memfd or a file is used. */
static void use_fd(int their_fd)
{
    struct stat st;
    char link[64], target[16] = "";
    snprintf(link, sizeof link, "/proc/self/fd/%d", passed_fd);
    if (traced(fstat(passed_fd, &st), "fstat(%d)", passed_fd) == -1)
        die("fstat");
    if (readlink(link, target, sizeof target - 1) == -1)
        die("readlink %s", link);
    const char *kind = S_ISFIFO(st.st_mode) ? "pipe" : !S_ISREG(st.st_mode) ? NULL
                     : strncmp(target, "/memfd:", 7) == 0 ? "memfd" : "file";
    if (kind == NULL)
        die_msg("fd %d is neither a file, a pipe nor a memfd: refused", passed_fd);
    say("received fd %d: the sender's fd %d, a %s, under a number that was free in our table",
        passed_fd, their_fd, kind);
    if (strcmp(kind, "pipe") == 0)
        use_pipe(passed_fd);
    else if (strcmp(kind, "memfd") == 0)
        use_memfd(passed_fd);
    else
        use_file(passed_fd);
    close_said(&passed_fd, "closed fd %d");
}

/* The sender's open file: at the offset its read() left, moved on by ours. */
static void use_file(int fd)
{
    char buf[CHUNK], shown[4 * CHUNK + 1];
    say("fd %d is at offset %lld: where the sender left it", fd, offset_of(fd));
    ssize_t n = traced(read(fd, buf, sizeof buf), "read(%d, %zu)", fd, sizeof buf);
    if (n == -1)
        die("read");
    escape_text(shown, sizeof shown, buf, (size_t)n);
    say("read %zd bytes from fd %d: %s", n, fd, shown);
    say("fd %d is now at offset %lld, the sender's fd too: one open file", fd, offset_of(fd));
}

static void print_piece(const char *line, size_t len, size_t dropped, void *arg)
{
    char shown[LINE_LIMIT];
    size_t taken = escape_text(shown, sizeof shown, line, len);
    (void)arg;
    say("read from the pipe: %s%s", shown, taken < len + dropped ? "..." : "");
}

/* A pipe made by a process we are no child of: read to its end (the sender
 * closes the write end). */
static void use_pipe(int fd)
{
    struct lines lines = { .used = 0 };
    char buf[4096];
    ssize_t n;
    do {
        wait_or_stop(fd);
        if ((n = traced(read(fd, buf, sizeof buf), "read(%d, %zu)", fd, sizeof buf)) == -1)
            die("read");
        lines_feed(&lines, buf, (size_t)n, print_piece, NULL);
    } while (n > 0);
    lines_end(&lines, print_piece, NULL);
    say("read() returned 0: the sender closed the write end");
}

/* A memfd: memory with a file's interface and no name.  Whoever else holds an
 * fd for it could write into it while we read, or shrink it (a mapped page
 * past its end: SIGBUS).  So it is mapped only if sealed: F_SEAL_WRITE and
 * F_SEAL_SHRINK, which nobody can ever remove. */
static void use_memfd(int fd)
{
    char names[128];
    int seals = (int)traced(fcntl(fd, F_GET_SEALS), "fcntl(%d, F_GET_SEALS)", fd);
    if (seals == -1)
        die("fcntl F_GET_SEALS: not a memfd");
    seal_names(seals, names, sizeof names);
    if ((seals & (F_SEAL_WRITE | F_SEAL_SHRINK)) != (F_SEAL_WRITE | F_SEAL_SHRINK))
        die_msg("the memfd's seals are %s: without F_SEAL_WRITE and F_SEAL_SHRINK its sender "
                "could change or shrink it under us: refused, not mapped", names);
    struct stat st;
    if (traced(fstat(fd, &st), "fstat(%d)", fd) == -1)
        die("fstat");
    if (st.st_size <= 0 || st.st_size > MEMFD_MAX)
        die_msg("the memfd holds %lld bytes (we take 1 to %d): refused", (long long)st.st_size,
                MEMFD_MAX);
    say("the memfd is sealed (%s): %lld bytes nobody can change", names, (long long)st.st_size);
    size_t size = (size_t)st.st_size;
    char *p = traced_ptr(mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0),
                         "mmap(NULL, %zu, PROT_READ, MAP_SHARED, %d, 0)", size, fd);
    if (p == MAP_FAILED)
        die("mmap");
    char shown[LINE_LIMIT];
    size_t taken = escape_text(shown, sizeof shown, p, size);
    say("mapped it: %s%s", shown, taken < size ? "..." : "");
    if (traced(munmap(p, size), "munmap(%p, %zu)", (void *)p, size) == -1)
        die("munmap");
}

/* ---- the sender ---- */

static void send_fd_of(const char *kind, const char *arg)
{
    if (strcmp(kind, "file") == 0)
        passed_fd = open_file(arg);
    else if (strcmp(kind, "pipe") == 0)
        passed_fd = fill_pipe(arg != NULL ? arg : "hello through a pipe");
    else
        passed_fd = fill_memfd(arg != NULL ? arg : "hello from a memfd");
    connect_receiver();
    send_fd(passed_fd, kind);
    if (strcmp(kind, "pipe") == 0) {
        /* Our copy of the read end goes: the receiver's is the only one.  What
         * we write now, a process we never forked reads. */
        close_said(&passed_fd, "closed our read end (fd %d): the receiver holds the only one");
        if (write_all(pipe_write_fd, "written after the read end was sent\n", 36) == -1)
            die("write to the pipe");
        if (show_fds)
            print_fds("after sendmsg():");
        close_said(&pipe_write_fd, "closed the write end (fd %d): the receiver will read end "
                   "of file");
    } else if (show_fds) {
        print_fds("after sendmsg():");
    }
    delay_ms(delay);
    await_done();
    if (strcmp(kind, "file") == 0)
        say("the receiver is done: our fd %d is now at offset %lld: its read() moved our "
            "offset (one open file, two fds)", passed_fd, offset_of(passed_fd));
    else
        say("the receiver is done with it");
}

static int open_file(const char *path)
{
    char buf[CHUNK], shown[4 * CHUNK + 1];
    int fd = (int)traced(open(path, O_RDONLY | O_CLOEXEC), "open(\"%s\", O_RDONLY|O_CLOEXEC)",
                         path);
    if (fd == -1)
        die("open %s", path);
    ssize_t n = traced(read(fd, buf, sizeof buf), "read(%d, %zu)", fd, sizeof buf);
    if (n == -1)
        die("read %s", path);
    escape_text(shown, sizeof shown, buf, (size_t)n);
    say("opened %s (fd %d) and read %zd bytes: %s", path, fd, n, shown);
    say("fd %d is at offset %lld", fd, offset_of(fd));
    return fd;
}

static int fill_pipe(const char *text)
{
    int fds[2] = { -1, -1 };
    int rc = pipe2(fds, O_CLOEXEC);    /* traced once it has filled fds */
    if (traced(rc, "pipe([%d, %d])", fds[0], fds[1]) == -1)
        die("pipe");
    pipe_write_fd = fds[1];
    char line[LINE_LIMIT];
    int len = snprintf(line, sizeof line, "%s\n", text);
    if (len >= (int)sizeof line)
        die_msg("TEXT is longer than %d bytes", LINE_LIMIT - 2);
    if (write_all(fds[1], line, (size_t)len) == -1)
        die("write to the pipe");
    say("made a pipe (read end fd %d, write end fd %d) and wrote a line into it", fds[0], fds[1]);
    return fds[0];
}

/* memfd_create(): memory with an fd and no name (the name given is a label
 * /proc shows).  The mapping that fills it goes before the seals: F_SEAL_WRITE
 * fails (EBUSY) while a writable shared mapping exists. */
static int fill_memfd(const char *text)
{
    size_t len = strlen(text);
    if (len == 0)
        die_msg("TEXT is empty: a memfd of 0 bytes cannot be mapped");
    int fd = (int)traced(memfd_create("pass", MFD_CLOEXEC | MFD_ALLOW_SEALING),
                         "memfd_create(\"pass\", MFD_CLOEXEC|MFD_ALLOW_SEALING)");
    if (fd == -1)
        die("memfd_create");
    passed_fd = fd;
    if (traced(ftruncate(fd, (off_t)len), "ftruncate(%d, %zu)", fd, len) == -1)
        die("ftruncate");
    char *p = traced_ptr(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                         "mmap(NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)", len, fd);
    if (p == MAP_FAILED)
        die("mmap");
    memcpy(p, text, len);
    if (traced(munmap(p, len), "munmap(%p, %zu)", (void *)p, len) == -1)
        die("munmap");
    int seals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
    if (traced(fcntl(fd, F_ADD_SEALS, seals), "fcntl(%d, F_ADD_SEALS, "
               "F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL)", fd) == -1)
        die("fcntl F_ADD_SEALS");
    say("filled a memfd (fd %d) with %zu bytes and sealed it: from now on nobody, we "
        "included, can write, shrink or grow it", fd, len);
    return fd;
}

static void connect_receiver(void)
{
    conn_fd = (int)traced(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
                          "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)");
    if (conn_fd == -1)
        die("socket");
    int rc = (int)traced(connect(conn_fd, (const struct sockaddr *)&addr.sun, addr.len),
                         "connect(%d, \"%s\")", conn_fd, addr.shown);
    if (rc == -1 && (errno == ENOENT || errno == ECONNREFUSED))
        die_msg("connect %s: %s (start socket/pass recv first)", addr.shown, strerror(errno));
    if (rc == -1)
        die("connect %s", addr.shown);
    say("connected to %s (fd %d)", addr.shown, conn_fd);
}

/* sendmsg(): ordinary data (our number for the fd, as text, only to show it)
 * and a control message, SCM_RIGHTS with the fd.  The kernel installs our open
 * file in the receiver's table, under a number of its own, at its recvmsg(). */
static void send_fd(int fd, const char *kind)
{
    char label[32];
    int len = snprintf(label, sizeof label, "%d\n", fd);
    union control control = { .buf = { 0 } };
    struct iovec iov = { .iov_base = label, .iov_len = (size_t)len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    *cm = (struct cmsghdr){ .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS,
                            .cmsg_len = CMSG_LEN(sizeof(int)) };
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t n = traced(sendmsg(conn_fd, &msg, 0), "sendmsg(%d, SCM_RIGHTS [%d])", conn_fd, fd);
    if (n == -1)
        die("sendmsg %s", addr.shown);
    if (n != len)                      /* a few bytes on a fresh connection: all or error */
        die_msg("sendmsg %s: %zd of %d bytes sent", addr.shown, n, len);
    say("sent fd %d with sendmsg() and SCM_RIGHTS: the receiver gets its own number for our %s",
        fd, strcmp(kind, "file") == 0 ? "open file" : kind);
}

/* "done" once the receiver used the fd; end of file: it refused it. */
static void await_done(void)
{
    char buf[16];
    ssize_t n = traced(read(conn_fd, buf, sizeof buf), "read(%d, %zu)", conn_fd, sizeof buf);
    if (n == -1)
        die("read %s", addr.shown);
    if (n != 5 || memcmp(buf, "done\n", 5) != 0)
        die_msg("the receiver closed the connection without saying it was done: it refused "
                "the fd (see its messages)");
}

/* ---- what makes it robust (not the lesson) ---- */

/* Wait until FD can be read, or stop (exit 0, cleanup() closing everything)
 * on a stop signal, let in only while ppoll() waits.  FD -1: one already came. */
static void wait_or_stop(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (fd != -1 && !stop_signal) {
        int n = (int)traced(ppoll(&p, 1, NULL, &stops_unblocked), "ppoll([{%d, POLLIN}], 1)", fd);
        if (n > 0)
            return;
        if (n == -1 && errno != EINTR)
            die("ppoll");
    }
    say("got %s: stopping", signal_name(stop_signal));
    exit(0);
}

/* recv, or send file PATH, or send pipe|memfd [TEXT]: true for recv. */
static bool operands(char **op, int ops)
{
    if (ops == 0)
        usage_error("say recv or send");
    bool recv = strcmp(op[0], "recv") == 0;
    if (!recv && strcmp(op[0], "send") != 0)
        usage_error("'%s': say recv or send", op[0]);
    if (!recv && (ops < 2 || (strcmp(op[1], "file") != 0 && strcmp(op[1], "pipe") != 0 &&
                              strcmp(op[1], "memfd") != 0)))
        usage_error("send what: file PATH, pipe [TEXT] or memfd [TEXT]");
    if (!recv && strcmp(op[1], "file") == 0 && ops < 3)
        usage_error("send file: which file?");
    if (ops > (recv ? 1 : 3))
        extra_operand(op[recv ? 1 : 3]);
    return recv;
}

/* close(*FD), then SAID (a format naming the fd), and *FD is -1. */
static void close_said(int *fd, const char *said)
{
    if (traced(close(*fd), "close(%d)", *fd) == -1)
        die("close");
    say(said, *fd);
    *fd = -1;
}

/* The offset of FD's open file, /proc/PID/fdinfo/FD's pos: for all its fds. */
static long long offset_of(int fd)
{
    off_t pos = (off_t)traced(lseek(fd, 0, SEEK_CUR), "lseek(%d, 0, SEEK_CUR)", fd);
    if (pos == -1)
        die("lseek");
    return (long long)pos;
}

static const char *seal_names(int seals, char *buf, size_t size)
{
    static const char *const names[] = { "F_SEAL_SEAL", "F_SEAL_SHRINK", "F_SEAL_GROW",
                                         "F_SEAL_WRITE" };      /* bits 0, 1, 2, 3 */
    size_t len = 0;
    for (int bit = 0; bit < 4; bit++)
        if (seals & (1 << bit) && len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "|" : "", names[bit]);
    if (len == 0)
        snprintf(buf, size, "none");
    return buf;
}

/* atexit: the socket file if still ours, every fd still open (stops blocked). */
static void cleanup(void)
{
    sockfile_remove(&addr);
    int *fds[] = { &passed_fd, &pipe_write_fd, &conn_fd, &listen_fd };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] != -1 && traced(close(*fds[i]), "close(%d)", *fds[i]) == -1)
            warn_sys("close");
        *fds[i] = -1;
    }
}
