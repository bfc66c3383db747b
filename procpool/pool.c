/* procpool/pool - a process pool: workers started in advance, one pipe each.
 *
 * The lesson: for each worker, pipe() and fork(); the child dup2()s the read end
 * onto its stdin and execs procpool/worker, which blocks in read() until a task
 * code comes: 4 bytes written into one worker's pipe wake that worker, no other.
 * At the end the pool close()s each write end: that worker's read() returns 0,
 * it exits, and waitpid() reaps it.  The trap (the notes' bug): fork() copies
 * the fd table, so worker 3 is born holding the write ends of workers 0-2's
 * pipes; worker 0 sees no end of file while worker 3 lives, and closing worker
 * 0's pipe, then waiting for worker 0, waits forever.  Fixes: each child closes
 * them (the default), or execv() does (--cloexec).  --leaky keeps them.
 *
 * Observe -v, -f, --leaky, and a worker killed from outside (kill -9 the pid of
 * a "started" line): it is replaced, its unfinished tasks are sent again.
 * The partner: procpool/worker, next to this program.
 * Usage: procpool/pool [-w WORKERS] [-n TASKS] [-s rr|random] [-d MS] [-v] [-f]
 *                      [--leaky | --cloexec]
 */
#define _GNU_SOURCE     /* ppoll(), close_range(): Linux */
#include "../common/common.h"
#include "protocol.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: procpool/pool [-w WORKERS] [-n TASKS] [-s rr|random] [-d MS] [-v] [-f] [--leaky]"
    " [--cloexec]\n"
    "Starts WORKERS procpool/worker processes, one pipe each, and sends them TASKS task codes.\n"
    "  -w WORKERS     how many workers, 1 to 256 (default 5)\n"
    "  -n TASKS       how many tasks (default 10); task T has code (T-1) mod 3\n"
    "  -s rr|random   choose the worker round-robin (default) or at random\n"
    "  -d MS          pause MS milliseconds between dispatches (default 0)\n"
    "  -v             trace every system call on the pipes and workers on stderr; left out:\n"
    "                 ppoll(), the signal set-up, finding the worker, reading /proc (-f, --leaky)\n"
    "  -f             print the pool's fds, and each worker its own when it starts\n"
    "  --leaky        the notes' bug: workers keep the write ends they inherit; watch the\n"
    "                 shutdown get stuck, be explained, and recover\n"
    "  --cloexec      the other fix: write ends close-on-exec, execv() closes them\n"
    "  -h             show this help\n";

enum { MAX_WORKERS = 256, WINDOW = 8, GIVE_UP_AFTER = 3 };

struct worker {
    pid_t pid;                  /* 0: no process */
    int task_fd;                /* the pool's write end of its task pipe; -1: closed */
    int result_fd;              /* the pool's read end of its results pipe; -1: closed */
    unsigned long ino;          /* the task pipe, as /proc shows it: pipe:[ino] */
    long pending[WINDOW];       /* the tasks sent, not completed yet, oldest first */
    int npending, barren;       /* barren: its processes dead in a row, no task completed */
};

static struct worker workers[MAX_WORKERS];
static long nworkers = 5, ntasks = 10, delay, running;
static enum { CLOSE_IN_CHILD, LEAKY, CLOEXEC } mode;
static bool pick_random, show_fds, shutting_down, gave_up, bad_results;
static long dispatched, completed, deaths, redispatched, clean_exits;
static char worker_path[PATH_MAX];
static sigset_t wait_mask;      /* the signal mask inside ppoll(): stop signals let in */

static noreturn void become_worker(int i, const int task[2], int res_wr);
static void prepare(int argc, char *argv[]), close_fd(int *fd), pause_ms(long ms), replace(int i);
static int wait_events(long timeout), count_writers(int i, bool list), summary(void);

/* ---- starting a worker: pipe(), fork(); in the child close, dup2, execv ---- */

