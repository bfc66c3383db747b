/* posix-mq/leftover.c - the command line, the queues' names and limits, what a
 * killed run leaves.
 *
 * kill -9 leaves a queue in the kernel.  The next run removes it only when it
 * is provably stale (require_stale): ours (uid, mode 0600: fstat(), Linux) and
 * its creator gone, by the creator's record, whose id is the queue's inode; a
 * queue no record names is refused, never guessed.  Users are counted nowhere,
 * but a client waits only while its server runs, and nobody else reads a
 * reply queue.  Nothing lists the queues (without /dev/mqueue mounted): the
 * reply queue a killed client leaves is found by its record, NAME.PID.owner.
 */
#include "pmq.h"

#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

struct pmq_look { bool ours; unsigned long ino; long msgs; };

struct pmq_options parse_args(int argc, char *argv[], enum pmq_program who, struct pmq_names *n)
{
    static const struct option server[] = { { "cleanup", no_argument, NULL, 'C' }, { 0 } },
                               client[] = { { "small-buffer", no_argument, NULL, 'S' }, { 0 } };
    struct pmq_options o = { .maxmsg = PMQ_MAXMSG };
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, who == PMQ_SERVER ? ":N:m:d:vh" : ":N:P:qd:vh",
                                 who == PMQ_SERVER ? server : client, NULL)) != -1;) {
        switch (c) {
        case 'N': o.given = optarg; break;
        case 'm': o.maxmsg = parse_number("-m", optarg, 1, 65536); break;
        case 'P': o.prio = parse_number("-P", optarg, 0, sysconf(_SC_MQ_PRIO_MAX) - 1); break;
        case 'q': o.quit = true; break;
        case 'd': o.delay = parse_number("-d", optarg, 0, 60000); break;
        case 'v': verbose = true; break;
        case 'C': o.clean = true; break;
        case 'S': o.small_buffer = true; break;
        case 'h': usage_help();
        default: bad_option(c, argv);
        }
    }
    for (int i = optind; i < argc; i++)
        if (who == PMQ_SERVER)
            extra_operand(argv[i]);
        else if (strlen(argv[i]) > PMQ_TEXT_MAX)
            usage_error("MESSAGE %d is %zu bytes long: a message carries at most %d",
                        i - optind + 1, strlen(argv[i]), PMQ_TEXT_MAX);
    size_t len = o.given == NULL ? 0 : strlen(o.given);
    if (o.given == NULL)
        posix_name(n->queue, sizeof n->queue, "mq");
    else if (o.given[0] != '/' || len < 2 || len >= PMQ_NAME_MAX || strcmp(o.given, "/.") == 0 ||
             strcmp(o.given, "/..") == 0 || strspn(o.given + 1, "abcdefghijklmnopqrstuvwxyz"
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len - 1)
        usage_error("-N: '%s' is not a queue name: '/' and then 1 to %d letters, digits, "
                    "'.', '_' or '-'", o.given, PMQ_NAME_MAX - 2);
    else
        memcpy(n->queue, o.given, len + 1);
    snprintf(n->record, sizeof n->record, "%s.owner", n->queue + 1);
    return o;
}

void reply_names(struct pmq_names *n, const char *server, long pid)
{
    snprintf(n->queue, sizeof n->queue, "%s.%ld", server, pid);   /* room for a pid */
    snprintf(n->record, sizeof n->record, "%s.owner", n->queue + 1);
}

long mq_limit(const char *which)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", which);
    long limit = proc_long(path, -1);
    if (limit == -1)              /* never printed, nor compared, as a limit */
        die_msg("cannot read %s", path);
    return limit;
}

struct stat stat_queue(mqd_t q, const char *name)
{
    struct stat st;               /* Linux: mqd_t is a file descriptor */
    if (traced(fstat(q, &st), "fstat(%d)", q) == -1)
        die("fstat %s", name);
    return st;
}

struct stat created(mqd_t q, const struct pmq_names *n)
{
    struct stat st = stat_queue(q, n->queue);
    owner_write(n->record, (long)st.st_ino);       /* the inode: the record's id */
    return st;
}

/* Linux: a queue is a file.  False when there is no queue by that name. */
static bool look(const char *name, struct pmq_look *l)
{
    mqd_t q = (mqd_t)traced(mq_open(name, O_RDONLY | O_NONBLOCK),
                            "mq_open(\"%s\", O_RDONLY|O_NONBLOCK)", name);
    *l = (struct pmq_look){ .ours = false };
    if (q == (mqd_t)-1 && errno == ENOENT)
        return false;
    if (q == (mqd_t)-1 && errno == EACCES)
        return true;              /* another user's, or a mode that shuts us out */
    if (q == (mqd_t)-1)
        die("mq_open %s", name);
    struct stat st = stat_queue(q, name);
    struct mq_attr a;
    if (traced(mq_getattr(q, &a), "mq_getattr(%d)", q) == -1)
        die("mq_getattr %s", name);
    (void)traced(mq_close(q), "mq_close(%d)", q);             /* only looked */
    *l = (struct pmq_look){ .ours = st.st_uid == geteuid() && (st.st_mode & 07777) == 0600,
                            .ino = (unsigned long)st.st_ino, .msgs = a.mq_curmsgs };
    return true;
}

