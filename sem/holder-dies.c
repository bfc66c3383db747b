/* sem/holder-dies - a process dies holding a lock: what does the next one get?
 *
 * The lesson: a lock is only as good as what happens when its holder dies in
 * the critical section.  The holder takes the lock, takes 10 out of one account
 * (about to put it into the other), tells its parent through a pipe, and is
 * killed there with SIGKILL: nothing is released by the program.  Then the
 * parent, the next process, tries to take the same lock:
 *   -m sem    a System V semaphore taken with SEM_UNDO: the kernel undoes the
 *             dead holder's -1, so the lock is free again -- silently: nothing
 *             tells the next process that the accounts are half-updated;
 *   -m posix  a named POSIX semaphore: it has no owner, nobody gives it back,
 *             sem_timedwait() times out (sem_wait() would wait for ever);
 *   -m mutex  a robust mutex: the kernel marks it "owner died", the next lock
 *             returns EOWNERDEAD; the new owner repairs the accounts and calls
 *             pthread_mutex_consistent().  Unlocked without that (-n), the
 *             mutex is unusable for ever: ENOTRECOVERABLE.
 * Observe the lock's state after the death, the accounts, and the exit status
 * (0: as described).  The holder is our forked child; sem/race shows the locks.
 *
 * Usage: sem/holder-dies [-m sem|posix|mutex] [-n] [-t MS] [-d MS] [-v] [--cleanup]
 */
#define _GNU_SOURCE               /* semtimedop(), MAP_ANONYMOUS */
#include "leftover.h"

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static const char usage[] =
    "usage: sem/holder-dies [-m sem|posix|mutex] [-n] [-t MS] [-d MS] [-v] [--cleanup]\n"
    "A process takes a lock and is killed (SIGKILL) while it holds it; then the next\n"
    "process tries to take the same lock.  Exit status 0: it went as the lesson says.\n"
    "  -m sem     a System V semaphore taken with SEM_UNDO: the kernel gives it back\n"
    "             (the default)\n"
    "  -m posix   a named POSIX semaphore: it stays taken, sem_timedwait times out\n"
    "  -m mutex   a robust mutex: the next lock returns EOWNERDEAD, and\n"
    "             pthread_mutex_consistent() makes it usable again\n"
    "  -n         no recovery: -m sem without SEM_UNDO (it stays taken too); -m mutex\n"
    "             never made consistent (ENOTRECOVERABLE)\n"
    "  -t MS      how long the next process waits for the lock (default 1000)\n"
    "  -d MS      pause before the kill, to look at the taken lock (default 0)\n"
    "  -v         trace every system call and every call on the lock on stderr\n"
    "  --cleanup  remove a semaphore set or a named semaphore a killed run left, then exit\n"
    "  -h         show this help\n";

enum mode { SEM, POSIX, MUTEX };
static const char SET_RECORD[] = "sem-holder.owner", NAMED_RECORD[] = "sem-holder-named.owner";

/* What the lock guards: two accounts, 100 in all.  Moving 10 from one to the
 * other is two stores; between them, the sum is wrong. */
struct accounts {
    pthread_mutex_t mutex;        /* -m mutex */
    long from, to;
};

static enum mode mode = SEM;
static bool no_recovery;
static long wait_ms = 1000, delay;
static pid_t parent, holder;
static int semid = -1, told[2] = { -1, -1 }, hold[2] = { -1, -1 };
static sem_t *named = SEM_FAILED;
static char name[NAME_MAX];
static struct accounts *acc;

static bool parse_options(int argc, char *argv[]), take_lock(void);
static int cleanup(void);
static void clean_up(void), remove_lock(void), check_stop(void), close_fd(int *fd);
static void make_lock(void), start_holder(void), kill_holder(void), destroy_lock(void);

int main(int argc, char *argv[])
{
    prog_init("sem/holder-dies", "parent", usage);
    if (parse_options(argc, argv))
        return cleanup();
    parent = getpid();
    catch_stop_signals();
    exit_cleanly(clean_up);       /* a write to a vanished peer fails with EPIPE: said */

    make_lock();                  /* free, the accounts 100 + 0 */
    start_holder();               /* it takes the lock, starts the move, says so */
    check_stop();
    kill_holder();                /* SIGKILL inside the critical section */
    check_stop();
    bool as_described = take_lock();  /* the next process: what was left? */
    check_stop();
    destroy_lock();
    return as_described ? 0 : 1;
}

