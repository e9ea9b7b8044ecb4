// SPDX-License-Identifier: GPL-2.0

//! Subflows: the TCP connections of an MPTCP connection.
//!
//! A subflow is a kernel TCP socket with `is_mptcp` set, our context in its ULP slot
//! (`icsk_ulp_data`, freed by the ULP `release` when TCP destroys the socket), our copy
//! of its address-family ops (to see the SYN/ACK) and our socket callbacks (to wake
//! and feed the meta socket). The TCP stack calls the dispatch hooks for it; they are
//! implemented here: MP_CAPABLE on the SYN, the third ACK and the first data segment,
//! DSS mappings and DATA_ACKs on every later segment, DATA_FIN on the subflow's FIN.
//!
//! Send side: the meta socket writes through `tcp_sendmsg_locked()` on the subflow, so
//! subflow sequence numbers map linearly to data sequence numbers
//! (`dsn = snd_dsn_base + (seq - snd_isn)`); the mapping of any segment, first
//! transmission or retransmission, is computed when TCP writes its options.
//!
//! Receive side: each mapping received is attached to its skb as the kernel's
//! `SKB_EXT_MPTCP` extension; [`Subflow::move_to_meta`] walks the subflow's receive
//! queue in order, tracks the mapping in force, and moves the data to the meta
//! socket's receive or out-of-order queue by data sequence number.

use crate::bindings;
use crate::join::SynVerdict;
use crate::proto::crypto::key_derive;
use crate::proto::csum::{self, PieceSum, Sum};
use crate::proto::options::{
    mpc_flags, parse, Dss, DssMap, MpCapable, MpJoin, MpcData, MptcpOption, Segment, TcpOptions,
    TCPOPT_MPTCP,
};
use crate::proto::seq::{after64, expand_seq32};
use crate::proto::sndmap::SndMap;
use crate::sha256::KernelSha256;
use crate::sock::Meta;
use crate::tcp_state::{TCP_CLOSE, TCP_SYN_SENT};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A protocol violation by the peer.
/// A DSS checksum failed (EBADMSG, as upstream reports it on the subflow).
fn ebadmsg() -> Error {
    Error::from_errno(-74)
}

fn eproto() -> Error {
    Error::from_errno(-71)
}

const AF_INET6: c_int = 10;

/// TCP header flags as in `TCP_SKB_CB(skb)->tcp_flags`.
const TCPHDR_FIN: u8 = 0x01;
const TCPHDR_SYN: u8 = 0x02;
const TCPHDR_RST: u8 = 0x04;

/// Subflow flags.
pub(crate) mod sf {
    /// MP_CAPABLE was sent on our SYN.
    pub(crate) const MPC_SYN_SENT: u32 = 1 << 0;
    /// The peer answered MP_CAPABLE: this is an MPTCP subflow.
    pub(crate) const MP_CAPABLE: u32 = 1 << 1;
    /// The peer showed it has our key (a DSS arrived): no more MP_CAPABLE on the ACK.
    pub(crate) const FULLY_ESTABLISHED: u32 = 1 << 2;
    /// The handshake outcome is known (SYN/ACK seen).
    pub(crate) const HANDSHAKE_DONE: u32 = 1 << 3;
    /// The first data segment carried MP_CAPABLE with its mapping.
    pub(crate) const MPC_DATA_SENT: u32 = 1 << 4;
    /// Our reset of this subflow carries MP_FASTCLOSE (the connection is aborted).
    pub(crate) const SEND_FASTCLOSE: u32 = 1 << 5;
    /// MP_FAIL (DSN in `fail_dsn`) waits for the next pure ACK.
    pub(crate) const SEND_MP_FAIL: u32 = 1 << 6;
    /// We sent MP_FAIL: the peer's infinite mapping ends MPTCP on this connection.
    pub(crate) const FAIL_SENT: u32 = 1 << 7;
    /// The peer sent MP_FAIL: our next data segment carries an infinite mapping and
    /// the connection falls back to TCP (RFC 8684 3.7).
    pub(crate) const SEND_INFINITE_MAP: u32 = 1 << 8;
    /// A subflow the peer added with MP_JOIN (see `join.rs`).
    pub(crate) const JOINED: u32 = 1 << 9;
    /// ... whose establishment we acknowledged (the "fourth ACK").
    pub(crate) const JOIN_ACKED: u32 = 1 << 10;
    /// Our mappings come from the send map (multi mode, `sendq.rs`), not from the
    /// linear `snd_dsn_base` rule.
    pub(crate) const SEND_MAP: u32 = 1 << 11;
    /// The subflow died or stalled and what it carried was queued for reinjection;
    /// cleared when it takes data again.
    pub(crate) const STALL_HANDLED: u32 = 1 << 12;
    /// A backup subflow: the scheduler uses it only when no other can take data.
    pub(crate) const BACKUP: u32 = 1 << 13;
    /// MP_PRIO (with [`BACKUP`]'s value) waits for the next pure ACK.
    pub(crate) const SEND_MP_PRIO: u32 = 1 << 14;
    /// The peer asked for this subflow to be a backup (the B flag of its MP_JOIN, or
    /// its last MP_PRIO): what upstream's events report as `backup`.
    pub(crate) const PEER_BACKUP: u32 = 1 << 15;
    /// `MPTCP_EVENT_SUB_CLOSED` was sent (or is not due) for this subflow.
    pub(crate) const CLOSE_EVENT: u32 = 1 << 16;
    /// The peer's reset carried MP_TCPRST (reason in `rcv_rst_reason`) ...
    pub(crate) const RST_SEEN: u32 = 1 << 17;
    /// ... with the T (transient) flag.
    pub(crate) const RST_TRANSIENT: u32 = 1 << 18;
    /// The subflow was seen timed out (`established_options`): the writers were
    /// woken once for it; cleared when it is seen alive again.
    pub(crate) const TIMEOUT_WOKE: u32 = 1 << 19;
    /// Our reset of this subflow carries MP_FAIL (DSN in `fail_dsn`): a DSS checksum
    /// failed where the connection cannot fall back to TCP.
    pub(crate) const RST_MP_FAIL: u32 = 1 << 20;
    /// The receive queue holds data that cannot go to the connection now: the start
    /// of a checksummed mapping that is checked whole and did not all arrive yet,
    /// or data the connection has no room for (its buffer is full, e.g. of
    /// out-of-order data behind a hole that another subflow is to fill): no
    /// reader is woken for it (`rcv_waiting`); the next move tries again.
    pub(crate) const RCV_HELD: u32 = 1 << 21;
    /// The subflow timed out ([`sf::TIMEOUT_WOKE`]) while another one was alive: it
    /// counts as stale (`SubflowStale`) until it makes progress (`SubflowRecover`).
    pub(crate) const STALE: u32 = 1 << 22;
    /// Part of [`sf::RCV_HELD`]: the connection refused the memory for the data at
    /// the head of the receive queue (not a mapping that is not whole yet, which only
    /// more data on this subflow completes). Readers try it again
    /// (`subflow::rcv_held`).
    pub(crate) const RCV_NOMEM: u32 = 1 << 23;
    /// The DATA_ACKs of this subflow's data segments are 64-bit: the connection's
    /// [`Meta::peer_dsn64`] as the subflow last received a DSS
    /// ([`Subflow::take_dss_widths`]).
    pub(crate) const ACK64: u32 = 1 << 24;
    /// The DSNs of this subflow's mappings are 64-bit: the connection's
    /// [`Meta::dsn64`], taken as [`sf::ACK64`].
    pub(crate) const DSN64: u32 = 1 << 25;
    /// The connection dropped this subflow (connect(AF_UNSPEC)) and may connect
    /// again with a new one: what still arrives on this one (its FIN exchange, the
    /// peer's DATA_FIN sent again) is no longer the connection's.
    pub(crate) const DETACHED: u32 = 1 << 26;
}

/// Whether data that can go to the connection waits on subflow `ssk`: its receive
/// queue is not empty, and does not only hold data held back ([`sf::RCV_HELD`]:
/// a mapping that is not whole yet, or no room in the connection), nor what a
/// subflow reset for a failed checksum still holds ([`sf::RST_MP_FAIL`]). Lockless
/// (`poll`, a reader's wait, `close`).
///
/// # Safety
///
/// `ssk` is a TCP socket, held or under the RCU read lock.
pub(crate) unsafe fn rcv_waiting(ssk: *mut bindings::sock) -> bool {
    // SAFETY: per the caller.
    if unsafe { bindings::mptcp_rs_rcv_queue_empty(ssk) } {
        return false;
    }
    // SAFETY: per the caller; a stale answer only makes the reader look once more.
    unsafe { Subflow::from_sk(ssk) }.is_none_or(|c| !c.has(sf::RCV_HELD | sf::RST_MP_FAIL))
}

/// Whether subflow `ssk` holds back data the connection had no memory for when it
/// came ([`sf::RCV_NOMEM`]). Nothing wakes a reader for it, and the subflow may
/// receive nothing more that would move it (its window is closed), so a reader that
/// finds the connection's queue empty tries it again. Lockless.
///
/// # Safety
///
/// `ssk` is a TCP socket, held or under the RCU read lock.
pub(crate) unsafe fn rcv_held(ssk: *mut bindings::sock) -> bool {
    // SAFETY: per the caller.
    if unsafe { bindings::mptcp_rs_rcv_queue_empty(ssk) } {
        return false;
    }
    // SAFETY: per the caller; a stale answer only makes the reader look once more.
    unsafe { Subflow::from_sk(ssk) }
        .is_some_and(|c| c.has(sf::RCV_NOMEM) && !c.has(sf::RST_MP_FAIL))
}

/// MP_TCPRST reason codes (RFC 8684 3.6).
pub(crate) mod rst_reason {
    /// Unspecified error.
    pub(crate) const UNSPECIFIED: u8 = 0;
    /// MPTCP-specific error: the peer broke the protocol (data outside its mapping).
    pub(crate) const MPTCP_ERROR: u8 = 1;
    /// Middlebox interference: a DSS checksum failed.
    pub(crate) const MIDDLEBOX: u8 = 6;
}

/// A received mapping: `len` bytes from relative subflow sequence number `ssn` carry
/// data sequence numbers from `dsn`.
#[derive(Clone, Copy, Default)]
struct RcvMap {
    dsn: u64,
    ssn: u32,
    len: u32,
    /// The mapping's DATA_FIN (the DSN after its data), if it carries one.
    data_fin: bool,
    /// Checksum to verify over the whole mapping, when checksums are in use.
    csum: Option<u16>,
    /// Sum of the mapping's payload seen so far, and how many bytes that was.
    sum: PieceSum,
    valid: bool,
}

impl RcvMap {
    /// Checks the DSS checksum of the whole mapping at once from `payload`, the sum
    /// of all its bytes; afterwards, the bytes taken off the subflow add nothing.
    fn check_whole(&mut self, payload: Sum, meta: &Meta) -> Result {
        let Some(expected) = self.csum else {
            self.sum.finish(self.len);
            return Ok(());
        };
        self.verdict(payload, expected, meta)?;
        self.sum.finish(self.len);
        Ok(())
    }

    /// The DSS checksum `expected` against `payload`, the sum of the whole
    /// mapping's bytes (`DataCsumErr` when it fails).
    fn verdict(&self, payload: Sum, expected: u16, meta: &Meta) -> Result {
        let data_len = (self.len + u32::from(self.data_fin)) as u16;
        if csum::dss_checksum_ok(self.dsn, self.ssn, data_len, payload, expected) {
            Ok(())
        } else {
            crate::mib::inc(meta.net(), crate::mib::Mib::DataCsumErr);
            Err(ebadmsg())
        }
    }

    /// The part of a segment holding bytes `off..off + len` of the mapping that the
    /// checksum still needs ([`PieceSum::unsummed_part`]), when checksums are in use.
    /// A segment can begin before the bytes summed when it repeats bytes the subflow
    /// already had (a retransmission that joined a lost segment to one that
    /// arrived); those were summed once already.
    fn unsummed_part(&self, off: u32, len: u32) -> Option<(u32, u32)> {
        self.csum?;
        self.sum.unsummed_part(off, len)
    }

    /// Adds `piece`, the sum of the mapping's next bytes (taken off the subflow, as
    /// [`RcvMap::unsummed_part`] named them), and checks the DSS checksum once the
    /// whole mapping was summed. Bytes that arrived under another mapping leave a
    /// gap: that mapping is not checked (TCP retransmissions may regroup data into
    /// new mappings).
    fn account(&mut self, piece: Option<CsumPiece>, meta: &Meta) -> Result {
        let (Some(expected), Some(piece)) = (self.csum, piece) else {
            return Ok(());
        };
        self.sum.add(piece.sum, piece.len);
        if self.sum.summed() != self.len {
            return Ok(());
        }
        self.verdict(self.sum.sum(), expected, meta)
    }
}

/// The sum of the mapping's next `len` bytes, for [`RcvMap::account`].
#[derive(Clone, Copy)]
struct CsumPiece {
    len: u32,
    sum: Sum,
}

/// Receive state, only touched with the subflow socket locked.
struct RcvState {
    map: RcvMap,
}

