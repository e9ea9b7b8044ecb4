// SPDX-License-Identifier: GPL-2.0

//! The packet scheduler's choice: which subflow carries the next piece of data.
//!
//! The module gathers a [`Candidate`] per usable subflow (established, speaking
//! MPTCP, not in loss recovery after a timeout, with room in its send buffer) and asks
//! [`pick`]. The `default` policy sends where the piece is expected to be delivered
//! soonest: a subflow's queue drains at about `cwnd · mss` bytes per smoothed RTT,
//! and its path adds its base delay, so a piece queued behind `queued` bytes starts
//! arriving after about `min_rtt + queued · srtt / (cwnd · mss)`. (The base delay is
//! the minimum RTT: the smoothed RTT of a subflow that carried nothing for a while
//! still holds the queueing delay of its last busy period. The piece's own length
//! is left out on purpose: it would favour the subflow with the larger window for
//! every piece, and a new subflow, whose window grows only with data, would starve.)
//! Backup subflows are only used when no other is alive (RFC 8684 3.3.8): a regular
//! subflow that cannot take data right now (a full send buffer or send map, a tail
//! loss probe out) is waited for, and only one whose retransmission timer fired
//! without progress since counts as gone. (A probe or a full queue is routine on a
//! busy path, more so on a slow host; moving data to a backup for either would use
//! the backup while the regular path works.)
//!
//! An estimate is only refreshed by data: a subflow whose RTT looked worse (a slow
//! handshake, a queue it no longer has) would never be picked again while the other
//! keeps up, e.g. when the CPU and not the path is the bottleneck. So a subflow
//! marked [`Candidate::stale`] (the module's rule: nothing unacknowledged on it, and
//! no data placed on it for a while) is picked first: one piece that measures the
//! path again.

/// What the scheduler knows of one usable subflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Candidate {
    /// Smoothed RTT, microseconds (0 when not measured yet).
    pub srtt_us: u32,
    /// Minimum RTT seen recently, microseconds (0: unknown, the smoothed RTT is
    /// used).
    pub min_rtt_us: u32,
    /// Congestion window, segments.
    pub cwnd: u32,
    /// Sender MSS, bytes.
    pub mss: u32,
    /// Bytes queued on the subflow and not yet acknowledged by it.
    pub queued: u32,
    /// Bytes the subflow's send buffer still takes.
    pub space: u32,
    /// The subflow is a backup (MP_JOIN or MP_PRIO backup flag).
    pub backup: bool,
    /// The subflow can carry data (established, not stalled), room or not.
    pub usable: bool,
    /// The subflow is established and its retransmission timer did not fire since
    /// its last progress, usable now or not; a regular one that is alive keeps the
    /// backups idle.
    pub alive: bool,
    /// Its estimates are old: it carried nothing for a while (see the module doc).
    pub stale: bool,
}

/// RTT assumed for a subflow that has no sample yet (upstream's initial RTO is 1 s;
/// a fresh subflow should not win only because it knows nothing).
const UNMEASURED_RTT_US: u64 = 100_000;

impl Candidate {
    /// Expected time, in microseconds (saturating), until a piece queued now would
    /// start to arrive.
    pub fn delivery_us(&self) -> u64 {
        let srtt = if self.srtt_us == 0 {
            UNMEASURED_RTT_US
        } else {
            u64::from(self.srtt_us)
        };
        let base = if self.min_rtt_us == 0 || u64::from(self.min_rtt_us) > srtt {
            srtt
        } else {
            u64::from(self.min_rtt_us)
        };
        let per_rtt = u64::from(self.cwnd.max(1)).saturating_mul(u64::from(self.mss.max(1)));
        let rounds_x1000 = u64::from(self.queued).saturating_mul(1000) / per_rtt;
        base.saturating_add(srtt.saturating_mul(rounds_x1000) / 1000)
    }
}

/// Smallest piece [`burst_piece`] cuts.
pub const MIN_BURST_PIECE: u32 = 8 * 1024;

