/* shm/gen.c - see gen.h. */
#include "gen.h"

#include <stdio.h>
#include <string.h>

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

size_t gen_message(char *buf, uint64_t seq, uint64_t total)
{
    char text[GEN_MAX_LEN];
    int n = snprintf(text, sizeof text, "message %llu of %llu ",
                     (unsigned long long)seq, (unsigned long long)total);
    size_t len = (size_t)n;
    size_t filler = (size_t)(seq * 7 % 23);
    for (size_t i = 0; i < filler; i++)
        text[len++] = (char)('a' + (seq + i) % 26);
    int m = snprintf(buf, GEN_MAX_LEN, "%.*s sum %08lx", (int)len, text,
                     (unsigned long)fnv1a(text, len));
    return (size_t)m;
}

/* Parse a decimal number of at most 8 digits at *P, moving *P past it. */
static bool number(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    while (*p < end && **p >= '0' && **p <= '9' && digits < 9) {
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
        digits++;
    }
    *out = v;
    return digits > 0 && digits <= 8;
}

static bool word(const unsigned char **p, const unsigned char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - *p) < n || memcmp(*p, w, n) != 0)
        return false;
    *p += n;
    return true;
}

bool gen_check(const unsigned char *data, size_t len, uint64_t *seq, uint64_t *total)
{
    const unsigned char *p = data, *end = data + len;
    *seq = *total = 0;
    if (len > GEN_MAX_LEN || !word(&p, end, "message ") || !number(&p, end, seq) ||
        !word(&p, end, " of ") || !number(&p, end, total))
        return false;
    if (*seq < 1 || *total > GEN_MAX_COUNT || *seq > *total)
        return false;
    char want[GEN_MAX_LEN];
    size_t n = gen_message(want, *seq, *total);
    return n == len && memcmp(want, data, len) == 0;
}
