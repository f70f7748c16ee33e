/*
 * Failure reporting shared by the multi-threaded C tests: fail() may be
 * called from any thread; MUST_OK(call) fails the test on any status but
 * RSL_OK. Include once, after resilience.h and <pthread.h>.
 */
#ifndef RSL_TESTS_THREAD_CHECKS_H
#define RSL_TESTS_THREAD_CHECKS_H

#include <stdio.h>

static int failures;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, long value) {
    pthread_mutex_lock(&report_lock);
    if (failures < 20) {
        fprintf(stderr, "FAIL: %s (%ld)\n", what, value);
    }
    failures++;
    pthread_mutex_unlock(&report_lock);
}

/* A call that must succeed: any other status is a failure of the test. */
#define MUST_OK(call)                                                          \
    do {                                                                       \
        rsl_status must_ok_status_ = (call);                                   \
        if (must_ok_status_ != RSL_OK) {                                       \
            fail(#call, must_ok_status_);                                      \
        }                                                                      \
    } while (0)

#endif
