/* msgq/msgq.c - the server's record and the system's limits; see msgq.h. */
#include "msgq.h"

#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

char *msgq_record_path(char *buf, size_t size)
{
    return ipc_path(buf, size, "msgq.pid");
}

void msgq_record_write(int msqid)
{
    char path[PATH_MAX], line[96];
    int len = snprintf(line, sizeof line, "%ld %llu %d\n", (long)getpid(),
                       process_start_time(getpid()), msqid);
    msgq_record_path(path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd == -1)
        die("open %s", path);
    if (write_all(fd, line, (size_t)len) == -1)
        die("write %s", path);
    if (close(fd) == -1)
        die("close %s", path);
}

bool msgq_record_read(struct msgq_record *rec)
{
    char path[PATH_MAX], line[96];
    msgq_record_path(path, sizeof path);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        return false;
    ssize_t n = read_full(fd, line, sizeof line - 1);
    (void)close(fd);              /* read-only: nothing can be lost */
    if (n <= 0)
        return false;
    line[n] = '\0';
    /* Written by us, but it is a file anyone of ours could edit: parse strictly. */
    long pid;
    int msqid, used = 0;
    if (sscanf(line, "%ld %llu %d\n%n", &pid, &rec->start, &msqid, &used) != 3 ||
        used != n || pid <= 1 || pid > INT_MAX || msqid < 0)
        return false;
    rec->pid = (pid_t)pid;
    rec->msqid = msqid;
    return true;
}

void msgq_record_remove(void)
{
    char path[PATH_MAX];
    msgq_record_path(path, sizeof path);
    if (unlink(path) == -1 && errno != ENOENT)
        warn_sys("unlink %s", path);
}

bool msgq_server_alive(const struct msgq_record *rec)
{
    unsigned long long now = process_start_time(rec->pid);
    return now != 0 && now == rec->start;
}

long msgq_msgmax(void)
{
    char buf[32];
    int fd = open("/proc/sys/kernel/msgmax", O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    ssize_t n = read_full(fd, buf, sizeof buf - 1);
    (void)close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

static void on_tick(int signo)
{
    (void)signo;
}

void msgq_start_tick(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = 0;              /* no SA_RESTART: the wait must be interrupted */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1)
        die("sigaction SIGALRM");
    struct itimerval every = { { 0, 200000 }, { 0, 200000 } };
    if (setitimer(ITIMER_REAL, &every, NULL) == -1)
        die("setitimer");
}
