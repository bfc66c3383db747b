/* tests/socket-raw - a raw client for socket/server, driven by a test: copies
 * its standard input to the socket at PATH, one write() per read() of standard
 * input (so the test decides where the pieces end), and reads no reply until
 * standard input ends.  Then shutdown(SHUT_WR), and every byte the server
 * sends is copied to standard output until the server closes.  Fed faster than
 * the server answers, it is a client that never reads: once the server stops
 * reading from it, its write() blocks and it stays stuck until killed.
 *
 * Usage: tests/socket-raw PATH
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int copy(int from, int to)
{
    char buf[65536];
    ssize_t n;
    while ((n = read(from, buf, sizeof buf)) > 0)
        for (ssize_t done = 0, w; done < n; done += w)
            if ((w = write(to, buf + done, (size_t)(n - done))) == -1)
                return -1;
    return (int)n;
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: tests/socket-raw PATH\n");
        return 2;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    if (sock == -1 || connect(sock, (struct sockaddr *)&addr, sizeof addr) == -1) {
        perror("connect");
        return 1;
    }
    if (copy(STDIN_FILENO, sock) == -1 || shutdown(sock, SHUT_WR) == -1 ||
        copy(sock, STDOUT_FILENO) == -1) {
        perror("socket-raw");
        return 1;
    }
    return 0;
}
