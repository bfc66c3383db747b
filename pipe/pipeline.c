/* pipe/pipeline - what the shell does for `CMD1 | CMD2 | ... | CMDN`.
 *
 * N processes, N-1 pipes.  Child i reads from pipe i-1 (dup2 onto fd 0) and
 * writes into pipe i (dup2 onto fd 1), then closes every pipe fd it holds: after
 * dup2() the originals are spare copies, and a spare write end left open in any
 * process would keep the next command from ever seeing end of file.  The parent
 * closes each end as soon as it has handed it to a child, reaps every child, and
 * exits with the last command's status, as the shell does.
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
    "  -v  print the plan, every system call and each command's status on stderr\n"
    "  -h  show this help\n";

enum { MAX_COMMANDS = 64 };

/* The commands' pids, for the stop-signal handler. */
static volatile pid_t pids[MAX_COMMANDS];
static volatile sig_atomic_t started;

struct command {
    char **argv;             /* the words of the CMD argument, NULL-terminated */
    pid_t pid;
    int status;
    bool reaped;
};

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

/* SIGINT, SIGTERM, SIGHUP: pass the signal on to the commands, as a terminal
 * sends it to the whole pipeline; then go on reaping them. */
static void forward(int signo)
{
    stop_signal = signo;
    for (int i = 0; i < started; i++)
        if (pids[i] > 0)
            kill(pids[i], signo);
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

static void close_traced(int fd)
{
    if (traced(close(fd), "close(%d)", fd) == -1)
        warn_sys("close %d", fd);
}

/* In child I: put IN on fd 0 and OUT on fd 1 (-1: keep ours), close every other
 * pipe fd we hold, and become the command. */
static noreturn void run_child(struct command *cmd, int in, int out, int spare)
{
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
        close_traced(in);
    }
    if (out != -1) {
        if (traced(dup2(out, STDOUT_FILENO), "dup2(%d, 1)", out) == -1)
            die_child("dup2");
        close_traced(out);
    }
    if (spare != -1)         /* the read end of our own output pipe: the next command's */
        close_traced(spare);
    trace("execvp(\"%s\")", cmd->argv[0]);
    execvp(cmd->argv[0], cmd->argv);
    /* Only reached if exec failed: report it as the shell does. */
    int code = errno == ENOENT ? 127 : 126;
    warn_sys("%s", cmd->argv[0]);
    _exit(code);
}

static void describe(const struct command *cmd, int i)
{
    if (WIFSIGNALED(cmd->status))
        trace("cmd%d (%s, pid %ld) was killed by signal %d (%s)", i + 1, cmd->argv[0],
              (long)cmd->pid, WTERMSIG(cmd->status), signal_name(WTERMSIG(cmd->status)));
    else
        trace("cmd%d (%s, pid %ld) exited with status %d", i + 1, cmd->argv[0],
              (long)cmd->pid, WEXITSTATUS(cmd->status));
}

/* Reap every command we started, each as soon as it ends: waitpid(-1), so no
 * zombie waits behind a slower command. */
static void reap_all(struct command *cmds)
{
    int left = started;
    while (left > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == -1) {
            if (errno == EINTR)
                continue;
            die("waitpid");
        }
        trace("waitpid(-1) = %ld", (long)pid);
        for (int i = 0; i < started; i++) {
            if (pids[i] == pid) {
                pids[i] = 0;
                cmds[i].status = status;
                cmds[i].reaped = true;
                left--;
                describe(&cmds[i], i);
            }
        }
    }
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

int main(int argc, char *argv[])
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

    struct command cmds[MAX_COMMANDS];
    char plan[1024] = "";
    for (int i = 0; i < n; i++) {
        cmds[i] = (struct command){ .argv = split_words(argv[optind + i]), .pid = -1 };
        if (cmds[i].argv == NULL) {
            for (int j = 0; j < i; j++)
                free(cmds[j].argv);
            usage_error("command %d is empty", i + 1);
        }
        for (char **w = cmds[i].argv; *w != NULL; w++) {
            size_t used = strlen(plan);
            snprintf(plan + used, sizeof plan - used, "%s%s",
                     w != cmds[i].argv ? " " : i > 0 ? " | " : "", *w);
        }
    }
    ensure_std_fds();
    trace("plan: %d processes, %d pipe%s: %s", n, n - 1, n - 1 == 1 ? "" : "s", plan);

    on_stop_signals(forward);
    int prev_read = -1;      /* the read end of the pipe before command i */
    bool failed = false;
    for (int i = 0; i < n && !stop_signal; i++) {
        int fds[2] = { -1, -1 };
        if (i < n - 1) {
            if (pipe(fds) == -1) {
                warn_sys("pipe");
                failed = true;
                break;
            }
            trace("pipe([%d, %d]) = 0", fds[0], fds[1]);
        }
        block_stop_signals(true);
        pid_t pid = fork();
        if (pid == 0) {
            set_role("cmd%d", i + 1);
            run_child(&cmds[i], prev_read, fds[1], fds[0]);
        }
        if (pid != -1) {
            cmds[i].pid = pids[i] = pid;
            started = i + 1;
        }
        block_stop_signals(false);
        if (pid == -1) {
            warn_sys("fork");
            failed = true;
            if (fds[0] != -1) {
                close_traced(fds[0]);
                close_traced(fds[1]);
            }
            break;
        }
        trace("fork() = %ld", (long)pid);
        /* Handed over: the parent must not keep either end, or the reader of
         * this pipe would never see end of file. */
        if (prev_read != -1)
            close_traced(prev_read);
        if (fds[1] != -1)
            close_traced(fds[1]);
        prev_read = fds[0];
    }
    if (prev_read != -1)     /* only after a failure: no command will read it */
        close_traced(prev_read);
    reap_all(cmds);

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
