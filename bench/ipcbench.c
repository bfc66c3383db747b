/* bench/ipcbench - how fast does each IPC mechanism move data, really?
 *
 * The notes say "shared memory is the fastest IPC: fewer copies".  This program
 * lets the machine answer: for each mechanism and message size a writer process
 * sends messages to a reader process that checks every byte, and the figures are
 * set beside the machine's own limits, measured in the same run: memcpy (no IPC
 * can beat one process copying the bytes), the shell's `dd | dd`, and
 * `perf bench sched pipe`.
 *
 * Noise is handled the boring way: each trial is calibrated to last at least
 * 0.2 s after a warm-up, the trials run in a new shuffled order in every round,
 * both processes are pinned (-c), and the report gives median, min and max.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: bench/ipcbench [-m MECHS] [-s SIZES] [-r ROUNDS] [-c same|split|any] "
    "[--latency] [--csv] [--quick] [--cleanup]\n"
    "Measure how fast each IPC mechanism moves verified data from one process to\n"
    "another, beside the machine's limits (memcpy, dd | dd, perf bench sched pipe).\n"
    "  -m MECHS   which, comma-separated: pipe,fifo,shm,shm1,msgq,socketpair,\n"
    "             unix,posix-mq,posix-shm,posix-shm1 (default: all); unix: a\n"
    "             connection by the socket file $IPC_DEMO_DIR/bench-socket\n"
    "  -s SIZES   message sizes in bytes, comma-separated, K and M allowed\n"
    "             (default: 64,1K,4K,16K,64K,1M)\n"
    "  -r ROUNDS  rounds of shuffled trials (default 5; 2 with --quick)\n"
    "  -c MODE    same: both processes on one CPU (default: the stable mode);\n"
    "             split: one CPU each; any: not pinned.  Pinning is Linux-only.\n"
    "  --latency  also time 1 B and 4 KiB round trips (pipe, fifo, shm, msgq,\n"
    "             socketpair, unix, posix-mq, posix-shm)\n"
    "             and run perf bench sched pipe\n"
    "  --csv      print one machine-readable row per trial instead of the report\n"
    "  --quick    short trials and 2 rounds: seconds, for tests, not for conclusions\n"
    "  --cleanup  remove what a killed run left behind (FIFOs, the socket file,\n"
    "             queues, segments, its record) when provably stale, then exit\n"
    "  -h         show this help\n"
    "Test aid: IPCBENCH_CORRUPT=MECH makes MECH's writer flip one byte; the run must fail.\n";

enum { MAX_SIZE = 16 * 1024 * 1024, MAX_ROUNDS = 100 };
enum { OPT_LATENCY = 256, OPT_CSV, OPT_QUICK, OPT_CLEANUP };

static const size_t default_sizes[] = { 64, 1024, 4096, 16384, 65536, 1048576 };

/* ---- the command line ---- */

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* "64,1K,4K,1M": sorted, duplicates dropped. */
static void parse_sizes(struct plan *p, const char *text)
{
    char copy[256];
    if (strlen(text) >= sizeof copy)
        usage_error("-s: '%s' is too long", text);
    strcpy(copy, text);
    p->nsizes = 0;
    char *rest = copy;
    for (;;) {
        char *item = rest, *comma = strchr(rest, ',');
        if (comma != NULL)
            *comma = '\0';
        char *end;
        errno = 0;
        unsigned long long v = strtoull(item, &end, 10);
        unsigned long long unit = 1;
        if (strcmp(end, "K") == 0 || strcmp(end, "k") == 0 || strcmp(end, "KiB") == 0)
            unit = 1024;
        else if (strcmp(end, "M") == 0 || strcmp(end, "MiB") == 0)
            unit = 1024 * 1024;
        else if (*end != '\0' && strcmp(end, "B") != 0)
            end = item;                 /* not a size */
        if (end == item || item[0] < '0' || item[0] > '9')
            usage_error("-s: '%s' is not a size (bytes, or with K or M: 64,1K,1M)", item);
        if (errno == ERANGE || v == 0 || v > MAX_SIZE / unit)
            usage_error("-s: '%s' is out of range (1 to 16M)", item);
        if (p->nsizes == sizeof p->sizes / sizeof p->sizes[0])
            usage_error("-s: at most %zu sizes", sizeof p->sizes / sizeof p->sizes[0]);
        p->sizes[p->nsizes++] = (size_t)(v * unit);
        if (comma == NULL)
            break;
        rest = comma + 1;
    }
    qsort(p->sizes, p->nsizes, sizeof p->sizes[0], compare_size);
    size_t kept = 1;
    for (size_t i = 1; i < p->nsizes; i++)
        if (p->sizes[i] != p->sizes[kept - 1])
            p->sizes[kept++] = p->sizes[i];
    p->nsizes = kept;
}

