/* common.c - see common.h.  _GNU_SOURCE is for strerrorname_np() alone (glibc
 * 2.32 and later; an older libc names no errno, "E?"): the errno names of the
 * traces, a plain lookup in libc's own table (no lock, no memory), so a signal
 * handler may still trace. */
#define _GNU_SOURCE
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "ipc-demos";
static const char *usage_text = "";
static char role[32] = "main";
bool verbose;
volatile sig_atomic_t stop_signal;

/* ---- a formatter a signal handler may call (no lock, no malloc, no locale) ---- */

struct out {
    char *buf;
    size_t size, len;             /* what does not fit is cut */
};

static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len < o->size; i++)
        o->buf[o->len++] = s[i];
}

static void pad(struct out *o, char c, size_t n)
{
    while (n-- > 0)
        put(o, &c, 1);
}

/* PREFIX ("-", "0x" or "") and then S[0..N) in a field of WIDTH: blanks before
 * or (LEFT) after them, or zeros between them (ZERO). */
static void field(struct out *o, const char *prefix, const char *s, size_t n, int width,
                  bool left, bool zero)
{
    size_t len = strlen(prefix) + n;
    size_t fill = width > 0 && (size_t)width > len ? (size_t)width - len : 0;
    pad(o, ' ', left || zero ? 0 : fill);
    put(o, prefix, strlen(prefix));
    pad(o, '0', !left && zero ? fill : 0);
    put(o, s, n);
    pad(o, ' ', left ? fill : 0);
}

/* The next integer argument of a conversion with LONGS l's (3: z), as a
 * magnitude; *NEG says whether a signed one is negative. */
static uintmax_t next_int(va_list *ap, int longs, bool is_signed, bool *neg)
{
    if (!is_signed)
        return longs == 0 ? va_arg(*ap, unsigned) : longs == 1 ? va_arg(*ap, unsigned long)
             : longs == 2 ? va_arg(*ap, unsigned long long) : va_arg(*ap, size_t);
    intmax_t v = longs == 0 ? va_arg(*ap, int) : longs == 1 ? va_arg(*ap, long)
               : longs == 2 ? va_arg(*ap, long long) : va_arg(*ap, ssize_t);
    *neg = v < 0;
    return v < 0 ? 0 - (uintmax_t)v : (uintmax_t)v;
}

/* Like vsnprintf for what common.h lists: at most SIZE - 1 characters and a
 * NUL; returns how many. */
static size_t vformat(char *buf, size_t size, const char *f, va_list ap_in)
{
    struct out o = { buf, size > 0 ? size - 1 : 0, 0 };
    va_list ap;
    va_copy(ap, ap_in);
    for (; *f != '\0'; f++) {
        if (*f != '%') {
            put(&o, f, 1);
            continue;
        }
        bool left = false, zero = false, neg = false;
        int width = 0, precision = -1, longs = 0;
        for (f++; *f == '-' || *f == '0'; f++)
            *f == '-' ? (left = true) : (zero = true);
        for (; *f == '*' || (*f >= '0' && *f <= '9'); f++)
            width = *f == '*' ? va_arg(ap, int) : width * 10 + (*f - '0');
        if (f[0] == '.' && f[1] == '*') {
            precision = va_arg(ap, int);
            f += 2;
        }
        for (; *f == 'l' || *f == 'z'; f++)
            longs = *f == 'z' ? 3 : longs + 1;
        char digits[24], *d = digits + sizeof digits;   /* 2^64 is 22 octal digits */
        if (*f == 'd' || *f == 'u' || *f == 'x' || *f == 'o' || *f == 'p') {
            uintmax_t v = *f == 'p' ? (uintptr_t)va_arg(ap, void *)
                                    : next_int(&ap, longs, *f == 'd', &neg);
            unsigned base = *f == 'o' ? 8 : *f == 'x' || *f == 'p' ? 16 : 10;
            do
                *--d = "0123456789abcdef"[v % base];
            while ((v /= base) != 0);
            field(&o, neg ? "-" : *f == 'p' ? "0x" : "", d, (size_t)(digits + sizeof digits - d),
                  width, left, zero);
        } else if (*f == 'c') {
            char c = (char)va_arg(ap, int);
            field(&o, "", &c, 1, width, left, false);
        } else if (*f == 's') {
            const char *s = va_arg(ap, const char *);
            size_t n = 0;
            s = s != NULL ? s : "(null)";
            while (s[n] != '\0' && (precision < 0 || n < (size_t)precision))
                n++;
            field(&o, "", s, n, width, left, false);
        } else {                      /* not supported (%f, %%...): show it, never guess */
            put(&o, "%?", 2);
            if (*f == '\0')
                break;
        }
    }
    va_end(ap);
    if (size > 0)
        buf[o.len] = '\0';
    return o.len;
}

