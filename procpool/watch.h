/* procpool/watch.h - how procpool/pool watches its workers.
 *
 * The pool sleeps in one place, wait_events(): pselect() on the results pipe,
 * with SIGCHLD and the stop signals blocked everywhere else and unblocked only
 * there, so neither a result nor a signal can slip in between a check and the
 * sleep.  Every result record is checked before it is believed: it must come
 * from one of the workers and complete the oldest task that worker has not
 * completed yet (a worker reads its pipe in order).  pool.c makes the system
 * calls of the lesson; this file keeps the books.
 */
#ifndef PROCPOOL_WATCH_H
#define PROCPOOL_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* At most WINDOW tasks per worker are sent and not yet completed.  Without a
 * bound, the pool could block writing into a full task pipe while that worker
 * blocks writing into a full results pipe that only the pool drains. */
enum { WINDOW = 8 };

struct task {
    long number;                /* the pool's numbering, 1..TASKS */
    uint32_t code;              /* all the worker receives */
};

struct worker {
    pid_t pid;                  /* 0: no process (reaped) */
    int fd;                     /* the pool's write end of its task pipe; -1: closed */
    unsigned long ino;          /* the task pipe as /proc shows it: pipe:[ino] */
    bool ready;                 /* its ready record has come */
    uint32_t done;              /* completions received from this process */
    int barren;                 /* deaths in a row before completing anything */
    struct task pending[WINDOW];  /* sent and not completed, oldest first */
    int npending;
};

/* The pool's table of workers (pool.c). */
extern struct worker *workers;
extern long nworkers;

int slot_of(pid_t pid);                 /* the index of worker PID, or -1 */
bool all_ready(void);
bool any_pending(void);

/* ---- the results pipe ---- */

extern long completed;                  /* completions credited */
extern bool bad_results;                /* a record not believed, or a task completed twice */
extern bool results_eof;                /* every write end is closed: nothing more will come */
extern bool fds_when_ready;             /* -f: show a worker's fds when its ready record comes */

void results_init(long ntasks);
void results_free(void);
/* Read what the results pipe FD holds (it is non-blocking): one read(), or with
 * DRAIN until it is empty; check and credit each record. */
void read_results(int fd, bool drain);
bool each_task_completed_once(void);    /* each of the tasks 1..TASKS, exactly once */

/* ---- signals, and the wait ---- */

extern volatile sig_atomic_t child_exited;  /* SIGCHLD came: time to waitpid() */

/* SIGPIPE ignored; SIGCHLD and the stop signals caught, and blocked except in
 * wait_events(). */
void watch_signals(void);
/* In a forked child, before exec: the dispositions and the mask the pool
 * started with (an ignored signal and the mask survive exec). */
void unwatch_signals(void);
bool stopping(void);                    /* has a stop signal come? */
/* Sleep until a result arrives on FD (then read it), a signal is caught, or
 * TIMEOUT ms pass (-1: no limit). */
void wait_events(int fd, long timeout);

#endif
