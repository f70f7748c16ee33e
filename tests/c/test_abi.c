/*
 * test_abi.c — the C ABI's error contract, checked from C.
 *
 * Provokes every status code reachable from C and checks the detail message
 * (rsl_last_error_message) names the offending argument or field:
 *   RSL_ERR_NULL_ARGUMENT      every pointer parameter of every function;
 *   RSL_ERR_INVALID_ARGUMENT   unknown presets, outcomes and states;
 *   RSL_ERR_INVALID_CONFIG     every validated field of both configs;
 *   RSL_ERR_CONFIG_SIZE        absurd struct_size in configs and metrics;
 *   RSL_ERR_CONFIG_UNSUPPORTED a caller struct larger than the library's;
 *   RSL_ERR_EXCEEDS_CAPACITY   a window limiter asked for more than its
 *                              limit, or than a level's share of it;
 * for the breaker and the adaptive throttle, and the same for the backoff,
 * retry policy and retry budget functions (test_*_retry: every pointer, the
 * attempt/u/outcome/flags/ticket arguments, every validated config field,
 * struct sizes of configs, metrics and the retry state), and for the window
 * limiter, adaptive limiter, CPU sampler and criticality functions
 * (test_*_limiter, test_criticality), the bulkhead and deadline functions
 * (test_bulkhead_abi, test_deadline_abi), and the token and leaky buckets
 * (test_token_bucket, test_leaky_bucket: every pointer of every function,
 * n, limit, burst and reservation arguments, every validated config field,
 * struct sizes, RSL_ERR_EXCEEDS_CAPACITY from reserve and check).
 *
 * Not reachable from C, by construction:
 *   RSL_ERR_PANIC / RSL_ERR_POISONED need the library to panic, which no
 *     input reachable through the header does; the Rust tests provoke them.
 * Their rsl_status_str texts are still checked here.
 */
#include "resilience.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;
static int failures;

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* The message names `field` when it starts with "field:". */
static int names_field(const char *message, const char *field) {
    size_t n = strlen(field);
    return message != NULL && strncmp(message, field, n) == 0 && message[n] == ':';
}

static void expect_status(const char *file, int line, const char *expr, rsl_status got,
                          rsl_status want, const char *field) {
    const char *msg = rsl_last_error_message();
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "%s:%d: FAIL: %s returned %d (%s), expected %d (%s); message \"%s\"\n",
                file, line, expr, (int)got, rsl_status_str(got), (int)want,
                rsl_status_str(want), msg ? msg : "(NULL)");
        return;
    }
    if (field != NULL && !names_field(msg, field)) {
        failures++;
        fprintf(stderr, "%s:%d: FAIL: %s: message \"%s\" does not start with \"%s:\"\n", file,
                line, expr, msg ? msg : "(NULL)", field);
    }
}

/* EXPECT_STATUS(call, status, field-or-NULL): the call is evaluated before
 * the message is read. */