static void parse_mechs(struct plan *p, const char *text)
{
    char copy[256];
    if (strlen(text) >= sizeof copy)
        usage_error("-m: '%s' is too long", text);
    strcpy(copy, text);
    memset(p->mechs, 0, sizeof p->mechs);
    char *rest = copy;
    for (;;) {
        char *item = rest, *comma = strchr(rest, ',');
        if (comma != NULL)
            *comma = '\0';
        int m = 0;
        while (m < M_MECHS && strcmp(item, mech_names[m]) != 0)
            m++;
        if (m < M_MECHS)
            p->mechs[m] = true;
        else
            usage_error("-m: '%s' is not a mechanism (pipe, fifo, shm, shm1, msgq, "
                        "socketpair, unix, posix-mq, posix-shm, posix-shm1)", item);
        if (comma == NULL)
            break;
        rest = comma + 1;
    }
}

static enum pinning parse_pinning(const char *text)
{
    if (strcmp(text, "same") == 0)
        return PIN_SAME;
    if (strcmp(text, "split") == 0)
        return PIN_SPLIT;
    if (strcmp(text, "any") == 0)
        return PIN_ANY;
    usage_error("-c: '%s' is not one of same, split, any", text);
}

/* ---- the plan ---- */

static struct job *add_job(struct plan *p, enum job_kind kind, enum mech m, size_t size,
                           const char *name)
{
    struct job *j = &p->jobs[p->njobs++];
    *j = (struct job){ .kind = kind, .mech = m, .size = size, .name = name };
    j->rate = calloc((size_t)p->rounds, sizeof *j->rate);
    j->lat = calloc((size_t)p->rounds, sizeof *j->lat);
    if (j->rate == NULL || j->lat == NULL)
        die("calloc");
    if (kind == J_THROUGHPUT)
        mech_supports(m, size, &j->na);
    return j;
}

static void make_plan(struct plan *p)
{
    size_t most = p->nsizes * (M_MECHS + 1) + 1 + 2 * M_MECHS + 1;
    p->jobs = calloc(most, sizeof *p->jobs);
    if (p->jobs == NULL)
        die("calloc");
    for (size_t s = 0; s < p->nsizes; s++) {
        for (int m = 0; m < M_MECHS; m++)
            if (p->mechs[m])
                add_job(p, J_THROUGHPUT, (enum mech)m, p->sizes[s], mech_names[m]);
        add_job(p, J_MEMCPY, M_PIPE, p->sizes[s], "memcpy");
    }
    add_job(p, J_DD, M_PIPE, DD_BLOCK, "dd|dd");
    if (!p->latency)
        return;
    static const size_t trip_sizes[] = { 1, 4096 };
    for (size_t s = 0; s < 2; s++)
        for (int m = 0; m < M_MECHS; m++)
            if (p->mechs[m] && latency_supports((enum mech)m))
                add_job(p, J_LATENCY, (enum mech)m, trip_sizes[s], mech_names[m]);
    add_job(p, J_PERF, M_PIPE, 4, "perf");
}

static void free_plan(struct plan *p)
{
    for (size_t i = 0; i < p->njobs; i++) {
        free(p->jobs[i].rate);
        free(p->jobs[i].lat);
    }
    free(p->jobs);
}

/* ---- trials ---- */

static uint64_t trials_run;

/* One trial of J moving COUNT messages (copies, blocks, round trips, loops) after
 * its warm-up: the seconds timed (infinity when perf cannot run), and what to
 * record in *T and *L. */
