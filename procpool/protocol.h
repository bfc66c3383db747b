/* procpool/protocol.h - what procpool/pool and procpool/worker agree on.
 *
 * Pool -> worker: one task pipe per worker, the worker's stdin.  A task is a
 * 4-byte code, a uint32_t in the machine's own byte order (both ends run on the
 * same machine, so no conversion is needed).
 *
 * Worker -> pool: one results pipe shared by every worker.  Each worker writes
 * one fixed-size record per event with a single write(2).  A record is far
 * smaller than PIPE_BUF, and writes of at most PIPE_BUF bytes to a pipe are
 * atomic, so records from different workers never interleave.
 */
#ifndef PROCPOOL_PROTOCOL_H
#define PROCPOOL_PROTOCOL_H

#include <limits.h>
#include <stdint.h>

/* The task table, the notes' three tasks. */
enum { TASK_DOWNLOAD, TASK_PRINT_LOG, TASK_PUSH_VIDEO, TASK_COUNT };

static inline const char *task_name(uint32_t code)
{
    switch (code) {
    case TASK_DOWNLOAD: return "download";
    case TASK_PRINT_LOG: return "print-log";
    case TASK_PUSH_VIDEO: return "push-video-stream";
    default: return "unknown";
    }
}

enum { RESULT_READY = 1, RESULT_DONE = 2 };

struct result {
    uint32_t kind;      /* RESULT_READY once after exec, then RESULT_DONE per task */
    uint32_t worker;    /* the worker's index (-i) */
    uint32_t pid;
    uint32_t seq;       /* DONE: how many tasks this worker has completed, this one included */
    uint32_t code;      /* DONE: the task code it ran */
    uint32_t value;     /* DONE: the task's result (a checksum or a count) */
};

_Static_assert(sizeof(struct result) <= PIPE_BUF, "a result record must fit in one atomic write");

#endif
