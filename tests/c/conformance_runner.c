/*
 * conformance_runner.c — replays every scenario of the conformance corpus
 * (tests/conformance, see its README.md) through the C ABI.
 *
 *   conformance_runner [-v] DIR
 *
 * Finds every *.json under DIR (recursively, in sorted order), replays it,
 * prints one line per failing scenario (file, step and mismatch), and ends
 * with "N passed, M failed". Exits non-zero if any scenario failed or none
 * was found. With -v it also prints a line per passing scenario.
 *
 * Strict by design: an unknown name (state, outcome, reason, status), op,
 * op argument or expect key fails the scenario (and the library refuses an
 * unknown config key, preset or enum name); nothing is silently ignored.
 * Every symbolic name is mapped by an explicit table below to the header's
 * constant.
 *
 * Where the README leaves room, this runner decides (and the Rust runner
 * should agree):
 *   - breaker `acquire` with a label keeps the returned permit even when the
 *     call was rejected (then it is the all-zero permit of the result);
 *   - breaker `call` rejected: `counted` and `slow` are false and `counts`
 *     are the metrics' counts at `at` (no record happened);
 *   - `trip`, `transition`, `reset`: `state` is rsl_breaker_get_state_at(at, NULL)
 *     right after the call;
 *   - a step may also carry `expect_error_field` (checked like the
 *     scenario-level one), and `expect` is not allowed together with a
 *     non-OK `expect_status`;
 *   - `created_at_ns` other than 0 in an adaptive_throttle scenario fails
 *     (it would be ignored);
 *   - `description` is required (as the Rust runner requires it);
 *   - in a `call`, `expect_status` applies to the record (the acquire must
 *     succeed): only the record can fail on a scenario's input (an outcome);
 *   - `trip` with generation "last" before any record/call fails;
 *   - unknown keys in a step (beyond its op's arguments and at, op, expect,
 *     expect_status, expect_error_field, repeat, step_ns) fail;
 *   - a scenario's config is not interpreted here: it is read by the
 *     library's JSON parser (rsl_<x>_config_from_json), the one bindings and
 *     users' policy files go through, so its rules are the library's. Only
 *     `struct_size` and `reserved0` (struct, not config, members) are taken
 *     out and set on the struct afterwards; a `preset` both in the scenario
 *     and in its config fails; every config read is checked to round-trip
 *     through rsl_<x>_config_to_json, and rsl_<x>_new_from_json must agree
 *     with from_json + new;
 *   - adaptive_limiter `acquire` with a `token` label fails the scenario if
 *     the request was dropped (there is no token to keep); a dropped `call`
 *     has `counted` false and `rt_ms` 0, and its expect_status (which
 *     applies to the release) must be absent;
 *   - criticality scenarios have only primitive, description and steps, and
 *     their steps need no `at` (pure functions);
 *   - bulkhead `try_enter` / `enter_wait` pass a permit filled with garbage:
 *     a refused entry must zero it; every `enqueue`, `exit` and
 *     `cancel_wait` result must be consistent (fields set only for their
 *     outcome), a failed `exit`/`cancel_wait` must leave its out struct
 *     untouched, and the queue totals must balance in every metrics step;
 *   - window_limiter `reserve` results must be consistent with their
 *     outcome and max_wait_ns, and a failed `reserve`/`cancel` must leave
 *     its out parameter untouched;
 *   - deadline `remaining` cannot fail, so it takes no expect_status; a
 *     decode step has exactly one of `value` and `value_bytes`; a failed
 *     encode must leave the whole buffer (plus 4 guard bytes) untouched and a
 *     failed decode its out struct;
 *   - token_bucket doubles (`tokens`, `limit`) compare exactly, bit for bit
 *     (the README's rule for that primitive), and may be spelled "inf"
 *     (RSL_TOKEN_BUCKET_INF), "+inf", "-inf" or "nan"; any int64_t of the
 *     token and leaky buckets may be "int64_max" or "int64_min";
 *   - token_bucket `reserve` failing with RSL_ERR_EXCEEDS_CAPACITY must have
 *     written a not-OK reservation, which its label keeps.
 */
#define _POSIX_C_SOURCE 200809L

