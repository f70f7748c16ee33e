/*
 * test_concurrency.c — handles are internally synchronised: many threads
 * call one handle at once and no update is lost.
 *
 *   - 4 threads x 50,000 acquire -> record on ONE breaker with the EXTERNAL
 *     policy (it never trips by itself) and closed_reset_interval_ns = 0 (one
 *     generation for its whole life), while a fifth thread keeps reading its
 *     state, metrics and events. Afterwards counts.requests equals the calls
 *     admitted and successes + failures + exclusions the records made.
 *   - 4 threads hammer ONE adaptive throttle (allow, then record when
 *     allowed); allowed_total + rejected_total equals the allow calls.
 *   - 4 threads withdraw from ONE AWS retry quota (exactly 100 grants of 5
 *     from 500 tokens), then run always-failing operations through ONE retry
 *     policy drawing on ONE 50-token quota (exactly 10 retries in all).
 *   - 4 threads ask ONE window limiter (each mode in turn) for 1 or 3
 *     permits, 600 requests each per window, all at the window's start,
 *     with a barrier between windows: every window grants exactly its limit
 *     (never more; and a 1-permit request is denied only when it is full),
 *     and admitted_total / rejected_total equal the decisions seen.
 *   - 4 threads acquire/release ONE adaptive limiter held overloaded with an
 *     empty window (every limit 0): at most 2 requests are ever in flight,
 *     and allowed_total + dropped equal the acquire calls.
 *   - 4 threads hammer ONE bulkhead of 2 with a queue of 8: one fails
 *     fast, one blocks in enter_wait, two enqueue tickets and wait for the
 *     hand-over the way a binding does (a future per ticket, settled once),
 *     every third wait giving up at once and racing it: never more than 2
 *     callers inside at once (an atomic count), every ticket gets exactly
 *     one slot or one cancellation, every permit exits exactly once (a
 *     second exit, or a second cancel, is refused), the totals match and
 *     in_use returns to 0. Then FIFO: one slot, 24 tickets queued in a
 *     known order, one thread each, every third cancelling at a varying
 *     moment: the slots go out in arrival order, to every waiter that did
 *     not leave.
 *   - 4 threads call ONE token bucket (1000/s, burst 40) at the same virtual
 *     instant, 25 allows each, with a barrier between instants 0.7 ms apart:
 *     each instant grants exactly what a single-threaded replay grants (249
 *     in all: 40 + 209.3 earned); then 4 threads reserve at one instant and
 *     the times to act are exactly the replay's (no two calls decided on the
 *     same state); then the real clock through rsl_token_bucket_allow:
 *     granted <= burst + rate x elapsed.
 *   - 4 threads check ONE GCRA meter on a shared virtual clock each call
 *     advances: granted <= burst + elapsed / T, whatever the order of times.
 *   - 4 threads take from ONE pacer at one instant: the permits are exactly
 *     now, now + T, now + 2T, ... (none lost, none doubled).
 *
 * The breaker uses the library clock (rsl_breaker_acquire/_record), the
 * throttle virtual time (_at with a per-thread counter, so threads' times
 * interleave out of order, which is legal input). Nothing asserts on timing.
 * Run under ASan/UBSan and valgrind by CTest.
 */
#define _POSIX_C_SOURCE 200809L

#include "resilience.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ITERATIONS 50000

#include "thread_checks.h"

/* ------------------------------------------------------------------------ */
/* Breaker                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    const rsl_breaker *breaker;
    int index;
    uint64_t admitted;
    uint64_t successes;
    uint64_t failures;
    uint64_t exclusions;
    uint64_t records;
} breaker_worker;

static int workers_done; /* guarded by done_lock */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;

static int all_done(void) {
    int d;
    pthread_mutex_lock(&done_lock);
    d = workers_done;
    pthread_mutex_unlock(&done_lock);
    return d;
}

/* Errors come back with the call that failed: each thread provokes its own
 * errors between other threads' calls and errors, and every rsl_error must
 * name that call's own field (never another thread's), with the thread-local
 * message agreeing, and cleared by the next successful call. */
static const char *provoke_error(const rsl_breaker *b, int kind, rsl_error *err) {
    size_t n;
    rsl_status st;
    const char *field;
    switch (kind % 4) {
    case 0:
        st = rsl_breaker_acquire(b, NULL, err);
        field = "out";
        break;
    case 1:
        st = rsl_breaker_record(b, NULL, RSL_OUTCOME_SUCCESS, NULL, err);
        field = "permit";
        break;
    case 2:
        st = rsl_breaker_get_state(b, NULL, err);
        field = "out_state";
        break;
    default:
        st = rsl_breaker_drain_events(b, NULL, 1, &n, err);
        field = "events";
        break;
    }
    if (st != RSL_ERR_NULL_ARGUMENT) {
        fail("a provoked error returned another status", st);
    }
    return field;
}

static void check_own_error(const rsl_breaker *b, int kind) {
    rsl_error err;
    const char *field;
    size_t n;
    memset(&err, 0x55, sizeof err);
    field = provoke_error(b, kind, &err);
    if (err.status != RSL_ERR_NULL_ARGUMENT || strcmp(err.field, field) != 0) {
        fail("an rsl_error named another call's field; kind", kind);
    }
    n = strlen(field);
    if (strncmp(err.message, field, n) != 0 || err.message[n] != ':') {
        fail("an rsl_error message does not start with its own field; kind", kind);
    }
    if (strcmp(rsl_last_error_message(), err.message) != 0) {
        fail("the thread-local message differs from the call's rsl_error; kind", kind);
    }
}

static void *breaker_thread(void *arg) {
    breaker_worker *w = arg;
    int i;
    for (i = 0; i < ITERATIONS; i++) {
        if (i % 8 == 0) {
            check_own_error(w->breaker, w->index + i / 8);
        }
        rsl_breaker_acquire_result a;
        rsl_breaker_record_result r;
        rsl_outcome outcome;
        rsl_status st = rsl_breaker_acquire(w->breaker, &a, NULL);
        if (st != RSL_OK) {
            fail("rsl_breaker_acquire status", st);
            continue;
        }
        if (!a.admitted) {
            fail("an EXTERNAL breaker rejected a call; reject_reason", (long)a.reject_reason);
            continue;
        }
        w->admitted++;
        /* Alternate success/failure, shifted per thread; every 16th ignored. */
        if (i % 16 == 15) {
            outcome = RSL_OUTCOME_IGNORED;
        } else if ((i + w->index) % 2 == 0) {
            outcome = RSL_OUTCOME_SUCCESS;
        } else {
            outcome = RSL_OUTCOME_FAILURE;
        }
        st = rsl_breaker_record(w->breaker, &a.permit, outcome, &r, NULL);
        if (st != RSL_OK) {
            fail("rsl_breaker_record status", st);
            continue;
        }
        w->records++;
        if (!r.counted) {
            fail("a record in the breaker's only generation was not counted", i);
        }
        if (r.state != RSL_BREAKER_CLOSED) {
            fail("the EXTERNAL breaker left CLOSED; state", (long)r.state);
        }
        switch (outcome) {
        case RSL_OUTCOME_SUCCESS:
            w->successes++;
            break;
        case RSL_OUTCOME_FAILURE:
            w->failures++;
            break;
        default:
            w->exclusions++;
            break;
        }
    }
    if (rsl_last_error_message()[0] != '\0') {
        fail("a successful call did not clear the thread-local message", w->index);
    }
    return NULL;
}