/// The context of one subflow.
///
/// # Invariants
///
/// `meta` is a meta socket on which this context holds a reference (`sock_hold()`),
/// dropped in [`release`]; `ssk` is the subflow socket whose ULP data points here.
/// `rcv` is only accessed with `ssk` locked (owned, or its spinlock held).
pub(crate) struct Subflow {
    /// Null on a listener's child until its meta socket exists (`syn_recv_sock`).
    meta: AtomicPtr<bindings::sock>,
    ssk: *mut bindings::sock,
    /// The callbacks TCP had installed, called from ours.
    cbs: bindings::mptcp_rs_sk_callbacks,
    flags: AtomicU32,
    /// Sequence number of our first data byte (ISN + 1).
    snd_isn: AtomicU32,
    /// Sequence number of the peer's first data byte (its ISN + 1).
    rcv_isn: AtomicU32,
    /// DSN of the byte at `snd_isn`.
    snd_dsn_base: AtomicU64,
    /// DSN for the byte at `rcv_isn` when the connection fell back (infinite mapping).
    rcv_fallback_base: AtomicU64,
    /// MP_TCPRST reason carried by a reset we send (`MPTCP_RST_*`).
    reset_reason: AtomicU8,
    /// MP_TCPRST reason of the peer's reset ([`sf::RST_SEEN`]).
    rcv_rst_reason: AtomicU8,
    /// DSN our MP_FAIL names: the start of the mapping that failed its checksum (or
    /// the peer's, echoed).
    fail_dsn: AtomicU64,
    /// When our MP_FAIL goes unanswered too long (`jiffies` in ms, 0: no MP_FAIL
    /// awaits an answer): [`mp_fail_check`].
    fail_deadline_ms: AtomicU32,
    rcv: UnsafeCell<RcvState>,
    /// Send-side extents (multi mode), used under the subflow's lock only.
    snd_map: UnsafeCell<SndMap>,
    /// `redundant` scheduler: DSN up to which this subflow got its copy.
    red_nxt: AtomicU64,
    /// When the scheduler last placed data on this subflow (ms, jiffies clock;
    /// 0: never), for its stale-estimate probe (`rust/sendq.rs`).
    placed_ms: AtomicU32,
    /// The state of a subflow we open with MP_JOIN (`join_active.rs`).
    ajoin: crate::join_active::ActiveJoin,
    /// Closes a joined subflow of a connection that ends without an owner
    /// ([`Subflow::close_later`]); used at most once.
    close_work: UnsafeCell<bindings::mptcp_rs_close_work>,
    /// Clones of what the first subflow held when a reset arrived on it
    /// ([`Subflow::rescue_held`]), for the copy of what direct mode wrote
    /// (`sendq::adopt_direct`); null: none. Set and taken with the subflow locked;
    /// freed at the latest with the context.
    rescued: AtomicPtr<bindings::sk_buff_head>,
    /// For freeing the context after an RCU grace period (`release`).
    rcu: Opaque<bindings::callback_head>,
}

// SAFETY: the fields shared between contexts are atomics; `rcv` is only used under the
// subflow's socket lock (type invariant); `close_work` once, by the one context that
// took the subflow from its slot (`Subflow::close_later`); the raw pointers are
// references counted by the kernel.
unsafe impl Send for Subflow {}
// SAFETY: as above.
unsafe impl Sync for Subflow {}

/// The ULP ops of our subflows: `release` frees the context; `owner` pins the module
/// while any subflow exists.
struct UlpOps(UnsafeCell<bindings::tcp_ulp_ops>);
// SAFETY: written once in `init()` before any subflow exists, read-only afterwards.
unsafe impl Sync for UlpOps {}

static ULP_OPS: UlpOps = UlpOps(UnsafeCell::new(bindings::tcp_ulp_ops {
    list: bindings::list_head {
        next: ptr::null_mut(),
        prev: ptr::null_mut(),
    },
    init: None,
    update: None,
    release: Some(release),
    get_info: Some(bindings::mptcp_rs_subflow_get_info),
    get_info_size: Some(bindings::mptcp_rs_subflow_get_info_size),
    clone: Some(clone),
    // what getsockopt(TCP_ULP) reports for a subflow, as upstream
    name: [
        b'm' as c_char,
        b'p' as c_char,
        b't' as c_char,
        b'c' as c_char,
        b'p' as c_char,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ],
    owner: ptr::null_mut(),
}));

/// Secret for the keys a listener derives per connection (see [`req_key`]).
struct KeySecret(UnsafeCell<[u8; 32]>);
// SAFETY: written once in `init()` before any listener exists, read-only afterwards.
unsafe impl Sync for KeySecret {}
static KEY_SECRET: KeySecret = KeySecret(UnsafeCell::new([0; 32]));

/// The key a listener uses for the connection of request `req`.
///
/// A listener sends its key on the SYN/ACK and needs it again when the third ACK
/// arrives, without storing anything per request: the key is HMAC-SHA256 under a
/// boot-time secret of the connection's addresses, ports and our ISN.
fn req_key(req: *const bindings::request_sock) -> u64 {
    let mut tuple = [0u8; 48];
    // SAFETY: `req` is a live request sock; the buffer is large enough.
    let n = unsafe { bindings::mptcp_rs_req_tuple(req, tuple.as_mut_ptr(), tuple.len()) };
    // SAFETY: read-only after init.
    let secret = unsafe { &*KEY_SECRET.0.get() };
    let mac =
        <KernelSha256 as crate::proto::crypto::Sha256>::hmac(secret, tuple.get(..n).unwrap_or(&[]));
    crate::proto::crypto::hmac_truncated(&mac)
}

/// Module init: our ULP owner and address-family ops. The request sock ops
/// ([`ReqOps`]) exist already.
pub(crate) fn init(module: &'static ThisModule) {
    // SAFETY: no subflow exists yet, nothing else reads `ULP_OPS` concurrently.
    unsafe { (*ULP_OPS.0.get()).owner = module.as_ptr().cast() };
    let mut secret = [0u8; 32];
    for chunk in secret.chunks_mut(8) {
        // SAFETY: no preconditions.
        let r = unsafe { bindings::mptcp_rs_random_u64() }.to_ne_bytes();
        chunk.copy_from_slice(&r);
    }
    // SAFETY: written before any listener exists, read-only afterwards.
    unsafe { *KEY_SECRET.0.get() = secret };
    // SAFETY: copies TCP's exported af ops into the shim's statics, once, before use.
    unsafe {
        bindings::mptcp_rs_af_ops_init(Some(rx_dst_set), Some(syn_recv_sock), Some(req_init))
    };
}

impl Subflow {
    fn new(
        meta: *mut bindings::sock,
        ssk: *mut bindings::sock,
        cbs: bindings::mptcp_rs_sk_callbacks,
    ) -> Self {
        Subflow {
            meta: AtomicPtr::new(meta),
            ssk,
            cbs,
            flags: AtomicU32::new(0),
            snd_isn: AtomicU32::new(0),
            rcv_isn: AtomicU32::new(0),
            snd_dsn_base: AtomicU64::new(0),
            rcv_fallback_base: AtomicU64::new(0),
            reset_reason: AtomicU8::new(rst_reason::UNSPECIFIED),
            rcv_rst_reason: AtomicU8::new(0),
            fail_dsn: AtomicU64::new(0),
            fail_deadline_ms: AtomicU32::new(0),
            rcv: UnsafeCell::new(RcvState {
                map: RcvMap::default(),
            }),
            snd_map: UnsafeCell::new(SndMap::new()),
            red_nxt: AtomicU64::new(0),
            placed_ms: AtomicU32::new(0),
            ajoin: crate::join_active::ActiveJoin::new(),
            // SAFETY: a plain C struct (work item and pointer): all zero is valid
            // until `mptcp_rs_close_work_init()` initialises it before its one use.
            close_work: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            rescued: AtomicPtr::new(ptr::null_mut()),
            rcu: Opaque::uninit(),
        }
    }

    /// Closes this joined subflow from a workqueue (`mptcp_rs_joined_close()`), for
    /// a connection that ends where nothing may sleep. The context stays until the
    /// subflow is destroyed, which that close does at the earliest (the work does
    /// not touch the context afterwards).
    ///
    /// # Safety
    ///
    /// The caller hands over its reference on the subflow, one a recorded join holds
    /// (`Joins`), and calls this at most once per context.
    pub(crate) unsafe fn close_later(&self) {
        // SAFETY: used once (caller's contract), so the work item is idle; the
        // reference goes with it.
        unsafe {
            bindings::mptcp_rs_close_work_init(self.close_work.get());
            bindings::mptcp_rs_close_work_schedule(self.close_work.get(), self.ssk);
        }
    }

    /// The context of `ssk`, if it is one of our subflows.
    ///
    /// # Safety
    ///
    /// `ssk` is a valid TCP socket with `is_mptcp` set or our ULP attached.
    pub(crate) unsafe fn from_sk<'a>(ssk: *const bindings::sock) -> Option<&'a Subflow> {
        // SAFETY: per the safety contract; the ULP data is ours when `is_mptcp` is set
        // (only mptcp_rs sets it) and lives until `release`, after any hook.
        let p = unsafe { bindings::mptcp_rs_subflow_ctx(ssk) } as *const Subflow;
        // SAFETY: a non-null pointer is a live context (see above).
        unsafe { p.as_ref() }
    }

    /// Makes `ssk` (a fresh kernel TCP socket of meta socket `meta`) a subflow.
    ///
    /// # Safety
    ///
    /// Both sockets are valid; `ssk` has no ULP yet and is not connected.
    pub(crate) unsafe fn attach(meta: *mut bindings::sock, ssk: *mut bindings::sock) -> Result {
        let ctx = KBox::new(
            Subflow::new(
                meta,
                ssk,
                bindings::mptcp_rs_sk_callbacks {
                    data_ready: Some(data_ready),
                    state_change: Some(state_change),
                    write_space: Some(write_space),
                    error_report: Some(error_report),
                },
            ),
            GFP_KERNEL,
        )?;
        let ctx = KBox::into_raw(ctx);
        // SAFETY: `meta` is valid; the reference is dropped in `release`.
        unsafe { bindings::mptcp_rs_sock_hold(meta) };
        // SAFETY: `ctx` is ours until `release`; `cbs` receives the old callbacks,
        // which our callbacks call.
        unsafe {
            bindings::mptcp_rs_sk_swap_callbacks(ssk, ptr::addr_of_mut!((*ctx).cbs));
            let ipv6 = bindings::mptcp_rs_sk_family(ssk) == AF_INET6;
            bindings::mptcp_rs_subflow_attach(ssk, ULP_OPS.0.get(), ctx.cast(), ipv6);
            bindings::mptcp_rs_set_is_mptcp(ssk, true);
        }
        Ok(())
    }

    pub(crate) fn meta(&self) -> Option<&Meta> {
        let sk = self.meta.load(Ordering::Acquire);
        if sk.is_null() || self.has(sf::DETACHED) {
            return None;
        }
        // SAFETY: `self.meta` is kept alive by our reference (type invariant).
        unsafe { Meta::from_sk(sk) }
    }

    /// The connection dropped this subflow ([`sf::DETACHED`]): its meta socket is
    /// no longer reached through it (the reference stays until the context goes).
    pub(crate) fn detach(&self) {
        self.set(sf::DETACHED);
    }

    /// A listener's child gets its meta socket (taking over a reference on it).
    pub(crate) fn set_meta(&self, meta: *mut bindings::sock) {
        self.meta.store(meta, Ordering::Release);
    }

    pub(crate) fn ssk(&self) -> *mut bindings::sock {
        self.ssk
    }

    /// A listener's child completing an MP_JOIN of `meta`'s connection: an MPTCP
    /// subflow, fully established, from ISNs `snt_isn` (ours) and `rcv_isn`.
    /// Softirq, child locked.
    pub(crate) fn init_joined(&self, meta: &Meta, snt_isn: u32, rcv_isn: u32) {
        self.snd_isn
            .store(snt_isn.wrapping_add(1), Ordering::Release);
        self.rcv_isn
            .store(rcv_isn.wrapping_add(1), Ordering::Release);
        // we send no data on it: its DSNs would continue the connection's
        self.snd_dsn_base.store(meta.snd_una(), Ordering::Release);
        self.set(sf::HANDSHAKE_DONE | sf::MP_CAPABLE | sf::FULLY_ESTABLISHED | sf::JOINED);
        // SAFETY: the child is locked by our caller.
        unsafe { bindings::mptcp_rs_clamp_gso(self.ssk) };
    }

    pub(crate) fn is_joined(&self) -> bool {
        self.has(sf::JOINED)
    }

    /// A joined subflow whose establishment we did not acknowledge yet.
    pub(crate) fn joined_needs_ack(&self) -> bool {
        self.flags.load(Ordering::Acquire) & (sf::JOINED | sf::JOIN_ACKED) == sf::JOINED
    }

    pub(crate) fn joined_acked(&self) {
        self.set(sf::JOIN_ACKED);
    }

    // Active MP_JOIN (`join_active.rs`).

    /// The active-join state of this subflow.
    pub(crate) fn active_join(&self) -> &crate::join_active::ActiveJoin {
        &self.ajoin
    }

    /// Our MP_JOIN SYN was answered correctly: an MPTCP subflow of `meta`, fully
    /// established once the fourth ACK comes. Subflow locked.
    pub(crate) fn active_join_established(&self, meta: &Meta) {
        // we send no data on it: its DSNs would continue the connection's
        self.snd_dsn_base.store(meta.snd_una(), Ordering::Release);
        self.set(sf::MP_CAPABLE);
    }

    /// Refuses our own join: reset with MP_TCPRST `reason`.
    ///
    /// # Safety
    ///
    /// As for [`Subflow::reset`].
    pub(crate) unsafe fn active_join_reset(&self, reason: u8) {
        self.reset_reason.store(reason, Ordering::Release);
        // the reset carries MPTCP options (MP_TCPRST)
        self.set(sf::MP_CAPABLE);
        // SAFETY: as promised by the caller.
        unsafe { self.reset() };
    }

    /// Takes the connection's DATA_ACK and DSN widths for this subflow's data
    /// segments ([`sf::ACK64`], [`sf::DSN64`]). Only here, in the subflow's receive
    /// path (its lock held): TCP sizes the MSS for those widths
    /// ([`data_dss_size`]) and builds and sends its segments under one hold of the
    /// lock, during which no DSS is received on it, so no data segment's options
    /// outgrow the size its MSS left room for.
    fn take_dss_widths(&self, meta: &Meta) {
        let want = (if meta.peer_dsn64() { sf::ACK64 } else { 0 })
            | (if meta.dsn64() { sf::DSN64 } else { 0 });
        let have = self.flags.load(Ordering::Acquire) & (sf::ACK64 | sf::DSN64);
        if want != have {
            self.set(want & !have);
            self.clear(have & !want);
        }
    }

