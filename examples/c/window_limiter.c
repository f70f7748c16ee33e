/*
 * window_limiter.c — "10 requests per second", three ways: the fixed
 * window's boundary burst against the two sliding windows.
 *
 * Three limiters get the same traffic: bursts of 12 requests at 0.95 s,
 * 1.00 s, 1.50 s and 2.00 s. Each allows 10 permits per 1 s window:
 *   FIXED             one count per window [k s, k+1 s);
 *   SLIDING_BUCKETS   10 buckets of 100 ms, the window is the last ten;
 *   SLIDING_WEIGHTED  previous window's count * (1 s - elapsed)/1 s + current.
 * The fixed window grants 10 at 0.95 s and 10 more at 1.00 s: 20 within
 * 50 ms (Resilience4j #1356). The sliding buckets grant nothing more until
 * the 0.95 s bucket leaves at 1.9 s. The weighted estimate refuses the burst
 * at 1.00 s (the previous 10 still weigh 10) but, assuming those 10 were
 * spread over [0 s, 1 s), grants 5 at 1.50 s: 15 within 550 ms — the price
 * of keeping two counters. Each denial says when to retry (retry_after_ns).
 *
 * Virtual time (the _at functions): the run is the same every time.
 * Exits non-zero on any unexpected result.
 *
 * Build:  cc -std=c11 -Iinclude examples/c/window_limiter.c \
 *            target/release/libresilience.a -lpthread -ldl -lm
 * (`make examples` builds and runs it.)
 */
#include "resilience.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const int64_t MS = 1000000;
static const int64_t SEC = 1000000000;

enum { MODES = 3, BURSTS = 4, BURST_SIZE = 12, MAX_GRANTS = BURSTS * BURST_SIZE };

static const uint32_t MODE[MODES] = {RSL_WINDOW_LIMITER_FIXED, RSL_WINDOW_LIMITER_SLIDING_BUCKETS,
                                     RSL_WINDOW_LIMITER_SLIDING_WEIGHTED};
static const char *const MODE_NAME[MODES] = {"fixed", "sliding buckets", "sliding weighted"};
static const int64_t BURST_AT_MS[BURSTS] = {950, 1000, 1500, 2000};

/* Hand-computed: granted per burst, and the first denial's retry (ms). */
static const int WANT_GRANTED[MODES][BURSTS] = {{10, 10, 0, 10}, {10, 0, 0, 10}, {10, 0, 5, 5}};
static const int64_t WANT_RETRY_MS[MODES][BURSTS] = {
    {50, 1000, 500, 1000}, {950, 900, 400, 1000}, {150, 100, 100, 200}};
static const int WANT_MAX_PER_SECOND[MODES] = {20, 10, 15};

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

int main(void) {
    rsl_window_limiter *lim[MODES] = {NULL, NULL, NULL};
    int64_t grants[MODES][MAX_GRANTS];
    int n_grants[MODES] = {0, 0, 0};
    int m, b, i, j;

    for (m = 0; m < MODES; m++) {
        rsl_window_limiter_config cfg;
        if (!ok(rsl_window_limiter_config_init(&cfg, NULL), "rsl_window_limiter_config_init")) return 1;
        cfg.mode = MODE[m];
        cfg.limit = 10;
        cfg.window_ns = SEC;
        cfg.buckets = 10;
        if (!ok(rsl_window_limiter_new(&cfg, &lim[m], NULL), "rsl_window_limiter_new")) return 1;
    }

    printf("limit: 10 per second; bursts of %d requests; retry = the first denial's "
           "retry_after_ns\n\n",
           BURST_SIZE);
    printf(" time   %-27s%-27s%s\n", MODE_NAME[0], MODE_NAME[1], MODE_NAME[2]);
    for (b = 0; b < BURSTS; b++) {
        const int64_t now = BURST_AT_MS[b] * MS;
        printf("%5.2fs ", (double)now / (double)SEC);
        for (m = 0; m < MODES; m++) {
            int granted = 0;
            int64_t retry = 0;
            char cell[64];
            for (i = 0; i < BURST_SIZE; i++) {
                rsl_window_limiter_decision d;
                if (!ok(rsl_window_limiter_try_acquire_at(lim[m], now, 1, RSL_CRITICALITY_DEFAULT,
                                                          &d, NULL),
                        "rsl_window_limiter_try_acquire_at")) {
                    break;
                }
                if (d.allowed) {
                    granted++;
                    grants[m][n_grants[m]++] = now;
                } else if (retry == 0) {
                    retry = d.retry_after_ns;
                }
            }
            snprintf(cell, sizeof cell, "%2d granted, retry %4lld ms", granted,
                     (long long)(retry / MS));
            printf("  %-25s", cell);
            if (granted != WANT_GRANTED[m][b] || retry != WANT_RETRY_MS[m][b] * MS) {
                fprintf(stderr, "\nunexpected: %s at %lld ms: %d granted, retry %lld ns\n",
                        MODE_NAME[m], (long long)BURST_AT_MS[b], granted, (long long)retry);
                problems++;
            }
        }
        printf("\n");
    }

    /* The most permits granted within any interval of one second. */
    printf("\nmost permits granted within any 1 s:\n");
    for (m = 0; m < MODES; m++) {
        int best = 0;
        for (i = 0; i < n_grants[m]; i++) {
            int count = 0;
            for (j = 0; j < n_grants[m]; j++) {
                if (grants[m][j] >= grants[m][i] && grants[m][j] < grants[m][i] + SEC) count++;
            }
            if (count > best) best = count;
        }
        printf("  %-17s %2d%s\n", MODE_NAME[m], best,
               best > 10 ? "  (more than the limit)" : "");
        if (best != WANT_MAX_PER_SECOND[m]) {
            fprintf(stderr, "unexpected: %s: %d in one second\n", MODE_NAME[m], best);
            problems++;
        }
        rsl_window_limiter_free(lim[m]);
    }
    return problems == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
