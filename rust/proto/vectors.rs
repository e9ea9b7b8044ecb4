// SPDX-License-Identifier: GPL-2.0

//! Known-answer vectors, shared by the host tests and the in-kernel KUnit suites so
//! both check the same facts.

/// Key -> (token, IDSN), RFC 8684 section 3.1 derivation.
pub const KEY_DERIVE: [(u64, u32, u64); 2] = [
    (0x0102030405060708, 0x66840dda, 0xf5a101d3d29d6f72),
    (0x1112131415161718, 0xccad45ac, 0x535beea38e087c8e),
];

/// MP_JOIN HMAC vectors (the ones upstream Linux's KUnit suite uses): the key and
/// message are ASCII strings whose bytes are read as two big-endian 64-bit keys and
/// two big-endian 32-bit nonces; the result is the HMAC-SHA256 in hex.
pub const JOIN_HMAC: [(&str, &str, &str); 3] = [
    (
        "0b0b0b0b0b0b0b0b",
        "48692054",
        "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa",
    ),
    (
        "aaaaaaaaaaaaaaaa",
        "dddddddd",
        "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9",
    ),
    (
        "0102030405060708",
        "cdcdcdcd",
        "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d",
    ),
];

/// (reference, low 32 bits, expanded 64-bit DSN), including 32- and 64-bit wraps.
pub const EXPAND_SEQ32: [(u64, u32, u64); 7] = [
    (0x5_0000_1000, 0x2000, 0x5_0000_2000),
    (0x5_0000_2000, 0x1000, 0x5_0000_1000),
    (0x5_ffff_fff0, 0x10, 0x6_0000_0010),
    (0x6_0000_0010, 0xffff_fff0, 0x5_ffff_fff0),
    (u64::MAX - 0xf, 0x10, 0x10),
    (0x10, 0xffff_fff0, u64::MAX - 0xf),
    (0x7_8000_0000, 0, 0x7_0000_0000),
];

/// A DSS option with every field: 32-bit data ACK, 64-bit mapping, checksum,
/// DATA_FIN (RFC 8684 figure 9), and what it means.
pub const DSS_FULL: ([u8; 24], crate::proto::options::Dss) = (
    [
        0x1e, 0x18, 0x20, 0x1d, // kind, length, subtype, flags F|m|M|A
        0x00, 0x00, 0x10, 0x00, // data ACK
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x20, 0x00, // DSN
        0x00, 0x00, 0x00, 0x01, // subflow sequence number
        0x00, 0x05, 0xab, 0xcd, // data-level length, checksum
    ],
    crate::proto::options::Dss {
        data_ack: Some((0x1000, false)),
        map: Some(crate::proto::options::DssMap {
            dsn: 0x1_0000_2000,
            dsn64: true,
            ssn: 1,
            data_len: 5,
            checksum: Some(0xabcd),
        }),
        data_fin: true,
    },
);

/// A LIA case: subflows as (cwnd, srtt_us), the subflow asked about, and the number
/// of acknowledged packets per one-packet increase.
pub type LiaCase = (&'static [(u32, u32)], usize, u32);

/// LIA cases worked out by hand from RFC 6356 (see `lia.rs`).
pub const LIA_CASES: [LiaCase; 5] = [
    // one subflow: Reno
    (&[(10, 5_000)], 0, 10),
    // two equal subflows: alpha = 1/2, w = 4 * cwnd
    (&[(40, 20_000), (40, 20_000)], 0, 160),
    // three equal subflows: w = 9 * cwnd
    (&[(7, 1_000), (7, 1_000), (7, 1_000)], 2, 63),
    // fast small path and slow large path: S = 11, w = ceil(121 / 10)
    (&[(10, 1_000), (1000, 1_000_000)], 0, 13),
    // ... and the slow path is held to its own window (never faster than TCP)
    (&[(10, 1_000), (1000, 1_000_000)], 1, 1000),
];

/// An OLIA case: paths as (cwnd, srtt_us, loss_interval), the path asked about, and
/// its window change per acknowledged packet scaled by 2^24.
pub type OliaCase = (&'static [(u32, u32, u32)], usize, i64);

/// OLIA cases computed by hand from the formulas in `olia.rs`.
pub const OLIA_CASES: [OliaCase; 4] = [
    // one path: 2^24 / 10, Reno
    (&[(10, 30_000, 500)], 0, 1_677_721),
    // two equal paths: nothing to collect, w / (2w)^2 = 1 / 64 for w = 16
    (&[(16, 10_000, 100), (16, 10_000, 100)], 1, 262_144),
    // congested large path: 100 * 2^40 / (120 * 256)^2 - 2^24 / (2 * 100)
    (
        &[(100, 20_000, 50), (20, 20_000, 5_000)],
        0,
        116_508 - 83_886,
    ),
    // the collected path: 20 * 2^40 / (120 * 256)^2 + 2^24 / (2 * 20)
    (
        &[(100, 20_000, 50), (20, 20_000, 5_000)],
        1,
        23_301 + 419_430,
    ),
];

/// Splits an ASCII key string of [`JOIN_HMAC`] into its two big-endian keys and an
/// ASCII message into its two nonces. Returns `None` on strings of the wrong length.
pub fn join_inputs(key: &str, msg: &str) -> Option<(u64, u64, u32, u32)> {
    let (k, m) = (key.as_bytes(), msg.as_bytes());
    let ka = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
    let kb = u64::from_be_bytes(k.get(8..16)?.try_into().ok()?);
    let na = u32::from_be_bytes(m.get(..4)?.try_into().ok()?);
    let nb = u32::from_be_bytes(m.get(4..8)?.try_into().ok()?);
    Some((ka, kb, na, nb))
}

/// Lower-case hex of `bytes` into `out` (which must hold twice as many bytes);
/// returns the written prefix, or `None` if `out` is too small.
pub fn to_hex<'a>(bytes: &[u8], out: &'a mut [u8]) -> Option<&'a str> {
    let len = bytes.len().checked_mul(2)?;
    let out = out.get_mut(..len)?;
    let mut slots = out.iter_mut();
    for b in bytes {
        let (Some(hi), Some(lo)) = (slots.next(), slots.next()) else {
            return None;
        };
        *hi = hex_digit(b >> 4);
        *lo = hex_digit(b & 0xf);
    }
    core::str::from_utf8(out).ok()
}

/// The lower-case hex digit of the low 4 bits of `n`.
const fn hex_digit(n: u8) -> u8 {
    let n = n & 0xf;
    if n < 10 {
        b'0'.wrapping_add(n)
    } else {
        b'a'.wrapping_add(n - 10)
    }
}
