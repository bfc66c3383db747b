/* tests/sem_plant NAME VALUE - leave a named POSIX semaphore NAME (0600) with
 * VALUE behind, as a run killed with -9 would, or a program that is not ours:
 * what sem/holder-dies must find and judge, never use. */
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: tests/sem_plant NAME VALUE\n");
        return 2;
    }
    sem_t *s = sem_open(argv[1], O_CREAT | O_EXCL, 0600, (unsigned)atoi(argv[2]));
    if (s == SEM_FAILED) {
        perror("sem_open");
        return 1;
    }
    return sem_close(s) == 0 ? 0 : 1;
}
