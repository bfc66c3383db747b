/* pipe/pipeline - what the shell does for `CMD1 | CMD2 | ... | CMDN`.
 *
 * The lesson: N processes, N-1 pipes.  Child i reads from pipe i-1 (dup2 onto
 * fd 0) and writes into pipe i (dup2 onto fd 1), then closes every pipe fd it
 * holds: after dup2() the originals are spare copies, and a spare write end left
 * open in any process would keep the next command from ever seeing end of file.
 * The parent closes each end as soon as it has handed it to a child, so it holds
 * at most three pipe fds at once (the read end waiting for the next command and
 * both ends of the newest pipe); it reaps every child as it ends and exits with
 * the last command's status, as the shell does.
 *
 * What to observe: -v shows the plan, each pipe(), fork(), dup2() and close() in
 * the process that makes it, and each command's end.  The commands see only
 * fds 0, 1 and 2 (try 'ls -l /proc/self/fd' as one of them).  Before it:
 * pipe/atomic; after it: fifo/server (a pipe with a name).
 *
 * Usage: pipe/pipeline [-v] CMD1 CMD2 [CMD...]
 */
#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "usage: pipe/pipeline [-v] CMD1 CMD2 [CMD...]\n"
    "Run the commands connected by pipes, like the shell's CMD1 | CMD2 | ...\n"
    "Each CMD is one argument, split on blanks (no quotes, no globbing), run with\n"
    "execvp(); 2 to 64 commands.  The exit status is the last command's (128 + N if\n"
    "a signal N killed it); 127 if it cannot be found, 126 if it cannot be executed.\n"
    "SIGINT, SIGTERM and SIGHUP are passed on to every command.\n"
    "  -v  print the plan, every system call on the pipes (and fork, waitpid, kill)\n"
    "      and each command's status on stderr; an execvp() that succeeds prints\n"
    "      nothing: it does not return, the command runs in its place (and the\n"
    "      command's own calls are not ours to show)\n"
    "  -h  show this help\n";

enum { MAX_COMMANDS = 64 };

struct command {
    char **argv;             /* the words of the CMD argument, NULL-terminated */
    int status;
    bool reaped;
};

/* The commands' pids, for the stop-signal handler (0: not running). */
static volatile pid_t pids[MAX_COMMANDS];
static volatile sig_atomic_t started;

static int parse_commands(int argc, char *argv[], struct command *cmds);
static void ensure_std_fds(void);
static void block_stop_signals(bool block);
static void describe(const struct command *cmd, int i, pid_t pid);
static int exit_status(struct command *cmds, int n, bool failed);
static void log_kill(pid_t pid, int signo, int rc, int err);
static void show_forwarded(void);

/* SIGINT, SIGTERM, SIGHUP: pass the signal on to the commands, as a terminal
 * sends it to the whole pipeline; then go on reaping them.  The kill()s are
 * made here, at once; their trace lines are printed by show_forwarded() once
 * the parent is back from what it was doing (most often the waitpid() the
 * signal interrupted, whose -1 EINTR comes first, as strace shows it). */
static void forward(int signo)
{
    int saved = errno;
    stop_signal = signo;
    for (int i = 0; i < started; i++)
        if (pids[i] > 0)
            log_kill(pids[i], signo, kill(pids[i], signo), errno);
    errno = saved;
}

/* In child I: put IN on fd 0 and OUT on fd 1 (-1: keep ours), close every
 * other pipe fd we hold, and become the command. */
