// SPDX-License-Identifier: GPL-2.0

//! The scheduler's choice.

use mptcp_proto::sched::{
    burst_piece, pick, Candidate, OverflowCandidate, OverflowPick, Policy, MIN_BURST_PIECE,
};
use proptest::prelude::*;

fn cand(srtt_us: u32, cwnd: u32, queued: u32, space: u32, backup: bool) -> Candidate {
    Candidate {
        srtt_us,
        min_rtt_us: 0,
        cwnd,
        mss: 1400,
        queued,
        space,
        backup,
        usable: true,
        alive: true,
        stale: false,
    }
}

#[test]
fn default_prefers_fast_empty_path() {
    let c = [
        cand(80_000, 10, 0, 100_000, false),
        cand(20_000, 10, 0, 100_000, false),
    ];
    assert_eq!(pick(Policy::Default, &c, None), Some(1));
}

#[test]
fn a_burst_ends_in_pieces_that_split_evenly() {
    // 500 KB after idle over two equal paths, placed at once: each piece goes to
    // the subflow with the shorter queue (equal rates: the less queued)
    let max = 64 * 1024;
    let mut q = [0u64; 2];
    let mut rest: u64 = 500_000;
    let mut pieces = 0;
    while rest > 0 {
        let p = u64::from(burst_piece(rest, max)).min(rest);
        assert!(p >= u64::from(MIN_BURST_PIECE).min(rest) && p <= u64::from(max));
        let i = usize::from(q[1] < q[0]);
        q[i] += p;
        rest -= p;
        pieces += 1;
    }
    assert!(q[0].abs_diff(q[1]) <= u64::from(MIN_BURST_PIECE), "{q:?}");
    assert!(pieces <= 24, "{pieces} pieces");
    // whole pieces only (what 64 KB pieces alone give): 262 KB / 238 KB
    let mut q = [0u64; 2];
    let mut rest: u64 = 500_000;
    while rest > 0 {
        let p = rest.min(max.into());
        let i = usize::from(q[1] < q[0]);
        q[i] += p;
        rest -= p;
    }
    assert!(q[0].abs_diff(q[1]) > 20_000, "{q:?}");
    // a large rest: full pieces; a small one: the minimum
    assert_eq!(burst_piece(1 << 30, max), max);
    assert_eq!(burst_piece(1000, max), MIN_BURST_PIECE);
}

#[test]
fn default_probes_a_stale_path_once() {
    // the slow-looking path carried nothing for a while: it gets the next piece
    let mut c = [
        cand(80_000, 10, 0, 100_000, false),
        cand(20_000, 10, 0, 100_000, false),
    ];
    c[0].stale = true;
    assert_eq!(pick(Policy::Default, &c, None), Some(0));
    // not stale any more (the piece is on it): back to the earliest delivery
    c[0].stale = false;
    assert_eq!(pick(Policy::Default, &c, None), Some(1));
    // a stale path without room is not picked
    c[0].stale = true;
    c[0].space = 0;
    assert_eq!(pick(Policy::Default, &c, None), Some(1));
}

#[test]
fn backup_waits_for_a_regular_path_that_is_alive() {
    // the regular subflow cannot take data now (full, or a loss probe out) but its
    // retransmission timer has not fired: the backup stays idle
    let mut c = [
        cand(20_000, 10, 0, 100_000, true),
        cand(20_000, 10, 0, 100_000, false),
    ];
    c[1].usable = false;
    c[1].space = 0;
    assert_eq!(pick(Policy::Default, &c, None), None);
    assert_eq!(pick(Policy::RoundRobin, &c, None), None);
    // its timer fired without progress since: the backup takes over
    c[1].alive = false;
    assert_eq!(pick(Policy::Default, &c, None), Some(0));
    assert_eq!(pick(Policy::RoundRobin, &c, None), Some(0));
}

