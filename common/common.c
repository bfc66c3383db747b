/* common.c - see common.h. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "ipc-demos";
static const char *usage_text = "";
static char role[32] = "main";
bool verbose;
volatile sig_atomic_t stop_signal;

void prog_init(const char *name, const char *first_role, const char *usage)
{
    prog = name;
    usage_text = usage;
    set_role("%s", first_role);
}

void set_role(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(role, sizeof role, fmt, ap);
    va_end(ap);
}

const char *prog_name(void)
{
    return prog;
}

/* Build "[ROLE PID] text\n" and hand it to the kernel in one write(2). */
static void emit(int fd, const char *fmt, va_list ap)
{
    char line[LINE_LIMIT + 256];
    int saved = errno;
    int n = snprintf(line, sizeof line, "[%s %ld] ", role, (long)getpid());
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    (void)write_all(fd, line, len);
    errno = saved;
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(STDOUT_FILENO, fmt, ap);
    va_end(ap);
}

void trace(const char *fmt, ...)
{
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(STDERR_FILENO, fmt, ap);
    va_end(ap);
}

long traced(long rc, const char *fmt, ...)
{
    if (!verbose)
        return rc;
    int saved = errno;
    char call[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call, sizeof call, fmt, ap);
    va_end(ap);
    if (rc == -1)
        trace("%s = -1 (%s)", call, strerror(saved));
    else
        trace("%s = %ld", call, rc);
    errno = saved;
    return rc;
}

size_t escape_text(char *out, size_t outsize, const char *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (outsize == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : (c == '\\' ? 2 : 4);
        if (o + need >= outsize)
            break;
        if (need == 1) {
            out[o++] = (char)c;
        } else if (need == 2) {
            out[o++] = '\\';
            out[o++] = '\\';
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* ---- errors ---- */

static void vwarn(bool with_errno, const char *fmt, va_list ap)
{
    char msg[1024];
    int saved = errno;
    int n = snprintf(msg, sizeof msg, "%s: ", prog);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    size_t len = strlen(msg);
    if (with_errno)
        snprintf(msg + len, sizeof msg - len, ": %s", strerror(saved));
    len = strlen(msg);
    if (len > sizeof msg - 2)
        len = sizeof msg - 2;
    msg[len++] = '\n';
    (void)write_all(STDERR_FILENO, msg, len);
    errno = saved;
}

void warn_sys(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(true, fmt, ap);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(true, fmt, ap);
    va_end(ap);
    exit(1);
}

void die_child(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(true, fmt, ap);
    va_end(ap);
    _exit(1);
}

void die_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(false, fmt, ap);
    va_end(ap);
    exit(1);
}

/* ---- command line ---- */

void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(false, fmt, ap);
    va_end(ap);
    size_t first_line = strcspn(usage_text, "\n");
    (void)write_all(STDERR_FILENO, usage_text, first_line);
    (void)write_all(STDERR_FILENO, "\n", 1);
    exit(2);
}

void usage_help(void)
{
    (void)write_all(STDOUT_FILENO, usage_text, strlen(usage_text));
    exit(0);
}

void bad_option(int c, char *const argv[])
{
    const char *word = argv[optind - 1];
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
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == ' ' || text[0] == '+')
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
        ssize_t n = write(fd, p + done, len - done);
        if (n == -1) {
            if (errno == EINTR && !stop_signal)
                continue;
            return -1;
        }
        done += (size_t)n;        /* a partial write: go on with the rest */
    }
    return (ssize_t)done;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);
        if (n == -1) {
            if (errno == EINTR && !stop_signal)
                continue;
            return -1;
        }
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

/* ---- lines ---- */

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
    l->buf[l->used] = '\0';
    fn(l->buf, l->used, l->dropped, arg);
    l->used = l->dropped = 0;
    return true;
}

/* ---- signals ---- */

static void set_stop_flag(int signo)
{
    stop_signal = signo;
}

static void set_stop_handler(void (*handler)(int))
{
    static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = 0;              /* no SA_RESTART: a blocked call returns EINTR */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < 3; i++)
        sigaddset(&sa.sa_mask, stops[i]);
    for (size_t i = 0; i < 3; i++)
        if (sigaction(stops[i], &sa, NULL) == -1)
            die("sigaction");
}

