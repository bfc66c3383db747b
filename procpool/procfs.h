/* procpool/procfs.h - what procpool/pool reads in /proc (Linux-only).
 *
 * None of it is the lesson; it lets the pool show the lesson: where the worker
 * binary is, which fds a worker holds (-f), and who still holds a write end of
 * a pipe (--leaky's "still has N writers").
 */
#ifndef PROCPOOL_PROCFS_H
#define PROCPOOL_PROCFS_H

#include <sys/types.h>

/* procpool/worker, next to this binary (/proc/self/exe), whatever the current
 * directory or PATH; dies with a hint if it is not there. */
char *find_worker(void);

/* Mark close-on-exec every fd above 2 that this process inherited, so that a
 * worker's fd table shows only what the pool gives it; and open /dev/null on
 * any of 0-2 that is closed, so that no pipe lands there. */
void hide_inherited_fds(void);

/* -f: worker I's fds, "workerI (pid PID): fd 0 -> pipe:[...]", one line each. */
void show_worker_fds(int i, pid_t pid);

/* How many write ends of the pipe pipe:[INO] process PID holds (0 if it is
 * gone); with WHO, one line "  WHO holds it as fd N" for each. */
int write_ends_held(pid_t pid, unsigned long ino, const char *who);

#endif
