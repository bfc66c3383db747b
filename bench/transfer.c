/* transfer.c - one trial of one mechanism.
 *
 * Throughput: a forked writer sends WARM + COUNT messages, this process (the
 * reader) checks every byte of every one; the clock runs from the end of the
 * warm-up to the moment the last byte has been checked, in this one process.
 * Latency: this process sends a request, a forked echo child checks it and
 * answers, this process checks the answer; each round trip is timed alone.
 *
 * The children never run the parent's cleanup: they leave with _exit().  If one
 * dies, this process notices (end of file, EPIPE, or the one-second tick that
 * interrupts a blocked msgrcv() or open()) and says so, never waits forever.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const mech_names[M_MECHS] = {
    "pipe", "fifo", "shm", "shm1", "msgq", "socketpair", "unix", "posix-mq", "posix-shm",
    "posix-shm1",
};

/* A stream reader reads up to this much per read(): few system calls, and each
 * piece is checked while it is still in the cache. */
enum { READ_CHUNK = 128 * 1024 };

/* ---- children, and what cleanup must undo ---- */

struct kid {
    pid_t pid;
    const char *what;
    bool exited;                /* reaped early (by check_children) */
    int status;
};
static struct kid kids[4];
static pid_t main_pid;
static int msqid = -1;
static char fifo_path[PATH_MAX], ping_path[PATH_MAX], pong_path[PATH_MAX];
static char sock_path[PATH_MAX];    /* unix: $IPC_DEMO_DIR/bench-socket */
static bool sock_named;             /* bound and not yet unlinked: ours to remove */
static struct stat sock_made;       /* what bind() made there: only that is removed */
static void sock_unlink(void);
static long queue_limit;        /* the largest message msgq can take here */

double now(void)
{
    struct timespec ts;
    /* Called in both processes: a child must not run the parent's cleanup. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        die_child("clock_gettime");
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* IPCBENCH_CORRUPT=MECH (a test aid): MECH's writer flips one bit in the last
 * byte of the last message of every transfer, which the reader must catch. */
bool corrupt_for(const char *mech)
{
    const char *want = getenv("IPCBENCH_CORRUPT");
    return want != NULL && strcmp(want, mech) == 0;
}

void *buffer(size_t size)
{
    void *p;
    int err = posix_memalign(&p, 4096, size);
    if (err != 0) {
        errno = err;
        die("posix_memalign %zu bytes", size);
    }
    memset(p, 0x5a, size);                  /* pre-touch: no page fault while timed */
    return p;
}

pid_t fork_child(const char *role, int pin_role)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        set_role("%s", role);
        default_stop_signals();
        die_with_parent(parent);
        if (pin_role >= 0)
            pin_self(pin_role);
        return 0;
    }
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        if (kids[i].pid == 0) {
            kids[i] = (struct kid){ .pid = pid, .what = role };
            return pid;
        }
    }
    die_msg("internal error: too many children");
}

static struct kid *kid_of(pid_t pid)
{
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++)
        if (kids[i].pid == pid)
            return &kids[i];
    return NULL;
}

bool describe_status(int status, char *buf, size_t size)
{
    if (WIFEXITED(status)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
        return WEXITSTATUS(status) == 0;
    }
    snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
             signal_name(WTERMSIG(status)));
    return false;
}

bool reap(pid_t pid, const char *what, int *status_out)
{
    struct kid *k = kid_of(pid);
    int status;
    if (k != NULL && k->exited) {
        status = k->status;
    } else {
        while (waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR)
                die("waitpid %s", what);
            check_stop();
        }
    }
    if (k != NULL)
        k->pid = 0;
    if (status_out != NULL)
        *status_out = status;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void check_stop(void)
{
    if (stop_signal)
        die_msg("interrupted by %s", signal_name(stop_signal));
}

void reap_or_die(pid_t pid, const char *what, const char *mech)
{
    int status;
    if (!reap(pid, what, &status)) {
        check_stop();               /* a Ctrl-C killed the child too: say why */
        char how[64];
        describe_status(status, how, sizeof how);
        die_msg("%s: the %s %s", mech, what, how);
    }
}

/* A blocking call returned EINTR: a stop signal, or the tick.  Stop, or find out
 * whether a child died: a writer that finished with status 0 is fine (its data
 * may still be queued), any other end is reported. */
