// SPDX-License-Identifier: GPL-2.0

//! TCP congestion control algorithms in Rust: `struct tcp_congestion_ops`.
//!
//! An algorithm implements [`Algorithm`]; [`Registration`] puts it in the kernel's list
//! under [`Algorithm::NAME`] and takes it out again when dropped. Per-socket state
//! ([`Algorithm::State`]) lives in the socket's `icsk_ca_priv` area; its size is
//! checked against that area at compile time. It is handed out shared (`&`): other
//! subflows of the same MPTCP connection may read its first words concurrently
//! ([`TcpSock::paths`]), so a state is made of atomics (or is empty).
//!
//! The coupling across subflows comes from mptcp_rs.ko: [`TcpSock::paths`] calls its
//! exported `mptcp_rs_cc_paths()`, so these modules need it loaded.

use crate::bindings;
use core::marker::PhantomData;
use kernel::{error::to_result, prelude::*, types::Opaque};

/// Size of the per-socket private area of a congestion control (`ICSK_CA_PRIV_SIZE`,
/// asserted equal in `cc_shim.c`).
pub(crate) const CA_PRIV_SIZE: usize = bindings::MPTCP_RS_CA_PRIV_SIZE as usize;

/// A TCP socket as a congestion control sees it in its callbacks.
///
/// # Invariants
///
/// Wraps a live `struct sock` that is a TCP socket; the callbacks that hand one out
/// run with the socket owned by the caller (socket lock or softirq context).
#[repr(transparent)]
pub(crate) struct TcpSock(Opaque<bindings::sock>);

impl TcpSock {
    /// # Safety
    ///
    /// `sk` must be a live TCP socket for the lifetime `'a`.
    unsafe fn from_raw<'a>(sk: *mut bindings::sock) -> &'a TcpSock {
        // SAFETY: `TcpSock` is a transparent wrapper; the caller guarantees `sk` lives.
        unsafe { &*sk.cast::<TcpSock>() }
    }

    fn as_ptr(&self) -> *mut bindings::sock {
        self.0.get()
    }

    /// Reno's slow start threshold after a loss: half the window, at least 2.
    pub(crate) fn reno_ssthresh(&self) -> u32 {
        // SAFETY: the socket is live per the type invariant.
        unsafe { bindings::tcp_reno_ssthresh(self.as_ptr()) }
    }

    /// Reno's window after an undone loss: the larger of the current and prior window.
    pub(crate) fn reno_undo_cwnd(&self) -> u32 {
        // SAFETY: the socket is live per the type invariant.
        unsafe { bindings::tcp_reno_undo_cwnd(self.as_ptr()) }
    }

    /// The congestion window, packets.
    pub(crate) fn cwnd(&self) -> u32 {
        // SAFETY: the socket is live per the type invariant.
        unsafe { bindings::mptcp_rs_cc_cwnd(self.as_ptr()) }
    }

    /// Sets the congestion window (kept within 2 and the socket's clamp).
    #[allow(dead_code)] // not every algorithm uses every accessor
    pub(crate) fn set_cwnd(&self, cwnd: u32) {
        // SAFETY: the socket is live and owned by the caller (type invariant).
        unsafe { bindings::mptcp_rs_cc_set_cwnd(self.as_ptr(), cwnd) }
    }

    /// Whether the window limits the sender (otherwise it must not grow).
    pub(crate) fn cwnd_limited(&self) -> bool {
        // SAFETY: the socket is live per the type invariant.
        unsafe { bindings::mptcp_rs_cc_cwnd_limited(self.as_ptr()) }
    }

    /// Whether the window is below the slow start threshold.
    pub(crate) fn in_slow_start(&self) -> bool {
        // SAFETY: the socket is live per the type invariant.
        unsafe { bindings::mptcp_rs_cc_in_slow_start(self.as_ptr()) }
    }

    /// Slow start for `acked` packets (`tcp_slow_start()`); returns the packets left
    /// for congestion avoidance once the window reached the threshold.
    pub(crate) fn slow_start(&self, acked: u32) -> u32 {
        // SAFETY: the socket is live and owned by the caller (type invariant).
        unsafe { bindings::mptcp_rs_cc_slow_start(self.as_ptr(), acked) }
    }