static size_t format(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    size_t n = vformat(buf, size, f, ap);
    va_end(ap);
    return n;
}

/* ---- identity and output ---- */

void prog_init(const char *name, const char *first_role, const char *usage)
{
    prog = name;
    usage_text = usage;
    set_role("%s", first_role);
    /* Started with 0, 1 or 2 closed, our next open() would take that number,
     * and a FIFO or a socket would get our narration: /dev/null holds it.
     * (lseek(), not fcntl(): the -v checks compare every fcntl() with a trace.) */
    for (int fd = 0; fd <= 2; fd++)
        if (lseek(fd, 0, SEEK_CUR) == -1 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
            _exit(1);             /* nothing open to say it on */
}

void set_role(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(role, sizeof role, fmt, ap);
    va_end(ap);
}

/* Every byte, never traced: the demo's own output is not the lesson. */
static void put_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return;               /* stdout gone: nothing sensible is left to do */
        p += n;
        len -= (size_t)n;
    }
}

/* One line handed to the kernel in one write(2): "[ROLE PID] text" (TAG), or
 * "PROG: text" and ": ERROR" if there is one. */
static void emit(int fd, bool tag, const char *fmt, va_list ap, const char *error)
{
    char line[LINE_LIMIT + 256];
    int saved = errno;
    size_t n = tag ? format(line, sizeof line - 1, "[%s %ld] ", role, (long)getpid())
                   : format(line, sizeof line - 1, "%s: ", prog);
    n += vformat(line + n, sizeof line - 1 - n, fmt, ap);     /* room left for '\n' */
    if (error != NULL)
        n += format(line + n, sizeof line - 1 - n, ": %s", error);
    line[n++] = '\n';
    put_all(fd, line, n);
    errno = saved;
}

/* The body of a function of FMT, ...: one line, as emit() makes it. */
#define EMIT(fd, tag, error)           \
    va_list ap;                        \
    va_start(ap, fmt);                 \
    emit(fd, tag, fmt, ap, error);     \
    va_end(ap)

void say(const char *fmt, ...) { EMIT(STDOUT_FILENO, true, NULL); }
void trace(const char *fmt, ...) { if (verbose) { EMIT(STDERR_FILENO, true, NULL); } }

static void trace_call(bool failed, const char *result, const char *fmt, va_list ap)
{
    char call[1024];
    vformat(call, sizeof call, fmt, ap);
    trace("%s = %s%s", call, failed ? "-1 " : result, failed ? errno_name(errno) : "");
}

