// SPDX-License-Identifier: GPL-2.0

//! Coupled congestion control: what the congestion control modules (`lia`, `olia`)
//! learn about the other subflows of a connection, and the congestion control an
//! application chose on the MPTCP socket, carried to each subflow.
//!
//! * [`mptcp_rs_cc_siblings`] backs `mptcp_rs_cc_paths()`, which `rust/cc_paths_shim.c`
//!   exports: called from a congestion control callback on subflow `ssk` (owned or
//!   its spinlock held), it names the connection's other subflows. Lifetime: the
//!   context of `ssk` holds a reference on the meta socket, so the connection's
//!   state (its [`Meta`], the subflow set) lives during the call; the other
//!   subflows are only read by the shim, word by word, under the RCU read lock
//!   taken before their pointers are loaded (TCP sockets are
//!   `SLAB_TYPESAFE_BY_RCU`); their ULP contexts (freed with `kfree`, not after a
//!   grace period) are never touched. A socket that is not an MPTCP subflow, or a
//!   connection that fell back to TCP, has no siblings: its algorithm acts as Reno.
//! * [`Choice`]: `TCP_CONGESTION` set on the MPTCP socket goes to the first subflow
//!   (`sock.rs`); the algorithm it took is kept here, with a reference on its
//!   module, set on the joined subflows that exist and given to each subflow joined
//!   later, before its congestion control starts (`join.rs`, `join_active.rs`).

use crate::bindings;
use crate::sock::Meta;
use crate::subflow::Subflow;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;

/// The other subflows of the connection of `ssk` that take part in the coupling
/// (`mptcp_rs_cc_can_send()`), written to `socks` (at most `max`, the first found:
/// a connection may have more subflows than the algorithms take); returns how many.
///
/// # Safety
///
/// Called by `mptcp_rs_cc_paths()` only: `ssk` is a live TCP socket owned by the
/// caller (a congestion control callback), `socks` points to `max` writable slots,
/// and the RCU read lock is held until the caller is done with what it gets.
#[no_mangle]
pub(crate) unsafe extern "C" fn mptcp_rs_cc_siblings(
    ssk: *mut bindings::sock,
    socks: *mut *mut bindings::sock,
    max: c_int,
) -> c_int {
    let Ok(max) = usize::try_from(max) else {
        return 0;
    };
    if socks.is_null() || max == 0 {
        return 0;
    }
    // SAFETY: per the contract, `socks` has `max` slots that nothing else uses.
    let out = unsafe { core::slice::from_raw_parts_mut(socks, max) };
    // SAFETY: `ssk` is a live TCP socket; only mptcp_rs sets `is_mptcp`, and then the
    // ULP data is our context until the socket is destroyed (after its congestion
    // control is released, so not during a callback).
    let ctx = unsafe {
        if !bindings::mptcp_rs_is_mptcp(ssk) {
            return 0;
        }
        Subflow::from_sk(ssk)
    };
    // the context's reference keeps the meta socket and its state alive
    let Some(meta) = ctx.and_then(Subflow::meta) else {
        return 0;
    };
    if meta.is_fallback() {
        return 0;
    }
    let joins = meta.joins();
    let candidates = Iterator::chain(
        core::iter::once(meta.first_ssk()),
        (0..joins.slot_count()).map(|i| joins.ssk_at(i)),
    );
    let mut n = 0;
    for sk in candidates {
        // SAFETY: a TCP socket under the caller's RCU read lock (word reads only).
        if sk.is_null() || sk == ssk || !unsafe { bindings::mptcp_rs_cc_can_send(sk) } {
            continue;
        }
        let Some(slot) = out.get_mut(n) else {
            break;
        };
        *slot = sk;
        n += 1;
    }
    c_int::try_from(n).unwrap_or(0)
}

/// The congestion control chosen with `TCP_CONGESTION` on an MPTCP socket.
///
/// # Invariants
///
/// `ca` is null or a `tcp_congestion_ops` on whose module this value holds a
/// reference; it changes under the meta socket's spinlock only.
pub(crate) struct Choice {
    ca: AtomicPtr<bindings::tcp_congestion_ops>,
}

impl Choice {
    pub(crate) fn new() -> Self {
        Choice {
            ca: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// `TCP_CONGESTION` succeeded on the first subflow `first`: remember its algorithm
    /// and set it on each joined subflow. Process context, the meta socket owned.
    pub(crate) fn chosen(&self, meta: &Meta, first: *mut bindings::sock) {
        if first.is_null() {
            return;
        }
        // SAFETY: the first subflow lives while the meta socket is owned.
        let ca = unsafe { bindings::mptcp_rs_cc_hold_of(first) }.cast_mut();
        // SAFETY: the meta socket is live (owned by our caller).
        unsafe { bindings::mptcp_rs_data_lock(meta.sk()) };
        let old = self.ca.swap(ca, Ordering::AcqRel);
        // SAFETY: taken above.
        unsafe { bindings::mptcp_rs_data_unlock(meta.sk()) };
        // SAFETY: the reference the old choice held (invariant); a reader that saw it
        // took its own under the spinlock.
        unsafe { bindings::mptcp_rs_cc_put(old) };
        if ca.is_null() {
            return;
        }
        for i in 0..meta.joins().slot_count() {
            let ssk = meta.joins().ssk_at(i);
            if !ssk.is_null() {
                // SAFETY: the slot's reference keeps `ssk` alive while the meta socket
                // is owned; its lock nests inside the meta socket's; `ca` is held.
                // A subflow that refuses it (closing) keeps its algorithm.
                let _ = unsafe { bindings::mptcp_rs_cc_set_on(ssk, ca) };
            }
        }
    }

    /// A subflow `ssk` joins the connection of `meta`; its congestion control has not
    /// started: it takes the chosen one, if any. `ssk` is owned by the caller (a new
    /// child, locked, in softirq; or our unconnected socket in process context).
    pub(crate) fn apply_new(&self, meta: &Meta, ssk: *mut bindings::sock) {
        // SAFETY: the meta socket is live (the caller holds a reference).
        unsafe { bindings::mptcp_rs_data_lock(meta.sk()) };
        let ca = self.ca.load(Ordering::Acquire);
        // SAFETY: `ssk` is owned by the caller; `ca` is null or held by this choice
        // while the spinlock keeps `chosen` from dropping it; the subflow takes a
        // reference of its own.
        unsafe { bindings::mptcp_rs_cc_apply_new(ssk, ca) };
        // SAFETY: taken above.
        unsafe { bindings::mptcp_rs_data_unlock(meta.sk()) };
    }
}

impl Drop for Choice {
    fn drop(&mut self) {
        // SAFETY: the reference this choice holds (invariant), dropped once.
        unsafe { bindings::mptcp_rs_cc_put(*self.ca.get_mut()) };
    }
}
