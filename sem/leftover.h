/* sem/leftover.h - what a killed run of sem/race or sem/holder-dies leaves
 * behind, judged by the one verdict of common/objects.h (require_stale).
 *
 * A semaphore set, or a named POSIX semaphore, cannot be removed before it is
 * used, so a kill -9 leaves it.  The next run finds it by its key (semget
 * IPC_EXCL fails with EEXIST) or its name (sem_open O_EXCL: EEXIST); the
 * creator record in $IPC_DEMO_DIR says who made it.
 */
#ifndef SEM_LEFTOVER_H
#define SEM_LEFTOVER_H

#include <stdbool.h>
#include <sys/types.h>

/* The semaphore set with KEY exists: return, having said so, only when it is
 * provably stale (ours, its creator on RECORD gone, nobody using it), and after
 * removing it; otherwise say why not and exit 1. */
void set_leftover(key_t key, const char *record);
/* The named semaphore NAME exists: the same; says the value it kept, too. */
void named_leftover(const char *name, const char *record);

/* --cleanup: remove what is provably stale (refusing what is in use, exit 1);
 * true when something was removed. */
bool set_cleanup(key_t key, const char *record);
bool named_cleanup(const char *name, const char *record);

/* Shared by sem/leftover.c and sem/named.c: the verdict, with the record. */
#include "../common/objects.h"
void judge_leftover(struct leftover *l, const char *record, long id);
bool drop_record(const char *record);

#endif
