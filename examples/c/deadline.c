/*
 * Deadline propagation in virtual time (the seeds' timeout propagation):
 * a request arrives at service A with "grpc-timeout: 1S"; A spends 200 ms,
 * then calls B with B's 500 ms per-call timeout shrunk to what is left,
 * encodes it in the outgoing header, and B decodes it and rebuilds the
 * deadline on its own clock. Later calls are bounded by the request's
 * deadline, one is not started (too little left), the deadline expires,
 * and a misconfigured 60 s timeout is refused by the kit guard.
 *
 * Build: cc -std=c11 -Wall -Wextra -Iinclude examples/c/deadline.c \
 *          target/release/libresilience.a -lpthread -ldl -lm -o deadline
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"

#define MS 1000000LL

static void check(rsl_status st, const char *what) {
    if (st != RSL_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, rsl_status_str(st), rsl_last_error_message());
        exit(1);
    }
}

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "unexpected: %s\n", what);
        exit(1);
    }
}

static const char *limit_name(uint32_t l) {
    return l == RSL_DEADLINE_LIMIT_CALL_TIMEOUT ? "the call timeout"
         : l == RSL_DEADLINE_LIMIT_DEADLINE     ? "the request deadline"
                                                : "none";
}

int main(void) {
    rsl_deadline_policy_config cfg;
    rsl_deadline_policy *policy = NULL;
    rsl_deadline_decoded in;
    rsl_deadline_call_plan plan;
    char header[RSL_DEADLINE_TEXT_BUF_LEN];
    size_t len = 0;
    int64_t a_now, a_deadline, b_now, b_deadline;
    rsl_status st;

    /* The kit guard: 100 ms default, per-call timeouts in [1 ms, 10 s];
     * and no call is started with less than 100 ms left. */
    check(rsl_deadline_policy_config_init(&cfg, NULL), "config_init");
    cfg.min_budget_ns = 100 * MS;
    check(rsl_deadline_policy_new(&cfg, &policy, NULL), "policy_new");

    /* t = 0 on A's clock: the request arrives with grpc-timeout: 1S. */
    a_now = 0;
    check(rsl_deadline_grpc_timeout_decode("1S", 2, &in, NULL), "decode 1S");
    check(rsl_deadline_from_timeout_at(a_now, in.timeout_ns, &a_deadline, NULL), "from_timeout");
    printf("A  t=%5lld ms  request in, grpc-timeout: 1S -> budget %lld ms, deadline %lld ms on A's clock\n",
           (long long)(a_now / MS), (long long)(in.timeout_ns / MS), (long long)(a_deadline / MS));
    expect(a_deadline == 1000 * MS, "A's deadline");

    /* A spends 200 ms, then calls B, whose per-call timeout is 500 ms. */
    a_now = 200 * MS;
    check(rsl_deadline_policy_call_at(policy, a_now, a_deadline, 500 * MS, &plan, NULL), "plan B");
    expect(plan.decision == RSL_DEADLINE_CALL_PROCEED, "call B proceeds");
    check(rsl_deadline_grpc_timeout_encode(plan.timeout_ns, header, sizeof header, &len, NULL), "encode");
    printf("A  t=%5lld ms  %lld ms left; call B with min(500, %lld) = %lld ms (set by %s) -> grpc-timeout: %s\n",
           (long long)(a_now / MS), (long long)(plan.remaining_ns / MS), (long long)(plan.remaining_ns / MS),
           (long long)(plan.timeout_ns / MS), limit_name(plan.limited_by), header);
    expect(strcmp(header, "500m") == 0 && len == 4, "header to B is 500m");

    /* B's clock has another epoch: it reads 7 s when the request arrives. */
    b_now = 7000 * MS;
    check(rsl_deadline_grpc_timeout_decode(header, len, &in, NULL), "B decodes");
    check(rsl_deadline_from_timeout_at(b_now, in.timeout_ns, &b_deadline, NULL), "B from_timeout");
    printf("B  t=%5lld ms  grpc-timeout: %s -> budget %lld ms, deadline %lld ms on B's clock\n",
           (long long)(b_now / MS), header, (long long)(in.timeout_ns / MS), (long long)(b_deadline / MS));
    expect(b_deadline == 7500 * MS, "B's deadline");
    printf("B  t=%5lld ms  replies after 450 ms, %lld ms of its budget left\n",
           (long long)((b_now + 450 * MS) / MS),
           (long long)(rsl_deadline_remaining_at(b_deadline, b_now + 450 * MS) / MS));

    /* Back at A, t = 650 ms: call C (500 ms); only 350 ms are left. */
    a_now = 650 * MS;
    check(rsl_deadline_policy_call_at(policy, a_now, a_deadline, 500 * MS, &plan, NULL), "plan C");
    check(rsl_deadline_grpc_timeout_encode(plan.timeout_ns, header, sizeof header, &len, NULL), "encode C");
    printf("A  t=%5lld ms  %lld ms left; call C with min(500, %lld) = %lld ms (set by %s) -> grpc-timeout: %s",
           (long long)(a_now / MS), (long long)(plan.remaining_ns / MS), (long long)(plan.remaining_ns / MS),
           (long long)(plan.timeout_ns / MS), limit_name(plan.limited_by), header);
    expect(plan.limited_by == RSL_DEADLINE_LIMIT_DEADLINE && strcmp(header, "350m") == 0, "call C");
    check(rsl_deadline_http_timeout_encode(plan.timeout_ns, header, sizeof header, &len, NULL), "http encode");
    printf(" / x-rsl-timeout-ms: %s\n", header);
    expect(strcmp(header, "350") == 0, "http header");

    /* t = 920 ms: 80 ms left, under the 100 ms minimum: skip D. */
    a_now = 920 * MS;
    check(rsl_deadline_policy_call_at(policy, a_now, a_deadline, 0, &plan, NULL), "plan D");
    printf("A  t=%5lld ms  %lld ms left < 100 ms minimum: call to D not started (insufficient)\n",
           (long long)(a_now / MS), (long long)(plan.remaining_ns / MS));
    expect(plan.decision == RSL_DEADLINE_CALL_INSUFFICIENT, "D insufficient");

    /* t = 1000 ms: the deadline is reached (inclusive). */
    a_now = 1000 * MS;
    check(rsl_deadline_policy_call_at(policy, a_now, a_deadline, 0, &plan, NULL), "plan E");
    printf("A  t=%5lld ms  expired=%u -> fail with DEADLINE_EXCEEDED\n", (long long)(a_now / MS),
           rsl_deadline_expired_at(a_deadline, a_now));
    expect(plan.decision == RSL_DEADLINE_CALL_EXPIRED, "expired");

    /* The kit guard: a 60 s per-call timeout is refused, never clamped. */
    check(rsl_deadline_policy_call_at(policy, 0, RSL_DEADLINE_NONE, 60000 * MS, &plan, NULL), "plan 60 s");
    printf("kit guard: per-call timeout 60 s -> %s\n",
           plan.decision == RSL_DEADLINE_CALL_ABOVE_MAX ? "above max_timeout_ns (10 s): refused" : "?");
    expect(plan.decision == RSL_DEADLINE_CALL_ABOVE_MAX, "above max");

    /* A malformed incoming header is an error naming the value. */
    st = rsl_deadline_grpc_timeout_decode("1s", 2, &in, NULL);
    printf("grpc-timeout: 1s -> %s: %s\n", rsl_status_str(st), rsl_last_error_message());
    expect(st == RSL_ERR_INVALID_ARGUMENT, "lower-case s refused");

    rsl_deadline_policy_free(policy);
    return 0;
}
