/* msgq/replies.c - the server's replies, kept aside while the queue is full.
 *
 * Requests and replies share one queue.  Blocking in msgsnd() could deadlock:
 * the queue full of requests from clients that each wait for their reply, and
 * the server -- the only one who takes requests out -- waiting for room.  So a
 * reply that does not fit (IPC_NOWAIT: EAGAIN) waits here, the server takes
 * the next request out (which makes room) and tries again.  Each client has
 * one request in flight, so this holds while fewer than KEPT_MAX clients wait
 * at once; past that, the server waits for room.
 */
#include "msgq.h"

#include "../common/common.h"

enum { KEPT_MAX = 64 };
static struct msgq_msg kept[KEPT_MAX];
static size_t kept_size[KEPT_MAX];
static int first, count;
static bool said_full;

bool replies_kept(void)
{
    return count > 0;
}

void send_kept(bool wait)
{
    while (count > 0 && send_reply(&kept[first], kept_size[first], wait)) {
        first = (first + 1) % KEPT_MAX;
        count--;
        wait = false;
    }
    if (count > 0 && !said_full)
        say("the queue is full: the reply to client %ld waits until there is room",
            kept[first].mtype);
    said_full = count > 0;
}

void keep_reply(const struct msgq_msg *m, size_t size)
{
    while (count == KEPT_MAX && !stop_signal)
        send_kept(true);
    if (count == KEPT_MAX)
        return;                   /* a stop signal: we are quitting anyway */
    int slot = (first + count) % KEPT_MAX;
    kept[slot] = *m;
    kept_size[slot] = size;
    count++;
    send_kept(false);
}
