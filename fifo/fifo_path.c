/* fifo/fifo_path.c - see fifo_path.h. */
#include "fifo_path.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int open_same_fifo(const char *path, int flags, const char *flag_names,
                   const struct stat *seen)
{
    int fd = (int)traced(open(path, flags | O_NOFOLLOW | O_CLOEXEC), "open(%s, %s)", path,
                         flag_names);
    if (fd == -1) {
        if (errno == ELOOP)
            die_msg("%s has become a symbolic link: refusing to follow it", path);
        return -1;
    }
    /* Between lstat() and open() the name could have been pointed elsewhere:
     * the inode behind the fd is what counts. */
    struct stat now;
    if (traced(fstat(fd, &now), "fstat(%d)", fd) == -1 || !S_ISFIFO(now.st_mode) ||
        now.st_dev != seen->st_dev || now.st_ino != seen->st_ino) {
        (void)close(fd);
        die_msg("%s is no longer the FIFO it was a moment ago: refusing to use it", path);
    }
    return fd;
}

size_t escape_fitting(char *out, size_t outsize, const char *line, size_t len)
{
    return escape_text(out, outsize, line, len);
}
