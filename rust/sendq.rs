// SPDX-License-Identifier: GPL-2.0

//! Sending on several subflows: the meta socket's send queue, the scheduler, and
//! reinjection.
//!
//! A connection starts in *direct* mode: the application's data goes straight into
//! the first subflow (`tcp_sendmsg_locked()`) and its DSNs follow the subflow's
//! sequence numbers linearly. Once a second subflow is established (and the
//! connection did not fall back), the next `sendmsg` switches it to *multi* mode for
//! good:
//!
//! * the data is copied once into the meta socket's send queue (page chunks, each
//!   byte at a known DSN) and kept there until the peer's DATA_ACK covers it;
//! * the scheduler ([`crate::proto::sched`], `default` policy: earliest expected
//!   delivery; backups last) picks a subflow with room for each piece (at most
//!   [`MAX_PIECE`] bytes), and the piece is queued on it by page reference
//!   (`MSG_SPLICE_PAGES`, no second copy), recorded as an extent of the subflow's
//!   send map ([`crate::proto::sndmap`]) from which every segment's DSS mapping is
//!   computed;
//! * a subflow that dies or stalls (its retransmission timer fired: TCP is in loss
//!   recovery) leaves the scheduler, and what it carried beyond the DATA_ACK is
//!   queued again on the other subflows (*reinjection*, from the meta socket's work
//!   item); the peer drops the duplicates by DSN. It comes back to the scheduler once
//!   it recovers.
//!
//! `sendmsg` returns only once its bytes are queued on some subflow (what could not
//! be queued is handed back to the caller's iterator), so the send queue never holds
//! data that no subflow carries; only reinjection is deferred.
//!
//! Locking: the send queue belongs to the owner of the meta socket; a subflow's send
//! map to the owner of the subflow's lock (taken inside the meta socket's, one subflow
//! at a time). The work item runs with the meta socket owned.

use crate::bindings;
use crate::join::MAX_JOINED;
use crate::mib::{self, Mib};
use crate::proto::sched::{self, Candidate, OverflowCandidate, OverflowPick, Policy};
use crate::proto::seq::after64;
use crate::proto::sndmap::Pushed;
use crate::sock::Meta;
use crate::subflow::Subflow;
use crate::tcp_state::{acks_in, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_ESTABLISHED};
use kernel::prelude::*;

/// Largest piece the scheduler places at once.
pub(crate) const MAX_PIECE: u32 = 64 * 1024;

/// Unsent bytes a subflow may hold at least (its `TCP_NOTSENT_LOWAT` is a quarter
/// of its window, at least this): pieces are placed shortly before they can be
/// sent, on what the subflows look like then.
const NOTSENT_LIMIT: u32 = 32 * 1024;

/// A subflow with nothing unacknowledged on which no data was placed for this long
/// (ms), or ever, is *stale* for the scheduler: it gets the next piece, which
/// measures its path again ([`crate::proto::sched`]).
const PROBE_IDLE_MS: u32 = 500;

const MAX_SUBFLOWS: usize = 1 + MAX_JOINED;

const SEND_SHUTDOWN: u8 = 2;
const EPIPE: c_int = 32;
const EAGAIN_ERRNO: c_int = 11;
const MSG_DONTWAIT: c_int = 0x40;
const MSG_NOSIGNAL: c_int = 0x4000;

/// Data from DSN `dsn`: `len` bytes written into a page allocation of `cap` bytes.
///
/// # Invariants
///
/// `page` holds one page reference of ours, dropped with the chunk; `cap` bytes are
/// charged to the meta socket `sk` (`mptcp_rs_meta_wmem_charge()`), returned with
/// the chunk, which the socket outlives (its send queue holds the chunks).
struct Chunk {
    sk: *mut bindings::sock,
    page: *mut bindings::page,
    dsn: u64,
    len: u32,
    cap: u32,
}

impl Chunk {
    fn end(&self) -> u64 {
        self.dsn.wrapping_add(u64::from(self.len))
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: our reference and our charge (type invariant); subflow skbs hold
        // their own references. The send queue is dropped with the meta socket
        // owned, or from its destructor.
        unsafe {
            bindings::mptcp_rs_meta_wmem_uncharge(self.sk, self.cap);
            bindings::mptcp_rs_chunk_put(self.page);
        }
    }
}

/// The meta socket's send state (multi mode).
pub(crate) struct SendQueue {
    /// Chunks in DSN order, from the oldest byte not yet DATA_ACKed.
    chunks: KVec<Chunk>,
    /// Multi mode is on.
    multi: bool,
    /// DSN of the next byte the application queues.
    snd_nxt: u64,
    /// DSNs `[start, end)` to send again on other subflows.
    reinject: Option<(u64, u64)>,
    /// DSNs `[start, end)` the retransmission timer copies on a subflow that does
    /// not hold them ([`rtx_resend`]), until one takes them.
    rtx_copy: Option<(u64, u64)>,
    /// DSN of the queue's first byte when multi mode began: what direct mode
    /// wrote before lives on the first subflow only, until that one stalls and
    /// `adopt_direct` copies what it still holds to the front of the queue, from
    /// where this then is.
    multi_from: u64,
    /// The first subflow's queues no longer hold what direct mode wrote and the
    /// peer lacks (a reset purged them): `adopt_direct` stops trying.
    direct_gone: bool,
    /// The subflow chosen last (round robin).
    last: Option<usize>,
    /// DATA_ACK when the retransmission timer was armed, and its backoff.
    rtx_una: u64,
    rtx_backoff: u32,
    /// The timer was armed to probe the peer's window (nothing was in flight).
    rtx_persist: bool,
    /// `net.mptcp.scheduler` when multi mode began.
    policy: Sched,
    /// The scheduler's view of each subflow in its last run, and the subflow it
    /// describes (same index); room for [`MAX_SUBFLOWS`], reserved when multi mode
    /// begins (too large for the stack).
    cands: KVec<Candidate>,
    cand_ssks: KVec<*mut bindings::sock>,
}

/// The schedulers `net.mptcp.scheduler` names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sched {
    /// `default`: earliest expected delivery.
    Default,
    /// `roundrobin`: each usable subflow in turn.
    RoundRobin,
    /// `redundant`: every piece on every usable subflow (the default scheduler's
    /// choice first); the peer keeps the first copy to arrive.
    Redundant,
}

impl SendQueue {
    pub(crate) fn new() -> Self {
        SendQueue {
            chunks: KVec::new(),
            multi: false,
            snd_nxt: 0,
            reinject: None,
            rtx_copy: None,
            multi_from: 0,
            direct_gone: false,
            last: None,
            rtx_una: 0,
            rtx_backoff: 0,
            rtx_persist: false,
            policy: Sched::Default,
            cands: KVec::new(),
            cand_ssks: KVec::new(),
        }
    }

    pub(crate) fn is_multi(&self) -> bool {
        self.multi
    }

    /// DSN of the next byte the application queues (multi mode).
    pub(crate) fn snd_nxt(&self) -> u64 {
        self.snd_nxt
    }

    /// Drops the chunks the peer acknowledged entirely, but the last one while
    /// writes may still fill it.
    fn free_acked(&mut self, una: u64) {
        let last = self.chunks.len().saturating_sub(1);
        let n = self
            .chunks
            .iter()
            .enumerate()
            .take_while(|(i, c)| (*i < last || c.len == c.cap) && !after64(c.end(), una))
            .count();
        if n == 0 {
            return;
        }
        let mut i = 0usize;
        self.chunks.retain(|_| {
            i += 1;
            i > n
        });
    }

    /// A new empty chunk for DSN `dsn`, charged to meta socket `sk` (owned). `EAGAIN`
    /// when the protocol's memory limit refused it.
    fn new_chunk(sk: *mut bindings::sock, dsn: u64) -> Result<Chunk> {
        let mut cap: u32 = 0;
        // SAFETY: no preconditions; a null page is handled below.
        let page = unsafe { bindings::mptcp_rs_chunk_alloc(&mut cap) };
        if page.is_null() || cap == 0 {
            return Err(ENOMEM);
        }
        // SAFETY: `sk` is the owned meta socket.
        if !unsafe { bindings::mptcp_rs_meta_wmem_charge(sk, cap) } {
            // SAFETY: the page reference we were given.
            unsafe { bindings::mptcp_rs_chunk_put(page) };
            return Err(EAGAIN);
        }
        Ok(Chunk {
            sk,
            page,
            dsn,
            len: 0,
            cap,
        })
    }

