/*
 * adaptive_limiter.c — the BBR adaptive limiter (Kratos's rule) sheds
 * SHEDDABLE traffic before CRITICAL traffic during a CPU spike.
 *
 * A server receives 2 CRITICAL and 2 SHEDDABLE requests per millisecond,
 * each taking 20 ms (longer when more than 100 are in flight), at 40 % CPU.
 * From 1 s a CPU spike puts it at 95 % while the load rises to 3 + 3 per ms,
 * and from 3 s to 5 + 5 per ms; at 4 s everything is back to normal. The
 * limiter drops a request when
 *     (cpu >= 800 OR within 1 s of the first drop) AND inflight > 1
 *     AND inflight > max_pass * min_rt_ms * buckets_per_second / 1000 * factor
 * It has learnt from the traffic before the spike that 400 requests pass per
 * 100 ms bucket at a 20 ms minimum latency: its CRITICAL limit is
 * 400 * 20 * 10 / 1000 = 80 in flight, SHEDDABLE's half of that (the default
 * ladder). From 1 s to 3 s the CRITICAL requests alone keep 60 in flight:
 * every SHEDDABLE request is shed and no CRITICAL one. From 3 s to 4 s
 * CRITICAL alone would need 100: SHEDDABLE is still shed entirely and
 * CRITICAL only down to its limit (which creeps up as the busier buckets
 * raise max_pass). Printed per 100 ms of simulated time.
 *
 * Manual CPU and virtual time (the _at functions) make the run the same
 * every time; examples/rust/adaptive_limiter.rs is the same simulation.
 * Exits non-zero on any unexpected result.
 *
 * Build:  cc -std=c11 -Iinclude examples/c/adaptive_limiter.c \
 *            target/release/libresilience.a -lpthread -ldl -lm
 * (`make examples` builds and runs it.)
 */
#include "resilience.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t MS = 1000000;

typedef struct {
    int64_t from_ms;
    uint32_t cpu_permille;
    int per_level; /* requests per ms of each level */
    const char *name;
} phase_t;

static const phase_t PHASES[4] = {
    {0, 400, 2, "calm"},
    {1000, 950, 3, "spike"},
    {3000, 950, 5, "heavy spike"},
    {4000, 400, 2, "calm again"},
};
enum { END_MS = 5000, MAX_RUNNING = 4096 };

static int problems;

static int ok(rsl_status st, const char *call) {
    if (st != RSL_OK) {
        fprintf(stderr, "error: %s: %s (%s)\n", call, rsl_status_str(st),
                rsl_last_error_message());
        problems++;
        return 0;
    }
    return 1;
}

static int phase_at(int64_t t_ms) {
    int p = 0, i;
    for (i = 0; i < 4; i++) {
        if (PHASES[i].from_ms <= t_ms) p = i;
    }
    return p;
}

/* Service time of a request admitted with `inflight` already running. */
static int64_t service_ms(size_t inflight) {
    return 20 * (int64_t)(inflight > 100 ? inflight : 100) / 100;
}

typedef struct {
    int64_t end_ns;
    rsl_adaptive_limiter_token token;
} running_t;

typedef struct {
    uint64_t admitted[2];
    uint64_t dropped[2];
} tally_t;

