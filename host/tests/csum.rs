// SPDX-License-Identifier: GPL-2.0

//! The DSS checksum against a straightforward RFC 1071 implementation.

use mptcp_proto::csum::{dss_checksum, dss_checksum_ok, pseudo_header, PieceSum, Sum};
use proptest::prelude::*;

/// RFC 1071, the obvious way: sum 16-bit big-endian words with end-around carry.
fn rfc1071(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hi = bytes[i] as u32;
        let lo = if i + 1 < bytes.len() {
            bytes[i + 1] as u32
        } else {
            0
        };
        sum += (hi << 8) | lo;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        i += 2;
    }
    !(sum as u16)
}

fn reference(dsn: u64, ssn: u32, len: u16, payload: &[u8]) -> u16 {
    let mut b = Vec::new();
    b.extend_from_slice(&dsn.to_be_bytes());
    b.extend_from_slice(&ssn.to_be_bytes());
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(payload);
    rfc1071(&b)
}

#[test]
fn rfc1071_example() {
    // RFC 1071 section 3 example: words 0001 f203 f4f5 f6f7 sum to ddf2
    assert_eq!(
        Sum::of(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]).fold(),
        0xddf2
    );
}

#[test]
fn empty_mapping() {
    assert_eq!(dss_checksum(0, 0, 0, Sum::default()), 0xffff);
    assert!(dss_checksum_ok(0, 0, 0, Sum::default(), 0xffff));
    assert!(!dss_checksum_ok(0, 0, 0, Sum::default(), 0));
}

proptest! {
    #[test]
    fn matches_reference(dsn: u64, ssn: u32, payload in prop::collection::vec(any::<u8>(), 0..3000)) {
        let len = payload.len() as u16;
        let c = dss_checksum(dsn, ssn, len, Sum::of(&payload));
        prop_assert_eq!(c, reference(dsn, ssn, len, &payload));
        prop_assert!(dss_checksum_ok(dsn, ssn, len, Sum::of(&payload), c));
    }

    /// Summing in even-length pieces gives the sum of the whole.
    #[test]
    fn pieces_add_up(payload in prop::collection::vec(any::<u8>(), 0..3000), cut in 0usize..1500) {
        let cut = (cut * 2).min(payload.len() & !1);
        let whole = Sum::of(&payload).fold();
        let parts = Sum::of(&payload[..cut]).add(Sum::of(&payload[cut..])).fold();
        prop_assert_eq!(whole, parts);
    }

    /// Any single corrupted byte or header field is detected.
    #[test]
    fn detects_corruption(dsn: u64, ssn: u32, mut payload in prop::collection::vec(any::<u8>(), 1..2000),
                          at: prop::sample::Index, flip in 1u8..=255) {
        let len = payload.len() as u16;
        let c = dss_checksum(dsn, ssn, len, Sum::of(&payload));
        prop_assert!(!dss_checksum_ok(dsn ^ 1, ssn, len, Sum::of(&payload), c));
        prop_assert!(!dss_checksum_ok(dsn, ssn.wrapping_add(1), len, Sum::of(&payload), c));
        let i = at.index(payload.len());
        payload[i] ^= flip;
        prop_assert!(!dss_checksum_ok(dsn, ssn, len, Sum::of(&payload), c));
    }

    #[test]
    fn pseudo_header_is_sum_of_fields(dsn: u64, ssn: u32, len: u16) {
        let mut b = dsn.to_be_bytes().to_vec();
        b.extend_from_slice(&ssn.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
        prop_assert_eq!(pseudo_header(dsn, ssn, len).fold(), !rfc1071(&b) );
    }
}

/// Sums `payload` as a receiver takes it off the subflow: one piece per segment of
/// `steps` (how many new bytes it brings, how many already-summed bytes it repeats
/// before them), plus pieces that only repeat. Returns the running sum.
fn sum_in_pieces(payload: &[u8], steps: &[(u16, u16)]) -> PieceSum {
    let n = payload.len() as u32;
    let mut ps = PieceSum::default();
    let mut steps = steps.iter().cycle();
    while ps.summed() < n {
        let &(new, back) = steps.next().unwrap();
        let covered = ps.summed();
        let start = covered - u32::from(back).min(covered);
        let end = (covered + u32::from(new).max(1)).min(n);
        // a segment that only repeats adds nothing
        assert_eq!(ps.unsummed_part(start, covered - start), None);
        let (skip, part) = ps.unsummed_part(start, end - start).unwrap();
        assert_eq!((start + skip, start + skip + part), (covered, end));
        let from = (start + skip) as usize;
        ps.add(Sum::of(&payload[from..from + part as usize]), part);
    }
    ps
}

#[test]
fn pieces_repeating_an_odd_number_of_bytes() {
    // bytes 0..801, then 401..1200 (the second repeats 400 bytes; the new part
    // starts at an odd offset and must be added byte-swapped)
    let payload: Vec<u8> = (0..1200u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut ps = PieceSum::default();
    let (skip, part) = ps.unsummed_part(0, 801).unwrap();
    ps.add(
        Sum::of(&payload[skip as usize..(skip + part) as usize]),
        part,
    );
    let (skip, part) = ps.unsummed_part(401, 799).unwrap();
    assert_eq!((skip, part), (400, 399));
    ps.add(Sum::of(&payload[801..1200]), part);
    assert_eq!(ps.summed(), 1200);
    assert_eq!(ps.sum().fold(), Sum::of(&payload).fold());
    // a corrupted byte in the new part changes the sum
    let mut bad = PieceSum::default();
    bad.add(Sum::of(&payload[..801]), 801);
    let mut tail = payload[801..].to_vec();
    tail[199] ^= 0xff;
    bad.add(Sum::of(&tail), 399);
    assert_ne!(bad.sum().fold(), Sum::of(&payload).fold());
}

#[test]
fn pieces_after_a_gap_are_not_summed() {
    let mut ps = PieceSum::default();
    ps.add(Sum::of(&[1, 2, 3]), 3);
    assert_eq!(ps.unsummed_part(4, 10), None);
    assert_eq!(ps.unsummed_part(3, 0), None);
    assert_eq!(ps.unsummed_part(u32::MAX, 2), None);
}

proptest! {
    #[test]
    fn pieces_with_repeats_sum_to_the_whole(
        payload in prop::collection::vec(any::<u8>(), 1..3000),
        steps in prop::collection::vec((1u16..1500, 0u16..1500), 1..8),
    ) {
        let ps = sum_in_pieces(&payload, &steps);
        prop_assert_eq!(ps.summed(), payload.len() as u32);
        prop_assert_eq!(ps.sum().fold(), Sum::of(&payload).fold());
    }
}
