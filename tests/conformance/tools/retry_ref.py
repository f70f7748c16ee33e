"""Independent reference for the retry/backoff corpus.

Re-implements, from the formulas in docs/semantics.md ("Retry and backoff")
and the anchors they cite, the backoff strategies and the handle PRNG
(xoshiro256++ seeded by SplitMix64, u = (next >> 11) * 2**-53), so that the
expected values in tests/conformance/{backoff,retry,retry_budget} are
computed without the library. Python floats are IEEE doubles and the
operations below keep the order of the spec, so results are bit-identical.
"""
import math

M64 = (1 << 64) - 1
I64MAX = (1 << 63) - 1
MS = 10**6
S = 10**9
NO_MAX = I64MAX


class Rng:
    """xoshiro256++ seeded by SplitMix64 (rand_xoshiro seed_from_u64)."""

    def __init__(self, seed):
        st = seed
        s = []
        for _ in range(4):
            st = (st + 0x9E3779B97F4A7C15) & M64
            z = st
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            s.append(z ^ (z >> 31))
        self.s = s

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def next_u64(self):
        s = self.s
        result = (self._rotl((s[0] + s[3]) & M64, 23) + s[0]) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def next_f64(self):
        return (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)


def to_ns(x):
    """Truncate toward zero; <= 0 and NaN -> 0; saturate at INT64_MAX."""
    if not x > 0:
        return 0
    if x >= 2.0**63:
        return I64MAX
    return int(x)


def grow(base, factor, steps, cap):
    x = base
    if factor > 1.0 and x > 0.0:
        k = steps
        while x < cap and k > 0:
            x *= factor
            k -= 1
    return min(x, cap)