    /// The peer showed it has our key (its first DSS, or an ADD_ADDR): our first
    /// subflow or our own join is fully established, once. Subflow locked.
    fn fully_established(&self, meta: &Meta) {
        // (every DSS comes here: a read first, no atomic write once set)
        if !self.has(sf::FULLY_ESTABLISHED)
            && self.flags.fetch_or(sf::FULLY_ESTABLISHED, Ordering::AcqRel) & sf::FULLY_ESTABLISHED
                == 0
        {
            crate::join_active::fully_established(self, meta);
        }
    }

    /// Sequence number of the peer's first data byte.
    pub(crate) fn rcv_isn(&self) -> u32 {
        self.rcv_isn.load(Ordering::Acquire)
    }

    pub(crate) fn has(&self, flag: u32) -> bool {
        self.flags.load(Ordering::Acquire) & flag != 0
    }

    fn set(&self, flag: u32) {
        self.flags.fetch_or(flag, Ordering::AcqRel);
    }

    fn clear(&self, flag: u32) {
        self.flags.fetch_and(!flag, Ordering::AcqRel);
    }

    /// The subflow stops speaking MPTCP: TCP no longer calls our hooks for it, and its
    /// bytes carry consecutive DSNs from `dsn_at_rcv_isn` on (the infinite mapping).
    fn fall_back(&self, dsn_at_rcv_isn: u64) {
        self.rcv_fallback_base
            .store(dsn_at_rcv_isn, Ordering::Release);
        // SAFETY: `ssk` is valid (type invariant); the caller holds its lock.
        unsafe { bindings::mptcp_rs_set_is_mptcp(self.ssk, false) };
        if let Some(meta) = self.meta() {
            meta.set_fallback();
            if meta.snd_data_fin_sent() {
                // our DATA_FIN went on ACKs the peer will not read now: the
                // subflow's FIN carries it (as upstream's mptcp_do_fallback())
                // SAFETY: as above.
                unsafe { bindings::mptcp_rs_fallback_fin(self.ssk) };
            }
        }
    }

    /// Resets the subflow (RST to the peer, socket closed): its RST carries MP_TCPRST
    /// with the reason recorded in `reset_reason`, and MP_FASTCLOSE if
    /// [`sf::SEND_FASTCLOSE`] is set.
    ///
    /// # Safety
    ///
    /// The caller holds the subflow's socket lock and not the meta socket's spinlock
    /// (closing the subflow runs its `state_change` callback, which takes it).
    pub(crate) unsafe fn reset(&self) {
        // SAFETY: `ssk` is valid (type invariant), locked by the caller.
        unsafe { bindings::mptcp_rs_subflow_reset(self.ssk) };
    }

    /// Resets the subflow after a protocol error in what it received (DSS outside a
    /// mapping, a failed checksum): the error `EBADMSG` is set and its receive
    /// queue dropped first, as upstream does, so that nothing of it reaches the
    /// connection or looks readable, its slot can be freed, and a first subflow
    /// that dies this way later ends the connection with that error.
    ///
    /// # Safety
    ///
    /// As for [`Subflow::reset`].
    pub(crate) unsafe fn reset_on_error(&self) {
        // SAFETY: `ssk` is valid (type invariant), locked by the caller.
        unsafe { bindings::mptcp_rs_subflow_fail_rcv(self.ssk) };
        // SAFETY: as promised by the caller.
        unsafe { self.reset() };
    }

    /// Whether the last reset was for a failed DSS checksum ([`sf::RST_MP_FAIL`]).
    pub(crate) fn csum_failed(&self) -> bool {
        self.has(sf::RST_MP_FAIL)
    }

    /// Aborts the connection on this subflow: a reset with MP_FASTCLOSE (RFC 8684
    /// 3.5); a subflow that fell back gets a plain TCP reset.
    ///
    /// # Safety
    ///
    /// As for [`Subflow::reset`].
    pub(crate) unsafe fn fastclose(&self) {
        self.set(sf::SEND_FASTCLOSE);
        // SAFETY: as promised by the caller.
        unsafe { self.reset() };
    }

    /// The outcome of checking a mapping (`RcvMap::account`) after its data went to
    /// the meta socket. A DSS checksum failure on the only subflow a connection
    /// ever had is RFC 8684 3.7's case for MP_FAIL: the data stays delivered (TCP
    /// acknowledged it, as it would deliver a middlebox's rewrite), we send MP_FAIL
    /// with the mapping's DSN and the peer's infinite mapping makes both ends fall
    /// back to TCP. Once a second subflow was established (upstream's
    /// `allow_infinite_fallback` cleared), there is no falling back: the subflow is
    /// reset, its RST carrying MP_FAIL and MP_TCPRST (middlebox interference), as
    /// upstream does. Other failures reset it with MP_TCPRST only.
    fn mapping_checked(&self, checked: Result, map_dsn: u64, meta: &Meta) -> Result {
        match checked {
            Ok(()) => Ok(()),
            Err(e) if e == ebadmsg() && self.infinite_fallback_allowed(meta) => {
                if !self.has(sf::FAIL_SENT) {
                    self.fail_dsn.store(map_dsn, Ordering::Release);
                    self.set(sf::FAIL_SENT | sf::SEND_MP_FAIL);
                    meta.set_failing();
                    // SAFETY: the meta socket is live while its subflow is.
                    if !unsafe { bindings::mptcp_rs_sock_dead(meta.sk()) } {
                        // the peer's answer is due within TCP's longest RTO (a
                        // closed connection has its close_timeout instead)
                        // SAFETY: the connection's namespace is live while it is.
                        let wait_ms =
                            unsafe { bindings::mptcp_rs_tcp_rto_max_ms(meta.net().as_ptr()) };
                        // SAFETY: no preconditions.
                        let now = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
                        self.fail_deadline_ms
                            .store(now.wrapping_add(wait_ms).max(1), Ordering::Release);
                        meta.rtx_arm_within(wait_ms);
                    }
                }
                Ok(())
            }
            Err(e) => {
                if e == ebadmsg() {
                    self.fail_dsn.store(map_dsn, Ordering::Release);
                    self.set(sf::RST_MP_FAIL);
                }
                self.reset_reason
                    .store(rst_reason::MIDDLEBOX, Ordering::Release);
                Err(e)
            }
        }
    }

    /// Whether a DSS checksum failure on this subflow may end in an infinite
    /// mapping (RFC 8684 3.7): it is the only subflow the connection ever had
    /// established (upstream's `allow_infinite_fallback`).
    fn infinite_fallback_allowed(&self, meta: &Meta) -> bool {
        !self.is_joined() && !meta.is_multi() && !meta.had_join()
    }

    /// Sends the pending MP_FAIL on a pure ACK now.
    ///
    /// # Safety
    ///
    /// The caller holds the subflow's socket lock and not the meta socket's spinlock.
    pub(crate) unsafe fn flush_mp_fail(&self) {
        if self.has(sf::SEND_MP_FAIL) {
            // SAFETY: `ssk` is valid (type invariant) and locked by the caller.
            unsafe { bindings::mptcp_rs_tcp_send_ack(self.ssk) };
        }
    }

    /// The DSN of the peer's byte at `rcv_isn` if its mapping is linear from the last
    /// one received (what continues as plain TCP after an infinite mapping).
    ///
    /// # Safety
    ///
    /// The caller holds the subflow's socket lock.
    unsafe fn rcv_linear_base(&self, meta: &Meta) -> u64 {
        // SAFETY: `rcv` is only used under the subflow lock (caller).
        let map = unsafe { &(*self.rcv.get()).map };
        if map.valid {
            map.dsn.wrapping_add(1).wrapping_sub(u64::from(map.ssn))
        } else {
            // nothing mapped yet: the peer's data starts at the next DSN we expect
            meta.ack_seq()
        }
    }

    /// After falling back in the middle of [`Subflow::move_to_meta`]: moves the rest
    /// as plain TCP data.
    ///
    /// # Safety
    ///
    /// As for [`Subflow::move_to_meta`].
    unsafe fn move_fallback_rest(&self, meta: &Meta, moved: bool) -> Result<bool> {
        // SAFETY: as promised by the caller.
        let more = unsafe { self.move_to_meta(meta) }?;
        Ok(moved || more)
    }

    /// DSN of the next byte the application will queue on this subflow.
    pub(crate) fn snd_dsn_next(&self) -> u64 {
        // SAFETY: `ssk` is valid.
        let write_seq = unsafe { bindings::mptcp_rs_tcp_write_seq(self.ssk) };
        self.linear_dsn(write_seq.wrapping_sub(self.snd_isn.load(Ordering::Acquire)))
    }

    /// DSN of the byte at relative sequence `rel` under the linear rule
    /// (`snd_dsn_base + rel`, direct mode). `rel` is a 32-bit subflow offset that
    /// wraps every 4 GiB while DSNs do not: the DSN is the one with `base + rel`'s
    /// low 32 bits nearest the connection's DATA_ACK (what is in flight or queued
    /// lies within 2 GiB of it).
    fn linear_dsn(&self, rel: u32) -> u64 {
        let low = self
            .snd_dsn_base
            .load(Ordering::Acquire)
            .wrapping_add(u64::from(rel));
        match self.meta() {
            Some(meta) => expand_seq32(meta.snd_una(), low as u32),
            None => low,
        }
    }

    /// The send map (multi mode).
    ///
    /// # Safety
    ///
    /// The caller holds the subflow's socket lock, and drops the reference before
    /// releasing it and before any call into TCP that may transmit (TCP reads the
    /// map from `established_options`).
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn send_map(&self) -> &mut SndMap {
        // SAFETY: the lock serialises every user (caller's promise).
        unsafe { &mut *self.snd_map.get() }
    }

    /// Forgets the send map's extents that the subflow's cumulative ACK covers.
    ///
    /// # Safety
    ///
    /// As for [`Subflow::send_map`]: the caller holds the subflow's socket lock.
    pub(crate) unsafe fn forget_acked_extents(&self) {
        // SAFETY: the caller holds the lock.
        unsafe {
            let una = self.snd_una_rel();
            self.send_map().ack(una);
        }
    }

    /// Relative sequence number (0 = first data byte) of the next byte queued.
    ///
    /// # Safety
    ///
    /// The subflow is locked.
    pub(crate) unsafe fn snd_nxt_rel(&self) -> u32 {
        // SAFETY: `ssk` is valid.
        let write_seq = unsafe { bindings::mptcp_rs_tcp_write_seq(self.ssk) };
        write_seq.wrapping_sub(self.snd_isn.load(Ordering::Acquire))
    }

    /// Relative sequence number (0 = first data byte) of subflow sequence `seq`.
    pub(crate) fn rel_seq(&self, seq: u32) -> u32 {
        seq.wrapping_sub(self.snd_isn.load(Ordering::Acquire))
    }

    /// Relative sequence number of the oldest byte the peer did not acknowledge.
    ///
    /// # Safety
    ///
    /// The subflow is locked.
    pub(crate) unsafe fn snd_una_rel(&self) -> u32 {
        // SAFETY: `ssk` is valid.
        let una = unsafe { bindings::mptcp_rs_tcp_snd_una(self.ssk) };
        una.wrapping_sub(self.snd_isn.load(Ordering::Acquire))
    }

    /// A reset arrived on this subflow, the first one, and TCP is about to purge its
    /// queues: if the connection ever had a join (with no other subflow the reset
    /// ends it) and the subflow's oldest unacknowledged byte is one direct mode
    /// wrote (in direct mode, or before where multi mode began), what its queues
    /// hold is kept as clones of their skbs (sharing their data, not charged to
    /// any socket), once, for `sendq::adopt_direct` to copy what direct mode
    /// wrote there; they are freed once it did or need not. Memory refusing
    /// (softirq, `GFP_ATOMIC`) leaves nothing kept: the connection then ends
    /// ([`Meta::process_events`], `Meta::direct_bytes_lost`).
    ///
    /// # Safety
    ///
    /// The subflow is locked (TCP's option hook for the reset).
    pub(crate) unsafe fn rescue_held(&self, meta: &Meta) {
        if self.ssk != meta.first_ssk()
            || !meta.had_join()
            || meta.is_fallback()
            || !self.rescued.load(Ordering::Acquire).is_null()
        {
            return;
        }
        if meta.is_multi() {
            // where multi mode began, in this subflow's sequence space (direct
            // mode's bytes follow it linearly)
            let end_rel =
                meta.direct_end()
                    .wrapping_sub(self.snd_dsn_base.load(Ordering::Acquire)) as u32;
            // SAFETY: locked (caller).
            let una_rel = unsafe { self.snd_una_rel() };
            if una_rel.wrapping_sub(end_rel) as i32 >= 0 {
                return;
            }
        }
        // SAFETY: locked (caller); its queues are still in place.
        let list = unsafe { bindings::mptcp_rs_sf_rescue_held(self.ssk) };
        self.rescued.store(list, Ordering::Release);
    }

    /// What [`Subflow::rescue_held`] kept (null: nothing). The subflow is locked by
    /// the caller while it uses them.
    pub(crate) fn rescued(&self) -> *mut bindings::sk_buff_head {
        self.rescued.load(Ordering::Acquire)
    }

    /// Frees what [`Subflow::rescue_held`] kept, once it served.
    ///
    /// # Safety
    ///
    /// The subflow is locked, and nothing the caller holds points into the clones.
    pub(crate) unsafe fn drop_rescued(&self) {
        let list = self.rescued.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: taken from the context above, so freed once.
        unsafe { bindings::mptcp_rs_sf_rescue_free(list) };
    }

