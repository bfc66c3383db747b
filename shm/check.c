/* shm/check.c - what makes both programs robust, not the lesson: how
 * shm/reader knows that nothing was lost, duplicated, reordered or torn, and
 * how every way out of either program is a clean one.
 *
 * shm/writer -n COUNT sends message SEQ as "message SEQ of COUNT FILLER": the
 * filler (0 to 22 letters) depends on SEQ, so lengths vary and no message
 * passes for another.  The reader rebuilds it and compares every byte.
 *
 * Without -u the reader takes only the number it expects in a slot header.
 * With -u a slot can hold a message already read (a duplicate), hold one again
 * after a newer one (reordered), or be rewritten while the reader copied it
 * (torn: corrupted); what the reader never saw whole is lost.  A slot's numbers
 * only grow: "already read" is "the number last read from this slot".
 *
 * The end, die() and a failed call go through atexit().  SIGINT, SIGTERM and
 * SIGHUP only set stop_signal: the call they interrupt returns EINTR (no
 * SA_RESTART), shown by -v, and the code stops in order.  One that lands just
 * before a call blocks interrupts nothing: the alarm it sets interrupts that
 * call a second later.  SIGPIPE is ignored: a vanished peer is EPIPE.  Only
 * kill -9 leaves anything: shm/reader.c, at its end.
 */
#include "shm.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t gen_message(char *buf, uint64_t seq, uint64_t total)
{
    int n = snprintf(buf, GEN_MAX_LEN, "message %llu of %llu ", (unsigned long long)seq,
                     (unsigned long long)total);
    size_t len = (size_t)n, filler = (size_t)(seq * 7 % 23);
    for (size_t i = 0; i < filler; i++)
        buf[len++] = (char)('a' + (seq + i) % 26);
    return len;
}

bool tally_take(struct tally *t, unsigned index, uint64_t seq, const unsigned char *text,
                size_t len, bool whole)
{
    char want[GEN_MAX_LEN];
    t->received++;
    if (!whole || seq == 0 || (seq - 1) % t->slots != index || seq < t->last[index] ||
        (t->generated != 0 && (len != gen_message(want, seq, t->generated - 1) ||
                               memcmp(want, text, len) != 0))) {
        t->corrupted++;
        return false;
    }
    if (seq == t->last[index]) {
        t->duplicated++;
        return false;
    }
    t->last[index] = seq;
    if (seq < t->highest)
        t->reordered++;
    else
        t->highest = seq;
    t->intact++;
    return true;
}

bool tally_report(const struct tally *t, bool unsync)
{
    uint64_t expected = t->generated != 0 ? t->generated - 1 : t->received;
    uint64_t lost = expected > t->intact ? expected - t->intact : 0;
    say("received %llu message%s", (unsigned long long)t->received, t->received == 1 ? "" : "s");
    if (unsync || t->generated != 0)
        say("checked: %llu intact, %llu lost, %llu duplicated, %llu reordered, %llu corrupted",
            (unsigned long long)t->intact, (unsigned long long)lost,
            (unsigned long long)t->duplicated, (unsigned long long)t->reordered,
            (unsigned long long)t->corrupted + t->bad_headers);
    return t->bad_headers == 0 && (unsync || (lost == 0 && t->duplicated == 0 &&
                                              t->reordered == 0 && t->corrupted == 0));
}

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
    if (sigaction(SIGALRM, &sa, NULL) == -1)
        die("sigaction");
    on_stop_signals(on_signal);
    exit_cleanly(cleanup);
}
