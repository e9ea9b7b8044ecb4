// SPDX-License-Identifier: GPL-2.0

//! MP_JOIN, passive side (RFC 8684 3.2): a peer adds a subflow to a connection one of
//! our listeners accepted.
//!
//! * SYN ([`syn`], from the listener's `route_req`): the token names the connection
//!   (token table, a reference held by the request); refused with a reset when it is
//!   unknown, fell back, is not established, or has its `subflows` limit of extra
//!   subflows (`ip mptcp limits`; with the userspace path manager: while a program
//!   listens to the events), or arrived at a port other than the connection's that
//!   it did not announce (`MismatchPortSynRx`); otherwise the request keeps the peer's nonce,
//!   address id and backup flag, our nonce and our truncated HMAC
//!   (`struct mptcp_rs_join_req`, in our request sock, see `rust/net_shim.c`).
//! * SYN/ACK ([`synack_options`]): MP_JOIN with the truncated HMAC (key: our key, the
//!   peer's key; message: our nonce, the peer's nonce), our nonce and our address id:
//!   0 for the connection's initial local address, else the id of the address (and
//!   port) the connection announced, else that of the namespace's endpoint with the
//!   address (`pm.rs`); for another local address an implicit endpoint is made and
//!   the SYN dropped until it exists (`addr.rs`). The userspace path manager gives
//!   it a new id of its own.
//! * Third ACK ([`syn_recv_sock`]): the peer's 160-bit HMAC (key: its key, ours;
//!   message: its nonce, ours) is checked before TCP creates the child, the
//!   connection's limits once the child is ours (`own_req`); the child becomes a
//!   subflow of the connection (its context takes over the request's reference on
//!   the meta socket), is recorded in the meta socket's [`Joins`], and
//!   is not queued for accept() (`drop_req`). Its establishment is acknowledged at
//!   once (the "fourth ACK", [`state_change`]), which makes the peer's subflow fully
//!   established.
//!
//! A joined subflow receives through the same path as the first one
//! (`Subflow::move_to_meta`, DSS mappings into the meta receive or out-of-order
//! queue) and carries DATA_ACKs; we send data on the first subflow only (a host may
//! send on any subset of the subflows).
//!
//! Locking: a join is recorded under the meta socket's spinlock (softirq, child
//! locked: subflow slock, then meta slock); the set is walked with the meta socket
//! owned (subflow locks nest inside), or locklessly under RCU for `poll`
//! (TCP sockets are `SLAB_TYPESAFE_BY_RCU`).

use crate::bindings;
use crate::mib::{self, Mib};
use crate::pm::PassiveLocalId;
use crate::proto::crypto::{hmac_truncated, join_hmac};
use crate::proto::options::{MpJoin, MptcpOption, JOIN_ACK_HMAC_LEN};
use crate::sha256::KernelSha256;
use crate::sock::Meta;
use crate::subflow::Subflow;
use crate::tcp_state::{
    TCP_CLOSE, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_SYN_RECV, TCP_SYN_SENT,
};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use kernel::prelude::*;

const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;

/// Joined subflows a connection keeps at most (besides the first): the largest
/// `subflows` limit (upstream's `MPTCP_PM_SUBFLOWS_MAX`, [`crate::pm::LIMIT_MAX`]).
pub(crate) const MAX_JOINED: usize = 64;
const _: () = assert!(MAX_JOINED == crate::pm::LIMIT_MAX as usize);

/// The joined subflows of a connection.
///
/// # Invariants
///
/// Each non-null slot is a subflow socket of this connection on which the slot owns
/// the reference an accepted child gives its owner (dropped by
/// `mptcp_rs_joined_close()`). Slots are filled under the meta socket's spinlock
/// while `closed` is false, and emptied with the meta socket owned (or by
/// [`Joins::orphaned`] when no task can own it any more). No slot at or beyond
/// `used` was ever filled.
pub(crate) struct Joins {
    slots: [AtomicPtr<bindings::sock>; MAX_JOINED],
    /// One past the highest slot ever filled: walks of the set stop there, so that
    /// their cost follows the subflows a connection had, not [`MAX_JOINED`].
    used: AtomicUsize,
    /// The subflow id of each slot's subflow (`MPTCP_FULL_INFO`): 2, 3, ... in the
    /// order subflows joined, as upstream numbers them (the first subflow is 1).
    ids: [AtomicU32; MAX_JOINED],
    next_id: AtomicU32,
    closed: AtomicBool,
    /// The path manager's work: opening our own subflows (`join_active.rs`).
    active: crate::join_active::Work,
    /// Announced addresses, both ways (`addr.rs`).
    addrs: crate::addr::ConnAddrs,
}

impl Joins {
    pub(crate) fn new() -> Self {
        Joins {
            slots: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            used: AtomicUsize::new(0),
            ids: core::array::from_fn(|_| AtomicU32::new(0)),
            next_id: AtomicU32::new(2),
            closed: AtomicBool::new(false),
            active: crate::join_active::Work::new(),
            addrs: crate::addr::ConnAddrs::new(),
        }
    }

    /// The connection's announced addresses (`addr.rs`).
    pub(crate) fn addrs(&self) -> &crate::addr::ConnAddrs {
        &self.addrs
    }

