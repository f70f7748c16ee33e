/*
 * breaker.c — a circuit breaker protecting a flaky dependency, step by step.
 *
 * The classic example (failure_threshold = 5, timeout = 60 s,
 * half_open_max_calls = 3, success_threshold = 2), run in virtual time so
 * every transition is visible and the run is the same every time:
 *
 *   t =  1..5 s  five calls fail          -> the breaker opens at t = 5 s
 *   t = 30 s     a call is rejected       -> retry after 35 s
 *   t = 65 s     60 s after opening       -> half-open: three trial calls go
 *                                            through, a fourth caller is rejected
 *   t = 66 s     two trial successes      -> closed again
 *
 * Build:  cc -std=c11 -Iinclude examples/c/breaker.c \
 *            target/release/libresilience.a -lpthread -ldl -lm
 * (`make examples` builds and runs it.) Exits non-zero on any surprise.
 */
#include "resilience.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const int64_t SEC = 1000000000;

static const char *state_name(rsl_breaker_state s) {
    switch (s) {
    case RSL_BREAKER_CLOSED: return "CLOSED";
    case RSL_BREAKER_OPEN: return "OPEN";
    case RSL_BREAKER_HALF_OPEN: return "HALF_OPEN";
    case RSL_BREAKER_FORCED_OPEN: return "FORCED_OPEN";
    case RSL_BREAKER_DISABLED: return "DISABLED";
    default: return "?";
    }
}

static const char *reason_name(uint32_t r) {
    switch (r) {
    case RSL_BREAKER_REASON_CONSECUTIVE_FAILURES: return "consecutive failures";
    case RSL_BREAKER_REASON_FAILURE_RATE: return "failure rate";
    case RSL_BREAKER_REASON_SLOW_CALL_RATE: return "slow-call rate";
    case RSL_BREAKER_REASON_FAILURE_COUNT: return "failure count";
    case RSL_BREAKER_REASON_EXTERNAL_TRIP: return "external trip";
    case RSL_BREAKER_REASON_WAIT_ELAPSED: return "wait elapsed";
    case RSL_BREAKER_REASON_TRIALS_SUCCEEDED: return "trials succeeded";
    case RSL_BREAKER_REASON_TRIALS_FAILED: return "trials failed";
    case RSL_BREAKER_REASON_TRIALS_EXHAUSTED: return "trials exhausted";
    case RSL_BREAKER_REASON_MANUAL: return "manual";
    case RSL_BREAKER_REASON_RESET: return "reset";
    default: return "?";
    }
}

static const char *reject_name(uint32_t r) {
    switch (r) {
    case RSL_BREAKER_REJECT_OPEN: return "open";
    case RSL_BREAKER_REJECT_FORCED_OPEN: return "forced open";
    case RSL_BREAKER_REJECT_HALF_OPEN_FULL: return "half-open, every trial slot taken";
    default: return "?";
    }
}

static int problems;

/* Checks a status; on error prints the library's detail message. */
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

/* The dependency: this demo decides whether it works at each call. */
typedef enum { DEPENDENCY_DOWN, DEPENDENCY_UP } dependency;

/* The breaker's answer to the last protected call. */
static rsl_breaker_acquire_result last;

/*
 * A protected call at `now`: ask the breaker, call the dependency only if
 * admitted, record the outcome. Returns 1 if admitted.
 */
