/* procpool/procfs.c - see procfs.h.  /proc is Linux-only. */
#include "procfs.h"
#include "../common/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *find_worker(void)
{
    static char path[PATH_MAX];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n == -1)
        die("readlink /proc/self/exe");
    else
        self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    if (snprintf(path, sizeof path, "%s/worker", self) >= (int)sizeof path)
        die_msg("path too long: %s/worker", self);
    if (access(path, X_OK) == -1)
        die_msg("%s: %s (the worker must sit next to the pool: run make)", path, strerror(errno));
    return path;
}

/* Fds the pool inherited from whoever started it (a shell, a test harness) are
 * none of the workers' business.  (The pool's own pipes are not marked:
 * closing them is the lesson.) */
void hide_inherited_fds(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
            die("open /dev/null");
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        die("opendir /proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
            continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags == -1 && errno == EBADF)
            continue;             /* not ours to see (a debugger's, valgrind's) */
        if (flags == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1)
            die("fcntl %d", fd);
    }
    closedir(d);
}

void show_worker_fds(int i, pid_t pid)
{
    char who[64];
    snprintf(who, sizeof who, "worker%d (pid %ld):", i, (long)pid);
    print_fds(pid, who);
}

/* Is FD of PID the write end of a pipe?  /proc/PID/fdinfo/FD gives its open
 * flags in octal. */
static bool is_write_end(pid_t pid, int fd)
{
    char path[96], info[512];
    snprintf(path, sizeof path, "/proc/%ld/fdinfo/%d", (long)pid, fd);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f == -1)
        return false;             /* closed, or the process is gone */
    ssize_t n = read_full(f, info, sizeof info - 1);
    close(f);
    if (n <= 0)
        return false;
    info[n] = '\0';
    const char *flags = strstr(info, "flags:");
    return flags != NULL && (strtol(flags + 6, NULL, 8) & O_ACCMODE) == O_WRONLY;
}

int write_ends_held(pid_t pid, unsigned long ino, const char *who)
{
    char pipe_name[64], dir[64], path[128], target[64];
    snprintf(pipe_name, sizeof pipe_name, "pipe:[%lu]", ino);
    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;                 /* it just exited */
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        snprintf(path, sizeof path, "%s/%d", dir, fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n == -1)
            continue;
        target[n] = '\0';
        if (strcmp(target, pipe_name) != 0 || !is_write_end(pid, fd))
            continue;
        count++;
        if (who != NULL)
            say("  %s holds it as fd %d", who, fd);
    }
    closedir(d);
    return count;
}
