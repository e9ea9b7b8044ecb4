// SPDX-License-Identifier: GPL-2.0

//! Keys, tokens, initial data sequence numbers and HMACs (RFC 8684 sections 3.1, 3.2).
//!
//! The hash itself is supplied by the caller through [`Sha256`]: the kernel module uses
//! the kernel's crypto library, host tests use an independent implementation.

/// Length of a SHA-256 digest and of an HMAC-SHA256 in bytes.
pub const SHA256_LEN: usize = 32;

/// A SHA-256 / HMAC-SHA256 implementation.
pub trait Sha256 {
    /// SHA-256 of `data`.
    fn digest(data: &[u8]) -> [u8; SHA256_LEN];
    /// HMAC-SHA256 of `msg` under `key` (RFC 2104).
    fn hmac(key: &[u8], msg: &[u8]) -> [u8; SHA256_LEN];
}

/// What a 64-bit MPTCP key determines (RFC 8684 section 3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyDerived {
    /// The connection token: the most significant 32 bits of SHA-256(key).
    pub token: u32,
    /// The initial data sequence number: the least significant 64 bits of SHA-256(key).
    pub idsn: u64,
}

/// Derives token and IDSN from `key`, hashed in network byte order.
pub fn key_derive<H: Sha256>(key: u64) -> KeyDerived {
    let d = H::digest(&key.to_be_bytes());
    let (head, tail) = (first_4(&d), last_8(&d));
    KeyDerived {
        token: u32::from_be_bytes(head),
        idsn: u64::from_be_bytes(tail),
    }
}

/// The MP_JOIN HMAC (RFC 8684 section 3.2): HMAC-SHA256 keyed with `key_a || key_b`
/// (network byte order) over `nonce_a || nonce_b`.
///
/// The SYN/ACK carries this value computed with the responder's key first and the
/// truncated left-most 64 bits ([`hmac_truncated`]); the third ACK carries the full
/// 160 left-most bits computed with the initiator's key first.
pub fn join_hmac<H: Sha256>(
    key_a: u64,
    key_b: u64,
    nonce_a: u32,
    nonce_b: u32,
) -> [u8; SHA256_LEN] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&key_a.to_be_bytes());
    key[8..].copy_from_slice(&key_b.to_be_bytes());
    let mut msg = [0u8; 8];
    msg[..4].copy_from_slice(&nonce_a.to_be_bytes());
    msg[4..].copy_from_slice(&nonce_b.to_be_bytes());
    H::hmac(&key, &msg)
}

/// The left-most 64 bits of an HMAC, as carried in the MP_JOIN SYN/ACK.
pub fn hmac_truncated(hmac: &[u8; SHA256_LEN]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&hmac[..8]);
    u64::from_be_bytes(b)
}

/// The ADD_ADDR HMAC (RFC 8684 section 3.4.1): the right-most 64 bits of
/// HMAC-SHA256 keyed with `key_a || key_b` (the sender's key first, network byte
/// order) over the address id, the address (4 or 16 bytes, network order) and the
/// port (2 bytes, network order; 0 when the option carries none).
pub fn add_addr_hmac<H: Sha256>(key_a: u64, key_b: u64, id: u8, addr: &[u8], port: u16) -> u64 {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&key_a.to_be_bytes());
    key[8..].copy_from_slice(&key_b.to_be_bytes());
    let mut msg = [0u8; 19];
    let alen = addr.len().min(16);
    msg[0] = id;
    msg[1..1 + alen].copy_from_slice(&addr[..alen]);
    msg[1 + alen..3 + alen].copy_from_slice(&port.to_be_bytes());
    let h = H::hmac(&key, &msg[..3 + alen]);
    u64::from_be_bytes(last_8(&h))
}

fn first_4(d: &[u8; SHA256_LEN]) -> [u8; 4] {
    [d[0], d[1], d[2], d[3]]
}

fn last_8(d: &[u8; SHA256_LEN]) -> [u8; 8] {
    [d[24], d[25], d[26], d[27], d[28], d[29], d[30], d[31]]
}