#[test]
fn stale_backup_waits_for_the_regular_paths() {
    let mut c = [
        cand(20_000, 10, 0, 100_000, true),
        cand(80_000, 10, 0, 100_000, false),
    ];
    c[0].stale = true;
    assert_eq!(pick(Policy::Default, &c, None), Some(1));
}

#[test]
fn default_moves_to_slow_path_when_fast_queue_is_long() {
    // 20 ms path with 1 MB queued at 14 KB per RTT vs an empty 80 ms path
    let c = [
        cand(80_000, 10, 0, 100_000, false),
        cand(20_000, 10, 1 << 20, 100_000, false),
    ];
    assert_eq!(pick(Policy::Default, &c, None), Some(0));
}

#[test]
fn small_fresh_subflow_gets_its_share() {
    // a new subflow (cwnd 10, 16 KB of room) beats a busy one with two windows queued
    let busy = cand(1000, 500, 2 * 500 * 1400, 1 << 20, false);
    let fresh = cand(1000, 10, 0, 16 << 10, false);
    assert_eq!(pick(Policy::Default, &[busy, fresh], None), Some(1));
}

#[test]
fn idle_subflow_with_stale_srtt_still_chosen() {
    // path 1 idle, its srtt still inflated by an old queue (71 ms, min 20 ms); path
    // 2 (46 ms, min 20 ms) has 100 KB queued at a 73-packet window
    let mut idle = cand(71_000, 247, 0, 1 << 20, false);
    idle.min_rtt_us = 20_000;
    let mut busy = cand(46_000, 73, 100_000, 1 << 20, false);
    busy.min_rtt_us = 20_000;
    assert_eq!(pick(Policy::Default, &[idle, busy], None), Some(0));
}

#[test]
fn no_room_no_choice_and_backup_last() {
    let c = [cand(1000, 10, 0, 0, false), cand(1000, 10, 0, 0, false)];
    assert_eq!(pick(Policy::Default, &c, None), None);
    let c = [
        cand(1000, 10, 0, 5000, true),
        cand(90_000, 10, 0, 5000, false),
    ];
    assert_eq!(pick(Policy::Default, &c, None), Some(1));
    // a full regular subflow is waited for: the backup stays idle
    let c = [cand(1000, 10, 0, 5000, true), cand(90_000, 10, 0, 0, false)];
    assert_eq!(pick(Policy::Default, &c, None), None);
    // a dead regular subflow (timed out, not usable): the backup takes over
    let mut dead = cand(90_000, 10, 0, 0, false);
    dead.usable = false;
    dead.alive = false;
    let c = [cand(1000, 10, 0, 5000, true), dead];
    assert_eq!(pick(Policy::Default, &c, None), Some(0));
}

#[test]
fn round_robin_rotates() {
    let c = [
        cand(1, 1, 0, 10, false),
        cand(1, 1, 0, 10, false),
        cand(1, 1, 0, 0, false),
    ];
    assert_eq!(pick(Policy::RoundRobin, &c, None), Some(0));
    assert_eq!(pick(Policy::RoundRobin, &c, Some(0)), Some(1));
    assert_eq!(pick(Policy::RoundRobin, &c, Some(1)), Some(0));
}

proptest! {
    /// Whatever the inputs: the choice is usable with room, and is a backup only
    /// while no regular subflow is usable; no choice means nothing eligible had room.
    #[test]
    fn choice_is_usable(cs in prop::collection::vec(
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>(), 0u32..3, any::<bool>(), any::<bool>(), any::<bool>()), 0..8),
        rr in any::<bool>(), last in prop::option::of(0usize..10)) {
        let c: Vec<Candidate> = cs.iter().map(|&(s, w, m, q, sp, b, u, a)|
            Candidate { srtt_us: s, min_rtt_us: s / 2, cwnd: w, mss: m, queued: q, space: sp, backup: b, usable: u, alive: a, stale: q % 2 == 0 }).collect();
        let pol = if rr { Policy::RoundRobin } else { Policy::Default };
        let regular_alive = c.iter().any(|x| (x.usable || x.alive) && !x.backup);
        match pick(pol, &c, last) {
            Some(i) => {
                prop_assert!(c[i].usable && c[i].space > 0);
                if c[i].backup {
                    prop_assert!(!regular_alive);
                }
            }
            None => {
                prop_assert!(!c.iter().any(|x| x.usable && x.space > 0 && !x.backup));
                prop_assert!(regular_alive || !c.iter().any(|x| x.usable && x.space > 0));
            }
        }
    }
}