static void start_worker(int i)
{
    int task[2] = { -1, -1 }, res[2] = { -1, -1 };
    int rc = pipe(task);
    traced(rc, "pipe([%d, %d])", task[0], task[1]);
    if (rc == -1)
        die("pipe");
    rc = pipe(res);             /* not the lesson: the worker's results come back here */
    traced(rc, "pipe([%d, %d])", res[0], res[1]);
    if (rc == -1)
        die("pipe");
    /* The results read end is the pool's alone: close-on-exec, no worker keeps
     * one.  With --cloexec, the task pipe's write end too: the second fix. */
    if (traced(fcntl(res[0], F_SETFD, FD_CLOEXEC), "fcntl(%d, F_SETFD, FD_CLOEXEC)", res[0]) == -1 ||
        (mode == CLOEXEC &&
         traced(fcntl(task[1], F_SETFD, FD_CLOEXEC), "fcntl(%d, F_SETFD, FD_CLOEXEC)", task[1]) == -1))
        die("fcntl");
    struct stat st;
    if (traced(fstat(task[1], &st), "fstat(%d)", task[1]) == -1)
        die("fstat");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        become_worker(i, task, res[1]);
    trace("fork() = %ld", (long)pid);
    /* The read end is the worker's now: kept here, a write into a dead worker's
     * pipe would not fail with EPIPE.  The results write end too: kept here,
     * the worker's exit would not end its results pipe. */
    close_fd(&task[0]);
    close_fd(&res[1]);
    workers[i] = (struct worker){ .pid = pid, .task_fd = task[1], .result_fd = res[0],
                                  .ino = (unsigned long)st.st_ino, .barren = workers[i].barren };
    running++;
    say("started worker%d (pid %ld): it reads pipe:[%lu] as stdin, the pool writes it through fd %d",
        i, (long)pid, workers[i].ino, task[1]);
}

/* In the child, between fork() and execv(): it never returns into the pool. */
static noreturn void become_worker(int i, const int task[2], int res_wr)
{
    set_role("worker%d", i);
    /* fork() gave this child the pool's write end of every other worker's pipe:
     * more writers, so that worker's read() cannot return 0 while this one lives.
     * Fix 1 closes them here; --cloexec leaves them to execv(); --leaky keeps them. */
    char list[MAX_WORKERS * 6] = "";
    size_t len = 0;
    for (int j = 0; j < nworkers; j++) {
        int fd = workers[j].task_fd;
        if (j == i || fd == -1)
            continue;
        if (mode == CLOSE_IN_CHILD && traced(close(fd), "close(%d)", fd) == -1)
            die_child("close");
        len += (size_t)snprintf(list + len, sizeof list - len, " %d", fd);
    }
    if (len > 0)
        say(mode == CLOSE_IN_CHILD ? "closed the write ends of the other workers' pipes (fds%s)"
            : mode == CLOEXEC ? "the write ends of the other workers' pipes (fds%s) are "
                                "close-on-exec: execv() will close them"
                              : "--leaky: kept the write ends of the other workers' pipes (fds%s)",
            list);
    /* Its own write end too: holding it, the worker would be a writer of its
     * own pipe and never see end of file. */
    if (traced(close(task[1]), "close(%d)", task[1]) == -1)
        die_child("close");
    if (task[0] != STDIN_FILENO) {      /* 0 only if the pool was started without a stdin */
        if (traced(dup2(task[0], STDIN_FILENO), "dup2(%d, 0)", task[0]) == -1)
            die_child("dup2");
        if (traced(close(task[0]), "close(%d)", task[0]) == -1)
            die_child("close");
    }
    if (sigprocmask(SIG_SETMASK, &wait_mask, NULL) == -1)  /* a mask survives execv() */
        die_child("sigprocmask");
    char index[16], results[16];
    snprintf(index, sizeof index, "%d", i);
    snprintf(results, sizeof results, "%d", res_wr);
    char *args[8] = { worker_path, "-i", index, "-r", results };
    int n = 5;
    if (verbose)
        args[n++] = "-v";
    if (show_fds)
        args[n++] = "-f";
    trace("execv(\"%s\")", worker_path);
    execv(worker_path, args);
    warn_sys("execv %s", worker_path);
    _exit(127);
}

/* ---- dispatching: 4 bytes into the chosen worker's pipe ---- */

