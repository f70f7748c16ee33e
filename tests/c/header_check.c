/* Compiled by `make header-check` as C11 with -Wall -Wextra -Werror -pedantic:
 * the generated header must be self-contained and warning-free. */
/* A program's own names that once leaked from the header must not clash. */
#define MAX_TOKENS 5
#define NO_DEADLINE 1
#define INF_DURATION 2
typedef int Criticality;

#include "resilience.h"

#include <assert.h>

static_assert(RSL_OK == 0, "RSL_OK is 0");
static_assert(sizeof(rsl_status) == 4, "rsl_status is 32-bit");
static_assert(offsetof(rsl_breaker_config, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_adaptive_throttle_config, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_breaker_metrics, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_adaptive_throttle_metrics, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_error, status) == 0, "rsl_error is frozen: status first");
static_assert(sizeof(((rsl_error *)0)->field) == RSL_ERROR_FIELD_CAPACITY, "field capacity");
static_assert(sizeof(((rsl_error *)0)->message) == RSL_ERROR_MESSAGE_CAPACITY, "message capacity");
static_assert(sizeof(rsl_error) == 4 + RSL_ERROR_FIELD_CAPACITY + RSL_ERROR_MESSAGE_CAPACITY,
              "rsl_error has no padding");
static_assert(RSL_ABI_VERSION == 2, "this test is for ABI 2");

int header_check_c(void);
int header_check_c(void) {
    rsl_breaker_config cfg;
    return (int)rsl_breaker_config_init(&cfg, NULL);
}