/// The size of the next piece of a message sent after the connection was idle, with
/// `rest` bytes of it still to place and pieces of at most `max` bytes: a quarter of
/// the rest, at least [`MIN_BURST_PIECE`]. Such a message is placed on the subflows
/// at once (each takes its window and more), so how evenly it ends is decided by the
/// size of its last pieces: in 64 KB pieces, 500 KB went 262 KB / 238 KB over two
/// equal paths, and the response took the longer share's time.
pub fn burst_piece(rest: u64, max: u32) -> u32 {
    let quarter = u32::try_from(rest / 4).unwrap_or(u32::MAX);
    quarter.max(MIN_BURST_PIECE).min(max)
}

/// The scheduling policies (`net.mptcp.scheduler`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Earliest expected delivery.
    Default,
    /// Each usable subflow in turn.
    RoundRobin,
}

/// Index in `cands` of the subflow for the next piece of data, or `None`
/// when no subflow has room. `last` is the index chosen last time (round robin).
/// Candidates without room are skipped; backups only while no regular subflow is
/// usable or alive (a regular subflow that is full or probing is waited for, not
/// bypassed).
pub fn pick(policy: Policy, cands: &[Candidate], last: Option<usize>) -> Option<usize> {
    let usable = |c: &Candidate, backup: bool| c.usable && c.space > 0 && c.backup == backup;
    let regular_alive = cands.iter().any(|c| (c.usable || c.alive) && !c.backup);
    for backup in [false, true] {
        if backup && regular_alive {
            return None;
        }
        let choice = match policy {
            Policy::Default => cands
                .iter()
                .enumerate()
                .filter(|(_, c)| usable(c, backup))
                .min_by_key(|(_, c)| (!c.stale, c.delivery_us(), c.srtt_us))
                .map(|(i, _)| i),
            Policy::RoundRobin => {
                let n = cands.len();
                let start = last.map_or(0, |l| l.wrapping_add(1));
                (0..n)
                    .map(|k| start.wrapping_add(k) % n.max(1))
                    .find(|&i| cands.get(i).is_some_and(|c| usable(c, backup)))
            }
        };
        if choice.is_some() {
            return choice;
        }
    }
    None
}

/// What [`OverflowPick`] knows of one subflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OverflowCandidate {
    /// The subflow can take data now ([`Candidate::usable`]).
    pub usable: bool,
    /// [`Candidate::alive`]: established and not timed out, a loss suspected or not.
    pub alive: bool,
    /// The subflow is a backup.
    pub backup: bool,
    /// Bytes its send buffer still takes, whatever the unsent limit.
    pub buf_space: u32,
    /// Bytes queued on it and not sent yet.
    pub unsent: u32,
}

/// The subflow for one piece placed beyond the unsent limit that [`pick`]'s
/// candidates are held to: a non-blocking write that `poll` let in, after the room
/// under that limit went (a loss halves the congestion window the limit follows, a
/// loss probe makes a subflow unusable). Offered the subflows one by one (no
/// storage): an alive subflow with room in its send buffer, a regular one first,
/// then one without a suspected loss, then the one with the fewest unsent bytes; a
/// backup only while no regular subflow is usable or alive, as [`pick`] has it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OverflowPick {
    best: Option<(usize, (bool, bool, u32))>,
    regular_alive: bool,
}

impl OverflowPick {
    /// No subflow offered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers subflow number `index`.
    pub fn offer(&mut self, index: usize, c: &OverflowCandidate) {
        let alive = c.usable || c.alive;
        if !c.backup {
            self.regular_alive |= alive;
        }
        if !alive || c.buf_space == 0 {
            return;
        }
        let rank = (c.backup, !c.usable, c.unsent);
        if self.best.is_none_or(|(_, best)| rank < best) {
            self.best = Some((index, rank));
        }
    }

    /// The index of the subflow chosen, if any.
    pub fn choice(&self) -> Option<usize> {
        let (index, (backup, _, _)) = self.best?;
        if backup && self.regular_alive {
            return None;
        }
        Some(index)
    }
}
