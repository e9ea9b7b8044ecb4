// SPDX-License-Identifier: GPL-2.0

//! The meta socket: what `socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP)` returns.
//!
//! A `struct proto` ("MPTCP", "MPTCPv6") registered for `IPPROTO_MPTCP` with
//! `inet_register_protosw()`/`inet6_register_protosw()`, used with a copy of
//! `inet_stream_ops` whose `poll` is ours. The socket is an `inet_connection_sock`
//! followed by a pointer to [`Meta`] and the meta out-of-order queue (see
//! `rust/net_shim.c`); [`Meta`] lives until the socket's last reference goes (the
//! subflows hold references), so subflow hooks can always reach it.
//!
//! Locking: the meta socket's lock (owned, as `lock_sock()`) protects its queues in
//! process context; softirq paths take its spinlock and only touch the queues while no
//! task owns it, else they leave an event for `release_cb`. Subflow locks nest inside
//! the meta socket's owned lock, never the other way round.

use crate::bindings;
use crate::proto::crypto::key_derive;
use crate::proto::seq::after64;
use crate::sendq::SendQueue;
use crate::sha256::KernelSha256;
use crate::subflow::Subflow;
use crate::sysctl;
use crate::tcp_state::{
    TCP_CLOSE, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
    TCP_LISTEN, TCP_SYN_RECV, TCP_SYN_SENT,
};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use kernel::{error::to_result, prelude::*};

/// errno values (include/uapi/asm-generic/errno*.h) the socket calls return.
pub(crate) mod errno {
    use kernel::ffi::c_int;
    pub(crate) const ENOENT: c_int = 2;
    pub(crate) const EAGAIN: c_int = 11;
    pub(crate) const ENOMEM: c_int = 12;
    pub(crate) const EFAULT: c_int = 14;
    pub(crate) const EEXIST: c_int = 17;
    pub(crate) const EINVAL: c_int = 22;
    pub(crate) const EPROTO: c_int = 71;
    pub(crate) const ENOPROTOOPT: c_int = 92;
    pub(crate) const EADDRNOTAVAIL: c_int = 99;
    pub(crate) const ECONNRESET: c_int = 104;
    pub(crate) const ECONNABORTED: c_int = 103;
    pub(crate) const ENOTCONN: c_int = 107;
    pub(crate) const ECONNREFUSED: c_int = 111;
    pub(crate) const EOPNOTSUPP: c_int = 95;
    pub(crate) const ENOBUFS: c_int = 105;
}

const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;
const SHUTDOWN_MASK: u8 = 3;

const MSG_PEEK: c_int = 2;
const MSG_DONTWAIT: c_int = 0x40;
const MSG_WAITALL: c_int = 0x100;

const EPOLLIN: u32 = 0x1;
const EPOLLOUT: u32 = 0x4;
const EPOLLERR: u32 = 0x8;
const EPOLLHUP: u32 = 0x10;
const EPOLLRDNORM: u32 = 0x40;
const EPOLLWRNORM: u32 = 0x100;
const EPOLLRDHUP: u32 = 0x2000;

const SOL_SOCKET: c_int = 1;
const SOL_TCP: c_int = 6;
/// `TCP_ULP` (`include/uapi/linux/tcp.h`).
const TCP_ULP: c_int = 31;
/// `TCP_CONGESTION` (`include/uapi/linux/tcp.h`).
const TCP_CONGESTION: c_int = 13;

/// Connection flags of [`Meta`].
mod mf {
    /// The connection fell back to TCP: no MPTCP options any more.
    pub(super) const FALLBACK: u32 = 1 << 0;
    /// DSS checksums are in use.
    pub(super) const CHECKSUM: u32 = 1 << 1;
    /// We offer checksums (`net.mptcp.checksum_enabled` at creation).
    pub(super) const WANT_CHECKSUM: u32 = 1 << 2;
    /// The peer's DATA_FIN is known (its DSN in `rcv_data_fin`).
    pub(super) const RCV_DATA_FIN: u32 = 1 << 3;
    /// ... and every byte before it arrived: the peer's stream is complete.
    pub(super) const RCV_DATA_FIN_DONE: u32 = 1 << 4;
    /// Our DATA_FIN is queued (its DSN in `snd_data_fin`).
    pub(super) const SND_DATA_FIN: u32 = 1 << 5;
    /// The peer sent MP_FASTCLOSE.
    pub(super) const FASTCLOSED: u32 = 1 << 6;
    /// An event from a subflow waits for `release_cb`.
    pub(super) const PENDING: u32 = 1 << 7;
    /// A protocol error: the connection is being reset.
    pub(super) const BROKEN: u32 = 1 << 8;
    /// Created by a listener, not yet handed to the application by accept().
    pub(super) const UNACCEPTED: u32 = 1 << 9;
    /// The connection sends on several subflows (`sendq.rs`).
    pub(super) const MULTI: u32 = 1 << 10;
    /// Reinjection waits for a subflow with room: the next write_space runs the work.
    pub(super) const NEED_PUSH: u32 = 1 << 11;
    /// A writer waits for the peer's window to open (multi mode).
    pub(super) const WND_LIMITED: u32 = 1 << 12;
    /// Closed by the application with data still to deliver (multi mode): the
    /// orphaned connection stays until its DATA_FIN is acknowledged
    /// ([`super::Meta::linger_begin`]).
    pub(super) const LINGER: u32 = 1 << 13;
    /// Our DATA_FIN rides on the subflows' pure ACKs (multi mode, `sendq.rs`).
    pub(super) const DATA_FIN_ON_ACKS: u32 = 1 << 14;
    /// The userspace path manager drives this connection (`net.mptcp.pm_type` 1 at
    /// creation, `pm_userspace.rs`).
    pub(super) const USERSPACE_PM: u32 = 1 << 15;
    /// We ask the peer not to join our initial address and port: the MP_CAPABLE "C"
    /// flag (`net.mptcp.allow_join_initial_addr_port` 0 at creation).
    pub(super) const DENY_JOIN_ID0: u32 = 1 << 16;
    /// The peer's MP_CAPABLE carried the "C" flag: no join to its initial address.
    pub(super) const REMOTE_DENY_JOIN_ID0: u32 = 1 << 17;
    /// The path manager's listener of a `signal` endpoint with a port: it takes
    /// joins only (`pm.rs`).
    pub(super) const PM_LISTENER: u32 = 1 << 18;
    /// The first subflow was closed while joined ones carried on
    /// ([`super::Meta::close_first`]).
    pub(super) const FIRST_CLOSED: u32 = 1 << 19;
    /// A joined subflow got established once: no infinite mapping any more
    /// (upstream's `allow_infinite_fallback` cleared), for good.
    pub(super) const HAD_JOIN: u32 = 1 << 20;
    /// MP_FAIL was sent or received on the only subflow: the connection is to fall
    /// back to TCP and takes no more subflows (upstream's `allow_subflows` cleared).
    pub(super) const FAILING: u32 = 1 << 21;
    /// A read reopened the window while the every-subflow ACK was not due
    /// (`Meta::reopen_ack_due`): it goes when a read empties the receive queue.
    pub(super) const REOPEN_ACK: u32 = 1 << 22;
    /// `poll` reported room since the last multi-mode write: a non-blocking write
    /// that then finds none takes one piece beyond the subflows' unsent limit
    /// (`sendq::overflow_piece`).
    pub(super) const POLLED_OUT: u32 = 1 << 23;
    /// The connection ended here, beyond repair, with joined subflows open or
    /// opening: the work item (or close, or disconnect, whichever comes first)
    /// resets them with MP_FASTCLOSE, so that the peer's connection ends too
    /// (`Meta::abort_beyond_repair`).
    pub(super) const FASTCLOSE_JOINS: u32 = 1 << 24;
    /// The peer's last mapping carried a 64-bit DSN: our DATA_ACKs are 64-bit too
    /// (RFC 8684 3.3: a 32-bit DATA_ACK only while the peer sends 32-bit DSNs),
    /// as upstream's `use_64bit_ack`.
    pub(super) const PEER_DSN64: u32 = 1 << 25;
    /// The connection sends fast enough for our DSNs to be 64-bit, for good
    /// ([`Meta::measure_send_rate`]).
    pub(super) const DSN64: u32 = 1 << 26;
}

/// Bytes the peer acknowledges per second at or above which our DSNs are 64-bit:
/// half the rate at which 32-bit DSNs would wrap within TCP's maximum segment
/// lifetime of two minutes, RFC 8684 3.3's condition for sending the full DSN
/// (about 143 Mbit/s).
const DSN64_RATE: u64 = (1 << 32) / 120 / 2;

/// Window (ms) over which [`Meta::measure_send_rate`] counts acknowledged bytes.
const RATE_WINDOW_MS: u32 = 250;

/// State of one MPTCP connection.
///
/// # Invariants
///
/// `sk` is the meta socket this state belongs to; the state is freed by that socket's
/// destructor only. `first` is the first subflow's kernel socket or null; it is set and
/// cleared with the meta socket owned.
pub(crate) struct Meta {
    sk: *mut bindings::sock,
    net: *const bindings::net,
    destruct: Option<unsafe extern "C" fn(*mut bindings::sock)>,
    first: AtomicPtr<bindings::socket>,
    /// The first subflow's sock (set with `first`, or by a listener before accept()).
    first_sk: AtomicPtr<bindings::sock>,
    /// Our key, and the IDSN derived from it; a connecting socket may draw another
    /// key before its SYN (its token was taken, see [`Meta::enter_token_table`]).
    local_key: AtomicU64,
    local_idsn: AtomicU64,
    remote_key: AtomicU64,
    flags: AtomicU32,
    /// Next DSN expected from the peer.
    ack_seq: AtomicU64,
    /// Oldest DSN of ours the peer has not acknowledged.
    snd_una: AtomicU64,
    rcv_data_fin: AtomicU64,
    snd_data_fin: AtomicU64,
    /// Subflows the peer added with MP_JOIN (`join.rs`).
    joins: crate::join::Joins,
    /// The send queue of multi mode; the owner of the meta socket's only.
    sendq: UnsafeCell<SendQueue>,
    /// Bumped whenever a subflow gets room (writers wait for a change).
    space_gen: AtomicU32,
    /// Right edge of the peer's receive window in the data sequence space: the
    /// largest DATA_ACK + window seen (RFC 8684 3.3.5).
    snd_wnd_end: AtomicU64,
    /// The send queue's next DSN as its owner left it, for `poll` (multi mode).
    snd_nxt_seen: AtomicU64,
    /// Where multi mode began: what direct mode sent before this DSN is only in the
    /// first subflow's queue, not in the send queue (`sendq::go_multi`).
    direct_end: AtomicU64,
    /// When a stalled subflow last ran the work item (ms, wrapping).
    kicked_ms: AtomicU32,
    /// When a read last sent the reopened window on every subflow (ms).
    reopen_ack_ms: AtomicU32,
    /// When a timed-out subflow last woke the writers again (ms, wrapping).
    timeout_wake_ms: AtomicU32,
    /// Right edge of our receive window as announced so far, in the data sequence
    /// space: the largest DATA_ACK + window any subflow sent (0: none yet). No
    /// subflow announces less (upstream's `rcv_wnd_sent`, `mptcp_set_rwin()`).
    rcv_wnd_sent: AtomicU64,
    /// Until when (ms) an orphaned connection may deliver what was written before
    /// close() (`net.mptcp.close_timeout` after it).
    linger_until_ms: AtomicU64,
    /// Reinjection and deferred DATA_FIN (`sendq::work`), initialised once the
    /// state has its final address.
    work: UnsafeCell<bindings::mptcp_rs_meta_work>,
    /// `TCP_CONGESTION` chosen on this socket, for every subflow (`cc_paths.rs`).
    cc: crate::cc_paths::Choice,
    /// Options of the meta socket itself: `TCP_INQ` (`sockopt.rs`).
    opts: crate::sockopt::MetaOpts,
    /// Start (ms, wrapping) and `snd_una` (0: none yet) of the current window of
    /// [`Meta::measure_send_rate`].
    rate_ms: AtomicU32,
    rate_una: AtomicU64,
}

/// The meta socket's spinlock, held (see [`Meta::data_lock`]).
///
/// # Invariants
///
/// The spinlock of `meta`'s socket is held by this guard.
pub(crate) struct DataLock<'a> {
    meta: &'a Meta,
}

impl Drop for DataLock<'_> {
    fn drop(&mut self) {
        // SAFETY: taken by `Meta::data_lock` (invariant).
        unsafe { bindings::mptcp_rs_data_unlock(self.meta.sk) };
    }
}

// SAFETY: shared fields are atomics; the pointers are to kernel objects that outlive
// the state (the socket itself, its netns).
unsafe impl Send for Meta {}
// SAFETY: as above.
unsafe impl Sync for Meta {}

/// Whether at least `ms` milliseconds (jiffies) passed since the time in `stamp`,
/// which then becomes now: true for one caller at a time.
fn once_per(stamp: &AtomicU32, ms: u32) -> bool {
    // SAFETY: no preconditions.
    let now = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
    let last = stamp.load(Ordering::Relaxed);
    now.wrapping_sub(last) >= ms
        && stamp
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
}

impl Meta {
    /// The state of meta socket `sk`.
    ///
    /// # Safety
    ///
    /// `sk` is a live meta socket (one of our protos).
    pub(crate) unsafe fn from_sk<'a>(sk: *const bindings::sock) -> Option<&'a Meta> {
        // SAFETY: per the contract; the pointer is set in `init` and cleared only by
        // the destructor.
        let p = unsafe { bindings::mptcp_rs_meta_state(sk) } as *const Meta;
        // SAFETY: non-null means a live state (invariant).
        unsafe { p.as_ref() }
    }

    pub(crate) fn sk(&self) -> *mut bindings::sock {
        self.sk
    }

    /// The connection's namespace, for [`crate::mib`].
    pub(crate) fn net(&self) -> &crate::net::Net {
        // SAFETY: the namespace outlives the state (see the `Send` impl): the meta socket
        // holds a reference on it until its destructor, which frees the state.
        unsafe { crate::net::Net::from_raw(self.net) }
    }

    fn has(&self, f: u32) -> bool {
        self.flags.load(Ordering::Acquire) & f != 0
    }

    fn set(&self, f: u32) {
        self.flags.fetch_or(f, Ordering::AcqRel);
    }

    pub(crate) fn set_fallback(&self) {
        self.set(mf::FALLBACK);
    }

    pub(crate) fn is_fallback(&self) -> bool {
        self.has(mf::FALLBACK)
    }

    /// A mapping from the peer carried a DSN of 8 octets (`dsn64`) or 4: the width
    /// of our DATA_ACKs follows ([`mf::PEER_DSN64`]). Written only on a change.
    pub(crate) fn note_peer_dsn_width(&self, dsn64: bool) {
        if self.has(mf::PEER_DSN64) != dsn64 {
            if dsn64 {
                self.set(mf::PEER_DSN64);
            } else {
                self.flags.fetch_and(!mf::PEER_DSN64, Ordering::AcqRel);
            }
        }
    }

    /// Whether our DATA_ACKs are 64-bit ([`mf::PEER_DSN64`]).
    pub(crate) fn peer_dsn64(&self) -> bool {
        self.has(mf::PEER_DSN64)
    }

    pub(crate) fn set_checksum(&self) {
        self.set(mf::CHECKSUM);
    }

    pub(crate) fn checksum(&self) -> bool {
        self.has(mf::CHECKSUM)
    }

