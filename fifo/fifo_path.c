/* fifo/fifo_path.c - see fifo_path.h. */
#include "fifo_path.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static const char *file_kind(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a special file";
}

void require_our_fifo(const char *path, const struct stat *seen)
{
    if (S_ISLNK(seen->st_mode))
        die_msg("%s is a symbolic link: refusing to follow it (left as it is)", path);
    if (!S_ISFIFO(seen->st_mode))
        die_msg("%s is %s, not a FIFO: refusing to use it (left as it is)", path,
                file_kind(seen->st_mode));
    if (seen->st_uid != getuid())
        die_msg("%s is a FIFO of user %ld, not yours: refusing to use it (left as it is)",
                path, (long)seen->st_uid);
}

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
    size_t used = 0, taken = 0;
    while (taken < len) {
        size_t n = escape_text(out + used, outsize - used, line + taken, 1);
        if (n == 0)
            break;                /* the next byte's escape does not fit */
        used += n;
        taken++;
    }
    if (len == 0 && outsize > 0)
        out[0] = '\0';
    return taken;
}