    /// Mappings come from the send map from now on; what was queued so far keeps
    /// its linear mapping as the map's first extent.
    ///
    /// # Safety
    ///
    /// The subflow is locked.
    pub(crate) unsafe fn use_send_map(&self) {
        if self.has(sf::SEND_MAP) {
            return;
        }
        // SAFETY: locked (caller).
        let (una, queued) = unsafe { (self.snd_una_rel(), self.snd_nxt_rel()) };
        let dsn = self.linear_dsn(una);
        // SAFETY: as above.
        let map = unsafe { self.send_map() };
        // an empty map holds the extent (what is still unacknowledged: the offsets
        // before it may have wrapped); nothing queued records nothing
        let _ = map.push(una, dsn, queued.wrapping_sub(una));
        self.set(sf::SEND_MAP);
    }

    /// `redundant` scheduler: DSN up to which this subflow got its copy of the data
    /// (0 until the first).
    pub(crate) fn red_nxt(&self) -> u64 {
        self.red_nxt.load(Ordering::Acquire)
    }

    /// The scheduler placed data on this subflow at `now_ms`.
    pub(crate) fn set_placed(&self, now_ms: u32) {
        // 0 means never
        self.placed_ms.store(now_ms.max(1), Ordering::Release);
    }

    /// Whether nothing was placed on this subflow for `idle_ms` (or ever).
    pub(crate) fn placed_before(&self, now_ms: u32, idle_ms: u32) -> bool {
        let t = self.placed_ms.load(Ordering::Acquire);
        t == 0 || now_ms.wrapping_sub(t) >= idle_ms
    }

    pub(crate) fn set_red_nxt(&self, dsn: u64) {
        self.red_nxt.store(dsn, Ordering::Release);
    }

    pub(crate) fn uses_send_map(&self) -> bool {
        self.has(sf::SEND_MAP)
    }

    /// Whether the send map is full (lockless hint for the scheduler).
    pub(crate) fn send_map_full(&self) -> bool {
        // SAFETY: a racy read of a length; the push under the lock re-checks.
        unsafe { (*self.snd_map.get()).is_full() }
    }

    /// The subflow may carry data of the connection: an MPTCP subflow (first or
    /// joined) that did not fall back.
    pub(crate) fn can_send(&self) -> bool {
        self.has(sf::MP_CAPABLE)
            && self.has(sf::FULLY_ESTABLISHED | sf::JOINED)
            && !self.has(sf::SEND_INFINITE_MAP | sf::FAIL_SENT)
            && self.meta().is_some_and(|m| !m.is_fallback())
    }

    pub(crate) fn is_backup(&self) -> bool {
        self.has(sf::BACKUP)
    }

    pub(crate) fn set_backup(&self, backup: bool) {
        if backup {
            self.set(sf::BACKUP);
        } else {
            self.clear(sf::BACKUP);
        }
    }

    /// The peer's priority request for this subflow ([`sf::PEER_BACKUP`]).
    pub(crate) fn peer_backup(&self) -> bool {
        self.has(sf::PEER_BACKUP)
    }

    pub(crate) fn set_peer_backup(&self, backup: bool) {
        if backup {
            self.set(sf::PEER_BACKUP);
        } else {
            self.clear(sf::PEER_BACKUP);
        }
    }

    /// True the first time only: the subflow's `MPTCP_EVENT_SUB_CLOSED` is due now.
    pub(crate) fn close_event_once(&self) -> bool {
        self.flags.fetch_or(sf::CLOSE_EVENT, Ordering::AcqRel) & sf::CLOSE_EVENT == 0
    }

    /// The peer's MP_TCPRST: reason and transient flag, if its reset carried one.
    pub(crate) fn rcv_reset(&self) -> Option<(u8, bool)> {
        self.has(sf::RST_SEEN).then(|| {
            (
                self.rcv_rst_reason.load(Ordering::Acquire),
                self.has(sf::RST_TRANSIENT),
            )
        })
    }

    /// Our endpoint's priority changed: this subflow becomes a backup or a regular
    /// one for our scheduler, and tells the peer with MP_PRIO on its next pure ACK
    /// (RFC 8684 3.3.8), which the caller sends.
    pub(crate) fn change_prio(&self, backup: bool) {
        self.set_backup(backup);
        self.set(sf::SEND_MP_PRIO);
    }

    pub(crate) fn stall_handled(&self) -> bool {
        self.has(sf::STALL_HANDLED)
    }

    pub(crate) fn stall_noted(&self) {
        self.set(sf::STALL_HANDLED);
    }

    /// The subflow takes data again after a stall.
    pub(crate) fn stall_over(&self) {
        if self.has(sf::STALL_HANDLED) {
            self.clear(sf::STALL_HANDLED);
        }
    }

    /// Whether the connection may forget this subflow: nothing it carried can need
    /// reinjection any more.
    pub(crate) fn send_settled(&self) -> bool {
        !self.has(sf::SEND_MAP) || self.has(sf::STALL_HANDLED)
    }

    /// Moves the data waiting in the subflow's receive queue to the meta socket.
    ///
    /// Returns `Err` when the peer broke the protocol (data outside any mapping, a bad
    /// checksum); the caller resets the connection.
    ///
    /// # Safety
    ///
    /// The caller holds `ssk`'s socket lock and the meta socket's data (it owns the
    /// meta socket, or holds its spinlock while no task owns it).
    pub(crate) unsafe fn move_to_meta(&self, meta: &Meta) -> Result<bool> {
        if self.has(sf::RST_MP_FAIL) {
            // a mapping failed its checksum: nothing more of this subflow, which is
            // being reset, goes to the connection
            return Ok(false);
        }
        // (set again below if the mapping at the head is still not whole, or there
        // is still no room for it)
        self.clear(sf::RCV_HELD | sf::RCV_NOMEM);
        // SAFETY: `rcv` is only used under the subflow lock (type invariant, caller).
        let rcv = unsafe { &mut *self.rcv.get() };
        let fallback = meta.is_fallback();
        let mut moved = false;
        loop {
            // SAFETY: the subflow is locked by the caller.
            let skb = unsafe { bindings::mptcp_rs_subflow_peek(self.ssk) };
            if skb.is_null() {
                break;
            }
            // SAFETY: `skb` is on the locked subflow's receive queue.
            let (seq, len, flags) = unsafe {
                (
                    bindings::mptcp_rs_skb_seq(skb),
                    bindings::mptcp_rs_skb_len(skb),
                    bindings::mptcp_rs_skb_tcp_flags(skb),
                )
            };
            // The TCP stack trims what was already read; skbs we leave are whole.
            let rel = seq.wrapping_sub(self.rcv_isn.load(Ordering::Acquire));
            // in fallback, DSN = base + rel; `rel` wraps every 4 GiB, so the DSN is
            // the one with those low 32 bits nearest the next one expected
            let fallback_dsn = |rel: u32| {
                let low = self
                    .rcv_fallback_base
                    .load(Ordering::Acquire)
                    .wrapping_add(u64::from(rel));
                expand_seq32(meta.ack_seq(), low as u32)
            };
            if len == 0 {
                // a bare FIN: in fallback it is the DATA_FIN
                if flags & TCPHDR_FIN != 0 && fallback {
                    meta.rcv_data_fin(fallback_dsn(rel));
                }
                // SAFETY: as above.
                unsafe { bindings::mptcp_rs_subflow_consume(self.ssk, skb) };
                continue;
            }
            let mut csum_piece: Option<CsumPiece> = None;
            let dsn = if fallback {
                let dsn = fallback_dsn(rel);
                if flags & TCPHDR_FIN != 0 {
                    meta.rcv_data_fin(dsn.wrapping_add(u64::from(len)));
                }
                dsn
            } else {
                let mut m = bindings::mptcp_rs_map::default();
                // SAFETY: `skb` is on the locked subflow's receive queue.
                if unsafe { bindings::mptcp_rs_skb_get_map(skb, &mut m) } {
                    let len = u32::from(m.data_len).saturating_sub(u32::from(m.data_fin));
                    let cur = &rcv.map;
                    // an skb we saw before (the meta socket was full) keeps its state
                    if !(cur.valid && cur.dsn == m.dsn && cur.ssn == m.ssn && cur.len == len) {
                        rcv.map = RcvMap {
                            dsn: m.dsn,
                            ssn: m.ssn,
                            len,
                            data_fin: m.data_fin,
                            csum: m.csum_reqd.then_some(m.csum),
                            sum: PieceSum::default(),
                            valid: true,
                        };
                    }
                }
                let map = &rcv.map;
                // mappings count subflow bytes from 1 (the ISN takes 0)
                let off = rel.wrapping_add(1).wrapping_sub(map.ssn);
                let outside = !map.valid || off >= map.len || len > map.len - off;
                if outside && self.has(sf::FAIL_SENT) && map.valid {
                    // After our MP_FAIL, data without a mapping: the peer's infinite
                    // mapping was lost; its data continues the last mapping's offset.
                    crate::mib::inc(meta.net(), crate::mib::Mib::DssFallback);
                    self.fall_back(map.dsn.wrapping_add(1).wrapping_sub(u64::from(map.ssn)));
                    // SAFETY: as promised by our caller.
                    return unsafe { self.move_fallback_rest(meta, moved) };
                }
                if outside {
                    crate::mib::inc(meta.net(), crate::mib::Mib::DSSNotMatching);
                    self.reset_reason
                        .store(rst_reason::MPTCP_ERROR, Ordering::Release);
                    return Err(eproto());
                }
                if map.csum.is_some()
                    && off == 0
                    && map.sum.summed() == 0
                    && map.len > 0
                    && !self.infinite_fallback_allowed(meta)
                {
                    // No infinite mapping can follow a failure: the whole mapping is
                    // checked before any of it goes to the connection (as upstream's
                    // `validate_data_csum()`), so that data that fails reaches no
                    // reader; the subflow is reset and the peer sends it again on
                    // another. Until all of it is here, it waits on the subflow.
                    let mut sum = 0u16;
                    // SAFETY: the subflow is locked by the caller; `sum` is valid.
                    if !unsafe {
                        bindings::mptcp_rs_subflow_span_sum(self.ssk, seq, map.len, &mut sum)
                    } {
                        // SAFETY: the subflow is locked by the caller.
                        if unsafe { bindings::mptcp_rs_sk_state(self.ssk) } == TCP_CLOSE {
                            // the rest will never come: nothing of it is readable,
                            // and the slot can be freed (upstream drops it too)
                            // SAFETY: as above.
                            unsafe { bindings::mptcp_rs_subflow_drop_rcv(self.ssk) };
                            break;
                        }
                        self.set(sf::RCV_HELD);
                        break;
                    }
                    let checked = rcv.map.check_whole(Sum::from_folded(sum), meta);
                    self.mapping_checked(checked, rcv.map.dsn, meta)?;
                }
                let map = &rcv.map;
                if let Some((skip, part)) = map.unsummed_part(off, len) {
                    // SAFETY: `skb` is valid and has `len` bytes; `skip + part == len`.
                    let sum = unsafe { bindings::mptcp_rs_skb_sum(skb, skip, part) };
                    csum_piece = Some(CsumPiece {
                        len: part,
                        sum: Sum::from_folded(sum),
                    });
                }
                let dsn = map.dsn.wrapping_add(u64::from(off));
                if map.data_fin && off + len == map.len {
                    meta.rcv_data_fin(dsn.wrapping_add(u64::from(len)));
                }
                dsn
            };
            let ack = meta.ack_seq();
            let end = dsn.wrapping_add(u64::from(len));
            if !after64(end, ack) {
                // old data (a reinjection we already have)
                crate::mib::inc(meta.net(), crate::mib::Mib::DuplicateData);
                // SAFETY: as above.
                unsafe { bindings::mptcp_rs_subflow_consume(self.ssk, skb) };
                let checked = rcv.map.account(csum_piece, meta);
                self.mapping_checked(checked, rcv.map.dsn, meta)?;
                continue;
            }
            let ofo = after64(dsn, ack);
            let offset = if ofo { 0 } else { ack.wrapping_sub(dsn) as u32 };
            // SAFETY: both sockets are locked as the caller promises.
            let r = unsafe {
                bindings::mptcp_rs_subflow_move(meta.sk(), self.ssk, skb, dsn, offset, ofo)
            };
            if r == -crate::sock::errno::ENOBUFS {
                // out of order, and no reader can make room: dropped (the peer
                // sends it again), so that what lies behind it on this subflow,
                // maybe the hole, moves
                let checked = rcv.map.account(csum_piece, meta);
                self.mapping_checked(checked, rcv.map.dsn, meta)?;
                continue;
            }
            if r != 0 {
                // no memory for it now: the rest waits on the subflow until a
                // reader made some room (`rcv_held`)
                self.set(sf::RCV_HELD | sf::RCV_NOMEM);
                break;
            }
            moved = true;
            let checked = rcv.map.account(csum_piece, meta);
            self.mapping_checked(checked, rcv.map.dsn, meta)?;
            if ofo {
                crate::mib::inc(meta.net(), crate::mib::Mib::OFOQueue);
            } else {
                meta.advance_ack(end);
            }
        }
        if moved {
            // SAFETY: the caller holds the meta socket's data.
            unsafe { meta.drain_ofo() };
        }
        Ok(moved)
    }
}