static void send_task(int i, long t, bool again)
{
    struct worker *w = &workers[i];
    uint32_t code = (uint32_t)((t - 1) % TASK_COUNT);
    w->pending[w->npending++] = t;      /* unfinished until its result comes back */
    say("%stask %ld (%s) -> worker%d (pid %ld)", again ? "re-dispatching " : "", t,
        task_name(code), i, (long)w->pid);
    /* 4 bytes, fewer than PIPE_BUF: the pipe takes all of them or none.  SIGPIPE
     * is ignored: a dead worker's pipe fails with EPIPE, the task stays pending,
     * and once the worker's exit is seen it goes to its replacement. */
    ssize_t n = traced(write(w->task_fd, &code, sizeof code), "write(%d, %zu)", w->task_fd,
                       sizeof code);
    if (n != (ssize_t)sizeof code && !(n == -1 && errno == EPIPE))
        die("write to worker%d's pipe", i);
}

/* At most WINDOW tasks per worker are sent and not completed: else the pool could
 * block writing into a full task pipe while that worker blocks writing into a
 * full results pipe that only the pool drains. */
static void dispatch_all(void)
{
    for (long t = 1; t <= ntasks && !stop_signal && !gave_up; t++) {
        int i = pick_random ? (int)(random() % nworkers) : (int)((t - 1) % nworkers);
        while (workers[i].npending == WINDOW && !stop_signal && !gave_up)
            wait_events(-1);
        if (stop_signal || gave_up)
            return;
        send_task(i, t, false);
        dispatched++;
        pause_ms(delay);        /* results are read and deaths handled meanwhile */
    }
    while (completed < dispatched && !stop_signal && !gave_up)
        wait_events(-1);
}

/* ---- a worker that exits: reaped at once; during the run, replaced ---- */

/* Its results pipe reached end of file: the worker, the only writer, has exited,
 * so waitpid() returns at once (it cannot wait with a time limit; ppoll() can). */
static void reap(int i)
{
    struct worker *w = &workers[i];
    pid_t pid = w->pid;
    int status;
    if (traced(waitpid(pid, &status, 0), "waitpid(%ld)", (long)pid) == -1)
        die("waitpid");
    w->pid = 0;
    running--;
    close_fd(&w->task_fd);      /* a worker that died during the run */
    if (WIFEXITED(status))
        say("worker%d (pid %ld) exited with status %d", i, (long)pid, WEXITSTATUS(status));
    else
        say("worker%d (pid %ld) was killed by signal %d (%s)", i, (long)pid, WTERMSIG(status),
            signal_name(WTERMSIG(status)));
    if (shutting_down)
        clean_exits += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    else
        replace(i);
}

/* ---- shutdown: close, then wait ---- */

/* The notes' shutdown, one worker at a time: close its write end, wait for it
 * to exit.  False if that cannot finish: after a second, other processes still
 * hold a write end of its pipe, so its read() cannot return 0. */
static bool close_then_wait(int i)
{
    struct worker *w = &workers[i];
    if (w->pid == 0)
        return true;
    int fd = w->task_fd;
    close_fd(&w->task_fd);
    say("closed fd %d, worker%d's write end: waiting for worker%d to exit", fd, i, i);
    while (w->pid != 0 && !stop_signal) {
        if (wait_events(1000) != 0)
            continue;                   /* something happened: look again */
        int writers = count_writers(i, false);
        if (writers == 0)
            continue;                   /* merely slow: wait on */
        say("worker%d (pid %ld) has not exited after 1 second: its read() is still blocked", i,
            (long)w->pid);
        say("worker%d still has %d writers: the later workers inherited its write end", i, writers);
        count_writers(i, true);
        return false;
    }
    return w->pid == 0;
}

/* Every write end closed first, then the wait: this works even with inherited
 * write ends.  Only the pool wrote to the last started worker's pipe: it sees end
 * of file first, and its exit closes the copies it held; the one before is next. */
static void close_all_then_reap(void)
{
    for (int i = 0; i < nworkers; i++)
        close_fd(&workers[i].task_fd);
    if (running > 0)
        say("%s%s: every write end closed, waiting for %ld worker%s to exit",
            stop_signal ? "stopped by " : gave_up ? "gave up" : "recovering",
            stop_signal ? signal_name(stop_signal) : "", running, running == 1 ? "" : "s");
    while (running > 0)
        wait_events(-1);
}

static void shut_down(void)
{
    shutting_down = true;
    int stuck = -1;
    if (!stop_signal && !gave_up)
        say("all %ld tasks completed", ntasks);
    for (int i = 0; i < nworkers && stuck == -1 && !stop_signal && !gave_up; i++)
        if (!close_then_wait(i))
            stuck = i;
    close_all_then_reap();
    if (stuck != -1 && !stop_signal)
        say("lesson: worker%d's read() returned 0 only once the workers holding copies of its "
            "write end had exited; close them in each child (the default) or make them "
            "close-on-exec (--cloexec)", stuck);
}

