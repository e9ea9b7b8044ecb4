// SPDX-License-Identifier: GPL-2.0

//! Socket options set on an MPTCP socket reach every subflow.
//!
//! `SOL_SOCKET` options are the meta socket's; TCP- and IP-level ones go to the
//! first subflow, where TCP checks them (`sock.rs`). For those that shape how a
//! subflow sends (`TCP_NODELAY`, `TCP_CORK`, keepalive, `TCP_USER_TIMEOUT`,
//! `IP_TOS`, `IP_TTL`, `IPV6_TCLASS`) what the first subflow
//! took is recorded in the meta socket (`rust/sockopt_sync_shim.c`) and copied to
//! the joined subflows: those that exist when the option is set, and each one
//! created later, before it carries data. As upstream's `mptcp_sockopt_sync()`.
//! (`TCP_NOTSENT_LOWAT` is not carried: in multi mode the send queue sets each
//! subflow's own, `sendq.rs`.)

use crate::bindings;
use crate::sock::Meta;
use kernel::prelude::*;

/// `setsockopt(level, name)` succeeded on the MPTCP socket of `meta` (owned,
/// process context); `reached_first`: it was also applied to the first subflow.
pub(crate) fn option_set(meta: &Meta, level: c_int, name: c_int, reached_first: bool) {
    let sk = meta.sk();
    let first = meta.first_ssk();
    // SAFETY: plain predicate.
    if !unsafe { bindings::mptcp_rs_sockopt_is_synced(level, name) } {
        return;
    }
    if reached_first && !first.is_null() {
        // SAFETY: the meta socket is owned; its first subflow lives while set.
        unsafe { bindings::mptcp_rs_sockopt_record(sk, first) };
    }
    for i in 0..meta.joins().slot_count() {
        let ssk = meta.joins().ssk_at(i);
        if !ssk.is_null() {
            // SAFETY: the slot's reference keeps `ssk` alive while the meta socket is
            // owned; its lock nests inside the meta socket's.
            unsafe { bindings::mptcp_rs_sockopt_sync_live(sk, ssk) };
        }
    }
}

/// A subflow `ssk` joins the connection of `meta`; it takes the connection's
/// options before it carries data. `ssk` is owned by the caller (a new child,
/// locked, in softirq; or our unconnected socket in process context).
pub(crate) fn new_subflow(meta: &Meta, ssk: *mut bindings::sock) {
    // SAFETY: the meta socket is live (the caller holds a reference); `ssk` is
    // owned by the caller.
    unsafe { bindings::mptcp_rs_sockopt_sync_new(meta.sk(), ssk) };
}
