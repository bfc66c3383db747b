/* sem/race - processes add 1 to one shared counter: lost updates, then two fixes.
 *
 * The lesson: `counter++` is three steps -- load the counter into a register,
 * add 1, store it back -- and another process can run between them (on the
 * other CPU, or after a context switch): two processes both load 41, both
 * store 42, and one addition is lost.  The counter is the critical resource and
 * the three steps are the critical section.  -m sem guards them with a System V
 * semaphore: P (semop -1, waiting while the value is 0) before, V (semop +1)
 * after, so one process at a time is inside -- mutual exclusion.  -m atomic
 * makes the three steps one indivisible instruction (a C11 atomic add): exact
 * without any lock, and much cheaper.
 */
#include "../common/common.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: sem/race [-p PROCS] [-n INCREMENTS] [-m none|sem|atomic] [-v] [--cleanup]\n"
    "PROCS processes each add 1 to one counter in shared memory INCREMENTS times;\n"
    "the counter should end at PROCS x INCREMENTS.\n"
    "  -p PROCS       how many processes (default 2)\n"
    "  -n INCREMENTS  additions per process (default 10000000; 10000 with -m sem,\n"
    "                 where each addition costs two system calls)\n"
    "  -m none        no protection: updates get lost (the default)\n"
    "  -m sem         a System V semaphore around each addition: P, add, V\n"
    "  -m atomic      each addition one C11 atomic add\n"
    "  -v             trace every system call on stderr (use a small -n)\n"
    "  --cleanup      remove a segment or semaphore set left by a killed run, then exit\n"
    "  -h             show this help\n";

enum mode { NONE, SEM, ATOMIC };
enum { PROCS_MAX = 256 };

/* The segment holds the counter.  C11 atomics work between processes only
 * when they are lock-free: then they are plain instructions on the memory. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2,
               "sharing atomics between processes needs lock-free ones");
struct shared {
    _Atomic long long counter;
    _Atomic long ready;           /* workers at the starting line */
};

/* semctl()'s fourth argument: POSIX leaves it to the caller to declare. */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static enum mode mode = NONE;
static long procs = 2, increments = -1;
static int shmid = -1, semid = -1;
static struct shared *shared;
static pid_t workers[PROCS_MAX];  /* 0 once reaped */
static long started;

/* ---- the workers ---- */

static void add_unprotected(void)
{
    /* counter++, step by step.  The relaxed atomic load and store only make the
     * compiler do exactly one load and one store, as the CPU does for
     * counter++; nothing stops another process between them. */
    long long n = atomic_load_explicit(&shared->counter, memory_order_relaxed); /* load */
    n = n + 1;                                                                  /* add */
    atomic_store_explicit(&shared->counter, n, memory_order_relaxed);           /* store */
}

/* P (DELTA -1) waits until the semaphore is 1 and takes it to 0; V (+1) gives
 * it back and wakes a waiter.  The kernel does each semop() atomically.
 * SEM_UNDO: if this process dies between P and V, the kernel undoes its -1
 * at exit, so the others are not locked out for ever. */
static void semaphore(int delta)
{
    struct sembuf op = { .sem_num = 0, .sem_op = (short)delta, .sem_flg = SEM_UNDO };
    while (traced(semop(semid, &op, 1), "semop(%d, %s)", semid,
                  delta < 0 ? "P: -1" : "V: +1") == -1)
        if (errno != EINTR)
            die_child("semop %s", delta < 0 ? "P" : "V");
}

/* The pipe wakes every worker at once, but on a busy machine the scheduler may
 * still run them one after the other, and a race needs them to overlap.  So
 * each one also waits, spinning, until all have arrived.  The spin gives up
 * after a second or two: a worker killed before it arrives cannot hang the
 * others. */