PRESETS = {
    "default": dict(kind="exponential", jitter="none", base_ns=S, max_ns=60 * S, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "seeds_jitter": dict(kind="exponential", jitter="proportional", base_ns=S, max_ns=60 * S, increment_ns=0, factor=2.0, jitter_factor=0.1, clamp_jittered=0),
    "seeds_fixed": dict(kind="fixed", jitter="none", base_ns=S, max_ns=NO_MAX, increment_ns=0, factor=1.0, jitter_factor=0.0, clamp_jittered=0),
    "grpc_connection": dict(kind="grpc_connection", jitter="none", base_ns=S, max_ns=120 * S, increment_ns=0, factor=1.6, jitter_factor=0.2, clamp_jittered=0),
    "grpc_retry": dict(kind="exponential", jitter="symmetric", base_ns=100 * MS, max_ns=S, increment_ns=0, factor=2.0, jitter_factor=0.2, clamp_jittered=0),
    "grpc_retry_full_jitter": dict(kind="exponential", jitter="full", base_ns=100 * MS, max_ns=S, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "aws_standard": dict(kind="aws_standard", jitter="none", base_ns=S, max_ns=20 * S, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "aws_full_jitter": dict(kind="aws_full_jitter", jitter="none", base_ns=5 * MS, max_ns=2 * S, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "aws_equal_jitter": dict(kind="aws_equal_jitter", jitter="none", base_ns=5 * MS, max_ns=2 * S, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "aws_decorrelated": dict(kind="aws_decorrelated", jitter="none", base_ns=5 * MS, max_ns=2 * S, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "polly_v8": dict(kind="fixed", jitter="none", base_ns=2 * S, max_ns=NO_MAX, increment_ns=0, factor=1.0, jitter_factor=0.0, clamp_jittered=0),
    "polly_v8_decorrelated_jitter": dict(kind="polly_decorrelated_v2", jitter="none", base_ns=2 * S, max_ns=NO_MAX, increment_ns=0, factor=2.0, jitter_factor=0.0, clamp_jittered=0),
    "resilience4j": dict(kind="fixed", jitter="none", base_ns=500 * MS, max_ns=NO_MAX, increment_ns=0, factor=1.0, jitter_factor=0.0, clamp_jittered=0),
    "resilience4j_exponential_random": dict(kind="r4j_exponential_random", jitter="none", base_ns=500 * MS, max_ns=NO_MAX, increment_ns=0, factor=1.5, jitter_factor=0.5, clamp_jittered=0),
}


def config(preset="default", **over):
    c = dict(PRESETS[preset])
    c.update(over)
    return c


def draws(c, n):
    k = c["kind"]
    if k in ("fixed", "linear", "exponential"):
        return 0 if c["jitter"] == "none" else 1
    if k == "grpc_connection":
        return 1 if n > 1 else 0
    if k in ("aws_full_jitter", "aws_equal_jitter", "aws_decorrelated", "r4j_exponential_random"):
        return 1
    if k == "aws_standard":
        return 1 if aws_standard_jittered(c["base_ns"], c["max_ns"], n) else 0
    if k == "polly_decorrelated_v2":
        return 0 if c["base_ns"] == 0 else 1
    raise ValueError(k)


def aws_standard_jittered(base, mx, n):
    if base <= 0 or base > mx:
        return False
    k, v = 0, base
    while v * 2 <= mx:
        v *= 2
        k += 1
    return n <= k


class State:
    def __init__(self):
        self.prev_delay_ns = 0
        self.prev = 0.0


def jittered(c, e, u):
    j = c["jitter_factor"]
    m = c["jitter"]
    if m == "none":
        d = e
    elif m == "proportional":
        d = e + e * j * u
    elif m == "symmetric":
        d = e * (1.0 + j * (u * 2.0 - 1.0))
    elif m == "full":
        d = e * u
    elif m == "equal":
        d = e / 2.0 + (e / 2.0) * u
    d = to_ns(d)
    if c["clamp_jittered"]:
        d = min(d, c["max_ns"])
    return d


def delay(c, n, u, st=None):
    st = st if st is not None else State()
    k = c["kind"]
    base, mx = c["base_ns"], c["max_ns"]
    base_f, max_f = float(base), float(mx)
    if k == "fixed":
        return jittered(c, float(min(base, mx)), u)
    if k == "linear":
        return jittered(c, float(min(base + (n - 1) * c["increment_ns"], mx)), u)
    if k == "exponential":
        return jittered(c, grow(base_f, c["factor"], n - 1, max_f), u)
    if k == "grpc_connection":
        if n == 1:
            return base
        capped = grow(base_f, c["factor"], n - 1, max_f)
        return to_ns(capped * (1.0 + c["jitter_factor"] * (u * 2.0 - 1.0)))
    if k == "aws_full_jitter":
        return to_ns(grow(base_f, 2.0, n, max_f) * u)
    if k == "aws_equal_jitter":
        v = grow(base_f, 2.0, n, max_f)
        return to_ns(v / 2.0 + (v / 2.0) * u)
    if k == "aws_decorrelated":
        sleep = float(st.prev_delay_ns) if st.prev_delay_ns > 0 else base_f
        d = to_ns(min(base_f + (sleep * 3.0 - base_f) * u, max_f))
        st.prev_delay_ns = d
        return d
    if k == "aws_standard":
        if not aws_standard_jittered(base, mx, n):
            return mx
        return to_ns(u * grow(1.0, 2.0, n, math.inf) * base_f)
    if k == "polly_decorrelated_v2":
        if base == 0:
            return 0
        t = float(n - 1) + u
        try:
            nxt = math.pow(2.0, t) * math.tanh(math.sqrt(4.0 * t))
        except OverflowError:
            nxt = math.inf
        if math.isinf(nxt):
            st.prev = nxt
            return min(I64MAX, mx)
        intrinsic = nxt - st.prev
        st.prev = nxt
        max_ticks = float(I64MAX) - 1000.0
        return min(to_ns(min(intrinsic * (1.0 / 1.4) * base_f, max_ticks)), mx)
    if k == "r4j_exponential_random":
        i = base // MS
        for _ in range(1, n):
            nx = java_long(float(i) * c["factor"])
            if nx == i:
                break
            i = nx
        cur = float(i)
        delta = c["jitter_factor"] * cur
        lo, hi = cur - delta, cur + delta
        ms = java_long(lo + u * (hi - lo))
        if mx != NO_MAX:
            ms = min(ms, mx // MS)
        return min(ms * MS, I64MAX)
    raise ValueError(k)


def java_long(x):
    """Java's (long) of a double: truncation, saturating."""
    if x != x:
        return 0
    if x >= 2.0**63:
        return I64MAX
    if x <= -(2.0**63):
        return -(1 << 63)
    return int(x)


class Backoff:
    """A handle: config + seeded PRNG."""

    def __init__(self, c, seed):
        self.c = c
        self.rng = Rng(seed)

    def next(self, n, st):
        u = self.rng.next_f64() if draws(self.c, n) else 0.0
        return delay(self.c, n, u, st)