static int protected_call(const rsl_breaker *b, int64_t now, dependency dep,
                          rsl_breaker_state *state_after) {
    rsl_breaker_acquire_result a;
    rsl_breaker_record_result r;
    if (!ok(rsl_breaker_acquire_at(b, now, &a, NULL), "rsl_breaker_acquire_at")) {
        return 0;
    }
    last = a;
    printf("t=%6.2f s  call: ", (double)now / SEC);
    if (!a.admitted) {
        printf("REJECTED without calling (%s), retry after %.2f s  [%s]\n",
               reject_name(a.reject_reason), (double)a.retry_after_ns / SEC,
               state_name(a.state));
        *state_after = a.state;
        return 0;
    }
    /* ... the real call would happen here ... */
    if (!ok(rsl_breaker_record_at(b, now, &a.permit,
                                  dep == DEPENDENCY_UP ? RSL_OUTCOME_SUCCESS
                                                       : RSL_OUTCOME_FAILURE,
                                  &r, NULL),
            "rsl_breaker_record_at")) {
        return 1;
    }
    printf("admitted, dependency %s  [%s%s%s]", dep == DEPENDENCY_UP ? "succeeded" : "failed",
           state_name(a.state), a.state != r.state ? " -> " : "",
           a.state != r.state ? state_name(r.state) : "");
    if (a.state == r.state && r.state == RSL_BREAKER_CLOSED) {
        /* A transition starts a new generation with fresh counts, so the
         * counts are only telling while the state holds. */
        printf("  consecutive failures: %llu", (unsigned long long)r.counts.consecutive_failures);
    }
    printf("\n");
    *state_after = r.state;
    return 1;
}

