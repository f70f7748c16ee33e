/*
 * Semaphore isolation in virtual time (the seeds: when maxConcurrentRequests
 * is reached, further requests go to the fallback at once): a bulkhead of 2,
 * a third caller refused without waiting, a slot freed and reused, a double
 * exit refused, and a permit that is never returned showing in the metrics.
 *
 * Build: cc -std=c11 -Wall -Wextra -Iinclude examples/c/bulkhead.c \
 *          target/release/libresilience.a -lpthread -ldl -lm -o bulkhead
 */
#include <stdio.h>
#include <stdlib.h>

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

/* A request: enter, or run the fallback when the bulkhead is full. */
static int request(rsl_bulkhead *b, int64_t now, int n, rsl_bulkhead_permit *permit) {
    uint32_t entered = 0;
    check(rsl_bulkhead_try_enter_at(b, now, permit, &entered, NULL), "try_enter");
    if (entered) {
        printf("t=%5lld ms  request %d enters\n", (long long)(now / MS), n);
    } else {
        printf("t=%5lld ms  request %d: bulkhead full -> fallback, no waiting\n", (long long)(now / MS), n);
    }
    return (int)entered;
}

int main(void) {
    rsl_bulkhead_config cfg;
    rsl_bulkhead *b = NULL;
    rsl_bulkhead_permit r1, r2, r3, r4, w;
    rsl_bulkhead_metrics m;
    int64_t held = 0;
    uint32_t entered = 0;
    rsl_status st;

    check(rsl_bulkhead_config_init(&cfg, NULL), "config_init");
    cfg.max_concurrent = 2;      /* maxConcurrentRequests */
    cfg.max_waiters = 0;         /* fail fast */
    cfg.max_hold_ns = 1000 * MS; /* held 1 s or more counts as overdue */
    check(rsl_bulkhead_new(&cfg, &b, NULL), "new");

    expect(request(b, 0, 1, &r1), "request 1 enters");
    expect(request(b, 1 * MS, 2, &r2), "request 2 enters");
    expect(!request(b, 2 * MS, 3, &r3), "request 3 is refused");

    /* enter_wait with max_waiters 0 does not wait either. */
    check(rsl_bulkhead_enter_wait(b, 1000 * MS, &w, &entered, NULL), "enter_wait");
    printf("t=%5lld ms  a blocking caller asks to wait 1 s: %s\n", 2LL,
           entered ? "entered" : "full at once (max_waiters = 0)");
    expect(!entered, "no waiting allowed");

    check(rsl_bulkhead_exit_at(b, 5 * MS, &r1, &held, NULL), "exit r1");
    printf("t=%5lld ms  request 1 done after %lld ms: a slot is free\n", 5LL, (long long)(held / MS));
    expect(request(b, 5 * MS, 4, &r4), "request 4 enters");

    st = rsl_bulkhead_exit_at(b, 6 * MS, &r1, NULL, NULL);
    printf("t=%5lld ms  request 1 exits again -> %s: %s\n", 6LL, rsl_status_str(st), rsl_last_error_message());
    expect(st == RSL_ERR_INVALID_ARGUMENT, "double exit refused");

    check(rsl_bulkhead_exit_at(b, 10 * MS, &r4, NULL, NULL), "exit r4");

    /* Request 2 never returns its permit: at t = 2 s the leak shows. */
    m.struct_size = sizeof m;
    check(rsl_bulkhead_get_metrics_at(b, 2000 * MS, &m, NULL), "metrics");
    printf("t=%5lld ms  in_use %u/%u, peak %u, rejected %llu, oldest permit held %lld ms, overdue %u\n", 2000LL,
           m.in_use, m.max_concurrent, m.peak_in_use, (unsigned long long)m.rejected_total,
           (long long)(m.oldest_held_ns / MS), m.overdue_in_use);
    expect(m.in_use == 1 && m.overdue_in_use == 1 && m.oldest_held_ns == 1999 * MS, "leak visible");
    expect(m.rejected_total == 2 && m.peak_in_use == 2, "counts");

    check(rsl_bulkhead_exit_at(b, 2000 * MS, &r2, &held, NULL), "exit r2");
    check(rsl_bulkhead_get_metrics_at(b, 2000 * MS, &m, NULL), "metrics");
    printf("t=%5lld ms  request 2 exits after %lld ms: in_use %u, entered %llu, exited %llu, overdue exits %llu\n",
           2000LL, (long long)(held / MS), m.in_use, (unsigned long long)m.entered_total,
           (unsigned long long)m.exited_total, (unsigned long long)m.overdue_exits_total);
    expect(m.in_use == 0 && m.entered_total == 3 && m.exited_total == 3 && m.overdue_exits_total == 1, "final");

    rsl_bulkhead_free(b);
    return 0;
}
