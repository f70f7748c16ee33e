"""Writes tests/conformance/backoff/**.json. Expected values come from the
independent reference in retry_ref.py (and, where noted, from the anchors'
published numbers); run from the repository root:
    python3 tests/conformance/tools/gen_backoff.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from retry_ref import *  # noqa: E402,F401,F403

ROOT = os.path.join(os.path.dirname(__file__), "..", "backoff")
COUNT = {}
FIELDS = ("kind", "jitter", "base_ns", "max_ns", "increment_ns", "factor", "jitter_factor", "clamp_jittered")
JSON_SAFE = (1 << 53) - 1


def write(family, name, description, preset=None, config=None, steps=None, expect_status=None, field=None):
    d = {"primitive": "backoff", "description": description}
    if preset:
        d["preset"] = preset
    if config:
        d["config"] = config
    if expect_status:
        d["expect_status"] = expect_status
        if field:
            d["expect_error_field"] = field
    d["steps"] = steps or []
    for st in d["steps"]:
        for v in list(st.get("expect", {}).values()):
            assert not isinstance(v, int) or abs(v) <= JSON_SAFE, (name, v)
    os.makedirs(os.path.join(ROOT, family), exist_ok=True)
    with open(os.path.join(ROOT, family, name + ".json"), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
    COUNT[family] = COUNT.get(family, 0) + 1


def full(preset, over):
    """The reference config of a scenario: preset + overrides."""
    return config(preset or "default", **over)


def dsteps(c, pairs, state=True):
    """'delay' steps for (attempt, u) pairs, carrying one state."""
    st = State()
    out = []
    for n, u in pairs:
        d = delay(c, n, u, st)
        e = {"delay_ns": d}
        if c["kind"] == "aws_decorrelated":
            e["prev_delay_ns"] = st.prev_delay_ns
        out.append({"at": 0, "op": "delay", "attempt": n, "u": u, "expect": e})
    return out


def nsteps(c, seed, attempts, bounds=None):
    """'next' steps on a handle seeded with `seed`, pinned to the stream."""
    b = Backoff(c, seed)
    st = State()
    out = []
    for n in attempts:
        d = b.next(n, st)
        e = {"delay_ns": d}
        if bounds:
            lo, hi = bounds(n)
            assert lo <= d < hi, (n, d, lo, hi)
            e["min_delay_ns"] = lo
            e["below_delay_ns"] = hi
        out.append({"at": 0, "op": "next", "attempt": n, "expect": e})
    return out


def draw_steps(c, attempts):
    return [{"at": 0, "op": "draws", "attempt": n, "expect": {"draws": draws(c, n)}} for n in attempts]


def bad(family, name, field, desc, preset=None, status="RSL_ERR_INVALID_CONFIG", **over):
    write(family, "bad_config_" + name, desc, preset=preset, config=over, expect_status=status, field=field)


# ---------------------------------------------------------------- fixed / linear / exponential
F = "fixed_linear_exponential"
c = full(None, {})
write(F, "seeds_exponential_sequence",
      "The seeds' ExponentialBackoffStrategy(base 1 s, max 60 s): attempt n (1 = first retry) waits min(60 s, 1 s * 2^(n-1)): 1, 2, 4, 8, 16, 32, then 60 s (64 capped) and 60 s. No draw (u is ignored).",
      steps=dsteps(c, [(1, 0.0), (2, 0.9), (3, 0.5), (4, 0.0), (5, 0.0), (6, 0.0), (7, 0.0), (8, 0.3)]) + draw_steps(c, [1, 7]))
write(F, "exponential_huge_attempt",
      "The doubling loop stops at the cap, so attempt 4294967295 costs no more than attempt 7: 60 s.",
      steps=dsteps(c, [(4294967295, 0.0), (100, 0.0)]) + [{"at": 0, "op": "next", "attempt": 4294967295, "expect": {"delay_ns": 60 * S}}])
c = full(None, {"base_ns": S, "max_ns": 8 * S})
write(F, "exponential_cap_reached_exactly",
      "base 1 s, max 8 s: attempt 4 = 1*2^3 = 8 s equals the cap exactly; attempt 5 = 16 capped to 8 s.",
      config={"max_ns": 8 * S}, steps=dsteps(c, [(3, 0.0), (4, 0.0), (5, 0.0)]))
c = full(None, {"base_ns": 100 * MS, "factor": 1.5, "max_ns": NO_MAX})
write(F, "exponential_factor_1_5_no_cap",
      "base 100 ms, factor 1.5, no cap: repeated multiplication 100, 150, 225, 337.5, 506.25, 759.375 ms (all exact in binary floating point: 1e8 * 1.5^k).",
      config={"base_ns": 100 * MS, "factor": 1.5, "max_ns": str(NO_MAX)}, steps=dsteps(c, [(n, 0.0) for n in range(1, 7)]))
c = full(None, {"base_ns": 10 * S, "max_ns": 5 * S})
write(F, "exponential_base_above_max",
      "base 10 s above max 5 s: every delay is the cap, 5 s (the cap applies to the first delay too).",
      config={"base_ns": 10 * S, "max_ns": 5 * S}, steps=dsteps(c, [(1, 0.0), (2, 0.0)]))
c = full(None, {"base_ns": 0})
write(F, "exponential_base_zero",
      "base 0 is valid for fixed/linear/exponential (failsafe-go's default of no delay): every delay is 0 and nothing is drawn.",
      config={"base_ns": 0}, steps=dsteps(c, [(1, 0.0), (9, 0.0)]) + draw_steps(c, [1]))
c = full("seeds_fixed", {})
write(F, "fixed_seeds",
      "The seeds' FixedRetryStrategy(delay 1 s): 1 s for every attempt; stateless, so rsl_backoff_next accepts a NULL state.",
      preset="seeds_fixed", steps=dsteps(c, [(1, 0.0), (2, 0.5), (50, 0.0)]) + [{"at": 0, "op": "next_null_state", "attempt": 3, "expect": {"delay_ns": S}}])
c = full("seeds_fixed", {"base_ns": 5 * S, "max_ns": 2 * S})
write(F, "fixed_capped",
      "fixed 5 s with max 2 s: the cap wins, 2 s.",
      preset="seeds_fixed", config={"base_ns": 5 * S, "max_ns": 2 * S}, steps=dsteps(c, [(1, 0.0), (2, 0.0)]))
c = full("seeds_fixed", {"kind": "linear", "base_ns": 2 * S, "increment_ns": 2 * S})
write(F, "linear_polly",
      "Polly's Linear backoff is (attempt0 + 1) * Delay with a 0-based attempt; with increment = base = 2 s ours gives the same 2, 4, 6, 8 s.",
      preset="seeds_fixed", config={"kind": "linear", "base_ns": 2 * S, "increment_ns": 2 * S}, steps=dsteps(c, [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]))
c = full("seeds_fixed", {"kind": "linear", "base_ns": S, "increment_ns": 500 * MS, "max_ns": 2200 * MS})
write(F, "linear_increment_and_cap",
      "linear 1 s + 0.5 s per retry, max 2.2 s: 1, 1.5, 2.0, then 2.5 capped to 2.2 s.",
      preset="seeds_fixed", config={"kind": "linear", "base_ns": S, "increment_ns": 500 * MS, "max_ns": 2200 * MS},
      steps=dsteps(c, [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0), (5, 0.0)]))
c = full("seeds_fixed", {"kind": "linear", "base_ns": 10**15, "increment_ns": 10**15, "max_ns": 9 * 10**15})
write(F, "linear_large_values_saturate_at_cap",
      "linear 1e15 + (n-1)*1e15 ns, max 9e15: attempt 9 = 9e15 exactly; attempt 4294967295 = ~4.3e24 (computed without overflow) capped to 9e15.",
      preset="seeds_fixed", config={"kind": "linear", "base_ns": 10**15, "increment_ns": 10**15, "max_ns": 9 * 10**15},
      steps=dsteps(c, [(9, 0.0), (4294967295, 0.0)]))
c = full(None, {})
write(F, "attempt_zero_is_invalid",
      "Attempts are 1-based (1 = the wait before the first retry): attempt 0 is RSL_ERR_INVALID_ARGUMENT for delay_with_u, next and draws.",
      steps=[{"at": 0, "op": "delay", "attempt": 0, "u": 0.0, "expect_status": "RSL_ERR_INVALID_ARGUMENT"},
             {"at": 0, "op": "next", "attempt": 0, "expect_status": "RSL_ERR_INVALID_ARGUMENT"},
             {"at": 0, "op": "draws", "attempt": 0, "expect_status": "RSL_ERR_INVALID_ARGUMENT"}])
write(F, "u_outside_unit_interval",
      "The pure entry point takes u in [0, 1): 1.0, -0.25 and 2 are RSL_ERR_INVALID_ARGUMENT even when the strategy would not use u.",
      steps=[{"at": 0, "op": "delay", "attempt": 1, "u": 1.0, "expect_status": "RSL_ERR_INVALID_ARGUMENT"},
             {"at": 0, "op": "delay", "attempt": 1, "u": -0.25, "expect_status": "RSL_ERR_INVALID_ARGUMENT"},
             {"at": 0, "op": "delay", "attempt": 2, "u": 2, "expect_status": "RSL_ERR_INVALID_ARGUMENT"},
             {"at": 0, "op": "delay", "attempt": 2, "u": 0.9999999999999999, "expect": {"delay_ns": 2 * S}}])
bad(F, "unknown_kind", "kind", "kind 99 is not a strategy: the JSON config names kinds (\"exponential\"), and a number is refused.", kind=99)
bad(F, "unknown_jitter", "jitter", "jitter 9 is not a jitter mode: the JSON config names jitter modes (\"full\"), and a number is refused.", jitter=9)
bad(F, "base_negative", "base_ns", "base_ns must be >= 0.", base_ns=-1)
bad(F, "max_negative", "max_ns", "max_ns must be >= 0.", max_ns=-5)
bad(F, "increment_negative", "increment_ns", "a linear increment must be >= 0.", preset="seeds_fixed", kind="linear", increment_ns=-1)
bad(F, "factor_below_one", "factor", "factor 0.5 would shrink the delays (gRPC A6 accepts any multiplier > 0; we require >= 1).", factor=0.5)
bad(F, "factor_too_slow", "factor", "factor 1.000001 without a cap needs more than 10000 multiplications to reach INT64_MAX ns from 1 s, so the config is refused.", factor=1.000001, max_ns=str(NO_MAX))
bad(F, "clamp_flag_not_boolean", "clamp_jittered", "clamp_jittered is a boolean (true/false in JSON); 2 is refused.", clamp_jittered=2)
bad(F, "struct_size_too_small", "cfg.struct_size", "struct_size 8 is smaller than any known layout.", status="RSL_ERR_CONFIG_SIZE", struct_size=8)
bad(F, "proportional_jitter_negative", "jitter_factor", "proportional jitter needs jitter_factor >= 0.", jitter="proportional", jitter_factor=-0.1)
bad(F, "symmetric_jitter_above_one", "jitter_factor", "symmetric jitter needs jitter_factor in [0, 1] (else delays could go negative).", jitter="symmetric", jitter_factor=1.5)
bad(F, "jitter_mode_on_builtin_kind", "jitter", "AWS full jitter has its jitter built in; adding a jitter mode is refused, not combined.", preset="aws_full_jitter", jitter="symmetric")

# ---------------------------------------------------------------- jittered families
J = "jittered"
c = full("seeds_jitter", {})
write(J, "seeds_jitter_with_u",
      "The seeds' JitterRetryStrategy: delay = min(1 s * 2^(n-1), 60 s); delay + delay * 0.1 * u. n=1,u=0: 1 s; n=1,u=0.5: 1.05 s; n=3,u=0.999: 4 + 0.3996 = 4.3996 s; n=7,u=0.5: 60 + 3 = 63 s (the cap applies before the jitter, as in the seeds).",
      preset="seeds_jitter", steps=dsteps(c, [(1, 0.0), (1, 0.5), (3, 0.999), (7, 0.5)]) + draw_steps(c, [1, 7]))
c = full("seeds_jitter", {"clamp_jittered": True})
write(J, "seeds_jitter_clamped",
      "With clamp_jittered = true the jittered delay is clamped to max_ns too: n=7, u=0.5 gives 60 s instead of 63 s; below the cap nothing changes (n=2,u=0.5: 2.1 s).",
      preset="seeds_jitter", config={"clamp_jittered": True}, steps=dsteps(c, [(7, 0.5), (2, 0.5)]))
c = full("seeds_jitter", {"base_ns": S, "max_ns": 10 * S, "seed": 42})
write(J, "seeds_usage_example_seeded",
      "The seeds' usage: JitterRetryStrategy(base 1 s, max 10 s) with the handle PRNG seeded 42 (xoshiro256++/SplitMix64, u = (next >> 11) * 2^-53): the exact delays pin the stream; each lies in [e, 1.1 e).",
      preset="seeds_jitter", config={"max_ns": 10 * S, "seed": 42},
      steps=nsteps(c, 42, [1, 2, 3, 4, 5, 6], lambda n: (min(S * 2**(n - 1), 10 * S), int(min(S * 2**(n - 1), 10 * S) * 1.1) + 1)))
c = full("grpc_retry", {})
write(J, "symmetric_with_u",
      "Symmetric jitter e * (1 + 0.2 (2u - 1)) on the gRPC retry preset (0.1 s x2, max 1 s): n=1: u=0 -> 80 ms, u=0.5 -> 100 ms; n=5: e = min(1.6 s, 1 s) = 1 s, u=0.75 -> 1.1 s (above max_ns: A6 says the delay may exceed maxBackoff).",
      preset="grpc_retry", steps=dsteps(c, [(1, 0.0), (1, 0.5), (5, 0.75)]))
c = full("grpc_retry_full_jitter", {})
write(J, "full_with_u",
      "Full jitter e * u: n=1, u=0 -> 0; n=1, u=0.5 -> 50 ms; n=4, u=0.5 -> 400 ms; n=5: e = min(1.6 s, 1 s) -> u=0.5 gives 500 ms.",
      preset="grpc_retry_full_jitter", steps=dsteps(c, [(1, 0.0), (1, 0.5), (4, 0.5), (5, 0.5)]))
c = full(None, {"jitter": "equal"})
write(J, "equal_with_u",
      "Equal jitter e/2 + (e/2) u on 1 s doubling: n=1: u=0 -> 0.5 s, u=0.5 -> 0.75 s; n=3 (4 s): u=0.25 -> 2.5 s.",
      config={"jitter": "equal"}, steps=dsteps(c, [(1, 0.0), (1, 0.5), (3, 0.25)]))
c = full("polly_v8", {"jitter": "symmetric", "jitter_factor": 0.25, "clamp_jittered": True, "max_ns": 3 * S})
write(J, "polly_constant_use_jitter",
      "Polly Constant with UseJitter: 2 s +/- 25 % = e * (1 + 0.25 (2u - 1)): u=0 -> 1.5 s, u=0.5 -> 2 s, u=0.9 -> 2.4 s; Polly clamps the jittered delay to MaxDelay (here 3 s), which clamp_jittered = true reproduces.",
      preset="polly_v8", config={"jitter": "symmetric", "jitter_factor": 0.25, "clamp_jittered": True, "max_ns": 3 * S},
      steps=dsteps(c, [(1, 0.0), (1, 0.5), (1, 0.9)]))
c = full("seeds_fixed", {"kind": "linear", "increment_ns": S, "jitter": "proportional", "jitter_factor": 0.5})
write(J, "linear_proportional",
      "Jitter modes apply to linear too: linear 1 s + 1 s per retry, proportional 0.5: n=2 (2 s), u=0.5 -> 2.5 s; n=3 (3 s), u=0.2 -> 3.3 s.",
      preset="seeds_fixed", config={"kind": "linear", "increment_ns": S, "jitter": "proportional", "jitter_factor": 0.5},
      steps=dsteps(c, [(2, 0.5), (3, 0.2)]))
c = full("grpc_retry", {"seed": 7})
write(J, "symmetric_seeded_stream",
      "gRPC A6 retry backoff on a handle seeded 7: one draw per delay, including the first; exact values pin the stream and lie in [0.8 e, 1.2 e).",
      preset="grpc_retry", config={"seed": 7},
      steps=nsteps(c, 7, [1, 2, 3, 4, 5, 6], lambda n: (int(min(100 * MS * 2**(n - 1), S) * 0.8) - 1, int(min(100 * MS * 2**(n - 1), S) * 1.2) + 1)))
c = full("grpc_retry_full_jitter", {"seed": 99})
write(J, "full_seeded_stream",
      "Full jitter seeded 99: exact values pin the stream; each in [0, e).",
      preset="grpc_retry_full_jitter", config={"seed": 99},
      steps=nsteps(c, 99, [1, 2, 3, 4, 5], lambda n: (0, min(100 * MS * 2**(n - 1), S))))
c = full(None, {"jitter": "equal", "seed": 5})
write(J, "equal_seeded_stream",
      "Equal jitter seeded 5 on 1 s doubling capped at 60 s: exact values; each in [e/2, e).",
      config={"jitter": "equal", "seed": 5},
      steps=nsteps(c, 5, [1, 2, 3, 7, 8], lambda n: (min(S * 2**(n - 1), 60 * S) // 2, min(S * 2**(n - 1), 60 * S))))
c = full("seeds_jitter", {"jitter_factor": 0.0, "seed": 3})
write(J, "proportional_zero_factor_still_draws",
      "Proportional jitter with factor 0 leaves e unchanged but still consumes one draw per delay (draws = 1), so the stream position does not depend on the factor.",
      preset="seeds_jitter", config={"jitter_factor": 0.0, "seed": 3},
      steps=nsteps(c, 3, [1, 2, 3]) + draw_steps(c, [1]))
c = full("seeds_jitter", {"seed": 0})
write(J, "entropy_seed_bounds",
      "Seed 0 draws the seed from entropy: values differ per run, so only the bounds [e, 1.1 e) are checked, over 50 delays of attempt 3 (4 s).",
      preset="seeds_jitter", config={"seed": 0},
      steps=[{"at": 0, "op": "next", "attempt": 3, "repeat": 50, "expect": {"min_delay_ns": 4 * S, "below_delay_ns": 4400 * MS + 1}}])
c = full("seeds_jitter", {"seed": 11})
st = State()
b = Backoff(c, 11)
d1 = b.next(1, st)
d3 = b.next(3, st)
write(J, "stream_shared_by_attempts",
      "The handle PRNG is one stream: attempt numbers do not index it. Seed 11: the 1st delay asked (attempt 1) takes draw 1, the 2nd (attempt 3) draw 2; the pure form with those u reproduces them.",
      preset="seeds_jitter", config={"seed": 11},
      steps=[{"at": 0, "op": "next", "attempt": 1, "expect": {"delay_ns": d1}},
             {"at": 0, "op": "next", "attempt": 3, "expect": {"delay_ns": d3}}] +
      dsteps(c, [(1, Rng(11).next_f64())]))
bad(J, "equal_mode_unknown_value", "jitter", "jitter 5 is unknown: the JSON config names jitter modes, and a number is refused.", jitter=5)

# ---------------------------------------------------------------- gRPC connection
G = "grpc_connection"
c = full("grpc_connection", {"jitter_factor": 0.0})
write(G, "vector_table_jitter_zero",
      "peer-semantics §4 vector table (grpc-go Backoff(retries) with retries = attempt - 1, DefaultConfig, jitter 0): 1, 1.6, 2.56, 4.096, 6.5536, 10.48576, 16.777216, 26.8435456, 42.94967296, 68.719476736, 109.951162777 (truncated from ...777.6) s, then 120 s from retries 11 on.",
      preset="grpc_connection", config={"jitter_factor": 0.0},
      steps=[{"at": 0, "op": "delay", "attempt": n, "u": 0.3, "expect": {"delay_ns": v}} for n, v in zip(range(1, 14), [1000000000, 1600000000, 2560000000, 4096000000, 6553600000, 10485760000, 16777216000, 26843545600, 42949672960, 68719476736, 109951162777, 120000000000, 120000000000])])
for n, v in zip(range(1, 14), [1000000000, 1600000000, 2560000000, 4096000000, 6553600000, 10485760000, 16777216000, 26843545600, 42949672960, 68719476736, 109951162777, 120000000000, 120000000000]):
    assert delay(c, n, 0.3) == v
c = full("grpc_connection", {})
write(G, "vector_table_u_half",
      "With the default jitter 0.2, u = 0.5 makes the jitter factor 1 + 0.2 * 0 = 1 exactly, so the table values come back unchanged.",
      preset="grpc_connection", steps=dsteps(c, [(n, 0.5) for n in range(1, 13)]))
lo = [delay(c, n, 0.0) for n in range(2, 7)]
write(G, "vector_table_lower_bounds",
      "u = 0 gives the table's lower bounds b * 0.8: 1.28, 2.048, 3.2768, 5.24288, 8.388608 s (computed as b * (1 + 0.2 * (0 * 2 - 1)) in doubles, truncated to ns).",
      preset="grpc_connection", steps=dsteps(c, [(n, 0.0) for n in range(2, 7)]))
write(G, "vector_table_upper_bounds",
      "u = 1 - 2^-53 (the largest draw) gives at most the table's upper bounds 1.2 b: in doubles 1 + 0.2 (2u - 1) rounds to 1.2, so the top of [0.8 b, 1.2 b) is reached: 1.92, 3.072, 4.9152, 7.86432, 12.582912 s are inclusive bounds after rounding.",
      preset="grpc_connection",
      steps=[{"at": 0, "op": "delay", "attempt": n, "u": 0.9999999999999999, "expect": {"delay_ns": delay(c, n, 0.9999999999999999), "min_delay_ns": lo_, "below_delay_ns": hi_}}
             for n, lo_, hi_ in zip(range(2, 7), [1280000000, 2048000000, 3276800000, 5242880000, 8388608000], [1920000001, 3072000001, 4915200001, 7864320001, 12582912001])])
write(G, "first_delay_unjittered",
      "grpc-go returns BaseDelay exactly for retries == 0 (our attempt 1), before any draw: 1 s for every u, and draws(1) = 0, draws(2) = 1.",
      preset="grpc_connection", steps=dsteps(c, [(1, 0.0), (1, 0.99)]) + draw_steps(c, [1, 2, 30]))
write(G, "jitter_after_cap",
      "The jitter is applied after the cap, so from attempt 12 on delays span [96 s, 144 s): u=0 -> 96 s, u=0.5 -> 120 s, u=0.999 -> 143.952 s.",
      preset="grpc_connection", steps=dsteps(c, [(12, 0.0), (12, 0.5), (12, 0.999), (4294967295, 0.999)]))
write(G, "seeded_stream_skips_first",
      "Seed 1: attempt 1 draws nothing, so attempt 2 uses the first draw of the stream; exact values pin it, each within [0.8 b, 1.2 b).",
      preset="grpc_connection", config={"seed": 1},
      steps=nsteps(full("grpc_connection", {"seed": 1}), 1, [1, 2, 3, 4, 5, 6],
                   lambda n: (S, S + 1) if n == 1 else (int(grow(1e9, 1.6, n - 1, 1.2e11) * 0.8) - 1, int(grow(1e9, 1.6, n - 1, 1.2e11) * 1.2) + 1)))
b1 = Backoff(full("grpc_connection", {"seed": 1}), 1)
st = State()
seq = [b1.next(n, st) for n in [1, 2]]
write(G, "seeded_stream_pure_equivalence",
      "next() on a handle seeded 1 equals delay_with_u with u = the first draw of seed 1 for attempt 2 (attempt 1 drew nothing).",
      preset="grpc_connection", config={"seed": 1},
      steps=[{"at": 0, "op": "next", "attempt": 1, "expect": {"delay_ns": seq[0]}},
             {"at": 0, "op": "next", "attempt": 2, "expect": {"delay_ns": seq[1]}},
             {"at": 0, "op": "delay", "attempt": 2, "u": Rng(1).next_f64(), "expect": {"delay_ns": seq[1]}}])
c = full("grpc_connection", {"base_ns": 200 * MS, "factor": 2.0, "jitter_factor": 0.0})
write(G, "grpc_go_test_config",
      "The config of grpc-go's TestBackoffWhenNoServerPrefaceReceived (200 ms, x2, jitter 0): 200, 400, 800, 1600 ms.",
      preset="grpc_connection", config={"base_ns": 200 * MS, "factor": 2.0, "jitter_factor": 0.0},
      steps=dsteps(c, [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]))
c = full("grpc_connection", {"base_ns": 5 * S, "max_ns": 3 * S})
write(G, "base_above_max",
      "grpc-go returns BaseDelay for retries == 0 without capping it: attempt 1 = 5 s > max 3 s; attempt 2: 8 s capped to 3 s, then jittered (u=0.5 -> 3 s, u=0 -> 2.4 s).",
      preset="grpc_connection", config={"base_ns": 5 * S, "max_ns": 3 * S}, steps=dsteps(c, [(1, 0.5), (2, 0.5), (2, 0.0)]))
c = full("grpc_connection", {"jitter_factor": 1.0})
write(G, "jitter_one_reaches_zero",
      "jitter_factor 1 (the largest accepted): u = 0 gives b * (1 + 1 * -1) = 0 exactly; u=0.5 gives b.",
      preset="grpc_connection", config={"jitter_factor": 1.0}, steps=dsteps(c, [(2, 0.0), (2, 0.5)]))
bad(G, "base_zero", "base_ns", "gRPC requires a positive base delay.", preset="grpc_connection", base_ns=0)
bad(G, "max_zero", "max_ns", "gRPC requires a positive max delay.", preset="grpc_connection", max_ns=0)
bad(G, "jitter_above_one", "jitter_factor", "jitter_factor must be in [0, 1].", preset="grpc_connection", jitter_factor=1.2)
bad(G, "factor_below_one", "factor", "factor must be >= 1.", preset="grpc_connection", factor=0.9)
bad(G, "jitter_mode_set", "jitter", "the connection backoff has its own jitter; a jitter mode is refused.", preset="grpc_connection", jitter="full")

# ---------------------------------------------------------------- gRPC A6 retry
A = "grpc_retry"
c = full("grpc_retry", {})
write(A, "a6_example_u_half",
      "gRFC A6 (2024): retry n waits min(initialBackoff * multiplier^(n-1), maxBackoff) * random(0.8, 1.2). The A6 example policy (0.1 s, x2, 1 s) at u = 0.5 (factor exactly 1): 100, 200, 400, 800, 1000, 1000 ms.",
      preset="grpc_retry", steps=dsteps(c, [(n, 0.5) for n in range(1, 7)]))
write(A, "a6_lower_bound",
      "u = 0: 0.8 x: 80, 160, 320, 640, 800 ms (the delay may go below initialBackoff, as A6 says).",
      preset="grpc_retry", steps=dsteps(c, [(n, 0.0) for n in range(1, 6)]))
write(A, "a6_upper_bound",
      "u = 1 - 2^-53: 1 + 0.2 (2u - 1) rounds to 1.2 in doubles, so the delay reaches 1.2 x (120, 240, 480, 960, 1200 ms): the top bound is inclusive after rounding; above maxBackoff from n = 4 on, as A6 allows.",
      preset="grpc_retry",
      steps=[{"at": 0, "op": "delay", "attempt": n, "u": 0.9999999999999999,
              "expect": {"delay_ns": delay(c, n, 0.9999999999999999), "below_delay_ns": int(min(100 * MS * 2**(n - 1), S) * 1.2) + 1}} for n in range(1, 6)])
write(A, "a6_first_retry_is_jittered",
      "Unlike the connection backoff, A6 jitters the first retry too: draws(1) = 1.",
      preset="grpc_retry", steps=draw_steps(c, [1, 2, 100]))
c = full("grpc_retry", {"seed": 123})
write(A, "a6_seeded_stream",
      "A6 retry backoff seeded 123: exact values pin the stream; each in [0.8 e, 1.2 e).",
      preset="grpc_retry", config={"seed": 123},
      steps=nsteps(c, 123, [1, 2, 3, 4, 5, 6, 7], lambda n: (int(min(100 * MS * 2**(n - 1), S) * 0.8) - 1, int(min(100 * MS * 2**(n - 1), S) * 1.2) + 1)))
c = full("grpc_retry", {"factor": 1.0})
write(A, "a6_multiplier_one",
      "backoffMultiplier 1 (A6 only requires > 0): every retry waits initialBackoff * random(0.8, 1.2); u=0.5 -> 100 ms at n = 1 and n = 50.",
      preset="grpc_retry", config={"factor": 1.0}, steps=dsteps(c, [(1, 0.5), (50, 0.5)]))
c = full("grpc_retry", {"factor": 1.5, "max_ns": 10 * S})
write(A, "a6_multiplier_1_5",
      "multiplier 1.5 by repeated multiplication: 100, 150, 225, 337.5, 506.25 ms at u = 0.5.",
      preset="grpc_retry", config={"factor": 1.5, "max_ns": 10 * S}, steps=dsteps(c, [(n, 0.5) for n in range(1, 6)]))
c = full("grpc_retry", {"base_ns": S, "max_ns": 120 * S, "factor": 1.6})
write(A, "a6_large_attempt",
      "With 1 s, x1.6, max 120 s, attempt 4294967295 costs a bounded loop: min(...) = 120 s, u = 0.5 gives 120 s and u = 1 - 2^-53 gives 144 s exactly (the x1.2 rounds up to 1.2).",
      preset="grpc_retry", config={"base_ns": S, "max_ns": 120 * S, "factor": 1.6},
      steps=dsteps(c, [(4294967295, 0.5)]) + [{"at": 0, "op": "delay", "attempt": 4294967295, "u": 0.9999999999999999, "expect": {"delay_ns": 144 * S}}])
c = full("grpc_retry_full_jitter", {})
write(A, "a6_2017_full_jitter",
      "A6 before its 2024 amendment: retry n waits random(0, min(initialBackoff * multiplier^(n-1), maxBackoff)). u = 0.25: 25, 50, 100, 200, 250, 250 ms.",
      preset="grpc_retry_full_jitter", steps=dsteps(c, [(n, 0.25) for n in range(1, 7)]))
c = full("grpc_retry_full_jitter", {"seed": 8})
write(A, "a6_2017_seeded",
      "Pre-2024 A6 full jitter seeded 8: exact values pin the stream; each in [0, e).",
      preset="grpc_retry_full_jitter", config={"seed": 8},
      steps=nsteps(c, 8, [1, 2, 3, 4, 5, 6], lambda n: (0, min(100 * MS * 2**(n - 1), S))))
c = full("grpc_retry", {"base_ns": 100 * MS, "max_ns": 50 * MS})
write(A, "a6_initial_above_max",
      "initialBackoff 100 ms above maxBackoff 50 ms: min() caps the first retry too: 50 ms at u = 0.5.",
      preset="grpc_retry", config={"max_ns": 50 * MS}, steps=dsteps(c, [(1, 0.5), (3, 0.5)]))
bad(A, "multiplier_half", "factor", "A6 accepts backoffMultiplier 0.5 (> 0); we refuse shrinking backoff (factor >= 1).", preset="grpc_retry", factor=0.5)
bad(A, "negative_initial", "base_ns", "initialBackoff must be >= 0 (A6: > 0; 0 gives no delay here).", preset="grpc_retry", base_ns=-100)
bad(A, "negative_max", "max_ns", "maxBackoff must be >= 0.", preset="grpc_retry", max_ns=-1)
bad(A, "jitter_factor_two", "jitter_factor", "symmetric jitter_factor 2 would allow negative delays.", preset="grpc_retry", jitter_factor=2.0)

# ---------------------------------------------------------------- AWS
W = "aws"
c = full("aws_full_jitter", {})
write(W, "full_jitter_with_u",
      "AWS blog full jitter, expo(n) = min(cap, base * 2^n) with n = attempt (the blog's counter is incremented before the backoff): base 5 ms, cap 2 s. n=1, u=0.5 -> 5 ms (of 10); n=8: expo = 1280 ms, u=0.5 -> 640 ms; n=9: 2560 capped to 2000 ms, u=0.25 -> 500 ms.",
      preset="aws_full_jitter", steps=dsteps(c, [(1, 0.5), (8, 0.5), (9, 0.25), (1, 0.0)]))
c = full("aws_equal_jitter", {})
write(W, "equal_jitter_with_u",
      "AWS blog equal jitter v/2 + U(0, v/2): n=1 (v=10 ms): u=0 -> 5 ms, u=0.5 -> 7.5 ms; n=10 (v = 2 s cap): u=0.5 -> 1.5 s.",
      preset="aws_equal_jitter", steps=dsteps(c, [(1, 0.0), (1, 0.5), (10, 0.5)]))
c = full("aws_decorrelated", {})
write(W, "decorrelated_sequence",
      "AWS blog decorrelated jitter: sleep = min(cap, U(base, 3 * sleep)) = min(cap, base + (3 sleep - base) u), sleep starting at base = 5 ms. u=0.5: 5 + (15-5)/2 = 10 ms; then 5 + (30-5)/2 = 17.5 ms; then 5 + (52.5-5)/2 = 28.75 ms; u=0: 5 ms (back to base). The state keeps the previous sleep (prev_delay_ns).",
      preset="aws_decorrelated", steps=dsteps(c, [(1, 0.5), (2, 0.5), (3, 0.5), (4, 0.0), (5, 0.5)]))
write(W, "decorrelated_cap",
      "Decorrelated jitter is capped at 2 s: from a 1.9 s sleep (u near 1 on 3 x sleep) the next is min(2 s, ...) = 2 s and stays the state.",
      preset="aws_decorrelated", steps=dsteps(c, [(n, 0.99) for n in range(1, 9)]))
write(W, "decorrelated_reset_state",
      "A fresh state (rsl_backoff_state_init) restarts from sleep = base: the same u after a reset gives the first delay again.",
      preset="aws_decorrelated",
      steps=dsteps(c, [(1, 0.5), (2, 0.5)]) + [{"at": 0, "op": "reset_state"}] + dsteps(c, [(1, 0.5)]))
write(W, "decorrelated_needs_state",
      "Decorrelated jitter is stateful: rsl_backoff_next with a NULL state is RSL_ERR_NULL_ARGUMENT.",
      preset="aws_decorrelated", steps=[{"at": 0, "op": "next_null_state", "attempt": 1, "expect_status": "RSL_ERR_NULL_ARGUMENT"}])
c = full("aws_decorrelated", {"seed": 77})
write(W, "decorrelated_seeded",
      "Decorrelated seeded 77: exact values pin the stream; each in [base, min(cap, 3 prev)).",
      preset="aws_decorrelated", config={"seed": 77}, steps=nsteps(c, 77, [1, 2, 3, 4, 5, 6]))
c = full("aws_standard", {})
write(W, "standard_mode",
      "aws-sdk-go-v2 ExponentialJitterBackoff(20 s): attempt > int(log2(20 s / 1 s)) = 4 returns MaxBackoff exactly (no draw); else u * 2^attempt s. n=1,u=0.5 -> 1 s; n=4,u=0.5 -> 8 s; n=4,u=0.999 -> 15.984 s; n=5 -> 20 s for any u.",
      preset="aws_standard", steps=dsteps(c, [(1, 0.5), (4, 0.5), (4, 0.999), (5, 0.1), (5, 0.9)]) + draw_steps(c, [1, 4, 5, 40]))
c = full("aws_standard", {"max_ns": 16 * S})
write(W, "standard_mode_power_of_two_max",
      "max 16 s: log2(16) = 4 exactly, so attempt 4 still draws (u * 16 s) and attempt 5 returns 16 s.",
      preset="aws_standard", config={"max_ns": 16 * S}, steps=dsteps(c, [(4, 0.5), (5, 0.5)]) + draw_steps(c, [4, 5]))
c = full("aws_standard", {"max_ns": 15900 * MS})
write(W, "standard_mode_max_just_below",
      "max 15.9 s: floor(log2(15.9)) = 3, so attempt 4 already returns 15.9 s without a draw.",
      preset="aws_standard", config={"max_ns": 15900 * MS}, steps=dsteps(c, [(3, 0.5), (4, 0.5)]) + draw_steps(c, [3, 4]))
c = full("aws_standard", {"seed": 31})
write(W, "standard_mode_seeded_skips_draws",
      "Seed 31: attempts 5 and 6 return 20 s without drawing, so the following attempt 1 takes the stream's first draw.",
      preset="aws_standard", config={"seed": 31}, steps=nsteps(c, 31, [5, 6, 1, 2, 3, 4]))
c = full("aws_full_jitter", {"seed": 2})
write(W, "full_jitter_seeded",
      "Full jitter seeded 2: exact values pin the stream; each in [0, min(2 s, 5 ms * 2^n)).",
      preset="aws_full_jitter", config={"seed": 2},
      steps=nsteps(c, 2, [1, 2, 3, 9, 10], lambda n: (0, min(5 * MS * 2**n, 2 * S))))
c = full("aws_full_jitter", {"base_ns": S, "max_ns": 20 * S})
write(W, "full_jitter_huge_attempt",
      "The doubling stops at the cap, so attempt 4294967295 is min(20 s, ...) * u: u = 0.5 -> 10 s.",
      preset="aws_full_jitter", config={"base_ns": S, "max_ns": 20 * S}, steps=dsteps(c, [(4294967295, 0.5)]))
bad(W, "decorrelated_max_below_base", "max_ns", "decorrelated jitter needs max_ns >= base_ns.", preset="aws_decorrelated", max_ns=MS)
bad(W, "standard_max_zero", "max_ns", "standard mode needs a positive max.", preset="aws_standard", max_ns=0)
bad(W, "full_jitter_base_zero", "base_ns", "AWS kinds need a positive base.", preset="aws_full_jitter", base_ns=0)
bad(W, "equal_jitter_mode_set", "jitter", "equal jitter is built in; a jitter mode is refused.", preset="aws_equal_jitter", jitter="equal")

# ---------------------------------------------------------------- Polly DecorrelatedJitterV2
P = "polly_v2"
c = full("polly_v8_decorrelated_jitter", {})
write(P, "formula_sequence",
      "Polly v8 DecorrelatedJitterBackoffV2 with Polly's 0-based attempt a = n - 1: t = a + u; next = 2^t * tanh(sqrt(4 t)); delay = (next - prev) * (1/1.4) * base; prev = next. base 2 s, u = 0.5 each time.",
      preset="polly_v8_decorrelated_jitter", steps=dsteps(c, [(n, 0.5) for n in range(1, 6)]))
write(P, "formula_u_zero_first",
      "At a = 0, u = 0: t = 0, tanh(0) = 0, so the first delay is 0 and prev stays 0; the next (a = 1, u = 0) is 2 * tanh(2) / 1.4 * 2 s.",
      preset="polly_v8_decorrelated_jitter", steps=dsteps(c, [(1, 0.0), (2, 0.0)]))
c = full("polly_v8_decorrelated_jitter", {"max_ns": 3 * S})
write(P, "max_delay_caps",
      "Polly applies MaxDelay after the formula (delay > MaxDelay -> MaxDelay) without touching prev: max 3 s caps the later delays.",
      preset="polly_v8_decorrelated_jitter", config={"max_ns": 3 * S}, steps=dsteps(c, [(n, 0.5) for n in range(1, 6)]))
c = full("polly_v8_decorrelated_jitter", {"base_ns": 0})
write(P, "base_zero",
      "Polly returns TimeSpan.Zero for Delay == 0 before drawing: delay 0, draws 0, state untouched.",
      preset="polly_v8_decorrelated_jitter", config={"base_ns": 0},
      steps=dsteps(c, [(1, 0.5), (3, 0.5)]) + draw_steps(c, [1]))
c = full("polly_v8_decorrelated_jitter", {"max_ns": 9 * 10**15})
write(P, "infinity_guard",
      "Polly #2163: at t >= 1024, 2^t is infinite; Polly returns its maximum TimeSpan, here INT64_MAX ns, then MaxDelay (9e15 ns) caps it.",
      preset="polly_v8_decorrelated_jitter", config={"max_ns": 9 * 10**15}, steps=dsteps(c, [(1030, 0.5), (1031, 0.5)]))
write(P, "needs_state",
      "DecorrelatedJitterV2 is stateful: a NULL state is RSL_ERR_NULL_ARGUMENT.",
      preset="polly_v8_decorrelated_jitter", steps=[{"at": 0, "op": "next_null_state", "attempt": 1, "expect_status": "RSL_ERR_NULL_ARGUMENT"}])
c = full("polly_v8_decorrelated_jitter", {})
write(P, "reset_state",
      "A fresh state (prev = 0) restarts the series.",
      preset="polly_v8_decorrelated_jitter", steps=dsteps(c, [(1, 0.3), (2, 0.3)]) + [{"at": 0, "op": "reset_state"}] + dsteps(c, [(1, 0.3)]))
c = full("polly_v8_decorrelated_jitter", {"seed": 2024})
write(P, "seeded_stream",
      "Seed 2024: one draw per delay; exact values pin the stream.",
      preset="polly_v8_decorrelated_jitter", config={"seed": 2024}, steps=nsteps(c, 2024, [1, 2, 3, 4, 5, 6]))
c = full("polly_v8_decorrelated_jitter", {})
write(P, "repeated_attempt_clamps_at_zero",
      "Asking the same attempt twice with a smaller u makes next - prev negative; the delay is clamped to 0 (Polly asserts it never happens in its own loop).",
      preset="polly_v8_decorrelated_jitter", steps=dsteps(c, [(2, 0.9), (2, 0.1)]))
c = full("polly_v8_decorrelated_jitter", {"base_ns": 100 * MS})
write(P, "base_100ms_median_shape",
      "base 100 ms: the formula's medians approach base * 2^a; with u = 0.5 at a = 0..3 the delays are the exact formula values.",
      preset="polly_v8_decorrelated_jitter", config={"base_ns": 100 * MS}, steps=dsteps(c, [(n, 0.5) for n in range(1, 5)]))
write(P, "draws_one",
      "One draw per delay when base > 0 (Polly's randomizer is called once per retry).",
      preset="polly_v8_decorrelated_jitter", steps=draw_steps(c, [1, 2, 1000]))
c = full("polly_v8_decorrelated_jitter", {"seed": 9})
st = State()
b = Backoff(c, 9)
vals = [b.next(n, st) for n in (1, 2, 3)]
r = Rng(9)
us = [r.next_f64() for _ in range(3)]
write(P, "seeded_equals_pure",
      "next() seeded 9 equals the pure form fed the first three draws of seed 9, carrying the same state.",
      preset="polly_v8_decorrelated_jitter", config={"seed": 9},
      steps=[{"at": 0, "op": "next", "attempt": n, "expect": {"delay_ns": v}} for n, v in zip((1, 2, 3), vals)] + [{"at": 0, "op": "reset_state"}] +
      dsteps(full("polly_v8_decorrelated_jitter", {}), list(zip((1, 2, 3), us))))
bad(P, "jitter_mode_set", "jitter", "the V2 jitter is built in.", preset="polly_v8_decorrelated_jitter", jitter="symmetric")
bad(P, "negative_base", "base_ns", "Delay must be >= 0.", preset="polly_v8_decorrelated_jitter", base_ns=-1)
bad(P, "negative_max", "max_ns", "MaxDelay must be >= 0.", preset="polly_v8_decorrelated_jitter", max_ns=-1)

# ---------------------------------------------------------------- Resilience4j
R = "r4j"
c = full("resilience4j_exponential_random", {})
write(R, "defaults_with_u",
      "IntervalFunction.ofExponentialRandomBackoff() = (500 ms, x1.5, factor 0.5), attempt 1-based like ours. randomize(i) = (i - 0.5 i) + u * ((i + 0.5 i) - (i - 0.5 i)), then (long). n=1: u=0 -> 250 ms, u=0.5 -> 500 ms, u=0.999 -> 749.5 -> 749 ms.",
      preset="resilience4j_exponential_random", steps=dsteps(c, [(1, 0.0), (1, 0.5), (1, 0.999)]))
c = full("resilience4j_exponential_random", {"jitter_factor": 0.0})
write(R, "truncation_per_step",
      "ofExponentialBackoff iterates i(k) = (long)(i(k-1) * 1.5) in whole ms: 500, 750, 1125, 1687 (1687.5 truncated), 2530 (2530.5), 3795, 5692 (5692.5) ms; factor 0 keeps randomize(i) = i.",
      preset="resilience4j_exponential_random", config={"jitter_factor": 0.0}, steps=dsteps(c, [(n, 0.5) for n in range(1, 8)]))
c = full("resilience4j_exponential_random", {"max_ns": S})
write(R, "max_after_randomization",
      "R4j randomizes the uncapped interval, then caps: max 1 s, n=3 (1125 ms): u=0 -> 562 ms (562.5 truncated) stays; u=0.99 -> 1676 ms capped to 1000 ms.",
      preset="resilience4j_exponential_random", config={"max_ns": S}, steps=dsteps(c, [(3, 0.0), (3, 0.99), (10, 0.0)]))
c = full("resilience4j_exponential_random", {"max_ns": 9 * 10**15})
write(R, "saturation_bounded",
      "Without a usable cap the interval saturates at Long.MAX_VALUE ms (Java's (long) saturates); with max 9e15 ns (9e9 ms) attempt 200 and 4294967295 give the cap.",
      preset="resilience4j_exponential_random", config={"max_ns": 9 * 10**15}, steps=dsteps(c, [(200, 0.5), (4294967295, 0.0)]))
c = full("resilience4j_exponential_random", {"base_ns": MS})
write(R, "fixed_point_at_one_ms",
      "initial 1 ms, x1.5: (long)1.5 = 1, so the interval never grows (a fixed point); u = 0.5 -> 1 ms for every attempt.",
      preset="resilience4j_exponential_random", config={"base_ns": MS}, steps=dsteps(c, [(1, 0.5), (1000, 0.5)]))
c = full("resilience4j_exponential_random", {"factor": 1.0})
write(R, "randomized_fixed",
      "multiplier 1 is ofRandomized(500 ms, 0.5): [250, 750) ms for every attempt: u=0.25 -> 375 ms.",
      preset="resilience4j_exponential_random", config={"factor": 1.0}, steps=dsteps(c, [(1, 0.25), (7, 0.25)]))
c = full("resilience4j_exponential_random", {"seed": 4})
write(R, "seeded_stream",
      "Seed 4: one draw per delay (R4j calls Math.random every time); exact values pin the stream; each within [0.5 i, 1.5 i) of the ms interval.",
      preset="resilience4j_exponential_random", config={"seed": 4}, steps=nsteps(c, 4, [1, 2, 3, 4, 5]))
write(R, "draws_always_one",
      "R4j draws even when the factor is 0.",
      preset="resilience4j_exponential_random", config={"jitter_factor": 0.0}, steps=draw_steps(full("resilience4j_exponential_random", {"jitter_factor": 0.0}), [1, 9]))
c = full("resilience4j_exponential_random", {"jitter_factor": 1.0})
write(R, "factor_one",
      "randomization factor 1: [0, 2 i): u = 0 -> 0 ms, u = 0.75 -> 1.5 i.",
      preset="resilience4j_exponential_random", config={"jitter_factor": 1.0}, steps=dsteps(c, [(1, 0.0), (2, 0.75)]))
c = full("resilience4j", {})
write(R, "retry_default_fixed_500ms",
      "Resilience4j RetryConfig's default interval: fixed 500 ms (IntervalFunction.ofDefaults()).",
      preset="resilience4j", steps=dsteps(c, [(1, 0.0), (2, 0.0)]))
bad(R, "base_not_whole_ms", "base_ns", "R4j works in whole ms; 1.5 ms is refused.", preset="resilience4j_exponential_random", base_ns=1_500_000)
bad(R, "base_zero", "base_ns", "R4j: interval < 1 ms throws.", preset="resilience4j_exponential_random", base_ns=0)
bad(R, "max_not_whole_ms", "max_ns", "R4j max interval must be whole ms >= 1.", preset="resilience4j_exponential_random", max_ns=500)
bad(R, "randomization_above_one", "jitter_factor", "R4j checkRandomizationFactor: must be in [0, 1].", preset="resilience4j_exponential_random", jitter_factor=1.5)
bad(R, "factor_below_one", "factor", "multiplier below 1 is refused.", preset="resilience4j_exponential_random", factor=0.5)

print(COUNT)