#include "resilience.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    char msg[1024];
} err_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(err_t *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Prepends "prefix: " to the message. */
static int wrap(err_t *e, const char *prefix) {
    size_t p = strlen(prefix), n = strlen(e->msg);
    if (p > sizeof e->msg / 2) {
        p = sizeof e->msg / 2;
    }
    if (p + 2 + n >= sizeof e->msg) {
        n = sizeof e->msg - 1 - p - 2;
    }
    memmove(e->msg + p + 2, e->msg, n);
    e->msg[p + 2 + n] = '\0';
    memcpy(e->msg, prefix, p);
    e->msg[p] = ':';
    e->msg[p + 1] = ' ';
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Name tables: every symbolic name of the README, mapped to the header     */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int64_t value;
} name_entry;

typedef struct {
    const char *what;
    const name_entry *entries;
    size_t count;
} name_table;

#define TABLE(var, what, ...)                                                  \
    static const name_entry var##_entries[] = {__VA_ARGS__};                   \
    static const name_table var = {what, var##_entries,                        \
                                   sizeof var##_entries / sizeof var##_entries[0]}

TABLE(states, "state",
      {"closed", RSL_BREAKER_CLOSED},
      {"open", RSL_BREAKER_OPEN},
      {"half_open", RSL_BREAKER_HALF_OPEN},
      {"forced_open", RSL_BREAKER_FORCED_OPEN},
      {"disabled", RSL_BREAKER_DISABLED});

TABLE(outcomes, "outcome",
      {"success", RSL_OUTCOME_SUCCESS},
      {"failure", RSL_OUTCOME_FAILURE},
      {"ignored", RSL_OUTCOME_IGNORED},
      {"overloaded", RSL_OUTCOME_OVERLOADED});

/* "none" (0, what an admitted call carries) is not in the README's list but
 * the Rust runner accepts it; kept so both runners read the same corpus. */
TABLE(reject_reasons, "reject reason",
      {"none", 0},
      {"open", RSL_BREAKER_REJECT_OPEN},
      {"forced_open", RSL_BREAKER_REJECT_FORCED_OPEN},
      {"half_open_full", RSL_BREAKER_REJECT_HALF_OPEN_FULL});

TABLE(transition_reasons, "transition reason",
      {"consecutive_failures", RSL_BREAKER_REASON_CONSECUTIVE_FAILURES},
      {"failure_rate", RSL_BREAKER_REASON_FAILURE_RATE},
      {"slow_call_rate", RSL_BREAKER_REASON_SLOW_CALL_RATE},
      {"failure_count", RSL_BREAKER_REASON_FAILURE_COUNT},
      {"external_trip", RSL_BREAKER_REASON_EXTERNAL_TRIP},
      {"wait_elapsed", RSL_BREAKER_REASON_WAIT_ELAPSED},
      {"trials_succeeded", RSL_BREAKER_REASON_TRIALS_SUCCEEDED},
      {"trials_failed", RSL_BREAKER_REASON_TRIALS_FAILED},
      {"trials_exhausted", RSL_BREAKER_REASON_TRIALS_EXHAUSTED},
      {"manual", RSL_BREAKER_REASON_MANUAL},
      {"reset", RSL_BREAKER_REASON_RESET});

TABLE(statuses, "status",
      {"RSL_OK", RSL_OK},
      {"RSL_ERR_NULL_ARGUMENT", RSL_ERR_NULL_ARGUMENT},
      {"RSL_ERR_INVALID_ARGUMENT", RSL_ERR_INVALID_ARGUMENT},
      {"RSL_ERR_INVALID_CONFIG", RSL_ERR_INVALID_CONFIG},
      {"RSL_ERR_CONFIG_SIZE", RSL_ERR_CONFIG_SIZE},
      {"RSL_ERR_CONFIG_UNSUPPORTED", RSL_ERR_CONFIG_UNSUPPORTED},
      {"RSL_ERR_EXCEEDS_CAPACITY", RSL_ERR_EXCEEDS_CAPACITY},
      {"RSL_ERR_PANIC", RSL_ERR_PANIC},
      {"RSL_ERR_POISONED", RSL_ERR_POISONED});

/* Retry, backoff and retry budget names (tests/conformance/README.md). */
TABLE(retry_outcomes, "outcome",
      {"success", RSL_OUTCOME_SUCCESS},
      {"failure", RSL_OUTCOME_FAILURE},
      {"ignored", RSL_OUTCOME_IGNORED},
      {"overloaded", RSL_OUTCOME_OVERLOADED});

TABLE(retry_reasons, "retry reason",
      {"retry", RSL_RETRY_REASON_RETRY},
      {"success", RSL_RETRY_REASON_SUCCESS},
      {"not_retryable", RSL_RETRY_REASON_NOT_RETRYABLE},
      {"overloaded", RSL_RETRY_REASON_OVERLOADED},
      {"max_attempts", RSL_RETRY_REASON_MAX_ATTEMPTS},
      {"max_elapsed", RSL_RETRY_REASON_MAX_ELAPSED},
      {"deadline", RSL_RETRY_REASON_DEADLINE},
      {"server_refused", RSL_RETRY_REASON_SERVER_REFUSED},
      {"budget", RSL_RETRY_REASON_BUDGET});

TABLE(levels, "criticality",
      {"sheddable", RSL_CRITICALITY_SHEDDABLE},
      {"sheddable_plus", RSL_CRITICALITY_SHEDDABLE_PLUS},
      {"critical", RSL_CRITICALITY_CRITICAL},
      {"critical_plus", RSL_CRITICALITY_CRITICAL_PLUS});

TABLE(bulkhead_outcomes, "bulkhead outcome",
      {"entered", RSL_BULKHEAD_ENTERED},
      {"queued", RSL_BULKHEAD_QUEUED},
      {"full", RSL_BULKHEAD_FULL});

TABLE(bulkhead_handed, "handed_to",
      {"none", RSL_BULKHEAD_HANDED_NONE},
      {"waiter", RSL_BULKHEAD_HANDED_WAITER},
      {"thread", RSL_BULKHEAD_HANDED_THREAD});

TABLE(reserve_outcomes, "reserve outcome",
      {"granted", RSL_WINDOW_LIMITER_GRANTED},
      {"reserved", RSL_WINDOW_LIMITER_RESERVED},
      {"too_long", RSL_WINDOW_LIMITER_TOO_LONG},
      {"queue_full", RSL_WINDOW_LIMITER_QUEUE_FULL});

TABLE(deadline_decisions, "deadline decision",
      {"proceed", RSL_DEADLINE_CALL_PROCEED},
      {"expired", RSL_DEADLINE_CALL_EXPIRED},
      {"insufficient", RSL_DEADLINE_CALL_INSUFFICIENT},
      {"above_max", RSL_DEADLINE_CALL_ABOVE_MAX},
      {"below_min", RSL_DEADLINE_CALL_BELOW_MIN});

TABLE(deadline_limits, "deadline limit",
      {"none", RSL_DEADLINE_LIMIT_NONE},
      {"call_timeout", RSL_DEADLINE_LIMIT_CALL_TIMEOUT},
      {"deadline", RSL_DEADLINE_LIMIT_DEADLINE});

static int lookup_name(const name_table *t, const char *name, int64_t *out) {
    size_t i;
    for (i = 0; i < t->count; i++) {
        if (strcmp(t->entries[i].name, name) == 0) {
            *out = t->entries[i].value;
            return 0;
        }
    }
    return -1;
}

/* The name of a value, or its number written into buf. */
static const char *name_of(const name_table *t, int64_t value, char *buf, size_t len) {
    size_t i;
    for (i = 0; i < t->count; i++) {
        if (t->entries[i].value == value) {
            return t->entries[i].name;
        }
    }
    snprintf(buf, len, "%lld", (long long)value);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* JSON value readers                                                       */
/* ------------------------------------------------------------------------ */

static const char *json_kind(const cJSON *v) {
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "invalid";
}

/* An integral JSON number in [lo, hi] (both exactly representable). */
static int read_integer(const cJSON *v, double lo, double hi, double *out, err_t *e) {
    double d;
    if (!cJSON_IsNumber(v)) {
        return fail(e, "expected an integer, got %s", json_kind(v));
    }
    d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != floor(d)) {
        return fail(e, "expected an integer in [%.0f, %.0f], got %.17g", lo, hi, d);
    }
    *out = d;
    return 0;
}

static int read_i64(const cJSON *v, int64_t *out, err_t *e) {
    double d;
    /* 2^63 is not representable as int64; stay strictly inside. */
    if (read_integer(v, -9223372036854775808.0, 9223372036854774784.0, &d, e)) return -1;
    *out = (int64_t)d;
    return 0;
}

static int read_u64(const cJSON *v, uint64_t *out, err_t *e) {
    double d;
    if (read_integer(v, 0.0, 18446744073709549568.0, &d, e)) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int read_u32(const cJSON *v, uint32_t *out, err_t *e) {
    double d;
    if (read_integer(v, 0.0, 4294967295.0, &d, e)) return -1;
    *out = (uint32_t)d;
    return 0;
}

/* A symbolic name from `t`, or a raw number (to provoke invalid values). */
static int read_name_or_u32(const cJSON *v, const name_table *t, uint32_t *out, err_t *e) {
    if (cJSON_IsString(v)) {
        int64_t value;
        if (lookup_name(t, v->valuestring, &value)) {
            return fail(e, "unknown %s name \"%s\"", t->what, v->valuestring);
        }
        *out = (uint32_t)value;
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        return read_u32(v, out, e);
    }
    return fail(e, "expected a %s name or number, got %s", t->what, json_kind(v));
}

static int read_label(const cJSON *v, const char **out, err_t *e) {
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        return fail(e, "expected a non-empty string label, got %s", json_kind(v));
    }
    *out = v->valuestring;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Struct field tables                                                      */
/* ------------------------------------------------------------------------ */

/* F_BOOL: a uint32_t 0/1 flag of an output struct, expected as true/false. */
typedef enum { F_U32, F_I64, F_U64, F_F64, F_COUNTS, F_BOOL } field_type;

typedef struct {
    const char *name;
    size_t offset;
    size_t size;
    field_type type;
    const name_table *names; /* enum fields: their symbolic names */
} field_desc;

#define FIELD(type_, f, ft, names_)                                            \
    {#f, offsetof(type_, f), sizeof(((type_ *)0)->f), ft, names_}

static const field_desc breaker_metrics_fields[] = {
    FIELD(rsl_breaker_metrics, struct_size, F_U32, NULL),
    FIELD(rsl_breaker_metrics, state, F_U32, &states),
    FIELD(rsl_breaker_metrics, generation, F_U64, NULL),
    FIELD(rsl_breaker_metrics, counts, F_COUNTS, NULL),
    FIELD(rsl_breaker_metrics, window_calls, F_U64, NULL),
    FIELD(rsl_breaker_metrics, window_failures, F_U64, NULL),
    FIELD(rsl_breaker_metrics, window_slow_calls, F_U64, NULL),
    FIELD(rsl_breaker_metrics, failure_rate, F_F64, NULL),
    FIELD(rsl_breaker_metrics, slow_call_rate, F_F64, NULL),
    FIELD(rsl_breaker_metrics, time_in_state_ns, F_I64, NULL),
    FIELD(rsl_breaker_metrics, open_until_ns, F_I64, NULL),
    FIELD(rsl_breaker_metrics, consecutive_opens, F_U32, NULL),
    FIELD(rsl_breaker_metrics, half_open_in_flight, F_U32, NULL),
    FIELD(rsl_breaker_metrics, rejected_total, F_U64, NULL),
    FIELD(rsl_breaker_metrics, leases_expired_total, F_U64, NULL),
    FIELD(rsl_breaker_metrics, events_dropped_total, F_U64, NULL),
};

static const field_desc throttle_metrics_fields[] = {
    FIELD(rsl_adaptive_throttle_metrics, struct_size, F_U32, NULL),
    FIELD(rsl_adaptive_throttle_metrics, reserved0, F_U32, NULL),
    FIELD(rsl_adaptive_throttle_metrics, requests, F_U64, NULL),
    FIELD(rsl_adaptive_throttle_metrics, accepts, F_U64, NULL),
    FIELD(rsl_adaptive_throttle_metrics, drop_probability, F_F64, NULL),
    FIELD(rsl_adaptive_throttle_metrics, allowed_total, F_U64, NULL),
    FIELD(rsl_adaptive_throttle_metrics, rejected_total, F_U64, NULL),
};

static const field_desc counts_fields[] = {
    FIELD(rsl_breaker_counts, requests, F_U64, NULL),
    FIELD(rsl_breaker_counts, total_successes, F_U64, NULL),
    FIELD(rsl_breaker_counts, total_failures, F_U64, NULL),
    FIELD(rsl_breaker_counts, total_exclusions, F_U64, NULL),
    FIELD(rsl_breaker_counts, consecutive_successes, F_U64, NULL),
    FIELD(rsl_breaker_counts, consecutive_failures, F_U64, NULL),
};

static const field_desc budget_metrics_fields[] = {
    FIELD(rsl_retry_budget_metrics, struct_size, F_U32, NULL),
    FIELD(rsl_retry_budget_metrics, reserved0, F_U32, NULL),
    FIELD(rsl_retry_budget_metrics, requests, F_U64, NULL),
    FIELD(rsl_retry_budget_metrics, retries, F_U64, NULL),
    FIELD(rsl_retry_budget_metrics, available, F_U64, NULL),
    FIELD(rsl_retry_budget_metrics, tokens, F_U64, NULL),
    FIELD(rsl_retry_budget_metrics, deposits_total, F_U64, NULL),
    FIELD(rsl_retry_budget_metrics, granted_total, F_U64, NULL),
    FIELD(rsl_retry_budget_metrics, denied_total, F_U64, NULL),
};

static const field_desc window_metrics_fields[] = {
    FIELD(rsl_window_limiter_metrics, struct_size, F_U32, NULL),
    FIELD(rsl_window_limiter_metrics, reserved0, F_U32, NULL),
    FIELD(rsl_window_limiter_metrics, window_count, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, previous_count, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, remaining, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, admitted_total, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, rejected_total, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, reserved, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, reserved_total, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, cancelled_total, F_U64, NULL),
    FIELD(rsl_window_limiter_metrics, reservations, F_U32, NULL),
    FIELD(rsl_window_limiter_metrics, reserved1, F_U32, NULL),
};

static const field_desc limiter_metrics_fields[] = {
    FIELD(rsl_adaptive_limiter_metrics, struct_size, F_U32, NULL),
    FIELD(rsl_adaptive_limiter_metrics, cpu_permille, F_U32, NULL),
    FIELD(rsl_adaptive_limiter_metrics, inflight, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, max_pass, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, min_rt_ms, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, limit_sheddable, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, limit_sheddable_plus, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, limit_critical, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, limit_critical_plus, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, in_drop_episode, F_BOOL, NULL),
    FIELD(rsl_adaptive_limiter_metrics, reserved0, F_U32, NULL),
    FIELD(rsl_adaptive_limiter_metrics, drop_started_ns, F_I64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, allowed_total, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, dropped_sheddable, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, dropped_sheddable_plus, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, dropped_critical, F_U64, NULL),
    FIELD(rsl_adaptive_limiter_metrics, dropped_critical_plus, F_U64, NULL),
};

static const field_desc bulkhead_metrics_fields[] = {
    FIELD(rsl_bulkhead_metrics, struct_size, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, max_concurrent, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, in_use, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, available, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, peak_in_use, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, waiting, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, entered_total, F_U64, NULL),
    FIELD(rsl_bulkhead_metrics, exited_total, F_U64, NULL),
    FIELD(rsl_bulkhead_metrics, rejected_total, F_U64, NULL),
    FIELD(rsl_bulkhead_metrics, oldest_entered_at_ns, F_I64, NULL),
    FIELD(rsl_bulkhead_metrics, oldest_held_ns, F_I64, NULL),
    FIELD(rsl_bulkhead_metrics, overdue_in_use, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, reserved0, F_U32, NULL),
    FIELD(rsl_bulkhead_metrics, overdue_exits_total, F_U64, NULL),
    FIELD(rsl_bulkhead_metrics, queued_total, F_U64, NULL),
    FIELD(rsl_bulkhead_metrics, handed_over_total, F_U64, NULL),
    FIELD(rsl_bulkhead_metrics, cancelled_total, F_U64, NULL),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const field_desc *find_field(const field_desc *fields, size_t n, const char *name) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (strcmp(fields[i].name, name) == 0) {
            return &fields[i];
        }
    }
    return NULL;
}

/* The tables must cover every byte of their struct (none of them has
 * padding): a field added to the header without a table entry fails here. */
static int check_table(const char *what, const field_desc *fields, size_t n, size_t size) {
    size_t i, covered = 0;
    for (i = 0; i < n; i++) {
        covered += fields[i].size;
    }
    if (covered != size) {
        fprintf(stderr,
                "conformance_runner: the field table of %s covers %zu of its %zu bytes: "
                "update the table for the header\n",
                what, covered, size);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Configs: read by the library's own JSON parser                           */
/* ------------------------------------------------------------------------ */

/* A scenario's `config` object is a JSON config (docs/semantics.md, "Configs
 * as JSON"), read by rsl_<x>_config_from_json like a binding's or a user's.
 * This runner only adds the scenario's `preset` and takes out the keys that
 * are not config keys: `struct_size` and `reserved0` describe the C struct
 * and are set on it after parsing (to reach the struct path's checks), and
 * a primitive's runner keys (retry's `budget`) are handled here. */
typedef struct {
    int has_size;
    uint32_t size;
    int has_reserved0;
    uint32_t reserved0;
} struct_overrides;

#define NO_RESERVED0 ((size_t)-1)

/* Rewrites the numbers of a JSON tree as raw text that reads back to the
 * same value: integral values as integers (corpus integers stay below
 * 2^53, so exactly what the file says), others with 17 significant digits.
 * cJSON's own printer writes integers of 1e15 and more with an exponent,
 * which the config parser rightly refuses for integer fields. */
static int raw_numbers(cJSON *node, err_t *e) {
    cJSON *child = node->child;
    while (child != NULL) {
        cJSON *next = child->next;
        if (cJSON_IsNumber(child)) {
            char text[64];
            double d = child->valuedouble;
            cJSON *raw;
            if (d == floor(d) && fabs(d) < 9.2e18) {
                snprintf(text, sizeof text, "%.0f", d);
            } else {
                snprintf(text, sizeof text, "%.17g", d);
            }
            raw = cJSON_CreateRaw(text);
            /* An object member keeps its key (ReplaceItemViaPointer would drop it). */
            if (raw == NULL ||
                !(child->string != NULL
                      ? cJSON_ReplaceItemInObjectCaseSensitive(node, child->string, raw)
                      : cJSON_ReplaceItemViaPointer(node, child, raw))) {
                cJSON_Delete(raw);
                return fail(e, "out of memory");
            }
        } else if (raw_numbers(child, e)) {
            return -1;
        }
        child = next;
    }
    return 0;
}

/* Prints a JSON value for a from_json call (free it with cJSON_free). */
static char *print_json(const cJSON *v, err_t *e) {
    cJSON *copy = cJSON_Duplicate(v, 1);
    char *text = NULL;
    if (copy == NULL) {
        fail(e, "out of memory");
        return NULL;
    }
    if (raw_numbers(copy, e) == 0) {
        text = cJSON_PrintUnformatted(copy);
        if (text == NULL) fail(e, "out of memory");
    }
    cJSON_Delete(copy);
    return text;
}

static int take_u32(cJSON *obj, const char *key, int *has, uint32_t *out, err_t *e) {
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(obj, key);
    int rc = 0;
    if (item != NULL) {
        *has = 1;
        rc = read_u32(item, out, e);
        if (rc) wrap(e, key);
        cJSON_Delete(item);
    }
    return rc;
}

/* The document of a scenario: its `config` plus its `preset`, without the
 * struct-level keys (into *ov; `reserved0` only when the struct has one)
 * and without `runner_key` (detached into *runner, may be NULL). */
static char *config_document(const cJSON *preset, const cJSON *config, int has_reserved0,
                             const char *runner_key, cJSON **runner, struct_overrides *ov,
                             err_t *e) {
    cJSON *doc;
    char *text;
    memset(ov, 0, sizeof *ov);
    if (runner != NULL) *runner = NULL;
    if (config != NULL && !cJSON_IsObject(config)) {
        fail(e, "config: expected an object, got %s", json_kind(config));
        return NULL;
    }
    doc = config != NULL ? cJSON_Duplicate(config, 1) : cJSON_CreateObject();
    if (doc == NULL) {
        fail(e, "out of memory");
        return NULL;
    }
    if (take_u32(doc, "struct_size", &ov->has_size, &ov->size, e) ||
        (has_reserved0 && take_u32(doc, "reserved0", &ov->has_reserved0, &ov->reserved0, e))) {
        cJSON_Delete(doc);
        wrap(e, "config");
        return NULL;
    }
    if (runner_key != NULL) *runner = cJSON_DetachItemFromObjectCaseSensitive(doc, runner_key);
    if (preset != NULL) {
        cJSON *copy;
        if (cJSON_GetObjectItemCaseSensitive(doc, "preset") != NULL) {
            fail(e, "preset: given both in the scenario and in its config");
            cJSON_Delete(doc);
            return NULL;
        }
        copy = cJSON_Duplicate(preset, 1);
        if (copy == NULL || !cJSON_AddItemToObject(doc, "preset", copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(doc);
            fail(e, "out of memory");
            return NULL;
        }
    }
    text = print_json(doc, e);
    cJSON_Delete(doc);
    return text;
}

/* Sets the struct-level overrides on a config just read. */
static void apply_overrides(void *cfg, const struct_overrides *ov, size_t reserved0_offset) {
    if (ov->has_size) memcpy(cfg, &ov->size, sizeof ov->size);
    if (ov->has_reserved0 && reserved0_offset != NO_RESERVED0) {
        memcpy((unsigned char *)cfg + reserved0_offset, &ov->reserved0, sizeof ov->reserved0);
    }
}

/* ------------------------------------------------------------------------ */
/* Expectation checks                                                       */
/* ------------------------------------------------------------------------ */

#define FLOAT_TOLERANCE 1e-9

static int expect_bool(const char *key, const cJSON *want, uint32_t got, err_t *e) {
    uint32_t w;
    if (cJSON_IsBool(want)) {
        w = cJSON_IsTrue(want) ? 1u : 0u;
    } else if (cJSON_IsNumber(want) && (want->valuedouble == 0 || want->valuedouble == 1)) {
        w = (uint32_t)want->valuedouble;
    } else {
        return fail(e, "%s: expected value must be true/false, got %s", key, json_kind(want));
    }
    if (w != got) {
        return fail(e, "%s: expected %s, got %s (%u)", key, w ? "true" : "false",
                    got ? "true" : "false", (unsigned)got);
    }
    return 0;
}

static int expect_u64(const char *key, const cJSON *want, uint64_t got, err_t *e) {
    uint64_t w;
    if (read_u64(want, &w, e)) return wrap(e, key);
    if (w != got) {
        return fail(e, "%s: expected %llu, got %llu", key, (unsigned long long)w,
                    (unsigned long long)got);
    }
    return 0;
}

static int expect_i64(const char *key, const cJSON *want, int64_t got, err_t *e) {
    int64_t w;
    if (read_i64(want, &w, e)) return wrap(e, key);
    if (w != got) {
        return fail(e, "%s: expected %lld, got %lld", key, (long long)w, (long long)got);
    }
    return 0;
}

static int expect_f64(const char *key, const cJSON *want, double got, err_t *e) {
    if (!cJSON_IsNumber(want)) {
        return fail(e, "%s: expected value must be a number, got %s", key, json_kind(want));
    }
    if (!(fabs(want->valuedouble - got) <= FLOAT_TOLERANCE)) {
        return fail(e, "%s: expected %.17g, got %.17g", key, want->valuedouble, got);
    }
    return 0;
}

static int expect_name(const char *key, const cJSON *want, const name_table *t, uint32_t got,
                       err_t *e) {
    uint32_t w;
    char b1[32], b2[32];
    if (read_name_or_u32(want, t, &w, e)) return wrap(e, key);
    if (w != got) {
        return fail(e, "%s: expected %s, got %s", key, name_of(t, w, b1, sizeof b1),
                    name_of(t, got, b2, sizeof b2));
    }
    return 0;
}

/* Checks `want` against the struct at `base` described by the table. */
static int expect_fields(const char *what, const cJSON *want, const void *base,
                         const field_desc *fields, size_t n, err_t *e);

static int expect_field(const field_desc *f, const cJSON *want, const void *base, err_t *e) {
    const unsigned char *p = (const unsigned char *)base + f->offset;
    switch (f->type) {
    case F_U32: {
        uint32_t x;
        memcpy(&x, p, sizeof x);
        if (f->names != NULL) {
            return expect_name(f->name, want, f->names, x, e);
        }
        return expect_u64(f->name, want, x, e);
    }
    case F_I64: {
        int64_t x;
        memcpy(&x, p, sizeof x);
        return expect_i64(f->name, want, x, e);
    }
    case F_U64: {
        uint64_t x;
        memcpy(&x, p, sizeof x);
        return expect_u64(f->name, want, x, e);
    }
    case F_F64: {
        double x;
        memcpy(&x, p, sizeof x);
        return expect_f64(f->name, want, x, e);
    }
    case F_COUNTS:
        return expect_fields("counts", want, p, counts_fields, COUNT(counts_fields), e);
    case F_BOOL: {
        uint32_t x;
        memcpy(&x, p, sizeof x);
        return expect_bool(f->name, want, x, e);
    }
    }
    return fail(e, "%s: unknown field type", f->name);
}

static int expect_fields(const char *what, const cJSON *want, const void *base,
                         const field_desc *fields, size_t n, err_t *e) {
    const cJSON *item;
    if (!cJSON_IsObject(want)) {
        return fail(e, "%s: expected an object, got %s", what, json_kind(want));
    }
    cJSON_ArrayForEach(item, want) {
        const field_desc *f = find_field(fields, n, item->string);
        if (f == NULL) {
            return fail(e, "%s: unknown key \"%s\"", what, item->string);
        }
        if (expect_field(f, item, base, e)) {
            return wrap(e, what);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Labels (permits and tickets kept by name)                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    char **names;
    unsigned char *values;
    size_t elem;
    size_t count;
    size_t cap;
} label_store;

static void labels_init(label_store *s, size_t elem) {
    memset(s, 0, sizeof *s);
    s->elem = elem;
}

static void labels_free(label_store *s) {
    size_t i;
    for (i = 0; i < s->count; i++) {
        free(s->names[i]);
    }
    free(s->names);
    free(s->values);
    memset(s, 0, sizeof *s);
}

static int labels_put(label_store *s, const char *name, const void *value, err_t *e) {
    size_t i;
    for (i = 0; i < s->count; i++) {
        if (strcmp(s->names[i], name) == 0) {
            memcpy(s->values + i * s->elem, value, s->elem);
            return 0;
        }
    }
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **names = realloc(s->names, cap * sizeof *names);
        unsigned char *values;
        if (names == NULL) return fail(e, "out of memory");
        s->names = names;
        values = realloc(s->values, cap * s->elem);
        if (values == NULL) return fail(e, "out of memory");
        s->values = values;
        s->cap = cap;
    }
    s->names[s->count] = malloc(strlen(name) + 1);
    if (s->names[s->count] == NULL) return fail(e, "out of memory");
    strcpy(s->names[s->count], name);
    memcpy(s->values + s->count * s->elem, value, s->elem);
    s->count++;
    return 0;
}

static int labels_get(const label_store *s, const char *name, void *value, err_t *e) {
    size_t i;
    for (i = 0; i < s->count; i++) {
        if (strcmp(s->names[i], name) == 0) {
            memcpy(value, s->values + i * s->elem, s->elem);
            return 0;
        }
    }
    return fail(e, "no earlier acquire/allow kept a label \"%s\"", name);
}

/* ------------------------------------------------------------------------ */
/* Steps                                                                    */
/* ------------------------------------------------------------------------ */

/* Keys every step may carry, besides its op's arguments. */
static const char *const common_step_keys[] = {
    "at", "op", "expect", "expect_status", "expect_error_field", "repeat", "step_ns", NULL,
};

typedef struct {
    const char *name;
    const char *const *args; /* NULL-terminated */
} op_def;

static const char *const args_none[] = {NULL};
static const char *const args_permit[] = {"permit", NULL};
static const char *const args_record_b[] = {"permit", "outcome", NULL};
static const char *const args_call_b[] = {"outcome", "duration_ns", NULL};
static const char *const args_trip[] = {"generation", NULL};
static const char *const args_transition[] = {"to", NULL};
static const char *const args_drain[] = {"max", NULL};
static const char *const args_ticket[] = {"ticket", NULL};
static const char *const args_record_t[] = {"ticket", "outcome", NULL};
static const char *const args_outcome[] = {"outcome", NULL};

static const op_def breaker_ops[] = {
    {"acquire", args_permit},     {"record", args_record_b},
    {"call", args_call_b},        {"trip", args_trip},
    {"transition", args_transition}, {"reset", args_none},
    {"state", args_none},         {"metrics", args_none},
    {"drain_events", args_drain},
};

static const op_def throttle_ops[] = {
    {"allow", args_ticket},
    {"record", args_record_t},
    {"call", args_outcome},
    {"metrics", args_none},
};

static const char *const args_window_acquire[] = {"n", "criticality", "on", NULL};
static const char *const args_window_reserve[] = {"n", "criticality", "max_wait_ns", "reservation",
                                                  "on", NULL};
static const char *const args_window_cancel[] = {"reservation", "alter", "on", NULL};
static const char *const args_set_cpu[] = {"cpu_permille", NULL};
static const char *const args_limiter_acquire[] = {"criticality", "token", NULL};
static const char *const args_limiter_release[] = {"token", "outcome", NULL};
static const char *const args_limiter_call[] = {"criticality", "outcome", "duration_ns", NULL};

static const char *const args_on_only[] = {"on", NULL};

static const op_def window_ops[] = {
    {"acquire", args_window_acquire},
    {"reserve", args_window_reserve},
    {"cancel", args_window_cancel},
    {"metrics", args_on_only},
};

static const op_def limiter_ops[] = {
    {"set_cpu", args_set_cpu},
    {"acquire", args_limiter_acquire},
    {"release", args_limiter_release},
    {"call", args_limiter_call},
    {"metrics", args_none},
};

static const char *const args_on[] = {"on", NULL};
static const char *const args_try_enter[] = {"permit", "on", NULL};
static const char *const args_enter_wait[] = {"permit", "on", "timeout_ns", NULL};
static const char *const args_enqueue[] = {"permit", "waiter", "on", NULL};
static const char *const args_exit[] = {"permit", "on", "alter", "handed_permit", NULL};
static const char *const args_cancel_wait[] = {"waiter", "on", "alter", "permit", NULL};

static const op_def bulkhead_ops[] = {
    {"try_enter", args_try_enter},
    {"enqueue", args_enqueue},
    {"enter_wait", args_enter_wait},
    {"exit", args_exit},
    {"cancel_wait", args_cancel_wait},
    {"metrics", args_on},
};

static const char *const args_from_timeout[] = {"timeout_ns", NULL};
static const char *const args_remaining[] = {"deadline_ns", NULL};
static const char *const args_shrink[] = {"remaining_ns", "per_call_timeout_ns", NULL};
static const char *const args_plan[] = {"deadline_ns", "per_call_timeout_ns", NULL};
static const char *const args_encode[] = {"timeout_ns", "buf_len", NULL};
static const char *const args_decode[] = {"value", "value_bytes", NULL};

static const op_def deadline_ops[] = {
    {"from_timeout", args_from_timeout}, {"remaining", args_remaining},
    {"shrink", args_shrink},             {"call", args_plan},
    {"grpc_encode", args_encode},        {"http_encode", args_encode},
    {"grpc_decode", args_decode},        {"http_decode", args_decode},
};

static const char *const args_n[] = {"n", NULL};
static const char *const args_reserve[] = {"n", "max_wait_ns", "reservation", NULL};
static const char *const args_cancel[] = {"reservation", "foreign", "limit", "tokens", NULL};
static const char *const args_reservation[] = {"reservation", NULL};
static const char *const args_limit[] = {"limit", NULL};
static const char *const args_burst[] = {"burst", NULL};
static const char *const args_every[] = {"interval_ns", NULL};
static const char *const args_max_wait[] = {"max_wait_ns", NULL};

static const op_def token_ops[] = {
    {"allow", args_n},         {"reserve", args_reserve},   {"cancel", args_cancel},
    {"delay", args_reservation}, {"tokens", args_none},     {"set_limit", args_limit},
    {"set_burst", args_burst}, {"settings", args_none},     {"every", args_every},
};

static const op_def leaky_ops[] = {
    {"take", args_none},
    {"try_take", args_max_wait},
    {"check", args_n},
    {"interval", args_none},
};

static int in_list(const char *const *list, const char *key) {
    for (; *list != NULL; list++) {
        if (strcmp(*list, key) == 0) return 1;
    }
    return 0;
}

/* One execution of a step. */
typedef struct {
    const cJSON *step;
    const cJSON *expect; /* NULL when absent */
    int64_t at;
} step_ctx;

static const cJSON *arg(const step_ctx *s, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(s->step, name);
}

static int read_outcome(const step_ctx *s, rsl_outcome *out, err_t *e) {
    const cJSON *v = arg(s, "outcome");
    if (v == NULL) return fail(e, "missing \"outcome\"");
    if (read_name_or_u32(v, &outcomes, out, e)) return wrap(e, "outcome");
    return 0;
}

/* Checks the status of a call against the step's expect_status (default OK).
 * Returns 1 when the call failed as expected (nothing more to check). */
static int check_status(const char *call, rsl_status got, rsl_status want, err_t *e) {
    char b1[32], b2[32];
    if (got == want) {
        return got == RSL_OK ? 0 : 1;
    }
    return fail(e, "%s returned %s, expected %s (message \"%s\")", call,
                name_of(&statuses, got, b1, sizeof b1), name_of(&statuses, want, b2, sizeof b2),
                rsl_last_error_message());
}

/* Iterates the expect object, dispatching each key to `check`. */
typedef int (*expect_fn)(const char *key, const cJSON *want, const void *ctx, err_t *e);

static int for_each_expect(const step_ctx *s, const char *op, expect_fn check, const void *ctx,
                           err_t *e) {
    const cJSON *item;
    if (s->expect == NULL) return 0;
    cJSON_ArrayForEach(item, s->expect) {
        int r = check(item->string, item, ctx, e);
        if (r > 0) {
            return fail(e, "unknown expect key \"%s\" for op %s", item->string, op);
        }
        if (r < 0) return -1;
    }
    return 0;
}

typedef enum {
    PRIM_BREAKER,
    PRIM_THROTTLE,
    PRIM_BACKOFF,
    PRIM_RETRY,
    PRIM_BUDGET,
    PRIM_WINDOW,
    PRIM_LIMITER,
    PRIM_BULKHEAD,
    PRIM_DEADLINE,
    PRIM_TOKEN,
    PRIM_LEAKY
} primitive;

/* -------------------------------- breaker ------------------------------- */

typedef struct {
    rsl_breaker *b;
    label_store permits;
    int have_last_generation;
    uint64_t last_generation;
} breaker_run;

typedef struct {
    const rsl_breaker_acquire_result *acq; /* may be NULL */
    const rsl_breaker_record_result *rec;  /* may be NULL */
    const rsl_breaker_counts *counts;      /* counts to check */
    uint32_t state;
    int recorded;
} breaker_view;

/* Returns 1 for an unknown key. */
static int breaker_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const breaker_view *v = ctx;
    if (strcmp(key, "state") == 0) {
        return expect_name(key, want, &states, v->state, e);
    }
    if (v->acq != NULL) {
        if (strcmp(key, "admitted") == 0) return expect_bool(key, want, v->acq->admitted, e);
        if (strcmp(key, "reject_reason") == 0)
            return expect_name(key, want, &reject_reasons, v->acq->reject_reason, e);
        if (strcmp(key, "retry_after_ns") == 0)
            return expect_i64(key, want, v->acq->retry_after_ns, e);
    }
    if (v->rec != NULL || v->counts != NULL) {
        if (strcmp(key, "counted") == 0)
            return expect_bool(key, want, v->rec ? v->rec->counted : 0u, e);
        if (strcmp(key, "slow") == 0) return expect_bool(key, want, v->rec ? v->rec->slow : 0u, e);
        if (strcmp(key, "counts") == 0)
            return expect_fields("counts", want, v->counts, counts_fields, COUNT(counts_fields),
                                 e);
    }
    if (v->rec != NULL && v->acq == NULL && strcmp(key, "generation") == 0) {
        return expect_u64(key, want, v->rec->generation, e);
    }
    return 1;
}

typedef struct {
    uint32_t tripped;
    uint32_t state;
} trip_view;

static int trip_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const trip_view *v = ctx;
    if (strcmp(key, "tripped") == 0) return expect_bool(key, want, v->tripped, e);
    if (strcmp(key, "state") == 0) return expect_name(key, want, &states, v->state, e);
    return 1;
}

static int state_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const uint32_t *state = ctx;
    if (strcmp(key, "state") == 0) return expect_name(key, want, &states, *state, e);
    return 1;
}

static int state_after(const breaker_run *r, int64_t at, uint32_t *state, err_t *e) {
    rsl_status st = rsl_breaker_get_state_at(r->b, at, state, NULL);
    if (st != RSL_OK) {
        return fail(e, "rsl_breaker_get_state_at failed: %s", rsl_last_error_message());
    }
    return 0;
}

static int check_events(const cJSON *want, const rsl_breaker_event *ev, size_t n, err_t *e) {
    size_t i = 0;
    const cJSON *item;
    if (!cJSON_IsArray(want)) {
        return fail(e, "events: expected an array, got %s", json_kind(want));
    }
    if ((size_t)cJSON_GetArraySize(want) != n) {
        char list[512];
        size_t k, off = 0;
        char b1[32], b2[32], b3[32];
        list[0] = '\0';
        for (k = 0; k < n && off < sizeof list - 80; k++) {
            off += (size_t)snprintf(list + off, sizeof list - off, "%s{seq %llu, %s->%s, %s}",
                                    k ? ", " : "", (unsigned long long)ev[k].seq,
                                    name_of(&states, ev[k].from, b1, sizeof b1),
                                    name_of(&states, ev[k].to, b2, sizeof b2),
                                    name_of(&transition_reasons, ev[k].reason, b3, sizeof b3));
        }
        return fail(e, "events: expected %d, drained %zu [%s]", cJSON_GetArraySize(want), n,
                    list);
    }
    cJSON_ArrayForEach(item, want) {
        const cJSON *f;
        char what[32];
        snprintf(what, sizeof what, "events[%zu]", i);
        if (!cJSON_IsObject(item)) {
            return fail(e, "%s: expected an object, got %s", what, json_kind(item));
        }
        cJSON_ArrayForEach(f, item) {
            int r;
            if (strcmp(f->string, "seq") == 0) {
                r = expect_u64("seq", f, ev[i].seq, e);
            } else if (strcmp(f->string, "at_ns") == 0) {
                r = expect_i64("at_ns", f, ev[i].at_ns, e);
            } else if (strcmp(f->string, "generation") == 0) {
                r = expect_u64("generation", f, ev[i].generation, e);
            } else if (strcmp(f->string, "from") == 0) {
                r = expect_name("from", f, &states, ev[i].from, e);
            } else if (strcmp(f->string, "to") == 0) {
                r = expect_name("to", f, &states, ev[i].to, e);
            } else if (strcmp(f->string, "reason") == 0) {
                r = expect_name("reason", f, &transition_reasons, ev[i].reason, e);
            } else {
                return fail(e, "%s: unknown key \"%s\"", what, f->string);
            }
            if (r) return wrap(e, what);
        }
        i++;
    }
    return 0;
}

static int breaker_step(breaker_run *r, const char *op, const step_ctx *s, rsl_status want,
                        err_t *e) {
    int done;
    if (strcmp(op, "acquire") == 0) {
        rsl_breaker_acquire_result a;
        breaker_view v;
        const cJSON *label = arg(s, "permit");
        memset(&a, 0, sizeof a);
        done = check_status("rsl_breaker_acquire_at", rsl_breaker_acquire_at(r->b, s->at, &a, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        if (label != NULL) {
            const char *name;
            if (read_label(label, &name, e)) return wrap(e, "permit");
            if (labels_put(&r->permits, name, &a.permit, e)) return -1;
        }
        memset(&v, 0, sizeof v);
        v.acq = &a;
        v.state = a.state;
        return for_each_expect(s, op, breaker_check, &v, e);
    }
    if (strcmp(op, "record") == 0) {
        rsl_breaker_permit permit;
        rsl_breaker_record_result rec;
        rsl_outcome outcome;
        breaker_view v;
        const char *name;
        const cJSON *label = arg(s, "permit");
        if (label == NULL) return fail(e, "missing \"permit\"");
        if (read_label(label, &name, e)) return wrap(e, "permit");
        if (labels_get(&r->permits, name, &permit, e)) return -1;
        if (read_outcome(s, &outcome, e)) return -1;
        memset(&rec, 0, sizeof rec);
        done = check_status("rsl_breaker_record_at",
                            rsl_breaker_record_at(r->b, s->at, &permit, outcome, &rec, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        r->have_last_generation = 1;
        r->last_generation = rec.generation;
        memset(&v, 0, sizeof v);
        v.rec = &rec;
        v.counts = &rec.counts;
        v.state = rec.state;
        v.recorded = 1;
        return for_each_expect(s, op, breaker_check, &v, e);
    }
    if (strcmp(op, "call") == 0) {
        rsl_breaker_acquire_result a;
        rsl_breaker_record_result rec;
        rsl_breaker_metrics m;
        rsl_outcome outcome;
        int64_t duration = 0;
        breaker_view v;
        const cJSON *d = arg(s, "duration_ns");
        if (read_outcome(s, &outcome, e)) return -1;
        if (d != NULL && read_i64(d, &duration, e)) return wrap(e, "duration_ns");
        memset(&a, 0, sizeof a);
        memset(&rec, 0, sizeof rec);
        memset(&v, 0, sizeof v);
        /* Only the record can be expected to fail (an invalid outcome). */
        if (check_status("rsl_breaker_acquire_at", rsl_breaker_acquire_at(r->b, s->at, &a, NULL),
                         RSL_OK, e)) {
            return -1;
        }
        v.acq = &a;
        if (a.admitted) {
            done = check_status("rsl_breaker_record_at",
                                rsl_breaker_record_at(r->b, s->at + duration, &a.permit, outcome,
                                                      &rec, NULL),
                                want, e);
            if (done) return done < 0 ? -1 : 0;
            r->have_last_generation = 1;
            r->last_generation = rec.generation;
            v.rec = &rec;
            v.counts = &rec.counts;
            v.state = rec.state;
        } else {
            /* Rejected: no record; a status other than OK was expected from
             * the record, which never happened. */
            if (want != RSL_OK) {
                char b[32];
                return fail(e, "the call was rejected, so its record never returned %s",
                            name_of(&statuses, want, b, sizeof b));
            }
            memset(&m, 0, sizeof m);
            m.struct_size = sizeof m;
            if (rsl_breaker_get_metrics_at(r->b, s->at, &m, NULL) != RSL_OK) {
                return fail(e, "rsl_breaker_get_metrics_at failed: %s", rsl_last_error_message());
            }
            v.counts = &m.counts;
            v.state = a.state;
        }
        return for_each_expect(s, op, breaker_check, &v, e);
    }
    if (strcmp(op, "trip") == 0) {
        trip_view v;
        uint64_t generation;
        const cJSON *g = arg(s, "generation");
        if (g == NULL) return fail(e, "missing \"generation\"");
        if (cJSON_IsString(g) && strcmp(g->valuestring, "last") == 0) {
            if (!r->have_last_generation) {
                return fail(e, "generation \"last\": no record or call returned one yet");
            }
            generation = r->last_generation;
        } else if (read_u64(g, &generation, e)) {
            return wrap(e, "generation (a number or \"last\")");
        }
        v.tripped = 77;
        done = check_status("rsl_breaker_trip_at",
                            rsl_breaker_trip_at(r->b, s->at, generation, &v.tripped, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (state_after(r, s->at, &v.state, e)) return -1;
        return for_each_expect(s, op, trip_check, &v, e);
    }
    if (strcmp(op, "transition") == 0 || strcmp(op, "reset") == 0 || strcmp(op, "state") == 0) {
        uint32_t state = 0;
        if (strcmp(op, "transition") == 0) {
            uint32_t to;
            const cJSON *t = arg(s, "to");
            if (t == NULL) return fail(e, "missing \"to\"");
            if (read_name_or_u32(t, &states, &to, e)) return wrap(e, "to");
            done = check_status("rsl_breaker_transition_at",
                                rsl_breaker_transition_at(r->b, s->at, to, NULL), want, e);
            if (done) return done < 0 ? -1 : 0;
            if (state_after(r, s->at, &state, e)) return -1;
        } else if (strcmp(op, "reset") == 0) {
            done = check_status("rsl_breaker_reset_at", rsl_breaker_reset_at(r->b, s->at, NULL), want,
                                e);
            if (done) return done < 0 ? -1 : 0;
            if (state_after(r, s->at, &state, e)) return -1;
        } else {
            done = check_status("rsl_breaker_get_state_at",
                                rsl_breaker_get_state_at(r->b, s->at, &state, NULL), want, e);
            if (done) return done < 0 ? -1 : 0;
        }
        return for_each_expect(s, op, state_check, &state, e);
    }
    if (strcmp(op, "metrics") == 0) {
        rsl_breaker_metrics m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        done = check_status("rsl_breaker_get_metrics_at",
                            rsl_breaker_get_metrics_at(r->b, s->at, &m, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (s->expect == NULL) return 0;
        return expect_fields("metrics", s->expect, &m, breaker_metrics_fields,
                             COUNT(breaker_metrics_fields), e);
    }
    if (strcmp(op, "drain_events") == 0) {
        uint64_t max = 64;
        size_t n = 0;
        rsl_breaker_event *ev = NULL;
        const cJSON *mx = arg(s, "max");
        const cJSON *item;
        int rc;
        if (mx != NULL && read_u64(mx, &max, e)) return wrap(e, "max");
        if (max > (1u << 20)) return fail(e, "max: %llu is too large", (unsigned long long)max);
        if (max > 0) {
            ev = calloc((size_t)max, sizeof *ev);
            if (ev == NULL) return fail(e, "out of memory");
        }
        rc = check_status("rsl_breaker_drain_events",
                          rsl_breaker_drain_events(r->b, ev, (size_t)max, &n, NULL), want, e);
        if (rc == 0 && n > max) {
            rc = fail(e, "drained %zu events into a buffer of %llu", n, (unsigned long long)max);
        }
        if (rc == 0 && s->expect != NULL) {
            cJSON_ArrayForEach(item, s->expect) {
                if (strcmp(item->string, "events") != 0) {
                    rc = fail(e, "unknown expect key \"%s\" for op drain_events", item->string);
                    break;
                }
                if ((rc = check_events(item, ev, n, e)) != 0) break;
            }
        }
        free(ev);
        return rc < 0 ? -1 : 0;
    }
    return fail(e, "unknown breaker op \"%s\"", op);
}

/* ---------------------------- adaptive throttle ------------------------- */

typedef struct {
    rsl_adaptive_throttle *t;
    label_store tickets;
} throttle_run;

static int decision_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_adaptive_throttle_decision *d = ctx;
    if (strcmp(key, "allowed") == 0) return expect_bool(key, want, d->allowed, e);
    if (strcmp(key, "drop_probability") == 0)
        return expect_f64(key, want, d->drop_probability, e);
    if (strcmp(key, "requests") == 0) return expect_u64(key, want, d->requests, e);
    if (strcmp(key, "accepts") == 0) return expect_u64(key, want, d->accepts, e);
    return 1;
}

static int no_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    (void)key;
    (void)want;
    (void)ctx;
    (void)e;
    return 1;
}

static int throttle_step(throttle_run *r, const char *op, const step_ctx *s, rsl_status want,
                         err_t *e) {
    int done;
    if (strcmp(op, "allow") == 0 || strcmp(op, "call") == 0) {
        rsl_adaptive_throttle_decision d;
        int is_call = op[0] == 'c';
        rsl_outcome outcome = 0;
        if (is_call && read_outcome(s, &outcome, e)) return -1;
        memset(&d, 0, sizeof d);
        /* In a call only the record can be expected to fail. */
        done = check_status("rsl_adaptive_throttle_allow_at",
                            rsl_adaptive_throttle_allow_at(r->t, s->at, &d, NULL),
                            is_call ? RSL_OK : want, e);
        if (done) return done < 0 ? -1 : 0;
        if (!is_call) {
            const cJSON *label = arg(s, "ticket");
            if (label != NULL) {
                const char *name;
                if (read_label(label, &name, e)) return wrap(e, "ticket");
                if (labels_put(&r->tickets, name, &d.ticket, e)) return -1;
            }
        } else if (d.allowed) {
            done = check_status("rsl_adaptive_throttle_record_at",
                                rsl_adaptive_throttle_record_at(r->t, s->at, &d.ticket, outcome, NULL),
                                want, e);
            if (done) return done < 0 ? -1 : 0;
        } else if (want != RSL_OK) {
            char b[32];
            return fail(e, "the call was rejected, so its record never returned %s",
                        name_of(&statuses, want, b, sizeof b));
        }
        return for_each_expect(s, op, decision_check, &d, e);
    }
    if (strcmp(op, "record") == 0) {
        rsl_adaptive_throttle_ticket ticket;
        rsl_outcome outcome;
        const char *name;
        const cJSON *label = arg(s, "ticket");
        if (label == NULL) return fail(e, "missing \"ticket\"");
        if (read_label(label, &name, e)) return wrap(e, "ticket");
        if (labels_get(&r->tickets, name, &ticket, e)) return -1;
        if (read_outcome(s, &outcome, e)) return -1;
        done = check_status("rsl_adaptive_throttle_record_at",
                            rsl_adaptive_throttle_record_at(r->t, s->at, &ticket, outcome, NULL), want,
                            e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, no_check, NULL, e);
    }
    if (strcmp(op, "metrics") == 0) {
        rsl_adaptive_throttle_metrics m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        done = check_status("rsl_adaptive_throttle_get_metrics_at",
                            rsl_adaptive_throttle_get_metrics_at(r->t, s->at, &m, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (s->expect == NULL) return 0;
        return expect_fields("metrics", s->expect, &m, throttle_metrics_fields,
                             COUNT(throttle_metrics_fields), e);
    }
    return fail(e, "unknown adaptive_throttle op \"%s\"", op);
}

/* ----------------------- backoff, retry, retry budget ------------------- */

static const char *const args_attempt[] = {"attempt", NULL};
static const char *const args_delay[] = {"attempt", "u", NULL};
static const char *const args_begin[] = {"operation", "deadline_ns", "state_size", NULL};
static const char *const args_next[] = {"operation", "outcome", "retry_after_ns", "timeout",
                                        "flags", NULL};
static const char *const args_value[] = {"value", NULL};
static const char *const args_withdraw[] = {"ticket", "timeout", "flags", NULL};

static const op_def backoff_ops[] = {
    {"delay", args_delay},       {"next", args_attempt}, {"next_null_state", args_attempt},
    {"draws", args_attempt},     {"reset_state", args_none},
};

static const op_def retry_ops[] = {
    {"begin", args_begin},
    {"next", args_next},
    {"budget_metrics", args_none},
    {"parse_header", args_value},
    {"format_header", args_outcome},
    {"header_name", args_none},
    {"parse_pushback", args_value},
    {"parse_http_retry_after", args_value},
};

static const op_def budget_ops[] = {
    {"deposit", args_ticket},
    {"withdraw", args_withdraw},
    {"record", args_record_t},
    {"metrics", args_none},
};

/* A u32 step argument (required). */
static int read_u32_arg(const step_ctx *s, const char *name, uint32_t *out, err_t *e) {
    const cJSON *v = arg(s, name);
    if (v == NULL) return fail(e, "missing \"%s\"", name);
    if (read_u32(v, out, e)) return wrap(e, name);
    return 0;
}

/* `flags` (a number) or `timeout` (a boolean), as the README says. */
static int read_flags(const step_ctx *s, uint32_t *out, err_t *e) {
    const cJSON *v = arg(s, "flags");
    if (v != NULL) {
        if (read_u32(v, out, e)) return wrap(e, "flags");
        return 0;
    }
    v = arg(s, "timeout");
    *out = 0;
    if (v != NULL) {
        if (!cJSON_IsBool(v)) return fail(e, "timeout: expected true/false");
        *out = cJSON_IsTrue(v) ? RSL_RETRY_FLAG_TIMEOUT : 0u;
    }
    return 0;
}

/* A time that may be "none" (-> none_value) or "refuse". */
static int read_time_or_name(const cJSON *v, int64_t none_value, int64_t *out, err_t *e) {
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "none") == 0) {
            *out = none_value;
            return 0;
        }
        if (strcmp(v->valuestring, "refuse") == 0) {
            *out = RSL_RETRY_AFTER_REFUSE;
            return 0;
        }
        return fail(e, "unknown name \"%s\" (none or refuse)", v->valuestring);
    }
    return read_i64(v, out, e);
}

/* A header value argument: a string (length from the JSON), or null/absent. */
static int read_header_value(const step_ctx *s, const char **value, size_t *len, err_t *e) {
    const cJSON *v = arg(s, "value");
    *value = NULL;
    *len = 0;
    if (v == NULL || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return fail(e, "value: expected a string or null");
    *value = v->valuestring;
    *len = strlen(v->valuestring);
    return 0;
}

/* ---------------------------- window limiter ---------------------------- */

/* The step's criticality (a level name or raw number), default CRITICAL. */
static int read_level(const step_ctx *s, rsl_criticality *out, err_t *e) {
    const cJSON *v = arg(s, "criticality");
    if (v == NULL) {
        *out = RSL_CRITICALITY_DEFAULT;
        return 0;
    }
    if (read_name_or_u32(v, &levels, out, e)) return wrap(e, "criticality");
    return 0;
}

typedef struct {
    int64_t delay;
    const rsl_backoff_state *state;
    uint32_t draws;
} backoff_view;

static int delay_bounds(const char *key, const cJSON *want, int64_t delay, err_t *e) {
    int64_t w;
    if (read_i64(want, &w, e)) return wrap(e, key);
    if (strcmp(key, "min_delay_ns") == 0 && delay < w) {
        return fail(e, "delay %lld < min_delay_ns %lld", (long long)delay, (long long)w);
    }
    if (strcmp(key, "below_delay_ns") == 0 && delay >= w) {
        return fail(e, "delay %lld >= below_delay_ns %lld", (long long)delay, (long long)w);
    }
    return 0;
}

static int backoff_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const backoff_view *v = ctx;
    if (strcmp(key, "delay_ns") == 0) return expect_i64(key, want, v->delay, e);
    if (strcmp(key, "min_delay_ns") == 0 || strcmp(key, "below_delay_ns") == 0)
        return delay_bounds(key, want, v->delay, e);
    if (v->state != NULL && strcmp(key, "prev_delay_ns") == 0)
        return expect_i64(key, want, v->state->prev_delay_ns, e);
    if (v->state != NULL && strcmp(key, "prev") == 0)
        return expect_f64(key, want, v->state->prev, e);
    return 1;
}

static int draws_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const backoff_view *v = ctx;
    if (strcmp(key, "draws") == 0) return expect_u64(key, want, v->draws, e);
    return 1;
}

typedef union {
    rsl_backoff_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} backoff_config_buf;

typedef struct {
    rsl_backoff *b;
    const backoff_config_buf *cfg;
    rsl_backoff_state state;
} backoff_run;

static int backoff_step(backoff_run *r, const char *op, const step_ctx *s, rsl_status want,
                        err_t *e) {
    backoff_view v;
    uint32_t attempt = 0;
    int done;
    memset(&v, 0, sizeof v);
    v.delay = -1;
    if (strcmp(op, "reset_state") == 0) {
        done = check_status("rsl_backoff_state_init", rsl_backoff_state_init(&r->state, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, no_check, NULL, e);
    }
    if (read_u32_arg(s, "attempt", &attempt, e)) return -1;
    if (strcmp(op, "draws") == 0) {
        done = check_status("rsl_backoff_draws", rsl_backoff_draws(&r->cfg->cfg, attempt, &v.draws, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, draws_check, &v, e);
    }
    if (strcmp(op, "delay") == 0) {
        const cJSON *u = arg(s, "u");
        if (!cJSON_IsNumber(u)) return fail(e, "u: expected a number");
        done = check_status("rsl_backoff_delay_with_u",
                            rsl_backoff_delay_with_u(&r->cfg->cfg, attempt, u->valuedouble,
                                                     &r->state, &v.delay, NULL),
                            want, e);
        v.state = &r->state;
    } else if (strcmp(op, "next") == 0) {
        done = check_status("rsl_backoff_next",
                            rsl_backoff_next(r->b, attempt, &r->state, &v.delay, NULL), want, e);
        v.state = &r->state;
    } else if (strcmp(op, "next_null_state") == 0) {
        done = check_status("rsl_backoff_next", rsl_backoff_next(r->b, attempt, NULL, &v.delay, NULL),
                            want, e);
    } else {
        return fail(e, "unknown backoff op \"%s\"", op);
    }
    if (done) return done < 0 ? -1 : 0;
    return for_each_expect(s, op, backoff_check, &v, e);
}

typedef struct {
    rsl_retry *p;
    rsl_retry_budget *budget; /* NULL without a budget */
    label_store states;
} retry_run;

static int decision_view_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_retry_decision *d = ctx;
    if (strcmp(key, "retry") == 0) return expect_bool(key, want, d->retry, e);
    if (strcmp(key, "reason") == 0) return expect_name(key, want, &retry_reasons, d->reason, e);
    if (strcmp(key, "delay_ns") == 0) return expect_i64(key, want, d->delay_ns, e);
    if (strcmp(key, "retry_at_ns") == 0) return expect_i64(key, want, d->retry_at_ns, e);
    if (strcmp(key, "attempt") == 0) return expect_u64(key, want, d->attempt, e);
    if (strcmp(key, "report_outcome") == 0)
        return expect_name(key, want, &retry_outcomes, d->report_outcome, e);
    if (strcmp(key, "min_delay_ns") == 0 || strcmp(key, "below_delay_ns") == 0)
        return delay_bounds(key, want, d->delay_ns, e);
    return 1;
}

static int attempts_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_retry_state *st = ctx;
    if (strcmp(key, "attempts") == 0) return expect_u64(key, want, st->attempts, e);
    return 1;
}

static int outcome_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_outcome *o = ctx;
    if (strcmp(key, "outcome") == 0) return expect_name(key, want, &retry_outcomes, *o, e);
    return 1;
}

static int string_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const char *got = *(const char *const *)ctx;
    if (strcmp(key, "value") != 0) return 1;
    if (cJSON_IsNull(want)) {
        if (got != NULL) return fail(e, "value: expected null, got \"%s\"", got);
        return 0;
    }
    if (!cJSON_IsString(want)) return fail(e, "value: expected a string or null");
    if (got == NULL || strcmp(got, want->valuestring) != 0) {
        return fail(e, "value: expected \"%s\", got %s%s%s", want->valuestring,
                    got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
    }
    return 0;
}

static int retry_after_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const int64_t *got = ctx;
    int64_t w;
    if (strcmp(key, "retry_after_ns") != 0) return 1;
    if (read_time_or_name(want, RSL_RETRY_AFTER_NONE, &w, e)) return wrap(e, key);
    if (w != *got) {
        return fail(e, "retry_after_ns: expected %lld, got %lld", (long long)w, (long long)*got);
    }
    return 0;
}

static int budget_metrics_step(rsl_retry_budget *b, const char *op, const step_ctx *s,
                               rsl_status want, err_t *e) {
    rsl_retry_budget_metrics m;
    int done;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (b == NULL) return fail(e, "%s without a budget", op);
    done = check_status("rsl_retry_budget_get_metrics_at",
                        rsl_retry_budget_get_metrics_at(b, s->at, &m, NULL), want, e);
    if (done) return done < 0 ? -1 : 0;
    if (s->expect == NULL) return 0;
    return expect_fields("metrics", s->expect, &m, budget_metrics_fields,
                         COUNT(budget_metrics_fields), e);
}

static int retry_step(retry_run *r, const char *op, const step_ctx *s, rsl_status want,
                      err_t *e) {
    int done;
    const char *id = "op";
    const cJSON *v = arg(s, "operation");
    if (v != NULL && read_label(v, &id, e)) return wrap(e, "operation");
    if (strcmp(op, "begin") == 0) {
        rsl_retry_state st;
        int64_t deadline = RSL_NO_DEADLINE;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        if ((v = arg(s, "state_size")) != NULL && read_u32(v, &st.struct_size, e))
            return wrap(e, "state_size");
        if ((v = arg(s, "deadline_ns")) != NULL &&
            read_time_or_name(v, RSL_NO_DEADLINE, &deadline, e))
            return wrap(e, "deadline_ns");
        done = check_status("rsl_retry_begin_at",
                            rsl_retry_begin_at(r->p, r->budget, s->at, deadline, &st, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (labels_put(&r->states, id, &st, e)) return -1;
        return for_each_expect(s, op, attempts_check, &st, e);
    }
    if (strcmp(op, "next") == 0) {
        rsl_retry_state st;
        rsl_retry_decision d;
        rsl_outcome outcome;
        uint32_t flags;
        int64_t retry_after = RSL_RETRY_AFTER_NONE;
        err_t ignore;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        /* An operation never begun is a fresh, not-begun state. */
        (void)labels_get(&r->states, id, &st, &ignore);
        if ((v = arg(s, "outcome")) == NULL) return fail(e, "missing \"outcome\"");
        if (read_name_or_u32(v, &retry_outcomes, &outcome, e)) return wrap(e, "outcome");
        if (read_flags(s, &flags, e)) return -1;
        if ((v = arg(s, "retry_after_ns")) != NULL &&
            read_time_or_name(v, RSL_RETRY_AFTER_NONE, &retry_after, e))
            return wrap(e, "retry_after_ns");
        memset(&d, 0, sizeof d);
        done = check_status("rsl_retry_next_at",
                            rsl_retry_next_at(r->p, r->budget, &st, s->at, outcome, flags,
                                              retry_after, &d, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        if (labels_put(&r->states, id, &st, e)) return -1;
        return for_each_expect(s, op, decision_view_check, &d, e);
    }
    if (strcmp(op, "budget_metrics") == 0) {
        return budget_metrics_step(r->budget, op, s, want, e);
    }
    if (strcmp(op, "parse_header") == 0) {
        const char *value;
        size_t len;
        rsl_outcome o = 0;
        if (read_header_value(s, &value, &len, e)) return -1;
        done = check_status("rsl_retry_header_parse", rsl_retry_header_parse(value, len, &o, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, outcome_check, &o, e);
    }
    if (strcmp(op, "format_header") == 0) {
        rsl_outcome o;
        const char *value = "unset";
        if ((v = arg(s, "outcome")) == NULL) return fail(e, "missing \"outcome\"");
        if (read_name_or_u32(v, &retry_outcomes, &o, e)) return wrap(e, "outcome");
        done = check_status("rsl_retry_header_format", rsl_retry_header_format(o, &value, NULL), want,
                            e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, string_check, &value, e);
    }
    if (strcmp(op, "header_name") == 0) {
        const char *name = rsl_retry_header_name();
        return for_each_expect(s, op, string_check, &name, e);
    }
    if (strcmp(op, "parse_pushback") == 0 || strcmp(op, "parse_http_retry_after") == 0) {
        const char *value;
        size_t len;
        int64_t out = 12345;
        int pushback = strcmp(op, "parse_pushback") == 0;
        if (read_header_value(s, &value, &len, e)) return -1;
        done = check_status(pushback ? "rsl_retry_pushback_parse" : "rsl_retry_after_parse_http",
                            pushback ? rsl_retry_pushback_parse(value, len, &out, NULL)
                                     : rsl_retry_after_parse_http(value, len, &out, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, retry_after_check, &out, e);
    }
    return fail(e, "unknown retry op \"%s\"", op);
}

typedef struct {
    rsl_retry_budget *b;
    label_store tickets;
} budget_run;

static int ticket_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_retry_budget_ticket *t = ctx;
    if (strcmp(key, "ticket_kind") == 0) return expect_u64(key, want, t->kind, e);
    if (strcmp(key, "cost") == 0) return expect_u64(key, want, t->cost, e);
    return 1;
}

typedef struct {
    uint32_t granted;
    rsl_retry_budget_ticket ticket;
} withdrawal_view;

static int withdrawal_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const withdrawal_view *w = ctx;
    if (strcmp(key, "granted") == 0) return expect_bool(key, want, w->granted, e);
    return ticket_check(key, want, &w->ticket, e);
}

static int keep_ticket(budget_run *r, const step_ctx *s, const rsl_retry_budget_ticket *t,
                       err_t *e) {
    const cJSON *label = arg(s, "ticket");
    const char *name;
    if (label == NULL) return 0;
    if (read_label(label, &name, e)) return wrap(e, "ticket");
    return labels_put(&r->tickets, name, t, e);
}

static int budget_step(budget_run *r, const char *op, const step_ctx *s, rsl_status want,
                       err_t *e) {
    int done;
    if (strcmp(op, "deposit") == 0) {
        rsl_retry_budget_ticket t;
        memset(&t, 0, sizeof t);
        done = check_status("rsl_retry_budget_deposit_at",
                            rsl_retry_budget_deposit_at(r->b, s->at, &t, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (keep_ticket(r, s, &t, e)) return -1;
        return for_each_expect(s, op, ticket_check, &t, e);
    }
    if (strcmp(op, "withdraw") == 0) {
        withdrawal_view w;
        uint32_t flags;
        memset(&w, 0, sizeof w);
        w.granted = 99;
        if (read_flags(s, &flags, e)) return -1;
        done = check_status("rsl_retry_budget_try_withdraw_at",
                            rsl_retry_budget_try_withdraw_at(r->b, s->at, flags, &w.granted,
                                                             &w.ticket, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        if (keep_ticket(r, s, &w.ticket, e)) return -1;
        return for_each_expect(s, op, withdrawal_check, &w, e);
    }
    if (strcmp(op, "record") == 0) {
        rsl_retry_budget_ticket t;
        rsl_outcome outcome;
        const char *name;
        const cJSON *label = arg(s, "ticket"), *v;
        if (label == NULL) return fail(e, "missing \"ticket\"");
        if (read_label(label, &name, e)) return wrap(e, "ticket");
        if (labels_get(&r->tickets, name, &t, e)) return -1;
        if ((v = arg(s, "outcome")) == NULL) return fail(e, "missing \"outcome\"");
        if (read_name_or_u32(v, &retry_outcomes, &outcome, e)) return wrap(e, "outcome");
        done = check_status("rsl_retry_budget_record_at",
                            rsl_retry_budget_record_at(r->b, s->at, &t, outcome, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, no_check, NULL, e);
    }
    if (strcmp(op, "metrics") == 0) {
        return budget_metrics_step(r->b, op, s, want, e);
    }
    return fail(e, "unknown retry_budget op \"%s\"", op);
}

typedef struct {
    rsl_window_limiter *w;
    rsl_window_limiter *other; /* created on the first "on": "other" step */
    rsl_window_limiter_config cfg;
    label_store tickets;
} window_run;

/* Applies a step's "alter" object to a kept u64 value (a permit, a waiter
 * ticket, a reservation): "add" (wrapping, may be negative), "flip_bit"
 * (0..63), "zero": true, "all_ones": true; key by key in order. */
static int alter_u64(const cJSON *alter, uint64_t *v, err_t *e) {
    const cJSON *item;
    if (!cJSON_IsObject(alter)) return fail(e, "alter: expected an object");
    cJSON_ArrayForEach(item, alter) {
        if (strcmp(item->string, "add") == 0) {
            int64_t n;
            if (read_i64(item, &n, e)) return wrap(e, "alter.add");
            *v += (uint64_t)n;
        } else if (strcmp(item->string, "flip_bit") == 0) {
            uint32_t bit;
            if (read_u32(item, &bit, e) || bit > 63) return fail(e, "alter.flip_bit: not in 0..63");
            *v ^= (uint64_t)1 << bit;
        } else if (strcmp(item->string, "zero") == 0 && cJSON_IsTrue(item)) {
            *v = 0;
        } else if (strcmp(item->string, "all_ones") == 0 && cJSON_IsTrue(item)) {
            *v = UINT64_MAX;
        } else {
            return fail(e, "alter: unknown key \"%s\" (or a bad value)", item->string);
        }
    }
    return 0;
}

/* The step's limiter: this one, or (for "on": "other") a second one built
 * from the same config, to make foreign tickets. */
static int window_target(window_run *r, const step_ctx *s, rsl_window_limiter **out, err_t *e) {
    const cJSON *on = arg(s, "on");
    if (on == NULL || (cJSON_IsString(on) && strcmp(on->valuestring, "self") == 0)) {
        *out = r->w;
        return 0;
    }
    if (!cJSON_IsString(on) || strcmp(on->valuestring, "other") != 0) {
        return fail(e, "on: expected \"self\" or \"other\"");
    }
    if (r->other == NULL) {
        rsl_status st = rsl_window_limiter_new(&r->cfg, &r->other, NULL);
        if (st != RSL_OK) return fail(e, "the other limiter: %s", rsl_last_error_message());
    }
    *out = r->other;
    return 0;
}

static int window_decision_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_window_limiter_decision *d = ctx;
    if (strcmp(key, "allowed") == 0) return expect_bool(key, want, d->allowed, e);
    if (strcmp(key, "retry_after_ns") == 0) return expect_i64(key, want, d->retry_after_ns, e);
    if (strcmp(key, "window_count") == 0) return expect_u64(key, want, d->window_count, e);
    if (strcmp(key, "previous_count") == 0) return expect_u64(key, want, d->previous_count, e);
    if (strcmp(key, "remaining") == 0) return expect_u64(key, want, d->remaining, e);
    if (strcmp(key, "level_limit") == 0) return expect_u64(key, want, d->level_limit, e);
    return 1;
}

static int reserve_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_window_limiter_reserve_result *r = ctx;
    if (strcmp(key, "outcome") == 0) return expect_name(key, want, &reserve_outcomes, r->outcome, e);
    if (strcmp(key, "wait_ns") == 0) return expect_i64(key, want, r->wait_ns, e);
    if (strcmp(key, "ready_at_ns") == 0) return expect_i64(key, want, r->ready_at_ns, e);
    return 1;
}

static int window_cancelled_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "cancelled") == 0) return expect_bool(key, want, *(const uint32_t *)ctx, e);
    return 1;
}

static int window_step(window_run *r, const char *op, const step_ctx *s, rsl_status want,
                       err_t *e) {
    int done;
    rsl_window_limiter *w;
    if (window_target(r, s, &w, e)) return -1;
    if (strcmp(op, "acquire") == 0) {
        rsl_window_limiter_decision d;
        rsl_criticality level;
        uint32_t n = 1;
        const cJSON *nv = arg(s, "n");
        if (nv != NULL && read_u32(nv, &n, e)) return wrap(e, "n");
        if (read_level(s, &level, e)) return -1;
        memset(&d, 0, sizeof d);
        done = check_status("rsl_window_limiter_try_acquire_at",
                            rsl_window_limiter_try_acquire_at(w, s->at, n, level, &d, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, window_decision_check, &d, e);
    }
    if (strcmp(op, "reserve") == 0) {
        rsl_window_limiter_reserve_result res, garbage;
        rsl_criticality level;
        uint32_t n = 1;
        int64_t max_wait = 0;
        int ok;
        const cJSON *nv = arg(s, "n"), *mv = arg(s, "max_wait_ns"), *label = arg(s, "reservation");
        if (nv != NULL && read_u32(nv, &n, e)) return wrap(e, "n");
        if (mv != NULL && read_i64(mv, &max_wait, e)) return wrap(e, "max_wait_ns");
        if (read_level(s, &level, e)) return -1;
        memset(&garbage, 0xab, sizeof garbage);
        res = garbage;
        done = check_status("rsl_window_limiter_reserve_at",
                            rsl_window_limiter_reserve_at(w, s->at, n, level, max_wait, &res, NULL),
                            want, e);
        if (done < 0) return -1;
        if (done) {
            if (memcmp(&res, &garbage, sizeof res) != 0) {
                return fail(e, "a failed reserve wrote its out struct");
            }
            return 0;
        }
        switch (res.outcome) {
        case RSL_WINDOW_LIMITER_GRANTED:
            ok = res.wait_ns == 0 && res.ready_at_ns == 0 && res.reservation == 0;
            break;
        case RSL_WINDOW_LIMITER_RESERVED:
            ok = res.wait_ns >= 1 && res.wait_ns <= max_wait && res.reservation != 0;
            break;
        case RSL_WINDOW_LIMITER_TOO_LONG:
            ok = res.wait_ns > max_wait && res.ready_at_ns == 0 && res.reservation == 0;
            break;
        case RSL_WINDOW_LIMITER_QUEUE_FULL:
            ok = res.wait_ns <= max_wait && res.ready_at_ns == 0 && res.reservation == 0;
            break;
        default:
            ok = 0;
        }
        if (!ok || res.reserved0 != 0) {
            return fail(e, "inconsistent reserve result: outcome %u, wait %lld, ready_at %lld, "
                           "reservation %llu",
                        (unsigned)res.outcome, (long long)res.wait_ns, (long long)res.ready_at_ns,
                        (unsigned long long)res.reservation);
        }
        if (label != NULL) {
            const char *name;
            uint64_t t = res.reservation;
            if (read_label(label, &name, e)) return wrap(e, "reservation");
            if (labels_put(&r->tickets, name, &t, e)) return -1;
        }
        return for_each_expect(s, op, reserve_check, &res, e);
    }
    if (strcmp(op, "cancel") == 0) {
        uint64_t t;
        uint32_t cancelled = 0xabab;
        const char *name;
        const cJSON *label = arg(s, "reservation"), *alter = arg(s, "alter");
        if (label == NULL) return fail(e, "missing \"reservation\"");
        if (read_label(label, &name, e)) return wrap(e, "reservation");
        if (labels_get(&r->tickets, name, &t, e)) return -1;
        if (alter != NULL && alter_u64(alter, &t, e)) return -1;
        done = check_status("rsl_window_limiter_cancel_at",
                            rsl_window_limiter_cancel_at(w, s->at, t, &cancelled, NULL), want, e);
        if (done < 0) return -1;
        if (done) {
            if (cancelled != 0xabab) return fail(e, "a failed cancel wrote out_cancelled");
            return 0;
        }
        if (cancelled > 1) return fail(e, "cancelled is %u, not 0 or 1", (unsigned)cancelled);
        return for_each_expect(s, op, window_cancelled_check, &cancelled, e);
    }
    if (strcmp(op, "metrics") == 0) {
        rsl_window_limiter_metrics m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        done = check_status("rsl_window_limiter_get_metrics_at",
                            rsl_window_limiter_get_metrics_at(w, s->at, &m, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (s->expect == NULL) return 0;
        return expect_fields("metrics", s->expect, &m, window_metrics_fields,
                             COUNT(window_metrics_fields), e);
    }
    return fail(e, "unknown window_limiter op \"%s\"", op);
}

/* --------------------------- adaptive limiter --------------------------- */

typedef struct {
    rsl_adaptive_limiter *l;
    label_store tokens;
} limiter_run;

typedef struct {
    const rsl_adaptive_limiter_decision *d;      /* may be NULL */
    const rsl_adaptive_limiter_record_result *r; /* may be NULL */
} limiter_view;

static int limiter_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const limiter_view *v = ctx;
    if (v->d != NULL) {
        const rsl_adaptive_limiter_decision *d = v->d;
        if (strcmp(key, "allowed") == 0) return expect_bool(key, want, d->allowed, e);
        if (strcmp(key, "cpu_permille") == 0) return expect_u64(key, want, d->cpu_permille, e);
        if (strcmp(key, "overloaded") == 0) return expect_bool(key, want, d->overloaded, e);
        if (strcmp(key, "cooling_down") == 0) return expect_bool(key, want, d->cooling_down, e);
        if (strcmp(key, "inflight") == 0) return expect_u64(key, want, d->inflight, e);
        if (strcmp(key, "limit") == 0) return expect_u64(key, want, d->limit, e);
        if (strcmp(key, "max_pass") == 0) return expect_u64(key, want, d->max_pass, e);
        if (strcmp(key, "min_rt_ms") == 0) return expect_u64(key, want, d->min_rt_ms, e);
    }
    if (v->r != NULL) {
        if (strcmp(key, "counted") == 0) return expect_bool(key, want, v->r->counted, e);
        if (strcmp(key, "rt_ms") == 0) return expect_u64(key, want, v->r->rt_ms, e);
    }
    return 1;
}

static int limiter_step(limiter_run *r, const char *op, const step_ctx *s, rsl_status want,
                        err_t *e) {
    int done;
    limiter_view v;
    memset(&v, 0, sizeof v);
    if (strcmp(op, "set_cpu") == 0) {
        uint32_t cpu;
        const cJSON *c = arg(s, "cpu_permille");
        if (c == NULL) return fail(e, "missing \"cpu_permille\"");
        if (read_u32(c, &cpu, e)) return wrap(e, "cpu_permille");
        done = check_status("rsl_adaptive_limiter_set_cpu",
                            rsl_adaptive_limiter_set_cpu(r->l, cpu, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, no_check, NULL, e);
    }
    if (strcmp(op, "acquire") == 0) {
        rsl_adaptive_limiter_decision d;
        rsl_criticality level;
        const cJSON *label = arg(s, "token");
        if (read_level(s, &level, e)) return -1;
        memset(&d, 0, sizeof d);
        done = check_status("rsl_adaptive_limiter_acquire_at",
                            rsl_adaptive_limiter_acquire_at(r->l, s->at, level, &d, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (label != NULL) {
            const char *name;
            if (read_label(label, &name, e)) return wrap(e, "token");
            if (!d.allowed) return fail(e, "token \"%s\": the acquire was dropped", name);
            if (labels_put(&r->tokens, name, &d.token, e)) return -1;
        }
        v.d = &d;
        return for_each_expect(s, op, limiter_check, &v, e);
    }
    if (strcmp(op, "release") == 0) {
        rsl_adaptive_limiter_token token;
        rsl_adaptive_limiter_record_result rel;
        rsl_outcome outcome;
        const char *name;
        const cJSON *label = arg(s, "token");
        if (label == NULL) return fail(e, "missing \"token\"");
        if (read_label(label, &name, e)) return wrap(e, "token");
        if (labels_get(&r->tokens, name, &token, e)) return -1;
        if (read_outcome(s, &outcome, e)) return -1;
        memset(&rel, 0, sizeof rel);
        done = check_status("rsl_adaptive_limiter_record_at",
                            rsl_adaptive_limiter_record_at(r->l, s->at, &token, outcome, &rel, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        v.r = &rel;
        return for_each_expect(s, op, limiter_check, &v, e);
    }
    if (strcmp(op, "call") == 0) {
        rsl_adaptive_limiter_decision d;
        rsl_adaptive_limiter_record_result rel;
        rsl_criticality level;
        rsl_outcome outcome;
        int64_t duration = 0;
        const cJSON *dv = arg(s, "duration_ns");
        if (read_level(s, &level, e)) return -1;
        if (read_outcome(s, &outcome, e)) return -1;
        if (dv != NULL && read_i64(dv, &duration, e)) return wrap(e, "duration_ns");
        memset(&d, 0, sizeof d);
        memset(&rel, 0, sizeof rel);
        /* Only the release can be expected to fail (an invalid outcome). */
        if (check_status("rsl_adaptive_limiter_acquire_at",
                         rsl_adaptive_limiter_acquire_at(r->l, s->at, level, &d, NULL), RSL_OK, e)) {
            return -1;
        }
        if (d.allowed) {
            done = check_status("rsl_adaptive_limiter_record_at",
                                rsl_adaptive_limiter_record_at(r->l, s->at + duration, &d.token,
                                                                outcome, &rel, NULL),
                                want, e);
            if (done) return done < 0 ? -1 : 0;
        } else if (want != RSL_OK) {
            char b[32];
            return fail(e, "the call was dropped, so its release never returned %s",
                        name_of(&statuses, want, b, sizeof b));
        }
        v.d = &d;
        v.r = &rel; /* all zero when dropped: counted false, rt_ms 0 */
        return for_each_expect(s, op, limiter_check, &v, e);
    }
    if (strcmp(op, "metrics") == 0) {
        rsl_adaptive_limiter_metrics m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        done = check_status("rsl_adaptive_limiter_get_metrics_at",
                            rsl_adaptive_limiter_get_metrics_at(r->l, s->at, &m, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (s->expect == NULL) return 0;
        return expect_fields("metrics", s->expect, &m, limiter_metrics_fields,
                             COUNT(limiter_metrics_fields), e);
    }
    return fail(e, "unknown adaptive_limiter op \"%s\"", op);
}

/* -------------------------------- bulkhead ------------------------------ */

typedef struct {
    rsl_bulkhead *h;
    rsl_bulkhead *other; /* created on the first "on": "other" step */
    rsl_bulkhead_config cfg;
    label_store values; /* permits and waiter tickets (u64 values) by label */
} bulkhead_run;

/* The step's target: this bulkhead, or (for "on": "other") a second one
 * built from the same config, to make foreign permits and tickets. */
static int bulkhead_target(bulkhead_run *r, const step_ctx *s, rsl_bulkhead **out, err_t *e) {
    const cJSON *on = arg(s, "on");
    if (on == NULL || (cJSON_IsString(on) && strcmp(on->valuestring, "self") == 0)) {
        *out = r->h;
        return 0;
    }
    if (!cJSON_IsString(on) || strcmp(on->valuestring, "other") != 0) {
        return fail(e, "on: expected \"self\" or \"other\"");
    }
    if (r->other == NULL) {
        rsl_status st = rsl_bulkhead_new(&r->cfg, &r->other, NULL);
        if (st != RSL_OK) return fail(e, "the other bulkhead: %s", rsl_last_error_message());
    }
    *out = r->other;
    return 0;
}

/* Keeps `v` under the label in the step's `key`, if the step has one. */
static int bulkhead_keep(bulkhead_run *r, const step_ctx *s, const char *key, uint64_t v,
                         err_t *e) {
    const char *name;
    const cJSON *label = arg(s, key);
    if (label == NULL) return 0;
    if (read_label(label, &name, e)) return wrap(e, key);
    return labels_put(&r->values, name, &v, e);
}

/* The value under the label in the step's `key`, altered as the step says. */
static int bulkhead_value(bulkhead_run *r, const step_ctx *s, const char *key, uint64_t *v,
                          err_t *e) {
    const char *name;
    const cJSON *label = arg(s, key), *alter = arg(s, "alter");
    if (label == NULL) return fail(e, "missing \"%s\" label", key);
    if (read_label(label, &name, e)) return wrap(e, key);
    if (labels_get(&r->values, name, v, e)) return -1;
    if (alter != NULL && alter_u64(alter, v, e)) return -1;
    return 0;
}

/* The label a (non-zero) value was kept under, or NULL. */
static const char *bulkhead_label_of(const bulkhead_run *r, uint64_t v) {
    size_t i;
    if (v == 0) return NULL;
    for (i = 0; i < r->values.count; i++) {
        uint64_t x;
        memcpy(&x, r->values.values + i * r->values.elem, sizeof x);
        if (x == v) return r->values.names[i];
    }
    return NULL;
}

static int entered_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "entered") == 0) {
        return expect_bool(key, want, *(const rsl_bulkhead_permit *)ctx != 0, e);
    }
    return 1;
}

static int entry_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_bulkhead_entry *v = ctx;
    if (strcmp(key, "outcome") == 0) return expect_name(key, want, &bulkhead_outcomes, v->outcome, e);
    if (strcmp(key, "position") == 0) return expect_u64(key, want, v->position, e);
    return 1;
}

typedef struct {
    const bulkhead_run *run;
    const rsl_bulkhead_exit_result *x;
} exit_view;

static int exit_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const exit_view *v = ctx;
    if (strcmp(key, "held_ns") == 0) return expect_i64(key, want, v->x->held_ns, e);
    if (strcmp(key, "handed_to") == 0) {
        return expect_name(key, want, &bulkhead_handed, v->x->handed_to, e);
    }
    if (strcmp(key, "waiter") == 0) {
        const char *got = bulkhead_label_of(v->run, v->x->waiter);
        if (cJSON_IsNull(want)) {
            if (v->x->waiter != 0) return fail(e, "waiter: expected none, got \"%s\"", got ? got : "?");
            return 0;
        }
        if (!cJSON_IsString(want)) return fail(e, "waiter: expected a label or null");
        if (got == NULL || strcmp(got, want->valuestring) != 0) {
            return fail(e, "waiter: expected \"%s\", got \"%s\"", want->valuestring,
                        got ? got : "(none)");
        }
        return 0;
    }
    return 1;
}

typedef struct {
    const bulkhead_run *run;
    const rsl_bulkhead_cancel_result *c;
} cancel_view;

static int cancel_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const cancel_view *v = ctx;
    if (strcmp(key, "cancelled") == 0) return expect_bool(key, want, v->c->cancelled, e);
    if (strcmp(key, "same_as") == 0) {
        uint64_t kept;
        if (!cJSON_IsString(want)) return fail(e, "same_as: expected a label");
        if (labels_get(&v->run->values, want->valuestring, &kept, e)) return wrap(e, "same_as");
        if (kept != v->c->permit) {
            return fail(e, "same_as: the permit is not the one kept as \"%s\"", want->valuestring);
        }
        return 0;
    }
    return 1;
}

static int bulkhead_step(bulkhead_run *r, const char *op, const step_ctx *s, rsl_status want,
                         err_t *e) {
    int done;
    rsl_bulkhead *h;
    if (bulkhead_target(r, s, &h, e)) return -1;
    if (strcmp(op, "try_enter") == 0 || strcmp(op, "enter_wait") == 0) {
        /* Garbage in: a refused entry must write 0. */
        rsl_bulkhead_permit p = UINT64_C(0xabababababababab);
        if (op[0] == 't') {
            done = check_status("rsl_bulkhead_try_enter_at",
                                rsl_bulkhead_try_enter_at(h, s->at, &p, NULL), want, e);
        } else {
            int64_t timeout = 0;
            const cJSON *t = arg(s, "timeout_ns");
            if (t != NULL && read_i64(t, &timeout, e)) return wrap(e, "timeout_ns");
            done = check_status("rsl_bulkhead_enter_wait",
                                rsl_bulkhead_enter_wait(h, timeout, &p, NULL), want, e);
        }
        if (done) return done < 0 ? -1 : 0;
        if (bulkhead_keep(r, s, "permit", p, e)) return -1;
        return for_each_expect(s, op, entered_check, &p, e);
    }
    if (strcmp(op, "enqueue") == 0) {
        rsl_bulkhead_entry v;
        int ok;
        memset(&v, 0xab, sizeof v);
        done = check_status("rsl_bulkhead_enqueue_at", rsl_bulkhead_enqueue_at(h, s->at, &v, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        switch (v.outcome) {
        case RSL_BULKHEAD_ENTERED: ok = v.permit != 0 && v.waiter == 0 && v.position == 0; break;
        case RSL_BULKHEAD_QUEUED: ok = v.permit == 0 && v.waiter != 0 && v.position >= 1; break;
        case RSL_BULKHEAD_FULL: ok = v.permit == 0 && v.waiter == 0 && v.position == 0; break;
        default: ok = 0;
        }
        if (!ok) return fail(e, "inconsistent entry (outcome %u)", (unsigned)v.outcome);
        if (bulkhead_keep(r, s, "permit", v.permit, e)) return -1;
        if (bulkhead_keep(r, s, "waiter", v.waiter, e)) return -1;
        return for_each_expect(s, op, entry_check, &v, e);
    }
    if (strcmp(op, "exit") == 0) {
        rsl_bulkhead_exit_result x, garbage;
        exit_view v;
        uint64_t p;
        int ok;
        if (bulkhead_value(r, s, "permit", &p, e)) return -1;
        memset(&garbage, 0xab, sizeof garbage);
        x = garbage;
        done = check_status("rsl_bulkhead_exit_at", rsl_bulkhead_exit_at(h, s->at, p, &x, NULL),
                            want, e);
        if (done < 0) return -1;
        if (done) {
            if (memcmp(&x, &garbage, sizeof x) != 0) return fail(e, "a failed exit wrote its out struct");
            return 0;
        }
        switch (x.handed_to) {
        case RSL_BULKHEAD_HANDED_WAITER: ok = x.waiter != 0 && x.permit != 0; break;
        case RSL_BULKHEAD_HANDED_NONE:
        case RSL_BULKHEAD_HANDED_THREAD: ok = x.waiter == 0 && x.permit == 0; break;
        default: ok = 0;
        }
        if (!ok || x.reserved0 != 0 || x.held_ns < 0) {
            return fail(e, "inconsistent exit result (handed_to %u)", (unsigned)x.handed_to);
        }
        if (arg(s, "handed_permit") != NULL) {
            if (x.handed_to != RSL_BULKHEAD_HANDED_WAITER) {
                return fail(e, "handed_permit: nothing was handed to a waiter");
            }
            if (bulkhead_keep(r, s, "handed_permit", x.permit, e)) return -1;
        }
        v.run = r;
        v.x = &x;
        return for_each_expect(s, op, exit_check, &v, e);
    }
    if (strcmp(op, "cancel_wait") == 0) {
        rsl_bulkhead_cancel_result c, garbage;
        cancel_view v;
        uint64_t w;
        if (bulkhead_value(r, s, "waiter", &w, e)) return -1;
        memset(&garbage, 0xab, sizeof garbage);
        c = garbage;
        done = check_status("rsl_bulkhead_cancel_wait", rsl_bulkhead_cancel_wait(h, w, &c, NULL),
                            want, e);
        if (done < 0) return -1;
        if (done) {
            if (memcmp(&c, &garbage, sizeof c) != 0) {
                return fail(e, "a failed cancel wrote its out struct");
            }
            return 0;
        }
        if (c.reserved0 != 0 || (c.cancelled == 1 && c.permit != 0) ||
            (c.cancelled == 0 && c.permit == 0) || c.cancelled > 1) {
            return fail(e, "inconsistent cancel result (cancelled %u)", (unsigned)c.cancelled);
        }
        if (bulkhead_keep(r, s, "permit", c.permit, e)) return -1;
        v.run = r;
        v.c = &c;
        return for_each_expect(s, op, cancel_check, &v, e);
    }
    if (strcmp(op, "metrics") == 0) {
        rsl_bulkhead_metrics m;
        memset(&m, 0xab, sizeof m);
        m.struct_size = sizeof m;
        done = check_status("rsl_bulkhead_get_metrics_at",
                            rsl_bulkhead_get_metrics_at(h, s->at, &m, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        if (m.queued_total != m.handed_over_total + m.cancelled_total + m.waiting) {
            return fail(e, "queue totals do not balance: queued %llu, handed %llu, cancelled %llu, "
                           "waiting %u",
                        (unsigned long long)m.queued_total, (unsigned long long)m.handed_over_total,
                        (unsigned long long)m.cancelled_total, (unsigned)m.waiting);
        }
        if (s->expect == NULL) return 0;
        return expect_fields("metrics", s->expect, &m, bulkhead_metrics_fields,
                             COUNT(bulkhead_metrics_fields), e);
    }
    return fail(e, "unknown bulkhead op \"%s\"", op);
}

/* -------------------------------- deadline ------------------------------ */

/* A nanosecond value: a JSON integer, or (for values at or above 2^53) a
 * decimal string, or "INT64_MAX" / "none" (RSL_DEADLINE_NONE) / "INT64_MIN". */
static int read_big(const cJSON *v, int64_t *out, err_t *e) {
    if (cJSON_IsString(v)) {
        const char *t = v->valuestring;
        char *end = NULL;
        long long x;
        if (strcmp(t, "INT64_MAX") == 0 || strcmp(t, "none") == 0) {
            *out = INT64_MAX;
            return 0;
        }
        if (strcmp(t, "INT64_MIN") == 0) {
            *out = INT64_MIN;
            return 0;
        }
        errno = 0;
        x = strtoll(t, &end, 10);
        if (t[0] == '\0' || *end != '\0' || errno != 0 || !(t[0] == '-' || (t[0] >= '0' && t[0] <= '9'))) {
            return fail(e, "\"%s\" is not a decimal int64", t);
        }
        *out = (int64_t)x;
        return 0;
    }
    /* A JSON number must stay below 2^53 to be read exactly. */
    {
        double d;
        if (read_integer(v, -9007199254740992.0, 9007199254740992.0, &d, e)) return -1;
        *out = (int64_t)d;
        return 0;
    }
}

static int big_arg(const step_ctx *s, const char *name, int have_default, int64_t def,
                   int64_t *out, err_t *e) {
    const cJSON *v = arg(s, name);
    if (v == NULL) {
        if (!have_default) return fail(e, "missing \"%s\"", name);
        *out = def;
        return 0;
    }
    if (read_big(v, out, e)) return wrap(e, name);
    return 0;
}

static int expect_big(const char *key, const cJSON *want, int64_t got, err_t *e) {
    int64_t w;
    if (read_big(want, &w, e)) return wrap(e, key);
    if (w != got) {
        return fail(e, "%s: expected %lld, got %lld", key, (long long)w, (long long)got);
    }
    return 0;
}

typedef struct {
    const char *key; /* the one int64 expect key of the op */
    int64_t value;
    int has_expired;
    uint32_t expired;
} big_view;

static int big_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const big_view *v = ctx;
    if (strcmp(key, v->key) == 0) return expect_big(key, want, v->value, e);
    if (v->has_expired && strcmp(key, "expired") == 0) return expect_bool(key, want, v->expired, e);
    return 1;
}

static int plan_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_deadline_call_plan *p = ctx;
    if (strcmp(key, "decision") == 0) return expect_name(key, want, &deadline_decisions, p->decision, e);
    if (strcmp(key, "limited_by") == 0) return expect_name(key, want, &deadline_limits, p->limited_by, e);
    if (strcmp(key, "timeout_ns") == 0) return expect_big(key, want, p->timeout_ns, e);
    if (strcmp(key, "deadline_ns") == 0) return expect_big(key, want, p->deadline_ns, e);
    if (strcmp(key, "remaining_ns") == 0) return expect_big(key, want, p->remaining_ns, e);
    if (strcmp(key, "requested_timeout_ns") == 0)
        return expect_big(key, want, p->requested_timeout_ns, e);
    return 1;
}

static int text_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const char *text = ctx;
    if (strcmp(key, "text") != 0) return 1;
    if (!cJSON_IsString(want)) return fail(e, "text: expected a string");
    if (strcmp(want->valuestring, text) != 0) {
        return fail(e, "text: expected \"%s\", got \"%s\"", want->valuestring, text);
    }
    return 0;
}

static int decoded_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_deadline_decoded *d = ctx;
    if (strcmp(key, "timeout_ns") == 0) return expect_big(key, want, d->timeout_ns, e);
    if (strcmp(key, "saturated") == 0) return expect_bool(key, want, d->saturated, e);
    return 1;
}

#define TEXT_BUF_PAD 4

static int deadline_step(rsl_deadline_policy *policy, const char *op, const step_ctx *s,
                         rsl_status want, err_t *e) {
    int done;
    if (strcmp(op, "from_timeout") == 0) {
        int64_t timeout, d = 0;
        big_view v = {"deadline_ns", 0, 0, 0};
        if (big_arg(s, "timeout_ns", 0, 0, &timeout, e)) return -1;
        done = check_status("rsl_deadline_from_timeout_at",
                            rsl_deadline_from_timeout_at(s->at, timeout, &d, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        v.value = d;
        return for_each_expect(s, op, big_check, &v, e);
    }
    if (strcmp(op, "remaining") == 0) {
        int64_t deadline;
        big_view v = {"remaining_ns", 0, 1, 0};
        if (want != RSL_OK) return fail(e, "remaining cannot fail: no expect_status");
        if (big_arg(s, "deadline_ns", 0, 0, &deadline, e)) return -1;
        v.value = rsl_deadline_remaining_at(deadline, s->at);
        v.expired = rsl_deadline_expired_at(deadline, s->at);
        return for_each_expect(s, op, big_check, &v, e);
    }
    if (strcmp(op, "shrink") == 0) {
        int64_t remaining, per_call, t = 0;
        big_view v = {"timeout_ns", 0, 0, 0};
        if (big_arg(s, "remaining_ns", 0, 0, &remaining, e)) return -1;
        if (big_arg(s, "per_call_timeout_ns", 0, 0, &per_call, e)) return -1;
        done = check_status("rsl_deadline_shrink", rsl_deadline_shrink(remaining, per_call, &t, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        v.value = t;
        return for_each_expect(s, op, big_check, &v, e);
    }
    if (strcmp(op, "call") == 0) {
        int64_t deadline, per_call;
        rsl_deadline_call_plan plan;
        if (big_arg(s, "deadline_ns", 1, RSL_DEADLINE_NONE, &deadline, e)) return -1;
        if (big_arg(s, "per_call_timeout_ns", 1, 0, &per_call, e)) return -1;
        memset(&plan, 0xab, sizeof plan);
        done = check_status("rsl_deadline_policy_call_at",
                            rsl_deadline_policy_call_at(policy, s->at, deadline, per_call, &plan, NULL),
                            want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, plan_check, &plan, e);
    }
    if (strcmp(op, "grpc_encode") == 0 || strcmp(op, "http_encode") == 0) {
        int64_t timeout, buf_len = RSL_DEADLINE_TEXT_BUF_LEN;
        char *buf;
        size_t len = (size_t)-1, i;
        const cJSON *bl = arg(s, "buf_len");
        rsl_status st;
        int rc;
        if (big_arg(s, "timeout_ns", 0, 0, &timeout, e)) return -1;
        if (bl != NULL && (read_i64(bl, &buf_len, e) || buf_len < 0 || buf_len > 4096)) {
            if (buf_len < 0 || buf_len > 4096) fail(e, "out of range");
            return wrap(e, "buf_len");
        }
        buf = malloc((size_t)buf_len + TEXT_BUF_PAD);
        if (buf == NULL) return fail(e, "out of memory");
        memset(buf, '#', (size_t)buf_len + TEXT_BUF_PAD);
        st = op[0] == 'g'
                 ? rsl_deadline_grpc_timeout_encode(timeout, buf, (size_t)buf_len, &len, NULL)
                 : rsl_deadline_http_timeout_encode(timeout, buf, (size_t)buf_len, &len, NULL);
        done = check_status(op[0] == 'g' ? "rsl_deadline_grpc_timeout_encode"
                                         : "rsl_deadline_http_timeout_encode",
                            st, want, e);
        if (done) {
            if (done > 0) {
                for (i = 0; i < (size_t)buf_len + TEXT_BUF_PAD; i++) {
                    if (buf[i] != '#') {
                        free(buf);
                        return fail(e, "a failed encode wrote into the buffer");
                    }
                }
            }
            free(buf);
            return done < 0 ? -1 : 0;
        }
        if (len >= (size_t)buf_len || buf[len] != '\0' || strlen(buf) != len) {
            free(buf);
            return fail(e, "out_len %zu does not match a NUL-terminated text", len);
        }
        for (i = len + 1; i < (size_t)buf_len + TEXT_BUF_PAD; i++) {
            if (buf[i] != '#') {
                free(buf);
                return fail(e, "encode wrote past the NUL");
            }
        }
        rc = for_each_expect(s, op, text_check, buf, e);
        free(buf);
        return rc;
    }
    if (strcmp(op, "grpc_decode") == 0 || strcmp(op, "http_decode") == 0) {
        const cJSON *value = arg(s, "value"), *bytes = arg(s, "value_bytes");
        unsigned char raw[256];
        const char *ptr;
        size_t len;
        rsl_deadline_decoded d;
        rsl_status st;
        if ((value == NULL) == (bytes == NULL)) {
            return fail(e, "exactly one of \"value\" and \"value_bytes\" is needed");
        }
        if (value != NULL) {
            if (!cJSON_IsString(value)) return fail(e, "value: expected a string");
            ptr = value->valuestring;
            len = strlen(ptr);
        } else {
            const cJSON *b;
            len = 0;
            if (!cJSON_IsArray(bytes)) return fail(e, "value_bytes: expected an array");
            cJSON_ArrayForEach(b, bytes) {
                uint32_t x;
                if (len == sizeof raw) return fail(e, "value_bytes: too long");
                if (read_u32(b, &x, e) || x > 255) {
                    if (x > 255) fail(e, "not a byte");
                    return wrap(e, "value_bytes");
                }
                raw[len++] = (unsigned char)x;
            }
            ptr = (const char *)raw;
        }
        d.timeout_ns = -7;
        d.saturated = 7;
        d.reserved0 = 7;
        st = op[0] == 'g' ? rsl_deadline_grpc_timeout_decode(ptr, len, &d, NULL)
                          : rsl_deadline_http_timeout_decode(ptr, len, &d, NULL);
        done = check_status(op[0] == 'g' ? "rsl_deadline_grpc_timeout_decode"
                                         : "rsl_deadline_http_timeout_decode",
                            st, want, e);
        if (done) {
            if (done > 0 && (d.timeout_ns != -7 || d.saturated != 7 || d.reserved0 != 7)) {
                return fail(e, "a failed decode wrote its out struct");
            }
            return done < 0 ? -1 : 0;
        }
        if (d.reserved0 != 0) return fail(e, "reserved0 is not zero");
        return for_each_expect(s, op, decoded_check, &d, e);
    }
    return fail(e, "unknown deadline op \"%s\"", op);
}


/* ------------------------- token bucket, leaky bucket -------------------- */

/* A double: a JSON number, or "inf" (RSL_TOKEN_BUCKET_INF, DBL_MAX), "+inf",
 * "-inf", "nan" (which JSON cannot spell). */
static int read_double_named(const cJSON *v, double *out, err_t *e) {
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 0;
    }
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "inf") == 0) {
            *out = RSL_TOKEN_BUCKET_INF;
        } else if (strcmp(v->valuestring, "+inf") == 0) {
            *out = HUGE_VAL;
        } else if (strcmp(v->valuestring, "-inf") == 0) {
            *out = -HUGE_VAL;
        } else if (strcmp(v->valuestring, "nan") == 0) {
            *out = NAN;
        } else {
            return fail(e, "unknown double name \"%s\"", v->valuestring);
        }
        return 0;
    }
    return fail(e, "expected a number or \"inf\"/\"+inf\"/\"-inf\"/\"nan\", got %s", json_kind(v));
}

/* An int64_t: an integer, or "int64_max" / "int64_min". */
static int read_i64_named(const cJSON *v, int64_t *out, err_t *e) {
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "int64_max") == 0) {
            *out = INT64_MAX;
        } else if (strcmp(v->valuestring, "int64_min") == 0) {
            *out = INT64_MIN;
        } else {
            return fail(e, "unknown int64 name \"%s\"", v->valuestring);
        }
        return 0;
    }
    return read_i64(v, out, e);
}

static int i64_arg(const step_ctx *s, const char *name, int64_t dflt, int64_t *out, err_t *e) {
    const cJSON *v = arg(s, name);
    *out = dflt;
    if (v != NULL && read_i64_named(v, out, e)) return wrap(e, name);
    return 0;
}

/* Bit for bit (NaN equal to NaN). */
static int expect_exact(const char *key, const cJSON *want, double got, err_t *e) {
    double w;
    if (read_double_named(want, &w, e)) return wrap(e, key);
    if (isnan(w) && isnan(got)) return 0;
    if (memcmp(&w, &got, sizeof w) != 0) {
        return fail(e, "%s: expected %.17g, got %.17g (exact comparison)", key, w, got);
    }
    return 0;
}

static int expect_i64_named(const char *key, const cJSON *want, int64_t got, err_t *e) {
    int64_t w;
    if (read_i64_named(want, &w, e)) return wrap(e, key);
    if (w != got) {
        return fail(e, "%s: expected %lld, got %lld", key, (long long)w, (long long)got);
    }
    return 0;
}

typedef struct {
    rsl_token_bucket *b;
    label_store reservations;
} token_run;

static int reservation_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_token_bucket_reservation *r = ctx;
    if (strcmp(key, "ok") == 0) return expect_bool(key, want, r->ok, e);
    if (strcmp(key, "cancelled") == 0) return expect_bool(key, want, r->cancelled, e);
    if (strcmp(key, "tokens") == 0) return expect_i64_named(key, want, r->tokens, e);
    if (strcmp(key, "time_to_act_ns") == 0) return expect_i64_named(key, want, r->time_to_act_ns, e);
    if (strcmp(key, "wait_ns") == 0) return expect_i64_named(key, want, r->wait_ns, e);
    if (strcmp(key, "limit") == 0) return expect_exact(key, want, r->limit, e);
    return 1;
}

static int allowed_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "allowed") == 0) return expect_bool(key, want, *(const uint32_t *)ctx, e);
    return 1;
}

static int cancelled_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "cancelled") == 0) return expect_bool(key, want, *(const uint32_t *)ctx, e);
    return 1;
}

static int wait_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "wait_ns") == 0) return expect_i64_named(key, want, *(const int64_t *)ctx, e);
    return 1;
}