fn ocand(
    usable: bool,
    alive: bool,
    backup: bool,
    buf_space: u32,
    unsent: u32,
) -> OverflowCandidate {
    OverflowCandidate {
        usable,
        alive,
        backup,
        buf_space,
        unsent,
    }
}

fn overflow(cands: &[OverflowCandidate]) -> Option<usize> {
    let mut p = OverflowPick::new();
    for (i, c) in cands.iter().enumerate() {
        p.offer(i, c);
    }
    p.choice()
}

#[test]
fn overflow_cases() {
    // (what, candidates as (usable, alive, backup, send buffer room, unsent), choice)
    type Case = (
        &'static str,
        &'static [(bool, bool, bool, u32, u32)],
        Option<usize>,
    );
    let cases: &[Case] = &[
        (
            "a usable subflow first, then the fewest unsent bytes",
            &[
                (false, true, false, 100_000, 0),
                (true, true, false, 100_000, 50_000),
                (true, true, false, 100_000, 20_000),
            ],
            Some(2),
        ),
        (
            "a suspected loss (alive, not usable) when none is usable",
            &[
                (false, true, false, 100_000, 10_000),
                (false, false, false, 100_000, 0),
            ],
            Some(0),
        ),
        (
            "no send buffer room, or dead",
            &[(true, true, false, 0, 0), (false, false, false, 100_000, 0)],
            None,
        ),
        ("no subflow", &[], None),
        (
            "a full regular subflow that is alive keeps the backup idle",
            &[(true, true, false, 0, 0), (true, true, true, 100_000, 0)],
            None,
        ),
        (
            "the regular subflow timed out: the backup",
            &[
                (false, false, false, 100_000, 0),
                (true, true, true, 100_000, 0),
            ],
            Some(1),
        ),
        (
            "a regular subflow before a backup with fewer unsent bytes",
            &[
                (true, true, true, 100_000, 0),
                (false, true, false, 100_000, 90_000),
            ],
            Some(1),
        ),
    ];
    for (what, cands, want) in cases {
        let cands: Vec<_> = cands
            .iter()
            .map(|&(u, a, b, s, n)| ocand(u, a, b, s, n))
            .collect();
        assert_eq!(overflow(&cands), *want, "{what}");
    }
}

/// Whether [`OverflowPick`] may choose `c` at all.
fn eligible(c: &OverflowCandidate) -> bool {
    (c.usable || c.alive) && c.buf_space > 0
}

proptest! {
    #[test]
    fn overflow_choice_is_eligible(cands in proptest::collection::vec(
        (any::<bool>(), any::<bool>(), any::<bool>(), 0u32..4, 0u32..4), 0..8)) {
        let cands: Vec<_> = cands
            .into_iter()
            .map(|(u, a, b, s, n)| ocand(u, a, b, s * 1000, n * 1000))
            .collect();
        let regular_alive = cands.iter().any(|c| !c.backup && (c.usable || c.alive));
        match overflow(&cands) {
            Some(i) => {
                let c = cands[i];
                prop_assert!(eligible(&c));
                prop_assert!(!(c.backup && regular_alive));
                // nothing eligible ranks before it
                for d in cands.iter().filter(|d| eligible(d)) {
                    prop_assert!((c.backup, !c.usable, c.unsent) <= (d.backup, !d.usable, d.unsent));
                }
            }
            None => {
                // none eligible, or only backups while a regular subflow lives
                prop_assert!(cands
                    .iter()
                    .filter(|d| eligible(d))
                    .all(|d| regular_alive && d.backup));
            }
        }
    }
}
