/* socket/sockfile.h - what socket/server, socket/client and socket/pass share:
 * the address of a socket (a file, or an abstract name), a socket file left
 * by a killed run, and waiting without missing a stop signal.  No call the
 * lessons teach is made here, but the connect() that probes a leftover. */
#ifndef IPC_DEMOS_SOCKFILE_H
#define IPC_DEMOS_SOCKFILE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../common/common.h"
#include "../common/objects.h"

/* A path in the file system, or a name in Linux's abstract namespace
 * (sun_path starting with a 0 byte: no file at all). */
struct address {
    struct sockaddr_un sun;
    socklen_t len;                     /* what bind() and connect() are given */
    bool abstract;
    char shown[sizeof(struct sockaddr_un)]; /* "/tmp/ipc-demos-1000/socket", "@..." */
};

/* ARG from -p, or NULL: $IPC_DEMO_DIR/NAME, or with ABSTRACT a name made from
 * the identity of $IPC_DEMO_DIR (so parallel runs never meet).  Check a -p
 * with sockfile_fits() first: one that does not fit is a usage error. */
bool sockfile_fits(const char *arg);
void address_init(struct address *a, const char *arg, bool abstract, const char *name);

/* Before bind(), with A's path: nothing there, or a socket file of ours
 * (0600) nobody accepts on, which is said and removed: returns.  Anything
 * else (a live server's socket, another user's, a regular file, a symbolic
 * link...) is left as it is, and we exit 1 saying why. */
void clear_stale_socket(const struct address *a);
/* After bind(): remember the file; later remove it only if it is that one. */
void sockfile_bound(const struct address *a, struct stat *ours);
void sockfile_remove(const struct address *a, const struct stat *ours);

/* SIGINT, SIGTERM, SIGHUP only set stop_signal, and stay blocked except in
 * ppoll() (with stops_unblocked) and the -d pause: one cannot slip in between
 * the check of stop_signal and a wait.  SIGPIPE is ignored: EPIPE instead. */
void block_stop_signals(void);
extern sigset_t stops_unblocked;
void pause_ms(long ms);                /* -d; ends at once on a stop signal */
bool wait_readable(int fd);            /* false: a stop signal came first */

#endif