    /// Copies up to `len` bytes from `msg` to the end of the queue of meta socket
    /// `sk` (owned), to which new chunks are charged; bytes copied. `EAGAIN` when
    /// the protocol's memory limit refused the first chunk (the caller waits for
    /// memory).
    fn append(
        &mut self,
        sk: *mut bindings::sock,
        msg: *mut bindings::msghdr,
        len: u32,
    ) -> Result<u32> {
        let mut done: u32 = 0;
        while done < len {
            let need_new = self.chunks.last().is_none_or(|c| c.len == c.cap);
            if need_new {
                // a failed push drops the chunk, and with it the page
                let pushed = Self::new_chunk(sk, self.snd_nxt)
                    .and_then(|chunk| self.chunks.push(chunk, GFP_KERNEL).map_err(|_| ENOMEM));
                if let Err(e) = pushed {
                    if done > 0 {
                        break;
                    }
                    return Err(e);
                }
            }
            let Some(c) = self.chunks.last_mut() else {
                break;
            };
            let want = (c.cap - c.len).min(len - done);
            // SAFETY: `c.page` has `c.cap` bytes, `[c.len, c.len + want)` is in it and
            // not yet shared with any subflow; `msg` is the caller's.
            let got = unsafe { bindings::mptcp_rs_chunk_fill(c.page, c.len, msg, want as usize) };
            let got = u32::try_from(got).unwrap_or(0).min(want);
            c.len += got;
            self.snd_nxt = self.snd_nxt.wrapping_add(u64::from(got));
            done += got;
            if got < want {
                if done == 0 {
                    return Err(EFAULT);
                }
                break;
            }
        }
        Ok(done)
    }

    /// Puts before the queue's first chunk (which starts at DSN `dsn + len`, if
    /// any) the `len` bytes subflow `ssk` holds from its sequence `seq` on: what
    /// direct mode wrote there and the peer did not acknowledge yet, which other
    /// subflows can then carry; from `rescued` instead, if not null: the clones of
    /// its skbs a reset left ([`Subflow::rescue_held`]). Charged to meta socket `sk`
    /// (owned); the subflow is locked by the caller. On failure the queue is as it
    /// was: `ENOMEM` when memory refused, `ENOENT` when the subflow's queues (or
    /// the clones) do not hold the bytes (a reset purged them).
    fn adopt_held(
        &mut self,
        sk: *mut bindings::sock,
        ssk: *mut bindings::sock,
        rescued: *mut bindings::sk_buff_head,
        seq: u32,
        dsn: u64,
        len: u32,
    ) -> Result {
        let mut err = ENOMEM;
        let mut cursor = bindings::mptcp_rs_held_cursor::default();
        let mut done: u32 = 0;
        let mut adopted: usize = 0;
        while done < len {
            let Ok(mut chunk) = Self::new_chunk(sk, dsn.wrapping_add(u64::from(done))) else {
                break;
            };
            let want = chunk.cap.min(len - done);
            // SAFETY: `chunk.page` has `chunk.cap` bytes, none shared yet; the
            // subflow stays locked (caller) across the calls with `cursor`, which
            // keeps `rescued` (null or the subflow's clones) in place.
            let got = unsafe {
                bindings::mptcp_rs_sf_copy_held(
                    ssk,
                    rescued,
                    &mut cursor,
                    seq.wrapping_add(done),
                    chunk.page,
                    0,
                    want,
                )
            };
            chunk.len = got.min(want);
            if chunk.len < want {
                err = ENOENT;
                break;
            }
            // a chunk that could not go in is dropped, and with it its page
            if self.chunks.reserve(1, GFP_KERNEL).is_err()
                || self.chunks.insert_within_capacity(adopted, chunk).is_err()
            {
                break;
            }
            adopted += 1;
            done += want;
        }
        if done < len {
            for _ in 0..adopted {
                let _ = self.chunks.remove(0);
            }
            return Err(err);
        }
        Ok(())
    }

    /// Adds DSNs `[a, b)` to the range to send again on other subflows.
    fn reinject_add(&mut self, a: u64, b: u64) {
        if !after64(b, a) {
            return;
        }
        self.reinject = Some(match self.reinject {
            Some((lo, hi)) => (
                if after64(lo, a) { a } else { lo },
                if after64(b, hi) { b } else { hi },
            ),
            None => (a, b),
        });
    }

    /// Forgets the newest `n` bytes (they could not be queued on any subflow and go
    /// back to the application).
    fn unappend(&mut self, mut n: u32) {
        while n > 0 {
            let Some(c) = self.chunks.last_mut() else {
                return;
            };
            let cut = c.len.min(n);
            c.len -= cut;
            n -= cut;
            self.snd_nxt = self.snd_nxt.wrapping_sub(u64::from(cut));
            if c.len == 0 {
                self.chunks.pop();
            }
        }
    }

    /// The bytes from DSN `from` to `to` (exclusive) that one chunk holds
    /// contiguously: page, offset and length.
    fn piece(&self, from: u64, to: u64) -> Option<(*mut bindings::page, u32, u32)> {
        let c = self
            .chunks
            .iter()
            .find(|c| !after64(c.dsn, from) && after64(c.end(), from))?;
        let off = from.wrapping_sub(c.dsn) as u32;
        let end = if after64(c.end(), to) { to } else { c.end() };
        let len = end.wrapping_sub(from) as u32;
        (len > 0).then_some((c.page, off, len))
    }
}

/// A usable subflow as the scheduler sees it.
struct Slot<'a> {
    ctx: &'a Subflow,
    ssk: *mut bindings::sock,
}

impl Slot<'_> {
    /// The slot of subflow `ssk`, one of those [`subflows`] gave.
    fn of(ssk: *mut bindings::sock) -> Option<Self> {
        // SAFETY: our subflow, live while the meta socket is owned.
        unsafe { Subflow::from_sk(ssk) }.map(|ctx| Slot { ctx, ssk })
    }
}

/// The subflows of `meta`: the first, then the joined ones. The meta socket is
/// owned (the joined ones stay while it is), or the caller reads them as TCP
/// sockets under RCU.
fn subflows(meta: &Meta) -> impl Iterator<Item = *mut bindings::sock> + '_ {
    let joins = meta.joins();
    Iterator::chain(
        core::iter::once(meta.first_ssk()),
        (0..joins.slot_count()).map(move |i| joins.ssk_at(i)),
    )
    .filter(|ssk| !ssk.is_null())
}

/// Whether a subflow in TCP state `state` sends data (established, or the peer
/// closed its side only).
fn sends_data(state: c_int) -> bool {
    state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT
}

/// A subflow's view; `usable` when it may take data now.
fn view(ssk: *mut bindings::sock) -> (bindings::mptcp_rs_sf_view, bool) {
    let mut v = bindings::mptcp_rs_sf_view::default();
    // SAFETY: `ssk` is live (the caller owns the meta socket, which keeps it).
    unsafe { bindings::mptcp_rs_sf_view(ssk, NOTSENT_LIMIT, &mut v) };
    let usable = sends_data(v.state) && !v.loss;
    (v, usable)
}

/// `Candidate::alive`: established, carries the connection's data, and its
/// retransmission timer has not fired since its last progress (nor its window
/// probes gone unanswered).
fn alive(ctx: &Subflow, v: &bindings::mptcp_rs_sf_view) -> bool {
    sends_data(v.state) && ctx.can_send() && !v.timed_out
}

/// Gathers the candidates (into `q.cands`, their subflows into `q.cand_ssks`) and
/// picks one for the next piece.
fn schedule(meta: &Meta, q: &mut SendQueue) -> Option<*mut bindings::sock> {
    schedule_avoiding(meta, q, None)
}

/// [`schedule`], with the subflows that still hold DSN `held` unacknowledged (when
/// given) taking nothing.
fn schedule_avoiding(
    meta: &Meta,
    q: &mut SendQueue,
    held: Option<u64>,
) -> Option<*mut bindings::sock> {
    q.cands.clear();
    q.cand_ssks.clear();
    // SAFETY: no preconditions.
    let now_ms = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
    for ssk in subflows(meta) {
        // SAFETY: our subflows (see `subflows`).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        let (v, usable) = view(ssk);
        if usable {
            // a subflow that recovered from a stall takes data again
            ctx.stall_over();
        }
        if usable && ctx.send_map_full() {
            // forget the extents the subflow's peer acknowledged (pushes do that too,
            // but a full map gets no push)
            // SAFETY: live subflow, its lock nested in the owned meta socket's.
            unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                ctx.forget_acked_extents();
                bindings::release_sock(ssk);
            }
        }
        // TCP's send path, and its write_space, need a struct socket to flag
        // SAFETY: a live subflow, the meta socket owned, in process context.
        let usable = usable && unsafe { bindings::mptcp_rs_graft_subflow(ssk) } == 0;
        let alive = alive(ctx, &v);
        let usable = usable
            && ctx.can_send()
            && !ctx.send_map_full()
            && !held.is_some_and(|dsn| holds_unacked(ctx, dsn));
        let c = Candidate {
            srtt_us: v.srtt_us,
            min_rtt_us: v.min_rtt_us,
            cwnd: v.cwnd,
            mss: v.mss,
            queued: v.queued,
            space: if usable { v.space } else { 0 },
            backup: ctx.is_backup(),
            usable,
            alive,
            stale: v.queued == 0 && ctx.placed_before(now_ms, PROBE_IDLE_MS),
        };
        // room for every subflow was reserved (`go_multi`)
        if q.cands.push_within_capacity(c).is_err() {
            break;
        }
        if q.cand_ssks.push_within_capacity(ssk).is_err() {
            q.cands.truncate(q.cand_ssks.len());
            break;
        }
    }
    let policy = if q.policy == Sched::RoundRobin {
        Policy::RoundRobin
    } else {
        Policy::Default
    };
    let choice = sched::pick(policy, &q.cands, q.last)?;
    q.last = Some(choice);
    q.cand_ssks.get(choice).copied()
}

