/* sem/race - processes add 1 to one shared counter: lost updates, then four fixes.
 *
 * The lesson: `counter++` is three steps -- load the counter into a register,
 * add 1, store it back -- and another process can run between them: two
 * processes both load 41, both store 42, and one addition is lost.  The
 * counter is the critical resource, the three steps the critical section.  A
 * lock lets one process at a time in (mutual exclusion): -m sem, -m posix and
 * -m mutex (see the usage below); -m atomic makes the three steps one.
 * Observe "expected E, got G" and the time per addition.  The workers are our
 * forked children; sem/holder-dies shows what each lock does when its holder dies.
 *
 * Usage: sem/race [-p PROCS] [-n INCREMENTS] [-m MODE] [-v] [--cleanup]
 */
#include "leftover.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>

static const char usage[] =
    "usage: sem/race [-p PROCS] [-n INCREMENTS] [-m MODE] [-v] [--cleanup]\n"
    "PROCS processes (default 2) each add 1 to one counter in shared memory\n"
    "INCREMENTS times (default 10000000; 1000000 with -m posix and -m mutex, 10000\n"
    "with -m sem, where each costs two system calls): it should end at the product.\n"
    "  -m none     no protection: updates get lost (the default)\n"
    "  -m sem      a System V semaphore around each addition: P, add, V\n"
    "  -m posix    an unnamed POSIX semaphore in the segment: sem_wait, add, sem_post\n"
    "  -m mutex    a process-shared pthread mutex in the segment: lock, add, unlock\n"
    "  -m atomic   each addition one C11 atomic add\n"
    "  -m all      the five, one after the other, and their answers side by side\n"
    "  -v          trace each call on the segment, the lock and the pipe on stderr,\n"
    "              every P and V of every worker too (use a small -n)\n"
    "  --cleanup   remove a semaphore set left by a killed run, then exit\n";

enum mode { NONE, SEM, POSIX, MUTEX, ATOMIC, MODES };
enum { PROCS_MAX = 256 };
static const struct { const char *name, *how; long count; } modes[MODES] = {
    [NONE] = { "none", "with no protection (-m none)", 10000000 },
    [SEM] = { "sem", "each addition inside P and V on a semaphore (-m sem)", 10000 },
    [POSIX] = { "posix", "each addition between sem_wait and sem_post (-m posix)", 1000000 },
    [MUTEX] = { "mutex", "each addition inside a locked mutex (-m mutex)", 1000000 },
    [ATOMIC] = { "atomic", "each addition one atomic add (-m atomic)", 10000000 },
};
static const char RECORD[] = "sem-race.owner";   /* the creator record of -m sem's set */

/* The segment holds the counter and the locks that live in memory.  C11 atomics
 * work between processes only when lock-free: plain instructions on memory. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2,
               "sharing atomics between processes needs lock-free ones");
struct shared {
    _Atomic long long counter;
    _Atomic long ready;           /* workers at the starting line */
    sem_t posix;                  /* -m posix */
    pthread_mutex_t mutex;        /* -m mutex */
};

struct result { long long expected, got; double ns; int failed; /* workers */ };

static enum mode mode = NONE;
static bool all;
static long procs = 2, increments = -1, count;
static struct shared *shared;
static int semid = -1;
static pid_t parent, workers[PROCS_MAX];  /* 0 once reaped */
static volatile sig_atomic_t started, signalled;

static bool parse_options(int argc, char *argv[]);
static int cleanup(void), reap_workers(void);
static void clean_up(void), line_up(void), make_counter(void), report(const struct result *r);
static void summary(const struct result r[]);
static struct result race(enum mode m);

int main(int argc, char *argv[])
{
    prog_init("sem/race", "parent", usage);
    if (parse_options(argc, argv))
        return cleanup();
    parent = getpid();
    catch_stop_signals();
    /* Output into a closed pipe (| head) must not kill us before clean_up(). */
    exit_cleanly(clean_up);

    make_counter();
    struct result r[MODES];
    bool bad = false;
    for (enum mode m = all ? NONE : mode; m <= (all ? ATOMIC : mode) && !bad; m++) {
        r[m] = race(m);
        bad = r[m].failed > 0 || (m != NONE && r[m].got != r[m].expected);
    }
    /* The last detach: the segment, marked for removal at the start, is gone. */
    if (traced(shmdt(shared), "shmdt(%p)", (void *)shared) == -1)
        die("shmdt");
    shared = NULL;
    if (all && !bad)
        summary(r);
    return bad ? 1 : 0;
}

