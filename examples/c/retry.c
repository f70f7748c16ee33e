/*
 * The seeds' retry examples in C, step by step in virtual time (nothing
 * sleeps):
 *   1. retry(max_attempts = 3, ExponentialBackoffStrategy(1 s, 60 s)) on an
 *      operation that always fails;
 *   2. JitterRetryStrategy(base 1 s, max 10 s) with an on-retry hook that
 *      prints the attempt and the delay, on a Redis GET that fails twice;
 *   3. the overload rule: a layer that gives up answers
 *      "x-rsl-retry: overloaded" and the caller's layer does not retry.
 *
 * Build: cargo build --release &&
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/c/retry.c \
 *      target/release/libresilience.a -lpthread -ldl -lm -o retry
 */
#include "resilience.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL
#define SECOND 1000000000LL
#define ATTEMPT_NS (10 * MS) /* each simulated attempt takes 10 ms */

static void check(rsl_status st, const char *what) {
    if (st != RSL_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, rsl_status_str(st), rsl_last_error_message());
        exit(1);
    }
}

static double secs(int64_t ns) { return (double)ns / 1e9; }

static const char *reason_name(uint32_t r) {
    switch (r) {
    case RSL_RETRY_REASON_RETRY: return "retry";
    case RSL_RETRY_REASON_SUCCESS: return "success";
    case RSL_RETRY_REASON_NOT_RETRYABLE: return "not_retryable";
    case RSL_RETRY_REASON_OVERLOADED: return "overloaded";
    case RSL_RETRY_REASON_MAX_ATTEMPTS: return "max_attempts";
    case RSL_RETRY_REASON_MAX_ELAPSED: return "max_elapsed";
    case RSL_RETRY_REASON_DEADLINE: return "deadline";
    case RSL_RETRY_REASON_SERVER_REFUSED: return "server_refused";
    case RSL_RETRY_REASON_BUDGET: return "budget";
    default: return "?";
    }
}

/* The seeds' on_retry hook: attempt is the attempt that failed. */
static void on_retry(uint32_t attempt, int64_t delay_ns, const char *err) {
    printf("Retry %u after %.2fs: %s\n", attempt, secs(delay_ns), err);
}

static rsl_retry_state new_state(void) {
    rsl_retry_state st;
    memset(&st, 0, sizeof st);
    st.struct_size = (uint32_t)sizeof st;
    return st;
}