void after_eintr(const char *mech)
{
    check_stop();
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        struct kid *k = &kids[i];
        if (k->pid == 0 || k->exited)
            continue;
        pid_t r = waitpid(k->pid, &k->status, WNOHANG);
        if (r == -1)
            die("waitpid");
        if (r == 0)
            continue;
        k->exited = true;
        char how[64];
        if (!describe_status(k->status, how, sizeof how))
            die_msg("%s: the %s (pid %ld) %s", mech, k->what, (long)k->pid, how);
    }
}

static void close_or_die(int fd)
{
    if (close(fd) == -1)
        die("close");
}

/* Open a FIFO, blocking until the other side opens it too (the rendezvous);
 * the tick makes sure a peer that died first is noticed. */
static int open_fifo(const char *path, int flags, const char *mech, bool child)
{
    for (;;) {
        int fd = open(path, flags | O_CLOEXEC);
        if (fd != -1)
            return fd;
        if (errno != EINTR || child) {
            if (child)
                die_child("%s: open %s", mech, path);
            die("%s: open %s", mech, path);
        }
        after_eintr(mech);
    }
}

void bench_cleanup(void)
{
    if (getpid() != main_pid)
        return;                         /* never in a child */
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        if (kids[i].pid == 0)
            continue;
        if (!kids[i].exited) {
            kill(kids[i].pid, SIGKILL);
            while (waitpid(kids[i].pid, NULL, 0) == -1 && errno == EINTR)
                ;
        }
        kids[i].pid = 0;
    }
    shm_cleanup();
    posix_cleanup();
    sock_unlink();
    if (msqid != -1 && msgctl(msqid, IPC_RMID, NULL) == -1)
        warn_sys("msgctl IPC_RMID %d (remove it with: ipcrm -q %d)", msqid, msqid);
    msqid = -1;
    leftovers_remove();                 /* the FIFOs, then the record */
}

/* ---- the objects of the run ---- */

long msgmax(void)
{
    return proc_long("/proc/sys/kernel/msgmax", 8192);
}

/* run_claim() removed a queue a killed run left: one there now is another's. */
static void make_queue(void)
{
    key_t key = bench_key();
    msqid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    if (msqid == -1 && errno == EEXIST)
        die_msg("a message queue with key 0x%08lx appeared while this run started (another "
                "bench/ipcbench with %s?)", (unsigned long)key, ipc_dir());
    if (msqid == -1)
        die("msgget key 0x%08lx", (unsigned long)key);
    run_record_queue(msqid);
    struct msqid_ds ds;
    if (msgctl(msqid, IPC_STAT, &ds) == -1)
        die("msgctl IPC_STAT");
    /* A message longer than the queue's byte limit would block msgsnd() forever. */
    queue_limit = msgmax();
    if ((long)ds.msg_qbytes < queue_limit)
        queue_limit = (long)ds.msg_qbytes;
}

void mechs_prepare(const bool used[M_MECHS])
{
    main_pid = getpid();
    run_claim(used);
    if (used[M_FIFO]) {
        ipc_path(fifo_path, sizeof fifo_path, "bench-fifo");
        ipc_path(ping_path, sizeof ping_path, "bench-ping");
        ipc_path(pong_path, sizeof pong_path, "bench-pong");
        fifo_create(fifo_path);
        fifo_create(ping_path);
        fifo_create(pong_path);
    }
    if (used[M_UNIX])
        ipc_path(sock_path, sizeof sock_path, "bench-socket");
    if (used[M_MSGQ])
        make_queue();
    if (used[M_SHM] || used[M_SHM1])
        shm_prepare();
}

bool mech_supports(enum mech m, size_t size, const char **why)
{
    static char reason[64];
    if (m == M_MSGQ && (long)size > queue_limit) {
        snprintf(reason, sizeof reason, "above msgmax (%ld B)", queue_limit);
        *why = reason;
        return false;
    }
    if ((m == M_SHM || m == M_SHM1) && !shm_supports(size, why))
        return false;
    return posix_supports(m, size, why);
}

bool latency_supports(enum mech m)
{
    return m == M_PIPE || m == M_FIFO || m == M_SHM || m == M_MSGQ || m == M_SOCKETPAIR ||
           m == M_UNIX || m == M_PMQ || m == M_PSHM;
}

/* ---- unix: a connection made by a path ---- */