/* The counter lives in a System V segment only our forked children use: they
 * inherit the attachment, so nobody needs a key (IPC_PRIVATE), and it can be
 * marked for removal right after shmat().  It goes when the last process
 * detaches or exits: even a kill -9 of the whole run leaves nothing. */
static void make_counter(void)
{
    int id = (int)traced(shmget(IPC_PRIVATE, sizeof *shared, IPC_CREAT | 0600),
                         "shmget(IPC_PRIVATE, %zu, IPC_CREAT|0600)", sizeof *shared);
    if (id == -1)
        die("shmget");
    void *at = traced_ptr(shmat(id, NULL, 0), "shmat(%d, NULL, 0)", id);
    int saved = errno;
    if (traced(shmctl(id, IPC_RMID, NULL), "shmctl(%d, IPC_RMID, NULL)", id) == -1)
        die("shmctl %d IPC_RMID (ipcrm -m %d removes it)", id, id);
    errno = saved;
    if (at == (void *)-1)
        die("shmat %d", id);
    shared = at;
    say("the counter: segment shmid %d (IPC_PRIVATE), attached and already marked for "
        "removal", id);
}

/* ---- the locks ---- */

/* P (DELTA -1) waits until the semaphore is 1 and takes it to 0; V (+1) gives
 * it back and wakes a waiter, each semop() atomically.  SEM_UNDO: if we die
 * between P and V, the kernel undoes our -1 (sem/holder-dies shows it). */
static void semaphore(int delta)
{
    struct sembuf op = { .sem_num = 0, .sem_op = (short)delta, .sem_flg = SEM_UNDO };
    while (traced(semop(semid, &op, 1), "semop(%d, %s)", semid,
                  delta < 0 ? "P: -1" : "V: +1") == -1)
        if (errno != EINTR)
            die_child("semop %s", delta < 0 ? "P" : "V");
}