/// Whether subflow `ctx` still holds DSN `dsn` unacknowledged at TCP level (its
/// TCP resends it if need be). The meta socket is owned.
fn holds_unacked(ctx: &Subflow, dsn: u64) -> bool {
    if !ctx.uses_send_map() {
        // (direct mode's bytes, before `multi_from`, are not copied by the timer)
        return false;
    }
    // SAFETY: a live subflow, its lock nested in the owned meta socket's; the send
    // map is borrowed under it only.
    unsafe {
        bindings::mptcp_rs_lock_sock(ctx.ssk());
        let held = ctx.send_map().holds_unacked(dsn, ctx.snd_una_rel());
        bindings::release_sock(ctx.ssk());
        held
    }
}

/// Room the chosen subflow has (bytes), at most [`MAX_PIECE`].
fn room(ssk: *mut bindings::sock) -> u32 {
    view(ssk).0.space.min(MAX_PIECE)
}

/// Queues DSNs `[from, to)` on subflow `slot`, as far as it takes them; returns the
/// bytes queued. The meta socket is owned.
fn push_to(q: &SendQueue, slot: &Slot<'_>, from: u64, to: u64) -> u64 {
    push_to_within(q, slot, from, to, NOTSENT_LIMIT)
}

/// [`push_to`] with the subflow's unsent bytes limited to `notsent_min` or more
/// (see `mptcp_rs_sf_limit_notsent()`).
fn push_to_within(q: &SendQueue, slot: &Slot<'_>, mut from: u64, to: u64, notsent_min: u32) -> u64 {
    let mut total: u64 = 0;
    // SAFETY: the subflow is live; its lock nests inside the meta socket's.
    unsafe { bindings::mptcp_rs_lock_sock(slot.ssk) };
    // SAFETY: the subflow is locked.
    unsafe {
        slot.ctx.use_send_map();
        bindings::mptcp_rs_sf_limit_notsent(slot.ssk, notsent_min);
    }
    // The send map is borrowed for one statement at a time: TCP reads it (the
    // segments' mappings, `established_options`) while the push below transmits,
    // so no borrow may span that call.
    // SAFETY: as above.
    unsafe { slot.ctx.forget_acked_extents() };
    while after64(to, from) {
        let Some((page, off, len)) = q.piece(from, to) else {
            break;
        };
        // SAFETY: as above.
        let rel = unsafe { slot.ctx.snd_nxt_rel() };
        // SAFETY: as above.
        let Some(how) = unsafe { slot.ctx.send_map() }.push(rel, from, len) else {
            break;
        };
        // SAFETY: the subflow is locked; `page` holds `len` bytes from `off` (the
        // queue keeps its reference; the subflow takes its own).
        let ret = unsafe {
            bindings::mptcp_rs_push_chunk(slot.ssk, page, off, len, how == Pushed::NewExtent)
        };
        let sent = u32::try_from(ret).unwrap_or(0).min(len);
        if sent < len {
            // SAFETY: as above.
            unsafe { slot.ctx.send_map() }.trim_last(len - sent);
        }
        total += u64::from(sent);
        from = from.wrapping_add(u64::from(sent));
        if sent < len {
            break;
        }
    }
    if notsent_min != NOTSENT_LIMIT {
        // the raised limit was for this push only: TCP's write_space judges by it
        // SAFETY: the subflow is locked.
        unsafe { bindings::mptcp_rs_sf_limit_notsent(slot.ssk, NOTSENT_LIMIT) };
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(slot.ssk) };
    if total > 0 {
        // SAFETY: no preconditions.
        let now_ms = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
        slot.ctx.set_placed(now_ms);
    }
    total
}

/// Switches `meta` to multi mode when a second subflow is there; true when in it.
/// The meta socket is owned.
pub(crate) fn maybe_go_multi(meta: &Meta, q: &mut SendQueue) -> bool {
    if q.multi {
        return true;
    }
    if !meta.joins().any_established() {
        return false;
    }
    go_multi(meta, q)
}

/// Switches `meta` to multi mode, with one subflow or more, unless it fell back or
/// queued its DATA_FIN already; true when in it. The meta socket is owned.
pub(crate) fn go_multi(meta: &Meta, q: &mut SendQueue) -> bool {
    if q.multi {
        return true;
    }
    if meta.is_fallback() || meta.snd_data_fin_sent() {
        return false;
    }
    let first = meta.first_ssk();
    if first.is_null() {
        return false;
    }
    // the scheduler's room for every subflow the connection may have
    if q.cands.capacity() < MAX_SUBFLOWS || q.cand_ssks.capacity() < MAX_SUBFLOWS {
        match (
            KVec::with_capacity(MAX_SUBFLOWS, GFP_KERNEL),
            KVec::with_capacity(MAX_SUBFLOWS, GFP_KERNEL),
        ) {
            (Ok(c), Ok(s)) => {
                q.cands = c;
                q.cand_ssks = s;
            }
            // no memory: the connection stays in direct mode on its first subflow
            _ => return false,
        }
    }
    // SAFETY: the first subflow is live while set; nested in the owned meta socket.
    unsafe { bindings::mptcp_rs_lock_sock(first) };
    // SAFETY: as above.
    if let Some(ctx) = unsafe { Subflow::from_sk(first) } {
        // SAFETY: the subflow is locked.
        unsafe { ctx.use_send_map() };
        q.snd_nxt = ctx.snd_dsn_next();
        // what direct mode wrote is not copied now: only if the first subflow
        // times out or leaves while it holds some of it (`adopt_direct`)
        q.multi_from = q.snd_nxt;
        if meta.snd_wnd_end() == 0 {
            // No DATA_ACK came yet (the peer's data so far went with options that
            // left no room for one, e.g. IPv6 ADD_ADDRs): the connection's window
            // is the first subflow's, from the DSN of its oldest unacknowledged
            // byte, as upstream seeds it at establishment. Unset, the window edge
            // would read as 0 and the window as closed or open by the IDSN's luck.
            let (v, _) = view(first);
            // SAFETY: the subflow is locked.
            let wnd = unsafe { bindings::mptcp_rs_tcp_snd_wnd(first) };
            meta.update_wnd(q.snd_nxt.wrapping_sub(u64::from(v.queued)), wnd);
        }
        meta.publish_snd_nxt(q.snd_nxt);
        q.multi = true;
        // SAFETY: the connection's namespace is live while it is.
        q.policy = match unsafe { crate::sysctl::scheduler(meta.net().as_ptr()) } {
            1 => Sched::RoundRobin,
            2 => Sched::Redundant,
            _ => Sched::Default,
        };
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(first) };
    if q.multi {
        meta.set_multi(q.multi_from);
        // a firing in direct mode (an MP_FAIL's deadline) is not a retransmission's
        meta.rtx_take();
    }
    q.multi
}

