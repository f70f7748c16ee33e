// Compiled by `make header-check` as C++17 with -Wall -Wextra -Werror
// -pedantic: the generated header must work from C++ (extern "C", no C-only
// constructs).
#include "resilience.h"

#include <cstddef>
#include <type_traits>

static_assert(std::is_standard_layout<rsl_breaker_config>::value, "plain C struct");
static_assert(std::is_trivially_copyable<rsl_breaker_metrics>::value, "plain C struct");
static_assert(std::is_standard_layout<rsl_adaptive_throttle_config>::value, "plain C struct");
static_assert(offsetof(rsl_breaker_config, struct_size) == 0, "struct_size first");

int header_check_cpp();
int header_check_cpp() {
    rsl_breaker_config cfg{};
    rsl_adaptive_throttle_config tcfg{};
    return static_cast<int>(rsl_breaker_config_init(&cfg, NULL)) +
           static_cast<int>(rsl_adaptive_throttle_config_init(&tcfg, NULL));
}