int main(int argc, char *argv[])
{
    prog_init("procpool/pool", "pool", usage);
    prepare(argc, argv);        /* options, SIGPIPE ignored, stop signals caught */
    if (mode != CLOSE_IN_CHILD)
        say(mode == LEAKY ? "--leaky: the workers keep the write ends they inherit (the notes' bug)"
                          : "--cloexec: execv() closes the write ends a worker inherits");
    for (int i = 0; i < nworkers; i++)
        start_worker(i);
    if (show_fds)
        print_fds(NULL);
    say("dispatching %ld tasks %s over %ld workers", ntasks,
        pick_random ? "at random" : "round-robin", nworkers);
    dispatch_all();
    shut_down();
    return summary();
}

/* ---- what makes it robust (not the lesson) ---- */

static void close_fd(int *fd)
{
    if (*fd != -1 && traced(close(*fd), "close(%d)", *fd) == -1)
        die("close");
    *fd = -1;
}

/* A worker dead during the run: a new process in its slot gets the tasks it had
 * not completed (their codes died with its pipe).  A task may so run twice but
 * is completed once: the pool counts results.  A slot whose processes keep
 * dying before completing anything makes the pool give up rather than spin. */
static void replace(int i)
{
    struct worker *w = &workers[i];
    deaths++;
    if (++w->barren >= GIVE_UP_AFTER) {
        say("worker%d died %d times in a row before completing a task: giving up", i, w->barren);
        gave_up = true;
    }
    if (gave_up || stop_signal)
        return;
    long again[WINDOW];
    int n = w->npending;
    memcpy(again, w->pending, sizeof again);
    start_worker(i);
    for (int k = 0; k < n; k++)
        send_task(i, again[k], true);
    redispatched += n;
}

/* One record, or end of file: the worker has exited.  Nothing read from a pipe
 * is trusted: a record must complete the oldest task sent to that worker and
 * not completed yet (a worker reads its pipe in order). */
static void read_result(int i)
{
    struct worker *w = &workers[i];
    struct result r;
    ssize_t n = read_full(w->result_fd, &r, sizeof r);
    if (n == -1)
        die("read from worker%d's results pipe", i);
    if (n == (ssize_t)sizeof r && w->npending > 0 &&
        r.code == (uint32_t)((w->pending[0] - 1) % TASK_COUNT)) {
        long t = w->pending[0];
        memmove(w->pending, w->pending + 1, (size_t)--w->npending * sizeof w->pending[0]);
        w->barren = 0;
        completed++;
        say("task %ld done by worker%d (pid %ld): result %lu", t, i, (long)w->pid,
            (unsigned long)r.value);
    } else if (n > 0) {
        say("worker%d sent %zd bytes that complete no task it was sent: ignored", i, n);
        bad_results = true;
    } else {
        close_fd(&w->result_fd);
        reap(i);
    }
}

/* Sleep until a results pipe has something (a record, or end of file: a worker
 * exited), a stop signal comes, or TIMEOUT ms pass (-1: no limit).  Stop signals
 * are let in only here, so none slips in between a look at stop_signal and it. */
static int wait_events(long timeout)
{
    struct pollfd fds[MAX_WORKERS];
    int slot[MAX_WORKERS], n = 0;
    for (int i = 0; i < nworkers; i++) {
        if (workers[i].result_fd != -1) {
            fds[n] = (struct pollfd){ .fd = workers[i].result_fd, .events = POLLIN };
            slot[n++] = i;
        }
    }
    struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };
    int ready = ppoll(fds, (nfds_t)n, timeout < 0 ? NULL : &ts, &wait_mask);
    if (ready == -1 && errno != EINTR)
        die("ppoll");
    /* With something ready, ppoll() leaves a stop signal that came meanwhile
     * pending: let it in first, so that a Ctrl-C death is not repaired. */
    sigset_t blocked;
    if (ready > 0 && (sigprocmask(SIG_SETMASK, &wait_mask, &blocked) == -1 ||
                      sigprocmask(SIG_SETMASK, &blocked, NULL) == -1))
        die("sigprocmask");
    for (int k = 0; k < n && ready > 0; k++)
        if (fds[k].revents != 0)
            read_result(slot[k]);
    return ready;
}