static double run_job(struct plan *p, struct job *j, long count, struct timing *t,
                      struct latency *l)
{
    long warm = count / 10 + 1;
    *t = (struct timing){ 0, 0 };
    *l = (struct latency){ NAN, NAN, NAN };
    payload_salt(++trials_run * 0x9e3779b97f4a7c15u);   /* no trial sees another's data */
    switch (j->kind) {
    case J_THROUGHPUT:
        transfer(j->mech, j->size, warm, count, t);
        p->verified_messages += (unsigned long long)(warm + count);
        p->verified_bytes += (unsigned long long)(warm + count) * j->size;
        break;
    case J_MEMCPY:
        memcpy_best(j->size, warm, count, t);
        break;
    case J_DD:
        dd_run(warm, t);                /* untimed: the warm-up */
        dd_run(count, t);
        break;
    case J_LATENCY:
        roundtrip(j->mech, j->size, warm, count, l);
        t->messages = count;
        t->seconds = l->mean_us * (double)count / 1e6;
        p->verified_messages += 2 * (unsigned long long)(warm + count);
        p->verified_bytes += 2 * (unsigned long long)(warm + count) * j->size;
        break;
    case J_PERF: {
        double usecs;
        if (!perf_run(warm, &usecs, &j->na) || !perf_run(count, &usecs, &j->na))
            return INFINITY;            /* skipped, with the reason in j->na */
        l->mean_us = usecs;
        t->messages = count;
        t->seconds = usecs * (double)count / 1e6;
        break;
    }
    }
    check_stop();
    return t->seconds;
}

static long first_count(const struct job *j)
{
    switch (j->kind) {
    case J_THROUGHPUT: return (long)(256 * 1024 / j->size) + 16;
    case J_MEMCPY: return (long)(4 * 1024 * 1024 / j->size) + 16;
    case J_DD: return 64;
    case J_LATENCY: return 256;
    case J_PERF: return 1000;
    }
    return 16;
}

/* S as %g has it: die_msg() formats no floating point. */
static const char *seconds_text(double s)
{
    static char text[32];
    snprintf(text, sizeof text, "%g", s);
    return text;
}

/* COUNT took SECONDS: how many to take TARGET (growing at least a little). */
static long rescale(long count, double seconds, double target)
{
    double f = seconds > 0 ? target / seconds : 16;
    if (f > 16)
        f = 16;
    if (f < 1.25)
        f = 1.25;
    double c = (double)count * f + 1;
    if (c > (double)(LONG_MAX / 16))
        die_msg("calibration ran away (%ld in %s s)", count, seconds_text(seconds));
    return (long)c;
}

/* Find a count that lasts min_seconds with some margin.  Every run here is also a
 * warm-up for the rounds. */
static void calibrate(struct plan *p, struct job *j)
{
    long count = first_count(j);
    struct timing t;
    struct latency l;
    for (int tries = 0; tries < 30; tries++) {
        double s = run_job(p, j, count, &t, &l);
        if (isinf(s))
            return;                     /* perf is not there: j->na says why */
        if (s >= p->min_seconds * 1.2) {
            j->count = count;
            return;
        }
        count = rescale(count, s, p->min_seconds * 1.4);
    }
    die_msg("%s: could not calibrate a trial of %s s", j->name, seconds_text(p->min_seconds));
}

/* A timed trial must last min_seconds: one that came out shorter (the machine got
 * quieter) is run again, longer. */
static void timed_trial(struct plan *p, struct job *j, int round)
{
    struct timing t;
    struct latency l;
    for (int tries = 0; tries < 5; tries++) {
        double s = run_job(p, j, j->count, &t, &l);
        if (isinf(s))
            return;                     /* perf dropped out: j->na says why */
        if (s >= p->min_seconds) {
            j->rate[round] = (double)t.messages * (double)j->size / t.seconds;
            j->lat[round] = l;
            if (p->csv)
                csv_row(p, j, round, t.messages, t.seconds);
            return;
        }
        j->count = rescale(j->count, s, p->min_seconds * 1.4);
    }
    die_msg("%s: trials keep ending under %s s", j->name, seconds_text(p->min_seconds));
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;       /* xorshift64 */
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void run_rounds(struct plan *p)
{
    size_t *order = malloc(p->njobs * sizeof *order);
    if (order == NULL)
        die("malloc");
    rng_state = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() ^ 0x5deece66du;
    for (int r = 0; r < p->rounds; r++) {
        size_t n = 0;
        for (size_t i = 0; i < p->njobs; i++) {
            if (p->jobs[i].na == NULL)
                order[n++] = i;
            else if (p->csv)
                csv_row(p, &p->jobs[i], r, 0, 0);   /* n/a, said once per round */
        }
        for (size_t i = n; i > 1; i--) {            /* Fisher-Yates */
            size_t k = (size_t)(rng() % i), t = order[i - 1];
            order[i - 1] = order[k];
            order[k] = t;
        }
        if (!p->csv)
            say("round %d of %d: %zu trials in a new shuffled order", r + 1, p->rounds, n);
        for (size_t i = 0; i < n; i++)
            if (p->jobs[order[i]].na == NULL)       /* perf may have dropped out */
                timed_trial(p, &p->jobs[order[i]], r);
    }
    free(order);
}

/* ---- signals, cleanup ---- */

static void tick(int signo)
{
    (void)signo;                /* only there to interrupt a blocked msgrcv() or open() */
}

/* On for the trials only: SECONDS 1 starts it, 0 stops it. */
static void set_tick(long seconds)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tick;       /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1)
        die("sigaction SIGALRM");
    struct itimerval every = { { seconds, 0 }, { seconds, 0 } };
    if (setitimer(ITIMER_REAL, &every, NULL) == -1)
        die("setitimer");
}