    pub(crate) fn wants_checksum(&self) -> bool {
        self.has(mf::WANT_CHECKSUM)
    }

    /// Whether the userspace path manager drives this connection.
    pub(crate) fn userspace_pm(&self) -> bool {
        self.has(mf::USERSPACE_PM)
    }

    /// Whether our MP_CAPABLE carries the "C" flag (no joins to our initial address).
    pub(crate) fn deny_join_id0(&self) -> bool {
        self.has(mf::DENY_JOIN_ID0)
    }

    /// The peer's MP_CAPABLE carried the "C" flag.
    pub(crate) fn set_remote_deny_join_id0(&self) {
        self.set(mf::REMOTE_DENY_JOIN_ID0);
    }

    /// Marks the path manager's listener of a `signal` endpoint with a port.
    pub(crate) fn set_pm_listener(&self) {
        self.set(mf::PM_LISTENER);
    }

    /// Whether this is the path manager's listener of an endpoint with a port.
    pub(crate) fn is_pm_listener(&self) -> bool {
        self.has(mf::PM_LISTENER)
    }

    /// Whether the peer asked us not to join its initial address and port.
    pub(crate) fn remote_deny_join_id0(&self) -> bool {
        self.has(mf::REMOTE_DENY_JOIN_ID0)
    }

    pub(crate) fn local_key(&self) -> u64 {
        self.local_key.load(Ordering::Acquire)
    }

    pub(crate) fn local_idsn(&self) -> u64 {
        self.local_idsn.load(Ordering::Acquire)
    }

    /// Enters this connection in the token table (the token of its key, unique in its
    /// namespace), with the meta socket owned and before its SYN is sent: a key whose
    /// token is taken is replaced by a new random one (RFC 8684 3.2).
    fn enter_token_table(&self) -> Result {
        for _ in 0..8 {
            let token = key_derive::<KernelSha256>(self.local_key()).token;
            // SAFETY: `sk` is live (invariant) and owned.
            match unsafe { bindings::mptcp_rs_token_insert(self.sk, token) } {
                0 => return Ok(()),
                e if e == -errno::EEXIST => self.new_local_key(),
                e => return Err(Error::from_errno(e)),
            }
        }
        Err(Error::from_errno(-errno::EADDRNOTAVAIL))
    }

    /// Draws a new local key, and with it the token and the IDSN (not in the token
    /// table: [`Meta::enter_token_table`] puts it there).
    fn new_local_key(&self) {
        // SAFETY: no preconditions.
        let key = unsafe { bindings::mptcp_rs_random_u64() };
        let idsn = key_derive::<KernelSha256>(key).idsn;
        self.local_key.store(key, Ordering::Release);
        self.local_idsn.store(idsn, Ordering::Release);
        self.snd_una.store(idsn.wrapping_add(1), Ordering::Release);
    }

    /// Takes this connection out of the token table (if it is in).
    fn leave_token_table(&self) {
        // SAFETY: `sk` is live (invariant).
        unsafe {
            bindings::mptcp_rs_token_remove(self.sk);
            bindings::mptcp_rs_listener_remove(self.sk);
        }
    }

    pub(crate) fn remote_key(&self) -> u64 {
        self.remote_key.load(Ordering::Acquire)
    }

    /// The handshake gave us the peer's key: data sequence spaces start.
    pub(crate) fn set_remote_key(&self, key: u64, remote_idsn: u64) {
        self.remote_key.store(key, Ordering::Release);
        self.ack_seq
            .store(remote_idsn.wrapping_add(1), Ordering::Release);
        self.snd_una
            .store(self.local_idsn().wrapping_add(1), Ordering::Release);
        if self.wants_checksum() {
            self.set(mf::CHECKSUM);
        }
    }

    /// Whether stale subflows are counted (`net.mptcp.stale_loss_cnt` not 0).
    pub(crate) fn stale_accounting(&self) -> bool {
        // SAFETY: the socket's netns is alive while the socket is.
        unsafe { sysctl::stale_loss_cnt(self.net) != 0 }
    }

    pub(crate) fn syn_retrans_before_fallback(&self) -> u8 {
        // SAFETY: the socket's netns is alive while the socket is.
        unsafe { sysctl::syn_retrans_before_tcp_fallback(self.net) }
    }

    pub(crate) fn ack_seq(&self) -> u64 {
        self.ack_seq.load(Ordering::Acquire)
    }

    pub(crate) fn snd_una(&self) -> u64 {
        self.snd_una.load(Ordering::Acquire)
    }

    /// Whether DATA_ACK `ack`, received on subflow `ctx` (locked by TCP),
    /// acknowledges DSNs we never sent: beyond the send queue's next DSN in multi
    /// mode, the first subflow's in direct mode (known on that subflow only), and our
    /// DATA_FIN once queued. Such a DATA_ACK is ignored, as upstream ignores it.
    pub(crate) fn acks_unsent(&self, ack: u64, ctx: &Subflow) -> bool {
        let nxt = if self.has(mf::MULTI) {
            self.snd_nxt_seen.load(Ordering::Acquire)
        } else if ctx.ssk() == self.first_ssk() {
            ctx.snd_dsn_next()
        } else {
            return false;
        };
        let nxt = if self.has(mf::SND_DATA_FIN) {
            let fin_end = self.snd_data_fin.load(Ordering::Acquire).wrapping_add(1);
            if after64(fin_end, nxt) {
                fin_end
            } else {
                nxt
            }
        } else {
            nxt
        };
        after64(ack, nxt)
    }

