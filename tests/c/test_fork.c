/*
 * fork() with a CPU-sampler limiter alive (pre-fork servers fork after
 * import), under ASan/UBSan and valgrind:
 *
 *   - the parent creates an RSL_CPU_SOURCE_SAMPLER adaptive limiter and
 *     waits for the sampler's first sample, then forks;
 *   - the child inherits the limiter (and its sampler reference: refs 1);
 *     its first acquire restarts the sampler thread (fork() copies only
 *     the forking thread: /proc/self/task gains one entry), and the
 *     sampler's sample count advances past what it inherited; it frees the limiter (refs 0, no panic), starts and stops the
 *     sampler once more, and exits 0 through exit() (atexit handlers, and
 *     the leak checkers, run);
 *   - the parent keeps using its limiter meanwhile, its own sampler thread
 *     keeps sampling, it reaps the child (exit status 0), frees, refs 0;
 *   - rsl_after_fork_child() outside a child is a no-op (RSL_OK);
 *   - both processes' stderr (redirected to files for the test) stays
 *     empty: no panic message, no backtrace, nothing.
 *
 * No timing assertion: the waits poll every 50 ms for up to 30 s (the
 * sampler takes a sample every 250 ms).
 *
 * Exit status 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L
#include "resilience.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static FILE *report; /* the real stderr (fd 2 is redirected during the test) */

static void fail(const char *what, long value) {
    if (failures < 20) {
        fprintf(report, "FAIL [pid %ld]: %s (%ld)\n", (long)getpid(), what, value);
        fflush(report);
    }
    failures++;
}

#define CHECK(cond, value)                                                     \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fail(#cond, (long)(value));                                        \
        }                                                                      \
    } while (0)

#define MUST_OK(call)                                                          \
    do {                                                                       \
        rsl_status must_ok_status_ = (call);                                   \
        if (must_ok_status_ != RSL_OK) {                                       \
            fail(#call, must_ok_status_);                                      \
        }                                                                      \
    } while (0)

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static rsl_cpu_sampler_stats sampler_stats(void) {
    rsl_cpu_sampler_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    MUST_OK(rsl_cpu_sampler_get_stats(&s, NULL));
    return s;
}

/* Polls until the sampler has taken more than `than` samples; returns the
 * last count seen. */
static uint64_t wait_for_samples_above(uint64_t than) {
    rsl_cpu_sampler_stats s = sampler_stats();
    int i;
    for (i = 0; i < 600 && s.samples <= than; i++) {
        sleep_ms(50);
        s = sampler_stats();
    }
    return s.samples;
}

/* Threads of this process (entries of /proc/self/task), -1 if unreadable. */
static int thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* A few admitted requests through the limiter, each recorded. */
static void use_limiter(const rsl_adaptive_limiter *limiter, int calls) {
    int i;
    for (i = 0; i < calls; i++) {
        rsl_adaptive_limiter_decision d;
        memset(&d, 0, sizeof d);
        MUST_OK(rsl_adaptive_limiter_acquire(limiter, RSL_CRITICALITY_DEFAULT, &d, NULL));
        CHECK(d.cpu_permille <= 1000, d.cpu_permille);
        if (d.allowed) {
            MUST_OK(rsl_adaptive_limiter_record(limiter, &d.token, RSL_OUTCOME_SUCCESS, NULL, NULL));
        }
    }
}

/* Everything a file received; "" when empty. The caller frees. */
static char *slurp(FILE *f) {
    long n;
    char *text;
    fflush(f);
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        return NULL;
    }
    text = calloc((size_t)n + 1, 1);
    if (text != NULL && n > 0 && fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        return NULL;
    }
    return text;
}