    /// The path manager's work item of the connection (`join_active.rs`).
    pub(crate) fn active_work(&self) -> &crate::join_active::Work {
        &self.active
    }

    /// Whether the connection is closing (no subflow is recorded any more).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The slots that may hold a subflow (see `used`).
    fn live_slots(&self) -> &[AtomicPtr<bindings::sock>] {
        let used = self.used.load(Ordering::Acquire);
        self.slots.get(..used).unwrap_or(&self.slots)
    }

    /// How many slots to look at with [`Joins::ssk_at`]: beyond, none was ever used.
    pub(crate) fn slot_count(&self) -> usize {
        self.live_slots().len()
    }

    /// How many joined subflows the connection has (dead ones not yet reaped count).
    pub(crate) fn count(&self) -> usize {
        self.live_slots()
            .iter()
            .filter(|s| !s.load(Ordering::Acquire).is_null())
            .count()
    }

    /// Records the new subflow `ssk`; false when the connection is closing or the set
    /// is full. Softirq with `ssk` locked (a peer's join), or process context with the
    /// meta socket owned (ours, `join_active.rs`).
    pub(crate) fn add(&self, meta: &Meta, ssk: *mut bindings::sock) -> bool {
        // SAFETY: the meta socket is live (the request holds a reference).
        unsafe { bindings::mptcp_rs_data_lock(meta.sk()) };
        let mut added = false;
        if !self.closed.load(Ordering::Acquire) {
            // under the meta spinlock: ids are unique and in join order; a slot's id is
            // written before the slot shows the subflow
            let next = self.next_id.load(Ordering::Relaxed);
            for (i, (slot, id)) in self.slots.iter().zip(self.ids.iter()).enumerate() {
                if !slot.load(Ordering::Acquire).is_null() {
                    continue;
                }
                id.store(next, Ordering::Release);
                if slot
                    .compare_exchange(ptr::null_mut(), ssk, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.used.fetch_max(i + 1, Ordering::AcqRel);
                    self.next_id.store(next.wrapping_add(1), Ordering::Relaxed);
                    added = true;
                    break;
                }
            }
        }
        // SAFETY: taken above.
        unsafe { bindings::mptcp_rs_data_unlock(meta.sk()) };
        added
    }

    /// Stops recording joins (the connection is closing); under the meta spinlock so
    /// that no [`Joins::add`] is half done.
    fn close_gate(&self, meta: &Meta) {
        // SAFETY: the meta socket is live (our caller's).
        unsafe { bindings::mptcp_rs_data_lock(meta.sk()) };
        self.closed.store(true, Ordering::Release);
        // SAFETY: taken above.
        unsafe { bindings::mptcp_rs_data_unlock(meta.sk()) };
    }

    /// The joined subflow in slot `i`, or null. Valid while the meta socket is owned
    /// (or, as a TCP socket of some kind, under RCU).
    pub(crate) fn ssk_at(&self, i: usize) -> *mut bindings::sock {
        self.live_slots()
            .get(i)
            .map_or(ptr::null_mut(), |s| s.load(Ordering::Acquire))
    }

    /// The subflow id of the joined subflow in slot `i` (valid as [`Joins::ssk_at`]).
    pub(crate) fn id_at(&self, i: usize) -> u32 {
        self.ids.get(i).map_or(0, |id| id.load(Ordering::Acquire))
    }

    /// Whether some joined subflow is established. Lockless.
    pub(crate) fn any_established(&self) -> bool {
        let _rcu = kernel::sync::rcu::read_lock();
        self.live_slots().iter().any(|s| {
            let ssk = s.load(Ordering::Acquire);
            // SAFETY: as in `any_rcv`.
            !ssk.is_null() && unsafe { bindings::mptcp_rs_sk_state(ssk) } == TCP_ESTABLISHED
        })
    }

    /// Whether some joined subflow is open or being opened. Lockless.
    pub(crate) fn any_alive(&self) -> bool {
        let _rcu = kernel::sync::rcu::read_lock();
        self.live_slots().iter().any(|s| {
            let ssk = s.load(Ordering::Acquire);
            // SAFETY: as in `any_rcv`.
            !ssk.is_null()
                && matches!(
                    unsafe { bindings::mptcp_rs_sk_state(ssk) },
                    TCP_ESTABLISHED | TCP_CLOSE_WAIT | TCP_SYN_SENT | TCP_SYN_RECV
                )
        })
    }

    /// Whether data waits on a joined subflow. Lockless (`poll`).
    pub(crate) fn readable(&self) -> bool {
        self.any_rcv(crate::subflow::rcv_waiting)
    }

    /// Whether a joined subflow holds data back (`subflow::rcv_held`). Lockless.
    pub(crate) fn held(&self) -> bool {
        self.any_rcv(crate::subflow::rcv_held)
    }

    /// Whether `test` holds for a joined subflow's receive side, under the RCU read
    /// lock.
    fn any_rcv(&self, test: unsafe fn(*mut bindings::sock) -> bool) -> bool {
        let _rcu = kernel::sync::rcu::read_lock();
        self.live_slots().iter().any(|s| {
            let ssk = s.load(Ordering::Acquire);
            // SAFETY: TCP sockets are freed after an RCU grace period at the earliest
            // (`SLAB_TYPESAFE_BY_RCU`), so under the read lock `ssk` is some TCP
            // socket (what `test` asks for); a stale answer only makes a reader
            // look once more.
            !ssk.is_null() && unsafe { test(ssk) }
        })
    }