/// The application's `sendmsg`, the meta socket owned. In multi mode it is
/// [`sendmsg`]'s. In direct mode the bytes go straight into the first subflow
/// (`tcp_sendmsg_locked()`), which never waits for room itself (`MSG_DONTWAIT`).
/// The wait for room is ours, on the meta socket and
/// with it released, as TCP's own send waits with its socket released: meanwhile
/// readers, `ss -Mi`, SOCK_DESTROY and the subflows' events (processed at release)
/// go on. After each wait the connection is looked at again: an error or a
/// shutdown ends the send (the error, or EPIPE, as TCP's `sk_stream_error()`
/// hands them out), and a connection switched to multi mode meanwhile (another
/// thread's send) sends the rest from its send queue. Bytes sent, or an error.
pub(crate) fn sendmsg_any_mode(
    meta: &Meta,
    msg: *mut bindings::msghdr,
    len: usize,
    flags: c_int,
    timeo: &mut c_long,
) -> c_int {
    let sk = meta.sk();
    let mut copied: usize = 0;
    // what the application gets: the bytes sent, or else the error
    let partial = |copied: usize, err: c_int| {
        if copied > 0 {
            copied.min(i32::MAX as usize) as c_int
        } else {
            err
        }
    };
    loop {
        // SAFETY: live socket, owned.
        let (serr, shut) = unsafe {
            (
                bindings::mptcp_rs_sk_err(sk),
                bindings::mptcp_rs_shutdown(sk),
            )
        };
        let ssk = meta.first_ssk();
        if serr != 0 || shut & SEND_SHUTDOWN != 0 || ssk.is_null() {
            if copied > 0 {
                break;
            }
            // SAFETY: owned socket; takes its error (once), or raises SIGPIPE.
            return unsafe { bindings::sk_stream_error(sk, flags, -EPIPE) };
        }
        if copied >= len {
            break;
        }
        // SAFETY: live subflow.
        if copied > 0 && unsafe { bindings::mptcp_rs_sk_state(ssk) } == TCP_CLOSE {
            // it died meanwhile: its error is the connection's, for the next call
            // (`Meta::process_events`, when the socket is released)
            break;
        }
        // SAFETY: owned. (Multi mode's `sendmsg` keeps it across its waits; only a
        // disconnect replaces the send queue, and that ends those waits with EPIPE
        // before the queue is touched again.)
        let q = unsafe { meta.sendq() };
        if maybe_go_multi(meta, q) {
            return send_rest_multi(meta, q, msg, len, copied, flags, timeo);
        }
        let gen = meta.space_gen();
        // SAFETY: `msg` is the caller's; the subflow is live while set and its lock
        // nests inside the meta socket's. The flag is the caller's again afterwards.
        let ret = unsafe {
            let saved = (*msg).msg_flags;
            // (no SIGPIPE from the subflow: the connection may go on without it,
            // below; ours is raised when the send fails with EPIPE)
            (*msg).msg_flags = saved | (MSG_DONTWAIT | MSG_NOSIGNAL) as c_uint;
            bindings::mptcp_rs_lock_sock(ssk);
            let ret = bindings::mptcp_rs_tcp_sendmsg_locked(ssk, msg, len - copied);
            bindings::release_sock(ssk);
            (*msg).msg_flags = saved;
            ret
        };
        if ret > 0 {
            copied += ret as usize;
            continue;
        }
        if ret != -EAGAIN_ERRNO {
            // SAFETY: live subflow.
            let (state, err) = unsafe {
                (
                    bindings::mptcp_rs_sk_state(ssk),
                    bindings::mptcp_rs_sk_err(ssk),
                )
            };
            if ret < 0 && state == TCP_CLOSE && err == 0 {
                if meta.first_loss_survivable()
                    && meta.joins().any_established()
                    && go_multi(meta, q)
                {
                    // a join came up since `maybe_go_multi` looked: the connection
                    // goes on there, as `Meta::process_events` would have it (the
                    // work item sends again what the first subflow carried), and
                    // so does this send, in multi mode
                    meta.kick_any_mode();
                    return send_rest_multi(meta, q, msg, len, copied, flags, timeo);
                }
                // the first subflow died and this send took its error (TCP hands
                // it out once): the connection ends here, with that error for the
                // application's next call if this one returns bytes
                meta.first_error_taken(if copied > 0 { -ret } else { 0 });
            }
            // (EPIPE with SIGPIPE, which the subflow's call was told not to raise)
            return if copied == 0 {
                send_error(sk, flags, ret)
            } else {
                partial(copied, ret)
            };
        }
        // SAFETY: live subflow; no lock needed for the estimate.
        let pressure =
            meta.space_gen() == gen && unsafe { bindings::mptcp_rs_stream_writeable(ssk) };
        let err = if pressure {
            // room in the subflow's buffer, but memory refused: it comes back
            // without an event of ours, look again shortly (as TCP's vm_wait)
            // SAFETY: owned; the wait releases and retakes it.
            unsafe { bindings::mptcp_rs_wait_memory(sk, timeo, meta.space_gen_ptr(), gen) }
        } else {
            // SAFETY: live subflow; its write_space bumps the generation.
            unsafe { bindings::mptcp_rs_set_nospace(ssk) };
            // SAFETY: owned; the wait releases and retakes it.
            unsafe { bindings::mptcp_rs_wait_gen(sk, timeo, meta.space_gen_ptr(), gen) }
        };
        if err == -EPIPE {
            // connect(AF_UNSPEC) meanwhile: the connection sent to is gone
            return if copied > 0 {
                partial(copied, 0)
            } else {
                // SAFETY: owned socket.
                unsafe { bindings::sk_stream_error(sk, flags, -EPIPE) }
            };
        }
        if err != 0 {
            return partial(copied, err);
        }
    }
    partial(copied, 0)
}

/// The rest of a send, `copied` of `len` bytes done in direct mode, in multi mode
/// (the connection is in it): the bytes sent, or else the error. Owned.
fn send_rest_multi(
    meta: &Meta,
    q: &mut SendQueue,
    msg: *mut bindings::msghdr,
    len: usize,
    copied: usize,
    flags: c_int,
    timeo: &mut c_long,
) -> c_int {
    let ret = sendmsg(meta, q, msg, len - copied, timeo);
    if copied == 0 {
        send_error(meta.sk(), flags, ret)
    } else {
        (copied + ret.max(0) as usize).min(i32::MAX as usize) as c_int
    }
}

/// A send's error as the application gets it: EPIPE (an error or a shutdown of
/// the connection) becomes the socket's error, taken once, or EPIPE with SIGPIPE
/// unless the caller passed MSG_NOSIGNAL, as from TCP.
pub(crate) fn send_error(sk: *mut bindings::sock, flags: c_int, err: c_int) -> c_int {
    if err == -EPIPE {
        // SAFETY: the caller owns `sk`.
        unsafe { bindings::sk_stream_error(sk, flags, err) }
    } else {
        err
    }
}

/// `sendmsg` in multi mode, the meta socket owned: bytes queued, or an error.
pub(crate) fn sendmsg(
    meta: &Meta,
    q: &mut SendQueue,
    msg: *mut bindings::msghdr,
    len: usize,
    timeo: &mut c_long,
) -> c_int {
    let sk = meta.sk();
    q.free_acked(meta.snd_una());
    push_pending(meta, q);
    // nothing unacknowledged: this message starts a burst, its end goes in smaller
    // pieces (`sched::burst_piece`: for the default scheduler's split; the others
    // do not split by estimates)
    let burst = q.policy == Sched::Default && !after64(q.snd_nxt, meta.snd_una());
    // poll reported room to this writer (one piece may go beyond the limit)
    let mut polled_out = meta.take_polled_out();
    let mut copied: usize = 0;
    // looked again after flagging the subflows, since the last wait (below)
    let mut looked_again = false;
    while copied < len {
        let gen = meta.space_gen();
        let mut short_of_memory = false;
        // the peer's window, shared by the subflows, bounds what we may send
        let wnd_end = meta.snd_wnd_end();
        let wnd = if after64(wnd_end, q.snd_nxt) {
            wnd_end.wrapping_sub(q.snd_nxt).min(u64::from(MAX_PIECE)) as u32
        } else {
            0
        };
        let rest = u32::try_from(len - copied).unwrap_or(u32::MAX);
        let max = if burst {
            sched::burst_piece(u64::from(rest), MAX_PIECE)
        } else {
            MAX_PIECE
        };
        let want = rest.min(max).min(wnd);
        q.cand_ssks.clear();
        let choice = if want > 0 {
            schedule(meta, q)
        } else {
            meta.set_wnd_limited();
            if meta.snd_wnd_end() != wnd_end {
                continue; // it moved meanwhile
            }
            None
        };
        if let Some(slot) = choice.and_then(Slot::of) {
            let n = want.min(room(slot.ssk));
            if n > 0 {
                let got = match q.append(sk, msg, n) {
                    Ok(g) => g,
                    Err(e) if e == EAGAIN => {
                        short_of_memory = true;
                        0
                    }
                    Err(e) if copied == 0 => return e.to_errno(),
                    Err(_) => break,
                };
                if got > 0 {
                    // before any of it leaves: a DATA_ACK is checked against it
                    meta.publish_snd_nxt(q.snd_nxt);
                    let start = q.snd_nxt.wrapping_sub(u64::from(got));
                    let sent = push_to(q, &slot, start, q.snd_nxt).min(u64::from(got)) as u32;
                    settle_piece(meta, q, &slot, msg, start, got, sent);
                    copied += sent as usize;
                    if sent > 0 {
                        looked_again = false;
                        continue;
                    }
                }
            }
            // SAFETY: no preconditions.
            let now_ms = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
            if !short_of_memory && slot.ctx.placed_before(now_ms, PROBE_IDLE_MS) {
                // picked as stale but took nothing: not stale for a while, and the
                // others get their turn now rather than after an event that an
                // idle subflow would never send
                slot.ctx.set_placed(now_ms);
                continue;
            }
            // SAFETY: live subflow; its write_space callback will fire.
            unsafe { bindings::mptcp_rs_set_nospace(slot.ssk) };
        }
        if *timeo == 0 && copied == 0 && want > 0 && !short_of_memory && polled_out {
            // a non-blocking writer that poll let in takes a piece, beyond the
            // unsent limit
            polled_out = false;
            let got = overflow_piece(meta, q, msg, want);
            if got > 0 {
                copied += got as usize;
                continue;
            }
        }
        // no subflow took anything: wait for room (or the window: then the timer
        // probes it if no update comes)
        arm_rtx(meta, q);
        for &ssk in q.cand_ssks.iter() {
            // SAFETY: live subflows; makes their write_space callback fire.
            unsafe { bindings::mptcp_rs_set_nospace(ssk) };
        }
        // An ACK that came between the look above and the flag ran no write_space,
        // and nothing would wake us for its room: look once more now that the flag
        // is set (TCP's sk_stream_wait_memory() sets it before it tests).
        // A full send map counts: `schedule` forgets what was acknowledged.
        let may_take = |ssk: *mut bindings::sock| {
            room(ssk) > 0
                // SAFETY: our subflows (see `subflows`).
                || unsafe { Subflow::from_sk(ssk) }.is_some_and(|c| c.send_map_full())
        };
        if !looked_again && !short_of_memory && q.cand_ssks.iter().any(|&ssk| may_take(ssk)) {
            looked_again = true;
            continue;
        }
        looked_again = false;
        let err = if short_of_memory {
            // memory comes back without an event of ours: look again shortly, as
            // TCP's sk_stream_wait_memory() does
            // SAFETY: the meta socket is owned; the wait releases and retakes it.
            unsafe { bindings::mptcp_rs_wait_memory(sk, timeo, meta.space_gen_ptr(), gen) }
        } else {
            // SAFETY: as above.
            unsafe { bindings::mptcp_rs_wait_gen(sk, timeo, meta.space_gen_ptr(), gen) }
        };
        // SAFETY: live socket.
        let (serr, shut) = unsafe {
            (
                bindings::mptcp_rs_sk_err(sk),
                bindings::mptcp_rs_shutdown(sk),
            )
        };
        if err == -EPIPE {
            // connect(AF_UNSPEC) meanwhile: the send queue is a new one
            return if copied > 0 { copied as c_int } else { -EPIPE };
        }
        if serr != 0 || shut & SEND_SHUTDOWN != 0 {
            arm_rtx(meta, q);
            return if copied > 0 { copied as c_int } else { -EPIPE };
        }
        if err != 0 {
            // what was sent, or a reinjection left pending, still needs its timer
            arm_rtx(meta, q);
            return if copied > 0 { copied as c_int } else { err };
        }
        q.free_acked(meta.snd_una());
        push_pending(meta, q);
    }
    arm_rtx(meta, q);
    copied as c_int
}

