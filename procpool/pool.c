/* procpool/pool - a process pool: workers started in advance, one pipe each.
 *
 * The lessons, in the order the program meets them:
 *  - pipe() then fork() for each worker; the worker's stdin becomes the read end
 *    of its own pipe and it execs procpool/worker, which blocks in read().  The
 *    pool wakes one particular worker by writing a 4-byte task code into that
 *    worker's pipe.
 *  - fork() copies the whole fd table: worker 3 is born holding the write ends of
 *    the pipes of workers 0, 1 and 2.  Unless it closes them, worker 0 never sees
 *    end of file while worker 3 lives, and a pool that closes worker 0's pipe and
 *    then waits for worker 0 waits forever.  The default closes them in the child;
 *    --leaky keeps them, shows the hang, explains it and recovers.
 *  - A pool keeps its promise: a worker that dies is noticed, reported and
 *    replaced, and the tasks it had not completed are sent again, so every task is
 *    completed exactly once.  Completions come back on one results pipe that all
 *    the workers share (see protocol.h).
 */
#include "../common/common.h"
#include "procfs.h"
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: procpool/pool [-w WORKERS] [-n TASKS] [-s rr|random] [-S SEED] [-d MS] [-v] [-f]"
    " [--leaky]\n"
    "Starts WORKERS procpool/worker processes, one pipe each, and dispatches TASKS task codes.\n"
    "  -w WORKERS  how many workers (default 5)\n"
    "  -n TASKS    how many tasks (default 10)\n"
    "  -s rr|random  choose the worker round-robin (default) or at random\n"
    "  -S SEED     seed for the random choices (tasks, and workers with -s random):\n"
    "              the same seed gives the same run\n"
    "  -d MS       pause MS milliseconds between dispatches (default 0)\n"
    "  -v          trace every system call on stderr\n"
    "  -f          print the pool's and each worker's open fds (from /proc/PID/fd)\n"
    "  --leaky     the notes' bug: workers keep the write ends they inherit; watch the\n"
    "              shutdown get stuck, be explained, and recover\n"
    "  -h          show this help\n";

/* At most WINDOW tasks per worker are sent and not yet completed.  Without a
 * bound, the pool could block writing into a full task pipe while that worker
 * blocks writing into a full results pipe that only the pool drains. */
enum { WINDOW = 8, GIVE_UP_AFTER = 3 };

struct worker {
    pid_t pid;                  /* 0: no process (reaped) */
    int fd;                     /* the pool's write end of its task pipe; -1: closed */
    unsigned long ino;          /* the task pipe as /proc shows it: pipe:[ino] */
    bool ready;
    uint32_t done;              /* completions received from this process */
    int barren;                 /* deaths in a row before completing anything */
    long pending[WINDOW];       /* tasks sent and not completed, oldest first */
    int npending;
};

static long nworkers = 5, ntasks = 10, delay;
static bool pick_random, show_fds, leaky;
static struct worker *workers;
static uint8_t *task_code, *task_done;          /* indexed by task number, 1..ntasks */
static long dispatched, completed, redispatched, deaths, replaced, clean_exits;
static bool failed, gave_up, shutting_down, started, results_eof;
static int res_rd = -1, res_wr = -1;            /* the results pipe */
static char *worker_path;
static sigset_t orig_mask, wait_mask;           /* as we started; while waiting */
static volatile sig_atomic_t child_exited;

/* ---- small tools ---- */

static long now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        die("clock_gettime");
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A tiny generator of our own, so that -S SEED gives the same run on any libc. */
static uint64_t rng_state;

