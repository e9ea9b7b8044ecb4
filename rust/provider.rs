// SPDX-License-Identifier: GPL-2.0

//! Registration of mptcp_rs as the kernel's MPTCP implementation.
//!
//! The patched kernel (`patches/`, `CONFIG_MPTCP_PLUGGABLE`) routes every MPTCP hook of
//! the TCP stack through `struct mptcp_tcp_ops`. [`Registration`] installs our table
//! and removes it again when dropped.
//!
//! The TCP stack calls these hooks only for sockets with `is_mptcp` set (and, for
//! `seq_show`, when `/proc/net/netstat` is read), i.e. for the subflows of
//! `subflow.rs`.

use crate::{bindings, subflow};
use kernel::{error::to_result, prelude::*, types::Opaque};

/// `mptcp_tcp_ops` registered with the dispatch layer for as long as this value lives.
///
/// # Invariants
///
/// `ops` is registered with `mptcp_register_tcp_ops()` and is not moved or freed
/// before `Drop` has unregistered it.
pub(crate) struct Registration {
    ops: Pin<KBox<Opaque<bindings::mptcp_tcp_ops>>>,
}

// SAFETY: the table is only read by the dispatch layer, from any CPU; this type gives no
// access to it after registration.
unsafe impl Send for Registration {}
// SAFETY: as above, `&Registration` exposes nothing.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers mptcp_rs as the MPTCP provider; `module` is pinned by every MPTCP socket.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let table = bindings::mptcp_tcp_ops {
            syn_options: Some(syn_options),
            synack_options: Some(synack_options),
            established_options: Some(established_options),
            write_options: Some(write_options),
            incoming_options: Some(incoming_options),
            space: Some(space),
            get_reset_option: Some(get_reset_option),
            active_detect_blackhole: Some(active_detect_blackhole),
            seq_show: Some(seq_show),
            v6_handle_mapped: Some(v6_handle_mapped),
            init_cookie_req: Some(init_cookie_req),
            reqsk_alloc: Some(reqsk_alloc),
            sock_from_subflow: Some(sock_from_subflow),
            owner: module.as_ptr().cast(),
        };
        let ops = KBox::pin(Opaque::new(table), GFP_KERNEL)?;
        // SAFETY: `ops` is a complete table in pinned memory that `Drop` unregisters
        // before freeing it.
        to_result(unsafe { bindings::mptcp_register_tcp_ops(ops.get()) })?;
        Ok(Self { ops })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ops` is registered; on return no hook runs in
        // or will enter it, so it may be freed afterwards.
        unsafe { bindings::mptcp_unregister_tcp_ops(self.ops.get()) };
    }
}

// The hooks. Those of the data path are implemented by the subflow layer; the others
// give the answer of a kernel without MPTCP until their feature exists.

extern "C" fn syn_options(
    sk: *mut bindings::sock,
    skb: *const bindings::sk_buff,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    subflow::syn_options(sk, skb, size, opts)
}

extern "C" fn synack_options(
    req: *const bindings::request_sock,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    subflow::synack_options(req, size, opts)
}

extern "C" fn established_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    remaining: c_uint,
    has_ts: bool,
    opts: *mut bindings::mptcp_out_options,
) -> c_int {
    subflow::established_options(sk, skb, remaining, has_ts, opts)
}

extern "C" fn write_options(
    th: *mut bindings::tcphdr,
    ptr: *mut bindings::__be32,
    tp: *mut bindings::tcp_sock,
    opts: *mut bindings::mptcp_out_options,
) {
    subflow::write_options(th, ptr.cast(), tp, opts)
}

extern "C" fn incoming_options(sk: *mut bindings::sock, skb: *mut bindings::sk_buff) -> bool {
    subflow::incoming_options(sk, skb)
}

extern "C" fn space(ssk: *const bindings::sock, space: *mut c_int, full_space: *mut c_int) {
    subflow::space(ssk, space, full_space)
}

extern "C" fn get_reset_option(_skb: *const bindings::sk_buff) -> bindings::__be32 {
    0
}

extern "C" fn active_detect_blackhole(_sk: *mut bindings::sock, _expired: bool) {}

extern "C" fn seq_show(seq: *mut bindings::seq_file) {
    // SAFETY: the dispatch layer calls this hook only from `/proc/net/netstat`'s show
    // (`netstat_seq_show()`), with that file's `seq_file`, as `mib::seq_show` requires.
    unsafe { crate::mib::seq_show(seq) }
}

/// TCP switched an IPv6 subflow to (or back from) its v4-mapped ops: ours replace them.
extern "C" fn v6_handle_mapped(sk: *mut bindings::sock, mapped: bool) {
    // SAFETY: TCP calls this for an `is_mptcp` socket it owns, in `connect()` or when
    // creating a listener's child.
    unsafe { bindings::mptcp_rs_handle_mapped(sk, mapped) };
}

extern "C" fn init_cookie_req(
    req: *mut bindings::request_sock,
    sk_listener: *const bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: the ACK, header in place.
    let opt = unsafe { crate::subflow::find_option(skb, crate::proto::options::Segment::Other) };
    if let Some(crate::proto::options::MptcpOption::MpJoin(_)) = opt {
        // a join's third ACK: the state kept at its SYN (`join.rs`)
        // SAFETY: TCP's fresh request (ours, `reqsk_alloc`), listener and ACK.
        return unsafe { crate::join::cookie_ack(req, sk_listener, skb) };
    }
    // A SYN cookie's ACK on one of our listeners: TCP set is_mptcp from the listener;
    // syn_recv_sock checks the MP_CAPABLE keys of the ACK itself.
    // SAFETY: TCP's fresh request sock.
    unsafe { bindings::mptcp_rs_req_set_mptcp(req, true) };
    0
}

extern "C" fn reqsk_alloc(
    ops: *const bindings::request_sock_ops,
    sk_listener: *mut bindings::sock,
    attach_listener: bool,
) -> *mut bindings::request_sock {
    // A request sock for a SYN cookie's ACK on one of our listeners: ours, with room
    // for a join's state (the listener's key for a new connection is derived again
    // from the request, see subflow.rs).
    // SAFETY: TCP's arguments, for TCP's allocator.
    unsafe { bindings::mptcp_rs_cookie_reqsk_alloc(ops, sk_listener, attach_listener) }
}

extern "C" fn sock_from_subflow(_sk: *mut bindings::sock) -> *mut bindings::mptcp_sock {
    core::ptr::null_mut()
}