static void *breaker_observer(void *arg) {
    const rsl_breaker *b = arg;
    uint64_t last_requests = 0;
    while (!all_done()) {
        rsl_breaker_metrics m;
        rsl_breaker_state state;
        rsl_breaker_event ev[8];
        size_t n = 0;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        if (rsl_breaker_get_metrics(b, &m, NULL) != RSL_OK) {
            fail("rsl_breaker_get_metrics status", 0);
            break;
        }
        if (m.counts.requests < last_requests) {
            fail("counts.requests went down", (long)m.counts.requests);
        }
        last_requests = m.counts.requests;
        if (m.generation != 1 || m.state != RSL_BREAKER_CLOSED) {
            fail("generation/state changed; generation", (long)m.generation);
        }
        if (m.counts.total_successes + m.counts.total_failures + m.counts.total_exclusions >
            m.counts.requests) {
            fail("more outcomes than requests in a snapshot", (long)m.counts.requests);
        }
        if (rsl_breaker_get_state(b, &state, NULL) != RSL_OK || state != RSL_BREAKER_CLOSED) {
            fail("rsl_breaker_get_state", (long)state);
        }
        if (rsl_breaker_drain_events(b, ev, 8, &n, NULL) != RSL_OK || n != 0) {
            fail("events from a breaker that never transitions", (long)n);
        }
    }
    return NULL;
}

static void test_breaker(void) {
    rsl_breaker_config cfg;
    rsl_breaker *b = NULL;
    breaker_worker w[THREADS];
    pthread_t tid[THREADS], observer;
    rsl_breaker_metrics m;
    uint64_t admitted = 0, successes = 0, fails = 0, exclusions = 0, records = 0;
    int i;

    if (rsl_breaker_config_init(&cfg, NULL) != RSL_OK) {
        fail("rsl_breaker_config_init", 0);
        return;
    }
    cfg.policy = RSL_BREAKER_POLICY_EXTERNAL;
    cfg.closed_reset_interval_ns = 0;
    if (rsl_breaker_new(&cfg, &b, NULL) != RSL_OK) {
        fail(rsl_last_error_message(), 0);
        return;
    }

    workers_done = 0;
    if (pthread_create(&observer, NULL, breaker_observer, b) != 0) {
        fail("pthread_create", 0);
        rsl_breaker_free(b);
        return;
    }
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].breaker = b;
        w[i].index = i;
        if (pthread_create(&tid[i], NULL, breaker_thread, &w[i]) != 0) {
            fail("pthread_create", i);
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        admitted += w[i].admitted;
        successes += w[i].successes;
        fails += w[i].failures;
        exclusions += w[i].exclusions;
        records += w[i].records;
    }
    pthread_mutex_lock(&done_lock);
    workers_done = 1;
    pthread_mutex_unlock(&done_lock);
    pthread_join(observer, NULL);

    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (rsl_breaker_get_metrics(b, &m, NULL) != RSL_OK) {
        fail("rsl_breaker_get_metrics", 0);
    } else {
        printf("breaker: %llu admitted, %llu recorded (%llu successes, %llu failures, "
               "%llu ignored); metrics: requests %llu, successes %llu, failures %llu, "
               "exclusions %llu\n",
               (unsigned long long)admitted, (unsigned long long)records,
               (unsigned long long)successes, (unsigned long long)fails,
               (unsigned long long)exclusions, (unsigned long long)m.counts.requests,
               (unsigned long long)m.counts.total_successes,
               (unsigned long long)m.counts.total_failures,
               (unsigned long long)m.counts.total_exclusions);
        if (admitted != (uint64_t)THREADS * ITERATIONS) {
            fail("not every call was admitted", (long)admitted);
        }
        if (m.counts.requests != admitted) {
            fail("counts.requests != calls admitted", (long)m.counts.requests);
        }
        if (m.counts.total_successes + m.counts.total_failures + m.counts.total_exclusions !=
            records) {
            fail("successes + failures + exclusions != records made", (long)records);
        }
        if (m.counts.total_successes != successes || m.counts.total_failures != fails ||
            m.counts.total_exclusions != exclusions) {
            fail("per-outcome totals differ", 0);
        }
        if (m.state != RSL_BREAKER_CLOSED || m.generation != 1 || m.rejected_total != 0) {
            fail("breaker state/generation/rejections", (long)m.state);
        }
    }
    rsl_breaker_free(b);
}

/* ------------------------------------------------------------------------ */
/* Adaptive throttle                                                        */
/* ------------------------------------------------------------------------ */

typedef struct {
    const rsl_adaptive_throttle *throttle;
    int index;
    uint64_t calls;
    uint64_t allowed;
    uint64_t rejected;
} throttle_worker;

static void *throttle_thread(void *arg) {
    throttle_worker *w = arg;
    int i;
    for (i = 0; i < ITERATIONS; i++) {
        /* Virtual time: 1 us per iteration, each thread its own clock. */
        const int64_t now = (int64_t)i * 1000 + w->index;
        rsl_adaptive_throttle_decision d;
        rsl_status st = rsl_adaptive_throttle_allow_at(w->throttle, now, &d, NULL);
        w->calls++;
        if (st != RSL_OK) {
            fail("rsl_adaptive_throttle_allow_at status", st);
            continue;
        }
        if (d.drop_probability < 0.0 || d.drop_probability > 1.0) {
            fail("drop_probability outside [0, 1]", i);
        }
        if (!d.allowed) {
            w->rejected++;
            continue;
        }
        w->allowed++;
        /* A backend that accepts one request in four. */
        st = rsl_adaptive_throttle_record_at(w->throttle, now, &d.ticket,
                                             (i + w->index) % 4 == 0 ? RSL_OUTCOME_SUCCESS
                                                                     : RSL_OUTCOME_FAILURE, NULL);
        if (st != RSL_OK) {
            fail("rsl_adaptive_throttle_record_at status", st);
        }
    }
    return NULL;
}

