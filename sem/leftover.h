/* sem/leftover.h - what sem/race and sem/holder-dies share: a semaphore set or
 * a named semaphore, which cannot be removed before it is used, is left by a
 * kill -9; the next run finds it (EEXIST) and judges it by the one verdict of
 * common/objects.h (require_stale), with the creator record of the run. */
#ifndef SEM_LEFTOVER_H
#define SEM_LEFTOVER_H

#include "../common/common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/sem.h>
#include <unistd.h>

/* semctl()'s fourth argument: POSIX leaves it to the caller to declare. */
union semun { int val; struct semid_ds *buf; unsigned short *array; };

/* The semaphore set with KEY, or the named semaphore NAME: when it is
 * provably stale (ours, its creator on RECORD gone, nobody using it), say so,
 * remove it and its record, and return true; when it is not, say why and exit
 * 1.  False: there is none (a record of a run that is gone is removed). */
bool set_leftover(key_t key, const char *record);
bool named_leftover(const char *name, const char *record);

/* Shared by sem/leftover.c and sem/named.c: the verdict, with the record. */
void judge_leftover(struct leftover *l, const char *record, long id);
bool drop_record(const char *record);

#endif
