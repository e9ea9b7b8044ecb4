// SPDX-License-Identifier: GPL-2.0

//! OLIA's integer arithmetic against a floating-point model of the algorithm.

use mptcp_proto::olia::{increase_per_ack, Path, MAX_SUBFLOWS, SCALE_BITS};
use proptest::prelude::*;

const ONE: f64 = (1u64 << SCALE_BITS) as f64;

fn path(cwnd: u32, srtt_us: u32, loss_interval: u32) -> Path {
    Path {
        cwnd,
        srtt_us,
        loss_interval,
    }
}

/// (first term, alpha term) of the window change per acknowledged packet, in f64.
fn model(all: &[Path], me: usize) -> (f64, f64) {
    let w = |p: &Path| p.cwnd.max(1) as f64;
    let r = |p: &Path| p.srtt_us.max(1) as f64;
    let q = |p: &Path| p.loss_interval as f64 / r(p).powi(2);
    let n = all.len() as f64;
    let sum: f64 = all.iter().map(|p| w(p) / r(p)).sum();
    let first = (w(&all[me]) / r(&all[me]).powi(2)) / (sum * sum);
    let max_w = all.iter().map(|p| p.cwnd.max(1)).max().unwrap();
    let best = all.iter().map(q).fold(f64::MIN, f64::max);
    let in_m = |p: &Path| p.cwnd.max(1) == max_w;
    // ties in quality: exact in the integer code, so compare exactly here too
    let in_b = |p: &Path| {
        let b = all.iter().find(|x| q(x) == best).unwrap();
        p.loss_interval as u128 * (b.srtt_us.max(1) as u128).pow(2)
            == b.loss_interval as u128 * (p.srtt_us.max(1) as u128).pow(2)
    };
    let collected = all.iter().filter(|p| in_b(p) && !in_m(p)).count() as f64;
    let largest = all.iter().filter(|p| in_m(p)).count() as f64;
    let me_p = &all[me];
    let alpha = if collected == 0.0 {
        0.0
    } else if in_b(me_p) && !in_m(me_p) {
        1.0 / (n * collected)
    } else if in_m(me_p) {
        -1.0 / (n * largest)
    } else {
        0.0
    };
    (first, alpha / w(me_p))
}

#[test]
fn shared_vectors() {
    for (paths, me, want) in mptcp_proto::vectors::OLIA_CASES {
        let all: Vec<Path> = paths.iter().map(|&(c, r, l)| path(c, r, l)).collect();
        assert_eq!(increase_per_ack(&all, me), Some(want), "{paths:?} #{me}");
    }
}

#[test]
fn single_path_is_reno() {
    for w in [1u32, 2, 10, 1000, 1 << 20] {
        let d = increase_per_ack(&[path(w, 30_000, 500)], 0).unwrap();
        assert_eq!(d, (1i64 << SCALE_BITS) / w as i64, "w={w}");
    }
}

#[test]
fn collects_onto_the_best_path_that_is_not_the_largest() {
    // path 0: large window, few packets between losses (congested);
    // path 1: small window, long loss interval (the better path): OLIA moves window
    // from 0 to 1 through alpha.
    let all = [path(100, 20_000, 50), path(20, 20_000, 5_000)];
    let (a0, a1) = (
        increase_per_ack(&all, 0).unwrap(),
        increase_per_ack(&all, 1).unwrap(),
    );
    let (m0, m1) = (model(&all, 0), model(&all, 1));
    assert!(m0.1 < 0.0 && m1.1 > 0.0);
    assert!(a1 > a0, "the collected path must grow faster: {a1} vs {a0}");
    assert!(((a0 as f64 / ONE) - (m0.0 + m0.1)).abs() < 1e-5);
    assert!(((a1 as f64 / ONE) - (m1.0 + m1.1)).abs() < 1e-5);
}

#[test]
fn best_paths_ranked_by_loss_interval_over_rtt_squared() {
    // TCP's rate goes as sqrt(l) / rtt (l ~ 1/p): path 0 (10 ms, 100 packets between
    // losses) beats path 1 (20 ms, 300 packets) by l / rtt^2 (1.0 vs 0.75 per ms^2),
    // although l^2 / rtt would rank path 1 first. Path 1 has the larger window (M),
    // so path 0 is collected onto: alpha_0 = 1 / (n |C|) = 1/2, per packet of its
    // window of 10: +0.05 per acknowledged packet.
    let collected = [path(10, 10_000, 100), path(20, 20_000, 300)];
    // the same windows and RTTs with path 0 far worse (l = 10): the best path is in
    // M, nothing is collected, the alphas are 0
    let plain = [path(10, 10_000, 10), path(20, 20_000, 300)];
    let diff = increase_per_ack(&collected, 0).unwrap() - increase_per_ack(&plain, 0).unwrap();
    let want = 0.05 * ONE;
    assert!(
        (diff as f64 - want).abs() <= 2.0,
        "alpha of the best path: {diff}, want {want}"
    );
}

#[test]
fn rejects_bad_arguments() {
    assert_eq!(increase_per_ack(&[], 0), None);
    assert_eq!(increase_per_ack(&[path(1, 1, 1)], 1), None);
    assert_eq!(
        increase_per_ack(&vec![path(1, 1, 1); MAX_SUBFLOWS + 1], 0),
        None
    );
}

fn paths() -> impl Strategy<Value = Vec<Path>> {
    prop::collection::vec(
        (1u32..=(1 << 20), 1u32..=(1 << 24), 0u32..1_000_000).prop_map(|(c, r, l)| path(c, r, l)),
        1..=MAX_SUBFLOWS,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Within the documented bound of the model.
    #[test]
    fn within_error_bound(all in paths(), me: prop::sample::Index) {
        let me = me.index(all.len());
        let got = increase_per_ack(&all, me).unwrap() as f64 / ONE;
        let (first, alpha) = model(&all, me);
        let n = all.len() as f64;
        let rr = all[me].srtt_us as f64;
        let t: f64 = all.iter().map(|p| p.cwnd as f64 * rr / p.srtt_us as f64).sum();
        let rel = if t > 2.0 * n / 256.0 { (1.0 - n / (256.0 * t)).powi(-2) - 1.0 } else { 1.0 };
        let tol = first * rel + 3.0 / ONE + if t >= (1u64 << 23) as f64 { first } else { 0.0 };
        prop_assert!((got - (first + alpha)).abs() <= tol * 1.000001,
            "got {} model {} + {} tol {}", got, first, alpha, tol);
    }

    /// The alpha terms move window between paths without adding any: weighted by
    /// the windows they divide, they sum to zero.
    #[test]
    fn alphas_sum_to_zero(all in paths()) {
        let total: f64 = (0..all.len()).map(|i| model(&all, i).1 * all[i].cwnd as f64).sum();
        prop_assert!(total.abs() < 1e-9);
        // and the integer code agrees in sign with the model for every path
        for i in 0..all.len() {
            let got = increase_per_ack(&all, i).unwrap() as f64 / ONE;
            let (first, alpha) = model(&all, i);
            if (first + alpha).abs() > 1e-4 {
                prop_assert_eq!(got > 0.0, first + alpha > 0.0);
            }
        }
    }
}