int main(void) {
    static running_t running[MAX_RUNNING];
    size_t n_running = 0;
    const rsl_criticality levels[2] = {RSL_CRITICALITY_SHEDDABLE, RSL_CRITICALITY_CRITICAL};
    rsl_adaptive_limiter_config cfg;
    rsl_adaptive_limiter *limiter = NULL;
    tally_t period, totals[4];
    int64_t t_ms;
    int p, k;

    memset(&period, 0, sizeof period);
    memset(totals, 0, sizeof totals);
    if (!ok(rsl_adaptive_limiter_config_init(&cfg, NULL), "rsl_adaptive_limiter_config_init")) return 1;
    cfg.cpu_source = RSL_CPU_SOURCE_MANUAL; /* the simulation sets the CPU */
    if (!ok(rsl_adaptive_limiter_new(&cfg, &limiter, NULL), "rsl_adaptive_limiter_new")) return 1;

    printf("time    cpu  inflight  limit(S/C)  SHEDDABLE adm/drop  CRITICAL adm/drop\n");
    for (t_ms = 0; t_ms < END_MS && problems == 0; t_ms++) {
        const int64_t now = t_ms * MS;
        const phase_t *ph = &PHASES[phase_at(t_ms)];
        size_t i = 0;
        int r;
        ok(rsl_adaptive_limiter_set_cpu(limiter, ph->cpu_permille, NULL), "rsl_adaptive_limiter_set_cpu");
        /* Completions first (finish times are not in admission order once
         * service times grow with load: scan them all). */
        while (i < n_running) {
            if (running[i].end_ns <= now) {
                ok(rsl_adaptive_limiter_record_at(limiter, now, &running[i].token,
                                                   RSL_OUTCOME_SUCCESS, NULL, NULL),
                   "rsl_adaptive_limiter_record_at");
                memmove(&running[i], &running[i + 1], (n_running - i - 1) * sizeof running[0]);
                n_running--;
            } else {
                i++;
            }
        }
        /* Arrivals, interleaved: SHEDDABLE, CRITICAL, SHEDDABLE, CRITICAL... */
        for (r = 0; r < ph->per_level; r++) {
            for (k = 0; k < 2; k++) {
                rsl_adaptive_limiter_decision d;
                if (!ok(rsl_adaptive_limiter_acquire_at(limiter, now, levels[k], &d, NULL),
                        "rsl_adaptive_limiter_acquire_at")) {
                    break;
                }
                if (d.allowed) {
                    if (n_running == MAX_RUNNING) {
                        fprintf(stderr, "unexpected: more than %d in flight\n", MAX_RUNNING);
                        problems++;
                        break;
                    }
                    period.admitted[k]++;
                    running[n_running].end_ns = now + service_ms(n_running) * MS;
                    running[n_running].token = d.token;
                    n_running++;
                } else {
                    period.dropped[k]++;
                }
            }
        }
        if (t_ms % 100 == 99) {
            rsl_adaptive_limiter_metrics m;
            char limits[16];
            memset(&m, 0, sizeof m);
            m.struct_size = sizeof m;
            if (!ok(rsl_adaptive_limiter_get_metrics_at(limiter, now, &m, NULL),
                    "rsl_adaptive_limiter_get_metrics_at")) {
                break;
            }
            snprintf(limits, sizeof limits, "%llu/%llu", (unsigned long long)m.limit_sheddable,
                     (unsigned long long)m.limit_critical);
            printf("%4.1fs  %4u  %8llu  %10s  %9llu/%-8llu  %8llu/%llu\n",
                   (double)(t_ms + 1) / 1000.0, (unsigned)m.cpu_permille,
                   (unsigned long long)m.inflight, limits,
                   (unsigned long long)period.admitted[0], (unsigned long long)period.dropped[0],
                   (unsigned long long)period.admitted[1], (unsigned long long)period.dropped[1]);
            p = phase_at(t_ms);
            for (k = 0; k < 2; k++) {
                totals[p].admitted[k] += period.admitted[k];
                totals[p].dropped[k] += period.dropped[k];
            }
            memset(&period, 0, sizeof period);
        }
    }
    for (p = 0; p < 4; p++) {
        printf("%-11s  SHEDDABLE %5llu admitted %5llu shed   CRITICAL %5llu admitted %5llu shed\n",
               PHASES[p].name, (unsigned long long)totals[p].admitted[0],
               (unsigned long long)totals[p].dropped[0], (unsigned long long)totals[p].admitted[1],
               (unsigned long long)totals[p].dropped[1]);
    }
    /* What the demo shows, checked: nothing shed when calm; during the spike
     * only SHEDDABLE; in the heavy spike all SHEDDABLE and the CRITICAL
     * excess only. */
    if (totals[0].dropped[0] + totals[0].dropped[1] + totals[3].dropped[0] +
            totals[3].dropped[1] != 0 ||
        !(totals[1].admitted[0] * 100 < totals[1].dropped[0]) || totals[1].dropped[1] != 0 ||
        totals[2].admitted[0] != 0 || totals[2].dropped[1] == 0 ||
        !(totals[2].dropped[1] < totals[2].admitted[1])) {
        fprintf(stderr, "unexpected: SHEDDABLE was not shed before CRITICAL\n");
        problems++;
    }
    rsl_adaptive_limiter_free(limiter);
    return problems == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