/// Places a piece of at most `want` bytes of `msg` on a subflow beyond the unsent
/// limit that `schedule` keeps to (`mptcp_rs_sf_limit_notsent()`), for a
/// non-blocking `sendmsg` that `poll` let in and that found no subflow with room
/// under it: bytes placed (0: no subflow had room in its send buffer, or no
/// memory).
///
/// `poll` reports room when some subflow is writeable under that limit, but the
/// limit follows the congestion window, and a subflow stops being usable when a
/// loss probe or retransmission timer fires: both can change between the `poll`
/// and the `write()`, which then found no room and returned EAGAIN after POLLOUT
/// (`mptcp_join.sh -l` counts that a failure). So can the first write after a
/// join, which leaves direct mode, where `poll` judged the first subflow's room
/// alone. Upstream does not see it: its writers fill the connection's own send
/// buffer, whose room only the writer's bytes take. The piece goes to a subflow that is established and alive, one
/// without a suspected loss first, then the one with the fewest unsent bytes;
/// backups only while no regular subflow is usable or alive (the rule of
/// `sched::pick`). What a subflow that then dies holds is sent again on the
/// others, as always. The meta socket is owned.
fn overflow_piece(meta: &Meta, q: &mut SendQueue, msg: *mut bindings::msghdr, want: u32) -> u32 {
    let mut pick = OverflowPick::new();
    for (i, ssk) in subflows(meta).enumerate() {
        // SAFETY: our subflows (see `subflows`).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        let (v, usable) = view(ssk);
        // as `schedule` narrows it
        let usable = usable && ctx.can_send() && !ctx.send_map_full();
        let alive = alive(ctx, &v);
        // SAFETY: a live subflow, the meta socket owned, in process context.
        let takes = (usable || alive)
            && !ctx.send_map_full()
            && unsafe { bindings::mptcp_rs_graft_subflow(ssk) } == 0;
        pick.offer(
            i,
            &OverflowCandidate {
                usable,
                alive,
                backup: ctx.is_backup(),
                buf_space: if takes { v.buf_space } else { 0 },
                unsent: v.notsent,
            },
        );
    }
    let Some(ssk) = pick.choice().and_then(|i| subflows(meta).nth(i)) else {
        return 0;
    };
    let (v, _) = view(ssk);
    let (room, notsent) = (v.buf_space, v.notsent);
    let Some(slot) = Slot::of(ssk) else {
        return 0;
    };
    let n = want.min(room).min(MAX_PIECE);
    let got = match q.append(meta.sk(), msg, n) {
        Ok(g) => g,
        Err(_) => return 0,
    };
    if got == 0 {
        return 0;
    }
    // before any of it leaves: a DATA_ACK is checked against it
    meta.publish_snd_nxt(q.snd_nxt);
    let start = q.snd_nxt.wrapping_sub(u64::from(got));
    let limit = notsent.saturating_add(got);
    let sent = push_to_within(q, &slot, start, q.snd_nxt, limit).min(u64::from(got)) as u32;
    settle_piece(meta, q, &slot, msg, start, got, sent);
    sent
}

/// After `got` bytes of `msg` were appended from DSN `start` and subflow `slot` took
/// `sent` of them: hands back what it did not take, before any copy of it goes on
/// another subflow (the next bytes reuse those DSNs), then makes the redundant
/// scheduler's copies and publishes the send queue's next DSN. The meta socket is
/// owned.
fn settle_piece(
    meta: &Meta,
    q: &mut SendQueue,
    slot: &Slot<'_>,
    msg: *mut bindings::msghdr,
    start: u64,
    got: u32,
    sent: u32,
) {
    if sent < got {
        q.unappend(got - sent);
        // SAFETY: `msg` is the caller's; its iterator advanced by `got`.
        unsafe { bindings::mptcp_rs_msg_revert(msg, (got - sent) as usize) };
    }
    if q.policy == Sched::Redundant && sent > 0 {
        slot.ctx.set_red_nxt(start.wrapping_add(u64::from(sent)));
        redundant_copies(meta, q);
    }
    meta.publish_snd_nxt(q.snd_nxt);
}

/// Longest and shortest retransmission timeout of the MPTCP-level timer (ms).
const RTX_MIN_MS: u32 = 300;
const RTX_MAX_MS: u32 = 16_000;

/// Whether a writer waits for the peer's window with nothing of ours in flight
/// (multi mode): no ACK will come by itself if the peer's window update was lost,
/// and the timer sends window probes instead ([`send_window_probe`]).
fn wnd_probe_due(meta: &Meta, q: &SendQueue) -> bool {
    q.multi
        && meta.wnd_limited()
        && !after64(meta.snd_wnd_end(), q.snd_nxt)
        && !after64(q.snd_nxt, meta.snd_una())
        && !meta.data_fin_unacked()
        && !meta.snd_data_fin_sent()
}

/// Arms the MPTCP-level retransmission timer if data awaits its DATA_ACK, or a
/// writer waits for a window that closed with everything acknowledged (then it is
/// the persist timer): four times the largest smoothed RTT of the subflows (at
/// least [`RTX_MIN_MS`]), doubled per expiry without progress.
fn arm_rtx(meta: &Meta, q: &mut SendQueue) {
    let in_flight = after64(q.snd_nxt, meta.snd_una()) || meta.data_fin_unacked();
    if !(in_flight || wnd_probe_due(meta, q)) || meta.is_fallback() {
        return;
    }
    if q.rtx_persist && in_flight {
        // armed to probe (maybe backed off far), and the window opened: what went
        // out since gets a timeout of its own, from now, and an expiry of the probe
        // timer that the work item has yet to see is forgotten (else it would take
        // it for this data's and send it again at once)
        let _ = meta.rtx_take();
        q.rtx_backoff = 0;
    } else if meta.rtx_pending() {
        return;
    }
    let srtt_ms = subflows(meta)
        .map(|ssk| view(ssk).0.srtt_us / 1000)
        .max()
        .unwrap_or(0);
    let base = srtt_ms.saturating_mul(4).max(RTX_MIN_MS);
    let ms = base
        .checked_shl(q.rtx_backoff)
        .unwrap_or(RTX_MAX_MS)
        .min(RTX_MAX_MS);
    q.rtx_una = meta.snd_una();
    q.rtx_persist = !in_flight;
    meta.rtx_arm(ms);
}

/// The retransmission timer fired: without DATA_ACK progress since it was armed,
/// the oldest unacknowledged piece goes again on a subflow that does not hold it
/// (the peer may have dropped it after its subflow acknowledged it, or the
/// subflows carrying it stall): [`rtx_resend`], from [`push_pending`].
fn rtx_expired(meta: &Meta, q: &mut SendQueue) {
    let una = meta.snd_una();
    if wnd_probe_due(meta, q) {
        // the window stayed closed for a timeout: ask the peer for it again
        send_window_probe(meta);
        q.rtx_backoff = (q.rtx_backoff + 1).min(6);
        return;
    }
    if una == q.rtx_una && una == q.snd_nxt && meta.data_fin_on_acks() && meta.data_fin_unacked() {
        // only the DATA_FIN awaits its DATA_ACK: ACKs carry it again
        ack_all(meta);
        q.rtx_backoff = (q.rtx_backoff + 1).min(6);
        return;
    }
    if una != q.rtx_una || !after64(q.snd_nxt, una) {
        q.rtx_backoff = 0;
        return;
    }
    let end = una.wrapping_add(u64::from(MAX_PIECE));
    let end = if after64(end, q.snd_nxt) {
        q.snd_nxt
    } else {
        end
    };
    q.rtx_copy = Some((una, end));
    q.rtx_backoff = (q.rtx_backoff + 1).min(6);
}

