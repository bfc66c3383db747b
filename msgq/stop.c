/* msgq/stop.c - every way msgq/server stops removes its queue.
 *
 * The end, die() and a failing call go through atexit().  SIGINT, SIGTERM and
 * SIGHUP only set stop_signal and interrupt the wait (no SA_RESTART); one that
 * lands after the loop looked and before msgrcv() is seen at the next tick.
 * SIGPIPE is ignored: a write into a closed stdout fails (say() lets it go),
 * and the loop's look at stdout stops the server, also when it has nothing to
 * write.  Only kill -9 leaves the queue: msgq/leftover.c.
 */
#include "msgq.h"

#include "../common/common.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

void stop_cleanly(void (*remove)(void))
{
    catch_stop_signals();
    tick_start();
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal SIGPIPE");
    if (atexit(remove) != 0)
        die_msg("atexit failed");
}

bool stdout_gone(void)
{
    /* A pipe's write end polls POLLERR once no reader is left; a terminal
     * that hung up polls POLLHUP.  A file or /dev/null never does. */
    struct pollfd out = { .fd = STDOUT_FILENO, .events = POLLOUT };
    return poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)) != 0;
}

void queue_failed(const char *call)
{
    if (errno == EIDRM || errno == EINVAL)
        die_msg("%s: the queue was removed behind our back (ipcrm?)", call);
    die("%s", call);
}