static uint32_t rng_below(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static int slot_of(pid_t pid)
{
    for (int i = 0; i < nworkers; i++)
        if (workers[i].pid == pid && pid != 0)
            return i;
    return -1;
}

static void close_fd(int *fd)
{
    if (*fd == -1)
        return;
    if (traced(close(*fd), "close(%d)", *fd) == -1)
        die("close");
    *fd = -1;
}

/* Has a stop signal come?  Unblocking for a moment lets one that is waiting
 * behind the blocked mask run its handler. */
static bool stopping(void)
{
    sigset_t blocked;
    if (sigprocmask(SIG_SETMASK, &wait_mask, &blocked) == -1 ||
        sigprocmask(SIG_SETMASK, &blocked, NULL) == -1)
        die("sigprocmask");
    return stop_signal != 0;
}

static void on_sigchld(int signo)
{
    (void)signo;
    child_exited = 1;
}

/* How many write ends of worker I's task pipe the other workers hold; with
 * LIST, say who holds which. */
static int count_writers(int i, bool list)
{
    int count = 0;
    for (int j = 0; j < nworkers; j++) {
        if (j == i || workers[j].pid == 0)
            continue;
        char who[64];
        snprintf(who, sizeof who, "worker%d (pid %ld)", j, (long)workers[j].pid);
        count += write_ends_held(workers[j].pid, workers[i].ino, list ? who : NULL);
    }
    return count;
}

/* ---- starting a worker ---- */

/* In the child, between fork() and exec(): it must not return into the pool. */
static noreturn void become_worker(int i, int rfd, int wfd)
{
    set_role("worker%d", i);
    /* The pool's handlers and blocked signals are not the worker's. */
    default_stop_signals();
    if (signal(SIGCHLD, SIG_DFL) == SIG_ERR || signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
        sigprocmask(SIG_SETMASK, &orig_mask, NULL) == -1)
        die_child("signal");

    /* fork() gave this child the pool's write end of every other worker's pipe.
     * Kept, each is one more writer: that worker's read() could never return 0
     * while this one lives.  The fix is to close them; --leaky keeps them. */
    char list[2048] = "";
    size_t len = 0;
    int count = 0;
    for (int j = 0; j < nworkers; j++) {
        if (j == i || workers[j].fd == -1)
            continue;
        if (!leaky && traced(close(workers[j].fd), "close(%d)", workers[j].fd) == -1)
            die_child("close");
        if (len < sizeof list - 16)
            len += (size_t)snprintf(list + len, sizeof list - len, " %d", workers[j].fd);
        count++;
    }
    if (count > 0)
        say("%s the write ends of the other workers' pipes (fds%s)",
            leaky ? "--leaky: kept" : "closed", list);

    /* Its own write end too: a worker holding it would be a writer of its own
     * pipe and never see end of file.  And the results pipe's read end. */
    if (traced(close(wfd), "close(%d)", wfd) == -1 ||
        traced(close(res_rd), "close(%d)", res_rd) == -1)
        die_child("close");
    if (rfd != STDIN_FILENO) {
        if (traced(dup2(rfd, STDIN_FILENO), "dup2(%d, 0)", rfd) == -1)
            die_child("dup2");
        if (traced(close(rfd), "close(%d)", rfd) == -1)
            die_child("close");
    }
    char index[16], results[16];
    snprintf(index, sizeof index, "%d", i);
    snprintf(results, sizeof results, "%d", res_wr);
    char *argv[] = { worker_path, "-i", index, "-r", results, verbose ? "-v" : NULL, NULL };
    trace("execv(%s)", worker_path);
    execv(worker_path, argv);
    warn_sys("exec %s", worker_path);
    _exit(127);
}

static void start_worker(int i)
{
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    trace("pipe([%d, %d]) = 0", p[0], p[1]);
    struct stat st;
    if (fstat(p[1], &st) == -1)
        die("fstat");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        become_worker(i, p[0], p[1]);
    trace("fork() = %ld", (long)pid);
    /* The read end is the worker's now; a copy kept here would be one more
     * reader, hiding the worker's death from write() (no EPIPE). */
    close_fd(&p[0]);
    workers[i] = (struct worker){ .pid = pid, .fd = p[1], .ino = (unsigned long)st.st_ino };
    say("started worker%d (pid %ld): it reads pipe:[%lu] as stdin, "
        "the pool writes it through fd %d", i, (long)pid, workers[i].ino, p[1]);
}

/* ---- dispatching ---- */

static void send_task(long t, int i, bool again)
{
    struct worker *w = &workers[i];
    uint32_t code = task_code[t];
    w->pending[w->npending++] = t;
    say("%stask %ld (%s) -> worker%d (pid %ld)", again ? "re-dispatching " : "", t,
        task_name(code), i, (long)w->pid);
    /* SIGPIPE is ignored: a worker that is gone makes write() fail with EPIPE
     * instead of killing the pool.  The task stays pending; SIGCHLD follows and
     * the dead worker's tasks are sent again. */
    ssize_t n = write_all(w->fd, &code, sizeof code);
    if (traced(n, "write(%d, %zu)", w->fd, sizeof code) == -1) {
        if (errno != EPIPE)
            die("write to worker%d's pipe", i);
        say("write to worker%d: EPIPE, nobody reads its pipe any more", i);
    }
}

/* ---- the results pipe ---- */

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
                                        r->code != task_code[w->pending[0]]))
        bad = "does not match what was sent to that worker";
    if (bad != NULL) {
        say("bad result record (kind %lu, worker %lu, pid %lu, seq %lu, code %lu): %s; ignored",
            (unsigned long)r->kind, (unsigned long)r->worker, (unsigned long)r->pid,
            (unsigned long)r->seq, (unsigned long)r->code, bad);
        failed = true;
        return;
    }
    if (r->kind == RESULT_READY) {
        w->ready = true;
        if (show_fds && started)
            show_worker_fds(i, w->pid);
        return;
    }
    long t = w->pending[0];
    memmove(w->pending, w->pending + 1, (size_t)--w->npending * sizeof w->pending[0]);
    w->done++;
    w->barren = 0;
    completed++;
    if (task_done[t]++ != 0) {
        say("task %ld completed twice!", t);
        failed = true;
    }
    say("task %ld done by worker%d (pid %ld): result %lu", t, i, (long)w->pid,
        (unsigned long)r->value);
}