static void test_throttle(void) {
    rsl_adaptive_throttle_config cfg;
    rsl_adaptive_throttle *t = NULL;
    throttle_worker w[THREADS];
    pthread_t tid[THREADS];
    rsl_adaptive_throttle_metrics m;
    uint64_t calls = 0, allowed = 0, rejected = 0;
    int i;

    if (rsl_adaptive_throttle_config_init(&cfg, NULL) != RSL_OK) {
        fail("rsl_adaptive_throttle_config_init", 0);
        return;
    }
    cfg.seed = 12345;
    if (rsl_adaptive_throttle_new(&cfg, &t, NULL) != RSL_OK) {
        fail(rsl_last_error_message(), 0);
        return;
    }
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].throttle = t;
        w[i].index = i;
        if (pthread_create(&tid[i], NULL, throttle_thread, &w[i]) != 0) {
            fail("pthread_create", i);
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        calls += w[i].calls;
        allowed += w[i].allowed;
        rejected += w[i].rejected;
    }

    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (rsl_adaptive_throttle_get_metrics_at(t, (int64_t)ITERATIONS * 1000, &m, NULL) != RSL_OK) {
        fail("rsl_adaptive_throttle_get_metrics_at", 0);
    } else {
        printf("throttle: %llu allow calls, %llu allowed, %llu rejected; metrics: "
               "allowed_total %llu, rejected_total %llu, drop probability %.3f\n",
               (unsigned long long)calls, (unsigned long long)allowed,
               (unsigned long long)rejected, (unsigned long long)m.allowed_total,
               (unsigned long long)m.rejected_total, m.drop_probability);
        if (m.allowed_total + m.rejected_total != calls) {
            fail("allowed_total + rejected_total != allow calls", (long)calls);
        }
        if (m.allowed_total != allowed || m.rejected_total != rejected) {
            fail("allowed/rejected totals differ from the decisions seen", (long)allowed);
        }
        if (rejected == 0) {
            fail("a backend accepting 1 in 4 never made the throttle shed", 0);
        }
    }
    rsl_adaptive_throttle_free(t);
}

/* ------------------------------------------------------------------------ */
/* Retry budget and retry policies sharing it                               */
/* ------------------------------------------------------------------------ */

#define BUDGET_TRIES 2000
#define RETRY_OPERATIONS 500

typedef struct {
    const rsl_retry *policy;
    const rsl_retry_budget *budget;
    int index;
    uint64_t granted;
    uint64_t retries;
    uint64_t budget_stops;
} retry_worker;

/* Withdrawals only: a 500-token AWS quota at 5 per retry grants exactly 100. */
static void *withdraw_thread(void *arg) {
    retry_worker *w = arg;
    int i;
    for (i = 0; i < BUDGET_TRIES; i++) {
        uint32_t granted = 0;
        rsl_status st = rsl_retry_budget_try_withdraw_at(w->budget, i, 0, &granted, NULL, NULL);
        if (st != RSL_OK) {
            fail("rsl_retry_budget_try_withdraw_at status", st);
            continue;
        }
        w->granted += granted;
    }
    return NULL;
}

/* Always-failing operations under one policy drawing on one budget. */
static void *retry_thread(void *arg) {
    retry_worker *w = arg;
    int i;
    for (i = 0; i < RETRY_OPERATIONS; i++) {
        rsl_retry_state st;
        rsl_retry_decision d;
        const int64_t now = (int64_t)i * 1000 + w->index;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        if (rsl_retry_begin_at(w->policy, w->budget, now, RSL_NO_DEADLINE, &st, NULL) != RSL_OK) {
            fail("rsl_retry_begin_at", i);
            continue;
        }
        for (;;) {
            rsl_status s = rsl_retry_next_at(w->policy, w->budget, &st, now, RSL_OUTCOME_FAILURE,
                                             0, RSL_RETRY_AFTER_NONE, &d, NULL);
            if (s != RSL_OK) {
                fail("rsl_retry_next_at status", s);
                break;
            }
            if (!d.retry) {
                if (d.reason == RSL_RETRY_REASON_BUDGET) w->budget_stops++;
                if (d.report_outcome != RSL_OUTCOME_OVERLOADED) {
                    fail("a give-up after failures must report OVERLOADED", d.reason);
                }
                break;
            }
            w->retries++;
        }
    }
    return NULL;
}