long traced(long rc, const char *fmt, ...)
{
    if (verbose) {
        char result[24];
        format(result, sizeof result, "%ld", rc);
        va_list ap;
        va_start(ap, fmt);
        trace_call(rc == -1, result, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void *traced_ptr(void *p, const char *fmt, ...)
{
    if (verbose) {
        char result[24];
        format(result, sizeof result, "%p", p);
        va_list ap;
        va_start(ap, fmt);
        trace_call(p == (void *)-1, result, fmt, ap);
        va_end(ap);
    }
    return p;
}

int traced_err(int rc, const char *fmt, ...)
{
    if (verbose) {
        va_list ap;
        va_start(ap, fmt);
        trace_call(false, rc == 0 ? "0" : errno_name(rc), fmt, ap);
        va_end(ap);
    }
    errno = rc;
    return rc;
}

const char *errno_name(int err)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
    const char *name = err != 0 ? strerrorname_np(err) : NULL;   /* it calls 0 "0" */
    return name != NULL ? name : "E?";
#else
    (void)err;
    return "E?";
#endif
}

size_t escape_text(char *out, size_t outsize, const char *in, size_t len)
{
    size_t o = 0, i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        char esc[5] = { (char)c, '\\' };
        size_t need = c == '\\' ? 2 : 1;
        if (c < 0x20 || c >= 0x7f)
            need = format(esc, sizeof esc, "\\x%02x", c);
        if (o + need >= outsize)
            break;
        memcpy(out + o, esc, need);
        o += need;
    }
    if (outsize > 0)
        out[o] = '\0';
    return i;
}

/* ---- errors ---- */

void warn_sys(const char *fmt, ...) { EMIT(STDERR_FILENO, false, strerror(errno)); }
void warn_msg(const char *fmt, ...) { EMIT(STDERR_FILENO, false, NULL); }
void die(const char *fmt, ...) { EMIT(STDERR_FILENO, false, strerror(errno)); exit(1); }
void die_msg(const char *fmt, ...) { EMIT(STDERR_FILENO, false, NULL); exit(1); }
void die_child(const char *fmt, ...) { EMIT(STDERR_FILENO, false, strerror(errno)); _exit(1); }

/* ---- command line ---- */

void usage_error(const char *fmt, ...)
{
    EMIT(STDERR_FILENO, false, NULL);
    put_all(STDERR_FILENO, usage_text, strcspn(usage_text, "\n") + 1);
    exit(2);
}

void usage_help(void)
{
    put_all(STDOUT_FILENO, usage_text, strlen(usage_text));
    exit(0);
}

void bad_option(int c, char *const argv[])
{
    const char *word = argv[optind - 1];
    /* Plain getopt() reads "--name" as the options '-', 'n'...: optind still
     * points at the word, which is named whole. */
    if (c == '?' && optopt == '-' && argv[optind] != NULL && strncmp(argv[optind], "--", 2) == 0)
        usage_error("unknown option %s", argv[optind]);
    if (optopt == 0 || strncmp(word, "--", 2) == 0) {   /* a long option */
        if (c == ':')
            usage_error("option %s needs an argument", word);
        if (strchr(word, '=') != NULL)
            usage_error("option %.*s takes no argument", (int)strcspn(word, "="), word);
        usage_error("unknown option %s", word);
    }
    if (c == ':')
        usage_error("option -%c needs an argument", optopt);
    usage_error("unknown option -%c", optopt);
}

long parse_number(const char *option, const char *text, long min, long max)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    char *end = NULL;
    long v = 0;
    errno = 0;
    /* Digits after at most a '-': strtol() alone would skip white space (a tab,
     * a newline) and take a '+'. */
    if (*digits >= '0' && *digits <= '9')
        v = strtol(text, &end, 10);
    if (end == NULL || *end != '\0')
        usage_error("%s: '%s' is not a number", option, text);
    if (errno == ERANGE || v < min || v > max)
        usage_error("%s: '%s' is out of range (%ld to %ld)", option, text, min, max);
    return v;
}

void extra_operand(const char *text)
{
    usage_error("unexpected argument '%s'", text);
}

/* ---- I/O loops ---- */

ssize_t write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = traced(write(fd, p + done, len - done), "write(%d, %zu)", fd, len - done);
        if (n == -1 && errno == EINTR && !stop_signal)
            continue;
        if (n == -1)
            return -1;
        done += (size_t)n;        /* a partial write: go on with the rest */
    }
    return (ssize_t)done;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = traced(read(fd, p + done, len - done), "read(%d, %zu)", fd, len - done);
        if (n == -1 && errno == EINTR && !stop_signal)
            continue;
        if (n == -1)
            return -1;
        if (n == 0)
            break;                /* end of file */
        done += (size_t)n;
    }
    return (ssize_t)done;
}

void delay_ms(long ms)
{
    struct timespec left = { ms / 1000, (ms % 1000) * 1000000L };
    while (ms > 0 && nanosleep(&left, &left) == -1 && errno == EINTR && !stop_signal)
        ;
}

struct timespec deadline_in(long ms)
{
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) == -1)
        die("clock_gettime");
    t.tv_sec += ms / 1000 + (t.tv_nsec + ms % 1000 * 1000000L) / 1000000000L;
    t.tv_nsec = (t.tv_nsec + ms % 1000 * 1000000L) % 1000000000L;
    return t;
}

long proc_long(const char *path, long fallback)
{
    FILE *f = fopen(path, "re");
    long v = fallback;
    if (f != NULL) {
        if (fscanf(f, "%ld", &v) != 1)
            v = fallback;
        fclose(f);
    }
    return v;
}