    /// Moves what waits on the joined subflows to the meta socket, and closes those
    /// that died with nothing left to read. The meta socket is owned.
    pub(crate) fn pull(&self, meta: &Meta) {
        for slot in self.live_slots() {
            let ssk = slot.load(Ordering::Acquire);
            if ssk.is_null() {
                continue;
            }
            // SAFETY: the slot's reference keeps `ssk` alive while the meta socket is
            // owned (type invariant); its lock nests inside the meta socket's.
            unsafe { bindings::mptcp_rs_lock_sock(ssk) };
            // SAFETY: as above.
            if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
                // SAFETY: subflow locked, meta owned.
                if unsafe { ctx.move_to_meta(meta) }.is_err() {
                    // a protocol error on this subflow ends this subflow only
                    if !ctx.csum_failed() {
                        mib::inc(meta.net(), Mib::DSSCorruptionReset);
                    }
                    // SAFETY: locked, the meta spinlock not held.
                    unsafe { ctx.reset_on_error() };
                } else {
                    // SAFETY: as above.
                    unsafe { ctx.flush_mp_fail() };
                }
            }
            // SAFETY: as above.
            let mut dead = unsafe {
                bindings::mptcp_rs_sk_state(ssk) == TCP_CLOSE
                    && bindings::mptcp_rs_rcv_queue_empty(ssk)
            };
            // SAFETY: as above.
            if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
                // what it carried is queued elsewhere first (`sendq.rs`)
                dead = dead && ctx.send_settled();
            }
            // SAFETY: locked above.
            unsafe { bindings::release_sock(ssk) };
            if dead && slot.swap(ptr::null_mut(), Ordering::AcqRel) == ssk {
                // SAFETY: the slot's reference, ours to drop (type invariant).
                unsafe { bindings::mptcp_rs_joined_close(ssk) };
            }
        }
    }

    /// Closes the joined subflows that died with nothing left to read and whose
    /// reinjection is queued (as [`Joins::pull`] does, without reading). The meta
    /// socket is owned, process context.
    pub(crate) fn reap(&self, _meta: &Meta) {
        for slot in self.live_slots() {
            let ssk = slot.load(Ordering::Acquire);
            if ssk.is_null() {
                continue;
            }
            // SAFETY: as in `pull`.
            let dead = unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                let mut dead = bindings::mptcp_rs_sk_state(ssk) == TCP_CLOSE
                    && bindings::mptcp_rs_rcv_queue_empty(ssk);
                if let Some(ctx) = Subflow::from_sk(ssk) {
                    dead = dead && ctx.send_settled();
                }
                bindings::release_sock(ssk);
                dead
            };
            if dead && slot.swap(ptr::null_mut(), Ordering::AcqRel) == ssk {
                // SAFETY: the slot's reference, ours to drop (type invariant).
                unsafe { bindings::mptcp_rs_joined_close(ssk) };
            }
        }
    }

    /// The application read `copied` bytes: the joined subflows may announce the
    /// larger window. The meta socket is owned.
    ///
    /// Each subflow's receive autotuning measures its own share of what was read;
    /// the meta socket's buffer grows to the sum of the subflows' buffers
    /// (`first_rcvbuf` is the first subflow's).
    pub(crate) fn cleanup_rbuf(&self, meta: &Meta, copied: c_int, first_rcvbuf: c_int) {
        let mut total = first_rcvbuf;
        for slot in self.live_slots() {
            let ssk = slot.load(Ordering::Acquire);
            if ssk.is_null() {
                continue;
            }
            // SAFETY: as in `pull`.
            let rcvbuf = unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                let r = bindings::mptcp_rs_joined_read_done(ssk, copied);
                bindings::release_sock(ssk);
                r
            };
            total = total.saturating_add(rcvbuf);
        }
        if total > first_rcvbuf {
            // Twice the sum: data of one path waits in the meta socket for the
            // slower path's bytes before it (the DATA_ACK and the window's left edge
            // stay there), for up to the difference of their RTTs.
            // SAFETY: the meta socket is owned by our caller.
            unsafe { bindings::mptcp_rs_meta_grow_rcvbuf(meta.sk(), total.saturating_mul(2)) };
        }
    }

    /// Closes the joined subflow `ssk` while the connection carries on, as upstream's
    /// `mptcp_close_ssk()` does for a subflow the path manager removes or the peer
    /// closed: the `SUB_CLOSED` event, what it received goes to the meta socket, what
    /// it carried beyond the DATA_ACK goes again on the others, and it leaves the set
    /// and closes with a FIN, no reset. Its reading side is shut first, in the same
    /// locked section: what the peer still sends on it is then refused by TCP (as
    /// upstream's closed subflow refuses it) instead of waiting unread in its queue,
    /// where close() would answer it with a reset carrying MP_TCPRST. False if `ssk`
    /// is not in the set. The meta socket is owned, process context, the meta
    /// spinlock not held.
    pub(crate) fn close_one(&self, meta: &Meta, ssk: *mut bindings::sock) -> bool {
        let Some(slot) = self
            .live_slots()
            .iter()
            .find(|s| s.load(Ordering::Acquire) == ssk)
        else {
            return false;
        };
        // SAFETY: the slot's reference keeps `ssk` alive while the meta socket is owned
        // (type invariant); its lock nests inside the meta socket's.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        // SAFETY: as above.
        if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
            // SAFETY: as above.
            if unsafe { bindings::mptcp_rs_sk_state(ssk) } != TCP_CLOSE {
                crate::pm_events::sub_closed(meta, ctx, false);
            }
            // SAFETY: subflow locked, meta owned.
            if unsafe { ctx.move_to_meta(meta) }.is_err() {
                if !ctx.csum_failed() {
                    mib::inc(meta.net(), Mib::DSSCorruptionReset);
                }
                // SAFETY: locked, the meta spinlock not held.
                unsafe { ctx.reset_on_error() };
            }
            // SAFETY: subflow locked, meta owned.
            unsafe { crate::sendq::leaving(meta, ctx) };
        }
        // SAFETY: the subflow is locked: its FIN is queued (state FIN_WAIT1 or
        // LAST_ACK, where TCP refuses data once reading is shut), reading shut; a work
        // item must not wait in close (SO_LINGER).
        unsafe {
            bindings::mptcp_rs_tcp_shutdown(ssk, c_int::from(SEND_SHUTDOWN));
            bindings::mptcp_rs_set_shutdown(ssk, RCV_SHUTDOWN);
            bindings::mptcp_rs_sf_no_linger(ssk);
        }
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
        if slot.swap(ptr::null_mut(), Ordering::AcqRel) == ssk {
            // SAFETY: the slot's reference, ours to drop (type invariant).
            unsafe { bindings::mptcp_rs_joined_close(ssk) };
        }
        true
    }

    /// Closes the subflows the peer closed (its FIN: `CLOSE_WAIT`) while the
    /// connection is established, as upstream's `__mptcp_close_subflow()`: the peer's
    /// path manager removed them (the first one too, [`Meta::close_first`]). The meta
    /// socket is owned, process context.
    pub(crate) fn close_peer_closed(&self, meta: &Meta) {
        if meta.state() != TCP_ESTABLISHED {
            return;
        }
        let first = meta.first_ssk();
        // SAFETY: the first subflow is live while set and the meta socket owned.
        if !first.is_null() && unsafe { bindings::mptcp_rs_sk_state(first) } == TCP_CLOSE_WAIT {
            meta.close_first();
        }
        for i in 0..self.slot_count() {
            let ssk = self.ssk_at(i);
            // SAFETY: a slot's subflow is live while the meta socket is owned.
            if !ssk.is_null() && unsafe { bindings::mptcp_rs_sk_state(ssk) } == TCP_CLOSE_WAIT {
                self.close_one(meta, ssk);
            }
        }
    }

    /// Closes every joined subflow (FIN, or reset if `abort`), with the meta socket
    /// owned, in process context; no join is recorded afterwards.
    pub(crate) fn close_all(&self, meta: &Meta, abort: bool) {
        self.close_gate(meta);
        self.active.cancel();
        self.addrs.cancel();
        for slot in self.live_slots() {
            let ssk = slot.swap(ptr::null_mut(), Ordering::AcqRel);
            if ssk.is_null() {
                continue;
            }
            if abort {
                // SAFETY: the slot's reference keeps `ssk` alive; lock nesting as in
                // `pull`.
                unsafe {
                    bindings::mptcp_rs_lock_sock(ssk);
                    if let Some(ctx) = Subflow::from_sk(ssk) {
                        if meta.first_closed() {
                            // MP_FASTCLOSE cannot go on the first subflow any more
                            ctx.fastclose();
                        } else {
                            ctx.reset();
                        }
                    }
                    bindings::release_sock(ssk);
                }
            }
            // SAFETY: the slot's reference, ours to drop (type invariant).
            unsafe { bindings::mptcp_rs_joined_close(ssk) };
        }
    }

    /// Resets every joined subflow with MP_FASTCLOSE (the connection ended beyond
    /// repair, `Meta::abort_beyond_repair`); they stay in their slots until the
    /// connection is closed. The meta socket is owned, in process context.
    pub(crate) fn fastclose_all(&self) {
        for slot in self.live_slots() {
            let ssk = slot.load(Ordering::Acquire);
            if ssk.is_null() {
                continue;
            }
            // SAFETY: a slot's subflow is live while the meta socket is owned (our
            // caller); lock nesting as in `pull`.
            unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                if let Some(ctx) = Subflow::from_sk(ssk) {
                    // (one already closed sends nothing)
                    ctx.fastclose();
                }
                bindings::release_sock(ssk);
            }
        }
    }

    /// No subflow joins any more (the application closed the connection; it lingers
    /// on the subflows it has). Meta socket owned.
    pub(crate) fn stop(&self, meta: &Meta) {
        self.close_gate(meta);
        self.active.cancel();
        self.addrs.cancel();
    }

    /// Joins are accepted again (a disconnected socket may connect anew).
    pub(crate) fn reopen(&self, meta: &crate::sock::Meta) {
        self.closed.store(false, Ordering::Release);
        self.active.reset();
        self.addrs.reset(meta);
    }

    /// The connection ends without a task owning it (never accepted): the joined
    /// subflows are closed from a workqueue. Any context.
    pub(crate) fn orphaned(&self, meta: &Meta) {
        self.close_gate(meta);
        self.active.cancel();
        self.addrs.cancel();
        for slot in self.live_slots() {
            let ssk = slot.swap(ptr::null_mut(), Ordering::AcqRel);
            if ssk.is_null() {
                continue;
            }
            // SAFETY: the slot's reference keeps `ssk` alive; a subflow that is not
            // closed yet keeps its context (it is not orphaned: TCP does not destroy
            // it), and the slot's reference is handed to the work.
            // (A recorded join always has our context: it goes with the socket's
            // destruction only.)
            if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
                // SAFETY: the reference taken from the slot goes to the work; the
                // slot is empty now, so this is the context's one use of it.
                unsafe { ctx.close_later() };
            }
        }
    }
}

