// SPDX-License-Identifier: GPL-2.0

//! Send-side extents of a subflow against a byte-by-byte model: every subflow byte
//! pushed maps to the DSN it was pushed with until the subflow ACKs it.

use mptcp_proto::sndmap::{Pushed, SndMap, SNDMAP_CAPACITY};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[test]
fn contiguous_pushes_extend_one_extent() {
    let mut m = SndMap::new();
    assert_eq!(m.push(0, 1000, 100), Some(Pushed::NewExtent));
    assert_eq!(m.push(100, 1100, 50), Some(Pushed::Extended));
    assert_eq!(m.len(), 1);
    // a gap in the DSN space starts a new extent
    assert_eq!(m.push(150, 5000, 10), Some(Pushed::NewExtent));
    assert_eq!(m.len(), 2);
    let l = m.lookup(120).unwrap();
    assert_eq!((l.dsn, l.room), (1120, 30));
    let l = m.lookup(155).unwrap();
    assert_eq!((l.dsn, l.room), (5005, 5));
    assert!(m.lookup(160).is_none());
    assert_eq!(m.max_dsn_end(), Some(5010));
}

#[test]
fn ack_frees_whole_extents_only() {
    let mut m = SndMap::new();
    m.push(0, 0, 10);
    m.push(10, 100, 10);
    m.ack(15);
    assert_eq!(m.len(), 1);
    assert!(m.lookup(12).is_some());
    m.ack(20);
    assert!(m.is_empty());
}

#[test]
fn full_table_refuses_new_extents_but_extends() {
    let mut m = SndMap::new();
    for i in 0..SNDMAP_CAPACITY as u32 {
        assert!(m.push(i * 10, u64::from(i) * 1000, 10).is_some());
    }
    assert!(m.is_full());
    let last = (SNDMAP_CAPACITY as u32 - 1) * 10;
    assert_eq!(m.push(last + 10, 99_999, 5), None);
    assert_eq!(
        m.push(
            last + 10,
            u64::from(SNDMAP_CAPACITY as u32 - 1) * 1000 + 10,
            5
        ),
        Some(Pushed::Extended)
    );
}

#[test]
fn unacked_ranges_clip_at_data_ack() {
    let mut m = SndMap::new();
    m.push(0, 100, 50);
    m.push(50, 300, 50);
    let mut got = vec![];
    m.unacked_ranges(120, |a, b| got.push((a, b)));
    assert_eq!(got, vec![(120, 150), (300, 350)]);
    got.clear();
    m.unacked_ranges(320, |a, b| got.push((a, b)));
    assert_eq!(got, vec![(320, 350)]);
}

#[test]
fn holds_unacked_only_beyond_the_subflow_ack() {
    let mut m = SndMap::new();
    m.push(0, 100, 50);
    m.push(50, 300, 50);
    // nothing acknowledged: every mapped DSN is held, nothing else
    assert!(m.holds_unacked(100, 0));
    assert!(m.holds_unacked(149, 0));
    assert!(!m.holds_unacked(150, 0));
    assert!(!m.holds_unacked(99, 0));
    assert!(m.holds_unacked(349, 0));
    assert!(!m.holds_unacked(350, 0));
    // the subflow acknowledged 20 bytes of the first extent (kept, as `ack` keeps
    // extents only partly covered): those DSNs are delivered, the rest is held
    m.ack(20);
    assert!(!m.holds_unacked(119, 20));
    assert!(m.holds_unacked(120, 20));
    // past the first extent: its DSNs are no longer held even before `ack` forgets it
    assert!(!m.holds_unacked(149, 60));
    assert!(m.holds_unacked(310, 60));
    assert!(!m.holds_unacked(305, 60));
}

#[test]
fn trim_last_removes_empty_extent() {
    let mut m = SndMap::new();
    m.push(0, 0, 10);
    m.push(10, 50, 10);
    m.trim_last(10);
    assert_eq!(m.len(), 1);
    m.trim_last(4);
    assert_eq!(m.last().unwrap().len, 6);
}

proptest! {
    /// Random pushes (contiguous or not, near the 32-bit wrap of the subflow
    /// sequence space) and ACKs: every unacknowledged byte looks up to its DSN and
    /// the room never passes the extent's end.
    #[test]
    fn lookup_matches_model(
        base in prop_oneof![Just(0u32), Just(u32::MAX - 5000), any::<u32>()],
        dsn0 in any::<u64>(),
        ops in prop::collection::vec((1u32..3000, any::<bool>(), 0u32..4000), 1..100),
    ) {
        let mut m = SndMap::new();
        let mut model: BTreeMap<u32, u64> = BTreeMap::new(); // offset from base -> dsn
        let mut ssn_off = 0u32;
        let mut dsn = dsn0;
        let mut una_off = 0u32;
        for (len, jump, ack) in ops {
            if jump {
                dsn = dsn.wrapping_add(1 << 20);
            }
            let ssn = base.wrapping_add(ssn_off);
            if m.push(ssn, dsn, len).is_none() {
                prop_assert!(m.is_full());
                break;
            }
            for k in 0..len {
                model.insert(ssn_off + k, dsn.wrapping_add(u64::from(k)));
            }
            ssn_off += len;
            dsn = dsn.wrapping_add(u64::from(len));
            una_off = (una_off + ack).min(ssn_off);
            m.ack(base.wrapping_add(una_off));
            model.retain(|&o, _| o >= una_off || m.lookup(base.wrapping_add(o)).is_some());
        }
        for (&o, &d) in model.range(una_off..) {
            let l = m.lookup(base.wrapping_add(o));
            prop_assert!(l.is_some(), "byte {} lost its mapping", o);
            let l = l.unwrap();
            prop_assert_eq!(l.dsn, d);
            // the room ends at the extent's end: all bytes in it follow linearly
            for k in 0..l.room.min(64) {
                if let Some(&dk) = model.get(&(o + k)) {
                    prop_assert_eq!(dk, d.wrapping_add(u64::from(k)));
                }
            }
        }
        prop_assert!(m.lookup(base.wrapping_add(ssn_off)).is_none());
        // a DSN is held exactly while its subflow byte is at or after the ACK
        let una = base.wrapping_add(una_off);
        for (&o, &d) in &model {
            prop_assert_eq!(m.holds_unacked(d, una), o >= una_off, "byte {} (DSN {})", o, d);
        }
        prop_assert!(!m.holds_unacked(dsn, una));
    }
}