/* The command line into PLAN and PINNING; true for --cleanup. */
static bool parse_args(int argc, char *argv[], struct plan *plan, enum pinning *pinning)
{
    bool rounds_given = false, cleanup = false;
    for (int m = 0; m < M_MECHS; m++)
        plan->mechs[m] = true;
    memcpy(plan->sizes, default_sizes, sizeof default_sizes);
    plan->nsizes = sizeof default_sizes / sizeof default_sizes[0];

    /* getopt_long(3) is a GNU extension: the long options have no short form. */
    static const struct option longopts[] = {
        { "latency", no_argument, NULL, OPT_LATENCY },
        { "csv", no_argument, NULL, OPT_CSV },
        { "quick", no_argument, NULL, OPT_QUICK },
        { "cleanup", no_argument, NULL, OPT_CLEANUP },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:s:r:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': parse_mechs(plan, optarg); break;
        case 's': parse_sizes(plan, optarg); break;
        case 'r':
            plan->rounds = (int)parse_number("-r", optarg, 1, MAX_ROUNDS);
            rounds_given = true;
            break;
        case 'c': *pinning = parse_pinning(optarg); break;
        case OPT_LATENCY: plan->latency = true; break;
        case OPT_CSV: plan->csv = true; break;
        case OPT_QUICK: plan->quick = true; break;
        case OPT_CLEANUP: cleanup = true; break;
        case 'h': usage_help();
        default:
            if (c == '?' && optopt >= OPT_LATENCY)  /* "--csv=1" */
                usage_error("option '%s' takes no argument", argv[optind - 1]);
            bad_option(c, argv);
        }
    }
    if (optind < argc)
        extra_operand(argv[optind]);
    if (plan->quick) {
        plan->min_seconds = 0.01;
        if (!rounds_given)
            plan->rounds = 2;
    }
    return cleanup;
}

/* Every trial calibrated, then the rounds, each in a new order. */
static void run_trials(struct plan *plan)
{
    size_t runnable = 0;
    for (size_t i = 0; i < plan->njobs; i++)
        runnable += plan->jobs[i].na == NULL;
    if (!plan->csv)
        sayf("calibrating %zu trials to last at least %g s each (after a warm-up)",
            runnable, plan->min_seconds);
    set_tick(1);
    for (size_t i = 0; i < plan->njobs; i++)
        if (plan->jobs[i].na == NULL)
            calibrate(plan, &plan->jobs[i]);
    run_rounds(plan);
    set_tick(0);
}

int main(int argc, char *argv[])
{
    prog_init("bench/ipcbench", "bench", usage);
    struct plan plan = { .rounds = 5, .min_seconds = 0.2 };
    enum pinning pinning = PIN_SAME;
    if (parse_args(argc, argv, &plan, &pinning)) {
        remove_leftovers();
        return 0;
    }

    payload_selftest();
    pin_setup(pinning);
    pin_self(ROLE_READER);
    catch_stop_signals();
    exit_cleanly(bench_cleanup);        /* a vanished child: EPIPE, reported */
    plan.load_start = load_average();
    mechs_prepare(plan.mechs);

    make_plan(&plan);
    if (plan.csv)
        csv_header();
    else
        report_header(&plan);
    run_trials(&plan);

    bool honest = plan.csv ? report_honest(&plan, true) : report_results(&plan);
    free_plan(&plan);
    return honest ? 0 : 1;
}