/// `ss -ti`'s view of subflow `ssk` (its INET_ULP_INFO_MPTCP, see `diag_shim.c`),
/// with the subflow locked by the caller.
pub(crate) extern "C" fn ulp_info(
    ssk: *mut bindings::sock,
    out: *mut bindings::mptcp_rs_subflow_info,
) {
    // SAFETY: the diag code calls this for a socket with our ULP, locked.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    // SAFETY: `rcv` is used under the subflow lock (the caller holds it).
    let map = unsafe { (*ctx.rcv.get()).map };
    let mut info = bindings::mptcp_rs_subflow_info {
        valid: true,
        ..Default::default()
    };
    if let Some(meta) = ctx.meta() {
        info.token_loc = key_derive::<KernelSha256>(meta.local_key()).token;
        if meta.remote_key() != 0 {
            info.token_rem = key_derive::<KernelSha256>(meta.remote_key()).token;
        }
    }
    let mut flags = 0u32;
    if ctx.has(sf::MP_CAPABLE) {
        flags |= 1 << 0; // MCAP_REM
    }
    if ctx.has(sf::MPC_SYN_SENT) || ctx.has(sf::MP_CAPABLE) {
        flags |= 1 << 1; // MCAP_LOC
    }
    if ctx.has(sf::FULLY_ESTABLISHED) {
        flags |= 1 << 6;
    }
    // SAFETY: `ssk` is valid and locked.
    let state = unsafe { bindings::mptcp_rs_sk_state(ssk) };
    if state != TCP_SYN_SENT && state != TCP_CLOSE {
        flags |= 1 << 7; // CONNECTED
    }
    if map.valid {
        flags |= 1 << 8; // MAPVALID
        info.map_seq = map.dsn;
        info.map_sfseq = map.ssn;
        info.map_datalen = u16::try_from(map.len).unwrap_or(u16::MAX);
    }
    info.flags = flags;
    // SAFETY: `ssk` is valid.
    let write_seq = unsafe { bindings::mptcp_rs_tcp_write_seq(ssk) };
    info.rel_write_seq = write_seq.wrapping_sub(ctx.snd_isn.load(Ordering::Acquire));
    // the peer's ISN (its first data byte is ISN + 1)
    info.ssn_offset = ctx.rcv_isn.load(Ordering::Acquire).wrapping_sub(1);
    // SAFETY: `out` is the caller's buffer.
    unsafe { out.write(info) };
}

/// ULP release: TCP destroys the subflow socket; our context goes after an RCU grace
/// period (as upstream's `kfree_rcu()`): a listener's SYN and third-ACK handling reads
/// it without the socket's lock or a reference, under RCU, and may run while the
/// listener is closed. Its reference on the meta socket goes with it, as readers
/// reach the meta socket through it.
extern "C" fn release(ssk: *mut bindings::sock) {
    // SAFETY: TCP calls this once, for a socket with our ULP, when destroying it.
    let p = unsafe { bindings::mptcp_rs_subflow_ctx(ssk) }.cast::<Subflow>();
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `KBox::into_raw` in `attach` or `clone`; freed only by
    // `free_rcu`, queued below.
    let ctx = unsafe { &*p };
    // an active join's third-ACK timer, before its context goes
    ctx.ajoin.stop();
    let meta = ctx.meta.load(Ordering::Acquire);
    if !meta.is_null() {
        // SAFETY: the context's reference keeps `meta` alive until `free_rcu`.
        if let Some(m) = unsafe { Meta::from_sk(meta) } {
            m.subflow_gone(ssk);
        }
    }
    // SAFETY: `rcu` is the context's own, used once; `free_rcu` takes the context.
    unsafe { bindings::mptcp_rs_call_rcu(ctx.rcu.get(), Some(free_rcu)) };
}

/// Frees a released subflow context and drops its reference on the meta socket.
/// Softirq context; [`ReleasedContexts`] waits for it before the module goes.
extern "C" fn free_rcu(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the `rcu` field of a context (`release` queued it).
    let p = unsafe {
        kernel::container_of!(head.cast::<Opaque<bindings::callback_head>>(), Subflow, rcu)
    };
    // SAFETY: queued by `release` with the context's `rcu` field; nothing uses the
    // context any more (its readers were under RCU, now over).
    let ctx = unsafe { KBox::from_raw(p) };
    let meta = ctx.meta.load(Ordering::Acquire);
    // SAFETY: the clones are the context's alone (nothing uses it any more).
    unsafe {
        bindings::mptcp_rs_sf_rescue_free(ctx.rescued.swap(ptr::null_mut(), Ordering::AcqRel))
    };
    drop(ctx);
    if !meta.is_null() {
        // SAFETY: drops the reference `attach` took (or `syn_recv_sock` handed over).
        unsafe { bindings::mptcp_rs_sock_put(meta) };
    }
}

/// Dropped at module unload, once no subflow is left: waits until every released
/// context is freed (`free_rcu` is module code, and may drop the last reference on a
/// meta socket).
pub(crate) struct ReleasedContexts;

impl Drop for ReleasedContexts {
    fn drop(&mut self) {
        // SAFETY: process context (module unload), no lock held.
        unsafe { bindings::mptcp_rs_rcu_barrier() };
    }
}

// Socket callbacks of the subflow: TCP's own, then feed or wake the meta socket.

/// Runs the callback TCP installed on `ssk` (chosen by `tcp`), then `then` with the
/// subflow's context and meta socket, if it has one yet.
fn chain(
    ssk: *mut bindings::sock,
    tcp: fn(&bindings::mptcp_rs_sk_callbacks) -> Option<unsafe extern "C" fn(*mut bindings::sock)>,
    then: fn(&Subflow, &Meta),
) {
    // SAFETY: TCP calls our callbacks only on subflows, with the subflow locked.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    if let Some(f) = tcp(&ctx.cbs) {
        // SAFETY: the callback TCP installed, for this socket.
        unsafe { f(ssk) };
    }
    if let Some(meta) = ctx.meta() {
        then(ctx, meta);
    }
}

extern "C" fn data_ready(ssk: *mut bindings::sock) {
    chain(
        ssk,
        |c| c.data_ready,
        |ctx, meta| meta.subflow_data_ready(ctx),
    );
}

extern "C" fn state_change(ssk: *mut bindings::sock) {
    chain(
        ssk,
        |c| c.state_change,
        |ctx, meta| {
            // SAFETY: TCP holds the subflow's lock around its callbacks.
            if unsafe { bindings::mptcp_rs_sk_state(ctx.ssk()) } == TCP_CLOSE {
                // before the meta socket follows (it may close with it)
                crate::pm_events::sub_closed(meta, ctx, true);
            }
            crate::join::state_change(ctx);
            meta.subflow_event(ctx.ssk());
        },
    );
}

/// Our MP_FAIL unanswered (RFC 8684 3.7): the peer neither echoed it nor fell
/// back with an infinite mapping within TCP's longest RTO. Upstream waits
/// `TCP_RTO_MAX` (120 s); we take `net.ipv4.tcp_rto_max_ms`, whose default is the
/// same (and which a test can shorten). The first subflow is then reset (MP_TCPRST:
/// middlebox interference), as upstream's `mptcp_mp_fail_no_response()` resets it;
/// the connection ends with `ECONNRESET`. Before that, the
/// connection's timer is kept armed for the deadline. The work item runs this with
/// the meta socket owned.
pub(crate) fn mp_fail_check(meta: &Meta) {
    let ssk = meta.first_ssk();
    if ssk.is_null() {
        return;
    }
    // SAFETY: the first subflow is live while set (the meta socket is owned).
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    let deadline = ctx.fail_deadline_ms.load(Ordering::Acquire);
    if deadline == 0 {
        return;
    }
    if meta.is_fallback() || meta.is_multi() || meta.had_join() {
        // the peer's infinite mapping came (that was the answer), or the connection
        // has other subflows now and cannot fall back any more
        ctx.fail_deadline_ms.store(0, Ordering::Release);
        return;
    }
    // SAFETY: no preconditions.
    let now = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
    let left = deadline.wrapping_sub(now) as i32;
    if left > 0 {
        meta.rtx_arm_within(left as u32);
        return;
    }
    ctx.fail_deadline_ms.store(0, Ordering::Release);
    ctx.reset_reason
        .store(rst_reason::MIDDLEBOX, Ordering::Release);
    // SAFETY: the subflow's lock nests inside the owned meta socket's; its error
    // ends the connection when the meta socket is released (`process_events`).
    unsafe {
        bindings::mptcp_rs_lock_sock(ssk);
        if bindings::mptcp_rs_sk_state(ssk) != TCP_CLOSE {
            bindings::mptcp_rs_set_err(ssk, crate::sock::errno::ECONNRESET);
            ctx.reset();
        }
        bindings::release_sock(ssk);
    }
}

extern "C" fn write_space(ssk: *mut bindings::sock) {
    chain(
        ssk,
        |c| c.write_space,
        |ctx, meta| {
            if ctx.send_map_full() {
                // A full send map refuses the subflow to `poll` and the scheduler
                // (`any_writeable`), and only a push forgets acknowledged extents:
                // without one (nothing else to send) a writer waiting in poll would
                // never see the room this ACK made.
                // SAFETY: TCP calls write_space with the subflow locked, which
                // serialises the users of its send map.
                unsafe { ctx.forget_acked_extents() };
            }
            // Writers of the meta socket wait for the subflow's space, and TCP calls
            // this on every ACK that frees some while `SOCK_NOSPACE` is set: wake them
            // only once the subflow is writeable, as TCP's own callback does.
            // SAFETY: the subflow is live (its callback is running).
            if unsafe { bindings::mptcp_rs_stream_writeable(ctx.ssk()) } {
                meta.subflow_space();
            }
        },
    );
}

extern "C" fn error_report(ssk: *mut bindings::sock) {
    chain(
        ssk,
        |c| c.error_report,
        |ctx, meta| meta.subflow_event(ctx.ssk()),
    );
}

/// `sk_rx_dst_set` of our af_ops: TCP calls it from `tcp_finish_connect()` with the
/// SYN/ACK, which is where the active side learns whether the peer speaks MPTCP.
extern "C" fn rx_dst_set(ssk: *mut bindings::sock, skb: *const bindings::sk_buff) {
    // SAFETY: TCP's own handler for the family, with TCP's arguments.
    unsafe { bindings::mptcp_rs_af_ops_rx_dst_set(ssk, skb) };
    // SAFETY: the subflow is locked by TCP.
    unsafe { bindings::mptcp_rs_clamp_gso(ssk) };
    // SAFETY: our af_ops are only installed on subflows.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    if ctx.has(sf::HANDSHAKE_DONE) {
        return;
    }
    // SAFETY: `skb` is the SYN/ACK being processed, header in place.
    let (seq, flags) = unsafe {
        (
            bindings::mptcp_rs_skb_seq(skb),
            bindings::mptcp_rs_skb_tcp_flags(skb),
        )
    };
    if flags & TCPHDR_SYN == 0 {
        return;
    }
    ctx.set(sf::HANDSHAKE_DONE);
    ctx.rcv_isn.store(seq.wrapping_add(1), Ordering::Release);
    let Some(meta) = ctx.meta() else {
        return;
    };
    if ctx.active_join().is_active() {
        // SAFETY: the SYN/ACK, processed with the subflow locked by TCP.
        unsafe { crate::join_active::synack(ctx, meta, skb) };
        return;
    }
    let mpc = if ctx.has(sf::MPC_SYN_SENT) {
        // SAFETY: as above.
        unsafe { find_option(skb, Segment::SynAck) }.and_then(|o| match o {
            MptcpOption::MpCapable(m) => m.sender_key.map(|k| (k, m.flags)),
            _ => None,
        })
    } else {
        None
    };
    match mpc {
        Some((key, flags)) if flags & mpc_flags::HMAC_SHA256 != 0 => {
            let remote = key_derive::<KernelSha256>(key);
            meta.set_remote_key(key, remote.idsn);
            if flags & mpc_flags::CHECKSUM_REQUIRED != 0 {
                meta.set_checksum();
            }
            if flags & mpc_flags::NO_JOIN_TO_SOURCE != 0 {
                meta.set_remote_deny_join_id0();
            }
            ctx.snd_dsn_base
                .store(meta.local_idsn().wrapping_add(1), Ordering::Release);
            ctx.set(sf::MP_CAPABLE);
            crate::mib::inc(meta.net(), crate::mib::Mib::MPCapableSYNACKRX);
            crate::pm_events::created(meta, ctx, false);
        }
        _ => {
            if ctx.has(sf::MPC_SYN_SENT) {
                crate::mib::inc(meta.net(), crate::mib::Mib::MPCapableFallbackSYNACK);
            }
            ctx.fall_back(meta.ack_seq());
        }
    }
}

/// The TCP option area of a received segment (empty if there is none).
///
/// # Safety
///
/// `skb` is a received TCP segment whose header is in place, and outlives the slice.
unsafe fn tcp_option_bytes<'a>(skb: *const bindings::sk_buff) -> &'a [u8] {
    let mut len: c_uint = 0;
    // SAFETY: per the safety contract.
    let p = unsafe { bindings::mptcp_rs_tcp_options(skb, &mut len) };
    if p.is_null() {
        return &[];
    }
    // SAFETY: the shim returns the option area of the header, `len` bytes long.
    unsafe { core::slice::from_raw_parts(p, len as usize) }
}

/// The MPTCP options (kind 30, unparsed) among well-formed TCP options.
fn mptcp_options(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    TcpOptions::new(raw)
        .map_while(|o| o.ok())
        .filter(|o| o.first() == Some(&TCPOPT_MPTCP))
}

/// The first MPTCP option of the kind `seg` of a received segment.
///
/// # Safety
///
/// `skb` is a received TCP segment whose header is in place.
pub(crate) unsafe fn find_option(
    skb: *const bindings::sk_buff,
    seg: Segment,
) -> Option<MptcpOption> {
    // SAFETY: per the safety contract.
    mptcp_options(unsafe { tcp_option_bytes(skb) }).find_map(|o| parse(seg, o).ok())
}

/// Whether a received segment carries any MPTCP option (valid or not).
///
/// # Safety
///
/// `skb` is a received TCP segment whose header is in place.
unsafe fn has_mptcp_option(skb: *const bindings::sk_buff) -> bool {
    // SAFETY: per the safety contract.
    mptcp_options(unsafe { tcp_option_bytes(skb) })
        .next()
        .is_some()
}

// The dispatch hooks (see provider.rs).

/// Writes `opt` into `opts` for `write_options`; returns its size padded to 4 bytes.
pub(crate) fn stash(opts: *mut bindings::mptcp_out_options, opt: &MptcpOption) -> Option<c_uint> {
    stash_all(opts, core::slice::from_ref(opt))
}