/* ---- the lock ---- */

static void make_set(void)
{
    key_t key = (key_t)traced(ftok(ipc_keyfile(), KEY_HOLDER), "ftok(\"%s\", '%c')",
                              ipc_keyfile(), KEY_HOLDER);
    if (key == -1)
        die("ftok %s", ipc_keyfile());
    /* A kill -9 of the whole run leaves the set: IPC_EXCL makes the next run
     * find it (EEXIST) instead of sharing it, maybe taken for ever. */
    for (int attempt = 0;; attempt++) {
        semid = (int)traced(semget(key, 1, IPC_CREAT | IPC_EXCL | 0600),
                            "semget(0x%08x, 1, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
        if (semid != -1)
            break;
        if (errno != EEXIST || attempt > 0)
            die("semget key 0x%08x", (unsigned)key);
        set_leftover(key, SET_RECORD);    /* returns once it removed it, or none is left */
    }
    owner_write(SET_RECORD, semid);
    union semun arg = { .val = 1 };
    if (traced(semctl(semid, 0, SETVAL, arg), "semctl(%d, 0, SETVAL, 1)", semid) == -1)
        die("semctl %d SETVAL", semid);
    say("the lock: semaphore set semid %d (key 0x%08x), value 1 (free)", semid, (unsigned)key);
}

static void make_named(void)
{
    posix_name(name, sizeof name, "holder");
    /* The trap: sem_open(O_CREAT) without O_EXCL opens a leftover of a killed
     * run as it is -- its value kept (0 if its holder died), our 1 ignored --
     * and every sem_wait() on it waits for ever.  O_EXCL fails with EEXIST. */
    for (int attempt = 0;; attempt++) {
        named = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
        if (named == SEM_FAILED)
            traced(-1, "sem_open(\"%s\", O_CREAT|O_EXCL, 0600, 1)", name);
        else
            trace("sem_open(\"%s\", O_CREAT|O_EXCL, 0600, 1) = %p", name, (void *)named);
        if (named != SEM_FAILED)
            break;
        if (errno != EEXIST || attempt > 0)
            die("sem_open %s", name);
        named_leftover(name, NAMED_RECORD);   /* returns once it removed it, or none */
    }
    owner_write(NAMED_RECORD, 0);
    say("the lock: named semaphore %s (/dev/shm/sem.%s, mode 0600), value 1 (free)", name,
        name + 1);
}

static void make_mutex(void)
{
    pthread_mutexattr_t attr;
    /* PROCESS_SHARED: it lives in memory the holder shares.  ROBUST: the
     * kernel keeps a list of the robust mutexes each thread holds, and marks
     * them "owner died" when it dies. */
    void *a = &attr, *m = &acc->mutex;
    if (traced_err(pthread_mutexattr_init(&attr), "pthread_mutexattr_init(%p)", a) != 0 ||
        traced_err(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                   "pthread_mutexattr_setpshared(%p, PTHREAD_PROCESS_SHARED)", a) != 0 ||
        traced_err(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
                   "pthread_mutexattr_setrobust(%p, PTHREAD_MUTEX_ROBUST)", a) != 0 ||
        traced_err(pthread_mutex_init(&acc->mutex, &attr), "pthread_mutex_init(%p)", m) != 0 ||
        traced_err(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy(%p)", a) != 0)
        die("making the mutex");
    say("the lock: a robust, process-shared pthread mutex, unlocked");
}

static void make_lock(void)
{
    /* The accounts, in memory shared with the children forked after this and
     * nobody else: nothing to name, nothing to remove, nothing kill -9 leaves. */
    void *p = traced_ptr(mmap(NULL, sizeof *acc, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                         "mmap(NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)",
                         sizeof *acc);
    if (p == MAP_FAILED)
        die("mmap");
    acc = p;
    acc->from = 100;
    acc->to = 0;
    if (mode == SEM)
        make_set();
    else if (mode == POSIX)
        make_named();
    else
        make_mutex();
}

/* ---- the holder ---- */

static noreturn void hold_lock(void)
{
    /* -n: no SEM_UNDO, and the kernel keeps no record to undo. */
    struct sembuf p = { .sem_num = 0, .sem_op = -1, .sem_flg = no_recovery ? 0 : SEM_UNDO };
    int rc = 0;
    if (mode == SEM)
        while ((rc = (int)traced(semop(semid, &p, 1), "semop(%d, P: -1%s)", semid,
                                 no_recovery ? "" : ", SEM_UNDO")) == -1 && errno == EINTR)
            ;
    if (mode == POSIX)
        while ((rc = (int)traced(sem_wait(named), "sem_wait(%p)", (void *)named)) == -1 &&
               errno == EINTR)
            ;
    if (mode == MUTEX && traced_err(pthread_mutex_lock(&acc->mutex), "pthread_mutex_lock(%p)",
                                    (void *)&acc->mutex) != 0)
        rc = -1;
    if (rc == -1)
        die_child("taking the lock");
    acc->from -= 10;              /* the move, half done: */
    say("took the lock; moved 10 out of the first account (%ld + %ld = %ld): telling the parent",
        acc->from, acc->to, acc->from + acc->to);
    if (traced(write(told[1], "h", 1), "write(%d, 1)", told[1]) != 1)
        die_child("write to the parent");
    /* acc->to += 10 would come next.  Wait inside the critical section until
     * killed; read() returns 0 only if the parent dies first.  (told[1] stays
     * open: the kernel closes it when we die.) */
    char c;
    while (traced(read(hold[0], &c, 1), "read(%d, 1)", hold[0]) == -1 && errno == EINTR)
        ;
    say("the parent is gone: leaving, the lock still held");
    _exit(1);
}

/* Fork the holder; return once it says it holds the lock. */
static void start_holder(void)
{
    int rc = pipe(told);
    if (traced(rc, "pipe([%d, %d])", told[0], told[1]) == -1)
        die("pipe");
    rc = pipe(hold);
    if (traced(rc, "pipe([%d, %d])", hold[0], hold[1]) == -1)
        die("pipe");
    holder = fork();
    if (holder != 0 && traced(holder, "fork()") == -1)
        die("fork");
    if (holder == 0) {
        set_role("holder");
        default_stop_signals();
        close_fd(&told[0]);
        close_fd(&hold[1]);       /* else its own copy would keep the pipe open for ever */
        hold_lock();
    }
    close_fd(&told[1]);
    close_fd(&hold[0]);
    /* Its word, not a sleep, says it holds the lock: read() waits for it. */
    char c;
    ssize_t n;
    while ((n = traced(read(told[0], &c, 1), "read(%d, 1)", told[0])) == -1 &&
           errno == EINTR && !stop_signal)
        ;
    if (n == -1 && !stop_signal)
        die("read from the holder");
    if (n == 0)
        die_msg("the holder ended before it took the lock");
    close_fd(&told[0]);
}

static void kill_holder(void)
{
    delay_ms(delay);
    if (traced(kill(holder, SIGKILL), "kill(%ld, SIGKILL)", (long)holder) == -1)
        die("kill %ld", (long)holder);
    int status;
    while (traced(waitpid(holder, &status, 0), "waitpid(%ld)", (long)holder) == -1)
        if (errno != EINTR)
            die("waitpid");
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        die_msg("the holder (pid %ld) ended, but not by our SIGKILL", (long)holder);
    say("killed the holder (pid %ld) with SIGKILL inside its critical section: no code of it "
        "ran after that", (long)holder);
    holder = 0;
    close_fd(&hold[1]);
}

/* ---- the next process ---- */

static void show_accounts(const char *when)
{
    say("%s: %ld + %ld = %ld%s", when, acc->from, acc->to, acc->from + acc->to,
        acc->from + acc->to == 100 ? "" : ", not 100: the move half done");
}

static bool take_set(void)
{
    int value = (int)traced(semctl(semid, 0, GETVAL), "semctl(%d, 0, GETVAL)", semid);
    if (value == -1)
        die("semctl %d GETVAL", semid);
    say("the semaphore's value is %d", value);
    /* semtimedop(): semop() with a time limit (Linux), so a lock nobody gives
     * back cannot hang the demo. */
    struct sembuf p = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO };
    struct timespec limit = { wait_ms / 1000, wait_ms % 1000 * 1000000 };
    int rc = (int)traced(semtimedop(semid, &p, 1, &limit), "semtimedop(%d, P: -1, SEM_UNDO, "
                         "%ld ms)", semid, wait_ms);
    if (rc == -1 && errno == EINTR)
        check_stop();
    if (rc == -1 && errno != EAGAIN)
        die("semtimedop %d", semid);
    if (rc == -1) {
        say("still taken after %ld ms: without SEM_UNDO nobody gives back a dead holder's -1",
            wait_ms);
        return no_recovery;
    }
    say("took it at once: the kernel undid the dead holder's -1 (SEM_UNDO)");
    show_accounts("but silently: the accounts hold");
    struct sembuf v = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
    if (traced(semop(semid, &v, 1), "semop(%d, V: +1, SEM_UNDO)", semid) == -1)
        die("semop %d V", semid);
    return !no_recovery;
}

static bool take_named(void)
{
    int value;
    if (traced(sem_getvalue(named, &value), "sem_getvalue(%p)", (void *)named) == -1)
        die("sem_getvalue");
    say("the semaphore's value is %d", value);
    /* sem_timedwait(): sem_wait() with a deadline; sem_wait() would wait for ever. */
    struct timespec until = deadline_in(wait_ms);
    if (traced(sem_timedwait(named, &until), "sem_timedwait(%p, +%ld ms)", (void *)named,
               wait_ms) == 0) {
        say("took it: somebody posted it, which nobody should have");
        return false;
    }
    if (errno == EINTR)
        check_stop();
    if (errno != ETIMEDOUT)
        die("sem_timedwait");
    say("still taken after %ld ms: a semaphore has no owner, so nobody gave it back; every "
        "sem_wait() on it would wait for ever, and nobody can repair the half-done move",
        wait_ms);
    return true;
}

static bool take_mutex(void)
{
    struct timespec until = deadline_in(wait_ms);
    int rc = traced_err(pthread_mutex_timedlock(&acc->mutex, &until),
                        "pthread_mutex_timedlock(%p, +%ld ms)", (void *)&acc->mutex, wait_ms);
    if (rc != EOWNERDEAD) {
        say("got %s, not EOWNERDEAD: the robust mutex did not do its job", errno_name(rc));
        return false;
    }
    say("got the lock with EOWNERDEAD: its owner died holding it");
    show_accounts("the accounts hold");
    if (no_recovery) {
        say("left it inconsistent (-n), and unlocked it");
    } else {
        acc->from = 100 - acc->to;    /* the repair: undo the half-done move */
        show_accounts("repaired, the accounts hold");
        if (traced_err(pthread_mutex_consistent(&acc->mutex), "pthread_mutex_consistent(%p)",
                       (void *)&acc->mutex) != 0)
            die("pthread_mutex_consistent");
        say("made it consistent (pthread_mutex_consistent): an ordinary mutex again");
    }
    if (traced_err(pthread_mutex_unlock(&acc->mutex), "pthread_mutex_unlock(%p)",
                   (void *)&acc->mutex) != 0)
        die("pthread_mutex_unlock");
    until = deadline_in(wait_ms);
    rc = traced_err(pthread_mutex_timedlock(&acc->mutex, &until),
                    "pthread_mutex_timedlock(%p, +%ld ms)", (void *)&acc->mutex, wait_ms);
    if (rc == 0 && traced_err(pthread_mutex_unlock(&acc->mutex), "pthread_mutex_unlock(%p)",
                              (void *)&acc->mutex) != 0)
        die("pthread_mutex_unlock");
    say(rc == ENOTRECOVERABLE ? "locking it again: ENOTRECOVERABLE: unusable for ever; only "
                                "pthread_mutex_destroy() and a new pthread_mutex_init() help"
        : rc == 0 ? "locked and unlocked it again: 0" : "locking it again: unexpected");
    return rc == (no_recovery ? ENOTRECOVERABLE : 0);
}

static bool take_lock(void)
{
    if (mode == SEM)
        return take_set();
    if (mode == POSIX)
        return take_named();
    return take_mutex();
}

static void destroy_lock(void)
{
    if (mode == MUTEX && traced_err(pthread_mutex_destroy(&acc->mutex), "pthread_mutex_destroy(%p)",
                                    (void *)&acc->mutex) != 0)
        die("pthread_mutex_destroy");
    clean_up();                   /* the set or the named semaphore, and the mapping */
}

/* ---- what makes it robust (not the lesson) ---- */

static void close_fd(int *fd)
{
    if (*fd != -1 && traced(close(*fd), "close(%d)", *fd) == -1)
        warn_sys("close %d", *fd);
    *fd = -1;
}

static void check_stop(void)
{
    if (stop_signal)
        die_msg("caught %s: stopped", signal_name(stop_signal));
}

/* atexit(), in the parent only: whatever way we leave, the holder is gone
 * and nothing is left behind. */
static void clean_up(void)
{
    if (getpid() != parent)
        return;
    if (holder > 0) {
        if (traced(kill(holder, SIGKILL), "kill(%ld, SIGKILL)", (long)holder) == -1)
            warn_sys("kill %ld", (long)holder);
        while (traced(waitpid(holder, NULL, 0), "waitpid(%ld)", (long)holder) == -1 &&
               errno == EINTR)
            ;
        holder = 0;
    }
    int *fds[] = { &told[0], &told[1], &hold[0], &hold[1] };
    for (size_t i = 0; i < 4; i++)
        close_fd(fds[i]);
    remove_lock();
    if (acc != NULL && traced(munmap(acc, sizeof *acc), "munmap(%p, %zu)", (void *)acc,
                              sizeof *acc) == -1)
        warn_sys("munmap");
    acc = NULL;
}

/* The set or the named semaphore, and its record; if removing fails, the record
 * stays: the next run judges it. */
static void remove_lock(void)
{
    if (semid != -1 && traced(semctl(semid, 0, IPC_RMID), "semctl(%d, 0, IPC_RMID)", semid) == 0)
        owner_remove(SET_RECORD);
    else if (semid != -1)
        warn_sys("semctl %d IPC_RMID", semid);
    semid = -1;
    if (named != SEM_FAILED && traced(sem_close(named), "sem_close(%p)", (void *)named) == -1)
        warn_sys("sem_close");
    if (named != SEM_FAILED && traced(sem_unlink(name), "sem_unlink(\"%s\")", name) == 0)
        owner_remove(NAMED_RECORD);
    else if (named != SEM_FAILED)
        warn_sys("sem_unlink %s", name);
    named = SEM_FAILED;
}

/* --cleanup: remove what a killed run left behind, never what a run uses. */
static int cleanup(void)
{
    key_t key = (key_t)traced(ftok(ipc_keyfile(), KEY_HOLDER), "ftok(\"%s\", '%c')",
                              ipc_keyfile(), KEY_HOLDER);
    if (key == -1)
        die("ftok %s", ipc_keyfile());
    posix_name(name, sizeof name, "holder");
    bool set = set_leftover(key, SET_RECORD);
    if (!named_leftover(name, NAMED_RECORD) && !set)
        say("nothing to clean up: no semaphore set with key 0x%08x, no semaphore %s",
            (unsigned)key, name);
    return 0;
}

static enum mode parse_mode(const char *text)
{
    static const char *const modes[] = { [SEM] = "sem", [POSIX] = "posix", [MUTEX] = "mutex" };
    for (enum mode m = SEM; m <= MUTEX; m++)
        if (strcmp(text, modes[m]) == 0)
            return m;
    usage_error("-m: '%s' is not sem, posix or mutex", text);
}

/* True for --cleanup. */
static bool parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {      /* getopt_long: GNU, for --cleanup */
        { "cleanup", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 },
    };
    bool clean = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:nt:d:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': mode = parse_mode(optarg); break;
        case 'n': no_recovery = true; break;
        case 't': wait_ms = parse_number("-t", optarg, 1, 60000); break;
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'C': clean = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if (no_recovery && mode == POSIX)
        usage_error("-n: -m posix has no recovery to leave out");
    return clean;
}
