/* linux.c - the Linux-only calls of the benchmark, kept in one place:
 * sched_getaffinity/sched_setaffinity and the CPU_* macros (pinning),
 * prctl(PR_SET_PDEATHSIG), fcntl(F_GETPIPE_SZ), the limits in /proc, and
 * fstat() on a POSIX message queue descriptor.
 * Most of them need _GNU_SOURCE. */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static enum pinning mode = PIN_SAME;
static int cpu[2] = { -1, -1 };         /* [ROLE_READER], [ROLE_WRITER] */
static char description[96];

/* -c same: one CPU for both (every hand-over is a context switch on that CPU,
 * the stable mode); split: one CPU each (hand-overs are cross-CPU wake-ups);
 * any: the scheduler decides, as for a program nobody pinned. */
void pin_setup(enum pinning p)
{
    mode = p;
    if (p == PIN_ANY) {
        snprintf(description, sizeof description, "any (not pinned: the scheduler decides)");
        return;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == -1)
        die("sched_getaffinity");
    int first = -1, second = -1;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &allowed))
            continue;
        if (first < 0)
            first = c;
        else if (second < 0)
            second = c;
    }
    if (first < 0)
        die_msg("no CPU to run on");
    if (p == PIN_SAME) {
        cpu[ROLE_READER] = cpu[ROLE_WRITER] = first;
        snprintf(description, sizeof description, "same (writer and reader on CPU %d)", first);
    } else {
        if (second < 0)
            die_msg("-c split needs two CPUs, but this process may only use CPU %d", first);
        cpu[ROLE_WRITER] = first;
        cpu[ROLE_READER] = second;
        snprintf(description, sizeof description, "split (writer on CPU %d, reader on CPU %d)",
                 first, second);
    }
}

void pin_self(int role)
{
    if (mode == PIN_ANY)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (role == ROLE_BOTH) {
        CPU_SET(cpu[ROLE_READER], &set);
        CPU_SET(cpu[ROLE_WRITER], &set);
    } else {
        CPU_SET(cpu[role], &set);
    }
    if (sched_setaffinity(0, sizeof set, &set) == -1) {
        if (role == ROLE_READER)
            die("sched_setaffinity CPU %d", cpu[role]);
        die_child("sched_setaffinity");
    }
}

const char *pin_describe(void)
{
    return description;
}

const char *pin_mode_name(void)
{
    return mode == PIN_SAME ? "same" : mode == PIN_SPLIT ? "split" : "any";
}

/* A writer blocked in msgsnd() would wait forever for a reader killed with
 * SIGKILL; this makes the kernel kill it too. */
void die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
        die_child("prctl PR_SET_PDEATHSIG");
    if (getppid() != parent)            /* the parent died before prctl() */
        _exit(1);
}

long pipe_default_size(void)
{
    int fds[2];
    if (pipe(fds) == -1)
        die("pipe");
    long size = fcntl(fds[0], F_GETPIPE_SZ);
    if (size == -1)
        die("fcntl F_GETPIPE_SZ");
    if (close(fds[0]) == -1 || close(fds[1]) == -1)
        die("close");
    return size;
}


/* On Linux a mqd_t is a file descriptor of the mqueue file system: fstat() tells
 * its owner and mode (POSIX gives no way to ask a queue). */
bool mq_stat(mqd_t q, struct stat *st)
{
    return fstat((int)q, st) == 0;
}
