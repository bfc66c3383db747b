/* sem/named.c - the named semaphore a killed run of sem/holder-dies leaves
 * behind; the verdict of sem/leftover.c, with: ours (its file in /dev/shm,
 * where glibc keeps them, is our uid's, 0600); its creator (the record written
 * right after sem_open()); no users, provably once the creator is gone (the
 * holder leaves when its parent dies: its pipe reaches end of file).  Removal:
 * sem_unlink(), the same as `rm /dev/shm/sem.NAME`. */
#include "leftover.h"

#include <semaphore.h>
#include <sys/stat.h>

static char what[PATH_MAX], removal[PATH_MAX + 8];

/* The trap, shown: the value the leftover kept is what sem_open(O_CREAT)
 * without O_EXCL would have handed over. */
static void show_value(const char *name)
{
    sem_t *s = sem_open(name, 0);
    if (s == SEM_FAILED) {
        traced(-1, "sem_open(\"%s\", 0)", name);
        die("sem_open %s", name);
    }
    trace("sem_open(\"%s\", 0) = %p", name, (void *)s);
    int value;
    if (traced(sem_getvalue(s, &value), "sem_getvalue(%p)", (void *)s) == -1)
        die("sem_getvalue %s", name);
    if (traced(sem_close(s), "sem_close(%p)", (void *)s) == -1)
        die("sem_close %s", name);
    say("it kept its value, %d: sem_open(O_CREAT) without O_EXCL would have opened it as "
        "it is, ignoring the initial value%s", value,
        value == 0 ? " -- taken, with nobody left to give it back" : "");
}

/* ENOENT from lstat(): there is none. */
bool named_leftover(const char *name, const char *record)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/sem.%s", name + 1);
    int rc = (int)traced(lstat(path, &st), "lstat(\"%s\")", path);
    if (rc == -1 && errno != ENOENT)
        die("lstat %s", path);
    if (rc == -1)
        return drop_record(record);
    snprintf(what, sizeof what, "named semaphore %s", name);
    snprintf(removal, sizeof removal, "rm %s", path);
    struct leftover l = {
        .what = what,
        .ours = S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) == 0600,
        .users = 0,               /* provably: see the top of this file */
        .remove = removal,
    };
    judge_leftover(&l, record, 0);
    show_value(name);
    if (traced(sem_unlink(name), "sem_unlink(\"%s\")", name) == -1 && errno != ENOENT)
        die("sem_unlink %s", name);
    drop_record(record);
    return true;
}
