// SPDX-License-Identifier: GPL-2.0

//! 32-to-64-bit DSN expansion and wrapping comparisons.

use mptcp_proto::seq::{after64, before64, expand_seq32};
use mptcp_proto::vectors;
use proptest::prelude::*;

#[test]
fn shared_vectors() {
    for (reference, low, expected) in vectors::EXPAND_SEQ32 {
        assert_eq!(
            expand_seq32(reference, low),
            expected,
            "{reference:#x} {low:#x}"
        );
    }
}

#[test]
fn expands_within_the_same_32_bit_window() {
    assert_eq!(expand_seq32(0x5_0000_1000, 0x2000), 0x5_0000_2000);
    assert_eq!(expand_seq32(0x5_0000_2000, 0x1000), 0x5_0000_1000);
}

#[test]
fn expands_across_a_32_bit_wrap_forwards_and_backwards() {
    // reference just below a 2^32 boundary, value just above it
    assert_eq!(expand_seq32(0x5_ffff_fff0, 0x10), 0x6_0000_0010);
    // reference just above a boundary, value just below it
    assert_eq!(expand_seq32(0x6_0000_0010, 0xffff_fff0), 0x5_ffff_fff0);
}

#[test]
fn expands_across_the_64_bit_wrap() {
    assert_eq!(expand_seq32(u64::MAX - 0xf, 0x10), 0x10);
    assert_eq!(expand_seq32(0x10, 0xffff_fff0), u64::MAX - 0xf);
}

#[test]
fn half_window_edges() {
    let r = 0x7_8000_0000u64;
    // exactly 2^31 ahead is taken as behind (the window is [-2^31, 2^31))
    assert_eq!(expand_seq32(r, 0), 0x7_0000_0000);
    assert_eq!(expand_seq32(r, 0xffff_ffff), 0x7_ffff_ffff);
}

#[test]
fn wrapping_order() {
    assert!(before64(1, 2));
    assert!(!before64(2, 2));
    assert!(before64(u64::MAX, 0));
    assert!(after64(0, u64::MAX));
    assert!(!after64(5, 5));
}

proptest! {
    /// The expansion of the low 32 bits of any DSN within 2^31 of the reference is
    /// that DSN, whatever wraps lie in between.
    #[test]
    fn roundtrip_within_half_window(reference: u64, offset in -(1i64 << 31)..(1i64 << 31)) {
        let dsn = reference.wrapping_add(offset as u64);
        prop_assert_eq!(expand_seq32(reference, dsn as u32), dsn);
    }

    /// The result always carries the given low bits and is at most 2^31 away.
    #[test]
    fn result_has_low_bits_and_is_near(reference: u64, low: u32) {
        let r = expand_seq32(reference, low);
        prop_assert_eq!(r as u32, low);
        let dist = r.wrapping_sub(reference) as i64;
        prop_assert!((-(1i64 << 31)..(1i64 << 31)).contains(&dist));
    }

    #[test]
    fn before_after_are_antisymmetric(a: u64, b: u64) {
        prop_assert_eq!(before64(a, b), after64(b, a));
        if a != b && a.wrapping_sub(b) != 1u64 << 63 {
            prop_assert!(before64(a, b) ^ before64(b, a));
        }
    }
}