    /// A DATA_ACK arrived.
    pub(crate) fn data_ack(&self, ack: u64) {
        let mut cur = self.snd_una();
        while after64(ack, cur) {
            match self
                .snd_una
                .compare_exchange(cur, ack, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    self.measure_send_rate(ack);
                    let fin = self.snd_data_fin.load(Ordering::Acquire);
                    if self.has(mf::SND_DATA_FIN) && after64(ack, fin) && !after64(cur, fin) {
                        if self.has(mf::LINGER) {
                            // the orphaned connection is complete: release it
                            self.kick();
                        } else {
                            // a close() waiting for it (SO_LINGER) returns
                            // SAFETY: `sk` is live (invariant).
                            unsafe { bindings::mptcp_rs_wake_state(self.sk) };
                        }
                    }
                    break;
                }
                Err(v) => cur = v,
            }
        }
    }

    /// The DATA_ACK moved to `una`: once per [`RATE_WINDOW_MS`] at most, the bytes
    /// acknowledged since the last time give the connection's send rate; from
    /// [`DSN64_RATE`] on, our DSNs are 64-bit ([`mf::DSN64`], for good).
    fn measure_send_rate(&self, una: u64) {
        if self.has(mf::DSN64) {
            return;
        }
        // SAFETY: no preconditions.
        let now = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
        let then = self.rate_ms.load(Ordering::Acquire);
        let elapsed = now.wrapping_sub(then);
        if elapsed < RATE_WINDOW_MS
            || self
                .rate_ms
                .compare_exchange(then, now, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        let before = self.rate_una.swap(una, Ordering::AcqRel);
        // (0: the first window starts now; an older `una`, from a caller that lost
        // the CPU between the two exchanges, measures nothing)
        if before != 0
            && after64(una, before)
            && una.wrapping_sub(before).saturating_mul(1000)
                >= DSN64_RATE.saturating_mul(u64::from(elapsed))
        {
            self.set(mf::DSN64);
        }
    }

    /// Whether our DSNs are 64-bit ([`mf::DSN64`]).
    pub(crate) fn dsn64(&self) -> bool {
        self.has(mf::DSN64)
    }

    /// The peer's DATA_FIN arrived with every byte before it.
    pub(crate) fn rcv_data_fin_done(&self) -> bool {
        self.has(mf::RCV_DATA_FIN_DONE)
    }

    pub(crate) fn snd_data_fin_sent(&self) -> bool {
        self.has(mf::SND_DATA_FIN)
    }

    pub(crate) fn snd_data_fin_dsn(&self) -> u64 {
        self.snd_data_fin.load(Ordering::Acquire)
    }

    /// The peer's DATA_FIN takes DSN `dsn`.
    pub(crate) fn rcv_data_fin(&self, dsn: u64) {
        if !self.has(mf::RCV_DATA_FIN) {
            self.rcv_data_fin.store(dsn, Ordering::Release);
            self.set(mf::RCV_DATA_FIN);
        }
    }

    /// The peer closed the connection abruptly (MP_FASTCLOSE with our key).
    pub(crate) fn fastclosed(&self) {
        self.set(mf::FASTCLOSED);
        self.subflow_event(ptr::null_mut());
    }

    /// In-order data up to `end` is on the receive queue.
    ///
    /// Caller holds the meta socket's data.
    pub(crate) fn advance_ack(&self, end: u64) {
        if after64(end, self.ack_seq()) {
            self.ack_seq.store(end, Ordering::Release);
        }
    }

    /// Moves out-of-order data that became in-order to the receive queue.
    ///
    /// # Safety
    ///
    /// The caller holds the meta socket's data (owner, or spinlock while unowned).
    pub(crate) unsafe fn drain_ofo(&self) {
        loop {
            // SAFETY: the caller holds the queues.
            let skb = unsafe { bindings::mptcp_rs_ofo_peek(self.sk) };
            if skb.is_null() {
                return;
            }
            // SAFETY: a queued skb carries our control block.
            let cb = unsafe { &mut *bindings::mptcp_rs_skb_cb(skb) };
            let ack = self.ack_seq();
            if after64(cb.dsn, ack) {
                return;
            }
            let end = cb.dsn.wrapping_add(u64::from(cb.len));
            if !after64(end, ack) {
                // SAFETY: as above.
                unsafe { bindings::mptcp_rs_ofo_drop(self.sk, skb) };
                continue;
            }
            cb.offset = ack.wrapping_sub(cb.dsn) as u32;
            // SAFETY: as above.
            unsafe { bindings::mptcp_rs_ofo_to_rcv(self.sk, skb) };
            self.advance_ack(end);
        }
    }

    fn first_sock(&self) -> *mut bindings::socket {
        self.first.load(Ordering::Acquire)
    }

    pub(crate) fn first_ssk(&self) -> *mut bindings::sock {
        self.first_sk.load(Ordering::Acquire)
    }

    /// The connection a listener (this meta socket) accepted on subflow `ctx`: a new
    /// meta socket cloned from the listener, MPTCP with `keys` (ours, the peer's,
    /// checksums), or a fallback to TCP without. Softirq, child locked.
    pub(crate) fn new_child(&self, ctx: &Subflow, keys: Option<(u64, u64, bool)>) -> Result<&Meta> {
        // SAFETY: `self.sk` is a live listening meta socket; the clone starts with the
        // listener's original destructor and no state.
        let nsk = unsafe { bindings::mptcp_rs_meta_clone(self.sk, self.destruct) };
        if nsk.is_null() {
            return Err(ENOMEM);
        }
        let (local_key, remote_key, csum) = keys.unwrap_or((0, 0, false));
        let local_idsn = key_derive::<KernelSha256>(local_key).idsn;
        let remote_idsn = key_derive::<KernelSha256>(remote_key).idsn;
        let mut flags = mf::UNACCEPTED | pm_flags(self.net);
        if keys.is_none() {
            flags |= mf::FALLBACK;
        } else if csum || self.wants_checksum() {
            flags |= mf::CHECKSUM | mf::WANT_CHECKSUM;
        }
        let meta = KBox::new(
            Meta {
                sk: nsk,
                net: self.net,
                destruct: self.destruct,
                first: AtomicPtr::new(ptr::null_mut()),
                first_sk: AtomicPtr::new(ctx.ssk()),
                local_key: AtomicU64::new(local_key),
                local_idsn: AtomicU64::new(local_idsn),
                remote_key: AtomicU64::new(remote_key),
                flags: AtomicU32::new(flags),
                ack_seq: AtomicU64::new(if keys.is_some() {
                    remote_idsn.wrapping_add(1)
                } else {
                    0
                }),
                snd_una: AtomicU64::new(local_idsn.wrapping_add(1)),
                rcv_data_fin: AtomicU64::new(0),
                snd_data_fin: AtomicU64::new(0),
                joins: crate::join::Joins::new(),
                sendq: UnsafeCell::new(SendQueue::new()),
                space_gen: AtomicU32::new(0),
                snd_wnd_end: AtomicU64::new(0),
                snd_nxt_seen: AtomicU64::new(0),
                direct_end: AtomicU64::new(0),
                kicked_ms: AtomicU32::new(0),
                reopen_ack_ms: AtomicU32::new(0),
                timeout_wake_ms: AtomicU32::new(0),
                rcv_wnd_sent: AtomicU64::new(0),
                linger_until_ms: AtomicU64::new(0),
                // SAFETY: a work item and two pointers: all zero until
                // `mptcp_rs_meta_work_init()`, before any use.
                work: UnsafeCell::new(unsafe { core::mem::zeroed() }),
                cc: crate::cc_paths::Choice::new(),
                // the listener's, as the clone has its socket options
                opts: self.opts.clone_for_child(),
                rate_ms: AtomicU32::new(0),
                rate_una: AtomicU64::new(0),
            },
            GFP_ATOMIC,
        );
        let Ok(meta) = meta else {
            // SAFETY: no one else knows `nsk`; it goes with its two references, as a
            // closed, dead socket.
            unsafe {
                set_sk_state(nsk, self.net(), TCP_CLOSE);
                bindings::mptcp_rs_sock_orphan(nsk);
                bindings::mptcp_rs_sock_put(nsk);
                bindings::mptcp_rs_sock_put(nsk);
            }
            return Err(ENOMEM);
        };
        let p = KBox::into_raw(meta);
        // SAFETY: `p` is the new state, at its final address.
        unsafe {
            bindings::mptcp_rs_meta_work_init(
                (*p).work.get(),
                nsk,
                Some(crate::sendq::work),
                Some(linger_done),
            )
        };
        // SAFETY: `p` is the new socket's state, freed by `meta_destruct`; the
        // subflow context takes over the clone's second reference.
        unsafe {
            bindings::mptcp_rs_meta_set_state_ptr(nsk, p.cast());
            bindings::mptcp_rs_set_destruct(nsk, Some(meta_destruct));
            set_sk_state(nsk, self.net(), TCP_ESTABLISHED);
            bindings::mptcp_rs_copy_addrs(nsk, ctx.ssk());
        }
        ctx.set_meta(nsk);
        // SAFETY: just created, alive as long as its references.
        let meta = unsafe { &*p };
        if keys.is_some() {
            let token = key_derive::<KernelSha256>(local_key).token;
            // SAFETY: `nsk` is live and not yet visible to anyone else.
            if unsafe { bindings::mptcp_rs_token_insert(nsk, token) } != 0 {
                // Another connection of this namespace has our key's token (the key
                // went out on the SYN/ACK already): continue as plain TCP; the peer
                // falls back when our segments come without DSS.
                crate::mib::inc(self.net(), crate::mib::Mib::MPFallbackTokenInit);
                meta.set_fallback();
            }
        }
        Ok(meta)
    }

    /// Subflow `ssk` is being destroyed. A connection no one accepted dies with it.
    pub(crate) fn subflow_gone(&self, ssk: *mut bindings::sock) {
        if ssk != self.first_ssk() || !self.has(mf::UNACCEPTED) {
            return;
        }
        self.first_sk.store(ptr::null_mut(), Ordering::Release);
        self.joins.orphaned(self);
        let sk = self.sk;
        // SAFETY: no socket was ever grafted: we drop what would have been the
        // application's reference; the subflow context drops its own after us.
        unsafe {
            bindings::mptcp_rs_data_lock(sk);
            bindings::mptcp_rs_meta_purge_queues(sk);
            set_sk_state(sk, self.net(), TCP_CLOSE);
            bindings::mptcp_rs_data_unlock(sk);
            bindings::mptcp_rs_sock_orphan(sk);
            bindings::mptcp_rs_sock_put(sk);
        }
    }

    /// A subflow's `sk_data_ready`: take the data now if no task owns the meta socket.
    ///
    /// Called with the subflow locked.
    pub(crate) fn subflow_data_ready(&self, sf: &Subflow) {
        let mut failed = false;
        let fin_before = self.has(mf::RCV_DATA_FIN_DONE);
        // SAFETY: `sk` is live (invariant).
        unsafe { bindings::mptcp_rs_data_lock(self.sk) };
        // SAFETY: as above.
        if unsafe { bindings::mptcp_rs_owned_by_user(self.sk) } {
            self.set(mf::PENDING);
        } else {
            // SAFETY: subflow locked by our caller, meta spinlock held and unowned.
            if unsafe { sf.move_to_meta(self) }.is_err() {
                self.subflow_failed(sf);
                failed = true;
            }
            // SAFETY: both sockets are live; the subflow is locked by our caller.
            unsafe { bindings::mptcp_rs_subflow_ack_lowat(sf.ssk(), self.sk) };
            self.process_events();
        }
        // SAFETY: taken above.
        unsafe { bindings::mptcp_rs_data_unlock(self.sk) };
        if failed {
            // Outside the meta spinlock: resetting the subflow runs its state_change
            // callback, which takes it. Our caller holds the subflow's lock.
            // SAFETY: as said.
            unsafe { sf.reset_on_error() };
        } else {
            // SAFETY: as above.
            unsafe { sf.flush_mp_fail() };
        }
        if !fin_before && self.has(mf::RCV_DATA_FIN_DONE) {
            // SAFETY: our caller holds the subflow's lock.
            unsafe { bindings::mptcp_rs_ack_now(sf.ssk()) };
        }
        // SAFETY: as above.
        unsafe { bindings::mptcp_rs_wake_readers(self.sk) };
    }

    /// A subflow changed state or reported an error (`ssk` locked by TCP).
    pub(crate) fn subflow_event(&self, ssk: *mut bindings::sock) {
        let fin_before = self.has(mf::RCV_DATA_FIN_DONE);
        // a subflow died or changed state: reinjection may be due; in direct mode
        // too once a join is established (the first subflow may have timed out
        // before: the work item then turns to multi mode, `sendq::work`)
        if self.joins.any_established() {
            self.kick_any_mode();
        } else {
            self.kick();
        }
        // SAFETY: `sk` is live (invariant).
        unsafe { bindings::mptcp_rs_data_lock(self.sk) };
        // SAFETY: as above.
        if unsafe { bindings::mptcp_rs_owned_by_user(self.sk) } {
            self.set(mf::PENDING);
        } else {
            self.process_events();
        }
        // SAFETY: taken above.
        unsafe { bindings::mptcp_rs_data_unlock(self.sk) };
        if !fin_before && self.has(mf::RCV_DATA_FIN_DONE) && !ssk.is_null() {
            // the peer's DATA_FIN: acknowledge it now, as upstream does (TCP would
            // delay the ACK of its FIN, in pingpong mode, until we close)
            // SAFETY: TCP holds the subflow's lock around its callbacks.
            unsafe { bindings::mptcp_rs_ack_now(ssk) };
        }
    }

    pub(crate) fn wake_writers(&self) {
        // SAFETY: `sk` is live (invariant).
        unsafe { bindings::mptcp_rs_wake_writers(self.sk) };
    }

    /// The send queue.
    ///
    /// # Safety
    ///
    /// The caller owns the meta socket and drops the reference before releasing it.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn sendq(&self) -> &mut SendQueue {
        // SAFETY: only the owner uses it (caller's promise).
        unsafe { &mut *self.sendq.get() }
    }

    pub(crate) fn space_gen(&self) -> u32 {
        self.space_gen.load(Ordering::Acquire)
    }

    pub(crate) fn space_gen_ptr(&self) -> *const u32 {
        self.space_gen.as_ptr()
    }

    /// The right edge of the peer's window.
    pub(crate) fn snd_wnd_end(&self) -> u64 {
        self.snd_wnd_end.load(Ordering::Acquire)
    }

    /// A DATA_ACK `ack` came with window `wnd`: the right edge may move. True when
    /// it moved.
    pub(crate) fn update_wnd(&self, ack: u64, wnd: u32) -> bool {
        let end = ack.wrapping_add(u64::from(wnd));
        let mut cur = self.snd_wnd_end();
        while after64(end, cur) || cur == 0 {
            match self
                .snd_wnd_end
                .compare_exchange(cur, end, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if self.flags.fetch_and(!mf::WND_LIMITED, Ordering::AcqRel) & mf::WND_LIMITED
                        != 0
                    {
                        self.subflow_space();
                    }
                    return true;
                }
                Err(v) => cur = v,
            }
        }
        false
    }

    pub(crate) fn set_wnd_limited(&self) {
        self.set(mf::WND_LIMITED);
    }

    /// Whether a writer found the peer's window closed since it last moved.
    pub(crate) fn wnd_limited(&self) -> bool {
        self.has(mf::WND_LIMITED)
    }

    /// The send queue's next DSN moved to `dsn` (its owner, for [`Meta::wnd_open`]
    /// and [`Meta::acks_unsent`]: published before bytes up to it are sent).
    pub(crate) fn publish_snd_nxt(&self, dsn: u64) {
        self.snd_nxt_seen.store(dsn, Ordering::Release);
    }

    /// Whether the peer's window takes more data (lockless, for `poll`): `sendmsg`
    /// sends nothing beyond it. When it does not, a window update wakes the
    /// writers.
    pub(crate) fn wnd_open(&self) -> bool {
        let open = || {
            after64(
                self.snd_wnd_end(),
                self.snd_nxt_seen.load(Ordering::Acquire),
            )
        };
        if open() {
            return true;
        }
        self.set_wnd_limited();
        // the edge may have moved before the flag was set
        open()
    }

    /// Multi mode begins at DSN `direct_end` (the send queue's owner).
    pub(crate) fn set_multi(&self, direct_end: u64) {
        self.direct_end.store(direct_end, Ordering::Release);
        self.set(mf::MULTI);
    }

    /// Where multi mode began ([`Meta::set_multi`]): what direct mode wrote lies
    /// before this DSN.
    pub(crate) fn direct_end(&self) -> u64 {
        self.direct_end.load(Ordering::Acquire)
    }

    /// Whether the connection is in multi mode and the peer acknowledged all that
    /// direct mode sent before: the send queue holds everything the first subflow
    /// still carries, and it can die without loss (lockless).
    pub(crate) fn direct_data_acked(&self) -> bool {
        self.has(mf::MULTI) && !after64(self.direct_end.load(Ordering::Acquire), self.snd_una())
    }

    /// A joined subflow is established (either side): the connection cannot fall
    /// back to TCP with an infinite mapping any more.
    pub(crate) fn set_had_join(&self) {
        self.set(mf::HAD_JOIN);
    }

    /// Whether a joined subflow was ever established ([`Meta::set_had_join`]).
    pub(crate) fn had_join(&self) -> bool {
        self.has(mf::HAD_JOIN)
    }

    /// Whether the connection sends on several subflows (it switched for good).
    pub(crate) fn is_multi(&self) -> bool {
        self.has(mf::MULTI)
    }

    /// `poll` reported room to a writer (no atomic write when it says so already:
    /// every poll of a busy connection lands here).
    pub(crate) fn set_polled_out(&self) {
        if !self.has(mf::POLLED_OUT) {
            self.set(mf::POLLED_OUT);
        }
    }

    /// Whether `poll` reported room since this was last asked (it clears it).
    pub(crate) fn take_polled_out(&self) -> bool {
        self.flags.fetch_and(!mf::POLLED_OUT, Ordering::AcqRel) & mf::POLLED_OUT != 0
    }

    pub(crate) fn set_need_push(&self) {
        self.set(mf::NEED_PUSH);
    }

    /// Our DATA_FIN rides on the subflows' pure ACKs (multi mode).
    pub(crate) fn data_fin_on_acks(&self) -> bool {
        self.has(mf::DATA_FIN_ON_ACKS)
    }

    pub(crate) fn set_data_fin_on_acks(&self) {
        self.set(mf::DATA_FIN_ON_ACKS);
    }

    /// Our DATA_FIN is queued and not yet acknowledged.
    pub(crate) fn data_fin_unacked(&self) -> bool {
        self.has(mf::SND_DATA_FIN)
            && !after64(self.snd_una(), self.snd_data_fin.load(Ordering::Acquire))
    }

    /// Our DATA_FIN takes DSN `dsn`.
    pub(crate) fn mark_data_fin(&self, dsn: u64) {
        self.snd_data_fin.store(dsn, Ordering::Release);
        self.set(mf::SND_DATA_FIN);
    }

    /// Runs the work item (reinjection) soon, in multi mode. Any context.
    pub(crate) fn kick(&self) {
        if self.has(mf::MULTI) {
            self.kick_any_mode();
        }
    }

    /// Runs the work item soon, in direct mode too (it may turn to multi mode).
    /// Any context.
    pub(crate) fn kick_any_mode(&self) {
        // SAFETY: initialised at creation; it holds a reference while queued.
        unsafe { bindings::mptcp_rs_meta_work_schedule(self.work.get()) };
    }

    /// (Re)arms the MPTCP-level retransmission timer (`sendq.rs`).
    pub(crate) fn rtx_arm(&self, ms: u32) {
        // SAFETY: initialised at creation; the timer holds a reference while armed.
        unsafe { bindings::mptcp_rs_meta_rtx_arm(self.work.get(), ms) };
    }

    /// Arms the retransmission timer to fire within `ms`, or brings it forward if
    /// it would fire later.
    pub(crate) fn rtx_arm_within(&self, ms: u32) {
        // SAFETY: as for `rtx_arm`.
        unsafe { bindings::mptcp_rs_meta_rtx_arm_within(self.work.get(), ms) };
    }

    pub(crate) fn rtx_pending(&self) -> bool {
        // SAFETY: initialised at creation.
        unsafe { bindings::mptcp_rs_meta_rtx_pending(self.work.get()) }
    }

    /// Stops the retransmission timer (the connection is released, or disconnected).
    pub(crate) fn rtx_stop(&self) {
        // SAFETY: initialised at creation.
        unsafe { bindings::mptcp_rs_meta_rtx_stop(self.work.get()) };
    }

    /// MP_FAIL was sent or received on the only subflow ([`mf::FAILING`]).
    pub(crate) fn set_failing(&self) {
        self.set(mf::FAILING);
    }

    /// Whether the connection takes no more subflows for an MP_FAIL ([`mf::FAILING`]).
    pub(crate) fn is_failing(&self) -> bool {
        self.has(mf::FAILING)
    }

    /// Whether the retransmission timer fired since the last call.
    pub(crate) fn rtx_take(&self) -> bool {
        // SAFETY: initialised at creation.
        unsafe { bindings::mptcp_rs_meta_rtx_take(self.work.get()) }
    }

    /// Whether a read that reopened the window may ACK on every subflow now: at
    /// most every 100 ms, as a receiver that is the bottleneck reopens its window
    /// on nearly every read (the subflows' own rules still announce it).
    pub(crate) fn reopen_ack_due(&self) -> bool {
        once_per(&self.reopen_ack_ms, 100)
    }

    /// An every-subflow ACK goes now outside [`Meta::reopen_ack_due`]: the next one
    /// waits 100 ms from here.
    pub(crate) fn reopen_ack_stamp(&self) {
        // SAFETY: no preconditions.
        let now = unsafe { bindings::mptcp_rs_jiffies_ms() } as u32;
        self.reopen_ack_ms.store(now, Ordering::Release);
    }

    /// A subflow announces window `wnd` with DATA_ACK `ack`: the edge announced so
    /// far moves if that one is beyond it; else the edge (to raise the subflow's
    /// window to) when it is beyond this one.
    pub(crate) fn rcv_wnd_announce(&self, ack: u64, wnd: u32) -> Option<u64> {
        let end = ack.wrapping_add(u64::from(wnd));
        let mut sent = self.rcv_wnd_sent.load(Ordering::Acquire);
        loop {
            if sent != 0 && !after64(end, sent) {
                return after64(sent, end).then_some(sent);
            }
            match self
                .rcv_wnd_sent
                .compare_exchange(sent, end, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return None,
                Err(v) => sent = v,
            }
        }
    }

    /// Whether a subflow's later timed-out transmission may wake the writers now:
    /// at most every 10 ms.
    pub(crate) fn timeout_wake_due(&self) -> bool {
        once_per(&self.timeout_wake_ms, 10)
    }

    /// [`Meta::kick`], at most once per 10 ms (jiffies).
    pub(crate) fn kick_rate_limited(&self) {
        if once_per(&self.kicked_ms, 10) {
            self.kick();
        }
    }

    /// A subflow has room again (its write_space).
    pub(crate) fn subflow_space(&self) {
        self.space_gen.fetch_add(1, Ordering::AcqRel);
        if self.flags.fetch_and(!mf::NEED_PUSH, Ordering::AcqRel) & mf::NEED_PUSH != 0 {
            self.kick();
        }
        self.wake_writers();
    }

    /// The congestion control chosen for the subflows (`cc_paths.rs`).
    pub(crate) fn cc(&self) -> &crate::cc_paths::Choice {
        &self.cc
    }

    pub(crate) fn joins(&self) -> &crate::join::Joins {
        &self.joins
    }

    /// Takes the meta socket's spinlock (bottom halves off) until the guard drops.
    /// It nests inside a subflow's lock and the meta socket's ownership; the caller
    /// does not hold it already and calls nothing that takes it or a subflow's lock
    /// while the guard lives.
    pub(crate) fn data_lock(&self) -> DataLock<'_> {
        // SAFETY: `sk` is live (invariant); the caller's nesting is as documented.
        unsafe { bindings::mptcp_rs_data_lock(self.sk) };
        DataLock { meta: self }
    }

    /// DSN of the next byte the application writes (upstream's `write_seq`). The meta
    /// socket is owned.
    pub(crate) fn write_seq(&self) -> u64 {
        // SAFETY: the meta socket is owned by the caller.
        let q = unsafe { self.sendq() };
        if q.is_multi() {
            return q.snd_nxt();
        }
        let first = self.first_ssk();
        if first.is_null() {
            return self.local_idsn().wrapping_add(1);
        }
        // SAFETY: the first subflow lives while the owned meta socket holds it.
        match unsafe { Subflow::from_sk(first) } {
            Some(ctx) => ctx.snd_dsn_next(),
            None => self.local_idsn().wrapping_add(1),
        }
    }

    /// The meta socket's own options (`sockopt.rs`).
    pub(crate) fn opts(&self) -> &crate::sockopt::MetaOpts {
        &self.opts
    }

    /// The connection's subflows with their ids: the first (id 1), then the joined
    /// ones in slot order. Valid while the meta socket is owned.
    pub(crate) fn subflows(&self) -> impl Iterator<Item = (*mut bindings::sock, u32)> + '_ {
        Iterator::chain(
            core::iter::once((self.first_ssk(), 1)),
            (0..self.joins.slot_count()).map(|i| (self.joins.ssk_at(i), self.joins.id_at(i))),
        )
        .filter(|(ssk, _)| !ssk.is_null())
    }

    /// Calls `f` for each subflow ([`Self::subflows`]) with its lock held (inside the
    /// owned meta socket), and whether it is the first; stops when `f` returns true.
    /// The meta socket is owned, its spinlock not held.
    pub(crate) fn for_each_subflow_locked(
        &self,
        mut f: impl FnMut(*mut bindings::sock, &crate::subflow::Subflow, bool) -> bool,
    ) {
        for (ssk, id) in self.subflows() {
            // SAFETY: the first subflow, or a slot's, lives while the meta socket is
            // owned; its lock nests inside the meta socket's.
            let stop = unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                let stop =
                    crate::subflow::Subflow::from_sk(ssk).is_some_and(|ctx| f(ssk, ctx, id == 1));
                bindings::release_sock(ssk);
                stop
            };
            if stop {
                return;
            }
        }
    }

    pub(crate) fn state(&self) -> c_int {
        // SAFETY: `sk` is live (invariant).
        unsafe { bindings::mptcp_rs_sk_state(self.sk) }
    }

    fn set_state(&self, state: c_int) {
        // SAFETY: `sk` is live; the caller holds the meta socket's data.
        unsafe { set_sk_state(self.sk, self.net(), state) };
    }

    /// Brings the meta socket's state in line with its subflow's and the data
    /// sequence space. Caller holds the meta socket's data (owner, or spinlock while
    /// unowned).
    fn process_events(&self) {
        self.flags.fetch_and(!mf::PENDING, Ordering::AcqRel);
        let sk = self.sk;
        // SAFETY: `sk` is live.
        if unsafe { bindings::mptcp_rs_sock_dead(sk) } {
            if self.lingering() {
                // closed by the application: the peer's DATA_FIN still ends it
                self.take_peer_data_fin(false);
                // SAFETY: as above; the caller holds the socket's data.
                if !unsafe { bindings::mptcp_rs_rcv_queue_empty(sk) } {
                    // nobody reads: the work item drops it (`orphan_pull`)
                    self.kick();
                }
            }
            return;
        }
        let state = self.state();
        let ssk = self.first_ssk();
        let sub = if ssk.is_null() {
            TCP_CLOSE
        } else {
            // SAFETY: the first subflow is live while `first` is set.
            unsafe { bindings::mptcp_rs_sk_state(ssk) }
        };
        if state == TCP_SYN_SENT && !ssk.is_null() {
            if sub != TCP_SYN_SENT && sub != TCP_SYN_RECV && sub != TCP_CLOSE {
                // SAFETY: both sockets are live; the meta data is held.
                unsafe { bindings::mptcp_rs_copy_addrs(sk, ssk) };
                self.set_state(TCP_ESTABLISHED);
                // SAFETY: as above.
                unsafe {
                    bindings::mptcp_rs_wake_state(sk);
                    bindings::mptcp_rs_wake_writers(sk);
                }
            } else if sub == TCP_CLOSE {
                // SAFETY: as above.
                let err = unsafe { bindings::mptcp_rs_sk_err(ssk) };
                self.abort(if err != 0 { err } else { errno::ECONNREFUSED });
                return;
            }
        }
        if self.has(mf::FASTCLOSED) {
            self.abort(errno::ECONNRESET);
            return;
        }
        if self.has(mf::BROKEN) {
            self.abort(errno::EPROTO);
            return;
        }
        self.take_peer_data_fin(true);
        if sub == TCP_CLOSE_WAIT
            && self.state() == TCP_ESTABLISHED
            && !self.is_fallback()
            && !self.has(mf::FIRST_CLOSED)
            && self.joins.any_established()
        {
            // the peer closed the first subflow alone (it removed its address id
            // 0): the address work closes ours (`Meta::close_first`)
            self.joins.addrs().kick(self);
        }
        // The subflow died under an established connection (reset, timeout): with one
        // subflow there is no path left.
        if sub == TCP_CLOSE
            && !ssk.is_null()
            && state != TCP_CLOSE
            && state != TCP_SYN_SENT
            && (self.has(mf::MULTI) || self.first_loss_survivable())
            && self.joins.any_established()
        {
            // other subflows carry on; what the first carried goes again on them (in
            // direct mode the work item turns to multi mode first, `sendq::work`)
            self.kick_any_mode();
        } else if sub == TCP_CLOSE
            && !ssk.is_null()
            && state != TCP_CLOSE
            && state != TCP_SYN_SENT
            && !self.has(mf::FIRST_CLOSED)
        {
            // SAFETY: as above.
            let err = unsafe { bindings::mptcp_rs_sk_err(ssk) };
            if err != 0 {
                self.abort_beyond_repair(err);
            } else if !self.has(mf::RCV_DATA_FIN_DONE) && self.is_fallback() {
                // plain TCP closed normally: that was the end of the stream
                // SAFETY: as above.
                unsafe { bindings::mptcp_rs_set_shutdown(sk, RCV_SHUTDOWN) };
                // SAFETY: as above.
                unsafe { bindings::mptcp_rs_wake_readers(sk) };
            }
        }
        self.check_paths();
    }

    /// In direct mode, whether the connection can go on without its first subflow,
    /// closed (a reset, a timeout): the peer lacks nothing that only that subflow
    /// held, as it held nothing unacknowledged, or it was reset and kept what it
    /// held ([`Subflow::rescue_held`]) for the send queue to take
    /// (`sendq::adopt_direct`). (Without that the bytes direct mode wrote there are
    /// lost, and the connection ends, as before multi mode.) Lockless; the first
    /// subflow is live while set.
    pub(crate) fn first_loss_survivable(&self) -> bool {
        let ssk = self.first_ssk();
        // (a DATA_FIN sent in direct mode: switching to multi mode had failed)
        if ssk.is_null() || self.is_fallback() || !self.had_join() || self.snd_data_fin_sent() {
            return false;
        }
        // SAFETY: live while set (above); word reads.
        let (una, write_seq) = unsafe {
            (
                bindings::mptcp_rs_tcp_snd_una(ssk),
                bindings::mptcp_rs_tcp_write_seq(ssk),
            )
        };
        // (Nothing unacknowledged: TCP's ACK is taken for delivery, as the peer
        // moves what a subflow received on to its connection; RFC 8684 promises
        // only the DATA_ACK. A peer that dropped such bytes leaves the connection
        // waiting for them.)
        // SAFETY: our subflow, live while set.
        una == write_seq
            || unsafe { Subflow::from_sk(ssk) }.is_some_and(|ctx| !ctx.rescued().is_null())
    }

    /// After [`Meta::close_first`], the joined subflows carry the connection: when
    /// none is left (established, being opened, or the peer's half-closed one) it
    /// ends with `ECONNRESET`. (Upstream keeps a connection without subflows for
    /// `close_timeout`, for its path manager to open one; ours does not reopen
    /// subflows for it.) Caller holds the meta socket's data.
    pub(crate) fn check_paths(&self) {
        let state = self.state();
        if self.has(mf::FIRST_CLOSED)
            && state != TCP_CLOSE
            && state != TCP_LISTEN
            && state != TCP_SYN_SENT
            && !self.joins.any_alive()
        {
            self.abort(errno::ECONNRESET);
        }
    }

    /// Takes the peer's DATA_FIN once every byte before it is here: acknowledges it
    /// (`ack_seq` past it), shuts reading down, moves the state on, and wakes the
    /// application (`wake`), or the work item of a connection that lingers after
    /// close() (it may be over now, [`Meta::linger_over`]). Caller holds the meta
    /// socket's data.
    fn take_peer_data_fin(&self, wake: bool) {
        if !self.has(mf::RCV_DATA_FIN) || self.has(mf::RCV_DATA_FIN_DONE) {
            return;
        }
        let fin = self.rcv_data_fin.load(Ordering::Acquire);
        if fin != self.ack_seq() {
            return;
        }
        let sk = self.sk;
        self.ack_seq.store(fin.wrapping_add(1), Ordering::Release);
        self.set(mf::RCV_DATA_FIN_DONE);
        // SAFETY: `sk` is live (invariant); our caller holds its data.
        unsafe { bindings::mptcp_rs_set_shutdown(sk, RCV_SHUTDOWN) };
        let state = self.state();
        if state == TCP_ESTABLISHED {
            self.set_state(TCP_CLOSE_WAIT);
        } else if state == TCP_FIN_WAIT1 {
            self.set_state(TCP_CLOSE);
        }
        if wake {
            // SAFETY: as above.
            unsafe {
                bindings::mptcp_rs_wake_state(sk);
                bindings::mptcp_rs_wake_readers(sk);
            }
        }
        if self.lingering() {
            self.kick();
        }
    }

    /// Ends the connection with error `err` (positive errno; 0: none, the application
    /// had it already).
    fn abort(&self, err: c_int) {
        let sk = self.sk;
        // SAFETY: `sk` is live; caller holds the meta data.
        unsafe {
            if err != 0 {
                bindings::mptcp_rs_set_err(sk, err);
            }
            bindings::mptcp_rs_set_shutdown(sk, SHUTDOWN_MASK);
        }
        self.set_state(TCP_CLOSE);
        // SAFETY: as above.
        unsafe {
            if err != 0 {
                bindings::mptcp_rs_error_report(sk);
            }
            bindings::mptcp_rs_wake_state(sk);
            bindings::mptcp_rs_wake_readers(sk);
        }
    }

    /// What direct mode wrote into the first subflow and the peer did not
    /// acknowledge is gone with it (its queues purged, nothing kept): the stream
    /// cannot be completed, and the connection ends with `ECONNRESET`, as it would
    /// in direct mode. Caller owns the meta socket.
    pub(crate) fn direct_bytes_lost(&self) {
        let state = self.state();
        if state != TCP_CLOSE && state != TCP_SYN_SENT {
            self.abort_beyond_repair(errno::ECONNRESET);
        }
    }

    /// The connection ends here with `err` because its first subflow died holding
    /// bytes nothing else has. Joined subflows then carry no stream any more, and
    /// a reset with MP_TCPRST would only close each of them at the peer, whose
    /// connection would wait on (for the lost bytes, or on a first subflow whose
    /// reset did not reach it). The work item resets them with MP_FASTCLOSE
    /// instead (RFC 8684 3.5), which ends the peer's connection (counted as
    /// `MPFastcloseTx`). Caller holds the meta data.
    fn abort_beyond_repair(&self, err: c_int) {
        self.abort(err);
        // (a join still being established is reset with it)
        if self.joins.any_alive() {
            self.set(mf::FASTCLOSE_JOINS);
            self.kick_any_mode();
        }
    }

    /// Carries out (once) the request of [`Meta::abort_beyond_repair`] to reset the
    /// joined subflows with MP_FASTCLOSE: from the work item, or from close or
    /// disconnect if they come first. The meta socket is owned, in process context.
    pub(crate) fn fastclose_joins_if_asked(&self) {
        if self.flags.fetch_and(!mf::FASTCLOSE_JOINS, Ordering::AcqRel) & mf::FASTCLOSE_JOINS != 0 {
            self.joins.fastclose_all();
        }
    }

    /// A send in direct mode took the first subflow's error: the subflow died, and
    /// TCP hands its error out once. The connection ends as [`Meta::process_events`]
    /// would end it, with `err` for the application's next call (0: none, the send
    /// returned it). Caller owns the meta socket.
    pub(crate) fn first_error_taken(&self, err: c_int) {
        let state = self.state();
        if state != TCP_CLOSE && state != TCP_SYN_SENT && !self.has(mf::MULTI) {
            self.abort_beyond_repair(err);
        }
    }

    /// Creates (once) the first subflow, with the meta socket owned.
    fn ensure_first(&self) -> Result<*mut bindings::socket> {
        let sf = self.first_sock();
        if !sf.is_null() {
            return Ok(sf);
        }
        let mut sf: *mut bindings::socket = ptr::null_mut();
        // SAFETY: `sk` is live and owned by us.
        let family = unsafe { bindings::mptcp_rs_sk_family(self.sk) };
        // SAFETY: as above; `sf` receives a new kernel socket.
        to_result(unsafe { bindings::mptcp_rs_subflow_create(self.sk, family, &mut sf) })?;
        // SAFETY: `sf` is a fresh, unconnected TCP socket.
        let ssk = unsafe { bindings::mptcp_rs_sf_sk(sf) };
        // SAFETY: as above.
        if let Err(e) = unsafe { Subflow::attach(self.sk, ssk) } {
            // SAFETY: ours to release.
            unsafe { bindings::mptcp_rs_sf_release(sf) };
            return Err(e);
        }
        self.first_sk.store(ssk, Ordering::Release);
        self.first.store(sf, Ordering::Release);
        Ok(sf)
    }

    /// Whether [`Meta::close_first`] closed the first subflow.
    pub(crate) fn first_closed(&self) -> bool {
        self.has(mf::FIRST_CLOSED)
    }

    /// The first subflow's TCP state, unless [`Meta::close_first`] closed it (or
    /// there is none). The meta socket is owned.
    fn first_state(&self) -> Option<c_int> {
        let ssk = self.first_ssk();
        if ssk.is_null() || self.first_closed() {
            return None;
        }
        // SAFETY: the first subflow is live while set; the meta socket is owned.
        Some(unsafe { bindings::mptcp_rs_sk_state(ssk) })
    }

    /// Whether the first subflow still uses address id 0: not closed by the path
    /// manager, nor closing or closed otherwise (a reset, a timeout), as upstream's
    /// `fill_local_laminar_endp()` looks at a subflow's state.
    pub(crate) fn first_in_use(&self) -> bool {
        self.first_state()
            .is_some_and(|s| !matches!(s, TCP_FIN_WAIT1 | TCP_FIN_WAIT2 | TCP_CLOSING | TCP_CLOSE))
    }

    /// Whether the first subflow counts in `mptcpi_subflows_total`: open or being
    /// opened, as upstream's `__mptcp_has_initial_subflow()`.
    pub(crate) fn first_counted(&self) -> bool {
        self.first_state().is_some_and(|s| {
            matches!(
                s,
                TCP_ESTABLISHED | TCP_SYN_SENT | TCP_SYN_RECV | TCP_LISTEN
            )
        })
    }

    /// Closes the first subflow while the connection carries on over its joined
    /// subflows, as upstream's `mptcp_close_ssk()` does with its first subflow when
    /// address id 0 is removed (our endpoint deleted, or the peer's REMOVE_ADDR) or
    /// the peer closed that subflow: the `SUB_CLOSED` event, what it received goes
    /// to the meta socket, what it carried beyond the DATA_ACK goes again on the
    /// others (the connection turns to multi mode if it was not), and it sends its
    /// FIN. It stays the connection's first subflow (released with it). False, and
    /// nothing done, if it is not open, the connection fell back, or no joined
    /// subflow is established to carry on. The meta socket is owned, process
    /// context.
    pub(crate) fn close_first(&self) -> bool {
        let ssk = self.first_ssk();
        if ssk.is_null() || self.is_fallback() || !self.joins.any_established() {
            return false;
        }
        // SAFETY: the first subflow is live while set; the meta socket is owned.
        let sub = unsafe { bindings::mptcp_rs_sk_state(ssk) };
        if sub != TCP_ESTABLISHED && sub != TCP_CLOSE_WAIT {
            return false;
        }
        // SAFETY: owned.
        let q = unsafe { self.sendq() };
        // (What direct mode wrote and the peer lacks is copied into the send queue
        // with the rest this subflow carries, `sendq::leaving`, for the others to
        // send; it still sends it too, before its FIN.)
        if !crate::sendq::go_multi(self, q) {
            return false;
        }
        self.set(mf::FIRST_CLOSED);
        // SAFETY: as above; its lock nests inside the meta socket's.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        // SAFETY: as above.
        if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
            crate::pm_events::sub_closed(self, ctx, false);
            // SAFETY: the meta socket is owned, the first subflow locked.
            unsafe {
                self.pull_locked(ssk);
                crate::sendq::leaving(self, ctx);
            }
        }
        // SAFETY: the subflow is locked.
        unsafe { bindings::mptcp_rs_tcp_shutdown(ssk, c_int::from(SEND_SHUTDOWN)) };
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
        true
    }

    /// A protocol error on subflow `sf` while taking its data (the caller resets
    /// it): an error on a joined subflow ends that subflow only; one on the first
    /// ends the connection ([`mf::BROKEN`]), unless it is a DSS checksum failure
    /// (its reset carries MP_FAIL) while joined subflows carry on with everything
    /// it carried (multi mode, direct mode's data acknowledged), as upstream resets
    /// whichever subflow failed once it cannot fall back.
    fn subflow_failed(&self, sf: &Subflow) {
        let csum = sf.has(crate::subflow::sf::RST_MP_FAIL);
        if sf.ssk() == self.first_ssk()
            && !(csum && self.direct_data_acked() && self.joins.any_established())
        {
            self.set(mf::BROKEN);
        } else if !csum {
            crate::mib::inc(self.net(), crate::mib::Mib::DSSCorruptionReset);
        }
    }

    /// Moves what waits on subflow `ssk` (the first) to the meta socket.
    ///
    /// # Safety
    ///
    /// The caller owns the meta socket and `ssk`'s lock, and `ssk` is the first
    /// subflow.
    unsafe fn pull_locked(&self, ssk: *mut bindings::sock) {
        // SAFETY: per the safety contract.
        let Some(ctx) = (unsafe { Subflow::from_sk(ssk) }) else {
            return;
        };
        let fin_before = self.has(mf::RCV_DATA_FIN_DONE);
        // SAFETY: subflow locked, meta owned.
        if unsafe { ctx.move_to_meta(self) }.is_err() {
            self.subflow_failed(ctx);
            // SAFETY: the subflow is locked; the meta spinlock is not held.
            unsafe { ctx.reset_on_error() };
        } else {
            // SAFETY: as above.
            unsafe { ctx.flush_mp_fail() };
        }
        self.process_events();
        if !fin_before && self.has(mf::RCV_DATA_FIN_DONE) {
            // acknowledge the DATA_FIN now
            // SAFETY: the subflow is locked.
            unsafe { bindings::mptcp_rs_tcp_send_ack(ssk) };
        }
    }

    /// Moves what waits on all subflows to the meta socket. The meta socket is owned.
    fn pull_all(&self) {
        self.joins.pull(self);
        let ssk = self.first_ssk();
        if !ssk.is_null() {
            // SAFETY: the first subflow is live while set; its lock nests in the owned
            // meta socket's.
            unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                self.pull_locked(ssk);
                bindings::release_sock(ssk);
            }
        }
    }

    /// A connection lingering after close(), with the meta socket owned: moves what
    /// waits on the subflows (it arrived while the socket was owned) to the meta
    /// socket, which takes the peer's DATA_FIN once every byte before it is there,
    /// and drops what is in order (nobody reads it; its room goes back to the
    /// window).
    pub(crate) fn orphan_pull(&self) {
        self.pull_all();
        self.take_peer_data_fin(false);
        // SAFETY: owned (our caller).
        unsafe { bindings::mptcp_rs_meta_purge_rcv(self.sk) };
    }

    /// Whether closing now must abort the connection: data the application never read
    /// is waiting, or it asked for an abortive close (SO_LINGER with a zero timeout).
    fn close_aborts(&self) -> bool {
        // SAFETY: `sk` is live (invariant).
        readable(self) || unsafe { bindings::mptcp_rs_linger_zero(self.sk) }
    }

    /// close() in multi mode before both DATA_FINs are acknowledged: the connection
    /// stays, orphaned, so that what the application wrote still arrives (the meta
    /// send queue, reinjection and the retransmission timer keep working) and the
    /// peer's DATA_FIN still gets its DATA_ACK (RFC 8684 3.3.3: the connection is
    /// closed once both are acknowledged; the subflows' FINs follow, or a peer that
    /// closes later would wait for a DATA_ACK nobody sends), until
    /// [`Meta::linger_over`]. No subflow joins any more. Meta socket owned.
    fn linger_begin(&self) -> bool {
        // SAFETY: owned (our caller, close).
        let multi = unsafe { self.sendq() }.is_multi();
        // SAFETY: `sk` is live (invariant).
        let aborted = unsafe { bindings::mptcp_rs_sk_err(self.sk) } != 0;
        if !multi || aborted || self.is_fallback() || self.data_fins_done() {
            return false;
        }
        // SAFETY: the socket's netns is alive while the socket is.
        let timeout = unsafe { sysctl::close_timeout(self.net) };
        // SAFETY: no preconditions.
        let (now, ms) = unsafe {
            (
                bindings::mptcp_rs_jiffies_ms(),
                bindings::mptcp_rs_addr_jiffies_to_msecs(timeout as usize),
            )
        };
        self.linger_until_ms
            .store(now.wrapping_add(u64::from(ms)), Ordering::Release);
        self.joins.stop(self);
        self.set(mf::LINGER);
        true
    }

    /// An orphaned connection lingers ([`Meta::linger_begin`]).
    pub(crate) fn lingering(&self) -> bool {
        self.has(mf::LINGER)
    }

    /// Our DATA_FIN is acknowledged (all delivered) and the peer's received.
    fn data_fins_done(&self) -> bool {
        self.has(mf::SND_DATA_FIN) && !self.data_fin_unacked() && self.rcv_data_fin_done()
    }

    /// Whether a lingering connection is over: both DATA_FINs are acknowledged, no
    /// subflow is left to deliver on (`alive`), the connection fell back to TCP (the
    /// subflow's own close delivers the rest), or `net.mptcp.close_timeout` passed.
    /// Then the ms it may still wait, if not.
    pub(crate) fn linger_over(&self, alive: bool) -> Result<(), u64> {
        // SAFETY: no preconditions.
        let now = unsafe { bindings::mptcp_rs_jiffies_ms() };
        let until = self.linger_until_ms.load(Ordering::Acquire);
        if self.data_fins_done() || !alive || self.is_fallback() || !after64(until, now) {
            return Ok(());
        }
        Err(until.wrapping_sub(now))
    }

    /// Aborts the connection, with the meta socket owned: the subflow is reset with
    /// MP_FASTCLOSE carrying the peer's key (plain TCP reset after fallback), as TCP
    /// resets a connection closed with unread data (RFC 8684 3.5).
    fn fastclose(&self) {
        let ssk = self.first_ssk();
        if !ssk.is_null() {
            // SAFETY: the first subflow is live while set; we own the meta socket.
            unsafe { bindings::mptcp_rs_lock_sock(ssk) };
            // SAFETY: as above.
            if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
                // SAFETY: the subflow is locked, the meta spinlock not held.
                unsafe { ctx.fastclose() };
            }
            // SAFETY: locked above.
            unsafe { bindings::release_sock(ssk) };
        }
        self.set_state(TCP_CLOSE);
    }

    /// Queues our DATA_FIN (and the subflow's FIN), with the meta socket owned.
    fn send_data_fin(&self) {
        let ssk = self.first_ssk();
        if ssk.is_null() || self.has(mf::SND_DATA_FIN) {
            return;
        }
        // SAFETY: the meta socket is owned (callers: close, shutdown).
        let q = unsafe { self.sendq() };
        // In direct mode too the DATA_FIN goes on pure ACKs, the subflow keeping its
        // write side (as upstream: its FIN follows when the connection is closed, and
        // a join may still come): the connection turns to multi mode (what the first
        // subflow holds stays its first extent). Only a connection that fell back
        // ends with the subflow's FIN.
        if crate::sendq::go_multi(self, q) {
            crate::sendq::send_data_fin(self, q);
            return;
        }
        // SAFETY: the first subflow is live while set; we own the meta socket.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        // SAFETY: as above.
        if let Some(ctx) = unsafe { Subflow::from_sk(ssk) } {
            self.snd_data_fin
                .store(ctx.snd_dsn_next(), Ordering::Release);
            self.set(mf::SND_DATA_FIN);
        }
        // SAFETY: the subflow is locked.
        unsafe { bindings::mptcp_rs_tcp_shutdown(ssk, c_int::from(SEND_SHUTDOWN)) };
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
    }
}

