/* shm/check.c - how shm/reader knows that nothing was lost, duplicated,
 * reordered or torn.
 *
 * shm/writer -n sends message SEQ of TOTAL as "message SEQ of TOTAL FILLER sum
 * CHECKSUM": the filler (0 to 22 letters) depends on SEQ, so lengths vary, and
 * CHECKSUM is the FNV-1a hash of what comes before " sum ".  The reader rebuilds
 * the message from the numbers it parsed and compares every byte.
 *
 * Each slot header carries the message's number.  Without -u the reader takes
 * only the number it expects (a slot header that says otherwise is refused
 * before this).  With -u, a slot can still hold a message already read (a
 * duplicate), or hold it again after a newer one (reordered), or be rewritten
 * while the reader copied it (torn: counted as corrupted); what the reader never
 * saw whole is lost.  A slot's numbers only grow, so "already read" is "the
 * number last read from this slot".
 */
#include "shm.h"

#include "../common/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

size_t gen_message(char *buf, uint64_t seq, uint64_t total)
{
    char text[GEN_MAX_LEN];
    int n = snprintf(text, sizeof text, "message %llu of %llu ", (unsigned long long)seq,
                     (unsigned long long)total);
    size_t len = (size_t)n, filler = (size_t)(seq * 7 % 23);
    for (size_t i = 0; i < filler; i++)
        text[len++] = (char)('a' + (seq + i) % 26);
    return (size_t)snprintf(buf, GEN_MAX_LEN, "%.*s sum %08lx", (int)len, text,
                            (unsigned long)fnv1a(text, len));
}

/* TEXT is exactly generated message SEQ of the same TOTAL as the others. */
static bool generated_ok(struct tally *t, uint64_t seq, const unsigned char *text, size_t len)
{
    char copy[GEN_MAX_LEN + 1], want[GEN_MAX_LEN];
    unsigned long long n, total;
    if (len > GEN_MAX_LEN)
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (sscanf(copy, "message %llu of %llu", &n, &total) != 2 || n != seq ||
        total > GEN_MAX_COUNT || (t->total != 0 && total != t->total))
        return false;
    t->total = total;
    return gen_message(want, seq, total) == len && memcmp(want, text, len) == 0;
}

void tally_init(struct tally *t, unsigned slots)
{
    *t = (struct tally){ .slots = slots };
    t->last = calloc(slots, sizeof *t->last);
    if (t->last == NULL)
        die("calloc");
}

bool tally_take(struct tally *t, unsigned index, uint64_t seq, const unsigned char *text,
                size_t len, bool whole, bool generated)
{
    t->received++;
    if (!whole || seq == 0 || (seq - 1) % t->slots != index || seq < t->last[index] ||
        (generated && !generated_ok(t, seq, text, len))) {
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

bool tally_report(struct tally *t, bool checked)
{
    uint64_t expected = t->total != 0 ? t->total : t->received;
    uint64_t lost = expected > t->intact ? expected - t->intact : 0;
    say("received %llu message%s", (unsigned long long)t->received,
        t->received == 1 ? "" : "s");
    if (checked)
        say("checked: %llu intact, %llu lost, %llu duplicated, %llu reordered, %llu corrupted",
            (unsigned long long)t->intact, (unsigned long long)lost,
            (unsigned long long)t->duplicated, (unsigned long long)t->reordered,
            (unsigned long long)t->corrupted + t->bad_headers);
    free(t->last);
    t->last = NULL;
    return lost == 0 && t->duplicated == 0 && t->reordered == 0 && t->corrupted == 0 &&
           t->bad_headers == 0;
}
