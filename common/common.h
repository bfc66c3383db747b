/* common.h - the plumbing every demo shares.  No call a lesson teaches is made
 * here: the lessons make their own, in place, wrapped in traced().
 *
 * Output: say() prints one "[ROLE PID] ..." line on stdout with one write(2), so
 * no stdio buffer is copied by fork() and lines of processes sharing a pipe never
 * interleave.  With -v, traced() prints "[ROLE PID] call(args) = result" on
 * stderr.  Every FMT below, the errors' too, goes through one small formatter
 * that takes no lock and no memory, so say(), trace() and traced() may be
 * called in a signal handler.  It knows %d u x o (with l, ll or z), %c, %s, %p,
 * the flags - and 0, a width or *, and .* for %s; anything else prints "%?"
 * (snprintf() a double first).
 */
#ifndef IPC_DEMOS_COMMON_H
#define IPC_DEMOS_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <sys/types.h>
#include <time.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ---- identity and output ---- */

/* PROG as the docs show it ("pipe/demo"), the first ROLE, the -h text (its
 * first line is the usage line). */
void prog_init(const char *prog, const char *role, const char *usage);
void set_role(const char *fmt, ...) PRINTF_LIKE(1, 2); /* after fork(): "worker%d" */
extern bool verbose;                                   /* -v */

void say(const char *fmt, ...) PRINTF_LIKE(1, 2);      /* stdout */
void trace(const char *fmt, ...) PRINTF_LIKE(1, 2);    /* stderr, only with -v */
/* With -v, trace "CALL = RC", or "CALL = -1 ENAME" when RC is -1; returns RC
 * with errno unchanged: traced(close(fd), "close(%d)", fd). */
long traced(long rc, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The same for calls that return a pointer and fail with (void *)-1: shmat, mmap. */
void *traced_ptr(void *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The same for calls that return an error number and leave errno alone, as
 * pthread_*() do: "CALL = 0" or "CALL = ENAME"; sets errno to RC for die(). */
int traced_err(int rc, const char *fmt, ...) PRINTF_LIKE(2, 3);
const char *errno_name(int err);                       /* "ENOENT" */

/* LEN bytes of untrusted text as printable ASCII in OUT (\xHH, and \\ for a
 * backslash), NUL-terminated, only whole escapes; returns how many bytes of IN
 * were taken. */
size_t escape_text(char *out, size_t outsize, const char *in, size_t len);

/* ---- errors: warn_* go on, die* exit ---- */

void warn_sys(const char *fmt, ...) PRINTF_LIKE(1, 2);  /* "PROG: WHAT: strerror" */
void warn_msg(const char *fmt, ...) PRINTF_LIKE(1, 2);  /* "PROG: MESSAGE" */
noreturn void die(const char *fmt, ...) PRINTF_LIKE(1, 2);       /* warn_sys, exit(1) */
noreturn void die_msg(const char *fmt, ...) PRINTF_LIKE(1, 2);   /* warn_msg, exit(1) */
noreturn void die_child(const char *fmt, ...) PRINTF_LIKE(1, 2); /* warn_sys, _exit(1) */

/* ---- command line ---- */

noreturn void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2); /* + usage line, exit 2 */
noreturn void usage_help(void);                  /* -h: the usage on stdout, exit 0 */
/* What getopt(3) returned as '?' or ':' (opterr = 0, optstring starting ':'). */
noreturn void bad_option(int c, char *const argv[]);
/* TEXT, the argument of OPTION, as a whole decimal number in [MIN, MAX]: no
 * sign but '-', no space; anything else is a usage error. */
long parse_number(const char *option, const char *text, long min, long max);
noreturn void extra_operand(const char *text);

/* ---- I/O loops (with -v each real read(2)/write(2) is traced) ---- */

/* Write all LEN bytes, looping over partial writes and EINTR: LEN, or -1 with
 * errno set (EINTR only once a stop signal was caught). */
ssize_t write_all(int fd, const void *buf, size_t len);
/* Read LEN bytes or up to end of file: the count, or -1 as write_all. */
ssize_t read_full(int fd, void *buf, size_t len);
void delay_ms(long ms);                   /* -d pacing: the only sleep there is */
/* MS milliseconds from now on CLOCK_REALTIME: the deadline (not a duration)
 * that sem_timedwait(), mq_timedsend() and the like take. */
struct timespec deadline_in(long ms);
/* The number in a file of /proc/sys (a kernel limit), or FALLBACK. */
long proc_long(const char *path, long fallback);

/* A byte stream keeps no message boundaries: feed it what read() returned and
 * get one call per newline-terminated line.  A longer line than LINE_LIMIT - 1
 * bytes keeps its start and counts what was dropped. */
enum { LINE_LIMIT = 4096 };
struct lines {
    char buf[LINE_LIMIT];
    size_t used, dropped;
};
typedef void line_fn(const char *line, size_t len, size_t dropped, void *arg);
void lines_feed(struct lines *l, const char *data, size_t n, line_fn *fn, void *arg);
bool lines_end(struct lines *l, line_fn *fn, void *arg); /* an unterminated last line */
/* Each line of standard input to FN, the read()s traced, a "Please enter# "
 * prompt before each on a terminal.  0 at end of file; -1 when a read fails
 * (errno; EINTR only once a stop signal has come). */
int stdin_lines(line_fn *fn, void *arg);
/* A line stdin_lines() cut short (DROPPED bytes did not fit) is never sent in
 * part: false, and said on stderr. */
bool whole_line(size_t len, size_t dropped);

/* ---- signals ---- */

/* The stop signals: SIGINT, SIGTERM, SIGHUP.  catch_stop_signals() makes them
 * set stop_signal and interrupt a blocked call (no SA_RESTART); or install an
 * async-signal-safe handler of your own with on_stop_signals().  A forked child
 * that does not exec calls default_stop_signals(). */
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(void);
void on_stop_signals(void (*handler)(int));
void default_stop_signals(void);
/* SIGPIPE ignored (a write into a closed stdout fails, and say() lets it go,
 * instead of killing us before REMOVE has run), then atexit(REMOVE). */
void exit_cleanly(void (*remove)(void));
const char *signal_name(int signo);       /* "SIGPIPE" */

/* ---- file descriptors and mappings (-f) ---- */

/* -f: one line per open fd, "fd 3 -> pipe:[91827]", after WHO if not NULL. */
void print_fds(const char *who);
/* Each line of /proc/self/maps that names NAME, as "WHEN mapping: LINE";
 * false if none does. */
bool print_maps(const char *name, const char *when);

/* Where IPC objects live, and what a killed run left: objects.h. */
#include "objects.h"

#endif