/// Sets meta socket `sk`'s state, counting connections in ESTABLISHED or CLOSE_WAIT
/// (`MPCurrEstab`) as upstream's `mptcp_set_state()` does.
///
/// # Safety
///
/// `sk` is a live meta socket of namespace `net`, its data held by the caller.
unsafe fn set_sk_state(sk: *mut bindings::sock, net: &crate::net::Net, state: c_int) {
    // SAFETY: as promised by the caller.
    let old = unsafe { bindings::mptcp_rs_sk_state(sk) };
    let counted = |s: c_int| s == TCP_ESTABLISHED || s == TCP_CLOSE_WAIT;
    if state == TCP_ESTABLISHED && old != TCP_ESTABLISHED {
        crate::mib::inc(net, crate::mib::Mib::MPCurrEstab);
    } else if counted(old) && !counted(state) {
        crate::mib::dec(net, crate::mib::Mib::MPCurrEstab);
    }
    // SAFETY: as above.
    unsafe { bindings::inet_sk_set_state(sk, state) };
}

// struct proto callbacks.

/// The path manager's flags of a connection created now in `net` (upstream reads
/// them at creation too): the userspace PM, the MP_CAPABLE "C" flag.
fn pm_flags(net: *const bindings::net) -> u32 {
    let mut flags = 0;
    // SAFETY: `net` is the live namespace of a socket being created.
    if unsafe { sysctl::pm_userspace(net) } {
        flags |= mf::USERSPACE_PM;
    }
    // SAFETY: as above.
    if !unsafe { sysctl::allow_join_initial_addr_port(net) } {
        flags |= mf::DENY_JOIN_ID0;
    }
    flags
}

