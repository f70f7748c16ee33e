/*
 * token_bucket.c — the seeds' token bucket (capacity 100, 10 tokens per
 * second, acquire 1, destroy) on rsl_token_bucket, then the same bucket step
 * by step in virtual time, where refill, the burst cap, reservations and
 * cancellation are visible and the run is the same every time:
 *
 *   t = 0        120 requests: the full bucket grants 100, limits 20
 *   t = 0.1 s    1 token has come back
 *   t = 0.55 s   4.5 tokens: 4 of 5 requests pass
 *   t = 10.55 s  the bucket is full again (capped at 100)
 *                105 tokens can never be granted (RSL_ERR_EXCEEDS_CAPACITY)
 *                take 100, reserve 5 more: act at 11.05 s
 *   t = 10.8 s   cancel the reservation: its 5 tokens come back (2.5 left)
 *                a reservation that would wait 250 ms > 100 ms is refused
 *
 * The semantics are golang.org/x/time/rate's (docs/semantics.md, "Token
 * bucket"). examples/rust/token_bucket.rs prints the same lines.
 *
 * Build:  cc -std=c11 -Iinclude examples/c/token_bucket.c \
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

/* n allow calls at `now`; returns how many passed. */
static int allow_many(rsl_token_bucket *b, int64_t now, int n) {
    int i, passed = 0;
    for (i = 0; i < n; i++) {
        uint32_t allowed = 0;
        check(rsl_token_bucket_allow_at(b, now, 1, &allowed, NULL), "rsl_token_bucket_allow_at");
        passed += (int)allowed;
    }
    return passed;
}

static double tokens_at(rsl_token_bucket *b, int64_t now) {
    double t = 0.0;
    check(rsl_token_bucket_tokens_at(b, now, &t, NULL), "rsl_token_bucket_tokens_at");
    return t;
}

int main(void) {
    rsl_token_bucket_config cfg;
    rsl_token_bucket *limiter = NULL;
    rsl_token_bucket_reservation r;
    uint32_t allowed = 0;
    int64_t t;
    int passed;
    double tokens;
    rsl_status st;

    /* The seeds' example, on the library clock. */
    check(rsl_token_bucket_config_init(&cfg, NULL), "rsl_token_bucket_config_init");
    cfg.burst = 100;          /* capacity */
    cfg.rate_per_sec = 10.0;  /* 10 tokens per second */
    check(rsl_token_bucket_new(&cfg, &limiter, NULL), "rsl_token_bucket_new");
    printf("TokenBucket(capacity=100, rate=10) on the library clock:\n");
    check(rsl_token_bucket_allow(limiter, 1, &allowed, NULL), "rsl_token_bucket_allow");
    printf("  acquire(1): %s\n", allowed ? "Request allowed" : "Request rate limited");
    expect(allowed == 1, "a full bucket grants the first request");
    rsl_token_bucket_free(limiter);

    /* The same bucket in virtual time. */
    limiter = NULL;
    check(rsl_token_bucket_new(&cfg, &limiter, NULL), "rsl_token_bucket_new");
    printf("\nThe same bucket in virtual time:\n");

    t = 0;
    passed = allow_many(limiter, t, 120);
    tokens = tokens_at(limiter, t);
    printf("  t=%6.3fs  120 requests: %d allowed, %d limited; tokens %.3f\n", seconds(t), passed,
           120 - passed, tokens);
    expect(passed == 100 && tokens == 0.0, "100 of 120 at t=0");

    t = 100 * MS;
    tokens = tokens_at(limiter, t);
    passed = allow_many(limiter, t, 1);
    printf("  t=%6.3fs  tokens %.3f; 1 request: %s\n", seconds(t), tokens,
           passed ? "allowed" : "limited");
    expect(tokens == 1.0 && passed == 1, "one token back after 100 ms");

    t = 550 * MS;
    tokens = tokens_at(limiter, t);
    passed = allow_many(limiter, t, 5);
    printf("  t=%6.3fs  tokens %.3f; 5 requests: %d allowed, %d limited\n", seconds(t), tokens,
           passed, 5 - passed);
    expect(tokens == 4.5 && passed == 4, "4.5 tokens grant 4");

    t = 10550 * MS;
    tokens = tokens_at(limiter, t);
    printf("  t=%6.3fs  tokens %.3f (capped at the capacity)\n", seconds(t), tokens);
    expect(tokens == 100.0, "full again");

    st = rsl_token_bucket_reserve_at(limiter, t, 105, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL);
    printf("  t=%6.3fs  reserve 105: %s (%s)\n", seconds(t),
           st == RSL_ERR_EXCEEDS_CAPACITY ? "RSL_ERR_EXCEEDS_CAPACITY" : rsl_status_str(st),
           rsl_last_error_message());
    expect(st == RSL_ERR_EXCEEDS_CAPACITY && r.ok == 0, "105 > capacity can never succeed");

    check(rsl_token_bucket_allow_at(limiter, t, 100, &allowed, NULL), "rsl_token_bucket_allow_at");
    check(rsl_token_bucket_reserve_at(limiter, t, 5, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL),
          "rsl_token_bucket_reserve_at");
    tokens = tokens_at(limiter, t);
    printf("  t=%6.3fs  take 100, reserve 5: act at t=%.3fs (wait %lld ms); tokens %.3f\n",
           seconds(t), seconds(r.time_to_act_ns), (long long)(r.wait_ns / MS), tokens);
    expect(allowed == 1 && r.ok == 1 && r.time_to_act_ns == 11050 * MS && r.wait_ns == 500 * MS &&
               tokens == -5.0,
           "5 more act 500 ms later");

    t = 10800 * MS;
    check(rsl_token_bucket_cancel_at(limiter, t, &r, NULL), "rsl_token_bucket_cancel_at");
    tokens = tokens_at(limiter, t);
    printf("  t=%6.3fs  cancel it: tokens %.3f (-5 + 2.5 earned + 5 given back)\n", seconds(t),
           tokens);
    expect(r.cancelled == 1 && tokens == 2.5, "the reservation's tokens come back");

    check(rsl_token_bucket_reserve_at(limiter, t, 5, 100 * MS, &r, NULL),
          "rsl_token_bucket_reserve_at");
    printf("  t=%6.3fs  reserve 5 waiting at most 100 ms: %s\n", seconds(t),
           r.ok ? "granted" : "refused (it would wait 250 ms); nothing changed");
    expect(r.ok == 0 && tokens_at(limiter, t) == 2.5, "a refused reservation changes nothing");

    rsl_token_bucket_free(limiter);
    if (surprises != 0) {
        fprintf(stderr, "%d unexpected results\n", surprises);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
