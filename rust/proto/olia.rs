// SPDX-License-Identifier: GPL-2.0

//! OLIA, the Opportunistic Linked Increases Algorithm (Khalili, Gast, Popovic,
//! Le Boudec, "MPTCP is not Pareto-optimal: performance issues and a possible
//! solution", CoNEXT 2012), in integer arithmetic.
//!
//! For each packet acknowledged on path `r` in congestion avoidance, OLIA changes
//! `w_r` by
//!
//! ```text
//!   (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2  +  alpha_r / w_r
//! ```
//!
//! With `M` the paths of largest window, `B` the "best" paths (largest
//! `l_p / rtt_p^2`, `l_p` the packets sent between the last two losses or since the
//! last one, whichever is more: the paths where TCP would get the most) and `C = B \ M` the paths OLIA collects traffic onto:
//! `alpha_r = 1 / (n |C|)` for `r` in `C`, `-1 / (n |M|)` for `r` in `M` when `C` is
//! not empty, and 0 otherwise (`n` paths). The `alpha` terms sum to zero.
//!
//! The first term equals `w_r / T^2` with `T = sum_p w_p * rtt_r / rtt_p` (packets),
//! computed with 8 fractional bits; results are per acknowledged packet, scaled by
//! 2^[`SCALE_BITS`], and may be negative.
//!
//! Error bound: `T` is truncated by less than `n * 2^-8` packet, so the first term is
//! high by a factor of at most `(1 - n / (256 * T))^-2`; each term is also truncated
//! by at most 2^-24, and a first term below 2^-24 (where `T` exceeds 2^23 packets) is
//! taken as 0.

use core::num::NonZeroU64;

/// Fractional bits of the results.
pub const SCALE_BITS: u32 = 24;
/// The most paths taken into account.
pub const MAX_SUBFLOWS: usize = 8;
/// Windows are clamped to this many packets.
pub const MAX_CWND: u32 = 1 << 20;
/// Round-trip times are clamped to this many microseconds.
pub const MAX_RTT_US: u32 = 1 << 24;

const FRAC_BITS: u32 = 8;

/// One path as OLIA sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    /// Congestion window, packets.
    pub cwnd: u32,
    /// Smoothed round-trip time, microseconds.
    pub srtt_us: u32,
    /// Packets sent between the last two losses, or since the last loss if more.
    pub loss_interval: u32,
}

impl Path {
    fn w(&self) -> u64 {
        u64::from(self.cwnd.clamp(1, MAX_CWND))
    }
    fn rtt(&self) -> u64 {
        u64::from(self.srtt_us.clamp(1, MAX_RTT_US))
    }
}

/// Whether `a` is a better path than `b` (`l / rtt^2` larger), and whether equal.
///
/// TCP's rate on a path goes as `sqrt(1/p) / rtt` (`p` the loss rate) and `l`
/// estimates `1/p`: the square of that rate ranks the paths as `l / rtt^2` does.
fn quality_cmp(a: &Path, b: &Path) -> core::cmp::Ordering {
    let (la, lb) = (u128::from(a.loss_interval), u128::from(b.loss_interval));
    let (ra, rb) = (u128::from(a.rtt()), u128::from(b.rtt()));
    let lhs = la.saturating_mul(rb * rb);
    let rhs = lb.saturating_mul(ra * ra);
    lhs.cmp(&rhs)
}

/// The window change of path `me` per acknowledged packet, scaled by 2^[`SCALE_BITS`].
/// `None` if `me` is out of range or there are more than [`MAX_SUBFLOWS`] paths.
///
/// With a single path this is `1 / w` (Reno).
pub fn increase_per_ack(all: &[Path], me: usize) -> Option<i64> {
    if all.len() > MAX_SUBFLOWS {
        return None;
    }
    let p = all.get(me)?;
    let n = all.len() as u64;
    let (w_r, rtt_r) = (p.w(), p.rtt());

    // First term: w_r / T^2, T = sum w_p * rtt_r / rtt_p in 8-bit fixed point.
    let mut t_fp: u64 = 0;
    for q in all {
        let term = ((q.w() << FRAC_BITS).saturating_mul(rtt_r)) / NonZeroU64::new(q.rtt())?;
        t_fp = t_fp.saturating_add(term);
    }
    let first = if t_fp < 1 << 31 {
        // T_fp^2 = T^2 * 2^16 < 2^62; (w << 40) / T_fp^2 = w * 2^24 / T^2.
        let t2 = NonZeroU64::new(t_fp.saturating_mul(t_fp))?;
        i64::try_from((w_r << (SCALE_BITS + 2 * FRAC_BITS)) / t2).ok()?
    } else {
        0
    };

    // Second term: alpha_r / w_r.
    let max_w = all.iter().map(Path::w).max()?;
    let best = all.iter().max_by(|a, b| quality_cmp(a, b))?;
    let in_m = |q: &Path| q.w() == max_w;
    let in_b = |q: &Path| quality_cmp(q, best).is_eq();
    let collected = all.iter().filter(|q| in_b(q) && !in_m(q)).count() as u64;
    let largest = all.iter().filter(|q| in_m(q)).count() as u64;
    let share = |k: u64| -> Option<i64> {
        let d = NonZeroU64::new(n.saturating_mul(k).saturating_mul(w_r))?;
        i64::try_from((1u64 << SCALE_BITS) / d).ok()
    };
    let alpha_term = if collected == 0 {
        0
    } else if in_b(p) && !in_m(p) {
        share(collected)?
    } else if in_m(p) {
        share(largest)?.saturating_neg()
    } else {
        0
    };
    Some(first.saturating_add(alpha_term))
}
