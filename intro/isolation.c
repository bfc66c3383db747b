/* intro/isolation - why processes need IPC at all: after fork(), one address,
 * two values.
 *
 * The lesson: processes are independent (进程具有独立性).  fork() gives the
 * child a copy of the parent's address space: the same virtual addresses, and
 * at first the same physical pages, shared and write-protected.  The moment
 * one of them writes to a page, the kernel gives the writer its own copy of it
 * (copy-on-write, 写时拷贝).  From then on one address holds two values, one
 * per process, so a global variable or buffer cannot carry data from one
 * process to another.  That needs a resource the kernel keeps outside both
 * that both can see (让不同的进程看到同一份资源): the smallest is a pipe, which is
 * how this program hands the child's value over at the end.
 *
 * What to observe: the child prints the addresses of a global counter and a
 * global buffer and changes both; the parent waits for it, then prints the same
 * addresses and its unchanged values.  Linux-only: /proc/self/pagemap shows the
 * physical frame behind &counter (as root), /proc/self/smaps otherwise, so you
 * see the copy happen.  After it: pipe/demo.
 *
 * Usage: intro/isolation [-d MS] [-v] [-f]
 */
#include "../common/common.h"

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "usage: intro/isolation [-d MS] [-v] [-f]\n"
    "After fork(), parent and child see one global variable at one address, but\n"
    "the child's write changes only its own copy (copy-on-write); a pipe carries\n"
    "the value across.\n"
    "  -d MS  pause MS milliseconds between steps (default 0)\n"
    "  -v     trace every system call of the lesson on stderr (fork, pipe, close,\n"
    "         write, read, waitpid); the reads of /proc/self/pagemap and\n"
    "         /proc/self/smaps are not shown: they look at the lesson, they are\n"
    "         not part of it\n"
    "  -f     print the open fds after pipe() and after each side's close()\n"
    "  -h     show this help\n"
    "Linux-only: the physical frames come from /proc/self/pagemap (readable by\n"
    "root), else the mapping's counts from /proc/self/smaps.\n"
    "Exit status: 0 when the child's writes stayed its own and the pipe carried\n"
    "its value across; 1 otherwise.\n";

#define PARENT_WORDS "the parent's words"
#define CHILD_WORDS "the child's words"
enum { CHILD_VALUE = 42 };

/* The two globals of the lesson: one copy in each process after fork().
 * counter starts a page (4096 bytes on x86-64): copy-on-write copies whole
 * pages, and a write by anything else to the page before it (the dynamic
 * linker fills in a library function's address there on its first call) would
 * make the copy for a reason that is not the lesson's. */
static _Alignas(4096) long counter;
static char buffer[32];

static long delay;
static bool show_fds;

/* What /proc says about the page behind an address (below the marked line). */
struct page {
    enum { FRAME, SMAPS, UNSEEN } seen;
    uint64_t frame;          /* FRAME: the physical page frame number */
    long private_kb, shared_kb; /* SMAPS: Private_Dirty, Shared_Dirty of its mapping */
    char why[160];           /* UNSEEN: why not */
};

static void parse_options(int argc, char *argv[]);
static void look_at_page(const void *addr, struct page *p);
static bool say_copied(const struct page *parents, const struct page *before,
                       const struct page *after);
static void say_parents_page(const struct page *before, const struct page *now);
static bool child_ended(pid_t child, int status);

/* The child: change both globals, show that its page is now a copy, and hand
 * the value over the right way, through the pipe. */