extern "C" fn meta_init(sk: *mut bindings::sock) -> c_int {
    // SAFETY: `inet_create()` calls this for a new socket of our proto.
    let net = unsafe { bindings::mptcp_rs_sock_net(sk) };
    // SAFETY: `net` is the live netns of a socket being created.
    if !unsafe { sysctl::enabled(net) } {
        return -errno::ENOPROTOOPT;
    }
    // SAFETY: as above.
    let want_csum = unsafe { sysctl::checksum_enabled(net) };
    // SAFETY: no preconditions.
    let local_key = unsafe { bindings::mptcp_rs_random_u64() };
    let local = key_derive::<KernelSha256>(local_key);
    let meta = KBox::new(
        Meta {
            sk,
            net,
            destruct: None,
            first: AtomicPtr::new(ptr::null_mut()),
            first_sk: AtomicPtr::new(ptr::null_mut()),
            local_key: AtomicU64::new(local_key),
            local_idsn: AtomicU64::new(local.idsn),
            remote_key: AtomicU64::new(0),
            flags: AtomicU32::new(pm_flags(net) | if want_csum { mf::WANT_CHECKSUM } else { 0 }),
            ack_seq: AtomicU64::new(0),
            snd_una: AtomicU64::new(local.idsn.wrapping_add(1)),
            rcv_data_fin: AtomicU64::new(0),
            snd_data_fin: AtomicU64::new(0),
            joins: crate::join::Joins::new(),
            sendq: UnsafeCell::new(SendQueue::new()),
            space_gen: AtomicU32::new(0),
            snd_wnd_end: AtomicU64::new(0),
            snd_nxt_seen: AtomicU64::new(0),
            direct_end: AtomicU64::new(0),
            kicked_ms: AtomicU32::new(0),
            reopen_ack_ms: AtomicU32::new(0),
            timeout_wake_ms: AtomicU32::new(0),
            rcv_wnd_sent: AtomicU64::new(0),
            linger_until_ms: AtomicU64::new(0),
            // SAFETY: a work item and two pointers: all zero until
            // `mptcp_rs_meta_work_init()`, before any use.
            work: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            cc: crate::cc_paths::Choice::new(),
            opts: crate::sockopt::MetaOpts::new(),
            rate_ms: AtomicU32::new(0),
            rate_una: AtomicU64::new(0),
        },
        GFP_KERNEL,
    );
    let Ok(meta) = meta else {
        return -errno::ENOMEM;
    };
    let meta = KBox::into_raw(meta);
    // SAFETY: `meta` is ours, at its final address.
    unsafe {
        bindings::mptcp_rs_meta_work_init(
            (*meta).work.get(),
            sk,
            Some(crate::sendq::work),
            Some(linger_done),
        )
    };
    // SAFETY: `meta` is ours; the destructor we install frees it and then runs the one
    // it replaces, which the shim stores into `destruct` before the socket is used.
    unsafe {
        bindings::mptcp_rs_meta_setup(sk, Some(meta_destruct), ptr::addr_of_mut!((*meta).destruct));
        bindings::mptcp_rs_meta_set_state_ptr(sk, meta.cast());
        bindings::mptcp_rs_set_custom_sockopt(sk);
    }
    0
}

extern "C" fn meta_destruct(sk: *mut bindings::sock) {
    // SAFETY: the socket core calls this once, when the last reference is gone.
    let p = unsafe { bindings::mptcp_rs_meta_state(sk) }.cast::<Meta>();
    // SAFETY: nothing uses the queues any more; a lookup in the token table does not
    // take a socket whose last reference is gone.
    unsafe {
        bindings::mptcp_rs_meta_purge_queues(sk);
        bindings::mptcp_rs_token_remove(sk);
        bindings::mptcp_rs_listener_remove(sk);
    }
    let mut next = None;
    if !p.is_null() {
        // SAFETY: `p` came from `KBox::into_raw` in `meta_init`; no subflow refers to
        // it any more (each held a reference on `sk`).
        let meta = unsafe { KBox::from_raw(p) };
        next = meta.destruct;
        // SAFETY: as above.
        unsafe { bindings::mptcp_rs_meta_set_state_ptr(sk, ptr::null_mut()) };
    }
    if let Some(f) = next {
        // SAFETY: the destructor `inet_create()` installed, for this socket.
        unsafe { f(sk) };
    }
}

extern "C" fn meta_destroy(_sk: *mut bindings::sock) {}

extern "C" fn meta_hash(_sk: *mut bindings::sock) -> c_int {
    0
}

extern "C" fn meta_unhash(_sk: *mut bindings::sock) {}

extern "C" fn meta_bind(
    sk: *mut bindings::sock,
    uaddr: *mut bindings::sockaddr_unsized,
    len: c_int,
) -> c_int {
    // SAFETY: `inet_bind()` calls this for our socket.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    // SAFETY: live socket, from process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    let ret = match meta.ensure_first() {
        Ok(sf) => {
            // SAFETY: `uaddr`/`len` come from the caller of bind().
            let r = unsafe { bindings::mptcp_rs_sf_bind(sf, uaddr.cast(), len) };
            if r == 0 {
                // SAFETY: both sockets live, meta owned.
                unsafe { bindings::mptcp_rs_copy_addrs(sk, bindings::mptcp_rs_sf_sk(sf)) };
            }
            r
        }
        Err(e) => e.to_errno(),
    };
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    ret
}

