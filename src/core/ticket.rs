//! Opaque 64-bit handles for permits, waiter tickets and reservations.
//!
//! A primitive that hands out single-use values (the bulkhead's permits and
//! waiter tickets, the window limiter's reservations) packs what it needs to
//! find the record (an index, a use count, a sequence number) into a raw
//! `u64` and gives the caller that value passed through a keyed bijection
//! drawn per handle. Decoding is exact for the values it issued; any other
//! value — another handle's, a zero, one with a bit changed or a number
//! added — decodes to an unrelated raw value, which the primitive then
//! refuses because no live record holds it. Detection of a forged value is
//! probabilistic only in the sense that a random 64-bit guess could land on a
//! live record (the primitives keep at least 46 checked bits, so below
//! `live · 2^-46`); reuse of a value once valid (a second exit, a stale
//! copy) is detected exactly, by the record's own use count.
//!
//! The bijection is `v = (raw ^ xor) · mul mod 2^64` with `mul` odd (so it is
//! invertible): changing bit `i` of `v` changes bit `i` of the decoded raw
//! value and, through the inverse multiplier, bits above it. Keys come from
//! the process's random hasher keys and a counter, so two handles — even in
//! two copies of the library in one process — do not share them. The keys
//! are not a secret and this is not a defence against an adversary who can
//! read memory; it catches mistakes a binding can make with a plain integer.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// A per-handle keyed bijection on `u64`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scramble {
    xor: u64,
    mul: u64,
    inv: u64,
}

/// splitmix64's finaliser: a good 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Scramble {
    /// New keys. The raw value `xor` is what the value 0 decodes to: the
    /// caller forces bits of it (`clear`, then `set`) so that 0 decodes to a
    /// raw value it never issues.
    pub(crate) fn new(clear: u64, set: u64) -> Self {
        let n = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        let seed = h.finish();
        let xor = (mix(seed) & !clear) | set;
        let mul = mix(seed ^ 0x9e37_79b9_7f4a_7c15) | 1;
        // Newton's iteration for the inverse modulo 2^64 of an odd number:
        // `mul` is its own inverse modulo 8, and each step doubles the bits.
        let mut inv = mul;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(mul.wrapping_mul(inv)));
        }
        Self { xor, mul, inv }
    }

    /// The value handed to the caller for `raw`.
    #[inline]
    pub(crate) fn encode(&self, raw: u64) -> u64 {
        (raw ^ self.xor).wrapping_mul(self.mul)
    }

    /// The raw value behind a caller's `value` (garbage for a value this
    /// handle did not issue).
    #[inline]
    pub(crate) fn decode(&self, value: u64) -> u64 {
        value.wrapping_mul(self.inv) ^ self.xor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_inverts_encode() {
        let s = Scramble::new(0, 0);
        for raw in [0, 1, 2, 0x1234_5678_9abc_def0, u64::MAX, 1 << 63] {
            assert_eq!(s.decode(s.encode(raw)), raw);
        }
        assert_eq!(s.mul.wrapping_mul(s.inv), 1);
    }

    #[test]
    fn zero_decodes_to_the_forced_bits() {
        let s = Scramble::new(1 << 18, 1 << 63);
        let z = s.decode(0);
        assert_eq!(z & (1 << 18), 0);
        assert_eq!(z & (1 << 63), 1 << 63);
    }

    #[test]
    fn handles_get_different_keys() {
        let a = Scramble::new(0, 0);
        let b = Scramble::new(0, 0);
        assert_ne!(a.encode(1), b.encode(1));
        // Another handle's value decodes to something else.
        assert_ne!(b.decode(a.encode(1)), 1);
    }

    #[test]
    fn small_changes_move_the_high_bits() {
        let s = Scramble::new(0, 0);
        let v = s.encode(0x0000_0000_0004_0003);
        for delta in [1u64, 2, 4, 1 << 17] {
            let raw = s.decode(v.wrapping_add(delta));
            // The top 46 bits (a use count) change with overwhelming
            // probability; for fixed keys this is deterministic.
            assert_ne!(raw >> 18, 1, "delta {delta}");
        }
    }
}
