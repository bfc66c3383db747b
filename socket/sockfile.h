/* socket/sockfile.h - what socket/server, socket/client and socket/pass share:
 * the address a socket is bound to (a file, or an abstract name), a socket
 * file left behind by a killed run, and waiting without missing a stop signal.
 * None of the lesson's calls (socket, bind, listen, accept, connect...) is
 * made here, except the connect() that probes a leftover file. */
#ifndef IPC_DEMOS_SOCKFILE_H
#define IPC_DEMOS_SOCKFILE_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../common/common.h"
#include "../common/objects.h"

/* Where a Unix socket is: PATH in the file system, or a name in Linux's
 * abstract namespace (sun_path starting with a 0 byte: no file at all). */
struct address {
    struct sockaddr_un sun;
    socklen_t len;                     /* what bind() and connect() are given */
    bool abstract;
    char shown[sizeof(struct sockaddr_un)]; /* "/tmp/ipc-demos-1000/socket", "@ipc-demos-..." */
};

/* ARG from -p (NULL: the default: $IPC_DEMO_DIR/NAME, or with ABSTRACT a name
 * made from the identity of $IPC_DEMO_DIR, so that parallel runs never meet).
 * A -p that does not fit in sun_path is a usage error (sockfile_fits first). */
void address_init(struct address *a, const char *arg, bool abstract, const char *name);
bool sockfile_fits(const char *arg);

/* Before bind(): whatever is at A's path.  Nothing: returns.  A socket file of
 * ours (mode 0600) that nobody accepts on (connect() is refused): says so,
 * removes it, returns.  Anything else (a server listening there, another
 * user's socket, a regular file, a symbolic link...) is left as it is, and we
 * exit 1 saying why. */
void clear_stale_socket(const struct address *a);

/* After bind(): remember which file is ours, so that only that one is removed. */
void sockfile_bound(const struct address *a, struct stat *ours);
/* Remove A's file if it is still the one OURS describes (lstat, then unlink). */
void sockfile_remove(const struct address *a, const struct stat *ours);

/* Stop signals (SIGINT, SIGTERM, SIGHUP) only set stop_signal, and are blocked
 * everywhere except in ppoll() and in a -d pause: a signal cannot slip in
 * between the check of stop_signal and a wait, and no object is half made
 * when one lands.  SIGPIPE is ignored: a vanished peer is an EPIPE we report. */
void block_stop_signals(void);
extern sigset_t stops_unblocked;          /* the mask ppoll() waits with */
/* -d: sleep MS with the stop signals unblocked; nothing once one came. */
void pause_ms(long ms);
/* Wait until FD can be read, or a stop signal came (false). */
bool wait_readable(int fd);

#endif