int main(void) {
    rsl_retry_config cfg;
    rsl_backoff_config backoff;
    rsl_retry *policy = NULL;
    rsl_retry_decision d;
    int64_t now = 0;

    /* 1. retry(max_attempts=3, ExponentialBackoffStrategy(1 s, 60 s)). */
    puts("== retry(max_attempts=3, ExponentialBackoffStrategy(1s, 60s)) ==");
    check(rsl_retry_config_preset(&cfg, &backoff, RSL_RETRY_PRESET_DEFAULT, NULL), "preset");
    check(rsl_retry_new(&cfg, &backoff, &policy, NULL), "rsl_retry_new");
    rsl_retry_state st = new_state();
    check(rsl_retry_begin_at(policy, NULL, now, RSL_NO_DEADLINE, &st, NULL), "begin");
    int64_t want[] = {1 * SECOND, 2 * SECOND};
    int retries = 0;
    for (;;) {
        now += ATTEMPT_NS;
        printf("t=%7.3fs attempt %u failed: connection failed\n", secs(now), st.attempts);
        check(rsl_retry_next_at(policy, NULL, &st, now, RSL_OUTCOME_FAILURE, 0,
                                RSL_RETRY_AFTER_NONE, &d, NULL),
              "next");
        if (!d.retry) {
            printf("t=%7.3fs give up after %u attempts (%s)\n", secs(now), d.attempt,
                   reason_name(d.reason));
            break;
        }
        if (retries >= 2 || d.delay_ns != want[retries]) {
            fprintf(stderr, "unexpected delay %lld\n", (long long)d.delay_ns);
            return 1;
        }
        retries++;
        printf("           wait %.3fs, attempt %u at t=%.3fs\n", secs(d.delay_ns), d.attempt,
               secs(d.retry_at_ns));
        now = d.retry_at_ns;
    }
    if (retries != 2 || d.reason != RSL_RETRY_REASON_MAX_ATTEMPTS ||
        d.report_outcome != RSL_OUTCOME_OVERLOADED) {
        fprintf(stderr, "unexpected end\n");
        return 1;
    }
    rsl_retry_free(policy);
    policy = NULL;

    /* 2. JitterRetryStrategy(base_delay=1.0, max_delay=10.0), seed 42. */
    puts("\n== JitterRetryStrategy(base 1s, max 10s, jitter 10%), seed 42 ==");
    check(rsl_backoff_config_preset(&backoff, RSL_BACKOFF_PRESET_SEEDS_JITTER, NULL), "backoff preset");
    backoff.max_ns = 10 * SECOND;
    backoff.seed = 42;
    check(rsl_retry_new(&cfg, &backoff, &policy, NULL), "rsl_retry_new");
    now = 0;
    st = new_state();
    check(rsl_retry_begin_at(policy, NULL, now, RSL_NO_DEADLINE, &st, NULL), "begin");
    const char *results[] = {NULL, NULL, "value_key1"}; /* NULL = connection failed */
    const char *value = NULL;
    for (int i = 0; i < 3; i++) {
        now += ATTEMPT_NS;
        rsl_outcome o = results[i] ? RSL_OUTCOME_SUCCESS : RSL_OUTCOME_FAILURE;
        check(rsl_retry_next_at(policy, NULL, &st, now, o, 0, RSL_RETRY_AFTER_NONE, &d, NULL), "next");
        if (!d.retry) {
            value = results[i];
            break;
        }
        int64_t e = SECOND << (d.attempt - 2);
        if (d.delay_ns < e || d.delay_ns > e + e / 10) {
            fprintf(stderr, "delay %lld outside [e, 1.1e]\n", (long long)d.delay_ns);
            return 1;
        }
        on_retry(d.attempt - 1, d.delay_ns, "Redis connection failed");
        now = d.retry_at_ns;
    }
    if (value == NULL || d.reason != RSL_RETRY_REASON_SUCCESS) {
        fprintf(stderr, "redis_get should have succeeded\n");
        return 1;
    }
    printf("Success: %s at t=%.3fs\n", value, secs(now));

    /* 3. The overload rule across two layers. */
    puts("\n== two layers: only the failing layer retries ==");
    const char *header = NULL;
    check(rsl_retry_header_format(RSL_OUTCOME_OVERLOADED, &header, NULL), "format");
    printf("inner layer gave up and answers %s: %s\n", rsl_retry_header_name(), header);
    rsl_outcome seen = 0;
    check(rsl_retry_header_parse(header, strlen(header), &seen, NULL), "parse");
    st = new_state();
    check(rsl_retry_begin_at(policy, NULL, now, RSL_NO_DEADLINE, &st, NULL), "begin");
    check(rsl_retry_next_at(policy, NULL, &st, now, seen, 0, RSL_RETRY_AFTER_NONE, &d, NULL), "next");
    printf("outer layer: retry = %u, reason %s\n", d.retry, reason_name(d.reason));
    if (seen != RSL_OUTCOME_OVERLOADED || d.retry || d.reason != RSL_RETRY_REASON_OVERLOADED) {
        fprintf(stderr, "the outer layer must not retry an overloaded answer\n");
        return 1;
    }
    /* A gRPC peer says "do not retry" with grpc-retry-pushback-ms: -1. */
    int64_t pushback = 0;
    check(rsl_retry_pushback_parse("-1", 2, &pushback, NULL), "pushback");
    if (pushback != RSL_RETRY_AFTER_REFUSE) {
        fprintf(stderr, "pushback -1 must refuse\n");
        return 1;
    }
    rsl_retry_free(policy);
    return 0;
}