int main(void) {
    rsl_breaker_config cfg;
    rsl_breaker *b = NULL;
    rsl_breaker_state state = RSL_BREAKER_CLOSED;
    rsl_breaker_permit trial[4];
    rsl_breaker_event events[16];
    size_t n = 0, i;
    int k;

    printf("libresilience %s — circuit breaker walkthrough (virtual time)\n\n",
           rsl_version_string());
    if (rsl_abi_version() != RSL_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: header %d, library %u\n", RSL_ABI_VERSION,
                (unsigned)rsl_abi_version());
        return EXIT_FAILURE;
    }

    /* failure_threshold=5, timeout=60 s (both the defaults),
     * half_open_max_calls=3, success_threshold=2. */
    if (!ok(rsl_breaker_config_init(&cfg, NULL), "rsl_breaker_config_init")) return EXIT_FAILURE;
    cfg.policy = RSL_BREAKER_POLICY_CONSECUTIVE;
    cfg.consecutive_failures = 5;
    cfg.wait_duration_ns = 60 * SEC;
    cfg.max_wait_duration_ns = 60 * SEC;
    cfg.half_open_max_calls = 3;
    cfg.half_open_success_threshold = 2;
    if (!ok(rsl_breaker_new_at(&cfg, 0, &b, NULL), "rsl_breaker_new_at")) return EXIT_FAILURE;
    printf("config: open after %u consecutive failures, wait %.0f s, %u trial calls, "
           "%u successes to close\n\n",
           (unsigned)cfg.consecutive_failures, (double)cfg.wait_duration_ns / SEC,
           (unsigned)cfg.half_open_max_calls, (unsigned)cfg.half_open_success_threshold);

    printf("-- the dependency goes down: five failures in a row\n");
    for (k = 1; k <= 5; k++) {
        protected_call(b, k * SEC, DEPENDENCY_DOWN, &state);
        expect(state == (k < 5 ? RSL_BREAKER_CLOSED : RSL_BREAKER_OPEN),
               "closed for four failures, open after the fifth");
    }

    printf("\n-- while open, calls fail fast without touching the dependency\n");
    expect(protected_call(b, 30 * SEC, DEPENDENCY_UP, &state) == 0, "rejected at t = 30 s");
    expect(state == RSL_BREAKER_OPEN, "still open at t = 30 s");
    expect(last.reject_reason == RSL_BREAKER_REJECT_OPEN && last.retry_after_ns == 35 * SEC,
           "retry_after = 35 s (opened at 5 s, waits 60 s)");
    expect(protected_call(b, 64 * SEC, DEPENDENCY_UP, &state) == 0, "rejected at t = 64 s");

    printf("\n-- 60 s after opening: half-open, up to 3 trial calls go through\n");
    if (ok(rsl_breaker_get_state_at(b, 65 * SEC, &state, NULL), "rsl_breaker_get_state_at")) {
        printf("t=%6.2f s  state: %s\n", 65.0, state_name(state));
        expect(state == RSL_BREAKER_HALF_OPEN, "half-open at t = 65 s");
    }
    /* Four callers arrive at once: three get a trial permit, one does not. */
    for (k = 0; k < 4; k++) {
        rsl_breaker_acquire_result a;
        if (!ok(rsl_breaker_acquire_at(b, 65 * SEC, &a, NULL), "rsl_breaker_acquire_at")) break;
        if (a.admitted) {
            trial[k] = a.permit;
            printf("t=%6.2f s  caller %d: admitted as trial call %d of %u  [%s]\n", 65.0, k + 1,
                   k + 1, (unsigned)cfg.half_open_max_calls, state_name(a.state));
        } else {
            printf("t=%6.2f s  caller %d: REJECTED (%s), retry after %.0f s  [%s]\n", 65.0,
                   k + 1, reject_name(a.reject_reason), (double)a.retry_after_ns / SEC,
                   state_name(a.state));
        }
        expect(a.admitted == (k < 3), "three trials admitted, the fourth rejected");
    }
    /* The trials answer one after the other. */
    for (k = 0; k < 3; k++) {
        rsl_breaker_record_result r;
        const int64_t at = 65 * SEC + (k + 1) * SEC / 2;
        if (!ok(rsl_breaker_record_at(b, at, &trial[k], RSL_OUTCOME_SUCCESS, &r, NULL),
                "rsl_breaker_record_at")) {
            break;
        }
        printf("t=%6.2f s  trial call %d succeeded: %s  [%s]\n", (double)at / SEC, k + 1,
               r.counted ? "counted" : "not counted (the half-open period it belonged to is over)",
               state_name(r.state));
        expect(r.state == (k == 0 ? RSL_BREAKER_HALF_OPEN : RSL_BREAKER_CLOSED),
               "the second successful trial closes the breaker");
        expect(r.counted == (k < 2), "the late third trial is not counted");
    }

    printf("\n-- closed again: calls flow normally\n");
    expect(protected_call(b, 67 * SEC, DEPENDENCY_UP, &state) == 1, "admitted once closed");
    expect(state == RSL_BREAKER_CLOSED, "still closed");

    printf("\n-- transition events, drained at the end\n");
    if (ok(rsl_breaker_drain_events(b, events, sizeof events / sizeof events[0], &n, NULL),
           "rsl_breaker_drain_events")) {
        for (i = 0; i < n; i++) {
            printf("#%llu  t=%6.2f s  %-9s -> %-9s  (%s)\n", (unsigned long long)events[i].seq,
                   (double)events[i].at_ns / SEC, state_name(events[i].from),
                   state_name(events[i].to), reason_name(events[i].reason));
        }
        expect(n == 3, "three transitions");
        if (n == 3) {
            expect(events[0].to == RSL_BREAKER_OPEN && events[0].at_ns == 5 * SEC &&
                       events[0].reason == RSL_BREAKER_REASON_CONSECUTIVE_FAILURES,
                   "opened at 5 s by consecutive failures");
            expect(events[1].to == RSL_BREAKER_HALF_OPEN &&
                       events[1].reason == RSL_BREAKER_REASON_WAIT_ELAPSED,
                   "half-open once the wait elapsed");
            expect(events[2].to == RSL_BREAKER_CLOSED && events[2].at_ns == 66 * SEC &&
                       events[2].reason == RSL_BREAKER_REASON_TRIALS_SUCCEEDED,
                   "closed at 66 s by two successful trials");
        }
    }

    rsl_breaker_free(b);
    if (problems != 0) {
        fprintf(stderr, "\nbreaker example: %d unexpected results\n", problems);
        return EXIT_FAILURE;
    }
    printf("\nbreaker example: every step behaved as expected\n");
    return EXIT_SUCCESS;
}
