/* msgq/msgq.h - what msgq/server and msgq/client agree on.
 *
 * One queue carries both directions; the message type keeps them apart.
 * Requests go in with type 1 and the server reads only type 1.  A reply goes
 * back with the client's pid as its type, and each client reads only its own
 * pid: "set the type to B so that B sees it".  No client has pid 1 (that is
 * init), so a reply can never be taken for a request.
 */
#ifndef IPC_DEMOS_MSGQ_H
#define IPC_DEMOS_MSGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

enum { MSGQ_TO_SERVER = 1 };

/* The text of one message is at most this long: well under msgmax (the
 * kernel's limit per message, 8192 bytes by default), and small enough that a
 * dozen requests fit in one queue (msg_qbytes, 16384 bytes by default). */
enum { MSGQ_TEXT_MAX = 1024 };

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
    uint64_t run;               /* the client's start, echoed in its replies: with */
    uint32_t seq;               /* seq, tells the reply to this request from one
                                 * left for an earlier process with the same pid */
    char text[MSGQ_TEXT_MAX + 1]; /* one byte more than allowed: a longer message
                                   * read with MSG_NOERROR shows up cut to
                                   * MSGQ_TEXT_MAX + 1 bytes, never silently */
};

/* msgsnd()/msgrcv() sizes count the bytes after mtype: the header, then the text. */
#define MSGQ_HEADER (offsetof(struct msgq_msg, text) - sizeof(long))
#define MSGQ_RECV_SIZE (MSGQ_HEADER + MSGQ_TEXT_MAX + 1)

/* A queue, unlike a segment (shm_cpid), keeps no creator pid: the server keeps
 * a creator record, $IPC_DEMO_DIR/msgq.owner (owner_write(), objects.h). */
#define MSGQ_OWNER "msgq.owner"

/* ---- what makes them robust (not the lesson) ---- */

/* msgq/tick.c: SIGALRM five times a second makes a waiting msgrcv() or
 * msgsnd() fail with EINTR, so that the caller can look around.  by_tick(RC):
 * RC is such an EINTR (no stop signal came); -v leaves those out. */
void tick_start(void);
bool by_tick(long rc);

/* The server's, in msgq/stop.c, msgq/leftover.c, msgq/check.c, msgq/replies.c. */
void stop_cleanly(void (*remove)(void));  /* stop signals, the tick, SIGPIPE, atexit */
bool stdout_gone(void);             /* a pipe nobody reads any more (| head) */
noreturn void queue_failed(const char *call);
void refuse_foreign_record(void);   /* msgq.owner is there, not a record of ours */
void remove_leftover(key_t key);    /* returns once a provably stale one is gone */
int cleanup(key_t key);             /* --cleanup: the same verdict */
bool well_formed(const struct msgq_msg *m, size_t n);
void keep_reply(const struct msgq_msg *m, size_t size);  /* and send what fits */
void send_kept(bool wait);          /* oldest first; WAIT: block for the first */
bool replies_kept(void);
bool send_reply(const struct msgq_msg *m, size_t size, bool wait);   /* server.c */

#endif