static int run_child(rsl_adaptive_limiter *limiter, FILE *err_file) {
    rsl_cpu_sampler_stats s;
    uint64_t inherited, seen;
    int threads_before, threads_after;
    if (dup2(fileno(err_file), 2) < 0) {
        return 10;
    }
    /* The first acquire alone (no sampler call yet) restarts the thread:
     * fork() copied only this one. */
    threads_before = thread_count();
    use_limiter(limiter, 1);
    threads_after = thread_count();
    if (threads_before >= 0) {
        CHECK(threads_after == threads_before + 1, threads_after - threads_before);
    }
    s = sampler_stats();
    CHECK(s.refs == 1, s.refs); /* the inherited limiter's reference */
    inherited = s.samples;
    use_limiter(limiter, 50);
    if (s.source != RSL_CPU_SAMPLER_SOURCE_NONE) {
        /* Two new samples: the child's own thread took them. */
        seen = wait_for_samples_above(inherited + 1);
        CHECK(seen > inherited + 1, (long)(seen - inherited));
    }
    use_limiter(limiter, 50);
    s = sampler_stats();
    CHECK(s.refs == 1, s.refs);
    CHECK(s.cpu_permille <= 1000, s.cpu_permille);
    rsl_adaptive_limiter_free(limiter);
    s = sampler_stats();
    CHECK(s.refs == 0, s.refs);
    /* The sampler works in the child like anywhere else. */
    MUST_OK(rsl_cpu_sampler_start(NULL));
    CHECK(sampler_stats().refs == 1, sampler_stats().refs);
    MUST_OK(rsl_after_fork_child(NULL)); /* nothing to do: no fork since */
    MUST_OK(rsl_cpu_sampler_stop(NULL));
    CHECK(sampler_stats().refs == 0, sampler_stats().refs);
    return failures == 0 ? 0 : 1;
}

int main(void) {
    rsl_adaptive_limiter_config cfg;
    rsl_adaptive_limiter *limiter = NULL;
    rsl_cpu_sampler_stats s;
    FILE *parent_err, *child_err;
    int saved_stderr, status = 0;
    pid_t pid;
    uint64_t before_fork;
    char *parent_text, *child_text;

    saved_stderr = dup(2);
    report = saved_stderr >= 0 ? fdopen(saved_stderr, "w") : NULL;
    parent_err = tmpfile();
    child_err = tmpfile();
    if (report == NULL || parent_err == NULL || child_err == NULL) {
        perror("test_fork: setup");
        return 2;
    }

    MUST_OK(rsl_adaptive_limiter_config_init(&cfg, NULL));
    CHECK(cfg.cpu_source == RSL_CPU_SOURCE_SAMPLER, cfg.cpu_source);
    MUST_OK(rsl_adaptive_limiter_new(&cfg, &limiter, NULL));
    if (limiter == NULL) {
        return 1;
    }
    MUST_OK(rsl_after_fork_child(NULL)); /* not a child: a no-op */
    s = sampler_stats();
    CHECK(s.refs == 1, s.refs);
    if (s.source != RSL_CPU_SAMPLER_SOURCE_NONE) {
        CHECK(wait_for_samples_above(0) > 0, 0);
    } else {
        fprintf(report, "test_fork: no CPU source readable here; sample counts not checked\n");
    }
    before_fork = sampler_stats().samples;

    /* From here on, fd 2 of both processes goes to files read at the end. */
    fflush(stderr);
    if (dup2(fileno(parent_err), 2) < 0) {
        perror("test_fork: dup2");
        return 2;
    }
    pid = fork();
    if (pid < 0) {
        dup2(saved_stderr, 2);
        perror("test_fork: fork");
        return 2;
    }
    if (pid == 0) {
        exit(run_child(limiter, child_err));
    }

    /* The parent keeps working while the child runs. */
    use_limiter(limiter, 200);
    if (s.source != RSL_CPU_SAMPLER_SOURCE_NONE) {
        uint64_t seen = wait_for_samples_above(before_fork);
        CHECK(seen > before_fork, (long)(seen - before_fork));
    }
    if (waitpid(pid, &status, 0) != pid) {
        fail("waitpid", errno);
    } else {
        CHECK(WIFEXITED(status), status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, WEXITSTATUS(status));
    }
    use_limiter(limiter, 50);
    CHECK(sampler_stats().refs == 1, sampler_stats().refs);
    rsl_adaptive_limiter_free(limiter);
    CHECK(sampler_stats().refs == 0, sampler_stats().refs);

    fflush(stderr);
    dup2(saved_stderr, 2);
    parent_text = slurp(parent_err);
    child_text = slurp(child_err);
    CHECK(parent_text != NULL && parent_text[0] == '\0', 0);
    CHECK(child_text != NULL && child_text[0] == '\0', 0);
    if (parent_text != NULL && parent_text[0] != '\0') {
        fprintf(report, "--- parent stderr:\n%s\n---\n", parent_text);
    }
    if (child_text != NULL && child_text[0] != '\0') {
        fprintf(report, "--- child stderr:\n%s\n---\n", child_text);
    }
    free(parent_text);
    free(child_text);
    fclose(parent_err);
    fclose(child_err);

    if (failures != 0) {
        fprintf(report, "test_fork: %d failure(s)\n", failures);
        fclose(report);
        return 1;
    }
    fprintf(report, "test_fork: ok (child and parent sampled, freed, silent)\n");
    fclose(report);
    return 0;
}