/// The retransmission timer's copy (`q.rtx_copy`), on subflows that do not hold
/// those bytes unacknowledged: one that does resends them at TCP level, and a copy
/// queued behind its own could only arrive later (upstream resends only on a
/// subflow with empty queues). When no other subflow has room, the rest waits for
/// the next push (write_space runs the work item if one of them carries data);
/// what the DATA_ACK passes meanwhile is not copied. The meta socket is owned.
fn rtx_resend(meta: &Meta, q: &mut SendQueue) {
    while let Some((from, to)) = q.rtx_copy {
        let Some(from) = still_to_send(meta, q, from, to) else {
            q.rtx_copy = None;
            return;
        };
        let Some(slot) = schedule_avoiding(meta, q, Some(from)).and_then(Slot::of) else {
            if other_sender(meta, from) {
                need_push(meta);
            }
            return;
        };
        let Some(next) = resend_piece(meta, q, &slot, from, to) else {
            return;
        };
        q.rtx_copy = after64(to, next).then_some((next, to));
    }
}

/// Where sending `[from, to)` again starts, if anything of it is left to send: at
/// the DATA_ACK if later (what the peer has needs no copy), and not before
/// `multi_from` (what is not in the queue only its subflow delivers).
fn still_to_send(meta: &Meta, q: &SendQueue, from: u64, to: u64) -> Option<u64> {
    let una = meta.snd_una();
    let from = if after64(una, from) { una } else { from };
    let from = if after64(q.multi_from, from) {
        q.multi_from
    } else {
        from
    };
    after64(to, from).then_some(from)
}

/// Sends one piece of `[from, to)` again on `slot`, as much as it takes now
/// (`MPTCPRetrans`): the DSN after it, or `None` when it took nothing (the next
/// write_space runs the work item). The meta socket is owned.
fn resend_piece(meta: &Meta, q: &SendQueue, slot: &Slot<'_>, from: u64, to: u64) -> Option<u64> {
    let piece = to.wrapping_sub(from).min(u64::from(MAX_PIECE)) as u32;
    let end = from.wrapping_add(u64::from(piece.min(room(slot.ssk))));
    let sent = push_to(q, slot, from, end);
    if sent == 0 {
        need_push(meta);
        return None;
    }
    mib::inc(meta.net(), Mib::MPTCPRetrans);
    Some(from.wrapping_add(sent))
}

/// Whether a subflow that carries data (full or not) does not hold DSN `dsn`
/// unacknowledged: the retransmission timer's copy waits for its room. (When every
/// such subflow holds it, their TCP delivers it, and the copy waits for the timer
/// or the next write instead of a work item per ACK.) The meta socket is owned.
fn other_sender(meta: &Meta, dsn: u64) -> bool {
    subflows(meta).any(|ssk| {
        // SAFETY: our subflows (see `subflows`).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            return false;
        };
        let (v, usable) = view(ssk);
        usable && alive(ctx, &v) && !holds_unacked(ctx, dsn)
    })
}

/// A window probe (upstream's zero-window probe): one byte mapped to DSN
/// `snd_una - 1`, which the peer has, on a subflow that carries data. The peer's
/// TCP acknowledges it, with the connection's DATA_ACK and window, and its MPTCP
/// level drops it as old; if the subflow's own window is closed too, TCP's persist
/// timer probes for it. Counted as `WinProbe`. The meta socket is owned.
fn send_window_probe(meta: &Meta) {
    let dsn = meta.snd_una().wrapping_sub(1);
    let mut pick: Option<(*mut bindings::sock, bool)> = None;
    for ssk in subflows(meta) {
        // SAFETY: our subflows (see `subflows`).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        let (v, usable) = view(ssk);
        if !usable || !ctx.can_send() || !alive(ctx, &v) {
            continue;
        }
        if v.notsent > 0 {
            // it sends, or TCP's persist timer probes its window (as upstream,
            // which probes only with nothing queued): an ACK comes anyway, and
            // probes would only pile up behind a closed subflow window
            return;
        }
        // a regular subflow before a backup
        let better = match pick {
            None => true,
            Some((_, backup)) => backup && !ctx.is_backup(),
        };
        if better {
            pick = Some((ssk, ctx.is_backup()));
        }
    }
    let Some((ssk, _)) = pick else {
        return;
    };
    // SAFETY: our subflow, live while the meta socket is owned.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    // SAFETY: a live subflow, the meta socket owned, in process context.
    if unsafe { bindings::mptcp_rs_graft_subflow(ssk) } != 0 {
        return;
    }
    let mut sent = 0;
    // SAFETY: the subflow is live; its lock nests inside the meta socket's. The
    // send map is borrowed for one statement at a time (see `push_to_within`).
    unsafe {
        bindings::mptcp_rs_lock_sock(ssk);
        ctx.use_send_map();
        ctx.forget_acked_extents();
        let rel = ctx.snd_nxt_rel();
        if ctx.send_map().push(rel, dsn, 1).is_some() {
            sent = bindings::mptcp_rs_push_probe(ssk);
            if sent < 1 {
                ctx.send_map().trim_last(1);
            }
        }
        bindings::release_sock(ssk);
    }
    if sent > 0 {
        crate::mib::inc(meta.net(), crate::mib::Mib::WinProbe);
    }
}

/// `redundant`: every usable subflow gets its copy of what was sent, from where its
/// copy stopped (or the DATA_ACK, if later: what the peer has needs no copy), as far
/// as it takes it now; the rest follows when it has room again (write_space runs
/// the work item). The meta socket is owned.
fn redundant_copies(meta: &Meta, q: &mut SendQueue) {
    if q.policy != Sched::Redundant {
        return;
    }
    let una = meta.snd_una();
    for ssk in subflows(meta) {
        // SAFETY: our subflows (see `subflows`).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        let mut from = ctx.red_nxt();
        if from == 0 || after64(una, from) {
            from = una;
        }
        if !after64(q.snd_nxt, from) {
            continue;
        }
        if !ctx.can_send() || !view(ssk).1 {
            // in loss recovery or a loss probe: its copies follow once it is out
            // (its ACKs then free room; write_space runs the work item)
            if ctx.can_send() {
                need_push(meta);
            }
            continue;
        }
        // SAFETY: as above; TCP flags (and may wait on) the subflow's struct socket.
        if unsafe { bindings::mptcp_rs_graft_subflow(ssk) } != 0 {
            continue;
        }
        let room = u64::from(room(ssk));
        let end = from.wrapping_add(room.min(q.snd_nxt.wrapping_sub(from)));
        let sent = if end == from {
            0
        } else {
            push_to(q, &Slot { ctx, ssk }, from, end)
        };
        ctx.set_red_nxt(from.wrapping_add(sent));
        if after64(q.snd_nxt, from.wrapping_add(sent)) {
            // the rest once it has room
            need_push(meta);
        }
    }
}

/// The work item has more to send once a subflow has room: the next write_space of
/// any subflow (each is flagged `SOCK_NOSPACE`, so TCP calls it on the ACK that
/// frees room, or ends a loss recovery) runs it.
fn need_push(meta: &Meta) {
    meta.set_need_push();
    // (a full map: write_space forgets what the ACK covered)
    want_space(meta);
}

/// Queues again what stalled or dead subflows carried (the meta socket owned).
fn push_pending(meta: &Meta, q: &mut SendQueue) {
    share_window(meta);
    redundant_copies(meta, q);
    find_stalls(meta, q);
    rtx_resend(meta, q);
    while let Some((from, to)) = q.reinject {
        let Some(from) = still_to_send(meta, q, from, to) else {
            q.reinject = None;
            break;
        };
        let Some(slot) = schedule(meta, q).and_then(Slot::of) else {
            need_push(meta);
            return;
        };
        let Some(next) = resend_piece(meta, q, &slot, from, to) else {
            return;
        };
        q.reinject = after64(to, next).then_some((next, to));
    }
    ensure_data_fin(meta, q);
}

/// Marks for reinjection what subflows that died or stalled carried beyond the
/// DATA_ACK (once per stall), when another subflow is established to carry it.
fn find_stalls(meta: &Meta, q: &mut SendQueue) {
    for ssk in subflows(meta) {
        // SAFETY: our subflows.
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        let (v, usable) = view(ssk);
        if usable || !ctx.uses_send_map() {
            continue;
        }
        if v.state != TCP_CLOSE && !v.loss {
            // closing normally (FIN): what it carries still arrives
            continue;
        }
        if ssk == meta.first_ssk()
            && !ctx.rescued().is_null()
            && (q.direct_gone || !after64(q.multi_from, meta.snd_una()))
        {
            // what a reset left of it is of no use any more
            // SAFETY: live subflow, nested in the owned meta socket.
            unsafe { bindings::mptcp_rs_lock_sock(ssk) };
            // SAFETY: locked above; nothing here points into the clones.
            unsafe { ctx.drop_rescued() };
            // SAFETY: locked above.
            unsafe { bindings::release_sock(ssk) };
        }
        // What direct mode wrote only once the first subflow timed out (or
        // closed), and for another subflow that is alive: a loss probe alone is
        // routine, and the copy may be megabytes.
        let adopt = ssk == meta.first_ssk()
            && !q.direct_gone
            && after64(q.multi_from, meta.snd_una())
            && (v.state == TCP_CLOSE || v.timed_out)
            && another_alive(meta, ssk);
        if (ctx.stall_handled() && !adopt) || !another_established(meta, ssk) {
            // (with no other subflow, TCP resends it on this one; looked at again
            // when a subflow is established: its event runs the work item)
            continue;
        }
        // SAFETY: live subflow, nested in the owned meta socket.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        if adopt {
            // SAFETY: locked above.
            unsafe { adopt_direct(meta, q, ctx) };
        }
        if !ctx.stall_handled() {
            // SAFETY: locked above.
            unsafe { mark_unacked(meta, q, ctx) };
        }
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
    }
}