/// Writes the options of `list` one after the other into `opts`; returns their size
/// padded to 4 bytes.
pub(crate) fn stash_all(
    opts: *mut bindings::mptcp_out_options,
    list: &[MptcpOption],
) -> Option<c_uint> {
    let mut cap: usize = 0;
    // SAFETY: `opts` is TCP's option scratch space for this segment.
    let buf = unsafe { bindings::mptcp_rs_out_buf(opts, &mut cap) };
    // SAFETY: the shim returns `cap` writable bytes inside `opts`.
    let out = unsafe { core::slice::from_raw_parts_mut(buf, cap) };
    let mut n = 0;
    for opt in list {
        n += opt.write(out.get_mut(n..)?).ok()?;
    }
    let n16 = u16::try_from(n).ok()?;
    let data_ack = list
        .iter()
        .any(|o| matches!(o, MptcpOption::Dss(d) if d.data_ack.is_some()));
    // SAFETY: as above.
    unsafe {
        bindings::mptcp_rs_out_set_len(opts, n16);
        bindings::mptcp_rs_out_set_data_ack(opts, data_ack);
    }
    Some(((n + 3) & !3) as c_uint)
}

/// `write_options`: copies the stashed option and pads it with NOPs; with a
/// DATA_ACK among them, the window of header `th` is the connection's
/// ([`share_rcv_wnd`]).
pub(crate) fn write_options(
    th: *mut bindings::tcphdr,
    ptr: *mut u8,
    tp: *mut bindings::tcp_sock,
    opts: *mut bindings::mptcp_out_options,
) {
    let mut cap: usize = 0;
    // SAFETY: `opts` was filled by one of our hooks for this segment.
    let (buf, len) = unsafe {
        (
            bindings::mptcp_rs_out_buf(opts, &mut cap),
            usize::from(bindings::mptcp_rs_out_len(opts)),
        )
    };
    let len = len.min(cap);
    let padded = (len + 3) & !3;
    // SAFETY: TCP reserved `padded` bytes at `ptr` (the size our hook returned).
    unsafe {
        ptr::copy_nonoverlapping(buf, ptr, len);
        ptr::write_bytes(ptr.add(len), 1, padded - len);
    }
    // SAFETY: as above.
    if !th.is_null() && !tp.is_null() && unsafe { bindings::mptcp_rs_out_data_ack(opts) } {
        // SAFETY: TCP writes the header of a segment of subflow `tp`, locked.
        unsafe { share_rcv_wnd(th, tp) };
    }
}

/// RFC 8684 3.3.5: the subflows share one receive window. TCP chose this
/// subflow's window from the connection's free space, but not below what this
/// subflow announced before (it never shrinks a window) nor above its own
/// `rcv_ssthresh`, which grows only with data on it: a subflow that carried little
/// (a backup) announced an edge far behind the one the others did. The largest
/// edge any subflow announced is the connection's (`Meta::rcv_wnd_announce`);
/// a subflow behind it announces that edge instead (counted as `RcvWndShared`)
/// and takes data up to it, as upstream's `mptcp_set_rwin()` (unless data of
/// its own waits outside the meta socket, see `mptcp_rs_raise_rcv_wnd()`). A window update
/// that must cross such a subflow (the one that carried the data died) then
/// opens the window, and a sender giving this subflow the connection's window
/// (upstream does, and so do we, `sendq::share_window`) finds it open here once
/// this subflow sent anything since the edge moved.
///
/// # Safety
///
/// TCP is writing header `th` of a segment of subflow `tp`, which is locked.
unsafe fn share_rcv_wnd(th: *mut bindings::tcphdr, tp: *mut bindings::tcp_sock) {
    let ssk = tp.cast::<bindings::sock>();
    // SAFETY: TCP calls the hook for an `is_mptcp` socket (caller's promise).
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    let Some(meta) = ctx.meta() else {
        return;
    };
    let ack = meta.ack_seq();
    // SAFETY: the subflow is locked (caller).
    let wnd = unsafe { bindings::mptcp_rs_tcp_rcv_wnd(tp) };
    let Some(edge) = meta.rcv_wnd_announce(ack, wnd) else {
        return;
    };
    // SAFETY: as promised by the caller.
    if unsafe { bindings::mptcp_rs_raise_rcv_wnd(tp, th, edge.wrapping_sub(ack)) } {
        crate::mib::inc(meta.net(), crate::mib::Mib::RcvWndShared);
    }
}

/// `syn_options`: MP_CAPABLE on the SYN of a connecting subflow.
pub(crate) fn syn_options(
    ssk: *mut bindings::sock,
    skb: *const bindings::sk_buff,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: TCP calls this for an `is_mptcp` socket.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return false;
    };
    let Some(meta) = ctx.meta() else {
        return false;
    };
    // SAFETY: `skb` is the SYN being built.
    let seq = unsafe { bindings::mptcp_rs_skb_seq(skb) };
    ctx.snd_isn.store(seq.wrapping_add(1), Ordering::Release);
    if ctx.active_join().is_active() {
        // MP_JOIN, never a fallback (`join_active.rs`)
        let Some(n) = crate::join_active::syn_options(ctx, meta, opts) else {
            return false;
        };
        // SAFETY: TCP's out-parameter.
        unsafe { *size = n };
        return true;
    }
    // SAFETY: the subflow is locked by TCP.
    let retrans = unsafe { bindings::mptcp_rs_icsk_retransmits(ssk) };
    if retrans > i32::from(meta.syn_retrans_before_fallback()) {
        // the path may drop SYNs with unknown options: try plain TCP (RFC 8684 3.9)
        crate::mib::inc(meta.net(), crate::mib::Mib::MPCapableSYNTXDrop);
        // a SYN/ACK answering an earlier SYN may still carry MP_CAPABLE: it is not
        // taken up (`rx_dst_set`), as upstream's, since plain TCP was asked for last
        ctx.clear(sf::MPC_SYN_SENT);
        ctx.fall_back(meta.ack_seq());
        return false;
    }
    let mut flags = mpc_flags::HMAC_SHA256;
    if meta.wants_checksum() {
        flags |= mpc_flags::CHECKSUM_REQUIRED;
    }
    if meta.deny_join_id0() {
        flags |= mpc_flags::NO_JOIN_TO_SOURCE;
    }
    let opt = MptcpOption::MpCapable(MpCapable {
        flags,
        sender_key: None,
        receiver_key: None,
        data: None,
    });
    match stash(opts, &opt) {
        Some(n) => {
            ctx.set(sf::MPC_SYN_SENT);
            // SAFETY: TCP's out-parameter.
            unsafe { *size = n };
            crate::mib::inc(meta.net(), crate::mib::Mib::MPCapableSYNTX);
            true
        }
        None => false,
    }
}

/// Worst-case size of what `established_options` adds to a data segment before the
/// subflow is fully established (MP_CAPABLE with data, 22 or 24 bytes, or a DSS).
const DSS_MAX: c_uint = 28;

/// Size of the DSS of a data segment on a fully established subflow, padded: a
/// DATA_ACK of 8 octets (`ack64`) or 4, a mapping with a DSN of 8 octets (`dsn64`)
/// or 4 (the peer expands it against the data it expects, as `expand_seq32` does
/// here; the data in flight stays far closer to that than 2^31), and room for a
/// checksum: 20 bytes with both of 4 octets, 28 with both of 8 (upstream's size).
fn data_dss_size(ack64: bool, dsn64: bool) -> c_uint {
    use crate::proto::options::{dss_flags, dss_len, len};
    let mut flags = dss_flags::ACK | dss_flags::MAP;
    if ack64 {
        flags |= dss_flags::ACK64;
    }
    if dsn64 {
        flags |= dss_flags::DSN64;
    }
    ((dss_len(flags) + len::CHECKSUM + 3) & !3) as c_uint
}

/// The DATA_ACK a segment carries: 64-bit while the peer's DSNs are
/// ([`Meta::peer_dsn64`]); a segment with payload (`data`) takes the width its MSS
/// was sized for ([`sf::ACK64`]).
pub(crate) fn data_ack(ctx: &Subflow, meta: &Meta, data: bool) -> Option<(u64, bool)> {
    let ack64 = if data {
        ctx.has(sf::ACK64)
    } else {
        meta.peer_dsn64()
    };
    Some((meta.ack_seq(), ack64))
}

/// `established_options`: MP_CAPABLE (third ACK, first data) or a DSS.
pub(crate) fn established_options(
    ssk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    remaining: c_uint,
    has_ts: bool,
    opts: *mut bindings::mptcp_out_options,
) -> c_int {
    // SAFETY: TCP calls this for an `is_mptcp` socket, locked.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return -1;
    };
    if !ctx.has(sf::MP_CAPABLE) {
        return -1;
    }
    let Some(meta) = ctx.meta() else {
        return -1;
    };
    if skb.is_null() {
        // sizing the MSS: room for the largest option a data segment may carry
        // until TCP sizes it again (under the same lock hold as it sends)
        let size = if ctx.has(sf::FULLY_ESTABLISHED) {
            data_dss_size(ctx.has(sf::ACK64), ctx.has(sf::DSN64))
        } else {
            DSS_MAX
        };
        return if remaining >= size { size as c_int } else { -1 };
    }
    // SAFETY: `skb` is the segment being transmitted, payload only (no header yet).
    let (seq, len, flags) = unsafe {
        (
            bindings::mptcp_rs_skb_seq(skb),
            bindings::mptcp_rs_skb_len(skb),
            bindings::mptcp_rs_skb_tcp_flags(skb),
        )
    };
    if flags & TCPHDR_RST != 0 {
        return rst_options(ctx, meta, remaining, opts);
    }
    // an active join's third ACK, until its fourth ACK (`join_active.rs`)
    if let Some(n) = crate::join_active::established_options(ctx, meta, len, flags, remaining, opts)
    {
        return n;
    }
    // ADD_ADDR, its echo, REMOVE_ADDR on pure ACKs (`addr.rs`)
    if let Some(n) =
        crate::addr::established_options(ctx, meta, len, flags, remaining, has_ts, opts)
    {
        return n;
    }
    if len == 0
        && flags & (TCPHDR_FIN | TCPHDR_SYN) == 0
        && ctx.has(sf::SEND_MP_PRIO)
        && ctx.has(sf::FULLY_ESTABLISHED | sf::JOINED)
    {
        // MP_PRIO on a pure ACK, with the DATA_ACK when both fit
        let prio = MptcpOption::MpPrio {
            backup: ctx.is_backup(),
        };
        let dss = MptcpOption::Dss(Dss {
            data_ack: data_ack(ctx, meta, false),
            map: None,
            data_fin: false,
        });
        let (pl, dl) = (prio.wire_len(), dss.wire_len());
        let written = match (pl, dl) {
            (Ok(p), Ok(d)) if (p + d) as c_uint <= remaining => stash_all(opts, &[prio, dss]),
            (Ok(p), _) if p as c_uint <= remaining => stash(opts, &prio),
            _ => None,
        };
        if let Some(n) = written {
            ctx.clear(sf::SEND_MP_PRIO);
            crate::mib::inc(meta.net(), crate::mib::Mib::MPPrioTx);
            return n as c_int;
        }
    }
    if len == 0 && flags & TCPHDR_FIN == 0 && ctx.has(sf::SEND_MP_FAIL) {
        // MP_FAIL goes alone on a pure ACK
        let opt = MptcpOption::MpFail {
            dsn: ctx.fail_dsn.load(Ordering::Acquire),
        };
        if opt.wire_len().is_ok_and(|n| n as c_uint <= remaining) {
            if let Some(n) = stash(opts, &opt) {
                ctx.clear(sf::SEND_MP_FAIL);
                crate::mib::inc(meta.net(), crate::mib::Mib::MPFailTx);
                return n as c_int;
            }
        }
    }
    let snd_isn = ctx.snd_isn.load(Ordering::Acquire);
    let rel = seq.wrapping_sub(snd_isn);
    let dsn = if ctx.has(sf::SEND_MAP) {
        // SAFETY: the subflow is locked by TCP.
        let state = unsafe { bindings::mptcp_rs_sf_tx_state(ssk) };
        if state & bindings::MPTCP_RS_SF_SUSPECT != 0 && !ctx.has(sf::STALL_HANDLED) {
            // its loss probe or retransmission timer fired: let the other
            // subflows carry what it holds (`sendq.rs`)
            meta.kick_rate_limited();
        }
        if state & bindings::MPTCP_RS_SF_TIMED_OUT != 0 {
            if !ctx.has(sf::TIMEOUT_WOKE) {
                // A retransmission timeout, or a second window probe: the subflow
                // no longer counts as alive, so the backups may take data now
                // (`sched::pick`), and a reinjection waiting for them goes. The
                // work item runs, and writers in poll() or sendmsg() look again:
                // nothing else wakes them when the backups have nothing in flight
                // (a failover stalled 59 s in 2 of 6 runs of `mptcp_backup` without
                // this). Once per timeout.
                ctx.set(sf::TIMEOUT_WOKE);
                if meta.stale_accounting() && crate::sendq::another_alive(meta, ssk) {
                    // upstream's stale subflow: the others carry the data
                    ctx.set(sf::STALE);
                    crate::mib::inc(meta.net(), crate::mib::Mib::SubflowStale);
                }
                meta.kick_rate_limited();
                meta.subflow_space();
            } else if len > 0 && meta.timeout_wake_due() {
                // Again at each later timed-out transmission of data (at most
                // every 10 ms):
                // the wake above may have come while this subflow still counted
                // (a retransmission timeout that an ACK then answered: the peer's
                // reader slept and its window closed), and the flag stays until
                // a transmission that is not timed out, which a closed window
                // and then a dead path never let come. The writer, waiting for
                // this subflow's room, then slept until its own timeout while the
                // backup could carry everything (`mptcp_backup` part 3, in about
                // one run in three of a longer pause).
                meta.kick();
                meta.subflow_space();
            }
        } else if ctx.has(sf::TIMEOUT_WOKE) {
            ctx.clear(sf::TIMEOUT_WOKE);
            if ctx.flags.fetch_and(!sf::STALE, Ordering::AcqRel) & sf::STALE != 0 {
                crate::mib::inc(meta.net(), crate::mib::Mib::SubflowRecover);
            }
        }
        if len == 0 {
            0
        } else {
            // SAFETY: the subflow is locked by TCP while it builds a segment.
            match unsafe { ctx.send_map() }.lookup(rel) {
                Some(l) if l.room >= len => l.dsn,
                _ => {
                    // no mapping covers the segment: send it without one rather
                    // than with a wrong one (not expected: no skb spans two
                    // extents, `mptcp_rs_push_chunk()` fences the last one)
                    return -1;
                }
            }
        }
    } else {
        // Direct mode: when this subflow times out while a joined subflow is
        // established (at most every 10 ms), the work item turns to multi mode,
        // where the others carry what this one holds, and a writer waiting for its
        // room looks again; else nothing moved while this subflow's path was dead.
        // Pure ACKs too: a window probe is one (the peer's reader paused, then
        // its path died: no data goes out, and no retransmission timer fires).
        if meta.had_join()
            // SAFETY: the subflow is locked by TCP.
            && unsafe { bindings::mptcp_rs_sf_tx_state(ssk) } & bindings::MPTCP_RS_SF_TIMED_OUT != 0
            && meta.joins().any_established()
            && meta.timeout_wake_due()
        {
            meta.kick_any_mode();
            meta.subflow_space();
        }
        ctx.linear_dsn(rel)
    };
    let csum_on = meta.checksum();
    // SAFETY: the subflow is locked by TCP.
    unsafe { bindings::mptcp_rs_clamp_gso(ssk) };
    let Ok(data_len) = u16::try_from(len) else {
        // cannot be mapped; the clamp above keeps the next ones small
        return -1;
    };
    let payload_csum = |dsn: u64, ssn: u32, dl: u16| -> u16 {
        // SAFETY: `skb` holds `len` payload bytes.
        let sum = Sum::from_folded(unsafe { bindings::mptcp_rs_skb_sum(skb, 0, len) });
        csum::dss_checksum(dsn, ssn, dl, sum)
    };

    if len > 0 && ctx.has(sf::SEND_INFINITE_MAP) {
        return infinite_map(ctx, meta, dsn, rel, remaining, opts);
    }
    // a pure ACK that carries our DATA_FIN is a DSS, not the third ACK again (as
    // upstream: the peer may never send anything that would show it has our key)
    let data_fin_ack = len == 0 && meta.data_fin_on_acks() && meta.data_fin_unacked();
    let opt = if !ctx.has(sf::FULLY_ESTABLISHED)
        && rel == 0
        && flags & TCPHDR_FIN == 0
        && !data_fin_ack
    {
        // third ACK, and the first data segment until the peer has shown it has our key
        let mut mflags = mpc_flags::HMAC_SHA256;
        if csum_on {
            mflags |= mpc_flags::CHECKSUM_REQUIRED;
        }
        if meta.deny_join_id0() {
            mflags |= mpc_flags::NO_JOIN_TO_SOURCE;
        }
        let data = if len > 0 {
            ctx.set(sf::MPC_DATA_SENT);
            Some(MpcData {
                data_len,
                checksum: csum_on.then(|| payload_csum(dsn, 1, data_len)),
            })
        } else {
            None
        };
        MptcpOption::MpCapable(MpCapable {
            flags: mflags,
            sender_key: Some(meta.local_key()),
            receiver_key: Some(meta.remote_key()),
            data,
        })
    } else {
        // The DATA_FIN follows the segment's last byte only if that byte is the
        // connection's last (with several subflows, this FIN may close a subflow
        // whose data ends earlier in the data sequence space). With several
        // subflows it also rides alone on pure ACKs until acknowledged (`sendq.rs`).
        let data_fin = (flags & TCPHDR_FIN != 0
            && meta.snd_data_fin_sent()
            && (len == 0 || dsn.wrapping_add(u64::from(len)) == meta.snd_data_fin_dsn()))
            || (len == 0
                && flags & (TCPHDR_FIN | TCPHDR_SYN) == 0
                && meta.data_fin_on_acks()
                && meta.data_fin_unacked());
        let map = if len > 0 || data_fin {
            let (mdsn, ssn, dl) = if len == 0 {
                // a DATA_FIN alone: no subflow sequence space (RFC 8684 3.3.3)
                (meta.snd_data_fin_dsn(), 0, 1)
            } else {
                let dl = if data_fin {
                    data_len.saturating_add(1)
                } else {
                    data_len
                };
                (dsn, rel.wrapping_add(1), dl)
            };
            Some(DssMap {
                dsn: mdsn,
                dsn64: ctx.has(sf::DSN64),
                ssn,
                data_len: dl,
                checksum: csum_on.then(|| {
                    if len == 0 {
                        csum::dss_checksum(mdsn, ssn, dl, Sum::default())
                    } else {
                        payload_csum(mdsn, ssn, dl)
                    }
                }),
            })
        } else {
            None
        };
        MptcpOption::Dss(Dss {
            data_ack: data_ack(ctx, meta, len > 0),
            map,
            data_fin,
        })
    };
    let Ok(need) = opt.wire_len() else {
        return -1;
    };
    if need as c_uint > remaining {
        return -1;
    }
    match stash(opts, &opt) {
        Some(n) => n as c_int,
        None => -1,
    }
}