static noreturn void child_changes(int fds[2], const struct page *parents)
{
    set_role("child");
    if (traced(close(fds[0]), "close(%d)", fds[0]) == -1)
        die_child("close");
    if (show_fds)
        print_fds("after close():");
    struct page before, after;
    look_at_page(&counter, &before);
    long old = counter;
    char old_words[sizeof buffer];
    snprintf(old_words, sizeof old_words, "%s", buffer);

    /* The writes that make the kernel copy the page: until now the child's
     * &counter was the very memory of its parent's &counter. */
    counter = CHILD_VALUE;
    snprintf(buffer, sizeof buffer, "%s", CHILD_WORDS);
    look_at_page(&counter, &after);
    say("&counter = %p: %ld -> %ld", (void *)&counter, old, counter);
    say("&buffer  = %p: \"%s\" -> \"%s\"", (void *)buffer, old_words, buffer);
    bool copied = say_copied(parents, &before, &after);
    delay_ms(delay);

    /* Told with EPIPE, not killed silently, if the parent is gone. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_child("signal SIGPIPE");
    if (write_all(fds[1], &counter, sizeof counter) == -1)
        die_child("write to the pipe (is the parent gone?)");
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die_child("close");
    say("wrote counter (%ld) into the pipe and closed it; exiting", counter);
    _exit(copied ? 0 : 1);
}

/* The parent, after the child is gone: the same addresses, its own values. */
static bool parent_looks_again(const struct page *mine)
{
    bool kept = counter == 0 && strcmp(buffer, PARENT_WORDS) == 0;
    say("&counter = %p: %s %ld — %s", (void *)&counter, counter == 0 ? "still" : "now",
        counter, counter == 0 ? "the child changed its own copy" : "NOT what the lesson says");
    say("&buffer  = %p: %s \"%s\" — %s", (void *)buffer, kept ? "still" : "now", buffer,
        kept ? "the child changed its own copy" : "NOT what the lesson says");
    struct page now;
    look_at_page(&counter, &now);
    say_parents_page(mine, &now);
    return kept;
}

/* The same hand-over done right: the value went through the kernel, in a pipe
 * both processes could see, and waited there after the child exited. */
static bool parent_reads(int rfd)
{
    long received = -1;
    ssize_t n = read_full(rfd, &received, sizeof received);
    if (n == -1)
        die("read from the pipe");
    if (traced(close(rfd), "close(%d)", rfd) == -1)
        die("close");
    if (n != (ssize_t)sizeof received || received != CHILD_VALUE) {
        say("read %zd bytes from the pipe, not the child's value", n);
        return false;
    }
    say("read %ld from the pipe: the child's value, carried across by the kernel", received);
    return true;
}

int main(int argc, char *argv[])
{
    parse_options(argc, argv);

    /* Written at run time, so that the pages are really in memory: a page that
     * was never written has no frame of its own yet. */
    counter = 0;
    snprintf(buffer, sizeof buffer, "%s", PARENT_WORDS);
    say("&counter = %p: %ld", (void *)&counter, counter);
    say("&buffer  = %p: \"%s\"", (void *)buffer, buffer);
    struct page mine;
    look_at_page(&counter, &mine);

    int fds[2] = { -1, -1 };
    int rc = pipe(fds);
    if (traced(rc, "pipe([%d, %d])", fds[0], fds[1]) == -1)
        die("pipe");
    say("pipe() gave fd %d (read end) and fd %d (write end), kept for the hand-over at the end", fds[0], fds[1]);
    if (show_fds)
        print_fds("after pipe():");
    delay_ms(delay);

    pid_t child = fork();
    if (child == 0)
        child_changes(fds, &mine);
    if (traced(child, "fork()") == -1)
        die("fork");
    say("forked child %ld: same addresses, same values; waiting for it to finish", (long)child);
    if (traced(close(fds[1]), "close(%d)", fds[1]) == -1)
        die("close");
    if (show_fds)
        print_fds("after close():");

    int status;
    if (traced(waitpid(child, &status, 0), "waitpid(%ld)", (long)child) == -1)
        die("waitpid");
    bool child_ok = child_ended(child, status);
    delay_ms(delay);

    bool mine_kept = parent_looks_again(&mine);
    delay_ms(delay);

    bool carried = parent_reads(fds[0]);
    return child_ok && mine_kept && carried ? 0 : 1;
}

/* ---- what makes it robust (not the lesson) ---- */

static void parse_options(int argc, char *argv[])
{
    prog_init("intro/isolation", "parent", usage);
    opterr = 0;
    int c;
    while ((c = getopt(argc, argv, ":d:vfh")) != -1) {
        switch (c) {
        case 'd': delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'f': show_fds = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
}

static bool child_ended(pid_t child, int status)
{
    if (WIFEXITED(status)) {
        say("child %ld exited with status %d", (long)child, WEXITSTATUS(status));
        return WEXITSTATUS(status) == 0;
    }
    say("child %ld was killed by signal %d (%s)", (long)child, WTERMSIG(status),
        signal_name(WTERMSIG(status)));
    return false;
}

/* /proc/self/smaps (Linux-only): Private_Dirty and Shared_Dirty, in kB, of the
 * mapping that holds ADDR.  false if not found. */
static bool smaps_counts(const void *addr, struct page *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return false;
    char line[512];
    bool inside = false, found = false;
    int got = 0;
    uintptr_t a = (uintptr_t)addr;
    while (got < 2 && fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            inside = lo <= a && a < hi;      /* a mapping's first line: "lo-hi perms ..." */
            found |= inside;
        } else if (inside && sscanf(line, "Private_Dirty: %ld kB", &p->private_kb) == 1) {
            got++;
        } else if (inside && sscanf(line, "Shared_Dirty: %ld kB", &p->shared_kb) == 1) {
            got++;
        }
    }
    fclose(f);
    return found && got == 2;
}

/* The physical frame behind ADDR, from /proc/self/pagemap (Linux-only): one
 * 64-bit entry per virtual page, bit 63 "present", bits 0-54 the frame number.
 * Since Linux 4.2 the frame number reads as 0 without CAP_SYS_ADMIN: a 0 means
 * "not shown to us", never frame 0.  Then the mapping's counts from smaps. */
static void look_at_page(const void *addr, struct page *p)
{
    long page_size = sysconf(_SC_PAGESIZE);
    uint64_t entry = 0;
    FILE *f = fopen("/proc/self/pagemap", "r");
    bool read_it = f != NULL && fseek(f, (long)((uintptr_t)addr / (uintptr_t)page_size * 8),
                                      SEEK_SET) == 0 && fread(&entry, sizeof entry, 1, f) == 1;
    if (f != NULL)
        fclose(f);
    p->seen = UNSEEN;
    p->frame = entry & ((UINT64_C(1) << 55) - 1);
    if (read_it && (entry >> 63) == 1 && p->frame != 0) {
        p->seen = FRAME;
        return;
    }
    if (read_it && (entry >> 63) == 0) {
        snprintf(p->why, sizeof p->why, "the page is not in memory");
        return;
    }
    if (smaps_counts(addr, p)) {
        p->seen = SMAPS;
        return;
    }
    snprintf(p->why, sizeof p->why, "neither /proc/self/pagemap nor /proc/self/smaps could "
             "be read (not Linux, or no /proc?)");
}

/* The child's view: the page before and after its write.  false when /proc
 * showed that no copy was made. */
static bool say_copied(const struct page *parents, const struct page *before,
                       const struct page *after)
{
    if (before->seen == FRAME && after->seen == FRAME) {
        say("page of &counter: frame 0x%llx before my write (%s), 0x%llx after it: %s",
            (unsigned long long)before->frame,
            parents->seen == FRAME && parents->frame == before->frame
                ? "my parent's frame" : "not my parent's",
            (unsigned long long)after->frame,
            after->frame != before->frame ? "the kernel copied the page for me (copy-on-write)"
                                          : "no copy was made");
        return after->frame != before->frame;
    }
    if (before->seen == SMAPS && after->seen == SMAPS) {
        bool moved = after->private_kb > before->private_kb &&
                     after->shared_kb < before->shared_kb;
        say("page of &counter: frame numbers are shown only to root (CAP_SYS_ADMIN); its "
            "mapping in /proc/self/smaps: Shared_Dirty %ld -> %ld kB, Private_Dirty %ld -> "
            "%ld kB: %s", before->shared_kb, after->shared_kb, before->private_kb,
            after->private_kb, moved ? "shared pages became my own copies (copy-on-write)"
                                     : "no page moved from shared to private");
        return moved;
    }
    say("page of &counter: not shown: %s", after->seen == UNSEEN ? after->why : before->why);
    return true;
}

/* The parent's view after the child is gone. */
static void say_parents_page(const struct page *before, const struct page *now)
{
    if (before->seen == FRAME && now->seen == FRAME && before->frame == now->frame)
        say("page of &counter: still frame 0x%llx, the one it had before fork()",
            (unsigned long long)now->frame);
    else if (before->seen == FRAME && now->seen == FRAME)
        say("page of &counter: frame 0x%llx now, 0x%llx before fork()",
            (unsigned long long)now->frame, (unsigned long long)before->frame);
}
