// SPDX-License-Identifier: GPL-2.0

//! Send-side mappings of one subflow: which data sequence numbers the subflow's bytes
//! carry.
//!
//! When a connection sends on several subflows, each subflow carries pieces of the
//! data sequence space. Every piece pushed onto a subflow is an *extent*: `len` bytes
//! from relative subflow sequence number `ssn` (0 = the subflow's first data byte)
//! carry DSNs from `dsn`. A piece that continues the previous one in both spaces
//! extends it. The mapping of a segment (RFC 8684 3.3.1) is computed from the extent
//! holding its first byte when TCP writes the segment's options, for a first
//! transmission or a retransmission alike; a segment never spans two extents because
//! the module ends a TCP skb (`eor`) where a new extent starts.
//!
//! Extents are kept, oldest first, in a fixed ring (no allocation: the table lives in
//! the subflow's context) until the subflow's cumulative ACK passes them.

use super::seq::after64;

/// Extents a subflow keeps at most; [`SndMap::push`] refuses a new one when full
/// (the scheduler then leaves the subflow alone until ACKs free some).
pub const SNDMAP_CAPACITY: usize = 128;

/// `len` subflow bytes from relative sequence `ssn` carry DSNs from `dsn`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// Relative subflow sequence number of the first byte (0 = first data byte).
    pub ssn: u32,
    /// Data sequence number of the first byte.
    pub dsn: u64,
    /// Bytes in the extent.
    pub len: u32,
}

impl Extent {
    fn end_ssn(&self) -> u32 {
        self.ssn.wrapping_add(self.len)
    }

    fn end_dsn(&self) -> u64 {
        self.dsn.wrapping_add(u64::from(self.len))
    }

    /// Whether relative subflow sequence `ssn` falls inside the extent.
    fn holds(&self, ssn: u32) -> bool {
        ssn.wrapping_sub(self.ssn) < self.len
    }
}

/// The mapping for a segment: DSN of its first byte and how many bytes from there the
/// extent still covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// DSN of the byte at the looked-up sequence number.
    pub dsn: u64,
    /// Bytes of the extent from that byte on.
    pub room: u32,
}

/// The extents of one subflow, oldest first.
#[derive(Clone, Debug)]
pub struct SndMap {
    ring: [Extent; SNDMAP_CAPACITY],
    /// Index of the oldest extent.
    head: usize,
    /// Extents in use.
    count: usize,
}