static void make_set(void)
{
    key_t key = (key_t)traced(ftok(ipc_keyfile(), KEY_SEM), "ftok(\"%s\", '%c')",
                              ipc_keyfile(), KEY_SEM);
    if (key == -1)
        die("ftok %s", ipc_keyfile());
    /* Unlike the segment, a set cannot be removed before it is used: a kill -9
     * leaves it, and the next run finds it by the key.  IPC_EXCL: EEXIST, never
     * silently sharing a leftover (its value may be 0: nobody would get in). */
    for (int attempt = 0;; attempt++) {
        semid = (int)traced(semget(key, 1, IPC_CREAT | IPC_EXCL | 0600),
                            "semget(0x%08x, 1, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
        if (semid != -1)
            break;
        if (errno != EEXIST || attempt > 0)
            die("semget key 0x%08x", (unsigned)key);
        set_leftover(key, RECORD);        /* returns once it removed it, or none is left */
    }
    owner_write(RECORD, semid);
    /* 1 before any worker exists: nobody races the initialisation. */
    union semun arg = { .val = 1 };
    if (traced(semctl(semid, 0, SETVAL, arg), "semctl(%d, 0, SETVAL, 1)", semid) == -1)
        die("semctl %d SETVAL", semid);
    say("the lock: semaphore set semid %d (key 0x%08x), one semaphore, value 1 (free)", semid,
        (unsigned)key);
}

static void make_mutex(void)
{
    pthread_mutexattr_t attr;
    /* Without PROCESS_SHARED, a mutex works between one process's threads only. */
    void *a = &attr, *m = &shared->mutex;
    if (traced_err(pthread_mutexattr_init(&attr), "pthread_mutexattr_init(%p)", a) != 0 ||
        traced_err(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                   "pthread_mutexattr_setpshared(%p, PTHREAD_PROCESS_SHARED)", a) != 0 ||
        traced_err(pthread_mutex_init(&shared->mutex, &attr), "pthread_mutex_init(%p)", m) != 0 ||
        traced_err(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy(%p)", a) != 0)
        die("making the mutex");
    say("the lock: a pthread mutex in the segment, PTHREAD_PROCESS_SHARED, unlocked");
}

static void make_lock(void)
{
    if (mode == SEM)
        make_set();
    if (mode == MUTEX)
        make_mutex();
    if (mode != POSIX)
        return;
    /* pshared 1: the semaphore is in the segment, shared by the processes. */
    if (traced(sem_init(&shared->posix, 1, 1), "sem_init(%p, 1, 1)", (void *)&shared->posix) == -1)
        die("sem_init");
    say("the lock: an unnamed POSIX semaphore in the segment (sem_init, pshared 1), value 1 "
        "(free)");
}

static void remove_set(void)
{
    if (semid != -1 && traced(semctl(semid, 0, IPC_RMID), "semctl(%d, 0, IPC_RMID)", semid) == 0) {
        say("removed the semaphore set (semid %d)", semid);
        owner_remove(RECORD);
    } else if (semid != -1) {
        warn_sys("semctl %d IPC_RMID", semid);     /* the record stays: the next run judges it */
    }
    semid = -1;
}

static void destroy_lock(void)
{
    if (mode == SEM)
        remove_set();
    if (mode == POSIX &&
        traced(sem_destroy(&shared->posix), "sem_destroy(%p)", (void *)&shared->posix) == -1)
        die("sem_destroy");
    if (mode == MUTEX && traced_err(pthread_mutex_destroy(&shared->mutex),
                                    "pthread_mutex_destroy(%p)", (void *)&shared->mutex) != 0)
        die("pthread_mutex_destroy");
}

/* P, sem_wait or lock: one process at a time gets past here. */
static void enter(void)
{
    if (mode == SEM)
        semaphore(-1);
    while (mode == POSIX && traced(sem_wait(&shared->posix), "sem_wait(%p)",
                                   (void *)&shared->posix) == -1)
        if (errno != EINTR)
            die_child("sem_wait");
    if (mode == MUTEX && traced_err(pthread_mutex_lock(&shared->mutex), "pthread_mutex_lock(%p)",
                                    (void *)&shared->mutex) != 0)
        die_child("pthread_mutex_lock");
}

/* V, sem_post or unlock: the next one may go in. */
static void leave(void)
{
    if (mode == SEM)
        semaphore(+1);
    if (mode == POSIX && traced(sem_post(&shared->posix), "sem_post(%p)",
                                (void *)&shared->posix) == -1)
        die_child("sem_post");
    if (mode == MUTEX && traced_err(pthread_mutex_unlock(&shared->mutex),
                                    "pthread_mutex_unlock(%p)", (void *)&shared->mutex) != 0)
        die_child("pthread_mutex_unlock");
}

/* ---- the workers ---- */

static void add_unprotected(void)
{
    /* counter++, step by step: the relaxed atomic load and store are exactly one
     * load and one store; nothing stops another process between them. */
    long long n = atomic_load_explicit(&shared->counter, memory_order_relaxed); /* load */
    n = n + 1;                                                                  /* add */
    atomic_store_explicit(&shared->counter, n, memory_order_relaxed);           /* store */
}

static noreturn void work(int gun)
{
    /* The starting gun: read() returns 0 in every worker at once, when the
     * parent closes the write end. */
    char c;
    ssize_t n;
    while ((n = traced(read(gun, &c, 1), "read(%d, 1)", gun)) == -1 && errno == EINTR)
        ;
    if (n == -1)
        die_child("read the starting pipe");
    if (traced(close(gun), "close(%d)", gun) == -1)
        die_child("close");
    line_up();

    for (long i = 0; i < count; i++) {
        if (mode == ATOMIC) {
            /* One read-modify-write the CPU does indivisibly (lock add on x86). */
            atomic_fetch_add_explicit(&shared->counter, 1, memory_order_relaxed);
            continue;
        }
        enter();                  /* -m none: nothing stops anyone */
        add_unprotected();        /* the critical section: load, add, store */
        leave();
    }
    if (traced(shmdt(shared), "shmdt(%p)", (void *)shared) == -1)
        die_child("shmdt");
    say("done: %ld additions", count);
    _exit(0);
}

/* Fork the workers, all waiting on one pipe; returns its write end. */
static int start_workers(void)
{
    int gun[2] = { -1, -1 };
    int rc = pipe(gun);
    if (traced(rc, "pipe([%d, %d])", gun[0], gun[1]) == -1)
        die("pipe");
    for (long i = 0; i < procs && !stop_signal; i++) {
        pid_t pid = fork();
        if (pid != 0 && traced(pid, "fork()") == -1)
            die("fork");          /* clean_up() stops the workers forked so far */
        if (pid == 0) {
            set_role("worker%ld", i + 1);
            default_stop_signals();   /* the parent's handler is not ours */
            /* Our copy of the write end would keep the pipe open: no EOF, ever. */
            if (traced(close(gun[1]), "close(%d)", gun[1]) == -1)
                die_child("close");
            work(gun[0]);
        }
        workers[started] = pid;
        started = started + 1;
    }
    if (traced(close(gun[0]), "close(%d)", gun[0]) == -1)
        die("close");
    if (!stop_signal)
        say("started %ld worker%s, waiting on a pipe: closing its write end starts them "
            "together", (long)started, started == 1 ? "" : "s");
    return gun[1];
}

static double now_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* One race: the lock made, the workers started together and reaped, the
 * count read and explained. */
static struct result race(enum mode m)
{
    mode = m;
    count = increments != -1 ? increments : modes[m].count;
    say("%ld process%s, each adding 1 to one shared counter %ld times, %s", procs,
        procs == 1 ? "" : "es", count, modes[m].how);
    make_lock();
    atomic_store(&shared->counter, 0);
    atomic_store(&shared->ready, 0);

    int gun = start_workers();
    double start = now_ns();
    if (traced(close(gun), "close(%d)", gun) == -1)   /* the starting gun */
        die("close");
    struct result r = { .failed = reap_workers() };
    r.ns = now_ns() - start;
    if (stop_signal)
        die_msg("caught %s: stopped the workers", signal_name(stop_signal));
    started = signalled = 0;
    destroy_lock();
    r.expected = (long long)procs * count;
    r.got = atomic_load(&shared->counter);
    report(&r);
    return r;
}

/* ---- the report ---- */

static void explain(long long expected, long long got)
{
    static const char *const exact[][2] = {
        [SEM] = { "exact: P let one process at a time into load-add-store, V the next one;",
                  "the price: two semop() system calls per addition, and a sleep and a "
                  "wake-up whenever the semaphore was taken" },
        [POSIX] = { "exact: sem_wait let one process at a time in, sem_post the next one;",
                    "no system call while it is free (an atomic instruction on the segment "
                    "takes it): only a process that must wait sleeps in the kernel (futex)" },
        [MUTEX] = { "exact: the mutex let one process at a time in;", "like the POSIX "
                    "semaphore, no system call unless a process must wait (futex)" },
        [ATOMIC] = { "exact: atomic_fetch_add is one indivisible read-modify-write "
                     "instruction: no lock, no system call" },
    };
    if (mode == NONE && got < expected) {
        say("why: counter++ is three steps: load the counter into a register, add 1, "
            "store it back;");
        say("another process can run between the steps (on the other CPU, or after a "
            "context switch):");
        say("  worker1: load 41              worker2: load 41");
        say("  worker1: add 1, store 42      worker2: add 1, store 42");
        say("two additions, and the counter went up by one: worker1's update is lost");
        say("fix it with a lock (-m sem, -m posix, -m mutex: one process at a time in the "
            "critical section) or -m atomic (one indivisible add)");
    } else if (mode == NONE) {
        say(procs == 1 ? "no update lost: one process cannot race with itself (try -p 2)"
                       : "no update lost this time: the processes did not overlap (run it "
                         "again, or raise -n)");
    } else if (got != expected) {
        say("the counter is wrong although it was protected: this must not happen");
    } else {
        for (int i = 0; i < 2 && exact[mode][i] != NULL; i++)
            say("%s", exact[mode][i]);
    }
}

static void report(const struct result *r)
{
    char total[32], each[32];
    snprintf(total, sizeof total, "%.1f", r->ns / 1e6);
    snprintf(each, sizeof each, "%.1f", r->expected > 0 ? r->ns / (double)r->expected : 0);
    say("time: %s ms, %s ns per addition", total, each);
    say("expected %lld, got %lld", r->expected, r->got);
    if (r->failed > 0) {
        say("%d worker%s did not finish: the additions never made are missing too, so this "
            "count proves nothing about lost updates", r->failed, r->failed == 1 ? "" : "s");
        return;
    }
    if (r->got < r->expected)
        say("lost %lld updates", r->expected - r->got);
    explain(r->expected, r->got);
}

static void summary(const struct result r[])
{
    say("the five answers, %ld process%s each:", procs, procs == 1 ? "" : "es");
    for (enum mode m = NONE; m < MODES; m++) {
        char each[32], lost[48];
        snprintf(each, sizeof each, "%.1f", r[m].expected > 0 ? r[m].ns / (double)r[m].expected : 0);
        snprintf(lost, sizeof lost, "lost %lld", r[m].expected - r[m].got);
        say("  -m %-6s  expected %lld, got %lld (%s), %s ns per addition", modes[m].name,
            r[m].expected, r[m].got, m != NONE && r[m].got == r[m].expected ? "exact" : lost,
            each);
    }
}

/* ---- what makes it robust (not the lesson) ---- */

/* A busy machine may still run the workers one after the other, and a race
 * needs them to overlap: each also spins until all have arrived -- a second or
 * two at most (time(NULL) cannot fail), lest a worker killed early hang them. */
static void line_up(void)
{
    time_t start = time(NULL);
    atomic_fetch_add(&shared->ready, 1);
    for (long spins = 1; atomic_load(&shared->ready) < procs; spins++) {
        sched_yield();            /* let the latecomers have this CPU */
        if (spins % 1024 == 0 && time(NULL) - start >= 2)
            break;
    }
}

/* SIGTERM to each worker not yet told. */
static void stop_workers(void)
{
    for (; signalled < started; signalled = signalled + 1)
        if (workers[signalled] != 0)
            (void)traced(kill(workers[signalled], SIGTERM), "kill(%ld, SIGTERM)",
                         (long)workers[signalled]);
}

static void child_ended(int signo) { (void)signo; }    /* only to end sigsuspend() */

/* Worker PID ended with STATUS: true when it did not finish; the FIRST such
 * one says why we stop the others (after a stop signal, we stopped them). */
static bool worker_ended(pid_t pid, int status, bool first)
{
    long i = 0;
    while (i < started - 1 && workers[i] != pid)
        i++;
    workers[i] = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return false;
    if (first && WIFEXITED(status))
        say("worker%ld (pid %ld) exited with status %d: stopping the others", i + 1,
            (long)pid, WEXITSTATUS(status));
    else if (first)
        say("worker%ld (pid %ld) was killed by signal %d (%s): stopping the others, whose "
            "lock it may have held", i + 1, (long)pid, WTERMSIG(status),
            signal_name(WTERMSIG(status)));
    return true;
}

/* Reap every worker, in the order they end; returns how many did not finish.
 * One that dies stops the others: a lock it held might never be given back
 * (sem/holder-dies), and the count is lost anyway.  SIGCHLD and the stop
 * signals are let in only inside sigsuspend(), so that a stop signal is never
 * missed between the check and the wait. */
static int reap_workers(void)
{
    sigset_t held, old;
    sigemptyset(&held);
    for (int i = 0; i < 4; i++)
        sigaddset(&held, (const int[]){ SIGCHLD, SIGINT, SIGTERM, SIGHUP }[i]);
    struct sigaction sa = { .sa_handler = child_ended, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    if (sigprocmask(SIG_BLOCK, &held, &old) == -1)
        die("sigprocmask");
    if (sigaction(SIGCHLD, &sa, NULL) == -1)
        die("sigaction");
    int failed = 0;
    for (long left = started; left > 0;) {
        if (stop_signal || failed > 0)
            stop_workers();
        int status;
        pid_t pid = (pid_t)traced(waitpid(-1, &status, WNOHANG), "waitpid(-1, WNOHANG)");
        if (pid == -1)
            die("waitpid");
        if (pid == 0) {
            sigsuspend(&old);     /* until a worker ends, or a stop signal */
            continue;
        }
        left--;                   /* every child of ours is a worker of this race */
        if (worker_ended(pid, status, failed == 0 && !stop_signal))
            failed++;
    }
    if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
        die("sigprocmask");
    return failed;
}

/* atexit(), in the parent only: no worker left running, no object left behind. */
static void clean_up(void)
{
    if (getpid() != parent)
        return;
    stop_workers();
    for (long i = 0; i < started; i++)
        while (workers[i] != 0 && traced(waitpid(workers[i], NULL, 0), "waitpid(%ld)",
                                         (long)workers[i]) == -1 && errno == EINTR)
            ;
    started = signalled = 0;
    remove_set();
    if (shared != NULL && traced(shmdt(shared), "shmdt(%p)", (void *)shared) == -1)
        warn_sys("shmdt");
    shared = NULL;
}

/* --cleanup: remove what a killed run left behind, never what a run uses. */
static int cleanup(void)
{
    key_t key = (key_t)traced(ftok(ipc_keyfile(), KEY_SEM), "ftok(\"%s\", '%c')",
                              ipc_keyfile(), KEY_SEM);
    if (key == -1)
        die("ftok %s", ipc_keyfile());
    if (!set_leftover(key, RECORD))
        say("nothing to clean up: no semaphore set with key 0x%08x", (unsigned)key);
    return 0;
}

/* True for --cleanup. */
static bool parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {       /* getopt_long: GNU, --cleanup */
        { "cleanup", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    bool clean = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":p:n:m:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': procs = parse_number("-p", optarg, 1, PROCS_MAX); break;
        case 'n': increments = parse_number("-n", optarg, 0, 1000000000); break;
        case 'm':
            all = strcmp(optarg, "all") == 0;
            for (mode = NONE; mode < MODES && strcmp(optarg, modes[mode].name) != 0; mode++)
                ;
            if (mode == MODES && !all)
                usage_error("-m: '%s' is not none, sem, posix, mutex, atomic or all", optarg);
            break;
        case 'v': verbose = true; break;
        case 'C': clean = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    return clean;
}