/* socketpair() hands both ends to one process, which must fork to share them;
 * two unrelated processes meet by a name instead: the reader binds a socket
 * file and listens, the writer connects to the path.  Once connected, the two
 * sockets are exactly what socketpair() makes: the name costs the connect()
 * and the accept(), nothing per message. */
static struct sockaddr_un sock_address(void)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(sock_path) >= sizeof a.sun_path)
        die_msg("%s is too long for a socket address (set a shorter IPC_DEMO_DIR)", sock_path);
    strcpy(a.sun_path, sock_path);
    return a;
}

/* Unlink the socket file if it is still the one this run's bind() made. */
static void sock_unlink(void)
{
    struct stat st;
    if (!sock_named)
        return;
    sock_named = false;
    if (lstat(sock_path, &st) == -1) {
        if (errno != ENOENT)                    /* gone already: nothing to do */
            warn_sys("lstat %s", sock_path);
    } else if (st.st_dev != sock_made.st_dev || st.st_ino != sock_made.st_ino)
        warn_msg("%s is no longer our socket file: left as it is", sock_path);
    else if (unlink(sock_path) == -1)
        warn_sys("unlink %s (remove it with: rm %s)", sock_path, sock_path);
}

/* The reader, before the writer is forked: the writer's connect() then finds a
 * listening socket, with no wait and no retry. */
static int unix_listen(void)
{
    struct sockaddr_un a = sock_address();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        die("unix: socket");
    mode_t old = umask(0177);               /* bind() makes the file 0777 & ~umask: 0600 */
    int rc = bind(fd, (const struct sockaddr *)&a, sizeof a);
    int err = errno;
    umask(old);
    if (rc == 0 && lstat(sock_path, &sock_made) == -1) {
        int lerr = errno;
        (void)unlink(sock_path);                /* ours a moment ago: bind() made it */
        errno = lerr;
        die("unix: lstat %s", sock_path);
    }
    if (rc == 0)
        sock_named = true;
    errno = err;
    if (rc == -1 && err == EADDRINUSE)
        die_msg("%s appeared while this run started (another bench/ipcbench with %s?)",
                sock_path, ipc_dir());
    if (rc == -1)
        die("unix: bind %s", sock_path);
    if (listen(fd, 1) == -1)
        die("unix: listen");
    return fd;
}

/* The writer (a child): connect by the path. */
static int unix_connect(int listen_fd, const char *mech)
{
    struct sockaddr_un a = sock_address();
    if (close(listen_fd) == -1)             /* the reader's, not the writer's */
        die_child("close");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        die_child("%s: socket", mech);
    if (connect(fd, (const struct sockaddr *)&a, sizeof a) == -1)
        die_child("%s: connect %s", mech, sock_path);
    return fd;
}

/* The reader: the writer's connection; the tick makes sure a writer that died
 * before connecting is noticed. */
