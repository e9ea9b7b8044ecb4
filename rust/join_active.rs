// SPDX-License-Identifier: GPL-2.0

//! MP_JOIN, active side (RFC 8684 3.2): the in-kernel path manager opens subflows of
//! a connection we initiated, from the namespace's `subflow` endpoints
//! (`ip mptcp endpoint add ADDR [dev DEV] subflow`, `rust/pm.rs`).
//!
//! * When the first subflow of a connection we connected becomes fully established
//!   (the peer's first DSS showed it has our key, as upstream waits for), a work item
//!   is queued ([`fully_established`]) if the namespace has `subflow` endpoints.
//! * An endpoint added later (`ip mptcp endpoint add ADDR subflow` while the
//!   connection lives) queues the work again ([`Work::endpoint_added`], from the
//!   token-table walk of `addr.rs`).
//! * The work ([`work_fn`], process context, meta socket owned) opens one subflow per
//!   endpoint of the connection's address family whose address is not the
//!   connection's own and that has none yet, within the `subflows` limit
//!   (`ip mptcp limits`); a `fullmesh` endpoint opens one to the peer's initial
//!   address and one to each address the peer announced and we accepted (as
//!   upstream's `fill_remote_addresses_vec()`). Each is a kernel TCP
//!   socket bound to the endpoint's address (and device), our subflow context
//!   (`Subflow::attach`, as the first subflow), connected without waiting to the
//!   connection's remote address and port (the peer's initial address, id 0). It then
//!   loses its `struct socket` and is recorded in the connection's [`Joins`] like a
//!   subflow the peer added: received from, closed with the connection, and reaped by
//!   the next read once it died.
//! * SYN ([`syn_options`]): MP_JOIN with the peer's token (from its key), our random
//!   nonce, our address id (the endpoint's id) and the endpoint's `backup` flag.
//! * SYN/ACK ([`synack`]): the peer's truncated HMAC (key: its key ‖ ours; message:
//!   its nonce ‖ ours) is checked; on failure, or without MP_JOIN, the subflow is
//!   reset with MP_TCPRST ("MPTCP error").
//! * Third ACK ([`established_options`]): MP_JOIN with our 160-bit HMAC (key: our key
//!   ‖ the peer's; message: our nonce ‖ the peer's) on every pure ACK until the peer's
//!   first ACK with a DSS (the "fourth ACK") makes the subflow fully established; a
//!   timer sends it again meanwhile (`mptcp_rs_ajoin_timer` in `rust/join_shim.c`,
//!   backing off from twice the SYN's RTT), as the third ACK is reliable. After 8
//!   such resends without the fourth ACK (about 25 s at a 20 ms RTT) the path is
//!   taken as dead and the join reset: it would otherwise stay established without
//!   ever carrying data, and keep its endpoint from being joined again.
//!
//! A failed join (refused, reset, timed out) leaves the connection as it was: the
//! subflow closes, its slot is freed by the next read, the next run of the work or
//! when the connection closes.
//!
//! Re-joining ([`closed`]): when a join of ours that was fully established dies
//! (reset, timeout) while the connection is established, its path worked and may
//! come back: the work runs again after 1 s, then after 2, 4, ... up to 30 s, for as
//! long as an endpoint is left without a live join of ours (a retry refused or reset
//! by the path schedules the next one), until one of our joins gets fully
//! established again (not after a peer's reset whose MP_TCPRST lacks the transient
//! flag). Each run frees the slots of dead joins whose reinjection is
//! queued ([`Joins::reap`]) and opens a subflow from each `subflow` endpoint that
//! still exists and has none. A pending retry is cancelled when the connection
//! closes. A join that never got established (the peer refused it) is not retried.
//! Once fully established, these subflows carry data like any other: the connection
//! is in multi mode from its next `sendmsg` on and the scheduler (`rust/sendq.rs`)
//! places data on them.
//!
//! [`Joins`]: crate::join::Joins
//! [`Joins::reap`]: crate::join::Joins::reap

