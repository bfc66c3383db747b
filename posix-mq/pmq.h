/* posix-mq/pmq.h - what posix-mq/server and posix-mq/client agree on: the
 * message, and the names: the server's queue NAME, a client's own NAME.PID for
 * its replies (a message has no type to pick one's own by: posix-mq/client.c). */
#ifndef IPC_DEMOS_PMQ_H
#define IPC_DEMOS_PMQ_H

#include "../common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* mq_msgsize is the header and PMQ_TEXT_MAX bytes of text: the kernel itself
 * refuses a longer message (EMSGSIZE). */
enum { PMQ_TEXT_MAX = 1024, PMQ_MAXMSG = 10, PMQ_NAME_MAX = 200, PMQ_WAIT_MS = 1000 };

enum pmq_kind {
    PMQ_REQUEST = 1,            /* client -> server: upper-case this text */
    PMQ_SHUTDOWN,               /* client -> server: stop and remove the queue */
    PMQ_REPLY,                  /* server -> client: the text, upper-cased */
    PMQ_BYE,                    /* server -> client: shutting down as asked */
};

struct pmq_msg {
    uint32_t kind;              /* enum pmq_kind */
    int32_t pid;                /* the client's: its reply queue is NAME.PID */
    uint32_t seq;               /* echoed in the reply */
    char text[PMQ_TEXT_MAX];
};
#define PMQ_HEADER offsetof(struct pmq_msg, text)
#define PMQ_MSGSIZE ((long)sizeof(struct pmq_msg))      /* mq_msgsize: 1036 */

/* ---- not the lesson: the command line, names, limits, leftovers (leftover.c) ---- */

/* A queue and its creator record in $IPC_DEMO_DIR: the name without its '/',
 * then ".owner". */
struct pmq_names { char queue[PMQ_NAME_MAX + 24], record[PMQ_NAME_MAX + 32]; };
/* The options, the client's MESSAGEs (PMQ_TEXT_MAX bytes at most) and -N NAME,
 * checked: anything else is a usage error.  N: the server's queue's names. */
enum pmq_program { PMQ_SERVER, PMQ_CLIENT };
struct pmq_options { const char *given; long maxmsg, delay, prio; bool clean, quit, small_buffer; };
struct pmq_options parse_args(int argc, char *argv[], enum pmq_program who, struct pmq_names *n);
void reply_names(struct pmq_names *n, const char *server, long pid);    /* NAME.PID */
struct stat stat_queue(mqd_t q, const char *name);    /* fstat() (Linux), or exit 1 */
/* mq_open(O_CREAT | O_EXCL) of N failed: on EEXIST, true once the leftover is
 * gone, provably stale (twice at most); else say why (which limit?), exit 1. */
bool open_again(const struct pmq_names *n, long maxmsg);
struct stat created(mqd_t q, const struct pmq_names *n);  /* stat, creator record */
/* Reply queues of clients that are gone, found by their records; one, by pid. */
int remove_orphans(const char *server);
bool remove_orphan(const char *server, long pid);
int cleanup(const struct pmq_names *n);         /* --cleanup */
long mq_limit(const char *which);   /* /proc/sys/fs/mqueue/WHICH, or exit 1 */

#endif