    /// Congestion avoidance: one packet more per `w` acknowledged packets, counted in
    /// `snd_cwnd_cnt` (`tcp_cong_avoid_ai()`).
    pub(crate) fn cong_avoid_ai(&self, w: u32, acked: u32) {
        // SAFETY: the socket is live and owned by the caller (type invariant).
        unsafe { bindings::mptcp_rs_cc_cong_avoid_ai(self.as_ptr(), w.max(1), acked) }
    }

    /// Packets delivered over the socket's life (`tp->delivered`, wraps).
    #[allow(dead_code)] // as above
    pub(crate) fn delivered(&self) -> u32 {
        // SAFETY: the socket is live per the type invariant.
        unsafe { bindings::mptcp_rs_cc_delivered(self.as_ptr()) }
    }

    /// This socket and the other subflows of its MPTCP connection that can send, as a
    /// snapshot: `paths[0]` is this socket; returns how many entries were filled
    /// (1 on a socket that is not an MPTCP subflow, or a connection fallen back to
    /// TCP). A sibling's [`Path::published`] words are its state's first words when it
    /// runs the same algorithm ([`Path::same_ca`]).
    pub(crate) fn paths(&self, paths: &mut [Path; MAX_PATHS]) -> usize {
        let max = c_int::try_from(paths.len()).unwrap_or(0);
        // SAFETY: the socket is live and owned by the caller (a congestion control
        // callback, the accessor's contract); `paths` has `max` entries.
        let n = unsafe { bindings::mptcp_rs_cc_paths(self.as_ptr(), paths.as_mut_ptr(), max) };
        usize::try_from(n).unwrap_or(0).min(paths.len())
    }
}

/// One subflow of a connection as [`TcpSock::paths`] reports it.
pub(crate) type Path = bindings::mptcp_rs_cc_path;

/// The most paths the coupled algorithms take into account: the size of their math's
/// input (`proto::lia::MAX_SUBFLOWS`, `proto::olia::MAX_SUBFLOWS`). A connection with
/// more subflows couples each with the first others found (`cc_paths.rs`).
pub(crate) const MAX_PATHS: usize = 8;
const _: () = assert!(MAX_PATHS <= bindings::MPTCP_RS_CC_MAX_PATHS as usize);

/// A congestion control algorithm.
pub(crate) trait Algorithm {
    /// The name users select it by (`net.ipv4.tcp_congestion_control`,
    /// `TCP_CONGESTION`); at most 15 bytes.
    const NAME: &'static CStr;
    /// Per-socket state, created when the algorithm is attached to a socket. Shared:
    /// sibling subflows may read it (see the module documentation).
    type State: Default + Sync;
    /// Congestion avoidance on an ACK that acknowledged `acked` packets.
    fn cong_avoid(sk: &TcpSock, state: &Self::State, ack: u32, acked: u32);
    /// The slow start threshold after a loss; by default Reno's halving, which LIA
    /// and OLIA keep.
    fn ssthresh(sk: &TcpSock, _state: &Self::State) -> u32 {
        sk.reno_ssthresh()
    }
    /// The window to restore when a loss turns out to be spurious; by default Reno's.
    fn undo_cwnd(sk: &TcpSock, _state: &Self::State) -> u32 {
        sk.reno_undo_cwnd()
    }
}

/// The state of `A` on socket `sk`.
///
/// # Safety
///
/// `sk` is a live TCP socket whose congestion control is `A` and whose private area
/// was initialised by [`init`]`::<A>`; no mutable reference to the state exists.
unsafe fn state<'a, A: Algorithm>(sk: *mut bindings::sock) -> &'a A::State {
    const { assert!(size_of::<A::State>() <= CA_PRIV_SIZE) };
    // SAFETY: `icsk_ca_priv` is 8-byte aligned and large enough (checked above);
    // the caller guarantees it holds an initialised `A::State`.
    unsafe { &*bindings::mptcp_rs_cc_priv(sk).cast::<A::State>() }
}

