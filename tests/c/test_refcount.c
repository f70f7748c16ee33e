/*
 * Reference counts racing with calls, under ASan, valgrind and TSan:
 *
 *   - for every handle type, THREADS threads each take their own reference
 *     (rsl_<type>_retain) and call the handle in a loop, taking and giving
 *     back an extra reference around every call, while the creator gives its
 *     reference back at once; the last release (whichever thread makes it)
 *     frees the handle exactly once: ASan/valgrind report any use after free
 *     or leak, TSan any race on the C side;
 *   - retain(NULL) is NULL and release(NULL) is a no-op;
 *   - a retry policy and a budget shared by threads, released in any order.
 *
 * Exit status 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L
#include "resilience.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define CALLS 2000

#include "thread_checks.h"

/* One handle type's worker: its own reference, an extra one per call. */
#define DEFINE_WORKER(type, call_stmt)                                         \
    static void *type##_worker(void *arg) {                                    \
        rsl_##type *h = arg;                                                   \
        int i;                                                                 \
        for (i = 0; i < CALLS; i++) {                                          \
            rsl_##type *extra = rsl_##type##_retain(h);                        \
            if (extra != h) {                                                  \
                fail(#type "_retain returned another pointer", i);             \
                break;                                                         \
            }                                                                  \
            call_stmt;                                                         \
            rsl_##type##_release(extra);                                       \
        }                                                                      \
        rsl_##type##_release(h);                                               \
        return NULL;                                                           \
    }

DEFINE_WORKER(breaker, {
    rsl_breaker_state s;
    MUST_OK(rsl_breaker_get_state(extra, &s, NULL));
})
DEFINE_WORKER(token_bucket, {
    uint32_t ok;
    MUST_OK(rsl_token_bucket_allow_at(extra, i, 1, &ok, NULL));
})
DEFINE_WORKER(window_limiter, {
    rsl_window_limiter_decision d;
    MUST_OK(rsl_window_limiter_try_acquire_at(extra, i, 1, RSL_CRITICALITY_DEFAULT, &d, NULL));
})
DEFINE_WORKER(leaky_bucket, {
    int64_t interval;
    MUST_OK(rsl_leaky_bucket_get_interval(extra, &interval, NULL));
})
DEFINE_WORKER(adaptive_throttle, {
    rsl_adaptive_throttle_metrics m;
    m.struct_size = sizeof m;
    MUST_OK(rsl_adaptive_throttle_get_metrics_at(extra, i, &m, NULL));
})
DEFINE_WORKER(adaptive_limiter, {
    rsl_adaptive_limiter_metrics m;
    m.struct_size = sizeof m;
    MUST_OK(rsl_adaptive_limiter_get_metrics_at(extra, i, &m, NULL));
})
DEFINE_WORKER(retry_budget, {
    rsl_retry_budget_metrics m;
    m.struct_size = sizeof m;
    MUST_OK(rsl_retry_budget_get_metrics_at(extra, i, &m, NULL));
})
DEFINE_WORKER(bulkhead, {
    rsl_bulkhead_metrics m;
    m.struct_size = sizeof m;
    MUST_OK(rsl_bulkhead_get_metrics_at(extra, i, &m, NULL));
})
DEFINE_WORKER(backoff, {
    int64_t d;
    rsl_backoff_state st;
    memset(&st, 0, sizeof st);
    MUST_OK(rsl_backoff_next(extra, (uint32_t)(i % 10) + 1, &st, &d, NULL));
})

/* Starts THREADS workers, each with its own reference, then gives back the
 * creator's reference while they run. */
#define RACE(type, handle)                                                     \
    do {                                                                       \
        pthread_t t_[THREADS];                                                 \
        int k_;                                                                \
        for (k_ = 0; k_ < THREADS; k_++) {                                     \
            rsl_##type *mine_ = rsl_##type##_retain(handle);                   \
            if (mine_ == NULL ||                                               \
                pthread_create(&t_[k_], NULL, type##_worker, mine_) != 0) {   \
                fail(#type ": could not start a worker", k_);                  \
                return;                                                        \
            }                                                                  \
        }                                                                      \
        rsl_##type##_free(handle);                                             \
        for (k_ = 0; k_ < THREADS; k_++) {                                     \
            pthread_join(t_[k_], NULL);                                        \
        }                                                                      \
    } while (0)

static void race_every_type(void) {
    rsl_breaker *b = NULL;
    rsl_token_bucket *tb = NULL;
    rsl_window_limiter *wl = NULL;
    rsl_leaky_bucket *lb = NULL;
    rsl_adaptive_throttle *at = NULL;
    rsl_adaptive_limiter *al = NULL;
    rsl_adaptive_limiter_config alc;
    rsl_retry_budget *rb = NULL;
    rsl_bulkhead *bh = NULL;
    rsl_backoff *bo = NULL;

    MUST_OK(rsl_breaker_new_at(NULL, 0, &b, NULL));
    MUST_OK(rsl_token_bucket_new(NULL, &tb, NULL));
    MUST_OK(rsl_window_limiter_new(NULL, &wl, NULL));
    MUST_OK(rsl_leaky_bucket_new(NULL, &lb, NULL));
    MUST_OK(rsl_adaptive_throttle_new(NULL, &at, NULL));
    MUST_OK(rsl_adaptive_limiter_config_init(&alc, NULL));
    alc.cpu_source = RSL_CPU_SOURCE_MANUAL; /* no sampler thread here */
    MUST_OK(rsl_adaptive_limiter_new(&alc, &al, NULL));
    MUST_OK(rsl_retry_budget_new(NULL, &rb, NULL));
    MUST_OK(rsl_bulkhead_new(NULL, &bh, NULL));
    MUST_OK(rsl_backoff_new(NULL, &bo, NULL));
    if (failures) {
        return;
    }
    RACE(breaker, b);
    RACE(token_bucket, tb);
    RACE(window_limiter, wl);
    RACE(leaky_bucket, lb);
    RACE(adaptive_throttle, at);
    RACE(adaptive_limiter, al);
    RACE(retry_budget, rb);
    RACE(bulkhead, bh);
    RACE(backoff, bo);
}

static void null_is_harmless(void) {
    if (rsl_breaker_retain(NULL) != NULL || rsl_retry_retain(NULL) != NULL ||
        rsl_deadline_policy_retain(NULL) != NULL) {
        fail("retain(NULL) is not NULL", 0);
    }
    rsl_breaker_release(NULL);
    rsl_retry_release(NULL);
    rsl_deadline_policy_release(NULL);
}

/* A handle outlives the creator's release while another holder uses it. */
static void a_retained_handle_outlives_its_creator(void) {
    rsl_retry *r = NULL;
    rsl_retry *shared;
    rsl_retry_state st;
    MUST_OK(rsl_retry_new(NULL, NULL, &r, NULL));
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    shared = rsl_retry_retain(r);
    rsl_retry_free(r);
    MUST_OK(rsl_retry_begin_at(shared, NULL, 0, RSL_NO_DEADLINE, &st, NULL));
    rsl_retry_release(shared);
}

int main(void) {
    null_is_harmless();
    a_retained_handle_outlives_its_creator();
    race_every_type();
    if (failures) {
        fprintf(stderr, "test_refcount: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_refcount: ok\n");
    return 0;
}
