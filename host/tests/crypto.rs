// SPDX-License-Identifier: GPL-2.0

//! Key derivation and MP_JOIN HMAC against published vectors and an independent
//! SHA-256/HMAC implementation.

use hmac::{Hmac, Mac};
use mptcp_proto::crypto::{self, Sha256, SHA256_LEN};
use mptcp_proto::vectors;
use proptest::prelude::*;
use sha2::Digest;

/// The core's hash interface backed by the RustCrypto crates.
struct RustCrypto;

impl Sha256 for RustCrypto {
    fn digest(data: &[u8]) -> [u8; SHA256_LEN] {
        sha2::Sha256::digest(data).into()
    }
    fn hmac(key: &[u8], msg: &[u8]) -> [u8; SHA256_LEN] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
        mac.update(msg);
        mac.finalize().into_bytes().into()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn be64(s: &[u8]) -> u64 {
    u64::from_be_bytes(s.try_into().unwrap())
}

fn be32(s: &[u8]) -> u32 {
    u32::from_be_bytes(s.try_into().unwrap())
}

#[test]
fn token_and_idsn_match_known_answers() {
    for (key, token, idsn) in vectors::KEY_DERIVE {
        let d = crypto::key_derive::<RustCrypto>(key);
        assert_eq!((d.token, d.idsn), (token, idsn), "key {key:#x}");
    }
}

#[test]
fn join_hmac_matches_upstream_vectors() {
    for (key, msg, expected) in vectors::JOIN_HMAC {
        let (ka, kb, na, nb) = vectors::join_inputs(key, msg).unwrap();
        let h = crypto::join_hmac::<RustCrypto>(ka, kb, na, nb);
        assert_eq!(hex(&h), expected, "key {key} msg {msg}");
        let mut buf = [0u8; 64];
        assert_eq!(vectors::to_hex(&h, &mut buf), Some(expected));
        assert_eq!(crypto::hmac_truncated(&h), be64(&h[..8]));
    }
}

#[test]
fn vector_helpers_reject_bad_input() {
    assert_eq!(vectors::join_inputs("short", "48692054"), None);
    assert_eq!(vectors::join_inputs("0b0b0b0b0b0b0b0b", "4869"), None);
    assert_eq!(vectors::to_hex(&[1, 2, 3], &mut [0u8; 5]), None);
}

proptest! {
    #[test]
    fn key_derive_is_sha256_of_big_endian_key(key: u64) {
        let d = sha2::Sha256::digest(key.to_be_bytes());
        let k = crypto::key_derive::<RustCrypto>(key);
        prop_assert_eq!(k.token, be32(&d[..4]));
        prop_assert_eq!(k.idsn, be64(&d[24..]));
    }

    #[test]
    fn join_hmac_keys_with_concatenated_keys(ka: u64, kb: u64, na: u32, nb: u32) {
        let mut key = ka.to_be_bytes().to_vec();
        key.extend_from_slice(&kb.to_be_bytes());
        let mut msg = na.to_be_bytes().to_vec();
        msg.extend_from_slice(&nb.to_be_bytes());
        prop_assert_eq!(crypto::join_hmac::<RustCrypto>(ka, kb, na, nb), RustCrypto::hmac(&key, &msg));
        // Swapping roles changes the HMAC (keys and nonces are ordered).
        if ka != kb || na != nb {
            prop_assert_ne!(crypto::join_hmac::<RustCrypto>(ka, kb, na, nb), crypto::join_hmac::<RustCrypto>(kb, ka, nb, na));
        }
    }
}

#[test]
fn add_addr_hmac_is_the_rightmost_64_bits() {
    // computed independently (Python hmac/hashlib) from RFC 8684 3.4.1's definition
    let v4 = crypto::add_addr_hmac::<RustCrypto>(
        0x0102030405060708,
        0x1112131415161718,
        3,
        &[192, 0, 2, 10],
        0,
    );
    assert_eq!(v4, 0xfccf6a46af1efce9);
    let addr6: Vec<u8> = (0..16).collect();
    let v6 = crypto::add_addr_hmac::<RustCrypto>(
        0xfedcba9876543210,
        0x0011223344556677,
        255,
        &addr6,
        8080,
    );
    assert_eq!(v6, 0x73d369950432bb12);
    // the keys' order matters: the receiver checks with the sender's key first
    assert_ne!(
        v4,
        crypto::add_addr_hmac::<RustCrypto>(
            0x1112131415161718,
            0x0102030405060708,
            3,
            &[192, 0, 2, 10],
            0
        )
    );
}