/// The join state of request `req`, if it is one of our request socks.
///
/// The SYN hook ([`syn`]) writes it before the request is visible to anyone else;
/// afterwards SYN/ACK (re)transmissions and the third ACK may run concurrently on
/// other CPUs: they read the fields written at the SYN, and only the third ACK that
/// TCP lets own the request ([`syn_recv_sock`]) writes `meta`. So, after the SYN, the
/// state is accessed through raw pointers, field by field.
///
/// # Safety
///
/// `req` is a live request sock.
unsafe fn join_req(req: *const bindings::request_sock) -> *mut bindings::mptcp_rs_join_req {
    // SAFETY: per the contract.
    unsafe { bindings::mptcp_rs_req_join(req) }
}

/// Whether `req` is an accepted MP_JOIN request.
///
/// # Safety
///
/// `req` is a live request sock.
pub(crate) unsafe fn is_join(req: *const bindings::request_sock) -> bool {
    // SAFETY: per the contract.
    let j = unsafe { join_req(req) };
    // SAFETY: non-null: our request's state; `join` is written only at the SYN.
    !j.is_null() && unsafe { ptr::addr_of!((*j).join).read() }
}

/// Whether `meta` takes a new subflow: an MPTCP connection (not fallen back, nor
/// about to after an MP_FAIL) that is
/// established (data may still flow towards us) and below its `subflows` limit; with
/// the userspace path manager, while one listens to the events (it has no limit but
/// our slots), as upstream's `mptcp_can_accept_new_subflow()`.
fn accepts_subflow(meta: &Meta) -> bool {
    let state = meta.state();
    if meta.is_fallback()
        || meta.is_failing()
        || !(state == TCP_ESTABLISHED || state == TCP_FIN_WAIT1 || state == TCP_CLOSE_WAIT)
    {
        return false;
    }
    if meta.userspace_pm() {
        return crate::pm_events::listened(meta) && meta.joins().count() < MAX_JOINED;
    }
    let limit = usize::from(crate::pm::subflows_limit(meta.net())).min(MAX_JOINED);
    meta.joins().count() < limit
}