/// # Safety
///
/// Called by the TCP stack only, when `A` is attached to the live socket `sk`.
unsafe extern "C" fn init<A: Algorithm>(sk: *mut bindings::sock) {
    const { assert!(align_of::<A::State>() <= 8) };
    // SAFETY: the private area is ours from now on; writing does not read the old bytes.
    unsafe {
        bindings::mptcp_rs_cc_priv(sk)
            .cast::<A::State>()
            .write(A::State::default())
    };
}

/// # Safety
///
/// Called by the TCP stack only, when `A` is detached from `sk` after [`init`].
unsafe extern "C" fn release<A: Algorithm>(sk: *mut bindings::sock) {
    // SAFETY: the state was written by `init` and is dropped exactly once, here.
    unsafe { core::ptr::drop_in_place(bindings::mptcp_rs_cc_priv(sk).cast::<A::State>()) };
}

/// # Safety
///
/// Called by the TCP stack only, on a live socket using `A`.
unsafe extern "C" fn cong_avoid<A: Algorithm>(sk: *mut bindings::sock, ack: u32, acked: u32) {
    // SAFETY: per the TCP stack's contract for congestion control callbacks.
    let (tcp, st) = unsafe { (TcpSock::from_raw(sk), state::<A>(sk)) };
    A::cong_avoid(tcp, st, ack, acked);
}

/// # Safety
///
/// Called by the TCP stack only, on a live socket using `A`.
unsafe extern "C" fn ssthresh<A: Algorithm>(sk: *mut bindings::sock) -> u32 {
    // SAFETY: per the TCP stack's contract for congestion control callbacks.
    let (tcp, st) = unsafe { (TcpSock::from_raw(sk), state::<A>(sk)) };
    A::ssthresh(tcp, st)
}

/// # Safety
///
/// Called by the TCP stack only, on a live socket using `A`.
unsafe extern "C" fn undo_cwnd<A: Algorithm>(sk: *mut bindings::sock) -> u32 {
    // SAFETY: per the TCP stack's contract for congestion control callbacks.
    let (tcp, st) = unsafe { (TcpSock::from_raw(sk), state::<A>(sk)) };
    A::undo_cwnd(tcp, st)
}

/// Algorithm `A`, registered with the TCP stack while this value lives.
///
/// # Invariants
///
/// `ops` is registered with `tcp_register_congestion_control()` until `Drop`.
pub(crate) struct Registration<A: Algorithm> {
    ops: Pin<KBox<Opaque<bindings::tcp_congestion_ops>>>,
    _algorithm: PhantomData<A>,
}

// SAFETY: the TCP stack only reads the table; `&Registration` exposes nothing.
unsafe impl<A: Algorithm> Send for Registration<A> {}
// SAFETY: as above.
unsafe impl<A: Algorithm> Sync for Registration<A> {}

impl<A: Algorithm> Registration<A> {
    /// Registers `A`; sockets using it hold a reference on `module`.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let mut name = [0 as kernel::ffi::c_char; 16];
        let bytes = A::NAME.to_bytes();
        if bytes.is_empty() || bytes.len() >= name.len() {
            return Err(EINVAL);
        }
        for (d, s) in name.iter_mut().zip(bytes) {
            *d = *s as kernel::ffi::c_char;
        }
        let ops = bindings::tcp_congestion_ops {
            cong_avoid: Some(cong_avoid::<A>),
            ssthresh: Some(ssthresh::<A>),
            undo_cwnd: Some(undo_cwnd::<A>),
            init: Some(init::<A>),
            release: Some(release::<A>),
            name,
            owner: module.as_ptr().cast(),
            ..Default::default()
        };
        let ops = KBox::pin(Opaque::new(ops), GFP_KERNEL)?;
        // SAFETY: `ops` is complete, pinned, and unregistered before it is freed.
        to_result(unsafe { bindings::tcp_register_congestion_control(ops.get()) })?;
        Ok(Self {
            ops,
            _algorithm: PhantomData,
        })
    }
}

impl<A: Algorithm> Drop for Registration<A> {
    fn drop(&mut self) {
        // SAFETY: registered per the type invariant. No socket uses it any more: each
        // holds a module reference, so the module cannot be unloading otherwise.
        unsafe { bindings::tcp_unregister_congestion_control(self.ops.get()) };
    }
}
