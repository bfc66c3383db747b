/* bench.h - the parts of bench/ipcbench, and what they share.
 *
 *   ipcbench.c  options, the plan, calibration, shuffled rounds
 *   payload.c   the bytes every mechanism moves, and their verification
 *   transfer.c  one trial of one mechanism: a writer child, this process reading
 *   limits.c    memcpy, dd bs=64k | dd, perf bench sched pipe
 *   linux.c     pinning and the other Linux-only calls, in one place
 *   report.c    the report, the bar chart, --csv
 *   leftover.c  the objects a run names, what a killed run leaves, --cleanup
 *   posix.c     posix-mq, posix-shm and posix-shm1
 */
#ifndef IPC_DEMOS_BENCH_H
#define IPC_DEMOS_BENCH_H

#include "../common/common.h"

#include <mqueue.h>
#include <stdint.h>
#include <sys/stat.h>

/* ---- mechanisms ---- */

enum mech {
    M_PIPE, M_FIFO, M_SHM, M_SHM1, M_MSGQ, M_SOCKETPAIR, M_UNIX, M_PMQ, M_PSHM, M_PSHM1, M_MECHS
};
extern const char *const mech_names[M_MECHS];

struct latency {
    double mean_us, median_us, min_us;
};

/* ---- the plan (ipcbench.c) ---- */

enum job_kind {
    J_THROUGHPUT,       /* a mechanism, one way, writer -> reader */
    J_MEMCPY,           /* limits: one process copying the same volume */
    J_DD,               /*   dd bs=64k | dd */
    J_LATENCY,          /* round trips of a mechanism */
    J_PERF,             /*   perf bench sched pipe */
};

struct job {
    enum job_kind kind;
    enum mech mech;             /* J_THROUGHPUT, J_LATENCY */
    size_t size;                /* bytes per message, copy, block or round trip */
    const char *name;           /* "pipe", "memcpy", "dd|dd", "perf" */
    const char *na;             /* why it cannot run here, or NULL */
    long count;                 /* calibrated: messages, copies, blocks, round trips */
    double *rate;               /* per round: bytes per second */
    struct latency *lat;        /* per round: microseconds */
};

struct plan {
    struct job *jobs;
    size_t njobs;
    size_t sizes[16];
    size_t nsizes;
    bool mechs[M_MECHS];
    int rounds;
    bool latency, csv, quick;
    double min_seconds;         /* each timed trial lasts at least this long */
    unsigned long long verified_messages, verified_bytes;
    double load_start;
};

/* ---- report.c ---- */

/* say() with floating point (%f, %g), which say() itself does not format. */
void sayf(const char *fmt, ...) PRINTF_LIKE(1, 2);

void report_header(const struct plan *p);
void csv_header(void);
void csv_row(const struct plan *p, const struct job *j, int round, long messages,
             double seconds);
/* The tables, the bar chart, the crossover; false if a figure beats memcpy. */
bool report_results(const struct plan *p);
/* "No figure above memcpy": false (and a BROKEN line, on stdout or stderr) if one is,
 * beyond CEILING_TOLERANCE; with --quick only a note (stdout), never false. */
bool report_honest(const struct plan *p, bool on_stderr);
const char *size_name(size_t size);
double load_average(void);

/* ---- payload.c ---- */

/* Every message depends on its sequence number and on the trial (the salt), so a
 * lost, duplicated, reordered, stale or torn message cannot pass the check. */
void payload_salt(uint64_t salt);
void payload_fill(void *buf, size_t size, uint64_t seq);
/* Do the LEN bytes at BUF equal bytes [OFF, OFF + LEN) of message SEQ?  Every byte
 * is compared; a stream reader checks each piece as it arrives. */
bool payload_check(const void *buf, size_t off, size_t len, uint64_t seq);
/* Compare the fast loops with the plain definition; dies if the build is wrong. */
void payload_selftest(void);
/* After a failed check: report the first wrong byte and exit 1, naming MECH. */
noreturn void payload_mismatch(const char *mech, size_t size, const void *buf,
                               size_t off, size_t len, uint64_t seq);

/* ---- transfer.c ---- */

struct timing {
    long messages;          /* verified between the two clock readings */
    double seconds;
};

/* Whether MECH can move SIZE-byte messages; if not, WHY says so (e.g. above msgmax). */
bool mech_supports(enum mech m, size_t size, const char **why);
/* Create what the run needs once (the queue, the FIFOs); removed by bench_cleanup. */
void mechs_prepare(const bool used[M_MECHS]);
/* Move WARM + COUNT messages of SIZE bytes from a writer child to this process,
 * verifying every byte; time from the end of the warm-up to the last byte checked. */
void transfer(enum mech m, size_t size, long warm, long count, struct timing *t);

bool latency_supports(enum mech m);
/* WARM + COUNT round trips of SIZE bytes, each verified on both sides. */
void roundtrip(enum mech m, size_t size, long warm, long count, struct latency *l);
/* The answer to request SEQ is message SEQ | ANSWER: never a copy of the request. */
#define ANSWER ((uint64_t)1 << 63)