/// What becomes of a SYN with MP_JOIN (`rust/net_shim.c`).
pub(crate) enum SynVerdict {
    /// Answered with a SYN/ACK.
    Accept,
    /// Refused: answered with a reset.
    Reset,
    /// Dropped silently: the peer sends it again.
    Drop,
}

impl SynVerdict {
    /// The value `rust/net_shim.c` expects of `req_init`.
    pub(crate) fn to_c(&self) -> c_int {
        let v = match self {
            Self::Accept => bindings::MPTCP_RS_REQ_ACCEPT,
            Self::Reset => bindings::MPTCP_RS_REQ_RESET,
            Self::Drop => bindings::MPTCP_RS_REQ_DROP,
        };
        // the three are 0, 1, 2
        c_int::try_from(v).unwrap_or(0)
    }
}

/// The SYN of `req`, on listener subflow `lsk` of meta socket `listener`, carries
/// MP_JOIN; what to do with it (`rust/net_shim.c`): answer it with a SYN/ACK, refuse
/// it (a reset), or drop it while the path manager makes an implicit endpoint for the
/// local address it arrived at (the peer sends it again about a second later).
///
/// # Safety
///
/// `req` is the request being initialised by TCP (`route_req`), `lsk` our listening
/// subflow, `skb` the SYN.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn syn(
    req: *mut bindings::request_sock,
    lsk: *const bindings::sock,
    skb: *const bindings::sk_buff,
    listener: &Meta,
    backup: bool,
    remote_id: u8,
    token: u32,
    remote_nonce: u32,
) -> SynVerdict {
    let net = listener.net();
    mib::inc(net, Mib::MPJoinSynRx);
    if backup {
        mib::inc(net, Mib::MPJoinSynBackupRx);
    }
    // SAFETY: per the contract; TCP has not published the request yet: ours alone.
    let Some(j) = (unsafe { join_req(req).as_mut() }) else {
        return SynVerdict::Reset;
    };
    // SAFETY: `net` is live (the listener's).
    let msk = unsafe { bindings::mptcp_rs_token_lookup(net.as_ptr(), token) };
    if msk.is_null() {
        mib::inc(net, Mib::MPJoinNoTokenFound);
        return SynVerdict::Reset;
    }
    // the request's reference, dropped by its destructor unless a subflow takes it
    j.meta = msk;
    // SAFETY: `msk` is a meta socket from the token table, held.
    let Some(meta) = (unsafe { Meta::from_sk(msk) }) else {
        return SynVerdict::Reset;
    };
    // the local address the SYN arrived at
    let mut ep = bindings::mptcp_rs_pm_endpoint::default();
    // SAFETY: `req` is live; `ep.addr` has the 16 bytes the shim writes.
    let family = unsafe { bindings::mptcp_rs_req_local_addr(req, ep.addr.as_mut_ptr()) };
    ep.family = u16::try_from(family).unwrap_or(0);
    // SAFETY: both are live sockets.
    let port_id = if unsafe { bindings::mptcp_rs_same_sport(lsk, msk) } {
        None
    } else {
        // another port: one we announced with this address (its id), or refused
        // SAFETY: `lsk` is live.
        ep.port = unsafe { bindings::mptcp_rs_addr_sk_sport(lsk) };
        let Some(id) = meta.joins().addrs().announced_port(&ep) else {
            mib::inc(net, Mib::MismatchPortSynRx);
            return SynVerdict::Reset;
        };
        mib::inc(net, Mib::MPJoinPortSynRx);
        ep.port = 0;
        Some(id)
    };
    // Whether the connection takes another subflow is decided at the third ACK
    // (`syn_recv_sock`), as upstream does: a join beyond the limit gets its SYN/ACK,
    // then a reset, and is counted as MPJoinRejected there.
    // SAFETY: `req` is live; `msk` held.
    let initial = unsafe { bindings::mptcp_rs_req_local_is_initial(req, msk) };
    let local_id = if port_id.is_some() {
        port_id
    } else if initial {
        Some(0)
    } else if meta.userspace_pm() {
        // any local address: the userspace PM's, or a new id for it (`addr.rs`)
        meta.joins().addrs().us_local_id_for_join(meta, &ep)
    } else {
        // an address this connection announced (`addr.rs`), else any endpoint of the
        // namespace with this address (upstream's `mptcp_pm_nl_get_local_id()`)
        match meta.joins().addrs().local_id_for(&ep) {
            Some(id) => Some(id),
            None => match crate::pm::passive_local_id(net, &ep) {
                PassiveLocalId::Endpoint(id) => Some(id),
                PassiveLocalId::Unknown => {
                    // upstream makes an implicit endpoint for it here; our table is
                    // changed in process context: the connection's address work does
                    // it, and the peer's next SYN finds it (`addr.rs`)
                    meta.joins().addrs().want_implicit(meta, &ep);
                    return SynVerdict::Drop;
                }
                PassiveLocalId::Busy => return SynVerdict::Drop,
                PassiveLocalId::Unusable => None,
            },
        }
    };
    let Some(local_id) = local_id else {
        // another local address, with no id to give it
        mib::inc(net, Mib::MPJoinRejected);
        return SynVerdict::Reset;
    };
    // our endpoint's `backup` flag for this address goes on the SYN/ACK (upstream's
    // `mptcp_pm_is_backup()` for the request)
    let local_backup = !meta.userspace_pm() && crate::pm::local_backup(net, &ep);
    // SAFETY: no preconditions.
    let local_nonce = unsafe { bindings::mptcp_rs_random_u64() } as u32;
    let mac = join_hmac::<KernelSha256>(
        meta.local_key(),
        meta.remote_key(),
        local_nonce,
        remote_nonce,
    );
    j.thmac = hmac_truncated(&mac);
    j.local_nonce = local_nonce;
    j.remote_nonce = remote_nonce;
    j.local_id = local_id;
    j.remote_id = remote_id;
    j.backup = backup;
    j.local_backup = local_backup;
    j.join = true;
    // SAFETY: `req` is being initialised; MPTCP options on its SYN/ACK.
    unsafe { bindings::mptcp_rs_req_set_mptcp(req, true) };
    // SAFETY: `req` is live.
    if unsafe { bindings::mptcp_rs_req_syncookie(req) } {
        // answered with a SYN cookie: the request goes after its SYN/ACK; the third
        // ACK finds what it needs in the cookie table ([`cookie_ack`])
        // SAFETY: `net` is live; `req` and the SYN `skb` too.
        unsafe { bindings::mptcp_rs_join_cookie_store(net.as_ptr(), req, skb, token) };
    }
    SynVerdict::Accept
}