static int tokens_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "tokens") == 0) return expect_exact(key, want, *(const double *)ctx, e);
    return 1;
}

static int limit_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "limit") == 0) return expect_exact(key, want, *(const double *)ctx, e);
    return 1;
}

typedef struct {
    double limit;
    int64_t burst;
} token_settings;

static int settings_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const token_settings *t = ctx;
    if (strcmp(key, "limit") == 0) return expect_exact(key, want, t->limit, e);
    if (strcmp(key, "burst") == 0) return expect_i64_named(key, want, t->burst, e);
    return 1;
}

static int held_reservation(const token_run *r, const step_ctx *s,
                            rsl_token_bucket_reservation *out, const char **label, err_t *e) {
    const cJSON *v = arg(s, "reservation");
    if (v == NULL) return fail(e, "missing \"reservation\"");
    if (read_label(v, label, e)) return wrap(e, "reservation");
    return labels_get(&r->reservations, *label, out, e);
}

static int token_step(token_run *r, const char *op, const step_ctx *s, rsl_status want, err_t *e) {
    int done;
    if (strcmp(op, "allow") == 0) {
        int64_t n;
        uint32_t allowed = 7;
        if (i64_arg(s, "n", 1, &n, e)) return -1;
        done = check_status("rsl_token_bucket_allow_at",
                            rsl_token_bucket_allow_at(r->b, s->at, n, &allowed, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, allowed_check, &allowed, e);
    }
    if (strcmp(op, "reserve") == 0) {
        int64_t n, max_wait;
        const cJSON *lv = arg(s, "reservation");
        const char *label = NULL;
        rsl_token_bucket_reservation res;
        rsl_status got;
        if (i64_arg(s, "n", 1, &n, e)) return -1;
        if (i64_arg(s, "max_wait_ns", RSL_TOKEN_BUCKET_INF_DURATION, &max_wait, e)) return -1;
        if (lv != NULL && read_label(lv, &label, e)) return wrap(e, "reservation");
        memset(&res, 0x5a, sizeof res);
        got = rsl_token_bucket_reserve_at(r->b, s->at, n, max_wait, &res, NULL);
        done = check_status("rsl_token_bucket_reserve_at", got, want, e);
        if (done < 0) return -1;
        if (done && got != RSL_ERR_EXCEEDS_CAPACITY) return 0;
        if (got == RSL_ERR_EXCEEDS_CAPACITY &&
            (res.ok != 0 || res.wait_ns != RSL_TOKEN_BUCKET_INF_DURATION)) {
            return fail(e, "RSL_ERR_EXCEEDS_CAPACITY must leave a not-OK reservation in *out");
        }
        if (label != NULL && labels_put(&r->reservations, label, &res, e)) return -1;
        if (done) return 0;
        return for_each_expect(s, op, reservation_check, &res, e);
    }
    if (strcmp(op, "cancel") == 0) {
        rsl_token_bucket_reservation held, copy;
        const char *label;
        const cJSON *v;
        if (held_reservation(r, s, &held, &label, e)) return -1;
        copy = held;
        if ((v = arg(s, "foreign")) != NULL) {
            if (!cJSON_IsBool(v)) return fail(e, "foreign: expected true/false");
            if (cJSON_IsTrue(v)) copy.bucket_id ^= 0x5555000000000000ull;
        }
        if ((v = arg(s, "limit")) != NULL && read_double_named(v, &copy.limit, e))
            return wrap(e, "limit");
        if ((v = arg(s, "tokens")) != NULL && read_i64_named(v, &copy.tokens, e))
            return wrap(e, "tokens");
        done = check_status("rsl_token_bucket_cancel_at",
                            rsl_token_bucket_cancel_at(r->b, s->at, &copy, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        held.cancelled = copy.cancelled;
        if (labels_put(&r->reservations, label, &held, e)) return -1;
        return for_each_expect(s, op, cancelled_check, &copy.cancelled, e);
    }
    if (strcmp(op, "delay") == 0) {
        rsl_token_bucket_reservation held;
        const char *label;
        int64_t w = -7;
        if (held_reservation(r, s, &held, &label, e)) return -1;
        done = check_status("rsl_token_bucket_reservation_delay_at",
                            rsl_token_bucket_reservation_delay_at(&held, s->at, &w, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, wait_check, &w, e);
    }
    if (strcmp(op, "tokens") == 0) {
        double t = -12345.0;
        done = check_status("rsl_token_bucket_tokens_at",
                            rsl_token_bucket_tokens_at(r->b, s->at, &t, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, tokens_check, &t, e);
    }
    if (strcmp(op, "set_limit") == 0) {
        double l;
        const cJSON *v = arg(s, "limit");
        if (v == NULL) return fail(e, "missing \"limit\"");
        if (read_double_named(v, &l, e)) return wrap(e, "limit");
        done = check_status("rsl_token_bucket_set_limit_at",
                            rsl_token_bucket_set_limit_at(r->b, s->at, l, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, no_check, NULL, e);
    }
    if (strcmp(op, "set_burst") == 0) {
        int64_t b;
        const cJSON *v = arg(s, "burst");
        if (v == NULL) return fail(e, "missing \"burst\"");
        if (read_i64_named(v, &b, e)) return wrap(e, "burst");
        done = check_status("rsl_token_bucket_set_burst_at",
                            rsl_token_bucket_set_burst_at(r->b, s->at, b, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, no_check, NULL, e);
    }
    if (strcmp(op, "settings") == 0) {
        token_settings t = {-1.0, -1};
        done = check_status("rsl_token_bucket_get_limit",
                            rsl_token_bucket_get_limit(r->b, &t.limit, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        done = check_status("rsl_token_bucket_get_burst",
                            rsl_token_bucket_get_burst(r->b, &t.burst, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, settings_check, &t, e);
    }
    if (strcmp(op, "every") == 0) {
        int64_t interval;
        double l;
        if (i64_arg(s, "interval_ns", 0, &interval, e)) return -1;
        if (want != RSL_OK) return fail(e, "every cannot fail");
        l = rsl_token_bucket_every(interval);
        return for_each_expect(s, op, limit_check, &l, e);
    }
    return fail(e, "unknown token_bucket op \"%s\"", op);
}

typedef struct {
    rsl_leaky_bucket *b;
} leaky_run;

static int permit_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_leaky_bucket_permit *p = ctx;
    if (strcmp(key, "taken") == 0) return expect_bool(key, want, p->taken, e);
    if (strcmp(key, "ready_at_ns") == 0) return expect_i64_named(key, want, p->ready_at_ns, e);
    if (strcmp(key, "wait_ns") == 0) return expect_i64_named(key, want, p->wait_ns, e);
    return 1;
}

static int verdict_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    const rsl_leaky_bucket_verdict *v = ctx;
    if (strcmp(key, "allowed") == 0) return expect_bool(key, want, v->allowed, e);
    if (strcmp(key, "remaining") == 0) return expect_u64(key, want, v->remaining, e);
    if (strcmp(key, "retry_at_ns") == 0) return expect_i64_named(key, want, v->retry_at_ns, e);
    if (strcmp(key, "wait_ns") == 0) return expect_i64_named(key, want, v->wait_ns, e);
    return 1;
}

static int interval_check(const char *key, const cJSON *want, const void *ctx, err_t *e) {
    if (strcmp(key, "interval_ns") == 0)
        return expect_i64_named(key, want, *(const int64_t *)ctx, e);
    return 1;
}

static int leaky_step(leaky_run *r, const char *op, const step_ctx *s, rsl_status want, err_t *e) {
    int done;
    if (strcmp(op, "take") == 0 || strcmp(op, "try_take") == 0) {
        rsl_leaky_bucket_permit p;
        rsl_status got;
        memset(&p, 0, sizeof p);
        if (strcmp(op, "take") == 0) {
            got = rsl_leaky_bucket_take_at(r->b, s->at, &p, NULL);
        } else {
            int64_t max_wait;
            if (i64_arg(s, "max_wait_ns", INT64_MAX, &max_wait, e)) return -1;
            got = rsl_leaky_bucket_try_take_at(r->b, s->at, max_wait, &p, NULL);
        }
        done = check_status(op, got, want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, permit_check, &p, e);
    }
    if (strcmp(op, "check") == 0) {
        rsl_leaky_bucket_verdict v;
        uint32_t n = 1;
        const cJSON *nv = arg(s, "n");
        if (nv != NULL && read_u32(nv, &n, e)) return wrap(e, "n");
        memset(&v, 0, sizeof v);
        done = check_status("rsl_leaky_bucket_check_at",
                            rsl_leaky_bucket_check_at(r->b, s->at, n, &v, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, verdict_check, &v, e);
    }
    if (strcmp(op, "interval") == 0) {
        int64_t i = -1;
        done = check_status("rsl_leaky_bucket_get_interval",
                            rsl_leaky_bucket_get_interval(r->b, &i, NULL), want, e);
        if (done) return done < 0 ? -1 : 0;
        return for_each_expect(s, op, interval_check, &i, e);
    }
    return fail(e, "unknown leaky_bucket op \"%s\"", op);
}


/* ------------------------------------------------------------------------ */
/* Scenarios                                                                */
/* ------------------------------------------------------------------------ */

static const char *prim_name(primitive p) {
    switch (p) {
    case PRIM_BREAKER: return "breaker";
    case PRIM_THROTTLE: return "adaptive_throttle";
    case PRIM_BACKOFF: return "backoff";
    case PRIM_RETRY: return "retry";
    case PRIM_BUDGET: return "retry_budget";
    case PRIM_WINDOW: return "window_limiter";
    case PRIM_LIMITER: return "adaptive_limiter";
    case PRIM_BULKHEAD: return "bulkhead";
    case PRIM_DEADLINE: return "deadline";
    case PRIM_TOKEN: return "token_bucket";
    case PRIM_LEAKY: return "leaky_bucket";
    }
    return "?";
}

static const char *const scenario_keys[] = {
    "primitive", "description", "preset", "config", "created_at_ns",
    "expect_status", "expect_error_field", "steps", NULL,
};

static int read_status_name(const cJSON *v, rsl_status *out, err_t *e) {
    int64_t value;
    if (!cJSON_IsString(v)) {
        return fail(e, "expected an RSL_* status name, got %s", json_kind(v));
    }
    if (lookup_name(&statuses, v->valuestring, &value)) {
        return fail(e, "unknown status name \"%s\"", v->valuestring);
    }
    *out = (rsl_status)value;
    return 0;
}

static int check_error_field(const cJSON *field, err_t *e) {
    const char *msg = rsl_last_error_message();
    size_t n;
    if (!cJSON_IsString(field)) {
        return fail(e, "expect_error_field: expected a string, got %s", json_kind(field));
    }
    n = strlen(field->valuestring);
    if (strncmp(msg, field->valuestring, n) != 0 || msg[n] != ':') {
        return fail(e, "expect_error_field: message \"%s\" does not start with \"%s:\"", msg,
                    field->valuestring);
    }
    return 0;
}

/* Config buffers as large as any struct_size the library accepts, so a
 * scenario overriding struct_size never makes the library read past them. */
typedef union {
    rsl_breaker_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} breaker_config_buf;

typedef union {
    rsl_adaptive_throttle_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} throttle_config_buf;

typedef union {
    rsl_window_limiter_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} window_config_buf;

typedef union {
    rsl_adaptive_limiter_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} limiter_config_buf;

typedef union {
    rsl_token_bucket_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} token_config_buf;

typedef union {
    rsl_leaky_bucket_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} leaky_config_buf;

/* criticality: pure-function vectors, no config, no handle, no time. */
static int criticality_step(const cJSON *step, err_t *e) {
    static const char *const args_parse[] = {"value", "len", NULL};
    static const char *const args_name[] = {"level", NULL};
    static const op_def ops[] = {{"parse", args_parse}, {"name", args_name}, {"header", args_none}};
    const cJSON *op_item = cJSON_GetObjectItemCaseSensitive(step, "op");
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(step, "expect");
    const cJSON *error_field = cJSON_GetObjectItemCaseSensitive(step, "expect_error_field");
    const cJSON *item, *v;
    const op_def *op = NULL;
    rsl_status want = RSL_OK;
    size_t i;

    if (!cJSON_IsString(op_item)) return fail(e, "\"op\" must be a string");
    for (i = 0; i < COUNT(ops); i++) {
        if (strcmp(ops[i].name, op_item->valuestring) == 0) op = &ops[i];
    }
    if (op == NULL) return fail(e, "unknown op \"%s\" for criticality", op_item->valuestring);
    cJSON_ArrayForEach(item, step) {
        if (!in_list(common_step_keys, item->string) && !in_list(op->args, item->string)) {
            return fail(e, "unknown key \"%s\" for op %s", item->string, op->name);
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(step, "expect_status")) != NULL &&
        read_status_name(v, &want, e)) {
        return wrap(e, "expect_status");
    }
    if (error_field != NULL && want == RSL_OK) {
        return fail(e, "expect_error_field needs a failing expect_status");
    }
    if (expect != NULL && (!cJSON_IsObject(expect) || want != RSL_OK)) {
        return fail(e, "\"expect\" must be an object, and only on a call expected to succeed");
    }
    if (strcmp(op->name, "parse") == 0) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(step, "value");
        const cJSON *len_item = cJSON_GetObjectItemCaseSensitive(step, "len");
        rsl_criticality level = 0xdead;
        uint64_t len = 0;
        rsl_status got;
        int done;
        if (cJSON_IsString(value)) {
            if (len_item != NULL) return fail(e, "len: only with a null value");
            got = rsl_criticality_parse(value->valuestring, strlen(value->valuestring), &level, NULL);
        } else if (cJSON_IsNull(value)) {
            if (len_item != NULL && read_u64(len_item, &len, e)) return wrap(e, "len");
            got = rsl_criticality_parse(NULL, (size_t)len, &level, NULL);
        } else {
            return fail(e, "value: expected a string or null");
        }
        done = check_status("rsl_criticality_parse", got, want, e);
        if (done < 0) return -1;
        if (done) {
            if (level != 0xdead) return fail(e, "*out_level was written on error");
            return error_field != NULL ? check_error_field(error_field, e) : 0;
        }
        if (expect == NULL) return 0;
        cJSON_ArrayForEach(item, expect) {
            if (strcmp(item->string, "level") != 0) {
                return fail(e, "unknown expect key \"%s\" for op parse", item->string);
            }
            if (expect_name("level", item, &levels, level, e)) return -1;
        }
        return 0;
    }
    /* name, header: cannot fail */
    if (want != RSL_OK) return fail(e, "%s cannot fail", op->name);
    {
        const char *got;
        if (strcmp(op->name, "name") == 0) {
            uint32_t level;
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(step, "level");
            if (l == NULL) return fail(e, "missing \"level\"");
            if (read_name_or_u32(l, &levels, &level, e)) return wrap(e, "level");
            got = rsl_criticality_name(level);
        } else {
            got = rsl_criticality_header();
        }
        if (expect == NULL) return 0;
        cJSON_ArrayForEach(item, expect) {
            if (strcmp(item->string, "name") != 0) {
                return fail(e, "unknown expect key \"%s\" for op %s", item->string, op->name);
            }
            if (cJSON_IsNull(item)) {
                if (got != NULL) return fail(e, "name: expected NULL, got \"%s\"", got);
            } else if (cJSON_IsString(item)) {
                if (got == NULL || strcmp(got, item->valuestring) != 0) {
                    return fail(e, "name: expected \"%s\", got %s%s%s", item->valuestring,
                                got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
                }
            } else {
                return fail(e, "name: expected a string or null, got %s", json_kind(item));
            }
        }
        return 0;
    }
}

static int run_criticality(const cJSON *root, err_t *e) {
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
    const cJSON *step, *item;
    int index = 0;
    static const char *const allowed[] = {"primitive", "description", "steps", NULL};
    cJSON_ArrayForEach(item, root) {
        if (!in_list(allowed, item->string)) {
            return fail(e, "criticality scenarios have no \"%s\"", item->string);
        }
    }
    item = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
        return fail(e, "\"description\" (a non-empty string) is required");
    }
    if (!cJSON_IsArray(steps)) return fail(e, "\"steps\" must be an array");
    cJSON_ArrayForEach(step, steps) {
        char where[32];
        snprintf(where, sizeof where, "step %d", index);
        if (!cJSON_IsObject(step)) {
            fail(e, "expected an object, got %s", json_kind(step));
            return wrap(e, where);
        }
        if (criticality_step(step, e)) return wrap(e, where);
        index++;
    }
    return 0;
}

typedef union {
    rsl_bulkhead_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} bulkhead_config_buf;

typedef union {
    rsl_deadline_policy_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} deadline_config_buf;



/* --------------------- backoff, retry, retry budget scenarios ----------- */

typedef union {
    rsl_retry_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} retry_config_buf;

typedef union {
    rsl_retry_budget_config cfg;
    unsigned char bytes[RSL_MAX_STRUCT_SIZE];
} budget_config_buf;

/* Checks a creation's status and error against the scenario's
 * expect_status / expect_error_field (the latter against err->field,
 * exactly). Returns 0 when created, 1 when it failed as expected, -1 on a
 * mismatch. */
static int creation_status(const char *call, rsl_status got, const rsl_error *err,
                           rsl_status want, const cJSON *error_field, err_t *e) {
    char b1[32], b2[32];
    if (got != want) {
        return fail(e, "%s returned %s, expected %s (message \"%s\")", call,
                    name_of(&statuses, got, b1, sizeof b1), name_of(&statuses, want, b2, sizeof b2),
                    got == RSL_OK ? "" : err->message);
    }
    if (got == RSL_OK) return 0;
    if (err->status != got) return fail(e, "%s: err.status %d for status %d", call, err->status, got);
    if (error_field != NULL) {
        if (!cJSON_IsString(error_field)) {
            return fail(e, "expect_error_field: expected a string, got %s", json_kind(error_field));
        }
        if (strcmp(err->field, error_field->valuestring) != 0) {
            return fail(e, "%s: err.field \"%s\", expected \"%s\" (message \"%s\")", call,
                        err->field, error_field->valuestring, err->message);
        }
    }
    return 1;
}

#define SENTINEL(type) ((type *)(uintptr_t)0x5e1f)

/* load_<x>: reads a document into *cfg (zeroed, struct_size set) with
 * rsl_<x>_config_from_json and, when it succeeds, checks that the struct
 * round-trips (rsl_<x>_config_to_json, then from_json, gives the same
 * bytes: the config structs have no padding) and applies the overrides.
 * *got and *err receive from_json's result. Returns -1 on a runner error. */
#define DEFINE_LOAD(x, type, reserved0_offset)                                              \
    static int load_##x(const char *doc, type *cfg, const struct_overrides *ov,             \
                        rsl_status *got, rsl_error *err, err_t *e) {                        \
        type again;                                                                         \
        char text[RSL_CONFIG_JSON_BUF_LEN];                                                 \
        size_t len = 0;                                                                     \
        memset(cfg, 0, sizeof *cfg);                                                        \
        cfg->struct_size = (uint32_t)sizeof *cfg;                                           \
        *got = rsl_##x##_config_from_json(doc, strlen(doc), cfg, err);                      \
        if (*got != RSL_OK) return 0;                                                       \
        if (rsl_##x##_config_to_json(cfg, text, sizeof text, &len, err) != RSL_OK) {        \
            return fail(e, "rsl_" #x "_config_to_json: %s", err->message);                  \
        }                                                                                   \
        memset(&again, 0, sizeof again);                                                    \
        again.struct_size = (uint32_t)sizeof again;                                         \
        if (len != strlen(text) ||                                                          \
            rsl_##x##_config_from_json(text, len, &again, err) != RSL_OK ||                 \
            memcmp(&again, cfg, sizeof again) != 0) {                                       \
            return fail(e, "the config does not round-trip through its JSON %s", text);     \
        }                                                                                   \
        apply_overrides(cfg, ov, reserved0_offset);                                         \
        return 0;                                                                           \
    }

/* create_<x>: the handle of a scenario. Loads the document, then NEW makes
 * the handle from the struct (`cfg`, `&h`, `&err`); when the struct is not
 * overridden, NEW_JSON (`doc`, `&h2`, `&err2`) must agree on status and
 * error field. Returns 0 when created (*out set), 1 when creation failed as
 * expected (2 if the JSON was read and the struct refused), -1 otherwise. */
#define DEFINE_CREATE(x, type, handle, reserved0_offset, NEW, NEW_JSON)                     \
    DEFINE_LOAD(x, type, reserved0_offset)                                                  \
    static int create_##x(const char *doc, const struct_overrides *ov, int64_t created_at,  \
                          type *cfg, handle **out, rsl_status want,                         \
                          const cJSON *error_field, err_t *e) {                             \
        rsl_error err, err2;                                                                \
        rsl_status got, got2;                                                               \
        handle *h = SENTINEL(handle), *h2 = SENTINEL(handle);                               \
        int read, rc;                                                                       \
        (void)created_at;                                                                   \
        memset(&err, 0, sizeof err);                                                        \
        memset(&err2, 0, sizeof err2);                                                      \
        if (load_##x(doc, cfg, ov, &got, &err, e)) return -1;                               \
        read = got == RSL_OK;                                                               \
        if (read) got = NEW;                                                                \
        if (got != RSL_OK && h != SENTINEL(handle)) {                                       \
            return fail(e, "rsl_" #x "_new wrote *out on failure");                         \
        }                                                                                   \
        if (!ov->has_size && !ov->has_reserved0) {                                          \
            got2 = NEW_JSON;                                                                \
            if (got2 == RSL_OK) rsl_##x##_free(h2);                                         \
            else if (h2 != SENTINEL(handle)) {                                              \
                if (got == RSL_OK) rsl_##x##_free(h);                                       \
                return fail(e, "rsl_" #x "_new_from_json wrote *out on failure");           \
            }                                                                               \
            if (got2 != got || (got != RSL_OK && strcmp(err.field, err2.field) != 0)) {     \
                if (got == RSL_OK) rsl_##x##_free(h);                                       \
                return fail(e, "rsl_" #x "_new_from_json (%d, \"%s\") disagrees with "      \
                            "from_json + new (%d, \"%s\")",                                 \
                            got2, err2.message, got, err.message);                          \
            }                                                                               \
        }                                                                                   \
        rc = creation_status("rsl_" #x "_new", got, &err, want, error_field, e);            \
        if (rc != 0) {                                                                      \
            if (got == RSL_OK) rsl_##x##_free(h);                                           \
            return rc < 0 ? -1 : (read ? 2 : 1);                                            \
        }                                                                                   \
        *out = h;                                                                           \
        return 0;                                                                           \
    }

#define JSON_ARGS doc, strlen(doc)
DEFINE_CREATE(breaker, rsl_breaker_config, rsl_breaker,
              offsetof(rsl_breaker_config, reserved0),
              rsl_breaker_new_at(cfg, created_at, &h, &err),
              rsl_breaker_new_from_json_at(JSON_ARGS, created_at, &h2, &err2))
DEFINE_CREATE(adaptive_throttle, rsl_adaptive_throttle_config, rsl_adaptive_throttle,
              NO_RESERVED0, rsl_adaptive_throttle_new(cfg, &h, &err),
              rsl_adaptive_throttle_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(window_limiter, rsl_window_limiter_config, rsl_window_limiter,
              NO_RESERVED0,
              rsl_window_limiter_new(cfg, &h, &err),
              rsl_window_limiter_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(adaptive_limiter, rsl_adaptive_limiter_config, rsl_adaptive_limiter,
              offsetof(rsl_adaptive_limiter_config, reserved0),
              rsl_adaptive_limiter_new(cfg, &h, &err),
              rsl_adaptive_limiter_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(bulkhead, rsl_bulkhead_config, rsl_bulkhead, NO_RESERVED0,
              rsl_bulkhead_new(cfg, &h, &err), rsl_bulkhead_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(deadline_policy, rsl_deadline_policy_config, rsl_deadline_policy,
              offsetof(rsl_deadline_policy_config, reserved0),
              rsl_deadline_policy_new(cfg, &h, &err),
              rsl_deadline_policy_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(token_bucket, rsl_token_bucket_config, rsl_token_bucket,
              offsetof(rsl_token_bucket_config, reserved0),
              rsl_token_bucket_new(cfg, &h, &err),
              rsl_token_bucket_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(leaky_bucket, rsl_leaky_bucket_config, rsl_leaky_bucket,
              offsetof(rsl_leaky_bucket_config, reserved0),
              rsl_leaky_bucket_new(cfg, &h, &err),
              rsl_leaky_bucket_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(backoff, rsl_backoff_config, rsl_backoff, NO_RESERVED0,
              rsl_backoff_new(cfg, &h, &err), rsl_backoff_new_from_json(JSON_ARGS, &h2, &err2))
DEFINE_CREATE(retry_budget, rsl_retry_budget_config, rsl_retry_budget,
              offsetof(rsl_retry_budget_config, reserved0),
              rsl_retry_budget_new(cfg, &h, &err),
              rsl_retry_budget_new_from_json(JSON_ARGS, &h2, &err2))

/* The retry policy's config is two structs (the backoff nested in JSON), so
 * its creation is written out: the same steps as DEFINE_CREATE. */
static int create_retry(const char *doc, const struct_overrides *ov, rsl_retry_config *cfg,
                        rsl_backoff_config *backoff, rsl_retry **out, rsl_status want,
                        const cJSON *error_field, err_t *e) {
    rsl_error err, err2;
    rsl_status got, got2;
    rsl_retry *h = SENTINEL(rsl_retry), *h2 = SENTINEL(rsl_retry);
    int rc;
    memset(&err, 0, sizeof err);
    memset(&err2, 0, sizeof err2);
    memset(cfg, 0, sizeof *cfg);
    memset(backoff, 0, sizeof *backoff);
    cfg->struct_size = (uint32_t)sizeof *cfg;
    backoff->struct_size = (uint32_t)sizeof *backoff;
    got = rsl_retry_config_from_json(doc, strlen(doc), cfg, backoff, &err);
    if (got == RSL_OK) {
        char text[RSL_CONFIG_JSON_BUF_LEN];
        size_t len = 0;
        rsl_retry_config c2;
        rsl_backoff_config b2;
        if (rsl_retry_config_to_json(cfg, backoff, text, sizeof text, &len, &err) != RSL_OK) {
            return fail(e, "rsl_retry_config_to_json: %s", err.message);
        }
        memset(&c2, 0, sizeof c2);
        memset(&b2, 0, sizeof b2);
        c2.struct_size = (uint32_t)sizeof c2;
        b2.struct_size = (uint32_t)sizeof b2;
        if (rsl_retry_config_from_json(text, len, &c2, &b2, &err) != RSL_OK ||
            memcmp(&c2, cfg, sizeof c2) != 0 || memcmp(&b2, backoff, sizeof b2) != 0) {
            return fail(e, "the config does not round-trip through its JSON %s", text);
        }
        apply_overrides(cfg, ov, NO_RESERVED0);
        got = rsl_retry_new(cfg, backoff, &h, &err);
        if (got != RSL_OK && h != SENTINEL(rsl_retry)) {
            return fail(e, "rsl_retry_new wrote *out on failure");
        }
    }
    if (!ov->has_size) {
        got2 = rsl_retry_new_from_json(doc, strlen(doc), &h2, &err2);
        if (got2 == RSL_OK) rsl_retry_free(h2);
        if (got2 != got || (got != RSL_OK && strcmp(err.field, err2.field) != 0)) {
            if (got == RSL_OK) rsl_retry_free(h);
            return fail(e, "rsl_retry_new_from_json (%d, \"%s\") disagrees with (%d, \"%s\")",
                        got2, err2.message, got, err.message);
        }
    }
    rc = creation_status("rsl_retry_new", got, &err, want, error_field, e);
    if (rc != 0) {
        if (got == RSL_OK) rsl_retry_free(h);
        return rc < 0 ? -1 : 1;
    }
    *out = h;
    return 0;
}

static int run_steps(primitive prim, void *run, const cJSON *steps, err_t *e);


static int run_backoff_scenario(const char *doc, const struct_overrides *ov, const cJSON *steps,
                                rsl_status want, const cJSON *error_field, err_t *e) {
    backoff_config_buf buf;
    backoff_run run;
    rsl_backoff *b = NULL;
    rsl_status got;
    int rc;
    memset(&buf, 0, sizeof buf);
    rc = create_backoff(doc, ov, 0, &buf.cfg, &b, want, error_field, e);
    if (rc < 0) return -1;
    if (rc == 1) return 0;
    if (rc == 2) {
        rsl_backoff_state st;
        int64_t d = -7;
        rsl_error err;
        /* The JSON was read and the struct refused: the pure entry point
         * refuses the same struct the same way. */
        memset(&st, 0, sizeof st);
        memset(&err, 0, sizeof err);
        got = rsl_backoff_delay_with_u(&buf.cfg, 1, 0.0, &st, &d, &err);
        rc = creation_status("rsl_backoff_delay_with_u", got, &err, want, error_field, e);
        if (rc < 0) return -1;
        if (d != -7) return fail(e, "rsl_backoff_delay_with_u wrote its output on failure");
        return 0;
    }
    memset(&run, 0, sizeof run);
    run.b = b;
    run.cfg = &buf;
    rc = steps != NULL ? run_steps(PRIM_BACKOFF, &run, steps, e) : 0;
    rsl_backoff_free(b);
    return rc;
}

static int run_retry_scenario(const cJSON *preset, const cJSON *config, const cJSON *steps,
                              rsl_status want, const cJSON *error_field, err_t *e) {
    retry_config_buf rbuf;
    backoff_config_buf bbuf;
    retry_run run;
    rsl_retry *p = NULL;
    rsl_retry_budget *budget = NULL;
    cJSON *budget_obj = NULL;
    struct_overrides ov;
    char *doc;
    int rc;
    memset(&rbuf, 0, sizeof rbuf);
    memset(&bbuf, 0, sizeof bbuf);
    doc = config_document(preset, config, 0, "budget", &budget_obj, &ov, e);
    if (doc == NULL) return wrap(e, "config");
    rc = create_retry(doc, &ov, &rbuf.cfg, &bbuf.cfg, &p, want, error_field, e);
    cJSON_free(doc);
    if (rc != 0) {
        cJSON_Delete(budget_obj);
        return rc < 0 ? -1 : 0;
    }
    if (budget_obj != NULL) {
        /* A budget shared by every begin and next: its own JSON config. */
        char *text = cJSON_IsObject(budget_obj) ? print_json(budget_obj, e) : NULL;
        rsl_error err;
        rsl_status got;
        cJSON_Delete(budget_obj);
        if (text == NULL) {
            rsl_retry_free(p);
            return fail(e, "config.budget: expected an object");
        }
        got = rsl_retry_budget_new_from_json(text, strlen(text), &budget, &err);
        cJSON_free(text);
        if (got != RSL_OK) {
            rsl_retry_free(p);
            return fail(e, "config.budget: creation failed: %s", err.message);
        }
    }
    memset(&run, 0, sizeof run);
    run.p = p;
    run.budget = budget;
    labels_init(&run.states, sizeof(rsl_retry_state));
    rc = steps != NULL ? run_steps(PRIM_RETRY, &run, steps, e) : 0;
    labels_free(&run.states);
    rsl_retry_free(p);
    rsl_retry_budget_free(budget);
    return rc;
}

static int run_budget_scenario(const char *doc, const struct_overrides *ov, const cJSON *steps,
                                rsl_status want, const cJSON *error_field, err_t *e) {
    budget_config_buf buf;
    budget_run run;
    rsl_retry_budget *b = NULL;
    int rc;
    memset(&buf, 0, sizeof buf);
    rc = create_retry_budget(doc, ov, 0, &buf.cfg, &b, want, error_field, e);
    if (rc != 0) return rc < 0 ? -1 : 0;
    memset(&run, 0, sizeof run);
    run.b = b;
    labels_init(&run.tickets, sizeof(rsl_retry_budget_ticket));
    rc = steps != NULL ? run_steps(PRIM_BUDGET, &run, steps, e) : 0;
    labels_free(&run.tickets);
    rsl_retry_budget_free(b);
    return rc;
}

static int run_steps(primitive prim, void *run, const cJSON *steps, err_t *e) {
    const cJSON *step;
    int index = 0;
    const op_def *ops = breaker_ops;
    size_t nops = COUNT(breaker_ops);
    switch (prim) {
    case PRIM_BREAKER: break;
    case PRIM_THROTTLE: ops = throttle_ops; nops = COUNT(throttle_ops); break;
    case PRIM_BACKOFF: ops = backoff_ops; nops = COUNT(backoff_ops); break;
    case PRIM_RETRY: ops = retry_ops; nops = COUNT(retry_ops); break;
    case PRIM_BUDGET: ops = budget_ops; nops = COUNT(budget_ops); break;
    case PRIM_WINDOW: ops = window_ops; nops = COUNT(window_ops); break;
    case PRIM_LIMITER: ops = limiter_ops; nops = COUNT(limiter_ops); break;
    case PRIM_BULKHEAD: ops = bulkhead_ops; nops = COUNT(bulkhead_ops); break;
    case PRIM_DEADLINE: ops = deadline_ops; nops = COUNT(deadline_ops); break;
    case PRIM_TOKEN: ops = token_ops; nops = COUNT(token_ops); break;
    case PRIM_LEAKY: ops = leaky_ops; nops = COUNT(leaky_ops); break;
    }

    cJSON_ArrayForEach(step, steps) {
        const cJSON *op_item, *item, *v;
        const op_def *op = NULL;
        step_ctx s;
        int64_t at, step_ns = 0;
        uint64_t repeat = 1, k;
        rsl_status want = RSL_OK;
        const cJSON *error_field;
        char where[160];
        size_t i;

        snprintf(where, sizeof where, "step %d", index);
        if (!cJSON_IsObject(step)) {
            fail(e, "expected an object, got %s", json_kind(step));
            return wrap(e, where);
        }
        op_item = cJSON_GetObjectItemCaseSensitive(step, "op");
        if (!cJSON_IsString(op_item)) {
            fail(e, "\"op\" must be a string");
            return wrap(e, where);
        }
        for (i = 0; i < nops; i++) {
            if (strcmp(ops[i].name, op_item->valuestring) == 0) op = &ops[i];
        }
        snprintf(where, sizeof where, "step %d (%s)", index, op_item->valuestring);
        if (op == NULL) {
            fail(e, "unknown op \"%s\" for %s", op_item->valuestring, prim_name(prim));
            return wrap(e, where);
        }
        cJSON_ArrayForEach(item, step) {
            if (!in_list(common_step_keys, item->string) && !in_list(op->args, item->string)) {
                fail(e, "unknown key \"%s\" for op %s", item->string, op->name);
                return wrap(e, where);
            }
        }
        v = cJSON_GetObjectItemCaseSensitive(step, "at");
        if (v == NULL) {
            fail(e, "missing \"at\"");
            return wrap(e, where);
        }
        if (read_i64(v, &at, e)) {
            wrap(e, "at");
            return wrap(e, where);
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(step, "repeat")) != NULL &&
            (read_u64(v, &repeat, e) || repeat == 0)) {
            if (repeat == 0) fail(e, "must be >= 1");
            wrap(e, "repeat");
            return wrap(e, where);
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(step, "step_ns")) != NULL &&
            read_i64(v, &step_ns, e)) {
            wrap(e, "step_ns");
            return wrap(e, where);
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(step, "expect_status")) != NULL &&
            read_status_name(v, &want, e)) {
            wrap(e, "expect_status");
            return wrap(e, where);
        }
        error_field = cJSON_GetObjectItemCaseSensitive(step, "expect_error_field");
        if (error_field != NULL && want == RSL_OK) {
            fail(e, "expect_error_field needs a failing expect_status");
            return wrap(e, where);
        }
        s.step = step;
        s.expect = cJSON_GetObjectItemCaseSensitive(step, "expect");
        if (s.expect != NULL && !cJSON_IsObject(s.expect)) {
            fail(e, "\"expect\" must be an object, got %s", json_kind(s.expect));
            return wrap(e, where);
        }
        if (s.expect != NULL && want != RSL_OK && cJSON_GetArraySize(s.expect) > 0) {
            fail(e, "\"expect\" cannot be checked on a call expected to fail");
            return wrap(e, where);
        }
        for (k = 0; k < repeat; k++) {
            int rc;
            s.at = at + (int64_t)k * step_ns;
            switch (prim) {
            case PRIM_BREAKER: rc = breaker_step(run, op->name, &s, want, e); break;
            case PRIM_THROTTLE: rc = throttle_step(run, op->name, &s, want, e); break;
            case PRIM_BACKOFF: rc = backoff_step(run, op->name, &s, want, e); break;
            case PRIM_RETRY: rc = retry_step(run, op->name, &s, want, e); break;
            case PRIM_BUDGET: rc = budget_step(run, op->name, &s, want, e); break;
            case PRIM_WINDOW: rc = window_step(run, op->name, &s, want, e); break;
            case PRIM_LIMITER: rc = limiter_step(run, op->name, &s, want, e); break;
            case PRIM_BULKHEAD: rc = bulkhead_step(run, op->name, &s, want, e); break;
            case PRIM_DEADLINE: rc = deadline_step(run, op->name, &s, want, e); break;
            case PRIM_TOKEN: rc = token_step(run, op->name, &s, want, e); break;
            case PRIM_LEAKY: rc = leaky_step(run, op->name, &s, want, e); break;
            }
            if (rc == 0 && error_field != NULL) {
                rc = check_error_field(error_field, e);
            }
            if (rc != 0) {
                if (repeat > 1) {
                    snprintf(where, sizeof where, "step %d (%s, repetition %llu of %llu, at %lld)",
                             index, op->name, (unsigned long long)k + 1,
                             (unsigned long long)repeat, (long long)s.at);
                }
                return wrap(e, where);
            }
        }
        index++;
    }
    return 0;
}

static int run_token_scenario(const char *doc, const struct_overrides *ov, const cJSON *steps,
                                rsl_status want, const cJSON *error_field, err_t *e) {
    token_config_buf buf;
    token_run run;
    rsl_token_bucket *b = NULL;
    int rc;
    memset(&buf, 0, sizeof buf);
    rc = create_token_bucket(doc, ov, 0, &buf.cfg, &b, want, error_field, e);
    if (rc != 0) return rc < 0 ? -1 : 0;
    memset(&run, 0, sizeof run);
    run.b = b;
    labels_init(&run.reservations, sizeof(rsl_token_bucket_reservation));
    rc = steps != NULL ? run_steps(PRIM_TOKEN, &run, steps, e) : 0;
    labels_free(&run.reservations);
    rsl_token_bucket_free(b);
    return rc;
}

static int run_leaky_scenario(const char *doc, const struct_overrides *ov, const cJSON *steps,
                                rsl_status want, const cJSON *error_field, err_t *e) {
    leaky_config_buf buf;
    leaky_run run;
    rsl_leaky_bucket *b = NULL;
    int rc;
    memset(&buf, 0, sizeof buf);
    rc = create_leaky_bucket(doc, ov, 0, &buf.cfg, &b, want, error_field, e);
    if (rc != 0) return rc < 0 ? -1 : 0;
    run.b = b;
    rc = steps != NULL ? run_steps(PRIM_LEAKY, &run, steps, e) : 0;
    rsl_leaky_bucket_free(b);
    return rc;
}

static int run_primitive(primitive prim, const char *doc, const struct_overrides *ov,
                         int64_t created_at, const cJSON *steps, rsl_status want,
                         const cJSON *error_field, err_t *e);

static int run_scenario(const cJSON *root, err_t *e) {
    const cJSON *item, *prim_item, *preset, *config, *steps, *status_item, *error_field;
    primitive prim;
    rsl_status want = RSL_OK;
    int64_t created_at = 0;
    int rc;

    if (!cJSON_IsObject(root)) {
        return fail(e, "the file is not a JSON object");
    }
    cJSON_ArrayForEach(item, root) {
        if (!in_list(scenario_keys, item->string)) {
            return fail(e, "unknown top-level key \"%s\"", item->string);
        }
    }
    prim_item = cJSON_GetObjectItemCaseSensitive(root, "primitive");
    if (!cJSON_IsString(prim_item)) {
        return fail(e, "\"primitive\" must be a string");
    }
    if (strcmp(prim_item->valuestring, "breaker") == 0) {
        prim = PRIM_BREAKER;
    } else if (strcmp(prim_item->valuestring, "adaptive_throttle") == 0) {
        prim = PRIM_THROTTLE;
    } else if (strcmp(prim_item->valuestring, "backoff") == 0) {
        prim = PRIM_BACKOFF;
    } else if (strcmp(prim_item->valuestring, "retry") == 0) {
        prim = PRIM_RETRY;
    } else if (strcmp(prim_item->valuestring, "retry_budget") == 0) {
        prim = PRIM_BUDGET;
    } else if (strcmp(prim_item->valuestring, "window_limiter") == 0) {
        prim = PRIM_WINDOW;
    } else if (strcmp(prim_item->valuestring, "adaptive_limiter") == 0) {
        prim = PRIM_LIMITER;
    } else if (strcmp(prim_item->valuestring, "bulkhead") == 0) {
        prim = PRIM_BULKHEAD;
    } else if (strcmp(prim_item->valuestring, "deadline") == 0) {
        prim = PRIM_DEADLINE;
    } else if (strcmp(prim_item->valuestring, "token_bucket") == 0) {
        prim = PRIM_TOKEN;
    } else if (strcmp(prim_item->valuestring, "leaky_bucket") == 0) {
        prim = PRIM_LEAKY;
    } else if (strcmp(prim_item->valuestring, "criticality") == 0) {
        return run_criticality(root, e);
    } else {
        return fail(e, "unknown primitive \"%s\"", prim_item->valuestring);
    }
    item = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
        return fail(e, "\"description\" (a non-empty string) is required");
    }
    item = cJSON_GetObjectItemCaseSensitive(root, "created_at_ns");
    if (item != NULL && read_i64(item, &created_at, e)) {
        return wrap(e, "created_at_ns");
    }
    if (prim != PRIM_BREAKER && created_at != 0) {
        return fail(e, "created_at_ns: the %s has no creation time", prim_name(prim));
    }
    status_item = cJSON_GetObjectItemCaseSensitive(root, "expect_status");
    if (status_item != NULL && read_status_name(status_item, &want, e)) {
        return wrap(e, "expect_status");
    }
    error_field = cJSON_GetObjectItemCaseSensitive(root, "expect_error_field");
    if (error_field != NULL && want == RSL_OK) {
        return fail(e, "expect_error_field needs a failing expect_status");
    }
    steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
    if (steps != NULL && !cJSON_IsArray(steps)) {
        return fail(e, "\"steps\" must be an array");
    }
    if (want != RSL_OK && cJSON_GetArraySize(steps) > 0) {
        return fail(e, "a scenario with a failing expect_status has no steps");
    }
    preset = cJSON_GetObjectItemCaseSensitive(root, "preset");
    config = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (prim == PRIM_RETRY) return run_retry_scenario(preset, config, steps, want, error_field, e);
    {
        struct_overrides ov;
        int has_reserved0 = prim != PRIM_THROTTLE && prim != PRIM_BULKHEAD && prim != PRIM_BACKOFF;
        char *doc = config_document(preset, config, has_reserved0, NULL, NULL, &ov, e);
        if (doc == NULL) return wrap(e, "config");
        rc = run_primitive(prim, doc, &ov, created_at, steps, want, error_field, e);
        cJSON_free(doc);
        return rc;
    }
}

/* Creates the scenario's handle from its config document and replays its
 * steps. */
static int run_primitive(primitive prim, const char *doc, const struct_overrides *ov,
                         int64_t created_at, const cJSON *steps, rsl_status want,
                         const cJSON *error_field, err_t *e) {
    int rc;
    if (prim == PRIM_BACKOFF) return run_backoff_scenario(doc, ov, steps, want, error_field, e);
    if (prim == PRIM_BUDGET) return run_budget_scenario(doc, ov, steps, want, error_field, e);
    if (prim == PRIM_TOKEN) return run_token_scenario(doc, ov, steps, want, error_field, e);
    if (prim == PRIM_LEAKY) return run_leaky_scenario(doc, ov, steps, want, error_field, e);

    if (prim == PRIM_BREAKER) {
        breaker_config_buf buf;
        breaker_run run;
        rsl_breaker *b = (rsl_breaker *)(uintptr_t)0x5e1f;
        memset(&buf, 0, sizeof buf);
        rc = create_breaker(doc, ov, created_at, &buf.cfg, &b, want, error_field, e);
        if (rc != 0) return rc < 0 ? -1 : 0;
        memset(&run, 0, sizeof run);
        run.b = b;
        labels_init(&run.permits, sizeof(rsl_breaker_permit));
        rc = steps != NULL ? run_steps(prim, &run, steps, e) : 0;
        labels_free(&run.permits);
        rsl_breaker_free(b);
        return rc;
    } else if (prim == PRIM_WINDOW) {
        window_config_buf buf;
        window_run run;
        rsl_window_limiter *w = (rsl_window_limiter *)(uintptr_t)0x5e1f;
        memset(&buf, 0, sizeof buf);
        rc = create_window_limiter(doc, ov, created_at, &buf.cfg, &w, want, error_field, e);
        if (rc != 0) return rc < 0 ? -1 : 0;
        memset(&run, 0, sizeof run);
        run.w = w;
        run.cfg = buf.cfg;
        labels_init(&run.tickets, sizeof(uint64_t));
        rc = steps != NULL ? run_steps(prim, &run, steps, e) : 0;
        labels_free(&run.tickets);
        rsl_window_limiter_free(run.other);
        rsl_window_limiter_free(w);
        return rc;
    } else if (prim == PRIM_BULKHEAD) {
        bulkhead_config_buf buf;
        bulkhead_run run;
        rsl_bulkhead *h = (rsl_bulkhead *)(uintptr_t)0x5e1f;
        memset(&buf, 0, sizeof buf);
        rc = create_bulkhead(doc, ov, created_at, &buf.cfg, &h, want, error_field, e);
        if (rc != 0) return rc < 0 ? -1 : 0;
        memset(&run, 0, sizeof run);
        run.h = h;
        run.cfg = buf.cfg;
        labels_init(&run.values, sizeof(uint64_t));
        rc = steps != NULL ? run_steps(prim, &run, steps, e) : 0;
        labels_free(&run.values);
        rsl_bulkhead_free(run.other);
        rsl_bulkhead_free(h);
        return rc;
    } else if (prim == PRIM_DEADLINE) {
        deadline_config_buf buf;
        rsl_deadline_policy *p = (rsl_deadline_policy *)(uintptr_t)0x5e1f;
        memset(&buf, 0, sizeof buf);
        rc = create_deadline_policy(doc, ov, created_at, &buf.cfg, &p, want, error_field, e);
        if (rc != 0) return rc < 0 ? -1 : 0;
        rc = steps != NULL ? run_steps(prim, p, steps, e) : 0;
        rsl_deadline_policy_free(p);
        return rc;
    } else if (prim == PRIM_LIMITER) {
        limiter_config_buf buf;
        limiter_run run;
        rsl_adaptive_limiter *l = (rsl_adaptive_limiter *)(uintptr_t)0x5e1f;
        memset(&buf, 0, sizeof buf);
        rc = create_adaptive_limiter(doc, ov, created_at, &buf.cfg, &l, want, error_field, e);
        if (rc != 0) return rc < 0 ? -1 : 0;
        memset(&run, 0, sizeof run);
        run.l = l;
        labels_init(&run.tokens, sizeof(rsl_adaptive_limiter_token));
        rc = steps != NULL ? run_steps(prim, &run, steps, e) : 0;
        labels_free(&run.tokens);
        rsl_adaptive_limiter_free(l);
        return rc;
    } else {
        throttle_config_buf buf;
        throttle_run run;
        rsl_adaptive_throttle *t = (rsl_adaptive_throttle *)(uintptr_t)0x5e1f;
        memset(&buf, 0, sizeof buf);
        rc = create_adaptive_throttle(doc, ov, created_at, &buf.cfg, &t, want, error_field, e);
        if (rc != 0) return rc < 0 ? -1 : 0;
        memset(&run, 0, sizeof run);
        run.t = t;
        labels_init(&run.tickets, sizeof(rsl_adaptive_throttle_ticket));
        rc = steps != NULL ? run_steps(prim, &run, steps, e) : 0;
        labels_free(&run.tickets);
        rsl_adaptive_throttle_free(t);
        return rc;
    }
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    char **paths;
    size_t count;
    size_t cap;
} path_list;

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_path(path_list *l, const char *path) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (p == NULL) return -1;
        l->paths = p;
        l->cap = cap;
    }
    l->paths[l->count] = malloc(strlen(path) + 1);
    if (l->paths[l->count] == NULL) return -1;
    strcpy(l->paths[l->count], path);
    l->count++;
    return 0;
}

/* Collects every *.json under dir, recursively. */
static int collect(const char *dir, path_list *out, int depth) {
    DIR *d;
    struct dirent *ent;
    int rc = 0;
    if (depth > 32) {
        fprintf(stderr, "conformance_runner: %s: directories nested too deep\n", dir);
        return -1;
    }
    d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "conformance_runner: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((ent = readdir(d)) != NULL) {
        char *path;
        struct stat st;
        size_t len;
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
        len = strlen(dir) + strlen(ent->d_name) + 2;
        path = malloc(len);
        if (path == NULL) {
            rc = -1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, ent->d_name);
        if (stat(path, &st) != 0) {
            fprintf(stderr, "conformance_runner: cannot stat %s: %s\n", path, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            if (collect(path, out, depth + 1)) rc = -1;
        } else if (S_ISREG(st.st_mode) && ends_with(ent->d_name, ".json")) {
            if (add_path(out, path)) rc = -1;
        }
        free(path);
    }
    closedir(d);
    return rc;
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path, err_t *e) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (f == NULL) {
        fail(e, "cannot open: %s", strerror(errno));
        return NULL;
    }
    do {
        if (cap - len < 4096) {
            char *p;
            cap = cap ? cap * 2 : 8192;
            p = realloc(buf, cap + 1);
            if (p == NULL) {
                free(buf);
                fclose(f);
                fail(e, "out of memory");
                return NULL;
            }
            buf = p;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        fail(e, "read error");
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv) {
    const char *dir = NULL;
    int verbose = 0, i;
    path_list files = {NULL, 0, 0};
    size_t k;
    int passed = 0, failed = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (dir == NULL) {
            dir = argv[i];
        } else {
            dir = NULL;
            break;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "usage: %s [-v] CONFORMANCE_DIR\n", argv[0]);
        return 2;
    }
    if (
        check_table("rsl_breaker_metrics", breaker_metrics_fields, COUNT(breaker_metrics_fields),
                    sizeof(rsl_breaker_metrics)) ||
        check_table("rsl_adaptive_throttle_metrics", throttle_metrics_fields,
                    COUNT(throttle_metrics_fields), sizeof(rsl_adaptive_throttle_metrics)) ||
        check_table("rsl_breaker_counts", counts_fields, COUNT(counts_fields),
                    sizeof(rsl_breaker_counts)) ||
        check_table("rsl_retry_budget_metrics", budget_metrics_fields,
                    COUNT(budget_metrics_fields), sizeof(rsl_retry_budget_metrics)) ||
        check_table("rsl_window_limiter_metrics", window_metrics_fields,
                    COUNT(window_metrics_fields), sizeof(rsl_window_limiter_metrics)) ||
        check_table("rsl_adaptive_limiter_metrics", limiter_metrics_fields,
                    COUNT(limiter_metrics_fields), sizeof(rsl_adaptive_limiter_metrics)) ||
        check_table("rsl_bulkhead_metrics", bulkhead_metrics_fields,
                    COUNT(bulkhead_metrics_fields), sizeof(rsl_bulkhead_metrics))) {
        return 2;
    }
    if (collect(dir, &files, 0) != 0) {
        for (k = 0; k < files.count; k++) free(files.paths[k]);
        free(files.paths);
        return 2;
    }
    if (files.count > 0) {
        qsort(files.paths, files.count, sizeof files.paths[0], compare_paths);
    }

    for (k = 0; k < files.count; k++) {
        err_t e;
        char *text;
        cJSON *root;
        int rc;
        e.msg[0] = '\0';
        text = read_file(files.paths[k], &e);
        if (text == NULL) {
            rc = -1;
        } else {
            root = cJSON_Parse(text);
            if (root == NULL) {
                const char *where = cJSON_GetErrorPtr();
                rc = fail(&e, "invalid JSON near byte %ld",
                          where != NULL ? (long)(where - text) : -1L);
            } else {
                rc = run_scenario(root, &e);
                cJSON_Delete(root);
            }
            free(text);
        }
        if (rc == 0) {
            passed++;
            if (verbose) printf("ok   %s\n", files.paths[k]);
        } else {
            failed++;
            printf("FAIL %s: %s\n", files.paths[k], e.msg);
        }
        free(files.paths[k]);
    }
    free(files.paths);

    if (passed + failed == 0) {
        printf("no scenario (*.json) found under %s\n", dir);
    }
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return (failed > 0 || passed + failed == 0) ? EXIT_FAILURE : EXIT_SUCCESS;
}