#define EXPECT_STATUS(call, want, field)                                       \
    expect_status(__FILE__, __LINE__, #call, (call), (want), (field))
#define EXPECT_OK(call) EXPECT_STATUS(call, RSL_OK, NULL)

static const int64_t SEC = 1000000000;

/* Sentinels for out-parameters that must stay untouched on failure. */
#define BREAKER_SENTINEL ((rsl_breaker *)(uintptr_t)0x5e1f)
#define THROTTLE_SENTINEL ((rsl_adaptive_throttle *)(uintptr_t)0x5e1f)

/* ------------------------------------------------------------------------ */
/* Version, status text, clock                                              */
/* ------------------------------------------------------------------------ */

static void test_version_and_status_text(void) {
    const rsl_status codes[] = {
        RSL_OK,
        RSL_ERR_NULL_ARGUMENT,
        RSL_ERR_INVALID_ARGUMENT,
        RSL_ERR_INVALID_CONFIG,
        RSL_ERR_CONFIG_SIZE,
        RSL_ERR_CONFIG_UNSUPPORTED,
        RSL_ERR_EXCEEDS_CAPACITY,
        RSL_ERR_PANIC,
        RSL_ERR_POISONED,
        12345, /* unknown */
    };
    const size_t n = sizeof codes / sizeof codes[0];
    size_t i, j;

    EXPECT(strcmp(rsl_version_string(), RSL_VERSION_STRING) == 0,
           "rsl_version_string() \"%s\" != RSL_VERSION_STRING \"%s\"", rsl_version_string(),
           RSL_VERSION_STRING);
    EXPECT(rsl_abi_version() == RSL_ABI_VERSION, "rsl_abi_version() %u != RSL_ABI_VERSION %u",
           (unsigned)rsl_abi_version(), (unsigned)RSL_ABI_VERSION);
    {
        char want[32];
        snprintf(want, sizeof want, "%d.%d.%d", RSL_VERSION_MAJOR, RSL_VERSION_MINOR,
                 RSL_VERSION_PATCH);
        EXPECT(strcmp(want, RSL_VERSION_STRING) == 0, "version macros disagree: %s vs %s", want,
               RSL_VERSION_STRING);
    }

    for (i = 0; i < n; i++) {
        const char *s = rsl_status_str(codes[i]);
        EXPECT(s != NULL && s[0] != '\0', "rsl_status_str(%d) is NULL or empty", (int)codes[i]);
        if (s == NULL) {
            continue;
        }
        for (j = 0; j < i; j++) {
            const char *t = rsl_status_str(codes[j]);
            EXPECT(t == NULL || strcmp(s, t) != 0, "rsl_status_str(%d) == rsl_status_str(%d): %s",
                   (int)codes[i], (int)codes[j], s);
        }
    }
    /* Every unknown code maps to the same "unknown" text, never NULL. */
    EXPECT(strcmp(rsl_status_str(-1), rsl_status_str(12345)) == 0, "unknown codes differ");
    EXPECT(rsl_status_str(INT32_MIN) != NULL, "rsl_status_str(INT32_MIN) is NULL");
    EXPECT(rsl_status_str(INT32_MAX) != NULL, "rsl_status_str(INT32_MAX) is NULL");
}

static void test_clock(void) {
    int64_t prev = rsl_now_ns();
    int i;
    int monotonic = 1;
    for (i = 0; i < 100000; i++) {
        int64_t now = rsl_now_ns();
        if (now < prev) {
            monotonic = 0;
            fprintf(stderr, "rsl_now_ns went back: %lld after %lld\n", (long long)now,
                    (long long)prev);
            break;
        }
        prev = now;
    }
    EXPECT(monotonic, "rsl_now_ns() is non-decreasing");
}

/* ------------------------------------------------------------------------ */
/* NULL arguments                                                           */
/* ------------------------------------------------------------------------ */

static void test_null_arguments_breaker(void) {
    rsl_breaker_config cfg;
    rsl_breaker *b = NULL;
    rsl_breaker *out = BREAKER_SENTINEL;
    rsl_breaker_acquire_result acq;
    rsl_breaker_permit permit;
    rsl_breaker_record_result rec;
    rsl_breaker_state state;
    rsl_breaker_metrics metrics;
    rsl_breaker_event events[4];
    size_t count = 99;
    uint32_t tripped = 7;

    EXPECT_STATUS(rsl_breaker_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_breaker_config_preset(NULL, RSL_BREAKER_PRESET_DEFAULT, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_breaker_config_init(&cfg, NULL));

    EXPECT_STATUS(rsl_breaker_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_breaker_new_at(&cfg, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_breaker_new_at(NULL, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");

    /* NULL cfg means the defaults. */
    EXPECT_OK(rsl_breaker_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != BREAKER_SENTINEL, "rsl_breaker_new(NULL cfg, NULL) set *out");
    rsl_breaker_free(out);
    EXPECT_OK(rsl_breaker_new_at(&cfg, 0, &b, NULL));
    if (b == NULL) {
        return;
    }

    /* A NULL handle, with every other argument valid. */
    EXPECT_STATUS(rsl_breaker_acquire_at(NULL, 0, &acq, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_acquire(NULL, &acq, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_OK(rsl_breaker_acquire_at(b, 0, &acq, NULL));
    permit = acq.permit;
    EXPECT_STATUS(rsl_breaker_record_at(NULL, 0, &permit, RSL_OUTCOME_SUCCESS, &rec, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_record(NULL, &permit, RSL_OUTCOME_SUCCESS, &rec, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_trip_at(NULL, 0, 1, &tripped, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_trip(NULL, 1, &tripped, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_transition_at(NULL, 0, RSL_BREAKER_CLOSED, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_breaker_transition(NULL, RSL_BREAKER_CLOSED, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_breaker_reset_at(NULL, 0, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_reset(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_get_state_at(NULL, 0, &state, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_get_state(NULL, &state, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    metrics.struct_size = sizeof metrics;
    EXPECT_STATUS(rsl_breaker_get_metrics_at(NULL, 0, &metrics, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_breaker_get_metrics(NULL, &metrics, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_breaker_drain_events(NULL, events, 4, &count, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");

    /* A valid handle and a NULL pointer argument. */
    EXPECT_STATUS(rsl_breaker_acquire_at(b, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_breaker_acquire(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_breaker_record_at(b, 0, NULL, RSL_OUTCOME_SUCCESS, &rec, NULL),
                  RSL_ERR_NULL_ARGUMENT, "permit");
    EXPECT_STATUS(rsl_breaker_record(b, NULL, RSL_OUTCOME_SUCCESS, &rec, NULL), RSL_ERR_NULL_ARGUMENT,
                  "permit");
    EXPECT_STATUS(rsl_breaker_get_state_at(b, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_state");
    EXPECT_STATUS(rsl_breaker_get_state(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_state");
    EXPECT_STATUS(rsl_breaker_get_metrics_at(b, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_breaker_get_metrics(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_breaker_drain_events(b, events, 4, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_count");
    EXPECT_STATUS(rsl_breaker_drain_events(b, NULL, 4, &count, NULL), RSL_ERR_NULL_ARGUMENT,
                  "events");
    EXPECT_STATUS(rsl_breaker_drain_events(b, NULL, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_count");

    /* Optional pointers: NULL is fine. */
    EXPECT_OK(rsl_breaker_record_at(b, 0, &permit, RSL_OUTCOME_SUCCESS, NULL, NULL));
    EXPECT_OK(rsl_breaker_acquire(b, &acq, NULL));
    EXPECT_OK(rsl_breaker_record(b, &acq.permit, RSL_OUTCOME_SUCCESS, NULL, NULL));
    EXPECT_OK(rsl_breaker_trip_at(b, 0, 0, NULL, NULL));
    EXPECT_OK(rsl_breaker_trip(b, 0, NULL, NULL));
    count = 99;
    EXPECT_OK(rsl_breaker_drain_events(b, NULL, 0, &count, NULL));
    EXPECT(count == 0, "drain_events with capacity 0 sets *out_count = 0, got %zu", count);

    rsl_breaker_free(b);
}

static void test_null_arguments_throttle(void) {
    rsl_adaptive_throttle_config cfg;
    rsl_adaptive_throttle *t = NULL;
    rsl_adaptive_throttle *out = THROTTLE_SENTINEL;
    rsl_adaptive_throttle_decision d;
    rsl_adaptive_throttle_ticket ticket;
    rsl_adaptive_throttle_metrics m;

    EXPECT_STATUS(rsl_adaptive_throttle_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_adaptive_throttle_config_preset(NULL, RSL_ADAPTIVE_THROTTLE_PRESET_KRATOS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_adaptive_throttle_config_init(&cfg, NULL));
    cfg.seed = 42;

    EXPECT_STATUS(rsl_adaptive_throttle_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_throttle_new(NULL, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_adaptive_throttle_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != THROTTLE_SENTINEL, "rsl_adaptive_throttle_new(NULL, NULL) set *out");
    rsl_adaptive_throttle_free(out);
    EXPECT_OK(rsl_adaptive_throttle_new(&cfg, &t, NULL));
    if (t == NULL) {
        return;
    }

    EXPECT_STATUS(rsl_adaptive_throttle_allow_at(NULL, 0, &d, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_throttle_allow(NULL, &d, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_OK(rsl_adaptive_throttle_allow_at(t, 0, &d, NULL));
    ticket = d.ticket;
    EXPECT_STATUS(rsl_adaptive_throttle_record_at(NULL, 0, &ticket, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_throttle_record(NULL, &ticket, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    m.struct_size = sizeof m;
    EXPECT_STATUS(rsl_adaptive_throttle_get_metrics_at(NULL, 0, &m, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_adaptive_throttle_get_metrics(NULL, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");

    EXPECT_STATUS(rsl_adaptive_throttle_allow_at(t, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_throttle_allow(t, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_throttle_record_at(t, 0, NULL, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "ticket");
    EXPECT_STATUS(rsl_adaptive_throttle_record(t, NULL, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "ticket");
    EXPECT_STATUS(rsl_adaptive_throttle_get_metrics_at(t, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_throttle_get_metrics(t, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");

    EXPECT_OK(rsl_adaptive_throttle_record_at(t, 0, &ticket, RSL_OUTCOME_SUCCESS, NULL));
    EXPECT_OK(rsl_adaptive_throttle_allow(t, &d, NULL));
    EXPECT_OK(rsl_adaptive_throttle_record(t, &d.ticket, RSL_OUTCOME_SUCCESS, NULL));
    rsl_adaptive_throttle_free(t);
}

/* ------------------------------------------------------------------------ */
/* Invalid arguments                                                        */
/* ------------------------------------------------------------------------ */

static void test_invalid_arguments(void) {
    rsl_breaker_config cfg, before;
    rsl_adaptive_throttle_config tcfg, tbefore;
    rsl_breaker *b = NULL;
    rsl_adaptive_throttle *t = NULL;
    rsl_breaker_acquire_result acq;
    rsl_breaker_record_result rec;
    rsl_adaptive_throttle_decision d;
    rsl_breaker_state state = 77;
    const rsl_outcome bad_outcomes[] = {0, 5, UINT32_MAX};
    const rsl_breaker_state bad_states[] = {5, 100, UINT32_MAX};
    size_t i;

    /* Unknown presets, and the config is left untouched. */
    memset(&cfg, 0xA5, sizeof cfg);
    before = cfg;
    EXPECT_STATUS(rsl_breaker_config_preset(&cfg, 8, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT_STATUS(rsl_breaker_config_preset(&cfg, UINT32_MAX, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "preset");
    EXPECT(memcmp(&cfg, &before, sizeof cfg) == 0, "breaker cfg untouched by an unknown preset");
    memset(&tcfg, 0xA5, sizeof tcfg);
    tbefore = tcfg;
    EXPECT_STATUS(rsl_adaptive_throttle_config_preset(&tcfg, 3, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "preset");
    EXPECT_STATUS(rsl_adaptive_throttle_config_preset(&tcfg, UINT32_MAX, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT(memcmp(&tcfg, &tbefore, sizeof tcfg) == 0,
           "throttle cfg untouched by an unknown preset");

    /* Every known preset is accepted and makes a valid handle. */
    for (i = RSL_BREAKER_PRESET_DEFAULT; i <= RSL_BREAKER_PRESET_SENTINEL_SLOW_REQUEST_RATIO; i++) {
        rsl_breaker *p = NULL;
        EXPECT_STATUS(rsl_breaker_config_preset(&cfg, (uint32_t)i, NULL), RSL_OK, NULL);
        EXPECT(cfg.struct_size == sizeof cfg, "preset %zu sets struct_size", i);
        EXPECT_STATUS(rsl_breaker_new_at(&cfg, 0, &p, NULL), RSL_OK, NULL);
        rsl_breaker_free(p);
    }
    for (i = RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK; i <= RSL_ADAPTIVE_THROTTLE_PRESET_GO_ZERO;
         i++) {
        rsl_adaptive_throttle *p = NULL;
        EXPECT_STATUS(rsl_adaptive_throttle_config_preset(&tcfg, (uint32_t)i, NULL), RSL_OK, NULL);
        EXPECT(tcfg.struct_size == sizeof tcfg, "throttle preset %zu sets struct_size", i);
        EXPECT_STATUS(rsl_adaptive_throttle_new(&tcfg, &p, NULL), RSL_OK, NULL);
        rsl_adaptive_throttle_free(p);
    }

    EXPECT_OK(rsl_breaker_new_at(NULL, 0, &b, NULL));
    EXPECT_OK(rsl_adaptive_throttle_new(NULL, &t, NULL));
    if (b == NULL || t == NULL) {
        rsl_breaker_free(b);
        rsl_adaptive_throttle_free(t);
        return;
    }
    EXPECT_OK(rsl_breaker_acquire_at(b, 0, &acq, NULL));
    EXPECT_OK(rsl_adaptive_throttle_allow_at(t, 0, &d, NULL));
    for (i = 0; i < sizeof bad_outcomes / sizeof bad_outcomes[0]; i++) {
        EXPECT_STATUS(rsl_breaker_record_at(b, 0, &acq.permit, bad_outcomes[i], &rec, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "outcome");
        EXPECT_STATUS(rsl_breaker_record(b, &acq.permit, bad_outcomes[i], NULL, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "outcome");
        EXPECT_STATUS(rsl_adaptive_throttle_record_at(t, 0, &d.ticket, bad_outcomes[i], NULL),
                      RSL_ERR_INVALID_ARGUMENT, "outcome");
        EXPECT_STATUS(rsl_adaptive_throttle_record(t, &d.ticket, bad_outcomes[i], NULL),
                      RSL_ERR_INVALID_ARGUMENT, "outcome");
    }
    /* The rejected records did not count: the permit still records. */
    EXPECT_OK(rsl_breaker_record_at(b, 0, &acq.permit, RSL_OUTCOME_SUCCESS, &rec, NULL));
    EXPECT(rec.counted == 1 && rec.counts.total_successes == 1 && rec.counts.total_failures == 0,
           "record after invalid outcomes: counted %u successes %llu failures %llu",
           (unsigned)rec.counted, (unsigned long long)rec.counts.total_successes,
           (unsigned long long)rec.counts.total_failures);

    for (i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++) {
        EXPECT_STATUS(rsl_breaker_transition_at(b, 0, bad_states[i], NULL), RSL_ERR_INVALID_ARGUMENT,
                      "state");
        EXPECT_STATUS(rsl_breaker_transition(b, bad_states[i], NULL), RSL_ERR_INVALID_ARGUMENT, "state");
    }
    EXPECT_OK(rsl_breaker_get_state_at(b, 0, &state, NULL));
    EXPECT(state == RSL_BREAKER_CLOSED, "state unchanged by invalid transitions, got %u",
           (unsigned)state);
    for (i = RSL_BREAKER_CLOSED; i <= RSL_BREAKER_DISABLED; i++) {
        EXPECT_OK(rsl_breaker_transition_at(b, 1, (rsl_breaker_state)i, NULL));
        EXPECT_OK(rsl_breaker_get_state_at(b, 1, &state, NULL));
        EXPECT(state == i, "transition to %zu gives state %u", i, (unsigned)state);
    }

    rsl_breaker_free(b);
    rsl_adaptive_throttle_free(t);
}

/* ------------------------------------------------------------------------ */
/* Invalid configs: one case per validation rule                            */
/* ------------------------------------------------------------------------ */

typedef enum { U32, I64, F64 } field_type;

typedef struct {
    const char *name;
    size_t offset;
    field_type type;
} field_ref;

#define BFIELD(f, t) {#f, offsetof(rsl_breaker_config, f), t}
#define TFIELD(f, t) {#f, offsetof(rsl_adaptive_throttle_config, f), t}

static void set_field(void *cfg, field_ref f, double value) {
    unsigned char *p = (unsigned char *)cfg + f.offset;
    switch (f.type) {
    case U32: {
        uint32_t v = (uint32_t)value;
        memcpy(p, &v, sizeof v);
        break;
    }
    case I64: {
        int64_t v = (int64_t)value;
        memcpy(p, &v, sizeof v);
        break;
    }
    case F64:
        memcpy(p, &value, sizeof value);
        break;
    }
}

/* Starting configs for the breaker cases. */
typedef enum { BASE_DEFAULT, BASE_RATE_COUNT, BASE_RATE_TIME } breaker_base;

static void breaker_base_config(rsl_breaker_config *cfg, breaker_base base) {
    EXPECT_OK(rsl_breaker_config_init(cfg, NULL));
    if (base == BASE_RATE_COUNT || base == BASE_RATE_TIME) {
        cfg->policy = RSL_BREAKER_POLICY_RATE;
    }
    if (base == BASE_RATE_TIME) {
        cfg->window_kind = RSL_WINDOW_TIME;
        cfg->window_size = 10;
        cfg->window_ns = 10 * SEC;
        cfg->minimum_calls = 5;
    }
}

typedef struct {
    breaker_base base;
    field_ref field;
    double value;
    field_ref field2; /* optional second change (name NULL = none) */
    double value2;
    const char *expect_field;
} breaker_case;

#define NOFIELD {NULL, 0, U32}

static void test_invalid_config_breaker(void) {
    const double inf = INFINITY;
    const double nan = NAN;
    const breaker_case cases[] = {
        {BASE_DEFAULT, BFIELD(reserved0, U32), 1, NOFIELD, 0, "reserved0"},
        {BASE_DEFAULT, BFIELD(policy, U32), 0, NOFIELD, 0, "policy"},
        {BASE_DEFAULT, BFIELD(policy, U32), 4, NOFIELD, 0, "policy"},
        {BASE_DEFAULT, BFIELD(window_kind, U32), 0, NOFIELD, 0, "window_kind"},
        {BASE_DEFAULT, BFIELD(window_kind, U32), 3, NOFIELD, 0, "window_kind"},
        {BASE_DEFAULT, BFIELD(half_open_mode, U32), 0, NOFIELD, 0, "half_open_mode"},
        {BASE_DEFAULT, BFIELD(half_open_mode, U32), 3, NOFIELD, 0, "half_open_mode"},
        {BASE_DEFAULT, BFIELD(evaluate_on_failure_only, U32), 2, NOFIELD, 0,
         "evaluate_on_failure_only"},
        {BASE_DEFAULT, BFIELD(consecutive_failures, U32), 0, NOFIELD, 0, "consecutive_failures"},
        /* rate policy */
        {BASE_RATE_COUNT, BFIELD(window_size, U32), 0, NOFIELD, 0, "window_size"},
        {BASE_RATE_COUNT, BFIELD(window_size, U32), 1048577, NOFIELD, 0, "window_size"},
        {BASE_RATE_COUNT, BFIELD(minimum_calls, U32), 0, NOFIELD, 0, "minimum_calls"},
        {BASE_RATE_COUNT, BFIELD(minimum_calls, U32), 101, NOFIELD, 0, "minimum_calls"},
        {BASE_RATE_TIME, BFIELD(window_ns, I64), 0, NOFIELD, 0, "window_ns"},
        {BASE_RATE_TIME, BFIELD(window_ns, I64), -10 * (double)SEC, NOFIELD, 0, "window_ns"},
        {BASE_RATE_TIME, BFIELD(window_ns, I64), 10 * (double)SEC + 1, NOFIELD, 0, "window_ns"},
        {BASE_RATE_COUNT, BFIELD(failure_rate_threshold, F64), 0,
         BFIELD(slow_call_rate_threshold, F64), 0, "failure_rate_threshold"},
        /* thresholds */
        {BASE_DEFAULT, BFIELD(failure_rate_threshold, F64), -0.1, NOFIELD, 0,
         "failure_rate_threshold"},
        {BASE_DEFAULT, BFIELD(failure_rate_threshold, F64), 1.5, NOFIELD, 0,
         "failure_rate_threshold"},
        {BASE_DEFAULT, BFIELD(failure_rate_threshold, F64), nan, NOFIELD, 0,
         "failure_rate_threshold"},
        {BASE_RATE_COUNT, BFIELD(failure_rate_threshold, F64), inf, NOFIELD, 0,
         "failure_rate_threshold"},
        {BASE_DEFAULT, BFIELD(slow_call_rate_threshold, F64), -0.1, NOFIELD, 0,
         "slow_call_rate_threshold"},
        {BASE_DEFAULT, BFIELD(slow_call_rate_threshold, F64), 1.0000001, NOFIELD, 0,
         "slow_call_rate_threshold"},
        {BASE_DEFAULT, BFIELD(slow_call_rate_threshold, F64), nan, NOFIELD, 0,
         "slow_call_rate_threshold"},
        {BASE_DEFAULT, BFIELD(slow_call_duration_ns, I64), -1, NOFIELD, 0,
         "slow_call_duration_ns"},
        /* slow_call_rate_threshold (default 1.0) set but no slow duration */
        {BASE_DEFAULT, BFIELD(slow_call_duration_ns, I64), 0, NOFIELD, 0,
         "slow_call_duration_ns"},
        {BASE_DEFAULT, BFIELD(closed_reset_interval_ns, I64), -1, NOFIELD, 0,
         "closed_reset_interval_ns"},
        {BASE_DEFAULT, BFIELD(wait_duration_ns, I64), 0, NOFIELD, 0, "wait_duration_ns"},
        {BASE_DEFAULT, BFIELD(wait_duration_ns, I64), -1, NOFIELD, 0, "wait_duration_ns"},
        {BASE_DEFAULT, BFIELD(wait_duration_multiplier, F64), 0.5, NOFIELD, 0,
         "wait_duration_multiplier"},
        {BASE_DEFAULT, BFIELD(wait_duration_multiplier, F64), nan, NOFIELD, 0,
         "wait_duration_multiplier"},
        {BASE_DEFAULT, BFIELD(wait_duration_multiplier, F64), inf, NOFIELD, 0,
         "wait_duration_multiplier"},
        {BASE_DEFAULT, BFIELD(max_wait_duration_ns, I64), 60 * (double)SEC - 1, NOFIELD, 0,
         "max_wait_duration_ns"},
        {BASE_DEFAULT, BFIELD(half_open_max_calls, U32), 0, NOFIELD, 0, "half_open_max_calls"},
        {BASE_DEFAULT, BFIELD(half_open_max_calls, U32), 65537, NOFIELD, 0,
         "half_open_max_calls"},
        {BASE_DEFAULT, BFIELD(half_open_success_threshold, U32), 0, NOFIELD, 0,
         "half_open_success_threshold"},
        {BASE_DEFAULT, BFIELD(half_open_success_threshold, U32), 2, NOFIELD, 0,
         "half_open_success_threshold"},
        {BASE_DEFAULT, BFIELD(half_open_failure_threshold, U32), 0, NOFIELD, 0,
         "half_open_failure_threshold"},
        {BASE_DEFAULT, BFIELD(half_open_max_calls, U32), 3,
         BFIELD(half_open_failure_threshold, U32), 4, "half_open_failure_threshold"},
        /* the rate half-open mode needs the rate policy */
        {BASE_DEFAULT, BFIELD(half_open_mode, U32), RSL_HALF_OPEN_RATE, NOFIELD, 0,
         "half_open_mode"},
        {BASE_DEFAULT, BFIELD(permit_lease_ns, I64), 0, NOFIELD, 0, "permit_lease_ns"},
        {BASE_DEFAULT, BFIELD(permit_lease_ns, I64), -1, NOFIELD, 0, "permit_lease_ns"},
        {BASE_DEFAULT, BFIELD(event_capacity, U32), 65537, NOFIELD, 0, "event_capacity"},
    };
    size_t i;
    breaker_base base;
    rsl_breaker_config cfg;

    /* The base configs themselves are valid. */
    for (base = BASE_DEFAULT; base <= BASE_RATE_TIME; base++) {
        rsl_breaker *b = NULL;
        breaker_base_config(&cfg, base);
        EXPECT_STATUS(rsl_breaker_new_at(&cfg, 0, &b, NULL), RSL_OK, NULL);
        rsl_breaker_free(b);
    }
    /* Boundary values that are valid. */
    {
        rsl_breaker *b = NULL;
        breaker_base_config(&cfg, BASE_DEFAULT);
        cfg.half_open_max_calls = 65536;
        cfg.half_open_success_threshold = 65536;
        cfg.half_open_failure_threshold = 1;
        cfg.event_capacity = 0;
        cfg.closed_reset_interval_ns = 0;
        cfg.slow_call_rate_threshold = 0;
        cfg.slow_call_duration_ns = 0;
        EXPECT_STATUS(rsl_breaker_new_at(&cfg, 0, &b, NULL), RSL_OK, NULL);
        rsl_breaker_free(b);
        breaker_base_config(&cfg, BASE_DEFAULT);
        cfg.policy = RSL_BREAKER_POLICY_EXTERNAL;
        cfg.consecutive_failures = 0; /* not used by EXTERNAL */
        EXPECT_STATUS(rsl_breaker_new_at(&cfg, 0, &b, NULL), RSL_OK, NULL);
        rsl_breaker_free(b);
    }

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const breaker_case *c = &cases[i];
        rsl_breaker *out = BREAKER_SENTINEL;
        rsl_status st;
        const char *msg;
        breaker_base_config(&cfg, c->base);
        set_field(&cfg, c->field, c->value);
        if (c->field2.name != NULL) {
            set_field(&cfg, c->field2, c->value2);
        }
        st = rsl_breaker_new_at(&cfg, 0, &out, NULL);
        msg = rsl_last_error_message();
        checks++;
        if (st != RSL_ERR_INVALID_CONFIG || !names_field(msg, c->expect_field) ||
            out != BREAKER_SENTINEL) {
            failures++;
            fprintf(stderr,
                    "FAIL: breaker case %zu (%s = %g): status %d (%s), message \"%s\", "
                    "expected RSL_ERR_INVALID_CONFIG naming \"%s\"%s\n",
                    i, c->field.name, c->value, (int)st, rsl_status_str(st), msg,
                    c->expect_field, out != BREAKER_SENTINEL ? "; *out was written" : "");
            if (st == RSL_OK && out != BREAKER_SENTINEL) {
                rsl_breaker_free(out);
            }
        }
        /* rsl_breaker_new (real clock, NULL) validates the same way. */
        out = BREAKER_SENTINEL;
        EXPECT_STATUS(rsl_breaker_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG, c->expect_field);
        EXPECT(out == BREAKER_SENTINEL, "rsl_breaker_new wrote *out on failure (case %zu)", i);
    }
}

typedef struct {
    field_ref field;
    double value;
    field_ref field2;
    double value2;
    const char *expect_field;
} throttle_case;

static void test_invalid_config_throttle(void) {
    const double inf = INFINITY;
    const double nan = NAN;
    const throttle_case cases[] = {
        {TFIELD(accounting, U32), 0, NOFIELD, 0, "accounting"},
        {TFIELD(accounting, U32), 3, NOFIELD, 0, "accounting"},
        {TFIELD(count_local_rejections, U32), 2, NOFIELD, 0, "count_local_rejections"},
        {TFIELD(k, F64), 0.999, NOFIELD, 0, "k"},
        {TFIELD(k, F64), -2, NOFIELD, 0, "k"},
        {TFIELD(k, F64), nan, NOFIELD, 0, "k"},
        {TFIELD(k, F64), inf, NOFIELD, 0, "k"},
        {TFIELD(window_ns, I64), 0, NOFIELD, 0, "window_ns"},
        {TFIELD(window_ns, I64), -120 * (double)SEC, NOFIELD, 0, "window_ns"},
        {TFIELD(window_ns, I64), 120 * (double)SEC + 1, NOFIELD, 0, "window_ns"},
        {TFIELD(buckets, U32), 0, NOFIELD, 0, "buckets"},
        {TFIELD(buckets, U32), 65537, NOFIELD, 0, "buckets"},
        {TFIELD(buckets, U32), 7, NOFIELD, 0, "window_ns"}, /* 120 s is not a multiple of 7 */
        {TFIELD(max_drop_probability, F64), 0, NOFIELD, 0, "max_drop_probability"},
        {TFIELD(max_drop_probability, F64), -0.5, NOFIELD, 0, "max_drop_probability"},
        {TFIELD(max_drop_probability, F64), 1.5, NOFIELD, 0, "max_drop_probability"},
        {TFIELD(max_drop_probability, F64), nan, NOFIELD, 0, "max_drop_probability"},
        {TFIELD(max_drop_probability, F64), inf, NOFIELD, 0, "max_drop_probability"},
    };
    size_t i;
    rsl_adaptive_throttle_config cfg;

    /* Boundary values that are valid; min_requests, request_offset and seed
     * take any value. */
    {
        rsl_adaptive_throttle *t = NULL;
        EXPECT_OK(rsl_adaptive_throttle_config_init(&cfg, NULL));
        cfg.k = 1.0;
        cfg.buckets = 65536;
        cfg.window_ns = 65536;
        cfg.min_requests = UINT32_MAX;
        cfg.request_offset = UINT32_MAX;
        cfg.count_local_rejections = 0;
        cfg.accounting = RSL_ACCOUNTING_ON_COMPLETION;
        cfg.max_drop_probability = 1e-9;
        cfg.seed = UINT64_MAX;
        EXPECT_STATUS(rsl_adaptive_throttle_new(&cfg, &t, NULL), RSL_OK, NULL);
        rsl_adaptive_throttle_free(t);
    }

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const throttle_case *c = &cases[i];
        rsl_adaptive_throttle *out = THROTTLE_SENTINEL;
        rsl_status st;
        const char *msg;
        EXPECT_OK(rsl_adaptive_throttle_config_init(&cfg, NULL));
        set_field(&cfg, c->field, c->value);
        if (c->field2.name != NULL) {
            set_field(&cfg, c->field2, c->value2);
        }
        st = rsl_adaptive_throttle_new(&cfg, &out, NULL);
        msg = rsl_last_error_message();
        checks++;
        if (st != RSL_ERR_INVALID_CONFIG || !names_field(msg, c->expect_field) ||
            out != THROTTLE_SENTINEL) {
            failures++;
            fprintf(stderr,
                    "FAIL: throttle case %zu (%s = %g): status %d (%s), message \"%s\", "
                    "expected RSL_ERR_INVALID_CONFIG naming \"%s\"%s\n",
                    i, c->field.name, c->value, (int)st, rsl_status_str(st), msg,
                    c->expect_field, out != THROTTLE_SENTINEL ? "; *out was written" : "");
            if (st == RSL_OK && out != THROTTLE_SENTINEL) {
                rsl_adaptive_throttle_free(out);
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* struct_size: too small, absurd, and larger than the library's            */
/* ------------------------------------------------------------------------ */

static void test_config_size(void) {
    const uint32_t bad_breaker[] = {0, 4, (uint32_t)sizeof(rsl_breaker_config) - 1, 5000,
                                    UINT32_MAX};
    const uint32_t bad_throttle[] = {0, 4, (uint32_t)sizeof(rsl_adaptive_throttle_config) - 1,
                                     5000, UINT32_MAX};
    size_t i;

    for (i = 0; i < sizeof bad_breaker / sizeof bad_breaker[0]; i++) {
        rsl_breaker_config cfg;
        rsl_breaker *out = BREAKER_SENTINEL;
        EXPECT_OK(rsl_breaker_config_init(&cfg, NULL));
        cfg.struct_size = bad_breaker[i];
        EXPECT_STATUS(rsl_breaker_new_at(&cfg, 0, &out, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT(out == BREAKER_SENTINEL, "*out untouched (struct_size %u)",
               (unsigned)bad_breaker[i]);
    }
    for (i = 0; i < sizeof bad_throttle / sizeof bad_throttle[0]; i++) {
        rsl_adaptive_throttle_config cfg;
        rsl_adaptive_throttle *out = THROTTLE_SENTINEL;
        EXPECT_OK(rsl_adaptive_throttle_config_init(&cfg, NULL));
        cfg.struct_size = bad_throttle[i];
        EXPECT_STATUS(rsl_adaptive_throttle_new(&cfg, &out, NULL), RSL_ERR_CONFIG_SIZE,
                      "cfg.struct_size");
        EXPECT(out == THROTTLE_SENTINEL, "*out untouched (struct_size %u)",
               (unsigned)bad_throttle[i]);
    }

    /* A newer caller: the config inside a larger buffer. A non-zero byte
     * past the library's layout is a field it does not know. */
    {
        union {
            rsl_breaker_config cfg;
            unsigned char bytes[sizeof(rsl_breaker_config) + 8];
        } big;
        size_t tail;
        for (tail = 0; tail < 8; tail++) {
            rsl_breaker *out = BREAKER_SENTINEL;
            memset(&big, 0, sizeof big);
            EXPECT_OK(rsl_breaker_config_init(&big.cfg, NULL));
            big.cfg.struct_size = (uint32_t)sizeof(rsl_breaker_config) + 8;
            big.bytes[sizeof(rsl_breaker_config) + tail] = 1;
            EXPECT_STATUS(rsl_breaker_new_at(&big.cfg, 0, &out, NULL), RSL_ERR_CONFIG_UNSUPPORTED,
                          "cfg");
            EXPECT(out == BREAKER_SENTINEL, "*out untouched (unsupported tail byte %zu)", tail);
        }
        {
            rsl_breaker *out = NULL;
            memset(&big, 0, sizeof big);
            EXPECT_OK(rsl_breaker_config_init(&big.cfg, NULL));
            big.cfg.consecutive_failures = 2;
            big.cfg.struct_size = (uint32_t)sizeof(rsl_breaker_config) + 8;
            EXPECT_STATUS(rsl_breaker_new_at(&big.cfg, 0, &out, NULL), RSL_OK, NULL);
            if (out != NULL) {
                /* The known fields were read: two failures trip it. */
                rsl_breaker_acquire_result a;
                rsl_breaker_record_result r;
                int k;
                for (k = 0; k < 2; k++) {
                    EXPECT_OK(rsl_breaker_acquire_at(out, k, &a, NULL));
                    EXPECT_OK(rsl_breaker_record_at(out, k, &a.permit, RSL_OUTCOME_FAILURE, &r, NULL));
                }
                EXPECT(r.state == RSL_BREAKER_OPEN, "larger struct's fields are read");
            }
            rsl_breaker_free(out);
        }
    }
    {
        union {
            rsl_adaptive_throttle_config cfg;
            unsigned char bytes[sizeof(rsl_adaptive_throttle_config) + 8];
        } big;
        rsl_adaptive_throttle *out = THROTTLE_SENTINEL;
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_adaptive_throttle_config_init(&big.cfg, NULL));
        big.cfg.struct_size = (uint32_t)sizeof(rsl_adaptive_throttle_config) + 8;
        big.bytes[sizeof(rsl_adaptive_throttle_config) + 7] = 0x80;
        EXPECT_STATUS(rsl_adaptive_throttle_new(&big.cfg, &out, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(out == THROTTLE_SENTINEL, "*out untouched (unsupported throttle tail)");
        big.bytes[sizeof(rsl_adaptive_throttle_config) + 7] = 0;
        out = NULL;
        EXPECT_STATUS(rsl_adaptive_throttle_new(&big.cfg, &out, NULL), RSL_OK, NULL);
        rsl_adaptive_throttle_free(out);
    }

    /* Metrics out-structs must say how large they are. */
    {
        rsl_breaker *b = NULL;
        rsl_adaptive_throttle *t = NULL;
        rsl_breaker_metrics bm;
        rsl_adaptive_throttle_metrics tm;
        EXPECT_OK(rsl_breaker_new_at(NULL, 0, &b, NULL));
        EXPECT_OK(rsl_adaptive_throttle_new(NULL, &t, NULL));
        if (b != NULL && t != NULL) {
            memset(&bm, 0, sizeof bm);
            EXPECT_STATUS(rsl_breaker_get_metrics_at(b, 0, &bm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");
            EXPECT_STATUS(rsl_breaker_get_metrics(b, &bm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");
            bm.struct_size = sizeof bm - 1;
            EXPECT_STATUS(rsl_breaker_get_metrics_at(b, 0, &bm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");
            bm.struct_size = 5000;
            EXPECT_STATUS(rsl_breaker_get_metrics_at(b, 0, &bm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");
            memset(&tm, 0, sizeof tm);
            EXPECT_STATUS(rsl_adaptive_throttle_get_metrics_at(t, 0, &tm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");
            EXPECT_STATUS(rsl_adaptive_throttle_get_metrics(t, &tm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");
            tm.struct_size = sizeof tm - 1;
            EXPECT_STATUS(rsl_adaptive_throttle_get_metrics_at(t, 0, &tm, NULL), RSL_ERR_CONFIG_SIZE,
                          "out.struct_size");

            /* A larger caller struct: the library writes its own layout and
             * leaves the tail and the caller's struct_size alone. */
            {
                union {
                    rsl_breaker_metrics m;
                    unsigned char bytes[sizeof(rsl_breaker_metrics) + 16];
                } big;
                size_t k;
                int tail_ok = 1;
                memset(&big, 0xAB, sizeof big);
                big.m.struct_size = (uint32_t)sizeof big;
                EXPECT_OK(rsl_breaker_get_metrics_at(b, 0, &big.m, NULL));
                for (k = sizeof(rsl_breaker_metrics); k < sizeof big; k++) {
                    tail_ok &= big.bytes[k] == 0xAB;
                }
                EXPECT(tail_ok, "metrics tail past the library's layout untouched");
                EXPECT(big.m.struct_size == sizeof big, "caller's struct_size kept, got %u",
                       (unsigned)big.m.struct_size);
                EXPECT(big.m.state == RSL_BREAKER_CLOSED && big.m.generation == 1,
                       "metrics written: state %u generation %llu", (unsigned)big.m.state,
                       (unsigned long long)big.m.generation);
            }
            bm.struct_size = sizeof bm;
            EXPECT_OK(rsl_breaker_get_metrics_at(b, 0, &bm, NULL));
            EXPECT(bm.struct_size == sizeof bm, "breaker metrics struct_size kept");
            tm.struct_size = sizeof tm;
            EXPECT_OK(rsl_adaptive_throttle_get_metrics_at(t, 0, &tm, NULL));
            EXPECT(tm.struct_size == sizeof tm && tm.allowed_total == 0 &&
                       tm.rejected_total == 0,
                   "throttle metrics of a fresh throttle");
        }
        rsl_breaker_free(b);
        rsl_adaptive_throttle_free(t);
    }
}

/* ------------------------------------------------------------------------ */
/* Defaults, free(NULL), the last-error message                             */
/* ------------------------------------------------------------------------ */


/* ------------------------------------------------------------------------ */
/* Window limiter, adaptive limiter, CPU sampler, criticality               */
/* ------------------------------------------------------------------------ */

#define WINDOW_SENTINEL ((rsl_window_limiter *)(uintptr_t)0x5e1f)
#define LIMITER_SENTINEL ((rsl_adaptive_limiter *)(uintptr_t)0x5e1f)

static void test_window_limiter(void) {
    rsl_window_limiter_config cfg, before;
    rsl_window_limiter *w = NULL, *out = WINDOW_SENTINEL;
    rsl_window_limiter_decision d;
    rsl_window_limiter_metrics m;
    uint32_t p;

    /* Config init, presets. */
    EXPECT_STATUS(rsl_window_limiter_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_window_limiter_config_preset(NULL, RSL_WINDOW_LIMITER_PRESET_SENTINEL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    memset(&cfg, 0xA5, sizeof cfg);
    before = cfg;
    EXPECT_STATUS(rsl_window_limiter_config_preset(&cfg, 3, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT(memcmp(&cfg, &before, sizeof cfg) == 0, "window cfg untouched by an unknown preset");
    for (p = RSL_WINDOW_LIMITER_PRESET_DEFAULT; p <= RSL_WINDOW_LIMITER_PRESET_RESILIENCE4J; p++) {
        rsl_window_limiter *h = NULL;
        EXPECT_OK(rsl_window_limiter_config_preset(&cfg, p, NULL));
        EXPECT(cfg.struct_size == sizeof cfg, "window preset %u sets struct_size", (unsigned)p);
        EXPECT_OK(rsl_window_limiter_new(&cfg, &h, NULL));
        rsl_window_limiter_free(h);
    }
    EXPECT_OK(rsl_window_limiter_config_init(&cfg, NULL));
    EXPECT(cfg.mode == RSL_WINDOW_LIMITER_SLIDING_BUCKETS && cfg.limit == 100 &&
               cfg.window_ns == SEC && cfg.buckets == 10 && cfg.sheddable_share_permille == 1000 &&
               cfg.max_reservations == 0,
           "window defaults");

    /* NULL out / handle / out-struct. */
    EXPECT_STATUS(rsl_window_limiter_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_window_limiter_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != WINDOW_SENTINEL, "rsl_window_limiter_new(NULL cfg, NULL) set *out");
    rsl_window_limiter_free(out);
    rsl_window_limiter_free(NULL);
    cfg.mode = RSL_WINDOW_LIMITER_FIXED;
    cfg.limit = 4;
    EXPECT_OK(rsl_window_limiter_new(&cfg, &w, NULL));
    if (w == NULL) return;
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(NULL, 0, 1, RSL_CRITICALITY_DEFAULT, &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_window_limiter_try_acquire(NULL, 1, RSL_CRITICALITY_DEFAULT, &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_window_limiter_try_acquire(w, 1, RSL_CRITICALITY_DEFAULT, NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    m.struct_size = sizeof m;
    EXPECT_STATUS(rsl_window_limiter_get_metrics_at(NULL, 0, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_window_limiter_get_metrics(NULL, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_window_limiter_get_metrics_at(w, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_window_limiter_get_metrics(w, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    m.struct_size = 3;
    EXPECT_STATUS(rsl_window_limiter_get_metrics_at(w, 0, &m, NULL), RSL_ERR_CONFIG_SIZE,
                  "out.struct_size");

    /* Invalid arguments and capacity. */
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, 0, RSL_CRITICALITY_DEFAULT, &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "n");
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, 1, 0, &d, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "criticality");
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, 1, 41, &d, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "criticality");
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, 5, RSL_CRITICALITY_CRITICAL_PLUS, &d, NULL),
                  RSL_ERR_EXCEEDS_CAPACITY, "n");
    EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, UINT32_MAX, RSL_CRITICALITY_DEFAULT, &d, NULL),
                  RSL_ERR_EXCEEDS_CAPACITY, "n");
    EXPECT_OK(rsl_window_limiter_try_acquire_at(w, 0, 4, RSL_CRITICALITY_DEFAULT, &d, NULL));
    EXPECT(d.allowed == 1 && d.remaining == 0, "4 of 4 granted");
    EXPECT_OK(rsl_window_limiter_try_acquire_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, &d, NULL));
    EXPECT(d.allowed == 0 && d.retry_after_ns == SEC, "denied, retry 1 s: %lld",
           (long long)d.retry_after_ns);
    EXPECT_OK(rsl_window_limiter_try_acquire(w, 1, RSL_CRITICALITY_DEFAULT, &d, NULL));
    m.struct_size = sizeof m;
    EXPECT_OK(rsl_window_limiter_get_metrics_at(w, 0, &m, NULL));
    EXPECT(m.struct_size == sizeof m, "metrics struct_size kept");
    rsl_window_limiter_free(w);

    /* A share below n: EXCEEDS_CAPACITY for that level only. */
    EXPECT_OK(rsl_window_limiter_config_init(&cfg, NULL));
    cfg.limit = 10;
    cfg.sheddable_share_permille = 100; /* 1 permit */
    EXPECT_OK(rsl_window_limiter_new(&cfg, &w, NULL));
    if (w != NULL) {
        EXPECT_STATUS(rsl_window_limiter_try_acquire_at(w, 0, 2, RSL_CRITICALITY_SHEDDABLE, &d, NULL),
                      RSL_ERR_EXCEEDS_CAPACITY, "n");
        EXPECT_OK(rsl_window_limiter_try_acquire_at(w, 0, 2, RSL_CRITICALITY_SHEDDABLE_PLUS, &d, NULL));
        rsl_window_limiter_free(w);
    }

    /* Every invalid config field, named. */
#define BAD_WINDOW(stmt, field)                                                \
    do {                                                                       \
        rsl_window_limiter *o = WINDOW_SENTINEL;                               \
        EXPECT_OK(rsl_window_limiter_config_init(&cfg, NULL));                       \
        stmt;                                                                  \
        EXPECT_STATUS(rsl_window_limiter_new(&cfg, &o, NULL), RSL_ERR_INVALID_CONFIG, field); \
        EXPECT(o == WINDOW_SENTINEL, "*out untouched (%s)", field);            \
    } while (0)
    BAD_WINDOW(cfg.mode = 0, "mode");
    BAD_WINDOW(cfg.mode = 4, "mode");
    BAD_WINDOW(cfg.limit = 0, "limit");
    BAD_WINDOW(cfg.window_ns = 0, "window_ns");
    BAD_WINDOW(cfg.window_ns = -SEC, "window_ns");
    BAD_WINDOW(cfg.buckets = 0, "buckets");
    BAD_WINDOW(cfg.buckets = 65537, "buckets");
    BAD_WINDOW(cfg.buckets = 3, "window_ns");
    BAD_WINDOW(cfg.critical_share_permille = 1001, "critical_share_permille");
    BAD_WINDOW(cfg.sheddable_share_permille = 1001, "sheddable_share_permille");
    BAD_WINDOW((cfg.sheddable_share_permille = 600, cfg.sheddable_plus_share_permille = 500),
               "sheddable_share_permille");
    BAD_WINDOW((cfg.critical_share_permille = 900, cfg.sheddable_plus_share_permille = 950,
                cfg.sheddable_share_permille = 500),
               "sheddable_plus_share_permille");
    BAD_WINDOW(cfg.max_reservations = 65537, "max_reservations");
#undef BAD_WINDOW

    /* Timed acquisition: every pointer and argument, the frozen result. */
    {
        rsl_window_limiter_reserve_result r, g;
        rsl_window_limiter_reservation t;
        uint32_t cancelled = 7;
        EXPECT(sizeof(rsl_window_limiter_reservation) == 8 &&
                   sizeof(rsl_window_limiter_reserve_result) == 32 &&
                   offsetof(rsl_window_limiter_reserve_result, wait_ns) == 8 &&
                   offsetof(rsl_window_limiter_reserve_result, ready_at_ns) == 16 &&
                   offsetof(rsl_window_limiter_reserve_result, reservation) == 24,
               "rsl_window_limiter_reserve_result layout");
        EXPECT_OK(rsl_window_limiter_config_init(&cfg, NULL));
        EXPECT(cfg.max_reservations == 0, "no reservations by default");
        EXPECT_OK(rsl_window_limiter_config_preset(&cfg, RSL_WINDOW_LIMITER_PRESET_RESILIENCE4J, NULL));
        EXPECT(cfg.max_reservations == 65536, "the Resilience4j preset reserves");
        EXPECT_OK(rsl_window_limiter_config_init(&cfg, NULL));
        cfg.mode = RSL_WINDOW_LIMITER_FIXED;
        cfg.limit = 1;
        cfg.window_ns = SEC;
        cfg.max_reservations = 1;
        EXPECT_OK(rsl_window_limiter_new(&cfg, &w, NULL));
        if (w == NULL) return;
        EXPECT_STATUS(rsl_window_limiter_reserve_at(NULL, 0, 1, RSL_CRITICALITY_DEFAULT, 0, &r, NULL),
                      RSL_ERR_NULL_ARGUMENT, "handle");
        EXPECT_STATUS(rsl_window_limiter_reserve(NULL, 1, RSL_CRITICALITY_DEFAULT, 0, &r, NULL),
                      RSL_ERR_NULL_ARGUMENT, "handle");
        EXPECT_STATUS(rsl_window_limiter_reserve_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, 0, NULL, NULL),
                      RSL_ERR_NULL_ARGUMENT, "out");
        EXPECT_STATUS(rsl_window_limiter_reserve(w, 1, RSL_CRITICALITY_DEFAULT, 0, NULL, NULL),
                      RSL_ERR_NULL_ARGUMENT, "out");
        memset(&g, 0xab, sizeof g);
        r = g;
        EXPECT_STATUS(rsl_window_limiter_reserve_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, -1, &r, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "max_wait_ns");
        EXPECT_STATUS(rsl_window_limiter_reserve_at(w, 0, 0, RSL_CRITICALITY_DEFAULT, 0, &r, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "n");
        EXPECT_STATUS(rsl_window_limiter_reserve_at(w, 0, 1, 7, 0, &r, NULL), RSL_ERR_INVALID_ARGUMENT,
                      "criticality");
        EXPECT_STATUS(rsl_window_limiter_reserve_at(w, 0, 2, RSL_CRITICALITY_DEFAULT, 0, &r, NULL),
                      RSL_ERR_EXCEEDS_CAPACITY, "n");
        EXPECT(memcmp(&r, &g, sizeof r) == 0, "a failed reserve leaves *out untouched");
        EXPECT_OK(rsl_window_limiter_reserve_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, 0, &r, NULL));
        EXPECT(r.outcome == RSL_WINDOW_LIMITER_GRANTED && r.wait_ns == 0 && r.reservation == 0,
               "granted now");
        EXPECT_OK(rsl_window_limiter_reserve_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, SEC - 1, &r, NULL));
        EXPECT(r.outcome == RSL_WINDOW_LIMITER_TOO_LONG && r.wait_ns == SEC && r.reservation == 0,
               "too long");
        EXPECT_OK(rsl_window_limiter_reserve_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, SEC, &r, NULL));
        EXPECT(r.outcome == RSL_WINDOW_LIMITER_RESERVED && r.wait_ns == SEC && r.ready_at_ns == SEC &&
                   r.reservation != 0 && r.reserved0 == 0,
               "reserved at 1 s");
        t = r.reservation;
        EXPECT_OK(rsl_window_limiter_reserve_at(w, 0, 1, RSL_CRITICALITY_DEFAULT, 5 * SEC, &r, NULL));
        EXPECT(r.outcome == RSL_WINDOW_LIMITER_QUEUE_FULL && r.wait_ns == 2 * SEC, "queue full");
        EXPECT_STATUS(rsl_window_limiter_cancel_at(NULL, 0, t, &cancelled, NULL), RSL_ERR_NULL_ARGUMENT,
                      "handle");
        EXPECT_STATUS(rsl_window_limiter_cancel(NULL, t, &cancelled, NULL), RSL_ERR_NULL_ARGUMENT,
                      "handle");
        EXPECT_STATUS(rsl_window_limiter_cancel_at(w, 0, t, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                      "out_cancelled");
        EXPECT_STATUS(rsl_window_limiter_cancel(w, t, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                      "out_cancelled");
        EXPECT_STATUS(rsl_window_limiter_cancel_at(w, 0, t + 1, &cancelled, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "reservation");
        EXPECT_STATUS(rsl_window_limiter_cancel_at(w, 0, 0, &cancelled, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "reservation");
        EXPECT(cancelled == 7, "a failed cancel leaves *out_cancelled untouched");
        EXPECT_OK(rsl_window_limiter_cancel_at(w, 1, t, &cancelled, NULL));
        EXPECT(cancelled == 1, "cancelled before its instant");
        EXPECT_STATUS(rsl_window_limiter_cancel_at(w, 1, t, &cancelled, NULL),
                      RSL_ERR_INVALID_ARGUMENT, "reservation");
        /* The plain twins on the library clock: a reservation, then cancel. */
        EXPECT_OK(rsl_window_limiter_reserve(w, 1, RSL_CRITICALITY_DEFAULT, INT64_MAX, &r, NULL));
        EXPECT(r.outcome == RSL_WINDOW_LIMITER_GRANTED || r.outcome == RSL_WINDOW_LIMITER_RESERVED,
               "reserve on the library clock");
        if (r.outcome == RSL_WINDOW_LIMITER_RESERVED) {
            EXPECT_OK(rsl_window_limiter_cancel(w, r.reservation, &cancelled, NULL));
        }
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        EXPECT_OK(rsl_window_limiter_get_metrics_at(w, 1, &m, NULL));
        EXPECT(m.reserved1 == 0 && m.reserved0 == 0, "reserved fields zero");
        rsl_window_limiter_free(w);
    }
}

static void test_adaptive_limiter(void) {
    rsl_adaptive_limiter_config cfg, before;
    rsl_adaptive_limiter *l = NULL, *out = LIMITER_SENTINEL;
    rsl_adaptive_limiter_decision d;
    rsl_adaptive_limiter_token token;
    rsl_adaptive_limiter_record_result r;
    rsl_adaptive_limiter_metrics m;
    uint32_t p;

    EXPECT_STATUS(rsl_adaptive_limiter_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_adaptive_limiter_config_preset(NULL, RSL_ADAPTIVE_LIMITER_PRESET_KRATOS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    memset(&cfg, 0xA5, sizeof cfg);
    before = cfg;
    EXPECT_STATUS(rsl_adaptive_limiter_config_preset(&cfg, 2, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "preset");
    EXPECT(memcmp(&cfg, &before, sizeof cfg) == 0, "limiter cfg untouched by an unknown preset");
    for (p = RSL_ADAPTIVE_LIMITER_PRESET_DEFAULT; p <= RSL_ADAPTIVE_LIMITER_PRESET_KRATOS; p++) {
        rsl_adaptive_limiter *h = NULL;
        EXPECT_OK(rsl_adaptive_limiter_config_preset(&cfg, p, NULL));
        EXPECT(cfg.struct_size == sizeof cfg, "limiter preset %u sets struct_size", (unsigned)p);
        cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;
        EXPECT_OK(rsl_adaptive_limiter_new(&cfg, &h, NULL));
        rsl_adaptive_limiter_free(h);
    }
    EXPECT_OK(rsl_adaptive_limiter_config_init(&cfg, NULL));
    EXPECT(cfg.cpu_source == RSL_CPU_SOURCE_SAMPLER && cfg.window_ns == 10 * SEC &&
               cfg.buckets == 100 && cfg.cpu_threshold_permille == 800 &&
               cfg.cooldown_ns == SEC && cfg.count_failures == 0 &&
               cfg.sheddable_permille == 500 && cfg.sheddable_plus_permille == 750 &&
               cfg.critical_permille == 1000 && cfg.critical_plus_permille == 1250,
           "limiter defaults");

    EXPECT_STATUS(rsl_adaptive_limiter_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    /* NULL cfg = defaults: a SAMPLER limiter (starts and, when freed, stops
     * the shared sampler thread). */
    EXPECT_OK(rsl_adaptive_limiter_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != LIMITER_SENTINEL, "rsl_adaptive_limiter_new(NULL cfg, NULL) set *out");
    if (out != NULL && out != LIMITER_SENTINEL) {
        EXPECT_STATUS(rsl_adaptive_limiter_set_cpu(out, 500, NULL), RSL_ERR_INVALID_ARGUMENT,
                      "cpu_source");
        rsl_adaptive_limiter_free(out);
    }
    rsl_adaptive_limiter_free(NULL);

    cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;
    EXPECT_OK(rsl_adaptive_limiter_new(&cfg, &l, NULL));
    if (l == NULL) return;
    EXPECT_STATUS(rsl_adaptive_limiter_acquire_at(NULL, 0, RSL_CRITICALITY_DEFAULT, &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_acquire(NULL, RSL_CRITICALITY_DEFAULT, &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_acquire_at(l, 0, RSL_CRITICALITY_DEFAULT, NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_limiter_acquire(l, RSL_CRITICALITY_DEFAULT, NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_limiter_acquire_at(l, 0, 15, &d, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "criticality");
    EXPECT_OK(rsl_adaptive_limiter_acquire_at(l, 0, RSL_CRITICALITY_DEFAULT, &d, NULL));
    EXPECT(d.allowed == 1 && d.inflight == 0, "first acquire admitted");
    token = d.token;
    EXPECT_STATUS(rsl_adaptive_limiter_record_at(NULL, 0, &token, RSL_OUTCOME_SUCCESS, &r, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_record(NULL, &token, RSL_OUTCOME_SUCCESS, &r, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_record_at(l, 0, NULL, RSL_OUTCOME_SUCCESS, &r, NULL),
                  RSL_ERR_NULL_ARGUMENT, "token");
    EXPECT_STATUS(rsl_adaptive_limiter_record(l, NULL, RSL_OUTCOME_SUCCESS, &r, NULL),
                  RSL_ERR_NULL_ARGUMENT, "token");
    EXPECT_STATUS(rsl_adaptive_limiter_record_at(l, 0, &token, 0, &r, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "outcome");
    EXPECT_STATUS(rsl_adaptive_limiter_record_at(l, 0, &token, 5, &r, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "outcome");
    /* out may be NULL. */
    EXPECT_OK(rsl_adaptive_limiter_record_at(l, 2000000, &token, RSL_OUTCOME_SUCCESS, NULL, NULL));
    EXPECT_OK(rsl_adaptive_limiter_acquire(l, RSL_CRITICALITY_SHEDDABLE, &d, NULL));
    EXPECT_OK(rsl_adaptive_limiter_record(l, &d.token, RSL_OUTCOME_IGNORED, &r, NULL));
    EXPECT(r.counted == 0 && r.rt_ms == 0, "ignored is not counted");

    EXPECT_STATUS(rsl_adaptive_limiter_set_cpu(NULL, 10, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_set_cpu(l, 1001, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "cpu_permille");
    EXPECT_OK(rsl_adaptive_limiter_set_cpu(l, 1000, NULL));

    m.struct_size = sizeof m;
    EXPECT_STATUS(rsl_adaptive_limiter_get_metrics_at(NULL, 0, &m, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_get_metrics(NULL, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_adaptive_limiter_get_metrics_at(l, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_adaptive_limiter_get_metrics(l, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    m.struct_size = 7;
    EXPECT_STATUS(rsl_adaptive_limiter_get_metrics_at(l, 0, &m, NULL), RSL_ERR_CONFIG_SIZE,
                  "out.struct_size");
    m.struct_size = sizeof m;
    EXPECT_OK(rsl_adaptive_limiter_get_metrics_at(l, 0, &m, NULL));
    EXPECT(m.cpu_permille == 1000 && m.inflight == 0 && m.allowed_total == 2,
           "metrics: cpu %u inflight %llu allowed %llu", (unsigned)m.cpu_permille,
           (unsigned long long)m.inflight, (unsigned long long)m.allowed_total);
    rsl_adaptive_limiter_free(l);

#define BAD_LIMITER(stmt, field)                                               \
    do {                                                                       \
        rsl_adaptive_limiter *o = LIMITER_SENTINEL;                            \
        EXPECT_OK(rsl_adaptive_limiter_config_init(&cfg, NULL));                     \
        cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;                                \
        stmt;                                                                  \
        EXPECT_STATUS(rsl_adaptive_limiter_new(&cfg, &o, NULL), RSL_ERR_INVALID_CONFIG, field); \
        EXPECT(o == LIMITER_SENTINEL, "*out untouched (%s)", field);           \
    } while (0)
    BAD_LIMITER(cfg.cpu_source = 0, "cpu_source");
    BAD_LIMITER(cfg.cpu_source = 3, "cpu_source");
    BAD_LIMITER(cfg.window_ns = 0, "window_ns");
    BAD_LIMITER(cfg.window_ns = SEC + 1, "window_ns");
    BAD_LIMITER(cfg.buckets = 1, "buckets");
    BAD_LIMITER(cfg.buckets = 65537, "buckets");
    BAD_LIMITER((cfg.window_ns = 20 * SEC, cfg.buckets = 10), "buckets");
    BAD_LIMITER(cfg.cpu_threshold_permille = 1001, "cpu_threshold_permille");
    BAD_LIMITER(cfg.cooldown_ns = -1, "cooldown_ns");
    BAD_LIMITER(cfg.count_failures = 2, "count_failures");
    BAD_LIMITER(cfg.sheddable_permille = 100001, "sheddable_permille");
    BAD_LIMITER(cfg.critical_plus_permille = 100001, "critical_plus_permille");
    BAD_LIMITER(cfg.sheddable_permille = 800, "sheddable_permille");
    BAD_LIMITER(cfg.sheddable_plus_permille = 1001, "sheddable_plus_permille");
    BAD_LIMITER(cfg.critical_permille = 1300, "critical_permille");
    BAD_LIMITER(cfg.reserved0 = 1, "reserved0");
#undef BAD_LIMITER
}

static void test_limiter_config_sizes(void) {
    const uint32_t bad[] = {0, 4, 5000, UINT32_MAX};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rsl_window_limiter_config wc;
        rsl_adaptive_limiter_config lc;
        rsl_window_limiter *wo = WINDOW_SENTINEL;
        rsl_adaptive_limiter *lo = LIMITER_SENTINEL;
        EXPECT_OK(rsl_window_limiter_config_init(&wc, NULL));
        wc.struct_size = bad[i];
        EXPECT_STATUS(rsl_window_limiter_new(&wc, &wo, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT(wo == WINDOW_SENTINEL, "*out untouched");
        EXPECT_OK(rsl_adaptive_limiter_config_init(&lc, NULL));
        lc.struct_size = bad[i];
        EXPECT_STATUS(rsl_adaptive_limiter_new(&lc, &lo, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT(lo == LIMITER_SENTINEL, "*out untouched");
    }
    {
        union {
            rsl_window_limiter_config cfg;
            unsigned char bytes[sizeof(rsl_window_limiter_config) + 8];
        } big;
        rsl_window_limiter *w = WINDOW_SENTINEL;
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_window_limiter_config_init(&big.cfg, NULL));
        big.cfg.struct_size = sizeof big;
        EXPECT_OK(rsl_window_limiter_new(&big.cfg, &w, NULL));
        rsl_window_limiter_free(w);
        w = WINDOW_SENTINEL;
        big.bytes[sizeof(rsl_window_limiter_config) + 3] = 1;
        EXPECT_STATUS(rsl_window_limiter_new(&big.cfg, &w, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(w == WINDOW_SENTINEL, "*out untouched");
    }
    {
        union {
            rsl_adaptive_limiter_config cfg;
            unsigned char bytes[sizeof(rsl_adaptive_limiter_config) + 8];
        } big;
        rsl_adaptive_limiter *l = LIMITER_SENTINEL;
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_adaptive_limiter_config_init(&big.cfg, NULL));
        big.cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;
        big.cfg.struct_size = sizeof big;
        EXPECT_OK(rsl_adaptive_limiter_new(&big.cfg, &l, NULL));
        rsl_adaptive_limiter_free(l);
        l = LIMITER_SENTINEL;
        big.bytes[sizeof(rsl_adaptive_limiter_config)] = 1;
        EXPECT_STATUS(rsl_adaptive_limiter_new(&big.cfg, &l, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(l == LIMITER_SENTINEL, "*out untouched");
    }
}

static void test_cpu_sampler(void) {
    rsl_cpu_sampler_stats st;
    EXPECT_STATUS(rsl_cpu_sampler_get_stats(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    st.struct_size = 2;
    EXPECT_STATUS(rsl_cpu_sampler_get_stats(&st, NULL), RSL_ERR_CONFIG_SIZE, "out.struct_size");
    EXPECT_STATUS(rsl_cpu_sampler_stop(NULL), RSL_ERR_INVALID_ARGUMENT, "sampler");
    EXPECT_OK(rsl_cpu_sampler_start(NULL));
    st.struct_size = sizeof st;
    EXPECT_OK(rsl_cpu_sampler_get_stats(&st, NULL));
    EXPECT(st.refs == 1 && st.cpu_permille <= 1000 && st.source <= RSL_CPU_SAMPLER_SOURCE_PROC_STAT,
           "sampler stats: refs %llu cpu %u source %u", (unsigned long long)st.refs,
           (unsigned)st.cpu_permille, (unsigned)st.source);
    EXPECT_OK(rsl_cpu_sampler_stop(NULL));
    EXPECT_OK(rsl_cpu_sampler_get_stats(&st, NULL));
    EXPECT(st.refs == 0, "sampler stopped");
    EXPECT_STATUS(rsl_cpu_sampler_stop(NULL), RSL_ERR_INVALID_ARGUMENT, "sampler");
}

static void test_criticality(void) {
    rsl_criticality level = 77;
    const rsl_criticality levels[] = {RSL_CRITICALITY_SHEDDABLE, RSL_CRITICALITY_SHEDDABLE_PLUS,
                                      RSL_CRITICALITY_CRITICAL, RSL_CRITICALITY_CRITICAL_PLUS};
    size_t i;
    EXPECT(strcmp(rsl_criticality_header(), "x-rsl-criticality") == 0, "header name");
    EXPECT(RSL_CRITICALITY_DEFAULT == RSL_CRITICALITY_CRITICAL, "default level");
    for (i = 0; i < 4; i++) {
        const char *name = rsl_criticality_name(levels[i]);
        EXPECT(name != NULL, "name of %u", (unsigned)levels[i]);
        if (name == NULL) continue;
        level = 0;
        EXPECT_OK(rsl_criticality_parse(name, strlen(name), &level, NULL));
        EXPECT(level == levels[i], "round trip %s", name);
    }
    EXPECT(rsl_criticality_name(0) == NULL && rsl_criticality_name(25) == NULL,
           "unknown levels have no name");
    EXPECT_STATUS(rsl_criticality_parse("CRITICAL", 8, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_level");
    level = 77;
    EXPECT_STATUS(rsl_criticality_parse(NULL, 1, &level, NULL), RSL_ERR_NULL_ARGUMENT, "value");
    EXPECT(level == 77, "*out_level untouched");
    EXPECT_OK(rsl_criticality_parse(NULL, 0, &level, NULL));
    EXPECT(level == RSL_CRITICALITY_DEFAULT, "absent = default");
    level = 77;
    EXPECT_STATUS(rsl_criticality_parse("LOW", 3, &level, NULL), RSL_ERR_INVALID_ARGUMENT, "value");
    EXPECT(level == 77, "*out_level untouched");
    /* Not NUL-terminated: only len bytes are read. */
    EXPECT_OK(rsl_criticality_parse("SHEDDABLE_PLUS", 9, &level, NULL));
    EXPECT(level == RSL_CRITICALITY_SHEDDABLE, "only len bytes are parsed");
}

static void test_defaults_and_free(void) {
    rsl_breaker_config cfg;
    rsl_adaptive_throttle_config tcfg;

    rsl_breaker_free(NULL);
    rsl_adaptive_throttle_free(NULL);

    EXPECT_OK(rsl_breaker_config_init(&cfg, NULL));
    EXPECT(cfg.struct_size == sizeof cfg, "breaker struct_size %u", (unsigned)cfg.struct_size);
    EXPECT(cfg.policy == RSL_BREAKER_POLICY_CONSECUTIVE && cfg.consecutive_failures == 5 &&
               cfg.wait_duration_ns == 60 * SEC && cfg.half_open_max_calls == 1 &&
               cfg.reserved0 == 0,
           "breaker defaults: policy %u failures %u wait %lld trials %u", (unsigned)cfg.policy,
           (unsigned)cfg.consecutive_failures, (long long)cfg.wait_duration_ns,
           (unsigned)cfg.half_open_max_calls);
    {
        rsl_breaker_config preset;
        EXPECT_OK(rsl_breaker_config_preset(&preset, RSL_BREAKER_PRESET_DEFAULT, NULL));
        EXPECT(memcmp(&preset, &cfg, sizeof cfg) == 0, "config_init == preset DEFAULT");
    }
    EXPECT_OK(rsl_adaptive_throttle_config_init(&tcfg, NULL));
    EXPECT(tcfg.struct_size == sizeof tcfg && tcfg.k == 2.0 && tcfg.window_ns == 120 * SEC &&
               tcfg.accounting == RSL_ACCOUNTING_ON_ADMIT,
           "throttle defaults");

    /* NULL cfg behaves as the defaults: 5 failures open a default breaker. */
    {
        rsl_breaker *b = NULL;
        rsl_breaker_acquire_result a;
        rsl_breaker_record_result r;
        int i;
        EXPECT_OK(rsl_breaker_new_at(NULL, 1000, &b, NULL));
        if (b != NULL) {
            for (i = 0; i < 5; i++) {
                EXPECT_OK(rsl_breaker_acquire_at(b, 1000 + i, &a, NULL));
                EXPECT(a.admitted == 1, "admitted while closed");
                EXPECT_OK(rsl_breaker_record_at(b, 1000 + i, &a.permit, RSL_OUTCOME_FAILURE, &r, NULL));
                EXPECT(r.state == (i < 4 ? RSL_BREAKER_CLOSED : RSL_BREAKER_OPEN),
                       "after failure %d state %u", i + 1, (unsigned)r.state);
            }
            EXPECT_OK(rsl_breaker_acquire_at(b, 1004 + 30 * SEC, &a, NULL));
            EXPECT(a.admitted == 0 && a.reject_reason == RSL_BREAKER_REJECT_OPEN &&
                       a.retry_after_ns == 30 * SEC,
                   "open rejects with retry_after 30 s: admitted %u reason %u retry %lld",
                   (unsigned)a.admitted, (unsigned)a.reject_reason, (long long)a.retry_after_ns);
        }
        rsl_breaker_free(b);
    }

    /* A failure leaves a message; a later failure replaces it. */
    EXPECT_STATUS(rsl_breaker_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_breaker_acquire(NULL, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
}

/* ------------------------------------------------------------------------ */
/* Backoff, retry policy, retry budget                                      */
/* ------------------------------------------------------------------------ */

#define BACKOFF_SENTINEL ((rsl_backoff *)(uintptr_t)0x5e1f)
#define RETRY_SENTINEL ((rsl_retry *)(uintptr_t)0x5e1f)
#define BUDGET_SENTINEL ((rsl_retry_budget *)(uintptr_t)0x5e1f)

static rsl_retry_state retry_state_for(void) {
    rsl_retry_state st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    return st;
}

static void test_null_arguments_retry(void) {
    rsl_backoff_config bcfg;
    rsl_retry_config rcfg;
    rsl_retry_budget_config gcfg;
    rsl_backoff *b = NULL, *bout = BACKOFF_SENTINEL;
    rsl_retry *p = NULL, *pout = RETRY_SENTINEL;
    rsl_retry_budget *g = NULL, *gout = BUDGET_SENTINEL;
    rsl_backoff_state bst;
    rsl_retry_state st = retry_state_for();
    rsl_retry_decision d;
    rsl_retry_budget_ticket ticket;
    rsl_retry_budget_metrics m;
    int64_t delay = 0;
    uint32_t draws = 0, granted = 0;
    rsl_outcome o = 0;
    const char *value = NULL;

    EXPECT_STATUS(rsl_backoff_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_backoff_config_preset(NULL, RSL_BACKOFF_PRESET_GRPC_CONNECTION, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_backoff_state_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "state");
    EXPECT_STATUS(rsl_retry_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_retry_config_preset(NULL, &bcfg, RSL_RETRY_PRESET_GRPC, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_retry_budget_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_retry_budget_config_preset(NULL, RSL_RETRY_BUDGET_PRESET_GRPC, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_backoff_config_preset(&bcfg, RSL_BACKOFF_PRESET_AWS_DECORRELATED, NULL));
    EXPECT_OK(rsl_retry_config_preset(&rcfg, NULL, RSL_RETRY_PRESET_DEFAULT, NULL));
    EXPECT_OK(rsl_retry_budget_config_init(&gcfg, NULL));
    EXPECT_OK(rsl_backoff_state_init(&bst, NULL));

    /* Constructors: out required, NULL config = defaults, *out untouched. */
    EXPECT_STATUS(rsl_backoff_new(&bcfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_retry_new(&rcfg, &bcfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_retry_budget_new(&gcfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_backoff_new(NULL, &bout, NULL));
    EXPECT(bout != NULL && bout != BACKOFF_SENTINEL, "rsl_backoff_new(NULL, NULL) set *out");
    rsl_backoff_free(bout);
    EXPECT_OK(rsl_retry_new(NULL, NULL, &pout, NULL));
    EXPECT(pout != NULL && pout != RETRY_SENTINEL, "rsl_retry_new(NULL, NULL, NULL) set *out");
    rsl_retry_free(pout);
    EXPECT_OK(rsl_retry_budget_new(NULL, &gout, NULL));
    EXPECT(gout != NULL && gout != BUDGET_SENTINEL, "rsl_retry_budget_new(NULL, NULL) set *out");
    rsl_retry_budget_free(gout);
    rsl_backoff_free(NULL);
    rsl_retry_free(NULL);
    rsl_retry_budget_free(NULL);
    EXPECT_OK(rsl_backoff_new(&bcfg, &b, NULL));
    EXPECT_OK(rsl_retry_new(&rcfg, &bcfg, &p, NULL));
    EXPECT_OK(rsl_retry_budget_new(&gcfg, &g, NULL));
    if (b == NULL || p == NULL || g == NULL) {
        rsl_backoff_free(b);
        rsl_retry_free(p);
        rsl_retry_budget_free(g);
        return;
    }

    /* Backoff. */
    EXPECT_STATUS(rsl_backoff_next(NULL, 1, &bst, &delay, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_backoff_next(b, 1, &bst, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_delay_ns");
    EXPECT_STATUS(rsl_backoff_next(b, 1, NULL, &delay, NULL), RSL_ERR_NULL_ARGUMENT, "state");
    EXPECT_STATUS(rsl_backoff_delay_with_u(NULL, 1, 0.5, &bst, &delay, NULL), RSL_ERR_NULL_ARGUMENT,
                  "cfg");
    EXPECT_STATUS(rsl_backoff_delay_with_u(&bcfg, 1, 0.5, &bst, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_delay_ns");
    EXPECT_STATUS(rsl_backoff_delay_with_u(&bcfg, 1, 0.5, NULL, &delay, NULL), RSL_ERR_NULL_ARGUMENT,
                  "state");
    EXPECT_STATUS(rsl_backoff_draws(NULL, 1, &draws, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_backoff_draws(&bcfg, 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_draws");
    EXPECT_OK(rsl_backoff_next(b, 1, &bst, &delay, NULL));
    EXPECT(delay >= 5000000 && delay < 15000000, "decorrelated first delay in [5, 15) ms: %lld",
           (long long)delay);

    /* Retry policy. */
    EXPECT_STATUS(rsl_retry_begin_at(NULL, NULL, 0, RSL_NO_DEADLINE, &st, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_retry_begin(NULL, NULL, RSL_NO_DEADLINE, &st, NULL), RSL_ERR_NULL_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_retry_begin_at(p, NULL, 0, RSL_NO_DEADLINE, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "state");
    EXPECT_STATUS(rsl_retry_begin(p, NULL, RSL_NO_DEADLINE, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "state");
    EXPECT_OK(rsl_retry_begin_at(p, g, 0, RSL_NO_DEADLINE, &st, NULL));
    EXPECT_STATUS(rsl_retry_next_at(NULL, g, &st, 0, RSL_OUTCOME_FAILURE, 0,
                                    RSL_RETRY_AFTER_NONE, &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_next(NULL, g, &st, RSL_OUTCOME_FAILURE, 0, RSL_RETRY_AFTER_NONE, &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_next_at(p, g, NULL, 0, RSL_OUTCOME_FAILURE, 0, RSL_RETRY_AFTER_NONE,
                                    &d, NULL),
                  RSL_ERR_NULL_ARGUMENT, "state");
    EXPECT_STATUS(rsl_retry_next_at(p, g, &st, 0, RSL_OUTCOME_FAILURE, 0, RSL_RETRY_AFTER_NONE,
                                    NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_retry_next(p, g, &st, RSL_OUTCOME_FAILURE, 0, RSL_RETRY_AFTER_NONE, NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_retry_next(p, g, &st, RSL_OUTCOME_SUCCESS, 0, RSL_RETRY_AFTER_NONE, &d, NULL));
    EXPECT(d.retry == 0 && d.reason == RSL_RETRY_REASON_SUCCESS, "success stops");

    /* Wire helpers: NULL value = absent; the out pointer is required. */
    EXPECT_STATUS(rsl_retry_header_parse("overloaded", 10, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_outcome");
    EXPECT_OK(rsl_retry_header_parse(NULL, 0, &o, NULL));
    EXPECT(o == RSL_OUTCOME_FAILURE, "an absent header reads as FAILURE");
    EXPECT_STATUS(rsl_retry_header_format(RSL_OUTCOME_OVERLOADED, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_value");
    EXPECT_OK(rsl_retry_header_format(RSL_OUTCOME_OVERLOADED, &value, NULL));
    EXPECT(value != NULL && strcmp(value, "overloaded") == 0, "header value \"overloaded\"");
    EXPECT(strcmp(rsl_retry_header_name(), "x-rsl-retry") == 0, "header name");
    EXPECT_STATUS(rsl_retry_pushback_parse("5", 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_retry_after_ns");
    EXPECT_STATUS(rsl_retry_after_parse_http("5", 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_retry_after_ns");
    EXPECT_OK(rsl_retry_pushback_parse(NULL, 3, &delay, NULL));
    EXPECT(delay == RSL_RETRY_AFTER_NONE, "absent pushback = none");

    /* Budget. */
    EXPECT_STATUS(rsl_retry_budget_deposit_at(NULL, 0, &ticket, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_deposit(NULL, &ticket, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_OK(rsl_retry_budget_deposit_at(g, 0, NULL, NULL)); /* the ticket is optional */
    EXPECT_STATUS(rsl_retry_budget_try_withdraw_at(NULL, 0, 0, &granted, &ticket, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_try_withdraw(NULL, 0, &granted, &ticket, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_try_withdraw_at(g, 0, 0, NULL, &ticket, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out_granted");
    EXPECT_STATUS(rsl_retry_budget_try_withdraw(g, 0, NULL, &ticket, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_granted");
    EXPECT_OK(rsl_retry_budget_try_withdraw_at(g, 0, 0, &granted, NULL, NULL));
    EXPECT_OK(rsl_retry_budget_try_withdraw(g, 0, &granted, &ticket, NULL));
    EXPECT_STATUS(rsl_retry_budget_record_at(NULL, 0, &ticket, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_record(NULL, &ticket, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_record_at(g, 0, NULL, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_NULL_ARGUMENT, "ticket");
    EXPECT_STATUS(rsl_retry_budget_record(g, NULL, RSL_OUTCOME_SUCCESS, NULL), RSL_ERR_NULL_ARGUMENT,
                  "ticket");
    EXPECT_OK(rsl_retry_budget_record(g, &ticket, RSL_OUTCOME_SUCCESS, NULL));
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    EXPECT_STATUS(rsl_retry_budget_get_metrics_at(NULL, 0, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_get_metrics(NULL, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_retry_budget_get_metrics_at(g, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_retry_budget_get_metrics(g, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_retry_budget_get_metrics_at(g, 0, &m, NULL));
    EXPECT(m.deposits_total == 2 && m.granted_total == 2, "budget counts: %llu deposits, %llu grants",
           (unsigned long long)m.deposits_total, (unsigned long long)m.granted_total);

    rsl_backoff_free(b);
    rsl_retry_free(p);
    rsl_retry_budget_free(g);
}

static void test_invalid_arguments_retry(void) {
    rsl_backoff_config bcfg, before;
    rsl_retry_config rcfg;
    rsl_retry_budget_config gcfg;
    rsl_retry *p = NULL;
    rsl_retry_budget *g = NULL;
    rsl_backoff *b = NULL;
    rsl_backoff_state bst;
    rsl_retry_state st = retry_state_for();
    rsl_retry_decision d;
    rsl_retry_budget_ticket ticket;
    int64_t delay;
    uint32_t draws, granted;
    const char *value = "unset";

    memset(&bst, 0, sizeof bst);
    EXPECT_OK(rsl_backoff_config_init(&bcfg, NULL));
    before = bcfg;
    EXPECT_STATUS(rsl_backoff_config_preset(&bcfg, 14, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT(memcmp(&bcfg, &before, sizeof bcfg) == 0, "an unknown backoff preset leaves cfg");
    EXPECT_STATUS(rsl_retry_config_preset(&rcfg, &bcfg, 6, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT(memcmp(&bcfg, &before, sizeof bcfg) == 0, "an unknown retry preset leaves backoff");
    EXPECT_STATUS(rsl_retry_budget_config_preset(&gcfg, 6, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");

    EXPECT_STATUS(rsl_backoff_delay_with_u(&bcfg, 0, 0.5, &bst, &delay, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "attempt");
    EXPECT_STATUS(rsl_backoff_delay_with_u(&bcfg, 1, 1.0, &bst, &delay, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "u");
    EXPECT_STATUS(rsl_backoff_delay_with_u(&bcfg, 1, -0.0001, &bst, &delay, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "u");
    EXPECT_STATUS(rsl_backoff_delay_with_u(&bcfg, 1, NAN, &bst, &delay, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "u");
    EXPECT_STATUS(rsl_backoff_draws(&bcfg, 0, &draws, NULL), RSL_ERR_INVALID_ARGUMENT, "attempt");
    EXPECT_OK(rsl_backoff_new(&bcfg, &b, NULL));
    EXPECT_STATUS(rsl_backoff_next(b, 0, &bst, &delay, NULL), RSL_ERR_INVALID_ARGUMENT, "attempt");
    rsl_backoff_free(b);

    EXPECT_OK(rsl_retry_config_init(&rcfg, NULL));
    EXPECT_OK(rsl_retry_new(&rcfg, &bcfg, &p, NULL));
    EXPECT_OK(rsl_retry_budget_config_preset(&gcfg, RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, NULL));
    EXPECT_OK(rsl_retry_budget_new(&gcfg, &g, NULL));
    if (p == NULL || g == NULL) {
        rsl_retry_free(p);
        rsl_retry_budget_free(g);
        return;
    }
    /* A state never begun, a wrong struct_size, then a finished state. */
    EXPECT_STATUS(rsl_retry_next_at(p, NULL, &st, 0, RSL_OUTCOME_FAILURE, 0,
                                    RSL_RETRY_AFTER_NONE, &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "state");
    st.struct_size = 8;
    EXPECT_STATUS(rsl_retry_begin_at(p, NULL, 0, RSL_NO_DEADLINE, &st, NULL), RSL_ERR_CONFIG_SIZE,
                  "state.struct_size");
    st = retry_state_for();
    EXPECT_OK(rsl_retry_begin_at(p, g, 0, RSL_NO_DEADLINE, &st, NULL));
    EXPECT_STATUS(rsl_retry_next_at(p, g, &st, 0, 0, 0, RSL_RETRY_AFTER_NONE, &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "outcome");
    EXPECT_STATUS(rsl_retry_next_at(p, g, &st, 0, 5, 0, RSL_RETRY_AFTER_NONE, &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "outcome");
    EXPECT_STATUS(rsl_retry_next_at(p, g, &st, 0, RSL_OUTCOME_FAILURE, 2, RSL_RETRY_AFTER_NONE,
                                    &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "flags");
    st.ticket.kind = 9;
    EXPECT_STATUS(rsl_retry_next_at(p, g, &st, 0, RSL_OUTCOME_FAILURE, 0, RSL_RETRY_AFTER_NONE,
                                    &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "ticket");
    st.ticket.kind = RSL_RETRY_TICKET_ORIGINAL;
    EXPECT_OK(rsl_retry_next_at(p, g, &st, 0, RSL_OUTCOME_OVERLOADED, 0, RSL_RETRY_AFTER_NONE,
                                &d, NULL));
    EXPECT(d.retry == 0 && d.reason == RSL_RETRY_REASON_OVERLOADED &&
               d.report_outcome == RSL_OUTCOME_OVERLOADED,
           "overloaded stops and is reported");
    EXPECT_STATUS(rsl_retry_next_at(p, g, &st, 0, RSL_OUTCOME_FAILURE, 0, RSL_RETRY_AFTER_NONE,
                                    &d, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "state");

    EXPECT_STATUS(rsl_retry_header_format(7, &value, NULL), RSL_ERR_INVALID_ARGUMENT, "outcome");
    EXPECT(strcmp(value, "unset") == 0, "*out_value untouched on failure");
    EXPECT_STATUS(rsl_retry_budget_try_withdraw_at(g, 0, 4, &granted, &ticket, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "flags");
    memset(&ticket, 0, sizeof ticket);
    ticket.kind = 3;
    EXPECT_STATUS(rsl_retry_budget_record_at(g, 0, &ticket, RSL_OUTCOME_SUCCESS, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "ticket");
    ticket.kind = RSL_RETRY_TICKET_RETRY;
    EXPECT_STATUS(rsl_retry_budget_record_at(g, 0, &ticket, 0, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "outcome");
    rsl_retry_free(p);
    rsl_retry_budget_free(g);
}

typedef enum { BK_U32, BK_I64, BK_F64 } bk_type;

typedef struct {
    uint32_t preset;
    const char *field;
    bk_type type;
    double value;
    const char *expect_field;
} backoff_case;

static void set_backoff_field(rsl_backoff_config *c, const backoff_case *k) {
#define BK_SET(name)                                                           \
    if (strcmp(k->field, #name) == 0) {                                        \
        if (k->type == BK_U32) *(uint32_t *)(void *)&c->name = (uint32_t)k->value; \
        else if (k->type == BK_I64) *(int64_t *)(void *)&c->name = (int64_t)k->value; \
        else *(double *)(void *)&c->name = k->value;                           \
    }
    BK_SET(kind)
    BK_SET(jitter)
    BK_SET(clamp_jittered)
    BK_SET(base_ns)
    BK_SET(max_ns)
    BK_SET(increment_ns)
    BK_SET(factor)
    BK_SET(jitter_factor)
#undef BK_SET
}

static void test_invalid_config_retry(void) {
    const double nan = NAN;
    const backoff_case bcases[] = {
        {RSL_BACKOFF_PRESET_DEFAULT, "kind", BK_U32, 0, "kind"},
        {RSL_BACKOFF_PRESET_DEFAULT, "kind", BK_U32, 11, "kind"},
        {RSL_BACKOFF_PRESET_DEFAULT, "jitter", BK_U32, 5, "jitter"},
        {RSL_BACKOFF_PRESET_DEFAULT, "clamp_jittered", BK_U32, 2, "clamp_jittered"},
        {RSL_BACKOFF_PRESET_DEFAULT, "base_ns", BK_I64, -1, "base_ns"},
        {RSL_BACKOFF_PRESET_DEFAULT, "max_ns", BK_I64, -1, "max_ns"},
        {RSL_BACKOFF_PRESET_DEFAULT, "factor", BK_F64, 0.99, "factor"},
        {RSL_BACKOFF_PRESET_DEFAULT, "factor", BK_F64, nan, "factor"},
        {RSL_BACKOFF_PRESET_DEFAULT, "factor", BK_F64, INFINITY, "factor"},
        {RSL_BACKOFF_PRESET_SEEDS_JITTER, "jitter_factor", BK_F64, -0.5, "jitter_factor"},
        {RSL_BACKOFF_PRESET_SEEDS_JITTER, "jitter_factor", BK_F64, nan, "jitter_factor"},
        {RSL_BACKOFF_PRESET_GRPC_RETRY, "jitter_factor", BK_F64, 1.01, "jitter_factor"},
        {RSL_BACKOFF_PRESET_GRPC_CONNECTION, "base_ns", BK_I64, 0, "base_ns"},
        {RSL_BACKOFF_PRESET_GRPC_CONNECTION, "max_ns", BK_I64, 0, "max_ns"},
        {RSL_BACKOFF_PRESET_GRPC_CONNECTION, "jitter_factor", BK_F64, 2, "jitter_factor"},
        {RSL_BACKOFF_PRESET_GRPC_CONNECTION, "jitter", BK_U32, RSL_JITTER_FULL, "jitter"},
        {RSL_BACKOFF_PRESET_AWS_FULL_JITTER, "base_ns", BK_I64, 0, "base_ns"},
        {RSL_BACKOFF_PRESET_AWS_DECORRELATED, "max_ns", BK_I64, 1, "max_ns"},
        {RSL_BACKOFF_PRESET_AWS_STANDARD, "max_ns", BK_I64, 0, "max_ns"},
        {RSL_BACKOFF_PRESET_POLLY_V8_DECORRELATED_JITTER, "jitter", BK_U32, RSL_JITTER_EQUAL,
         "jitter"},
        {RSL_BACKOFF_PRESET_RESILIENCE4J_EXPONENTIAL_RANDOM, "base_ns", BK_I64, 1500000,
         "base_ns"},
        {RSL_BACKOFF_PRESET_RESILIENCE4J_EXPONENTIAL_RANDOM, "max_ns", BK_I64, 999, "max_ns"},
        {RSL_BACKOFF_PRESET_RESILIENCE4J_EXPONENTIAL_RANDOM, "jitter_factor", BK_F64, 1.5,
         "jitter_factor"},
        {RSL_BACKOFF_PRESET_SEEDS_FIXED, "kind", BK_U32, RSL_BACKOFF_LINEAR, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof bcases / sizeof bcases[0]; i++) {
        const backoff_case *k = &bcases[i];
        rsl_backoff_config cfg;
        rsl_backoff *out = BACKOFF_SENTINEL;
        rsl_retry *pout = RETRY_SENTINEL;
        rsl_backoff_state st;
        int64_t d = -7;
        EXPECT_OK(rsl_backoff_config_preset(&cfg, k->preset, NULL));
        set_backoff_field(&cfg, k);
        if (k->expect_field == NULL) {
            /* A linear strategy with a negative increment: */
            cfg.increment_ns = -1;
            EXPECT_STATUS(rsl_backoff_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG, "increment_ns");
            continue;
        }
        EXPECT_STATUS(rsl_backoff_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG, k->expect_field);
        EXPECT(out == BACKOFF_SENTINEL, "backoff case %zu: *out untouched", i);
        memset(&st, 0, sizeof st);
        EXPECT_STATUS(rsl_backoff_delay_with_u(&cfg, 1, 0.5, &st, &d, NULL), RSL_ERR_INVALID_CONFIG,
                      k->expect_field);
        EXPECT(d == -7, "backoff case %zu: delay untouched", i);
        {
            /* The retry policy names its backoff argument's fields by path. */
            char nested[64];
            snprintf(nested, sizeof nested, "backoff.%s", k->expect_field);
            EXPECT_STATUS(rsl_retry_new(NULL, &cfg, &pout, NULL), RSL_ERR_INVALID_CONFIG, nested);
        }
        EXPECT(pout == RETRY_SENTINEL, "backoff case %zu: retry *out untouched", i);
    }

    /* Retry config fields. */
    {
        rsl_retry_config cfg;
        rsl_retry *out = RETRY_SENTINEL;
        EXPECT_OK(rsl_retry_config_init(&cfg, NULL));
        cfg.max_attempts = 0;
        EXPECT_STATUS(rsl_retry_new(&cfg, NULL, &out, NULL), RSL_ERR_INVALID_CONFIG, "max_attempts");
        EXPECT_OK(rsl_retry_config_init(&cfg, NULL));
        cfg.max_elapsed_ns = -1;
        EXPECT_STATUS(rsl_retry_new(&cfg, NULL, &out, NULL), RSL_ERR_INVALID_CONFIG, "max_elapsed_ns");
        EXPECT_OK(rsl_retry_config_init(&cfg, NULL));
        cfg.expected_attempt_ns = INT64_MIN;
        EXPECT_STATUS(rsl_retry_new(&cfg, NULL, &out, NULL), RSL_ERR_INVALID_CONFIG,
                      "expected_attempt_ns");
        EXPECT_OK(rsl_retry_config_init(&cfg, NULL));
        cfg.retry_after_resets = 7;
        EXPECT_STATUS(rsl_retry_new(&cfg, NULL, &out, NULL), RSL_ERR_INVALID_CONFIG,
                      "retry_after_resets");
        EXPECT_OK(rsl_retry_config_init(&cfg, NULL));
        cfg.overloaded_on_give_up = 2;
        EXPECT_STATUS(rsl_retry_new(&cfg, NULL, &out, NULL), RSL_ERR_INVALID_CONFIG,
                      "overloaded_on_give_up");
        EXPECT(out == RETRY_SENTINEL, "retry *out untouched");
    }

    /* Budget config fields, kind by kind. */
    {
        struct {
            uint32_t preset;
            int field; /* index into the switch below */
            double value;
            const char *expect_field;
        } gcases[] = {
            {RSL_RETRY_BUDGET_PRESET_TOWER, 0, 0, "kind"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 0, 4, "kind"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 1, -0.1, "ratio"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 1, 1000.5, "ratio"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 1, NAN, "ratio"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 2, 0, "window_ns"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 2, 10e9 + 3, "window_ns"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 3, 0, "buckets"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 3, 65537, "buckets"},
            {RSL_RETRY_BUDGET_PRESET_TOWER, 10, 1, "reserved0"},
            {RSL_RETRY_BUDGET_PRESET_GRPC, 4, 0, "max_tokens"},
            {RSL_RETRY_BUDGET_PRESET_GRPC, 4, 1001, "max_tokens"},
            {RSL_RETRY_BUDGET_PRESET_GRPC, 5, 0, "token_ratio"},
            {RSL_RETRY_BUDGET_PRESET_GRPC, 5, 0.0004, "token_ratio"},
            {RSL_RETRY_BUDGET_PRESET_GRPC, 5, INFINITY, "token_ratio"},
            {RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, 6, 0, "quota_capacity"},
            {RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, 7, 0, "retry_cost"},
            {RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, 7, 501, "retry_cost"},
            {RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, 8, 0, "timeout_cost"},
            {RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, 9, 501, "success_increment"},
        };
        for (i = 0; i < sizeof gcases / sizeof gcases[0]; i++) {
            rsl_retry_budget_config cfg;
            rsl_retry_budget *out = BUDGET_SENTINEL;
            double v = gcases[i].value;
            EXPECT_OK(rsl_retry_budget_config_preset(&cfg, gcases[i].preset, NULL));
            switch (gcases[i].field) {
            case 0: cfg.kind = (uint32_t)v; break;
            case 1: cfg.ratio = v; break;
            case 2: cfg.window_ns = (int64_t)v; break;
            case 3: cfg.buckets = (uint32_t)v; break;
            case 4: cfg.max_tokens = (uint32_t)v; break;
            case 5: cfg.token_ratio = v; break;
            case 6: cfg.quota_capacity = (uint32_t)v; break;
            case 7: cfg.retry_cost = (uint32_t)v; break;
            case 8: cfg.timeout_cost = (uint32_t)v; break;
            case 9: cfg.success_increment = (uint32_t)v; break;
            default: cfg.reserved0 = (uint32_t)v; break;
            }
            EXPECT_STATUS(rsl_retry_budget_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG,
                          gcases[i].expect_field);
            EXPECT(out == BUDGET_SENTINEL, "budget case %zu: *out untouched", i);
        }
    }
}

static void test_config_size_retry(void) {
    const uint32_t bad[] = {0, 4, 5000, UINT32_MAX};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rsl_backoff_config b;
        rsl_retry_config r;
        rsl_retry_budget_config g;
        rsl_backoff *bout = BACKOFF_SENTINEL;
        rsl_retry *rout = RETRY_SENTINEL;
        rsl_retry_budget *gout = BUDGET_SENTINEL;
        rsl_retry_budget_metrics m;
        rsl_retry_budget *budget = NULL;
        int64_t d;
        EXPECT_OK(rsl_backoff_config_init(&b, NULL));
        EXPECT_OK(rsl_retry_config_init(&r, NULL));
        EXPECT_OK(rsl_retry_budget_config_init(&g, NULL));
        b.struct_size = bad[i];
        EXPECT_STATUS(rsl_backoff_new(&b, &bout, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT_STATUS(rsl_backoff_delay_with_u(&b, 1, 0.5, NULL, &d, NULL), RSL_ERR_CONFIG_SIZE,
                      "cfg.struct_size");
        EXPECT_STATUS(rsl_retry_new(&r, &b, &rout, NULL), RSL_ERR_CONFIG_SIZE, "backoff.struct_size");
        r.struct_size = bad[i];
        EXPECT_STATUS(rsl_retry_new(&r, NULL, &rout, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        g.struct_size = bad[i];
        EXPECT_STATUS(rsl_retry_budget_new(&g, &gout, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT(bout == BACKOFF_SENTINEL && rout == RETRY_SENTINEL && gout == BUDGET_SENTINEL,
               "*out untouched (struct_size %u)", (unsigned)bad[i]);
        EXPECT_OK(rsl_retry_budget_new(NULL, &budget, NULL));
        memset(&m, 0, sizeof m);
        m.struct_size = bad[i];
        EXPECT_STATUS(rsl_retry_budget_get_metrics_at(budget, 0, &m, NULL), RSL_ERR_CONFIG_SIZE,
                      "out.struct_size");
        rsl_retry_budget_free(budget);
    }
    /* A newer caller's larger configs: zero tails are fine, set bytes refused. */
    {
        union {
            rsl_backoff_config cfg;
            unsigned char bytes[sizeof(rsl_backoff_config) + 8];
        } big;
        union {
            rsl_retry_budget_config cfg;
            unsigned char bytes[sizeof(rsl_retry_budget_config) + 8];
        } gbig;
        rsl_backoff *b = NULL;
        rsl_retry_budget *g = NULL;
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_backoff_config_init(&big.cfg, NULL));
        big.cfg.struct_size = sizeof big;
        EXPECT_OK(rsl_backoff_new(&big.cfg, &b, NULL));
        rsl_backoff_free(b);
        big.bytes[sizeof(rsl_backoff_config) + 3] = 1;
        b = BACKOFF_SENTINEL;
        EXPECT_STATUS(rsl_backoff_new(&big.cfg, &b, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(b == BACKOFF_SENTINEL, "*out untouched (unsupported)");
        memset(&gbig, 0, sizeof gbig);
        EXPECT_OK(rsl_retry_budget_config_init(&gbig.cfg, NULL));
        gbig.cfg.struct_size = sizeof gbig;
        gbig.bytes[sizeof(rsl_retry_budget_config)] = 9;
        EXPECT_STATUS(rsl_retry_budget_new(&gbig.cfg, &g, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
    }
}

/* ------------------------------------------------------------------------ */
/* Bulkhead                                                                 */
/* ------------------------------------------------------------------------ */

#define BULKHEAD_SENTINEL ((rsl_bulkhead *)(uintptr_t)0x5e1f)
#define POLICY_SENTINEL ((rsl_deadline_policy *)(uintptr_t)0x5e1f)

static uint32_t bulkhead_in_use(const rsl_bulkhead *h) {
    rsl_bulkhead_metrics m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    EXPECT_OK(rsl_bulkhead_get_metrics_at(h, 0, &m, NULL));
    return m.in_use;
}

static void test_bulkhead_abi(void) {
    rsl_bulkhead_config cfg, before;
    rsl_bulkhead *h = NULL, *out = BULKHEAD_SENTINEL;
    rsl_bulkhead_permit p, q;
    rsl_bulkhead_metrics m;
    rsl_bulkhead_entry en, en2, en3;
    rsl_bulkhead_exit_result x, xg;
    rsl_bulkhead_cancel_result c, cg;
    size_t i;

    /* The frozen result structs: sizes and offsets a binding can mirror. */
    EXPECT(sizeof(rsl_bulkhead_permit) == 8 && sizeof(rsl_bulkhead_waiter) == 8, "u64 values");
    EXPECT(sizeof(rsl_bulkhead_entry) == 24 && offsetof(rsl_bulkhead_entry, position) == 4 &&
               offsetof(rsl_bulkhead_entry, permit) == 8 && offsetof(rsl_bulkhead_entry, waiter) == 16,
           "rsl_bulkhead_entry layout");
    EXPECT(sizeof(rsl_bulkhead_exit_result) == 32 &&
               offsetof(rsl_bulkhead_exit_result, handed_to) == 8 &&
               offsetof(rsl_bulkhead_exit_result, waiter) == 16 &&
               offsetof(rsl_bulkhead_exit_result, permit) == 24,
           "rsl_bulkhead_exit_result layout");
    EXPECT(sizeof(rsl_bulkhead_cancel_result) == 16 &&
               offsetof(rsl_bulkhead_cancel_result, permit) == 8,
           "rsl_bulkhead_cancel_result layout");

    /* NULL arguments, everywhere. */
    rsl_bulkhead_free(NULL);
    EXPECT_STATUS(rsl_bulkhead_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_bulkhead_config_preset(NULL, RSL_BULKHEAD_PRESET_HYSTRIX, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_bulkhead_config_init(&cfg, NULL));
    before = cfg;
    EXPECT_STATUS(rsl_bulkhead_config_preset(&cfg, 99, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT(memcmp(&cfg, &before, sizeof cfg) == 0, "an unknown preset leaves cfg untouched");
    EXPECT_STATUS(rsl_bulkhead_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_bulkhead_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != BULKHEAD_SENTINEL, "rsl_bulkhead_new(NULL, NULL) set *out");
    rsl_bulkhead_free(out);
    cfg.max_concurrent = 1;
    cfg.max_waiters = 2;
    EXPECT_OK(rsl_bulkhead_new(&cfg, &h, NULL));
    if (h == NULL) return;

    EXPECT_STATUS(rsl_bulkhead_try_enter_at(NULL, 0, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_try_enter(NULL, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_try_enter_at(h, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_permit");
    EXPECT_STATUS(rsl_bulkhead_try_enter(h, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_permit");
    EXPECT_STATUS(rsl_bulkhead_enqueue_at(NULL, 0, &en, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_enqueue(NULL, &en, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_enqueue_at(h, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_bulkhead_enqueue(h, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_bulkhead_enter_wait(NULL, 0, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_enter_wait(h, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_permit");
    EXPECT(bulkhead_in_use(h) == 0, "a call failing on a NULL out pointer enters nothing");
    EXPECT_STATUS(rsl_bulkhead_enter_wait(h, -1, &p, NULL), RSL_ERR_INVALID_ARGUMENT, "timeout_ns");
    EXPECT(bulkhead_in_use(h) == 0, "a negative timeout enters nothing");

    EXPECT_OK(rsl_bulkhead_try_enter_at(h, 10, &p, NULL));
    EXPECT(p != 0, "entered");
    /* Full: a result, with permit 0. */
    q = UINT64_C(0xabababababababab);
    EXPECT_OK(rsl_bulkhead_try_enter_at(h, 11, &q, NULL));
    EXPECT(q == 0, "full writes permit 0");
    q = UINT64_C(0xabababababababab);
    EXPECT_OK(rsl_bulkhead_enter_wait(h, 0, &q, NULL));
    EXPECT(q == 0, "enter_wait(0) on a full bulkhead returns 0 at once");

    /* The queue through the ABI: two tickets, a hand-over, a too-late cancel. */
    EXPECT_OK(rsl_bulkhead_enqueue_at(h, 12, &en, NULL));
    EXPECT(en.outcome == RSL_BULKHEAD_QUEUED && en.position == 1 && en.waiter != 0 && en.permit == 0,
           "queued at 1");
    EXPECT_OK(rsl_bulkhead_enqueue(h, &en2, NULL));
    EXPECT(en2.outcome == RSL_BULKHEAD_QUEUED && en2.position == 2 && en2.waiter != en.waiter,
           "queued at 2");
    memset(&en3, 0xab, sizeof en3);
    EXPECT_OK(rsl_bulkhead_enqueue_at(h, 12, &en3, NULL));
    EXPECT(en3.outcome == RSL_BULKHEAD_FULL && en3.permit == 0 && en3.waiter == 0 && en3.position == 0,
           "a third waiter: full");

    EXPECT_STATUS(rsl_bulkhead_exit_at(NULL, 0, p, &x, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_exit(NULL, p, &x, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_exit_at(h, 0, p, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_bulkhead_exit(h, p, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT(bulkhead_in_use(h) == 1, "an exit with a NULL out releases nothing");
    memset(&xg, 0xab, sizeof xg);
    x = xg;
    EXPECT_STATUS(rsl_bulkhead_exit_at(h, 0, p + 1, &x, NULL), RSL_ERR_INVALID_ARGUMENT, "permit");
    EXPECT_STATUS(rsl_bulkhead_exit_at(h, 0, 0, &x, NULL), RSL_ERR_INVALID_ARGUMENT, "permit");
    EXPECT_STATUS(rsl_bulkhead_exit_at(h, 0, en.waiter, &x, NULL), RSL_ERR_INVALID_ARGUMENT, "permit");
    EXPECT(memcmp(&x, &xg, sizeof x) == 0, "refused exits leave *out untouched");
    EXPECT(bulkhead_in_use(h) == 1, "refused exits release nothing");
    EXPECT_OK(rsl_bulkhead_exit_at(h, 25, p, &x, NULL));
    EXPECT(x.held_ns == 15 && x.handed_to == RSL_BULKHEAD_HANDED_WAITER && x.waiter == en.waiter &&
               x.permit != 0 && x.reserved0 == 0,
           "handed to the first ticket: held %lld, to %u", (long long)x.held_ns, (unsigned)x.handed_to);
    EXPECT_STATUS(rsl_bulkhead_exit_at(h, 26, p, &x, NULL), RSL_ERR_INVALID_ARGUMENT, "permit");
    EXPECT(bulkhead_in_use(h) == 1, "a double exit releases nothing");

    EXPECT_STATUS(rsl_bulkhead_cancel_wait(NULL, en2.waiter, &c, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_cancel_wait(h, en2.waiter, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    memset(&cg, 0xab, sizeof cg);
    c = cg;
    EXPECT_STATUS(rsl_bulkhead_cancel_wait(h, en2.waiter ^ 1, &c, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "waiter");
    EXPECT_STATUS(rsl_bulkhead_cancel_wait(h, 0, &c, NULL), RSL_ERR_INVALID_ARGUMENT, "waiter");
    EXPECT_STATUS(rsl_bulkhead_cancel_wait(h, x.permit, &c, NULL), RSL_ERR_INVALID_ARGUMENT, "waiter");
    EXPECT(memcmp(&c, &cg, sizeof c) == 0, "refused cancels leave *out untouched");
    EXPECT_OK(rsl_bulkhead_cancel_wait(h, en2.waiter, &c, NULL));
    EXPECT(c.cancelled == 1 && c.permit == 0, "the second ticket left the queue");
    EXPECT_OK(rsl_bulkhead_cancel_wait(h, en.waiter, &c, NULL));
    EXPECT(c.cancelled == 0 && c.permit == x.permit, "the first ticket's cancel is too late");
    EXPECT_STATUS(rsl_bulkhead_cancel_wait(h, en.waiter, &c, NULL), RSL_ERR_INVALID_ARGUMENT, "waiter");
    EXPECT_OK(rsl_bulkhead_exit(h, c.permit, &x, NULL));
    EXPECT(x.handed_to == RSL_BULKHEAD_HANDED_NONE && x.waiter == 0 && x.permit == 0,
           "nobody left to hand to");

    /* The plain twins read the library clock. */
    EXPECT_OK(rsl_bulkhead_try_enter(h, &p, NULL));
    EXPECT(p != 0, "try_enter entered");
    EXPECT_OK(rsl_bulkhead_exit(h, p, &x, NULL));
    EXPECT_OK(rsl_bulkhead_enqueue(h, &en, NULL));
    EXPECT(en.outcome == RSL_BULKHEAD_ENTERED && en.permit != 0 && en.position == 0, "enqueue entered");
    EXPECT_OK(rsl_bulkhead_exit(h, en.permit, &x, NULL));
    EXPECT_OK(rsl_bulkhead_enter_wait(h, 1000, &p, NULL));
    EXPECT(p != 0, "enter_wait with a free slot entered");
    EXPECT_OK(rsl_bulkhead_exit(h, p, &x, NULL));
    EXPECT(x.held_ns >= 0, "held_ns never negative");

    EXPECT_STATUS(rsl_bulkhead_get_metrics_at(NULL, 0, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_get_metrics(NULL, &m, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_bulkhead_get_metrics_at(h, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_bulkhead_get_metrics(h, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    memset(&m, 0, sizeof m);
    EXPECT_STATUS(rsl_bulkhead_get_metrics_at(h, 0, &m, NULL), RSL_ERR_CONFIG_SIZE, "out.struct_size");
    m.struct_size = sizeof m - 1;
    EXPECT_STATUS(rsl_bulkhead_get_metrics_at(h, 0, &m, NULL), RSL_ERR_CONFIG_SIZE, "out.struct_size");
    m.struct_size = sizeof m;
    EXPECT_OK(rsl_bulkhead_get_metrics(h, &m, NULL));
    EXPECT(m.struct_size == sizeof m && m.max_concurrent == 1 && m.in_use == 0 &&
               m.entered_total == 5 && m.exited_total == 5 && m.rejected_total == 3 &&
               m.queued_total == 2 && m.handed_over_total == 1 && m.cancelled_total == 1 &&
               m.waiting == 0 && m.reserved0 == 0,
           "metrics: entered %llu exited %llu rejected %llu", (unsigned long long)m.entered_total,
           (unsigned long long)m.exited_total, (unsigned long long)m.rejected_total);
    rsl_bulkhead_free(h);

    /* There is no unfair queue: fair 0 is valid only without one. */
    EXPECT_OK(rsl_bulkhead_config_init(&cfg, NULL));
    cfg.fair = 0;
    cfg.max_waiters = 1;
    out = BULKHEAD_SENTINEL;
    EXPECT_STATUS(rsl_bulkhead_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG, "fair");
    EXPECT(out == BULKHEAD_SENTINEL, "*out untouched (fair 0 with a queue)");

    /* Invalid configs: one per rule; valid boundaries build. */
    {
        static const struct {
            size_t offset;
            int wide;
            int64_t value;
            const char *field;
        } bad[] = {
            {offsetof(rsl_bulkhead_config, max_concurrent), 0, 0, "max_concurrent"},
            {offsetof(rsl_bulkhead_config, max_concurrent), 0, 65537, "max_concurrent"},
            {offsetof(rsl_bulkhead_config, fair), 0, 2, "fair"},
            {offsetof(rsl_bulkhead_config, max_waiters), 0, 65537, "max_waiters"},
            {offsetof(rsl_bulkhead_config, max_hold_ns), 1, -1, "max_hold_ns"},
            {offsetof(rsl_bulkhead_config, max_hold_ns), 1, INT64_MIN, "max_hold_ns"},
        };
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            out = BULKHEAD_SENTINEL;
            EXPECT_OK(rsl_bulkhead_config_init(&cfg, NULL));
            if (bad[i].wide) {
                memcpy((unsigned char *)&cfg + bad[i].offset, &bad[i].value, sizeof(int64_t));
            } else {
                uint32_t v = (uint32_t)bad[i].value;
                memcpy((unsigned char *)&cfg + bad[i].offset, &v, sizeof v);
            }
            EXPECT_STATUS(rsl_bulkhead_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG, bad[i].field);
            EXPECT(out == BULKHEAD_SENTINEL, "*out untouched (bulkhead case %zu)", i);
        }
        EXPECT_OK(rsl_bulkhead_config_init(&cfg, NULL));
        cfg.max_concurrent = 65536;
        cfg.max_waiters = 65536;
        cfg.max_hold_ns = INT64_MAX;
        out = NULL;
        EXPECT_OK(rsl_bulkhead_new(&cfg, &out, NULL));
        rsl_bulkhead_free(out);
        cfg.fair = 0;
        cfg.max_waiters = 0;
        out = NULL;
        EXPECT_OK(rsl_bulkhead_new(&cfg, &out, NULL));
        rsl_bulkhead_free(out);
    }

    /* struct_size: too small, absurd, larger with an unknown field. */
    {
        const uint32_t sizes[] = {0, 4, (uint32_t)sizeof(rsl_bulkhead_config) - 1, 5000,
                                  UINT32_MAX};
        union {
            rsl_bulkhead_config cfg;
            unsigned char bytes[sizeof(rsl_bulkhead_config) + 8];
        } big;
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            out = BULKHEAD_SENTINEL;
            EXPECT_OK(rsl_bulkhead_config_init(&cfg, NULL));
            cfg.struct_size = sizes[i];
            EXPECT_STATUS(rsl_bulkhead_new(&cfg, &out, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
            EXPECT(out == BULKHEAD_SENTINEL, "*out untouched (struct_size %u)", (unsigned)sizes[i]);
        }
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_bulkhead_config_init(&big.cfg, NULL));
        big.cfg.struct_size = (uint32_t)sizeof big;
        big.bytes[sizeof(rsl_bulkhead_config) + 3] = 1;
        out = BULKHEAD_SENTINEL;
        EXPECT_STATUS(rsl_bulkhead_new(&big.cfg, &out, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(out == BULKHEAD_SENTINEL, "*out untouched (unsupported bulkhead tail)");
        big.bytes[sizeof(rsl_bulkhead_config) + 3] = 0;
        out = NULL;
        EXPECT_OK(rsl_bulkhead_new(&big.cfg, &out, NULL));
        rsl_bulkhead_free(out);
    }

    /* Defaults and presets (docs/semantics.md, "Bulkhead"). */
    {
        rsl_bulkhead_config preset;
        EXPECT_OK(rsl_bulkhead_config_init(&cfg, NULL));
        EXPECT(cfg.struct_size == sizeof cfg && cfg.max_concurrent == 10 && cfg.fair == 1 &&
                   cfg.max_waiters == 0 && cfg.max_hold_ns == 0,
               "bulkhead defaults");
        EXPECT_OK(rsl_bulkhead_config_preset(&preset, RSL_BULKHEAD_PRESET_DEFAULT, NULL));
        EXPECT(memcmp(&preset, &cfg, sizeof cfg) == 0, "config_init == preset DEFAULT");
        EXPECT_OK(rsl_bulkhead_config_preset(&preset, RSL_BULKHEAD_PRESET_RESILIENCE4J, NULL));
        EXPECT(preset.max_concurrent == 25 && preset.fair == 1 && preset.max_waiters == 0,
               "Resilience4j preset");
        EXPECT_OK(rsl_bulkhead_config_preset(&preset, RSL_BULKHEAD_PRESET_HYSTRIX, NULL));
        EXPECT(preset.max_concurrent == 10 && preset.fair == 0, "hystrix preset");
        EXPECT_OK(rsl_bulkhead_config_preset(&preset, RSL_BULKHEAD_PRESET_FAILSAFE_GO, NULL));
        EXPECT(preset.max_concurrent == 10 && preset.max_waiters == 0, "failsafe-go preset");
        EXPECT_OK(rsl_bulkhead_config_preset(&preset, RSL_BULKHEAD_PRESET_POLLY_V8, NULL));
        EXPECT(preset.max_concurrent == 1000 && preset.max_waiters == 0, "Polly preset");
    }
}

/* ------------------------------------------------------------------------ */
/* Deadlines                                                                */
/* ------------------------------------------------------------------------ */

static void test_deadline_abi(void) {
    int64_t d = 12345, t = 12345;
    char buf[RSL_DEADLINE_TEXT_BUF_LEN];
    size_t len = 0, i;
    rsl_deadline_decoded dec;
    rsl_deadline_policy_config cfg, before;
    rsl_deadline_policy *p = NULL, *out = POLICY_SENTINEL;
    rsl_deadline_call_plan plan;

    /* The pure functions. */
    EXPECT_STATUS(rsl_deadline_from_timeout_at(0, 5, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out_deadline_ns");
    EXPECT_STATUS(rsl_deadline_from_timeout(5, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_deadline_ns");
    EXPECT_STATUS(rsl_deadline_from_timeout_at(0, -1, &d, NULL), RSL_ERR_INVALID_ARGUMENT, "timeout_ns");
    EXPECT(d == 12345, "a failed from_timeout leaves its out untouched");
    EXPECT_OK(rsl_deadline_from_timeout_at(100, 50, &d, NULL));
    EXPECT(d == 150, "from_timeout_at: %lld", (long long)d);
    EXPECT_OK(rsl_deadline_from_timeout(INT64_MAX, &d, NULL));
    EXPECT(d == RSL_DEADLINE_NONE, "a timeout past INT64_MAX is no deadline");
    EXPECT(rsl_deadline_remaining(RSL_DEADLINE_NONE) == RSL_DEADLINE_NONE, "NONE remaining");
    EXPECT(rsl_deadline_expired(RSL_DEADLINE_NONE) == 0, "NONE never expires");
    EXPECT(rsl_deadline_expired(INT64_MIN) == 1, "INT64_MIN has expired");
    EXPECT(rsl_deadline_remaining_at(INT64_MIN, 1) == INT64_MIN, "remaining saturates");
    EXPECT(rsl_deadline_expired_at(10, 10) == 1 && rsl_deadline_expired_at(10, 9) == 0,
           "deadlines are inclusive");
    EXPECT_STATUS(rsl_deadline_shrink(10, 5, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out_timeout_ns");
    EXPECT_STATUS(rsl_deadline_shrink(10, 0, &t, NULL), RSL_ERR_INVALID_ARGUMENT, "per_call_timeout_ns");
    EXPECT(t == 12345, "a failed shrink leaves its out untouched");
    EXPECT_OK(rsl_deadline_shrink(10, 5, &t, NULL));
    EXPECT(t == 5, "shrink: %lld", (long long)t);

    /* grpc-timeout and milliseconds. */
    EXPECT_STATUS(rsl_deadline_grpc_timeout_encode(SEC, NULL, sizeof buf, &len, NULL),
                  RSL_ERR_NULL_ARGUMENT, "buf");
    EXPECT_STATUS(rsl_deadline_grpc_timeout_encode(0, buf, sizeof buf, &len, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "timeout_ns");
    EXPECT_STATUS(rsl_deadline_grpc_timeout_encode(SEC, buf, 2, &len, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "buf_len");
    EXPECT_STATUS(rsl_deadline_grpc_timeout_encode(SEC, buf, 0, &len, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "buf_len");
    EXPECT_OK(rsl_deadline_grpc_timeout_encode(SEC, buf, sizeof buf, NULL, NULL));
    EXPECT(strcmp(buf, "1S") == 0, "1 s is 1S, got %s", buf);
    EXPECT_OK(rsl_deadline_grpc_timeout_encode(INT64_MAX, buf, sizeof buf, &len, NULL));
    EXPECT(strcmp(buf, "2562048H") == 0 && len == 8, "INT64_MAX is 2562048H, got %s", buf);
    EXPECT_STATUS(rsl_deadline_grpc_timeout_decode("1S", 2, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_deadline_grpc_timeout_decode(NULL, 2, &dec, NULL), RSL_ERR_NULL_ARGUMENT, "value");
    EXPECT_STATUS(rsl_deadline_grpc_timeout_decode(NULL, 0, &dec, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "value");
    EXPECT_STATUS(rsl_deadline_grpc_timeout_decode("1s", 2, &dec, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "value");
    /* Only `len` bytes are read: "1S" inside a longer string. */
    EXPECT_OK(rsl_deadline_grpc_timeout_decode("1Sxyz", 2, &dec, NULL));
    EXPECT(dec.timeout_ns == SEC && dec.saturated == 0 && dec.reserved0 == 0, "1S decoded");
    EXPECT_OK(rsl_deadline_grpc_timeout_decode("99999999H", 9, &dec, NULL));
    EXPECT(dec.timeout_ns == INT64_MAX && dec.saturated == 1, "hours saturate, flagged");
    EXPECT_STATUS(rsl_deadline_http_timeout_encode(SEC, NULL, sizeof buf, &len, NULL),
                  RSL_ERR_NULL_ARGUMENT, "buf");
    EXPECT_STATUS(rsl_deadline_http_timeout_encode(-1, buf, sizeof buf, &len, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "timeout_ns");
    EXPECT_STATUS(rsl_deadline_http_timeout_encode(INT64_MAX, buf, 13, &len, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "buf_len");
    EXPECT_OK(rsl_deadline_http_timeout_encode(INT64_MAX, buf, 14, &len, NULL));
    EXPECT(strcmp(buf, "9223372036855") == 0 && len == 13, "INT64_MAX in ms, got %s", buf);
    EXPECT_STATUS(rsl_deadline_http_timeout_decode("15", 2, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_deadline_http_timeout_decode(NULL, 1, &dec, NULL), RSL_ERR_NULL_ARGUMENT, "value");
    EXPECT_STATUS(rsl_deadline_http_timeout_decode("1.5", 3, &dec, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "value");
    EXPECT_OK(rsl_deadline_http_timeout_decode("1500", 4, &dec, NULL));
    EXPECT(dec.timeout_ns == 1500 * 1000000LL && dec.saturated == 0, "1500 ms decoded");

    /* The policy handle. */
    rsl_deadline_policy_free(NULL);
    EXPECT_STATUS(rsl_deadline_policy_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_STATUS(rsl_deadline_policy_config_preset(NULL, RSL_DEADLINE_PRESET_POLLY_V8, NULL),
                  RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_deadline_policy_config_init(&cfg, NULL));
    before = cfg;
    EXPECT_STATUS(rsl_deadline_policy_config_preset(&cfg, 99, NULL), RSL_ERR_INVALID_ARGUMENT, "preset");
    EXPECT(memcmp(&cfg, &before, sizeof cfg) == 0, "an unknown preset leaves cfg untouched");
    EXPECT(cfg.struct_size == sizeof cfg && cfg.default_timeout_ns == 100 * 1000000LL &&
               cfg.min_timeout_ns == 1000000 && cfg.max_timeout_ns == 10 * SEC &&
               cfg.min_budget_ns == 0 && cfg.reserved0 == 0,
           "deadline policy defaults");
    EXPECT_STATUS(rsl_deadline_policy_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_deadline_policy_new(NULL, &p, NULL));
    EXPECT(p != NULL, "rsl_deadline_policy_new(NULL, NULL) set *out");
    if (p == NULL) return;
    EXPECT_STATUS(rsl_deadline_policy_call_at(NULL, 0, RSL_DEADLINE_NONE, 0, &plan, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_deadline_policy_call(NULL, RSL_DEADLINE_NONE, 0, &plan, NULL),
                  RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_deadline_policy_call_at(p, 0, RSL_DEADLINE_NONE, 0, NULL, NULL),
                  RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_deadline_policy_call(p, RSL_DEADLINE_NONE, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "out");
    EXPECT_STATUS(rsl_deadline_policy_call_at(p, 0, RSL_DEADLINE_NONE, -1, &plan, NULL),
                  RSL_ERR_INVALID_ARGUMENT, "per_call_timeout_ns");
    EXPECT_OK(rsl_deadline_policy_call_at(p, 0, RSL_DEADLINE_NONE, 60 * SEC, &plan, NULL));
    EXPECT(plan.decision == RSL_DEADLINE_CALL_ABOVE_MAX && plan.timeout_ns == 0 &&
               plan.requested_timeout_ns == 60 * SEC,
           "60 s is refused, not clamped");
    EXPECT_OK(rsl_deadline_policy_call(p, RSL_DEADLINE_NONE, 0, &plan, NULL));
    EXPECT(plan.decision == RSL_DEADLINE_CALL_PROCEED && plan.timeout_ns == 100 * 1000000LL &&
               plan.limited_by == RSL_DEADLINE_LIMIT_CALL_TIMEOUT,
           "the default applies");
    rsl_deadline_policy_free(p);

    /* Invalid configs: one per rule. */
    {
        static const struct {
            size_t offset;
            int wide;
            int64_t value;
            const char *field;
        } bad[] = {
            {offsetof(rsl_deadline_policy_config, default_timeout_ns), 1, 0, "default_timeout_ns"},
            {offsetof(rsl_deadline_policy_config, default_timeout_ns), 1, -1, "default_timeout_ns"},
            {offsetof(rsl_deadline_policy_config, min_timeout_ns), 1, -1, "min_timeout_ns"},
            {offsetof(rsl_deadline_policy_config, max_timeout_ns), 1, -1, "max_timeout_ns"},
            /* max below the 1 ms floor */
            {offsetof(rsl_deadline_policy_config, max_timeout_ns), 1, 999999, "max_timeout_ns"},
            /* default (100 ms) above the ceiling */
            {offsetof(rsl_deadline_policy_config, max_timeout_ns), 1, 50000000, "default_timeout_ns"},
            /* default (100 ms) below the floor */
            {offsetof(rsl_deadline_policy_config, min_timeout_ns), 1, 200000000, "default_timeout_ns"},
            {offsetof(rsl_deadline_policy_config, min_budget_ns), 1, -1, "min_budget_ns"},
            {offsetof(rsl_deadline_policy_config, reserved0), 0, 1, "reserved0"},
        };
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            out = POLICY_SENTINEL;
            EXPECT_OK(rsl_deadline_policy_config_init(&cfg, NULL));
            if (bad[i].wide) {
                memcpy((unsigned char *)&cfg + bad[i].offset, &bad[i].value, sizeof(int64_t));
            } else {
                uint32_t v = (uint32_t)bad[i].value;
                memcpy((unsigned char *)&cfg + bad[i].offset, &v, sizeof v);
            }
            EXPECT_STATUS(rsl_deadline_policy_new(&cfg, &out, NULL), RSL_ERR_INVALID_CONFIG,
                          bad[i].field);
            EXPECT(out == POLICY_SENTINEL, "*out untouched (policy case %zu)", i);
        }
    }
    {
        const uint32_t sizes[] = {0, 4, (uint32_t)sizeof(rsl_deadline_policy_config) - 1, 5000,
                                  UINT32_MAX};
        union {
            rsl_deadline_policy_config cfg;
            unsigned char bytes[sizeof(rsl_deadline_policy_config) + 8];
        } big;
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            out = POLICY_SENTINEL;
            EXPECT_OK(rsl_deadline_policy_config_init(&cfg, NULL));
            cfg.struct_size = sizes[i];
            EXPECT_STATUS(rsl_deadline_policy_new(&cfg, &out, NULL), RSL_ERR_CONFIG_SIZE,
                          "cfg.struct_size");
            EXPECT(out == POLICY_SENTINEL, "*out untouched (struct_size %u)", (unsigned)sizes[i]);
        }
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_deadline_policy_config_init(&big.cfg, NULL));
        big.cfg.struct_size = (uint32_t)sizeof big;
        big.bytes[sizeof(rsl_deadline_policy_config)] = 1;
        out = POLICY_SENTINEL;
        EXPECT_STATUS(rsl_deadline_policy_new(&big.cfg, &out, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(out == POLICY_SENTINEL, "*out untouched (unsupported policy tail)");
    }
    {
        rsl_deadline_policy_config preset;
        EXPECT_OK(rsl_deadline_policy_config_preset(&preset, RSL_DEADLINE_PRESET_DEFAULT, NULL));
        EXPECT_OK(rsl_deadline_policy_config_init(&cfg, NULL));
        EXPECT(memcmp(&preset, &cfg, sizeof cfg) == 0, "config_init == preset DEFAULT");
        EXPECT_OK(rsl_deadline_policy_config_preset(&preset, RSL_DEADLINE_PRESET_POLLY_V8, NULL));
        EXPECT(preset.default_timeout_ns == 30 * SEC && preset.min_timeout_ns == 10000000 &&
                   preset.max_timeout_ns == 86400 * SEC,
               "Polly preset");
        EXPECT_OK(rsl_deadline_policy_config_preset(&preset, RSL_DEADLINE_PRESET_RESILIENCE4J, NULL));
        EXPECT(preset.default_timeout_ns == SEC && preset.max_timeout_ns == 0, "R4j preset");
        EXPECT_OK(rsl_deadline_policy_config_preset(&preset, RSL_DEADLINE_PRESET_HYSTRIX, NULL));
        EXPECT(preset.default_timeout_ns == SEC, "hystrix preset");
    }
}

/* ------------------------------------------------------------------------ */
/* Token bucket and leaky bucket                                            */
/* ------------------------------------------------------------------------ */

#define TOKEN_SENTINEL ((rsl_token_bucket *)(uintptr_t)0x5e1f)
#define LEAKY_SENTINEL ((rsl_leaky_bucket *)(uintptr_t)0x5e1f)

static void test_token_bucket(void) {
    rsl_token_bucket_config cfg;
    rsl_token_bucket *b = NULL, *other = NULL, *out = TOKEN_SENTINEL;
    rsl_token_bucket_reservation r, r2;
    uint32_t allowed = 7;
    double d = -1.0;
    int64_t i = -1;
    const uint32_t bad_sizes[] = {0, 4, 5000, UINT32_MAX};
    size_t k;

    memset(&r, 0, sizeof r);
    /* Config init and defaults (x/time/rate's zero Limiter). */
    EXPECT_STATUS(rsl_token_bucket_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_token_bucket_config_init(&cfg, NULL));
    EXPECT(cfg.struct_size == sizeof cfg && cfg.rate_per_sec == 0.0 && cfg.burst == 0 &&
               cfg.reserved0 == 0,
           "token bucket defaults");
    EXPECT(RSL_TOKEN_BUCKET_INF == 1.7976931348623157e308, "RSL_TOKEN_BUCKET_INF is DBL_MAX");
    EXPECT(RSL_TOKEN_BUCKET_INF_DURATION == INT64_MAX, "RSL_TOKEN_BUCKET_INF_DURATION");

    /* NULL out; NULL config = defaults. */
    EXPECT_STATUS(rsl_token_bucket_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_token_bucket_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != TOKEN_SENTINEL, "rsl_token_bucket_new(NULL cfg, NULL) set *out");
    if (out != NULL && out != TOKEN_SENTINEL) {
        EXPECT_OK(rsl_token_bucket_allow_at(out, 0, 1, &allowed, NULL));
        EXPECT(allowed == 0, "the zero Limiter refuses");
        rsl_token_bucket_free(out);
    }
    rsl_token_bucket_free(NULL);

    cfg.rate_per_sec = 10.0;
    cfg.burst = 2;
    EXPECT_OK(rsl_token_bucket_new(&cfg, &b, NULL));
    EXPECT_OK(rsl_token_bucket_new(&cfg, &other, NULL));
    if (b == NULL || other == NULL) return;

    /* NULL handle and out-parameters, for both twins. */
    EXPECT_STATUS(rsl_token_bucket_allow_at(NULL, 0, 1, &allowed, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_allow(NULL, 1, &allowed, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_allow_at(b, 0, 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "allowed");
    EXPECT_STATUS(rsl_token_bucket_allow(b, 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "allowed");
    EXPECT_STATUS(rsl_token_bucket_reserve_at(NULL, 0, 1, 0, &r, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_reserve(NULL, 1, 0, &r, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_reserve_at(b, 0, 1, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_token_bucket_reserve(b, 1, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_token_bucket_cancel_at(NULL, 0, &r, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_cancel(NULL, &r, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_cancel_at(b, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "reservation");
    EXPECT_STATUS(rsl_token_bucket_cancel(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "reservation");
    EXPECT_STATUS(rsl_token_bucket_tokens_at(NULL, 0, &d, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_tokens(NULL, &d, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_tokens_at(b, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "tokens");
    EXPECT_STATUS(rsl_token_bucket_tokens(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "tokens");
    EXPECT_STATUS(rsl_token_bucket_set_limit_at(NULL, 0, 1.0, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_set_limit(NULL, 1.0, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_set_burst_at(NULL, 0, 1, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_set_burst(NULL, 1, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_get_limit(NULL, &d, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_get_limit(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "limit");
    EXPECT_STATUS(rsl_token_bucket_get_burst(NULL, &i, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_token_bucket_get_burst(b, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "burst");
    EXPECT_STATUS(rsl_token_bucket_reservation_delay_at(NULL, 0, &i, NULL), RSL_ERR_NULL_ARGUMENT,
                  "reservation");
    EXPECT_STATUS(rsl_token_bucket_reservation_delay(NULL, &i, NULL), RSL_ERR_NULL_ARGUMENT,
                  "reservation");
    EXPECT_STATUS(rsl_token_bucket_reservation_delay_at(&r, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "wait_ns");
    EXPECT_STATUS(rsl_token_bucket_reservation_delay(&r, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "wait_ns");

    /* Invalid arguments change nothing. */
    EXPECT_STATUS(rsl_token_bucket_allow_at(b, 0, -1, &allowed, NULL), RSL_ERR_INVALID_ARGUMENT, "n");
    EXPECT_STATUS(rsl_token_bucket_allow(b, -1, &allowed, NULL), RSL_ERR_INVALID_ARGUMENT, "n");
    EXPECT_STATUS(rsl_token_bucket_reserve_at(b, 0, -1, 0, &r, NULL), RSL_ERR_INVALID_ARGUMENT, "n");
    EXPECT_STATUS(rsl_token_bucket_reserve(b, -1, 0, &r, NULL), RSL_ERR_INVALID_ARGUMENT, "n");
    EXPECT_STATUS(rsl_token_bucket_set_limit_at(b, 0, NAN, NULL), RSL_ERR_INVALID_ARGUMENT, "limit");
    EXPECT_STATUS(rsl_token_bucket_set_limit_at(b, 0, HUGE_VAL, NULL), RSL_ERR_INVALID_ARGUMENT, "limit");
    EXPECT_STATUS(rsl_token_bucket_set_limit_at(b, 0, -1.0, NULL), RSL_ERR_INVALID_ARGUMENT, "limit");
    EXPECT_STATUS(rsl_token_bucket_set_limit(b, -HUGE_VAL, NULL), RSL_ERR_INVALID_ARGUMENT, "limit");
    EXPECT_STATUS(rsl_token_bucket_set_burst_at(b, 0, -1, NULL), RSL_ERR_INVALID_ARGUMENT, "burst");
    EXPECT_STATUS(rsl_token_bucket_set_burst(b, -1, NULL), RSL_ERR_INVALID_ARGUMENT, "burst");
    EXPECT_OK(rsl_token_bucket_get_limit(b, &d, NULL));
    EXPECT_OK(rsl_token_bucket_get_burst(b, &i, NULL));
    EXPECT(d == 10.0 && i == 2, "settings unchanged by bad arguments");

    /* More than the burst: allow decides, reserve cannot ever succeed. */
    EXPECT_OK(rsl_token_bucket_allow_at(b, 0, 3, &allowed, NULL));
    EXPECT(allowed == 0, "allow(3) above burst 2 is a refusal");
    memset(&r, 0x5a, sizeof r);
    EXPECT_STATUS(rsl_token_bucket_reserve_at(b, 0, 3, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL),
                  RSL_ERR_EXCEEDS_CAPACITY, "n");
    EXPECT(r.ok == 0 && r.wait_ns == RSL_TOKEN_BUCKET_INF_DURATION && r.tokens == 0,
           "EXCEEDS_CAPACITY writes a not-OK reservation");
    EXPECT_OK(rsl_token_bucket_cancel_at(b, 0, &r, NULL)); /* not OK: a no-op */
    EXPECT_STATUS(rsl_token_bucket_reserve(b, 3, 0, &r, NULL), RSL_ERR_EXCEEDS_CAPACITY, "n");

    /* Reservations: foreign, corrupt, double cancel. */
    EXPECT_OK(rsl_token_bucket_reserve_at(b, 0, 1, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL));
    EXPECT(r.ok == 1 && r.cancelled == 0 && r.time_to_act_ns == 0 && r.wait_ns == 0 &&
               r.tokens == 1 && r.limit == 10.0,
           "reserve 1 of 2 acts now");
    EXPECT_STATUS(rsl_token_bucket_cancel_at(other, 0, &r, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "reservation");
    r2 = r;
    r2.limit = NAN;
    EXPECT_STATUS(rsl_token_bucket_cancel_at(b, 0, &r2, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "reservation.limit");
    r2 = r;
    r2.tokens = -1;
    EXPECT_STATUS(rsl_token_bucket_cancel_at(b, 0, &r2, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "reservation.tokens");
    EXPECT(r.cancelled == 0, "failed cancels leave the reservation alone");
    EXPECT_OK(rsl_token_bucket_cancel_at(b, 0, &r, NULL));
    EXPECT(r.cancelled == 1, "cancel marks the reservation");
    EXPECT_OK(rsl_token_bucket_tokens_at(b, 0, &d, NULL));
    EXPECT(d == 2.0, "the token is back: %.17g", d);
    EXPECT_OK(rsl_token_bucket_cancel_at(b, 0, &r, NULL));
    EXPECT_OK(rsl_token_bucket_tokens_at(b, 0, &d, NULL));
    EXPECT(d == 2.0, "a second cancel gives nothing: %.17g", d);
    EXPECT_OK(rsl_token_bucket_reservation_delay_at(&r, -5, &i, NULL));
    EXPECT(i == 5, "DelayFrom(-5) = 5: %lld", (long long)i);
    EXPECT_OK(rsl_token_bucket_reservation_delay(&r, &i, NULL));
    EXPECT(i == 0, "DelayFrom(now) of a past reservation is 0");

    /* The plain twins work on the library clock. */
    EXPECT_OK(rsl_token_bucket_allow(b, 0, &allowed, NULL));
    EXPECT_OK(rsl_token_bucket_reserve(b, 1, RSL_TOKEN_BUCKET_INF_DURATION, &r, NULL));
    EXPECT_OK(rsl_token_bucket_cancel(b, &r, NULL));
    EXPECT_OK(rsl_token_bucket_tokens(b, &d, NULL));
    EXPECT_OK(rsl_token_bucket_set_limit(b, RSL_TOKEN_BUCKET_INF, NULL));
    EXPECT_OK(rsl_token_bucket_set_burst(b, 0, NULL));
    EXPECT_OK(rsl_token_bucket_reserve(b, 5, 0, &r, NULL));
    EXPECT(r.ok == 1 && r.limit == 0.0, "Inf grants beyond the burst, limit recorded as 0");
    EXPECT(rsl_token_bucket_every(0) == RSL_TOKEN_BUCKET_INF && rsl_token_bucket_every(SEC) == 1.0,
           "rsl_token_bucket_every");
    rsl_token_bucket_free(b);
    rsl_token_bucket_free(other);

    /* Every invalid config field, named; *out untouched. */
#define BAD_TOKEN(stmt, field)                                                 \
    do {                                                                       \
        rsl_token_bucket *o = TOKEN_SENTINEL;                                  \
        EXPECT_OK(rsl_token_bucket_config_init(&cfg, NULL));                         \
        stmt;                                                                  \
        EXPECT_STATUS(rsl_token_bucket_new(&cfg, &o, NULL), RSL_ERR_INVALID_CONFIG, field); \
        EXPECT(o == TOKEN_SENTINEL, "*out untouched (%s)", field);             \
    } while (0)
    BAD_TOKEN(cfg.rate_per_sec = NAN, "rate_per_sec");
    BAD_TOKEN(cfg.rate_per_sec = HUGE_VAL, "rate_per_sec");
    BAD_TOKEN(cfg.rate_per_sec = -HUGE_VAL, "rate_per_sec");
    BAD_TOKEN(cfg.rate_per_sec = -0.5, "rate_per_sec");
    BAD_TOKEN(cfg.burst = -1, "burst");
    BAD_TOKEN(cfg.reserved0 = 1, "reserved0");
#undef BAD_TOKEN

    /* Struct sizes. */
    for (k = 0; k < sizeof bad_sizes / sizeof bad_sizes[0]; k++) {
        rsl_token_bucket *o = TOKEN_SENTINEL;
        EXPECT_OK(rsl_token_bucket_config_init(&cfg, NULL));
        cfg.struct_size = bad_sizes[k];
        EXPECT_STATUS(rsl_token_bucket_new(&cfg, &o, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT(o == TOKEN_SENTINEL, "*out untouched");
    }
    {
        union {
            rsl_token_bucket_config cfg;
            unsigned char bytes[sizeof(rsl_token_bucket_config) + 8];
        } big;
        rsl_token_bucket *o = TOKEN_SENTINEL;
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_token_bucket_config_init(&big.cfg, NULL));
        big.cfg.struct_size = sizeof big;
        EXPECT_OK(rsl_token_bucket_new(&big.cfg, &o, NULL));
        rsl_token_bucket_free(o);
        o = TOKEN_SENTINEL;
        big.bytes[sizeof(rsl_token_bucket_config) + 2] = 1;
        EXPECT_STATUS(rsl_token_bucket_new(&big.cfg, &o, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(o == TOKEN_SENTINEL, "*out untouched");
    }
}

static void test_leaky_bucket(void) {
    rsl_leaky_bucket_config cfg;
    rsl_leaky_bucket *pacer = NULL, *meter = NULL, *out = LEAKY_SENTINEL;
    rsl_leaky_bucket_permit p;
    rsl_leaky_bucket_verdict v;
    int64_t i = -1;
    const uint32_t bad_sizes[] = {0, 4, 5000, UINT32_MAX};
    size_t k;

    EXPECT_STATUS(rsl_leaky_bucket_config_init(NULL, NULL), RSL_ERR_NULL_ARGUMENT, "cfg");
    EXPECT_OK(rsl_leaky_bucket_config_init(&cfg, NULL));
    EXPECT(cfg.struct_size == sizeof cfg && cfg.mode == RSL_LEAKY_BUCKET_PACER && cfg.rate == 100 &&
               cfg.per_ns == SEC && cfg.slack == 10 && cfg.burst == 1 && cfg.reserved0 == 0,
           "leaky bucket defaults (uber's New(100))");
    EXPECT_STATUS(rsl_leaky_bucket_new(&cfg, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_OK(rsl_leaky_bucket_new(NULL, &out, NULL));
    EXPECT(out != NULL && out != LEAKY_SENTINEL, "rsl_leaky_bucket_new(NULL cfg, NULL) set *out");
    if (out != NULL && out != LEAKY_SENTINEL) rsl_leaky_bucket_free(out);
    rsl_leaky_bucket_free(NULL);

    cfg.rate = 10;
    cfg.slack = 0;
    EXPECT_OK(rsl_leaky_bucket_new(&cfg, &pacer, NULL));
    cfg.mode = RSL_LEAKY_BUCKET_METER;
    cfg.burst = 2;
    EXPECT_OK(rsl_leaky_bucket_new(&cfg, &meter, NULL));
    if (pacer == NULL || meter == NULL) return;

    EXPECT_STATUS(rsl_leaky_bucket_take_at(NULL, 0, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_take(NULL, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_take_at(pacer, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_leaky_bucket_take(pacer, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_leaky_bucket_try_take_at(NULL, 0, 0, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_try_take(NULL, 0, &p, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_try_take_at(pacer, 0, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_leaky_bucket_try_take(pacer, 0, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_leaky_bucket_check_at(NULL, 0, 1, &v, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_check(NULL, 1, &v, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_check_at(meter, 0, 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_leaky_bucket_check(meter, 1, NULL, NULL), RSL_ERR_NULL_ARGUMENT, "out");
    EXPECT_STATUS(rsl_leaky_bucket_get_interval(NULL, &i, NULL), RSL_ERR_NULL_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_get_interval(pacer, NULL, NULL), RSL_ERR_NULL_ARGUMENT,
                  "interval_ns");

    /* Wrong mode, n, capacity. */
    EXPECT_STATUS(rsl_leaky_bucket_check_at(pacer, 0, 1, &v, NULL), RSL_ERR_INVALID_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_check(pacer, 1, &v, NULL), RSL_ERR_INVALID_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_take_at(meter, 0, &p, NULL), RSL_ERR_INVALID_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_take(meter, &p, NULL), RSL_ERR_INVALID_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_try_take_at(meter, 0, 0, &p, NULL), RSL_ERR_INVALID_ARGUMENT,
                  "handle");
    EXPECT_STATUS(rsl_leaky_bucket_try_take(meter, 0, &p, NULL), RSL_ERR_INVALID_ARGUMENT, "handle");
    EXPECT_STATUS(rsl_leaky_bucket_check_at(meter, 0, 0, &v, NULL), RSL_ERR_INVALID_ARGUMENT, "n");
    EXPECT_STATUS(rsl_leaky_bucket_check_at(meter, 0, 3, &v, NULL), RSL_ERR_EXCEEDS_CAPACITY, "n");
    EXPECT_STATUS(rsl_leaky_bucket_check(meter, UINT32_MAX, &v, NULL), RSL_ERR_EXCEEDS_CAPACITY, "n");

    /* The decisions. */
    EXPECT_OK(rsl_leaky_bucket_get_interval(pacer, &i, NULL));
    EXPECT(i == 100000000, "interval 100 ms: %lld", (long long)i);
    EXPECT_OK(rsl_leaky_bucket_take_at(pacer, SEC, &p, NULL));
    EXPECT(p.taken == 1 && p.ready_at_ns == SEC && p.wait_ns == 0, "first take now");
    EXPECT_OK(rsl_leaky_bucket_try_take_at(pacer, SEC, 0, &p, NULL));
    EXPECT(p.taken == 0 && p.ready_at_ns == SEC + 100000000, "try_take refuses a wait");
    EXPECT_OK(rsl_leaky_bucket_take_at(pacer, SEC, &p, NULL));
    EXPECT(p.taken == 1 && p.wait_ns == 100000000, "second take waits 100 ms");
    EXPECT_OK(rsl_leaky_bucket_take(pacer, &p, NULL));
    EXPECT_OK(rsl_leaky_bucket_try_take(pacer, INT64_MAX, &p, NULL));
    EXPECT_OK(rsl_leaky_bucket_check_at(meter, 0, 2, &v, NULL));
    EXPECT(v.allowed == 1 && v.remaining == 0, "two cells conform at once");
    EXPECT_OK(rsl_leaky_bucket_check_at(meter, 0, 1, &v, NULL));
    EXPECT(v.allowed == 0 && v.retry_at_ns == 100000000 && v.wait_ns == 100000000,
           "third: not until 100 ms");
    EXPECT_OK(rsl_leaky_bucket_check(meter, 1, &v, NULL));
    rsl_leaky_bucket_free(pacer);
    rsl_leaky_bucket_free(meter);

#define BAD_LEAKY(stmt, field)                                                 \
    do {                                                                       \
        rsl_leaky_bucket *o = LEAKY_SENTINEL;                                  \
        EXPECT_OK(rsl_leaky_bucket_config_init(&cfg, NULL));                         \
        stmt;                                                                  \
        EXPECT_STATUS(rsl_leaky_bucket_new(&cfg, &o, NULL), RSL_ERR_INVALID_CONFIG, field); \
        EXPECT(o == LEAKY_SENTINEL, "*out untouched (%s)", field);             \
    } while (0)
    BAD_LEAKY(cfg.mode = 0, "mode");
    BAD_LEAKY(cfg.mode = 3, "mode");
    BAD_LEAKY(cfg.rate = 0, "rate");
    BAD_LEAKY(cfg.per_ns = 0, "per_ns");
    BAD_LEAKY(cfg.per_ns = -SEC, "per_ns");
    BAD_LEAKY((cfg.rate = 1000, cfg.per_ns = 999), "rate");
    BAD_LEAKY((cfg.rate = 1, cfg.per_ns = INT64_MAX, cfg.slack = 2), "slack");
    BAD_LEAKY((cfg.mode = RSL_LEAKY_BUCKET_METER, cfg.burst = 0), "burst");
    BAD_LEAKY((cfg.mode = RSL_LEAKY_BUCKET_METER, cfg.rate = 1, cfg.per_ns = INT64_MAX,
               cfg.burst = 3),
              "burst");
    BAD_LEAKY(cfg.reserved0 = 1, "reserved0");
#undef BAD_LEAKY
    {
        /* slack belongs to the pacer, burst to the meter: each is ignored by
         * the other mode. */
        rsl_leaky_bucket *o = NULL;
        EXPECT_OK(rsl_leaky_bucket_config_init(&cfg, NULL));
        cfg.burst = 0;
        EXPECT_OK(rsl_leaky_bucket_new(&cfg, &o, NULL));
        rsl_leaky_bucket_free(o);
        o = NULL;
        cfg.mode = RSL_LEAKY_BUCKET_METER;
        cfg.burst = 1;
        cfg.slack = UINT32_MAX;
        cfg.per_ns = INT64_MAX;
        cfg.rate = 1;
        EXPECT_OK(rsl_leaky_bucket_new(&cfg, &o, NULL));
        rsl_leaky_bucket_free(o);
    }

    for (k = 0; k < sizeof bad_sizes / sizeof bad_sizes[0]; k++) {
        rsl_leaky_bucket *o = LEAKY_SENTINEL;
        EXPECT_OK(rsl_leaky_bucket_config_init(&cfg, NULL));
        cfg.struct_size = bad_sizes[k];
        EXPECT_STATUS(rsl_leaky_bucket_new(&cfg, &o, NULL), RSL_ERR_CONFIG_SIZE, "cfg.struct_size");
        EXPECT(o == LEAKY_SENTINEL, "*out untouched");
    }
    {
        union {
            rsl_leaky_bucket_config cfg;
            unsigned char bytes[sizeof(rsl_leaky_bucket_config) + 8];
        } big;
        rsl_leaky_bucket *o = LEAKY_SENTINEL;
        memset(&big, 0, sizeof big);
        EXPECT_OK(rsl_leaky_bucket_config_init(&big.cfg, NULL));
        big.cfg.struct_size = sizeof big;
        EXPECT_OK(rsl_leaky_bucket_new(&big.cfg, &o, NULL));
        rsl_leaky_bucket_free(o);
        o = LEAKY_SENTINEL;
        big.bytes[sizeof(rsl_leaky_bucket_config) + 7] = 1;
        EXPECT_STATUS(rsl_leaky_bucket_new(&big.cfg, &o, NULL), RSL_ERR_CONFIG_UNSUPPORTED, "cfg");
        EXPECT(o == LEAKY_SENTINEL, "*out untouched");
    }
}

/* ------------------------------------------------------------------------ */
/* Configs as JSON: rsl_<x>_config_from_json, _config_to_json, _new_from_json */
/* ------------------------------------------------------------------------ */

/* A string literal and its length (embedded NULs included, no final NUL). */
#define S(lit) (lit), (sizeof(lit) - 1)

/* The call failed with `want`, and filled `*err` with it and `field`. */
static void expect_err(const char *file, int line, const char *expr, rsl_status got,
                       const rsl_error *err, rsl_status want, const char *field) {
    checks++;
    if (got != want || err->status != want || strcmp(err->field, field) != 0 ||
        !names_field(err->message, field)) {
        failures++;
        fprintf(stderr,
                "%s:%d: FAIL: %s returned %d, err {%d, \"%s\", \"%s\"}; expected %d naming %s\n",
                file, line, expr, (int)got, (int)err->status, err->field, err->message,
                (int)want, field);
    }
}
#define EXPECT_ERR(call, want, field)                                          \
    do {                                                                       \
        rsl_error err_;                                                        \
        memset(&err_, 0x55, sizeof err_);                                      \
        expect_err(__FILE__, __LINE__, #call, (call), &err_, (want), (field)); \
    } while (0)
/* Inside EXPECT_ERR's call, the rsl_error to pass. */
#define ERR (&err_)

/* Every preset of a primitive reads back from its JSON to the same bytes
 * (the config structs have no padding), and so does the JSON of a config
 * read from JSON. */
#define PRESET_ROUND_TRIPS(x, type, count)                                              \
    do {                                                                                \
        uint32_t p_;                                                                    \
        for (p_ = 0; p_ < (count); p_++) {                                              \
            type a_, b_;                                                                \
            char text_[RSL_CONFIG_JSON_BUF_LEN];                                        \
            size_t len_ = 0;                                                            \
            memset(&a_, 0, sizeof a_);                                                  \
            memset(&b_, 0xa5, sizeof b_);                                               \
            EXPECT_OK(rsl_##x##_config_preset(&a_, p_, NULL));                          \
            EXPECT_OK(rsl_##x##_config_to_json(&a_, text_, sizeof text_, &len_, NULL)); \
            EXPECT(len_ == strlen(text_), #x " preset %u: out_len %zu", p_, len_);       \
            b_.struct_size = (uint32_t)sizeof b_;                                       \
            EXPECT_OK(rsl_##x##_config_from_json(text_, len_, &b_, NULL));              \
            EXPECT(memcmp(&a_, &b_, sizeof a_) == 0, #x " preset %u: %s does not round-trip", \
                   p_, text_);                                                          \
        }                                                                               \
    } while (0)

/* The contract every primitive's three JSON functions share, for a
 * primitive `x` whose config has a field `key` (sample: a valid document
 * that sets it). */
#define JSON_CONTRACT(x, type, handle, sample, new_from_json_call)                       \
    do {                                                                                 \
        type c_, d_;                                                                     \
        handle *h_ = (handle *)(uintptr_t)0x5e1f;                                        \
        char buf_[RSL_CONFIG_JSON_BUF_LEN];                                              \
        char small_[8];                                                                  \
        size_t need_ = 0, len_ = 7;                                                      \
        const char *doc_ = (sample);                                                     \
        size_t n_ = strlen(doc_);                                                        \
        memset(&c_, 0, sizeof c_);                                                       \
        c_.struct_size = (uint32_t)sizeof c_;                                            \
        EXPECT_OK(rsl_##x##_config_from_json(doc_, n_, &c_, NULL));                      \
        /* NULL pointers, an unset struct_size: *out untouched. */                       \
        EXPECT_ERR(rsl_##x##_config_from_json(NULL, n_, &c_, ERR), RSL_ERR_NULL_ARGUMENT, \
                   "json");                                                              \
        EXPECT_ERR(rsl_##x##_config_from_json(NULL, 0, &c_, ERR), RSL_ERR_NULL_ARGUMENT,  \
                   "json");                                                              \
        EXPECT_ERR(rsl_##x##_config_from_json(doc_, n_, NULL, ERR), RSL_ERR_NULL_ARGUMENT, \
                   "out");                                                               \
        memset(&d_, 0, sizeof d_);                                                       \
        EXPECT_ERR(rsl_##x##_config_from_json(doc_, n_, &d_, ERR), RSL_ERR_CONFIG_SIZE,   \
                   "out.struct_size");                                                   \
        EXPECT(d_.struct_size == 0, #x ": out untouched without struct_size");           \
        /* The text: syntax, encoding, NUL, length. */                                    \
        d_ = c_;                                                                         \
        EXPECT_ERR(rsl_##x##_config_from_json(S("{\"a\": 1,}"), &d_, ERR),               \
                   RSL_ERR_INVALID_CONFIG, "json");                                      \
        EXPECT_ERR(rsl_##x##_config_from_json(S(""), &d_, ERR), RSL_ERR_INVALID_CONFIG,   \
                   "json");                                                              \
        EXPECT_ERR(rsl_##x##_config_from_json(S("[]"), &d_, ERR), RSL_ERR_INVALID_CONFIG, \
                   "json");                                                              \
        EXPECT_ERR(rsl_##x##_config_from_json(S("{\"\xff\": 1}"), &d_, ERR),             \
                   RSL_ERR_INVALID_CONFIG, "json");                                      \
        EXPECT_ERR(rsl_##x##_config_from_json(doc_, n_ + 1, &d_, ERR),                   \
                   RSL_ERR_INVALID_CONFIG, "json"); /* its NUL included */               \
        EXPECT_ERR(rsl_##x##_config_from_json(S("{\"bogus\": 1}"), &d_, ERR),           \
                   RSL_ERR_INVALID_CONFIG, "bogus");                                     \
        EXPECT_ERR(rsl_##x##_config_from_json(doc_, RSL_CONFIG_JSON_MAX_LEN + 1, &d_, ERR), \
                   RSL_ERR_INVALID_ARGUMENT, "json_len");                                \
        EXPECT_ERR(rsl_##x##_config_from_json(doc_, SIZE_MAX, &d_, ERR),                 \
                   RSL_ERR_INVALID_ARGUMENT, "json_len");                                \
        EXPECT(memcmp(&d_, &c_, sizeof c_) == 0, #x ": out untouched on every failure"); \
        /* to_json: snprintf-style. */                                                   \
        EXPECT_OK(rsl_##x##_config_to_json(&c_, buf_, sizeof buf_, &need_, NULL));       \
        EXPECT(need_ == strlen(buf_) && need_ > 2 && buf_[0] == '{', #x ": to_json %s", buf_); \
        EXPECT_OK(rsl_##x##_config_to_json(&c_, buf_, need_ + 1, NULL, NULL));           \
        EXPECT(strlen(buf_) == need_, #x ": exact fit");                                 \
        memset(small_, 'x', sizeof small_);                                              \
        EXPECT_ERR(rsl_##x##_config_to_json(&c_, small_, sizeof small_, &len_, ERR),     \
                   RSL_ERR_INVALID_ARGUMENT, "buf_len");                                 \
        EXPECT(len_ == need_, #x ": out_len %zu on a small buffer, want %zu", len_, need_); \
        EXPECT(memcmp(small_, "xxxxxxxx", sizeof small_) == 0,                           \
               #x ": nothing partial written");                                          \
        len_ = 0;                                                                        \
        EXPECT_ERR(rsl_##x##_config_to_json(&c_, buf_, need_, &len_, ERR),               \
                   RSL_ERR_INVALID_ARGUMENT, "buf_len");                                 \
        EXPECT(len_ == need_, #x ": one byte short still reports the length");           \
        len_ = 0;                                                                        \
        EXPECT_ERR(rsl_##x##_config_to_json(&c_, NULL, 0, &len_, ERR),                   \
                   RSL_ERR_INVALID_ARGUMENT, "buf_len");                                 \
        EXPECT(len_ == need_, #x ": a size query reports the length");                   \
        EXPECT_ERR(rsl_##x##_config_to_json(&c_, NULL, 16, &len_, ERR),                  \
                   RSL_ERR_NULL_ARGUMENT, "buf");                                        \
        EXPECT_ERR(rsl_##x##_config_to_json(NULL, buf_, sizeof buf_, &len_, ERR),        \
                   RSL_ERR_NULL_ARGUMENT, "cfg");                                        \
        d_ = c_;                                                                         \
        d_.struct_size = 4;                                                              \
        EXPECT_ERR(rsl_##x##_config_to_json(&d_, buf_, sizeof buf_, &len_, ERR),         \
                   RSL_ERR_CONFIG_SIZE, "cfg.struct_size");                              \
        /* new_from_json. */                                                             \
        EXPECT_OK(new_from_json_call(doc_, n_, &h_, NULL));                              \
        EXPECT(h_ != NULL && h_ != (handle *)(uintptr_t)0x5e1f, #x ": handle made");     \
        rsl_##x##_free(h_);                                                              \
        h_ = (handle *)(uintptr_t)0x5e1f;                                                \
        EXPECT_ERR(new_from_json_call(S("{\"bogus\": 1}"), &h_, ERR),                   \
                   RSL_ERR_INVALID_CONFIG, "bogus");                                     \
        EXPECT_ERR(new_from_json_call(NULL, 0, &h_, ERR), RSL_ERR_NULL_ARGUMENT, "json"); \
        EXPECT_ERR(new_from_json_call(doc_, n_, NULL, ERR), RSL_ERR_NULL_ARGUMENT, "out"); \
        EXPECT(h_ == (handle *)(uintptr_t)0x5e1f, #x ": *out untouched on failure");     \
    } while (0)

static rsl_status breaker_new_from_json_at_0(const char *json, size_t len, rsl_breaker **out,
                                             rsl_error *err) {
    return rsl_breaker_new_from_json_at(json, len, 0, out, err);
}

static void test_config_json(void) {
    JSON_CONTRACT(breaker, rsl_breaker_config, rsl_breaker,
                  "{\"preset\": \"gobreaker\", \"wait_duration\": \"1.5s\"}",
                  breaker_new_from_json_at_0);
    JSON_CONTRACT(adaptive_throttle, rsl_adaptive_throttle_config, rsl_adaptive_throttle,
                  "{\"accounting\": \"on_completion\", \"window\": \"10s\", \"buckets\": 10}",
                  rsl_adaptive_throttle_new_from_json);
    JSON_CONTRACT(token_bucket, rsl_token_bucket_config, rsl_token_bucket,
                  "{\"rate_per_sec\": 10, \"burst\": 5}", rsl_token_bucket_new_from_json);
    JSON_CONTRACT(leaky_bucket, rsl_leaky_bucket_config, rsl_leaky_bucket,
                  "{\"mode\": \"meter\", \"rate\": 10, \"per\": \"1s\"}",
                  rsl_leaky_bucket_new_from_json);
    JSON_CONTRACT(window_limiter, rsl_window_limiter_config, rsl_window_limiter,
                  "{\"mode\": \"fixed\", \"window\": \"1s\", \"limit\": 3}",
                  rsl_window_limiter_new_from_json);
    JSON_CONTRACT(adaptive_limiter, rsl_adaptive_limiter_config, rsl_adaptive_limiter,
                  "{\"cpu_source\": \"manual\", \"cooldown\": \"250ms\"}",
                  rsl_adaptive_limiter_new_from_json);
    JSON_CONTRACT(backoff, rsl_backoff_config, rsl_backoff,
                  "{\"preset\": \"grpc_retry\", \"seed\": \"18446744073709551615\"}",
                  rsl_backoff_new_from_json);
    JSON_CONTRACT(retry_budget, rsl_retry_budget_config, rsl_retry_budget,
                  "{\"preset\": \"grpc\", \"max_tokens\": 5}", rsl_retry_budget_new_from_json);
    JSON_CONTRACT(bulkhead, rsl_bulkhead_config, rsl_bulkhead,
                  "{\"max_concurrent\": 3, \"fair\": false, \"max_hold\": \"30s\"}",
                  rsl_bulkhead_new_from_json);
    JSON_CONTRACT(deadline_policy, rsl_deadline_policy_config, rsl_deadline_policy,
                  "{\"preset\": \"polly_v8\", \"min_budget\": \"5ms\"}",
                  rsl_deadline_policy_new_from_json);

    PRESET_ROUND_TRIPS(breaker, rsl_breaker_config, 8);
    PRESET_ROUND_TRIPS(adaptive_throttle, rsl_adaptive_throttle_config, 3);
    PRESET_ROUND_TRIPS(window_limiter, rsl_window_limiter_config, 3);
    PRESET_ROUND_TRIPS(adaptive_limiter, rsl_adaptive_limiter_config, 2);
    PRESET_ROUND_TRIPS(backoff, rsl_backoff_config, 14);
    PRESET_ROUND_TRIPS(retry_budget, rsl_retry_budget_config, 6);
    PRESET_ROUND_TRIPS(bulkhead, rsl_bulkhead_config, 5);
    PRESET_ROUND_TRIPS(deadline_policy, rsl_deadline_policy_config, 4);

    /* What the document says is what the struct holds. */
    {
        rsl_breaker_config a, b;
        EXPECT_OK(rsl_breaker_config_preset(&a, RSL_BREAKER_PRESET_GOBREAKER, NULL));
        a.consecutive_failures = 3;
        a.wait_duration_ns = 1500000000;
        a.policy = RSL_BREAKER_POLICY_CONSECUTIVE;
        memset(&b, 0, sizeof b);
        b.struct_size = sizeof b;
        EXPECT_OK(rsl_breaker_config_from_json(
            S("{\"consecutive_failures\": 3, \"preset\": \"gobreaker\", \"wait_duration\": "
              "\"1.5s\", \"policy\": \"consecutive\"}"),
            &b, NULL));
        EXPECT(memcmp(&a, &b, sizeof a) == 0, "from_json: preset + overrides");
        /* A document cut short by json_len (no NUL needed): only the bytes given. */
        EXPECT_OK(rsl_breaker_config_from_json("{}garbage", 2, &b, NULL));
        EXPECT_ERR(rsl_breaker_config_from_json(S("{\"policy\": \"ra\0te\"}"), &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "json");
        EXPECT_ERR(rsl_breaker_config_from_json(S("{\"wait_duration\": \"60 parsecs\"}"), &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "wait_duration");
        EXPECT_ERR(rsl_breaker_config_from_json(S("{\"policy\": 1}"), &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "policy");
        EXPECT_ERR(rsl_breaker_config_from_json(S("{\"policy\": \"rate\", \"policy\": \"rate\"}"),
                                                &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "policy");
        EXPECT_ERR(rsl_breaker_config_from_json(S("{\"consecutive_failures\": 0}"), &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "consecutive_failures");
        /* The struct's own checks stay on the struct path: to_json refuses
         * what _new refuses. */
        a.reserved0 = 1;
        EXPECT_ERR(rsl_breaker_config_to_json(&a, NULL, 0, NULL, ERR), RSL_ERR_INVALID_CONFIG,
                   "reserved0");
        a.reserved0 = 0;
        a.policy = 9;
        EXPECT_ERR(rsl_breaker_config_to_json(&a, NULL, 0, NULL, ERR), RSL_ERR_INVALID_CONFIG,
                   "policy");
    }

    /* Huge inputs: refused by length before a byte is read, or read whole. */
    {
        size_t n = RSL_CONFIG_JSON_MAX_LEN + 1;
        char *big = malloc(n);
        rsl_bulkhead_config b;
        size_t depth = 100000, i;
        EXPECT(big != NULL, "malloc");
        if (big != NULL) {
            memset(big, ' ', n);
            big[0] = '{';
            big[RSL_CONFIG_JSON_MAX_LEN - 1] = '}';
            memset(&b, 0, sizeof b);
            b.struct_size = sizeof b;
            EXPECT_OK(rsl_bulkhead_config_from_json(big, RSL_CONFIG_JSON_MAX_LEN, &b, NULL));
            EXPECT_ERR(rsl_bulkhead_config_from_json(big, n, &b, ERR), RSL_ERR_INVALID_ARGUMENT,
                       "json_len");
            /* Deep nesting is refused, not a stack overflow. */
            memset(big, '[', depth);
            big[0] = '{';
            memcpy(big + 1, "\"a\":", 4);
            for (i = depth; i < 2 * depth; i++) big[i] = ']';
            EXPECT_ERR(rsl_bulkhead_config_from_json(big, 2 * depth, &b, ERR),
                       RSL_ERR_INVALID_CONFIG, "json");
            free(big);
        }
    }

    /* The retry policy: two structs, the backoff nested. */
    {
        rsl_retry_config r, r2;
        rsl_backoff_config b, b2;
        rsl_retry *p = RETRY_SENTINEL;
        char text[RSL_CONFIG_JSON_BUF_LEN];
        size_t len = 0;
        uint32_t k;
        const char *doc = "{\"preset\": \"grpc\", \"max_elapsed\": \"1m\","
                          " \"backoff\": {\"base\": \"10ms\"}}";
        memset(&r, 0, sizeof r);
        memset(&b, 0, sizeof b);
        r.struct_size = sizeof r;
        b.struct_size = sizeof b;
        EXPECT_OK(rsl_retry_config_from_json(doc, strlen(doc), &r, &b, NULL));
        EXPECT(r.max_attempts == 4 && r.max_elapsed_ns == 60 * SEC && b.base_ns == 10000000 &&
                   b.kind == RSL_BACKOFF_EXPONENTIAL,
               "retry from_json: the grpc preset with overrides");
        EXPECT_ERR(rsl_retry_config_from_json(doc, strlen(doc), NULL, &b, ERR),
                   RSL_ERR_NULL_ARGUMENT, "cfg");
        EXPECT_ERR(rsl_retry_config_from_json(doc, strlen(doc), &r, NULL, ERR),
                   RSL_ERR_NULL_ARGUMENT, "backoff");
        EXPECT_ERR(rsl_retry_config_from_json(S("{\"backoff\": {\"factor\": 0.5}}"), &r, &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "backoff.factor");
        EXPECT_ERR(rsl_retry_config_from_json(S("{\"backoff\": {\"bogus\": 1}}"), &r, &b, ERR),
                   RSL_ERR_INVALID_CONFIG, "backoff.bogus");
        b2 = b;
        b2.struct_size = 0;
        r2 = r;
        EXPECT_ERR(rsl_retry_config_from_json(S("{\"max_attempts\": 9}"), &r2, &b2, ERR),
                   RSL_ERR_CONFIG_SIZE, "backoff.struct_size");
        EXPECT(r2.max_attempts == r.max_attempts, "retry from_json: nothing written on failure");
        EXPECT_OK(rsl_retry_config_to_json(&r, &b, text, sizeof text, &len, NULL));
        EXPECT(strstr(text, "\"backoff\":{\"kind\":\"exponential\"") != NULL, "retry to_json: %s",
               text);
        EXPECT_ERR(rsl_retry_config_to_json(&r, NULL, text, sizeof text, &len, ERR),
                   RSL_ERR_NULL_ARGUMENT, "backoff");
        EXPECT_ERR(rsl_retry_config_to_json(NULL, &b, text, sizeof text, &len, ERR),
                   RSL_ERR_NULL_ARGUMENT, "cfg");
        b2 = b;
        b2.factor = 0.5;
        EXPECT_ERR(rsl_retry_config_to_json(&r, &b2, text, sizeof text, &len, ERR),
                   RSL_ERR_INVALID_CONFIG, "backoff.factor");
        EXPECT_OK(rsl_retry_new_from_json(doc, strlen(doc), &p, NULL));
        rsl_retry_free(p);
        p = RETRY_SENTINEL;
        EXPECT_ERR(rsl_retry_new_from_json(S("{\"backoff\": []}"), &p, ERR),
                   RSL_ERR_INVALID_CONFIG, "backoff");
        EXPECT(p == RETRY_SENTINEL, "retry new_from_json: *out untouched");
        for (k = 0; k < 6; k++) {
            memset(&r2, 0, sizeof r2);
            memset(&b2, 0, sizeof b2);
            EXPECT_OK(rsl_retry_config_preset(&r, &b, k, NULL));
            EXPECT_OK(rsl_retry_config_to_json(&r, &b, text, sizeof text, &len, NULL));
            r2.struct_size = sizeof r2;
            b2.struct_size = sizeof b2;
            EXPECT_OK(rsl_retry_config_from_json(text, len, &r2, &b2, NULL));
            EXPECT(memcmp(&r, &r2, sizeof r) == 0 && memcmp(&b, &b2, sizeof b) == 0,
                   "retry preset %u: %s does not round-trip", k, text);
        }
    }
}

/* A config zeroed but for struct_size is refused naming struct_size (its
 * _config_init was skipped), except where zero is the defaults (the token
 * bucket: x/time/rate's zero Limiter). */
#define ZEROED_IS_REFUSED(x, type, handle, new_call)                                     \
    do {                                                                                 \
        type c_;                                                                         \
        handle *h_ = (handle *)(uintptr_t)0x5e1f;                                        \
        memset(&c_, 0, sizeof c_);                                                       \
        c_.struct_size = (uint32_t)sizeof c_;                                            \
        EXPECT_ERR(new_call, RSL_ERR_INVALID_CONFIG, "cfg.struct_size");                 \
        EXPECT(h_ == (handle *)(uintptr_t)0x5e1f, #x ": *out untouched");                \
        EXPECT_ERR(rsl_##x##_config_to_json(&c_, NULL, 0, NULL, ERR), RSL_ERR_INVALID_CONFIG, \
                   "cfg.struct_size");                                                   \
    } while (0)

static void test_zeroed_configs(void) {
    ZEROED_IS_REFUSED(breaker, rsl_breaker_config, rsl_breaker,
                      rsl_breaker_new_at(&c_, 0, &h_, ERR));
    ZEROED_IS_REFUSED(adaptive_throttle, rsl_adaptive_throttle_config, rsl_adaptive_throttle,
                      rsl_adaptive_throttle_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(leaky_bucket, rsl_leaky_bucket_config, rsl_leaky_bucket,
                      rsl_leaky_bucket_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(window_limiter, rsl_window_limiter_config, rsl_window_limiter,
                      rsl_window_limiter_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(adaptive_limiter, rsl_adaptive_limiter_config, rsl_adaptive_limiter,
                      rsl_adaptive_limiter_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(backoff, rsl_backoff_config, rsl_backoff, rsl_backoff_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(retry_budget, rsl_retry_budget_config, rsl_retry_budget,
                      rsl_retry_budget_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(bulkhead, rsl_bulkhead_config, rsl_bulkhead,
                      rsl_bulkhead_new(&c_, &h_, ERR));
    ZEROED_IS_REFUSED(deadline_policy, rsl_deadline_policy_config, rsl_deadline_policy,
                      rsl_deadline_policy_new(&c_, &h_, ERR));
    {
        rsl_retry_config r;
        rsl_backoff_config b;
        rsl_retry *p = RETRY_SENTINEL;
        memset(&r, 0, sizeof r);
        r.struct_size = sizeof r;
        EXPECT_ERR(rsl_retry_new(&r, NULL, &p, ERR), RSL_ERR_INVALID_CONFIG, "cfg.struct_size");
        memset(&b, 0, sizeof b);
        b.struct_size = sizeof b;
        EXPECT_ERR(rsl_retry_new(NULL, &b, &p, ERR), RSL_ERR_INVALID_CONFIG,
                   "backoff.struct_size");
        EXPECT(p == RETRY_SENTINEL, "retry: *out untouched");
    }
    {
        /* Zero is the token bucket's defaults: accepted, and the same bucket. */
        rsl_token_bucket_config c, d;
        rsl_token_bucket *h = NULL;
        char a[RSL_CONFIG_JSON_BUF_LEN], z[RSL_CONFIG_JSON_BUF_LEN];
        memset(&c, 0, sizeof c);
        c.struct_size = sizeof c;
        EXPECT_OK(rsl_token_bucket_config_init(&d, NULL));
        EXPECT_OK(rsl_token_bucket_new(&c, &h, NULL));
        rsl_token_bucket_free(h);
        EXPECT_OK(rsl_token_bucket_config_to_json(&c, z, sizeof z, NULL, NULL));
        EXPECT_OK(rsl_token_bucket_config_to_json(&d, a, sizeof a, NULL, NULL));
        EXPECT(strcmp(a, z) == 0, "a zeroed token bucket config is its defaults: %s vs %s", z, a);
    }
}

int main(void) {
    const char *initial = rsl_last_error_message();
    EXPECT(initial != NULL && initial[0] == '\0',
           "rsl_last_error_message() is \"\" before any failure, got \"%s\"",
           initial ? initial : "(NULL)");

    test_version_and_status_text();
    test_clock();
    test_null_arguments_breaker();
    test_null_arguments_throttle();
    test_invalid_arguments();
    test_invalid_config_breaker();
    test_invalid_config_throttle();
    test_config_size();
    test_defaults_and_free();
    test_null_arguments_retry();
    test_invalid_arguments_retry();
    test_invalid_config_retry();
    test_config_size_retry();
    test_window_limiter();
    test_adaptive_limiter();
    test_limiter_config_sizes();
    test_cpu_sampler();
    test_criticality();
    test_bulkhead_abi();
    test_deadline_abi();
    test_token_bucket();
    test_leaky_bucket();
    test_config_json();
    test_zeroed_configs();

    printf("test_abi: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