static int unix_accept(int listen_fd, const char *mech)
{
    int fd;
    while ((fd = accept(listen_fd, NULL, NULL)) == -1) {
        if (errno != EINTR)
            die("%s: accept", mech);
        after_eintr(mech);
    }
    /* After accept() nobody needs the name: unlink it at once, so that only a
     * kill -9 in the moment between bind() and here can leave the file behind
     * (the next run or --cleanup removes it, see leftover.c). */
    sock_unlink();
    if (close(listen_fd) == -1 || fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
        die("%s: close / fcntl", mech);
    return fd;
}

/* ---- byte streams: pipe, fifo, socketpair, unix ---- */

static noreturn void stream_writer(int fd, const char *mech, size_t size, long total)
{
    unsigned char *buf = buffer(size);
    bool corrupt = corrupt_for(mech);
    for (long seq = 0; seq < total; seq++) {
        payload_fill(buf, size, (uint64_t)seq);
        if (corrupt && seq == total - 1)
            buf[size - 1] ^= 1;
        /* One write() per message; the reader may get it in pieces or several
         * at once: a stream has no message boundaries. */
        if (write_all(fd, buf, size) == -1)
            die_child("%s: write", mech);
    }
    free(buf);
    if (close(fd) == -1)
        die_child("close");
    _exit(0);
}

static void stream_reader(int fd, const char *mech, size_t size, long warm, long total,
                          struct timing *t)
{
    unsigned char *buf = buffer(READ_CHUNK);
    long seq = 0;
    size_t off = 0;                         /* position inside message SEQ */
    double t0 = now();
    while (seq < total) {
        ssize_t n = read(fd, buf, READ_CHUNK);
        if (n == -1 && errno == EINTR) {
            after_eintr(mech);
            continue;
        }
        if (n == -1)
            die("%s: read", mech);
        if (n == 0) {
            check_stop();
            die_msg("%s: the writer stopped after %ld of %ld messages", mech, seq, total);
        }
        for (size_t done = 0; done < (size_t)n;) {
            size_t piece = size - off;
            if (piece > (size_t)n - done)
                piece = (size_t)n - done;
            if (seq >= total)
                die_msg("%s: more bytes arrived than were sent", mech);
            if (!payload_check(buf + done, off, piece, (uint64_t)seq))
                payload_mismatch(mech, size, buf + done, off, piece, (uint64_t)seq);
            done += piece;
            off += piece;
            if (off == size) {
                off = 0;
                if (++seq == warm)
                    t0 = now();             /* the warm-up's last byte is checked */
            }
        }
    }
    t->seconds = now() - t0;
    t->messages = total - warm;
    /* The writer closes after its last message: anything more is an error. */
    for (;;) {
        ssize_t n = read(fd, buf, 1);
        if (n == -1 && errno == EINTR) {
            after_eintr(mech);
            continue;
        }
        if (n == -1)
            die("%s: read", mech);
        if (n > 0)
            die_msg("%s: more bytes arrived than were sent", mech);
        break;
    }
    free(buf);
}

/* ---- System V message queue ---- */

struct qmsg {
    long mtype;
    unsigned char mtext[];
};

static void queue_send(struct qmsg *m, size_t size, const char *mech, bool child)
{
    while (msgsnd(msqid, m, size, 0) == -1) {
        if (errno != EINTR || child) {
            if (child)
                die_child("%s: msgsnd", mech);
            die("%s: msgsnd", mech);
        }
        after_eintr(mech);
    }
}

/* Receive one message of TYPE, exactly SIZE bytes: msgrcv() refuses a longer
 * one (E2BIG: nothing is silently cut), a shorter one is reported. */
static void queue_receive(struct qmsg *m, size_t size, long type, const char *mech, bool child)
{
    for (;;) {
        ssize_t n = msgrcv(msqid, m, size, type, 0);
        if (n == (ssize_t)size)
            return;
        if (n >= 0) {
            if (child) {
                warn_sys("%s: a message of %zd bytes, expected %zu", mech, n, size);
                _exit(1);
            }
            die_msg("%s: a message of %zd bytes, expected %zu", mech, n, size);
        }
        if (errno != EINTR || child) {
            if (child)
                die_child("%s: msgrcv", mech);
            die("%s: msgrcv", mech);
        }
        after_eintr(mech);
    }
}

static noreturn void queue_writer(const char *mech, size_t size, long total)
{
    struct qmsg *m = buffer(sizeof(struct qmsg) + size);
    bool corrupt = corrupt_for(mech);
    for (long seq = 0; seq < total; seq++) {
        m->mtype = 1;
        payload_fill(m->mtext, size, (uint64_t)seq);
        if (corrupt && seq == total - 1)
            m->mtext[size - 1] ^= 1;
        queue_send(m, size, mech, true);
    }
    free(m);
    _exit(0);
}

static void queue_reader(const char *mech, size_t size, long warm, long total,
                         struct timing *t)
{
    struct qmsg *m = buffer(sizeof(struct qmsg) + size);
    double t0 = now();
    for (long seq = 0; seq < total; seq++) {
        queue_receive(m, size, 1, mech, false);
        if (!payload_check(m->mtext, 0, size, (uint64_t)seq))
            payload_mismatch(mech, size, m->mtext, 0, size, (uint64_t)seq);
        if (seq + 1 == warm)
            t0 = now();
    }
    t->seconds = now() - t0;
    t->messages = total - warm;
    free(m);
}

/* ---- one throughput trial ---- */

void transfer(enum mech m, size_t size, long warm, long count, struct timing *t)
{
    const char *mech = mech_names[m];
    long total = warm + count;
    int fds[2] = { -1, -1 };
    if (m == M_PIPE && pipe(fds) == -1)
        die("pipe");
    if (m == M_SOCKETPAIR && socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
        die("socketpair");
    int listen_fd = m == M_UNIX ? unix_listen() : -1;
    if (m == M_SHM || m == M_SHM1) {
        shm_transfer(m == M_SHM1, size, warm, count, t);
        return;
    }
    if (m == M_PMQ || m == M_PSHM || m == M_PSHM1) {
        if (m == M_PMQ)
            pmq_transfer(size, warm, count, t);
        else
            pshm_transfer(m == M_PSHM, size, warm, count, t);
        return;
    }

    pid_t child = fork_child("writer", ROLE_WRITER);
    if (child == 0) {
        if (fds[0] != -1 && close(fds[0]) == -1)    /* the writer never reads */
            die_child("close");
        signal(SIGPIPE, SIG_IGN);                   /* a vanished reader: EPIPE, said */
        if (m == M_FIFO)
            fds[1] = open_fifo(fifo_path, O_WRONLY, mech, true);
        if (m == M_UNIX)
            fds[1] = unix_connect(listen_fd, mech);
        if (m == M_MSGQ)
            queue_writer(mech, size, total);
        stream_writer(fds[1], mech, size, total);
    }

    int rfd = fds[0];
    if (fds[1] != -1)
        close_or_die(fds[1]);       /* or read() would never see end of file */
    if (m == M_FIFO)
        rfd = open_fifo(fifo_path, O_RDONLY, mech, false);
    if (m == M_UNIX)
        rfd = unix_accept(listen_fd, mech);
    if (m == M_MSGQ)
        queue_reader(mech, size, warm, total, t);
    else
        stream_reader(rfd, mech, size, warm, total, t);
    if (rfd != -1)
        close_or_die(rfd);
    reap_or_die(child, "writer", mech);
}

/* ---- latency: round trips ---- */

static noreturn void stream_echo(int rfd, int wfd, const char *mech, size_t size, long total)
{
    unsigned char *buf = buffer(size);
    bool corrupt = corrupt_for(mech);
    for (long seq = 0; seq < total; seq++) {
        ssize_t n = read_full(rfd, buf, size);
        if (n == -1)
            die_child("%s: read", mech);
        if ((size_t)n != size)
            _exit(1);                       /* the parent is gone: it reports why */
        if (!payload_check(buf, 0, size, (uint64_t)seq)) {
            warn_sys("%s: request %ld is corrupted", mech, seq);
            _exit(1);
        }
        payload_fill(buf, size, (uint64_t)seq | ANSWER);
        if (corrupt && seq == total - 1)
            buf[size - 1] ^= 1;
        if (write_all(wfd, buf, size) == -1)
            die_child("%s: write", mech);
    }
    free(buf);
    if (close(rfd) == -1 || (wfd != rfd && close(wfd) == -1))    /* unix: one fd */
        die_child("close");
    _exit(0);
}

static noreturn void queue_echo(const char *mech, size_t size, long total)
{
    struct qmsg *m = buffer(sizeof(struct qmsg) + size);
    bool corrupt = corrupt_for(mech);
    for (long seq = 0; seq < total; seq++) {
        queue_receive(m, size, 1, mech, true);
        if (!payload_check(m->mtext, 0, size, (uint64_t)seq)) {
            warn_sys("%s: request %ld is corrupted", mech, seq);
            _exit(1);
        }
        m->mtype = 2;
        payload_fill(m->mtext, size, (uint64_t)seq | ANSWER);
        if (corrupt && seq == total - 1)
            m->mtext[size - 1] ^= 1;
        queue_send(m, size, mech, true);
    }
    free(m);
    _exit(0);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void latency_summary(double *rtt, long count, struct latency *l)
{
    double sum = 0;
    for (long i = 0; i < count; i++)
        sum += rtt[i];
    qsort(rtt, (size_t)count, sizeof rtt[0], compare_double);
    l->mean_us = sum / (double)count * 1e6;
    l->median_us = (count % 2 ? rtt[count / 2] : (rtt[count / 2 - 1] + rtt[count / 2]) / 2) * 1e6;
    l->min_us = rtt[0] * 1e6;
}

/* The two ends of a stream round trip: DOWN to the echo child, UP back; a
 * socket is one connection both ways (down[0] == up[1], down[1] == up[0]). */
struct ends {
    int down[2], up[2], pair[2], listen_fd;
};

static void ends_make(enum mech m, struct ends *e)
{
    *e = (struct ends){ { -1, -1 }, { -1, -1 }, { -1, -1 }, -1 };
    if (m == M_PIPE && (pipe(e->down) == -1 || pipe(e->up) == -1))
        die("pipe");
    if (m == M_SOCKETPAIR && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e->pair) == -1)
        die("socketpair");
    if (m == M_UNIX)
        e->listen_fd = unix_listen();
}

/* In the echo child: down[0] to read the requests, up[1] to answer. */
static void ends_child(enum mech m, struct ends *e, const char *mech)
{
    if (m == M_PIPE) {
        if (close(e->down[1]) == -1 || close(e->up[0]) == -1)
            die_child("close");
    } else if (m == M_SOCKETPAIR) {
        if (close(e->pair[0]) == -1)
            die_child("close");
        e->down[0] = e->up[1] = e->pair[1];
    } else if (m == M_UNIX) {
        e->down[0] = e->up[1] = unix_connect(e->listen_fd, mech);
    } else {                            /* same order as the parent: no deadlock */
        e->down[0] = open_fifo(ping_path, O_RDONLY, mech, true);
        e->up[1] = open_fifo(pong_path, O_WRONLY, mech, true);
    }
}

/* In this process: down[1] to send the requests, up[0] for the answers. */
static void ends_parent(enum mech m, struct ends *e, const char *mech)
{
    if (m == M_PIPE) {
        close_or_die(e->down[0]);
        close_or_die(e->up[1]);
    } else if (m == M_FIFO) {
        e->down[1] = open_fifo(ping_path, O_WRONLY, mech, false);
        e->up[0] = open_fifo(pong_path, O_RDONLY, mech, false);
    } else if (m == M_SOCKETPAIR) {
        close_or_die(e->pair[1]);
        e->down[1] = e->up[0] = e->pair[0];
    } else if (m == M_UNIX) {
        e->down[1] = e->up[0] = unix_accept(e->listen_fd, mech);
    }
}

/* One request of SIZE bytes down, its answer back into BUF. */
static void stream_trip(const struct ends *e, unsigned char *buf, size_t size, const char *mech)
{
    if (write_all(e->down[1], buf, size) == -1)
        die("%s: write to the echo child", mech);
    ssize_t n;
    while ((n = read_full(e->up[0], buf, size)) == -1 && errno == EINTR)
        after_eintr(mech);
    if (n == -1)
        die("%s: read", mech);
    if ((size_t)n != size) {
        after_eintr(mech);              /* reports a stop, or how the echo child ended */
        die_msg("%s: the echo child stopped answering", mech);
    }
}

void roundtrip(enum mech m, size_t size, long warm, long count, struct latency *l)
{
    const char *mech = mech_names[m];
    long total = warm + count;
    if (m == M_SHM || m == M_PSHM || m == M_PMQ) {
        if (m == M_SHM)
            shm_roundtrip(size, warm, count, l);
        else if (m == M_PSHM)
            pshm_roundtrip(size, warm, count, l);
        else
            pmq_roundtrip(size, warm, count, l);
        return;
    }
    struct ends e;
    ends_make(m, &e);
    pid_t child = fork_child("echo", ROLE_WRITER);
    if (child == 0) {
        signal(SIGPIPE, SIG_IGN);
        if (m == M_MSGQ)
            queue_echo(mech, size, total);
        ends_child(m, &e, mech);
        stream_echo(e.down[0], e.up[1], mech, size, total);
    }
    ends_parent(m, &e, mech);

    struct qmsg *q = buffer(sizeof(struct qmsg) + size);
    unsigned char *buf = q->mtext;
    double *rtt = malloc((size_t)count * sizeof *rtt);
    if (rtt == NULL)
        die("malloc");
    for (long seq = 0; seq < total; seq++) {
        double t0 = now();
        payload_fill(buf, size, (uint64_t)seq);
        if (m == M_MSGQ) {
            q->mtype = 1;
            queue_send(q, size, mech, false);
            queue_receive(q, size, 2, mech, false);
        } else {
            stream_trip(&e, buf, size, mech);
        }
        if (!payload_check(buf, 0, size, (uint64_t)seq | ANSWER))
            payload_mismatch(mech, size, buf, 0, size, (uint64_t)seq | ANSWER);
        if (seq >= warm)
            rtt[seq - warm] = now() - t0;
    }
    if (m != M_MSGQ) {
        close_or_die(e.down[1]);
        if (e.up[0] != e.down[1])
            close_or_die(e.up[0]);
    }
    free(q);
    reap_or_die(child, "echo child", mech);
    latency_summary(rtt, count, l);
    free(rtt);
}
