/* procpool/protocol.h - what procpool/pool and procpool/worker agree on.
 *
 * Pool -> worker, on the worker's stdin: 4-byte task codes, each a uint32_t in
 * the machine's own byte order (both ends run on the same machine).  Worker ->
 * pool, on its own results pipe: one struct result per task done, written with
 * one write(2) of fewer than PIPE_BUF bytes, so never split.
 */
#ifndef PROCPOOL_PROTOCOL_H
#define PROCPOOL_PROTOCOL_H

#include <stdint.h>

enum { TASK_DOWNLOAD, TASK_PRINT_LOG, TASK_PUSH_VIDEO, TASK_COUNT };   /* the notes' tasks */

static inline const char *task_name(uint32_t code)
{
    static const char *const names[TASK_COUNT] = { "download", "print-log", "push-video-stream" };
    return code < TASK_COUNT ? names[code] : "unknown";
}

struct result {
    uint32_t code, value;       /* the task code run, and what it computed */
};

#endif