/// The answer to the peer's MP_FAIL (RFC 8684 3.7): this data segment carries an
/// infinite mapping from its DSN on, and the subflow falls back to TCP (both
/// directions continue linearly from their last mappings).
fn infinite_map(
    ctx: &Subflow,
    meta: &Meta,
    dsn: u64,
    rel: u32,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> c_int {
    let opt = MptcpOption::Dss(Dss {
        data_ack: data_ack(ctx, meta, true),
        map: Some(DssMap {
            dsn,
            dsn64: ctx.has(sf::DSN64),
            ssn: rel.wrapping_add(1),
            data_len: 0,
            checksum: meta.checksum().then_some(0),
        }),
        data_fin: false,
    });
    if !opt.wire_len().is_ok_and(|n| n as c_uint <= remaining) {
        return -1;
    }
    let Some(n) = stash(opts, &opt) else {
        return -1;
    };
    ctx.clear(sf::SEND_INFINITE_MAP);
    crate::mib::inc(meta.net(), crate::mib::Mib::InfiniteMapTx);
    // SAFETY: TCP holds the subflow's lock while it builds a segment.
    let base = unsafe { ctx.rcv_linear_base(meta) };
    ctx.fall_back(base);
    n as c_int
}

/// The options of a reset we send: MP_FASTCLOSE when the connection is aborted, or
/// MP_FAIL when a checksum failed ([`sf::RST_MP_FAIL`]), then MP_TCPRST with our
/// reason, each if it fits (RFC 8684 3.5, 3.6, 3.7).
fn rst_options(
    ctx: &Subflow,
    meta: &Meta,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> c_int {
    let fastclose = MptcpOption::MpFastclose {
        receiver_key: meta.remote_key(),
    };
    let tcprst = MptcpOption::MpTcpRst {
        flags: 0,
        reason: ctx.reset_reason.load(Ordering::Acquire),
    };
    let with_fastclose = [fastclose, tcprst];
    let with_fail = [
        MptcpOption::MpFail {
            dsn: ctx.fail_dsn.load(Ordering::Acquire),
        },
        tcprst,
    ];
    let list: &[MptcpOption] = if ctx.has(sf::SEND_FASTCLOSE) {
        &with_fastclose
    } else if ctx.has(sf::RST_MP_FAIL) {
        &with_fail
    } else {
        core::slice::from_ref(&tcprst)
    };
    let mut need: usize = 0;
    for o in list {
        need += o.wire_len().unwrap_or(usize::MAX / 4);
    }
    let list = if need > remaining as usize {
        // a timestamp left too little room: MP_FASTCLOSE (MP_FAIL) matters more
        list.get(..1).unwrap_or(&[])
    } else {
        list
    };
    let Some(n) = stash_all(opts, list) else {
        return -1;
    };
    if n > remaining {
        return -1;
    }
    for o in list {
        let mib = match o {
            MptcpOption::MpFastclose { .. } => crate::mib::Mib::MPFastcloseTx,
            MptcpOption::MpFail { .. } => crate::mib::Mib::MPFailTx,
            _ => crate::mib::Mib::MPRstTx,
        };
        crate::mib::inc(meta.net(), mib);
    }
    n as c_int
}

/// `incoming_options`: DATA_ACKs, mappings (as skb extensions), DATA_FIN, FASTCLOSE.
pub(crate) fn incoming_options(ssk: *mut bindings::sock, skb: *mut bindings::sk_buff) -> bool {
    // SAFETY: TCP calls this for an `is_mptcp` socket, locked, with the header in place.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return true;
    };
    let Some(meta) = ctx.meta() else {
        return true;
    };
    if !ctx.has(sf::MP_CAPABLE) {
        return true;
    }
    // (TCP's reset handling calls this hook before it purges the queues; the cheap
    // tests first, keeping the C call off the path of every other segment)
    // SAFETY: as above.
    if ssk == meta.first_ssk() && meta.had_join() && unsafe { bindings::mptcp_rs_skb_is_rst(skb) } {
        // SAFETY: the subflow is locked (TCP's caller).
        unsafe { ctx.rescue_held(meta) };
    }
    // SAFETY: as above.
    let raw = unsafe { tcp_option_bytes(skb) };
    let mut saw_mptcp = false;
    for o in mptcp_options(raw) {
        saw_mptcp = true;
        let opt = match parse(Segment::Other, o) {
            Ok(opt) => opt,
            Err(_) => {
                continue;
            }
        };
        match opt {
            MptcpOption::Dss(d) => {
                ctx.fully_established(meta);
                if let Some((ack, ack64)) = d.data_ack {
                    let una = meta.snd_una();
                    let ack = if ack64 {
                        ack
                    } else {
                        expand_seq32(una, ack as u32)
                    };
                    // for data not sent yet: ignored, the window taken from the
                    // DATA_ACK we have (as upstream's ack_update_msk())
                    let ack = if meta.acks_unsent(ack, ctx) { una } else { ack };
                    meta.data_ack(ack);
                    // SAFETY: `skb` is being received, its TCP header in place.
                    let wnd = unsafe { bindings::mptcp_rs_skb_rcv_wnd(ssk, skb) };
                    let moved = meta.update_wnd(ack, wnd);
                    // does another subflow look stalled (this one works when it
                    // carries data), or wait on the window it last heard of?
                    crate::sendq::check_siblings(meta, ssk, ctx.has(sf::SEND_MAP), moved);
                }
                if let Some(map) = d.map {
                    meta.note_peer_dsn_width(map.dsn64);
                }
                ctx.take_dss_widths(meta);
                if let Some(map) = d.map {
                    let dsn = if map.dsn64 {
                        map.dsn
                    } else {
                        expand_seq32(meta.ack_seq(), map.dsn as u32)
                    };
                    if map.data_len == 0 {
                        // infinite mapping: the peer fell back, and so do we (counted
                        // as a fallback for a DSS too, as upstream's
                        // get_mapping_status() / mptcp_try_fallback())
                        crate::mib::inc(meta.net(), crate::mib::Mib::InfiniteMapRx);
                        if !meta.is_fallback() {
                            crate::mib::inc(meta.net(), crate::mib::Mib::DssFallback);
                        }
                        let at = dsn.wrapping_sub(u64::from(map.ssn.wrapping_sub(1)));
                        ctx.fall_back(at);
                        continue;
                    }
                    if d.data_fin && map.data_len == 1 && map.ssn == 0 {
                        // DATA_FIN without data: nothing gets queued for it
                        meta.rcv_data_fin(dsn);
                        // SAFETY: the subflow is locked; an ACK carries our DATA_ACK.
                        unsafe { bindings::mptcp_rs_schedule_ack(ssk) };
                        meta.subflow_event(ssk);
                        continue;
                    }
                    let m = bindings::mptcp_rs_map {
                        dsn,
                        ssn: map.ssn,
                        data_len: map.data_len,
                        csum: map.checksum.unwrap_or(0),
                        data_fin: d.data_fin,
                        csum_reqd: map.checksum.is_some(),
                    };
                    // SAFETY: `skb` is being received on the locked subflow.
                    if !unsafe { bindings::mptcp_rs_skb_set_map(skb, &m) } {
                        // no memory for the mapping: drop the segment, TCP resends it
                        return false;
                    }
                }
            }
            MptcpOption::MpCapable(m) => {
                // The peer's third ACK again, possibly with its first data: an implicit
                // mapping from its IDSN + 1 at subflow sequence 1 (RFC 8684 3.1).
                if let Some(d) = m.data {
                    let rel = {
                        // SAFETY: as above.
                        let seq = unsafe { bindings::mptcp_rs_skb_seq(skb) };
                        seq.wrapping_sub(ctx.rcv_isn.load(Ordering::Acquire))
                    };
                    if rel == 0 && d.data_len > 0 {
                        let remote_idsn = key_derive::<KernelSha256>(meta.remote_key()).idsn;
                        let m = bindings::mptcp_rs_map {
                            dsn: remote_idsn.wrapping_add(1),
                            ssn: 1,
                            data_len: d.data_len,
                            csum: d.checksum.unwrap_or(0),
                            data_fin: false,
                            csum_reqd: d.checksum.is_some(),
                        };
                        // SAFETY: as above.
                        if !unsafe { bindings::mptcp_rs_skb_set_map(skb, &m) } {
                            return false;
                        }
                    }
                }
            }
            MptcpOption::MpFastclose { receiver_key } => {
                if receiver_key == meta.local_key() {
                    crate::mib::inc(meta.net(), crate::mib::Mib::MPFastcloseRx);
                    meta.fastclosed();
                }
            }
            MptcpOption::MpTcpRst { flags, reason } => {
                crate::mib::inc(meta.net(), crate::mib::Mib::MPRstRx);
                ctx.rcv_rst_reason.store(reason, Ordering::Release);
                if flags & crate::proto::options::rst_flags::TRANSIENT != 0 {
                    ctx.set(sf::RST_TRANSIENT);
                }
                ctx.set(sf::RST_SEEN);
            }
            MptcpOption::MpJoin(_) => crate::join::third_ack_again(ctx, skb),
            MptcpOption::AddAddr(a) => {
                if a.hmac.is_some() {
                    // an announcement (not an echo) shows as well as a DSS that the
                    // peer has our key (upstream's check_fully_established())
                    ctx.fully_established(meta);
                }
                crate::addr::add_addr_rx(ctx, meta, &a)
            }
            MptcpOption::RemoveAddr(r) => crate::addr::rm_addr_rx(meta, &r),
            MptcpOption::MpPrio { backup } => {
                // RFC 8684 3.3.8: the peer changes the priority of the subflow it
                // sends this on; our scheduler follows it
                crate::mib::inc(meta.net(), crate::mib::Mib::MPPrioRx);
                ctx.set_backup(backup);
                ctx.set_peer_backup(backup);
                crate::pm_events::sub_priority(ctx, meta);
            }
            MptcpOption::MpFail { dsn } => {
                crate::mib::inc(meta.net(), crate::mib::Mib::MPFailRx);
                // The peer's checksum check failed on data we sent: with one subflow,
                // echo MP_FAIL and continue as TCP after an infinite mapping. (Its
                // echo of our own MP_FAIL ends our wait for an answer; its infinite
                // mapping follows.)
                // Once a second subflow was established there is no falling back:
                // the peer resets the subflow (its RST carries the MP_FAIL), and
                // what it carried goes again on the others, as upstream ignores it.
                if ctx.has(sf::FAIL_SENT) {
                    // the answer to ours: no timeout
                    ctx.fail_deadline_ms.store(0, Ordering::Release);
                } else if !ctx.has(sf::SEND_INFINITE_MAP) && ctx.infinite_fallback_allowed(meta) {
                    meta.set_failing();
                    ctx.fail_dsn.store(dsn, Ordering::Release);
                    ctx.set(sf::SEND_MP_FAIL | sf::SEND_INFINITE_MAP);
                    // SAFETY: the subflow is locked by TCP (incoming options).
                    unsafe { bindings::mptcp_rs_tcp_send_ack(ssk) };
                }
            }
        }
    }
    if !saw_mptcp && !ctx.has(sf::FULLY_ESTABLISHED) && ctx.active_join().is_active() {
        // SAFETY: TCP holds the subflow's lock for incoming options.
        unsafe { crate::join_active::no_option(ctx) };
        return false;
    }
    if !saw_mptcp && !ctx.has(sf::FULLY_ESTABLISHED) {
        // RFC 8684 3.7: the peer's first segment after the handshake has no MPTCP
        // option: a middlebox strips them; continue as plain TCP (our own mappings
        // never reached the peer either).
        crate::mib::inc(meta.net(), crate::mib::Mib::DssFallback);
        ctx.fall_back(meta.ack_seq());
    }
    true
}

/// `space`: a subflow's receive window is the meta socket's free space.
pub(crate) fn space(ssk: *const bindings::sock, space: *mut c_int, full_space: *mut c_int) {
    // SAFETY: TCP calls this for an `is_mptcp` socket.
    let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
        return;
    };
    let meta = ctx.meta.load(Ordering::Acquire);
    if meta.is_null() || ctx.has(sf::DETACHED) {
        return;
    }
    // SAFETY: the meta socket is held by the context; the pointers are TCP's.
    unsafe { bindings::mptcp_rs_space(ssk, meta, space, full_space) };
}