void catch_stop_signals(void)
{
    set_stop_handler(set_stop_flag);
}

void on_stop_signals(void (*handler)(int))
{
    set_stop_handler(handler);
}

void default_stop_signals(void)
{
    set_stop_handler(SIG_DFL);
}

const char *signal_name(int signo)
{
    switch (signo) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGCHLD: return "SIGCHLD";
    case SIGSTOP: return "SIGSTOP";
    default: return "signal";
    }
}

/* ---- file descriptors ---- */

void print_fds(pid_t pid, const char *who)
{
    char dir[64], path[96], target[PATH_MAX];
    if (pid == 0)
        snprintf(dir, sizeof dir, "/proc/self/fd");
    else
        snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    if (d == NULL) {
        warn_sys("opendir %s", dir);
        return;
    }
    int own = dirfd(d);           /* the listing's own fd is not part of the picture */
    int fds[256];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 256) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (pid == 0 && fd == own)
            continue;
        fds[count++] = fd;
    }
    closedir(d);
    for (size_t i = 1; i < count; i++)          /* readdir order is not numeric */
        for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    for (size_t i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%d", dir, fds[i]);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n == -1)
            continue;             /* closed while we looked */
        target[n] = '\0';
        if (who != NULL)
            say("%s fd %d -> %s", who, fds[i], target);
        else
            say("fd %d -> %s", fds[i], target);
    }
}

/* ---- where IPC objects live ---- */

const char *ipc_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0] != '\0')
        return dir;
    const char *env = getenv("IPC_DEMO_DIR");
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= sizeof dir - 64)
            die_msg("IPC_DEMO_DIR is too long");
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        snprintf(dir, sizeof dir, "/tmp/ipc-demos-%ld", (long)getuid());
    }
    if (mkdir(dir, 0700) == -1 && errno != EEXIST)
        die("mkdir %s", dir);
    /* lstat, not stat: a symlink planted at the path is refused, not followed. */
    struct stat st;
    if (lstat(dir, &st) == -1)
        die("lstat %s", dir);
    if (!S_ISDIR(st.st_mode))
        die_msg("%s is not a directory; remove it or set IPC_DEMO_DIR", dir);
    if (st.st_uid != getuid())
        die_msg("%s belongs to another user; set IPC_DEMO_DIR to a directory of yours", dir);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        die_msg("%s is writable by others; run chmod 700 %s", dir, dir);
    return dir;
}

char *ipc_path(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", ipc_dir(), name);
    if (n < 0 || (size_t)n >= size)
        die_msg("path too long: %s/%s", ipc_dir(), name);
    return buf;
}

key_t ipc_key(int proj)
{
    char path[PATH_MAX];
    ipc_path(path, sizeof path, "key");
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd == -1)
        die("open %s", path);
    if (close(fd) == -1)
        die("close %s", path);
    /* ftok mixes the file's inode and device with PROJ: same file, same key. */
    key_t key = ftok(path, proj);
    if (key == -1)
        die("ftok %s", path);
    return key;
}

int fifo_make(const char *path)
{
    if (mkfifo(path, 0600) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    struct stat st;
    if (lstat(path, &st) == -1)
        return -1;
    if (S_ISFIFO(st.st_mode) && st.st_uid == getuid())
        return 1;
    errno = EEXIST;
    return -1;
}

/* ---- fifo/ ---- */

void warn_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(false, fmt, ap);
    va_end(ap);
}

/* ---- msgq/, sem/ ---- */

unsigned long long process_start_time(pid_t pid)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return 0;
    ssize_t n = read_full(fd, buf, sizeof buf - 1);
    (void)close(fd);              /* read-only: nothing can be lost */
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so
     * fields are counted from the last ')'.  STATE is field 3, the start time
     * field 22. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return 0;
    p += 2;
    if (*p == 'Z' || *p == 'X')
        return 0;                 /* a zombie runs no code: it is gone */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return 0;
        p++;
    }
    return strtoull(p, NULL, 10);
}

bool process_running(pid_t pid)
{
    return process_start_time(pid) != 0;
}
