/* msgq/msgq.h - what msgq/server and msgq/client agree on.
 *
 * One queue carries both directions; the message type keeps them apart.
 * Requests go in with type 1 and the server reads only type 1.  A reply goes
 * back with the client's pid as its type, and each client reads only its own
 * pid: "set the type to B so that B sees it".  No client has pid 1 (that is
 * init), so a reply can never be mistaken for a request.
 */
#ifndef IPC_DEMOS_MSGQ_H
#define IPC_DEMOS_MSGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum { MSGQ_TO_SERVER = 1 };

/* The text of one message is at most this long: well under msgmax (the
 * kernel's limit per message, 8192 bytes by default), and small enough that a
 * dozen clients' requests fit in one queue (msg_qbytes, 16384 by default). */
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
    uint64_t run;               /* the client's start time, echoed in its replies: */
    uint32_t seq;               /* with seq, tells a reply for this request from a
                                 * stale one sent to an earlier process with the
                                 * same pid */
    char text[MSGQ_TEXT_MAX + 1]; /* one byte more than allowed: a longer message
                                   * read with MSG_NOERROR shows up truncated to
                                   * MSGQ_TEXT_MAX + 1, never silently cut */
};

/* msgsnd()/msgrcv() sizes count the bytes after mtype: the header, then the text. */
#define MSGQ_HEADER (offsetof(struct msgq_msg, text) - sizeof(long))
#define MSGQ_RECV_SIZE (MSGQ_HEADER + MSGQ_TEXT_MAX + 1)

/* A queue, unlike a segment (shm_cpid), does not record who created it.  So
 * the server writes "PID START MSQID" to $IPC_DEMO_DIR/msgq.pid: its pid, its
 * start time (a reused pid has another) and the queue's id.  A queue is
 * provably stale when it is ours and its record names it and a server that is
 * gone.  The server removes the record with the queue. */
struct msgq_record {
    pid_t pid;
    unsigned long long start;
    int msqid;
};
char *msgq_record_path(char *buf, size_t size);
void msgq_record_write(int msqid);                  /* dies on failure */
bool msgq_record_read(struct msgq_record *rec);     /* false: none, or malformed */
void msgq_record_remove(void);
bool msgq_server_alive(const struct msgq_record *rec);

/* msgrcv() has no timeout and no pselect()-like mask, so a timer interrupts
 * it five times a second (EINTR): the client looks whether the server is still
 * there, and a stop signal that lands just before the server's msgrcv() is seen
 * within 200 ms instead of never. */
void msgq_start_tick(void);

/* The system's msgmax from /proc/sys/kernel/msgmax (Linux-only), or -1. */
long msgq_msgmax(void);

#endif
