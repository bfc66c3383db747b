/* socket/sockfile.h - what socket/server, socket/client and socket/pass share:
 * the address of a socket (a file, or an abstract name), a socket file left by
 * a killed run, waiting without missing a stop signal.  No call a lesson
 * teaches is made here, but the connect() that probes a leftover. */
#ifndef IPC_DEMOS_SOCKFILE_H
#define IPC_DEMOS_SOCKFILE_H

#include "../common/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct address {
    struct sockaddr_un sun;
    socklen_t len;                     /* what bind() and connect() are given */
    bool abstract;                     /* sun_path starts with a 0 byte: no file */
    char shown[sizeof(struct sockaddr_un)]; /* "/tmp/ipc-demos-1000/socket", "@..." */
};

/* ARG from -p (one that does not fit: a usage error), or else $IPC_DEMO_DIR/NAME
 * or, ABSTRACT, a name made from $IPC_DEMO_DIR's identity (runs never meet). */
void address_init(struct address *a, const char *arg, bool abstract, const char *name);

/* Before bind(): returns if nothing is at A's path, or a socket file of ours
 * (0600) nobody accepts on, said and removed; else exit 1 saying why.  After
 * bind(), sockfile_bound() remembers the file (returns its mode), and
 * sockfile_remove() removes it if it is still that one, once. */
void clear_stale_socket(const struct address *a);
unsigned sockfile_bound(const struct address *a);
void sockfile_remove(const struct address *a);

/* SIGINT, SIGTERM, SIGHUP set stop_signal, blocked but in ppoll() (with
 * stops_unblocked) and pause_ms() (-d): none slips in between the check and a
 * wait.  SIGPIPE is ignored. */
void block_stop_signals(void);
extern sigset_t stops_unblocked;
void pause_ms(long ms);

#endif
