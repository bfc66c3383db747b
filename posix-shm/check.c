/* posix-shm/check.c - what both programs of posix-shm/ need to be robust, and
 * nothing of the lesson: the messages of -n that the reader checks byte for
 * byte, the deadline of each wait, SIGPIPE, and -f's look at the mapping.
 */
#include "ring.h"

#include "../common/common.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* "message 17 of 100 " and 0 to 52 letters that depend on 17: a message that
 * is torn, repeated or put in another slot does not pass for message 17. */
size_t ring_message(char *buf, uint64_t n, uint64_t count)
{
    int len = snprintf(buf, RING_MESSAGE_MAX, "message %llu of %llu ",
                       (unsigned long long)n, (unsigned long long)count);
    size_t fill = (size_t)(n * 7 % 53);
    for (size_t i = 0; i < fill; i++)
        buf[(size_t)len + i] = (char)('a' + (n + i) % 26);
    return (size_t)len + fill;
}

bool ring_message_ok(const unsigned char *data, size_t len, uint64_t n, uint64_t count)
{
    char want[RING_MESSAGE_MAX];
    return len == ring_message(want, n, count) && memcmp(data, want, len) == 0;
}

struct timespec ring_deadline(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) == -1)  /* sem_timedwait's clock */
        die("clock_gettime");
    t.tv_nsec += RING_WAIT_MS * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void on_sigpipe(int signo)
{
    stop_signal = signo;
}

/* Without it, a write to a closed pipe (| head) would kill the process before
 * it removes what it created. */
void ring_catch_sigpipe(void)
{
    struct sigaction sa = { .sa_handler = on_sigpipe };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) == -1)
        die("sigaction SIGPIPE");
}

/* An object is not an fd once closed: it shows up as a mapping instead. */
void ring_print_mapping(const char *name, const char *when)
{
    char line[512];
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) {
        warn_sys("fopen /proc/self/maps");
        return;
    }
    bool found = false;
    while (fgets(line, sizeof line, maps) != NULL) {
        if (strstr(line, name) == NULL)
            continue;
        line[strcspn(line, "\n")] = '\0';
        say("%s mapping: %s", when, line);
        found = true;
    }
    fclose(maps);
    if (!found)
        say("%s mapping: none of /dev/shm%s", when, name);
}