static void unlink_queue(const char *name)
{
    if (traced(mq_unlink(name), "mq_unlink(\"%s\")", name) == -1 && errno != ENOENT)
        die("mq_unlink %s", name);
}

/* N, removed when provably stale (true); else say why not, with the exact
 * command, and exit 1.  False: there is no N. */
static bool remove_leftover(const struct pmq_names *n)
{
    static char what[PMQ_NAME_MAX + 48], remove[PMQ_NAME_MAX + 48], path[PATH_MAX];
    struct pmq_look l;
    struct owner o;
    if (!look(n->queue, &l))
        return false;
    int rec = owner_read(n->record, &o);
    if (rec == -1)
        die_msg("%s is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)",
                ipc_path(path, sizeof path, n->record));
    bool named = rec == 1 && (unsigned long)o.id == l.ino;
    snprintf(what, sizeof what, "message queue %s", n->queue);
    snprintf(remove, sizeof remove, "rm /dev/mqueue%s", n->queue);
    if (l.ours && !named)
        die_msg("%s has no creator on record in %s: nothing proves it stale, so it is not "
                "touched.\nIf nothing of ours is running, remove it with: %s", what,
                ipc_path(path, sizeof path, n->record), remove);
    require_stale(&(struct leftover){ .what = what, .ours = l.ours, .remove = remove,
                                      .creator = named ? o.pid : 0, .users = 0, /* above */
                                      .creator_running = named && owner_running(&o) });
    unlink_queue(n->queue);
    say("removed message queue %s, %ld message%s left in it", n->queue, l.msgs,
        l.msgs == 1 ? "" : "s");
    return true;
}

bool open_again(const struct pmq_names *n, long maxmsg)
{
    static int tries;             /* each run creates one queue */
    int err = errno;
    struct rlimit rl;
    if (err == EEXIST && ++tries < 3) {
        remove_leftover(n);
        return true;
    }
    if (err == EINVAL && maxmsg > mq_limit("msg_max"))
        die_msg("mq_open %s: %s: mq_maxmsg %ld is above /proc/sys/fs/mqueue/msg_max, %ld: "
                "only a process with CAP_SYS_RESOURCE (root) may ask for more", n->queue,
                strerror(err), maxmsg, mq_limit("msg_max"));
    if (err == EMFILE && getrlimit(RLIMIT_MSGQUEUE, &rl) == 0)
        die_msg("mq_open %s: %s: %ld messages of %ld bytes would take more than this user's "
                "RLIMIT_MSGQUEUE (ulimit -q), %llu bytes in all queues", n->queue,
                strerror(err), maxmsg, PMQ_MSGSIZE, (unsigned long long)rl.rlim_cur);
    if (err == ENOSPC)
        die_msg("mq_open %s: %s: /proc/sys/fs/mqueue/queues_max, %ld, queues exist already",
                n->queue, strerror(err), mq_limit("queues_max"));
    errno = err;
    die("mq_open %s", n->queue);
}

bool remove_orphan(const char *server, long pid)
{
    struct pmq_names n;
    struct owner o;
    struct pmq_look l;
    reply_names(&n, server, pid);
    if (owner_read(n.record, &o) != 1 || owner_running(&o))
        return false;             /* a live client, or no record of ours */
    bool there = look(n.queue, &l);
    if (there && l.ours && l.ino == (unsigned long)o.id) {
        unlink_queue(n.queue);
        say("client %ld is gone: removed its reply queue %s, %ld message%s left in it", pid,
            n.queue, l.msgs, l.msgs == 1 ? "" : "s");
    } else if (there) {
        say("message queue %s is not the one client %ld recorded: not touched (if it is "
            "yours to remove: rm /dev/mqueue%s)", n.queue, pid, n.queue);
    }
    owner_remove(n.record);
    return true;
}

int remove_orphans(const char *server)
{
    DIR *d = opendir(ipc_dir());
    if (d == NULL)
        die("opendir %s", ipc_dir());
    size_t base = strlen(server + 1);
    int removed = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {  /* SERVER.PID.owner: a client's */
        char *end;
        if (strncmp(e->d_name, server + 1, base) != 0 || e->d_name[base] != '.')
            continue;
        long pid = strtol(e->d_name + base + 1, &end, 10);
        if (pid > 1 && strcmp(end, ".owner") == 0 && remove_orphan(server, pid))
            removed++;
    }
    closedir(d);
    return removed;
}

int cleanup(const struct pmq_names *n)
{
    struct owner o;
    bool any = remove_leftover(n);
    if (owner_read(n->record, &o) == 1 && !owner_running(&o)) {
        owner_remove(n->record);
        say("removed the record of posix-mq/server %ld, which is gone: %s/%s", (long)o.pid,
            ipc_dir(), n->record);
        any = true;
    }
    if (remove_orphans(n->queue) == 0 && !any)
        say("nothing to clean up: no queue %s, no record of a server or client that is gone",
            n->queue);
    return 0;
}