/// The third ACK `skb` of a SYN cookie on our listener `lsk` carries MP_JOIN:
/// request `req` (ours, made for it) takes the join state kept at the SYN, and a
/// reference on the connection. 0, or -1 if nothing was kept for it (TCP drops the
/// ACK; the peer's join times out, or gets a reset when it sends again).
///
/// # Safety
///
/// TCP's fresh request sock for the ACK (`init_cookie_req`), our listener, the ACK.
pub(crate) unsafe fn cookie_ack(
    req: *mut bindings::request_sock,
    lsk: *const bindings::sock,
    skb: *const bindings::sk_buff,
) -> c_int {
    let mut token = 0u32;
    // SAFETY: per the contract.
    if !unsafe { bindings::mptcp_rs_join_cookie_take(lsk, req, skb, &mut token) } {
        return -1;
    }
    // SAFETY: the listener's namespace is live.
    let net = unsafe { crate::net::Net::of_sock(lsk) };
    // SAFETY: as above.
    let msk = unsafe { bindings::mptcp_rs_token_lookup(net.as_ptr(), token) };
    if msk.is_null() {
        mib::inc(net, Mib::MPJoinNoTokenFound);
        return -1;
    }
    // SAFETY: `req` is ours (the take above found its join state); not yet visible
    // to anyone else. The request's reference, dropped by its destructor unless a
    // subflow takes it.
    unsafe {
        let j = join_req(req);
        ptr::addr_of_mut!((*j).meta).write(msk);
        bindings::mptcp_rs_req_set_mptcp(req, true);
    }
    0
}

