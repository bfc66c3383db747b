/* limits.c - what the mechanisms are compared with, measured in the same run.
 *
 *   memcpy     one process copying the same volume, timed on its own CPU time:
 *              no IPC can move bytes faster
 *   dd | dd    dd if=/dev/zero bs=64k | dd of=/dev/null bs=64k: the shell's own
 *              pipe, the same pipe(2) + fork + exec a shell does
 *   perf       perf bench sched pipe: the kernel developers' pipe round trip
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Called through a volatile pointer, so the compiler cannot drop or merge the
 * copies whose result nobody reads. */
static void *(*volatile copy)(void *, const void *, size_t) = memcpy;

/* The CPU time this process has used, in seconds: what another process takes of
 * the CPU does not count, so a busy machine cannot lower the ceiling (the
 * mechanisms, timed on the clock, can only look slower). */
static double cpu_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
        die("clock_gettime CLOCK_PROCESS_CPUTIME_ID");
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void memcpy_run(size_t size, long warm, long count, struct timing *t)
{
    unsigned char *src = buffer(size), *dst = buffer(size);
    payload_fill(src, size, 0);
    for (long i = 0; i < warm; i++)
        copy(dst, src, size);
    double t0 = cpu_now();
    for (long i = 0; i < count; i++)
        copy(dst, src, size);
    t->seconds = cpu_now() - t0;
    t->messages = count;
    if (!payload_check(dst, 0, size, 0))
        payload_mismatch("memcpy", size, dst, 0, size, 0);
    free(src);
    free(dst);
}

/* The ceiling must not be lowered by a moment of bad luck (another process took
 * the CPU, a page of the buffers was reclaimed): the best of a few runs. */
void memcpy_best(size_t size, long warm, long count, struct timing *t)
{
    memcpy_run(size, warm, count, t);
    for (int i = 1; i < MEMCPY_TRIES; i++) {
        struct timing again;
        memcpy_run(size, 0, count, &again);
        if (again.seconds < t->seconds)
            *t = again;
    }
}

static void cloexec_pipe(int fds[2])
{
    if (pipe(fds) == -1)
        die("pipe");
    for (int i = 0; i < 2; i++)
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1)
            die("fcntl FD_CLOEXEC");
}

/* In a forked child: FROM becomes fd TO (dup2 clears close-on-exec). */
static void move_fd(int from, int to)
{
    if (from == to ? fcntl(to, F_SETFD, 0) == -1 : dup2(from, to) == -1)
        die_child("dup2");
}

/* In a forked child, once the pipes' ends are in place on 0, 1 and 2: close the
 * N originals.  Close-on-exec would close them only if execvp() succeeds; the
 * child that cannot exec must not leave with them open either. */
static void close_originals(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] > STDERR_FILENO && close(fds[i]) == -1)
            die_child("close");
}

/* Read what the children (WHO) wrote on FD, a few lines, until end of file. */
static void slurp(int fd, char *buf, size_t size, const char *who)
{
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buf + used, size - 1 - used);
        if (n == -1 && errno == EINTR) {
            after_eintr(who);
            continue;
        }
        if (n == -1)
            die("read");
        if (n == 0 || (used += (size_t)n) == size - 1)
            break;
    }
    buf[used] = '\0';
    if (close(fd) == -1)
        die("close");
}

static noreturn void exec_or_die(char *const argv[])
{
    signal(SIGPIPE, SIG_DFL);           /* as a shell would start them */
    execvp(argv[0], argv);
    /* The parent reads this from the captured output. */
    fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

void dd_run(long count, struct timing *t)
{
    int data[2], talk[2];
    cloexec_pipe(data);
    cloexec_pipe(talk);                 /* both dd's report on stderr: keep it */

    double t0 = now();
    pid_t a = fork_child("dd", ROLE_WRITER);
    if (a == 0) {
        char countarg[32];
        snprintf(countarg, sizeof countarg, "count=%ld", count);
        char *first[] = { "dd", "if=/dev/zero", "bs=64k", countarg, NULL };
        move_fd(data[1], STDOUT_FILENO);
        move_fd(talk[1], STDERR_FILENO);
        close_originals((int[]){ data[0], data[1], talk[0], talk[1] }, 4);
        exec_or_die(first);
    }
    pid_t b = fork_child("dd", ROLE_READER);
    if (b == 0) {
        char *second[] = { "dd", "of=/dev/null", "bs=64k", NULL };
        move_fd(data[0], STDIN_FILENO);
        move_fd(talk[1], STDERR_FILENO);
        close_originals((int[]){ data[0], data[1], talk[0], talk[1] }, 4);
        exec_or_die(second);
    }
    if (close(data[0]) == -1 || close(data[1]) == -1 || close(talk[1]) == -1)
        die("close");
    int sa, sb;
    bool ok_a = reap(a, "dd", &sa), ok_b = reap(b, "dd", &sb);
    t->seconds = now() - t0;
    t->messages = count;
    char said[4096];
    slurp(talk[0], said, sizeof said, "dd");
    if (!ok_a || !ok_b) {
        check_stop();
        char how_a[64], how_b[64];
        describe_status(sa, how_a, sizeof how_a);
        describe_status(sb, how_b, sizeof how_b);
        die_msg("dd | dd failed: the first dd %s, the second %s; they said:\n%s", how_a,
                how_b, said);
    }
    /* GNU dd states the bytes it copied: check the second one got them all. */
    long long expect = (long long)count * DD_BLOCK, bytes = -1;
    for (const char *line = said; line != NULL && *line != '\0';) {
        long long v;
        char word[8];
        if (sscanf(line, "%lld %7s", &v, word) == 2 && strcmp(word, "bytes") == 0)
            bytes = v;
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    if (bytes != -1 && bytes != expect)
        die_msg("dd | dd moved %lld bytes instead of %lld:\n%s", bytes, expect, said);
}

bool perf_run(long loops, double *usecs, const char **why)
{
    static char reason[160];
    int out[2];
    cloexec_pipe(out);
    /* perf starts its own two processes and cannot place them apart: with -c
     * split both may use the two CPUs. */
    pid_t pid = fork_child("perf", strcmp(pin_mode_name(), "split") == 0 ? ROLE_BOTH
                                                                           : ROLE_READER);
    if (pid == 0) {
        char loopsarg[32];
        snprintf(loopsarg, sizeof loopsarg, "%ld", loops);
        char *argv[] = { "perf", "bench", "sched", "pipe", "-l", loopsarg, NULL };
        move_fd(out[1], STDOUT_FILENO);
        move_fd(out[1], STDERR_FILENO);
        close_originals(out, 2);
        exec_or_die(argv);
    }
    if (close(out[1]) == -1)
        die("close");
    char said[4096];
    slurp(out[0], said, sizeof said, "perf");
    int status;
    bool ok = reap(pid, "perf", &status);
    char *line = strstr(said, "usecs/op");
    if (!ok)
        check_stop();
    if (!ok || line == NULL) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
            snprintf(reason, sizeof reason, "perf is not installed");
        } else {
            size_t len = strcspn(said, "\n");
            snprintf(reason, sizeof reason, "perf bench failed: %.*s",
                     (int)(len > 100 ? 100 : len), said);
        }
        *why = reason;
        return false;
    }
    while (line > said && line[-1] != '\n')  /* the number starts the line */
        line--;
    *usecs = strtod(line, NULL);
    if (*usecs <= 0) {
        *why = "perf bench printed no usecs/op";
        return false;
    }
    return true;
}