use crate::bindings;
use crate::join::MAX_JOINED;
use crate::mib::{self, Mib};
use crate::proto::crypto::{hmac_truncated, join_hmac, key_derive};
use crate::proto::options::{MpJoin, MptcpOption, Segment, JOIN_ACK_HMAC_LEN};
use crate::sha256::KernelSha256;
use crate::sock::Meta;
use crate::subflow::{rst_reason, Subflow};
use crate::tcp_state::{
    TCP_CLOSE, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use kernel::prelude::*;

const AF_INET: c_int = 2;
const AF_INET6: c_int = 10;

const TCPHDR_FIN: u8 = 0x01;
const TCPHDR_SYN: u8 = 0x02;
const TCPHDR_RST: u8 = 0x04;

/// The module's workqueue for [`Work`] and the third-ACK timer's callback, for as
/// long as this value lives.
///
/// # Invariants
///
/// `mptcp_rs_join_init()` succeeded; dropped after the last socket (each queued work
/// item holds a meta socket, and sockets pin the module).
pub(crate) struct Registration(());

impl Registration {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: called once at module init, before any socket exists.
        kernel::error::to_result(unsafe {
            bindings::mptcp_rs_join_init(Some(work_fn), Some(third_ack_timer))
        })?;
        Ok(Registration(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: initialised (invariant); no work can be queued any more.
        unsafe { bindings::mptcp_rs_join_exit() };
    }
}

/// A delayed work item of one connection (in its [`crate::join::Joins`]), run on the
/// module's workqueue.
///
/// # Invariants
///
/// `w` is initialised (`mptcp_rs_join_work_init()`) once `state` is [`PMW_READY`],
/// at its final address, and never again; while queued it holds a reference on its
/// meta socket, whose state contains it.
pub(crate) struct PmWork {
    w: UnsafeCell<bindings::mptcp_rs_join_work>,
    state: AtomicU8,
    func: Option<unsafe extern "C" fn(*mut bindings::sock)>,
}

const PMW_NEW: u8 = 0;
const PMW_INIT: u8 = 1;
const PMW_READY: u8 = 2;

impl PmWork {
    /// A work item running `func` (`None`: the join work, [`work_fn`]).
    pub(crate) fn new(func: Option<unsafe extern "C" fn(*mut bindings::sock)>) -> Self {
        PmWork {
            // SAFETY: a plain C struct (work item, pointers): all zero is valid until
            // `mptcp_rs_join_work_init()` initialises it before use.
            w: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            state: AtomicU8::new(PMW_NEW),
            func,
        }
    }

    /// Initialises the item for `meta` (whose state contains `self`) once; a
    /// concurrent caller waits the few instructions that takes. Any context.
    pub(crate) fn init(&self, meta: &Meta) {
        match self
            .state
            .compare_exchange(PMW_NEW, PMW_INIT, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                // SAFETY: `self` is inside the meta socket's state, at its final
                // address; only the winner of the exchange above gets here, once.
                unsafe { bindings::mptcp_rs_join_work_init(self.w.get(), meta.sk(), self.func) };
                self.state.store(PMW_READY, Ordering::Release);
            }
            Err(_) => {
                while self.state.load(Ordering::Acquire) != PMW_READY {
                    core::hint::spin_loop();
                }
            }
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state.load(Ordering::Acquire) == PMW_READY
    }

    /// Runs the work for `meta` after `delay_ms` (an item already pending keeps its
    /// time). Any context.
    pub(crate) fn queue(&self, meta: &Meta, delay_ms: u32) {
        self.init(meta);
        // SAFETY: initialised above; the queued item holds a reference on the meta
        // socket until it ran.
        unsafe { bindings::mptcp_rs_join_work_schedule(self.w.get(), delay_ms) };
    }

    /// Runs the work for `meta` now, also if it was pending for later. Any context.
    pub(crate) fn kick(&self, meta: &Meta) {
        self.init(meta);
        // SAFETY: initialised above; the queued item holds a reference on the meta
        // socket until it ran.
        unsafe { bindings::mptcp_rs_join_work_kick(self.w.get()) };
    }

    /// The connection closes: a pending run is dropped (with its reference). Any
    /// context; the caller holds the meta socket.
    pub(crate) fn cancel(&self) {
        if self.is_ready() {
            // SAFETY: initialised (`is_ready`); the caller's reference outlives the
            // put.
            unsafe { bindings::mptcp_rs_join_work_cancel(self.w.get()) };
        }
    }
}

// SAFETY: the C work item is only touched through the workqueue API, `state` makes its
// initialisation happen once, before any other use.
unsafe impl Send for PmWork {}
// SAFETY: as above.
unsafe impl Sync for PmWork {}

/// First delay of a retry after an established join died (ms).
const RETRY_MIN_MS: u32 = 1000;
/// Longest delay between retries (ms).
const RETRY_MAX_MS: u32 = 30_000;

/// The path manager's join work of one connection (in its [`crate::join::Joins`]).
pub(crate) struct Work {
    w: PmWork,
    /// We initiated the connection and its first subflow is fully established: it
    /// opens subflows from `subflow` endpoints (also from those added later).
    client: AtomicBool,
    /// Subflows were opened (or tried) for the current connection.
    done: AtomicBool,
    /// An established join of ours died: its endpoint is tried again until a join
    /// becomes fully established.
    retrying: AtomicBool,
    /// Delay of the next retry (ms), doubling from [`RETRY_MIN_MS`] up to
    /// [`RETRY_MAX_MS`].
    delay_ms: AtomicU32,
}

impl Work {
    pub(crate) fn new() -> Self {
        Work {
            w: PmWork::new(None),
            client: AtomicBool::new(false),
            done: AtomicBool::new(false),
            retrying: AtomicBool::new(false),
            delay_ms: AtomicU32::new(RETRY_MIN_MS),
        }
    }

    fn queue(&self, meta: &Meta, delay_ms: u32) {
        self.w.queue(meta, delay_ms);
    }

    /// Queues the work for `meta` now, once per connection (first subflow fully
    /// established, its lock held).
    fn schedule(&self, meta: &Meta) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        self.queue(meta, 0);
    }

    /// Whether the connection is ours (we initiated it): only then do `subflow`
    /// endpoints open subflows.
    pub(crate) fn is_client(&self) -> bool {
        self.client.load(Ordering::Acquire)
    }

    /// A `subflow` endpoint was added (netlink, the connection fully established):
    /// a connection we initiated opens its subflows now. Any context.
    pub(crate) fn endpoint_added(&self, meta: &Meta) {
        if !self.client.load(Ordering::Acquire) || crate::pm::subflows_limit(meta.net()) == 0 {
            return;
        }
        self.done.store(true, Ordering::Release);
        // also if a retry was pending for later
        self.w.kick(meta);
    }

    /// Runs the work again later, backing off, while retries are on. Any context.
    fn retry(&self, meta: &Meta) {
        if !self.done.load(Ordering::Acquire) || !self.retrying.load(Ordering::Acquire) {
            return;
        }
        let d = self.delay_ms.load(Ordering::Acquire);
        self.delay_ms
            .store(d.saturating_mul(2).min(RETRY_MAX_MS), Ordering::Release);
        self.queue(meta, d);
        if meta.joins().is_closed() {
            // the connection started closing meanwhile: do not keep it (and the
            // module) for the delay
            self.w.cancel();
        }
    }

    /// One of our joins became fully established: the next outage starts from the
    /// shortest delay again.
    fn joined(&self) {
        self.retrying.store(false, Ordering::Release);
        self.delay_ms.store(RETRY_MIN_MS, Ordering::Release);
    }

    /// The connection closes: a pending retry is dropped (with its reference).
    /// Any context; the caller holds the meta socket.
    pub(crate) fn cancel(&self) {
        self.w.cancel();
    }

    /// A disconnected socket may connect anew: its next connection opens subflows too.
    pub(crate) fn reset(&self) {
        self.client.store(false, Ordering::Release);
        self.done.store(false, Ordering::Release);
        self.joined();
    }
}

/// Flags of [`ActiveJoin`].
mod ajf {
    /// The subflow is one we open with MP_JOIN.
    pub(super) const ACTIVE: u8 = 1 << 0;
    /// We ask for a backup subflow.
    pub(super) const BACKUP: u8 = 1 << 1;
    /// The third-ACK timer is initialised (and must be stopped at release).
    pub(super) const TIMER: u8 = 1 << 2;
    /// The peer asked for a backup subflow (its SYN/ACK).
    pub(super) const PEER_BACKUP: u8 = 1 << 3;
    /// The subflow goes to an address the peer announced (`addr.rs`).
    pub(super) const TO_ANNOUNCED: u8 = 1 << 4;
}

/// The active-join state of a subflow (in its [`Subflow`] context).
///
/// # Invariants
///
/// `timer` is initialised when [`ajf::TIMER`] is set, for the subflow whose context
/// holds `self`, and stays at this address; it is stopped by [`ActiveJoin::stop`]
/// before the context is freed.
pub(crate) struct ActiveJoin {
    flags: AtomicU8,
    local_id: AtomicU8,
    remote_id: AtomicU8,
    local_nonce: AtomicU32,
    remote_nonce: AtomicU32,
    timer: UnsafeCell<bindings::mptcp_rs_ajoin_timer>,
}

impl ActiveJoin {
    pub(crate) fn new() -> Self {
        ActiveJoin {
            flags: AtomicU8::new(0),
            local_id: AtomicU8::new(0),
            remote_id: AtomicU8::new(0),
            local_nonce: AtomicU32::new(0),
            remote_nonce: AtomicU32::new(0),
            // SAFETY: a plain C struct (timer, pointer, numbers): all zero is valid
            // until `mptcp_rs_ajoin_timer_init()` initialises it before use.
            timer: UnsafeCell::new(unsafe { core::mem::zeroed() }),
        }
    }

    /// Whether this subflow is one we open with MP_JOIN.
    pub(crate) fn is_active(&self) -> bool {
        self.flags.load(Ordering::Acquire) & ajf::ACTIVE != 0
    }

    fn has(&self, f: u8) -> bool {
        self.flags.load(Ordering::Acquire) & f != 0
    }

    /// Our address id on this subflow (of any joined subflow).
    pub(crate) fn local_id(&self) -> u8 {
        self.local_id.load(Ordering::Acquire)
    }

    /// The peer's address id on this subflow (of any joined subflow).
    pub(crate) fn remote_id(&self) -> u8 {
        self.remote_id.load(Ordering::Acquire)
    }

    /// Records the address ids of a subflow the peer joined (ours, the peer's).
    pub(crate) fn set_ids(&self, local: u8, remote: u8) {
        self.local_id.store(local, Ordering::Release);
        self.remote_id.store(remote, Ordering::Release);
    }

    /// Makes the subflow an active join from endpoint `id`, before it connects.
    ///
    /// # Safety
    ///
    /// `ssk` is the subflow whose context holds `self`, not connected yet, process
    /// context; called once.
    unsafe fn start(&self, ssk: *mut bindings::sock, id: u8, backup: bool) {
        let mut nonce = 0u32;
        while nonce == 0 {
            // SAFETY: no preconditions.
            nonce = unsafe { bindings::mptcp_rs_random_u64() } as u32;
        }
        self.local_nonce.store(nonce, Ordering::Release);
        self.local_id.store(id, Ordering::Release);
        // SAFETY: per the contract: `timer` stays at this address until `stop`.
        unsafe { bindings::mptcp_rs_ajoin_timer_init(self.timer.get(), ssk) };
        let mut flags = ajf::ACTIVE | ajf::TIMER;
        if backup {
            flags |= ajf::BACKUP;
        }
        self.flags.fetch_or(flags, Ordering::AcqRel);
    }

    /// The subflow is being destroyed (ULP release, its lock held): the timer stops
    /// for good.
    pub(crate) fn stop(&self) {
        if self.has(ajf::TIMER) {
            // SAFETY: initialised (type invariant); its callback never waits for the
            // subflow's lock, which our caller holds.
            unsafe { bindings::mptcp_rs_ajoin_timer_stop(self.timer.get()) };
        }
    }
}

/// Runs the path manager's work for meta socket `sk`: opens the subflows of its
/// endpoints (again, for those whose join died). Process context, from the module's
/// workqueue; the queued item held a reference on `sk`, dropped by the caller after
/// this returns.
extern "C" fn work_fn(sk: *mut bindings::sock) {
    // SAFETY: `sk` is a live meta socket (the work item's reference).
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return;
    };
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    if carries_data(meta) && !meta.is_fallback() && !meta.joins().is_closed() {
        // dead joins whose reinjection is queued free their slots first
        meta.joins().reap(meta);
        if !open_subflows(meta) {
            // an endpoint is still without a subflow: later
            meta.joins().active_work().retry(meta);
        }
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
}

/// Whether the connection still carries data one way or the other (established, or
/// only one direction closed): subflows are worth opening.
fn carries_data(meta: &Meta) -> bool {
    matches!(
        meta.state(),
        TCP_ESTABLISHED | TCP_CLOSE_WAIT | TCP_FIN_WAIT1 | TCP_FIN_WAIT2
    )
}

/// Whether some joined subflow of `meta` (its slot's socket and context) passes
/// `f`. The meta socket is owned.
fn any_join(meta: &Meta, f: impl Fn(*mut bindings::sock, &Subflow) -> bool) -> bool {
    (0..meta.joins().slot_count()).any(|i| {
        let ssk = meta.joins().ssk_at(i);
        if ssk.is_null() {
            return false;
        }
        // SAFETY: a slot's subflow, alive while the meta socket is owned (`Joins`).
        unsafe { Subflow::from_sk(ssk) }.is_some_and(|ctx| f(ssk, ctx))
    })
}

/// Whether `meta` has a live join of ours from our address id `local` to the
/// peer's address `to`: the address it announced with that id, or (`None`) its
/// initial address. The meta socket is owned.
pub(crate) fn has_live_join(meta: &Meta, local: u8, to: Option<u8>) -> bool {
    any_join(meta, |ssk, ctx| {
        let aj = ctx.active_join();
        let target = aj
            .has(ajf::TO_ANNOUNCED)
            .then(|| aj.remote_id.load(Ordering::Acquire));
        // SAFETY: a slot's subflow, alive while the meta socket is owned (a lockless
        // read of the state).
        aj.is_active()
            && aj.local_id.load(Ordering::Acquire) == local
            && target == to
            && unsafe { bindings::mptcp_rs_sk_state(ssk) } != TCP_CLOSE
    })
}

/// Whether some joined subflow that is not closing (upstream leaves out those in
/// FIN-WAIT-1/2, CLOSING and CLOSE) uses our address id `local`, whoever opened it
/// and to whichever address. The meta socket is owned.
pub(crate) fn local_id_in_use(meta: &Meta, local: u8) -> bool {
    any_join(meta, |ssk, ctx| {
        // SAFETY: a slot's subflow, alive while the meta socket is owned (a lockless
        // read of the state).
        let state = unsafe { bindings::mptcp_rs_sk_state(ssk) };
        ctx.active_join().local_id() == local
            && !matches!(
                state,
                TCP_FIN_WAIT1 | TCP_FIN_WAIT2 | TCP_CLOSING | TCP_CLOSE
            )
    })
}

/// Opens the subflows of each `subflow` endpoint that fits and has none, within the
/// limit: to the peer's initial address, and for a `fullmesh` endpoint also to each
/// address the peer announced and we accepted (upstream's
/// `fill_remote_addresses_vec()`). The meta socket is owned. False if some are left
/// unopened.
fn open_subflows(meta: &Meta) -> bool {
    let net = meta.net();
    let limit = usize::from(crate::pm::subflows_limit(net)).min(MAX_JOINED);
    // at most as many local addresses as upstream's `MPTCP_PM_ADDR_MAX`
    let mut eps = [bindings::mptcp_rs_pm_endpoint::default(); crate::addr::MAX_ADDRS];
    let n = crate::pm::subflow_endpoints(net, &mut eps);
    // SAFETY: `meta.sk()` is live and owned.
    let v4 = unsafe { bindings::mptcp_rs_join_conn_is_v4(meta.sk()) };
    let family = if v4 { AF_INET } else { AF_INET6 };
    let mut remotes = [bindings::mptcp_rs_pm_endpoint::default(); crate::addr::MAX_ADDRS];
    let mut all = true;
    for ep in eps.iter().take(n) {
        if c_int::from(ep.family) != family {
            continue;
        }
        // SAFETY: as above; `ep` is a valid endpoint.
        if unsafe { bindings::mptcp_rs_join_ep_is_local(meta.sk(), ep) } {
            continue;
        }
        let nr = if ep.flags & bindings::MPTCP_RS_PM_FLAG_FULLMESH != 0 {
            crate::addr::accepted_remotes(meta, family as u16, &mut remotes)
        } else {
            0
        };
        // the peer's initial address first (unless its MP_CAPABLE's "C" flag denies
        // joins there), then its announced ones
        let initial = (!meta.remote_deny_join_id0()).then_some(None);
        let targets = Iterator::chain(initial.into_iter(), remotes.iter().take(nr).map(Some));
        for to in targets {
            if has_live_join(meta, ep.id, to.map(|t| t.id)) {
                continue;
            }
            if meta.joins().count() >= limit || !connect_one(meta, ep, family, to) {
                all = false;
            }
        }
    }
    all
}

/// Opens one subflow from endpoint `ep` (see the module documentation) to the
/// connection's remote address, or to `to` (an address the peer announced,
/// `addr.rs`). The meta socket is owned. False if it could not be opened.
pub(crate) fn connect_one(
    meta: &Meta,
    ep: &bindings::mptcp_rs_pm_endpoint,
    family: c_int,
    to: Option<&bindings::mptcp_rs_pm_endpoint>,
) -> bool {
    let net = meta.net();
    let sk = meta.sk();
    let mut sf: *mut bindings::socket = ptr::null_mut();
    // SAFETY: `sk` is live and owned; `sf` receives a new kernel socket.
    if unsafe { bindings::mptcp_rs_subflow_create(sk, family, &mut sf) } != 0 {
        mib::inc(net, Mib::MPJoinSynTxCreatSkErr);
        return false;
    }
    // SAFETY: `sf` is a fresh, unconnected TCP socket.
    let ssk = unsafe { bindings::mptcp_rs_sf_sk(sf) };
    // SAFETY: as above.
    let ctx = match unsafe { Subflow::attach(sk, ssk) } {
        // SAFETY: attached just now.
        Ok(()) => unsafe { Subflow::from_sk(ssk) },
        Err(_) => None,
    };
    let Some(ctx) = ctx else {
        mib::inc(net, Mib::MPJoinSynTxCreatSkErr);
        // SAFETY: ours to release (its context, if any, goes with it).
        unsafe { bindings::mptcp_rs_sf_release(sf) };
        return false;
    };
    let backup = ep.flags & bindings::MPTCP_RS_PM_FLAG_BACKUP != 0;
    // SAFETY: `ssk` is the subflow of `ctx`, not connected, process context.
    unsafe { ctx.active_join().start(ssk, ep.id, backup) };
    if let Some(to) = to {
        ctx.active_join().remote_id.store(to.id, Ordering::Release);
        ctx.active_join()
            .flags
            .fetch_or(ajf::TO_ANNOUNCED, Ordering::AcqRel);
    }
    // SAFETY: our unconnected subflow socket; `ep` is valid.
    if unsafe { bindings::mptcp_rs_join_bind(sf, ep) } != 0 {
        mib::inc(net, Mib::MPJoinSynTxBindErr);
        // SAFETY: ours to release.
        unsafe { bindings::mptcp_rs_sf_release(sf) };
        return false;
    }
    // the congestion control chosen on the MPTCP socket, before the subflow's starts
    meta.cc().apply_new(meta, ssk);
    crate::sockopt_sync::new_subflow(meta, ssk);
    let err = match to {
        // SAFETY: as above; `sk` is live and owned, `to` valid.
        Some(to) => unsafe { bindings::mptcp_rs_addr_connect(sf, sk, to) },
        // SAFETY: as above; `sk` is live and owned.
        None => unsafe { bindings::mptcp_rs_join_connect(sf, sk) },
    };
    if err != 0 {
        mib::inc(net, Mib::MPJoinSynTxConnectErr);
        // SAFETY: ours to release.
        unsafe { bindings::mptcp_rs_sf_release(sf) };
        return false;
    }
    mib::inc(net, Mib::MPJoinSynTx);
    // SAFETY: `sf` is ours; afterwards the reference it had is the slot's (below).
    let ssk = unsafe { bindings::mptcp_rs_join_detach(sf) };
    if !meta.joins().add(meta, ssk) {
        // SAFETY: the reference the detached socket had, ours to drop.
        unsafe { bindings::mptcp_rs_joined_close(ssk) };
        return false;
    }
    true
}

/// The first subflow of `meta` (or an active join, `ctx`) became fully established:
/// the connection may open its subflows now. Subflow locked.
pub(crate) fn fully_established(ctx: &Subflow, meta: &Meta) {
    if ctx.active_join().is_active() {
        // an active join's fourth ACK (its timer stops by itself): the path works
        meta.joins().active_work().joined();
        return;
    }
    if ctx.ssk() != meta.first_ssk() || meta.is_fallback() {
        return;
    }
    crate::pm_events::established(meta, ctx, false);
    // our `signal` endpoints are announced (`addr.rs`)
    crate::addr::fully_established(meta, ctx.ssk());
    if meta.userspace_pm() {
        // the userspace path manager opens the subflows (`pm_userspace.rs`)
        return;
    }
    meta.joins()
        .active_work()
        .client
        .store(true, Ordering::Release);
    let net = meta.net();
    if crate::pm::subflows_limit(net) == 0 || !crate::pm::has_subflow_endpoints(net) {
        return;
    }
    meta.joins().active_work().schedule(meta);
}

/// Active join `ctx` of `meta` closed (reset, timed out, refused). If it had been
/// fully established, its path worked and may come back: its endpoint is tried
/// again after a delay, backing off, while the connection is established, the
/// endpoint exists and no join of ours got fully established again — unless the
/// peer reset it with an MP_TCPRST that does not say transient (which upstream
/// never does). Subflow locked
/// (its `state_change`).
pub(crate) fn closed(ctx: &Subflow, meta: &Meta) {
    if meta.joins().is_closed() || !carries_data(meta) {
        return;
    }
    let work = meta.joins().active_work();
    // a reset whose MP_TCPRST lacks the T flag says the error is not transient (RFC
    // 8684 3.6): its path is not tried again. (Upstream, like us, never sets the
    // flag: no reset that carries MP_TCPRST is retried; a path that went silent,
    // or a plain reset, is.)
    let lasting =
        ctx.has(crate::subflow::sf::RST_SEEN) && !ctx.has(crate::subflow::sf::RST_TRANSIENT);
    if ctx.has(crate::subflow::sf::FULLY_ESTABLISHED) && !lasting {
        work.retrying.store(true, Ordering::Release);
    }
    work.retry(meta);
}

/// MP_JOIN for the SYN of active join `ctx`: `Some(size)`, or `None` if it does not
/// fit.
pub(crate) fn syn_options(
    ctx: &Subflow,
    meta: &Meta,
    opts: *mut bindings::mptcp_out_options,
) -> Option<c_uint> {
    let aj = ctx.active_join();
    let token = key_derive::<KernelSha256>(meta.remote_key()).token;
    let opt = MptcpOption::MpJoin(MpJoin::Syn {
        backup: aj.has(ajf::BACKUP),
        addr_id: aj.local_id.load(Ordering::Acquire),
        token,
        nonce: aj.local_nonce.load(Ordering::Acquire),
    });
    crate::subflow::stash(opts, &opt)
}

/// The SYN/ACK of active join `ctx` (TCP has just made the subflow ESTABLISHED): the
/// peer's MP_JOIN is checked, and the subflow is reset if it fails.
///
/// # Safety
///
/// `skb` is the SYN/ACK being processed on `ctx`'s subflow, locked by TCP; the meta
/// socket's spinlock is not held.
pub(crate) unsafe fn synack(ctx: &Subflow, meta: &Meta, skb: *const bindings::sk_buff) {
    let net = meta.net();
    let aj = ctx.active_join();
    // SAFETY: per the contract.
    let opt = unsafe { crate::subflow::find_option(skb, Segment::SynAck) };
    let Some(MptcpOption::MpJoin(MpJoin::SynAck {
        backup,
        addr_id,
        truncated_hmac,
        nonce,
    })) = opt
    else {
        // a join cannot fall back to TCP
        // SAFETY: per the contract.
        unsafe { ctx.active_join_reset(rst_reason::MPTCP_ERROR) };
        return;
    };
    let local_nonce = aj.local_nonce.load(Ordering::Acquire);
    let expected = hmac_truncated(&join_hmac::<KernelSha256>(
        meta.remote_key(),
        meta.local_key(),
        nonce,
        local_nonce,
    ));
    if expected != truncated_hmac {
        mib::inc(net, Mib::MPJoinSynAckHMacFailure);
        // SAFETY: per the contract.
        unsafe { ctx.active_join_reset(rst_reason::MPTCP_ERROR) };
        return;
    }
    if meta.is_fallback() || meta.is_failing() || meta.joins().is_closed() {
        // the connection cannot take the subflow any more
        // SAFETY: per the contract.
        unsafe { ctx.active_join_reset(rst_reason::UNSPECIFIED) };
        return;
    }
    aj.remote_nonce.store(nonce, Ordering::Release);
    aj.remote_id.store(addr_id, Ordering::Release);
    if backup {
        aj.flags.fetch_or(ajf::PEER_BACKUP, Ordering::AcqRel);
    }
    ctx.set_peer_backup(backup);
    // either end asking for a backup subflow makes it one for our scheduler (as
    // upstream: the peer's SYN/ACK B flag is its request, ours is our endpoint's)
    ctx.set_backup(backup || aj.has(ajf::BACKUP));
    ctx.active_join_established(meta);
    mib::inc(net, Mib::MPJoinSynAckRx);
    meta.set_had_join();
    // SAFETY: both are live sockets.
    if !unsafe { bindings::mptcp_rs_same_dport(ctx.ssk(), meta.sk()) } {
        // to the port of an address the peer announced with one
        mib::inc(net, Mib::MPJoinPortSynAckRx);
    }
    if backup {
        mib::inc(net, Mib::MPJoinSynAckBackupRx);
    }
    crate::pm_events::sub_established(meta, ctx);
    // TCP sends the third ACK right after this; the timer repeats it until the
    // fourth ACK.
    // SAFETY: initialised when the join started (type invariant of `ActiveJoin`).
    unsafe { bindings::mptcp_rs_ajoin_timer_start(aj.timer.get()) };
}

/// The third ACK of active join `ctx`: MP_JOIN with our HMAC on a pure ACK until the
/// subflow is fully established. `None` for any other segment (the caller goes on).
pub(crate) fn established_options(
    ctx: &Subflow,
    meta: &Meta,
    len: u32,
    flags: u8,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> Option<c_int> {
    let aj = ctx.active_join();
    if !aj.is_active()
        || ctx.has(crate::subflow::sf::FULLY_ESTABLISHED)
        || len != 0
        || flags & (TCPHDR_FIN | TCPHDR_SYN | TCPHDR_RST) != 0
    {
        return None;
    }
    let mac = join_hmac::<KernelSha256>(
        meta.local_key(),
        meta.remote_key(),
        aj.local_nonce.load(Ordering::Acquire),
        aj.remote_nonce.load(Ordering::Acquire),
    );
    let mut hmac = [0u8; JOIN_ACK_HMAC_LEN];
    hmac.copy_from_slice(
        mac.get(..JOIN_ACK_HMAC_LEN)
            .unwrap_or(&[0; JOIN_ACK_HMAC_LEN]),
    );
    let opt = MptcpOption::MpJoin(MpJoin::Ack { hmac });
    if !opt.wire_len().is_ok_and(|n| n as c_uint <= remaining) {
        // no room (the option stays off this ACK; the next one carries it)
        return Some(-1);
    }
    Some(crate::subflow::stash(opts, &opt).map_or(-1, |n| n as c_int))
}

/// A segment of active join `ctx` before its fourth ACK carried no MPTCP option: a
/// join cannot fall back (RFC 8684 3.2), the subflow is reset.
///
/// # Safety
///
/// The subflow is locked (incoming segment), the meta spinlock not held.
pub(crate) unsafe fn no_option(ctx: &Subflow) {
    // SAFETY: per the contract.
    unsafe { ctx.active_join_reset(rst_reason::MPTCP_ERROR) };
}

/// The third-ACK timer of subflow `ssk` fired: sends the third ACK again unless the
/// fourth arrived or the subflow is gone; true to fire again later. Its `last`
/// expiry resets the join instead (see the module documentation). Softirq, subflow
/// spinlock held and not owned by a task (`rust/join_shim.c`).
extern "C" fn third_ack_timer(ssk: *mut bindings::sock, last: bool) -> bool {
    // SAFETY: the timer is stopped before the subflow's context goes.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return false;
    };
    // SAFETY: `ssk` is live (see above) and locked.
    let state = unsafe { bindings::mptcp_rs_sk_state(ssk) };
    if ctx.has(crate::subflow::sf::FULLY_ESTABLISHED) || state != TCP_ESTABLISHED {
        return false;
    }
    if last {
        // SAFETY: locked, not owned by a task, the meta spinlock not held (the
        // timer's context, as an incoming segment's).
        unsafe { ctx.active_join_reset(rst_reason::UNSPECIFIED) };
        return false;
    }
    // SAFETY: as above; our `established_options` puts MP_JOIN on it.
    unsafe { bindings::mptcp_rs_tcp_send_ack(ssk) };
    true
}