/// MP_JOIN for the SYN/ACK of a join request: `None` if `req` is not one.
///
/// # Safety
///
/// As for [`join_req`]; `opts` is TCP's scratch space for the SYN/ACK's options.
pub(crate) unsafe fn synack_options(
    req: *const bindings::request_sock,
    opts: *mut bindings::mptcp_out_options,
) -> Option<Option<c_uint>> {
    // SAFETY: per the contract.
    if !unsafe { is_join(req) } {
        return None;
    }
    // SAFETY: our request's state (`is_join`); these fields are written at the SYN
    // only (see `join_req`).
    let (addr_id, truncated_hmac, nonce, backup) = unsafe {
        let j = join_req(req);
        (
            ptr::addr_of!((*j).local_id).read(),
            ptr::addr_of!((*j).thmac).read(),
            ptr::addr_of!((*j).local_nonce).read(),
            ptr::addr_of!((*j).local_backup).read(),
        )
    };
    let opt = MptcpOption::MpJoin(MpJoin::SynAck {
        backup,
        addr_id,
        truncated_hmac,
        nonce,
    });
    Some(crate::subflow::stash(opts, &opt))
}

/// Compares two HMACs in constant time.
fn hmac_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `syn_recv_sock` for a join request (see the module documentation).
///
/// # Safety
///
/// TCP's arguments to `syn_recv_sock` for `req`, an accepted join request
/// ([`is_join`]) of our listener `sk`.
pub(crate) unsafe fn syn_recv_sock(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    req: *mut bindings::request_sock,
    dst: *mut bindings::dst_entry,
    req_unhash: *mut bindings::request_sock,
    own_req: *mut bool,
    opt_child_init: Option<unsafe extern "C" fn(*mut bindings::sock, *const bindings::sock)>,
) -> *mut bindings::sock {
    // SAFETY: per the contract: our join request.
    let j = unsafe { join_req(req) };
    // SAFETY: written at the SYN only (see `join_req`); `meta` is cleared only by the
    // winner below, after which no other third ACK gets past TCP's `own_req`.
    let (msk, remote_nonce, local_nonce) = unsafe {
        (
            ptr::addr_of!((*j).meta).read(),
            ptr::addr_of!((*j).remote_nonce).read(),
            ptr::addr_of!((*j).local_nonce).read(),
        )
    };
    if msk.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the request holds a reference on the meta socket `msk`.
    let Some(meta) = (unsafe { Meta::from_sk(msk) }) else {
        return ptr::null_mut();
    };
    let net = meta.net();
    let refuse = |mib: Option<Mib>| -> *mut bindings::sock {
        if let Some(m) = mib {
            mib::inc(net, m);
        }
        // SAFETY: TCP's listener, segment and request. The request stays until our
        // SYN/ACK retransmission meets the peer's reset (or it times out).
        unsafe { bindings::mptcp_rs_req_send_reset(sk, skb, req) };
        ptr::null_mut()
    };
    // SAFETY: `skb` is the third ACK, header in place.
    let opt = unsafe { crate::subflow::find_option(skb, crate::proto::options::Segment::Other) };
    let hmac = match opt {
        Some(MptcpOption::MpJoin(MpJoin::Ack { hmac })) => hmac,
        // no MP_JOIN: a join cannot fall back to TCP (counted as upstream counts it)
        _ => return refuse(Some(Mib::MPJoinAckHMacFailure)),
    };
    let expected = join_hmac::<KernelSha256>(
        meta.remote_key(),
        meta.local_key(),
        remote_nonce,
        local_nonce,
    );
    if !hmac_eq(&hmac, expected.get(..JOIN_ACK_HMAC_LEN).unwrap_or(&[])) {
        return refuse(Some(Mib::MPJoinAckHMacFailure));
    }
    // SAFETY: TCP's arguments, passed on to TCP's own handler.
    let child = unsafe {
        bindings::mptcp_rs_af_ops_syn_recv_sock(
            sk,
            skb,
            req,
            dst,
            req_unhash,
            own_req,
            opt_child_init,
        )
    };
    // SAFETY: `own_req` is TCP's out-parameter, set by the call above.
    if child.is_null() || !unsafe { *own_req } {
        return child;
    }
    // Decided only by the owner of the request, as upstream: a copy of the same
    // third ACK processed on another CPU meanwhile (the peer's third-ACK timer) could
    // otherwise find the slot this one is about to fill taken and reset the join.
    // A child we do not serve from here on is disposed of as TCP's request would
    // be (`mptcp_rs_dispose_child`: the request dropped, the third ACK reset).
    // SAFETY (of each `dispose`): TCP's listener, segment and request, and the child
    // it created for them and hashed in the request's place (`own_req`).
    let dispose = |mib: Option<Mib>| -> *mut bindings::sock {
        if let Some(m) = mib {
            mib::inc(net, m);
        }
        // SAFETY: see above.
        unsafe { bindings::mptcp_rs_dispose_child(sk, skb, req, child) }
    };
    if !accepts_subflow(meta) {
        return dispose(Some(Mib::MPJoinRejected));
    }
    // SAFETY: the child is new and locked; its context comes from the ULP `clone`.
    let Some(ctx) = (unsafe { Subflow::from_sk(child) }) else {
        return dispose(None);
    };
    // SAFETY: `req` is the request this child completes.
    let (snt_isn, rcv_isn) = unsafe {
        (
            bindings::mptcp_rs_req_snt_isn(req),
            bindings::mptcp_rs_req_rcv_isn(req),
        )
    };
    ctx.init_joined(meta, snt_isn, rcv_isn);
    // SAFETY: the request's join state, read once the SYN wrote it (see `join_req`).
    let (backup, local_backup) = unsafe {
        (
            ptr::addr_of!((*j).backup).read(),
            ptr::addr_of!((*j).local_backup).read(),
        )
    };
    // either end asking for a backup subflow makes it one for our scheduler (as
    // upstream's `subflow->backup || subflow->request_bkup`)
    ctx.set_backup(backup || local_backup);
    ctx.set_peer_backup(backup);
    // SAFETY: as above.
    let (local_id, remote_id) = unsafe {
        (
            ptr::addr_of!((*j).local_id).read(),
            ptr::addr_of!((*j).remote_id).read(),
        )
    };
    ctx.active_join().set_ids(local_id, remote_id);
    ctx.set_meta(msk);
    // the congestion control chosen on the MPTCP socket, before the child's starts
    meta.cc().apply_new(meta, child);
    crate::sockopt_sync::new_subflow(meta, child);
    if !meta.joins().add(meta, child) {
        ctx.set_meta(ptr::null_mut());
        // (the request keeps its reference on the meta socket)
        return dispose(Some(Mib::MPJoinRejected));
    }
    // the subflow's context took over the request's reference
    // SAFETY: we own the request (`own_req`); see `join_req`.
    unsafe { ptr::addr_of_mut!((*j).meta).write(ptr::null_mut()) };
    // SAFETY: `req` is TCP's; the child is not queued for accept().
    unsafe { bindings::mptcp_rs_req_set_drop(req) };
    mib::inc(net, Mib::MPJoinAckRx);
    meta.set_had_join();
    // SAFETY: both are live sockets.
    if !unsafe { bindings::mptcp_rs_same_sport(sk, meta.sk()) } {
        // on the port of a `signal` endpoint (its SYN was checked against it)
        mib::inc(net, Mib::MPJoinPortAckRx);
    }
    crate::pm_events::sub_established(meta, ctx);
    child
}

