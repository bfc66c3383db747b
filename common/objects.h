/* objects.h - where the IPC objects live, and what to do with one left behind.
 *
 * Every FIFO, socket file, key file and record lives in $IPC_DEMO_DIR.  A
 * program that creates an object removes it on every exit it can catch; after
 * a kill -9 the next run finds it, and removes it only when it is provably
 * stale: ours, nobody using it, its creator gone.  Otherwise it refuses and
 * prints the exact command.  `--cleanup` means exactly that, everywhere.
 */
#ifndef IPC_DEMOS_OBJECTS_H
#define IPC_DEMOS_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- where IPC objects live ---- */

/* $IPC_DEMO_DIR, default /tmp/ipc-demos-$UID: created 0700 on first use; a path
 * that is not a directory of ours, or is writable by group or others, is
 * refused (exit 1). */
const char *ipc_dir(void);
char *ipc_path(char *buf, size_t size, const char *name);   /* "$IPC_DEMO_DIR/NAME" */
/* "$IPC_DEMO_DIR/key", created empty (0600) if missing: the file every ftok()
 * names, with one project id per demo. */
const char *ipc_keyfile(void);
enum { KEY_SHM = 's', KEY_MSGQ = 'q', KEY_SEM = 'm', KEY_HOLDER = 'h', KEY_BENCH = 'b' };
/* "/ipc-demos-DEV-INO-WHAT": a POSIX IPC name made from the identity of
 * $IPC_DEMO_DIR, so runs with different directories never meet. */
char *posix_name(char *buf, size_t size, const char *what);

/* ---- is its creator still there? ---- */

/* When PID started (clock ticks since boot, /proc/PID/stat: Linux-only), or 0
 * when there is no such process or it is a zombie: a zombie runs no code. */
unsigned long long process_start_time(pid_t pid);
bool process_running(pid_t pid);

/* ---- a record of the creator, for objects that keep none ---- */

/* $IPC_DEMO_DIR/NAME ("msgq.owner": one naming scheme) holds "PID START ID\n":
 * the creator, when it started (a reused pid has another start time) and the
 * object's id.  Its open/read/write/close are traced: it lives beside the
 * lesson's objects. */
struct owner {
    pid_t pid;
    unsigned long long start;
    long id;
};
void owner_write(const char *name, long id);     /* dies on failure */
/* 1: *O holds the record; 0: there is none; -1: NAME is something else, a file
 * that is not a record of ours (never touched). */
int owner_read(const char *name, struct owner *o);
bool owner_running(const struct owner *o);
/* Remove the record if it is ours, or its creator is gone: never a live one's. */
void owner_remove(const char *name);

/* ---- an object already there ---- */

struct leftover {
    const char *what;            /* "segment 12 (key 0x7302abcd)" */
    bool ours;                   /* our uid created and owns it, mode 0600 */
    pid_t creator;               /* 0: unknown */
    bool creator_running;
    unsigned long users;         /* processes attached or waiting */
    const char *remove;          /* the exact command: "ipcrm -m 12" */
};
/* Returns, having said so, when L is provably stale: the caller removes it, in
 * place.  Otherwise says why it is not and the exact command, and exits 1. */
void require_stale(const struct leftover *l);

/* ---- a FIFO at a path ---- */

/* SEEN is what lstat(PATH) found (lstat: a symlink is judged, never followed).
 * Return only when it is a FIFO of ours with mode 0600, so that nobody else can
 * write into it; anything else is left as it is, and we exit 1 saying what. */
void require_our_fifo(const char *path, const struct stat *seen);
/* FD, just opened at PATH, is the file SEEN (nobody swapped the name between
 * lstat and open); otherwise FD is closed and we exit 1. */
void require_same_file(int fd, const char *path, const struct stat *seen);

#endif