static long now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        die("clock_gettime");
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* -d: the pause, during which results are read and deaths handled. */
static void pause_ms(long ms)
{
    long until = now_ms() + ms;
    do
        wait_events(until > now_ms() ? until - now_ms() : 0);
    while (now_ms() < until && !stop_signal);
}

/* How many fds of the other workers point at worker I's task pipe (all write
 * ends: the pool closed the read end before it forked anyone else), who if LIST. */
static int count_writers(int i, bool list)
{
    char want[48], dir[48], path[320], target[64];
    snprintf(want, sizeof want, "pipe:[%lu]", workers[i].ino);
    int count = 0;
    for (int j = 0; j < nworkers; j++) {
        snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)workers[j].pid);
        DIR *d = j == i || workers[j].pid == 0 ? NULL : opendir(dir);
        for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n == -1 || (target[n] = '\0', strcmp(target, want) != 0))
                continue;               /* ".", "..", or another file */
            count++;
            if (list)
                say("  worker%d (pid %ld) holds it as fd %s", j, (long)workers[j].pid, e->d_name);
        }
        if (d != NULL)
            closedir(d);
    }
    return count;
}

/* The summary; exit 0 only if every task was completed exactly once and every
 * worker exited cleanly at the end. */
static int summary(void)
{
    if (deaths > 0)
        say("deaths during the run: %ld; tasks re-dispatched: %ld", deaths, redispatched);
    say("%ld tasks dispatched, %ld completed, %ld workers exited cleanly", dispatched, completed,
        clean_exits);
    if (gave_up)
        die_msg("workers kept dying before completing a task: gave up");
    if (stop_signal && completed < ntasks)
        die_msg("stopped by %s before every task was completed", signal_name(stop_signal));
    if (completed != ntasks || bad_results)
        die_msg("not every task was completed exactly once");
    if (clean_exits != nworkers)
        die_msg("%ld of %ld workers did not exit cleanly", nworkers - clean_exits, nworkers);
    return 0;
}

/* procpool/worker, next to this binary (/proc/self/exe), whatever the current
 * directory or PATH. */
static void find_worker(void)
{
    size_t room = sizeof worker_path - sizeof "worker";
    ssize_t n = readlink("/proc/self/exe", worker_path, room);
    if (n == -1 || (size_t)n == room)
        die("readlink /proc/self/exe");
    worker_path[n] = '\0';
    strcpy(strrchr(worker_path, '/') + 1, "worker");
    if (access(worker_path, X_OK) == -1)
        die_msg("%s: %s (the worker must sit next to the pool: run make)", worker_path,
                strerror(errno));
}

static void parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {   /* getopt_long: a GNU extension */
        { "leaky", no_argument, NULL, 'L' },
        { "cloexec", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    bool leaky = false, cloexec = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":w:n:s:d:vfh", longopts, NULL)) != -1) {
        switch (c) {
        case 'L': leaky = true; break;
        case 'C': cloexec = true; break;
        case 'w': nworkers = parse_number("-w", optarg, 1, MAX_WORKERS); break;
        case 'n': ntasks = parse_number("-n", optarg, 0, 1000000); break;
        case 's':
            pick_random = strcmp(optarg, "random") == 0;
            if (!pick_random && strcmp(optarg, "rr") != 0)
                usage_error("-s: '%s' is not rr or random", optarg);
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
    if (leaky && cloexec)
        usage_error("--leaky and --cloexec exclude each other");
    mode = leaky ? LEAKY : cloexec ? CLOEXEC : CLOSE_IN_CHILD;
}

static void prepare(int argc, char *argv[])
{
    parse_options(argc, argv);
    find_worker();
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());  /* -s random */
    /* Fds the pool inherited (from a shell, a test harness) are none of the
     * workers' business; the pool's own pipes come later. */
    if (traced(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)") == -1)
        die("close_range");
    for (int i = 0; i < MAX_WORKERS; i++)
        workers[i].task_fd = workers[i].result_fd = -1;
    /* A dead worker is an EPIPE to handle, not the pool's death. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    catch_stop_signals();
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &stops, &wait_mask) == -1)
        die("sigprocmask");
}
