/* A program built against an installed libresilience (tests/install/run.sh):
 * it checks the header and the loaded library agree, makes one decision,
 * and prints where the library was loaded from, so the test can tell the
 * installed copy from the build tree's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <resilience.h>

int main(void) {
    if (rsl_abi_version() != RSL_ABI_VERSION) {
        fprintf(stderr, "consumer: ABI %u loaded, %u expected\n", rsl_abi_version(), RSL_ABI_VERSION);
        return 1;
    }
    if (strcmp(rsl_version_string(), RSL_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: version %s loaded, %s expected\n", rsl_version_string(),
                RSL_VERSION_STRING);
        return 1;
    }
    rsl_error err;
    rsl_breaker_config cfg;
    if (rsl_breaker_config_init(&cfg, &err) != RSL_OK) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    cfg.consecutive_failures = 1;
    rsl_breaker *breaker = NULL;
    if (rsl_breaker_new(&cfg, &breaker, &err) != RSL_OK) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    rsl_breaker_acquire_result a;
    if (rsl_breaker_acquire_at(breaker, 0, &a, &err) != RSL_OK || !a.admitted ||
        rsl_breaker_record_at(breaker, 1, &a.permit, RSL_OUTCOME_FAILURE, NULL, &err) != RSL_OK ||
        rsl_breaker_acquire_at(breaker, 2, &a, &err) != RSL_OK || a.admitted) {
        fprintf(stderr, "consumer: the breaker did not open after one failure\n");
        rsl_breaker_free(breaker);
        return 1;
    }
    rsl_breaker_free(breaker);

    /* ISO C has no function-to-object pointer conversion; POSIX dladdr
     * wants one: go through a union. */
    union {
        uint32_t (*fn)(void);
        void *addr;
    } where;
    where.fn = rsl_abi_version;
    Dl_info info;
    if (dladdr(where.addr, &info) == 0 || info.dli_fname == NULL) {
        fprintf(stderr, "consumer: dladdr failed\n");
        return 1;
    }
    printf("consumer: libresilience %s, ABI %u, from %s\n", rsl_version_string(),
           rsl_abi_version(), info.dli_fname);
    return 0;
}