extern "C" fn meta_connect(
    sk: *mut bindings::sock,
    uaddr: *mut bindings::sockaddr_unsized,
    len: c_int,
) -> c_int {
    // SAFETY: `__inet_stream_connect()` calls this with our socket owned.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    let sf = match meta.ensure_first() {
        Ok(sf) => sf,
        Err(e) => return e.to_errno(),
    };
    if let Err(e) = meta.enter_token_table() {
        return e.to_errno();
    }
    // as tcp_connect_init(): an error an earlier connection left is not this one's
    // SAFETY: owned socket.
    unsafe { bindings::mptcp_rs_set_err(sk, 0) };
    meta.set_state(TCP_SYN_SENT);
    // SAFETY: the caller's address; our subflow socket.
    let err = unsafe { bindings::mptcp_rs_sf_connect(sf, uaddr.cast(), len) };
    if err != 0 {
        meta.set_state(TCP_CLOSE);
        return err;
    }
    // SAFETY: both sockets live, meta owned.
    unsafe { bindings::mptcp_rs_copy_addrs(sk, bindings::mptcp_rs_sf_sk(sf)) };
    // the subflow may already be established (its backlog ran in connect)
    meta.process_events();
    0
}

extern "C" fn meta_disconnect(sk: *mut bindings::sock, _flags: c_int) -> c_int {
    // SAFETY: called with our socket owned.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return 0;
    };
    // connect(AF_UNSPEC) drops the connection: abort it as TCP does
    let state = meta.state();
    if state == TCP_LISTEN {
        crate::pm_events::listener(meta, meta.first_ssk(), false);
    }
    if state != TCP_CLOSE && state != TCP_LISTEN && state != TCP_SYN_SENT {
        meta.fastclose();
    }
    crate::pm_events::closed(meta);
    meta.leave_token_table();
    // the next connection has a key (token, IDSN) of its own, as upstream's
    meta.new_local_key();
    meta.fastclose_joins_if_asked();
    meta.joins.close_all(meta, true);
    meta.joins.reopen(meta);
    // The first subflow's FIN exchange goes on after its release below: what still
    // arrives on it (the peer's DATA_FIN sent again, a DATA_ACK) must not reach the
    // next connection's state. Detached under its lock before anything is reset: a
    // segment being processed meanwhile is done, later ones see the flag.
    let first = meta.first_ssk();
    if !first.is_null() {
        // SAFETY: our first subflow, live while set; its lock nests in the meta's.
        unsafe {
            bindings::mptcp_rs_lock_sock(first);
            if let Some(ctx) = Subflow::from_sk(first) {
                ctx.detach();
            }
            bindings::release_sock(first);
        }
    }
    // nothing the old connection received is read on the next (as tcp_disconnect())
    // SAFETY: owned; no subflow feeds the queues any more.
    unsafe {
        bindings::mptcp_rs_data_lock(sk);
        bindings::mptcp_rs_meta_purge_queues(sk);
        bindings::mptcp_rs_data_unlock(sk);
    }
    // a later connect() starts in direct mode with an empty send queue
    // SAFETY: owned.
    unsafe { *meta.sendq() = SendQueue::new() };
    meta.flags.fetch_and(
        !(mf::MULTI
            | mf::NEED_PUSH
            | mf::WND_LIMITED
            | mf::DATA_FIN_ON_ACKS
            | mf::FIRST_CLOSED
            | mf::HAD_JOIN
            | mf::FAILING
            | mf::REOPEN_ACK
            | mf::POLLED_OUT
            | mf::FASTCLOSE_JOINS
            | mf::PEER_DSN64
            | mf::DSN64
            | mf::SND_DATA_FIN
            | mf::RCV_DATA_FIN
            | mf::RCV_DATA_FIN_DONE
            | mf::FALLBACK
            | mf::CHECKSUM
            | mf::FASTCLOSED
            | mf::BROKEN
            | mf::REMOTE_DENY_JOIN_ID0),
        Ordering::AcqRel,
    );
    // a shutdown of the old connection does not carry over (as tcp_disconnect())
    // SAFETY: owned.
    unsafe { bindings::mptcp_rs_clear_shutdown(sk) };
    meta.rtx_stop();
    meta.rate_una.store(0, Ordering::Release);
    meta.snd_wnd_end.store(0, Ordering::Release);
    meta.rcv_wnd_sent.store(0, Ordering::Release);
    let sf = meta.first.swap(ptr::null_mut(), Ordering::AcqRel);
    meta.first_sk.store(ptr::null_mut(), Ordering::Release);
    if !sf.is_null() {
        // SAFETY: ours to release; its lock nests inside the meta socket's.
        unsafe { bindings::mptcp_rs_sf_release(sf) };
    }
    meta.set_state(TCP_CLOSE);
    // A send or read waiting meanwhile wakes to find the connection gone, and the
    // application's next call gets ECONNRESET where TCP's tcp_disconnect() gives
    // it (a connection reset, or one being opened). Upstream leaves no error.
    // SAFETY: live socket.
    unsafe {
        if matches!(
            state,
            TCP_SYN_SENT | TCP_ESTABLISHED | TCP_CLOSE_WAIT | TCP_FIN_WAIT1 | TCP_FIN_WAIT2
        ) {
            bindings::mptcp_rs_set_err(sk, errno::ECONNRESET);
        }
        bindings::mptcp_rs_error_report(sk);
    }
    0
}

/// `diag_destroy`: SOCK_DESTROY naming IPPROTO_MPTCP (`rust/diag_shim.c`) aborts the
/// connection as TCP's `tcp_abort()` aborts a TCP socket. The peer gets MP_FASTCLOSE
/// (a plain reset after fallback), the joined subflows are reset, the connection
/// leaves the token table, and the application gets `err` (ECONNABORTED) from its
/// next call, also one waiting in a send. A connection already closed is not found
/// (-ENOENT). Listeners and connections not accepted yet are left alone
/// (-EOPNOTSUPP): upstream refuses to abort a listening subflow, and an unaccepted
/// connection's first subflow is still the listener's. (A connection lingering
/// after close() has left the token table; one whose close() raced with the lookup
/// is released at once.) Process context.
extern "C" fn meta_diag_destroy(sk: *mut bindings::sock, err: c_int) -> c_int {
    // SAFETY: `sock_diag_destroy()` calls this for a live socket of our proto (the
    // caller holds a reference).
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EOPNOTSUPP;
    };
    if meta.state() == TCP_LISTEN || meta.has(mf::UNACCEPTED) {
        return -errno::EOPNOTSUPP;
    }
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    let state = meta.state();
    let ret = if state == TCP_LISTEN || meta.has(mf::UNACCEPTED) {
        // it listened again meanwhile (connect(AF_UNSPEC), listen())
        -errno::EOPNOTSUPP
    } else if state == TCP_CLOSE {
        // as TCP finds no socket to abort
        -errno::ENOENT
    } else {
        0
    };
    if ret != 0 {
        // SAFETY: locked above.
        unsafe { bindings::release_sock(sk) };
        return ret;
    }
    if meta.flags.fetch_and(!mf::LINGER, Ordering::AcqRel) & mf::LINGER != 0 {
        // closed by its application: released now, as `linger_done` would later
        crate::sendq::no_linger(meta);
        meta.fastclose();
        // SAFETY: owned, closed by the application; the caller's reference keeps
        // `sk` valid after its own is dropped here.
        unsafe { release_closed(sk, Some(meta), true) };
        return 0;
    }
    // the abort of connect(AF_UNSPEC), then the error for the application (a send
    // or a read waiting meanwhile wakes up to it)
    meta_disconnect(sk, 0);
    meta.abort(err);
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    0
}

/// close() with SO_LINGER and a timeout waits for this: our DATA_FIN acknowledged
/// (everything written was delivered), or the connection gone.
extern "C" fn close_wait_done(sk: *mut bindings::sock) -> bool {
    // SAFETY: called by `mptcp_rs_close_wait()` for our live meta socket.
    unsafe { Meta::from_sk(sk) }.is_none_or(|m| !m.data_fin_unacked() || m.state() == TCP_CLOSE)
}

extern "C" fn meta_close(sk: *mut bindings::sock, timeout: c_long) {
    // SAFETY: `inet_release()` calls this once, for our socket, in process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    // SAFETY: as above.
    let meta = unsafe { Meta::from_sk(sk) };
    let mut abort = false;
    if let Some(meta) = meta {
        let state = meta.state();
        if state == TCP_LISTEN {
            crate::pm_events::listener(meta, meta.first_ssk(), false);
        }
        if state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT1 {
            if meta.close_aborts() {
                abort = true;
                meta.fastclose();
            } else if state != TCP_FIN_WAIT1 {
                meta.send_data_fin();
            }
            // SO_LINGER with a timeout: wait for the delivery of what was written, as
            // TCP's close() does (queuing the DATA_FIN made the connection multi
            // unless it fell back; then the subflow's own close() waits for its FIN,
            // having taken SO_LINGER with the other options).
            // SAFETY: owned (taken above).
            let multi = unsafe { meta.sendq() }.is_multi();
            if !abort && timeout > 0 && multi {
                // SAFETY: owned; the callback only reads our state.
                unsafe { bindings::mptcp_rs_close_wait(sk, timeout, Some(close_wait_done)) };
            }
        }
        crate::pm_events::closed(meta);
        meta.leave_token_table();
        if !abort && meta.linger_begin() {
            // SAFETY: owned. The application is gone (nothing unread, or we would
            // abort); the subflows keep delivering what it wrote, then
            // `linger_done` releases the socket.
            // (The out-of-order queue stays: see `orphan_pull`.)
            unsafe {
                bindings::mptcp_rs_set_shutdown(sk, SHUTDOWN_MASK);
                bindings::mptcp_rs_meta_purge_rcv(sk);
                bindings::mptcp_rs_sock_orphan(sk);
            }
            // Queued while we own the socket (the work takes its own reference and
            // waits for the socket): once released, the work may end the connection
            // and drop the application's reference, the last one, at any time.
            meta.kick();
            // SAFETY: owned (taken above); `meta` is not used after this.
            unsafe { bindings::release_sock(sk) };
            return;
        }
    }
    // SAFETY: owned by us, as `release_closed` wants.
    unsafe { release_closed(sk, meta, abort) };
}

/// Ends a connection the application closed: its subflows are closed (reset if
/// `abort`), the socket released.
///
/// # Safety
///
/// `sk` is our meta socket whose application closed it, owned by the caller; `meta`
/// its state. The socket is released and its own reference dropped here.
unsafe fn release_closed(sk: *mut bindings::sock, meta: Option<&Meta>, abort: bool) {
    let mut sf = ptr::null_mut();
    if let Some(meta) = meta {
        if !abort && meta.rcv_data_fin_done() && !meta.is_fallback() {
            // the DATA_ACK of the peer's DATA_FIN on every subflow: it may have gone on
            // one only, which may have died since (the peer would linger)
            crate::sendq::ack_all(meta);
        }
        if !abort && meta.data_fins_done() && !meta.is_fallback() {
            // nothing is left to deliver either way: a subflow holding copies of
            // delivered data is reset rather than closed behind them
            crate::sendq::reset_stale(meta);
        }
        meta.fastclose_joins_if_asked();
        meta.joins.close_all(meta, abort);
        // nothing is left for the timer (an MP_FAIL's deadline would keep the
        // socket, and the module, for up to tcp_rto_max_ms)
        meta.rtx_stop();
        sf = meta.first.swap(ptr::null_mut(), Ordering::AcqRel);
        meta.first_sk.store(ptr::null_mut(), Ordering::Release);
        meta.set_state(TCP_CLOSE);
    }
    // SAFETY: owned; nothing will read the queues again.
    unsafe {
        bindings::mptcp_rs_set_shutdown(sk, SHUTDOWN_MASK);
        bindings::mptcp_rs_meta_purge_queues(sk);
        bindings::inet_sk_set_state(sk, TCP_CLOSE);
        bindings::mptcp_rs_sock_orphan(sk);
        bindings::release_sock(sk);
    }
    if !sf.is_null() {
        // The subflow finishes its FIN exchange as an orphan TCP socket; its context
        // keeps `sk`'s memory (and our state) alive until then.
        // SAFETY: ours to release.
        unsafe { bindings::mptcp_rs_sf_release(sf) };
    }
    // SAFETY: drops the socket's own reference (unhash, orphan, sock_put).
    unsafe { bindings::sk_common_release(sk) };
}

/// The work item found an orphaned connection over ([`Meta::linger_over`]): releases
/// it as close() would have. Process context, the socket not owned.
extern "C" fn linger_done(sk: *mut bindings::sock) {
    // SAFETY: the work item holds a reference on our live meta socket.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    // SAFETY: as above.
    let meta = unsafe { Meta::from_sk(sk) };
    match meta {
        Some(meta) if meta.flags.fetch_and(!mf::LINGER, Ordering::AcqRel) & mf::LINGER != 0 => {
            // a work item must not wait in the subflows' close (SO_LINGER)
            crate::sendq::no_linger(meta);
            // `net.mptcp.close_timeout` passed (or no subflow is left) before both
            // DATA_FINs went through: the connection is aborted (MP_FASTCLOSE on the
            // first subflow's reset, the joined ones reset), as upstream's worker
            // does once mptcp_close_tout_expired(); FINs would queue behind what
            // nobody acknowledges and keep the subflows (and this module) as orphans
            let abort = !meta.data_fins_done() && !meta.is_fallback();
            if abort {
                meta.fastclose();
            }
            // SAFETY: owned, closed by the application (it lingered).
            unsafe { release_closed(sk, Some(meta), abort) }
        }
        // SAFETY: locked above; released already by an earlier run.
        _ => unsafe { bindings::release_sock(sk) },
    }
}

extern "C" fn meta_shutdown(sk: *mut bindings::sock, how: c_int) {
    // SAFETY: `inet_shutdown()` calls this with our socket owned.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return;
    };
    if how & c_int::from(SEND_SHUTDOWN) != 0 {
        let state = meta.state();
        if state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT {
            meta.send_data_fin();
            if state == TCP_ESTABLISHED {
                meta.set_state(TCP_FIN_WAIT1);
            } else {
                meta.set_state(TCP_CLOSE);
            }
        }
    }
}

extern "C" fn meta_release_cb(sk: *mut bindings::sock) {
    // SAFETY: `release_sock()` calls this with the spinlock held, still owned.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return;
    };
    if meta.has(mf::PENDING) {
        meta.process_events();
        // a reader pulls what the subflow holds
        // SAFETY: `sk` is live.
        unsafe { bindings::mptcp_rs_wake_readers(sk) };
    }
}

fn readable(meta: &Meta) -> bool {
    let sk = meta.sk;
    // SAFETY: `sk` is live.
    if !unsafe { bindings::mptcp_rs_rcv_queue_empty(sk) } {
        return true;
    }
    let ssk = meta.first_ssk();
    // SAFETY: the first subflow is live while set.
    (!ssk.is_null() && unsafe { crate::subflow::rcv_waiting(ssk) }) || meta.joins.readable()
}

