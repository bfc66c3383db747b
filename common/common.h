/* common.h - the small toolbox every demo shares.
 *
 * Output: say() prints one "[ROLE PID] ..." line on stdout with a single write(2),
 * so a line is never held in a stdio buffer that fork() would copy, and lines from
 * several processes sharing a pipe never interleave.  trace() does the same on
 * stderr when -v is on.  Errors follow "PROG: what failed: strerror(errno)".
 */
#ifndef IPC_DEMOS_COMMON_H
#define IPC_DEMOS_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* ---- identity and output ---- */

/* PROG as the docs show it ("pipe/demo"), the first ROLE, and the -h text whose
 * first line is the usage line. */
void prog_init(const char *prog, const char *role, const char *usage);
void set_role(const char *fmt, ...);          /* after fork: set_role("worker%d", i) */
const char *prog_name(void);
extern bool verbose;                          /* -v */

void say(const char *fmt, ...);               /* "[ROLE PID] ..." on stdout */
void trace(const char *fmt, ...);             /* "[ROLE PID] ..." on stderr, only with -v */
/* trace "CALL = rc" (or "CALL = -1 (strerror)") and return rc unchanged, errno kept. */
long traced(long rc, const char *fmt, ...);

/* Copy LEN bytes of untrusted text into OUT as printable ASCII (\xHH for the rest,
 * \\ for a backslash), always NUL-terminated; returns the length written. */
size_t escape_text(char *out, size_t outsize, const char *in, size_t len);

/* ---- errors ---- */

void warn_sys(const char *fmt, ...);          /* "PROG: WHAT: strerror(errno)" */
void warn_msg(const char *fmt, ...);          /* "PROG: MESSAGE", no errno; go on */
noreturn void die(const char *fmt, ...);      /* warn_sys, then exit(1) */
noreturn void die_child(const char *fmt, ...);/* warn_sys, then _exit(1): for forked children */
noreturn void die_msg(const char *fmt, ...);  /* "PROG: MESSAGE", exit(1) */

/* ---- command line ---- */

noreturn void usage_error(const char *fmt, ...); /* "PROG: what", usage line, exit 2 */
noreturn void usage_help(void);                  /* -h: whole usage on stdout, exit 0 */
/* Report what getopt(3)/getopt_long(3) returned as '?' or ':' and exit 2.
 * Call getopt with opterr = 0 and an optstring starting with ':'. */
noreturn void bad_option(int c, char *const argv[]);
/* Parse TEXT (the argument of OPTION) as a whole decimal number in [min, max];
 * anything else is a usage error naming the option and echoing the text. */
long parse_number(const char *option, const char *text, long min, long max);
noreturn void extra_operand(const char *text);

/* ---- I/O loops ---- */

/* Write all LEN bytes, looping over partial writes and EINTR.  Returns LEN, or -1
 * with errno set (EINTR only when a stop signal was caught). */
ssize_t write_all(int fd, const void *buf, size_t len);
/* Read until LEN bytes or end of file.  Returns the count (less than LEN only at
 * end of file), or -1 with errno set (EINTR only when a stop signal was caught). */
ssize_t read_full(int fd, void *buf, size_t len);
void delay_ms(long ms);                       /* -d pacing; the only sleep allowed */

/* A byte stream has no message boundaries: feed whatever read() returned and
 * get one callback per newline-terminated line.  A line longer than LINE_LIMIT - 1
 * bytes keeps its first LINE_LIMIT - 1 bytes and reports how many were dropped. */
enum { LINE_LIMIT = 4096 };
struct lines {
    char buf[LINE_LIMIT];
    size_t used, dropped;
};
typedef void line_fn(const char *line, size_t len, size_t dropped, void *arg);
void lines_feed(struct lines *l, const char *data, size_t n, line_fn *fn, void *arg);
/* At end of file: deliver an unterminated last line, if any; true if there was one. */
bool lines_end(struct lines *l, line_fn *fn, void *arg);

/* ---- signals ---- */

/* The stop signals are SIGINT, SIGTERM and SIGHUP.  catch_stop_signals() makes
 * them set stop_signal and interrupt blocking calls (no SA_RESTART); or install
 * your own async-signal-safe handler with on_stop_signals().  A forked child
 * that does not exec should call default_stop_signals() first. */
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(void);
void on_stop_signals(void (*handler)(int));
void default_stop_signals(void);
const char *signal_name(int signo);           /* "SIGPIPE" */

/* ---- file descriptors ---- */

/* -f: one line per open fd of PID (0 means this process): "fd 3 -> pipe:[91827]",
 * prefixed with WHO when WHO is not NULL. */
void print_fds(pid_t pid, const char *who);

/* ---- where IPC objects live ---- */

/* $IPC_DEMO_DIR, default /tmp/ipc-demos-$UID: created 0700 on first use; a path
 * that is not a directory of ours, or is writable by group or others, is refused
 * (exit 1). */
const char *ipc_dir(void);
/* "$IPC_DEMO_DIR/NAME" in BUF (dies if it does not fit). */
char *ipc_path(char *buf, size_t size, const char *name);
/* ftok() on the key file "$IPC_DEMO_DIR/key" (created if missing); one PROJ per demo. */
key_t ipc_key(int proj);
enum { KEY_SHM = 's', KEY_MSGQ = 'q', KEY_SEM = 'm', KEY_BENCH = 'b' };
/* mkfifo(PATH, 0600).  Returns 0 when created, 1 when PATH already is a FIFO of
 * ours (a leftover, reused), -1 otherwise: errno EEXIST when PATH is something else
 * (file, symlink, directory, someone else's FIFO), which is never touched. */
int fifo_make(const char *path);

/* ---- is the creator of a leftover object still there? ---- */

/* The start time of process PID (clock ticks since boot, from /proc/PID/stat:
 * Linux-only), or 0 when there is no such process or it is a zombie.  Two
 * readings that differ mean the pid was reused by another process. */
unsigned long long process_start_time(pid_t pid);
/* PID runs: it exists and is not a zombie (kill(pid, 0) alone says yes to a
 * zombie, whose parent has not reaped it yet). */
bool process_running(pid_t pid);

#endif