static void line_up(void)
{
    struct timespec start, now;
    if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
        die_child("clock_gettime");
    atomic_fetch_add(&shared->ready, 1);
    for (long spins = 1; atomic_load(&shared->ready) < procs; spins++) {
        sched_yield();            /* let the latecomers have this CPU */
        if (spins % 1024 == 0) {
            if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
                die_child("clock_gettime");
            if (now.tv_sec - start.tv_sec >= 2)
                break;
        }
    }
}

static noreturn void work(int gun)
{
    /* Wait for the starting gun: read() returns 0 when the parent closes the
     * write end, in every worker at once, so they all run together. */
    char c;
    ssize_t n;
    while ((n = traced(read(gun, &c, 1), "read(%d, 1)", gun)) == -1 && errno == EINTR)
        ;
    if (n == -1)
        die_child("read the starting pipe");
    if (traced(close(gun), "close(%d)", gun) == -1)
        die_child("close");
    line_up();

    for (long i = 0; i < increments; i++) {
        switch (mode) {
        case NONE:
            add_unprotected();
            break;
        case SEM:
            semaphore(-1);        /* P: enter the critical section */
            add_unprotected();
            semaphore(+1);        /* V: leave it */
            break;
        case ATOMIC:
            /* One read-modify-write the CPU does indivisibly (lock add on x86). */
            atomic_fetch_add_explicit(&shared->counter, 1, memory_order_relaxed);
            break;
        }
    }
    if (traced(shmdt(shared), "shmdt()") == -1)
        die_child("shmdt");
    say("done: %ld additions", increments);
    _exit(0);
}

static void stop_workers(void)
{
    for (long i = 0; i < started; i++)
        if (workers[i] != 0 && traced(kill(workers[i], SIGTERM), "kill(%ld, SIGTERM)",
                                      (long)workers[i]) == -1 && errno != ESRCH)
            warn_sys("kill %ld", (long)workers[i]);
}

/* Reap every worker; returns how many did not end well. */
static int reap_workers(void)
{
    int failed = 0;
    bool stopping = false;
    for (long i = 0; i < started; i++) {
        int status;
        for (;;) {
            if (stop_signal && !stopping) {
                stop_workers();   /* SIGINT, SIGTERM or SIGHUP: end the run now */
                stopping = true;
            }
            if (waitpid(workers[i], &status, 0) != -1)
                break;
            if (errno != EINTR)
                die("waitpid");
        }
        trace("waitpid(%ld) = %ld", (long)workers[i], (long)workers[i]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            workers[i] = 0;
            continue;
        }
        failed++;
        if (stopping)             /* we stopped it ourselves: nothing to report */
            trace("worker%ld (pid %ld) stopped", i + 1, (long)workers[i]);
        else if (WIFEXITED(status))
            say("worker%ld (pid %ld) exited with status %d", i + 1, (long)workers[i],
                WEXITSTATUS(status));
        else
            say("worker%ld (pid %ld) was killed by signal %d (%s)", i + 1,
                (long)workers[i], WTERMSIG(status), signal_name(WTERMSIG(status)));
        workers[i] = 0;
    }
    return failed;
}

/* ---- the segment and the semaphore set ---- */

static bool ours(const struct ipc_perm *perm)
{
    return perm->uid == geteuid() && perm->cuid == geteuid() && (perm->mode & 0777) == 0600;
}

static bool gone(pid_t pid)
{
    return process_start_time(pid) == 0;
}

/* A segment is a leftover of a killed run when it is ours, nobody is attached
 * and its creator is gone. */
static bool segment_stale(int id, struct shmid_ds *ds)
{
    if (traced(shmctl(id, IPC_STAT, ds), "shmctl(%d, IPC_STAT)", id) == -1)
        die("shmctl %d IPC_STAT", id);
    return ours(&ds->shm_perm) && ds->shm_nattch == 0 && gone(ds->shm_cpid);
}

/* A semaphore set does not record its creator.  Ours is a leftover when we
 * hold the key's segment (so no run of ours is using the key), it is ours, no
 * process waits on it and the last one to operate on it is gone. */