/// Whether the connection's receive queue is empty while a subflow holds data back
/// (`subflow::rcv_held`): a reader moves it (`Meta::pull_all`) before it waits.
/// Lockless.
fn held_for_reader(meta: &Meta) -> bool {
    // SAFETY: `sk` is live.
    if !unsafe { bindings::mptcp_rs_rcv_queue_empty(meta.sk) } {
        return false;
    }
    let ssk = meta.first_ssk();
    // SAFETY: the first subflow is live while set.
    (!ssk.is_null() && unsafe { crate::subflow::rcv_held(ssk) }) || meta.joins.held()
}

/// [`readable`] for poll: what poll reports readable, a read returns. Data that waits
/// on a subflow (it arrived while the meta socket was owned) may be out of order at the
/// connection level, and a non-blocking read would find nothing (EAGAIN after POLLIN,
/// which the kernel selftests' `mptcp_connect` takes for an error): it is moved to the
/// meta socket first, owning it as a reader would (poll runs in process context and may
/// sleep; `vsock_poll()` takes its socket's lock too). Then only the meta socket's queue
/// counts: what arrived on a subflow meanwhile waits there, and releasing the socket
/// wakes the poller for it (`meta_release_cb`), which looks again.
fn poll_readable(meta: &Meta) -> bool {
    let sk = meta.sk;
    // SAFETY: `sk` is live.
    if !unsafe { bindings::mptcp_rs_rcv_queue_empty(sk) } {
        return true;
    }
    if !readable(meta) && !held_for_reader(meta) {
        return false;
    }
    // SAFETY: as above; process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    meta.pull_all();
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    // SAFETY: `sk` is live.
    !unsafe { bindings::mptcp_rs_rcv_queue_empty(sk) }
}

extern "C" fn wait_cond(sk: *mut bindings::sock) -> bool {
    // SAFETY: called by `mptcp_rs_wait()` for our socket.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return true;
    };
    // SAFETY: `sk` is live.
    let (shut, err) = unsafe {
        (
            bindings::mptcp_rs_shutdown(sk),
            bindings::mptcp_rs_sk_err(sk),
        )
    };
    readable(meta) || shut & RCV_SHUTDOWN != 0 || err != 0 || meta.state() == TCP_CLOSE
}

extern "C" fn meta_recvmsg(
    sk: *mut bindings::sock,
    msg: *mut bindings::msghdr,
    len: usize,
    flags: c_int,
) -> c_int {
    // SAFETY: `inet_recvmsg()` calls this for our socket, in process context.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::ENOTCONN;
    };
    let len = len.min(i32::MAX as usize);
    // SAFETY: live socket.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    // SAFETY: as above.
    let mut timeo = unsafe { bindings::mptcp_rs_rcvtimeo(sk, flags & MSG_DONTWAIT != 0) };
    // (a read of 0 bytes has its target at once, as TCP's returns 0)
    let target = if flags & MSG_WAITALL != 0 {
        len
    } else {
        len.min(1)
    };
    let peek = flags & MSG_PEEK != 0;
    let mut copied: usize = 0;
    let mut err: c_int = 0;
    // copying to the caller's buffer failed: the read ends
    let mut fault = false;
    // with MSG_PEEK: the DSN of the byte after the last one copied
    let mut peek_dsn: u64 = 0;
    let mut cmsgs = crate::sockopt::RecvCmsgs::new(meta);
    // As TCP's recvmsg does, the reader owns the subflow while it copies: what
    // arrives meanwhile waits in the subflow's backlog and is processed (ACKs
    // included) by the reader when it lets go, not by the softirq of the
    // sender's CPU. The subflow's lock nests inside the meta socket's; it is
    // dropped while the reader sleeps.
    // joined subflows are pulled with the first subflow's lock not held (their
    // locks are of the same class)
    meta.joins.pull(meta);
    let mut ssk = meta.first_ssk();
    if !ssk.is_null() {
        // SAFETY: the first subflow is live while set; we own the meta socket.
        unsafe { bindings::mptcp_rs_lock_sock(ssk) };
    }
    // SAFETY: the meta socket is owned, the first subflow (if any) locked.
    let free_before = unsafe { bindings::mptcp_rs_meta_free_space(sk, ssk) };
    loop {
        let state = meta.state();
        if state == TCP_LISTEN {
            err = -errno::ENOTCONN;
            break;
        }
        if !ssk.is_null() {
            // SAFETY: we own the meta socket and the first subflow's lock.
            unsafe { meta.pull_locked(ssk) };
        }
        // SAFETY: we own the socket and its queues.
        let mut skb = unsafe { bindings::mptcp_rs_rcv_peek(sk) };
        // copy in-order data; a peek that goes round again (MSG_WAITALL) skips what
        // it copied before, which is still queued unless another reader took it
        // while we waited (then it goes on from the head, as TCP's peek does)
        let mut skip: usize = 0;
        if peek && copied > 0 && !skb.is_null() {
            // SAFETY: a queued skb of ours carries our control block.
            let head = unsafe { &*bindings::mptcp_rs_skb_cb(skb) };
            let ahead = peek_dsn.wrapping_sub(head.dsn.wrapping_add(u64::from(head.offset)));
            if ahead <= u64::from(u32::MAX) {
                skip = ahead as usize;
            }
        }
        while !skb.is_null() && copied < len {
            // SAFETY: a queued skb of ours carries our control block.
            let cb = unsafe { &mut *bindings::mptcp_rs_skb_cb(skb) };
            let avail = cb.len.saturating_sub(cb.offset) as usize;
            if skip > 0 && skip >= avail {
                skip -= avail;
                // SAFETY: as above.
                skb = unsafe { bindings::mptcp_rs_rcv_next(sk, skb) };
                continue;
            }
            let from = cb.offset as usize + skip;
            let n = (avail - skip).min(len - copied);
            skip = 0;
            // SAFETY: `msg` is the caller's; `skb` holds `cb.len` bytes, `from + n` of
            // them at most.
            let r = unsafe { bindings::mptcp_rs_skb_copy_msg(skb, from as c_int, msg, n as c_int) };
            if r != 0 {
                if copied == 0 {
                    err = -errno::EFAULT;
                }
                fault = true;
                break;
            }
            copied += n;
            peek_dsn = cb.dsn.wrapping_add((from + n) as u64);
            cmsgs.skb_read(skb);
            // SAFETY: as above.
            let next = unsafe { bindings::mptcp_rs_rcv_next(sk, skb) };
            if !peek {
                cb.offset += n as u32;
                if cb.offset >= cb.len {
                    // SAFETY: as above.
                    unsafe { bindings::mptcp_rs_rcv_free(sk, skb) };
                }
            }
            skb = next;
        }
        // a fault ends the read (TCP's too), with what was copied before it
        if err != 0 || fault {
            break;
        }
        let got_target = copied >= target;
        if got_target && (copied >= len || ssk.is_null()) {
            break;
        }
        // SAFETY: live socket.
        let (shut, sk_err) = unsafe {
            (
                bindings::mptcp_rs_shutdown(sk),
                bindings::mptcp_rs_sk_err(sk),
            )
        };
        if sk_err != 0 {
            if copied == 0 {
                // SAFETY: reports and clears the error, as TCP does.
                err = unsafe { bindings::mptcp_rs_sock_error(sk) };
            }
            break;
        }
        if shut & RCV_SHUTDOWN != 0 || meta.state() == TCP_CLOSE {
            break;
        }
        if timeo == 0 {
            if copied == 0 {
                err = -errno::EAGAIN;
            }
            break;
        }
        // SAFETY: no preconditions.
        if unsafe { bindings::mptcp_rs_signal_pending() } {
            if copied == 0 {
                // SAFETY: no preconditions.
                err = unsafe { bindings::mptcp_rs_sock_intr_errno(timeo) };
            }
            break;
        }
        if got_target {
            // As TCP's recvmsg: what arrived while we copied waits in the first
            // subflow's backlog; process it and copy on, up to `len`, rather than
            // return a short read and take another call (and poll) per skb.
            // SAFETY: we own the first subflow (locked above; not null here).
            if unsafe { bindings::mptcp_rs_flush_backlog(ssk) } {
                continue;
            }
            break;
        }
        if !ssk.is_null() {
            if held_for_reader(meta) {
                // what the first subflow held back for want of memory (tried when
                // the queue still had data) goes now: nothing would wake us for it
                // SAFETY: we own the meta socket and the first subflow's lock.
                unsafe { meta.pull_locked(ssk) };
            }
            // SAFETY: locked above; processes the subflow's backlog before we sleep.
            unsafe { bindings::release_sock(ssk) };
        }
        // what a joined subflow held back for want of room goes now that the
        // copies made some (no reader is woken for it, `rcv_waiting`)
        meta.joins.pull(meta);
        // SAFETY: we own the socket; the helper sleeps with it released.
        let waited = unsafe { bindings::mptcp_rs_wait(sk, &mut timeo, Some(wait_cond)) };
        if waited < 0 {
            // disconnected meanwhile (connect(AF_UNSPEC)), perhaps connected again:
            // what follows is another connection's; the read ends as TCP's does
            if copied == 0 {
                err = waited;
            }
            ssk = ptr::null_mut();
            break;
        }
        meta.joins.pull(meta);
        // the first subflow may have come or gone while the meta socket was released
        ssk = meta.first_ssk();
        if !ssk.is_null() {
            // SAFETY: as above.
            unsafe { bindings::mptcp_rs_lock_sock(ssk) };
        }
    }
    let mut first_rcvbuf: c_int = 0;
    if !ssk.is_null() {
        if copied > 0 && !peek {
            // autotuning, and the window grew: tell the peer
            // SAFETY: we own the meta socket and the subflow's lock.
            unsafe { bindings::mptcp_rs_subflow_read_done(sk, ssk, copied as c_int) };
        }
        // SAFETY: locked above.
        first_rcvbuf = unsafe { bindings::mptcp_rs_sk_rcvbuf(ssk) };
        // SAFETY: locked above.
        unsafe { bindings::release_sock(ssk) };
    }
    if !peek {
        meta.joins.cleanup_rbuf(meta, copied as c_int, first_rcvbuf);
        // (a receiver in direct mode too: it may have sent everything before the
        // join, or nothing at all)
        if copied > 0 && (meta.has(mf::MULTI) || meta.joins.any_established()) {
            // SAFETY: the meta socket is owned; the first subflow's counters are
            // word reads (it is live while set).
            let free_after = unsafe { bindings::mptcp_rs_meta_free_space(sk, meta.first_ssk()) };
            // The read reopened a window that was closed or nearly: every subflow
            // tells the peer, as upstream's mptcp_cleanup_rbuf(). Each one's own
            // rule (tcp_cleanup_rbuf) does not: a subflow that carried nothing
            // lately never announced the small window, and the one that did may
            // be on a dead path; a sender with nothing in flight then waits for
            // an update that may never come.
            let stale = free_after > 0 && free_after >= free_before.max(0).saturating_mul(2);
            // SAFETY: the meta socket is owned.
            let drained = unsafe { bindings::mptcp_rs_rcv_queue_empty(sk) };
            // At most every 100 ms (a reader that is the bottleneck reopens the
            // window on nearly every read); one held back goes when a read empties
            // the receive queue: no read may come after it to send it.
            if stale && meta.reopen_ack_due() {
                meta.flags.fetch_and(!mf::REOPEN_ACK, Ordering::AcqRel);
                crate::sendq::ack_all(meta);
            } else if stale {
                meta.set(mf::REOPEN_ACK);
            }
            if drained
                && meta.flags.fetch_and(!mf::REOPEN_ACK, Ordering::AcqRel) & mf::REOPEN_ACK != 0
            {
                meta.reopen_ack_stamp();
                crate::sendq::ack_all(meta);
            }
        }
    }
    if !peek && held_for_reader(meta) {
        // what a subflow held back for want of memory goes now that the read freed
        // some (after the window update above, which a read that empties the queue
        // sends): the next read or poll finds it, where no event would wake them
        meta.pull_all();
    }
    if err == 0 || copied > 0 {
        // TCP_INQ, receive timestamps; the meta socket still owned
        // SAFETY: `msg` is the caller's.
        unsafe { cmsgs.put(meta, msg) };
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    if err != 0 && copied == 0 {
        err
    } else {
        copied as c_int
    }
}

extern "C" fn meta_ioctl(sk: *mut bindings::sock, cmd: c_int, karg: *mut c_int) -> c_int {
    // SAFETY: `sk_ioctl()` calls this for our socket, in process context.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    // SAFETY: `karg` is the core's kernel copy of the argument.
    let Some(karg) = (unsafe { karg.as_mut() }) else {
        return -errno::EFAULT;
    };
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    let ret = crate::sockopt::ioctl(meta, cmd, karg, || {
        // what waits on the subflows counts as queued: move it, as recvmsg() would
        meta.joins.pull(meta);
        let ssk = meta.first_ssk();
        if !ssk.is_null() {
            // SAFETY: the first subflow is live while set; its lock nests in ours.
            unsafe {
                bindings::mptcp_rs_lock_sock(ssk);
                meta.pull_locked(ssk);
                bindings::release_sock(ssk);
            }
        }
    });
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    ret
}

extern "C" fn meta_sendmsg(
    sk: *mut bindings::sock,
    msg: *mut bindings::msghdr,
    len: usize,
) -> c_int {
    // SAFETY: `inet_sendmsg()` calls this for our socket, in process context.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::ENOTCONN;
    };
    // SAFETY: `msg` is the caller's.
    let flags = unsafe { (*msg).msg_flags } as c_int;
    // SAFETY: live socket.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    // SAFETY: as above.
    let mut timeo = unsafe { bindings::mptcp_rs_sndtimeo(sk, flags & MSG_DONTWAIT != 0) };
    let mut ret: c_int = 0;
    let state = meta.state();
    if state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT {
        // SAFETY: owned socket; waits for the connection with it released. An
        // EPIPE (shut down, or closed) raises SIGPIPE, as from TCP.
        ret = unsafe {
            match bindings::sk_stream_wait_connect(sk, &mut timeo) {
                0 => 0,
                e => bindings::sk_stream_error(sk, flags, e),
            }
        };
    }
    if ret == 0 {
        ret = crate::sendq::sendmsg_any_mode(meta, msg, len, flags, &mut timeo);
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    ret
}