/* Read what the results pipe holds (it is non-blocking): one read(), or with
 * DRAIN until it is empty.  Records are fixed-size; a read may still end in
 * the middle of one, so the rest is kept for the next read. */
static void read_results(bool drain)
{
    static unsigned char buf[64 * sizeof(struct result)];
    static size_t used;
    if (results_eof)
        return;
    do {
        ssize_t n = traced(read(res_rd, buf + used, sizeof buf - used), "read(%d, %zu)", res_rd,
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
                failed = true;
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

/* Sleep until a result arrives, a signal is caught (SIGCHLD, a stop signal) or
 * TIMEOUT ms pass (-1: no limit).  Those signals are blocked everywhere else and
 * unblocked only inside pselect(), so none can slip in between a check and the
 * wait. */
static void wait_events(long timeout)
{
    fd_set readable;
    FD_ZERO(&readable);
    if (!results_eof)
        FD_SET(res_rd, &readable);
    struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };
    int n = pselect(results_eof ? 0 : res_rd + 1, &readable, NULL, NULL, timeout < 0 ? NULL : &ts,
                    &wait_mask);
    if (n == -1 && errno != EINTR)
        die("pselect");
    if (n > 0)
        read_results(false);
}

/* ---- workers that exit ---- */

static bool describe_exit(int i, pid_t pid, int status, const char *then)
{
    if (WIFEXITED(status))
        say("worker%d (pid %ld) exited with status %d%s", i, (long)pid, WEXITSTATUS(status),
            then);
    else
        say("worker%d (pid %ld) was killed by signal %d (%s)%s", i, (long)pid, WTERMSIG(status),
            signal_name(WTERMSIG(status)), then);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void worker_exited(int i, int status)
{
    struct worker *w = &workers[i];
    pid_t pid = w->pid;
    /* Whatever it wrote before dying is in the results pipe now: count it
     * before deciding what it left unfinished. */
    read_results(true);
    w->pid = 0;
    close_fd(&w->fd);
    if (shutting_down) {
        if (describe_exit(i, pid, status, ""))
            clean_exits++;
        return;
    }
    deaths++;
    char then[64];
    snprintf(then, sizeof then, " with %d task%s unfinished", w->npending,
             w->npending == 1 ? "" : "s");
    describe_exit(i, pid, status, then);
    w->barren = w->done == 0 ? w->barren + 1 : 0;
    if (w->barren >= GIVE_UP_AFTER) {
        say("worker%d died %d times in a row before completing a task: giving up", i, w->barren);
        gave_up = true;
    }
    if (gave_up || stopping())
        return;
    /* Replace it, and send again what it had not completed: those codes died
     * with its pipe, read or not. */
    long again[WINDOW];
    int n = w->npending, barren = w->barren;
    memcpy(again, w->pending, sizeof again);
    start_worker(i);
    replaced++;
    w->barren = barren;
    for (int k = 0; k < n; k++)
        send_task(again[k], i, true);
    redispatched += n;
}

static void reap_workers(void)
{
    child_exited = 0;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == -1 && errno == EINTR)
            continue;
        if (pid == -1 && errno == ECHILD)
            return;
        if (pid == -1)
            die("waitpid");
        if (pid == 0)
            return;
        trace("waitpid(-1) = %ld", (long)pid);
        int i = slot_of(pid);
        if (i != -1)
            worker_exited(i, status);
    }
}

/* For an exit() anywhere (die() included): no worker is left unreaped.
 * Closing every write end first makes each worker see end of file. */
static void reap_on_exit(void)
{
    if (workers == NULL)
        return;
    for (int i = 0; i < nworkers; i++)
        if (workers[i].fd != -1)
            close(workers[i].fd);
    for (int i = 0; i < nworkers; i++) {
        int status;
        while (workers[i].pid != 0 && waitpid(workers[i].pid, &status, 0) == -1 && errno == EINTR)
            ;
        workers[i].pid = 0;
    }
}

/* ---- the run ---- */

static bool all_ready(void)
{
    for (int i = 0; i < nworkers; i++)
        if (!workers[i].ready)
            return false;
    return true;
}

static bool any_pending(void)
{
    for (int i = 0; i < nworkers; i++)
        if (workers[i].npending > 0)
            return true;
    return false;
}

static void dispatch_all(void)
{
    long t = 1, next_at = now_ms();
    int target = -1;
    while (!stop_signal && !gave_up) {
        if (child_exited) {
            reap_workers();
            continue;
        }
        if (t > ntasks && !any_pending())
            return;
        long wait = -1;
        if (t <= ntasks) {
            if (target == -1) {   /* drawn once per task, so -S replays the run */
                task_code[t] = (uint8_t)rng_below(TASK_COUNT);
                target = pick_random ? (int)rng_below((uint32_t)nworkers)
                                     : (int)((t - 1) % nworkers);
            }
            long due = next_at - now_ms();
            if (due > 0) {
                wait = due;
            } else if (workers[target].npending < WINDOW) {
                send_task(t++, target, false);
                dispatched++;
                target = -1;
                next_at = now_ms() + delay;
                continue;
            }
        }
        wait_events(wait);
    }
}

/* The notes' shutdown: close one worker's pipe, wait for that worker, next.
 * It works only if nobody else holds a write end of that pipe.  Returns false
 * when it cannot finish. */
static bool close_then_wait(int i)
{
    struct worker *w = &workers[i];
    if (w->pid == 0)
        return true;
    say("closing fd %d, worker%d's write end, then waiting for worker%d to exit", w->fd, i, i);
    close_fd(&w->fd);
    long deadline = now_ms() + 1000;
    while (w->pid != 0) {
        if (child_exited) {
            reap_workers();
            continue;
        }
        if (stop_signal)
            return false;
        long left = deadline - now_ms();
        if (left > 0) {
            wait_events(left);
            continue;
        }
        int writers = count_writers(i, false);
        if (writers == 0) {       /* merely slow: keep waiting */
            deadline = now_ms() + 1000;
            continue;
        }
        say("worker%d (pid %ld) has not exited after 1 second: its read() is still blocked", i,
            (long)w->pid);
        say("worker%d still has %d writers: the later workers inherited its write end", i,
            writers);
        count_writers(i, true);
        return false;
    }
    return true;
}

static void close_all_then_reap(void)
{
    for (int i = 0; i < nworkers; i++)
        close_fd(&workers[i].fd);
    for (int i = 0; i < nworkers; i++) {
        while (workers[i].pid != 0) {
            if (child_exited)
                reap_workers();
            else
                wait_events(-1);
        }
    }
    /* Every writer is gone: what is left in the results pipe, then end of file. */
    while (!results_eof)
        read_results(true);
    close_fd(&res_rd);
}

static void shut_down(void)
{
    shutting_down = true;
    close_fd(&res_wr);            /* no more workers to start: theirs are the only copies */
    bool stuck = false;
    if (stopping()) {
        say("stopped by %s: closing every write end, then reaping the workers",
            signal_name(stop_signal));
    } else if (gave_up) {
        say("closing every write end, then reaping the workers");
    } else {
        say("all %ld tasks completed: closing each worker's write end, then waiting for it",
            ntasks);
        for (int i = 0; i < nworkers && !stuck; i++)
            stuck = !close_then_wait(i);
        if (stuck && !stop_signal)
            say("recovering: closing every write end first, then reaping");
    }
    close_all_then_reap();
    if (stuck && !stop_signal)
        say("lesson: fork() copied the earlier workers' write ends into every later worker; "
            "close them in each child (the default), or close every write end before waiting");
}

/* The summary line, and exit 0 only if every task was completed exactly once
 * and every worker exited cleanly at the end. */
static int summary(void)
{
    if (deaths > 0)
        say("deaths during the run: %ld; replacements started: %ld; tasks re-dispatched: %ld",
            deaths, replaced, redispatched);
    say("%ld tasks dispatched, %ld completed, %ld workers exited cleanly", dispatched, completed,
        clean_exits);
    bool once = dispatched == ntasks && completed == ntasks;
    for (long t = 1; t <= ntasks && once; t++)
        once = task_done[t] == 1;
    long size = nworkers;
    free(workers);
    workers = NULL;               /* nothing left for reap_on_exit() */
    free(task_code);
    free(task_done);
    if (gave_up)
        die_msg("workers kept dying before completing a task: gave up");
    if (stop_signal && !once)
        die_msg("stopped by %s before every task was completed", signal_name(stop_signal));
    if (!once || failed)
        die_msg("not every task was completed exactly once");
    if (clean_exits != size)
        die_msg("%ld of %ld workers did not exit cleanly", size - clean_exits, size);
    return 0;
}

/* SIGPIPE ignored: a dead worker is an EPIPE to handle, not our death.
 * SIGCHLD and the stop signals are blocked except inside pselect(). */
static void setup_signals(void)
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

/* One pipe for every worker's results; the pool's end does not block, so it
 * can be drained to empty. */
static void open_results_pipe(void)
{
    int rp[2];
    if (pipe(rp) == -1)
        die("pipe");
    trace("pipe([%d, %d]) = 0", rp[0], rp[1]);
    res_rd = rp[0];
    res_wr = rp[1];
    struct stat st;
    if (fstat(res_rd, &st) == -1 || fcntl(res_rd, F_SETFL, O_NONBLOCK) == -1)
        die("results pipe");
    say("results pipe pipe:[%lu]: every worker writes fd %d, the pool reads fd %d",
        (unsigned long)st.st_ino, res_wr, res_rd);
}

int main(int argc, char *argv[])
{
    prog_init("procpool/pool", "pool", usage);
    static const struct option longopts[] = {   /* getopt_long: a GNU extension */
        { "leaky", no_argument, NULL, 0 },
        { NULL, 0, NULL, 0 },
    };
    bool seeded = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":w:n:s:S:d:vfh", longopts, NULL)) != -1) {
        switch (c) {
        case 0: leaky = true; break;
        case 'w': nworkers = parse_number("-w", optarg, 1, 256); break;
        case 'n': ntasks = parse_number("-n", optarg, 0, 1000000); break;
        case 's':
            if (strcmp(optarg, "rr") != 0 && strcmp(optarg, "random") != 0)
                usage_error("-s: '%s' is not rr or random", optarg);
            pick_random = strcmp(optarg, "random") == 0;
            break;
        case 'S':
            rng_state = (uint64_t)parse_number("-S", optarg, 0, INT32_MAX);
            seeded = true;
            break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if (!seeded)
        rng_state = ((uint64_t)time(NULL) ^ (uint64_t)getpid()) & INT32_MAX;
    unsigned long seed = (unsigned long)rng_state;

    worker_path = find_worker();
    hide_inherited_fds();
    workers = calloc((size_t)nworkers, sizeof *workers);
    task_code = calloc((size_t)ntasks + 1, 1);
    task_done = calloc((size_t)ntasks + 1, 1);
    if (workers == NULL || task_code == NULL || task_done == NULL)
        die("calloc");
    for (int i = 0; i < nworkers; i++)
        workers[i].fd = -1;

    setup_signals();
    if (atexit(reap_on_exit) != 0)
        die_msg("atexit failed");

    open_results_pipe();
    if (leaky)
        say("--leaky: the workers keep the write ends they inherit (the notes' bug)");
    for (int i = 0; i < nworkers; i++)
        start_worker(i);
    while (!all_ready() && !stop_signal && !gave_up) {
        if (child_exited)
            reap_workers();
        else
            wait_events(-1);
    }
    started = true;
    if (!stop_signal && !gave_up) {
        if (show_fds) {
            say("the pool's fds:");
            print_fds(0, NULL);
            for (int i = 0; i < nworkers; i++)
                show_worker_fds(i, workers[i].pid);
        }
        say("dispatching %ld tasks %s over %ld workers (seed %lu: -S %lu repeats this run)",
            ntasks, pick_random ? "at random" : "round-robin", nworkers, seed, seed);
        dispatch_all();
    }
    shut_down();
    return summary();
}
