// SPDX-License-Identifier: GPL-2.0

//! The DSS checksum against a straightforward RFC 1071 implementation.

use mptcp_proto::csum::{dss_checksum, dss_checksum_ok, pseudo_header, Sum};
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