/// A joined subflow changed state: acknowledge its establishment at once (the
/// peer's subflow is fully established when it sees an ACK of its third ACK); one
/// of our own joins that closed may be retried (`join_active.rs`).
/// Softirq or process context, subflow locked.
pub(crate) fn state_change(ctx: &Subflow) {
    // SAFETY: our subflow, locked by TCP while it changes state.
    if unsafe { bindings::mptcp_rs_sk_state(ctx.ssk()) } == TCP_CLOSE_WAIT {
        if let Some(meta) = ctx.meta() {
            if meta.state() == TCP_ESTABLISHED && meta.first_ssk() != ctx.ssk() {
                // the peer closed this joined subflow: the address work closes ours
                // (`Joins::close_peer_closed`)
                meta.joins().addrs().kick(meta);
            }
        }
    }
    if ctx.active_join().is_active() {
        // SAFETY: our subflow, locked by TCP while it changes state.
        if unsafe { bindings::mptcp_rs_sk_state(ctx.ssk()) } == TCP_CLOSE {
            if let Some(meta) = ctx.meta() {
                crate::join_active::closed(ctx, meta);
            }
        }
        return;
    }
    if !ctx.joined_needs_ack() {
        return;
    }
    let ssk = ctx.ssk();
    // SAFETY: our subflow, locked by TCP while it changes state.
    if unsafe { bindings::mptcp_rs_sk_state(ssk) } == TCP_ESTABLISHED {
        ctx.joined_acked();
        // SAFETY: as above.
        unsafe { bindings::mptcp_rs_tcp_send_ack(ssk) };
    }
}

/// The peer sent its third ACK again (our fourth ACK was lost): acknowledge it.
/// Subflow locked (incoming options).
pub(crate) fn third_ack_again(ctx: &Subflow, skb: *const bindings::sk_buff) {
    if !ctx.is_joined() {
        return;
    }
    // SAFETY: `skb` is being received on the locked subflow.
    let (seq, end) = unsafe {
        (
            bindings::mptcp_rs_skb_seq(skb),
            bindings::mptcp_rs_skb_end_seq(skb),
        )
    };
    if seq == end && seq == ctx.rcv_isn() {
        // SAFETY: our subflow, locked.
        unsafe { bindings::mptcp_rs_tcp_send_ack(ctx.ssk()) };
    }
}
