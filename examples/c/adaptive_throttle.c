/*
 * adaptive_throttle.c — client-side adaptive throttling (Google SRE book,
 * "Handling Overload") against a backend that falls over and recovers.
 *
 * A client sends 100 requests per simulated second. The backend accepts
 * everything, then from t = 10 s rejects 80% of the requests it receives,
 * then heals at t = 30 s. The throttle rejects locally with probability
 *     p = max(0, (requests - K * accepts) / (requests + 1))      (K = 2)
 * over a rolling window, so once accepts fall the client stops sending most
 * requests (they fail fast, locally, without loading the backend), and once
 * the backend heals the window refills with accepts and p falls back to 0.
 * Recovery takes a while: the outage's local rejections count as requests
 * (as in the SRE book) until they slide out of the window, and meanwhile the
 * few requests let through must earn the accepts back.
 *
 * Virtual time and a fixed seed make the run the same every time. The
 * window is 10 s (the SRE book's default is 2 minutes) to keep the output
 * short. Exits non-zero on any unexpected result.
 *
 * Build:  cc -std=c11 -Iinclude examples/c/adaptive_throttle.c \
 *            target/release/libresilience.a -lpthread -ldl -lm
 * (`make examples` builds and runs it.)
 */
#include "resilience.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const int64_t SEC = 1000000000;

enum {
    REQUESTS_PER_SECOND = 100,
    DEGRADED_FROM_S = 10, /* the backend starts rejecting 80% */
    HEALED_FROM_S = 30,   /* the backend accepts everything again */
    END_S = 55,
};

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

static void expect(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "unexpected: %s\n", what);
        problems++;
    }
}

/* The backend: while degraded it accepts one request in five. */
typedef struct {
    int degraded;
    uint64_t received;
} backend;

static int backend_accepts(backend *be) {
    be->received++;
    return !be->degraded || be->received % 5 == 0;
}

int main(void) {
    rsl_adaptive_throttle_config cfg;
    rsl_adaptive_throttle *t = NULL;
    backend be = {0, 0};
    double share_end_of_outage = 0.0, share_end = 1.0, peak_p = 0.0;
    int second;

    printf("libresilience %s — adaptive throttle vs. a failing backend (virtual time)\n\n",
           rsl_version_string());
    if (!ok(rsl_adaptive_throttle_config_init(&cfg, NULL), "rsl_adaptive_throttle_config_init")) {
        return EXIT_FAILURE;
    }
    cfg.window_ns = 10 * SEC; /* 10 buckets of 1 s */
    cfg.buckets = 10;
    cfg.seed = 2024; /* fixed: the drop draws replay exactly */
    if (!ok(rsl_adaptive_throttle_new(&cfg, &t, NULL), "rsl_adaptive_throttle_new")) {
        return EXIT_FAILURE;
    }
    printf("K = %.1f, window %.0f s in %u buckets, %d requests/s offered\n", cfg.k,
           (double)cfg.window_ns / SEC, (unsigned)cfg.buckets, REQUESTS_PER_SECOND);
    printf("backend: healthy, rejects 80%% from t = %d s, healed from t = %d s\n\n",
           DEGRADED_FROM_S, HEALED_FROM_S);
    printf("  t (s)  backend   sent  accepted  rejected locally   drop probability\n");

    for (second = 0; second < END_S; second++) {
        int i, sent = 0, accepted = 0, local = 0;
        rsl_adaptive_throttle_metrics m;
        double share;
        be.degraded = second >= DEGRADED_FROM_S && second < HEALED_FROM_S;
        for (i = 0; i < REQUESTS_PER_SECOND; i++) {
            const int64_t now = second * SEC + (int64_t)i * (SEC / REQUESTS_PER_SECOND);
            rsl_adaptive_throttle_decision d;
            if (!ok(rsl_adaptive_throttle_allow_at(t, now, &d, NULL), "rsl_adaptive_throttle_allow_at")) {
                break;
            }
            if (!d.allowed) {
                local++; /* fail fast: the backend never sees it */
                continue;
            }
            sent++;
            if (backend_accepts(&be)) {
                accepted++;
                ok(rsl_adaptive_throttle_record_at(t, now, &d.ticket, RSL_OUTCOME_SUCCESS, NULL),
                   "rsl_adaptive_throttle_record_at");
            } else {
                ok(rsl_adaptive_throttle_record_at(t, now, &d.ticket, RSL_OUTCOME_FAILURE, NULL),
                   "rsl_adaptive_throttle_record_at");
            }
        }
        m.struct_size = sizeof m;
        if (!ok(rsl_adaptive_throttle_get_metrics_at(t, (second + 1) * SEC - 1, &m, NULL),
                "rsl_adaptive_throttle_get_metrics_at")) {
            break;
        }
        share = (double)local / REQUESTS_PER_SECOND;
        printf("  %5d  %-8s  %4d  %8d  %14.0f%%   %6.3f  %.*s\n", second,
               be.degraded ? "80% fail" : "healthy", sent, accepted, 100.0 * share,
               m.drop_probability, (int)(m.drop_probability * 40.0 + 0.5),
               "########################################");
        if (m.drop_probability > peak_p) peak_p = m.drop_probability;
        if (second == HEALED_FROM_S - 1) share_end_of_outage = share;
        if (second == END_S - 1) share_end = share;
        if (second < DEGRADED_FROM_S) {
            expect(local == 0 && m.drop_probability == 0.0,
                   "no local rejection while the backend is healthy");
        }
    }

    {
        rsl_adaptive_throttle_metrics m;
        m.struct_size = sizeof m;
        if (ok(rsl_adaptive_throttle_get_metrics_at(t, END_S * SEC, &m, NULL),
               "rsl_adaptive_throttle_get_metrics_at")) {
            printf("\ntotal: %llu allowed, %llu rejected locally; peak drop probability %.3f\n",
                   (unsigned long long)m.allowed_total, (unsigned long long)m.rejected_total,
                   peak_p);
            expect(m.allowed_total + m.rejected_total == (uint64_t)END_S * REQUESTS_PER_SECOND,
                   "every request was either allowed or rejected");
        }
    }
    expect(share_end_of_outage > 0.5, "the client sheds most requests locally during the outage");
    expect(share_end == 0.0, "no local rejection once the backend has healed");

    rsl_adaptive_throttle_free(t);
    if (problems != 0) {
        fprintf(stderr, "adaptive throttle example: %d unexpected results\n", problems);
        return EXIT_FAILURE;
    }
    printf("adaptive throttle example: shed locally during the outage, recovered after it\n");
    return EXIT_SUCCESS;
}