extern "C" fn meta_setsockopt(
    sk: *mut bindings::sock,
    level: c_int,
    name: c_int,
    mut optval: bindings::sockptr_t,
    optlen: c_uint,
) -> c_int {
    // SAFETY: `sock_common_setsockopt()` calls this for our socket.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    if level == SOL_TCP && name == TCP_ULP {
        // As upstream: an MPTCP socket takes no ULP. (Passed on, TCP would look the
        // name up with the subflow locked, running modprobe for an unknown one, and
        // fail anyway: the subflow has ours.)
        return -errno::ENOPROTOOPT;
    }
    if level == SOL_TCP && name == crate::sockopt::TCP_INQ {
        // the meta socket's own (recvmsg), whether or not the connection fell back
        // SAFETY: our socket; `optval` is the caller's.
        return unsafe { crate::sockopt::set_inq(meta, ptr::addr_of!(optval).cast(), optlen) };
    }
    if level == SOL_SOCKET {
        // The core would lock the meta socket itself: no lock around this.
        let sf = meta.first_sock();
        // SAFETY: our socket; the subflow socket, if any, lives while set.
        let ret = unsafe {
            bindings::mptcp_rs_sol_socket_setsockopt(
                sk,
                sf,
                name,
                ptr::addr_of_mut!(optval).cast(),
                optlen,
            )
        };
        if ret == 0 {
            // SAFETY: live socket, process context.
            unsafe { bindings::mptcp_rs_lock_sock(sk) };
            crate::sockopt_sync::option_set(meta, level, name, !sf.is_null());
            // SAFETY: locked above.
            unsafe { bindings::release_sock(sk) };
        }
        return ret;
    }
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    let ret = match meta.ensure_first() {
        // TCP and IP options apply to the first subflow (TCP checks them there); those
        // that shape sending then reach the others too (`sockopt_sync.rs`)
        // SAFETY: our subflow; `optval` is the caller's.
        Ok(sf) => unsafe {
            bindings::mptcp_rs_sf_setsockopt(
                sf,
                level,
                name,
                ptr::addr_of_mut!(optval).cast(),
                optlen,
            )
        },
        Err(e) => e.to_errno(),
    };
    if ret == 0 && level == SOL_TCP && name == TCP_CONGESTION {
        // every subflow, also those joined later, runs what the first one took
        meta.cc().chosen(meta, meta.first_ssk());
    } else if ret == 0 {
        crate::sockopt_sync::option_set(meta, level, name, true);
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    ret
}

extern "C" fn meta_getsockopt(
    sk: *mut bindings::sock,
    level: c_int,
    name: c_int,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> c_int {
    // SAFETY: `sock_common_getsockopt()` calls this for our socket.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    if level == crate::sockopt::SOL_MPTCP || (level == SOL_TCP && name == crate::sockopt::TCP_INQ) {
        let listening = meta.state() == TCP_LISTEN;
        // SAFETY: owned meta socket; the caller's user pointers.
        let ret = unsafe {
            if level == SOL_TCP {
                crate::sockopt::get_inq(meta, optval, optlen)
            } else {
                crate::sockopt::getsockopt(meta, listening, name, optval, optlen)
            }
        };
        // SAFETY: locked above.
        unsafe { bindings::release_sock(sk) };
        return ret;
    }
    let ret = match meta.ensure_first() {
        // SAFETY: our subflow; user pointers from the caller.
        Ok(sf) => unsafe { bindings::mptcp_rs_sf_getsockopt(sf, level, name, optval, optlen) },
        Err(e) => e.to_errno(),
    };
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    ret
}

extern "C" fn meta_poll(
    file: *mut bindings::file,
    sock: *mut bindings::socket,
    wait: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: the socket core calls poll with a live socket.
    let sk = unsafe { bindings::mptcp_rs_socket_sk(sock) };
    // SAFETY: as above.
    unsafe { bindings::mptcp_rs_poll_wait(file, sock, wait.cast()) };
    // SAFETY: our socket.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return EPOLLERR;
    };
    let before = meta.state();
    // first, as moving data may take the peer's DATA_FIN or end the connection
    let readable = before != TCP_LISTEN
        && before != TCP_CLOSE
        && before != TCP_SYN_SENT
        && poll_readable(meta);
    let state = meta.state();
    // SAFETY: lockless reads, as tcp_poll() does.
    let (shut, err) = unsafe {
        (
            bindings::mptcp_rs_shutdown(sk),
            bindings::mptcp_rs_sk_err(sk),
        )
    };
    let mut mask: u32 = 0;
    if state == TCP_LISTEN {
        let ssk = meta.first_ssk();
        if ssk.is_null() {
            return 0;
        }
        // SAFETY: the listening subflow is live while set.
        return unsafe { bindings::mptcp_rs_listen_poll(ssk) };
    }
    if shut == SHUTDOWN_MASK || state == TCP_CLOSE {
        mask |= EPOLLHUP;
    }
    if shut & RCV_SHUTDOWN != 0 {
        mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
    }
    if state == TCP_CLOSE {
        // as tcp_poll() and upstream's mptcp_poll(): an aborted connection (shut
        // both ways) reports its writing side too, whose write() then returns the
        // error, to a poller that waits for POLLOUT (no subflow is looked at: they
        // may be going)
        // SAFETY: `sk` is live.
        if !unsafe { bindings::mptcp_rs_rcv_queue_empty(sk) } {
            mask |= EPOLLIN | EPOLLRDNORM;
        }
        if shut & SEND_SHUTDOWN != 0 {
            mask |= EPOLLOUT | EPOLLWRNORM;
        }
    } else if state != TCP_SYN_SENT {
        if readable {
            mask |= EPOLLIN | EPOLLRDNORM;
        }
        if shut & SEND_SHUTDOWN == 0 && meta.has(mf::MULTI) {
            if crate::sendq::any_writeable(meta) {
                mask |= EPOLLOUT | EPOLLWRNORM;
            } else {
                crate::sendq::poll_want_space(meta);
                if crate::sendq::any_writeable(meta) {
                    mask |= EPOLLOUT | EPOLLWRNORM;
                }
            }
        } else if shut & SEND_SHUTDOWN == 0 {
            let ssk = meta.first_ssk();
            // SAFETY: the first subflow is live while set.
            if !ssk.is_null() && unsafe { bindings::mptcp_rs_stream_writeable(ssk) } {
                mask |= EPOLLOUT | EPOLLWRNORM;
            } else if !ssk.is_null() {
                // SAFETY: as above; make its write_space callback wake us.
                unsafe { bindings::mptcp_rs_set_nospace(ssk) };
                // SAFETY: as above.
                if unsafe { bindings::mptcp_rs_stream_writeable(ssk) } {
                    mask |= EPOLLOUT | EPOLLWRNORM;
                }
            }
        } else {
            mask |= EPOLLOUT | EPOLLWRNORM;
        }
        if mask & EPOLLOUT != 0 && shut & SEND_SHUTDOWN == 0 {
            // the room can go before the write comes, and a write after a join
            // switches to multi mode, whose rule is stricter than the first
            // subflow's room (`sendq::overflow_piece`)
            meta.set_polled_out();
        }
    }
    if err != 0 {
        mask |= EPOLLERR;
    }
    mask
}

extern "C" fn meta_listen(sock: *mut bindings::socket, backlog: c_int) -> c_int {
    // SAFETY: the socket core calls listen() with a live socket of ours.
    let sk = unsafe { bindings::mptcp_rs_socket_sk(sock) };
    // SAFETY: as above.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    // SAFETY: live socket, process context.
    unsafe { bindings::mptcp_rs_lock_sock(sk) };
    let state = meta.state();
    let ret = if state != TCP_CLOSE && state != TCP_LISTEN {
        -errno::EINVAL
    } else {
        match meta.ensure_first() {
            Ok(sf) => {
                // SAFETY: our subflow socket.
                let r = unsafe { bindings::mptcp_rs_sf_listen(sf, backlog) };
                if r == 0 {
                    meta.set_state(TCP_LISTEN);
                    // SAFETY: `sk` is live; sock_diag lists it until it closes.
                    unsafe { bindings::mptcp_rs_listener_add(sk) };
                    // SAFETY: both live, meta owned.
                    unsafe { bindings::mptcp_rs_copy_addrs(sk, meta.first_ssk()) };
                    crate::pm_events::listener(meta, meta.first_ssk(), true);
                }
                r
            }
            Err(e) => e.to_errno(),
        }
    };
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    ret
}

extern "C" fn meta_accept(
    sock: *mut bindings::socket,
    newsock: *mut bindings::socket,
    arg: *mut bindings::proto_accept_arg,
) -> c_int {
    // SAFETY: the socket core calls accept() with live sockets.
    let sk = unsafe { bindings::mptcp_rs_socket_sk(sock) };
    // SAFETY: as above.
    let Some(meta) = (unsafe { Meta::from_sk(sk) }) else {
        return -errno::EINVAL;
    };
    if meta.state() != TCP_LISTEN {
        return -errno::EINVAL;
    }
    let listener = meta.first_ssk();
    if listener.is_null() {
        return -errno::EINVAL;
    }
    let mut err: c_int = 0;
    // SAFETY: the listening subflow lives while the meta listener does (the caller
    // holds a file reference); blocks per `arg->flags`.
    let child = unsafe { bindings::mptcp_rs_accept_child(listener, arg, &mut err) };
    if child.is_null() {
        return if err != 0 { err } else { -errno::EINVAL };
    }
    // SAFETY: the accepted subflow carries the context `syn_recv_sock` completed.
    let cmeta = unsafe { Subflow::from_sk(child) }.and_then(|c| c.meta());
    let Some(cmeta) = cmeta else {
        // SAFETY: not ours to serve: close it as TCP would.
        unsafe { bindings::mptcp_rs_forced_close(child) };
        return -errno::ECONNABORTED;
    };
    let mut sf: *mut bindings::socket = ptr::null_mut();
    // SAFETY: `child` is ours now (accept queue reference).
    let r = unsafe { bindings::mptcp_rs_socket_for(child, &mut sf) };
    if r != 0 {
        return r;
    }
    cmeta.first.store(sf, Ordering::Release);
    cmeta.flags.fetch_and(!mf::UNACCEPTED, Ordering::AcqRel);
    // SAFETY: the new meta socket gets its struct socket.
    unsafe { bindings::mptcp_rs_graft(cmeta.sk, newsock) };
    0
}

/// `struct proto`, `struct proto_ops` and the protosw entry of one address family.
struct Family {
    proto: bindings::proto,
    ops: bindings::proto_ops,
    protosw: bindings::inet_protosw,
}

/// IPPROTO_MPTCP registered for IPv4 and IPv6 for as long as this value lives.
///
/// # Invariants
///
/// `v4` (and `v6` if `v6_registered`) are registered with the socket core and stay in
/// place until `Drop` unregistered them; sockets of them pin the module.
pub(crate) struct Registration {
    v4: Pin<KBox<Family>>,
    v6: Pin<KBox<Family>>,
    v6_registered: bool,
}

// SAFETY: the tables are read by the socket core only.
unsafe impl Send for Registration {}
// SAFETY: as above.
unsafe impl Sync for Registration {}

const IPPROTO_MPTCP: u16 = 262;
const SOCK_STREAM: u16 = 1;
const INET_PROTOSW_ICSK: u8 = 0x04;

fn family(module: &'static ThisModule, ipv6: bool) -> Result<Pin<KBox<Family>>> {
    // SAFETY: `proto`, `proto_ops` and `inet_protosw` are C structs for which all-zero
    // is the "nothing set" value.
    let mut fam: Family = unsafe { core::mem::zeroed() };
    // SAFETY: `tcp_prot` is TCP's exported proto; we copy its memory accounting, as
    // the meta socket's buffers count against TCP's limits like upstream's.
    let tcp = unsafe { &*ptr::addr_of!(bindings::tcp_prot) };
    let p = &mut fam.proto;
    let name: &[u8] = if ipv6 { b"MPTCPv6\0" } else { b"MPTCP\0" };
    for (d, s) in p.name.iter_mut().zip(name.iter()) {
        *d = *s as c_char;
    }
    p.owner = module.as_ptr().cast();
    p.init = Some(meta_init);
    p.close = Some(meta_close);
    p.connect = Some(meta_connect);
    p.disconnect = Some(meta_disconnect);
    p.diag_destroy = Some(meta_diag_destroy);
    p.destroy = Some(meta_destroy);
    p.shutdown = Some(meta_shutdown);
    p.setsockopt = Some(meta_setsockopt);
    p.getsockopt = Some(meta_getsockopt);
    p.sendmsg = Some(meta_sendmsg);
    p.recvmsg = Some(meta_recvmsg);
    p.ioctl = Some(meta_ioctl);
    p.bind = Some(meta_bind);
    p.release_cb = Some(meta_release_cb);
    p.hash = Some(meta_hash);
    p.unhash = Some(meta_unhash);
    p.memory_allocated = tcp.memory_allocated;
    p.per_cpu_fw_alloc = tcp.per_cpu_fw_alloc;
    p.memory_pressure = tcp.memory_pressure;
    p.sysctl_mem = tcp.sysctl_mem;
    p.sysctl_wmem_offset = tcp.sysctl_wmem_offset;
    p.sysctl_rmem_offset = tcp.sysctl_rmem_offset;
    p.sockets_allocated = tcp.sockets_allocated;
    p.enter_memory_pressure = tcp.enter_memory_pressure;
    p.leave_memory_pressure = tcp.leave_memory_pressure;
    p.no_autobind = true;
    // SAFETY: no preconditions.
    p.obj_size = unsafe { bindings::mptcp_rs_meta_obj_size(ipv6) } as c_uint;
    if ipv6 {
        // SAFETY: no preconditions.
        p.ipv6_pinfo_offset = unsafe { bindings::mptcp_rs_meta_ipv6_pinfo_offset() } as c_uint;
    }
    // SAFETY: TCP's exported stream ops, copied; we replace poll.
    fam.ops = unsafe {
        if ipv6 {
            ptr::read(ptr::addr_of!(bindings::inet6_stream_ops))
        } else {
            ptr::read(ptr::addr_of!(bindings::inet_stream_ops))
        }
    };
    fam.ops.owner = module.as_ptr().cast();
    fam.ops.poll = Some(meta_poll);
    fam.ops.listen = Some(meta_listen);
    fam.ops.accept = Some(meta_accept);
    fam.protosw.type_ = SOCK_STREAM;
    fam.protosw.protocol = IPPROTO_MPTCP;
    fam.protosw.flags = INET_PROTOSW_ICSK;
    let fam = KBox::pin(fam, GFP_KERNEL)?;
    Ok(fam)
}

impl Registration {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let mut v4 = family(module, false)?;
        let mut v6 = family(module, true)?;
        // SAFETY: pinned tables that `Drop` unregisters before freeing; the protosw
        // points at the proto and ops in the same allocation.
        unsafe {
            let f = Pin::get_unchecked_mut(v4.as_mut());
            f.protosw.prot = &mut f.proto;
            f.protosw.ops = &f.ops;
            let f6 = Pin::get_unchecked_mut(v6.as_mut());
            f6.protosw.prot = &mut f6.proto;
            f6.protosw.ops = &f6.ops;
        }
        // SAFETY: as above.
        unsafe {
            let f = Pin::get_unchecked_mut(v4.as_mut());
            to_result(bindings::proto_register(&mut f.proto, 1))?;
            bindings::inet_register_protosw(&mut f.protosw);
        }
        // SAFETY: as above.
        let v6_registered = unsafe {
            let f6 = Pin::get_unchecked_mut(v6.as_mut());
            if bindings::proto_register(&mut f6.proto, 1) == 0 {
                if bindings::inet6_register_protosw(&mut f6.protosw) == 0 {
                    true
                } else {
                    bindings::proto_unregister(&mut f6.proto);
                    false
                }
            } else {
                false
            }
        };
        if !v6_registered {
            pr_warn!("IPv6 MPTCP sockets unavailable\n");
        }
        Ok(Self {
            v4,
            v6,
            v6_registered,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered in `new` (invariant); no socket of ours exists, since each
        // pins the module.
        unsafe {
            if self.v6_registered {
                let f6 = Pin::get_unchecked_mut(self.v6.as_mut());
                bindings::inet6_unregister_protosw(&mut f6.protosw);
                bindings::proto_unregister(&mut f6.proto);
            }
            let f = Pin::get_unchecked_mut(self.v4.as_mut());
            bindings::inet_unregister_protosw(&mut f.protosw);
            bindings::proto_unregister(&mut f.proto);
        }
    }
}