static int run_workers(retry_worker *w, void *(*fn)(void *)) {
    pthread_t tid[THREADS];
    int i;
    for (i = 0; i < THREADS; i++) {
        if (pthread_create(&tid[i], NULL, fn, &w[i]) != 0) {
            fail("pthread_create", i);
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
    }
    return 0;
}

static void test_retry_budget(void) {
    rsl_retry_budget_config gcfg;
    rsl_retry_budget *budget = NULL;
    rsl_retry *policy = NULL;
    rsl_retry_budget_metrics m;
    retry_worker w[THREADS];
    uint64_t granted = 0, retries = 0, stops = 0;
    int i;

    if (rsl_retry_budget_config_preset(&gcfg, RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, NULL) != RSL_OK ||
        rsl_retry_budget_new(&gcfg, &budget, NULL) != RSL_OK) {
        fail(rsl_last_error_message(), 0);
        return;
    }
    memset(w, 0, sizeof w);
    for (i = 0; i < THREADS; i++) {
        w[i].budget = budget;
        w[i].index = i;
    }
    run_workers(w, withdraw_thread);
    for (i = 0; i < THREADS; i++) granted += w[i].granted;
    printf("retry budget: %d withdrawals, %llu granted (500 tokens / 5)\n", THREADS * BUDGET_TRIES,
           (unsigned long long)granted);
    if (granted != 100) fail("quota grants != 100", (long)granted);
    rsl_retry_budget_free(budget);

    /* A 50-token quota shared by 4 x 500 always-failing operations (3 attempts
     * each): exactly 10 retries in all; every operation that got no retry
     * stopped on the budget. */
    gcfg.quota_capacity = 50;
    gcfg.timeout_cost = 50;
    budget = NULL;
    if (rsl_retry_budget_new(&gcfg, &budget, NULL) != RSL_OK ||
        rsl_retry_new(NULL, NULL, &policy, NULL) != RSL_OK) {
        fail(rsl_last_error_message(), 0);
        rsl_retry_budget_free(budget);
        return;
    }
    memset(w, 0, sizeof w);
    for (i = 0; i < THREADS; i++) {
        w[i].budget = budget;
        w[i].policy = policy;
        w[i].index = i;
    }
    run_workers(w, retry_thread);
    for (i = 0; i < THREADS; i++) {
        retries += w[i].retries;
        stops += w[i].budget_stops;
    }
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (rsl_retry_budget_get_metrics_at(budget, 0, &m, NULL) != RSL_OK) {
        fail("rsl_retry_budget_get_metrics_at", 0);
    } else {
        printf("retry policies: %d operations, %llu retries, %llu stopped by the budget; "
               "tokens %llu\n",
               THREADS * RETRY_OPERATIONS, (unsigned long long)retries, (unsigned long long)stops,
               (unsigned long long)m.tokens);
        if (retries != 10 || m.granted_total != 10) fail("retries != 10", (long)retries);
        if (m.tokens != 0) fail("tokens left", (long)m.tokens);
        if (m.deposits_total != (uint64_t)THREADS * RETRY_OPERATIONS)
            fail("deposits != operations", (long)m.deposits_total);
        if (stops != m.denied_total) fail("budget stops != denials", (long)stops);
    }
    rsl_retry_free(policy);
    rsl_retry_budget_free(budget);
}

/* ------------------------------------------------------------------------ */
/* Window limiter                                                           */
/* ------------------------------------------------------------------------ */

#define WL_LIMIT 1000
#define WL_WINDOWS 20
#define WL_PER_WINDOW 600
#define WL_WINDOW_NS 1000000000LL

typedef struct {
    const rsl_window_limiter *w;
    pthread_barrier_t *barrier;
    int index;
    uint64_t granted[WL_WINDOWS];
    uint64_t denied;
} window_worker;

static void *window_thread(void *arg) {
    window_worker *wk = arg;
    int win, i;
    for (win = 0; win < WL_WINDOWS; win++) {
        /* Two windows apart: the weighted mode's previous window is empty. */
        int64_t now = 2 * (int64_t)win * WL_WINDOW_NS;
        pthread_barrier_wait(wk->barrier);
        for (i = 0; i < WL_PER_WINDOW; i++) {
            uint32_t n = ((i + wk->index) % 2 == 0) ? 1 : 3;
            rsl_window_limiter_decision d;
            if (rsl_window_limiter_try_acquire_at(wk->w, now, n, RSL_CRITICALITY_CRITICAL, &d, NULL) !=
                RSL_OK) {
                fail("rsl_window_limiter_try_acquire_at", win);
                continue;
            }
            if (d.allowed) {
                wk->granted[win] += n;
            } else {
                if (d.retry_after_ns < 1) fail("denied without a retry time", win);
                wk->denied++;
            }
        }
    }
    return NULL;
}

static void test_window_limiter(uint32_t mode, uint32_t buckets) {
    rsl_window_limiter_config cfg;
    rsl_window_limiter *w = NULL;
    rsl_window_limiter_metrics m;
    pthread_t tid[THREADS];
    pthread_barrier_t barrier;
    window_worker wk[THREADS];
    uint64_t total = 0, denied = 0;
    int i, win;

    MUST_OK(rsl_window_limiter_config_init(&cfg, NULL));
    cfg.mode = mode;
    cfg.limit = WL_LIMIT;
    cfg.window_ns = WL_WINDOW_NS;
    cfg.buckets = buckets;
    if (rsl_window_limiter_new(&cfg, &w, NULL) != RSL_OK) {
        fail("rsl_window_limiter_new", (long)mode);
        return;
    }
    pthread_barrier_init(&barrier, NULL, THREADS);
    memset(wk, 0, sizeof wk);
    for (i = 0; i < THREADS; i++) {
        wk[i].w = w;
        wk[i].barrier = &barrier;
        wk[i].index = i;
        if (pthread_create(&tid[i], NULL, window_thread, &wk[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        denied += wk[i].denied;
    }
    pthread_barrier_destroy(&barrier);
    for (win = 0; win < WL_WINDOWS; win++) {
        uint64_t g = 0;
        for (i = 0; i < THREADS; i++) g += wk[i].granted[win];
        if (g != WL_LIMIT) fail("a window did not grant exactly its limit", (long)g);
        total += g;
    }
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (rsl_window_limiter_get_metrics_at(w, 2 * WL_WINDOWS * WL_WINDOW_NS, &m, NULL) != RSL_OK) {
        fail("rsl_window_limiter_get_metrics_at", 0);
    } else {
        printf("window limiter mode %u: %llu permits granted over %d windows, %llu denials\n",
               (unsigned)mode, (unsigned long long)total, WL_WINDOWS,
               (unsigned long long)denied);
        if (m.admitted_total != total) fail("admitted_total != permits granted", (long)total);
        if (m.rejected_total != denied) fail("rejected_total != denials", (long)denied);
    }
    rsl_window_limiter_free(w);
}

/* ------------------------------------------------------------------------ */
/* Adaptive limiter                                                         */
/* ------------------------------------------------------------------------ */

#define AL_ROUNDS 20000

static pthread_mutex_t al_lock = PTHREAD_MUTEX_INITIALIZER;
static int al_in_flight, al_max_seen; /* guarded by al_lock */

typedef struct {
    const rsl_adaptive_limiter *l;
    rsl_criticality level;
    uint64_t allowed;
    uint64_t dropped;
} limiter_worker;

static void *limiter_thread(void *arg) {
    limiter_worker *wk = arg;
    int i;
    for (i = 0; i < AL_ROUNDS; i++) {
        rsl_adaptive_limiter_decision d;
        if (rsl_adaptive_limiter_acquire_at(wk->l, 0, wk->level, &d, NULL) != RSL_OK) {
            fail("rsl_adaptive_limiter_acquire_at", i);
            continue;
        }
        if (!d.allowed) {
            if (d.inflight < 2) fail("dropped with fewer than 2 in flight", (long)d.inflight);
            wk->dropped++;
            continue;
        }
        if (d.inflight > 1) fail("admitted with more than 1 in flight", (long)d.inflight);
        wk->allowed++;
        pthread_mutex_lock(&al_lock);
        al_in_flight++;
        if (al_in_flight > al_max_seen) al_max_seen = al_in_flight;
        pthread_mutex_unlock(&al_lock);
        sched_yield(); /* stay in flight a little, so the others meet it */
        pthread_mutex_lock(&al_lock);
        al_in_flight--;
        pthread_mutex_unlock(&al_lock);
        if (rsl_adaptive_limiter_record_at(wk->l, 0, &d.token, RSL_OUTCOME_IGNORED, NULL, NULL) !=
            RSL_OK) {
            fail("rsl_adaptive_limiter_record_at", i);
        }
    }
    return NULL;
}

static void test_adaptive_limiter(void) {
    rsl_adaptive_limiter_config cfg;
    rsl_adaptive_limiter *l = NULL;
    rsl_adaptive_limiter_metrics m;
    pthread_t tid[THREADS];
    limiter_worker wk[THREADS];
    const rsl_criticality levels[] = {RSL_CRITICALITY_SHEDDABLE, RSL_CRITICALITY_CRITICAL,
                                      RSL_CRITICALITY_CRITICAL_PLUS, RSL_CRITICALITY_CRITICAL};
    uint64_t allowed = 0, dropped = 0;
    int i;

    MUST_OK(rsl_adaptive_limiter_config_init(&cfg, NULL));
    cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;
    if (rsl_adaptive_limiter_new(&cfg, &l, NULL) != RSL_OK || rsl_adaptive_limiter_set_cpu(l, 1000, NULL)) {
        fail("rsl_adaptive_limiter_new / set_cpu", 0);
        rsl_adaptive_limiter_free(l);
        return;
    }
    memset(wk, 0, sizeof wk);
    for (i = 0; i < THREADS; i++) {
        wk[i].l = l;
        wk[i].level = levels[i % 4];
        if (pthread_create(&tid[i], NULL, limiter_thread, &wk[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        allowed += wk[i].allowed;
        dropped += wk[i].dropped;
    }
    if (al_max_seen > 2) fail("more than 2 requests in flight at once", al_max_seen);
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (rsl_adaptive_limiter_get_metrics_at(l, 0, &m, NULL) != RSL_OK) {
        fail("rsl_adaptive_limiter_get_metrics_at", 0);
    } else {
        uint64_t d = m.dropped_sheddable + m.dropped_sheddable_plus + m.dropped_critical +
                     m.dropped_critical_plus;
        printf("adaptive limiter: %llu admitted, %llu dropped, at most %d in flight\n",
               (unsigned long long)allowed, (unsigned long long)dropped, al_max_seen);
        if (m.inflight != 0) fail("inflight after every release", (long)m.inflight);
        if (m.allowed_total != allowed) fail("allowed_total != admissions", (long)allowed);
        if (d != dropped) fail("dropped_* != drops", (long)dropped);
        if (allowed + dropped != (uint64_t)THREADS * AL_ROUNDS) {
            fail("admissions + drops != acquire calls", (long)(allowed + dropped));
        }
    }
    rsl_adaptive_limiter_free(l);
}

/* ------------------------------------------------------------------------ */
/* Bulkhead                                                                 */
/* ------------------------------------------------------------------------ */

#define BULKHEAD_LIMIT 2
#define BULKHEAD_ITERATIONS 5000
#define BULKHEAD_QUEUE 8

static atomic_int bulkhead_inside;
static atomic_int bulkhead_max_inside;

static void bulkhead_inside_enter(void) {
    int n = atomic_fetch_add(&bulkhead_inside, 1) + 1;
    int seen = atomic_load(&bulkhead_max_inside);
    while (n > seen && !atomic_compare_exchange_weak(&bulkhead_max_inside, &seen, n)) {
    }
}

/* What a binding keeps per waiter ticket (a CompletableFuture, a Go channel
 * of capacity 1), settled once: PENDING until an exit hands the waiter its
 * permit (COMPLETED) or the waiter gives up first (ABANDONED: it cancels,
 * and if the cancel is too late it owns the permit the cancel returns,
 * while the exit that handed it over drops it). */
enum { FUT_COMPLETED = 1, FUT_ABANDONED = 2 };

typedef struct {
    rsl_bulkhead_waiter waiter;
    int state;
    rsl_bulkhead_permit permit;
} fut_entry;

#define FUTS 256

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    fut_entry e[FUTS];
    int n;
} futures;

static void futs_init(futures *f) {
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->n = 0;
}

static void futs_destroy(futures *f) {
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cv);
}

/* With the lock held. */
static int futs_find(futures *f, rsl_bulkhead_waiter w) {
    int i;
    for (i = 0; i < f->n; i++) {
        if (f->e[i].waiter == w) return i;
    }
    return -1;
}

static void futs_remove(futures *f, int i) {
    f->e[i] = f->e[--f->n];
}

static void futs_add(futures *f, rsl_bulkhead_waiter w, int state, rsl_bulkhead_permit p) {
    if (f->n == FUTS) {
        fail("futures table full", f->n);
        return;
    }
    f->e[f->n].waiter = w;
    f->e[f->n].state = state;
    f->e[f->n].permit = p;
    f->n++;
}

/* Exits `p` and delivers the slot to the waiter it was handed to. A second
 * exit of the same permit is always refused. */
static void bulkhead_exit_deliver(const rsl_bulkhead *h, int64_t now, rsl_bulkhead_permit p,
                                  futures *f) {
    rsl_bulkhead_exit_result x;
    if (rsl_bulkhead_exit_at(h, now, p, &x, NULL) != RSL_OK) {
        fail("bulkhead exit", (long)now);
        return;
    }
    if (rsl_bulkhead_exit_at(h, now, p, &x, NULL) != RSL_ERR_INVALID_ARGUMENT) {
        fail("a second exit of one permit was accepted", (long)now);
    }
    if (x.handed_to == RSL_BULKHEAD_HANDED_WAITER) {
        int i;
        pthread_mutex_lock(&f->lock);
        i = futs_find(f, x.waiter);
        if (i < 0) {
            futs_add(f, x.waiter, FUT_COMPLETED, x.permit);
            pthread_cond_broadcast(&f->cv);
        } else if (f->e[i].state == FUT_ABANDONED) {
            futs_remove(f, i); /* the waiter's too-late cancel returns the permit to it */
        } else {
            fail("one ticket handed two slots", 0);
        }
        pthread_mutex_unlock(&f->lock);
    }
}

/* Waits for the ticket's permit. */
static rsl_bulkhead_permit futs_wait(futures *f, rsl_bulkhead_waiter w) {
    rsl_bulkhead_permit p = 0;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        int i = futs_find(f, w);
        if (i >= 0 && f->e[i].state == FUT_COMPLETED) {
            p = f->e[i].permit;
            futs_remove(f, i);
            break;
        }
        pthread_cond_wait(&f->cv, &f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return p;
}

/* The waiter's timer fired: returns the permit it holds after all (served
 * first, or cancelled too late; *late says which), or 0 if it left. */
static rsl_bulkhead_permit futs_give_up(futures *f, const rsl_bulkhead *h, rsl_bulkhead_waiter w,
                                        int *late) {
    rsl_bulkhead_cancel_result c;
    int i;
    *late = 0;
    pthread_mutex_lock(&f->lock);
    i = futs_find(f, w);
    if (i >= 0 && f->e[i].state == FUT_COMPLETED) {
        rsl_bulkhead_permit p = f->e[i].permit;
        futs_remove(f, i);
        pthread_mutex_unlock(&f->lock);
        return p;
    }
    futs_add(f, w, FUT_ABANDONED, 0);
    pthread_mutex_unlock(&f->lock);
    if (rsl_bulkhead_cancel_wait(h, w, &c, NULL) != RSL_OK) {
        fail("cancel_wait of a live ticket", 0);
        return 0;
    }
    if (c.cancelled) {
        /* No exit will ever name this ticket. */
        pthread_mutex_lock(&f->lock);
        i = futs_find(f, w);
        if (i >= 0) futs_remove(f, i);
        pthread_mutex_unlock(&f->lock);
        return 0;
    }
    if (rsl_bulkhead_cancel_wait(h, w, &c, NULL) != RSL_ERR_INVALID_ARGUMENT) {
        fail("a second cancel of a settled ticket was accepted", 0);
    }
    *late = 1;
    return c.permit;
}

typedef struct {
    const rsl_bulkhead *bulkhead;
    futures *futs;
    int index;
    uint64_t entered, served, too_late, removed, full, blocked;
} bulkhead_worker;

/* Thread 0 fails fast (try_enter); thread 1 blocks in enter_wait with a
 * timeout long enough never to expire (a lost wake-up shows as a refusal);
 * threads 2 and 3 enqueue tickets, and every third of their waits gives up
 * at once (its timer), racing the hand-over. */
static void *bulkhead_thread(void *arg) {
    bulkhead_worker *w = arg;
    int i;
    for (i = 0; i < BULKHEAD_ITERATIONS; i++) {
        rsl_bulkhead_permit p = 0;
        if (w->index == 0) {
            MUST_OK(rsl_bulkhead_try_enter_at(w->bulkhead, i, &p, NULL));
            if (p == 0) w->full++;
            else w->entered++;
        } else if (w->index == 1) {
            MUST_OK(rsl_bulkhead_enter_wait(w->bulkhead, 120000000000LL, &p, NULL));
            if (p == 0) fail("a blocked waiter was not woken", i);
            else w->blocked++;
        } else {
            rsl_bulkhead_entry e;
            MUST_OK(rsl_bulkhead_enqueue_at(w->bulkhead, i, &e, NULL));
            if (e.outcome == RSL_BULKHEAD_ENTERED) {
                p = e.permit;
                w->entered++;
            } else if (e.outcome == RSL_BULKHEAD_QUEUED) {
                if ((i + w->index) % 3 == 0) {
                    int late;
                    p = futs_give_up(w->futs, w->bulkhead, e.waiter, &late);
                    if (p == 0) w->removed++;
                    else if (late) w->too_late++;
                    else w->served++;
                } else {
                    p = futs_wait(w->futs, e.waiter);
                    w->served++;
                }
            } else {
                fail("a queue of 8 for 3 waiters was full", i);
            }
        }
        if (p == 0) {
            sched_yield();
            continue;
        }
        bulkhead_inside_enter();
        /* Hold the slot a moment, so that the others queue. */
        sched_yield();
        sched_yield();
        atomic_fetch_sub(&bulkhead_inside, 1);
        bulkhead_exit_deliver(w->bulkhead, i, p, w->futs);
    }
    return NULL;
}

static int bulkhead_metrics(const rsl_bulkhead *h, rsl_bulkhead_metrics *m) {
    memset(m, 0, sizeof *m);
    m->struct_size = sizeof *m;
    if (rsl_bulkhead_get_metrics_at(h, 0, m, NULL) != RSL_OK) {
        fail("rsl_bulkhead_get_metrics_at", 0);
        return -1;
    }
    return 0;
}

static void test_bulkhead(void) {
    rsl_bulkhead_config cfg;
    rsl_bulkhead *h = NULL;
    rsl_bulkhead_metrics m;
    bulkhead_worker w[THREADS];
    pthread_t tid[THREADS];
    futures futs;
    uint64_t entered = 0, served = 0, too_late = 0, removed = 0, full = 0, blocked = 0;
    int i;

    MUST_OK(rsl_bulkhead_config_init(&cfg, NULL));
    cfg.max_concurrent = BULKHEAD_LIMIT;
    cfg.max_waiters = BULKHEAD_QUEUE;
    if (rsl_bulkhead_new(&cfg, &h, NULL) != RSL_OK) {
        fail("rsl_bulkhead_new", 0);
        return;
    }
    futs_init(&futs);
    atomic_store(&bulkhead_inside, 0);
    atomic_store(&bulkhead_max_inside, 0);
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].bulkhead = h;
        w[i].futs = &futs;
        w[i].index = i;
        if (pthread_create(&tid[i], NULL, bulkhead_thread, &w[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        entered += w[i].entered;
        served += w[i].served;
        too_late += w[i].too_late;
        removed += w[i].removed;
        full += w[i].full;
        blocked += w[i].blocked;
    }
    if (bulkhead_metrics(h, &m) == 0) {
        uint64_t held = entered + served + too_late + blocked;
        printf("bulkhead: %llu entered at once, %llu served from the queue, %llu too late, "
               "%llu cancelled, %llu blocked waits, %llu refused; at most %d inside (cap %d); "
               "metrics: queued %llu, handed over %llu, cancelled %llu\n",
               (unsigned long long)entered, (unsigned long long)served,
               (unsigned long long)too_late, (unsigned long long)removed,
               (unsigned long long)blocked, (unsigned long long)full,
               atomic_load(&bulkhead_max_inside), BULKHEAD_LIMIT,
               (unsigned long long)m.queued_total, (unsigned long long)m.handed_over_total,
               (unsigned long long)m.cancelled_total);
        if (atomic_load(&bulkhead_max_inside) > BULKHEAD_LIMIT) {
            fail("more callers inside than max_concurrent", atomic_load(&bulkhead_max_inside));
        }
        if (m.peak_in_use > BULKHEAD_LIMIT) fail("peak_in_use above the cap", m.peak_in_use);
        if (m.in_use != 0 || m.waiting != 0) fail("in_use/waiting not back to 0", m.in_use);
        if (futs.n != 0) fail("an undelivered hand-over", futs.n);
        if (m.entered_total != held || m.exited_total != held) {
            fail("entered/exited totals differ from the slots held", (long)held);
        }
        /* Every ticket got exactly one slot or one cancellation. */
        if (m.cancelled_total != removed) fail("cancelled_total != cancellations seen", (long)removed);
        if (m.queued_total != m.handed_over_total + m.cancelled_total) {
            fail("queued != handed over + cancelled", (long)m.queued_total);
        }
        if (m.handed_over_total < served + too_late) fail("hand-overs missing", (long)served);
        if (m.rejected_total != full) fail("rejected_total != refusals seen", (long)full);
    }
    rsl_bulkhead_free(h);
    futs_destroy(&futs);
}

/* FIFO under concurrency: one slot, held; 24 tickets queued in a known
 * order by one thread; then one thread per ticket waits for its slot, every
 * third one gives up at a varying moment, racing the chain of hand-overs.
 * With one slot the holdings are sequential, so the order they are seen in
 * is the hand-over order: it must be the arrival order, minus the waiters
 * whose cancel removed them, and every other waiter must be served. */
#define FIFO_WAITERS 24
#define FIFO_ROUNDS 20

typedef struct {
    const rsl_bulkhead *bulkhead;
    futures *futs;
    rsl_bulkhead_waiter waiter;
    int index, cancels;
    atomic_int *go;
    pthread_mutex_t *order_lock;
    int *order, *order_n, *removed_n;
} fifo_worker;

static void *fifo_thread(void *arg) {
    fifo_worker *w = arg;
    rsl_bulkhead_permit p;
    if (w->cancels) {
        int k, late;
        while (!atomic_load(w->go)) sched_yield();
        for (k = 0; k < (w->index * 37) % 200; k++) sched_yield();
        p = futs_give_up(w->futs, w->bulkhead, w->waiter, &late);
        if (p == 0) {
            pthread_mutex_lock(w->order_lock);
            (*w->removed_n)++;
            pthread_mutex_unlock(w->order_lock);
            return NULL;
        }
    } else {
        p = futs_wait(w->futs, w->waiter);
    }
    bulkhead_inside_enter();
    pthread_mutex_lock(w->order_lock);
    w->order[(*w->order_n)++] = w->index;
    pthread_mutex_unlock(w->order_lock);
    atomic_fetch_sub(&bulkhead_inside, 1);
    bulkhead_exit_deliver(w->bulkhead, 1, p, w->futs);
    return NULL;
}

static void test_bulkhead_fifo(void) {
    int round, i;
    long cancelled_total = 0, served_total = 0;
    atomic_store(&bulkhead_inside, 0);
    atomic_store(&bulkhead_max_inside, 0);
    for (round = 0; round < FIFO_ROUNDS; round++) {
        rsl_bulkhead_config cfg;
        rsl_bulkhead *h = NULL;
        rsl_bulkhead_permit holder = 0;
        rsl_bulkhead_metrics m;
        futures futs;
        fifo_worker w[FIFO_WAITERS];
        pthread_t tid[FIFO_WAITERS];
        pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
        int order[FIFO_WAITERS], order_n = 0, removed_n = 0;
        atomic_int go;

        MUST_OK(rsl_bulkhead_config_init(&cfg, NULL));
        cfg.max_concurrent = 1;
        cfg.max_waiters = FIFO_WAITERS;
        if (rsl_bulkhead_new(&cfg, &h, NULL) != RSL_OK) {
            fail("rsl_bulkhead_new", 0);
            return;
        }
        futs_init(&futs);
        atomic_init(&go, 0);
        MUST_OK(rsl_bulkhead_try_enter_at(h, 0, &holder, NULL));
        for (i = 0; i < FIFO_WAITERS; i++) {
            rsl_bulkhead_entry e;
            MUST_OK(rsl_bulkhead_enqueue_at(h, 0, &e, NULL));
            if (e.outcome != RSL_BULKHEAD_QUEUED || e.position != (uint32_t)i + 1) {
                fail("a ticket did not queue at its place", i);
            }
            w[i].bulkhead = h;
            w[i].futs = &futs;
            w[i].waiter = e.waiter;
            w[i].index = i;
            w[i].cancels = (i + round) % 3 == 0;
            w[i].go = &go;
            w[i].order_lock = &order_lock;
            w[i].order = order;
            w[i].order_n = &order_n;
            w[i].removed_n = &removed_n;
        }
        for (i = 0; i < FIFO_WAITERS; i++) {
            if (pthread_create(&tid[i], NULL, fifo_thread, &w[i]) != 0) {
                fprintf(stderr, "pthread_create failed\n");
                exit(EXIT_FAILURE);
            }
        }
        atomic_store(&go, 1);
        bulkhead_exit_deliver(h, 1, holder, &futs);
        for (i = 0; i < FIFO_WAITERS; i++) pthread_join(tid[i], NULL);
        for (i = 1; i < order_n; i++) {
            if (order[i - 1] >= order[i]) fail("slots not handed over in arrival order", order[i]);
        }
        if (order_n + removed_n != FIFO_WAITERS) fail("a waiter got neither a slot nor a cancel", order_n);
        for (i = 0; i < FIFO_WAITERS; i++) {
            int k, seen = 0;
            for (k = 0; k < order_n; k++) seen |= order[k] == i;
            if (!w[i].cancels && !seen) fail("a waiter that never gave up was not served", i);
        }
        if (bulkhead_metrics(h, &m) == 0) {
            if (m.in_use != 0 || m.waiting != 0) fail("fifo: in_use/waiting not back to 0", m.in_use);
            if (m.cancelled_total != (uint64_t)removed_n) fail("fifo: cancelled_total", removed_n);
            if (m.handed_over_total != (uint64_t)order_n) fail("fifo: handed_over_total", order_n);
        }
        if (futs.n != 0) fail("fifo: an undelivered hand-over", futs.n);
        cancelled_total += removed_n;
        served_total += order_n;
        rsl_bulkhead_free(h);
        futs_destroy(&futs);
        pthread_mutex_destroy(&order_lock);
    }
    if (atomic_load(&bulkhead_max_inside) > 1) fail("fifo: two holders of one slot", 0);
    printf("bulkhead queue: %d rounds of %d tickets: %ld served in arrival order, %ld cancelled "
           "before their turn\n",
           FIFO_ROUNDS, FIFO_WAITERS, served_total, cancelled_total);
}


/* ------------------------------------------------------------------------ */
/* Token bucket and leaky bucket                                            */
/* ------------------------------------------------------------------------ */

#define TB_PHASES 300
#define TB_CALLS 25
#define TB_STEP_NS 700000LL
#define TB_T0 1000000000LL

typedef struct {
    const rsl_token_bucket *b;
    pthread_barrier_t *barrier;
    uint64_t granted[TB_PHASES];
} tb_phase_worker;

static void *tb_phase_thread(void *arg) {
    tb_phase_worker *wk = arg;
    int p, i;
    for (p = 0; p < TB_PHASES; p++) {
        int64_t now = TB_T0 + (int64_t)p * TB_STEP_NS;
        pthread_barrier_wait(wk->barrier);
        for (i = 0; i < TB_CALLS; i++) {
            uint32_t ok = 0;
            if (rsl_token_bucket_allow_at(wk->b, now, 1, &ok, NULL) != RSL_OK) {
                fail("rsl_token_bucket_allow_at", p);
            }
            wk->granted[p] += ok;
        }
    }
    return NULL;
}

#define TB_RESERVE_CALLS 2000

typedef struct {
    const rsl_token_bucket *b;
    int64_t times[TB_RESERVE_CALLS];
} tb_reserve_worker;

static void *tb_reserve_thread(void *arg) {
    tb_reserve_worker *wk = arg;
    int i;
    for (i = 0; i < TB_RESERVE_CALLS; i++) {
        rsl_token_bucket_reservation r;
        if (rsl_token_bucket_reserve_at(wk->b, 5 * TB_T0, 1, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL) !=
                RSL_OK ||
            r.ok != 1) {
            fail("rsl_token_bucket_reserve_at", i);
        }
        wk->times[i] = r.time_to_act_ns;
    }
    return NULL;
}

typedef struct {
    const rsl_token_bucket *b;
    uint64_t granted;
} tb_clock_worker;

static void *tb_clock_thread(void *arg) {
    tb_clock_worker *wk = arg;
    int i;
    for (i = 0; i < ITERATIONS; i++) {
        uint32_t ok = 0;
        if (rsl_token_bucket_allow(wk->b, 1, &ok, NULL) != RSL_OK) fail("rsl_token_bucket_allow", i);
        wk->granted += ok;
    }
    return NULL;
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static rsl_token_bucket *token_bucket(double rate, int64_t burst) {
    rsl_token_bucket_config cfg;
    rsl_token_bucket *b = NULL;
    MUST_OK(rsl_token_bucket_config_init(&cfg, NULL));
    cfg.rate_per_sec = rate;
    cfg.burst = burst;
    if (rsl_token_bucket_new(&cfg, &b, NULL) != RSL_OK) {
        fprintf(stderr, "rsl_token_bucket_new: %s\n", rsl_last_error_message());
        exit(EXIT_FAILURE);
    }
    return b;
}

static void test_token_bucket(void) {
    rsl_token_bucket *b = token_bucket(1000.0, 40), *model = token_bucket(1000.0, 40);
    pthread_t tid[THREADS];
    pthread_barrier_t barrier;
    static tb_phase_worker pw[THREADS];
    static tb_reserve_worker rw[THREADS];
    static int64_t got[THREADS * TB_RESERVE_CALLS], want[THREADS * TB_RESERVE_CALLS];
    tb_clock_worker cw[THREADS];
    uint64_t total = 0, granted = 0;
    int64_t start, end;
    double bound;
    int i, p;

    /* Phases at one instant each. */
    pthread_barrier_init(&barrier, NULL, THREADS);
    memset(pw, 0, sizeof pw);
    for (i = 0; i < THREADS; i++) {
        pw[i].b = b;
        pw[i].barrier = &barrier;
        if (pthread_create(&tid[i], NULL, tb_phase_thread, &pw[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (p = 0; p < TB_PHASES; p++) {
        int64_t now = TB_T0 + (int64_t)p * TB_STEP_NS;
        uint64_t g = 0, w = 0;
        for (i = 0; i < THREADS; i++) g += pw[i].granted[p];
        for (i = 0; i < THREADS * TB_CALLS; i++) {
            uint32_t ok = 0;
            MUST_OK(rsl_token_bucket_allow_at(model, now, 1, &ok, NULL));
            w += ok;
        }
        if (g != w) fail("a phase granted other than the sequential replay", p);
        total += g;
    }
    printf("token bucket: %llu tokens granted over %d instants (sequential replay agrees)\n",
           (unsigned long long)total, TB_PHASES);
    if (total != 249) fail("token bucket phases: want 40 + 209 grants", (long)total);
    rsl_token_bucket_free(b);
    rsl_token_bucket_free(model);

    /* Reservations at one instant. */
    b = token_bucket(1000.0, 10);
    model = token_bucket(1000.0, 10);
    for (i = 0; i < THREADS; i++) {
        rw[i].b = b;
        if (pthread_create(&tid[i], NULL, tb_reserve_thread, &rw[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        memcpy(got + (size_t)i * TB_RESERVE_CALLS, rw[i].times, sizeof rw[i].times);
    }
    for (i = 0; i < THREADS * TB_RESERVE_CALLS; i++) {
        rsl_token_bucket_reservation r;
        MUST_OK(rsl_token_bucket_reserve_at(model, 5 * TB_T0, 1, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL));
        want[i] = r.time_to_act_ns;
    }
    qsort(got, THREADS * TB_RESERVE_CALLS, sizeof got[0], compare_i64);
    if (memcmp(got, want, sizeof got) != 0) fail("reservations differ from the replay", 0);
    rsl_token_bucket_free(b);
    rsl_token_bucket_free(model);

    /* The real clock, read by the plain twin after its snapshot. */
    b = token_bucket(200000.0, 100);
    memset(cw, 0, sizeof cw);
    start = rsl_now_ns();
    for (i = 0; i < THREADS; i++) {
        cw[i].b = b;
        if (pthread_create(&tid[i], NULL, tb_clock_thread, &cw[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        granted += cw[i].granted;
    }
    end = rsl_now_ns();
    /* +1 ns and 1e-6 token: x/time/rate grants a deficit worth less than
     * 1 ns (carried as negative tokens), and float sums round. */
    bound = 100.0 + 200000.0 * (double)(end - start + 1) / 1e9 + 1e-6;
    printf("token bucket, real clock: %llu granted, bound %.3f\n", (unsigned long long)granted,
           bound);
    if ((double)granted > bound) fail("token bucket exceeded burst + rate x elapsed", (long)granted);
    if (granted < 100) fail("the full bucket was not granted", (long)granted);
    rsl_token_bucket_free(b);
}

typedef struct {
    const rsl_leaky_bucket *b;
    _Atomic int64_t *clock;
    int index;
    uint64_t granted;
} meter_worker;

static void *meter_thread(void *arg) {
    meter_worker *wk = arg;
    int k;
    for (k = 0; k < ITERATIONS; k++) {
        int64_t step = 1000 * (1 + ((k * 31 + wk->index * 7) % 97));
        int64_t now = atomic_fetch_add(wk->clock, step) + step;
        rsl_leaky_bucket_verdict v;
        if (rsl_leaky_bucket_check_at(wk->b, now, 1, &v, NULL) != RSL_OK) {
            fail("rsl_leaky_bucket_check_at", k);
        }
        wk->granted += v.allowed;
    }
    return NULL;
}

#define PACER_CALLS 5000
#define PACER_NOW 1700000000000000000LL

typedef struct {
    const rsl_leaky_bucket *b;
    int64_t ready[PACER_CALLS];
} pacer_worker;

static void *pacer_thread(void *arg) {
    pacer_worker *wk = arg;
    int i;
    for (i = 0; i < PACER_CALLS; i++) {
        rsl_leaky_bucket_permit p;
        if (rsl_leaky_bucket_take_at(wk->b, PACER_NOW, &p, NULL) != RSL_OK || !p.taken ||
            p.wait_ns != p.ready_at_ns - PACER_NOW) {
            fail("rsl_leaky_bucket_take_at", i);
        }
        wk->ready[i] = p.ready_at_ns;
    }
    return NULL;
}

static void test_leaky_bucket(void) {
    rsl_leaky_bucket_config cfg;
    rsl_leaky_bucket *m = NULL, *p = NULL;
    pthread_t tid[THREADS];
    meter_worker mw[THREADS];
    static pacer_worker pw[THREADS];
    static int64_t all[THREADS * PACER_CALLS];
    _Atomic int64_t clock = 0;
    uint64_t granted = 0, bound;
    int i;

    MUST_OK(rsl_leaky_bucket_config_init(&cfg, NULL));
    cfg.mode = RSL_LEAKY_BUCKET_METER;
    cfg.rate = 1000; /* T = 1 ms */
    cfg.burst = 20;
    if (rsl_leaky_bucket_new(&cfg, &m, NULL) != RSL_OK) {
        fail("rsl_leaky_bucket_new (meter, NULL)", 0);
        return;
    }
    for (i = 0; i < THREADS; i++) {
        mw[i].b = m;
        mw[i].clock = &clock;
        mw[i].index = i;
        mw[i].granted = 0;
        if (pthread_create(&tid[i], NULL, meter_thread, &mw[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        granted += mw[i].granted;
    }
    bound = 20 + (uint64_t)(atomic_load(&clock) / 1000000);
    printf("GCRA meter: %llu granted, bound %llu\n", (unsigned long long)granted,
           (unsigned long long)bound);
    if (granted > bound) fail("meter exceeded burst + elapsed / T", (long)granted);
    if (granted < bound / 2) fail("meter far below its rate", (long)granted);
    rsl_leaky_bucket_free(m);

    MUST_OK(rsl_leaky_bucket_config_init(&cfg, NULL));
    cfg.rate = 1000;
    cfg.slack = 0;
    if (rsl_leaky_bucket_new(&cfg, &p, NULL) != RSL_OK) {
        fail("rsl_leaky_bucket_new (pacer, NULL)", 0);
        return;
    }
    for (i = 0; i < THREADS; i++) {
        pw[i].b = p;
        if (pthread_create(&tid[i], NULL, pacer_thread, &pw[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        memcpy(all + (size_t)i * PACER_CALLS, pw[i].ready, sizeof pw[i].ready);
    }
    qsort(all, THREADS * PACER_CALLS, sizeof all[0], compare_i64);
    for (i = 0; i < THREADS * PACER_CALLS; i++) {
        if (all[i] != PACER_NOW + (int64_t)i * 1000000) {
            fail("pacer permits are not exactly now + i x T", i);
            break;
        }
    }
    rsl_leaky_bucket_free(p);
}

int main(void) {
    test_breaker();
    test_throttle();
    test_retry_budget();
    test_window_limiter(RSL_WINDOW_LIMITER_FIXED, 1);
    test_window_limiter(RSL_WINDOW_LIMITER_SLIDING_BUCKETS, 10);
    test_window_limiter(RSL_WINDOW_LIMITER_SLIDING_WEIGHTED, 1);
    test_adaptive_limiter();
    test_bulkhead();
    test_bulkhead_fifo();
    test_token_bucket();
    test_leaky_bucket();
    if (failures != 0) {
        printf("test_concurrency: %d failures\n", failures);
        return EXIT_FAILURE;
    }
    printf("test_concurrency: ok\n");
    return EXIT_SUCCESS;
}
