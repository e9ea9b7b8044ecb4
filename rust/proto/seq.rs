// SPDX-License-Identifier: GPL-2.0

//! Data sequence number (DSN) arithmetic.
//!
//! DSNs are 64-bit and wrap; DSS options may carry only their low 32 bits
//! (RFC 8684 section 3.3.1), which the receiver expands against a 64-bit
//! sequence number it already knows (the next expected DSN, or the last DATA_ACK).

/// Expands the 32-bit `low` to the 64-bit sequence number closest to `reference`
/// whose low 32 bits are `low`.
///
/// The result lies within `[reference - 2^31, reference + 2^31)` in wrapping 64-bit
/// arithmetic, so a 32-bit value up to 2^31 behind or ahead of the reference
/// expands correctly across 32- and 64-bit wrap-arounds alike.
pub const fn expand_seq32(reference: u64, low: u32) -> u64 {
    // Signed distance from the reference's low 32 bits to `low`, in [-2^31, 2^31).
    let delta = low.wrapping_sub(reference as u32) as i32;
    reference.wrapping_add(delta as i64 as u64)
}

/// `a` comes strictly before `b` in 64-bit wrapping sequence space.
pub const fn before64(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) < 0
}

/// `a` comes strictly after `b` in 64-bit wrapping sequence space.
pub const fn after64(a: u64, b: u64) -> bool {
    before64(b, a)
}
