/* report.c - what ipcbench prints: the header (what machine, what settings),
 * the throughput table, a bar chart for the eye, the crossover size, the
 * latency table and the honesty checks; or, with --csv, one row per trial.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <stdarg.h>

void sayf(const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    say("%s", text);
}

enum { BAR = 40 };

const char *size_name(size_t size)
{
    static char names[4][32];
    static int next;
    char *s = names[next++ % 4];
    if (size >= 1048576 && size % 1048576 == 0)
        snprintf(s, sizeof names[0], "%zu MiB", size / 1048576);
    else if (size >= 1024 && size % 1024 == 0)
        snprintf(s, sizeof names[0], "%zu KiB", size / 1024);
    else
        snprintf(s, sizeof names[0], "%zu B", size);
    return s;
}

double load_average(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "re");
    if (f != NULL) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    return load;
}

/* V with three significant digits, trailing zeros kept: 0.0520, 1.20, 12.0, 120. */
static const char *sig3(double v)
{
    static char names[4][32];
    static int next;
    char *s = names[next++ % 4];
    if (v >= 100 || v <= 0)
        snprintf(s, sizeof names[0], "%.0f", v);
    else
        snprintf(s, sizeof names[0], "%#.3g", v);
    return s;
}

/* "1.23M", "456k": a count at a glance. */
static const char *count_name(double v)
{
    static char names[2][32];
    static int next;
    char *s = names[next++ % 2];
    if (v >= 1e9)
        snprintf(s, sizeof names[0], "%.3gG", v / 1e9);
    else if (v >= 1e6)
        snprintf(s, sizeof names[0], "%.3gM", v / 1e6);
    else if (v >= 1e3)
        snprintf(s, sizeof names[0], "%.3gk", v / 1e3);
    else
        snprintf(s, sizeof names[0], "%.3g", v);
    return s;
}

static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon += 1 + strspn(colon + 1, " \t");
            snprintf(buf, size, "%.*s", (int)strcspn(colon, "\n"), colon);
            break;
        }
    }
    fclose(f);
}

void report_header(const struct plan *p)
{
    struct utsname u;
    if (uname(&u) == -1)
        die("uname");
    char cpu[128];
    cpu_model(cpu, sizeof cpu);
    say("bench/ipcbench: one-way throughput%s, every byte verified", p->latency
        ? " and round-trip latency" : "");
    say("kernel %s %s %s, CPU %s, %ld CPUs online", u.sysname, u.release, u.machine, cpu,
        sysconf(_SC_NPROCESSORS_ONLN));
    say("pinning: %s", pin_describe());
    say("pipe size %ld B (pipe-max-size %ld B), msgmax %ld B, msgmnb %ld B",
        pipe_default_size(), proc_long("/proc/sys/fs/pipe-max-size", -1), msgmax(),
        proc_long("/proc/sys/kernel/msgmnb", -1));
    bool mq = p->mechs[M_PMQ], shm = p->mechs[M_PSHM] || p->mechs[M_PSHM1];
    if (mq || shm)
        say("POSIX names: %s (each unlinked as soon as both processes hold it)",
            posix_names(mq, shm));
    sayf("%d rounds; each trial >= %g s after a warm-up%s; load average %.2f at the start",
        p->rounds, p->min_seconds, p->quick ? " (--quick: not for conclusions)" : "",
        p->load_start);
}

/* ---- --csv ---- */

void csv_header(void)
{
    printf("kind,round,mechanism,size,messages,seconds,gb_per_s,msgs_per_s,"
           "mean_us,median_us,min_us,pinning,status\n");
    fflush(stdout);
}

void csv_row(const struct plan *p, const struct job *j, int round, long messages,
             double seconds)
{
    (void)p;
    bool trip = j->kind == J_LATENCY || j->kind == J_PERF;
    printf("%s,%d,%s,%zu,", trip ? "latency" : "throughput", round + 1, j->name, j->size);
    if (j->na != NULL) {
        printf(",,,,,,,%s,n/a\n", pin_mode_name());
    } else if (trip) {
        const struct latency *l = &j->lat[round];
        printf("%ld,%.6f,,,%.3f,", messages, seconds, l->mean_us);
        if (isnan(l->median_us))
            printf(",,%s,ok\n", pin_mode_name());   /* perf gives only the mean */
        else
            printf("%.3f,%.3f,%s,ok\n", l->median_us, l->min_us, pin_mode_name());
    } else {
        printf("%ld,%.6f,%.6f,%.1f,,,,%s,ok\n", messages, seconds, j->rate[round] / 1e9,
               (double)messages / seconds, pin_mode_name());
    }
    fflush(stdout);
}

