/* shm/stop.c - every way shm/reader and shm/writer stop is a clean one.
 *
 * The end, die() and a failed call go through atexit().  SIGINT, SIGTERM and
 * SIGHUP only set stop_signal: the call they interrupt returns EINTR (no
 * SA_RESTART), shown by -v, and the code stops in order.  One that lands just
 * before a call blocks interrupts nothing: the alarm it sets interrupts that
 * call a second later.  Only kill -9 leaves anything: shm/leftover.c.
 */
#include "shm.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void on_signal(int signo)
{
    if (signo != SIGALRM) {
        stop_signal = signo;
        alarm(1);
    }
}

void stop_cleanly(void (*cleanup)(void))
{
    struct sigaction sa = { .sa_handler = on_signal };    /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1 || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("sigaction");
    on_stop_signals(on_signal);
    if (atexit(cleanup) != 0)
        die_msg("atexit failed");
}