/// Whether a subflow other than `ssk` is established. The meta socket is owned.
fn another_established(meta: &Meta, ssk: *mut bindings::sock) -> bool {
    subflows(meta).any(|other| other != ssk && sends_data(view(other).0.state))
}

/// Adds what subflow `ctx` carried beyond the DATA_ACK to the range to queue again,
/// and counts its stall as handled (it no longer holds anything only it carries).
///
/// # Safety
///
/// The meta socket is owned and `ctx`'s subflow locked by the caller.
unsafe fn mark_unacked(meta: &Meta, q: &mut SendQueue, ctx: &Subflow) {
    let una = meta.snd_una();
    // SAFETY: the subflow is locked (caller).
    let map = unsafe { ctx.send_map() };
    map.unacked_ranges(una, |a, b| q.reinject_add(a, b));
    ctx.stall_noted();
}

/// What direct mode wrote is not in the send queue (it went straight into the
/// first subflow): if `ctx` is the first subflow and still holds some of it that
/// the peer did not acknowledge, that is copied to the front of the queue now and
/// marked to go again, so that the other subflows carry it (`multi_from` moves
/// back to it). If memory refuses, the next stall looked at tries again. What a
/// reset left of the subflow ([`Subflow::rescue_held`]) is the source when there,
/// and is freed once the copy is done or not needed.
///
/// # Safety
///
/// The meta socket is owned and `ctx`'s subflow locked by the caller.
unsafe fn adopt_direct(meta: &Meta, q: &mut SendQueue, ctx: &Subflow) {
    // SAFETY: as promised by the caller.
    let retry = unsafe { adopt_direct_from(meta, q, ctx) };
    if !retry && !ctx.rescued().is_null() {
        // SAFETY: locked (caller); the copy is over.
        unsafe { ctx.drop_rescued() };
    }
}

/// [`adopt_direct`]'s copy; true when memory refused it (to try again).
///
/// # Safety
///
/// As [`adopt_direct`].
unsafe fn adopt_direct_from(meta: &Meta, q: &mut SendQueue, ctx: &Subflow) -> bool {
    let ssk = ctx.ssk();
    if ssk != meta.first_ssk() || q.direct_gone {
        return false;
    }
    // one reading: a DATA_ACK may move it meanwhile (softirq, another subflow)
    let una = meta.snd_una();
    // SAFETY: locked (caller).
    let (una_seq, una_rel) = unsafe { (bindings::mptcp_rs_tcp_snd_una(ssk), ctx.snd_una_rel()) };
    // SAFETY: as above.
    let Some(at_una) = unsafe { ctx.send_map() }.lookup(una_rel) else {
        return false;
    };
    // its oldest unacknowledged byte, or the DATA_ACK if later (within the bytes
    // direct mode wrote, whose DSNs follow its sequence numbers)
    let (from, seq) = if after64(una, at_una.dsn) {
        let skip = una.wrapping_sub(at_una.dsn);
        (una, una_seq.wrapping_add(skip as u32))
    } else {
        (at_una.dsn, una_seq)
    };
    if !after64(q.multi_from, from) {
        return false;
    }
    let Ok(len) = u32::try_from(q.multi_from.wrapping_sub(from)) else {
        return false;
    };
    // a reset purged its queues: what it held then, if kept
    let rescued = ctx.rescued();
    match q.adopt_held(meta.sk(), ssk, rescued, seq, from, len) {
        Ok(()) => {
            q.reinject_add(from, q.multi_from);
            q.multi_from = from;
            // the send queue holds everything the first subflow carries now
            meta.set_multi(from);
            false
        }
        Err(e) if e == ENOENT => {
            q.direct_gone = true;
            // SAFETY: live subflow (locked).
            if unsafe { bindings::mptcp_rs_sk_state(ssk) } == TCP_CLOSE {
                // its queues were purged (a reset kept nothing: memory, or a
                // local abort) while it held bytes only it had: the stream
                // cannot be completed, and ends rather than wait forever
                meta.direct_bytes_lost();
            }
            false
        }
        // memory: the next stall looked at tries again
        Err(_) => true,
    }
}

/// Subflow `ctx` leaves the connection while the others carry on (the path manager
/// removes it, or the peer closed it): what it carried beyond the DATA_ACK goes
/// again on the others, from the work item.
///
/// # Safety
///
/// The meta socket is owned and `ctx`'s subflow locked by the caller.
pub(crate) unsafe fn leaving(meta: &Meta, ctx: &Subflow) {
    // SAFETY: owned (caller).
    let q = unsafe { meta.sendq() };
    if !q.multi || !ctx.uses_send_map() {
        return;
    }
    // SAFETY: as promised by the caller.
    unsafe { adopt_direct(meta, q, ctx) };
    if !ctx.stall_handled() {
        // SAFETY: as promised by the caller.
        unsafe { mark_unacked(meta, q, ctx) };
    }
    meta.kick();
}

/// Our DATA_FIN goes on pure ACKs of every subflow (RFC 8684 3.3.3: a DATA_FIN
/// without data takes no subflow sequence space), once everything before it is on
/// some subflow, until the peer acknowledges it. The subflows keep their write side
/// meanwhile: what one of them loses can still go again on another, which a subflow
/// FIN would prevent. They are closed when the connection is (after close()).
fn ensure_data_fin(meta: &Meta, q: &mut SendQueue) {
    if !meta.data_fin_unacked() || q.reinject.is_some() || meta.data_fin_on_acks() {
        return;
    }
    meta.set_data_fin_on_acks();
    ack_all(meta);
}

/// Sends a pure ACK on every subflow that still sends ACKs: our DATA_FIN, or the
/// DATA_ACK of the peer's, rides on it. The meta socket is owned, process context.
pub(crate) fn ack_all(meta: &Meta) {
    for ssk in subflows(meta) {
        if !acks_in(view(ssk).0.state) {
            continue;
        }
        // SAFETY: live subflow, its lock nested in the owned meta socket's.
        unsafe {
            bindings::mptcp_rs_lock_sock(ssk);
            bindings::mptcp_rs_tcp_send_ack(ssk);
            bindings::release_sock(ssk);
        }
    }
}

/// Queues our DATA_FIN after everything sent (multi mode, meta socket owned).
pub(crate) fn send_data_fin(meta: &Meta, q: &mut SendQueue) {
    meta.mark_data_fin(q.snd_nxt);
    push_pending(meta, q);
    // the ACKs that carry it may be lost: the timer sends them again
    arm_rtx(meta, q);
}

/// The meta socket's work item: reinjection and deferred DATA_FIN, with the meta
/// socket owned. True when the connection lingered after close() and is over now
/// (the shim then calls `linger_done`).
pub(crate) extern "C" fn work(sk: *mut bindings::sock) -> bool {
    // SAFETY: the work item runs for a live meta socket, owned (see the shim).
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return false;
    };
    let lingering = meta.lingering();
    // SAFETY: live.
    if !lingering && unsafe { bindings::mptcp_rs_sock_dead(sk) } {
        return false;
    }
    if lingering {
        // what arrived while the socket was owned waits on the subflows
        meta.orphan_pull();
    }
    meta.fastclose_joins_if_asked();
    crate::subflow::mp_fail_check(meta);
    // SAFETY: owned.
    let q = unsafe { meta.sendq() };
    let multi = q.multi || (first_stalled(meta) && maybe_go_multi(meta, q));
    if !multi {
        // (a firing meanwhile was for the above: `go_multi` forgets it)
        return false;
    }
    q.free_acked(meta.snd_una());
    if meta.rtx_take() {
        rtx_expired(meta, q);
    }
    push_pending(meta, q);
    arm_rtx(meta, q);
    if !lingering {
        return false;
    }
    match meta.linger_over(any_alive(meta)) {
        Ok(()) => true,
        Err(left_ms) => {
            let left_ms = left_ms.clamp(1, u64::from(RTX_MAX_MS)) as u32;
            if meta.rtx_pending() {
                // a retransmission timer backed off past `close_timeout` must not
                // keep the connection beyond it
                meta.rtx_arm_within(left_ms);
            } else {
                // only the DATA_FINs are outstanding: look again within a second
                meta.rtx_arm(left_ms.min(1000));
            }
            false
        }
    }
}

