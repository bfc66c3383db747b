/* socket/sockfile.c - see sockfile.h. */
#define _GNU_SOURCE                    /* struct ucred (SO_PEERCRED), ppoll */
#include "sockfile.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool sockfile_fits(const char *arg)
{
    /* A path needs its final NUL, an abstract name its leading 0 byte. */
    return arg[0] != '\0' && strlen(arg) < sizeof(((struct sockaddr_un *)0)->sun_path);
}

void address_init(struct address *a, const char *arg, bool abstract, const char *name)
{
    char buf[PATH_MAX];
    const char *text = arg;
    if (text == NULL)
        text = abstract ? posix_name(buf, sizeof buf, name) + 1   /* without its '/' */
                        : ipc_path(buf, sizeof buf, name);
    if (!sockfile_fits(text))
        die_msg("%s is too long for a socket address", text);
    memset(a, 0, sizeof *a);
    a->sun.sun_family = AF_UNIX;
    a->abstract = abstract;
    memcpy(a->sun.sun_path + (abstract ? 1 : 0), text, strlen(text));
    /* An abstract name is the bytes after the 0, as many as the length says;
     * a path ends at its NUL. */
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(text));
    snprintf(a->shown, sizeof a->shown, "%s%s", abstract ? "@" : "", text);
}

/* Is anybody accepting on the file?  A connect() to a socket file nobody
 * listens on is refused (ECONNREFUSED): the file is all that is left of a
 * killed server.  Non-blocking, so that a live server with a full queue
 * cannot make us wait (EAGAIN: somebody listens). */
static void probe(const struct address *a, struct leftover *l)
{
    int fd = (int)traced(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
                         "socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC)");
    if (fd == -1)
        die("socket");
    int rc = (int)traced(connect(fd, (const struct sockaddr *)&a->sun, a->len),
                         "connect(%d, \"%s\")", fd, a->shown);
    int err = errno;
    struct ucred cred = { .pid = 0 };
    socklen_t len = sizeof cred;
    /* Somebody accepts: SO_PEERCRED on our side names who called listen(). */
    if (rc == 0 && traced(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len),
                          "getsockopt(%d, SOL_SOCKET, SO_PEERCRED)", fd) == 0 && cred.pid > 0) {
        l->creator = cred.pid;
        l->creator_running = process_running(cred.pid);
    }
    l->users = rc == 0 || err == EAGAIN;
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close");
    errno = err;
    if (rc == -1 && err != EAGAIN && err != ECONNREFUSED)
        die("connect %s", a->shown);
}

void clear_stale_socket(const struct address *a)
{
    const char *path = a->shown;
    struct stat st;
    if (a->abstract)
        return;                        /* no file: nothing can be left behind */
    /* lstat, never stat: a symbolic link is judged, not followed. */
    if (traced(lstat(path, &st), "lstat(\"%s\")", path) == -1) {
        if (errno != ENOENT)
            die("lstat %s", path);
        return;
    }
    if (!S_ISSOCK(st.st_mode))
        die_msg("%s is %s, not a socket: left as it is (remove it, or choose another path "
                "with -p)", path, S_ISLNK(st.st_mode) ? "a symbolic link (never followed)"
                : S_ISREG(st.st_mode) ? "a regular file" : S_ISDIR(st.st_mode) ? "a directory"
                : "a special file");
    char what[PATH_MAX + 64], remove[PATH_MAX + 8];
    snprintf(what, sizeof what, "the socket file %s", path);
    snprintf(remove, sizeof remove, "rm %s", path);
    struct leftover l = { .what = what, .remove = remove };
    l.ours = st.st_uid == getuid() && (st.st_mode & 07777) == 0600;
    if (l.ours)
        probe(a, &l);                  /* never another user's: not ours to poke */
    require_stale(&l);
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1)
        die("unlink %s", path);
}

void sockfile_bound(const struct address *a, struct stat *ours)
{
    if (traced(lstat(a->shown, ours), "lstat(\"%s\")", a->shown) == -1)
        die("lstat %s", a->shown);
}

void sockfile_remove(const struct address *a, const struct stat *ours)
{
    struct stat now;
    if (traced(lstat(a->shown, &now), "lstat(\"%s\")", a->shown) == -1)
        say("%s was already removed", a->shown);
    else if (now.st_dev != ours->st_dev || now.st_ino != ours->st_ino)
        say("%s is no longer our socket file: left as it is", a->shown);
    else if (traced(unlink(a->shown), "unlink(\"%s\")", a->shown) == -1)
        warn_sys("unlink %s", a->shown);
    else
        say("removed %s", a->shown);
}

/* ---- waiting without missing a stop signal ---- */

sigset_t stops_unblocked;

void block_stop_signals(void)
{
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &stops, &stops_unblocked) == -1)
        die("sigprocmask");
    sigdelset(&stops_unblocked, SIGINT);   /* even if whoever started us blocked them */
    sigdelset(&stops_unblocked, SIGTERM);
    sigdelset(&stops_unblocked, SIGHUP);
    catch_stop_signals();
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
}

void pause_ms(long ms)
{
    struct timespec left = { ms / 1000, (ms % 1000) * 1000000L };
    /* ppoll() with no fds: a sleep that a stop signal ends at once. */
    if (ms > 0 && !stop_signal)
        (void)ppoll(NULL, 0, &left, &stops_unblocked);
}

bool wait_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (!stop_signal) {
        int n = (int)traced(ppoll(&p, 1, NULL, &stops_unblocked), "ppoll([{%d, POLLIN}], 1)", fd);
        if (n > 0)
            return true;
        if (n == -1 && errno != EINTR)
            die("ppoll");
    }
    return false;
}
