/* msgq/msgq.h - what msgq/server and msgq/client agree on.
 *
 * One queue carries both directions; the message type keeps them apart.
 * Requests go in with type 1, the only type the server reads; a reply goes
 * back with the client's pid as its type, the only one that client reads: "set
 * the type to B so that B sees it".  No client has pid 1 (init).
 */
#ifndef IPC_DEMOS_MSGQ_H
#define IPC_DEMOS_MSGQ_H

#include "../common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/msg.h>

/* MSGQ_TEXT_MAX: well under msgmax (8192 bytes per message by default), and
 * a dozen requests fit in one queue (msg_qbytes, 16384 bytes by default). */
enum { MSGQ_TO_SERVER = 1, MSGQ_TEXT_MAX = 1024 };

enum msgq_kind {
    MSGQ_REQUEST = 1,           /* client -> server: upper-case this text */
    MSGQ_SHUTDOWN,              /* client -> server: stop and remove the queue */
    MSGQ_REPLY,                 /* server -> client: the text, upper-cased */
    MSGQ_REFUSED,               /* server -> client: request rejected (too long) */
    MSGQ_BYE,                   /* server -> client: shutting down as asked */
};

struct msgq_msg {
    long mtype;                 /* what msgrcv() selects on: 1, or a client's pid */
    int32_t kind;               /* enum msgq_kind */
    int32_t pid;                /* the client's pid: the type of its replies */
    uint64_t run;               /* the client's start and request number, echoed: */
    uint32_t seq;               /* not a reply left for an earlier same pid */
    char text[MSGQ_TEXT_MAX + 1]; /* one byte more: a longer message read with
                                   * MSG_NOERROR shows up cut, never silently */
};

/* msgsnd()/msgrcv() sizes count the bytes after mtype: the header, then the text. */
#define MSGQ_HEADER (offsetof(struct msgq_msg, text) - sizeof(long))
#define MSGQ_RECV_SIZE (MSGQ_HEADER + MSGQ_TEXT_MAX + 1)

/* A queue keeps no creator pid: the server's record (owner_write(), objects.h). */
#define MSGQ_OWNER "msgq.owner"

/* ---- what makes them robust (not the lesson) ---- */

/* msgq/tick.c: SIGALRM five times a second makes a waiting msgrcv() or msgsnd()
 * fail with EINTR.  by_tick(RC): RC is such an EINTR; -v leaves those out. */
void tick_start(void);
bool by_tick(long rc);

/* The server's, in msgq/leftover.c. */
void refuse_foreign_record(void);   /* msgq.owner is there, not a record of ours */
bool remove_leftover(key_t key);    /* once provably stale; false: none there */
int cleanup(key_t key);             /* --cleanup: the same verdict */

#endif
