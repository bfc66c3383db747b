/* socket/sockfile.c - see sockfile.h. */
#define _GNU_SOURCE                    /* struct ucred (SO_PEERCRED), ppoll */
#include "sockfile.h"

#include <limits.h>
#include <poll.h>
#include <time.h>

void address_init(struct address *a, const char *arg, bool abstract, const char *name)
{
    char buf[PATH_MAX];
    /* A path needs its final NUL, an abstract name its leading 0 byte. */
    size_t max = sizeof a->sun.sun_path - 1;
    if (arg != NULL && (arg[0] == '\0' || strlen(arg) > max))
        usage_error("-p: '%s' does not fit in a socket address (1 to %zu bytes)", arg, max);
    const char *text = arg != NULL ? arg
        : abstract ? posix_name(buf, sizeof buf, name) + 1   /* without its '/' */
        : ipc_path(buf, sizeof buf, name);
    if (strlen(text) > max)
        die_msg("%s is too long for a socket address", text);
    *a = (struct address){ .sun.sun_family = AF_UNIX, .abstract = abstract };
    memcpy(a->sun.sun_path + (abstract ? 1 : 0), text, strlen(text));
    /* An abstract name: the bytes after the 0, as many as the length says. */
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(text));
    snprintf(a->shown, sizeof a->shown, "%s%s", abstract ? "@" : "", text);
}

/* Is anybody accepting on the file?  A connect() to a socket file nobody
 * listens on is refused (ECONNREFUSED): all that is left of a killed server.
 * Non-blocking: a live server's full queue says EAGAIN, never makes us wait. */
static void probe(const struct address *a, struct leftover *l)
{
    int fd = (int)traced(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
                         "socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC)");
    if (fd == -1)
        die("socket");
    int rc = (int)traced(connect(fd, (const struct sockaddr *)&a->sun, a->len),
                         "connect(%d, \"%s\")", fd, a->shown);
    if (rc == -1 && errno != EAGAIN && errno != ECONNREFUSED)
        die("connect %s", a->shown);
    l->users = rc == 0 || errno == EAGAIN;
    struct ucred cred = { .pid = 0 };
    socklen_t len = sizeof cred;
    /* Somebody accepts: SO_PEERCRED on our side names who called listen(). */
    if (rc == 0 && traced(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len),
                          "getsockopt(%d, SOL_SOCKET, SO_PEERCRED)", fd) == 0 && cred.pid > 0) {
        l->creator = cred.pid;
        l->creator_running = process_running(cred.pid);
    }
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close");
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
    struct leftover l = { .what = what, .remove = remove,
                          .ours = st.st_uid == getuid() && (st.st_mode & 07777) == 0600 };
    if (l.ours)
        probe(a, &l);                  /* never another user's: not ours to poke */
    require_stale(&l);
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1)
        die("unlink %s", path);
}

static struct stat ours;               /* st_ino 0: no file of ours */

unsigned sockfile_bound(const struct address *a)
{
    if (traced(lstat(a->shown, &ours), "lstat(\"%s\")", a->shown) == -1)
        die("lstat %s", a->shown);
    return ours.st_mode & 07777;
}

void sockfile_remove(const struct address *a)
{
    struct stat now;
    if (ours.st_ino == 0)
        return;
    if (traced(lstat(a->shown, &now), "lstat(\"%s\")", a->shown) == -1)
        say("%s was already removed", a->shown);
    else if (now.st_dev != ours.st_dev || now.st_ino != ours.st_ino)
        say("%s is no longer our socket file: left as it is", a->shown);
    else if (traced(unlink(a->shown), "unlink(\"%s\")", a->shown) == -1)
        warn_sys("unlink %s", a->shown);
    else
        say("removed %s", a->shown);
    ours.st_ino = 0;
}

/* ---- waiting without missing a stop signal ---- */

sigset_t stops_unblocked;

void block_stop_signals(void)
{
    static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
    sigset_t stops;
    sigemptyset(&stops);
    for (int i = 0; i < 3; i++)
        sigaddset(&stops, stop[i]);
    if (sigprocmask(SIG_BLOCK, &stops, &stops_unblocked) == -1)
        die("sigprocmask");
    for (int i = 0; i < 3; i++)    /* even if whoever started us blocked them */
        sigdelset(&stops_unblocked, stop[i]);
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