impl Default for SndMap {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`SndMap::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The bytes continue the newest extent in both spaces: it grew.
    Extended,
    /// A new extent starts: the bytes must not share a TCP skb with earlier ones.
    NewExtent,
}

impl SndMap {
    /// An empty table.
    pub const fn new() -> Self {
        SndMap {
            ring: [Extent {
                ssn: 0,
                dsn: 0,
                len: 0,
            }; SNDMAP_CAPACITY],
            head: 0,
            count: 0,
        }
    }

    /// Extents in use.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no extent is in use.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether a new extent would be refused.
    pub fn is_full(&self) -> bool {
        self.count >= SNDMAP_CAPACITY
    }

    fn slot(&self, i: usize) -> Option<&Extent> {
        if i >= self.count {
            return None;
        }
        self.ring.get((self.head + i) % SNDMAP_CAPACITY)
    }

    fn slot_mut(&mut self, i: usize) -> Option<&mut Extent> {
        if i >= self.count {
            return None;
        }
        self.ring.get_mut((self.head + i) % SNDMAP_CAPACITY)
    }

    /// The newest extent.
    pub fn last(&self) -> Option<Extent> {
        self.count
            .checked_sub(1)
            .and_then(|i| self.slot(i))
            .copied()
    }

    /// The extents, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Extent> + '_ {
        (0..self.count).filter_map(move |i| self.slot(i).copied())
    }

    /// Records that `len` bytes queued at relative subflow sequence `ssn` carry DSNs
    /// from `dsn`. `None` when a new extent is needed and the table is full, or
    /// `len` is 0 (nothing recorded).
    pub fn push(&mut self, ssn: u32, dsn: u64, len: u32) -> Option<Pushed> {
        if len == 0 {
            return None;
        }
        if let Some(i) = self.count.checked_sub(1) {
            if let Some(last) = self.slot_mut(i) {
                if last.end_ssn() == ssn && last.end_dsn() == dsn {
                    if let Some(grown) = last.len.checked_add(len) {
                        last.len = grown;
                        return Some(Pushed::Extended);
                    }
                }
            }
        }
        if self.is_full() {
            return None;
        }
        let idx = (self.head + self.count) % SNDMAP_CAPACITY;
        let slot = self.ring.get_mut(idx)?;
        *slot = Extent { ssn, dsn, len };
        self.count += 1;
        Some(Pushed::NewExtent)
    }

    /// Shortens the newest extent by `by` bytes (a push queued less than recorded);
    /// an extent left empty is removed.
    pub fn trim_last(&mut self, by: u32) {
        let Some(i) = self.count.checked_sub(1) else {
            return;
        };
        let Some(last) = self.slot_mut(i) else {
            return;
        };
        last.len = last.len.saturating_sub(by);
        if last.len == 0 {
            self.count -= 1;
        }
    }

    /// Forgets the extents wholly before relative subflow sequence `una` (the
    /// subflow's cumulative ACK).
    pub fn ack(&mut self, una: u32) {
        while let Some(first) = self.slot(0) {
            // the extent ends at or before `una` (in wrapping order)
            let end = first.end_ssn();
            if end == una || (una.wrapping_sub(end) as i32) > 0 {
                self.head = (self.head + 1) % SNDMAP_CAPACITY;
                self.count -= 1;
            } else {
                break;
            }
        }
    }

    /// The mapping of the byte at relative subflow sequence `ssn`, newest extents
    /// first (new data is looked up far more often than retransmissions).
    pub fn lookup(&self, ssn: u32) -> Option<Lookup> {
        (0..self.count).rev().find_map(|i| {
            let e = self.slot(i)?;
            if !e.holds(ssn) {
                return None;
            }
            let off = ssn.wrapping_sub(e.ssn);
            Some(Lookup {
                dsn: e.dsn.wrapping_add(u64::from(off)),
                room: e.len.wrapping_sub(off),
            })
        })
    }

    /// The highest DSN end among the extents (what the subflow carries up to), if any.
    pub fn max_dsn_end(&self) -> Option<u64> {
        self.iter()
            .map(|e| e.end_dsn())
            .reduce(|a, b| if after64(b, a) { b } else { a })
    }

    /// The DSN ranges `[start, end)` the extents carry that end after `una`, clipped
    /// to start at `una` or later, oldest first: the data to send again when the
    /// subflow dies or stalls. Calls `f` for each.
    pub fn unacked_ranges(&self, una: u64, mut f: impl FnMut(u64, u64)) {
        for e in self.iter() {
            let end = e.end_dsn();
            if !after64(end, una) {
                continue;
            }
            let start = if after64(una, e.dsn) { una } else { e.dsn };
            f(start, end);
        }
    }

    /// Whether the subflow still has DSN `dsn` to deliver: an extent maps it to a
    /// relative sequence number at or after `una` (the subflow's cumulative ACK),
    /// so TCP resends it on this subflow if need be.
    pub fn holds_unacked(&self, dsn: u64, una: u32) -> bool {
        self.iter().any(|e| {
            if after64(e.dsn, dsn) || !after64(e.end_dsn(), dsn) {
                return false;
            }
            let ssn = e.ssn.wrapping_add(dsn.wrapping_sub(e.dsn) as u32);
            ssn.wrapping_sub(una) as i32 >= 0
        })
    }

    /// Forgets every extent.
    pub fn clear(&mut self) {
        self.head = 0;
        self.count = 0;
    }
}
