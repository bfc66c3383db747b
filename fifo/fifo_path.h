/* fifo/fifo_path.h - what fifo/server and fifo/client both do with the FIFO's path
 * and with the lines that travel through it. */
#ifndef IPC_DEMOS_FIFO_PATH_H
#define IPC_DEMOS_FIFO_PATH_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "../common/common.h"
#include "../common/objects.h"

/* The longest line a client sends, without its newline.  A write(2) of at most
 * PIPE_BUF bytes into a pipe or FIFO is atomic: it is never interleaved with
 * other writers' data.  So a line plus its newline must fit in PIPE_BUF. */
enum { MAX_LINE = PIPE_BUF - 1 };
/* The server's line framer must be able to hold any line a client may send. */
_Static_assert(MAX_LINE <= LINE_LIMIT - 1, "a whole line must fit in struct lines");

/* open(PATH, FLAGS) without following a symlink (O_NOFOLLOW), then fstat() the fd
 * to check that it is the very FIFO lstat() saw as SEEN, not something swapped in
 * since (refused, exit 1).  Returns the fd, or -1 with errno set.  FLAG_NAMES is
 * for the -v trace, e.g. "O_RDONLY". */
int open_same_fifo(const char *path, int flags, const char *flag_names,
                   const struct stat *seen);

/* Escape as much of the untrusted LINE (LEN bytes) as fits in OUT (see escape_text:
 * \xHH for a byte that is not printable ASCII, \\ for a backslash) and return how
 * many bytes of LINE made it: the caller says how many did not. */
size_t escape_fitting(char *out, size_t outsize, const char *line, size_t len);

#endif
