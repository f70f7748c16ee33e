/*
 * leaky_bucket.c — the leaky bucket both ways, in virtual time:
 *
 *   1. uber-go/ratelimit's pacer, 10 per second WITHOUT slack: five callers
 *      arriving together are spaced exactly 100 ms apart (each sleeps until
 *      its permit); a caller after an idle spell proceeds at once.
 *   2. The same pacer with uber's default slack 10: after 2 s idle, 11
 *      callers proceed at once (the first permit plus 10 banked intervals),
 *      the 12th waits 100 ms; try_take with a deadline gives up instead of
 *      waiting past it.
 *   3. The leaky bucket as a meter (GCRA): 5 per second, burst 3. Three
 *      requests pass together, the fourth is told "not until 200 ms"; the
 *      meter never queues.
 *
 * The semantics are uber-go/ratelimit's and governor's (docs/semantics.md,
 * "Leaky bucket"). examples/rust/leaky_bucket.rs prints the same lines.
 *
 * Build:  cc -std=c11 -Iinclude examples/c/leaky_bucket.c \
 *            target/release/libresilience.a -lpthread -ldl -lm
 * Exits non-zero on any unexpected status or result.
 */
#include "resilience.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const int64_t MS = 1000000;

static int surprises;

static void check(rsl_status st, const char *call) {
    if (st != RSL_OK) {
        fprintf(stderr, "%s: %s: %s\n", call, rsl_status_str(st), rsl_last_error_message());
        exit(EXIT_FAILURE);
    }
}

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "unexpected: %s\n", what);
        surprises++;
    }
}

static double seconds(int64_t ns) { return (double)ns / 1e9; }

static rsl_leaky_bucket *bucket(uint32_t mode, uint32_t rate, uint32_t slack, uint32_t burst) {
    rsl_leaky_bucket_config cfg;
    rsl_leaky_bucket *b = NULL;
    check(rsl_leaky_bucket_config_init(&cfg, NULL), "rsl_leaky_bucket_config_init");
    cfg.mode = mode;
    cfg.rate = rate;
    cfg.slack = slack;
    cfg.burst = burst;
    check(rsl_leaky_bucket_new(&cfg, &b, NULL), "rsl_leaky_bucket_new");
    return b;
}

/* A caller arriving at `now`: prints when it proceeds. */
static rsl_leaky_bucket_permit take(rsl_leaky_bucket *b, int64_t now) {
    rsl_leaky_bucket_permit p;
    check(rsl_leaky_bucket_take_at(b, now, &p, NULL), "rsl_leaky_bucket_take_at");
    printf("  caller at t=%.3fs: proceeds at t=%.3fs (sleeps %lld ms)\n", seconds(now),
           seconds(p.ready_at_ns), (long long)(p.wait_ns / MS));
    return p;
}

int main(void) {
    rsl_leaky_bucket *pacer, *meter;
    rsl_leaky_bucket_permit p;
    rsl_leaky_bucket_verdict v;
    int64_t i, t;
    int at_once;

    printf("1. Pacer, 10 per second, without slack (one permit per 100 ms):\n");
    pacer = bucket(RSL_LEAKY_BUCKET_PACER, 10, 0, 1);
    for (i = 0; i < 5; i++) {
        p = take(pacer, 0);
        expect(p.ready_at_ns == i * 100 * MS, "evenly spaced permits");
    }
    p = take(pacer, 1000 * MS);
    expect(p.wait_ns == 0, "after an idle spell: at once");
    rsl_leaky_bucket_free(pacer);

    printf("\n2. Pacer, 10 per second, slack 10 (uber's default):\n");
    pacer = bucket(RSL_LEAKY_BUCKET_PACER, 10, 10, 1);
    take(pacer, 0);
    t = 2000 * MS;
    at_once = 0;
    for (i = 0; i < 11; i++) {
        check(rsl_leaky_bucket_take_at(pacer, t, &p, NULL), "rsl_leaky_bucket_take_at");
        at_once += p.wait_ns == 0;
    }
    printf("  11 callers at t=%.3fs: %d proceed at once (banked slack)\n", seconds(t), at_once);
    expect(at_once == 11, "slack banks 10 intervals");
    p = take(pacer, t);
    expect(p.wait_ns == 100 * MS, "the 12th waits one interval");
    check(rsl_leaky_bucket_try_take_at(pacer, t, 150 * MS, &p, NULL), "rsl_leaky_bucket_try_take_at");
    printf("  caller at t=%.3fs with a 150 ms deadline: %s (its permit would be at t=%.3fs)\n",
           seconds(t), p.taken ? "proceeds" : "gives up", seconds(p.ready_at_ns));
    expect(p.taken == 0 && p.ready_at_ns == t + 200 * MS, "try_take refuses past the deadline");
    rsl_leaky_bucket_free(pacer);

    printf("\n3. Meter (GCRA), 5 per second, burst 3 (T = 200 ms, tolerance 400 ms):\n");
    meter = bucket(RSL_LEAKY_BUCKET_METER, 5, 0, 3);
    for (i = 0; i < 4; i++) {
        check(rsl_leaky_bucket_check_at(meter, 0, 1, &v, NULL), "rsl_leaky_bucket_check_at");
        if (v.allowed) {
            printf("  request at t=0.000s: allowed, %u more could pass now\n",
                   (unsigned)v.remaining);
        } else {
            printf("  request at t=0.000s: denied, not until t=%.3fs\n", seconds(v.retry_at_ns));
        }
        expect((i < 3) == (v.allowed == 1), "three pass together");
    }
    expect(v.retry_at_ns == 200 * MS, "the fourth may retry at 200 ms");
    for (t = 200 * MS; t <= 300 * MS; t += 100 * MS) {
        check(rsl_leaky_bucket_check_at(meter, t, 1, &v, NULL), "rsl_leaky_bucket_check_at");
        if (v.allowed) {
            printf("  request at t=%.3fs: allowed\n", seconds(t));
        } else {
            printf("  request at t=%.3fs: denied, not until t=%.3fs\n", seconds(t),
                   seconds(v.retry_at_ns));
        }
    }
    expect(v.allowed == 0 && v.retry_at_ns == 400 * MS, "one cell per 200 ms afterwards");
    rsl_leaky_bucket_free(meter);

    if (surprises != 0) {
        fprintf(stderr, "%d unexpected results\n", surprises);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
