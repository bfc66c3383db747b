/* procpool/watch.c - see watch.h. */
#include "watch.h"
#include "../common/common.h"
#include "procfs.h"
#include "protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

long completed;
bool bad_results, results_eof, fds_when_ready;
volatile sig_atomic_t child_exited;
static uint8_t *task_done;              /* completions, indexed by task number */
static long task_count;
static sigset_t orig_mask, wait_mask;   /* as we started; while waiting */

int slot_of(pid_t pid)
{
    for (int i = 0; i < nworkers; i++)
        if (workers[i].pid == pid && pid != 0)
            return i;
    return -1;
}

bool all_ready(void)
{
    for (int i = 0; i < nworkers; i++)
        if (!workers[i].ready)
            return false;
    return true;
}

bool any_pending(void)
{
    for (int i = 0; i < nworkers; i++)
        if (workers[i].npending > 0)
            return true;
    return false;
}

/* ---- the results pipe ---- */

void results_init(long ntasks)
{
    task_count = ntasks;
    task_done = calloc((size_t)ntasks + 1, 1);
    if (task_done == NULL)
        die("calloc");
}

void results_free(void)
{
    free(task_done);
    task_done = NULL;
}

bool each_task_completed_once(void)
{
    bool once = completed == task_count;
    for (long t = 1; t <= task_count && once; t++)
        once = task_done[t] == 1;
    return once;
}

/* Nothing read from a pipe is trusted: the record must come from one of our
 * workers and complete the oldest task that worker has not completed yet. */
static void handle_record(const struct result *r)
{
    int i = slot_of((pid_t)r->pid);
    struct worker *w = i == -1 ? NULL : &workers[i];
    const char *bad = NULL;
    if (w == NULL || r->worker != (uint32_t)i)
        bad = "not from one of our workers";
    else if (r->kind == RESULT_READY && w->ready)
        bad = "ready twice";
    else if (r->kind != RESULT_READY && r->kind != RESULT_DONE)
        bad = "unknown kind";
    else if (r->kind == RESULT_DONE && (w->npending == 0 || r->seq != w->done + 1 ||
                                        r->code != w->pending[0].code))
        bad = "does not match what was sent to that worker";
    if (bad != NULL) {
        say("bad result record (kind %lu, worker %lu, pid %lu, seq %lu, code %lu): %s; ignored",
            (unsigned long)r->kind, (unsigned long)r->worker, (unsigned long)r->pid,
            (unsigned long)r->seq, (unsigned long)r->code, bad);
        bad_results = true;
        return;
    }
    if (r->kind == RESULT_READY) {
        w->ready = true;
        if (fds_when_ready)
            show_worker_fds(i, w->pid);
        return;
    }
    long t = w->pending[0].number;
    memmove(w->pending, w->pending + 1, (size_t)--w->npending * sizeof w->pending[0]);
    w->done++;
    completed++;
    if (task_done[t]++ != 0) {
        say("task %ld completed twice!", t);
        bad_results = true;
    }
    say("task %ld done by worker%d (pid %ld): result %lu", t, i, (long)w->pid,
        (unsigned long)r->value);
}

/* Records are fixed-size; a read may still end in the middle of one, so the
 * rest is kept for the next read. */
void read_results(int fd, bool drain)
{
    static unsigned char buf[64 * sizeof(struct result)];
    static size_t used;
    if (results_eof)
        return;
    do {
        ssize_t n = traced(read(fd, buf + used, sizeof buf - used), "read(%d, %zu)", fd,
                           sizeof buf - used);
        if (n == -1 && errno == EAGAIN)
            return;
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("read from the results pipe");
        if (n == 0) {
            results_eof = true;
            if (used != 0) {
                say("%zu stray bytes at the end of the results pipe", used);
                bad_results = true;
            }
            return;
        }
        used += (size_t)n;
        size_t off = 0;
        for (; used - off >= sizeof(struct result); off += sizeof(struct result)) {
            struct result r;
            memcpy(&r, buf + off, sizeof r);
            handle_record(&r);
        }
        memmove(buf, buf + off, used - off);
        used -= off;
    } while (drain);
}

/* ---- signals, and the wait ---- */

static void on_sigchld(int signo)
{
    (void)signo;
    child_exited = 1;
}

void watch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_NOCLDSTOP };
    sigemptyset(&sa.sa_mask);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigaction(SIGCHLD, &sa, NULL) == -1)
        die("sigaction");
    catch_stop_signals();
    static const int waited_for[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };
    sigset_t blocked;
    sigemptyset(&blocked);
    for (size_t k = 0; k < sizeof waited_for / sizeof waited_for[0]; k++)
        sigaddset(&blocked, waited_for[k]);
    if (sigprocmask(SIG_BLOCK, &blocked, &orig_mask) == -1)
        die("sigprocmask");
    wait_mask = orig_mask;
    for (size_t k = 0; k < sizeof waited_for / sizeof waited_for[0]; k++)
        sigdelset(&wait_mask, waited_for[k]);
}

void unwatch_signals(void)
{
    default_stop_signals();
    if (signal(SIGCHLD, SIG_DFL) == SIG_ERR || signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
        sigprocmask(SIG_SETMASK, &orig_mask, NULL) == -1)
        die_child("signal");
}

/* Unblocking for a moment lets a stop signal that is waiting behind the
 * blocked mask run its handler. */
bool stopping(void)
{
    sigset_t blocked;
    if (sigprocmask(SIG_SETMASK, &wait_mask, &blocked) == -1 ||
        sigprocmask(SIG_SETMASK, &blocked, NULL) == -1)
        die("sigprocmask");
    return stop_signal != 0;
}

void wait_events(int fd, long timeout)
{
    fd_set readable;
    FD_ZERO(&readable);
    if (!results_eof)
        FD_SET(fd, &readable);
    struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };
    int n = pselect(results_eof ? 0 : fd + 1, &readable, NULL, NULL, timeout < 0 ? NULL : &ts,
                    &wait_mask);
    if (n == -1 && errno != EINTR)
        die("pselect");
    if (n > 0)
        read_results(fd, false);
}