void lines_feed(struct lines *l, const char *data, size_t n, line_fn *fn, void *arg)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            l->buf[l->used] = '\0';
            fn(l->buf, l->used, l->dropped, arg);
            l->used = l->dropped = 0;
        } else if (l->used < LINE_LIMIT - 1) {
            l->buf[l->used++] = data[i];
        } else {
            l->dropped++;
        }
    }
}

bool lines_end(struct lines *l, line_fn *fn, void *arg)
{
    if (l->used == 0 && l->dropped == 0)
        return false;
    lines_feed(l, "\n", 1, fn, arg);
    return true;
}

int stdin_lines(line_fn *fn, void *arg)
{
    struct lines lines = { .used = 0 };
    bool tty = isatty(STDIN_FILENO);
    char buf[4096];
    ssize_t n;
    do {
        if (tty)
            (void)write_all(STDOUT_FILENO, "Please enter# ", 14);
        n = traced(read(STDIN_FILENO, buf, sizeof buf), "read(0, %zu)", sizeof buf);
        if (n > 0)
            lines_feed(&lines, buf, (size_t)n, fn, arg);
    } while (n > 0 || (n == -1 && errno == EINTR && !stop_signal));
    if (n == -1)
        return -1;
    if (tty)
        (void)write_all(STDOUT_FILENO, "\n", 1);    /* Ctrl-D ends no line */
    lines_end(&lines, fn, arg);
    return 0;
}

bool whole_line(size_t len, size_t dropped)
{
    if (dropped > 0)
        warn_msg("a line of %zu bytes is longer than the %d a line of standard input may be, "
                 "skipped", len + dropped, LINE_LIMIT - 1);
    return dropped == 0;
}

/* ---- signals ---- */

static void set_stop_flag(int signo)
{
    stop_signal = signo;
}

void on_stop_signals(void (*handler)(int))
{
    static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa = { .sa_handler = handler };   /* no SA_RESTART: calls return EINTR */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < 3; i++)
        sigaddset(&sa.sa_mask, stops[i]);
    for (size_t i = 0; i < 3; i++)
        if (sigaction(stops[i], &sa, NULL) == -1)
            die("sigaction");
}

void catch_stop_signals(void)
{
    on_stop_signals(set_stop_flag);
}

void default_stop_signals(void)
{
    on_stop_signals(SIG_DFL);
}

void exit_cleanly(void (*remove)(void))
{
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    if (atexit(remove) != 0)
        die_msg("atexit failed");
}

const char *signal_name(int signo)
{
    static const char *const names[] = {
        [SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
        [SIGABRT] = "SIGABRT", [SIGKILL] = "SIGKILL", [SIGSEGV] = "SIGSEGV",
        [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
        [SIGUSR1] = "SIGUSR1", [SIGUSR2] = "SIGUSR2", [SIGCHLD] = "SIGCHLD",
        [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGBUS] = "SIGBUS",
    };
    if (signo > 0 && (size_t)signo < sizeof names / sizeof names[0] && names[signo] != NULL)
        return names[signo];
    return "signal";
}

/* ---- file descriptors ---- */

static int by_number(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

void print_fds(const char *who)
{
    char path[64], target[PATH_MAX];
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        warn_sys("opendir /proc/self/fd");
        return;
    }
    int fds[256], count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 256)   /* not our listing's own fd */
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            fds[count++] = atoi(e->d_name);
    closedir(d);
    qsort(fds, (size_t)count, sizeof fds[0], by_number);   /* readdir order is not numeric */
    for (int i = 0; i < count; i++) {
        format(path, sizeof path, "/proc/self/fd/%d", fds[i]);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n == -1)
            continue;             /* closed while we looked */
        target[n] = '\0';
        say("%s%sfd %d -> %s", who != NULL ? who : "", who != NULL ? " " : "", fds[i], target);
    }
}

bool print_maps(const char *name, const char *when)
{
    char line[512];
    bool found = false;
    FILE *maps = fopen("/proc/self/maps", "re");
    while (maps != NULL && fgets(line, sizeof line, maps) != NULL)
        if (strstr(line, name) != NULL) {
            line[strcspn(line, "\n")] = '\0';
            say("%s mapping: %s", when, line);
            found = true;
        }
    if (maps == NULL || fclose(maps) != 0)
        warn_sys("/proc/self/maps");
    return found;
}