static bool set_stale(int id)
{
    struct semid_ds ds;
    union semun arg = { .buf = &ds };
    if (traced(semctl(id, 0, IPC_STAT, arg), "semctl(%d, IPC_STAT)", id) == -1)
        die("semctl %d IPC_STAT", id);
    if (!ours(&ds.sem_perm))
        return false;
    for (int i = 0; i < (int)ds.sem_nsems; i++) {
        int waiting = semctl(id, i, GETNCNT) + semctl(id, i, GETZCNT);
        int last = semctl(id, i, GETPID);
        if (waiting != 0 || last == -1 || (last != 0 && !gone(last)))
            return false;
    }
    return true;
}

/* These two only warn: clean_up() runs them at exit, where dying is not allowed. */
static bool remove_segment(int id)
{
    if (traced(shmctl(id, IPC_RMID, NULL), "shmctl(%d, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM) {
        warn_sys("shmctl %d IPC_RMID", id);
        return false;
    }
    return true;
}

static bool remove_set(int id)
{
    if (traced(semctl(id, 0, IPC_RMID), "semctl(%d, IPC_RMID)", id) == -1 &&
        errno != EINVAL && errno != EIDRM) {
        warn_sys("semctl %d IPC_RMID", id);
        return false;
    }
    return true;
}

static int make_segment(key_t key)
{
    for (int attempt = 0;; attempt++) {
        int id = (int)traced(shmget(key, sizeof(struct shared), IPC_CREAT | IPC_EXCL | 0600),
                             "shmget(0x%08x, %zu, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key,
                             sizeof(struct shared));
        if (id != -1)
            return id;
        if (errno != EEXIST || attempt > 0)
            die("shmget key 0x%08x", (unsigned)key);
        id = (int)traced(shmget(key, 0, 0), "shmget(0x%08x, 0, 0)", (unsigned)key);
        if (id == -1)
            die("a segment with key 0x%08x exists but cannot be opened (ipcrm -M 0x%08x "
                "removes it)", (unsigned)key, (unsigned)key);
        struct shmid_ds ds;
        if (!segment_stale(id, &ds))
            die_msg("a segment with key 0x%08x exists (shmid %d, %lu attached, creator "
                    "pid %ld%s): is another sem/race running?  If not, remove it with: "
                    "ipcrm -m %d", (unsigned)key, id, (unsigned long)ds.shm_nattch,
                    (long)ds.shm_cpid, gone(ds.shm_cpid) ? " gone" : " still running", id);
        say("found segment %d left by a killed run (creator %ld gone, nobody attached): "
            "removing it", id, (long)ds.shm_cpid);
        remove_segment(id);
    }
}

static int make_set(key_t key)
{
    for (int attempt = 0;; attempt++) {
        int id = (int)traced(semget(key, 1, IPC_CREAT | IPC_EXCL | 0600),
                             "semget(0x%08x, 1, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
        if (id != -1)
            return id;
        if (errno != EEXIST || attempt > 0)
            die("semget key 0x%08x", (unsigned)key);
        id = (int)traced(semget(key, 0, 0), "semget(0x%08x, 0, 0)", (unsigned)key);
        if (id == -1)
            die("a semaphore set with key 0x%08x exists but cannot be opened (ipcrm -S "
                "0x%08x removes it)", (unsigned)key, (unsigned)key);
        if (!set_stale(id))
            die_msg("a semaphore set with key 0x%08x exists (semid %d) and is in use or not "
                    "ours; if no sem/race is running, remove it with: ipcrm -s %d",
                    (unsigned)key, id, id);
        say("found semaphore set %d left by a killed run (nobody uses it): removing it", id);
        remove_set(id);
    }
}

/* atexit(), in the parent only (workers leave with _exit): whatever way we
 * leave, no worker is left running and no object is left behind. */
static void clean_up(void)
{
    stop_workers();
    for (long i = 0; i < started; i++)
        if (workers[i] != 0)
            while (waitpid(workers[i], NULL, 0) == -1 && errno == EINTR)
                ;
    started = 0;
    if (semid != -1 && remove_set(semid))
        say("removed the semaphore set (semid %d)", semid);
    semid = -1;
    if (shared != NULL && traced(shmdt(shared), "shmdt()") == -1)
        warn_sys("shmdt");
    shared = NULL;
    if (shmid != -1 && remove_segment(shmid))
        say("removed the segment (shmid %d)", shmid);
    shmid = -1;
}

/* --cleanup: remove what a killed run left behind, never what a run uses. */
static int cleanup(key_t key)
{
    bool found = false;
    int id = (int)traced(shmget(key, 0, 0), "shmget(0x%08x, 0, 0)", (unsigned)key);
    if (id == -1 && errno != ENOENT)
        die("shmget key 0x%08x", (unsigned)key);
    if (id != -1) {
        struct shmid_ds ds;
        if (!segment_stale(id, &ds))
            die_msg("segment %d (key 0x%08x) is in use or not ours (%lu attached, creator "
                    "pid %ld): not removed", id, (unsigned)key,
                    (unsigned long)ds.shm_nattch, (long)ds.shm_cpid);
        if (!remove_segment(id))
            return 1;
        say("removed segment %d (key 0x%08x)", id, (unsigned)key);
        found = true;
    }
    id = (int)traced(semget(key, 0, 0), "semget(0x%08x, 0, 0)", (unsigned)key);
    if (id == -1 && errno != ENOENT)
        die("semget key 0x%08x", (unsigned)key);
    if (id != -1) {
        if (!set_stale(id))
            die_msg("semaphore set %d (key 0x%08x) is in use or not ours: not removed", id,
                    (unsigned)key);
        if (!remove_set(id))
            return 1;
        say("removed semaphore set %d (key 0x%08x)", id, (unsigned)key);
        found = true;
    }
    if (!found)
        say("nothing to clean up: no segment or semaphore set with key 0x%08x", (unsigned)key);
    return 0;
}

/* ---- the report ---- */

static double now_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void explain(long long expected, long long got)
{
    if (mode == NONE && got < expected) {
        say("why: counter++ is three steps: load the counter into a register, add 1, "
            "store it back;");
        say("another process can run between the steps (on the other CPU, or after a "
            "context switch):");
        say("  worker1: load 41              worker2: load 41");
        say("  worker1: add 1, store 42      worker2: add 1, store 42");
        say("two additions, and the counter went up by one: worker1's update is lost");
        say("fix it with -m sem (one process at a time in the critical section) or "
            "-m atomic (one indivisible add)");
    } else if (mode == NONE && procs == 1) {
        say("no update lost: one process cannot race with itself (try -p 2)");
    } else if (mode == NONE) {
        say("no update lost this time: the processes did not overlap (run it again, or "
            "raise -n)");
    } else if (got != expected) {
        say("the counter is wrong although it was protected: this must not happen");
    } else if (mode == SEM) {
        say("exact: P let one process at a time into load-add-store, V let the next "
            "one in;");
        say("the price: two semop() system calls per addition, and a sleep and a "
            "wake-up whenever the semaphore was taken");
    } else {
        say("exact: atomic_fetch_add is one indivisible read-modify-write instruction: "
            "no lock, no system call");
    }
}

static void duration(char *buf, size_t size, double ns)
{
    if (ns >= 1e6)
        snprintf(buf, size, "%.1f ms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, size, "%.1f us", ns / 1e3);
    else
        snprintf(buf, size, "%.1f ns", ns);
}

static enum mode parse_mode(const char *text)
{
    if (strcmp(text, "none") == 0)
        return NONE;
    if (strcmp(text, "sem") == 0)
        return SEM;
    if (strcmp(text, "atomic") == 0)
        return ATOMIC;
    usage_error("-m: '%s' is not none, sem or atomic", text);
}

int main(int argc, char *argv[])
{
    prog_init("sem/race", "parent", usage);
    /* getopt_long is a GNU extension (glibc, musl, the BSDs): for --cleanup. */
    static const struct option longopts[] = {
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
        case 'm': mode = parse_mode(optarg); break;
        case 'v': verbose = true; break;
        case 'C': clean = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if (increments == -1)
        increments = mode == SEM ? 10000 : 10000000;

    key_t key = ipc_key(KEY_SEM);
    if (clean)
        return cleanup(key);
    catch_stop_signals();
    /* Output into a closed pipe (| head) must not kill us before clean_up(). */
    signal(SIGPIPE, SIG_IGN);
    if (atexit(clean_up) != 0)
        die_msg("atexit failed");
    static const char *const how[] = {
        [NONE] = "with no protection (-m none)",
        [SEM] = "each addition inside P and V on a semaphore (-m sem)",
        [ATOMIC] = "each addition one atomic add (-m atomic)",
    };
    say("%ld process%s, each adding 1 to one shared counter %ld times, %s", procs,
        procs == 1 ? "" : "es", increments, how[mode]);

    shmid = make_segment(key);
    void *at = shmat(shmid, NULL, 0);
    if (at == (void *)-1)
        die("shmat %d", shmid);
    trace("shmat(%d) = %p", shmid, at);
    shared = at;
    atomic_store(&shared->counter, 0);
    atomic_store(&shared->ready, 0);
    say("the counter: segment shmid %d (key 0x%08x), starting at 0", shmid, (unsigned)key);
    if (mode == SEM) {
        semid = make_set(key);
        union semun arg = { .val = 1 };
        if (traced(semctl(semid, 0, SETVAL, arg), "semctl(%d, 0, SETVAL, 1)", semid) == -1)
            die("semctl %d SETVAL", semid);
        say("the lock: semaphore set semid %d (key 0x%08x), one semaphore, value 1 (free)",
            semid, (unsigned)key);
    }

    /* Every worker waits on this pipe; closing its write end starts them all. */
    int gun[2];
    if (pipe(gun) == -1)
        die("pipe");
    trace("pipe([%d, %d]) = 0", gun[0], gun[1]);
    for (long i = 0; i < procs && !stop_signal; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die("fork");          /* clean_up() stops the workers forked so far */
        if (pid == 0) {
            set_role("worker%ld", i + 1);
            default_stop_signals();   /* the parent's handlers are not ours */
            /* Our copy of the write end would keep the pipe open: no EOF, ever. */
            if (traced(close(gun[1]), "close(%d)", gun[1]) == -1)
                die_child("close");
            work(gun[0]);
        }
        trace("fork() = %ld", (long)pid);
        workers[started++] = pid;
    }
    if (traced(close(gun[0]), "close(%d)", gun[0]) == -1)
        die("close");
    if (!stop_signal)
        say("started %ld worker%s, waiting on a pipe: closing its write end starts them "
            "together", started, started == 1 ? "" : "s");
    /* (A stop signal before this point is seen by reap_workers(), which stops
     * them at once.) */
    double start = now_ns();
    if (traced(close(gun[1]), "close(%d)", gun[1]) == -1)
        die("close");
    int failed = reap_workers();
    double elapsed = now_ns() - start;
    if (stop_signal)
        die_msg("caught %s: stopped the workers", signal_name(stop_signal));

    long long expected = (long long)procs * increments;
    long long got = atomic_load(&shared->counter);
    clean_up();
    char total[32], each[32];
    duration(total, sizeof total, elapsed);
    duration(each, sizeof each, expected > 0 ? elapsed / (double)expected : 0);
    say("time: %s, %s per addition", total, each);
    say("expected %lld, got %lld", expected, got);
    if (failed > 0) {
        say("%d worker%s did not finish: the additions never made are missing too, so "
            "this count proves nothing about lost updates", failed, failed == 1 ? "" : "s");
        return 1;
    }
    if (got < expected)
        say("lost %lld updates", expected - got);
    explain(expected, got);
    return mode == NONE || got == expected ? 0 : 1;
}