/* Kill and reap the running children, remove every object of ours (atexit). */
void bench_cleanup(void);

/* What the parts share (transfer.c): */
double now(void);                        /* CLOCK_MONOTONIC, in seconds */
void *buffer(size_t size);               /* page-aligned and pre-touched */
bool corrupt_for(const char *mech);      /* the IPCBENCH_CORRUPT test aid */
long msgmax(void);
/* fork(); in the child: ROLE, default stop signals, killed with its parent,
 * pinned as PIN_ROLE says (-1: not at all).  Returns the pid, 0 in the child. */
pid_t fork_child(const char *role, int pin_role);
/* Wait for CHILD; true when it exited with 0.  WHAT names it in messages. */
bool reap(pid_t child, const char *what, int *status_out);
void reap_or_die(pid_t child, const char *what, const char *mech);
/* "exited with status 1", "was killed by signal 2 (SIGINT)"; true for status 0. */
bool describe_status(int status, char *buf, size_t size);
/* Die with "interrupted by SIGINT" if a stop signal came. */
void check_stop(void);
/* A blocking call returned EINTR: die if a stop signal came or a child died. */
void after_eintr(const char *mech);
/* Mean, median and minimum of COUNT round trips (seconds; sorts RTT). */
void latency_summary(double *rtt, long count, struct latency *l);

/* ---- shmbench.c: shm and shm1, on the ring of shm/ ---- */

void shm_prepare(void);
bool shm_supports(size_t size, const char **why);
unsigned shm_slots(size_t size);         /* the slots of the "shm" ring for SIZE */
void shm_transfer(bool one_slot, size_t size, long warm, long count, struct timing *t);
void shm_roundtrip(size_t size, long warm, long count, struct latency *l);
void shm_cleanup(void);

/* ---- posix.c: posix-mq, posix-shm (a ring, batched posts) and posix-shm1 ---- */

bool posix_supports(enum mech m, size_t size, const char **why);
const char *posix_names(bool mq, bool shm);     /* "/ipc-demos-...-bench-mq, ..." */
void pmq_transfer(size_t size, long warm, long count, struct timing *t);
void pmq_roundtrip(size_t size, long warm, long count, struct latency *l);
void pshm_transfer(bool batched, size_t size, long warm, long count, struct timing *t);
void pshm_roundtrip(size_t size, long warm, long count, struct latency *l);
unsigned pshm_slots(size_t size);        /* the slots of the posix-shm ring for SIZE */
void posix_cleanup(void);                /* at exit: what is still named or mapped */
int posix_sweep(void);                   /* leftovers of a killed run: how many removed */

/* ---- leftover.c ---- */

/* Before a run: refuse a live run's record; remove what a killed run left when it
 * is provably stale (else exit 1, saying why and the command); record this run.
 * USED: the mechanisms, whose FIFO paths must be free. */
void run_claim(const bool used[M_MECHS]);
void run_record_queue(int msqid);        /* the record names the queue too */
/* mkfifo(PATH, 0600), removed by leftovers_remove(); dies if PATH exists. */
void fifo_create(const char *path);
/* At exit: unlink the FIFOs this run made, then its record. */
void leftovers_remove(void);
/* A POSIX object NAME (a KIND, seen as ST) is there: return only when it is stale. */
void posix_leftover(const char *kind, const char *name, const struct stat *st,
                    const char *remove);
/* --cleanup: the same verdict for every object a run may name, saying what. */
void remove_leftovers(void);
/* The key of the run's queue and segment: ftok($IPC_DEMO_DIR/key, KEY_BENCH). */
key_t bench_key(void);

/* ---- limits.c ---- */

void memcpy_run(size_t size, long warm, long count, struct timing *t);
/* A memcpy trial: the fastest of MEMCPY_TRIES runs of COUNT copies.  The report
 * calls a figure broken only above CEILING_TOLERANCE times memcpy's best. */
enum { MEMCPY_TRIES = 3 };
#define CEILING_TOLERANCE 1.25
void memcpy_best(size_t size, long warm, long count, struct timing *t);
/* dd if=/dev/zero bs=64k count=COUNT | dd of=/dev/null bs=64k */
enum { DD_BLOCK = 65536 };
void dd_run(long count, struct timing *t);
/* perf bench sched pipe -l LOOPS: false (and WHY) when it cannot run. */
bool perf_run(long loops, double *usecs_per_op, const char **why);

/* ---- linux.c ---- */

enum pinning { PIN_SAME, PIN_SPLIT, PIN_ANY };
enum { ROLE_READER, ROLE_WRITER, ROLE_BOTH };
void pin_setup(enum pinning p);
void pin_self(int role);                 /* dies (die_child in a child) on failure */
const char *pin_describe(void);
const char *pin_mode_name(void);
void die_with_parent(pid_t parent);      /* in a child: SIGKILL when PARENT is gone */
long pipe_default_size(void);            /* F_GETPIPE_SZ of a fresh pipe */
bool mq_stat(mqd_t q, struct stat *st);             /* fstat() of a queue: its owner */

#endif
