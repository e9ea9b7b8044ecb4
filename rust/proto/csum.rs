// SPDX-License-Identifier: GPL-2.0

//! The DSS checksum (RFC 8684 section 3.3.1): the Internet checksum (RFC 1071) over a
//! pseudo-header of the 64-bit data sequence number, the 32-bit relative subflow
//! sequence number, the 16-bit data-level length and a zero checksum field, followed
//! by the mapped payload.
//!
//! Sums are kept as 32-bit accumulators of 16-bit big-endian words, so a payload can
//! be summed in pieces (for instance over the fragments of an skb) and the pieces
//! combined with [`Sum::add`], as long as every piece but the last has even length.

/// A ones-complement running sum of big-endian 16-bit words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum(u32);

impl Sum {
    /// The sum of `data`, as big-endian 16-bit words (a trailing odd byte is the high
    /// byte of a last word).
    pub fn of(data: &[u8]) -> Sum {
        let mut acc: u64 = 0;
        let mut words = data.chunks_exact(2);
        for w in &mut words {
            if let [hi, lo] = *w {
                acc += u64::from(u16::from_be_bytes([hi, lo]));
            }
        }
        if let [last] = *words.remainder() {
            acc += u64::from(u16::from_be_bytes([last, 0]));
        }
        Sum(fold64(acc))
    }

    /// A sum already folded to 16 bits (for instance computed by the kernel's checksum
    /// helpers over an skb).
    pub fn from_folded(folded: u16) -> Sum {
        Sum(u32::from(folded))
    }

    /// The sum of the same bytes placed at an odd offset: ones-complement sums of
    /// byte-swapped words are byte-swapped (RFC 1071 section 2(B)), so a piece that
    /// follows an odd number of bytes contributes its swapped sum.
    pub fn swapped(self) -> Sum {
        Sum(u32::from(self.fold().swap_bytes()))
    }

    /// Adds another sum (ones-complement addition).
    pub fn add(self, other: Sum) -> Sum {
        Sum(fold64(u64::from(self.0) + u64::from(other.0)))
    }

    /// The 16-bit ones-complement sum.
    pub fn fold(self) -> u16 {
        let mut s = self.0;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }
}

fn fold64(mut s: u64) -> u32 {
    while s > 0xffff_ffff {
        s = (s & 0xffff_ffff) + (s >> 32);
    }
    s as u32
}

/// The running sum of one mapping's payload, taken piece by piece as its bytes leave
/// the subflow in order. A piece may begin before the bytes summed so far (a
/// segment repeating some the subflow already had): only its new bytes count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PieceSum {
    sum: Sum,
    summed: u32,
}

impl PieceSum {
    /// How many bytes from the mapping's start were summed.
    pub fn summed(&self) -> u32 {
        self.summed
    }

    /// The sum of the bytes summed.
    pub fn sum(&self) -> Sum {
        self.sum
    }

    /// For a piece holding the mapping's bytes `off..off + len`: the bytes of it still
    /// to sum, as (offset into the piece, length); `None` if it has none or starts
    /// after the bytes summed so far (bytes in between are missing: the mapping
    /// cannot be summed any more).
    pub fn unsummed_part(&self, off: u32, len: u32) -> Option<(u32, u32)> {
        let end = off.checked_add(len)?;
        if off > self.summed || end <= self.summed {
            return None;
        }
        Some((self.summed - off, end - self.summed))
    }

    /// Adds `part`, the sum of the next `len` bytes of the mapping (those from
    /// [`PieceSum::summed`] on, as [`PieceSum::unsummed_part`] names them).
    pub fn add(&mut self, part: Sum, len: u32) {
        // bytes that follow an odd number of bytes are the low halves of words
        self.sum = if self.summed % 2 == 1 {
            self.sum.add(part.swapped())
        } else {
            self.sum.add(part)
        };
        self.summed = self.summed.wrapping_add(len);
    }

    /// Marks all `len` bytes of the mapping summed (it was checked another way).
    pub fn finish(&mut self, len: u32) {
        self.summed = len;
    }
}

/// The sum of the DSS checksum pseudo-header (checksum field zero).
pub fn pseudo_header(dsn: u64, ssn: u32, data_len: u16) -> Sum {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&dsn.to_be_bytes());
    b[8..12].copy_from_slice(&ssn.to_be_bytes());
    b[12..14].copy_from_slice(&data_len.to_be_bytes());
    Sum::of(&b)
}

/// The checksum to send for a mapping whose payload sums to `payload`.
pub fn dss_checksum(dsn: u64, ssn: u32, data_len: u16, payload: Sum) -> u16 {
    !pseudo_header(dsn, ssn, data_len).add(payload).fold()
}

/// Whether a received `checksum` matches the mapping and its payload sum.
pub fn dss_checksum_ok(dsn: u64, ssn: u32, data_len: u16, payload: Sum, checksum: u16) -> bool {
    // the sum of everything, checksum included, is all ones
    pseudo_header(dsn, ssn, data_len)
        .add(payload)
        .add(Sum(u32::from(checksum)))
        .fold()
        == 0xffff
}
