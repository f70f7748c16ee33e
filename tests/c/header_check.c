/* Compiled by `make header-check` as C11 with -Wall -Wextra -Werror -pedantic:
 * the generated header must be self-contained and warning-free. */
#include "resilience.h"

#include <assert.h>

static_assert(RSL_OK == 0, "RSL_OK is 0");
static_assert(sizeof(rsl_status) == 4, "rsl_status is 32-bit");
static_assert(offsetof(rsl_breaker_config, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_adaptive_throttle_config, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_breaker_metrics, struct_size) == 0, "struct_size first");
static_assert(offsetof(rsl_adaptive_throttle_metrics, struct_size) == 0, "struct_size first");

int header_check_c(void);
int header_check_c(void) {
    rsl_breaker_config cfg;
    return (int)rsl_breaker_config_init(&cfg);
}