static noreturn void run_child(char **argv, int i, int in, int out, int spare)
{
    set_role("cmd%d", i + 1);
    /* Back to the defaults the command expects (then let in a stop signal that
     * came meanwhile): SIGPIPE too, so that a writer whose reader is gone stops
     * quietly (yes | head -n 1), as under a shell. */
    default_stop_signals();
    if (signal(SIGPIPE, SIG_DFL) == SIG_ERR)
        die_child("signal SIGPIPE");
    block_stop_signals(false);
    if (in != -1) {
        if (traced(dup2(in, STDIN_FILENO), "dup2(%d, 0)", in) == -1)
            die_child("dup2");
        if (traced(close(in), "close(%d)", in) == -1)
            die_child("close");
    }
    if (out != -1) {
        if (traced(dup2(out, STDOUT_FILENO), "dup2(%d, 1)", out) == -1)
            die_child("dup2");
        if (traced(close(out), "close(%d)", out) == -1)
            die_child("close");
    }
    /* The read end of our own output pipe is the next command's, not ours. */
    if (spare != -1 && traced(close(spare), "close(%d)", spare) == -1)
        die_child("close");
    execvp(argv[0], argv);
    /* Only reached if exec failed: report it as the shell does. */
    int code = errno == ENOENT ? 127 : 126;
    traced(-1, "execvp(\"%s\")", argv[0]);
    warn_sys("%s", argv[0]);
    _exit(code);
}

/* Start command I of N: its output pipe (none for the last), then its process.
 * *PREV_READ, the read end of the pipe before it (-1: none), becomes the read
 * end of its own pipe, for the next command.  false: a call failed. */
