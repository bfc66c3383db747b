/* msgq/check.c - what the server takes out of the queue is checked first.
 *
 * Any process of ours may write into the queue: a message may be shorter than
 * our header, claim a pid that no reply could be typed with, or be of a kind
 * we do not know.  Each is reported and skipped; the server goes on.
 */
#include "msgq.h"

#include "../common/common.h"

bool well_formed(const struct msgq_msg *m, size_t n)
{
    if (n < MSGQ_HEADER) {
        say("ignored a malformed message: %zu bytes, shorter than the %zu-byte header",
            n, (size_t)MSGQ_HEADER);
        return false;
    }
    if (m->pid <= 1) {            /* its reply would need type 1 or less */
        say("ignored a message claiming to come from pid %ld", (long)m->pid);
        return false;
    }
    if (m->kind != MSGQ_REQUEST && m->kind != MSGQ_SHUTDOWN) {
        say("ignored a message of unknown kind %ld from client %ld", (long)m->kind,
            (long)m->pid);
        return false;
    }
    return true;
}