// The passive side.

/// ULP `clone`: a listener's child gets its own context (its meta socket comes in
/// [`syn_recv_sock`]). Called in softirq with the child locked.
extern "C" fn clone(
    req: *const bindings::request_sock,
    newsk: *mut bindings::sock,
    _priority: bindings::gfp_t,
) {
    // The child is a copy of the listener, ULP data included (a SYN cookie's request
    // has no listener attached): until replaced below, that is the listener's context.
    // SAFETY: TCP calls this on the fresh child of one of our listeners.
    let cbs = match unsafe { Subflow::from_sk(newsk) } {
        Some(l) => l.cbs,
        None => {
            // SAFETY: `newsk` is the fresh child.
            unsafe { bindings::mptcp_rs_ulp_detach(newsk) };
            return;
        }
    };
    let _ = req;
    let ctx = KBox::new(Subflow::new(ptr::null_mut(), newsk, cbs), GFP_ATOMIC);
    match ctx {
        Ok(ctx) => {
            // SAFETY: the child inherited our ULP ops from the listener; it takes its
            // own module reference, as `mptcp_rs_subflow_attach()` does.
            unsafe {
                bindings::mptcp_rs_set_ulp_ctx(newsk, KBox::into_raw(ctx).cast());
                kernel::bindings::__module_get((*ULP_OPS.0.get()).owner.cast());
            }
        }
        Err(_) => {
            // SAFETY: as above; `syn_recv_sock` disposes of a child without context.
            unsafe { bindings::mptcp_rs_ulp_detach(newsk) };
        }
    }
}

/// `route_req` hook: a SYN reached one of our listeners; MP_CAPABLE makes the request
/// an MPTCP one (its SYN/ACK then carries our key), MP_JOIN a join (`join.rs`).
/// Returns a [`SynVerdict`] for `rust/net_shim.c`: a refused SYN is reset, one to be
/// taken later dropped.
extern "C" fn req_init(
    req: *mut bindings::request_sock,
    listener: *const bindings::sock,
    skb: *const bindings::sk_buff,
) -> c_int {
    // SAFETY: the listener is one of our subflows.
    let Some(meta) = (unsafe { Subflow::from_sk(listener) }).and_then(|l| l.meta()) else {
        return SynVerdict::Accept.to_c();
    };
    // SAFETY: `skb` is the SYN, header in place.
    let mpc = unsafe { find_option(skb, Segment::Syn) };
    if let Some(MptcpOption::MpJoin(MpJoin::Syn {
        backup,
        addr_id,
        token,
        nonce,
    })) = mpc
    {
        // SAFETY: TCP's request being initialised, on our listening subflow.
        return unsafe {
            crate::join::syn(req, listener, skb, meta, backup, addr_id, token, nonce)
        }
        .to_c();
    }
    if meta.is_pm_listener() {
        // the path manager's listener takes joins only (upstream's pm_listener): a
        // new connection there would never be accepted
        crate::mib::inc(meta.net(), crate::mib::Mib::MPCapableEndpAttempt);
        return SynVerdict::Reset.to_c();
    }
    let is_mpc =
        matches!(mpc, Some(MptcpOption::MpCapable(m)) if m.flags & mpc_flags::HMAC_SHA256 != 0);
    if is_mpc {
        crate::mib::inc(meta.net(), crate::mib::Mib::MPCapableSYNRX);
    }
    // SAFETY: `req` is being initialised by TCP.
    unsafe { bindings::mptcp_rs_req_set_mptcp(req, is_mpc) };
    SynVerdict::Accept.to_c()
}

/// `synack_options`: MP_CAPABLE with our key on the SYN/ACK of an MPTCP request.
pub(crate) fn synack_options(
    req: *const bindings::request_sock,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: TCP builds this request's SYN/ACK.
    if let Some(n) = unsafe { crate::join::synack_options(req, opts) } {
        let Some(n) = n else {
            return false;
        };
        // SAFETY: TCP's out-parameter.
        unsafe { *size = n };
        return true;
    }
    // SAFETY: TCP calls this for a request with `is_mptcp`, from one of our listeners;
    // a SYN cookie's request has no listener attached.
    let listener = unsafe { bindings::mptcp_rs_req_listener(req) };
    let meta = if listener.is_null() {
        None
    } else {
        // SAFETY: as above.
        unsafe { Subflow::from_sk(listener) }.and_then(|l| l.meta())
    };
    let mut flags = mpc_flags::HMAC_SHA256;
    if meta.is_some_and(|m| m.wants_checksum()) {
        flags |= mpc_flags::CHECKSUM_REQUIRED;
    }
    if meta.is_some_and(|m| m.deny_join_id0()) {
        flags |= mpc_flags::NO_JOIN_TO_SOURCE;
    }
    let opt = MptcpOption::MpCapable(MpCapable {
        flags,
        sender_key: Some(req_key(req)),
        receiver_key: None,
        data: None,
    });
    match stash(opts, &opt) {
        Some(n) => {
            // SAFETY: TCP's out-parameter.
            unsafe { *size = n };
            true
        }
        None => false,
    }
}

/// `syn_recv_sock` of our af_ops: TCP creates the child of a listener on the third
/// ACK; we give it a meta socket, MPTCP if the handshake completed, else a fallback.
extern "C" fn syn_recv_sock(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    req: *mut bindings::request_sock,
    dst: *mut bindings::dst_entry,
    req_unhash: *mut bindings::request_sock,
    own_req: *mut bool,
    opt_child_init: Option<unsafe extern "C" fn(*mut bindings::sock, *const bindings::sock)>,
) -> *mut bindings::sock {
    // SAFETY: `req` is the request being completed.
    if unsafe { crate::join::is_join(req) } {
        // SAFETY: TCP's arguments, for an accepted join request of our listener.
        return unsafe {
            crate::join::syn_recv_sock(sk, skb, req, dst, req_unhash, own_req, opt_child_init)
        };
    }
    // A segment of an MPTCP request that overtook the third ACK and the first data
    // segment carries a DSS but no MP_CAPABLE: drop it (TCP counts a listen overflow,
    // the peer's MP_CAPABLE segments follow) rather than fall back. Fall back only on
    // segments without any MPTCP option (a middlebox strips them).
    // SAFETY: `req` is the request being completed; `skb` has its header in place.
    let req_mpc = unsafe { bindings::mptcp_rs_req_is_mptcp(req) };
    let opt = if req_mpc {
        // SAFETY: as above.
        let opt = unsafe { find_option(skb, Segment::Other) };
        // SAFETY: as above.
        if !matches!(opt, Some(MptcpOption::MpCapable(_))) && unsafe { has_mptcp_option(skb) } {
            return ptr::null_mut();
        }
        opt
    } else {
        None
    };
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
    // SAFETY: `sk` is our listener.
    let listener = unsafe { Subflow::from_sk(sk) }.and_then(|l| l.meta());
    // SAFETY: the child is new and locked; its context comes from `clone`.
    let ctx = unsafe { Subflow::from_sk(child) };
    let (Some(listener), Some(ctx)) = (listener, ctx) else {
        // SAFETY: a child we cannot serve, hashed in the request's place (`own_req`)
        // by TCP for these listener, segment and request.
        return unsafe { bindings::mptcp_rs_dispose_child(sk, skb, req, child) };
    };
    // SAFETY: `req` is the request this child completes.
    let (snt_isn, rcv_isn) = unsafe {
        (
            bindings::mptcp_rs_req_snt_isn(req),
            bindings::mptcp_rs_req_rcv_isn(req),
        )
    };
    ctx.snd_isn
        .store(snt_isn.wrapping_add(1), Ordering::Release);
    ctx.rcv_isn
        .store(rcv_isn.wrapping_add(1), Ordering::Release);
    ctx.set(sf::HANDSHAKE_DONE);
    // SAFETY: the child is locked.
    unsafe { bindings::mptcp_rs_clamp_gso(child) };
    // the peer's "C" flag (it sets it on all three MP_CAPABLEs)
    let deny_join_id0 = matches!(
        &opt,
        Some(MptcpOption::MpCapable(m)) if m.flags & mpc_flags::NO_JOIN_TO_SOURCE != 0
    );
    let keys = if req_mpc {
        let local = req_key(req);
        // the third ACK (or first data) segment's option, parsed above
        match opt {
            Some(MptcpOption::MpCapable(MpCapable {
                sender_key: Some(remote),
                receiver_key: Some(echo),
                flags,
                ..
            })) if echo == local => {
                Some((local, remote, flags & mpc_flags::CHECKSUM_REQUIRED != 0))
            }
            _ => None,
        }
    } else {
        None
    };
    if req_mpc {
        crate::mib::inc(
            listener.net(),
            if keys.is_some() {
                crate::mib::Mib::MPCapableACKRX
            } else {
                crate::mib::Mib::MPCapableFallbackACK
            },
        );
    }
    match listener.new_child(ctx, keys) {
        Ok(meta) => {
            if keys.is_some() {
                if deny_join_id0 {
                    meta.set_remote_deny_join_id0();
                }
                ctx.snd_dsn_base
                    .store(meta.local_idsn().wrapping_add(1), Ordering::Release);
                ctx.set(sf::MP_CAPABLE | sf::FULLY_ESTABLISHED);
                if !meta.is_fallback() {
                    // the third ACK made it fully established at once
                    crate::pm_events::created(meta, ctx, true);
                    crate::pm_events::established(meta, ctx, true);
                }
                // our `signal` endpoints are announced (`addr.rs`)
                crate::addr::fully_established(meta, ctx.ssk());
            } else {
                ctx.fall_back(0);
            }
            child
        }
        Err(_) => {
            // SAFETY: a child we cannot serve (no memory for its connection), hashed
            // in the request's place (`own_req`) for these listener, segment and
            // request.
            unsafe { bindings::mptcp_rs_dispose_child(sk, skb, req, child) }
        }
    }
}

/// Our request sock ops (and their slabs) for the requests of our listeners, which
/// hold MP_JOIN state (`rust/net_shim.c`), for as long as this value lives.
///
/// # Invariants
///
/// `mptcp_rs_req_ops_init()` succeeded; dropped only when no listener of ours (and so
/// no request sock of ours) is left: each listener pins the module.
pub(crate) struct ReqOps(());

impl ReqOps {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: called once at module init, before any listener exists.
        kernel::error::to_result(unsafe { bindings::mptcp_rs_req_ops_init() })?;
        Ok(ReqOps(()))
    }
}

impl Drop for ReqOps {
    fn drop(&mut self) {
        // SAFETY: initialised (invariant); no request sock of ours is left.
        unsafe { bindings::mptcp_rs_req_ops_exit() };
    }
}