/// Whether the first subflow, established, timed out (its retransmission timer
/// fired, or its window probes go unanswered), the connection being open: in
/// direct mode the work item then turns to multi mode when a joined subflow is
/// established, and what it holds goes again on the others, as nothing else would
/// send it while no writer comes. Or it closed, and the connection can go on
/// without it (`Meta::first_loss_survivable`: a reset left what it held). The meta
/// socket is owned.
fn first_stalled(meta: &Meta) -> bool {
    let first = meta.first_ssk();
    if first.is_null() || meta.state() == TCP_CLOSE {
        return false;
    }
    let (v, _) = view(first);
    (sends_data(v.state) && v.timed_out) || (v.state == TCP_CLOSE && meta.first_loss_survivable())
}

/// Whether some subflow is not closed. The meta socket is owned.
fn any_alive(meta: &Meta) -> bool {
    subflows(meta).any(|ssk| view(ssk).0.state != TCP_CLOSE)
}

/// A DATA_ACK arrived on subflow `ssk`: run the work item (at most every 10 ms) if
/// another subflow looks stalled (its loss probe or retransmission timer fired;
/// looked at when `ssk` carries data, so it works), which sends again what that
/// one carries; or if the peer's window moved (`wnd_moved`, multi mode) and
/// another subflow waits on its own window (the one its peer last announced on
/// it: its probes back off, and on a dead path nothing else moves it), which gives
/// it the connection's window ([`share_window`]). One pass over the subflows.
/// Softirq or process context, lockless.
pub(crate) fn check_siblings(
    meta: &Meta,
    ssk: *mut bindings::sock,
    carries: bool,
    wnd_moved: bool,
) {
    let wnd_moved = wnd_moved && meta.is_multi();
    if !carries && !wnd_moved {
        return;
    }
    let _rcu = kernel::sync::rcu::read_lock();
    let needs_work = |other: *mut bindings::sock| {
        // SAFETY: TCP sockets under RCU (see `Joins::readable`): word reads only.
        (carries && unsafe { bindings::mptcp_rs_sf_suspect(other) })
            // SAFETY: as above.
            || (wnd_moved && other != ssk && unsafe { bindings::mptcp_rs_sf_wnd_blocked(other) })
    };
    if subflows(meta).any(needs_work) {
        meta.kick_rate_limited();
    }
}

/// RFC 8684 3.3.5: the subflows share the connection's receive window. TCP sends
/// on a subflow within the window its peer announced on that subflow, which for a
/// subflow that got no ACK for a while (the peer's reader was slow, or its path
/// died) is older than the connection's. A subflow holding unsent data behind such
/// a window gets the connection's: the edge moves to where the connection's
/// window ends, in its sequence space (from the DSN its first unsent byte
/// carries), and it sends now (`mptcp_rs_sf_share_wnd()`). Counted as
/// `SndWndShared`. The meta socket is owned.
fn share_window(meta: &Meta) {
    let wnd_end = meta.snd_wnd_end();
    for ssk in subflows(meta) {
        // SAFETY: live subflows (the meta socket is owned); word reads.
        if !unsafe { bindings::mptcp_rs_sf_wnd_blocked(ssk) } {
            continue;
        }
        // SAFETY: our subflows.
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        if !ctx.uses_send_map() {
            continue;
        }
        // SAFETY: live subflow, its lock nested in the owned meta socket's.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        // SAFETY: locked above.
        let nxt = unsafe { bindings::mptcp_rs_tcp_snd_nxt(ssk) };
        // SAFETY: locked above.
        let first_unsent = unsafe { ctx.send_map() }.lookup(ctx.rel_seq(nxt));
        if let Some(l) = first_unsent.filter(|l| after64(wnd_end, l.dsn)) {
            // a window is at most 1 GiB (scale 14); the rest is an edge far off
            let room = wnd_end.wrapping_sub(l.dsn).min(1 << 30) as u32;
            // SAFETY: locked above.
            if unsafe { bindings::mptcp_rs_sf_share_wnd(ssk, nxt.wrapping_add(room)) } {
                mib::inc(meta.net(), Mib::SndWndShared);
            }
        }
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
    }
}

/// Whether a subflow other than `ssk` is established and has not timed out (a
/// backup too). Lockless, softirq or process context.
pub(crate) fn another_alive(meta: &Meta, ssk: *mut bindings::sock) -> bool {
    let _rcu = kernel::sync::rcu::read_lock();
    subflows(meta).any(|other| {
        if other == ssk {
            return false;
        }
        // SAFETY: a TCP socket under RCU (see `Joins::readable`).
        let Some(ctx) = (unsafe { Subflow::from_sk(other) }) else {
            return false;
        };
        let (v, _) = view(other);
        alive(ctx, &v)
    })
}

/// Whether `sendmsg` would take data now: the peer's window is open and some
/// subflow takes data, a backup only while no regular subflow is usable or alive
/// (the rule of `sched::pick`; else `poll` reported room that `sendmsg` refused,
/// and a non-blocking writer spun). Lockless, for `poll`. When a regular subflow
/// times out, its retransmission kicks the work item, which moves what it held to
/// a backup; the backup's ACKs then run write_space.
pub(crate) fn any_writeable(meta: &Meta) -> bool {
    if !meta.wnd_open() {
        // (now flagged `WND_LIMITED`) the work item arms the timer that probes the
        // window if nothing else would wake this writer (`arm_rtx`); once armed,
        // no more kicks (not rate limited: a kick in the shared slot just before
        // would take this one's place, and the timer would stay unarmed)
        if !meta.rtx_pending() {
            meta.kick();
        }
        return false;
    }
    let _rcu = kernel::sync::rcu::read_lock();
    let (mut regular, mut regular_alive, mut backup) = (false, false, false);
    for ssk in subflows(meta) {
        // SAFETY: a TCP socket under RCU (see `Joins::readable`).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        let (v, usable) = view(ssk);
        // as `schedule` judges its candidates
        let usable = usable && ctx.can_send() && !ctx.send_map_full();
        let writeable = usable && v.writeable;
        if ctx.is_backup() {
            backup |= writeable;
        } else {
            regular |= writeable;
            regular_alive |= usable || alive(ctx, &v);
        }
    }
    regular || (backup && !regular_alive)
}

/// Clears `SO_LINGER` on every subflow before they are released from a work item.
/// The meta socket is owned.
pub(crate) fn no_linger(meta: &Meta) {
    for ssk in subflows(meta) {
        // SAFETY: live subflows (the meta socket is owned); a flag bit.
        unsafe { bindings::mptcp_rs_sf_no_linger(ssk) };
    }
}

/// Resets the subflows that still hold data of a connection over both ways (our
/// DATA_FIN acknowledged, the peer's received and its DATA_ACK sent) and are not
/// about to deliver it (`mptcp_rs_sf_holds_stale_data()`): the peer has every byte
/// at the connection level, so what they hold are copies, and their FIN would wait
/// behind them. On a path that died (a failover) that is minutes of TCP's orphan
/// retries, the subflow, and with it this module, kept all along. The meta socket
/// is owned, in process context.
pub(crate) fn reset_stale(meta: &Meta) {
    for ssk in subflows(meta) {
        // SAFETY: live subflows (the meta socket is owned); their lock nests in the
        // meta socket's.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        // SAFETY: locked above.
        if unsafe { bindings::mptcp_rs_sf_holds_stale_data(ssk) } {
            // SAFETY: our subflow (the meta socket is owned).
            if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
                // SAFETY: locked above, the meta spinlock not held.
                unsafe { ctx.reset() };
            }
        }
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
    }
}

/// Makes the write_space callbacks of every subflow wake the meta socket; true if
/// a subflow's send map is full. Lockless.
fn want_space(meta: &Meta) -> bool {
    let mut full = false;
    let _rcu = kernel::sync::rcu::read_lock();
    for ssk in subflows(meta) {
        // SAFETY: a TCP socket under RCU (see `Joins::readable`).
        unsafe { bindings::mptcp_rs_set_nospace(ssk) };
        // SAFETY: as above.
        full |= unsafe { Subflow::from_sk(ssk) }.is_some_and(|c| c.send_map_full());
    }
    full
}

/// [`want_space`] for `poll`, which also forgets what the peers acknowledged in full
/// send maps: write_space does that too (`subflow.rs`), but ACKs that came before
/// the flag ran none, and a writer that filled every map would otherwise wait for
/// an ACK that may never come. Process context, the meta socket not owned by the
/// caller: takes its lock and the subflows' when a map is full.
pub(crate) fn poll_want_space(meta: &Meta) {
    if !want_space(meta) {
        return;
    }
    // SAFETY: `sk` is live; process context (poll may sleep, as it does to read).
    unsafe { bindings::mptcp_rs_lock_sock(meta.sk()) };
    for ssk in subflows(meta) {
        // SAFETY: live subflows (the meta socket is owned).
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            continue;
        };
        if !ctx.send_map_full() {
            continue;
        }
        // SAFETY: its lock nests in the owned meta socket's; the map is the
        // subflow's, under that lock.
        unsafe {
            bindings::mptcp_rs_lock_sock(ssk);
            ctx.forget_acked_extents();
            bindings::release_sock(ssk);
        }
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(meta.sk()) };
}
