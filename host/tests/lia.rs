// SPDX-License-Identifier: GPL-2.0

//! LIA's integer arithmetic against a floating-point model of RFC 6356, with the
//! error bound documented in rust/proto/lia.rs.

use mptcp_proto::lia::{acks_per_increment, Subflow, MAX_SUBFLOWS};
use proptest::prelude::*;

/// RFC 6356 in f64: acknowledged packets per one-packet increase of subflow `me`.
fn model(all: &[Subflow], me: usize) -> f64 {
    let c = |s: &Subflow| s.cwnd.max(1) as f64;
    let r = |s: &Subflow| s.srtt_us.max(1) as f64;
    let total: f64 = all.iter().map(c).sum();
    let best = all.iter().map(|s| c(s) / (r(s) * r(s))).fold(0.0, f64::max);
    let sum: f64 = all.iter().map(|s| c(s) / r(s)).sum();
    let alpha = total * best / (sum * sum);
    (total / alpha).max(c(&all[me]))
}

fn sub(cwnd: u32, srtt_us: u32) -> Subflow {
    Subflow { cwnd, srtt_us }
}

#[test]
fn single_subflow_is_reno() {
    for c in [1, 2, 10, 1000, 1 << 20] {
        assert_eq!(acks_per_increment(&[sub(c, 12345)], 0), Some(c));
    }
}

#[test]
fn equal_subflows_share_one_tcp_increase() {
    // n equal subflows: alpha = 1/n, each grows by 1 after n^2 * cwnd acks, so the
    // connection as a whole grows by 1/n packet per RTT: never more than one TCP.
    for n in 1..=MAX_SUBFLOWS {
        let all = vec![sub(40, 20_000); n];
        assert_eq!(
            acks_per_increment(&all, 0),
            Some((n * n * 40) as u32),
            "n={n}"
        );
    }
}

#[test]
fn shared_vectors() {
    for (subs, me, want) in mptcp_proto::vectors::LIA_CASES {
        let all: Vec<Subflow> = subs.iter().map(|&(c, r)| sub(c, r)).collect();
        assert_eq!(acks_per_increment(&all, me), Some(want), "{subs:?} #{me}");
        assert!(want as f64 >= model(&all, me));
    }
}

#[test]
fn worked_example() {
    // cwnd 10 over 1 ms and cwnd 1000 over 1 s: the fast path is b; S = 10 + 1 = 11,
    // so w = 121 / 10 -> 13 for the fast path, and the slow path keeps w = its cwnd.
    let all = [sub(10, 1_000), sub(1000, 1_000_000)];
    assert_eq!(acks_per_increment(&all, 0), Some(13));
    assert_eq!(acks_per_increment(&all, 1), Some(1000));
}

#[test]
fn rejects_bad_arguments() {
    assert_eq!(acks_per_increment(&[], 0), None);
    assert_eq!(acks_per_increment(&[sub(1, 1)], 1), None);
    assert_eq!(
        acks_per_increment(&vec![sub(1, 1); MAX_SUBFLOWS + 1], 0),
        None
    );
    // zero windows and RTTs are clamped to 1, not divided by
    assert_eq!(acks_per_increment(&[sub(0, 0), sub(0, 0)], 0), Some(4));
}

fn subflows() -> impl Strategy<Value = Vec<Subflow>> {
    prop::collection::vec(
        (1u32..=(1 << 20), 1u32..=(1 << 24)).prop_map(|(c, r)| sub(c, r)),
        1..=MAX_SUBFLOWS,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Never more aggressive than the model, and within the documented bound above it.
    #[test]
    fn within_error_bound(all in subflows(), me: prop::sample::Index) {
        let me = me.index(all.len());
        let w = acks_per_increment(&all, me).unwrap() as f64;
        let exact = model(&all, me);
        let n = all.len() as f64;
        // S for the bound, from the model
        let rb = all.iter().max_by(|a, b| {
            (a.cwnd as f64 / (a.srtt_us as f64).powi(2)).total_cmp(&(b.cwnd as f64 / (b.srtt_us as f64).powi(2)))
        }).unwrap().srtt_us as f64;
        let s: f64 = all.iter().map(|x| x.cwnd as f64 * rb / x.srtt_us as f64).sum();
        let bound = exact * (1.0 + (n - 1.0) / (256.0 * s)).powi(2) + 1.0;
        prop_assert!(w >= exact * (1.0 - 1e-9), "w {} below model {}", w, exact);
        prop_assert!(w <= bound * (1.0 + 1e-9), "w {} above bound {} (model {})", w, bound, exact);
    }

    /// Goal 2 of RFC 6356 on a shared bottleneck (equal RTTs): the connection's
    /// windows together grow by at most one packet per RTT.
    #[test]
    fn no_more_than_one_tcp_with_equal_rtts(cwnds in prop::collection::vec(1u32..100_000, 1..=MAX_SUBFLOWS), rtt in 1u32..1_000_000) {
        let all: Vec<Subflow> = cwnds.iter().map(|&c| sub(c, rtt)).collect();
        let per_rtt: f64 = (0..all.len())
            .map(|i| all[i].cwnd as f64 / acks_per_increment(&all, i).unwrap() as f64)
            .sum();
        prop_assert!(per_rtt <= 1.0 + 1e-9, "aggregate increase {} per RTT", per_rtt);
    }

    /// Goal 1: no subflow grows faster than a TCP flow on its path would.
    #[test]
    fn never_faster_than_tcp_on_the_path(all in subflows(), me: prop::sample::Index) {
        let me = me.index(all.len());
        prop_assert!(acks_per_increment(&all, me).unwrap() >= all[me].cwnd);
    }
}