/* ---- statistics over the rounds ---- */

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[128];
    memcpy(s, v, (size_t)n * sizeof *v);
    qsort(s, (size_t)n, sizeof *s, compare_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double smallest(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static double largest(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

static const struct job *find(const struct plan *p, enum job_kind kind, const char *name,
                              size_t size)
{
    for (size_t i = 0; i < p->njobs; i++) {
        const struct job *j = &p->jobs[i];
        if (j->kind == kind && j->size == size && strcmp(j->name, name) == 0)
            return j->na == NULL ? j : NULL;
    }
    return NULL;
}

/* The median of the per-round ratios J / REF: each round's pair ran close in
 * time, so a slow moment of the machine cancels out. */
static double ratio(const struct plan *p, const struct job *j, const struct job *ref)
{
    double r[128] = { 0 };
    if (ref == NULL || j->na != NULL)
        return NAN;
    for (int i = 0; i < p->rounds; i++)
        r[i] = j->rate[i] / ref->rate[i];
    return median(r, p->rounds);
}

static double rate_of(const struct plan *p, const struct job *j)
{
    return j == NULL ? NAN : median(j->rate, p->rounds);
}

static void ratio_text(char *buf, size_t size, double r)
{
    if (isnan(r))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, r < 0.1 ? "%.4f" : "%.2f", r);
}

static void table_row(const struct plan *p, const struct job *j, const char *label)
{
    if (j->na != NULL) {
        say("%8s  %-10s n/a: %s", label, j->name, j->na);
        return;
    }
    double med = median(j->rate, p->rounds);
    double lo = smallest(j->rate, p->rounds), hi = largest(j->rate, p->rounds);
    char xpipe[16], xmemcpy[16], range[40];
    ratio_text(xpipe, sizeof xpipe, ratio(p, j, find(p, J_THROUGHPUT, "pipe", j->size)));
    ratio_text(xmemcpy, sizeof xmemcpy, ratio(p, j, find(p, J_MEMCPY, "memcpy", j->size)));
    snprintf(range, sizeof range, "%s .. %s", sig3(lo / 1e9), sig3(hi / 1e9));
    say("%8s  %-10s %8s  %-17s %8s/s %7s %8s", label, j->name, sig3(med / 1e9), range,
        count_name(med / (double)j->size), xpipe, xmemcpy);
}

static void throughput_table(const struct plan *p)
{
    say("%s", "");
    say("throughput, writer -> reader (GB/s = 10^9 bytes/s, median of %d rounds and "
        "min .. max;", p->rounds);
    say("x pipe and x memcpy: median of the per-round ratios)");
    say("%8s  %-10s %8s  %-17s %10s %7s %8s", "size", "mechanism", "GB/s", "min .. max",
        "messages", "x pipe", "x memcpy");
    for (size_t s = 0; s < p->nsizes; s++) {
        const char *label = size_name(p->sizes[s]);
        for (size_t i = 0; i < p->njobs; i++) {
            const struct job *j = &p->jobs[i];
            if ((j->kind == J_THROUGHPUT || j->kind == J_MEMCPY ||
                 j->kind == J_DD) && j->size == p->sizes[s]) {
                table_row(p, j, label);
                label = "";
            }
        }
    }
    const struct job *dd = find(p, J_DD, "dd|dd", DD_BLOCK);
    bool shown = false;
    for (size_t s = 0; s < p->nsizes; s++)
        shown |= p->sizes[s] == DD_BLOCK;
    if (dd != NULL && !shown)
        table_row(p, dd, size_name(DD_BLOCK));
    char rings[512] = "";
    size_t used = 0;
    for (size_t s = 0; s < p->nsizes && used < sizeof rings - 64; s++)
        used += (size_t)snprintf(rings + used, sizeof rings - used, "%s%u slots of %s",
                                 s ? ", " : "", shm_slots(p->sizes[s]), size_name(p->sizes[s]));
    if (p->mechs[M_SHM] || p->mechs[M_SHM1])
        say("shm's ring: %s; shm1's: 1 slot", rings);
    used = 0;
    for (size_t s = 0; s < p->nsizes && used < sizeof rings - 64; s++)
        used += (size_t)snprintf(rings + used, sizeof rings - used, "%s%u slots of %s",
                                 s ? ", " : "", pshm_slots(p->sizes[s]), size_name(p->sizes[s]));
    if (p->mechs[M_PSHM] || p->mechs[M_PSHM1])
        say("posix-shm's ring: %s, a post per 64 messages; posix-shm1's: the same, a post "
            "per message", rings);
}

static void bar_chart(const struct plan *p)
{
    say("%s", "");
    say("at a glance (each size scaled to its fastest mechanism; '>' marks memcpy, the "
        "ceiling, off the scale)");
    for (size_t s = 0; s < p->nsizes; s++) {
        double scale = 0;
        for (size_t i = 0; i < p->njobs; i++) {
            const struct job *j = &p->jobs[i];
            if (j->size == p->sizes[s] && j->na == NULL &&
                (j->kind == J_THROUGHPUT || j->kind == J_DD))
                if (rate_of(p, j) > scale)
                    scale = rate_of(p, j);
        }
        if (scale <= 0)
            continue;
        say("%s", size_name(p->sizes[s]));
        for (size_t i = 0; i < p->njobs; i++) {
            const struct job *j = &p->jobs[i];
            if (j->size != p->sizes[s] || j->kind == J_LATENCY || j->kind == J_PERF)
                continue;
            if (j->na != NULL) {
                say("  %-10s |%-*s| n/a", j->name, BAR, "");
                continue;
            }
            double v = rate_of(p, j);
            int n = (int)(v / scale * BAR + 0.5);
            char bar[BAR + 2];
            bool over = n > BAR;
            if (over)
                n = BAR;
            memset(bar, '#', (size_t)n);
            bar[n] = '\0';
            say("  %-10s |%-*s|%s %s GB/s", j->name, BAR, bar, over ? ">" : "", sig3(v / 1e9));
        }
    }
}

/* The smallest size from which MECH beats pipe at every larger size too. */
static void crossover(const struct plan *p, const char *mech)
{
    size_t from = 0;
    bool seen = false;
    double at = NAN, before = NAN;
    size_t before_size = 0;
    for (size_t s = p->nsizes; s-- > 0;) {
        const struct job *j = find(p, J_THROUGHPUT, mech, p->sizes[s]);
        double r = j == NULL ? NAN : ratio(p, j, find(p, J_THROUGHPUT, "pipe", p->sizes[s]));
        if (isnan(r))
            return;
        seen = true;
        if (r <= 1) {
            before = r;
            before_size = p->sizes[s];
            break;
        }
        from = p->sizes[s];
        at = r;
    }
    if (!seen)
        return;
    if (from == 0)
        sayf("crossover: %s does not beat pipe at the largest size measured (x%.2f at %s)",
            mech, before, size_name(before_size));
    else if (isnan(before))
        sayf("crossover: %s beats pipe at every size measured (x%.2f at %s)", mech, at,
            size_name(from));
    else
        sayf("crossover: %s beats pipe from %s up (x%.2f there; x%.2f at %s)", mech,
            size_name(from), at, before, size_name(before_size));
}

static double perf_usecs(const struct plan *p)
{
    const struct job *perf = find(p, J_PERF, "perf", 4);
    if (perf == NULL)
        return NAN;
    double v[128] = { 0 };
    for (int r = 0; r < p->rounds; r++)
        v[r] = perf->lat[r].mean_us;
    return median(v, p->rounds);
}

static void latency_table(const struct plan *p)
{
    say("%s", "");
    say("round trips (microseconds; median of the per-round medians, smallest minimum, "
        "median of the means)");
    say("%8s  %-10s %9s %8s %8s %7s", "size", "mechanism", "median", "min", "mean", "x perf");
    double perf = perf_usecs(p);
    for (size_t i = 0; i < p->njobs; i++) {
        const struct job *j = &p->jobs[i];
        if (j->kind != J_LATENCY)
            continue;
        double med[128] = { 0 }, lo[128] = { 0 }, mean[128] = { 0 };
        for (int r = 0; r < p->rounds; r++) {
            med[r] = j->lat[r].median_us;
            lo[r] = j->lat[r].min_us;
            mean[r] = j->lat[r].mean_us;
        }
        char xperf[16];
        ratio_text(xperf, sizeof xperf, median(mean, p->rounds) / perf);
        sayf("%8s  %-10s %9.2f %8.2f %8.2f %7s", size_name(j->size), j->name,
            median(med, p->rounds), smallest(lo, p->rounds), median(mean, p->rounds), xperf);
    }
    const struct job *pj = NULL;
    for (size_t i = 0; i < p->njobs; i++)
        if (p->jobs[i].kind == J_PERF)
            pj = &p->jobs[i];
    if (pj != NULL && pj->na != NULL)
        say("%8s  %-10s skipped: %s", "4 B", "perf", pj->na);
    else if (pj != NULL)
        sayf("%8s  %-10s %9s %8s %8.2f %7s   (perf bench sched pipe gives only the mean)",
            "4 B", "perf", "-", "-", perf, "1.00");
}

static void limits(const struct plan *p)
{
    say("%s", "");
    const struct job *dd = find(p, J_DD, "dd|dd", DD_BLOCK);
    const struct job *pipe64k = find(p, J_THROUGHPUT, "pipe", DD_BLOCK);
    if (dd != NULL && pipe64k != NULL)
        sayf("limits: pipe at 64 KiB moves x%.2f of dd bs=64k | dd (%s GB/s)",
            ratio(p, pipe64k, dd), sig3(rate_of(p, dd) / 1e9));
    if (p->latency) {
        const struct job *pipe1 = find(p, J_LATENCY, "pipe", 1);
        double perf = perf_usecs(p);
        if (pipe1 != NULL && !isnan(perf)) {
            double mean[128] = { 0 };
            for (int r = 0; r < p->rounds; r++)
                mean[r] = pipe1->lat[r].mean_us;
            sayf("limits: a 1 B pipe round trip takes x%.2f of perf bench sched pipe's "
                "(%.2f us per round trip)", median(mean, p->rounds) / perf, perf);
        }
    }
}

/* No IPC can beat one process copying the bytes: a figure above memcpy's best (with
 * a margin for noise, see bench.h) means the measurement is broken.  --quick
 * trials are too short to tell: there it is a note, never a failure. */
bool report_honest(const struct plan *p, bool on_stderr)
{
    int above = 0;
    for (size_t i = 0; i < p->njobs; i++) {
        const struct job *j = &p->jobs[i];
        if ((j->kind != J_THROUGHPUT && j->kind != J_DD) || j->na != NULL)
            continue;
        const struct job *mc = find(p, J_MEMCPY, "memcpy", j->size);
        if (mc == NULL)
            continue;
        double v = rate_of(p, j), ceiling = largest(mc->rate, p->rounds);
        if (v <= ceiling * CEILING_TOLERANCE)
            continue;
        char msg[320];
        snprintf(msg, sizeof msg, "%s: %s at %s: %.3g GB/s, above memcpy's best %.3g GB/s "
                 "-- no IPC can beat one process copying the bytes, so %s", p->quick ? "note"
                 : "BROKEN", j->name, size_name(j->size), v / 1e9, ceiling / 1e9, p->quick
                 ? "--quick trials are too short to tell (not a failure)" : "these figures "
                 "are wrong");
        if (on_stderr && !p->quick)
            warn_msg("%s", msg);
        else if (!on_stderr)
            say("%s", msg);
        above++;
    }
    if (above == 0 && !on_stderr)
        say("no figure above memcpy for the same size: consistent");
    return above == 0 || p->quick;
}

bool report_results(const struct plan *p)
{
    throughput_table(p);
    bar_chart(p);
    say("%s", "");
    crossover(p, "shm");
    crossover(p, "shm1");
    crossover(p, "posix-shm");
    if (p->latency)
        latency_table(p);
    limits(p);
    sayf("verified: %llu messages, %.3g GB, every byte compared with what its sequence "
        "number makes it: no mismatch", p->verified_messages, (double)p->verified_bytes / 1e9);
    bool honest = report_honest(p, false);
    sayf("load average %.2f at the end", load_average());
    return honest;
}
