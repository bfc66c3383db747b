/* objects.c - see objects.h. */
#include "objects.h"

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- where IPC objects live ---- */

const char *ipc_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0] != '\0')
        return dir;
    const char *env = getenv("IPC_DEMO_DIR");
    if (env != NULL && strlen(env) >= sizeof dir - 64)    /* room for the names in it */
        die_msg("IPC_DEMO_DIR is too long");
    if (env != NULL && env[0] != '\0')
        snprintf(dir, sizeof dir, "%s", env);
    else
        snprintf(dir, sizeof dir, "/tmp/ipc-demos-%ld", (long)getuid());
    if (mkdir(dir, 0700) == -1 && errno != EEXIST)
        die("mkdir %s", dir);
    struct stat st;               /* lstat: a symlink planted there is refused */
    if (lstat(dir, &st) == -1)
        die("lstat %s", dir);
    if (!S_ISDIR(st.st_mode))
        die_msg("%s is not a directory; remove it or set IPC_DEMO_DIR", dir);
    if (st.st_uid != getuid())
        die_msg("%s belongs to another user; set IPC_DEMO_DIR to a directory of yours", dir);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        die_msg("%s is writable by others; run chmod 700 %s", dir, dir);
    return dir;
}

char *ipc_path(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", ipc_dir(), name);
    if (n < 0 || (size_t)n >= size)
        die_msg("path too long: %s/%s", ipc_dir(), name);
    return buf;
}

const char *ipc_keyfile(void)
{
    static char path[PATH_MAX];
    if (path[0] != '\0')
        return path;
    ipc_path(path, sizeof path, "key");
    int fd = (int)traced(open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600),
                         "open(\"%s\", O_WRONLY|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600)", path);
    if (fd == -1)
        die("open %s", path);
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close %s", path);
    return path;
}

char *posix_name(char *buf, size_t size, const char *what)
{
    struct stat st;
    if (stat(ipc_dir(), &st) == -1)
        die("stat %s", ipc_dir());
    int n = snprintf(buf, size, "/ipc-demos-%lx-%lx-%s", (unsigned long)st.st_dev,
                     (unsigned long)st.st_ino, what);
    if (n < 0 || (size_t)n >= size)
        die_msg("name too long: %s", what);
    return buf;
}

/* ---- is its creator still there? ---- */

unsigned long long process_start_time(pid_t pid)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);      /* /proc hands it over whole */
    (void)close(fd);              /* read-only: nothing can be lost */
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* "PID (COMM) STATE ...": COMM may hold spaces and ')', so count fields from
     * the last ')'.  STATE is field 3, the start time field 22. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
        return 0;
    for (int field = 2; field < 22 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    return p != NULL ? strtoull(p + 1, NULL, 10) : 0;
}

bool process_running(pid_t pid)
{
    return process_start_time(pid) != 0;
}

/* ---- a record of the creator ---- */

void owner_write(const char *name, long id)
{
    char path[PATH_MAX], line[96];
    int len = snprintf(line, sizeof line, "%ld %llu %ld\n", (long)getpid(),
                       process_start_time(getpid()), id);
    struct owner old;
    ipc_path(path, sizeof path, name);
    if (owner_read(name, &old) == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)", path);
    int fd = (int)traced(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600),
                         "open(\"%s\", O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW|O_CLOEXEC, 0600)", path);
    if (fd == -1)
        die("open %s", path);
    if (write_all(fd, line, (size_t)len) == -1)
        die("write %s", path);
    if (traced(close(fd), "close(%d)", fd) == -1)
        die("close %s", path);
}

int owner_read(const char *name, struct owner *o)
{
    char path[PATH_MAX], line[96];
    ipc_path(path, sizeof path, name);
    int fd = (int)traced(open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC),
                         "open(\"%s\", O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC)", path);
    if (fd == -1)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    ssize_t n = -1;                 /* a record is one short line, a regular file of ours */
    if (traced(fstat(fd, &st), "fstat(%d)", fd) == 0 && S_ISREG(st.st_mode) &&
        st.st_uid == getuid())
        n = traced(read(fd, line, sizeof line - 1), "read(%d, %zu)", fd, sizeof line - 1);
    (void)traced(close(fd), "close(%d)", fd);   /* read-only: nothing can be lost */
    if (n <= 0)
        return -1;
    line[n] = '\0';
    long pid;
    int used = 0;                 /* a file anyone of ours could edit: parse strictly */
    if (sscanf(line, "%ld %llu %ld\n%n", &pid, &o->start, &o->id, &used) != 3 ||
        used != n || pid <= 1 || pid > INT_MAX || o->id < 0)
        return -1;
    o->pid = (pid_t)pid;
    return 1;
}

bool owner_running(const struct owner *o)
{
    return process_start_time(o->pid) == o->start;
}

void owner_remove(const char *name)
{
    char path[PATH_MAX];
    struct owner o;
    if (owner_read(name, &o) != 1 || (o.pid != getpid() && owner_running(&o)))
        return;
    ipc_path(path, sizeof path, name);
    if (traced(unlink(path), "unlink(\"%s\")", path) == -1 && errno != ENOENT)
        warn_sys("unlink %s", path);
}

/* ---- an object already there ---- */

void require_stale(const struct leftover *l)
{
    if (!l->ours)
        die_msg("%s is not ours (another user, or another mode than 0600): not touched.\n"
                "If it is yours to remove: %s", l->what, l->remove);
    if (l->creator_running)
        die_msg("%s is in use: its creator, pid %ld, is still running.  Stop it first: "
                "kill %ld", l->what, (long)l->creator, (long)l->creator);
    if (l->users > 0)
        die_msg("%s is in use: %lu process%s still using it.\nIf it is a leftover, remove "
                "it with: %s", l->what, l->users, l->users == 1 ? " is" : "es are", l->remove);
    if (l->creator != 0)
        say("%s was left by a killed run (its creator, pid %ld, is gone; nobody uses it): "
            "removing it", l->what, (long)l->creator);
    else
        say("%s was left by a killed run (nobody uses it): removing it", l->what);
}

/* ---- a FIFO at a path ---- */

static const char *file_kind(mode_t mode)
{
    return S_ISLNK(mode) ? "a symbolic link (never followed)" : S_ISREG(mode) ? "a regular file"
         : S_ISDIR(mode) ? "a directory" : S_ISSOCK(mode) ? "a socket" : "a special file";
}

void require_our_fifo(const char *path, const struct stat *seen)
{
    if (!S_ISFIFO(seen->st_mode))
        die_msg("%s is %s, not a FIFO: left as it is (remove it, or choose another path)",
                path, file_kind(seen->st_mode));
    if (seen->st_uid != getuid())
        die_msg("%s is a FIFO of user %ld, not yours: left as it is", path,
                (long)seen->st_uid);
    if ((seen->st_mode & 07777) != 0600)
        die_msg("%s is a FIFO of yours with mode %04o, not 0600: others could write into it. "
                "Left as it is: remove it (rm %s) and run again", path,
                (unsigned)(seen->st_mode & 07777), path);
}

void require_same_file(int fd, const char *path, const struct stat *seen)
{
    struct stat now;
    if (traced(fstat(fd, &now), "fstat(%d)", fd) == 0 && now.st_dev == seen->st_dev &&
        now.st_ino == seen->st_ino)
        return;
    (void)traced(close(fd), "close(%d)", fd);
    die_msg("%s is no longer the FIFO it was a moment ago: refusing to use it", path);
}
