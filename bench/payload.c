/* payload.c - the bytes every mechanism moves, and their verification.
 *
 * Message SEQ is the little run of 64-bit words w, w + STEP, w + 2 STEP, ...
 * (in memory order, cut at the message size) where w mixes SEQ with the trial's
 * salt.  Cheap to make and to check at memory speed, yet every byte depends on
 * the sequence number: a lost, repeated, reordered, stale or torn message fails.
 * The reader compares every byte -- no sampling, no checksum that could collide.
 */
#include "bench.h"

#include <string.h>

static const uint64_t STEP = 0x9e3779b97f4a7c15u;     /* odd: words never repeat */
static uint64_t salt;

void payload_salt(uint64_t s)
{
    salt = s;
}

/* splitmix64's finaliser: nearby sequence numbers give unrelated words. */
static uint64_t first_word(uint64_t seq)
{
    uint64_t z = seq ^ salt;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Store N words from W on, four per turn of the loop.  One induction variable
 * and constant offsets: gcc at -O3 (see the Makefile) turns this into vector
 * code.  Four separate chains (a += 4 STEP, b += 4 STEP, ...) would be as fast
 * scalar, but gcc 12.2 vectorises that form wrongly at -O3: payload_selftest()
 * is there for such surprises. */
static void fill_words(unsigned char *p, size_t n, uint64_t w)
{
    size_t k = 0;
    for (; k + 4 <= n; k += 4, w += 4 * STEP) {
        uint64_t a = w, b = w + STEP, c = w + 2 * STEP, d = w + 3 * STEP;
        memcpy(p + 8 * k, &a, 8);           /* memcpy: any alignment, no aliasing trap */
        memcpy(p + 8 * k + 8, &b, 8);
        memcpy(p + 8 * k + 16, &c, 8);
        memcpy(p + 8 * k + 24, &d, 8);
    }
    for (; k < n; k++, w += STEP)
        memcpy(p + 8 * k, &w, 8);
}

/* The OR of the differences between N words at P and the words from W on:
 * nothing cancels, so it is 0 only if every byte matches. */
static uint64_t diff_words(const unsigned char *p, size_t n, uint64_t w)
{
    uint64_t da = 0, db = 0, dc = 0, dd = 0, x;
    size_t k = 0;
    for (; k + 4 <= n; k += 4, w += 4 * STEP) {
        memcpy(&x, p + 8 * k, 8);
        da |= x ^ w;
        memcpy(&x, p + 8 * k + 8, 8);
        db |= x ^ (w + STEP);
        memcpy(&x, p + 8 * k + 16, 8);
        dc |= x ^ (w + 2 * STEP);
        memcpy(&x, p + 8 * k + 24, 8);
        dd |= x ^ (w + 3 * STEP);
    }
    for (; k < n; k++, w += STEP) {
        memcpy(&x, p + 8 * k, 8);
        da |= x ^ w;
    }
    return da | db | dc | dd;
}

void payload_fill(void *buf, size_t size, uint64_t seq)
{
    unsigned char *p = buf;
    uint64_t w = first_word(seq);
    fill_words(p, size / 8, w);
    if (size % 8 != 0) {
        w += (uint64_t)(size / 8) * STEP;
        memcpy(p + size / 8 * 8, &w, size % 8);
    }
}

/* The expected byte at offset OFF of message SEQ. */
static unsigned char expected_byte(uint64_t seq, size_t off)
{
    uint64_t w = first_word(seq) + (uint64_t)(off / 8) * STEP;
    unsigned char b[8];
    memcpy(b, &w, 8);
    return b[off % 8];
}

bool payload_check(const void *buf, size_t off, size_t len, uint64_t seq)
{
    const unsigned char *p = buf;
    uint64_t diff = 0;
    /* A piece may start or end in the middle of a word: those bytes one by one. */
    while (len > 0 && off % 8 != 0) {
        diff |= *p++ ^ expected_byte(seq, off++);
        len--;
    }
    size_t words = len / 8;
    diff |= diff_words(p, words, first_word(seq) + (uint64_t)(off / 8) * STEP);
    p += words * 8;
    off += words * 8;
    len -= words * 8;
    while (len > 0) {
        diff |= *p++ ^ expected_byte(seq, off++);
        len--;
    }
    return diff == 0;
}

void payload_selftest(void)
{
    /* The fast loops against the plain byte-by-byte definition: a compiler that
     * mis-builds them must stop the run here, not produce figures or false
     * alarms (gcc 12.2 at -O3 did, with an earlier form of the loops). */
    unsigned char buf[1000];
    for (size_t size = 1; size <= sizeof buf; size += 37) {
        payload_fill(buf, size, size);
        for (size_t i = 0; i < size; i++)
            if (buf[i] != expected_byte(size, i))
                die_msg("payload self-test failed: this build computes the payload wrongly "
                        "(a compiler bug?): rebuild bench/payload.c with -O2");
        if (!payload_check(buf, 0, size, size) ||
            (size > 3 && !payload_check(buf + 3, 3, size - 3, size)))
            die_msg("payload self-test failed: this build checks the payload wrongly "
                    "(a compiler bug?): rebuild bench/payload.c with -O2");
        buf[size / 2] ^= 0x10;
        if (payload_check(buf, 0, size, size))
            die_msg("payload self-test failed: a flipped bit went unnoticed (compiler bug?)");
    }
}

void payload_mismatch(const char *mech, size_t size, const void *buf, size_t off,
                      size_t len, uint64_t seq)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        unsigned char want = expected_byte(seq, off + i);
        if (p[i] != want)
            die_msg("%s: VERIFICATION FAILED: message %llu (%zu bytes), byte %zu is 0x%02x, "
                    "expected 0x%02x", mech, (unsigned long long)seq, size, off + i, p[i],
                    want);
    }
    die_msg("%s: VERIFICATION FAILED: message %llu (%zu bytes) differs", mech,
            (unsigned long long)seq, size);
}