static bool start_command(char **argv, int i, int n, int *prev_read)
{
    int fds[2] = { -1, -1 };
    if (i < n - 1) {
        int rc = pipe(fds);
        if (traced(rc, "pipe([%d, %d])", fds[0], fds[1]) == -1) {
            warn_sys("pipe");
            return false;
        }
    }
    block_stop_signals(true);    /* so that a stop signal finds this child in pids[] */
    pid_t pid = fork();
    if (pid == 0)
        run_child(argv, i, *prev_read, fds[1], fds[0]);
    if (traced(pid, "fork()") != -1) {
        pids[i] = pid;
        started = i + 1;
    }
    block_stop_signals(false);
    if (pid == -1)
        warn_sys("fork");
    /* Handed over (or, after a failed fork, of no use): the parent must not keep
     * a write end, or the reader of that pipe would never see end of file. */
    if (*prev_read != -1 && traced(close(*prev_read), "close(%d)", *prev_read) == -1)
        warn_sys("close");
    if (fds[1] != -1 && traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        warn_sys("close");
    *prev_read = fds[0];
    return pid != -1;
}

/* Reap every command we started, each as soon as it ends: waitpid(-1), so no
 * zombie waits behind a slower command. */
static void reap_all(struct command *cmds)
{
    for (int left = started; left > 0;) {
        int status;
        pid_t pid = (pid_t)traced(waitpid(-1, &status, 0), "waitpid(-1)");
        show_forwarded();
        if (pid == -1 && errno == EINTR)
            continue;        /* a stop signal, passed on: go on reaping */
        if (pid == -1)
            die("waitpid");
        for (int i = 0; i < started; i++) {
            if (pids[i] == pid) {
                pids[i] = 0;
                cmds[i].status = status;
                cmds[i].reaped = true;
                left--;
                describe(&cmds[i], i, pid);
            }
        }
    }
}

int main(int argc, char *argv[])
{
    struct command cmds[MAX_COMMANDS];
    int n = parse_commands(argc, argv, cmds);
    ensure_std_fds();

    on_stop_signals(forward);
    int prev_read = -1;      /* the read end of the pipe before command i */
    bool failed = false;
    for (int i = 0; i < n && !stop_signal && !failed; i++)
        failed = !start_command(cmds[i].argv, i, n, &prev_read);
    show_forwarded();
    /* Only after a failure or a stop signal: no command will read it. */
    if (prev_read != -1 && traced(close(prev_read), "close(%d)", prev_read) == -1)
        warn_sys("close");
    reap_all(cmds);
    return exit_status(cmds, n, failed);
}

/* ---- what makes it robust (not the lesson) ---- */

/* Split TEXT on blanks, in place.  Returns NULL for a command with no word. */
static char **split_words(char *text)
{
    size_t count = 0;
    char **argv = malloc((strlen(text) / 2 + 2) * sizeof *argv);
    if (argv == NULL)
        die("malloc");
    for (char *p = text; *p != '\0';) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0')
            break;
        argv[count++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
    }
    argv[count] = NULL;
    if (count == 0) {
        free(argv);
        return NULL;
    }
    return argv;
}

/* "seq 3 | wc -l": the words of one more command at the end of PLAN. */
static void add_to_plan(char *plan, size_t size, char **argv)
{
    for (char **w = argv; *w != NULL; w++) {
        size_t used = strlen(plan);
        snprintf(plan + used, size - used, "%s%s", w != argv ? " " : used > 0 ? " | " : "", *w);
    }
}

/* The options, then each CMD split into CMDS; returns how many.  With -v,
 * traces the plan. */
static int parse_commands(int argc, char *argv[], struct command *cmds)
{
    prog_init("pipe/pipeline", "pipeline", usage);
    opterr = 0;
    int c;
    /* '+' (a GNU extension) stops at the first command: its words are not ours. */
    while ((c = getopt(argc, argv, "+:vh")) != -1) {
        switch (c) {
        case 'v': verbose = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    int n = argc - optind;
    if (n < 2)
        usage_error("needs at least two commands, e.g. pipe/pipeline 'seq 5' 'wc -l'");
    if (n > MAX_COMMANDS)
        usage_error("%d commands: at most %d", n, MAX_COMMANDS);
    char plan[1024] = "";
    for (int i = 0; i < n; i++) {
        cmds[i] = (struct command){ .argv = split_words(argv[optind + i]) };
        if (cmds[i].argv == NULL) {
            for (int j = 0; j < i; j++)
                free(cmds[j].argv);
            usage_error("command %d is empty", i + 1);
        }
        add_to_plan(plan, sizeof plan, cmds[i].argv);
    }
    trace("plan: %d processes, %d pipe%s: %s", n, n - 1, n - 1 == 1 ? "" : "s", plan);
    return n;
}

/* If fd 0, 1 or 2 is closed, pipe() would hand it out and dup2() would then
 * clobber it: fill the gaps with /dev/null first. */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (null == -1)
            die("open /dev/null");
        if (null != fd)
            die_msg("fd %d is closed and could not be filled", fd);
    }
}

/* What forward() did, for show_forwarded() to trace: one entry per kill(). */
static struct {
    pid_t pid;
    int signo, rc, err;
} kills[4 * MAX_COMMANDS];
static volatile sig_atomic_t killed, kills_shown;

/* In the handler (the stop signals are blocked while it runs). */
static void log_kill(pid_t pid, int signo, int rc, int err)
{
    if (killed < (sig_atomic_t)(sizeof kills / sizeof kills[0])) {
        kills[killed].pid = pid;
        kills[killed].signo = signo;
        kills[killed].rc = rc;
        kills[killed].err = err;
        killed++;
    }
}

static void show_forwarded(void)
{
    int saved = errno;
    for (; kills_shown < killed; kills_shown++) {
        errno = kills[kills_shown].err;
        traced(kills[kills_shown].rc, "kill(%ld, %s)", (long)kills[kills_shown].pid,
               signal_name(kills[kills_shown].signo));
    }
    errno = saved;
}

/* Blocked around fork(), so a stop signal finds every command in pids[]. */
static void block_stop_signals(bool block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL) == -1)
        die("sigprocmask");
}

static void describe(const struct command *cmd, int i, pid_t pid)
{
    if (WIFSIGNALED(cmd->status))
        trace("cmd%d (%s, pid %ld) was killed by signal %d (%s)", i + 1, cmd->argv[0],
              (long)pid, WTERMSIG(cmd->status), signal_name(WTERMSIG(cmd->status)));
    else
        trace("cmd%d (%s, pid %ld) exited with status %d", i + 1, cmd->argv[0], (long)pid,
              WEXITSTATUS(cmd->status));
}

/* The last command's status, as the shell gives it; 1 if we failed to start it. */
static int exit_status(struct command *cmds, int n, bool failed)
{
    int status = cmds[n - 1].status;
    bool last_ran = cmds[n - 1].reaped;
    for (int i = 0; i < n; i++)
        free(cmds[i].argv);
    if (failed || !last_ran)
        return 1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
