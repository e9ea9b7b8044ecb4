// SPDX-License-Identifier: GPL-2.0

//! Linked Increases (LIA, RFC 6356) in integer arithmetic.
//!
//! RFC 6356 increases the window of subflow `i`, for each packet acknowledged in
//! congestion avoidance, by `min(alpha / cwnd_total, 1 / cwnd_i)` packets, with
//!
//! ```text
//!         cwnd_total * max_k(cwnd_k / rtt_k^2)
//! alpha = ------------------------------------
//!              (sum_k(cwnd_k / rtt_k))^2
//! ```
//!
//! Like Reno in Linux, a congestion control module counts acknowledged packets and
//! grows the window by one after `w` of them, so what it needs is the inverse of the
//! increase, `w = max(cwnd_total / alpha, cwnd_i)`. With `b` the subflow maximising
//! `cwnd_k / rtt_k^2`, `cwnd_total` cancels out:
//!
//! ```text
//! cwnd_total / alpha = S^2 / cwnd_b,   S = sum_k(cwnd_k * rtt_b / rtt_k)
//! ```
//!
//! Each term of `S` is at most `max(cwnd_b, cwnd_k)` (because `b` maximises
//! `cwnd / rtt^2`), so with windows clamped to 2^20 packets and at most
//! [`MAX_SUBFLOWS`] subflows, `S` in 8-bit fixed point stays below 2^31 and its
//! square fits in 64 bits: no floating point, no 128-bit division. Every rounding
//! goes up, so the result is never more aggressive than RFC 6356.
//!
//! Error bound: each of the `n - 1` terms other than `b`'s is rounded up by less
//! than 2^-8 packet, so `w / w_exact` lies in `[1, (1 + (n - 1) / (256 * S))^2]`,
//! plus one for the final rounding up; for `S >= 10` packets that is within 0.6 %.

/// The most subflows [`acks_per_increment`] takes into account.
pub const MAX_SUBFLOWS: usize = 8;
/// Windows are clamped to this many packets.
pub const MAX_CWND: u32 = 1 << 20;
/// Round-trip times are clamped to this many microseconds (about 16.8 s).
pub const MAX_RTT_US: u32 = 1 << 24;

use core::num::NonZeroU64;

const FRAC_BITS: u32 = 8;

/// The congestion state of one subflow as LIA sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subflow {
    /// Congestion window, packets.
    pub cwnd: u32,
    /// Smoothed round-trip time, microseconds (any unit works if all agree).
    pub srtt_us: u32,
}

impl Subflow {
    fn clamped(self) -> (u64, u64) {
        (
            u64::from(self.cwnd.clamp(1, MAX_CWND)),
            u64::from(self.srtt_us.clamp(1, MAX_RTT_US)),
        )
    }
}

/// How many acknowledged packets subflow `me` of `all` needs, in congestion
/// avoidance, before its window grows by one packet. `None` if `me` is out of range
/// or there are more than [`MAX_SUBFLOWS`] subflows.
///
/// With a single subflow this is its window: LIA then behaves as Reno.
pub fn acks_per_increment(all: &[Subflow], me: usize) -> Option<u32> {
    if all.len() > MAX_SUBFLOWS {
        return None;
    }
    let (cwnd_me, _) = all.get(me)?.clamped();

    // b = argmax cwnd / rtt^2, compared by cross-multiplication:
    // cwnd_k * rtt_b^2 > cwnd_b * rtt_k^2 (at most 2^20 * 2^48, in u128: no division).
    // Every operation below is bounded by the clamps; the saturating forms only keep
    // panic paths out of the kernel.
    let mut best = all.first()?.clamped();
    for s in all.iter().skip(1) {
        let (c, r) = s.clamped();
        let (cb, rb) = best;
        let lhs = u128::from(c).saturating_mul(u128::from(rb) * u128::from(rb));
        let rhs = u128::from(cb).saturating_mul(u128::from(r) * u128::from(r));
        if lhs > rhs {
            best = (c, r);
        }
    }
    let (cwnd_b, rtt_b) = best;

    // S in 8-bit fixed point, each term rounded up: < 8 * 2^20 * 2^8 = 2^31.
    let mut s_fp: u64 = 0;
    for sub in all {
        let (c, r) = sub.clamped();
        let term = div_ceil((c << FRAC_BITS).saturating_mul(rtt_b), NonZeroU64::new(r)?);
        s_fp = s_fp.saturating_add(term);
    }
    // S^2 / cwnd_b, rounded up; s_fp^2 < 2^62.
    let denom = NonZeroU64::new(cwnd_b << (2 * FRAC_BITS))?;
    let coupled = div_ceil(s_fp.saturating_mul(s_fp), denom);
    let w = coupled.max(cwnd_me);
    Some(u32::try_from(w).unwrap_or(u32::MAX))
}

/// `x / d` rounded up, without a division-by-zero path.
fn div_ceil(x: u64, d: NonZeroU64) -> u64 {
    (x / d).saturating_add(u64::from(x % d != 0))
}
