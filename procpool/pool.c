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
 *
 * This file is the lesson, top to bottom.  watch.c keeps the books (the results
 * coming back, each worker's unfinished tasks, the wait for a result or a
 * signal); procfs.c reads /proc to show what happens (-f, --leaky).
 */
#include "../common/common.h"
#include "procfs.h"
#include "protocol.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A slot whose workers die this many times in a row before completing a task
 * makes the pool give up rather than spin. */
enum { GIVE_UP_AFTER = 3 };

struct worker *workers;
long nworkers = 5;
static long ntasks = 10, delay;
static bool pick_random, show_fds, leaky;
static char *worker_path;
static int res_rd = -1, res_wr = -1;            /* the results pipe */
static long dispatched, redispatched, deaths, replaced, clean_exits;
static bool gave_up, shutting_down;

static noreturn void become_worker(int i, int rfd, int wfd);
static void reap_workers(void);

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

static void close_fd(int *fd)
{
    if (*fd == -1)
        return;
    if (traced(close(*fd), "close(%d)", *fd) == -1)
        die("close");
    *fd = -1;
}

/* ---- starting a worker: pipe(), fork(), and in the child close, dup2, exec ---- */

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
    /* A new process in the slot: not ready, nothing sent, nothing done (the
     * slot's deaths in a row still count). */
    workers[i] = (struct worker){ .pid = pid, .fd = p[1], .ino = (unsigned long)st.st_ino,
                                  .barren = workers[i].barren };
    say("started worker%d (pid %ld): it reads pipe:[%lu] as stdin, "
        "the pool writes it through fd %d", i, (long)pid, workers[i].ino, p[1]);
}

/* In the child, between fork() and exec(): it must not return into the pool. */
static noreturn void become_worker(int i, int rfd, int wfd)
{
    set_role("worker%d", i);
    /* The pool's handlers and blocked signals are not the worker's. */
    unwatch_signals();

    /* fork() gave this child the pool's write end of every other worker's pipe.
     * Kept, each is one more writer: that worker's read() could never return 0
     * while this one lives.  The fix is to close them; --leaky keeps them. */
    char list[2048] = "";
    size_t len = 0;
    for (int j = 0; j < nworkers; j++) {
        if (j == i || workers[j].fd == -1)
            continue;
        if (!leaky && traced(close(workers[j].fd), "close(%d)", workers[j].fd) == -1)
            die_child("close");
        if (len < sizeof list - 16)
            len += (size_t)snprintf(list + len, sizeof list - len, " %d", workers[j].fd);
    }
    if (len > 0)
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

/* ---- dispatching: 4 bytes into the chosen worker's pipe ---- */

static void send_task(struct task task, int i, bool again)
{
    struct worker *w = &workers[i];
    w->pending[w->npending++] = task;           /* unfinished until its result comes */
    say("%stask %ld (%s) -> worker%d (pid %ld)", again ? "re-dispatching " : "", task.number,
        task_name(task.code), i, (long)w->pid);
    /* SIGPIPE is ignored: a worker that is gone makes write() fail with EPIPE
     * instead of killing the pool.  The task stays pending; SIGCHLD follows and
     * the dead worker's tasks are sent again. */
    ssize_t n = write_all(w->fd, &task.code, sizeof task.code);
    if (traced(n, "write(%d, %zu)", w->fd, sizeof task.code) == -1) {
        if (errno != EPIPE)
            die("write to worker%d's pipe", i);
        say("write to worker%d: EPIPE, nobody reads its pipe any more", i);
    }
}

static void dispatch_all(void)
{
    long t = 1, next_at = now_ms();
    struct task task = { 0, 0 };
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
                task = (struct task){ t, rng_below(TASK_COUNT) };
                target = pick_random ? (int)rng_below((uint32_t)nworkers)
                                     : (int)((t - 1) % nworkers);
            }
            long due = next_at - now_ms();
            if (due > 0) {
                wait = due;
            } else if (workers[target].npending < WINDOW) {   /* see watch.h */
                send_task(task, target, false);
                t++;
                dispatched++;
                target = -1;
                next_at = now_ms() + delay;
                continue;
            }
        }
        wait_events(res_rd, wait);
    }
}

/* ---- a worker that exits: reaped at once; during the run, replaced ---- */

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
    read_results(res_rd, true);
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
    struct task again[WINDOW];
    int n = w->npending;
    memcpy(again, w->pending, sizeof again);
    start_worker(i);
    replaced++;
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

/* ---- shutdown: close, then reap ---- */

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
            wait_events(res_rd, left);
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
                wait_events(res_rd, -1);
        }
    }
    /* Every writer is gone: what is left in the results pipe, then end of file. */
    while (!results_eof)
        read_results(res_rd, true);
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

/* ---- the summary, and the run ---- */

/* The summary line, and exit 0 only if every task was completed exactly once
 * and every worker exited cleanly at the end. */
static int summary(void)
{
    if (deaths > 0)
        say("deaths during the run: %ld; replacements started: %ld; tasks re-dispatched: %ld",
            deaths, replaced, redispatched);
    say("%ld tasks dispatched, %ld completed, %ld workers exited cleanly", dispatched, completed,
        clean_exits);
    bool once = dispatched == ntasks && each_task_completed_once();
    free(workers);
    workers = NULL;               /* nothing left for reap_on_exit() */
    results_free();
    if (gave_up)
        die_msg("workers kept dying before completing a task: gave up");
    if (stop_signal && !once)
        die_msg("stopped by %s before every task was completed", signal_name(stop_signal));
    if (!once || bad_results)
        die_msg("not every task was completed exactly once");
    if (clean_exits != nworkers)
        die_msg("%ld of %ld workers did not exit cleanly", nworkers - clean_exits, nworkers);
    return 0;
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
    if (workers == NULL)
        die("calloc");
    for (int i = 0; i < nworkers; i++)
        workers[i].fd = -1;
    results_init(ntasks);
    /* SIGPIPE ignored: a dead worker is an EPIPE to handle, not our death.
     * SIGCHLD tells us a worker exited. */
    watch_signals();
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
            wait_events(res_rd, -1);
    }
    fds_when_ready = show_fds;    /* a replacement's fds, from now on */
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
