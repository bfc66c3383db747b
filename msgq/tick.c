/* msgq/tick.c - a timer for the calls that have no timeout; see msgq.h.
 *
 * A queue has no end of file: nothing tells a client blocked in msgrcv() that
 * its server was killed, and a stop signal that lands just before the server
 * enters msgrcv() would come too late.  msgrcv() and msgsnd() take no timeout
 * and no signal mask: a timer interrupts them five times a second. */
#include "msgq.h"

#include <errno.h>
#include <signal.h>
#include <sys/time.h>

static void on_tick(int signo) { (void)signo; }   /* its only point: the EINTR */

void tick_start(void)
{
    /* SA_RESTART restarts a read() of stdin or a write() of stdout as if
     * nothing happened; msgrcv() and msgsnd() fail with EINTR all the same:
     * System V IPC calls are never restarted after a handler (signal(7)). */
    struct sigaction sa = { .sa_handler = on_tick, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1)
        die("sigaction SIGALRM");
    struct itimerval every = { { 0, 200000 }, { 0, 200000 } };
    if (setitimer(ITIMER_REAL, &every, NULL) == -1)
        die("setitimer");
}

bool by_tick(long rc)
{
    return rc == -1 && errno == EINTR && !stop_signal;
}
