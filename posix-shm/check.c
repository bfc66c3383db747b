/* posix-shm/check.c - what makes both programs robust, nothing of the lesson:
 * -n's messages, checked byte for byte; liveness; SIGPIPE; -f. */
#include "ring.h"

#include "../common/common.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* "message 17 of 100 " and 0-52 letters that depend on 17: none passes for another. */
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

bool ring_running(int32_t pid, uint64_t start)
{
    unsigned long long now = process_start_time(pid);
    return now != 0 && (start == 0 || start == now);
}

static void on_sigpipe(int signo)
{
    stop_signal = signo;
}

/* Otherwise a write to a closed pipe (| head) kills us before we clean up. */
void ring_catch_sigpipe(void)
{
    struct sigaction sa = { .sa_handler = on_sigpipe };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) == -1)
        die("sigaction SIGPIPE");
}

/* Once its fd is closed, the object shows up as a mapping only. */
void ring_show_maps(const char *name, const char *when)
{
    if (!print_maps(name, when))
        say("%s mapping: none of /dev/shm%s", when, name);
    print_fds(when);
}
